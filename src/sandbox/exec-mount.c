/* The executor's mount steps, with the new mount API: captures of host
 * objects into slots, the root, and mounts (captured trees, tmpfs, empty
 * directories, /proc, /dev, the ephemeral overlay). Every path, flag, mode,
 * owner and table comes from the step. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/path.h"
#include "vrun/sandbox/exec.h"
#include "vrun/sandbox/mountsrc.h"
#include "vrun/sandbox/idmap.h"

int exec_ctx_init(ExecCtx *c, size_t n_slots) {
        *c = (ExecCtx){ .empty_fd = -1, .userns_fd = -1 };
        c->slots = calloc(n_slots ? n_slots : 1, sizeof *c->slots);
        if (!c->slots)
                return -ENOMEM;
        for (size_t k = 0; k < n_slots; k++)
                c->slots[k].fd = -1;
        c->n_slots = n_slots;
        return 0;
}

void exec_ctx_done(ExecCtx *c) {
        for (size_t k = 0; k < c->n_slots; k++) {
                if (c->slots[k].fd >= 0)
                        close(c->slots[k].fd);
                free(c->slots[k].link);
        }
        free(c->slots);
        if (c->empty_fd >= 0)
                close(c->empty_fd);
        if (c->userns_fd >= 0)
                close(c->userns_fd);
        *c = (ExecCtx){ .empty_fd = -1, .userns_fd = -1 };
}

static ExecSlot *slot_get(ExecCtx *c, int slot) {
        return slot >= 0 && (size_t) slot < c->n_slots ? &c->slots[slot] : NULL;
}

/* ---- primitives ------------------------------------------------------------------------------ */

static int set_readonly(int fd, bool recursive) {
        struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID };
        return mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof a) < 0
                       ? negative_errno()
                       : 0;
}

static int clone_tree_at(int dirfd, const char *path, unsigned flags, bool readonly, int *ret) {
        _cleanup_close_ int fd = open_tree(dirfd, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | flags);
        if (fd < 0)
                return negative_errno();
        int r = readonly ? set_readonly(fd, flags & AT_RECURSIVE) : 0;
        if (r < 0)
                return r;
        *ret = TAKE_FD(fd);
        return 0;
}

static int attach(int tree_fd, const char *dst) {
        return move_mount(tree_fd, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0 ? negative_errno() : 0;
}

static bool is_dir(const char *p) {
        struct stat st;
        return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A missing mountpoint can be made only on filesystems vrun mounted itself
 * (the fresh /tmp, a --tmpfs); on the read-only host it is an error. */
static int ensure_mountpoint(const char *dst, bool dir) {
        struct stat st;
        if (stat(dst, &st) == 0)
                return 0;
        if (errno != ENOENT)
                return negative_errno();
        _cleanup_free_ char *parent = path_dirname(dst);
        if (!parent)
                return -ENOMEM;
        int r = mkdir_p(parent, 0755);
        if (r < 0)
                return r;
        if (dir)
                return mkdir(dst, 0755) < 0 && errno != EEXIST ? negative_errno() : 0;
        int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0)
                return negative_errno();
        close(fd);
        return 0;
}

/* Makes the last component of rel beneath root a mount point (its parent
 * must exist): a directory, or an empty file. */
static int make_mountpoint_beneath(int root, const char *rel, bool dir) {
        _cleanup_free_ char *copy = strdup(rel);
        if (!copy)
                return -ENOMEM;
        char *slash = strrchr(copy, '/');
        const char *name = slash ? slash + 1 : copy;
        if (slash)
                *slash = 0;
        _cleanup_close_ int parent = -1, dfd = -1;
        int r = mountsrc_open_beneath(root, slash ? copy : "", S_IFDIR, &parent);
        if (r < 0)
                return r;
        if ((dfd = openat(parent, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
                return negative_errno();
        if (dir)
                return mkdirat(dfd, name, 0755) < 0 && errno != EEXIST ? negative_errno() : 0;
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0)
                return errno == EEXIST ? 0 : negative_errno();
        close(fd);
        return 0;
}

/* Opens m's dst below the env or the working directory it lies in (see
 * MountStep.dst_rel), following no symlink; makes a missing last component
 * when create is set. */
static int open_dst_beneath(ExecCtx *c, const MountStep *m, bool dir, bool create, int *ret) {
        const ExecSlot *root = m->dst_slot >= 0 && (size_t) m->dst_slot < c->n_slots ? &c->slots[m->dst_slot] : NULL;
        if (!root || root->fd < 0)
                return -EBADF;
        int r = mountsrc_open_beneath(root->fd, m->dst_rel, dir ? S_IFDIR : 0, ret);
        if (r == -ENOENT && create && (r = make_mountpoint_beneath(root->fd, m->dst_rel, dir)) >= 0)
                r = mountsrc_open_beneath(root->fd, m->dst_rel, dir ? S_IFDIR : 0, ret);
        return r;
}

/* Attaches tree on m's (single) dst: beneath its root when it has one, else
 * at the path (the read-only host, or a mount vrun made itself). */
static int attach_dst(ExecCtx *c, const MountStep *m, int tree, bool dir, bool create) {
        if (!m->dst_rel) {
                int r = create ? ensure_mountpoint(m->dsts[0], dir) : 0;
                return r < 0 ? r : attach(tree, m->dsts[0]);
        }
        _cleanup_close_ int fd = -1;
        int r = open_dst_beneath(c, m, dir, create, &fd);
        return r < 0 ? r : mountsrc_attach(tree, fd);
}

static uint64_t tmpfs_inodes(uint64_t size) {
        uint64_t n = size / 4096;
        return n < 1024 ? 1024 : n;
}

static int new_tmpfs(unsigned mode, uint64_t size, unsigned attrs, int *ret) {
        _cleanup_close_ int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
        if (fs < 0)
                return negative_errno();
        char m[16], sz[32];
        snprintf(m, sizeof m, "%o", mode);
        if (fsconfig(fs, FSCONFIG_SET_STRING, "mode", m, 0) < 0)
                return negative_errno();
        if (size) {
                snprintf(sz, sizeof sz, "%llu", (unsigned long long) size);
                if (fsconfig(fs, FSCONFIG_SET_STRING, "size", sz, 0) < 0)
                        return negative_errno();
                /* Empty files cost no pages but about 1 KiB of kernel
                 * memory each: one inode per 4 KiB of size. */
                snprintf(sz, sizeof sz, "%llu", (unsigned long long) tmpfs_inodes(size));
                if (fsconfig(fs, FSCONFIG_SET_STRING, "nr_inodes", sz, 0) < 0)
                        return negative_errno();
        }
        if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return negative_errno();
        int mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
        if (mnt < 0)
                return negative_errno();
        *ret = mnt;
        return 0;
}

/* ---- /proc, /dev, the overlay ---------------------------------------------------------------- */

/* The fd to mount a mount that serves several places from: src itself the
 * first time (!taken), a clone of it (attached by then) after that, left in
 * *clone for the caller to close. So no detached mount is left over to be
 * unmounted when its fd is closed, which waits for an RCU grace period. */
static int mount_source(int src, bool taken, int *clone) {
        if (!taken)
                return src;
        *clone = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        return *clone < 0 ? negative_errno() : *clone;
}

static int setup_proc(ExecCtx *c, const char *dst, const ProcSpec *s) {
        if (mount("proc", dst, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return exec_fail(c, negative_errno(), "mount proc on %s", dst);
        _cleanup_close_ int proc = open(dst, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (proc < 0)
                return exec_fail(c, negative_errno(), "open %s", dst);
        for (size_t i = 0; s->readonly[i]; i++) {
                _cleanup_close_ int t =
                        open_tree(proc, s->readonly[i], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
                if (t < 0) {
                        if (errno == ENOENT)
                                continue;
                        return exec_fail(c, negative_errno(), "clone %s/%s", dst, s->readonly[i]);
                }
                struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                                    MOUNT_ATTR_NOEXEC };
                if (mount_setattr(t, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) < 0 ||
                    move_mount(t, "", proc, s->readonly[i], MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        return exec_fail(c, negative_errno(), "make %s/%s read-only", dst, s->readonly[i]);
        }
        const ExecSlot *null = slot_get(c, s->null_slot);
        bool taken = false;
        for (size_t i = 0; s->masked[i]; i++) {
                if (faccessat(proc, s->masked[i], F_OK, 0) < 0)
                        continue;
                if (!null || null->fd < 0)
                        return exec_fail(c, -EBADF, "mask %s/%s: no capture of /dev/null", dst, s->masked[i]);
                _cleanup_close_ int clone = -1;
                int fd = mount_source(null->fd, taken, &clone);
                if (fd < 0 || move_mount(fd, "", proc, s->masked[i], MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        return exec_fail(c, fd < 0 ? fd : negative_errno(), "mask %s/%s", dst, s->masked[i]);
                taken = true;
        }
        return 0;
}

static int setup_dev(ExecCtx *c, const char *dst, uint64_t size, const DevSpec *s) {
        _cleanup_close_ int dev = -1, devfd = -1;
        int r = new_tmpfs(s->mode, size, s->attrs, &dev);
        if (r < 0)
                return exec_fail(c, r, "mount tmpfs for %s", dst);
        for (size_t i = 0; i < s->n_nodes; i++) {
                const ExecSlot *n = slot_get(c, s->nodes[i].slot);
                if (!n || n->fd < 0)
                        continue;
                int f = openat(dev, s->nodes[i].name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
                if (f < 0)
                        return exec_fail(c, negative_errno(), "create %s/%s", dst, s->nodes[i].name);
                close(f);
        }
        for (size_t i = 0; i < s->n_links; i++)
                if (symlinkat(s->links[i].target, dev, s->links[i].name) < 0)
                        return exec_fail(c, negative_errno(), "symlink %s/%s", dst, s->links[i].name);
        if (mkdirat(dev, "pts", 0755) < 0 || mkdirat(dev, "shm", 0755) < 0 || fchmodat(dev, "shm", s->shm_mode, 0) < 0)
                return exec_fail(c, negative_errno(), "populate %s", dst);
        if ((r = ensure_mountpoint(dst, true)) < 0 || (r = attach(dev, dst)) < 0)
                return exec_fail(c, r, "mount tmpfs on %s", dst);
        devfd = open(dst, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (devfd < 0)
                return exec_fail(c, negative_errno(), "open %s", dst);
        for (size_t i = 0; i < s->n_nodes; i++) {
                ExecSlot *n = slot_get(c, s->nodes[i].slot);
                if (!n || n->fd < 0)
                        continue;
                if (move_mount(n->fd, "", devfd, s->nodes[i].name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                        return exec_fail(c, negative_errno(), "bind %s/%s", dst, s->nodes[i].name);
                close(TAKE_FD(n->fd));
        }
        _cleanup_free_ char *pts = path_join(dst, "pts");
        if (!pts)
                return exec_fail(c, -ENOMEM, "mount devpts on %s/pts", dst);
        if (mount("devpts", pts, "devpts", MS_NOSUID | MS_NOEXEC, s->devpts_options) < 0)
                return exec_fail(c, negative_errno(), "mount devpts on %s", pts);
        return 0;
}

/* The ephemeral env: the env read through an overlay whose upper layer is
 * a private tmpfs, so installs and writes inside vanish at exit. */
static int make_overlay(const char *lower, uint64_t size, int *ret) {
        _cleanup_close_ int upper = -1, fs = -1;
        int r = new_tmpfs(0755, size, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, &upper);
        if (r < 0)
                return r;
        if (mkdirat(upper, "upper", 0755) < 0 || mkdirat(upper, "work", 0755) < 0)
                return negative_errno();
        char up[64], work[64];
        snprintf(up, sizeof up, "/proc/self/fd/%d/upper", upper);
        snprintf(work, sizeof work, "/proc/self/fd/%d/work", upper);
        fs = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fs < 0)
                return negative_errno();
        if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", lower, 0) < 0 ||
            fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", up, 0) < 0 ||
            fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
            fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0 ||
            fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return negative_errno();
        int m = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
        if (m < 0)
                return negative_errno();
        *ret = m;
        return 0;
}

/* ---- the steps -------------------------------------------------------------------------------- */

int exec_propagation(ExecCtx *c) {
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return exec_fail(c, negative_errno(), "make / private");
        return 0;
}

static int capture_tree(ExecCtx *c, const CaptureStep *s, ExecSlot *out) {
        const StepSource *src = &s->src;
        if (s->keep_symlink && src->slot < 0 && !src->anchor) {
                char target[VRUN_PATH_MAX];
                ssize_t n = readlink(src->path, target, sizeof target - 1);
                if (n >= 0) {
                        target[n] = 0;
                        return (out->link = strdup(target)) ? 0 : -ENOMEM;
                }
        }
        unsigned flags = s->kind == CAPTURE_TREE ? AT_RECURSIVE : 0;
        mode_t type = s->want_dir ? S_IFDIR : 0;
        _cleanup_close_ int fd = -1;
        int r;
        if (src->slot >= 0) {
                const ExecSlot *from = slot_get(c, src->slot);
                if (!from || from->fd < 0)
                        return -EBADF;
                r = mountsrc_open_beneath(from->fd, src->path, type, &fd);
        } else if (src->anchor) {
                _cleanup_close_ int dir = -1;
                r = mountsrc_open_resolved(src->anchor, S_IFDIR, 0, 0, &dir);
                if (r >= 0)
                        r = mountsrc_open_beneath(dir, src->path, type, &fd);
        } else
                r = clone_tree_at(AT_FDCWD, src->path, flags, s->readonly, &out->fd);
        if (r >= 0 && fd >= 0)
                r = clone_tree_at(fd, "", flags | AT_EMPTY_PATH, s->readonly, &out->fd);
        if (r < 0 || !s->idmap || c->userns_fd < 0)
                return r;
        /* A filesystem that cannot be idmapped is bound as it is: root's
         * files there are nobody's inside (docs/security.md). */
        r = idmap_apply(out->fd, c->userns_fd);
        return r == -EINVAL || r == -EPERM || r == -EOPNOTSUPP ? 0 : r;
}

int exec_capture(ExecCtx *c, const CaptureStep *s) {
        ExecSlot *out = slot_get(c, s->slot);
        int r;
        if (!out)
                return exec_fail(c, -EINVAL, "capture into slot %d", s->slot);
        if (s->by_parent != c->in_parent)
                return 0; /* the other side's */
        switch (s->kind) {
        case CAPTURE_TREE:
        case CAPTURE_NODE:
                r = capture_tree(c, s, out);
                if (r == -ENOENT && s->if_present)
                        return 0;
                if (r < 0 && s->src.anchor)
                        return exec_fail(c, r, "%s %s%s%s: it %s; refusing to mount it", s->why, s->src.anchor,
                                         *s->src.path ? "/" : "", s->src.path, mountsrc_strerror(r));
                if (r < 0 && s->src.slot >= 0)
                        return exec_fail(c, r, "%s %s (in the ephemeral env): it %s; refusing to mount it", s->why,
                                         s->src.path, mountsrc_strerror(r));
                if (r < 0)
                        return exec_fail(c, r, "%s %s", s->kind == CAPTURE_NODE ? "clone" : s->why, s->src.path);
                return 0;
        case CAPTURE_OVERLAY: {
                if (s->src.slot >= 0) {
                        /* The lower layer: that capture (taken following no
                         * symlink), put in place first. */
                        ExecSlot *lower = slot_get(c, s->src.slot);
                        r = lower && lower->fd >= 0 ? attach(lower->fd, s->src.path) : -EBADF;
                        if (r < 0)
                                return exec_fail(c, r, "mount %s on %s", s->why, s->src.path);
                        close(TAKE_FD(lower->fd));
                        r = make_overlay(s->src.path, s->size, &out->fd);
                        return r < 0 ? exec_fail(c, r, "mount overlay on %s", s->src.path) : 0;
                }
                /* The lower layer is the env's handle, not its path. */
                _cleanup_close_ int lower = -1;
                char lower_path[64];
                const char *what = s->src.anchor ? s->src.anchor : s->src.path;
                if (s->src.anchor) {
                        _cleanup_close_ int anchor = -1;
                        r = mountsrc_open_resolved(s->src.anchor, S_IFDIR, 0, 0, &anchor);
                        if (r >= 0)
                                r = mountsrc_open_beneath(anchor, s->src.path, S_IFDIR, &lower);
                        if (r < 0)
                                return exec_fail(c, r, "%s %s: it %s", s->why, what, mountsrc_strerror(r));
                        snprintf(lower_path, sizeof lower_path, "/proc/self/fd/%d", lower);
                }
                r = make_overlay(s->src.anchor ? lower_path : s->src.path, s->size, &out->fd);
                return r < 0 ? exec_fail(c, r, "mount overlay on %s", what) : 0;
        }
        case CAPTURE_PROC:
                if ((r = setup_proc(c, s->src.path, s->proc)) < 0)
                        return r;
                out->fd = open_tree(AT_FDCWD, s->src.path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
                return out->fd < 0 ? exec_fail(c, negative_errno(), "clone %s", s->src.path) : 0;
        }
        return exec_fail(c, -EINVAL, "capture kind %d", (int) s->kind);
}

/* Replaces / with an empty tmpfs; what the payload sees is then only what
 * the plan mounts. The old root is detached, not just covered. */
static int enter_empty_root(ExecCtx *c) {
        _cleanup_close_ int root = -1;
        int r = new_tmpfs(0755, 0, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, &root);
        if (r >= 0)
                r = attach(root, "/tmp");
        if (r < 0)
                return exec_fail(c, r, "mount the new root");
        if (chdir("/tmp") < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 ||
            chdir("/") < 0)
                return exec_fail(c, negative_errno(), "pivot_root into the new root");
        return 0;
}

int exec_root(ExecCtx *c, RootKind k) {
        if (k == ROOT_EMPTY)
                return enter_empty_root(c);
        struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID };
        if (mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &ro, sizeof ro) < 0)
                return exec_fail(c, negative_errno(), "make / read-only");
        return 0;
}

int exec_seal_root(ExecCtx *c) {
        struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
        if (mount_setattr(AT_FDCWD, "/", 0, &ro, sizeof ro) < 0)
                return exec_fail(c, negative_errno(), "make the new root read-only");
        return 0;
}

static int mount_tmpfs(ExecCtx *c, const MountStep *m) {
        const char *dst = m->dsts[0];
        _cleanup_close_ int t = -1;
        int r = new_tmpfs(m->mode, m->size, m->attrs, &t);
        if (r >= 0)
                r = attach_dst(c, m, t, true, true);
        if (r < 0 && m->dst_rel)
                return exec_fail(c, r, "mount tmpfs on %s: it %s", dst, mountsrc_strerror(r));
        if (r < 0)
                return exec_fail(c, r, "mount tmpfs on %s", dst);
        if (m->owner_uid != UID_NONE && fchownat(t, "", m->owner_uid, m->owner_gid, AT_EMPTY_PATH) < 0)
                return exec_fail(c, negative_errno(), "chown %s", dst);
        return 0;
}

static int mount_empty(ExecCtx *c, const MountStep *m) {
        const char *dst = m->dsts[0];
        int r;
        if (!m->dst_rel && !is_dir(dst)) {
                if (m->if_present)
                        return 0;
                return exec_fail(c, -ENOTDIR, "hide %s", dst);
        }
        if (c->empty_fd < 0 &&
            (r = new_tmpfs(0555, 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                           &c->empty_fd)) < 0)
                return exec_fail(c, r, "mount tmpfs on %s", dst);
        _cleanup_close_ int clone = -1;
        int fd = mount_source(c->empty_fd, c->empty_attached, &clone);
        r = fd < 0 ? fd : attach_dst(c, m, fd, true, false);
        if (r >= 0)
                c->empty_attached = true;
        /* Below the env or the cwd, what is no directory there (now) has
         * nothing to hide. */
        if (m->dst_rel && m->if_present && (r == -ENOENT || r == -ENOTDIR || r == -ELOOP))
                return 0;
        return r < 0 ? exec_fail(c, r, "mount tmpfs on %s", dst) : 0;
}

/* "why src on dst", for the messages of a captured mount. */
static int captured_fail(ExecCtx *c, int r, const MountStep *m, const char *dst, const char *more) {
        if (m->proc)
                return exec_fail(c, r, "mount proc on %s%s", dst, more);
        if (m->src)
                return exec_fail(c, r, "%s %s on %s%s", m->why, m->src, dst, more);
        return exec_fail(c, r, "%s on %s%s", m->why, dst, more);
}

static int mount_captured(ExecCtx *c, const MountStep *m) {
        ExecSlot *s = slot_get(c, m->slot);
        int r;
        if (!s)
                return exec_fail(c, -EINVAL, "mount slot %d", m->slot);
        if (!m->dsts[1] && s->link) {
                const char *dst = m->dsts[0];
                _cleanup_free_ char *parent = path_dirname(dst);
                r = parent ? mkdir_p(parent, 0755) : -ENOMEM;
                if (r >= 0 && symlink(s->link, dst) < 0 && errno != EEXIST)
                        r = negative_errno();
                return r < 0 ? exec_fail(c, r, "symlink %s", dst) : 0;
        }
        /* Only a capture "if present" leaves its slot empty. */
        if (s->fd < 0)
                return m->if_present ? 0 : captured_fail(c, -ENOENT, m, m->dsts[0], "");
        const char *dst = NULL;
        if (m->dsts[1]) {
                for (size_t k = 0; m->dsts[k] && !dst; k++)
                        if (is_dir(m->dsts[k]))
                                dst = m->dsts[k];
                if (!dst)
                        return m->if_present ? 0 : captured_fail(c, -ENOENT, m, m->dsts[0], "");
        } else if (m->dst_rel) {
                struct stat st;
                r = fstat(s->fd, &st) < 0 ? negative_errno() : 0;
                if (r >= 0)
                        r = attach_dst(c, m, s->fd, S_ISDIR(st.st_mode), true);
                if (r < 0)
                        return exec_fail(c, r, "%s %s on %s: the destination %s", m->why, m->src ? m->src : "",
                                         m->dsts[0], mountsrc_strerror(r));
                /* Kept open: it may be where later mounts go beneath. */
                return 0;
        } else {
                dst = m->dsts[0];
                struct stat st;
                r = fstat(s->fd, &st) < 0 ? negative_errno() : 0;
                if (r >= 0)
                        r = ensure_mountpoint(dst, S_ISDIR(st.st_mode));
                if (r == -EROFS || r == -EACCES)
                        return captured_fail(c, r, m, dst,
                                             ": the destination does not exist and cannot be created (the host "
                                             "is read-only inside; bind onto an existing path or under /tmp)");
                if (r < 0)
                        return captured_fail(c, r, m, dst, "");
        }
        if ((r = attach(s->fd, dst)) < 0)
                return captured_fail(c, r, m, dst, "");
        /* Kept open (exec_ctx_done closes it): the env or the working
         * directory is where later mounts are resolved beneath. */
        return 0;
}

int exec_mount(ExecCtx *c, const MountStep *m) {
        switch (m->kind) {
        case MOUNT_CAPTURED: return mount_captured(c, m);
        case MOUNT_TMPFS: return mount_tmpfs(c, m);
        case MOUNT_EMPTY: return mount_empty(c, m);
        case MOUNT_PROC: {
                int r = ensure_mountpoint(m->dsts[0], true);
                if (r < 0)
                        return exec_fail(c, r, "mount proc on %s", m->dsts[0]);
                return setup_proc(c, m->dsts[0], m->proc);
        }
        case MOUNT_DEV: return setup_dev(c, m->dsts[0], m->size, m->dev);
        }
        return exec_fail(c, -EINVAL, "mount kind %d", (int) m->kind);
}
