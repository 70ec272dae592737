/* entry_points.txt parsing on arbitrary bytes (it names the console scripts
 * vrun writes into an env's bin/). Every script accepted must be a safe file
 * name whose launcher can be written, and pip's names must follow the target
 * interpreter. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util/cleanup.h"
#include "util/memstream.h"
#include "util/path.h"
#include "vrun/venv/record.h"
#include "vrun/venv/scripts.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > RECORD_MAX)
                return 0;
        _cleanup_free_ char *text = fuzz_text(data, size);
        ScriptList l = {};
        if (entry_points_parse(text, &l) >= 0 && scripts_rename_versioned(&l, 3, 11) >= 0) {
                bool has_pip = false;
                for (size_t i = 0; i < l.n; i++)
                        has_pip = has_pip || strcmp(l.s[i].name, "pip") == 0;
                for (size_t i = 0; i < l.n; i++) {
                        /* with a "pip" script, pip's versioned names are the target's */
                        if (!path_is_safe_component(l.s[i].name) || (has_pip && strcmp(l.s[i].name, "pip3.9") == 0))
                                abort();
                        for (size_t k = 0; k < i; k++)
                                if (strcmp(l.s[k].name, l.s[i].name) == 0)
                                        abort();
                        _cleanup_free_ char *buf = NULL;
                        size_t len = 0;
                        _cleanup_fclose_ FILE *f = open_memstream(&buf, &len);
                        if (!f)
                                abort();
                        script_put_console(f, "/env/bin/python", l.s[i].module, l.s[i].attr);
                        if (memstream_close(&f) < 0 || strncmp(buf, "#!/env/bin/python\n", 18) != 0)
                                abort();
                }
        }
        script_list_done(&l);
        return 0;
}
