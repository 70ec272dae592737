#include "util/memstream.h"

#include <errno.h>
#include <stdbool.h>

#include "util/cleanup.h"

int memstream_close(FILE **f) {
        bool failed = ferror(*f);
        /* a memory stream's only error is running out of memory */
        if (fclose(TAKE_PTR(*f)) != 0 || failed)
                return -ENOMEM;
        return 0;
}
