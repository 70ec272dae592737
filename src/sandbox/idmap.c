#include "vrun/sandbox/idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fileio.h"

/* The first "root:START:COUNT" range of an /etc/sub[ug]id file. */
static int subid_range(const char *file, unsigned long *ret_start, unsigned long *ret_count) {
        _cleanup_free_ char *text = NULL;
        int r = read_full_file_at(AT_FDCWD, file, 1024 * 1024, &text, NULL);
        if (r < 0)
                return r;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                unsigned long start, count;
                int n = 0;
                /* NOLINTNEXTLINE(cert-err34-c): a line that does not parse is skipped */
                if (sscanf(line, "root:%lu:%lu%n", &start, &count, &n) == 2 && line[n] == 0 && count > 0 && start > 0 &&
                    start + count <= 0xFFFFFFFEul) {
                        *ret_start = start;
                        *ret_count = count;
                        return 0;
                }
        }
        return -ENOENT;
}

int idmap_pick_host_id(uid_t *ret) {
        unsigned long us, uc, gs, gc;
        unsigned long start = IDMAP_FALLBACK_BASE, count = IDMAP_FALLBACK_COUNT;
        /* One id serves as uid and gid: both files must give root the
         * same range. */
        if (subid_range("/etc/subuid", &us, &uc) >= 0 && subid_range("/etc/subgid", &gs, &gc) >= 0 && us == gs) {
                start = us;
                count = uc < gc ? uc : gc;
        }
        *ret = (uid_t) (start + (unsigned long) getpid() % count);
        return 0;
}

bool idmap_is_host_root(void) {
        if (geteuid() != 0)
                return false;
        _cleanup_free_ char *text = NULL;
        unsigned long inside, outside, count;
        if (read_full_file_at(AT_FDCWD, "/proc/self/uid_map", 4096, &text, NULL) < 0)
                return false;
        /* NOLINTNEXTLINE(cert-err34-c): the kernel writes this file, in this format */
        int n = sscanf(text, "%lu %lu %lu", &inside, &outside, &count);
        return n == 3 && inside == 0 && outside == 0 && count == 4294967295UL;
}

static int write_map(pid_t pid, const char *file, uid_t host_id) {
        char path[64], map[64];
        snprintf(path, sizeof path, "/proc/%ld/%s", (long) pid, file);
        snprintf(map, sizeof map, "0 %u 1\n", (unsigned) host_id);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        return loop_write(fd, map, strlen(map));
}

int idmap_write_maps(pid_t pid, uid_t host_id) {
        int r = write_map(pid, "uid_map", host_id);
        return r < 0 ? r : write_map(pid, "gid_map", host_id);
}

int idmap_userns_open(uid_t host_id, int *ret_fd) {
        int sync[2];
        if (pipe2(sync, O_CLOEXEC) < 0)
                return negative_errno();
        pid_t pid = (pid_t) syscall(SYS_clone, (unsigned long) (CLONE_NEWUSER | SIGCHLD), NULL, NULL, NULL, 0);
        if (pid < 0) {
                int r = negative_errno();
                close(sync[0]);
                close(sync[1]);
                return r;
        }
        if (pid == 0) {
                /* Only there to own the namespace until the parent holds it. */
                char c;
                close(sync[1]);
                (void) !read(sync[0], &c, 1);
                _exit(0);
        }
        close(sync[0]);
        int r = idmap_write_maps(pid, host_id);
        int fd = -1;
        if (r >= 0) {
                char path[64];
                snprintf(path, sizeof path, "/proc/%ld/ns/user", (long) pid);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        r = negative_errno();
        }
        close(sync[1]);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        if (r < 0)
                return r;
        *ret_fd = fd;
        return 0;
}

int idmap_apply(int tree_fd, int userns_fd) {
        struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t) userns_fd };
        /* Every mount of the tree, where the filesystems allow it; else
         * the top one alone (submounts then show root's files as nobody's). */
        if (mount_setattr(tree_fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof a) == 0)
                return 0;
        int e = negative_errno();
        return mount_setattr(tree_fd, "", AT_EMPTY_PATH, &a, sizeof a) == 0 ? 0 : e;
}

int idmap_clone(const char *path, int userns_fd, int *ret_fd) {
        _cleanup_close_ int fd = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (fd < 0)
                return negative_errno();
        int r = idmap_apply(fd, userns_fd);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}
