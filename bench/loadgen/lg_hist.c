/* Log-linear latency histogram (see lg_hist.h). */
#include "lg_hist.h"

#include <math.h>
#include <string.h>

void lg_hist_init(struct lg_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

uint32_t lg_hist_index(uint64_t ns)
{
    if (ns > LG_HIST_MAX)
        ns = LG_HIST_MAX;
    if (ns < 2 * LG_HIST_HALF)
        return (uint32_t)ns;
    /* msb >= SUB_BITS + 1; shift so that the value keeps SUB_BITS + 1 significant bits */
    unsigned msb = 63u - (unsigned)__builtin_clzll(ns);
    unsigned shift = msb - LG_HIST_SUB_BITS;
    return (shift + 1) * LG_HIST_HALF + (uint32_t)((ns >> shift) - LG_HIST_HALF);
}

uint64_t lg_hist_bucket_high(uint32_t idx)
{
    if (idx < 2 * LG_HIST_HALF)
        return idx;
    unsigned shift = idx / LG_HIST_HALF - 1;
    uint64_t sub = idx % LG_HIST_HALF + LG_HIST_HALF;
    return ((sub + 1) << shift) - 1;
}

void lg_hist_record(struct lg_hist *h, uint64_t ns)
{
    if (ns > LG_HIST_MAX)
        ns = LG_HIST_MAX;
    h->counts[lg_hist_index(ns)]++;
    h->count++;
    h->sum += (double)ns;
    if (ns < h->min)
        h->min = ns;
    if (ns > h->max)
        h->max = ns;
}

void lg_hist_merge(struct lg_hist *dst, const struct lg_hist *src)
{
    for (uint32_t i = 0; i < LG_HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t lg_hist_percentile(const struct lg_hist *h, double p)
{
    if (h->count == 0)
        return 0;
    if (p > 100.0)
        p = 100.0;
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < LG_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t v = lg_hist_bucket_high(i);
            return v > h->max ? h->max : v;
        }
    }
    return h->max;
}

double lg_hist_mean(const struct lg_hist *h)
{
    return h->count ? h->sum / (double)h->count : 0.0;
}
