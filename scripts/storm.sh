#!/usr/bin/env bash
# storm.sh [DEVICES] — the reconnect storm of docs/benchmarks.md.
#
# Starts tether serve on loopback ports, connects DEVICES (default 19500)
# simulated devices with `tether simulate` (the device SDK: exponential
# back-off with full jitter), restarts the hub (SIGTERM, then a new
# tether serve on the same data folder and ports) and measures how fast
# the fleet comes back, the hub's memory (RSS, sampled every second) and
# the latency of the service API and /metrics (probed every 250 ms)
# throughout. It holds /tmp/tether-bench.lock: it loads the whole machine.
#
# Environment: STORM_DIR (work folder, default a new temp dir), SERVE_FLAGS
# (extra flags for tether serve), SIM_FLAGS (extra flags for simulate).
set -euo pipefail
N=${1:-19500}
cd "$(dirname "$0")/.."
exec 9>/tmp/tether-bench.lock
flock 9
ulimit -n "$(ulimit -Hn)"
W=${STORM_DIR:-$(mktemp -d /tmp/tether-storm.XXXXXX)}
mkdir -p "$W"
BIN=$W/tether
go build -o "$BIN" ./cmd/tether
DATA=$W/data
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTPS=127.0.0.1:$(port)
MQTT=127.0.0.1:$(port)
now() { date +%s.%N; }
stamp() { while IFS= read -r l; do printf '%s %s\n' "$(now)" "$l"; done; }

HUB=
start_hub() {
	"$BIN" --data "$DATA" --hostname localhost serve --https-addr "$HTTPS" --mqtt-addr "$MQTT" ${SERVE_FLAGS:-} \
		> >(stamp >> "$W/hub.log") 2>&1 &
	HUB=$!
	for _ in $(seq 600); do
		if [ -f "$DATA/tls/ca.pem" ] && curl -sf --cacert "$DATA/tls/ca.pem" "https://localhost:${HTTPS##*:}/healthz" > /dev/null; then
			return 0
		fi
		sleep 0.05
	done
	echo "storm: the hub did not become healthy" >&2
	exit 1
}
cleanup() {
	[ -n "${SIM:-}" ] && kill -INT "$SIM" 2> /dev/null || true
	[ -n "${PROBE:-}" ] && kill "$PROBE" 2> /dev/null || true
	[ -n "${RSS:-}" ] && kill "$RSS" 2> /dev/null || true
	[ -n "$HUB" ] && kill -TERM "$HUB" 2> /dev/null || true
	wait 2> /dev/null || true
}
trap cleanup EXIT

start_hub
TOKEN=$("$BIN" --data "$DATA" token generate --policy iothubowner --duration 3h)
CA=$DATA/tls/ca.pem
BASE="https://localhost:${HTTPS##*:}"

# Register the devices first, so that the storm measures connects only.
echo "storm: $N devices, hub https $HTTPS mqtt $MQTT, work folder $W"
"$BIN" --data "$DATA" simulate --devices "$N" --create --rate 2000 --telemetry-interval 0 --duration 10m \
	--max-backoff 10s --mqtt-addr "$MQTT" ${SIM_FLAGS:-} > "$W/sim.out" 2> >(stamp > "$W/sim.log") &
SIM=$!

connected() { tail -n 1 "$W/sim.log" | sed -n 's/.*connected \([0-9]*\)\/.*/\1/p'; }
for _ in $(seq 600); do
	c=$(connected)
	[ "${c:-0}" -ge "$N" ] && break
	sleep 1
done
echo "storm: $(connected) of $N connected before the restart"

( while true; do
	t=$(now)
	m=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 --cacert "$CA" "$BASE/metrics" 2> /dev/null) || true
	a=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 10 --cacert "$CA" -H "Authorization: $TOKEN" \
		"$BASE/statistics/devices?api-version=2021-04-12" 2> /dev/null) || true
	echo "$t metrics $m"
	echo "$t api $a"
	sleep 0.25
done ) > "$W/probe.log" &
PROBE=$!
( while true; do echo "$(now) $(ps -o rss= -p "$HUB" 2> /dev/null || echo 0)"; sleep 1; done ) > "$W/rss.log" &
RSS=$!
sleep 5

T0=$(now)
kill -TERM "$HUB"
wait "$HUB" || true
T_DOWN=$(now)
kill "$RSS" 2> /dev/null || true
start_hub
T1=$(now)
( while true; do echo "$(now) $(ps -o rss= -p "$HUB" 2> /dev/null || echo 0)"; sleep 1; done ) >> "$W/rss.log" &
RSS=$!

T99=
TALL=
for _ in $(seq 240); do
	sleep 0.5
	c=$(awk -v t0="$T1" '$1 > t0' "$W/sim.log" | tail -n 1 | sed -n 's/.*connected \([0-9]*\)\/.*/\1/p')
	c=${c:-0}
	if [ -z "$T99" ] && [ $((c * 100)) -ge $((N * 99)) ]; then T99=$(now); fi
	if [ "$c" -ge "$N" ]; then TALL=$(now); break; fi
done
sleep 5
kill "$PROBE" "$RSS" 2> /dev/null || true
METRICS=$(curl -s --cacert "$CA" "$BASE/metrics" | grep -E '^tether_(connects_refused_total|connection_attempts_total|connected_devices)' || true)

python3 - "$W" "$T0" "$T_DOWN" "$T1" "${T99:-0}" "${TALL:-0}" "$N" <<'EOF'
import sys
w, t0, tdown, t1, t99, tall, n = sys.argv[1], *map(float, sys.argv[2:7]), int(sys.argv[7])
lat = {"api": [], "metrics": []}
fails = {"api": 0, "metrics": 0}
for line in open(w + "/probe.log"):
    t, kind, code, secs = line.split()
    t, secs = float(t), float(secs)
    if t < t1:  # the hub was down or stopping: refusals expected
        continue
    if code != "200":
        fails[kind] += 1
    lat[kind].append(secs)
rss = [int(l.split()[1]) for l in open(w + "/rss.log") if l.split()[1].isdigit()]
def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))] if v else float("nan")
print(f"devices                    {n}")
print(f"shutdown (SIGTERM → exit)  {tdown - t0:.1f} s")
print(f"restart → healthy          {t1 - tdown:.1f} s")
print(f"99% reconnected            {t99 - t0:.1f} s after SIGTERM, {t99 - t1:.1f} s after the new hub was healthy" if t99 else "99% reconnected            NOT within 120 s")
print(f"all reconnected            {tall - t0:.1f} s after SIGTERM" if tall else "all reconnected            not within 120 s")
print(f"hub RSS                    max {max(rss)/1024:.0f} MiB" if rss else "hub RSS                    n/a")
for k in ("api", "metrics"):
    print(f"{k:<8} during the storm    {len(lat[k])} probes, p50 {pct(lat[k], .5)*1000:.0f} ms, p99 {pct(lat[k], .99)*1000:.0f} ms, max {max(lat[k] or [0])*1000:.0f} ms, {fails[k]} not 200")
EOF
echo "$METRICS" | grep -E 'connects_refused|connection_attempts_total\{result="(0|429001|429003)"\}|connected_devices' || true
echo "storm: logs in $W"
