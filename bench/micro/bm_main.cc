/* Entry point of bench_micro: google-benchmark's main over the benchmarks of bm_*.cc. */
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
