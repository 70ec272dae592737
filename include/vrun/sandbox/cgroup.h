/* A pids cgroup for one run, where RLIMIT_NPROC cannot hold: the kernel
 * exempts processes whose real uid is the host's root from it, and a run
 * started by root is host uid 0 inside. vrun moves itself into a fresh
 * child cgroup with pids.max set before it clones the sandbox, and back out
 * right after, so only the sandbox stays in it. */
#pragma once

#include <stdint.h>

typedef struct CgroupPids {
        char *dir;    /* the run's cgroup directory, NULL when none */
        char *origin; /* procs file of the cgroup vrun came from */
} CgroupPids;

/* Finds the pids hierarchy (cgroup v1 "pids" or v2 with the pids controller
 * delegated) with libmount, creates the run's cgroup and moves the caller in. */
int cgroup_pids_enter(uint64_t max, CgroupPids *ret);
/* Moves the caller back to where it came from (the children stay). */
int cgroup_pids_leave(CgroupPids *c);
/* Removes the run's cgroup once its processes are gone. */
void cgroup_pids_done(CgroupPids *c);
