/* Key distribution: ketama, modula and random rings built and searched as twemproxy 0.5.0
 * does, hash_tag narrowing, and the key-to-server routing built on them. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash/hash.h"
#include "hash/hash_dist.h"

#define KETAMA_POINTS_PER_SERVER 160 /* for a server of average weight */
#define KETAMA_POINTS_PER_HASH   4   /* one md5 digest gives four 32-bit points */
/* twemproxy 0.5.0 formats "<name>-<i>" into a 273-byte buffer and, when that truncates, hashes
 * only the first 272 bytes; long server names hash the same truncated way here */
#define KETAMA_MAX_NAME_HASHED 272

static const char *const dist_names[DIST_COUNT] = {
    [DIST_KETAMA] = "ketama",
    [DIST_MODULA] = "modula",
    [DIST_RANDOM] = "random",
};

int dist_from_name(const char *name, size_t len)
{
    for (int i = 0; i < DIST_COUNT; i++) {
        if (strlen(dist_names[i]) == len && memcmp(dist_names[i], name, len) == 0) {
            return i;
        }
    }
    return -1;
}

const char *dist_name(enum dist_type type)
{
    if ((unsigned)type >= DIST_COUNT) {
        return NULL;
    }
    return dist_names[type];
}

uint32_t dist_ketama_points(uint32_t weight, uint32_t total_weight, uint32_t nlive)
{
    float pct, scaled;

    if (total_weight == 0) {
        return 0;
    }
    /*
     * Single precision on purpose, step by step as twemproxy evaluates it: the product is a
     * float, the 1e-10 nudge is added in double and the sum rounded back to float before
     * floorf. Doing this in double instead gives other counts for some weight mixes.
     */
    pct = (float)weight / (float)total_weight;
    scaled = pct * (float)KETAMA_POINTS_PER_SERVER / (float)KETAMA_POINTS_PER_HASH * (float)nlive;
    return (uint32_t)(floorf((float)((double)scaled + 0.0000000001)) *
                      (float)KETAMA_POINTS_PER_HASH);
}

/*
 * twemproxy does not keep servers in configuration order: its config validation sorts each
 * pool's servers by ring name (shorter names first, then bytewise) to find duplicates, and
 * that sorted array is what its rings are built from. So modula's continuum, and which server
 * wins a ketama tie, follow name order; we build in that order too and map back to the
 * caller's (configuration) indices.
 */
static int name_order_cmp(const struct dist_server *servers, uint32_t a, uint32_t b)
{
    const struct dist_server *sa = &servers[a], *sb = &servers[b];
    int c;

    if (sa->ring_name_len != sb->ring_name_len) {
        return sa->ring_name_len < sb->ring_name_len ? -1 : 1;
    }
    c = memcmp(sa->ring_name, sb->ring_name, sa->ring_name_len);
    if (c != 0) {
        return c;
    }
    return a < b ? -1 : a > b; /* duplicate names (twemproxy refuses them): keep config order */
}

/* order[0..n) = server indices in twemproxy's order. Insertion sort: pools are small and this
 * runs only when a ring is built. */
static void name_order(const struct dist_server *servers, uint32_t n, uint32_t *order)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = i;

        while (j > 0 && name_order_cmp(servers, order[j - 1], i) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
}

/* A ketama point while the ring is sorted: rank is the server's position in name order. */
struct ketama_sort_point {
    uint32_t value;
    uint32_t rank;
    uint32_t index;
};

/* Ring order: by value; equal values keep twemproxy's continuum order (its glibc qsort is a
 * stable merge sort there), i.e. the server first in name order wins a tie. */
static int ketama_point_cmp(const void *a, const void *b)
{
    const struct ketama_sort_point *pa = a, *pb = b;

    if (pa->value != pb->value) {
        return pa->value < pb->value ? -1 : 1;
    }
    if (pa->rank != pb->rank) {
        return pa->rank < pb->rank ? -1 : 1;
    }
    return 0;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Fills points[0..npoints) with the sorted ketama ring. npoints was counted with the same
 * formula; order is name_order's result. Returns 0, or -1 on allocation failure. */
static int ketama_fill(struct dist_point *points, uint32_t npoints,
                       const struct dist_server *servers, const uint32_t *order, uint32_t n,
                       uint32_t total_weight, uint32_t nlive, size_t longest_name)
{
    struct ketama_sort_point *tmp;
    char *name;
    uint32_t np = 0;

    tmp = malloc((size_t)npoints * sizeof(*tmp));
    name = malloc(longest_name + 12);
    if (tmp == NULL || name == NULL) {
        free(tmp);
        free(name);
        return -1;
    }
    for (uint32_t r = 0; r < n; r++) {
        const struct dist_server *srv = &servers[order[r]];
        uint32_t nhash;

        if (!srv->live) {
            continue;
        }
        nhash = dist_ketama_points(srv->weight, total_weight, nlive) / KETAMA_POINTS_PER_HASH;
        for (uint32_t i = 0; i < nhash; i++) {
            uint8_t digest[16];
            size_t len;

            /* "<ring name>-<i>", i from 0: what libmemcached's ketama hashes */
            memcpy(name, srv->ring_name, srv->ring_name_len);
            len = srv->ring_name_len;
            len += (size_t)snprintf(name + len, 12, "-%u", (unsigned)i);
            if (len > KETAMA_MAX_NAME_HASHED) {
                len = KETAMA_MAX_NAME_HASHED;
            }
            hash_md5_digest(name, len, digest);
            for (int k = 0; k < KETAMA_POINTS_PER_HASH; k++) {
                tmp[np].value = le32(digest + 4 * k);
                tmp[np].rank = r;
                tmp[np].index = order[r];
                np++;
            }
        }
    }
    qsort(tmp, np, sizeof(*tmp), ketama_point_cmp);
    for (uint32_t i = 0; i < np; i++) {
        points[i].value = tmp[i].value;
        points[i].index = tmp[i].index;
    }
    free(tmp);
    free(name);
    return 0;
}

/* The bucket table of a ketama ring (see struct dist): 2^bits buckets, bits the smallest with
 * at least as many buckets as points (at most 2^20). Left NULL when memory is short: dist_pick
 * then searches. */
static void ketama_index(struct dist *d)
{
    uint32_t bits = 1;
    while (bits < 20 && (1u << bits) < d->npoints)
        bits++;
    uint32_t n = 1u << bits, shift = 32 - bits, p = 0;
    uint32_t *b = malloc((size_t)n * sizeof(*b));
    if (b == NULL)
        return;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t low = (uint64_t)i << shift; /* the bucket's lowest hash */
        while (p < d->npoints && d->points[p].value < low)
            p++;
        b[i] = p;
    }
    d->bucket = b;
    d->bucket_bits = bits;
}

int dist_build(struct dist *d, enum dist_type type, const struct dist_server *servers, uint32_t n)
{
    uint64_t npoints = 0, total_weight = 0;
    uint32_t nlive = 0;
    size_t longest_name = 0;
    uint32_t *order = NULL;

    memset(d, 0, sizeof(*d));
    d->type = type;
    d->nservers = n;

    for (uint32_t s = 0; s < n; s++) {
        if (servers[s].live) {
            nlive++;
            total_weight += servers[s].weight;
            if (servers[s].ring_name_len > longest_name) {
                longest_name = servers[s].ring_name_len;
            }
        }
    }
    d->nlive = nlive;
    if (nlive == 0) {
        return 0;
    }
    if (total_weight > UINT32_MAX) {
        goto out_fail; /* twemproxy sums weights in 32 bits; refuse rather than wrap */
    }

    for (uint32_t s = 0; s < n; s++) {
        if (!servers[s].live) {
            continue;
        }
        switch (type) {
        case DIST_KETAMA:
            npoints += dist_ketama_points(servers[s].weight, (uint32_t)total_weight, nlive);
            break;
        case DIST_MODULA:
            npoints += servers[s].weight;
            break;
        case DIST_RANDOM:
            npoints += 1; /* random ignores weights */
            break;
        default:
            goto out_fail;
        }
    }
    if (npoints == 0) {
        return 0;
    }
    if (npoints > UINT32_MAX || npoints > SIZE_MAX / sizeof(struct dist_point)) {
        goto out_fail;
    }
    d->points = malloc((size_t)npoints * sizeof(struct dist_point));
    order = malloc((size_t)n * sizeof(*order));
    if (d->points == NULL || order == NULL) {
        goto out_fail;
    }
    name_order(servers, n, order);

    if (type == DIST_KETAMA) {
        if (ketama_fill(d->points, (uint32_t)npoints, servers, order, n, (uint32_t)total_weight,
                        nlive, longest_name) != 0) {
            goto out_fail;
        }
        d->npoints = (uint32_t)npoints;
        free(order);
        ketama_index(d);
        return 0;
    }

    /* modula and random: live servers in name order, modula repeating each one weight times */
    for (uint32_t r = 0; r < n; r++) {
        uint32_t s = order[r], reps;

        if (!servers[s].live) {
            continue;
        }
        reps = type == DIST_MODULA ? servers[s].weight : 1;
        for (uint32_t k = 0; k < reps; k++) {
            d->points[d->npoints].value = 0;
            d->points[d->npoints].index = s;
            d->npoints++;
        }
    }
    free(order);
    return 0;

out_fail:
    free(order);
    free(d->points);
    memset(d, 0, sizeof(*d));
    d->type = type;
    return -1;
}

uint32_t dist_pick(const struct dist *d, uint32_t hash)
{
    uint32_t lo, hi;

    if (d->npoints == 0) {
        return UINT32_MAX;
    }
    switch (d->type) {
    case DIST_KETAMA:
        /* first point at or after hash; past the last one wraps to the first */
        if (d->bucket != NULL) {
            lo = d->bucket[hash >> (32 - d->bucket_bits)];
            while (lo < d->npoints && d->points[lo].value < hash)
                lo++;
            return d->points[lo == d->npoints ? 0 : lo].index;
        }
        lo = 0;
        hi = d->npoints;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;

            if (d->points[mid].value < hash) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return d->points[lo == d->npoints ? 0 : lo].index;
    case DIST_MODULA:
        return d->points[hash % d->npoints].index;
    case DIST_RANDOM:
        return d->points[(uint32_t)random() % d->npoints].index;
    default:
        return UINT32_MAX;
    }
}

void dist_free(struct dist *d)
{
    free(d->points);
    free(d->bucket);
    d->points = NULL;
    d->bucket = NULL;
    d->npoints = 0;
}

void dist_apply_hash_tag(const char tag[2], const char **key, size_t *len)
{
    const char *k = *key, *start, *end;
    size_t n = *len;

    if (tag == NULL || (tag[0] == '\0' && tag[1] == '\0') || n == 0) {
        return;
    }
    /* only the first tag[0] is tried: if no tag[1] follows it with a byte between, the whole
     * key is hashed, even when a later tag[0] would have matched */
    start = memchr(k, (unsigned char)tag[0], n);
    if (start == NULL) {
        return;
    }
    end = memchr(start + 1, (unsigned char)tag[1], n - (size_t)(start + 1 - k));
    if (end == NULL || end - start < 2) {
        return;
    }
    *key = start + 1;
    *len = (size_t)(end - start - 1);
}

uint32_t dist_route(const struct dist *d, enum hash_type h, const char tag[2], const char *key,
                    size_t len)
{
    uint32_t hash;

    if (d->npoints == 0) {
        return UINT32_MAX;
    }
    if (d->nservers == 1) {
        return 0; /* twemproxy neither hashes nor looks at the ring for a single server */
    }
    if (d->type == DIST_RANDOM) {
        return dist_pick(d, 0);
    }
    dist_apply_hash_tag(tag, &key, &len);
    hash = len == 0 ? 0 : hash_key(h, key, len);
    return dist_pick(d, hash);
}
