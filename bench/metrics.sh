#!/usr/bin/env bash
# /metrics under load: the launcher supervising the demo backend, wrk
# scraping /metrics at about 200 requests/s on loopback for DURATION
# seconds; p50/p99 latency and the launcher's CPU use over the run.
# Usage: bench/metrics.sh [DURATION]   (make bench-metrics)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-30}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
make -s build >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
app=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LAUNCHER_HEALTH_ADDR=127.0.0.1:$port PORT=$app LAUNCHER_READY_URL=http://127.0.0.1:$app/api/health \
LAUNCHER_APP_DIR=$PWD/testdata/demo LAUNCHER_NATIVE_MODULES= LAUNCHER_OPTIONS_FILE=/nonexistent \
  bin/launcher >/tmp/bench-metrics.log 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.05; done
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks); s0=$(date +%s.%N)
wrk -t1 -c1 -d"${duration}s" --latency -s bench/delay.lua "http://127.0.0.1:$port/metrics" > /tmp/bench-wrk.txt
t1=$(ticks); s1=$(date +%s.%N)
rps=$(awk '/Requests\/sec/ {print $2}' /tmp/bench-wrk.txt)
p50=$(awk '$1=="50%" {print $2}' /tmp/bench-wrk.txt)
p99=$(awk '$1=="99%" {print $2}' /tmp/bench-wrk.txt)
cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$s0" -v e="$s1" 'BEGIN { printf "%.2f", 100 * (b - a) / hz / (e - s) }')
rss=$(awk '/VmRSS/ {print $2 " " $3}' "/proc/$pid/status")
echo "| requests/s | p50 | p99 | launcher CPU (% of one core) | launcher RSS |"
echo "|---|---|---|---|---|"
echo "| $rps | $p50 | $p99 | $cpu % | $rss |"
