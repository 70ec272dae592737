#!/bin/bash
# Fails when a C file differs from .clang-format's style; prints the diff.
# `ninja -C build clang-format` applies the style.
set -u
cd "${MESON_SOURCE_ROOT:?}" || exit 1
command -v clang-format >/dev/null || { echo "clang-format not installed" >&2; exit 77; }
mapfile -t files < <(find src include tests/unit tests/fuzz -name '*.[ch]' | sort)
bad=0
for f in "${files[@]}"; do
        if ! out=$(clang-format --style=file "$f" | diff -u "$f" - ); then
                printf '%s\n' "$out"
                bad=$((bad + 1))
        fi
done
echo "${#files[@]} files checked, $bad not formatted"
[ "$bad" = 0 ]
