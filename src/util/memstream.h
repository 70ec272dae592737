/* open_memstream() streams: the one growable buffer vrun uses. */
#pragma once

#include <stdio.h>

/* Closes *f (set to NULL); afterwards the buffer and size variables given to
 * open_memstream() hold the result. -ENOMEM when any write to it failed (the
 * buffer is still the caller's to free). */
int memstream_close(FILE **f);
