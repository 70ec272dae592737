/* Sandbox profiles: how strict a run is, as JSON (jansson). Built-in
 * profiles are embedded in the binary at build time (profiles/NAME.json) and
 * installed to the data dir; a NAME that contains '/' or ends in ".json" is
 * a file. Loading validates everything: unknown or duplicate keys, wrong
 * types, out-of-range values, unknown syscall names, `extends` cycles, size
 * and nesting limits. Errors name the file, line and column. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>

#include "vrun/verbs/cli.h"

#define PROFILE_MAX_SIZE    (256 * 1024)
#define PROFILE_MAX_DEPTH   16
#define PROFILE_MAX_EXTENDS 8

typedef enum ProfileFs { PROFILE_FS_HOST_RO, PROFILE_FS_MINIMAL } ProfileFs;
typedef enum ProfileEnvMode { PROFILE_ENV_RW, PROFILE_ENV_RO, PROFILE_ENV_EPHEMERAL } ProfileEnvMode;
/* EPHEMERAL: an overlay whose upper layer is a size-limited tmpfs: writes
 * succeed inside and vanish at exit, the host tree stays as it was. */
typedef enum ProfileCwdMode {
        PROFILE_CWD_RW,
        PROFILE_CWD_RO,
        PROFILE_CWD_HIDDEN,
        PROFILE_CWD_EPHEMERAL
} ProfileCwdMode;
/* HOST: the host's home, read-only like the rest of the host; RW: writable. */
typedef enum ProfileHome { PROFILE_HOME_HOST, PROFILE_HOME_TMPFS, PROFILE_HOME_RW } ProfileHome;
typedef enum ProfileNet { PROFILE_NET_HOST, PROFILE_NET_NONE } ProfileNet;
typedef enum ProfileSockets { PROFILE_SOCKETS_HOST, PROFILE_SOCKETS_HIDDEN } ProfileSockets;

enum {
        PROFILE_RLIMIT_NPROC,
        PROFILE_RLIMIT_AS,
        PROFILE_RLIMIT_FSIZE,
        PROFILE_RLIMIT_NOFILE,
        PROFILE_RLIMIT_CPU,
        PROFILE_RLIMIT_CORE,
        _PROFILE_RLIMIT_MAX,
};

typedef struct ProfileRlimit {
        bool set;
        uint64_t value; /* soft = hard */
} ProfileRlimit;

typedef struct ProfileDeny {
        char *syscall;
        int errno_value; /* EPERM when not given */
} ProfileDeny;

typedef struct Profile {
        char *name;   /* "default", or the file's path */
        char **files; /* canonical paths of the files read (it and what it extends), for the plan to
                       * keep them read-only inside */
        char *description;
        ProfileFs filesystem;
        ProfileEnvMode env;
        ProfileCwdMode cwd;
        ProfileHome home;
        ProfileNet network;
        BindSpec *binds; /* extra binds and tmpfs (kinds from cli.h) */
        size_t n_binds;
        char **env_allow; /* names, or prefixes ending in '*'; NULL: vrun's default list */
        ProfileRlimit rlimits[_PROFILE_RLIMIT_MAX];
        uint64_t timeout_sec;        /* 0: none */
        char *hostname;              /* NULL: "vrun" */
        uint64_t tmp_size;           /* bytes; 0: tmpfs default */
        ProfileSockets host_sockets; /* hidden: no host path socket dir, abstract sockets scoped away */
        uint64_t memory;             /* bytes, the whole sandbox (a cgroup); 0: none */
        uint64_t cpus;               /* CPU bandwidth of the whole sandbox, in CPUs (a cgroup); 0: none */
        bool seccomp_strict;         /* the "strict" set on top of "default" */
        char **socket_families; /* with strict: "unix", "inet", "inet6" allowed; NULL: unix (+inet when network is host) */
        char **seccomp_allow;
        ProfileDeny *seccomp_deny;
        size_t n_seccomp_deny;
} Profile;

void profile_free(Profile *p);
static inline void profile_freep(Profile **p) {
        profile_free(*p);
}

/* Loads a built-in profile by NAME, or a file (NAME contains '/' or ends in
 * ".json"). Logs one error line ("vrun: FILE:LINE:COL: what (hint)") and
 * returns -EINVAL for anything invalid, -ENOENT for an unknown name. */
int profile_load(const char *name_or_path, Profile **ret);

/* Names of the built-in profiles, NULL-terminated, static. */
const char *const *profile_builtin_names(void);
/* The text of a built-in profile, or NULL. */
const char *profile_builtin_text(const char *name);

/* The resolved profile (after `extends`) as JSON, for `vrun profiles NAME --json`. */
struct json_t *profile_to_json(const Profile *p);
