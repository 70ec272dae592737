/* The sandbox as OCI runtime-spec JSON: the runtime bundle's config.json,
 * made from the same plan `vrun run` executes, and the profile's seccomp
 * filter in the spec's linux.seccomp form (which Kubernetes reads as a
 * Localhost seccomp profile). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "vrun/sandbox/plan.h"
#include "vrun/sandbox/seccomp.h"

typedef struct SpecInput {
        const Plan *plan;
        char *const *args; /* the command, resolved inside the image */
        char *const *env;  /* KEY=VALUE */
        const char *cwd;
        uid_t uid; /* inside */
        gid_t gid;
        bool rootless; /* a user namespace mapping uid/gid to host_uid/host_gid */
        uid_t host_uid;
        gid_t host_gid;
        const char *scratch_dir; /* the writable tmpfs: /tmp, or /var/tmp when the env is under /tmp */
} SpecInput;

/* -EOPNOTSUPP when a rule names a syscall libseccomp cannot name. */
int spec_seccomp_json(const SeccompPolicy *p, json_t **ret);
int spec_runtime_config(const SpecInput *in, json_t **ret);
/* The JSON text of a runtime config (is_seccomp false) or of a seccomp
 * object: sorted keys, indented, a final newline, and the filter's 64-bit
 * unsigned values written whole. */
int spec_dumps(const json_t *j, bool is_seccomp, char **ret);
