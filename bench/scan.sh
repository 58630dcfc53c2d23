#!/bin/sh
# Integrity scanner benchmark: builds a tree shaped like a busy web root
# (about 20,000 files, 3 GB: mostly small files, a few large ones), warms
# the page cache, and times on the same tree, one after the other:
#   klaxon scan check (full: every file read and hashed)
#   find | xargs -P<cores> sha256sum
#   aide --check with a SHA-256 + attributes rule
#   klaxon scan check with trust_mtime (unchanged files not read)
# It prints one table. Set BENCH_DIR to keep the tree somewhere else
# (default: a directory under ${TMPDIR:-/tmp}, removed afterwards) and
# KLAXON to pick the binary (default ./klaxon).
set -eu

KLAXON=${KLAXON:-./klaxon}
KLAXON=$(cd "$(dirname "$KLAXON")" && pwd)/$(basename "$KLAXON")
CORES=$(nproc)
KEEP=${BENCH_DIR:+yes}
DIR=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/klaxon-bench-scan.XXXXXX")}
TREE=$DIR/www
STATE=$DIR/state

cleanup() {
    [ -n "$KEEP" ] || rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

for tool in perl aide sha256sum; do
    command -v $tool >/dev/null 2>&1 ||
        { echo "bench/scan.sh: $tool is missing (make deps-bench)" >&2;
          exit 2; }
done
[ -x "$KLAXON" ] || { echo "bench/scan.sh: no $KLAXON (make)" >&2; exit 2; }

# --- the tree ---------------------------------------------------------
# 199 directories of 100 small files (1 to 100 KiB, about 1 GB in all)
# and 20 files of 100 MiB spread over the tree: about 3 GB.
if [ ! -f "$DIR/.tree-done" ]; then
    echo "bench: building the tree in $TREE" >&2
    rm -rf "$TREE"
    mkdir -p "$TREE" "$STATE"
    perl -e '
        use strict;
        my ($root) = @ARGV;
        srand(42);
        my $pool = join "", map { chr(int(rand(256))) } 1 .. (1 << 20);
        $pool .= $pool;
        my $n = 0;
        for my $d (0 .. 198) {
            my $dir = sprintf "%s/wp-content/plugins/p%03d/inc", $root, $d;
            system("mkdir", "-p", $dir) == 0 or die "mkdir $dir";
            for my $f (0 .. 99) {
                my $size = 1024 * (1 + int(rand(100)));
                open my $fh, ">", "$dir/f$f.php" or die "$dir/f$f.php: $!";
                print $fh sprintf("<?php // %d\n", $n++);
                print $fh substr($pool, int(rand(1 << 20)), $size);
                close $fh;
            }
        }
        for my $b (0 .. 19) {
            my $path = sprintf "%s/wp-content/plugins/p%03d/big%02d.zip",
                               $root, $b * 10, $b;
            open my $fh, ">", $path or die "$path: $!";
            print $fh "archive $b\n";
            for (1 .. 100) {
                print $fh substr($pool, int(rand(1 << 20)), 1 << 20);
            }
            close $fh;
        }' "$TREE"
    touch "$DIR/.tree-done"
fi
FILES=$(find "$TREE" -type f | wc -l)
BYTES=$(du -sb "$TREE" | cut -f1)
MB=$(echo "$BYTES" | awk '{ printf "%.0f", $1 / 1e6 }')

# --- configs ----------------------------------------------------------
mkdir -p "$STATE"
cat > "$STATE/klaxon.conf" <<CONF
scanner: {
    paths = ["$TREE"];
    baseline = "$STATE/baseline.db";
    key_file = "$STATE/baseline.key";
    trust_mtime = false;
};
CONF
sed 's/trust_mtime = false/trust_mtime = true/' "$STATE/klaxon.conf" \
    > "$STATE/klaxon-mtime.conf"
cat > "$STATE/aide.conf" <<CONF
database_in=file:$STATE/aide.db
database_out=file:$STATE/aide.db.new
Checks = p+i+n+u+g+s+m+c+sha256
$TREE Checks
CONF

# Wall seconds and peak RSS (KiB) of a command: "SECONDS KIB".
measure() {
    out=$DIR/.measure
    start=$(date +%s.%N)
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%M' -o "$out" "$@" >/dev/null 2>&1 || true
        rss=$(tail -1 "$out")
    else
        "$@" >/dev/null 2>&1 || true
        rss=n/a
    fi
    end=$(date +%s.%N)
    echo "$start $end $rss" | awk '{ printf "%.2f %s\n", $2 - $1, $3 }'
}

best() {  # best of three runs
    b=""
    for i in 1 2 3; do
        r=$(measure "$@")
        if [ -z "$b" ] || awk -v a="$r" -v b="$b" \
            'BEGIN { split(a, x, " "); split(b, y, " "); exit !(x[1] < y[1]) }'
        then
            b=$r
        fi
    done
    echo "$b"
}

echo "bench: $FILES files, $MB MB; warming the page cache" >&2
find "$TREE" -type f -print0 | xargs -0 cat > /dev/null
rm -f "$STATE/baseline.db" "$STATE/baseline.key"
"$KLAXON" scan -c "$STATE/klaxon.conf" init --no-progress >/dev/null
aide --config "$STATE/aide.conf" --init >/dev/null 2>&1 || true
mv "$STATE/aide.db.new" "$STATE/aide.db"

echo "bench: timing (best of three each)" >&2
K=$(best "$KLAXON" scan -c "$STATE/klaxon.conf" check --no-progress)
S=$(best sh -c "find '$TREE' -type f -print0 |
                xargs -0 -P$CORES -n 64 sha256sum")
A=$(measure aide --config "$STATE/aide.conf" --check)
M=$(best "$KLAXON" scan -c "$STATE/klaxon-mtime.conf" check --no-progress)

row() {
    echo "$2" | awk -v name="$1" -v mb="$MB" \
        '{ printf "| %-34s | %7.2f | %8.0f | %9s |\n", name, $1,
                  ($1 > 0 ? mb / $1 : 0), $2 }'
}
echo
echo "$FILES files, $MB MB, $CORES cores, warm page cache"
echo
echo "| tool                               | time, s |     MB/s | RSS, KiB  |"
echo "| ---------------------------------- | ------- | -------- | --------- |"
row "klaxon scan check" "$K"
row "find | xargs -P$CORES sha256sum" "$S"
row "aide --check (sha256 + attributes)" "$A"
row "klaxon scan check, trust_mtime" "$M"

# The ceiling: every core hashing at OpenSSL's own SHA-256 speed, with
# no file system, no baseline and no coordination at all.
PER_CORE=$(openssl speed -evp sha256 -bytes 1048576 -seconds 2 2>/dev/null |
           awk '$1 == "sha256" { sub(/k$/, "", $2); print $2 * 1000 }')
if [ -n "$PER_CORE" ]; then
    echo
    echo "$K $A $PER_CORE" | awk -v bytes="$BYTES" -v cores="$CORES" '{
        ceiling = bytes / ($5 * cores)
        printf "SHA-256 ceiling: %.0f MB/s per core, %.2f s on %d cores; ", \
               $5 / 1e6, ceiling, cores
        printf "klaxon at %.0f%% of it, %.1fx faster than aide\n", \
               100 * ceiling / $1, $3 / $1 }'
fi
