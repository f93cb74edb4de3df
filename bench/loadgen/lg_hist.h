/* Latency histogram of the load generator: HdrHistogram's log-linear layout with 2 significant
 * digits (128 linear sub-buckets per power of two), one per thread, merged at the end. */
#ifndef LG_HIST_H
#define LG_HIST_H

#include <stdint.h>

#define LG_HIST_SUB_BITS 7 /* 2^7 = 128 sub-buckets: <= 0.8% error */
#define LG_HIST_HALF     (1u << LG_HIST_SUB_BITS)
#define LG_HIST_TOP_BITS 40 /* values up to 2^40 ns (about 1,100 s) */
#define LG_HIST_MAX      ((1ull << LG_HIST_TOP_BITS) - 1)
#define LG_HIST_BUCKETS  ((LG_HIST_TOP_BITS - LG_HIST_SUB_BITS + 1) * LG_HIST_HALF)

/* Values are nanoseconds. Below 256 ns every value has its own bucket; above, a bucket is at
 * most 1/128 of its value wide, so a percentile is exact to 2 significant digits. */
struct lg_hist {
    uint64_t count;
    uint64_t min;
    uint64_t max; /* exact, not bucketed */
    double sum;   /* exact sum for the mean; a double so that it cannot overflow */
    uint64_t counts[LG_HIST_BUCKETS];
};

void lg_hist_init(struct lg_hist *h);

/* Records one value; values above LG_HIST_MAX are clamped to it. */
void lg_hist_record(struct lg_hist *h, uint64_t ns);

/* Adds src into dst (both initialised). */
void lg_hist_merge(struct lg_hist *dst, const struct lg_hist *src);

/* The value at percentile p (0..100]: the highest value equivalent to the bucket holding the
 * ceil(p/100 * count)-th smallest value, capped by the exact maximum. 0 when empty. */
uint64_t lg_hist_percentile(const struct lg_hist *h, double p);

/* Mean in ns, 0 when empty. */
double lg_hist_mean(const struct lg_hist *h);

/* Bucket index of a value and the highest value of a bucket (exposed for the self-test). */
uint32_t lg_hist_index(uint64_t ns);
uint64_t lg_hist_bucket_high(uint32_t idx);

#endif
