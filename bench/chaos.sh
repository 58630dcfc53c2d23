#!/bin/bash
# Fault injection: klaxon on its worst day, on this machine, on loopback.
#
#   bench/chaos.sh               (make chaos)
#
# Four cases, each printing a table and failing the run (exit 1) when a
# promise is broken:
#   kill    kill -9 at a random moment of each of ROUNDS bursts of EVENTS
#           events, one journal across the rounds; then every event that
#           got a 2xx must reach every on-call person, and a push may be
#           repeated only if it was in flight at a kill (8 at most each)
#   faults  Pushover answering 429, 500 or an HTML page for FAULT_SECONDS,
#           or hanging for HANG_SECONDS, from the start of a burst of
#           FAULT_EVENTS events (firing + resolved pairs): afterwards
#           every push delivered exactly once, firing before resolved,
#           no retry before X-Limit-App-Reset, and the burst's p99
#           latency no worse than with Pushover healthy
#   disk    the journal on a full tmpfs, then on an ext4 image the
#           kernel turns read-only: 503 with Retry-After, no 2xx and
#           /healthz 503 while broken, then 202 and 200 once it is fixed
#           (needs root; skipped otherwise)
#   conns   SLOW_CONNS idle connections, then as many sending a byte a
#           second: /healthz answers within 100 ms, RSS and open files
#           of klaxon stay bounded
#
# Environment: ROUNDS (20), EVENTS (2000), FAULT_EVENTS (1000),
# FAULT_SECONDS (15), HANG_SECONDS (30), SLOW_CONNS (1000), SLOW_SECONDS
# (40; the probes need 25), CASES ("kill faults disk conns"), SEED
# (random), KEEP=1 keeps the work directory. KLAXON and KLAXON_TOOLS
# name the binary and the directory of the load tools (build/klaxon and
# build/tests/tools). A whole run takes about ten minutes on two cores.
set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${KLAXON_TOOLS:-$TOP/build/tests/tools}
KLAXON_SRC=${KLAXON:-$TOP/build/klaxon}
ROUNDS=${ROUNDS:-20}
EVENTS=${EVENTS:-2000}
FAULT_EVENTS=${FAULT_EVENTS:-1000}
FAULT_SECONDS=${FAULT_SECONDS:-15}
HANG_SECONDS=${HANG_SECONDS:-30}
SLOW_CONNS=${SLOW_CONNS:-1000}
SLOW_SECONDS=${SLOW_SECONDS:-40}
CASES=${CASES:-kill faults disk conns}
SEED=${SEED:-$$}
RANDOM=$SEED
for v in ROUNDS EVENTS FAULT_EVENTS FAULT_SECONDS HANG_SECONDS SLOW_CONNS \
         SLOW_SECONDS SEED; do
    case ${!v} in
    ''|*[!0-9]*) echo "chaos: $v must be a whole number"; exit 2 ;;
    esac
done
[ "$EVENTS" -ge 2 ] && [ "$FAULT_EVENTS" -ge 2 ] ||
    { echo "chaos: EVENTS and FAULT_EVENTS must be at least 2"; exit 2; }

TOKEN=chaos-token-1
PEOPLE="uAliceKey uBobKey"
# The delivery loop keeps at most this many pushes in flight.
IN_FLIGHT=8
FAILED=0
PIDS=""
MOUNTS=""

for t in mock_pushover burst slow_clients; do
    [ -x "$TOOLS/$t" ] || make --no-print-directory -C "$TOP" \
        "build/tests/tools/$t" >/dev/null || exit 2
done
WORK=$(mktemp -d /tmp/klaxon-chaos.XXXXXX) || exit 2
# A copy, so a rebuild during the run neither fails nor changes it.
KLAXON=$WORK/klaxon
cp "$KLAXON_SRC" "$KLAXON" || exit 2

cleanup() {
    local p m
    for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
    wait 2>/dev/null
    for m in $MOUNTS; do umount "$m" 2>/dev/null || umount -l "$m"; done
    if [ "${KEEP:-0}" = 1 ]; then
        echo "chaos: work directory kept: $WORK"
    else
        rm -rf --one-file-system "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 3' INT TERM

fail() { echo "FAIL: $*"; FAILED=1; }
note() { echo "  $*"; }
now_ms() { date +%s%3N; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
forget() {
    local p keep=""
    for p in $PIDS; do [ "$p" = "$1" ] || keep="$keep $p"; done
    PIDS=$keep
}
forget_mount() {
    local m keep=""
    for m in $MOUNTS; do [ "$m" = "$1" ] || keep="$keep $m"; done
    MOUNTS=$keep
}
# The value of name=value in a summary line.
field() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# start_mock DIR MODE: mock Pushover logging to DIR/mock.log; its mode
# can be changed by writing DIR/mode.
start_mock() {
    echo "$2" > "$1/mode"
    rm -f "$1/mock.port"
    "$TOOLS/mock_pushover" --port-file "$1/mock.port" --log "$1/mock.log" \
        --mode-file "$1/mode" >/dev/null 2>"$1/mock.err" &
    MOCK_PID=$!; PIDS="$PIDS $MOCK_PID"
    local i=0
    while [ ! -s "$1/mock.port" ]; do
        i=$((i + 1))
        [ $i -gt 100 ] && { echo "chaos: mock did not start"; exit 2; }
        sleep 0.05
    done
    MOCK_PORT=$(cat "$1/mock.port")
}

stop_mock() { kill -TERM "$MOCK_PID"; wait "$MOCK_PID"; forget "$MOCK_PID"; }

# write_conf DIR JOURNAL [PUSHOVER_TIMEOUT]
write_conf() {
    cat > "$1/klaxon.conf" <<EOF
server: { listen = ["127.0.0.1:0"]; };
journal: { path = "$2"; };
sources: { generic = { token = "$TOKEN"; }; };
people = ( { name = "alice"; pushover = "uAliceKey"; on_call = true; },
           { name = "bob"; pushover = "uBobKey"; on_call = true; } );
pushover: { token = "chaosAppToken";
            api_url = "http://127.0.0.1:$MOCK_PORT/1/messages.json";
            timeout = ${3:-15}; };
log_level = "info";
EOF
}

# start_klaxon DIR: serve DIR/klaxon.conf, log appended to DIR/klaxon.log.
start_klaxon() {
    local log=$1/klaxon.log i=0 from
    touch "$log"
    from=$(($(wc -l < "$log") + 1))
    "$KLAXON" serve -c "$1/klaxon.conf" 2>>"$log" &
    KPID=$!; PIDS="$PIDS $KPID"
    KPORT=""
    while [ -z "$KPORT" ]; do
        i=$((i + 1))
        if [ $i -gt 200 ] || ! kill -0 "$KPID" 2>/dev/null; then
            echo "chaos: klaxon did not start:"; tail -5 "$log"; exit 2
        fi
        sleep 0.05
        KPORT=$(tail -n +"$from" "$log" |
                sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' |
                head -1)
    done
    BASE=http://127.0.0.1:$KPORT
    HOOK="$BASE/hooks/generic?token=$TOKEN"
}

# stop_klaxon: SIGTERM, 15 s to exit; prints the exit status.
stop_klaxon() {
    local i=0
    kill -TERM "$KPID" 2>/dev/null
    while kill -0 "$KPID" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 150 ]; then
            fail "klaxon did not exit within 15 s of SIGTERM"
            kill -KILL "$KPID"
            break
        fi
        sleep 0.1
    done
    wait "$KPID"
    KSTATUS=$?
    forget "$KPID"
}

kill_klaxon() { kill -KILL "$KPID"; wait "$KPID" 2>/dev/null; forget "$KPID"; }

status_of() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$@"; }

# post_one TITLE: POST one event; sets POST_STATUS and RETRY_AFTER.
post_one() {
    local h
    h=$(curl -s -m 10 -D - -o /dev/null -H 'Content-Type: application/json' \
        --data "{\"title\":\"$1\",\"key\":\"$1\"}" "$HOOK")
    POST_STATUS=$(echo "$h" | awk 'NR == 1 {print $2}')
    RETRY_AFTER=$(echo "$h" | tr -d '\r' |
                  awk -F': ' 'tolower($1) == "retry-after" {print $2}')
}

queue_depth() {
    curl -s -m 5 "$BASE/metrics" |
        awk '$1 == "klaxon_delivery_queue_depth" {print $2}'
}

# wait_drained DIR LIMIT_S: until klaxon reports no delivery waiting and
# the mock has seen nothing new for 7 s (longer than a hung push may
# stay in flight, so the reported depth is fresh). Sets DRAIN_S.
wait_drained() {
    local t0 lines last=-1 quiet=0 depth
    t0=$(date +%s)
    while :; do
        lines=$(wc -l < "$1/mock.log" 2>/dev/null || echo 0)
        depth=$(queue_depth)
        if [ "$lines" = "$last" ] && [ "$depth" = 0 ]; then
            quiet=$((quiet + 1))
        else
            quiet=0
        fi
        last=$lines
        DRAIN_S=$(($(date +%s) - t0))
        [ $quiet -ge 7 ] && { DRAIN_S=$((DRAIN_S - 7)); return 0; }
        if [ $DRAIN_S -gt "$2" ]; then
            fail "deliveries not drained after $2 s (queue depth ${depth:-?})"
            return 1
        fi
        sleep 1
    done
}

# burst_run OUT ARGS...: one burst against $HOOK; sets SUMMARY.
burst_run() {
    local out=$1
    shift
    SUMMARY=$("$TOOLS/burst" --url "$HOOK" --out "$out" "$@" | tail -1)
}

# check_pushes MOCKLOG KILLS BURST_OUTS...: compare what the bursts got
# accepted with what the mock Pushover saw. KILLS holds the kill times
# (ms, one a line) or is /dev/null. Prints name=value words: accepted
# (events with a 2xx), delivered (of those, pushed to every person),
# missing, pushes (200 answers), duplicated (pushes beyond the first
# per person and event), order (a resolved push tried before its firing
# push got through), early (a retry sooner than X-Limit-App-Reset
# allowed), attempts, failed_attempts, max_dup_per_kill, unexplained
# (repeats with no kill after the first copy), per_kill (repeats after
# each kill). The first missing events go to MOCKLOG.missing, and each
# repeated push to MOCKLOG.repeats as "kill ms_before_it user title".
check_pushes() {
    local log=$1 kills=$2
    shift 2
    awk -v mlog="$log" -v kills="$kills" -v people="$PEOPLE" '
    function jstr(name) {
        if (!match($0, "\"" name "\":\"[^\"]*\"")) return ""
        return substr($0, RSTART + length(name) + 4, RLENGTH - length(name) - 5)
    }
    function jnum(name) {
        if (!match($0, "\"" name "\":-?[0-9]+")) return -1
        return substr($0, RSTART + length(name) + 3,
                      RLENGTH - length(name) - 3) + 0
    }
    BEGIN {
        np = split(people, person, " ")
        nk = 0
        while (kills != "" && (getline line < kills) > 0) kill[++nk] = line + 0
    }
    FILENAME != mlog {
        if ($3 >= 200 && $3 < 300) acc[$1 " " $2] = 1
        next
    }
    /"kind":"message"/ {
        u = jstr("user"); t = jstr("title"); st = jnum("status")
        tm = jnum("time_ms"); split(t, w, " ")
        attempts++
        if (st != 200) failed++
        if ((u, t) in last429 && tm < (int(last429[u, t] / 1000) + 1) * 1000)
            early++
        if (st == 429) last429[u, t] = tm; else delete last429[u, t]
        if (w[2] == "resolved" && (w[1] " firing") in acc &&
            !((u, w[1] " firing") in got))
            order++
        if (st == 200) {
            if (!((u, t) in got)) first[u, t] = tm
            got[u, t]++
        }
    }
    END {
        for (e in acc) {
            accepted++
            ok = 1
            for (i = 1; i <= np; i++) if (!((person[i], e) in got)) ok = 0
            if (ok) delivered++
            else if (shown++ < 20) print e > (mlog ".missing")
        }
        for (k in got) {
            pushes += got[k]
            if (got[k] < 2) continue
            dup += got[k] - 1
            j = 0
            for (i = 1; i <= nk; i++)
                if (kill[i] >= first[k] && (j == 0 || kill[i] < kill[j])) j = i
            if (j) perkill[j] += got[k] - 1; else unexplained += got[k] - 1
            split(k, uk, SUBSEP)
            if (j) print j, kill[j] - first[k], uk[1], uk[2] > (mlog ".repeats")
            else print "none", 0, uk[1], uk[2] > (mlog ".repeats")
        }
        for (j in perkill) if (perkill[j] > maxper) maxper = perkill[j]
        perlist = nk ? "" : "-"
        for (i = 1; i <= nk; i++)
            perlist = perlist (i > 1 ? "," : "") (perkill[i] + 0)
        printf "accepted=%d delivered=%d missing=%d pushes=%d duplicated=%d " \
               "order=%d early=%d attempts=%d failed_attempts=%d " \
               "max_dup_per_kill=%d unexplained=%d per_kill=%s\n", accepted,
               delivered, accepted - delivered, pushes, dup, order, early,
               attempts, failed, maxper, unexplained, perlist
    }' "$@" "$log"
}

# A table row: the first column left-aligned, the others right-aligned.
row() {
    local first=$1
    shift
    printf "  %-10s" "$first"
    printf " %9s" "$@"
    printf "\n"
}

# Lines of a burst output with this status.
count_status() { awk -v s="$2" '$3 == s' "$1" | wc -l; }

case_kill() {
    local d=$WORK/kill r k bpid sent=0 res
    mkdir -p "$d"
    echo "kill: $ROUNDS rounds of $EVENTS events, kill -9 at a random" \
         "moment of each burst (SEED=$SEED)"
    start_mock "$d" ok
    write_conf "$d" "$d/klaxon.db"
    : > "$d/kills"
    for r in $(seq 1 "$ROUNDS"); do
        start_klaxon "$d"
        # The moment: once k of the events have been answered.
        k=$(( (RANDOM * 32768 + RANDOM) % (EVENTS - 1) + 1 ))
        : > "$d/burst-$r.out"
        "$TOOLS/burst" --url "$HOOK" --events "$EVENTS" --connections 16 \
            --prefix "r$r" --out "$d/burst-$r.out" > "$d/burst-$r.sum" &
        bpid=$!; PIDS="$PIDS $bpid"
        while [ "$(wc -l < "$d/burst-$r.out")" -lt "$k" ] &&
              kill -0 "$bpid" 2>/dev/null; do
            sleep 0.005
        done
        kill_klaxon
        # Taken once klaxon is gone: no push of its can start later.
        now_ms >> "$d/kills"
        wait "$bpid"; forget "$bpid"
        SUMMARY=$(tail -1 "$d/burst-$r.sum")
        sent=$((sent + $(field sent "$SUMMARY")))
        note "round $r: killed after $k answers," \
             "$(field accepted "$SUMMARY") of $EVENTS accepted"
    done
    start_klaxon "$d"
    wait_drained "$d" 300
    stop_klaxon
    [ "$KSTATUS" = 0 ] || fail "kill: klaxon exited with $KSTATUS on SIGTERM"
    stop_mock
    res=$(check_pushes "$d/mock.log" "$d/kills" "$d"/burst-*.out)
    echo
    row rounds "sent" "accepted" "delivered" "dup'd" "max/kill" "pushes"
    row "$ROUNDS" "$sent" "$(field accepted "$res")" \
        "$(field delivered "$res")" "$(field duplicated "$res")" \
        "$(field max_dup_per_kill "$res")" "$(field pushes "$res")"
    echo
    [ "$(field missing "$res")" = 0 ] ||
        fail "kill: $(field missing "$res") accepted events not pushed to" \
             "everyone (see $d/mock.log.missing)"
    note "repeated pushes after each kill: $(field per_kill "$res")"
    [ "$(field max_dup_per_kill "$res")" -le $IN_FLIGHT ] ||
        fail "kill: $(field max_dup_per_kill "$res") pushes repeated after" \
             "one kill, more than the $IN_FLIGHT that can be in flight" \
             "(each repeat, its kill and how long before it the first copy" \
             "went out: $d/mock.log.repeats; KEEP=1 keeps it)"
    [ "$(field unexplained "$res")" = 0 ] ||
        fail "kill: $(field unexplained "$res") pushes repeated with no" \
             "kill while the first was in flight"
}

# fault_run MODE SECONDS: a burst of pairs while the mock answers MODE
# for SECONDS, then Pushover healthy again; sets SUMMARY, RESULT, DRAIN_S.
fault_run() {
    local d=$WORK/fault-$1 tpid
    mkdir -p "$d"
    start_mock "$d" "$1"
    # A hung push gives up after 5 s, so a hang costs retries, not
    # minutes.
    write_conf "$d" "$d/klaxon.db" 5
    start_klaxon "$d"
    (sleep "$2"; echo ok > "$d/mode") &
    tpid=$!; PIDS="$PIDS $tpid"
    burst_run "$d/burst.out" --events "$FAULT_EVENTS" --connections 16 \
        --pairs --prefix "$1"
    wait "$tpid"; forget "$tpid"
    wait_drained "$d" 300
    stop_klaxon
    [ "$KSTATUS" = 0 ] || fail "faults: $1: klaxon exited with $KSTATUS"
    stop_mock
    RESULT=$(check_pushes "$d/mock.log" /dev/null "$d/burst.out")
}

# The p99 of a burst under a fault may exceed the healthy one's by this
# factor plus this many ms before it counts as slowed down. Answers
# wait for a group commit, so one slow fsync delays a whole batch of
# them and moves the p99 by tens of ms between identical runs; a hook
# that waited on Pushover would lose seconds (its timeout) instead.
P99_FACTOR=2
P99_SLACK_MS=100

case_faults() {
    local mode base_p99 p99 limit rows=""
    echo "faults: $FAULT_EVENTS events (firing + resolved pairs) per burst;" \
         "Pushover refusing for ${FAULT_SECONDS}s or hanging for" \
         "${HANG_SECONDS}s from the start of each"
    for mode in ok 429 500 html hang; do
        if [ $mode = ok ]; then
            fault_run ok 0
            base_p99=$(field p99_ms "$SUMMARY")
        elif [ $mode = hang ]; then
            fault_run hang "$HANG_SECONDS"
        else
            fault_run $mode "$FAULT_SECONDS"
        fi
        p99=$(field p99_ms "$SUMMARY")
        rows="$rows$mode $(field sent "$SUMMARY") $(field accepted "$SUMMARY")"
        rows="$rows $(field pushes "$RESULT") $(field duplicated "$RESULT")"
        rows="$rows $(field order "$RESULT") $(field failed_attempts "$RESULT")"
        rows="$rows $DRAIN_S $(field p50_ms "$SUMMARY") $p99"$'\n'
        note "$mode: $SUMMARY"
        note "$mode: $RESULT"
        [ "$(field accepted "$SUMMARY")" = "$(field sent "$SUMMARY")" ] ||
            fail "faults: $mode: not every event got a 2xx"
        [ "$(field missing "$RESULT")" = 0 ] ||
            fail "faults: $mode: $(field missing "$RESULT") accepted events" \
                 "not pushed to everyone"
        [ "$(field duplicated "$RESULT")" = 0 ] ||
            fail "faults: $mode: $(field duplicated "$RESULT") pushes repeated"
        [ "$(field order "$RESULT")" = 0 ] ||
            fail "faults: $mode: $(field order "$RESULT") resolved pushes" \
                 "tried before their firing push got through"
        [ "$(field early "$RESULT")" = 0 ] ||
            fail "faults: $mode: $(field early "$RESULT") retries sooner" \
                 "than X-Limit-App-Reset"
        limit=$(awk -v b="$base_p99" -v f=$P99_FACTOR -v s=$P99_SLACK_MS \
                'BEGIN { printf "%.3f", b * f + s }')
        awk -v p="$p99" -v l="$limit" 'BEGIN { exit !(p <= l) }' ||
            fail "faults: $mode: inbound p99 ${p99} ms, over $limit ms" \
                 "(healthy: $base_p99 ms)"
    done
    echo
    row mode sent accepted pushes "dup'd" "order" "failed" "drain s" \
        "p50 ms" "p99 ms"
    echo -n "$rows" | while read -r line; do row $line; done
    echo "  (pushes: 200 answers; failed: attempts Pushover refused or" \
         "timed out; drain s: after Pushover recovered)"
    echo
}

# wait_health CODE LIMIT_S: until /healthz answers CODE; sets HEALTH_S.
wait_health() {
    local t0
    t0=$(now_ms)
    while [ "$(status_of "$BASE/healthz")" != "$1" ]; do
        if [ $(( $(now_ms) - t0 )) -gt $(($2 * 1000)) ]; then
            HEALTH_S=never
            return 1
        fi
        sleep 0.2
    done
    HEALTH_S=$(awk -v ms=$(( $(now_ms) - t0 )) \
               'BEGIN { printf "%.1f", ms / 1000 }')
}

# While the journal cannot be written: one event must get 503 with a
# Retry-After, a burst must get no 2xx, /healthz must say 503 for
# 7 s. Sets
# BROKEN (a row's middle columns). $1 names the case.
check_broken() {
    local d=$2 health i
    post_one "$1-refused"
    echo "$1-refused firing ${POST_STATUS:-0} 0" > "$d/refused.out"
    [ "$POST_STATUS" = 503 ] ||
        fail "disk: $1: an event got $POST_STATUS, not 503"
    [ -n "$RETRY_AFTER" ] || fail "disk: $1: 503 without Retry-After"
    burst_run "$d/broken.out" --events 300 --connections 8 \
        --prefix "$1-broken"
    [ "$(field accepted "$SUMMARY")" = 0 ] ||
        fail "disk: $1: $(field accepted "$SUMMARY") events got a 2xx" \
             "while the journal was not writable"
    [ "$(count_status "$d/broken.out" 503)" = 300 ] ||
        fail "disk: $1: not every refused event got 503"
    # Long enough for the writer's idle probe (every 5 s) to run.
    for i in $(seq 1 15); do
        health=$(status_of "$BASE/healthz")
        [ "$health" = 503 ] || break
        sleep 0.5
    done
    [ "$health" = 503 ] || fail "disk: $1: /healthz said $health while broken"
    BROKEN="$POST_STATUS/${RETRY_AFTER:-none} $(field accepted "$SUMMARY")"
    BROKEN="$BROKEN $health"
}

# After recovery: /healthz 200, events accepted, all delivered once.
# Sets RECOVERED (a row's last columns).
check_recovered() {
    local d=$2 res
    wait_health 200 30 || fail "disk: $1: /healthz never said 200 again"
    burst_run "$d/after.out" --events 200 --connections 8 --prefix "$1-after"
    [ "$(field accepted "$SUMMARY")" = 200 ] ||
        fail "disk: $1: only $(field accepted "$SUMMARY") of 200 events" \
             "accepted after recovery"
    wait_drained "$d" 120
    stop_klaxon
    res=$(check_pushes "$d/mock.log" /dev/null "$d"/*.out)
    note "$1: $res"
    [ "$(field missing "$res")" = 0 ] ||
        fail "disk: $1: $(field missing "$res") accepted events not pushed"
    [ "$(field duplicated "$res")" = 0 ] ||
        fail "disk: $1: $(field duplicated "$res") pushes repeated"
    RECOVERED="${HEALTH_S}s $(field accepted "$SUMMARY")"
    RECOVERED="$RECOVERED $(field delivered "$res") $(field duplicated "$res")"
}

# A 2 MiB tmpfs fills up; growing it to 64 MiB is the space coming back.
disk_full() {
    local d=$WORK/full fill
    mkdir -p "$d/fs"
    if ! mount -t tmpfs -o size=2m,mode=0700 tmpfs "$d/fs"; then
        echo "disk: full: skipped, cannot mount a tmpfs"
        return
    fi
    MOUNTS="$MOUNTS $d/fs"
    start_mock "$d" ok
    write_conf "$d" "$d/fs/klaxon.db"
    start_klaxon "$d"
    burst_run "$d/fill.out" --events 6000 --connections 8 --prefix fill
    fill=$(field accepted "$SUMMARY")
    note "full: filling: $SUMMARY"
    [ "$(count_status "$d/fill.out" 503)" -gt 0 ] ||
        fail "disk: full: 6000 events never filled 2 MiB"
    check_broken full "$d"
    mount -o remount,size=64m "$d/fs" || fail "disk: full: cannot grow tmpfs"
    check_recovered full "$d"
    [ "$KSTATUS" = 0 ] || fail "disk: full: klaxon exited with $KSTATUS"
    stop_mock
    umount "$d/fs" && forget_mount "$d/fs"
    DISK_ROWS="${DISK_ROWS}full $fill $BROKEN $RECOVERED"$'\n'
}

# An ext4 image the kernel remounts read-only, as it does after a disk
# error. It refuses to make it writable again while files on it are
# open, so the way back is: stop klaxon, check the filesystem, mount
# it, start klaxon on the same journal.
disk_readonly() {
    local d=$WORK/ro dev trigger res
    mkdir -p "$d/fs"
    if ! command -v mkfs.ext4 >/dev/null || ! truncate -s 32M "$d/fs.img" ||
       ! mkfs.ext4 -q -F "$d/fs.img" ||
       ! mount -o loop,errors=remount-ro "$d/fs.img" "$d/fs" 2>/dev/null; then
        echo "disk: read-only: skipped, cannot mount an ext4 image on a" \
             "loop device"
        return
    fi
    MOUNTS="$MOUNTS $d/fs"
    dev=$(findmnt -n -o SOURCE "$d/fs")
    trigger=/sys/fs/ext4/$(basename "$dev")/trigger_fs_error
    if [ ! -w "$trigger" ]; then
        echo "disk: read-only: skipped, this kernel has no $trigger"
        return
    fi
    start_mock "$d" ok
    write_conf "$d" "$d/fs/klaxon.db"
    start_klaxon "$d"
    burst_run "$d/before.out" --events 300 --connections 8 --prefix before
    [ "$(field accepted "$SUMMARY")" = 300 ] ||
        fail "disk: read-only: healthy journal refused events: $SUMMARY"
    # Every push done first: a push whose result cannot be written may
    # be repeated after the restart, and that is allowed.
    wait_drained "$d" 60
    echo "klaxon chaos" > "$trigger"
    grep -q "$d/fs .*emergency_ro\|$d/fs ext4 ro" /proc/mounts ||
        note "read-only: /proc/mounts: $(grep "$d/fs" /proc/mounts)"
    check_broken ro "$d"
    stop_klaxon
    note "read-only: klaxon exited with $KSTATUS on SIGTERM"
    umount "$d/fs" || fail "disk: read-only: cannot unmount"
    e2fsck -fy "$d/fs.img" >/dev/null 2>&1
    [ $? -le 1 ] || fail "disk: read-only: e2fsck could not repair the image"
    mount -o loop,errors=remount-ro "$d/fs.img" "$d/fs" ||
        fail "disk: read-only: cannot mount the image again"
    start_klaxon "$d"
    check_recovered ro "$d"
    stop_mock
    umount "$d/fs" && forget_mount "$d/fs"
    DISK_ROWS="${DISK_ROWS}read-only 300 $BROKEN $RECOVERED"$'\n'
}

case_disk() {
    DISK_ROWS=""
    if [ "$(id -u)" != 0 ]; then
        echo "disk: skipped: mounting a small filesystem needs root"
        return
    fi
    echo "disk: the journal's filesystem full, then read-only"
    disk_full
    disk_readonly
    echo
    row case "accepted" "503/R-A" "2xx" "healthz" "back in" "accepted" \
        "delivered" "dup'd"
    echo -n "$DISK_ROWS" | while read -r line; do row $line; done
    echo "  (accepted before it broke; while broken: the answer/Retry-After" \
         "of one event, 2xx of"
    echo "  300 more, /healthz; then time to /healthz 200, of 200 events" \
         "after, all delivered)"
    echo
}

# probe_health DIR N: N probes of /healthz 0.3 s apart, reading klaxon's
# RSS and open files at each. Sets PROBE ("ok/N p50_ms max_ms"),
# PROBE_MAX_MS, PEAK_RSS (KiB) and PEAK_FDS.
probe_health() {
    local i r f
    : > "$1/probes"
    PEAK_RSS=0; PEAK_FDS=0
    for i in $(seq 1 "$2"); do
        curl -s -o /dev/null -m 5 -w '%{http_code} %{time_total}\n' \
            "$BASE/healthz" >> "$1/probes"
        r=$(rss_kib "$KPID"); f=$(fds "$KPID")
        [ "$r" -gt "$PEAK_RSS" ] && PEAK_RSS=$r
        [ "$f" -gt "$PEAK_FDS" ] && PEAK_FDS=$f
        sleep 0.3
    done
    PROBE_MAX_MS=$(awk '{ print $2 * 1000 }' "$1/probes" | sort -n | tail -1)
    PROBE="$(grep -c '^200 ' "$1/probes")/$2"
    PROBE="$PROBE $(awk '{ print $2 * 1000 }' "$1/probes" | sort -n |
        awk -v n="$2" 'NR == int((n + 1) / 2) { printf "%.1f", $1 }')"
    PROBE="$PROBE $(printf '%.1f' "$PROBE_MAX_MS")"
}

# slow_phase DIR MODE: SLOW_CONNS slow clients of MODE while /healthz is
# probed; appends a row to CONN_ROWS.
slow_phase() {
    local d=$1 mode=$2 spid i after closed
    rm -f "$d/ready-$mode"
    "$TOOLS/slow_clients" --port "$KPORT" --connections "$SLOW_CONNS" \
        --seconds "$SLOW_SECONDS" --mode "$mode" \
        --ready-file "$d/ready-$mode" > "$d/slow-$mode.out" 2>&1 &
    spid=$!; PIDS="$PIDS $spid"
    for i in $(seq 1 100); do
        [ -e "$d/ready-$mode" ] && break
        sleep 0.2
    done
    [ -e "$d/ready-$mode" ] ||
        fail "conns: $mode: $SLOW_CONNS connections not all open in 20 s"
    post_one "conns-$mode"
    [ "$POST_STATUS" = 202 ] ||
        fail "conns: $mode: an event got $POST_STATUS among slow clients"
    probe_health "$d" 50
    wait "$spid"; forget "$spid"
    note "$mode: $(tail -1 "$d/slow-$mode.out")"
    closed=$(field closed_by_server "$(tail -1 "$d/slow-$mode.out")")
    # The server notices the closed connections on its own schedule.
    for i in $(seq 1 50); do
        after=$(fds "$KPID")
        [ "$after" -le $((BASE_FDS + 4)) ] && break
        sleep 0.2
    done
    [ "$(echo "$PROBE" | cut -d' ' -f1)" = "50/50" ] ||
        fail "conns: $mode: /healthz failed: $(grep -v '^200 ' "$d/probes" |
                                               head -3 | tr '\n' ' ')"
    awk -v m="$PROBE_MAX_MS" 'BEGIN { exit !(m <= 100) }' ||
        fail "conns: $mode: /healthz took $PROBE_MAX_MS ms (limit 100;" \
             "$BASE_PROBE_MAX ms without slow clients)"
    [ "$PEAK_FDS" -le $((BASE_FDS + SLOW_CONNS + 16)) ] ||
        fail "conns: $mode: $PEAK_FDS open files for $SLOW_CONNS clients"
    [ "$PEAK_RSS" -le $((BASE_RSS + SLOW_CONNS * 64)) ] ||
        fail "conns: $mode: RSS grew from $BASE_RSS KiB to $PEAK_RSS KiB"
    [ "$after" -le $((BASE_FDS + 4)) ] ||
        fail "conns: $mode: $after open files after the clients left"
    CONN_ROWS="$CONN_ROWS$mode $SLOW_CONNS $PROBE ${PEAK_RSS}K $PEAK_FDS"
    CONN_ROWS="$CONN_ROWS $after ${closed:-?}"$'\n'
}

case_conns() {
    local d=$WORK/conns
    mkdir -p "$d"
    echo "conns: $SLOW_CONNS idle, then $SLOW_CONNS byte-a-second" \
         "connections for ${SLOW_SECONDS}s each; 50 /healthz probes in each"
    start_mock "$d" ok
    write_conf "$d" "$d/klaxon.db"
    start_klaxon "$d"
    sleep 1
    BASE_RSS=$(rss_kib "$KPID"); BASE_FDS=$(fds "$KPID")
    probe_health "$d" 50
    BASE_PROBE_MAX=$PROBE_MAX_MS
    CONN_ROWS="none 0 $PROBE ${PEAK_RSS}K $PEAK_FDS $(fds "$KPID") 0"$'\n'
    slow_phase "$d" idle
    slow_phase "$d" trickle
    stop_klaxon
    [ "$KSTATUS" = 0 ] || fail "conns: klaxon exited with $KSTATUS"
    stop_mock
    echo
    row clients conns "healthz" "p50 ms" "max ms" "peak RSS" "peak fds" \
        "fds after" "closed"
    echo -n "$CONN_ROWS" | while read -r line; do row $line; done
    echo "  (klaxon alone: RSS ${BASE_RSS}K, $BASE_FDS open files;" \
         "closed: connections klaxon closed on its own)"
    echo
}

echo "chaos: $("$KLAXON" --version 2>/dev/null | head -1), $(nproc) cores," \
     "load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
for c in $CASES; do
    case $c in
    kill|faults|disk|conns) "case_$c" ;;
    *) echo "chaos: unknown case $c"; exit 2 ;;
    esac
done
if [ $FAILED = 0 ]; then
    echo "chaos: every promise kept"
else
    echo "chaos: promises broken, see FAIL lines above"
fi
exit $FAILED
