/* Random numbers for the load generator: xoshiro256** per thread, bounded integers, and a Zipf
 * sampler (rejection-inversion, Hormann & Derflinger 1996) that needs no table, so the key
 * count can be large. */
#ifndef LG_RAND_H
#define LG_RAND_H

#include <stdint.h>

struct lg_rng {
    uint64_t s[4];
};

/* Seeds the generator from one 64-bit value (expanded with splitmix64). */
void lg_rng_seed(struct lg_rng *r, uint64_t seed);
uint64_t lg_rng_next(struct lg_rng *r);
/* Uniform in [0, 1). */
double lg_rng_double(struct lg_rng *r);
/* Uniform in [0, n), n >= 1 (Lemire's multiply; the bias is below 2^-32). */
uint32_t lg_rng_below(struct lg_rng *r, uint32_t n);

/* Zipf over ranks 1..n with P(k) proportional to k^-s. */
struct lg_zipf {
    double s;
    double n;
    double h_x1; /* H(1.5) - 1 */
    double h_n;  /* H(n + 0.5) */
    double sc;   /* acceptance shortcut: 2 - Hinv(H(2.5) - h(2)) */
};

/* Prepares a sampler; returns 0, or -1 if n < 1 or s <= 0. */
int lg_zipf_init(struct lg_zipf *z, uint32_t n, double s);
/* A rank in [0, n): 0 is the most frequent. */
uint32_t lg_zipf_next(const struct lg_zipf *z, struct lg_rng *r);

#endif
