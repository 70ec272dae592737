#!/bin/bash
# meson install puts the binary, the built-in profiles, the man page and the
# shell completions where packagers and shells look for them, and nothing
# else. The test configures its own build of the source tree ($SRC, a copy
# made by runner.sh), so it works the same as root and as a plain user.
# Then the installed vrun runs, reads its profiles from the data dir, and
# its man page renders.
. "$TESTS/lib.sh"
: "${SRC:?SRC must name a copy of the source tree (runner.sh with VRUN_SOURCE_ROOT)}"

for tool in meson ninja pandoc; do
        command -v "$tool" >/dev/null || skip "$tool is not installed"
done

build=$T/build
prefix=$T/prefix
if ! o=$(meson setup "$SRC" "$build" --prefix "$prefix" -Dbuildtype=plain 2>&1); then
        fail "meson setup: $o"
        done_testing
fi
assert_contains "$o" "man page" "meson's summary mentions the man page"
assert_not_contains "$o" "pandoc not found" "pandoc is found, so the man page is built"

# ---- meson install --destdir: exactly these files ---------------------------------------
if ! o=$(meson install -C "$build" --destdir "$T/root" 2>&1); then
        fail "meson install --destdir: $o"
        done_testing
fi
want="bin/vrun
share/bash-completion/completions/vrun
share/fish/vendor_completions.d/vrun.fish
share/man/man1/vrun.1
share/vrun/profiles/default.json
share/vrun/profiles/install.json
share/vrun/profiles/untrusted.json
share/zsh/vendor-completions/_vrun"
got=$(cd "$T/root$prefix" && find . -type f -printf '%P\n' | LC_ALL=C sort)
assert_eq "$got" "$want" "meson install --destdir installs exactly these files"
assert_true "the installed vrun is executable" test -x "$T/root$prefix/bin/vrun"
for p in default install untrusted; do
        assert_true "installed profiles/$p.json is the source's" cmp -s "$SRC/profiles/$p.json" "$T/root$prefix/share/vrun/profiles/$p.json"
done
assert_true "installed bash completion is completions/vrun.bash" \
        cmp -s "$SRC/completions/vrun.bash" "$T/root$prefix/share/bash-completion/completions/vrun"
assert_true "installed zsh completion is completions/_vrun" \
        cmp -s "$SRC/completions/_vrun" "$T/root$prefix/share/zsh/vendor-completions/_vrun"
assert_true "installed fish completion is completions/vrun.fish" \
        cmp -s "$SRC/completions/vrun.fish" "$T/root$prefix/share/fish/vendor_completions.d/vrun.fish"

# ---- the man page -----------------------------------------------------------------------
man=$T/root$prefix/share/man/man1/vrun.1
page=$(cat "$man")
assert_contains "$page" '.TH "VRUN" "1"' "vrun.1 is a section 1 man page"
assert_contains "$page" "vrun $(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$SRC/meson.build")" \
        "vrun.1 carries the project version"
for v in create run shell prove info profiles doctor help; do
        assert_contains "$page" "\\f[B]$v\\f[R]" "vrun.1 describes the verb $v"
done
for o in python prompt clear upgrade without-pip system-site-packages copies bind ro-bind tmpfs setenv \
        unsetenv chdir share-net unshare-net profile ephemeral verbose dry-run json module help version; do
        assert_contains "$page" "\\f[B]--$o\\f[R]" "vrun.1 describes --$o"
done
for s in "EXIT STATUS" ENVIRONMENT FILES EXAMPLES; do
        assert_contains "$page" ".SH $s" "vrun.1 has a $s section"
done
if command -v groff >/dev/null; then
        # -ww: every warning; a malformed page warns.
        o=$(groff -man -Tutf8 -ww -z "$man" 2>&1)
        assert_eq "$o" "" "groff renders vrun.1 without warnings"
fi

# ---- an installed vrun ------------------------------------------------------------------
if ! o=$(meson install -C "$build" --no-rebuild 2>&1); then
        fail "meson install to $prefix: $o"
        done_testing
fi
expect_status 0 "$prefix/bin/vrun" --version
assert_contains "$out" "vrun " "the installed vrun runs"
# It reads its profiles from the data dir, where an administrator adjusts them.
sed -i 's/"description": "[^"]*"/"description": "adjusted by the admin"/' "$prefix/share/vrun/profiles/default.json"
expect_status 0 "$prefix/bin/vrun" profiles
assert_contains "$out" "adjusted by the admin" "the installed vrun reads profiles from its data dir"
# The build tree's vrun, configured for the same prefix, uses its embedded copies.
expect_status 0 "$build/src/vrun" profiles
assert_not_contains "$out" "adjusted by the admin" "an uninstalled vrun uses the embedded profiles"
# ... and the installed completion asks it for them.
(
        . "$prefix/share/bash-completion/completions/vrun"
        COMP_WORDS=("$prefix/bin/vrun" --profile "")
        COMP_CWORD=2
        _vrun
        echo "${COMPREPLY[*]}"
) >"$T/compl" 2>&1
assert_eq "$(cat "$T/compl")" "default untrusted install" "the installed bash completion lists the profiles"

done_testing
