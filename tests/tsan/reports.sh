#!/usr/bin/env bash
# reports.sh LOGDIR — run by ctest after the tests labelled tsan: every process
# they started wrote its ThreadSanitizer reports to LOGDIR/tsan.PID (a shell
# test does not see its daemons' exit status). Prints them and fails if any.
set -euo pipefail
shopt -s nullglob
logs=("$1"/tsan.*)
if [ ${#logs[@]} -eq 0 ]; then
	echo "no ThreadSanitizer reports"
	exit 0
fi
for f in "${logs[@]}"; do
	echo "== $f"
	cat "$f"
done
echo "${#logs[@]} process(es) with ThreadSanitizer reports" >&2
exit 1
