#!/usr/bin/env bash
# The CPU cost of diagnostics per TLS connect: tether with every diagnostic
# category on (the default) against every category off, in the same run,
# alternating, REPS times each. Reads broker_cpu_us_per_connect from the
# load generator (the hub's own CPU time, from /proc).
#
#   bench/run.sh setup      # once: loadgen, a tether build, 19,500 devices
#   TETHER_BIN=/path/to/tether bench/diagcost.sh
set -euo pipefail
OUT=${OUT:-$(dirname "$0")/results/diagcost-$(date -u +%Y%m%dT%H%M%SZ).jsonl}
source "$(dirname "$0")/lib.sh"
ulimit -n "$(ulimit -Hn)"
trap 'tether_stop' EXIT
srcf=(); [ -n "$SRC" ] && srcf=(-src "$SRC")
all=Connections,DeviceIdentityOperations,DirectMethods,D2CTwinOperations,C2DTwinOperations,C2DCommands,DeviceTelemetry
set_diag() { # on|off
	"$TETHER" --data "$DATA" diag settings set --category "$(echo "$all" | sed "s/,/=$1,/g")=$1" >/dev/null
}
tether_start
for _ in $(seq "$REPS"); do
	for mode in on off; do
		set_diag "$mode"
		# shellcheck disable=SC2046
		lg connect "tether-diag-$mode" connect-tls-ecdsa $(tether_flags) "${srcf[@]}" -n 5000 -c 50
	done
done
set_diag on
tether_stop
python3 - "$OUT" <<'PY'
import json, statistics, sys
by = {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    by.setdefault(d["label"], []).append(d)
for label, runs in sorted(by.items()):
    runs[:] = [r for r in runs if r.get("connect_failed", 0) == 0 and "broker_cpu_us_per_connect" in r]
    cpu = [r["broker_cpu_us_per_connect"] for r in runs]
    rate = [r.get("connect_rate", r.get("rate", 0)) for r in runs]
    print(f"{label}: CPU per connect median {statistics.median(cpu)} us {cpu}; rate median {statistics.median(rate)}/s")
on = statistics.median(r["broker_cpu_us_per_connect"] for r in by["tether-diag-on"])
off = statistics.median(r["broker_cpu_us_per_connect"] for r in by["tether-diag-off"])
print(f"diagnostics add {100 * (on - off) / off:+.1f}% CPU per TLS connect (medians)")
PY
