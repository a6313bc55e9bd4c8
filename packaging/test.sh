#!/usr/bin/env bash
# Install what is needed, build, and run every test: the suite as built for
# use, then again under AddressSanitizer and UndefinedBehaviorSanitizer; each
# fuzzing harness briefly (clang, libFuzzer); and the tests of the kiosk's sync
# worker and the hub's thread pool under ThreadSanitizer.
# A run that finds no tests fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash packaging/deps.sh test
# The console's browser test: Debian's chromium driven from node by puppeteer-core (npm ci
# below), pdftoppm for its printed poster; Debian's node and npm unless a node with npm is there.
bash packaging/deps.sh only chromium poppler-utils zbar-tools fonts-noto-cjk
command -v node >/dev/null && command -v npm >/dev/null || bash packaging/deps.sh only nodejs npm
jobs=$(nproc)

echo "== build (RelWithDebInfo) =="
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTINGZI_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
echo "== puppeteer-core for the console's browser test (npm ci, pinned by tests/console/package-lock.json) =="
bash tests/console/node_setup.sh build/tests/console-node
echo "== tests =="
(cd build && ctest --no-tests=error --output-on-failure -j "$jobs" -LE bench --timeout 600)
echo "== benchmarks (BENCH lines; each fails past its budget) =="
bench_rc=0
(cd build && ctest --no-tests=error --output-on-failure -L bench -V --timeout 600 >bench.log 2>&1) || bench_rc=$?
grep -E 'BENCH|BUDGET|tests passed|tests failed' build/bench.log || true
[ "$bench_rc" -eq 0 ] || { echo "benchmarks failed (status $bench_rc): see build/bench.log" >&2; exit 1; }

echo "== build (ASan + UBSan) =="
cmake -S . -B build-san -DCMAKE_BUILD_TYPE=Debug -DTINGZI_ASAN=ON -DTINGZI_UBSAN=ON -DTINGZI_WERROR=ON >/dev/null
cmake --build build-san -j "$jobs"
# The hub's PostgreSQL store runs under the sanitizers through its unit tests (unit.*.pg); the sync
# tests' PostgreSQL twins and the several-nodes test drive the same store code through the same server
# as their SQLite runs here, and ran above: left out here to keep the whole run within its time.
echo "== tests under ASan + UBSan (benchmarks, sync tests' PostgreSQL twins and several nodes excluded) =="
(cd build-san && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ctest --no-tests=error --output-on-failure -j "$jobs" -LE bench -E '^(sync[.].*[.]pg|nodes[.].*)$' --timeout 600)

echo "== fuzzing: every harness, a fixed number of runs (clang, libFuzzer + ASan + UBSan) =="
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTINGZI_FUZZ=ON -DTINGZI_WERROR=ON >/dev/null
cmake --build build-fuzz -j "$jobs" --target tingzi_fuzzers
(cd build-fuzz && ctest --no-tests=error --output-on-failure -j "$jobs" -L fuzz)

echo "== build (ThreadSanitizer) =="
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DTINGZI_TSAN=ON -DTINGZI_WERROR=ON >/dev/null
cmake --build build-tsan -j "$jobs" --target tingzi_tsan_tests
echo "== the kiosk's sync worker and the hub's thread pool under ThreadSanitizer =="
(cd build-tsan && ctest --no-tests=error --output-on-failure -j "$jobs" -L tsan --timeout 600)
