#!/usr/bin/env bash
# Register N devices dev-0 .. dev-(N-1) in a running tether, all sharing one
# primary key, through the service API (PUT /devices/{id}), with one curl
# process doing up to 64 requests in parallel.
#   bench/provision.sh TETHER_BIN DATA_DIR HTTPS_ADDR N KEY
# KEY is the base64 primary key every device gets (loadgen signs with it: -sas-key KEY).
# Create-only: run it on a fresh data folder (an existing device answers 409 and fails the run).
set -euo pipefail
tether=${1:?tether binary}; data=${2:?data folder}; https=${3:?https addr, e.g. 127.0.0.1:18443}; n=${4:?count}; key=${5:?base64 key}
port=${https##*:}
key2=$(printf '%s' "$key" | rev)   # any other valid base64 of the same length: the secondary key
[ "$(printf '%s' "$key2" | base64 -d 2>/dev/null | wc -c)" -ge 16 ] || key2=$key
tok=$("$tether" --data "$data" token generate --policy iothubowner --duration 1h)
cfg=$(mktemp)
trap 'rm -f "$cfg"' EXIT
body=$(printf '{"authentication":{"symmetricKey":{"primaryKey":"%s","secondaryKey":"%s"}}}' "$key" "$key2")
body=${body//\"/\\\"}
{
  for ((i = 0; i < n; i++)); do
    [ "$i" -gt 0 ] && echo next
    printf 'url = "https://localhost:%s/devices/dev-%d?api-version=2021-04-12"\n' "$port" "$i"
    printf 'request = PUT\ndata = "%s"\n' "$body"
    printf 'header = "Authorization: %s"\nheader = "Content-Type: application/json"\n' "$tok"
    printf 'cacert = %s/tls/ca.pem\noutput = /dev/null\nwrite-out = "%%{http_code}\\n"\n' "$data"
    printf 'connect-to = localhost:%s:127.0.0.1:%s\n' "$port" "$port"
  done
} > "$cfg"
start=$(date +%s.%N)
codes=$(curl --silent --parallel --parallel-max 64 -K "$cfg" 2>/dev/null | sort | uniq -c)
end=$(date +%s.%N)
echo "provisioned $n devices in $(echo "$end - $start" | bc) s; HTTP status counts:"
echo "$codes"
ok=$(echo "$codes" | awk '$2 == 200 || $2 == 201 {s += $1} END {print s + 0}')
[ "$ok" -eq "$n" ] || { echo "provision: only $ok of $n devices created" >&2; exit 1; }
