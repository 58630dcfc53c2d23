#!/bin/sh
# Inbound throughput and latency of klaxon against its peers, on this
# machine, in one run.
#
#   bench/relay.sh [SECONDS]       (make bench runs it with 10)
#
# For each server, alone on the machine: wrk over 64 connections posting
# events with unique keys (saturation: events/s, p50, p99), then wrk at
# about 1,000 events/s (p50, p99), plus memory. klaxon runs durable (every 202 is fsync'd)
# with delivery off, so only the inbound path is measured. Peers:
# Prometheus Alertmanager (POST /api/v2/alerts, in memory) and adnanh's
# webhook (one hook running /bin/true). After the saturation runs klaxon
# takes more events until it has stored 300,000, and its RSS is read
# again.
set -eu

SECONDS_PER_RUN=${1:-10}
TOP=$(cd "$(dirname "$0")/.." && pwd)
KLAXON=${KLAXON:-$TOP/klaxon}
WORK=$(mktemp -d /tmp/klaxon-bench.XXXXXX)
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null || true; done; sleep 0.3; rm -rf "$WORK"' EXIT

for tool in wrk prometheus-alertmanager webhook; do
    command -v $tool >/dev/null || { echo "bench: $tool missing (make deps-bench)" >&2; exit 2; }
done

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
        echo $((20000 + $$ % 20000 + $1))
}

wait_port() {
    i=0
    while ! curl -s -o /dev/null "http://127.0.0.1:$1/"; do
        i=$((i + 1)); [ $i -gt 100 ] && { echo "bench: port $1 never opened" >&2; exit 2; }
        sleep 0.1
    done
}

rss_kib() { awk '/^VmRSS/ {print $2}' /proc/$1/status; }
# CPU time (user + system) of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' /proc/$1/stat; }
hwm_kib() { awk '/^VmHWM/ {print $2}' /proc/$1/status; }
pss_kib() { awk '/^Pss:/ {print $2}' /proc/$1/smaps_rollup; }

# wrk scripts: unique keys per request; the body template is per server.
cat > "$WORK/load.lua" <<'EOF'
-- setup() runs in the main Lua state and hands each thread its number
-- as the global tid; a local of the same name would shadow it and give
-- every thread the same keys.
local n = 0
local threads = 0
local template = os.getenv("BENCH_BODY")
local rate_delay = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
local run = os.getenv("BENCH_RUN") or "0"
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function request()
    n = n + 1
    -- Unique across threads (tid) and across wrk runs (BENCH_RUN).
    local key = string.format("k%s-%d-%d", run, tid, n)
    return wrk.format("POST", nil, {["Content-Type"] = "application/json"},
                      (template:gsub("KEY", key)))
end
function delay() return rate_delay end
EOF

# run_wrk NAME URL BODY CONNECTIONS DELAY_MS -> "rate p50 p99" (ms)
run_wrk() {
    out=$(BENCH_RUN="$(date +%s%N)" BENCH_BODY=$3 BENCH_DELAY_MS=$5 wrk -t2 -c$4 -d${SECONDS_PER_RUN}s \
          --latency -s "$WORK/load.lua" "$2" 2>&1)
    echo "$out" > "$WORK/$1-$4.txt"
    rate=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    errs=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    [ -z "$errs" ] || echo "bench: $1: $errs answers were not 2xx" >&2
    echo "$rate $p50 $p99 ${errs:-0}"
}

row() { printf '%-14s %12s %10s %10s %10s %10s %12s %12s\n' "$@"; }

start_klaxon() {
    port=$(free_port 1)
    cat > "$WORK/klaxon.conf" <<EOF
server: { listen = ["127.0.0.1:$port"]; max_connections = 4096; };
journal: { path = "$WORK/klaxon.db"; };
sources: { generic = { token = "bench-token-123"; }; };
log_level = "warn";
EOF
    "$KLAXON" serve -c "$WORK/klaxon.conf" 2>"$WORK/klaxon.log" &
    KPID=$!; PIDS="$PIDS $KPID"
    wait_port $port
    KURL="http://127.0.0.1:$port/hooks/generic?token=bench-token-123"
}

start_alertmanager() {
    port=$(free_port 2)
    printf 'route:\n  receiver: none\nreceivers:\n  - name: none\n' > "$WORK/am.yml"
    prometheus-alertmanager --config.file="$WORK/am.yml" \
        --storage.path="$WORK/am" --web.listen-address=127.0.0.1:$port \
        --cluster.listen-address= >"$WORK/am.log" 2>&1 &
    APID=$!; PIDS="$PIDS $APID"
    wait_port $port
    AURL="http://127.0.0.1:$port/api/v2/alerts"
}

start_webhook() {
    port=$(free_port 3)
    cat > "$WORK/hooks.json" <<EOF
[{"id": "generic", "execute-command": "/bin/true",
  "response-message": "queued"}]
EOF
    webhook -hooks "$WORK/hooks.json" -ip 127.0.0.1 -port $port \
        >"$WORK/webhook.log" 2>&1 &
    WPID=$!; PIDS="$PIDS $WPID"
    wait_port $port
    WURL="http://127.0.0.1:$port/hooks/generic"
}

KBODY='{"title":"bench","message":"load","key":"KEY","priority":0}'
ABODY='[{"labels":{"alertname":"bench","key":"KEY"},"annotations":{"summary":"load"}}]'
WBODY='{"title":"bench","key":"KEY"}'

# Each server runs alone: started, measured idle, saturated, then driven
# at about 1,000 events/s (10 connections, each waiting 10 ms between
# requests), its peak memory read. The peers are stopped after their
# runs so their background work cannot disturb the next server's.
measure() {
    name=$1 pid=$2 url=$3 body=$4
    sleep 1
    idle=$(rss_kib "$pid")
    t0=$(cpu_ticks "$pid")
    set -- $(run_wrk "$name" "$url" "$body" 64 0)
    rate=$1 p50=$2 p99=$3 err=$4
    # The server's own CPU per event: wrk shares the cores, so this says
    # more about the server than events/s alone.
    cpu=$(awk -v t="$(( $(cpu_ticks "$pid") - t0 ))" -v r="$rate" \
          -v s="$SECONDS_PER_RUN" -v hz="$(getconf CLK_TCK)" \
          'BEGIN { printf "%.1f", t / hz * 1e6 / (r * s) }')
    sleep 2
    set -- $(run_wrk "$name" "$url" "$body" 10 10)
    r1=$1 l50=$2 l99=$3
    eval "${name}_row=\"$rate $p50 $p99 $cpu $l99 ${idle}K $(hwm_kib "$pid")K\""
    eval "${name}_rate=$rate ${name}_r1=$r1 ${name}_l50=$l50"
}

echo "bench: $(nproc) cores, ${SECONDS_PER_RUN}s per run, $(date -u +%FT%TZ)"
start_alertmanager
measure am "$APID" "$AURL" "$ABODY"
kill "$APID"
start_webhook
measure webhook "$WPID" "$WURL" "$WBODY"
kill "$WPID"
start_klaxon
k_pss=$(pss_kib $KPID)
measure klaxon "$KPID" "$KURL" "$KBODY"

echo
row server "events/s" "p50" "p99" "CPU us/ev" "@1k p99" "idle RSS" "peak RSS"
row klaxon $klaxon_row
row alertmanager $am_row
row webhook $webhook_row
echo
echo "klaxon at ~1k/s: ${klaxon_r1}/s p50 $klaxon_l50; idle PSS ${k_pss}K"
awk -v k="$klaxon_rate" -v a="$am_rate" -v w="$webhook_rate" 'BEGIN {
    printf "klaxon / alertmanager: %.2fx   klaxon / webhook: %.2fx\n", k / a, k / w }'

# Fill klaxon up to 300,000 stored events, then read its memory again.
stored() { sqlite3 "$WORK/klaxon.db" 'SELECT count(*) FROM events' 2>/dev/null || echo 0; }
n=$(stored)
while [ "$n" -lt 300000 ]; do
    BENCH_RUN="$(date +%s%N)" BENCH_BODY=$KBODY BENCH_DELAY_MS=0 wrk -t2 -c64 -d5s -s "$WORK/load.lua" \
        "$KURL" >/dev/null 2>&1
    n=$(stored)
done
echo "klaxon after $n stored events: RSS $(rss_kib $KPID)K, peak $(hwm_kib $KPID)K, PSS $(pss_kib $KPID)K, journal $(du -sk "$WORK" | cut -f1)K on disk"
