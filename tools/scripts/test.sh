#!/usr/bin/env bash
# Every test: installs what is needed, then
#  1. a -Werror build and ctest (unit tests and the known-answer vectors),
#  2. the same under AddressSanitizer + UndefinedBehaviorSanitizer,
#  3. the libFuzzer harnesses (clang) and a short smoke run of each,
#  4. one short benchmark run, so that the benchmark is known to print.
# TSM_VECTORS overrides the vectors directory (default ../shared/vectors);
# a missing directory fails the vector test.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/scripts/deps.sh
export TSM_VECTORS="${TSM_VECTORS:-$(cd .. && pwd)/shared/vectors}"
jobs=$(nproc)

echo "== build (-Werror) and tests"
cmake -S . -B build -G Ninja -DTSM_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
(cd build && ctest --output-on-failure -j "$jobs")

echo "== ASan + UBSan build and tests"
cmake -S . -B build-asan -G Ninja -DTSM_SANITIZE=ON -DTSM_BENCH=OFF \
    -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j "$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -j "$jobs")

echo "== fuzz harnesses (smoke run)"
CC=clang cmake -S . -B build-fuzz -G Ninja -DTSM_FUZZ=ON -DTSM_TESTS=OFF \
    -DTSM_BENCH=OFF >/dev/null
cmake --build build-fuzz -j "$jobs"
FUZZ_SECONDS="${FUZZ_SECONDS:-20}" bash tests/fuzz/run.sh build-fuzz

echo "== benchmark (short run; figures in docs/BENCHMARKS.md)"
./build/tests/bench/bench_scp --seconds 1
echo "all tests passed"
