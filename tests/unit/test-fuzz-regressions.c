/* Replays fuzz inputs through a fuzz target without libFuzzer: every file in
 * the directories given (the target's seed corpus and the inputs that once
 * crashed it, tests/fuzz/regressions/TARGET/). Linked with one
 * tests/fuzz/fuzz-TARGET.c per test, so a crash the fuzzer found stays
 * fixed in every build, under ASan and under valgrind. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz.h"
#include "util/cleanup.h"
#include "util/fileio.h"

#define INPUT_MAX (1024 * 1024)

static int name_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int replay_dir(const char *dir, size_t *count) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d) {
                fprintf(stderr, "not ok: cannot open %s: %s\n", dir, strerror(errno));
                return -1;
        }
        char **names = NULL;
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                char **nn = realloc(names, (n + 1) * sizeof *names);
                if (!nn || !(nn[n] = strdup(e->d_name)))
                        abort();
                names = nn;
                n++;
        }
        if (n)
                qsort(names, n, sizeof *names, name_cmp);
        int r = 0;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL, *data = NULL;
                size_t len = 0;
                if (asprintf(&path, "%s/%s", dir, names[i]) < 0)
                        abort();
                int k = read_full_file_at(AT_FDCWD, path, INPUT_MAX, &data, &len);
                if (k == -EISDIR)
                        continue;
                if (k < 0) {
                        fprintf(stderr, "not ok: cannot read %s: %s\n", path, strerror(-k));
                        r = -1;
                        continue;
                }
                /* A crash ends the test here, naming the input. */
                fprintf(stderr, "replaying %s\n", path);
                LLVMFuzzerTestOneInput((const uint8_t *) data, len);
                (*count)++;
        }
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}

int main(int argc, char **argv) {
        size_t count = 0;
        int failed = 0;
        LLVMFuzzerInitialize(&argc, &argv);
        for (int i = 1; i < argc; i++)
                if (replay_dir(argv[i], &count) < 0)
                        failed = 1;
        printf("%zu inputs replayed\n", count);
        if (count == 0) {
                fprintf(stderr, "not ok: no input to replay\n");
                return 1;
        }
        return failed;
}
