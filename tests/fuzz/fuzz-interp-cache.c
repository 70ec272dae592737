/* The interpreter cache reader on arbitrary bytes: a cache entry is JSON
 * ({"key": ..., "facts": ...}), the facts decide what a run hides. Facts
 * that load must survive a round trip through interp_info_to_json. */
#include <stdlib.h>

#include <jansson.h>

#include "fuzz.h"
#include "util/cleanup.h"
#include "vrun/venv/interp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        return 0;
}

static void check(json_t *facts) {
        _cleanup_interp_info_ InterpInfo *i = NULL;
        if (interp_info_from_json(facts, &i) < 0)
                return;
        json_t *j = interp_info_to_json(i);
        if (!j)
                abort();
        _cleanup_interp_info_ InterpInfo *again = NULL;
        if (interp_info_from_json(j, &again) < 0)
                abort();
        json_t *k = interp_info_to_json(again);
        if (!k || !json_equal(j, k))
                abort();
        json_decref(k);
        json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* As the cache reader loads an entry. */
        json_error_t err;
        json_t *j = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES, &err);
        if (!j)
                return 0;
        check(json_object_get(j, "facts"));
        check(j);
        json_decref(j);
        return 0;
}
