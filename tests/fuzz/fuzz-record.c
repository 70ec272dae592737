/* RECORD parsing on arbitrary bytes (a wheel's RECORD, or an env's that a
 * program could have rewritten). Every row parsed must be found again by its
 * path, and writing the rows and parsing that must give the same rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util/cleanup.h"
#include "util/memstream.h"
#include "vrun/venv/record.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > RECORD_MAX)
                return 0;
        _cleanup_free_ char *text = fuzz_text(data, size);
        RecordIndex x;
        if (record_index_parse(text, &x) < 0)
                return 0;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        _cleanup_fclose_ FILE *f = open_memstream(&buf, &len);
        if (!f)
                abort();
        for (size_t i = 0; i < x.n; i++) {
                const RecordRow *row = record_index_find(&x, x.rows[i].path);
                if (!row || strcmp(row->path, x.rows[i].path) != 0)
                        abort();
                record_put_row(f, NULL, x.rows[i].path, x.rows[i].hash, x.rows[i].size);
        }
        if (memstream_close(&f) < 0)
                abort();
        RecordIndex again;
        if (record_index_parse(buf, &again) < 0 || again.n != x.n)
                abort();
        for (size_t i = 0; i < x.n; i++)
                if (strcmp(again.rows[i].path, x.rows[i].path) != 0 ||
                    strcmp(again.rows[i].hash, x.rows[i].hash) != 0 || strcmp(again.rows[i].size, x.rows[i].size) != 0)
                        abort();
        record_index_done(&again);
        record_index_done(&x);
        return 0;
}
