#!/usr/bin/env bash
# Reproduces docs/benchmarks.md: tether against mosquitto 2.0.11 in the same
# session, both over TLS 1.3 with ECDSA P-256 certificates, on loopback, broker
# pinned to CPU 1 and the load generator to CPU 0.
#
#   bench/run.sh                 every group below, in this order
#   bench/run.sh hold connect    only those groups (setup runs when needed)
#
# Groups:
#   setup     copy /work/shared/bench to $WORK and build loadgen; build tether from
#             HEAD (git archive, so uncommitted edits are not measured); provision
#             $HOLD_N devices sharing one key
#   hold      idle memory: $HOLD_N TLS connections held 20 s, fresh broker per rep
#   gcvars    the same hold on tether under GOGC / GOMEMLIMIT / GODEBUG variants (1 rep each)
#   connect   TLS connect rate: 5,000 connects, concurrency 50 (mosquitto also on its
#             self-signed certificate, as in /work/shared/bench/RESULTS.md)
#   d2c       QoS 1 max: 10 publishers, 100 B, 10 s; tether stored vs acked
#   latency   QoS 1 at 10,000 msg/s: PUBACK p50/p99
#   silent    500 devices go silent with keep-alive 5 s: when the broker closes
#   gobench   in-process Go benchmarks of internal/gateway (memory breakdown, CPU per
#             PINGREQ and per connect, heap and CPU profiles)
#   slope     tether holding 5,000 connections, for the marginal cost per connection
#   gctrace   one tether hold under GODEBUG=gctrace=1 (bench/results/gctrace-<commit>.txt); not in the default list
#   perf      perf call-graph profiles of tether during connects, an idle hold and
#             QoS 1 at 10,000 msg/s (bench/results/perf-<commit>/*.txt); not in the default list
#
# Environment: WORK (/tmp/tether-bench), REPS (3), HOLD_N (19500), OUT
# (bench/results/run-<time>.jsonl), TETHER_BIN (measure this binary instead of HEAD),
# TETHER_REV (commit to build), DEVICE_RATE (tether --device-rate for d2c/latency,
# default 100000: 10 publishers at full speed would exceed the default 5000/s each).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ulimit -n "$(ulimit -Hn)"

groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(setup hold gcvars slope connect d2c latency silent gobench)
if [[ " ${groups[*]} " != *" setup "* ]] && { [ ! -x "$TETHER" ] || [ ! -s "$WORK/key.txt" ] || [ ! -x "$LG" ]; }; then
	groups=(setup "${groups[@]}")
fi
trap 'tether_stop; mosq_stop >/dev/null 2>&1 || true' EXIT
DEVICE_RATE=${DEVICE_RATE:-100000}
srcf=(); [ -n "$SRC" ] && srcf=(-src "$SRC")
TL=$(cat "$WORK/tether.commit" 2>/dev/null || echo unknown)

hold_once() { # broker label
	local b=$1 label=$2
	if [ "$b" = mosquitto ]; then
		mosq_start
		# shellcheck disable=SC2046
		lg hold "$label" "hold-tls-$HOLD_N" $(mosq_flags) "${srcf[@]}" -n "$HOLD_N" -c 50 -keepalive 60 -hold 20s
		mosq_stop
	else
		tether_start
		# shellcheck disable=SC2046
		lg hold "$label" "hold-tls-$HOLD_N" $(tether_flags) "${srcf[@]}" -n "$HOLD_N" -c 50 -keepalive 60 -hold 20s
		tether_stop
	fi
}

# profiles: the top of the gateway's heap and CPU profiles taken by gobench.
profiles() {
	local prof=$WORK/prof
	echo "### in-use heap with ${GOBENCH_CONNS:-5000} idle connections (gateway)"
	go tool pprof -sample_index=inuse_space -top -nodecount=30 "$prof/gateway-heap.pprof"
	echo "### CPU of the connects (gateway)"
	go tool pprof -top -nodecount=30 "$prof/gateway-connect-cpu.pprof"
	echo "### CPU of the PINGREQs (gateway)"
	go tool pprof -top -nodecount=20 "$prof/gateway-ping-cpu.pprof"
}

for g in "${groups[@]}"; do
	log "### $g -> $OUT"
	TL=$(cat "$WORK/tether.commit" 2>/dev/null || echo unknown)
	TLABEL=tether-${TL:0:7}
	case $g in
	setup) setup ;;
	hold)
		for _ in $(seq "$REPS"); do
			hold_once mosquitto mosquitto-2.0.11
			hold_once tether "$TLABEL"
		done
		;;
	gcvars)
		for v in "GOGC=50" "GOGC=25" "GOMEMLIMIT=256MiB" "GODEBUG=adaptivestackstart=0"; do
			TETHER_ENV=$v hold_once tether "$TLABEL $v"
		done
		;;
	connect)
		mosq_start
		tether_start
		for _ in $(seq "$REPS"); do
			# shellcheck disable=SC2046
			lg connect mosquitto-2.0.11 connect-tls-ecdsa-selfsigned $(mosq_self_flags) "${srcf[@]}" -n 5000 -c 50
			# shellcheck disable=SC2046
			lg connect mosquitto-2.0.11 connect-tls-ecdsa $(mosq_flags) "${srcf[@]}" -n 5000 -c 50
			# shellcheck disable=SC2046
			lg connect "$TLABEL" connect-tls-ecdsa $(tether_flags) "${srcf[@]}" -n 5000 -c 50
		done
		tether_stop
		mosq_stop
		;;
	d2c | latency)
		rate=(); name=qos1-max
		if [ "$g" = latency ]; then rate=(-rate 10000); name=qos1-rate10000; fi
		mosq_start
		tether_start --device-rate "$DEVICE_RATE"
		for _ in $(seq "$REPS"); do
			# shellcheck disable=SC2046
			lg pubsub mosquitto-2.0.11 "$name" $(mosq_flags) -pubs 10 -subs 1 -qos 1 -size 100 -duration 10s "${rate[@]}"
			before=$(telemetry_last)
			# shellcheck disable=SC2046
			lg pubsub "$TLABEL" "$name" $(tether_flags) -pubs 10 -subs 0 -qos 1 -size 100 -duration 10s "${rate[@]}" \
				-topic 'devices/{id}/messages/events/'
			sleep 3 # unacknowledged messages still committing
			read -r stored distinct < <(telemetry_count "$before" | tr '|' ' ')
			appended=$(($(telemetry_last) - before)) # seq is contiguous: immune to the stream's trim (1M rows)
			last=$(tail -1 "$OUT")
			sent=$(jq -r .pub_sent <<<"$last")
			acked=$(jq -r .pub_acked <<<"$last")
			line=$(jq -cn --arg lbl "$TLABEL" --arg nm "$name-stored" --argjson sent "$sent" --argjson acked "$acked" \
				--argjson stored "$stored" --argjson distinct "$distinct" --argjson before "$before" --argjson appended "$appended" \
				'{test: "stored", label: $lbl, name: $nm, pub_sent: $sent, pub_acked: $acked, appended: $appended, stored: $stored,
				  stored_distinct: $distinct, acked_not_stored_min: ([0, $acked - $distinct] | max),
				  sent_not_stored: ($sent - $distinct), seq_before: $before, time: (now | todate)}')
			record "$line"
			log "tether $name: sent $sent, acked $acked, stored $stored ($distinct distinct)"
		done
		tether_stop
		mosq_stop
		;;
	silent)
		mosq_start
		tether_start
		for _ in $(seq "$REPS"); do
			# shellcheck disable=SC2046
			lg churn mosquitto-2.0.11 churn-silent-ka5 $(mosq_flags) "${srcf[@]}" -mode silent -keepalive 5 -n 500 -c 50 -will=false
			# shellcheck disable=SC2046
			lg churn "$TLABEL" churn-silent-ka5 $(tether_flags) "${srcf[@]}" -mode silent -keepalive 5 -n 500 -c 50 -will=false
		done
		tether_stop
		mosq_stop
		;;
	gobench)
		# The gateway's own numbers, in process, from the committed tree in $WORK/src:
		# server pinned to CPU 1, devices (a child process) to CPU 0. Profiles are
		# taken in a separate pass: heap profiling at rate 1 inflates the memory figures.
		gb=$(dirname "$OUT")/gobench-${TL:0:7}.txt
		prof=$WORK/prof
		mkdir -p "$prof"
		bench() { # VAR=value... PATTERN
			local pat=${!#} envs=("${@:1:$#-1}")
			# shellcheck disable=SC2046
			env "${envs[@]}" TETHER_BENCH_CONNS="${GOBENCH_CONNS:-5000}" TETHER_BENCH_CONNECTS=3000 TETHER_BENCH_DEVICE_CPUS="$LG_CPU" \
				$(pin_broker) go test ./internal/gateway -run '^$' -benchtime 1x -count 1 -bench "$pat"
		}
		(cd "$WORK/src"
			for env in GOGC= GOGC=50 GODEBUG=adaptivestackstart=0; do
				echo "### env: $env"
				bench "$env" 'IdleTLSConn|IdlePing|TLSConnect'
			done
			echo "### profiles (gateway, default env; numbers inflated by profiling)"
			bench TETHER_BENCH_HEAPPROFILE="$prof/heap.pprof" TETHER_BENCH_CPUPROFILE="$prof/cpu.pprof" 'IdleTLSConn/gateway|TLSConnect/gateway|IdlePing/gateway'
			profiles) 2>&1 | tee "$gb"
		;;
	profiles) profiles ;;
	perf)
		# Where tether's CPU goes (perf, call graphs) during 5,000 connects, an idle
		# hold of $HOLD_N with keep-alive pings, and QoS 1 at 10,000 msg/s.
		pdir=$(dirname "$OUT")/perf-${TL:0:7}
		mkdir -p "$pdir"
		perf_run() { # NAME DELAY SECONDS -- loadgen args
			local name=$1 delay=$2 secs=$3 pid
			shift 4
			pid=$(cat "$WORK/tether.pid")
			(sleep "$delay"; perf record -F 999 -g -p "$pid" -o "$WORK/perf-$name.data" -- sleep "$secs" >/dev/null 2>&1) &
			lg "$@"
			wait $! || true
			{ perf report -i "$WORK/perf-$name.data" --children --sort sym -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -150; } >"$pdir/$name.txt" || true
		}
		tether_start --device-rate "$DEVICE_RATE"
		# shellcheck disable=SC2046
		perf_run connect 0.5 6 -- connect "$TLABEL perf" connect-perf $(tether_flags) "${srcf[@]}" -n 5000 -c 50
		# shellcheck disable=SC2046
		perf_run d2c-10k 3 6 -- pubsub "$TLABEL perf" qos1-rate10000-perf $(tether_flags) -pubs 10 -subs 0 -qos 1 -size 100 \
			-duration 10s -rate 10000 -topic 'devices/{id}/messages/events/'
		tether_stop
		tether_start
		# shellcheck disable=SC2046
		perf_run idle-hold 22 15 -- hold "$TLABEL perf" hold-perf $(tether_flags) "${srcf[@]}" -n "$HOLD_N" -c 50 -keepalive 60 -hold 30s
		tether_stop
		;;
	gctrace)
		# The Go runtime's own account of a hold: live heap, heap goal and stack scan
		# size at every GC (GODEBUG=gctrace=1 on tether's stderr).
		: >"$WORK/tether.log"
		TETHER_ENV=GODEBUG=gctrace=1 hold_once tether "$TLABEL gctrace"
		grep -E '^gc ' "$WORK/tether.log" >"$(dirname "$OUT")/gctrace-${TL:0:7}.txt" || true
		;;
	slope)
		# Marginal memory per connection: tether holding 5,000 vs $HOLD_N (see hold).
		HOLD_N=5000 hold_once tether "$TLABEL"
		;;
	*) echo "unknown group $g" >&2; exit 2 ;;
	esac
done
log "results in $OUT"
"$LG" summarize "$OUT" || true
