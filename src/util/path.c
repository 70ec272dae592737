#include "util/path.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"

char *path_join(const char *a, const char *b) {
        size_t la = strlen(a);
        while (la > 1 && a[la - 1] == '/')
                la--;
        while (*b == '/')
                b++;
        size_t lb = strlen(b);
        char *r = malloc(la + 1 + lb + 1);
        if (!r)
                return NULL;
        memcpy(r, a, la);
        size_t n = la;
        if (!(la == 1 && a[0] == '/') && la > 0 && lb > 0)
                r[n++] = '/';
        memcpy(r + n, b, lb);
        r[n + lb] = 0;
        return r;
}

int path_normalize(const char *p, char **ret) {
        if (p[0] != '/')
                return -EINVAL;
        size_t len = strlen(p);
        if (len >= VRUN_PATH_MAX)
                return -ENAMETOOLONG;
        char *out = malloc(len + 2);
        if (!out)
                return -ENOMEM;
        size_t n = 0;
        const char *s = p;
        while (*s) {
                while (*s == '/')
                        s++;
                if (!*s)
                        break;
                const char *e = strchrnul(s, '/');
                size_t l = (size_t) (e - s);
                if (l == 1 && s[0] == '.') {
                        /* skip */
                } else if (l == 2 && s[0] == '.' && s[1] == '.') {
                        while (n > 0 && out[n - 1] != '/')
                                n--;
                        if (n > 0)
                                n--; /* drop the slash */
                } else {
                        out[n++] = '/';
                        memcpy(out + n, s, l);
                        n += l;
                }
                s = e;
        }
        if (n == 0)
                out[n++] = '/';
        out[n] = 0;
        *ret = out;
        return 0;
}

int path_make_absolute(const char *p, char **ret) {
        if (!p || !*p)
                return -EINVAL;
        if (strlen(p) >= VRUN_PATH_MAX)
                return -ENAMETOOLONG;
        if (p[0] == '/')
                return path_normalize(p, ret);
        _cleanup_free_ char *cwd = getcwd(NULL, 0);
        if (!cwd)
                return negative_errno();
        _cleanup_free_ char *j = path_join(cwd, p);
        if (!j)
                return -ENOMEM;
        return path_normalize(j, ret);
}

char *path_dirname(const char *p) {
        const char *slash = strrchr(p, '/');
        if (!slash)
                return strdup(".");
        if (slash == p)
                return strdup("/");
        return strndup(p, (size_t) (slash - p));
}

const char *path_basename(const char *p) {
        const char *slash = strrchr(p, '/');
        return slash ? slash + 1 : p;
}

bool path_startswith(const char *p, const char *prefix) {
        size_t l = strlen(prefix);
        while (l > 1 && prefix[l - 1] == '/')
                l--;
        if (strncmp(p, prefix, l) != 0)
                return false;
        if (l == 1 && prefix[0] == '/')
                return true;
        return p[l] == 0 || p[l] == '/';
}

bool path_is_safe_component(const char *name) {
        return name && *name && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && !strchr(name, '/') &&
               strlen(name) < 256;
}

int path_xdg_dir(const char *var, const char *home_rel, const char *name, char **ret) {
        const char *x = getenv(var);
        _cleanup_free_ char *base = NULL;
        if (x && x[0] == '/')
                base = strdup(x);
        else {
                const char *h = getenv("HOME");
                if (!h || h[0] != '/')
                        return -ENOENT;
                base = path_join(h, home_rel);
        }
        char *p = base ? path_join(base, name) : NULL;
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}
