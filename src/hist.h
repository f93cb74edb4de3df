/* Latency histograms: fixed buckets from 25 us to 10 s, fine below a millisecond (where a
 * memcached behind a proxy answers) and coarse above it, so that a p99 of a sub-millisecond
 * service can be read off them. Each worker writes its own copy; readers add them up. */
#ifndef RP_HIST_H
#define RP_HIST_H

#include <stdint.h>

/* Upper bounds in microseconds of the finite buckets; one more bucket (+Inf) follows. */
#define HIST_BOUNDS_US(X)                                                                          \
    X(25) X(50) X(75) X(100) X(150) X(200) X(300) X(400) X(500) X(750) X(1000) X(1500) X(2000)     \
        X(3000) X(5000) X(7500) X(10000) X(25000) X(50000) X(100000) X(250000) X(500000)           \
            X(1000000) X(2500000) X(5000000) X(10000000)
#define HIST_ONE(us) +1
#define HIST_FINITE  (0 HIST_BOUNDS_US(HIST_ONE))
#define HIST_BUCKETS (HIST_FINITE + 1)

/* Per-bucket (not cumulative) counts and the sum of the samples. */
struct hist {
    uint64_t bucket[HIST_BUCKETS];
    uint64_t sum_ns;
};

extern const uint32_t hist_bounds_us[HIST_FINITE];

/* The bucket of a sample of ns nanoseconds (a binary search over 26 bounds: 5 compares). */
static inline uint32_t hist_bucket(uint64_t ns)
{
    uint64_t us = ns / 1000;
    uint32_t lo = 0, hi = HIST_FINITE; /* the answer is in [lo, hi] */
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (us <= hist_bounds_us[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Adds a sample; only the owning worker writes h (relaxed stores, as the counters). */
static inline void hist_record(struct hist *h, uint64_t ns)
{
    uint32_t b = hist_bucket(ns);
    __atomic_store_n(&h->bucket[b], h->bucket[b] + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&h->sum_ns, h->sum_ns + ns, __ATOMIC_RELAXED);
}

#endif
