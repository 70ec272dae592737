/* The payload's environment: rebuilt from an allowlist (vrun's, or the
 * profile's), without what decides where Python finds code, with the env's
 * PATH and VIRTUAL_ENV, then the command line's --unsetenv and --setenv. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/plan-internal.h"
#include "util/cleanup.h"
#include "util/path.h"
#include "util/strv.h"

/* Variables that describe the user's terminal and locale, never how Python
 * finds code: PYTHONPATH, PYTHONHOME, PYTHONUSERBASE, PYTHONSTARTUP and the
 * like are left behind. */
static const char *const env_allow[] = {
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "TERM",
        "COLORTERM",
        "NO_COLOR",
        "FORCE_COLOR",
        "LANG",
        "LANGUAGE",
        "TZ",
        "COLUMNS",
        "LINES",
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONIOENCODING",
        "PYTHONHASHSEED",
        "PYTHONWARNINGS",
        "PYTHONFAULTHANDLER",
        "PYTHONUTF8",
        "PYTHONDEVMODE",
        "PYTHONTRACEMALLOC",
        /* A proxy or a private CA: without them HTTPS breaks (pip, requests). */
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "ALL_PROXY",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
};
static const char *const env_allow_prefix[] = { "LC_", "PIP_" };

static bool env_allowed_by(char *const *allow, const char *kv, size_t l) {
        STRV_FOREACH (a, allow) {
                size_t al = strlen(*a);
                if (al > 0 && (*a)[al - 1] == '*') {
                        if (l >= al - 1 && strncmp(kv, *a, al - 1) == 0)
                                return true;
                } else if (al == l && strncmp(kv, *a, l) == 0)
                        return true;
        }
        return false;
}

static bool env_allowed(char *const *profile_allow, const char *kv) {
        const char *eq = strchr(kv, '=');
        if (!eq)
                return false;
        size_t l = (size_t) (eq - kv);
        if (profile_allow)
                return env_allowed_by(profile_allow, kv, l);
        for (size_t i = 0; i < ELEMENTSOF(env_allow); i++)
                if (strlen(env_allow[i]) == l && strncmp(kv, env_allow[i], l) == 0)
                        return true;
        for (size_t i = 0; i < ELEMENTSOF(env_allow_prefix); i++)
                if (strncmp(kv, env_allow_prefix[i], strlen(env_allow_prefix[i])) == 0)
                        return true;
        return false;
}

static const char *env_get(char *const *envp, const char *key) {
        size_t l = strlen(key);
        STRV_FOREACH (e, envp)
                if (strncmp(*e, key, l) == 0 && (*e)[l] == '=')
                        return *e + l + 1;
        return NULL;
}

const char *plan_env_get(char *const *envp, const char *key) {
        return env_get(envp, key);
}

static void env_unset(char **envp, const char *key) {
        size_t l = strlen(key), j = 0;
        for (size_t i = 0; envp[i]; i++) {
                if (strncmp(envp[i], key, l) == 0 && envp[i][l] == '=') {
                        free(envp[i]);
                        continue;
                }
                envp[j++] = envp[i];
        }
        envp[j] = NULL;
}

static int env_set(char ***envp, const char *key, const char *value) {
        env_unset(*envp, key);
        char *kv;
        if (asprintf(&kv, "%s=%s", key, value) < 0)
                return -ENOMEM;
        int r = strv_push(envp, kv);
        if (r < 0)
                free(kv);
        return r;
}

int plan_build_env(const PlanInput *in, char ***ret_envp, char **ret_path) {
        _cleanup_strv_free_ char **envp = calloc(1, sizeof(char *));
        if (!envp)
                return -ENOMEM;
        int r;
        STRV_FOREACH (e, in->environ)
                if (env_allowed(in->profile ? in->profile->env_allow : NULL, *e) && (r = strv_extend(&envp, *e)) < 0)
                        return r;

        /* Whatever a profile allows, these decide where Python finds code. */
        static const char *const never[] = { "PYTHONPATH",       "PYTHONHOME",       "PYTHONUSERBASE", "PYTHONSTARTUP",
                                             "PYTHONEXECUTABLE", "PYTHONPLATLIBDIR", "PYTHONSAFEPATH" };
        for (size_t k = 0; k < ELEMENTSOF(never); k++)
                env_unset(envp, never[k]);

        const char *host_path = env_get(in->environ, "PATH");
        if (!host_path || !*host_path)
                host_path = "/usr/local/bin:/usr/bin:/bin";
        _cleanup_free_ char *bin = path_join(in->env, "bin"), *path = NULL;
        if (!bin || asprintf(&path, "%s:%s", bin, host_path) < 0)
                return -ENOMEM;
        if ((r = env_set(&envp, "PATH", path)) < 0 || (r = env_set(&envp, "VIRTUAL_ENV", in->env)) < 0)
                return r;
        /* pip and other tools get a writable cache that is the env's own:
         * not the host's ~/.cache (read-only, and shared with every other
         * env), and gone with the env (or at exit, when it is ephemeral). */
        _cleanup_free_ char *cache = path_join(in->env, PLAN_ENV_CACHE);
        if (!cache || (r = env_set(&envp, "XDG_CACHE_HOME", cache)) < 0)
                return r < 0 ? r : -ENOMEM;

        STRV_FOREACH (u, in->opts->unsetenv)
                env_unset(envp, *u);
        STRV_FOREACH (kv, in->opts->setenv) {
                _cleanup_free_ char *k = strndup(*kv, (size_t) (strchr(*kv, '=') - *kv));
                if (!k || (r = env_set(&envp, k, strchr(*kv, '=') + 1)) < 0)
                        return r < 0 ? r : -ENOMEM;
        }
        /* The command is looked up with the PATH the payload will have. */
        const char *final_path = env_get(envp, "PATH");
        char *lookup = strdup(final_path ? final_path : "");
        if (!lookup)
                return -ENOMEM;
        *ret_path = lookup;
        *ret_envp = TAKE_PTR(envp);
        return 0;
}
