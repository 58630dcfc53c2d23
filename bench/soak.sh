#!/bin/bash
# Soak: klaxon taking SOAK_RATE events a second (1,000) for SOAK_SECONDS
# (600) with delivery on to a mock Pushover on loopback.
#
#   bench/soak.sh                (make soak)
#
# Every minute it prints the events sent and accepted so far, the pushes
# the mock has answered, klaxon's delivery queue depth, RSS and open
# files. The events go round SOAK_KEYS (10,000) alerts that fire and
# resolve in turn, so the stored alerts stay as many as a real site
# has while events and pushes pile up in the journal; one on-call
# person hears of each, so each accepted event must become exactly one
# push. SOAK_KEYS=0 gives every event a key of its own instead: then
# every event opens an alert that stays open, and klaxon's memory grows
# with them by design (its in-memory alert index, 8 bytes a slot,
# doubles at 70 % full), so RSS will not stay flat.
#
# At the end it says whether RSS and open files stayed flat, judged on
# samples taken every 10 s after the first minute (the warm-up, while
# SQLite's page caches and the connection pools fill):
#   RSS    the mean of the last minute is within 5 % (at least 2 MiB) of
#          the mean of the second minute
#   files  the last minute's highest sample within 4 of the second
#          minute's highest (clients' and Pushover's connections come and
#          go, so single samples dip; what must not happen is a climb)
# and it exits 1 when they did not, or when an event was refused, lost
# or pushed twice.
#
# Environment: SOAK_SECONDS, SOAK_RATE, SOAK_KEYS, KEEP=1 keeps the work
# directory; KLAXON and KLAXON_TOOLS name the binary and the directory of
# the load tools (build/klaxon and build/tests/tools).
set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${KLAXON_TOOLS:-$TOP/build/tests/tools}
KLAXON_SRC=${KLAXON:-$TOP/build/klaxon}
SOAK_SECONDS=${SOAK_SECONDS:-600}
SOAK_RATE=${SOAK_RATE:-1000}
SOAK_KEYS=${SOAK_KEYS:-10000}
for v in SOAK_SECONDS SOAK_RATE SOAK_KEYS; do
    case ${!v} in
    ''|*[!0-9]*) echo "soak: $v must be a whole number"; exit 2 ;;
    esac
done
[ "$SOAK_KEYS" = 0 ] || [ "$SOAK_KEYS" -ge 16 ] ||
    { echo "soak: SOAK_KEYS must be 0 or at least 16"; exit 2; }
TOKEN=soak-token-1
SAMPLE_S=10
WARMUP_S=60
PIDS=""
FAILED=0

for t in mock_pushover burst; do
    [ -x "$TOOLS/$t" ] || make --no-print-directory -C "$TOP" \
        "build/tests/tools/$t" >/dev/null || exit 2
done
WORK=$(mktemp -d /tmp/klaxon-soak.XXXXXX) || exit 2
KLAXON=$WORK/klaxon
cp "$KLAXON_SRC" "$KLAXON" || exit 2

cleanup() {
    local p
    for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    if [ "${KEEP:-0}" = 1 ]; then
        echo "soak: work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 3' INT TERM

fail() { echo "FAIL: $*"; FAILED=1; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# "sent accepted" so far, from one read of the burst's output.
sent_accepted() {
    awk '$3 >= 200 && $3 < 300 { a++ } END { print NR, a + 0 }' \
        "$WORK/burst.out"
}
pushes() {
    awk '/"status":200/ { n++ } END { print n + 0 }' "$WORK/mock.log"
}
queue_depth() {
    curl -s -m 5 "$BASE/metrics" |
        awk '$1 == "klaxon_delivery_queue_depth" {print $2}'
}

start_mock() {
    "$TOOLS/mock_pushover" --port-file "$WORK/mock.port" \
        --log "$WORK/mock.log" --mode ok >/dev/null 2>"$WORK/mock.err" &
    PIDS="$PIDS $!"
    local i=0
    while [ ! -s "$WORK/mock.port" ]; do
        i=$((i + 1))
        [ $i -gt 100 ] && { echo "soak: mock did not start"; exit 2; }
        sleep 0.05
    done
    MOCK_PORT=$(cat "$WORK/mock.port")
}

start_klaxon() {
    local i=0
    cat > "$WORK/klaxon.conf" <<EOF
server: { listen = ["127.0.0.1:0"]; };
journal: { path = "$WORK/klaxon.db"; };
sources: { generic = { token = "$TOKEN"; }; };
people = ( { name = "alice"; pushover = "uAliceKey"; on_call = true; } );
pushover: { token = "soakAppToken";
            api_url = "http://127.0.0.1:$MOCK_PORT/1/messages.json"; };
log_level = "info";
EOF
    "$KLAXON" serve -c "$WORK/klaxon.conf" 2>"$WORK/klaxon.log" &
    KPID=$!; PIDS="$PIDS $KPID"
    KPORT=""
    while [ -z "$KPORT" ]; do
        i=$((i + 1))
        if [ $i -gt 200 ] || ! kill -0 "$KPID" 2>/dev/null; then
            echo "soak: klaxon did not start:"; tail -5 "$WORK/klaxon.log"
            exit 2
        fi
        sleep 0.05
        KPORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' \
                "$WORK/klaxon.log" | head -1)
    done
    BASE=http://127.0.0.1:$KPORT
}

row() { printf "  %6s %9s %9s %9s %7s %9s %6s\n" "$@"; }

# One line of the minute table.
report_minute() {
    row "$1" $(sent_accepted) "$(pushes)" "$(queue_depth)" \
        "$(rss_kib "$KPID")K" "$(fds "$KPID")"
}

# Until the queue is empty and the mock has seen nothing new for 7 s;
# prints the seconds it took, or "never" after 300 s.
wait_drained() {
    local t0=$SECONDS last=-1 quiet=0 n depth
    while [ $quiet -lt 7 ]; do
        [ $((SECONDS - t0)) -gt 300 ] && { echo never; return 1; }
        sleep 1
        n=$(wc -l < "$WORK/mock.log")
        depth=$(queue_depth)
        if [ "$n" = "$last" ] && [ "$depth" = 0 ]; then
            quiet=$((quiet + 1))
        else
            quiet=0
        fi
        last=$n
    done
    echo $((SECONDS - t0 - 7))
}

# accepted, delivered (accepted events pushed), missing, duplicated.
check_pushes() {
    awk -v mlog="$WORK/mock.log" '
    FILENAME != mlog { if ($3 >= 200 && $3 < 300) acc[$1 " " $2] = 1; next }
    /"kind":"message"/ && /"status":200/ {
        if (match($0, /"title":"[^"]*"/))
            got[substr($0, RSTART + 9, RLENGTH - 10)]++
    }
    END {
        for (e in acc) { n++; if (e in got) d++ }
        for (t in got) if (got[t] > 1) dup += got[t] - 1
        printf "accepted=%d delivered=%d missing=%d duplicated=%d\n",
               n, d, n - d, dup
    }' "$WORK/burst.out" "$WORK/mock.log"
}

# Judge the samples ("seconds rss_kib fds") as the header describes.
judge_flat() {
    awk -v warm=$WARMUP_S -v total="$SOAK_SECONDS" '
    $1 > warm && $1 <= 2 * warm {
        n2++; r2 += $2
        if ($3 > max2) max2 = $3
    }
    $1 > total - warm { nl++; rl += $2; if ($3 > fmax) fmax = $3 }
    END {
        if (total < 3 * warm || !n2 || !nl) { print "short"; exit }
        r2 /= n2; rl /= nl
        lim = r2 * 0.05 > 2048 ? r2 * 0.05 : 2048
        printf "rss2=%d rsslast=%d rss_limit=%d rss_flat=%d fds2=%d " \
               "fdsmax=%d fds_flat=%d\n", r2, rl, r2 + lim,
               rl - r2 <= lim, max2, fmax, fmax <= max2 + 4
    }' "$WORK/samples"
}

echo "soak: $("$KLAXON" --version 2>/dev/null | head -1), $(nproc) cores," \
     "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
if [ "$SOAK_KEYS" = 0 ]; then
    KEYS_ARG=""
    KEYS_SAID="a new alert each"
else
    KEYS_ARG="--cycle $SOAK_KEYS"
    KEYS_SAID="$SOAK_KEYS alerts firing and resolving in turn"
fi
echo "soak: $SOAK_RATE events/s for ${SOAK_SECONDS}s ($KEYS_SAID)," \
     "delivery on, one on-call person"
start_mock
start_klaxon
sleep 1
RSS0=$(rss_kib "$KPID"); FDS0=$(fds "$KPID")
: > "$WORK/burst.out"
: > "$WORK/samples"
"$TOOLS/burst" --url "$BASE/hooks/generic?token=$TOKEN" \
    --events $((SOAK_RATE * SOAK_SECONDS)) --rate "$SOAK_RATE" \
    --connections 16 --prefix soak --out "$WORK/burst.out" $KEYS_ARG \
    > "$WORK/burst.sum" &
BPID=$!; PIDS="$PIDS $BPID"
T0=$SECONDS
echo
row minute sent accepted pushed queue RSS fds
report_minute 0
t=0
while kill -0 "$BPID" 2>/dev/null; do
    t=$((t + SAMPLE_S))
    while [ $((SECONDS - T0)) -lt $t ] && kill -0 "$BPID" 2>/dev/null; do
        sleep 0.5
    done
    kill -0 "$BPID" 2>/dev/null || break
    echo "$t $(rss_kib "$KPID") $(fds "$KPID")" >> "$WORK/samples"
    [ $((t % 60)) = 0 ] && report_minute $((t / 60))
done
wait "$BPID"
report_minute end
DRAIN=$(wait_drained)
report_minute drained
echo

SUMMARY=$(tail -1 "$WORK/burst.sum")
RESULT=$(check_pushes)
FLAT=$(judge_flat)
echo "soak: burst: $SUMMARY"
echo "soak: sent $(field sent "$SUMMARY"), accepted" \
     "$(field accepted "$SUMMARY"), delivered $(field delivered "$RESULT")" \
     "(duplicated $(field duplicated "$RESULT")), queue drained" \
     "${DRAIN}s after the load stopped"
echo "soak: RSS ${RSS0}K at start, $(rss_kib "$KPID")K at the end;" \
     "open files $FDS0 at start, $(fds "$KPID") at the end"
if [ "$FLAT" = short ]; then
    echo "soak: too short to judge flatness (needs $((3 * WARMUP_S)) s)"
else
    echo "soak: RSS mean $(field rss2 "$FLAT")K in minute 2," \
         "$(field rsslast "$FLAT")K in the last minute (flat up to" \
         "$(field rss_limit "$FLAT")K):" \
         "$([ "$(field rss_flat "$FLAT")" = 1 ] && echo flat || echo GROWING)"
    echo "soak: open files at most $(field fds2 "$FLAT") in minute 2," \
         "$(field fdsmax "$FLAT") in the last minute (flat up to" \
         "$(( $(field fds2 "$FLAT") + 4 ))):" \
         "$([ "$(field fds_flat "$FLAT")" = 1 ] && echo flat || echo GROWING)"
    [ "$(field rss_flat "$FLAT")" = 1 ] || fail "RSS kept growing"
    [ "$(field fds_flat "$FLAT")" = 1 ] || fail "open files kept growing"
fi
[ "$(field accepted "$SUMMARY")" = "$(field sent "$SUMMARY")" ] ||
    fail "$(( $(field sent "$SUMMARY") - $(field accepted "$SUMMARY") ))" \
         "events not accepted"
[ "$(field missing "$RESULT")" = 0 ] ||
    fail "$(field missing "$RESULT") accepted events never pushed"
[ "$(field duplicated "$RESULT")" = 0 ] ||
    fail "$(field duplicated "$RESULT") pushes repeated"
[ "$DRAIN" != never ] || fail "the delivery queue did not drain in 300 s"
kill -TERM "$KPID"
wait "$KPID" || fail "klaxon exited with $? on SIGTERM"
exit $FAILED
