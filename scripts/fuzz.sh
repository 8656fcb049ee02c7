#!/usr/bin/env bash
# fuzz.sh [MINUTES] [PATTERN] — run every native Go fuzz target of the
# module (found by grepping for "func Fuzz"), one after another, each for
# MINUTES (default 1) with one worker, so that it does not take over a
# shared machine. PATTERN (a grep -E regex) keeps only matching
# "package Target" lines. New failing inputs are written by go test under
# the package's testdata/fuzz/<Target>/; commit them with the fix: they
# then run in every go test as regression inputs.
set -euo pipefail
minutes=${1:-1}
pattern=${2:-.}
cd "$(dirname "$0")/.."
workers=${FUZZ_WORKERS:-1}
targets=$(grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' . | grep -v '^./interop/' |
	while read -r file; do
		pkg=./$(dirname "${file#./}")
		grep -oE '^func Fuzz[A-Za-z0-9_]+' "$file" | sed 's/^func //' | sed "s|^|$pkg |"
	done | sort -u | grep -E "$pattern" || true)
if [ -z "$targets" ]; then
	echo "fuzz.sh: no fuzz target matches $pattern" >&2
	exit 2
fi
failed=0
while read -r pkg target; do
	echo "== $pkg $target (${minutes}m, $workers worker(s))"
	start=$(date +%s)
	if go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "${minutes}m" -parallel "$workers" 2>&1 | tail -n 20; then
		echo "   ok after $(( $(date +%s) - start ))s"
	else
		echo "   FAILED: the failing input is under $pkg/testdata/fuzz/$target/"
		failed=1
	fi
done <<< "$targets"
exit $failed
