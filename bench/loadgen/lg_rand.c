/* xoshiro256**, bounded integers and the rejection-inversion Zipf sampler (see lg_rand.h). */
#include "lg_rand.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void lg_rng_seed(struct lg_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t lg_rng_next(struct lg_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double lg_rng_double(struct lg_rng *r)
{
    return (double)(lg_rng_next(r) >> 11) * 0x1.0p-53;
}

uint32_t lg_rng_below(struct lg_rng *r, uint32_t n)
{
    return (uint32_t)(((lg_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* log1p(x)/x and expm1(x)/x, with their series near 0 where the quotient loses precision */
static double helper1(double x)
{
    if (fabs(x) > 1e-8)
        return log1p(x) / x;
    return 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}

static double helper2(double x)
{
    if (fabs(x) > 1e-8)
        return expm1(x) / x;
    return 1.0 + x * 0.5 * (1.0 + x * (1.0 / 3.0) * (1.0 + 0.25 * x));
}

/* h(x) = x^-s, and H, an antiderivative of h, with its inverse */
static double zh(const struct lg_zipf *z, double x)
{
    return exp(-z->s * log(x));
}

static double zH(const struct lg_zipf *z, double x)
{
    double lx = log(x);
    return helper2((1.0 - z->s) * lx) * lx;
}

static double zHinv(const struct lg_zipf *z, double x)
{
    double t = x * (1.0 - z->s);
    if (t < -1.0)
        t = -1.0;
    return exp(helper1(t) * x);
}

int lg_zipf_init(struct lg_zipf *z, uint32_t n, double s)
{
    if (n < 1 || !(s > 0.0))
        return -1;
    z->s = s;
    z->n = (double)n;
    z->h_x1 = zH(z, 1.5) - 1.0;
    z->h_n = zH(z, z->n + 0.5);
    z->sc = 2.0 - zHinv(z, zH(z, 2.5) - zh(z, 2.0));
    return 0;
}

uint32_t lg_zipf_next(const struct lg_zipf *z, struct lg_rng *r)
{
    /* the expected number of rounds is below 1.1 for every s and n; the cap only guards
     * against a floating-point pathology turning into an endless loop */
    double k = 1.0;
    for (int round = 0; round < 1000; round++) {
        double u = z->h_n + lg_rng_double(r) * (z->h_x1 - z->h_n);
        double x = zHinv(z, u);
        k = floor(x + 0.5);
        if (k < 1.0)
            k = 1.0;
        else if (k > z->n)
            k = z->n;
        if (k - x <= z->sc || u >= zH(z, k + 0.5) - zh(z, k))
            break;
    }
    return (uint32_t)k - 1;
}
