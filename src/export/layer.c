#include "vrun/export/layer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "vrun/export/libs.h"

#define LAYER_BLOCK  (64 * 1024)
#define LAYER_OUTBUF (256 * 1024)
#define LAYER_READ   (256 * 1024)

typedef struct LayerSink {
        int fd;
        z_stream z;
        Digest *tar_sum;
        Digest *gz_sum;
        uint64_t size;
        int error; /* -errno of the first failure */
        unsigned char out[LAYER_OUTBUF];
} LayerSink;

static int sink_deflate(LayerSink *s, const void *data, size_t len, int flush) {
        s->z.next_in = (Bytef *) data;
        s->z.avail_in = (uInt) len;
        for (;;) {
                s->z.next_out = s->out;
                s->z.avail_out = sizeof s->out;
                int z = deflate(&s->z, flush);
                if (z == Z_STREAM_ERROR)
                        return -EIO;
                size_t have = sizeof s->out - s->z.avail_out;
                if (have > 0) {
                        digest_update(s->gz_sum, s->out, have);
                        int r = loop_write(s->fd, s->out, have);
                        if (r < 0)
                                return r;
                        s->size += have;
                }
                if (flush == Z_FINISH ? z == Z_STREAM_END : s->z.avail_out > 0)
                        break;
        }
        return 0;
}

static la_ssize_t sink_write(struct archive *a, void *userdata, const void *buf, size_t len) {
        LayerSink *s = userdata;
        digest_update(s->tar_sum, buf, len);
        int r = sink_deflate(s, buf, len, Z_NO_FLUSH);
        if (r < 0) {
                s->error = r;
                return -1;
        }
        return (la_ssize_t) len;
}

static int entry_data(const LibArchive *la, struct archive *a, const RootfsEntry *e) {
        if (!e->src)
                return la->archive_write_data(a, e->data, e->size) == (la_ssize_t) e->size ? 0 : -EIO;
        _cleanup_close_ int fd = open(e->src, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        static char buf[LAYER_READ];
        uint64_t left = e->size;
        while (left > 0) {
                ssize_t n = read(fd, buf, left < sizeof buf ? left : sizeof buf);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                /* The header promised e->size bytes: a file that shrank cannot be stored. */
                if (n == 0)
                        return -ESTALE;
                if (la->archive_write_data(a, buf, (size_t) n) != n)
                        return -EIO;
                left -= (uint64_t) n;
        }
        return 0;
}

static int write_entries(const LibArchive *la, struct archive *a, Rootfs *fs, int64_t mtime) {
        const RootfsEntry *const *l;
        size_t n;
        int r = rootfs_sorted(fs, &l, &n);
        if (r < 0)
                return r;
        struct archive_entry *ae = la->archive_entry_new();
        if (!ae)
                return -ENOMEM;
        for (size_t i = 0; i < n && r >= 0; i++) {
                const RootfsEntry *e = l[i];
                la->archive_entry_clear(ae);
                la->archive_entry_set_pathname(ae, e->path);
                la->archive_entry_set_filetype(ae, e->kind == ROOTFS_DIR    ? AE_IFDIR
                                                   : e->kind == ROOTFS_FILE ? AE_IFREG
                                                                            : AE_IFLNK);
                la->archive_entry_set_perm(ae, e->mode);
                la->archive_entry_set_mtime(ae, mtime, 0);
                la->archive_entry_set_uid(ae, 0);
                la->archive_entry_set_gid(ae, 0);
                if (e->kind == ROOTFS_FILE)
                        la->archive_entry_set_size(ae, (la_int64_t) e->size);
                if (e->kind == ROOTFS_SYMLINK)
                        la->archive_entry_set_symlink(ae, e->target);
                if (la->archive_write_header(a, ae) != ARCHIVE_OK)
                        r = -EIO;
                else if (e->kind == ROOTFS_FILE)
                        r = entry_data(la, a, e);
        }
        la->archive_entry_free(ae);
        return r;
}

static int layer_write_fd(const LibArchive *la, LayerSink *s, Rootfs *fs, int64_t mtime) {
        struct archive *a = la->archive_write_new();
        if (!a)
                return -ENOMEM;
        int r = 0;
        if (la->archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            la->archive_write_set_bytes_per_block(a, LAYER_BLOCK) != ARCHIVE_OK ||
            la->archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
            la->archive_write_open(a, s, NULL, sink_write, NULL) != ARCHIVE_OK)
                r = -EIO;
        if (r >= 0)
                r = write_entries(la, a, fs, mtime);
        if (r >= 0 && la->archive_write_close(a) != ARCHIVE_OK)
                r = -EIO;
        la->archive_write_free(a);
        if (r == -EIO && s->error < 0)
                r = s->error;
        return r;
}

int layer_write(Rootfs *fs, int64_t mtime, int dirfd, const char *name, LayerInfo *ret) {
        const LibArchive *la = libarchive_get();
        if (!la)
                return -ENOPKG;
        _cleanup_free_ LayerSink *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        int r = digest_new(&s->tar_sum);
        if (r < 0)
                return r;
        if ((r = digest_new(&s->gz_sum)) < 0) {
                digest_free(s->tar_sum);
                return r;
        }
        /* windowBits 15 + 16: a gzip wrapper whose header zlib writes with mtime 0, no name. */
        if (deflateInit2(&s->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
                digest_free(s->tar_sum);
                digest_free(s->gz_sum);
                return -ENOMEM;
        }
        s->fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (s->fd < 0)
                r = negative_errno();
        if (r >= 0)
                r = layer_write_fd(la, s, fs, mtime);
        if (r >= 0)
                r = sink_deflate(s, NULL, 0, Z_FINISH);
        deflateEnd(&s->z);
        if (s->fd >= 0 && close(s->fd) < 0 && r >= 0)
                r = negative_errno();
        if (r >= 0) {
                digest_final(s->tar_sum, ret->diff_id);
                digest_final(s->gz_sum, ret->digest);
                ret->size = s->size;
        } else if (s->fd >= 0)
                (void) unlinkat(dirfd, name, 0);
        digest_free(s->tar_sum);
        digest_free(s->gz_sum);
        return r;
}
