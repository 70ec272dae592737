#include "vrun/sandbox/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/libmnt.h"
#include "util/path.h"

#define CPU_PERIOD_US 100000

static const struct {
        CgroupController bit;
        const char *name;
} controllers[] = {
        { CGROUP_MEMORY, "memory" },
        { CGROUP_PIDS, "pids" },
        { CGROUP_CPU, "cpu" },
};

unsigned cgroup_budget_controllers(const CgroupBudget *b) {
        return (b->memory ? CGROUP_MEMORY : 0) | (b->pids ? CGROUP_PIDS : 0) | (b->cpus ? CGROUP_CPU : 0);
}

const char *cgroup_controllers_name(unsigned c) {
        static const char *const names[] = {
                "none", "memory", "pids", "memory, pids", "cpu", "memory, cpu", "pids, cpu", "memory, pids, cpu",
        };
        return names[c & 7];
}

/* Where the run's cgroup goes for one controller: the hierarchy's mount,
 * the parent directory, and the procs file vrun is in now. */
typedef struct Place {
        unsigned controllers;
        bool v2;
        char *parent; /* directory the run's cgroup is made in */
        char *origin; /* cgroup.procs of vrun's own cgroup */
} Place;

static void place_done(Place *p) {
        free(p->parent);
        free(p->origin);
        *p = (Place){};
}

/* vrun's own cgroup in a hierarchy, from /proc/self/cgroup:
 * "N:memory:/path" (v1, controller lists are comma-separated) or "0::/path". */
static int own_cgroup(const char *text, const char *controller, char **ret) {
        _cleanup_free_ char *copy = strdup(text);
        if (!copy)
                return -ENOMEM;
        char *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *c1 = strchr(line, ':');
                char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c2 = 0;
                bool match = false;
                if (!controller)
                        match = strcmp(line, "0") == 0 && c1[1] == 0;
                else {
                        char *s2 = NULL;
                        for (char *t = strtok_r(c1 + 1, ",", &s2); t; t = strtok_r(NULL, ",", &s2))
                                if (strcmp(t, controller) == 0)
                                        match = true;
                }
                if (match) {
                        *ret = strdup(c2 + 1);
                        return *ret ? 0 : -ENOMEM;
                }
        }
        return -ENOENT;
}

static bool word_in(const char *list, const char *word) {
        size_t l = strlen(word);
        for (const char *p = list; (p = strstr(p, word)); p += l)
                if ((p == list || p[-1] == ' ' || p[-1] == '\n') && (p[l] == 0 || p[l] == ' ' || p[l] == '\n'))
                        return true;
        return false;
}

static bool file_has_word(const char *dir, const char *file, const char *word) {
        _cleanup_free_ char *p = path_join(dir, file), *text = NULL;
        return p && read_full_file_at(AT_FDCWD, p, 4096, &text, NULL) >= 0 && word_in(text, word);
}

static int write_str(const char *dir, const char *file, const char *value) {
        _cleanup_free_ char *p = path_join(dir, file);
        if (!p)
                return -ENOMEM;
        return write_file_at(AT_FDCWD, p, value, strlen(value), 0644, 1);
}

static void mnt_tablep(struct libmnt_table **t) {
        const LibMnt *m = libmnt_get();
        if (*t && m)
                m->unref_table(*t);
}

/* Finds, for each wanted controller, where this process can make a cgroup:
 * a v1 hierarchy of that controller, else the v2 hierarchy when the
 * controller is available there. Places of one hierarchy are merged. */
static int find_places(unsigned wanted, Place places[CGROUP_MAX_DIRS], size_t *ret_n) {
        const LibMnt *m = libmnt_get();
        if (!m)
                return -EOPNOTSUPP;
        _cleanup_free_ char *self = NULL;
        int r = read_full_file_at(AT_FDCWD, "/proc/self/cgroup", 64 * 1024, &self, NULL);
        if (r < 0)
                return r;
        struct libmnt_table *t __attribute__((cleanup(mnt_tablep))) = m->new_table_from_file("/proc/self/mountinfo");
        if (!t)
                return -ENOENT;
        size_t n = 0;
        for (size_t k = 0; k < ELEMENTSOF(controllers); k++) {
                if (!(wanted & controllers[k].bit))
                        continue;
                struct libmnt_iter *it = m->new_iter(MNT_ITER_FORWARD);
                if (!it)
                        return -ENOMEM;
                struct libmnt_fs *fs;
                _cleanup_free_ char *v1 = NULL, *v2 = NULL;
                while (m->table_next_fs(t, it, &fs) == 0) {
                        const char *type = m->fs_get_fstype(fs), *target = m->fs_get_target(fs);
                        if (!type || !target)
                                continue;
                        if (!v1 && strcmp(type, "cgroup") == 0 && m->fs_match_options(fs, controllers[k].name) == 1)
                                v1 = strdup(target);
                        else if (!v2 && strcmp(type, "cgroup2") == 0)
                                v2 = strdup(target);
                }
                m->free_iter(it);

                _cleanup_free_ char *own = NULL, *cur = NULL, *parent = NULL, *origin = NULL;
                bool is_v2 = !v1;
                if (!v1 && !v2)
                        continue;
                if (own_cgroup(self, is_v2 ? NULL : controllers[k].name, &own) < 0)
                        continue;
                if (!(cur = path_join(is_v2 ? v2 : v1, own)) || !(origin = path_join(cur, "cgroup.procs")))
                        return -ENOMEM;
                if (!is_v2)
                        parent = strdup(cur);
                else if (strcmp(own, "/") == 0) {
                        /* The root cgroup may hold processes and enable
                         * controllers for its children at once. */
                        if (!file_has_word(cur, "cgroup.controllers", controllers[k].name))
                                continue;
                        parent = strdup(cur);
                } else {
                        /* Beside vrun's own cgroup: the controllers its
                         * parent gives its children are the ones it lists. */
                        if (!file_has_word(cur, "cgroup.controllers", controllers[k].name))
                                continue;
                        parent = path_dirname(cur);
                }
                if (!parent)
                        return -ENOMEM;
                size_t j = 0;
                while (j < n && strcmp(places[j].parent, parent) != 0)
                        j++;
                if (j == n) {
                        if (n == CGROUP_MAX_DIRS)
                                continue;
                        places[n++] = (Place){ .v2 = is_v2, .parent = TAKE_PTR(parent), .origin = TAKE_PTR(origin) };
                }
                places[j].controllers |= controllers[k].bit;
        }
        *ret_n = n;
        return 0;
}

unsigned cgroup_available(unsigned wanted, const char **ret_layout) {
        Place places[CGROUP_MAX_DIRS] = {};
        size_t n = 0;
        unsigned got = 0;
        if (ret_layout)
                *ret_layout = "none";
        if (find_places(wanted, places, &n) < 0)
                return 0;
        for (size_t j = 0; j < n; j++) {
                /* Making a cgroup there, and moving into it, needs write access. */
                if (access(places[j].parent, W_OK) == 0 && access(places[j].origin, W_OK) == 0) {
                        got |= places[j].controllers;
                        if (ret_layout)
                                *ret_layout = places[j].v2 ? "v2" : "v1";
                }
                place_done(&places[j]);
        }
        return got;
}

/* Removes the cgroups that runs killed with SIGKILL left behind: named
 * vrun-PID-TIME, with PID gone. One still in use cannot be removed. */
static void sweep_stale(const char *parent) {
        _cleanup_closedir_ DIR *d = opendir(parent);
        if (!d)
                return;
        struct dirent *e;
        while ((e = readdir(d))) {
                long pid;
                long long t;
                char tail;
                /* NOLINTNEXTLINE(cert-err34-c): a name that does not parse is not ours */
                if (e->d_type != DT_DIR || sscanf(e->d_name, "vrun-%ld-%lld%c", &pid, &t, &tail) != 2 || pid <= 0)
                        continue;
                if (pid == (long) getpid() || kill((pid_t) pid, 0) == 0 || errno != ESRCH)
                        continue;
                (void) unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
        }
}

static int set_limits(const char *dir, bool v2, unsigned which, const CgroupBudget *b) {
        char buf[64];
        int r;
        if (which & CGROUP_MEMORY) {
                snprintf(buf, sizeof buf, "%llu", (unsigned long long) b->memory);
                if ((r = write_str(dir, v2 ? "memory.max" : "memory.limit_in_bytes", buf)) < 0)
                        return r;
                /* Swap would only move the overflow elsewhere: none (where
                 * the kernel accounts it at all). */
                if (v2)
                        (void) write_str(dir, "memory.swap.max", "0");
                else
                        (void) write_str(dir, "memory.memsw.limit_in_bytes", buf);
        }
        if (which & CGROUP_PIDS) {
                snprintf(buf, sizeof buf, "%llu", (unsigned long long) b->pids);
                if ((r = write_str(dir, "pids.max", buf)) < 0)
                        return r;
        }
        if (which & CGROUP_CPU) {
                unsigned long long quota = (unsigned long long) b->cpus * CPU_PERIOD_US;
                if (v2) {
                        snprintf(buf, sizeof buf, "%llu %d", quota, CPU_PERIOD_US);
                        if ((r = write_str(dir, "cpu.max", buf)) < 0)
                                return r;
                } else {
                        snprintf(buf, sizeof buf, "%d", CPU_PERIOD_US);
                        if ((r = write_str(dir, "cpu.cfs_period_us", buf)) < 0)
                                return r;
                        snprintf(buf, sizeof buf, "%llu", quota);
                        if ((r = write_str(dir, "cpu.cfs_quota_us", buf)) < 0)
                                return r;
                }
        }
        return 0;
}

/* In the v2 root cgroup, children get a controller only once it is enabled. */
static int enable_v2(const char *parent, unsigned which) {
        for (size_t k = 0; k < ELEMENTSOF(controllers); k++) {
                if (!(which & controllers[k].bit) ||
                    file_has_word(parent, "cgroup.subtree_control", controllers[k].name))
                        continue;
                char buf[32];
                snprintf(buf, sizeof buf, "+%s", controllers[k].name);
                int r = write_str(parent, "cgroup.subtree_control", buf);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cgroup_enter(const CgroupBudget *b, Cgroup *ret, unsigned *ret_got) {
        Place places[CGROUP_MAX_DIRS] = {};
        size_t n = 0;
        Cgroup c = {};
        unsigned got = 0;
        *ret_got = 0;
        int r = find_places(cgroup_budget_controllers(b), places, &n);
        if (r < 0)
                return r == -EOPNOTSUPP || r == -ENOENT ? 0 : r;
        char self[32];
        snprintf(self, sizeof self, "%ld", (long) getpid());
        for (size_t j = 0; j < n; j++) {
                Place *p = &places[j];
                if (access(p->parent, W_OK) < 0 || access(p->origin, W_OK) < 0)
                        continue; /* not ours to divide */
                sweep_stale(p->parent);
                _cleanup_free_ char *dir = NULL;
                if (asprintf(&dir, "%s/vrun-%ld-%lld", p->parent, (long) getpid(), (long long) time(NULL)) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
                if (p->v2 && enable_v2(p->parent, p->controllers) < 0)
                        continue; /* e.g. EBUSY: controllers cannot be enabled here */
                if (mkdir(dir, 0755) < 0) {
                        if (errno == EACCES || errno == EPERM || errno == EROFS)
                                continue;
                        r = negative_errno();
                        goto fail;
                }
                c.dirs[c.n_dirs] = TAKE_PTR(dir);
                c.origins[c.n_dirs] = TAKE_PTR(p->origin);
                c.controllers[c.n_dirs] = p->controllers;
                c.n_dirs++;
                if ((r = set_limits(c.dirs[c.n_dirs - 1], p->v2, p->controllers, b)) < 0 ||
                    (r = write_str(c.dirs[c.n_dirs - 1], "cgroup.procs", self)) < 0)
                        goto fail;
                got |= p->controllers;
        }
        for (size_t j = 0; j < n; j++)
                place_done(&places[j]);
        *ret = c;
        *ret_got = got;
        return 0;
fail:
        for (size_t j = 0; j < n; j++)
                place_done(&places[j]);
        (void) cgroup_leave(&c);
        cgroup_done(&c);
        return r;
}

int cgroup_leave(Cgroup *c) {
        char buf[32];
        int ret = 0;
        snprintf(buf, sizeof buf, "%ld", (long) getpid());
        for (size_t j = 0; j < c->n_dirs; j++) {
                int r = write_file_at(AT_FDCWD, c->origins[j], buf, strlen(buf), 0644, 1);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

void cgroup_done(Cgroup *c) {
        for (size_t j = 0; j < c->n_dirs; j++) {
                /* The last processes of a pid namespace may still be on their
                 * way out after pid 1 has been reaped. */
                for (int i = 0; i < 200 && rmdir(c->dirs[j]) < 0 && errno == EBUSY; i++)
                        usleep(5000);
                free(c->dirs[j]);
                free(c->origins[j]);
        }
        *c = (Cgroup){};
}
