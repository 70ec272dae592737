#include "vrun/venv/zip.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "util/cleanup.h"
#include "util/fileio.h"

#define SIG_LOCAL         0x04034b50u
#define SIG_CENTRAL       0x02014b50u
#define SIG_EOCD          0x06054b50u
#define SIG_ZIP64_LOCATOR 0x07064b50u

#define LOCAL_HEADER_SIZE   30u
#define CENTRAL_HEADER_SIZE 46u
#define EOCD_SIZE           22u
#define ZIP64_LOCATOR_SIZE  20u
#define COMMENT_MAX         0xffffu

#define FLAG_ENCRYPTED         0x0001u
#define FLAG_STRONG_ENCRYPTION 0x0040u
#define FLAG_UTF8              0x0800u
#define FLAG_MASKED_HEADERS    0x2000u

#define HOST_UNIX 3

#define CHUNK (64u * 1024u)

struct ZipArchive {
        int fd;
        uint64_t cd_offset; /* entry data must end before the central directory */
        size_t n_entries;
        ZipEntry *entries;
        char *names;
        z_stream zs;
        bool zs_ready;
        uint8_t *in;
        uint8_t *out;
};

static uint16_t get16(const uint8_t *p) {
        return (uint16_t) (p[0] | p[1] << 8);
}
static uint32_t get32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static int pread_full(int fd, void *buf, size_t len, uint64_t offset) {
        uint8_t *p = buf;
        while (len > 0) {
                ssize_t k = pread(fd, p, len, (off_t) offset);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        return -EBADMSG; /* the file shrank under us */
                p += k;
                len -= (size_t) k;
                offset += (uint64_t) k;
        }
        return 0;
}

bool zip_name_is_safe(const char *name, size_t len) {
        if (len == 0 || len > ZIP_NAME_MAX || name[0] == '/')
                return false;
        size_t start = 0;
        for (size_t i = 0; i <= len; i++) {
                unsigned char c = i < len ? (unsigned char) name[i] : '/';
                /* Backslashes are separators to Windows tools, and control
                 * characters (NUL, newline) would corrupt RECORD and the
                 * cache manifest. */
                if (c < 0x20 || c == 0x7f || c == '\\')
                        return false;
                if (c != '/')
                        continue;
                size_t cl = i - start;
                if (cl == 0) {
                        /* only a directory's trailing slash may end empty */
                        if (!(i == len && start == len && len > 0 && name[len - 1] == '/'))
                                return false;
                } else if (cl > 255 || (cl == 1 && name[start] == '.') ||
                           (cl == 2 && name[start] == '.' && name[start + 1] == '.'))
                        return false;
                start = i + 1;
        }
        return true;
}

int zip_name_compare(const char *a, const char *b) {
        for (;; a++, b++) {
                unsigned char x = (unsigned char) *a, y = (unsigned char) *b;
                if (x == y) {
                        if (x == 0)
                                return 0;
                        continue;
                }
                if (x == 0 || y == 0)
                        return x == 0 ? -1 : 1;
                if (x == '/' || y == '/')
                        return x == '/' ? -1 : 1;
                return x < y ? -1 : 1;
        }
}

static int entry_compare(const void *a, const void *b) {
        return zip_name_compare(((const ZipEntry *) a)->name, ((const ZipEntry *) b)->name);
}

static int offset_compare(const void *a, const void *b) {
        const ZipEntry *x = *(const ZipEntry *const *) a, *y = *(const ZipEntry *const *) b;
        return x->header_offset < y->header_offset ? -1 : x->header_offset > y->header_offset;
}

/* After sorting, a duplicate name or a file that is also used as a directory
 * ("a" and "a/b") sits right next to its conflicting entry. */
static int check_name_conflicts(const ZipEntry *e, size_t n) {
        for (size_t i = 0; i + 1 < n; i++) {
                size_t l = strlen(e[i].name) - (e[i].is_dir ? 1 : 0);
                const char *next = e[i + 1].name;
                if (strncmp(e[i].name, next, l) != 0)
                        continue;
                if (next[l] == 0)
                        return -EBADMSG;
                if (next[l] == '/' && (!e[i].is_dir || next[l + 1] == 0))
                        return -EBADMSG;
        }
        return 0;
}

/* Entries whose data ranges overlap are the building block of "overlapping
 * file" zip bombs; no honest writer produces them. */
static int check_overlaps(const ZipEntry *e, size_t n) {
        if (n < 2)
                return 0;
        /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, so the size of one */
        _cleanup_free_ const ZipEntry **byoff = malloc(n * sizeof(*byoff));
        if (!byoff)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                byoff[i] = &e[i];
        qsort(byoff, n, sizeof(*byoff), offset_compare); /* NOLINT(bugprone-sizeof-expression): as above */
        for (size_t i = 1; i < n; i++) {
                const ZipEntry *p = byoff[i - 1];
                uint64_t min_end = p->header_offset + LOCAL_HEADER_SIZE + strlen(p->name) + p->compressed_size;
                if (byoff[i]->header_offset < min_end)
                        return -EBADMSG;
        }
        return 0;
}

static int find_eocd(int fd, uint64_t file_size, uint64_t *ret_pos, uint8_t ret_eocd[EOCD_SIZE]) {
        if (file_size < EOCD_SIZE)
                return -EBADMSG;
        size_t tail = (size_t) (file_size < EOCD_SIZE + COMMENT_MAX + ZIP64_LOCATOR_SIZE
                                        ? file_size
                                        : EOCD_SIZE + COMMENT_MAX + ZIP64_LOCATOR_SIZE);
        _cleanup_free_ uint8_t *buf = malloc(tail);
        if (!buf)
                return -ENOMEM;
        uint64_t base = file_size - tail;
        int r = pread_full(fd, buf, tail, base);
        if (r < 0)
                return r;
        /* The comment length must account for exactly the bytes after the
         * record: a truncated archive then has no valid EOCD at all. */
        for (size_t i = tail - EOCD_SIZE + 1; i-- > 0;) {
                if (get32(buf + i) != SIG_EOCD || i + EOCD_SIZE + get16(buf + i + 20) != tail)
                        continue;
                uint64_t pos = base + i;
                if (pos >= ZIP64_LOCATOR_SIZE) {
                        uint8_t loc[4];
                        if (i >= ZIP64_LOCATOR_SIZE)
                                memcpy(loc, buf + i - ZIP64_LOCATOR_SIZE, 4);
                        else if ((r = pread_full(fd, loc, 4, pos - ZIP64_LOCATOR_SIZE)) < 0)
                                return r;
                        if (get32(loc) == SIG_ZIP64_LOCATOR)
                                return -EBADMSG;
                }
                memcpy(ret_eocd, buf + i, EOCD_SIZE);
                *ret_pos = pos;
                return 0;
        }
        return -EBADMSG;
}

static int parse_central(ZipArchive *z, const uint8_t *cd, size_t cd_size, size_t count) {
        /* every name is at most as long as its bytes in the directory */
        z->names = malloc(cd_size + count + 1);
        z->entries = calloc(count ? count : 1, sizeof(ZipEntry));
        if (!z->names || !z->entries)
                return -ENOMEM;
        char *np = z->names;
        uint64_t total = 0;
        size_t off = 0;
        for (size_t i = 0; i < count; i++) {
                if (cd_size - off < CENTRAL_HEADER_SIZE)
                        return -EBADMSG;
                const uint8_t *h = cd + off;
                if (get32(h) != SIG_CENTRAL)
                        return -EBADMSG;
                uint16_t made_by = get16(h + 4), flags = get16(h + 8), method = get16(h + 10);
                uint32_t crc = get32(h + 16), csize = get32(h + 20), usize = get32(h + 24);
                uint16_t nlen = get16(h + 28), xlen = get16(h + 30), clen = get16(h + 32);
                uint16_t disk = get16(h + 34);
                uint32_t ext_attr = get32(h + 38), local = get32(h + 42);
                size_t rec = CENTRAL_HEADER_SIZE + (size_t) nlen + xlen + clen;
                if (cd_size - off < rec)
                        return -EBADMSG;
                const char *name = (const char *) h + CENTRAL_HEADER_SIZE;

                if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION | FLAG_MASKED_HEADERS))
                        return -EBADMSG;
                if (method != Z_DEFLATED && method != 0)
                        return -EBADMSG;
                /* saturated fields mean the real values live in a zip64 extra */
                if (csize == UINT32_MAX || usize == UINT32_MAX || local == UINT32_MAX || disk != 0)
                        return -EBADMSG;
                if (method == 0 && csize != usize)
                        return -EBADMSG;
                if (!zip_name_is_safe(name, nlen))
                        return -EBADMSG;
                if (!(flags & FLAG_UTF8))
                        /* Without the UTF-8 flag names are CP437; Python would
                         * transcode them, so only ASCII means the same to both. */
                        for (size_t k = 0; k < nlen; k++)
                                if ((unsigned char) name[k] >= 0x80)
                                        return -EBADMSG;

                ZipEntry *e = &z->entries[i];
                e->is_dir = name[nlen - 1] == '/';
                if ((made_by >> 8) == HOST_UNIX) {
                        mode_t mode = ext_attr >> 16;
                        switch (mode & S_IFMT) {
                        case 0: break;
                        case S_IFREG:
                                if (e->is_dir)
                                        return -EBADMSG;
                                break;
                        case S_IFDIR:
                                if (!e->is_dir)
                                        return -EBADMSG;
                                break;
                        default: /* symlinks, devices, fifos */ return -EBADMSG;
                        }
                        e->executable = !e->is_dir && (mode & 0111);
                }
                /* a directory has no contents, though writers may deflate "" */
                if (e->is_dir && usize != 0)
                        return -EBADMSG;
                if ((uint64_t) local + LOCAL_HEADER_SIZE + nlen + csize > z->cd_offset)
                        return -EBADMSG;
                total += usize;
                if (total > ZIP_TOTAL_SIZE_MAX)
                        return -EBADMSG;

                memcpy(np, name, nlen);
                np[nlen] = 0;
                e->name = np;
                np += nlen + 1;
                e->header_offset = local;
                e->compressed_size = csize;
                e->size = usize;
                e->crc32 = crc;
                e->method = method;
                off += rec;
        }
        /* trailing bytes would mean the entry count lies */
        return off == cd_size ? 0 : -EBADMSG;
}

int zip_open_fd(int fd, ZipArchive **ret) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;

        _cleanup_(zip_freep) ZipArchive *z = calloc(1, sizeof(*z));
        if (!z)
                return -ENOMEM;
        z->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (z->fd < 0)
                return negative_errno();

        uint8_t eocd[EOCD_SIZE];
        uint64_t eocd_pos;
        int r = find_eocd(z->fd, (uint64_t) st.st_size, &eocd_pos, eocd);
        if (r < 0)
                return r;
        uint16_t disk = get16(eocd + 4), cd_disk = get16(eocd + 6);
        uint16_t here = get16(eocd + 8), count = get16(eocd + 10);
        uint32_t cd_size = get32(eocd + 12), cd_offset = get32(eocd + 16);
        if (disk != 0 || cd_disk != 0 || here != count)
                return -EBADMSG;
        if (count == UINT16_MAX || cd_size == UINT32_MAX || cd_offset == UINT32_MAX)
                return -EBADMSG;
        if (count > ZIP_ENTRIES_MAX)
                return -EBADMSG;
        /* no gap: prepended data (self-extractors) and zip64 records are refused */
        if ((uint64_t) cd_offset + cd_size != eocd_pos)
                return -EBADMSG;
        z->cd_offset = cd_offset;

        _cleanup_free_ uint8_t *cd = malloc(cd_size ? cd_size : 1);
        if (!cd)
                return -ENOMEM;
        r = pread_full(z->fd, cd, cd_size, cd_offset);
        if (r < 0)
                return r;
        r = parse_central(z, cd, cd_size, count);
        if (r < 0)
                return r;
        z->n_entries = count;
        r = check_overlaps(z->entries, count);
        if (r < 0)
                return r;
        qsort(z->entries, count, sizeof(ZipEntry), entry_compare);
        r = check_name_conflicts(z->entries, count);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(z);
        return 0;
}

int zip_open_at(int dirfd, const char *path, ZipArchive **ret) {
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        return zip_open_fd(fd, ret);
}

void zip_free(ZipArchive *z) {
        if (!z)
                return;
        if (z->zs_ready)
                inflateEnd(&z->zs);
        if (z->fd >= 0)
                close(z->fd);
        free(z->entries);
        free(z->names);
        free(z->in);
        free(z->out);
        free(z);
}

size_t zip_n_entries(const ZipArchive *z) {
        return z->n_entries;
}

const ZipEntry *zip_entry(const ZipArchive *z, size_t i) {
        return i < z->n_entries ? &z->entries[i] : NULL;
}

/* Feeds avail bytes at data to the entry's decoder and writes what comes out. */
static int consume(ZipArchive *z, const ZipEntry *e, const uint8_t *data, size_t avail, bool last, int fd, uLong *crc,
                   uint64_t *produced, bool *done) {
        if (e->method == 0) {
                if (avail == 0)
                        return 0;
                *crc = crc32(*crc, data, (uInt) avail);
                *produced += avail;
                *done = last;
                return loop_write(fd, data, avail);
        }
        z->zs.next_in = (Bytef *) data;
        z->zs.avail_in = (uInt) avail;
        for (;;) {
                z->zs.next_out = z->out;
                z->zs.avail_out = CHUNK;
                int zr = inflate(&z->zs, Z_NO_FLUSH);
                if (zr == Z_MEM_ERROR)
                        return -ENOMEM;
                if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR)
                        return -EBADMSG;
                size_t n = CHUNK - z->zs.avail_out;
                if (n > e->size - *produced)
                        return -EBADMSG; /* more than the directory promised */
                if (n > 0) {
                        *crc = crc32(*crc, z->out, (uInt) n);
                        *produced += n;
                        int r = loop_write(fd, z->out, n);
                        if (r < 0)
                                return r;
                }
                if (zr == Z_STREAM_END) {
                        /* the stream must end exactly where the entry does */
                        if (z->zs.avail_in != 0 || !last)
                                return -EBADMSG;
                        *done = true;
                        return 0;
                }
                if (z->zs.avail_in == 0 && z->zs.avail_out != 0)
                        return last ? -EBADMSG : 0; /* needs input it will not get */
        }
}

int zip_extract(ZipArchive *z, const ZipEntry *e, int fd) {
        if (e->is_dir)
                return -EISDIR;
        if (!z->in) {
                z->in = malloc(CHUNK);
                z->out = malloc(CHUNK);
                if (!z->in || !z->out)
                        return -ENOMEM;
        }
        if (e->method == Z_DEFLATED) {
                int zr = z->zs_ready ? inflateReset(&z->zs) : inflateInit2(&z->zs, -MAX_WBITS);
                if (zr == Z_MEM_ERROR)
                        return -ENOMEM;
                if (zr != Z_OK)
                        return -EIO;
                z->zs_ready = true;
        }

        /* One read usually covers the local header and all of a small entry. */
        uint64_t limit = z->cd_offset - e->header_offset;
        size_t n = (size_t) (limit < CHUNK ? limit : CHUNK);
        int r = pread_full(z->fd, z->in, n, e->header_offset);
        if (r < 0)
                return r;
        size_t nlen = strlen(e->name);
        if (n < LOCAL_HEADER_SIZE || get32(z->in) != SIG_LOCAL)
                return -EBADMSG;
        uint16_t flags = get16(z->in + 6), method = get16(z->in + 8);
        uint16_t lnlen = get16(z->in + 26), lxlen = get16(z->in + 28);
        if ((flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) || method != e->method || lnlen != nlen)
                return -EBADMSG;
        uint64_t data = e->header_offset + LOCAL_HEADER_SIZE + lnlen + lxlen;
        if (data + e->compressed_size > z->cd_offset)
                return -EBADMSG;
        if (LOCAL_HEADER_SIZE + nlen <= n) {
                if (memcmp(z->in + LOCAL_HEADER_SIZE, e->name, nlen) != 0)
                        return -EBADMSG;
        } else {
                _cleanup_free_ char *lname = malloc(nlen);
                if (!lname)
                        return -ENOMEM;
                if ((r = pread_full(z->fd, lname, nlen, e->header_offset + LOCAL_HEADER_SIZE)) < 0)
                        return r;
                if (memcmp(lname, e->name, nlen) != 0)
                        return -EBADMSG;
        }

        uLong crc = crc32(0, NULL, 0);
        uint64_t produced = 0, left = e->compressed_size, pos = data;
        bool done = false;
        size_t hdr = LOCAL_HEADER_SIZE + (size_t) lnlen + lxlen;
        if (hdr < n) {
                size_t avail = n - hdr < left ? n - hdr : (size_t) left;
                left -= avail;
                pos += avail;
                r = consume(z, e, z->in + hdr, avail, left == 0, fd, &crc, &produced, &done);
                if (r < 0)
                        return r;
        }
        while (!done && left > 0) {
                size_t k = left < CHUNK ? (size_t) left : CHUNK;
                if ((r = pread_full(z->fd, z->in, k, pos)) < 0)
                        return r;
                left -= k;
                pos += k;
                r = consume(z, e, z->in, k, left == 0, fd, &crc, &produced, &done);
                if (r < 0)
                        return r;
        }
        if (!done) {
                /* an empty entry: stored with no bytes, or deflate that never ended */
                if (e->method != 0 || e->compressed_size != 0)
                        return -EBADMSG;
        }
        if (produced != e->size || crc != e->crc32)
                return -EBADMSG;
        return 0;
}
