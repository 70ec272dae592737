/* The profile loader on arbitrary bytes: the input is the profile file
 * (in a memfd, loaded by its /proc/self/fd path), so everything from the
 * JSON parser to `extends` resolution and validation runs as for
 * `--profile FILE`. A profile that loads must also serialise. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jansson.h>

#include "fuzz.h"
#include "util/cleanup.h"
#include "util/fileio.h"
#include "util/log.h"
#include "vrun/sandbox/profile.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        /* A profile may name "/dev/stdin" in "extends": never wait on it. */
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && fd != STDIN_FILENO) {
                dup2(fd, STDIN_FILENO);
                close(fd);
        }
        /* Errors are formatted (that code runs) but not printed. */
        log_set_max_level(getenv("VRUN_FUZZ_LOG") ? LOG_LEVEL_DEBUG : -1);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > PROFILE_MAX_SIZE + 16)
                return 0;
        _cleanup_close_ int fd = memfd_create("profile.json", MFD_CLOEXEC);
        if (fd < 0 || loop_write(fd, data, size) < 0)
                abort();
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

        Profile *p = NULL;
        if (profile_load(path, &p) < 0)
                return 0;
        json_t *j = profile_to_json(p);
        if (!j)
                abort();
        char *text = json_dumps(j, JSON_SORT_KEYS);
        if (!text)
                abort();
        free(text);
        json_decref(j);
        profile_free(p);
        return 0;
}
