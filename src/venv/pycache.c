#include "vrun/venv/pycache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/dirat.h"
#include "util/fileio.h"
#include "vrun/sandbox/confined.h"
#include "vrun/venv/record.h"
#include "vrun/venv/zip.h"

extern const char vrun_pyc_compile[];

#define PYC_HEADER_SIZE 16
#define CACHE_TAG_MAX   32
/* all of a wheel's sources, and the answer in base64 */
#define SOURCES_MAX (UINT64_C(256) * 1024 * 1024)

bool pycache_wants(const char *name) {
        size_t l = strlen(name);
        if (l < STRLEN(".py") || strcmp(name + l - STRLEN(".py"), ".py") != 0)
                return false;
        const char *slash = strchr(name, '/');
        size_t first = slash ? (size_t) (slash - name) : l;
        if (!slash || first <= STRLEN(".data") || memcmp(name + first - STRLEN(".data"), ".data", STRLEN(".data")) != 0)
                return true;
        return strncmp(slash + 1, "purelib/", STRLEN("purelib/")) == 0 ||
               strncmp(slash + 1, "platlib/", STRLEN("platlib/")) == 0;
}

/* The one place the seeding side runs the base interpreter: confined (no
 * network, nothing writable; it needs nothing but its stdin and stdout). */
static int run_base_interpreter_compile(const char *python, int stdin_fd, size_t max, char **ret_out) {
        char *argv[] = { (char *) python, "-I", "-c", (char *) vrun_pyc_compile, NULL };
        const ConfinedRun r = { .argv = argv, .stdin_fd = stdin_fd, .max = max };
        return confined_capture(&r, ret_out);
}

typedef struct Source {
        uint32_t mtime, size; /* as the .pyc header holds them */
} Source;

/* Writes "SIZE NAME\n" and the source of each file to a memfd. */
static int stage_sources(int root_fd, char *const *names, size_t n, Source *src, int *ret_fd, uint64_t *ret_total) {
        _cleanup_close_ int fd = memfd_create("vrun-pyc-sources", MFD_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        uint64_t total = 0;
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int in = openat(root_fd, names[i], O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
                struct stat st;
                if (in < 0 || fstat(in, &st) < 0)
                        return negative_errno();
                if (!S_ISREG(st.st_mode))
                        return -EBADMSG;
                total += (uint64_t) st.st_size;
                if (total > SOURCES_MAX)
                        return -EFBIG;
                src[i] = (Source){ (uint32_t) st.st_mtim.tv_sec, (uint32_t) st.st_size };
                char head[ZIP_NAME_MAX + 32];
                int hl = snprintf(head, sizeof head, "%jd %s\n", (intmax_t) st.st_size, names[i]);
                if (hl < 0 || (size_t) hl >= sizeof head)
                        return -ENAMETOOLONG;
                int r = loop_write(fd, head, (size_t) hl);
                if (r >= 0)
                        r = copy_fd_data(in, fd, &(CopyMethods){ .no_clone = true, .no_copy_range = true });
                if (r < 0)
                        return r;
        }
        if (lseek(fd, 0, SEEK_SET) < 0)
                return negative_errno();
        *ret_fd = TAKE_FD(fd);
        *ret_total = total;
        return 0;
}

static int base64_value(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decodes padded standard base64 (len chars) to out, which has room for
 * len / 4 * 3 bytes. */
static int base64_decode(const char *s, size_t len, uint8_t *out, size_t *ret_len) {
        if (len % 4 != 0)
                return -EBADMSG;
        size_t o = 0;
        for (size_t i = 0; i < len; i += 4) {
                int v[4];
                size_t pad = 0;
                for (size_t k = 0; k < 4; k++) {
                        if (s[i + k] == '=' && i + 4 == len && k >= 2) {
                                v[k] = 0;
                                pad++;
                                continue;
                        }
                        if (pad > 0 || (v[k] = base64_value(s[i + k])) < 0)
                                return -EBADMSG;
                }
                uint32_t w = (uint32_t) v[0] << 18 | (uint32_t) v[1] << 12 | (uint32_t) v[2] << 6 | (uint32_t) v[3];
                out[o++] = (uint8_t) (w >> 16);
                if (pad < 2)
                        out[o++] = (uint8_t) (w >> 8);
                if (pad < 1)
                        out[o++] = (uint8_t) w;
        }
        *ret_len = o;
        return 0;
}

static bool is_cache_tag(const char *s, size_t len) {
        if (len == 0 || len > CACHE_TAG_MAX)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                      c == '_'))
                        return false;
        }
        return true;
}

static void put_le32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
        p[2] = (uint8_t) (v >> 16);
        p[3] = (uint8_t) (v >> 24);
}

/* DIR/STEM.py -> DIR/__pycache__/STEM.TAG.pyc */
static int pyc_name(const char *py, const char *tag, char **ret) {
        const char *slash = strrchr(py, '/');
        int dl = slash ? (int) (slash - py + 1) : 0;
        const char *base = py + dl;
        int bl = (int) (strlen(base) - STRLEN(".py"));
        return asprintf(ret, "%.*s__pycache__/%.*s.%s.pyc", dl, py, bl, base, tag) < 0 ? -ENOMEM : 0;
}

static int write_pyc(DirStack *dirs, const char *name, const uint8_t *pyc, size_t len, FILE *names_out,
                     FILE *record_out) {
        const char *slash = strrchr(name, '/');
        int dfd;
        int r = dir_stack_enter(dirs, name, (size_t) (slash - name), &dfd);
        if (r < 0)
                return r;
        r = write_file_at(dfd, slash + 1, pyc, len, 0644, 0);
        if (r < 0)
                return r;
        char hash[RECORD_HASH_MAX], size[32];
        record_hash(pyc, len, hash);
        snprintf(size, sizeof size, "%zu", len);
        record_put_row(record_out, NULL, name, hash, size);
        fputs(name, names_out);
        fputc('\n', names_out);
        return 0;
}

int pycache_compile(const char *python, int root_fd, char *const *names, size_t n, FILE *names_out, FILE *record_out) {
        if (n == 0)
                return 0;
        _cleanup_free_ Source *src = calloc(n, sizeof(Source));
        if (!src)
                return -ENOMEM;
        _cleanup_close_ int in_fd = -1;
        uint64_t total;
        int r = stage_sources(root_fd, names, n, src, &in_fd, &total);
        if (r < 0)
                return r;
        _cleanup_free_ char *out = NULL;
        /* code objects run a few times their source; base64 adds a third */
        r = run_base_interpreter_compile(python, in_fd, (size_t) (total * 4 + 1024 * 1024), &out);
        if (r < 0)
                return r;

        char *line = out, *nl = strchr(line, '\n');
        char *sp = nl ? memchr(line, ' ', (size_t) (nl - line)) : NULL;
        if (!sp)
                return -EBADMSG;
        if (sp - line == 1 && line[0] == '-')
                return 0; /* an implementation that caches no bytecode */
        uint8_t magic[4];
        if (!is_cache_tag(line, (size_t) (sp - line)) || nl - sp - 1 != 8)
                return -EBADMSG;
        for (size_t k = 0; k < 4; k++) {
                char hex[3] = { sp[1 + 2 * k], sp[2 + 2 * k], 0 }, *end;
                magic[k] = (uint8_t) strtoul(hex, &end, 16);
                if (*end)
                        return -EBADMSG;
        }
        *sp = 0;
        const char *tag = line;

        DirStack dirs;
        dir_stack_init(&dirs, root_fd, true);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                line = nl + 1;
                nl = strchr(line, '\n');
                if (!nl) {
                        r = -EBADMSG;
                        break;
                }
                size_t len = (size_t) (nl - line);
                if (len == 1 && line[0] == '-')
                        continue;
                _cleanup_free_ uint8_t *pyc = malloc(PYC_HEADER_SIZE + len / 4 * 3 + 1);
                _cleanup_free_ char *name = NULL;
                size_t code_len;
                if (!pyc || pyc_name(names[i], tag, &name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = base64_decode(line, len, pyc + PYC_HEADER_SIZE, &code_len);
                if (r < 0)
                        break;
                /* PEP 552: magic, flags 0 (timestamp-based), source mtime, source size */
                memcpy(pyc, magic, 4);
                put_le32(pyc + 4, 0);
                put_le32(pyc + 8, src[i].mtime);
                put_le32(pyc + 12, src[i].size);
                r = write_pyc(&dirs, name, pyc, PYC_HEADER_SIZE + code_len, names_out, record_out);
        }
        dir_stack_done(&dirs);
        if (r >= 0 && nl[1] != 0)
                r = -EBADMSG;
        return r;
}
