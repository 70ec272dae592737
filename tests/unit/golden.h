/* Golden files for unit tests: text built now against a checked-in file.
 * With VRUN_UPDATE_GOLDEN=1 the file is rewritten instead (review the diff). */
#pragma once

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util/cleanup.h"
#include "util/fileio.h"

static inline void check_golden_text(const char *path, const char *text, const char *test) {
        _cleanup_free_ char *want = NULL;
        const char *update = getenv("VRUN_UPDATE_GOLDEN");

        if (update && strcmp(update, "1") == 0) {
                CHECK_INTEQ(write_file_atomic_at(AT_FDCWD, path, text, strlen(text), 0644), 0);
                printf("# wrote %s\n", path);
                return;
        }
        CHECK_INTEQ(read_full_file_at(AT_FDCWD, path, 1024 * 1024, &want, NULL), 0);
        CHECK(want && strcmp(text, want) == 0);
        if (want && strcmp(text, want) != 0)
                fprintf(stderr,
                        "# %s differs from what was built now:\n%s"
                        "# if intended: VRUN_UPDATE_GOLDEN=1 meson test %s\n",
                        path, text, test);
}
