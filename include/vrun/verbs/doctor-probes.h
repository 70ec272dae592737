/* vrun doctor's probes: each tries one thing vrun needs with the executor's
 * own steps, in a forked child that _exits, and reports on a pipe. */
#pragma once

/* Smaller than PIPE_BUF: one write is atomic. */
typedef struct ProbeReport {
        int err;        /* 0: the probe got through */
        char step[240]; /* the step that failed, or a note on success */
} ProbeReport;

/* Runs fn(fd) in a forked child with a timeout; fills ret with what it said. */
void probe_run(void (*fn)(int fd), ProbeReport *ret);

void probe_cgroup(int fd);
void probe_devpts(int fd);
void probe_idmap(int fd);
void probe_landlock(int fd);
void probe_mount_api(int fd);
void probe_namespaces(int fd);
void probe_netns(int fd);
void probe_overlay(int fd);
void probe_proc(int fd);
void probe_seccomp(int fd);
void probe_tmpfs(int fd);
void probe_userns(int fd);
