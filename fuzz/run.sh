#!/bin/sh
# Build the libFuzzer targets with clang (ASan + UBSan) and run each for
# SECONDS (default 60). Corpora live in build/fuzz/corpus/<target>,
# seeded from tests/fixtures and the example configs; they grow from run
# to run. A crash, leak or timeout stops with the reproducer saved in
# build/fuzz/crashes/ and a non-zero exit.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
set -eu

SECONDS_EACH=${1:-60}
[ $# -gt 0 ] && shift
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
B=build/fuzz
SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"

make --no-print-directory BUILD=$B CC=clang OPTFLAGS="-O1 -g" \
    SANITIZE="$SAN" fuzz-targets

targets=${*:-"body config exclude pingdom newrelic sirportly hashgate generic"}
mkdir -p $B/crashes

# seed TARGET: put the starting inputs in the target's corpus.
seed() {
    dir=$B/corpus/$1
    mkdir -p "$dir"
    case $1 in
    body)
        for f in tests/fixtures/*/*.json; do
            { echo "application/json"; cat "$f"; } > "$dir/$(basename "$f")"
        done
        for f in tests/fixtures/*/*.form; do
            { echo "application/x-www-form-urlencoded"; cat "$f"; } \
                > "$dir/$(basename "$f")"
        done ;;
    config)
        cp conf/klaxon.conf "$dir/example.conf" ;;
    exclude)
        { grep -v '^#' conf/exclude-examples.conf 2>/dev/null | grep . ||
              echo 'var/cache/'; echo '--'
          echo 'var/cache/x.php'; echo 'dwp-content/cache'
          echo 'a/b/c.log'; } > "$dir/examples" ;;
    *)
        for f in tests/fixtures/$1/*.json; do
            [ -f "$f" ] || continue
            { printf '\000'; cat "$f"; } > "$dir/$(basename "$f")"
        done
        for f in tests/fixtures/$1/*.form; do
            [ -f "$f" ] || continue
            { printf '\001'; cat "$f"; } > "$dir/$(basename "$f")"
        done ;;
    esac
}

status=0
for t in $targets; do
    seed "$t"
    echo "== fuzz $t for ${SECONDS_EACH}s"
    if ! ASAN_OPTIONS=detect_leaks=1 \
            LSAN_OPTIONS=suppressions="$TOP/fuzz/lsan.supp" \
            "$B/fuzz/$t" -max_total_time="$SECONDS_EACH" \
            -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$B/crashes/$t-" "$B/corpus/$t" \
            > "$B/$t.log" 2>&1; then
        echo "fuzz $t: FAILED, see $B/$t.log and $B/crashes/" >&2
        tail -30 "$B/$t.log" >&2
        status=1
    fi
    grep -E "stat::number_of_executed_units|cov:" "$B/$t.log" | tail -2
done
[ $status -eq 0 ] && echo "fuzz: all targets ran ${SECONDS_EACH}s without a crash, leak or timeout"
exit $status
