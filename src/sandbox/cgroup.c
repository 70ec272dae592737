#include "vrun/sandbox/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include "util/libmnt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/path.h"

static const LibMnt *libmnt;

static void mnt_tablep(struct libmnt_table **t) {
        if (*t)
                libmnt->unref_table(*t);
}

/* The caller's cgroup in the hierarchy whose /proc/self/cgroup line
 * matches: "N:pids:/path" (v1) or "0::/path" (v2). */
static int own_cgroup(bool v2, char **ret) {
        _cleanup_free_ char *text = NULL;
        int r = read_full_file_at(AT_FDCWD, "/proc/self/cgroup", 64 * 1024, &text, NULL);
        if (r < 0)
                return r;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *c1 = strchr(line, ':');
                char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c2 = 0;
                const char *ctrls = c1 + 1;
                bool match = v2 ? (strcmp(line, "0") == 0 && *ctrls == 0) : false;
                if (!v2) {
                        /* the v1 controller list is comma-separated */
                        _cleanup_free_ char *dup = strdup(ctrls);
                        char *s2 = NULL;
                        for (char *t = dup ? strtok_r(dup, ",", &s2) : NULL; t; t = strtok_r(NULL, ",", &s2))
                                if (strcmp(t, "pids") == 0)
                                        match = true;
                }
                if (match) {
                        *ret = strdup(c2 + 1);
                        return *ret ? 0 : -ENOMEM;
                }
        }
        return -ENOENT;
}

/* libmount: where the pids controller is mounted, and whether it is v2. */
static int find_pids_mount(char **ret_path, bool *ret_v2) {
        int r;
        if (!(libmnt = libmnt_get()))
                return -EOPNOTSUPP;
        struct libmnt_table *t __attribute__((cleanup(mnt_tablep))) =
                libmnt->new_table_from_file("/proc/self/mountinfo");
        if (!t)
                return -ENOENT;
        struct libmnt_iter *it = libmnt->new_iter(MNT_ITER_FORWARD);
        if (!it)
                return -ENOMEM;
        struct libmnt_fs *fs;
        _cleanup_free_ char *path = NULL;
        bool v2 = false;
        r = -ENOENT;
        while (libmnt->table_next_fs(t, it, &fs) == 0) {
                const char *type = libmnt->fs_get_fstype(fs), *target = libmnt->fs_get_target(fs);
                if (!type || !target)
                        continue;
                /* a v1 pids hierarchy wins, even over a v2 one found before it */
                if (strcmp(type, "cgroup") == 0 && libmnt->fs_match_options(fs, "pids") == 1) {
                        free(path);
                        path = strdup(target);
                        v2 = false;
                        r = path ? 0 : -ENOMEM;
                        break;
                }
                if (strcmp(type, "cgroup2") == 0 && r == -ENOENT) {
                        /* v2 only counts if pids is a controller there */
                        _cleanup_free_ char *ctrl = path_join(target, "cgroup.controllers"), *text = NULL;
                        if (ctrl && read_full_file_at(AT_FDCWD, ctrl, 4096, &text, NULL) >= 0 && strstr(text, "pids")) {
                                path = strdup(target);
                                v2 = true;
                                r = path ? 0 : -ENOMEM;
                        }
                }
        }
        libmnt->free_iter(it);
        if (r < 0)
                return r;
        *ret_path = TAKE_PTR(path);
        *ret_v2 = v2;
        return 0;
}

static int write_str(const char *dir, const char *file, const char *value) {
        _cleanup_free_ char *p = path_join(dir, file);
        if (!p)
                return -ENOMEM;
        return write_file_at(AT_FDCWD, p, value, strlen(value), 0644, 1);
}

int cgroup_pids_enter(uint64_t max, CgroupPids *ret) {
        _cleanup_free_ char *mnt = NULL, *own = NULL, *parent = NULL, *dir = NULL, *origin = NULL;
        bool v2 = false;
        int r = find_pids_mount(&mnt, &v2);
        if (r < 0)
                return r;
        if ((r = own_cgroup(v2, &own)) < 0)
                return r;
        if (!(parent = path_join(mnt, own)))
                return -ENOMEM;
        if (asprintf(&dir, "%s/vrun-%ld-%ld", parent, (long) getpid(), (long) time(NULL)) < 0)
                return -ENOMEM;
        if (mkdir(dir, 0755) < 0)
                return negative_errno();
        char buf[32];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long) max);
        if ((r = write_str(dir, "pids.max", buf)) < 0 || (origin = path_join(parent, "cgroup.procs")) == NULL) {
                rmdir(dir);
                return r < 0 ? r : -ENOMEM;
        }
        snprintf(buf, sizeof buf, "%ld", (long) getpid());
        if ((r = write_str(dir, "cgroup.procs", buf)) < 0) {
                rmdir(dir);
                return r;
        }
        ret->dir = TAKE_PTR(dir);
        ret->origin = TAKE_PTR(origin);
        return 0;
}

int cgroup_pids_leave(CgroupPids *c) {
        if (!c->origin)
                return 0;
        char buf[32];
        snprintf(buf, sizeof buf, "%ld", (long) getpid());
        return write_file_at(AT_FDCWD, c->origin, buf, strlen(buf), 0644, 1);
}

void cgroup_pids_done(CgroupPids *c) {
        if (c->dir) {
                /* The last processes of a pid namespace may still be on their
                 * way out after pid 1 has been reaped. */
                for (int i = 0; i < 200 && rmdir(c->dir) < 0 && errno == EBUSY; i++)
                        usleep(5000);
        }
        free(c->dir);
        free(c->origin);
        *c = (CgroupPids){};
}
