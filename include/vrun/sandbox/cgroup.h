/* One budget for the whole sandbox: a cgroup of the run's own, with a
 * memory limit, a process limit and CPU bandwidth, where the machine gives
 * one. Per-process rlimits cannot bound the total (256 processes of 2G
 * each, memory in memfds or SysV shm counts against no rlimit), and the
 * kernel exempts the host's root from RLIMIT_NPROC.
 *
 * Both layouts: cgroup v1 (a hierarchy per controller: memory, pids, cpu,
 * as on hybrid machines) and cgroup v2 (one hierarchy; the run's cgroup is
 * made beside vrun's own, so that a user's delegated subtree works without
 * the "no internal processes" rule getting in the way). vrun moves itself
 * into the run's cgroups before it clones the sandbox and back out right
 * after, so only the sandbox is charged. The cgroup is named
 * vrun-PID-TIME; one whose vrun died (kill -9) is removed by the next run. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum CgroupController {
        CGROUP_MEMORY = 1u << 0,
        CGROUP_PIDS = 1u << 1,
        CGROUP_CPU = 1u << 2,
} CgroupController;

typedef struct CgroupBudget {
        uint64_t memory; /* bytes; 0: none */
        uint64_t pids;   /* processes; 0: none */
        uint64_t cpus;   /* CPUs of bandwidth; 0: none */
} CgroupBudget;

/* The controllers a budget asks for. */
unsigned cgroup_budget_controllers(const CgroupBudget *b);

#define CGROUP_MAX_DIRS 3

typedef struct Cgroup {
        char *dirs[CGROUP_MAX_DIRS];    /* the run's cgroup in each hierarchy used */
        char *origins[CGROUP_MAX_DIRS]; /* cgroup.procs of where vrun came from, in each */
        unsigned controllers[CGROUP_MAX_DIRS];
        size_t n_dirs;
} Cgroup;

/* Which of `wanted` this process could bound with a cgroup of its own, and
 * where: nothing is created. "v1" or "v2" in *ret_layout (static). */
unsigned cgroup_available(unsigned wanted, const char **ret_layout);

/* Creates the run's cgroups for every controller of the budget that can be
 * had, sets the limits and moves the caller in. *ret_got says which
 * controllers bound the run (possibly none); the caller decides whether
 * that is enough. Returns -errno only for a failure past the point where a
 * cgroup was writable. */
int cgroup_enter(const CgroupBudget *b, Cgroup *ret, unsigned *ret_got);
/* Moves the caller back to where it came from (the children stay). */
int cgroup_leave(Cgroup *c);
/* Removes the run's cgroups once their processes are gone. */
void cgroup_done(Cgroup *c);

/* "memory, pids, cpu" for the bits (static), "none" for 0. */
const char *cgroup_controllers_name(unsigned controllers);
