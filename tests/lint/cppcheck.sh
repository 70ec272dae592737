#!/bin/bash
# Fails when cppcheck reports anything in vrun's compile database (the build directory's
# compile_commands.json); prints the findings. Class-wide suppressions, each with its
# reason, are in tests/lint/cppcheck.supp; tests/lint/cppcheck.cfg tells cppcheck about the
# jansson macros it cannot see.
set -u
cd "${MESON_SOURCE_ROOT:?}" || exit 1
command -v cppcheck >/dev/null || { echo "cppcheck not installed" >&2; exit 77; }
db="${VRUN_BUILD_ROOT:?}/compile_commands.json"
[ -f "$db" ] || { echo "no $db" >&2; exit 1; }
# -D_GNU_SOURCE: the one configuration vrun is built in, not every #ifdef combination.
cppcheck --quiet --error-exitcode=1 \
        --enable=warning,style,performance,portability --inline-suppr \
        --suppressions-list=tests/lint/cppcheck.supp --library=tests/lint/cppcheck.cfg \
        --std=c11 -D_GNU_SOURCE --project="$db" -j "$(nproc)" \
        --template='{file}:{line}:{column}: {severity}: {message} [{id}]\n{code}'
status=$?
[ "$status" = 0 ] && echo "cppcheck: no findings"
exit "$status"
