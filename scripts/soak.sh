#!/usr/bin/env bash
# soak.sh [MINUTES] [DEVICES] — a long run of the hub under churn, faults
# and queries (not for CI). Defaults: 60 minutes, 2000 devices.
#
# tether serve runs on loopback ports; `tether simulate` drives DEVICES
# devices sending telemetry every 5 s, with faults: drops, silences,
# flapping, duplicate identities, wrong keys (which get banned), disabled
# devices and token expiry. A query loop reads the registry, the
# connection log (KQL), the bans and /metrics every 5 s. Every 10 s the
# script samples the hub: RSS, open file descriptors, goroutines, Go heap,
# and the diagnostic log writer (records queued, records dropped). At the
# end it prints the first and last samples after a warm-up and the
# growth per hour. It holds /tmp/tether-bench.lock.
#
# Environment: SOAK_DIR (work folder, default a new temp dir).
set -euo pipefail
MINUTES=${1:-60}
N=${2:-2000}
cd "$(dirname "$0")/.."
exec 9>/tmp/tether-bench.lock
flock 9
ulimit -n "$(ulimit -Hn)"
W=${SOAK_DIR:-$(mktemp -d /tmp/tether-soak.XXXXXX)}
mkdir -p "$W"
BIN=$W/tether
go build -o "$BIN" ./cmd/tether
DATA=$W/data
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTPS=127.0.0.1:$(port)
MQTT=127.0.0.1:$(port)
BASE="https://localhost:${HTTPS##*:}"

"$BIN" --data "$DATA" --hostname localhost serve --https-addr "$HTTPS" --mqtt-addr "$MQTT" > "$W/hub.log" 2>&1 &
HUB=$!
cleanup() {
	[ -n "${SIM:-}" ] && kill -INT "$SIM" 2> /dev/null || true
	[ -n "${QUERY:-}" ] && kill "$QUERY" 2> /dev/null || true
	kill -TERM "$HUB" 2> /dev/null || true
	wait 2> /dev/null || true
}
trap cleanup EXIT
for _ in $(seq 600); do
	[ -f "$DATA/tls/ca.pem" ] && curl -sf --cacert "$DATA/tls/ca.pem" "$BASE/healthz" > /dev/null && break
	sleep 0.05
done
CA=$DATA/tls/ca.pem
TOKEN=$("$BIN" --data "$DATA" token generate --policy iothubowner --duration "$((MINUTES + 30))m")
echo "soak: $MINUTES min, $N devices, hub https $HTTPS mqtt $MQTT (pid $HUB), work folder $W"

pct() { echo $(( N * $1 / 100 > 0 ? N * $1 / 100 : 1 )); }
"$BIN" --data "$DATA" simulate --devices "$N" --create --rate 500 --telemetry-interval 5s --duration "${MINUTES}m" \
	--mqtt-addr "$MQTT" --fault-interval 60s --token-lifetime 20m \
	--fault "drop:$(pct 5)" --fault "silence:$(pct 1)" --fault "flap:$(pct 2)" --fault "duplicate:$(pct 1)" \
	--fault "wrong-key:$(pct 1)" --fault "disabled:$(pct 1)" --fault "token-expiry:$(pct 1)" \
	> "$W/sim.out" 2> "$W/sim.log" &
SIM=$!

( q=0; fail=0; while true; do
	for path in "/devices?top=100&" "/v1/bans?" "/statistics/devices?" \
		"/v1/query?query=$(python3 -c 'import urllib.parse;print(urllib.parse.quote("AzureDiagnostics | where OperationName == \"deviceDisconnect\" | summarize count() by tostring(parse_json(properties_s).reason)"))')&timespan=PT1H&"; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 --cacert "$CA" -H "Authorization: $TOKEN" "$BASE${path}api-version=2021-04-12" 2> /dev/null) || true
		q=$((q + 1))
		[ "$code" = 200 ] || fail=$((fail + 1))
	done
	curl -s -o /dev/null --max-time 30 --cacert "$CA" "$BASE/metrics" || true
	echo "$(date +%s) queries $q not-200 $fail" > "$W/queries.txt"
	sleep 5
done ) &
QUERY=$!

metric() { awk -v m="$1" '$1 == m {print $2; exit}' "$W/metrics.tmp"; }
echo "t_s rss_kib fds goroutines heap_inuse_mib log_queue log_dropped connected" > "$W/samples.txt"
START=$(date +%s)
END=$((START + MINUTES * 60))
while [ "$(date +%s)" -lt "$END" ] && kill -0 "$HUB" 2> /dev/null; do
	curl -s --max-time 30 --cacert "$CA" "$BASE/metrics" > "$W/metrics.tmp" 2> /dev/null || true
	rss=$(ps -o rss= -p "$HUB" | tr -d ' ')
	fds=$(ls "/proc/$HUB/fd" | wc -l)
	heap=$(metric go_memstats_heap_inuse_bytes)
	echo "$(( $(date +%s) - START )) $rss $fds $(metric go_goroutines) $(python3 -c "print(round(${heap:-0}/1048576,1))") \
$(metric tether_diag_log_queue) $(metric tether_diag_log_dropped_total) $(metric tether_connected_devices)" >> "$W/samples.txt"
	sleep 10
done
kill -0 "$HUB" 2> /dev/null || echo "soak: THE HUB DIED; see $W/hub.log"

python3 - "$W" <<'EOF'
import sys
w = sys.argv[1]
rows = [l.split() for l in open(w + "/samples.txt")][1:]
rows = [[float(x) if x not in ("", "None") else 0.0 for x in r] for r in rows if len(r) == 8]
if len(rows) < 3:
    print("soak: too few samples"); sys.exit(1)
warm = [r for r in rows if r[0] >= min(300, rows[-1][0] / 4)] or rows
a, b = warm[0], warm[-1]
hours = max((b[0] - a[0]) / 3600, 1e-9)
names = ["rss MiB", "open fds", "goroutines", "heap in use MiB"]
print(f"soak ran {rows[-1][0]/60:.1f} min; samples after warm-up from {a[0]/60:.1f} to {b[0]/60:.1f} min")
for i, name in enumerate(names, start=1):
    fa, fb = (a[i] / 1024, b[i] / 1024) if i == 1 else (a[i], b[i])
    peak = max(r[i] for r in warm) / (1024 if i == 1 else 1)
    print(f"  {name:<16} {fa:10.1f} → {fb:10.1f}   peak {peak:10.1f}   growth {(fb - fa) / hours:+.1f}/h")
print(f"  log writer queue max {max(r[5] for r in rows):.0f} records, dropped {rows[-1][6]:.0f}")
print(f"  connected devices at the end {b[7]:.0f}")
EOF
cat "$W/queries.txt" 2> /dev/null || true
tail -n 1 "$W/sim.log" || true
echo "soak: samples in $W/samples.txt"
