# shellcheck shell=bash
# The setup the bench scripts share, sourced by each of them (never run on
# its own). It sets `here` (the source tree), `bench_name` (the script's name,
# for messages) and the functions below, which set the script's variables
# `vrun`, `out` and `work`.

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bench_name=$(basename "$0" .sh)

bench_die() {
        echo "$bench_name: $*" >&2
        exit 1
}

# bench_need CMD...: every CMD must be a command on PATH or an executable path.
bench_need() {
        local need
        for need; do
                command -v "$need" >/dev/null || bench_die "$need is missing"
        done
}

# bench_vrun [VRUN]: vrun=the binary, absolute (default: the source tree's
# build/src/vrun).
bench_vrun() {
        vrun=$(readlink -m "${1:-$here/build/src/vrun}")
        [ -x "$vrun" ] || bench_die "no vrun binary at $vrun (build first)"
}

# bench_out [OUTDIR]: out=where hyperfine's JSON and Markdown go (default: a
# new temp dir, kept).
bench_out() {
        out=${1:-$(mktemp -d /tmp/vrun-bench.XXXXXX)}
        mkdir -p "$out"
}

# bench_work PREFIX: work=a new dir under BENCH_DIR (default /tmp), removed on
# exit, holding a private HOME and XDG cache, data and state dirs, so that
# nothing of the user's is read or written; PATH and LANG fixed.
bench_work() {
        work=$(mktemp -d "${BENCH_DIR:-/tmp}/$1.XXXXXX")
        trap 'rm -rf "$work"' EXIT
        export HOME="$work/home" XDG_CACHE_HOME="$work/cache" XDG_DATA_HOME="$work/data" XDG_STATE_HOME="$work/state"
        export PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8
        mkdir -p "$HOME"
}
