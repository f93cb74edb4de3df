/* Unit tests for src/mbuf: each ownership step of mbuf.h (receive, get / put, the held
 * counter, pseudo ids, pressure) and the spill space, over a fake engine that counts the
 * buffers given back to it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/io.h"
#include "src/mbuf.h"
#include "tests/fake_pool.h"

/* ---- fixture: a pool over a fake engine ---------------------------------------------- */

struct fx {
    struct fake_pool fp;
};

static int fx_setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));
    if (fx == NULL)
        return -1;
    *state = fx;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *fx = *state;
    fake_pool_close(&fx->fp);
    free(fx);
    return 0;
}

static struct fx *fx_open(void **state, uint32_t size, uint32_t count, uint32_t spill_max)
{
    struct fx *fx = *state;
    fake_pool_open(&fx->fp, size, count, spill_max);
    return fx;
}

/* The shared leak check, and the spill bookkeeping adds up: a spill buffer is either on the
 * free stack or live, never lost from both (this file tests the spill space itself). */
static void assert_no_leak(const struct fx *fx)
{
    const struct mbuf_pool *p = &fx->fp.pool;
    fake_pool_assert_no_leak(&fx->fp);
    assert_int_equal(p->nspill_free + p->spill_live, p->spill_max);
}

/* ---- the arena ---------------------------------------------------------------------- */

static void test_pool_init(void **state)
{
    struct fx *fx = fx_open(state, 4096, 16, 4);
    struct mbuf_pool *p = &fx->fp.pool;
    assert_int_equal(p->size, 4096);
    assert_int_equal(p->count, 16);
    assert_int_equal(p->held, 0);
    assert_int_equal(p->spill_max, 4);
    assert_int_equal(p->nspill_free, 4);
    assert_int_equal(p->spill_live, 0);
    assert_int_equal(p->spill_cur, MBUF_NONE);
    assert_int_equal((uintptr_t)p->arena % (uintptr_t)sysconf(_SC_PAGESIZE), 0);
    for (uint32_t i = 0; i < 16 + 4; i++)
        assert_int_equal(p->refs[i], 0);
    for (uint32_t i = 0; i < 4; i++)
        assert_null(p->spill[i]); /* spill memory comes on demand */
    for (uint32_t i = 0; i < 16; i++)
        assert_ptr_equal(mbuf_data(p, i), p->arena + (size_t)i * 4096);
    assert_int_equal(fx->fp.nreturned, 0); /* nothing is lent or returned by init */
    assert_no_leak(fx);
}

static void test_pool_no_spill(void **state)
{
    struct fx *fx = fx_open(state, 256, 4, 0);
    const uint8_t src[8] = "abcdefg";
    const uint8_t *dst = NULL;
    uint32_t id = 12345;
    assert_int_equal(mbuf_spill(&fx->fp.pool, src, sizeof(src), &dst, &id), 0);
    assert_null(dst);
    assert_int_equal(id, 12345);
    assert_no_leak(fx);
}

/* Step 2: the receive hands the buffer over with one reference; step 5: the put that takes
 * it to zero gives it back, once. */
static void test_received_first_ref(void **state)
{
    struct fx *fx = fx_open(state, 512, 8, 0);
    fake_pool_recv(&fx->fp, 3);
    assert_int_equal(fx->fp.pool.refs[3], 1);
    assert_int_equal(fx->fp.pool.held, 1);
    assert_int_equal(fx->fp.nreturned, 0);
    mbuf_put(&fx->fp.pool, 3);
    assert_int_equal(fx->fp.pool.refs[3], 0);
    assert_int_equal(fx->fp.pool.held, 0);
    fake_pool_assert_returned(&fx->fp, 3, 1);
    assert_int_equal(fx->fp.nreturned, 1);

    /* lent out again and received again: a second life, a second return */
    fake_pool_recv(&fx->fp, 3);
    assert_int_equal(fx->fp.pool.refs[3], 1);
    mbuf_put(&fx->fp.pool, 3);
    fake_pool_assert_returned(&fx->fp, 3, 2);
    assert_no_leak(fx);
}

/* Step 3 / 4: every get is matched by a put, and only the last put gives the buffer back. */
static void test_get_put_counting(void **state)
{
    struct fx *fx = fx_open(state, 512, 8, 0);
    fake_pool_recv(&fx->fp, 0);
    fake_pool_recv(&fx->fp, 5);
    for (int i = 0; i < 3; i++)
        mbuf_get(&fx->fp.pool, 5);
    assert_int_equal(fx->fp.pool.refs[5], 4);
    assert_int_equal(fx->fp.pool.refs[0], 1);
    mbuf_put(&fx->fp.pool, 5); /* the connection is done parsing: slices keep it */
    for (int i = 0; i < 2; i++) {
        mbuf_put(&fx->fp.pool, 5);
        assert_int_equal(fx->fp.nreturned, 0);
    }
    assert_int_equal(fx->fp.pool.refs[5], 1);
    mbuf_put(&fx->fp.pool, 5);
    fake_pool_assert_returned(&fx->fp, 5, 1);
    fake_pool_assert_returned(&fx->fp, 0, 0);
    assert_int_equal(fx->fp.pool.refs[0], 1); /* other buffers untouched */
    mbuf_put(&fx->fp.pool, 0);
    assert_no_leak(fx);
}

/* held counts arena buffers with references: receives raise it, the last put lowers it,
 * extra references do not count twice. */
static void test_held_counter(void **state)
{
    struct fx *fx = fx_open(state, 512, 8, 0);
    for (uint32_t i = 0; i < 6; i++) {
        fake_pool_recv(&fx->fp, i);
        assert_int_equal(fx->fp.pool.held, i + 1);
    }
    mbuf_get(&fx->fp.pool, 2);
    mbuf_get(&fx->fp.pool, 2);
    assert_int_equal(fx->fp.pool.held, 6);
    mbuf_put(&fx->fp.pool, 2);
    mbuf_put(&fx->fp.pool, 2);
    assert_int_equal(fx->fp.pool.held, 6);
    mbuf_put(&fx->fp.pool, 2);
    assert_int_equal(fx->fp.pool.held, 5);
    for (uint32_t i = 0; i < 6; i++)
        if (i != 2)
            mbuf_put(&fx->fp.pool, i);
    assert_int_equal(fx->fp.pool.held, 0);
    assert_no_leak(fx);
}

/* Ids >= MBUF_COPY are bytes outside the arena: get and put do nothing to any count. */
static void test_pseudo_ids_noop(void **state)
{
    struct fx *fx = fx_open(state, 512, 8, 2);
    fake_pool_recv(&fx->fp, 1);
    const uint32_t ids[] = {MBUF_NONE, MBUF_COPY};
    for (size_t k = 0; k < 2; k++) {
        for (int i = 0; i < 5; i++)
            mbuf_get(&fx->fp.pool, ids[k]);
        for (int i = 0; i < 7; i++)
            mbuf_put(&fx->fp.pool, ids[k]);
    }
    for (uint32_t i = 0; i < 8 + 2; i++)
        assert_int_equal(fx->fp.pool.refs[i], i == 1 ? 1 : 0);
    assert_int_equal(fx->fp.pool.held, 1);
    assert_int_equal(fx->fp.nreturned, 0);
    mbuf_put(&fx->fp.pool, 1);
    assert_no_leak(fx);
}

/* Pressure starts when no more than count / 8 arena buffers are left, and ends as soon as
 * one more is back. */
static void test_pressure_threshold(void **state)
{
    struct fx *fx = *state;
    static const struct {
        uint32_t count;
        uint32_t first; /* held count at which pressure starts */
    } rows[] = {
        {1, 1}, {4, 4}, {7, 7}, {8, 7}, {9, 8}, {15, 14}, {16, 14}, {17, 15}, {64, 56}, {100, 88},
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        fx_open(state, 64, rows[r].count, 0);
        assert_false(mbuf_pressure(&fx->fp.pool));
        for (uint32_t i = 0; i < rows[r].count; i++) {
            fake_pool_recv(&fx->fp, i);
            if (mbuf_pressure(&fx->fp.pool) != (i + 1 >= rows[r].first))
                fail_msg("count %u, held %u: pressure %d", rows[r].count, i + 1,
                         mbuf_pressure(&fx->fp.pool));
        }
        /* extra references on a held buffer change nothing */
        mbuf_get(&fx->fp.pool, 0);
        assert_true(mbuf_pressure(&fx->fp.pool));
        mbuf_put(&fx->fp.pool, 0);
        for (uint32_t i = rows[r].count; i-- > 0;) {
            mbuf_put(&fx->fp.pool, i);
            if (mbuf_pressure(&fx->fp.pool) != (i >= rows[r].first))
                fail_msg("count %u, held %u after a put: pressure %d", rows[r].count, i,
                         mbuf_pressure(&fx->fp.pool));
        }
        assert_no_leak(fx);
        fake_pool_close(&fx->fp);
    }
}

/* ---- spill space -------------------------------------------------------------------- */

/* One spill: the bytes are copied, the id is a spill id, and the caller holds one reference
 * besides the filler's own. The caller's put leaves the buffer live (the filler holds it)
 * and never reaches the engine. */
static void test_spill_basic(void **state)
{
    struct fx *fx = fx_open(state, 64, 4, 3);
    struct mbuf_pool *p = &fx->fp.pool;
    const uint8_t *src = fake_pool_recv(&fx->fp, 2);
    const uint8_t *dst;
    uint32_t id;
    assert_int_equal(mbuf_spill(p, src + 5, 10, &dst, &id), 10);
    assert_true(id >= p->count && id < p->count + p->spill_max);
    assert_memory_equal(dst, src + 5, 10);
    assert_ptr_equal(dst, mbuf_data(p, id)); /* a fresh buffer is filled from its start */
    assert_ptr_not_equal(dst, src + 5);
    assert_int_equal(p->spill_cur, id);
    assert_int_equal(p->spill_used, 10);
    assert_int_equal(p->refs[id], 2); /* the filler's and the caller's */
    assert_int_equal(p->spill_live, 1);
    assert_int_equal(p->nspill_free, 2);
    assert_int_equal(p->held, 1);    /* spill buffers are not counted as held */
    assert_int_equal(p->refs[2], 1); /* the arena buffer gained nothing */

    mbuf_get(p, id);
    assert_int_equal(p->refs[id], 3);
    mbuf_put(p, id);
    mbuf_put(p, id);
    assert_int_equal(p->refs[id], 1);
    assert_int_equal(p->spill_live, 1);
    mbuf_put(p, 2);
    fake_pool_assert_returned(&fx->fp, 2, 1);
    assert_int_equal(fx->fp.nreturned, 1);
    assert_no_leak(fx);
}

/* Successive spills fill one buffer contiguously, each with its own reference. */
static void test_spill_contiguous(void **state)
{
    struct fx *fx = fx_open(state, 64, 4, 3);
    struct mbuf_pool *p = &fx->fp.pool;
    const uint8_t *src = fake_pool_recv(&fx->fp, 0);
    const uint8_t *d1, *d2, *d3;
    uint32_t id1, id2, id3;
    assert_int_equal(mbuf_spill(p, src, 10, &d1, &id1), 10);
    assert_int_equal(mbuf_spill(p, src + 10, 20, &d2, &id2), 20);
    assert_int_equal(mbuf_spill(p, src + 40, 1, &d3, &id3), 1);
    assert_int_equal(id1, id2);
    assert_int_equal(id1, id3);
    assert_ptr_equal(d2, d1 + 10);
    assert_ptr_equal(d3, d1 + 30);
    assert_memory_equal(d1, src, 30);
    assert_int_equal(d3[0], src[40]);
    assert_int_equal(p->refs[id1], 4);
    assert_int_equal(p->spill_used, 31);
    assert_int_equal(p->spill_live, 1);
    for (int i = 0; i < 3; i++)
        mbuf_put(p, id1);
    mbuf_put(p, 0);
    assert_no_leak(fx);
}

/* A spill that does not fit copies what fits (fewer bytes than asked); the next call starts
 * a new spill buffer and drops the filler's reference on the full one, which is released
 * when its last slice reference goes. */
static void test_spill_partial_at_boundary(void **state)
{
    struct fx *fx = fx_open(state, 64, 4, 3);
    struct mbuf_pool *p = &fx->fp.pool;
    const uint8_t *src = fake_pool_recv(&fx->fp, 1);
    const uint8_t *d1, *d2, *d3;
    uint32_t id1, id2, id3;
    assert_int_equal(mbuf_spill(p, src, 50, &d1, &id1), 50);
    assert_int_equal(mbuf_spill(p, src + 50, 30, &d2, &id2), 14); /* 64 - 50 */
    assert_int_equal(id2, id1);
    assert_ptr_equal(d2, d1 + 50);
    assert_int_equal(p->spill_used, 64);
    assert_int_equal(p->refs[id1], 3);
    assert_memory_equal(d1, src, 64);

    /* the rest: a new buffer, the full one keeps only the callers' references */
    assert_int_equal(mbuf_spill(p, src + 64, 16, &d3, &id3), 16);
    assert_int_not_equal(id3, id1);
    assert_ptr_equal(d3, mbuf_data(p, id3));
    assert_memory_equal(d3, src + 64, 16);
    assert_int_equal(p->spill_cur, id3);
    assert_int_equal(p->spill_used, 16);
    assert_int_equal(p->refs[id1], 2);
    assert_int_equal(p->refs[id3], 2);
    assert_int_equal(p->spill_live, 2);
    assert_int_equal(p->nspill_free, 1);

    /* last reference on the full one: released (free stack), not given to the engine */
    mbuf_put(p, id1);
    assert_int_equal(p->spill_live, 2);
    mbuf_put(p, id1);
    assert_int_equal(p->refs[id1], 0);
    assert_int_equal(p->spill_live, 1);
    assert_int_equal(p->nspill_free, 2);
    assert_int_equal(p->spill_free[p->nspill_free - 1], id1 - p->count);
    assert_int_equal(fx->fp.nreturned, 0);

    mbuf_put(p, id3);
    mbuf_put(p, 1);
    assert_no_leak(fx);
}

/* A full spill buffer whose slices are all gone is held by the filler alone until the next
 * spill drops that reference: it is released then and, the free stack being LIFO, reused at
 * once with its memory kept. */
static void test_spill_filler_reference(void **state)
{
    struct fx *fx = fx_open(state, 32, 4, 3);
    struct mbuf_pool *p = &fx->fp.pool;
    const uint8_t *src = fake_pool_recv(&fx->fp, 0);
    const uint8_t *d1, *d2;
    uint32_t id1, id2;
    assert_int_equal(mbuf_spill(p, src, 32, &d1, &id1), 32);
    mbuf_put(p, id1);
    assert_int_equal(p->refs[id1], 1); /* only the filler */
    assert_int_equal(p->spill_live, 1);
    uint8_t *mem = p->spill[id1 - p->count];

    assert_int_equal(mbuf_spill(p, src + 32, 8, &d2, &id2), 8);
    assert_int_equal(id2, id1);
    assert_ptr_equal(p->spill[id1 - p->count], mem);
    assert_ptr_equal(d2, mem);
    assert_int_equal(p->refs[id2], 2);
    assert_int_equal(p->spill_live, 1);
    assert_int_equal(p->spill_used, 8);
    assert_memory_equal(d2, src + 32, 8);
    mbuf_put(p, id2);
    mbuf_put(p, 0);
    assert_no_leak(fx);
}

/* Out of spill space: mbuf_spill returns 0 (and drops the filler's reference on the full
 * buffer it could not replace); space freed by the callers' puts is usable again. */
static void test_spill_exhausted(void **state)
{
    struct fx *fx = fx_open(state, 16, 4, 2);
    struct mbuf_pool *p = &fx->fp.pool;
    const uint8_t *src = fake_pool_recv(&fx->fp, 3);
    const uint8_t *d[2], *dx = NULL;
    uint32_t id[2], idx = 777;
    assert_int_equal(mbuf_spill(p, src, 16, &d[0], &id[0]), 16);
    assert_int_equal(mbuf_spill(p, src + 16, 16, &d[1], &id[1]), 16);
    assert_int_not_equal(id[0], id[1]);
    assert_int_equal(p->nspill_free, 0);
    assert_int_equal(p->spill_live, 2);

    assert_int_equal(mbuf_spill(p, src + 32, 16, &dx, &idx), 0);
    assert_null(dx);
    assert_int_equal(idx, 777);
    assert_int_equal(p->spill_cur, MBUF_NONE);
    assert_int_equal(p->refs[id[1]], 1); /* the filler's reference went */
    assert_int_equal(p->refs[id[0]], 1);
    assert_int_equal(mbuf_spill(p, src + 32, 16, &dx, &idx), 0); /* and stays refused */

    mbuf_put(p, id[1]);
    assert_int_equal(p->spill_live, 1);
    assert_int_equal(p->nspill_free, 1);
    assert_int_equal(mbuf_spill(p, src + 32, 5, &dx, &idx), 5);
    assert_int_equal(idx, id[1]);
    assert_memory_equal(dx, src + 32, 5);
    mbuf_put(p, idx);
    mbuf_put(p, id[0]);
    mbuf_put(p, 3);
    assert_int_equal(fx->fp.nreturned, 1);
    assert_no_leak(fx);
}

/* A released spill buffer keeps its memory only while fewer than 8 free ones keep theirs, so a
 * burst of spilling does not stay resident; a buffer without memory gets it back when reused. */
static void test_spill_memory_kept_while_few_free(void **state)
{
    enum { SPILL = 12, SIZE = 16 };
    struct fx *fx = fx_open(state, SIZE, 4, SPILL);
    struct mbuf_pool *p = &fx->fp.pool;
    const uint8_t *src = fake_pool_recv(&fx->fp, 0);
    uint32_t id[SPILL];
    for (uint32_t i = 0; i < SPILL; i++) {
        const uint8_t *d;
        assert_int_equal(mbuf_spill(p, src, SIZE, &d, &id[i]), SIZE);
        assert_non_null(p->spill[id[i] - p->count]);
    }
    const uint8_t *dx;
    uint32_t idx;
    assert_int_equal(mbuf_spill(p, src, 1, &dx, &idx), 0); /* drops the last filler ref */
    assert_int_equal(p->nspill_free, 0);
    assert_int_equal(p->spill_live, SPILL);

    for (uint32_t i = 0; i < SPILL; i++) {
        uint32_t rel = id[i] - p->count;
        uint32_t nfree = p->nspill_free;
        mbuf_put(p, id[i]);
        assert_int_equal(p->nspill_free, nfree + 1);
        assert_int_equal(p->spill_live, SPILL - i - 1);
        if (nfree < 8)
            assert_non_null(p->spill[rel]);
        else
            assert_null(p->spill[rel]);
    }
    assert_int_equal(fx->fp.nreturned, 0);

    /* reuse: the top of the stack is the last released, whose memory went */
    uint32_t top = p->spill_free[p->nspill_free - 1];
    assert_null(p->spill[top]);
    assert_int_equal(mbuf_spill(p, src + 3, 9, &dx, &idx), 9);
    assert_int_equal(idx, p->count + top);
    assert_non_null(p->spill[top]);
    assert_memory_equal(dx, src + 3, 9);
    mbuf_put(p, idx);
    mbuf_put(p, 0);
    assert_no_leak(fx);
}

/* With plenty of spill ids (as a worker has: 256 MiB of them), a released buffer keeps its
 * memory and the next spill reuses it rather than allocating again. */
static void test_spill_memory_reused_with_many_ids(void **state)
{
    enum { SPILL = 100, SIZE = 16 };
    struct fx *fx = fx_open(state, SIZE, 4, SPILL);
    struct mbuf_pool *p = &fx->fp.pool;
    const uint8_t *src = fake_pool_recv(&fx->fp, 0);
    const uint8_t *d;
    uint32_t a, b;
    assert_int_equal(mbuf_spill_whole(p, src, SIZE, &d, &a), SIZE);
    uint8_t *mem = p->spill[a - p->count];
    /* a second whole spill closes the first (full) buffer: its filler reference goes */
    assert_int_equal(mbuf_spill_whole(p, src, SIZE, &d, &b), SIZE);
    mbuf_put(p, a);
    assert_int_equal(p->spill_cached, 1);
    assert_ptr_equal(p->spill[a - p->count], mem); /* kept */
    uint32_t c;
    assert_int_equal(mbuf_spill_whole(p, src, SIZE, &d, &c), SIZE);
    assert_int_equal(c, a); /* the kept one is on top of the free stack */
    assert_ptr_equal(d, mem);
    assert_int_equal(p->spill_cached, 0);
    mbuf_put(p, b);
    mbuf_put(p, c);
    mbuf_put(p, 0);
    assert_no_leak(fx);
}

/* A long run spilled piece by piece across buffers reads back intact. */
static void test_spill_data_intact(void **state)
{
    enum { SIZE = 100, LEN = 1000 };
    struct fx *fx = fx_open(state, SIZE, 16, 16);
    struct mbuf_pool *p = &fx->fp.pool;
    uint8_t src[LEN], back[LEN];
    for (uint32_t i = 0; i < LEN; i++)
        src[i] = (uint8_t)(i * 13 + 5);
    const uint8_t *d[64];
    uint32_t id[64], n[64], k = 0, done = 0;
    /* odd request sizes, so pieces straddle the buffer boundaries */
    while (done < LEN) {
        uint32_t want = 37 + k % 5 * 11;
        if (want > LEN - done)
            want = LEN - done;
        assert_true(k < 64);
        n[k] = mbuf_spill(p, src + done, want, &d[k], &id[k]);
        assert_true(n[k] > 0 && n[k] <= want);
        memcpy(back + done, d[k], n[k]);
        done += n[k];
        k++;
    }
    assert_memory_equal(back, src, LEN);
    assert_int_equal(p->spill_live, LEN / SIZE);
    uint32_t total = 0;
    for (uint32_t i = 0; i < k; i++)
        total += n[i];
    assert_int_equal(total, LEN);
    for (uint32_t i = 0; i < k; i++)
        mbuf_put(p, id[i]);
    assert_int_equal(fx->fp.nreturned, 0);
    assert_no_leak(fx);
}

/* ---- whole spills ------------------------------------------------------------------- */

/* mbuf_spill_whole puts all its bytes right after the previous ones when they fit, exactly
 * fitting included. */
static void test_spill_whole_fits(void **state)
{
    struct fx *fx = fx_open(state, 64, 4, 3);
    struct mbuf_pool *p = &fx->fp.pool;
    const uint8_t *src = fake_pool_recv(&fx->fp, 0);
    const uint8_t *d1, *d2, *d3;
    uint32_t id1, id2, id3;
    assert_int_equal(mbuf_spill(p, src, 30, &d1, &id1), 30);
    assert_int_equal(mbuf_spill_whole(p, src + 30, 20, &d2, &id2), 20);
    assert_int_equal(id2, id1);
    assert_ptr_equal(d2, d1 + 30);
    assert_int_equal(mbuf_spill_whole(p, src + 50, 14, &d3, &id3), 14); /* exactly the room */
    assert_int_equal(id3, id1);
    assert_ptr_equal(d3, d1 + 50);
    assert_int_equal(p->spill_used, 64);
    assert_memory_equal(d1, src, 64);
    assert_int_equal(p->refs[id1], 4);
    assert_int_equal(p->spill_live, 1);
    for (int i = 0; i < 3; i++)
        mbuf_put(p, id1);
    mbuf_put(p, 0);
    assert_no_leak(fx);
}

/* Too little room left: the current buffer is closed (its filler reference dropped, its
 * rest left unused) and the bytes go, whole, to the start of a new one. */
static void test_spill_whole_new_buffer(void **state)
{
    struct fx *fx = fx_open(state, 64, 4, 3);
    struct mbuf_pool *p = &fx->fp.pool;
    const uint8_t *src = fake_pool_recv(&fx->fp, 0);
    const uint8_t *d1, *d2;
    uint32_t id1, id2;
    assert_int_equal(mbuf_spill(p, src, 50, &d1, &id1), 50);
    assert_int_equal(mbuf_spill_whole(p, src + 50, 20, &d2, &id2), 20);
    assert_int_not_equal(id2, id1);
    assert_ptr_equal(d2, mbuf_data(p, id2));
    assert_memory_equal(d2, src + 50, 20);
    assert_int_equal(p->spill_cur, id2);
    assert_int_equal(p->spill_used, 20);
    assert_int_equal(p->refs[id1], 1); /* the caller's only */
    assert_int_equal(p->refs[id2], 2);
    assert_int_equal(p->spill_live, 2);
    mbuf_put(p, id1);
    assert_int_equal(p->refs[id1], 0);
    assert_int_equal(p->spill_live, 1);
    mbuf_put(p, id2);
    mbuf_put(p, 0);
    assert_int_equal(fx->fp.nreturned, 1);
    assert_no_leak(fx);
}

/* A closed buffer nobody else references is released at once, and (LIFO) is the one the
 * bytes then go to, from its start. */
static void test_spill_whole_reuses_released(void **state)
{
    struct fx *fx = fx_open(state, 64, 4, 3);
    struct mbuf_pool *p = &fx->fp.pool;
    const uint8_t *src = fake_pool_recv(&fx->fp, 0);
    const uint8_t *d1, *d2;
    uint32_t id1, id2;
    assert_int_equal(mbuf_spill(p, src, 60, &d1, &id1), 60);
    mbuf_put(p, id1); /* only the filler holds it */
    uint32_t nfree = p->nspill_free;
    assert_int_equal(mbuf_spill_whole(p, src + 1, 10, &d2, &id2), 10);
    assert_int_equal(id2, id1);
    assert_ptr_equal(d2, d1);
    assert_int_equal(p->spill_used, 10);
    assert_int_equal(p->refs[id2], 2);
    assert_int_equal(p->nspill_free, nfree);
    assert_int_equal(p->spill_live, 1);
    assert_memory_equal(d2, src + 1, 10);
    mbuf_put(p, id2);
    mbuf_put(p, 0);
    assert_no_leak(fx);
}

/* Nothing to copy, or more than a buffer holds: 0, and nothing changes. A whole buffer's
 * worth is fine. */
static void test_spill_whole_bad_len(void **state)
{
    struct fx *fx = fx_open(state, 64, 4, 3);
    struct mbuf_pool *p = &fx->fp.pool;
    uint8_t src[65];
    memset(src, 'x', sizeof(src));
    const uint8_t *d = NULL, *dw;
    uint32_t id = 99, idw, idp;
    assert_int_equal(mbuf_spill(p, src, 5, &dw, &idp), 5);
    uint32_t refs = p->refs[idp];
    assert_int_equal(mbuf_spill_whole(p, src, 0, &d, &id), 0);
    assert_int_equal(mbuf_spill_whole(p, src, 65, &d, &id), 0);
    assert_null(d);
    assert_int_equal(id, 99);
    assert_int_equal(p->spill_cur, idp);
    assert_int_equal(p->spill_used, 5);
    assert_int_equal(p->refs[idp], refs);
    assert_int_equal(p->spill_live, 1);

    assert_int_equal(mbuf_spill_whole(p, src, 64, &dw, &idw), 64);
    assert_int_not_equal(idw, idp);
    assert_ptr_equal(dw, mbuf_data(p, idw));
    assert_int_equal(p->spill_used, 64);
    mbuf_put(p, idw);
    mbuf_put(p, idp);
    assert_no_leak(fx);
}

/* Out of spill space: 0, nothing copied, no reference taken (whether the current buffer is
 * closed on the way is left open: only its filler's reference may go). Space freed later is
 * used again. */
static void test_spill_whole_exhausted(void **state)
{
    struct fx *fx = fx_open(state, 64, 4, 1);
    struct mbuf_pool *p = &fx->fp.pool;
    const uint8_t *src = fake_pool_recv(&fx->fp, 2);
    const uint8_t *d1, *d = NULL;
    uint32_t id1, id = 1234;
    assert_int_equal(mbuf_spill(p, src, 50, &d1, &id1), 50);
    assert_int_equal(mbuf_spill_whole(p, src + 50, 20, &d, &id), 0);
    assert_null(d);
    assert_int_equal(id, 1234);
    assert_int_equal(p->refs[id1], p->spill_cur == id1 ? 2 : 1);
    assert_int_equal(p->spill_live, 1);

    /* the caller's reference goes: a whole spill finds room again, in that same buffer */
    mbuf_put(p, id1);
    assert_int_equal(mbuf_spill_whole(p, src + 50, 20, &d, &id), 20);
    assert_int_equal(id, id1);
    assert_ptr_equal(d, d1); /* a fresh start: 20 bytes never fit behind the first 50 */
    assert_memory_equal(d, src + 50, 20);
    mbuf_put(p, id);
    mbuf_put(p, 2);
    assert_no_leak(fx);
}

/* Whatever the lengths, a whole spill is never split: each run lies inside one buffer and
 * reads back intact, and every call gives len or 0. */
static void test_spill_whole_never_split(void **state)
{
    enum { SIZE = 50, N = 200 };
    struct fx *fx = fx_open(state, SIZE, 4, N);
    struct mbuf_pool *p = &fx->fp.pool;
    uint8_t src[SIZE];
    uint32_t id[N];
    uint32_t k = 0, refused = 0;
    for (uint32_t i = 0; i < N; i++) {
        uint32_t len = 1 + (i * 17 + i / 3) % SIZE;
        for (uint32_t j = 0; j < len; j++)
            src[j] = (uint8_t)(i + j);
        const uint8_t *d;
        uint32_t got = mbuf_spill_whole(p, src, len, &d, &id[k]);
        if (got == 0) {
            refused++;
            continue;
        }
        assert_int_equal(got, len);
        const uint8_t *base = mbuf_data(p, id[k]);
        assert_true(d >= base && d + len <= base + SIZE);
        assert_memory_equal(d, src, len);
        k++;
    }
    assert_int_equal(refused, 0);   /* N buffers always hold N runs of at most a buffer */
    assert_true(p->spill_live < N); /* and runs shared buffers */
    for (uint32_t i = 0; i < k; i++)
        mbuf_put(p, id[i]);
    assert_no_leak(fx);
}

#define T(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)

int main(void)
{
    if (getenv("TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        T(test_pool_init),
        T(test_pool_no_spill),
        T(test_received_first_ref),
        T(test_get_put_counting),
        T(test_held_counter),
        T(test_pseudo_ids_noop),
        T(test_pressure_threshold),
        T(test_spill_basic),
        T(test_spill_contiguous),
        T(test_spill_partial_at_boundary),
        T(test_spill_filler_reference),
        T(test_spill_exhausted),
        T(test_spill_memory_kept_while_few_free),
        T(test_spill_memory_reused_with_many_ids),
        T(test_spill_data_intact),
        T(test_spill_whole_fits),
        T(test_spill_whole_new_buffer),
        T(test_spill_whole_reuses_released),
        T(test_spill_whole_bad_len),
        T(test_spill_whole_exhausted),
        T(test_spill_whole_never_split),
    };
    return cmocka_run_group_tests_name("mbuf", tests, NULL, NULL);
}
