#!/usr/bin/env bash
# run.sh HOURS [CORPUS_DIR [HARNESS...]] — the long fuzzing campaign.
#
# Runs every harness built in build-fuzz (or $TINGZI_FUZZ_BUILD) for its share
# of HOURS of wall time, as many at once as there are cores ($TINGZI_FUZZ_JOBS
# to choose), each from its seeds (tests/fuzz/corpus/HARNESS) and the corpus
# grown by earlier campaigns in CORPUS_DIR/HARNESS (default
# ~/.cache/tingzi-fuzz; never the source tree). Logs and crash inputs go to
# CORPUS_DIR/runs/DATE/. At the end it prints, per harness: executions,
# executions a second, coverage (libFuzzer's cov: edges and ft: features at
# the end), corpus size and crashes. A crash stops that harness (its input is
# in the run's artifacts/HARNESS/); keep it in tests/fuzz/regressions/HARNESS/
# once fixed. Exit status 1 when any harness crashed. Naming harnesses
# (fuzz_push_body ...) runs only those, sharing HOURS among them.
# $TINGZI_FUZZ_ARGS adds libFuzzer flags (e.g. -max_len=4096: shorter
# inputs, more executions a second).
#
# Build first:  CC=clang cmake -S . -B build-fuzz -DTINGZI_FUZZ=ON && cmake --build build-fuzz --target tingzi_fuzzers
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: run.sh HOURS [CORPUS_DIR [HARNESS...]]" >&2; exit 2; }
hours=$1
here=$(cd "$(dirname "$0")" && pwd)
build=${TINGZI_FUZZ_BUILD:-$here/../../build-fuzz}
corpus=${2:-${XDG_CACHE_HOME:-$HOME/.cache}/tingzi-fuzz}
jobs=${TINGZI_FUZZ_JOBS:-$(nproc)}
# shellcheck source=tests/fuzz/lib.sh
. "$here/lib.sh"

if [ $# -ge 3 ]; then
	bins=()
	for h in "${@:3}"; do bins+=("$build/tests/$h"); done
else
	mapfile -t bins < <(find "$build/tests" -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x | sort)
fi
[ ${#bins[@]} -gt 0 ] || { echo "run.sh: no harnesses in $build/tests (build with -DTINGZI_FUZZ=ON)" >&2; exit 2; }
secs=$(awk -v h="$hours" -v j="$jobs" -v n=${#bins[@]} 'BEGIN { s = int(h * 3600 * j / n); print (s < 10 ? 10 : s) }')
out=$corpus/runs/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out/logs"
echo "run.sh: ${#bins[@]} harnesses, ${secs} s each, $jobs at a time; corpus $corpus, logs $out/logs"

one() {
	local bin=$1 name
	name=$(basename "$bin")
	mkdir -p "$corpus/$name" "$out/artifacts/$name"
	mapfile -t flags < <(fuzz_flags "$name" "$here")
	# shellcheck disable=SC2086 # extra flags, split on spaces
	"$bin" "${flags[@]}" ${TINGZI_FUZZ_ARGS:-} -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/$name/" "$corpus/$name" "$here/corpus/$name" \
		>"$out/logs/$name.log" 2>&1 || true
	echo "run.sh: $name done"
}
export -f one fuzz_flags
export here corpus out secs
printf '%s\n' "${bins[@]}" | xargs -P "$jobs" -I{} bash -c 'one "$@"' _ {}

crashed=0
printf '\n%-18s %14s %9s %7s %7s %8s %8s\n' harness executions exec/s cov ft corpus crashes
for bin in "${bins[@]}"; do
	name=$(basename "$bin")
	log=$out/logs/$name.log
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
	cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	files=$(find "$corpus/$name" -type f | wc -l)
	crashes=$(find "$out/artifacts/$name" -type f | wc -l)
	[ "$crashes" -eq 0 ] || crashed=1
	printf '%-18s %14s %9s %7s %7s %8s %8s\n' "$name" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$files" "$crashes"
done
[ $crashed -eq 0 ] || { echo "run.sh: crash inputs under $out/artifacts" >&2; exit 1; }
