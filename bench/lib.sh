# Shared settings and helpers of bench/run.sh (sourced, not run).
#
# Layout under $WORK (default /tmp/tether-bench, never inside the repository):
#   shared/        a writable copy of /work/shared/bench (loadgen, mosquitto conf, certs)
#   shared/bin/loadgen
#   src/           git archive of the commit under test; tether built from it
#   tether         the binary; tether.commit names its commit
#   data/          tether's data folder with $HOLD_N provisioned devices; key.txt
#   tether.pid, tether.log
#
# Ports: tether 127.0.0.1:18443 (HTTPS) and :18885 (MQTT/TLS); mosquitto
# :18830 (plain), :18883 (TLS RSA), :18884 (TLS ECDSA, self-signed) and
# :18886 (TLS ECDSA with tether's certificate chain, the one we compare with).
# 443 and 8883 are left to the other engineers' tests.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
SHARED_SRC=${SHARED_SRC:-/work/shared/bench}
WORK=${WORK:-/tmp/tether-bench}
SH=$WORK/shared
LG=$SH/bin/loadgen
DATA=$WORK/data
TETHER=${TETHER_BIN:-$WORK/tether}
TETHER_HTTPS=127.0.0.1:18443
TETHER_MQTT=127.0.0.1:18885
MOSQ_TLS=127.0.0.1:18886      # mosquitto with tether's own certificate chain (see mosq_start)
MOSQ_TLS_SELF=127.0.0.1:18884 # mosquitto with the shared bench's self-signed certificate
HOLD_N=${HOLD_N:-19500}
REPS=${REPS:-3}
OUT=${OUT:-$BENCH_DIR/results/run-$(date -u +%Y%m%dT%H%M%SZ).jsonl}
BROKER_CPU=${BROKER_CPU-1}
LG_CPU=${LG_CPU-0}
SRC=${SRC-127.0.0.2-127.0.0.50}
export BROKER_CPU

# One benchmark at a time on this machine: every run uses the same ports, and
# runs sharing $WORK share the pid file and the data folder. Sourcing this file
# waits (up to BENCH_LOCK_WAIT seconds, default 1800) for the lock; it is held
# until the script exits. Children never inherit it (9>&- below).
BENCH_LOCK=${BENCH_LOCK:-/tmp/tether-bench.lock}
exec 9>>"$BENCH_LOCK"
if ! flock -n 9; then
	printf 'waiting for %s: another benchmark is running (ports %s, %s)\n' "$BENCH_LOCK" "$TETHER_MQTT" "$MOSQ_TLS" >&2
	flock -w "${BENCH_LOCK_WAIT:-1800}" 9 || { echo "gave up waiting for $BENCH_LOCK" >&2; exit 1; }
fi

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

pin_broker() { if [ -n "$BROKER_CPU" ]; then echo taskset -c "$BROKER_CPU"; fi; }
pin_lg() { if [ -n "$LG_CPU" ]; then echo taskset -c "$LG_CPU"; fi; }

# setup: loadgen from a copy of the shared bench, tether from the commit
# under test (HEAD unless TETHER_BIN is given), a fresh data folder with
# $HOLD_N devices sharing one key.
setup() {
	ulimit -n "$(ulimit -Hn)"
	mkdir -p "$WORK" "$(dirname "$OUT")"
	rm -rf "$SH"
	cp -r "$SHARED_SRC" "$SH"
	chmod -R u+w "$SH"
	rm -rf "$SH/run" "$SH/bin"
	(cd "$SH/loadgen" && go build -o ../bin/loadgen .)
	"$SH/scripts/gen-certs.sh" >/dev/null
	command -v mosquitto >/dev/null || { echo "mosquitto is missing: apt-get install -y mosquitto mosquitto-clients" >&2; exit 1; }
	if [ -z "${TETHER_BIN:-}" ]; then
		rm -rf "$WORK/src"
		mkdir -p "$WORK/src"
		(cd "$REPO" && git archive "${TETHER_REV:-HEAD}" | tar -x -C "$WORK/src")
		(cd "$REPO" && git rev-parse "${TETHER_REV:-HEAD}") >"$WORK/tether.commit"
		(cd "$WORK/src" && go build -o "$WORK/tether" ./cmd/tether)
	else
		echo "custom:$TETHER_BIN" >"$WORK/tether.commit"
	fi
	log "tether $(cat "$WORK/tether.commit")"
	tether_stop
	rm -rf "$DATA"
	tether_start
	head -c 32 /dev/urandom | base64 >"$WORK/key.txt"
	"$BENCH_DIR/provision.sh" "$TETHER" "$DATA" "$TETHER_HTTPS" "$HOLD_N" "$(cat "$WORK/key.txt")"
	tether_stop
}

# tether_start [serve flags...]: a fresh tether pinned to $BROKER_CPU;
# TETHER_ENV (e.g. "GOGC=50") is added to its environment.
tether_start() {
	tether_stop
	# shellcheck disable=SC2086
	env ${TETHER_ENV:-} $(pin_broker) "$TETHER" --data "$DATA" serve --https-addr "$TETHER_HTTPS" --mqtt-addr "$TETHER_MQTT" \
		--log-level warn "$@" >>"$WORK/tether.log" 2>&1 9>&- &
	echo $! >"$WORK/tether.pid"
	for _ in $(seq 100); do
		(exec 3<>/dev/tcp/127.0.0.1/${TETHER_MQTT##*:}) 2>/dev/null && break
		sleep 0.1
	done
	kill -0 "$(cat "$WORK/tether.pid")" || { echo "tether did not start; see $WORK/tether.log" >&2; exit 1; }
	log "tether started (pid $(cat "$WORK/tether.pid"), env '${TETHER_ENV:-}', flags '$*'), VmRSS $(awk '/VmRSS/{print $2" "$3}' /proc/"$(cat "$WORK/tether.pid")"/status)"
}

# tether_stop: stops only the pid we recorded.
tether_stop() {
	local pidf=$WORK/tether.pid pid
	[ -s "$pidf" ] || return 0
	pid=$(cat "$pidf")
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
	fi
	rm -f "$pidf"
}

# mosq_start: the shared bench's mosquitto (conf/mosquitto.conf: TCP_NODELAY,
# no persistence) plus a listener on :18886 that presents tether's own
# certificate chain (leaf + local CA, ECDSA P-256), so that both brokers
# send the same certificates and the load generator verifies the same chain.
mosq_start() {
	{
		cat "$SH/conf/mosquitto.conf"
		printf '\n# tether'"'"'s certificate chain, for like-for-like TLS\nlistener %s 127.0.0.1\ncertfile %s\nkeyfile %s\n' \
			"${MOSQ_TLS##*:}" "$DATA/tls/server.pem" "$DATA/tls/server-key.pem"
	} >"$SH/conf/mosquitto-bench.conf"
	(cd "$SH" && MOSQ_CONF=conf/mosquitto-bench.conf ./scripts/broker.sh start mosquitto >&2 9>&-)
}
mosq_stop() { (cd "$SH" && ./scripts/broker.sh stop mosquitto >&2); }

# lg SUBCMD LABEL NAME [flags...]: loadgen pinned to $LG_CPU, one JSON line to $OUT.
lg() {
	local cmd=$1 label=$2 name=$3
	shift 3
	$(pin_lg) "$LG" "$cmd" "$@" -label "$label" -name "$name" -json "$OUT" -q 9>&-
	sleep 2
}

# Broker-specific loadgen flags: TLS with the broker's CA, and for tether
# the device identities dev-{i} signing SAS tokens with the shared key.
tether_flags() {
	echo -addr "$TETHER_MQTT" -tls -ca "$DATA/tls/ca.pem" -sni localhost -pidfile "$WORK/tether.pid" \
		-id 'dev-{i}' -host localhost -user '{host}/{id}/?api-version=2021-04-12' -pass '{sas}' -sas-key "$(cat "$WORK/key.txt")"
}
mosq_flags() { echo -addr "$MOSQ_TLS" -tls -ca "$DATA/tls/ca.pem" -sni localhost -pidfile "$SH/run/mosquitto.pid"; }
mosq_self_flags() { echo -addr "$MOSQ_TLS_SELF" -tls -ca "$SH/run/certs/ec/server.crt" -sni localhost -pidfile "$SH/run/mosquitto.pid"; }

# telemetry_last: the newest seq of tether's telemetry stream.
telemetry_last() { sqlite3 "$DATA/telemetry.db" 'PRAGMA busy_timeout=5000; SELECT last_seq FROM telemetry_state;' | tail -1; }

# telemetry_count AFTER: rows with seq > AFTER, and distinct (device,
# publisher, sequence) in their payloads (bytes 9..16 of loadgen's payload).
telemetry_count() {
	sqlite3 "$DATA/telemetry.db" "PRAGMA busy_timeout=5000; SELECT count(*), count(DISTINCT device_id || ':' || hex(substr(body, 9, 8))) FROM telemetry WHERE seq > $1;" | tail -1
}

# record JSON: append a line of our own to $OUT.
record() { echo "$1" >>"$OUT"; }
