/* Loading profiles: a built-in by name (embedded, or the installed copy) or
 * a file, the `extends` chain resolved with its cycles and depth checked, and
 * each file applied in turn (profile-schema.c) over what it extends. */
#include "vrun/sandbox/profile.h"

#include "sandbox/profile-internal.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <jansson.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/hint.h"
#include "util/path.h"
#include "util/strv.h"
#include "util/log.h"

extern const char vrun_profile_default[];
extern const size_t vrun_profile_default_len;
extern const char vrun_profile_untrusted[];
extern const size_t vrun_profile_untrusted_len;
extern const char vrun_profile_install[];
extern const size_t vrun_profile_install_len;

#define _cleanup_profile_ __attribute__((cleanup(profile_freep)))

static const struct {
        const char *name;
        const char *text;
        const size_t *len;
} builtins[] = {
        { "default", vrun_profile_default, &vrun_profile_default_len },
        { "untrusted", vrun_profile_untrusted, &vrun_profile_untrusted_len },
        { "install", vrun_profile_install, &vrun_profile_install_len },
};

static const char *const builtin_names[] = { "default", "untrusted", "install", NULL };

const char *const *profile_builtin_names(void) {
        return builtin_names;
}

static int builtin_index(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(builtins); i++)
                if (strcmp(builtins[i].name, name) == 0)
                        return (int) i;
        return -1;
}

const char *profile_builtin_text(const char *name) {
        int i = name ? builtin_index(name) : -1;
        return i < 0 ? NULL : builtins[i].text;
}

/* A NAME is a file when it looks like one; everything else names a built-in. */
static bool spec_is_file(const char *spec) {
        size_t l = strlen(spec);
        return strchr(spec, '/') || (l >= 5 && strcmp(spec + l - 5, ".json") == 0);
}

/* ---- the extends chain ---- */

typedef struct Chain {
        size_t n;
        struct {
                char id[64];
                const char *file;
        } link[PROFILE_MAX_EXTENDS + 1];
} Chain;

static Profile *profile_new(void) {
        return calloc(1, sizeof(Profile));
}

static int read_builtin(const char *name, char **ret_text, size_t *ret_len) {
        _cleanup_free_ char *path = NULL;
        int i = builtin_index(name);
        int r;

        /* An installed vrun reads the installed copies (a packager may patch
         * them); a build tree uses the copies embedded at build time, so it
         * never picks up an older installation's profiles. */
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        bool installed = n > 0 && (self[n] = 0, strcmp(self, VRUN_BINDIR "/vrun") == 0);
        if (installed) {
                if (asprintf(&path, "%s/profiles/%s.json", VRUN_DATADIR, name) < 0)
                        return -ENOMEM;
                r = read_full_file_at(AT_FDCWD, path, READ_MAX, ret_text, ret_len);
                if (r != -ENOENT)
                        return r;
        }
        *ret_text = strndup(builtins[i].text, *builtins[i].len);
        if (!*ret_text)
                return -ENOMEM;
        *ret_len = *builtins[i].len;
        return 0;
}

static const char *builtin_list(void) {
        return "built-in profiles: default, untrusted, install; a file name contains \"/\" or ends in \".json\"";
}

/* ref: the profile whose "extends" names this one, for errors about the target; NULL at the top. */
static int load_chain(const char *name, const char *file, const Source *ref, Chain *chain, Profile **ret);

static int resolve_extends(const Source *s, json_t *root, bool builtin, Chain *chain, Profile **ret) {
        const JPath top = {};
        JPath at = jpath_key(&top, "extends");
        json_t *v = json_object_get(root, "extends");
        const char *spec = NULL;
        _cleanup_free_ char *file = NULL;
        int r;

        if (!v || json_is_null(v)) {
                *ret = profile_new();
                return *ret ? 0 : -ENOMEM;
        }
        r = profile_get_string(s, &at, v, &spec);
        if (r < 0)
                return r;
        if (!spec_is_file(spec)) {
                if (builtin_index(spec) < 0) {
                        _cleanup_free_ char *hint = hint_among(spec, builtin_names);
                        if (hint)
                                return fail(s, &at, "extends: unknown profile %s (did you mean \"%s\"?)", Q(spec),
                                            hint);
                        return fail(s, &at, "extends: unknown profile %s (%s)", Q(spec), builtin_list());
                }
                if (asprintf(&file, "profiles/%s.json", spec) < 0)
                        return -ENOMEM;
                return load_chain(spec, file, s, chain, ret);
        }
        if (builtin)
                return fail(s, &at, "extends: a built-in profile can extend only built-in profiles, not %s", Q(spec));
        /* Relative to the extending file's directory; "./" adds nothing but noise to messages. */
        const char *rel = spec;
        while (rel[0] == '.' && rel[1] == '/')
                for (rel += 2; *rel == '/'; rel++)
                        ;
        _cleanup_free_ char *dir = path_dirname(s->file);
        if (!dir)
                return -ENOMEM;
        if (spec[0] == '/' || strcmp(dir, ".") == 0)
                file = strdup(spec[0] == '/' ? spec : rel);
        else
                file = path_join(dir, rel);
        if (!file)
                return -ENOMEM;
        return load_chain(NULL, file, s, chain, ret);
}

/* Loads one profile: a built-in when name is set, else the file. Each file is validated
 * on its own first, so its errors are reported before those of what it extends. */
static int load_chain(const char *name, const char *file, const Source *ref, Chain *chain, Profile **ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ json_t *root = NULL;
        _cleanup_profile_ Profile *scratch = NULL, *p = NULL;
        size_t len = 0;
        char id[64];
        int r;

        if (chain->n > PROFILE_MAX_EXTENDS) {
                JPath top = {}, at = jpath_key(&top, "extends");
                return fail(ref, &at, "too many levels of \"extends\" (at most %d)", PROFILE_MAX_EXTENDS);
        }

        /* A file is opened once: what is read, identified and kept read-only
         * inside (its canonical path, see Profile.files) is that one file. */
        _cleanup_close_ int fd = -1;
        if (name)
                r = read_builtin(name, &text, &len);
        else if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
                r = negative_errno();
        else
                r = read_full_file_fd(fd, READ_MAX, &text, &len);
        if (r == -EFBIG || (r >= 0 && len > PROFILE_MAX_SIZE)) {
                log_error("%s: profile is too large (more than %d bytes)", file, PROFILE_MAX_SIZE);
                return -EINVAL;
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (!ref) {
                        log_error_errno(r, "cannot read profile %s: %m", Q(file));
                        return r;
                }
                JPath top = {}, at = jpath_key(&top, "extends");
                errno = -r;
                return fail(ref, &at, "extends: cannot read %s: %m", Q(file));
        }

        struct stat st;
        if (name)
                snprintf(id, sizeof id, "builtin:%s", name);
        else if (fstat(fd, &st) >= 0)
                snprintf(id, sizeof id, "file:%llu:%llu", (unsigned long long) st.st_dev,
                         (unsigned long long) st.st_ino);
        else
                return log_error_errno(errno, "cannot read profile %s: %m", Q(file));
        for (size_t i = 0; i < chain->n; i++)
                if (strcmp(chain->link[i].id, id) == 0) {
                        char cycle[1024];
                        size_t n = 0;
                        for (size_t j = i; j < chain->n && n < sizeof cycle; j++)
                                n += (size_t) snprintf(cycle + n, sizeof cycle - n, "%s -> ", chain->link[j].file);
                        if (n < sizeof cycle)
                                snprintf(cycle + n, sizeof cycle - n, "%s", file);
                        JPath top = {}, at = jpath_key(&top, "extends");
                        return fail(ref, &at, "extends cycle: %s", cycle);
                }

        /* Editors on some systems start UTF-8 files with a byte order mark; it is no column. */
        size_t bom = len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
        Source src = { file, text + bom, len - bom, false };
        r = profile_parse_text(&src, &root);
        if (r < 0)
                return r;
        const JPath top = {};
        if (!json_is_object(root))
                return fail(&src, &top, "a profile must be a JSON object, got %s", json_type_label(root));
        r = profile_check_limits(&src, &top, root, 1);
        if (r < 0)
                return r;

        scratch = profile_new();
        if (!scratch)
                return -ENOMEM;
        r = profile_apply(scratch, &src, root);
        if (r < 0)
                return r;

        snprintf(chain->link[chain->n].id, sizeof chain->link[chain->n].id, "%s", id);
        chain->link[chain->n++].file = file;
        r = resolve_extends(&src, root, name != NULL, chain, &p);
        chain->n--;
        if (r < 0)
                return r;

        src.final = true;
        r = profile_apply(p, &src, root);
        if (r < 0)
                return r;
        r = profile_set_string(&p->name, name ? name : file);
        if (r < 0)
                return r;
        if (!name) {
                _cleanup_free_ char *canon = NULL;
                if ((r = fd_get_path(fd, &canon)) < 0)
                        return log_error_errno(r, "cannot resolve profile %s: %m", Q(file));
                if (!strv_contains(p->files, canon)) {
                        if ((r = strv_push(&p->files, canon)) < 0)
                                return r;
                        TAKE_PTR(canon);
                }
        }
        *ret = TAKE_PTR(p);
        return 0;
}

int profile_load(const char *name_or_path, Profile **ret) {
        Chain chain = {};
        _cleanup_free_ char *file = NULL;
        Profile *p = NULL;
        int r;

        if (!spec_is_file(name_or_path)) {
                if (builtin_index(name_or_path) < 0) {
                        _cleanup_free_ char *hint = hint_among(name_or_path, builtin_names);
                        if (hint)
                                log_error("unknown profile %s (did you mean \"%s\"?)", Q(name_or_path), hint);
                        else
                                log_error("unknown profile %s (%s)", Q(name_or_path), builtin_list());
                        return -ENOENT;
                }
                if (asprintf(&file, "profiles/%s.json", name_or_path) < 0)
                        return log_error_errno(ENOMEM, "cannot load profile: %m");
                r = load_chain(name_or_path, file, NULL, &chain, &p);
        } else
                r = load_chain(NULL, name_or_path, NULL, &chain, &p);
        if (r == -ENOMEM)
                return log_error_errno(r, "cannot load profile %s: %m", Q(name_or_path));
        if (r < 0)
                return r;
        *ret = p;
        return 0;
}

void profile_free(Profile *p) {
        if (!p)
                return;
        free(p->name);
        strv_free(p->files);
        free(p->description);
        profile_binds_clear(p);
        strv_free(p->env_allow);
        free(p->hostname);
        strv_free(p->socket_families);
        strv_free(p->seccomp_allow);
        profile_deny_clear(p);
        free(p);
}
