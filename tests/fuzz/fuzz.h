/* The libFuzzer entry points every target defines. The same sources build
 * the fuzzers (clang, -Dfuzz=true) and, with test-fuzz-regressions.c as
 * main, the unit tests that replay the corpora and the crash fixtures. */
#pragma once

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
