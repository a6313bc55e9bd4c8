#!/usr/bin/env bash
# brief.sh HARNESS WORKDIR [RUNS] — what `ctest -L fuzz` runs for one harness:
# every input kept in tests/fuzz/regressions/HARNESS/ once (each was a crash
# that is fixed), then RUNS (default 20000) fuzzing runs with a fixed seed from
# tests/fuzz/corpus/HARNESS/. New inputs go to WORKDIR, never into the tree;
# a crash leaves its input in WORKDIR/artifacts/ and fails the test.
set -euo pipefail
bin=$1 work=$2 runs=${3:-20000}
here=$(cd "$(dirname "$0")" && pwd)
name=$(basename "$bin")
# shellcheck source=tests/fuzz/lib.sh
. "$here/lib.sh"
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
mapfile -t flags < <(fuzz_flags "$name" "$here")
regs=("$here/regressions/$name"/*)
if [ -e "${regs[0]}" ]; then
	echo "== $name: replaying ${#regs[@]} kept crash input(s)"
	"$bin" "${flags[@]}" "${regs[@]}"
fi
echo "== $name: $runs runs from $(find "$here/corpus/$name" -type f 2>/dev/null | wc -l) seeds"
rc=0
"$bin" "${flags[@]}" -runs="$runs" -seed=1 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
	"$work/corpus" "$here/corpus/$name" >"$work/log" 2>&1 || rc=$?
grep -E '^#[0-9]+ +(INITED|DONE)|^stat::|^Done' "$work/log" || true
if [ "$rc" -ne 0 ] || [ -n "$(ls -A "$work/artifacts")" ]; then
	tail -n 60 "$work/log" >&2
	echo "$name: failed (exit $rc); crash inputs in $work/artifacts" >&2
	exit 1
fi
