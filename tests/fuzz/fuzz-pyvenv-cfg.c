/* pyvenv.cfg on arbitrary bytes. What parses must survive a round trip:
 * formatting the result and parsing that again gives the same values. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util/cleanup.h"
#include "vrun/venv/pyvenv.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        return 0;
}

static bool same(const char *a, const char *b) {
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > PYVENV_CFG_MAX)
                return 0;
        _cleanup_free_ char *text = fuzz_text(data, size);

        _cleanup_pyvenv_cfg_ PyvenvCfg *c = NULL;
        if (pyvenv_cfg_parse(text, &c) < 0)
                return 0;
        _cleanup_free_ char *out = NULL;
        if (pyvenv_cfg_format(c, &out) < 0)
                abort();
        _cleanup_pyvenv_cfg_ PyvenvCfg *again = NULL;
        if (pyvenv_cfg_parse(out, &again) < 0)
                abort();
        if (!same(c->home, again->home) || !same(c->version, again->version) ||
            !same(c->executable, again->executable) || !same(c->command, again->command) ||
            !same(c->prompt, again->prompt) || c->include_system_site_packages != again->include_system_site_packages)
                abort();
        return 0;
}
