/* Unit tests for src/msg: slice vectors (references, merging, sealing, spilling under
 * pressure), the message pool, and a request's life as its slices move from a received
 * buffer to a message to a send, including the points where the client closes or the
 * server fails. A fake engine counts the buffers given back, so each test can say exactly
 * when a buffer goes back, and ends with a leak check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/io.h"
#include "src/mbuf.h"
#include "src/msg.h"
#include "src/sendrec.h"
#include "tests/fake_pool.h"

/* ---- fixture: a pool over a fake engine, a message pool, two sends --------------------- */

struct fx {
    struct fake_pool fp;
    struct msg_pool msgs;
    struct sendrec_cache cache;
    struct sendrec *ss; /* a server connection's send */
    struct sendrec *cs; /* a client connection's send */
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
    struct sendrec *s[2] = {fx->ss, fx->cs};
    for (int i = 0; i < 2; i++) {
        if (s[i] != NULL) {
            /* the pool goes away: forget the references (a failed test may have left them
             * wrong) and let the reset free the owned blocks */
            s[i]->nbufs = 0;
            sendrec_reset(s[i], &fx->fp.pool);
            sendrec_give(&fx->cache, s[i]);
        }
    }
    sendrec_cache_destroy(&fx->cache);
    msg_pool_destroy(&fx->msgs);
    fake_pool_close(&fx->fp);
    free(fx);
    return 0;
}

static struct fx *fx_open(void **state, uint32_t size, uint32_t count, uint32_t spill_max)
{
    struct fx *fx = *state;
    fake_pool_open(&fx->fp, size, count, spill_max);
    fx->ss = sendrec_take(&fx->cache);
    fx->cs = sendrec_take(&fx->cache);
    assert_non_null(fx->ss);
    assert_non_null(fx->cs);
    return fx;
}

static void assert_refs(const struct fx *fx, uint32_t id, uint32_t refs)
{
    if (fx->fp.pool.refs[id] != refs)
        fail_msg("buffer %u has %u references, expected %u", id, fx->fp.pool.refs[id], refs);
}

/* The shared leak check, and no message is in use. */
static void assert_no_leak(const struct fx *fx)
{
    fake_pool_assert_no_leak(&fx->fp);
    assert_int_equal(fx->msgs.live, 0);
}

/* Hands the request slices not yet handed to send s, as the server side's flush does. */
static void hand_req(struct msg *m, struct sendrec *s)
{
    while (m->req_handed < m->req.n && !sendrec_full(s))
        assert_true(sendrec_add(s, &m->req.v[m->req_handed++]));
    m->req.sealed = m->req_handed;
}

/* Hands the reply slices not yet handed to send s, as the client side's flush does. */
static void hand_rsp(struct msg *m, struct sendrec *s)
{
    while (m->rsp_handed < m->rsp.n && !sendrec_full(s))
        assert_true(sendrec_add(s, &m->rsp.v[m->rsp_handed++]));
    m->rsp.sealed = m->rsp_handed;
}

/* The whole reply is in a send: the message forgets its slices without a put. */
static void forget_rsp(struct fx *fx, struct msg *m)
{
    assert_int_equal(m->rsp_handed, m->rsp.n);
    svec_release_from(&m->rsp, &fx->fp.pool, m->rsp.n);
    m->rsp_handed = 0;
}

static void assert_slice(const struct slice *sl, const uint8_t *ptr, uint32_t len, uint32_t buf)
{
    assert_ptr_equal(sl->ptr, ptr);
    assert_int_equal(sl->len, len);
    assert_int_equal(sl->buf, buf);
}

/* ---- slice vectors ------------------------------------------------------------------ */

static void test_svec_init(void **state)
{
    fx_open(state, 64, 4, 0);
    struct svec s;
    memset(&s, 0xa5, sizeof(s));
    svec_init(&s);
    assert_ptr_equal(s.v, s.inl);
    assert_int_equal(s.n, 0);
    assert_int_equal(s.sealed, 0);
    assert_int_equal(s.cap, 2);
    assert_int_equal(svec_bytes(&s), 0);
}

/* Each slice into the arena holds one reference, taken by the push. */
static void test_svec_push_takes_ref(void **state)
{
    struct fx *fx = fx_open(state, 64, 4, 0);
    struct svec s;
    svec_init(&s);
    const uint8_t *d = fake_pool_recv(&fx->fp, 1);
    assert_int_equal(svec_push(&s, &fx->fp.pool, d + 4, 10, 1), 0);
    assert_int_equal(s.n, 1);
    assert_slice(&s.v[0], d + 4, 10, 1);
    assert_refs(fx, 1, 2);
    assert_int_equal(svec_bytes(&s), 10);
    mbuf_put(&fx->fp.pool, 1); /* the connection is done parsing */
    assert_int_equal(fx->fp.nreturned, 0);
    svec_release(&s, &fx->fp.pool);
    fake_pool_assert_returned(&fx->fp, 1, 1);
    assert_no_leak(fx);
}

/* An empty push is no slice and no reference. */
static void test_svec_push_empty(void **state)
{
    struct fx *fx = fx_open(state, 64, 4, 0);
    struct svec s;
    svec_init(&s);
    const uint8_t *d = fake_pool_recv(&fx->fp, 0);
    assert_int_equal(svec_push(&s, &fx->fp.pool, d, 0, 0), 0);
    assert_int_equal(svec_push_apart(&s, &fx->fp.pool, d, 0, 0), 0);
    assert_int_equal(svec_push_wait(&s, &fx->fp.pool, d, 0, 0, false), 0);
    assert_int_equal(s.n, 0);
    assert_refs(fx, 0, 1);
    mbuf_put(&fx->fp.pool, 0);
    assert_no_leak(fx);
}

/* Adjacent ranges of one buffer merge into one slice with one reference; a gap starts a
 * new slice. */
static void test_svec_push_merges_adjacent(void **state)
{
    struct fx *fx = fx_open(state, 64, 4, 0);
    struct svec s;
    svec_init(&s);
    const uint8_t *d = fake_pool_recv(&fx->fp, 2);
    assert_int_equal(svec_push(&s, &fx->fp.pool, d, 10, 2), 0);
    assert_int_equal(svec_push(&s, &fx->fp.pool, d + 10, 15, 2), 0);
    assert_int_equal(svec_push(&s, &fx->fp.pool, d + 25, 5, 2), 0);
    assert_int_equal(s.n, 1);
    assert_slice(&s.v[0], d, 30, 2);
    assert_refs(fx, 2, 2);
    assert_int_equal(svec_push(&s, &fx->fp.pool, d + 40, 4, 2), 0); /* a gap */
    assert_int_equal(s.n, 2);
    assert_refs(fx, 2, 3);
    assert_int_equal(svec_push(&s, &fx->fp.pool, d + 20, 4, 2), 0); /* backwards */
    assert_int_equal(s.n, 3);
    assert_int_equal(svec_bytes(&s), 38);
    mbuf_put(&fx->fp.pool, 2);
    svec_release(&s, &fx->fp.pool);
    fake_pool_assert_returned(&fx->fp, 2, 1);
    assert_no_leak(fx);
}

/* Two arena buffers sit next to each other in memory: the end of one and the start of the
 * next are adjacent bytes, and still two slices, each holding its own buffer. */
static void test_svec_no_merge_across_buffers(void **state)
{
    struct fx *fx = fx_open(state, 64, 4, 0);
    struct svec s;
    svec_init(&s);
    const uint8_t *d0 = fake_pool_recv(&fx->fp, 0);
    const uint8_t *d1 = fake_pool_recv(&fx->fp, 1);
    assert_ptr_equal(d0 + 64, d1);
    assert_int_equal(svec_push(&s, &fx->fp.pool, d0 + 54, 10, 0), 0);
    assert_int_equal(svec_push(&s, &fx->fp.pool, d1, 10, 1), 0);
    assert_int_equal(s.n, 2);
    assert_slice(&s.v[0], d0 + 54, 10, 0);
    assert_slice(&s.v[1], d1, 10, 1);
    assert_refs(fx, 0, 2);
    assert_refs(fx, 1, 2);
    /* nor with bytes outside the arena that happen to follow */
    assert_int_equal(svec_push(&s, &fx->fp.pool, d1 + 10, 5, MBUF_NONE), 0);
    assert_int_equal(s.n, 3);
    assert_refs(fx, 1, 2);
    mbuf_put(&fx->fp.pool, 0);
    mbuf_put(&fx->fp.pool, 1);
    svec_release(&s, &fx->fp.pool);
    fake_pool_assert_returned(&fx->fp, 0, 1);
    fake_pool_assert_returned(&fx->fp, 1, 1);
    assert_no_leak(fx);
}

/* Slices already handed to a send are sealed: nothing merges into them (the send's iovec
 * would not carry the bytes); pushes after them merge among themselves again. */
static void test_svec_no_merge_into_sealed(void **state)
{
    struct fx *fx = fx_open(state, 64, 4, 0);
    struct svec s;
    svec_init(&s);
    const uint8_t *d = fake_pool_recv(&fx->fp, 3);
    assert_int_equal(svec_push(&s, &fx->fp.pool, d, 10, 3), 0);
    s.sealed = 1;
    assert_int_equal(svec_push(&s, &fx->fp.pool, d + 10, 10, 3), 0);
    assert_int_equal(s.n, 2);
    assert_slice(&s.v[0], d, 10, 3);
    assert_slice(&s.v[1], d + 10, 10, 3);
    assert_int_equal(svec_push(&s, &fx->fp.pool, d + 20, 10, 3), 0);
    assert_int_equal(s.n, 2);
    assert_slice(&s.v[1], d + 10, 20, 3);
    assert_refs(fx, 3, 3);
    s.sealed = 2;
    assert_int_equal(svec_push(&s, &fx->fp.pool, d + 30, 1, 3), 0);
    assert_int_equal(s.n, 3);
    assert_refs(fx, 3, 4);
    mbuf_put(&fx->fp.pool, 3);
    svec_release(&s, &fx->fp.pool);
    assert_int_equal(s.sealed, 0);
    fake_pool_assert_returned(&fx->fp, 3, 1);
    assert_no_leak(fx);
}

/* push_apart keeps item boundaries: adjacent, same buffer, still a new slice with its own
 * reference; a plain push after it may merge into it. */
static void test_svec_push_apart(void **state)
{
    struct fx *fx = fx_open(state, 64, 4, 0);
    struct svec s;
    svec_init(&s);
    const uint8_t *d = fake_pool_recv(&fx->fp, 0);
    assert_int_equal(svec_push(&s, &fx->fp.pool, d, 8, 0), 0);
    assert_int_equal(svec_push_apart(&s, &fx->fp.pool, d + 8, 8, 0), 0);
    assert_int_equal(s.n, 2);
    assert_refs(fx, 0, 3);
    assert_int_equal(svec_push(&s, &fx->fp.pool, d + 16, 8, 0), 0);
    assert_int_equal(s.n, 2);
    assert_slice(&s.v[1], d + 8, 16, 0);
    assert_int_equal(svec_push_apart(&s, &fx->fp.pool, d + 24, 8, 0), 0);
    assert_int_equal(s.n, 3);
    assert_refs(fx, 0, 4);
    mbuf_put(&fx->fp.pool, 0);
    svec_release(&s, &fx->fp.pool);
    fake_pool_assert_returned(&fx->fp, 0, 1);
    assert_no_leak(fx);
}

/* Past the inline entries the vector moves to the heap, keeping its slices (the leak
 * sanitizer checks that release frees it). */
static void test_svec_grows(void **state)
{
    enum { N = 37 };
    struct fx *fx = fx_open(state, 64, 4, 0);
    struct svec s;
    svec_init(&s);
    const uint8_t *d = fake_pool_recv(&fx->fp, 1);
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(svec_push_apart(&s, &fx->fp.pool, d + i, 1, 1), 0);
        assert_true(s.cap >= s.n);
    }
    assert_ptr_not_equal(s.v, s.inl);
    assert_int_equal(s.n, N);
    for (uint32_t i = 0; i < N; i++)
        assert_slice(&s.v[i], d + i, 1, 1);
    assert_refs(fx, 1, N + 1);
    assert_int_equal(svec_bytes(&s), N);
    svec_release(&s, &fx->fp.pool);
    assert_ptr_equal(s.v, s.inl);
    assert_int_equal(s.cap, 2);
    assert_int_equal(s.n, 0);
    assert_refs(fx, 1, 1);
    mbuf_put(&fx->fp.pool, 1);
    assert_no_leak(fx);
}

/* Static strings and owned copies are carried without reference counting; adjacent static
 * pieces still merge. */
static void test_svec_pseudo_ids(void **state)
{
    struct fx *fx = fx_open(state, 64, 4, 1);
    struct svec s;
    svec_init(&s);
    static const char text[] = "SERVER_ERROR out of memory\r\n";
    uint8_t *copy = malloc(6);
    assert_non_null(copy);
    memcpy(copy, "abcdef", 6);
    assert_int_equal(svec_push(&s, &fx->fp.pool, (const uint8_t *)text, 13, MBUF_NONE), 0);
    assert_int_equal(svec_push(&s, &fx->fp.pool, (const uint8_t *)text + 13, 15, MBUF_NONE), 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.v[0].len, 28);
    assert_int_equal(svec_push(&s, &fx->fp.pool, copy, 6, MBUF_COPY), 0);
    assert_int_equal(s.n, 2);
    for (uint32_t i = 0; i < fx->fp.pool.count + fx->fp.pool.spill_max; i++)
        assert_int_equal(fx->fp.pool.refs[i], 0);
    svec_release(&s, &fx->fp.pool);
    free(copy);
    assert_int_equal(fx->fp.nreturned, 0);
    assert_no_leak(fx);
}

/* svec_release_from drops the slices not handed to a send; the send drops the others. */
static void test_svec_release_from(void **state)
{
    struct fx *fx = fx_open(state, 64, 8, 0);
    struct svec s;
    svec_init(&s);
    for (uint32_t i = 0; i < 4; i++) {
        const uint8_t *d = fake_pool_recv(&fx->fp, i);
        assert_int_equal(svec_push(&s, &fx->fp.pool, d, 20, i), 0);
        mbuf_put(&fx->fp.pool, i);
    }
    assert_int_equal(s.n, 4);
    assert_true(sendrec_add(fx->ss, &s.v[0]));
    assert_true(sendrec_add(fx->ss, &s.v[1]));
    svec_release_from(&s, &fx->fp.pool, 2);
    assert_int_equal(s.n, 0);
    assert_ptr_equal(s.v, s.inl);
    fake_pool_assert_returned(&fx->fp, 0, 0);
    fake_pool_assert_returned(&fx->fp, 1, 0);
    fake_pool_assert_returned(&fx->fp, 2, 1);
    fake_pool_assert_returned(&fx->fp, 3, 1);
    assert_true(fake_sent(fx->ss, &fx->fp.pool, 40));
    fake_pool_assert_returned(&fx->fp, 0, 1);
    fake_pool_assert_returned(&fx->fp, 1, 1);
    /* from == n: forgets everything, drops nothing */
    const uint8_t *d = fake_pool_recv(&fx->fp, 5);
    assert_int_equal(svec_push(&s, &fx->fp.pool, d, 20, 5), 0);
    assert_true(sendrec_add(fx->cs, &s.v[0]));
    svec_release_from(&s, &fx->fp.pool, s.n);
    assert_refs(fx, 5, 2);
    mbuf_put(&fx->fp.pool, 5);
    assert_true(fake_sent(fx->cs, &fx->fp.pool, 20));
    fake_pool_assert_returned(&fx->fp, 5, 1);
    assert_no_leak(fx);
}

/* Without pressure push_wait is a zero-copy push. */
static void test_svec_push_wait_no_pressure(void **state)
{
    struct fx *fx = fx_open(state, 64, 8, 4);
    struct svec s;
    svec_init(&s);
    for (uint32_t i = 0; i < 6; i++)
        fake_pool_recv(&fx->fp, i);
    assert_false(mbuf_pressure(&fx->fp.pool));
    const uint8_t *d = mbuf_data(&fx->fp.pool, 5);
    assert_int_equal(svec_push_wait(&s, &fx->fp.pool, d, 30, 5, false), 0);
    assert_int_equal(svec_push_wait(&s, &fx->fp.pool, d + 30, 4, 5, false), 0);
    assert_int_equal(svec_push_wait(&s, &fx->fp.pool, d + 34, 4, 5, true), 0);
    assert_int_equal(s.n, 2);
    assert_slice(&s.v[0], d, 34, 5);
    assert_slice(&s.v[1], d + 34, 4, 5);
    assert_refs(fx, 5, 3);
    assert_int_equal(fx->fp.pool.spill_live, 0);
    for (uint32_t i = 0; i < 6; i++)
        mbuf_put(&fx->fp.pool, i);
    assert_int_equal(fx->fp.nreturned, 5);
    svec_release(&s, &fx->fp.pool);
    fake_pool_assert_returned(&fx->fp, 5, 1);
    assert_no_leak(fx);
}

/* Receives a buffer per id in [0, n) and leaves them held: the arena under pressure. */
static void hold(struct fx *fx, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        fake_pool_recv(&fx->fp, i);
}

static void unhold(struct fx *fx, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        mbuf_put(&fx->fp.pool, i);
}

/* Under pressure push_wait copies into spill space, so the arena buffer holds no slice
 * reference and goes back to the engine the moment the connection is done with it. */
static void test_svec_push_wait_pressure(void **state)
{
    struct fx *fx = fx_open(state, 256, 8, 4);
    struct svec s;
    svec_init(&s);
    hold(fx, 6);
    const uint8_t *d = fake_pool_recv(&fx->fp, 7);
    assert_true(mbuf_pressure(&fx->fp.pool));
    assert_int_equal(svec_push_wait(&s, &fx->fp.pool, d + 3, 100, 7, false), 100);
    assert_int_equal(s.n, 1);
    uint32_t sid = s.v[0].buf;
    assert_true(sid >= fx->fp.pool.count);
    assert_int_equal(s.v[0].len, 100);
    assert_memory_equal(s.v[0].ptr, d + 3, 100);
    assert_refs(fx, 7, 1);   /* the connection's only */
    assert_refs(fx, sid, 2); /* the slice's and the filler's */
    mbuf_put(&fx->fp.pool, 7);
    fake_pool_assert_returned(&fx->fp, 7, 1); /* straight back, while its bytes wait */
    assert_int_equal(fx->fp.nreturned, 1);
    assert_memory_equal(s.v[0].ptr, mbuf_data(&fx->fp.pool, 7) + 3, 100); /* still intact */

    /* the next chunk, from another buffer, lands right after it in spill space: merged */
    d = fake_pool_recv(&fx->fp, 7);
    assert_int_equal(svec_push_wait(&s, &fx->fp.pool, d, 20, 7, false), 20);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.v[0].len, 120);
    assert_refs(fx, sid, 2);
    mbuf_put(&fx->fp.pool, 7);
    fake_pool_assert_returned(&fx->fp, 7, 2);

    svec_release(&s, &fx->fp.pool);
    assert_refs(fx, sid, 1); /* the filler's own */
    unhold(fx, 6);
    assert_no_leak(fx);
}

/* A chunk larger than the room left in the spill buffer goes in pieces, one slice per
 * spill buffer; apart keeps the chunk off the previous slice but its pieces together. */
static void test_svec_push_wait_spans_spill_buffers(void **state)
{
    struct fx *fx = fx_open(state, 64, 8, 4);
    struct svec s;
    svec_init(&s);
    hold(fx, 7);
    const uint8_t *d = mbuf_data(&fx->fp.pool, 6);
    assert_true(mbuf_pressure(&fx->fp.pool));
    assert_int_equal(svec_push_wait(&s, &fx->fp.pool, d, 100, 6, false), 100);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.v[0].len, 64);
    assert_int_equal(s.v[1].len, 36);
    assert_int_not_equal(s.v[0].buf, s.v[1].buf);
    assert_memory_equal(s.v[0].ptr, d, 64);
    assert_memory_equal(s.v[1].ptr, d + 64, 36);
    uint32_t s0 = s.v[0].buf, s1 = s.v[1].buf;
    assert_refs(fx, s0, 1); /* the slice; the filler moved on */
    assert_refs(fx, s1, 2);

    assert_int_equal(svec_push_wait(&s, &fx->fp.pool, d + 100, 10, 6, false), 10);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.v[1].len, 46);
    assert_int_equal(svec_push_wait(&s, &fx->fp.pool, d + 110, 30, 6, true), 30);
    assert_int_equal(s.n, 4); /* 18 bytes fill s1 as their own slice, 12 go on in s2 */
    assert_int_equal(s.v[2].buf, s1);
    assert_int_equal(s.v[2].len, 18);
    assert_ptr_equal(s.v[2].ptr, s.v[1].ptr + 46);
    assert_int_not_equal(s.v[3].buf, s1);
    assert_int_equal(s.v[3].len, 12);
    assert_refs(fx, s1, 2);
    for (uint32_t i = 0; i < 4; i++)
        assert_true(s.v[i].buf >= fx->fp.pool.count);
    assert_refs(fx, 6, 1);
    assert_int_equal(svec_bytes(&s), 140);

    uint8_t back[140];
    uint32_t off = 0;
    for (uint32_t i = 0; i < s.n; i++) {
        memcpy(back + off, s.v[i].ptr, s.v[i].len);
        off += s.v[i].len;
    }
    assert_memory_equal(back, d, 140);
    svec_release(&s, &fx->fp.pool);
    assert_int_equal(fx->fp.pool.spill_live, 1);
    unhold(fx, 7);
    assert_no_leak(fx);
}

/* Spill space runs out: what was copied stays copied, the rest stays zero-copy in the arena
 * buffer (which then has to wait), and push_wait says how much it copied. */
static void test_svec_push_wait_spill_exhausted(void **state)
{
    struct fx *fx = fx_open(state, 64, 8, 1);
    struct svec s;
    svec_init(&s);
    hold(fx, 7);
    const uint8_t *d = mbuf_data(&fx->fp.pool, 6);
    assert_int_equal(svec_push_wait(&s, &fx->fp.pool, d, 100, 6, false), 64);
    assert_int_equal(s.n, 2);
    assert_true(s.v[0].buf >= fx->fp.pool.count);
    assert_slice(&s.v[1], d + 64, 36, 6);
    assert_refs(fx, 6, 2);
    /* nothing left at all: a plain zero-copy push */
    assert_int_equal(svec_push_wait(&s, &fx->fp.pool, d + 100, 10, 6, false), 0);
    assert_int_equal(s.n, 2);
    assert_slice(&s.v[1], d + 64, 46, 6);
    unhold(fx, 7);
    fake_pool_assert_returned(&fx->fp, 6, 0); /* the slice keeps it */
    svec_release(&s, &fx->fp.pool);
    fake_pool_assert_returned(&fx->fp, 6, 1);
    assert_no_leak(fx);
}

/* Only arena bytes are copied out: bytes already in spill space, static or owned bytes are
 * pushed as they are, whatever the pressure. */
static void test_svec_push_wait_only_arena(void **state)
{
    struct fx *fx = fx_open(state, 64, 8, 2);
    struct svec s;
    svec_init(&s);
    hold(fx, 8);
    const uint8_t *sp;
    uint32_t sid;
    assert_int_equal(mbuf_spill(&fx->fp.pool, mbuf_data(&fx->fp.pool, 0), 10, &sp, &sid), 10);
    static const char end[] = "END\r\n";
    assert_int_equal(svec_push_wait(&s, &fx->fp.pool, sp, 10, sid, false), 0);
    assert_int_equal(svec_push_wait(&s, &fx->fp.pool, (const uint8_t *)end, 5, MBUF_NONE, false),
                     0);
    assert_int_equal(s.n, 2);
    assert_slice(&s.v[0], sp, 10, sid);
    assert_slice(&s.v[1], (const uint8_t *)end, 5, MBUF_NONE);
    assert_refs(fx, sid, 3);
    assert_int_equal(fx->fp.pool.spill_used, 10); /* nothing copied again */
    mbuf_put(&fx->fp.pool, sid);
    svec_release(&s, &fx->fp.pool);
    unhold(fx, 8);
    assert_no_leak(fx);
}

/* ---- the message pool --------------------------------------------------------------- */

/* Messages are recycled, and a recycled one comes back as new. */
static void test_msg_get_put_recycle(void **state)
{
    struct fx *fx = fx_open(state, 64, 4, 0);
    struct msg *m = msg_get(&fx->msgs);
    assert_non_null(m);
    assert_int_equal(fx->msgs.live, 1);
    assert_ptr_equal(m->req.v, m->req.inl);
    assert_ptr_equal(m->rsp.v, m->rsp.inl);
    assert_null(m->client);
    assert_int_equal(m->req_handed, 0);
    m->cmd = MC_SET;
    m->noreply = true;
    m->err = MSG_ERR_TIMEOUT;
    m->state = MS_ANSWERED;
    m->t_queued = 42;
    msg_put(&fx->msgs, &fx->fp.pool, m);
    assert_int_equal(fx->msgs.live, 0);
    assert_int_equal(fx->msgs.nfree, 1);

    struct msg *m2 = msg_get(&fx->msgs);
    assert_ptr_equal(m2, m);
    assert_int_equal(fx->msgs.nfree, 0);
    assert_int_equal(fx->msgs.live, 1);
    assert_int_equal(m2->cmd, 0);
    assert_false(m2->noreply);
    assert_int_equal(m2->err, MSG_OK);
    assert_int_equal(m2->state, MS_RECEIVING);
    assert_int_equal(m2->t_queued, 0);
    assert_null(m2->cnext);
    assert_int_equal(m2->req.n, 0);
    assert_int_equal(m2->req.cap, 2);
    struct msg *m3 = msg_get(&fx->msgs);
    assert_ptr_not_equal(m3, m2);
    assert_int_equal(fx->msgs.live, 2);
    msg_put(&fx->msgs, &fx->fp.pool, m3);
    msg_put(&fx->msgs, &fx->fp.pool, m2);
    assert_ptr_equal(msg_get(&fx->msgs), m2); /* last in, first out */
    msg_put(&fx->msgs, &fx->fp.pool, m2);
    msg_pool_destroy(&fx->msgs);
    assert_int_equal(fx->msgs.nfree, 0);
    assert_null(fx->msgs.free);
    assert_no_leak(fx);
}

/* The free list is bounded, so an idle worker gives memory back. */
static void test_msg_pool_bounded(void **state)
{
    enum { N = 4096 + 10 };
    struct fx *fx = fx_open(state, 64, 4, 0);
    struct msg **m = malloc(N * sizeof(*m));
    assert_non_null(m);
    for (int i = 0; i < N; i++) {
        m[i] = msg_get(&fx->msgs);
        assert_non_null(m[i]);
    }
    assert_int_equal(fx->msgs.live, N);
    for (int i = 0; i < N; i++)
        msg_put(&fx->msgs, &fx->fp.pool, m[i]);
    assert_int_equal(fx->msgs.nfree, 4096);
    assert_int_equal(fx->msgs.live, 0);
    free(m);
    assert_no_leak(fx);
}

/* msg_put releases everything the message still holds: unhanded request and reply slices
 * (inline or on the heap), owned bytes, fragment keys, the split state and its keys. */
static void test_msg_put_releases_all(void **state)
{
    struct fx *fx = fx_open(state, 64, 8, 0);
    struct msg *m = msg_get(&fx->msgs);
    assert_non_null(m);
    const uint8_t *d0 = fake_pool_recv(&fx->fp, 0);
    const uint8_t *d1 = fake_pool_recv(&fx->fp, 1);
    const uint8_t *d2 = fake_pool_recv(&fx->fp, 2);
    const uint8_t *d3 = fake_pool_recv(&fx->fp, 3);
    assert_int_equal(svec_push(&m->req, &fx->fp.pool, d0, 30, 0), 0);
    assert_int_equal(svec_push(&m->req, &fx->fp.pool, d1, 30, 1), 0);
    for (uint32_t i = 0; i < 5; i++) /* onto the heap */
        assert_int_equal(svec_push_apart(&m->rsp, &fx->fp.pool, d2 + i * 4, 4, 2), 0);
    m->owned = malloc(20);
    m->frag_keys = malloc(4 * sizeof(*m->frag_keys));
    m->mg = mget_new(2, true);
    assert_non_null(m->owned);
    assert_non_null(m->frag_keys);
    assert_non_null(m->mg);
    m->mg->nkeys = 2;
    for (uint32_t k = 0; k < 2; k++) {
        mbuf_get(&fx->fp.pool, 3);
        m->mg->keys[k] = (struct slice){.ptr = d3 + 4 + k * 2, .len = 1, .buf = 3};
    }
    for (uint32_t i = 0; i < 4; i++)
        mbuf_put(&fx->fp.pool, i);
    assert_int_equal(fx->fp.nreturned, 0);
    msg_put(&fx->msgs, &fx->fp.pool, m);
    for (uint32_t i = 0; i < 4; i++)
        fake_pool_assert_returned(&fx->fp, i, 1);
    assert_no_leak(fx);
}

/* msg_put does not touch the slices already handed to sends: they go back when the sends
 * complete, not before, and exactly once. */
static void test_msg_put_keeps_handed(void **state)
{
    struct fx *fx = fx_open(state, 64, 8, 0);
    struct msg *m = msg_get(&fx->msgs);
    assert_non_null(m);
    for (uint32_t i = 0; i < 3; i++) {
        const uint8_t *d = fake_pool_recv(&fx->fp, i);
        assert_int_equal(svec_push(&m->req, &fx->fp.pool, d, 64, i), 0);
    }
    for (uint32_t i = 3; i < 5; i++) {
        const uint8_t *d = fake_pool_recv(&fx->fp, i);
        assert_int_equal(svec_push(&m->rsp, &fx->fp.pool, d, 64, i), 0);
    }
    for (uint32_t i = 0; i < 5; i++)
        mbuf_put(&fx->fp.pool, i);
    /* two request slices with the server send, one reply slice with the client send */
    assert_true(sendrec_add(fx->ss, &m->req.v[0]));
    assert_true(sendrec_add(fx->ss, &m->req.v[1]));
    m->req_handed = m->req.sealed = 2;
    assert_true(sendrec_add(fx->cs, &m->rsp.v[0]));
    m->rsp_handed = m->rsp.sealed = 1;

    msg_put(&fx->msgs, &fx->fp.pool, m);
    fake_pool_assert_returned(&fx->fp, 2, 1);
    fake_pool_assert_returned(&fx->fp, 4, 1);
    assert_int_equal(fx->fp.nreturned, 2);
    assert_refs(fx, 0, 1);
    assert_refs(fx, 1, 1);
    assert_refs(fx, 3, 1);
    assert_false(fake_sent(fx->ss, &fx->fp.pool, 100));
    assert_int_equal(fx->fp.nreturned, 2);
    assert_true(fake_sent(fx->ss, &fx->fp.pool, 28));
    assert_true(fake_sent(fx->cs, &fx->fp.pool, 64));
    for (uint32_t i = 0; i < 5; i++)
        fake_pool_assert_returned(&fx->fp, i, 1);
    assert_no_leak(fx);
}

/* ---- a request's life ------------------------------------------------------------- */

/* Two requests over two received buffers (the second request starts in the first one's
 * last buffer), forwarded in one send; then their replies from one buffer, in one send to
 * the client. Each buffer goes back once, right after the last send carrying it completes,
 * whenever the messages themselves are put. */
static void test_request_life(void **state)
{
    struct fx *fx = fx_open(state, 64, 8, 4);
    struct mbuf_pool *p = &fx->fp.pool;

    /* recv: "set k 0 0 70\r\n<data>" over B0 and the first 30 bytes of B1 */
    struct msg *m1 = msg_get(&fx->msgs);
    assert_non_null(m1);
    const uint8_t *b0 = fake_pool_recv(&fx->fp, 0);
    /* the line, then the data block's first 50 bytes: adjacent, one slice */
    assert_int_equal(svec_push_wait(&m1->req, p, b0, 14, 0, false), 0);
    assert_int_equal(svec_push_wait(&m1->req, p, b0 + 14, 50, 0, false), 0);
    mbuf_put(p, 0); /* parsed */
    assert_int_equal(m1->req.n, 1);
    assert_refs(fx, 0, 1);

    const uint8_t *b1 = fake_pool_recv(&fx->fp, 1);
    assert_int_equal(svec_push_wait(&m1->req, p, b1, 30, 1, false), 0);
    m1->state = MS_QUEUED;
    struct msg *m2 = msg_get(&fx->msgs);
    assert_non_null(m2);
    assert_int_equal(svec_push_wait(&m2->req, p, b1 + 30, 7, 1, false), 0); /* "get k\r\n" */
    m2->state = MS_QUEUED;
    mbuf_put(p, 1);
    assert_refs(fx, 1, 2);
    assert_int_equal(fx->fp.nreturned, 0);

    /* the server side hands both to one send; the messages no longer hold the bytes */
    hand_req(m1, fx->ss);
    hand_req(m2, fx->ss);
    m1->state = m2->state = MS_SENT;
    assert_int_equal(fx->ss->niov, 3);
    assert_int_equal(fx->ss->bytes, 64 + 30 + 7);
    assert_refs(fx, 0, 1);
    assert_refs(fx, 1, 2);

    fx->ss->busy = true;
    assert_false(fake_sent(fx->ss, p, 64)); /* B0's bytes are all out */
    assert_int_equal(fx->fp.nreturned, 0);  /* but it goes back with the send */
    fx->ss->busy = true;
    assert_false(fake_sent(fx->ss, p, 36));
    assert_int_equal(fx->fp.nreturned, 0);
    fx->ss->busy = true;
    assert_true(fake_sent(fx->ss, p, 1));
    fake_pool_assert_returned(&fx->fp, 0, 1);
    fake_pool_assert_returned(&fx->fp, 1, 1);

    /* the replies: "STORED\r\n" and "END\r\n" in one buffer */
    const uint8_t *r = fake_pool_recv(&fx->fp, 2);
    assert_int_equal(svec_push_wait(&m1->rsp, p, r, 8, 2, false), 0);
    m1->state = MS_ANSWERED;
    assert_int_equal(svec_push_wait(&m2->rsp, p, r + 8, 5, 2, false), 0);
    m2->state = MS_ANSWERED;
    mbuf_put(p, 2);
    assert_refs(fx, 2, 2);

    /* the client side hands both replies over and puts the messages: nothing goes back */
    hand_rsp(m1, fx->cs);
    forget_rsp(fx, m1);
    msg_put(&fx->msgs, p, m1);
    hand_rsp(m2, fx->cs);
    forget_rsp(fx, m2);
    msg_put(&fx->msgs, p, m2);
    assert_int_equal(fx->msgs.live, 0);
    assert_refs(fx, 2, 2);
    fake_pool_assert_returned(&fx->fp, 2, 0);
    assert_false(fake_sent(fx->cs, p, 10));
    fake_pool_assert_returned(&fx->fp, 2, 0);
    assert_true(fake_sent(fx->cs, p, 3));
    fake_pool_assert_returned(&fx->fp, 2, 1);
    assert_int_equal(fx->fp.nreturned, 3);
    assert_no_leak(fx);
}

/* A request streamed to the server while it arrives: each new piece is handed in a new
 * send after the previous one completed; the message never merges a new piece into a
 * handed slice, and each buffer goes back after the send that carried its last slice. */
static void test_request_streamed(void **state)
{
    struct fx *fx = fx_open(state, 64, 8, 0);
    struct mbuf_pool *p = &fx->fp.pool;
    struct msg *m = msg_get(&fx->msgs);
    assert_non_null(m);
    const uint8_t *b0 = fake_pool_recv(&fx->fp, 0);
    assert_int_equal(svec_push(&m->req, p, b0, 20, 0), 0);
    hand_req(m, fx->ss); /* the line goes out before the data block is in */
    assert_int_equal(m->req.sealed, 1);
    assert_int_equal(svec_push(&m->req, p, b0 + 20, 44, 0), 0); /* adjacent, but sealed */
    assert_int_equal(m->req.n, 2);
    mbuf_put(p, 0);
    assert_refs(fx, 0, 2);
    assert_true(fake_sent(fx->ss, p, 20));
    assert_refs(fx, 0, 1);
    hand_req(m, fx->ss);
    const uint8_t *b1 = fake_pool_recv(&fx->fp, 1);
    assert_int_equal(svec_push(&m->req, p, b1, 10, 1), 0);
    m->state = MS_QUEUED;
    mbuf_put(p, 1);
    assert_true(fake_sent(fx->ss, p, 44));
    fake_pool_assert_returned(&fx->fp, 0, 1);
    fake_pool_assert_returned(&fx->fp, 1, 0);
    hand_req(m, fx->ss);
    m->state = MS_SENT;
    msg_put(&fx->msgs, p, m); /* the reply came before the last send completed */
    fake_pool_assert_returned(&fx->fp, 1, 0);
    assert_true(fake_sent(fx->ss, p, 10));
    fake_pool_assert_returned(&fx->fp, 1, 1);
    assert_no_leak(fx);
}

/* (a) The client is gone before its request was sent: nothing was handed, so msg_put drops
 * every reference, and a buffer shared with a request still alive waits for that one. */
static void test_client_gone_before_send(void **state)
{
    struct fx *fx = fx_open(state, 64, 8, 0);
    struct mbuf_pool *p = &fx->fp.pool;
    struct msg *m = msg_get(&fx->msgs);
    struct msg *other = msg_get(&fx->msgs);
    assert_non_null(m);
    assert_non_null(other);
    const uint8_t *b0 = fake_pool_recv(&fx->fp, 0);
    const uint8_t *b1 = fake_pool_recv(&fx->fp, 1);
    assert_int_equal(svec_push_wait(&m->req, p, b0, 64, 0, false), 0);
    assert_int_equal(svec_push_wait(&m->req, p, b1, 5, 1, false), 0);
    assert_int_equal(svec_push_wait(&other->req, p, b1 + 5, 20, 1, false), 0);
    mbuf_put(p, 0);
    mbuf_put(p, 1);
    assert_int_equal(fx->fp.nreturned, 0);

    msg_put(&fx->msgs, p, m); /* the client closed: the request is dropped */
    fake_pool_assert_returned(&fx->fp, 0, 1);
    fake_pool_assert_returned(&fx->fp, 1, 0);
    assert_refs(fx, 1, 1);
    msg_put(&fx->msgs, p, other);
    fake_pool_assert_returned(&fx->fp, 1, 1);
    assert_no_leak(fx);
}

/* (b) Half of a request is in a server send (partly written) when the server connection
 * fails. As the server side does: the unhanded rest is released from req_handed, then the
 * message is put and the send reset. Every buffer goes back exactly once. */
static void test_server_fails_half_handed(void **state)
{
    struct fx *fx = fx_open(state, 64, 8, 0);
    struct mbuf_pool *p = &fx->fp.pool;
    struct msg *m = msg_get(&fx->msgs);
    assert_non_null(m);
    for (uint32_t i = 0; i < 2; i++) {
        const uint8_t *d = fake_pool_recv(&fx->fp, i);
        assert_int_equal(svec_push(&m->req, p, d, 64, i), 0);
        mbuf_put(p, i);
    }
    hand_req(m, fx->ss);
    fx->ss->busy = true;
    assert_false(fake_sent(fx->ss, p, 70));
    hand_req(m, fx->ss); /* nothing new to hand */
    const uint8_t *d2 = fake_pool_recv(&fx->fp, 2);
    assert_int_equal(svec_push(&m->req, p, d2, 30, 2), 0);
    mbuf_put(p, 2);
    assert_int_equal(m->req.n, 3);
    assert_int_equal(m->req_handed, 2);

    /* the connection fails */
    svec_release_from(&m->req, p, m->req_handed);
    m->req_handed = 0;
    m->err = MSG_ERR_CLOSED;
    fake_pool_assert_returned(&fx->fp, 2, 1);
    assert_int_equal(fx->fp.nreturned, 1);
    msg_put(&fx->msgs, p, m);
    assert_int_equal(fx->fp.nreturned, 1);
    sendrec_reset(fx->ss, p);
    fake_pool_assert_returned(&fx->fp, 0, 1);
    fake_pool_assert_returned(&fx->fp, 1, 1);
    assert_no_leak(fx);
}

/* (b) again, the other order: the send is reset first, then the message put with its
 * handed count still set; msg_put drops only what the send never held. */
static void test_server_fails_reset_first(void **state)
{
    struct fx *fx = fx_open(state, 64, 8, 0);
    struct mbuf_pool *p = &fx->fp.pool;
    struct msg *m = msg_get(&fx->msgs);
    assert_non_null(m);
    for (uint32_t i = 0; i < 3; i++) {
        const uint8_t *d = fake_pool_recv(&fx->fp, i);
        assert_int_equal(svec_push(&m->req, p, d, 64, i), 0);
        mbuf_put(p, i);
        if (i == 1)
            hand_req(m, fx->ss);
    }
    assert_int_equal(m->req_handed, 2);
    sendrec_reset(fx->ss, p);
    fake_pool_assert_returned(&fx->fp, 0, 1);
    fake_pool_assert_returned(&fx->fp, 1, 1);
    fake_pool_assert_returned(&fx->fp, 2, 0);
    msg_put(&fx->msgs, p, m);
    fake_pool_assert_returned(&fx->fp, 2, 1);
    assert_int_equal(fx->fp.nreturned, 3);
    assert_no_leak(fx);
}

/* (b) under pressure: the request was copied into spill space, the arena buffers went back
 * at once, and a piece that arrived after the handing lands right after the handed bytes in
 * the same spill buffer without merging into the handed slice. The failure releases it all
 * and only the filler's own spill reference is left. */
static void test_server_fails_spilled(void **state)
{
    struct fx *fx = fx_open(state, 256, 8, 4);
    struct mbuf_pool *p = &fx->fp.pool;
    hold(fx, 6);
    struct msg *m = msg_get(&fx->msgs);
    assert_non_null(m);
    const uint8_t *d = fake_pool_recv(&fx->fp, 6);
    assert_true(mbuf_pressure(p));
    assert_int_equal(svec_push_wait(&m->req, p, d, 40, 6, false), 40);
    mbuf_put(p, 6);
    fake_pool_assert_returned(&fx->fp, 6, 1);
    hand_req(m, fx->ss);
    assert_false(fake_sent(fx->ss, p, 10));

    d = fake_pool_recv(&fx->fp, 6);
    assert_int_equal(svec_push_wait(&m->req, p, d, 30, 6, false), 30);
    mbuf_put(p, 6);
    fake_pool_assert_returned(&fx->fp, 6, 2);
    assert_int_equal(m->req.n, 2);
    assert_int_equal(m->req.v[1].buf, m->req.v[0].buf);
    assert_ptr_equal(m->req.v[1].ptr, m->req.v[0].ptr + 40);
    uint32_t sid = m->req.v[0].buf;
    assert_refs(fx, sid, 3); /* the send's, the message's, the filler's */

    svec_release_from(&m->req, p, m->req_handed);
    m->req_handed = 0;
    msg_put(&fx->msgs, p, m);
    assert_refs(fx, sid, 2);
    sendrec_reset(fx->ss, p);
    assert_refs(fx, sid, 1);
    unhold(fx, 6);
    assert_no_leak(fx);
}

/* (c) The client closes while part of its reply is in a client send: as the client side
 * does, the reply is released from rsp_handed and the message put; the send is reset when
 * the connection is freed. Every buffer goes back exactly once. */
static void test_client_closes_reply_half_handed(void **state)
{
    struct fx *fx = fx_open(state, 64, 8, 0);
    struct mbuf_pool *p = &fx->fp.pool;
    struct msg *m = msg_get(&fx->msgs);
    assert_non_null(m);
    /* the request went out whole */
    const uint8_t *q = fake_pool_recv(&fx->fp, 0);
    assert_int_equal(svec_push(&m->req, p, q, 9, 0), 0);
    mbuf_put(p, 0);
    hand_req(m, fx->ss);
    m->state = MS_SENT;
    assert_true(fake_sent(fx->ss, p, 9));
    fake_pool_assert_returned(&fx->fp, 0, 1);

    /* "VALUE k 0 150\r\n<150 bytes>\r\nEND\r\n" over three buffers, streamed */
    for (uint32_t i = 1; i <= 2; i++) {
        const uint8_t *r = fake_pool_recv(&fx->fp, i);
        assert_int_equal(svec_push_wait(&m->rsp, p, r, 64, i, false), 0);
        mbuf_put(p, i);
    }
    m->rsp_type = 1;
    hand_rsp(m, fx->cs);
    fx->cs->busy = true;
    assert_false(fake_sent(fx->cs, p, 80));
    const uint8_t *r3 = fake_pool_recv(&fx->fp, 3);
    assert_int_equal(svec_push_wait(&m->rsp, p, r3, 49, 3, false), 0);
    mbuf_put(p, 3);
    m->state = MS_ANSWERED;
    assert_int_equal(m->rsp.n, 3);
    assert_int_equal(m->rsp_handed, 2);

    /* the client closes */
    svec_release_from(&m->rsp, p, m->rsp_handed);
    m->rsp_handed = 0;
    m->in_client = false;
    fake_pool_assert_returned(&fx->fp, 3, 1);
    msg_put(&fx->msgs, p, m);
    fake_pool_assert_returned(&fx->fp, 1, 0);
    fake_pool_assert_returned(&fx->fp, 2, 0);
    sendrec_reset(fx->cs, p); /* the connection is freed */
    fake_pool_assert_returned(&fx->fp, 1, 1);
    fake_pool_assert_returned(&fx->fp, 2, 1);
    assert_int_equal(fx->fp.nreturned, 4);
    assert_no_leak(fx);
}

/* (c) again, the message put straight away with its handed count set, then the send reset:
 * msg_put drops the unhanded slice, the reset the handed ones. */
static void test_client_closes_put_handed(void **state)
{
    struct fx *fx = fx_open(state, 64, 8, 0);
    struct mbuf_pool *p = &fx->fp.pool;
    struct msg *m = msg_get(&fx->msgs);
    assert_non_null(m);
    const uint8_t *r = fake_pool_recv(&fx->fp, 4);
    /* a split reply: items kept apart, all in one buffer */
    assert_int_equal(svec_push_apart(&m->rsp, p, r, 20, 4), 0);
    assert_int_equal(svec_push_apart(&m->rsp, p, r + 20, 20, 4), 0);
    assert_int_equal(svec_push_apart(&m->rsp, p, r + 40, 20, 4), 0);
    mbuf_put(p, 4);
    assert_refs(fx, 4, 3);
    assert_true(sendrec_add(fx->cs, &m->rsp.v[0]));
    assert_true(sendrec_add(fx->cs, &m->rsp.v[1]));
    m->rsp_handed = m->rsp.sealed = 2;
    msg_put(&fx->msgs, p, m);
    assert_refs(fx, 4, 2);
    fake_pool_assert_returned(&fx->fp, 4, 0);
    assert_false(fake_sent(fx->cs, p, 5));
    sendrec_reset(fx->cs, p);
    fake_pool_assert_returned(&fx->fp, 4, 1);
    assert_no_leak(fx);
}

/* ---- evacuation: waiting bytes moved out of the arena ------------------------------- */

/* svec_evacuate moves each arena slice from `from` on into spill space, one slice staying
 * one slice, and drops its arena reference: the arena buffer goes back as soon as the
 * connection is done with it. Slices not in the arena stay as they are and are not
 * counted. */
static void test_svec_evacuate(void **state)
{
    struct fx *fx = fx_open(state, 64, 8, 4);
    struct mbuf_pool *p = &fx->fp.pool;
    struct svec s;
    svec_init(&s);
    static const char crlf[] = "\r\n";
    const uint8_t *b0 = fake_pool_recv(&fx->fp, 0);
    const uint8_t *b1 = fake_pool_recv(&fx->fp, 1);
    const uint8_t *sp;
    uint32_t sid;
    assert_int_equal(mbuf_spill(p, b1 + 60, 4, &sp, &sid), 4);
    assert_int_equal(svec_push(&s, p, b0, 10, 0), 0);
    assert_int_equal(svec_push(&s, p, (const uint8_t *)crlf, 2, MBUF_NONE), 0);
    assert_int_equal(svec_push_apart(&s, p, b0 + 10, 20, 0), 0);
    assert_int_equal(svec_push(&s, p, sp, 4, sid), 0);
    mbuf_put(p, sid);
    assert_int_equal(svec_push(&s, p, b1, 60, 1), 0);
    assert_int_equal(s.n, 5);
    mbuf_put(p, 0);
    mbuf_put(p, 1);
    assert_refs(fx, 0, 2);
    assert_refs(fx, 1, 1);

    uint8_t before[96];
    uint32_t nb = 0;
    for (uint32_t i = 0; i < s.n; i++) {
        memcpy(before + nb, s.v[i].ptr, s.v[i].len);
        nb += s.v[i].len;
    }
    assert_int_equal(svec_evacuate(&s, p, 0), 3);
    assert_int_equal(s.n, 5);
    fake_pool_assert_returned(&fx->fp, 0, 1);
    fake_pool_assert_returned(&fx->fp, 1, 1);
    assert_slice(&s.v[1], (const uint8_t *)crlf, 2, MBUF_NONE);
    assert_slice(&s.v[3], sp, 4, sid);
    uint8_t after[96];
    uint32_t na = 0;
    for (uint32_t i = 0; i < s.n; i++) {
        assert_true(s.v[i].buf >= p->count);
        if (s.v[i].buf >= p->count && s.v[i].buf < MBUF_COPY) {
            const uint8_t *base = mbuf_data(p, s.v[i].buf);
            assert_true(s.v[i].ptr >= base && s.v[i].ptr + s.v[i].len <= base + p->size);
        }
        memcpy(after + na, s.v[i].ptr, s.v[i].len);
        na += s.v[i].len;
    }
    assert_int_equal(na, nb);
    assert_memory_equal(after, before, nb);
    assert_int_equal(svec_evacuate(&s, p, 0), 0); /* nothing left in the arena */
    svec_release(&s, p);
    assert_no_leak(fx);
}

/* Slices before `from` are handed to a send: evacuation leaves them where the send's iovecs
 * point. */
static void test_svec_evacuate_from(void **state)
{
    struct fx *fx = fx_open(state, 64, 8, 4);
    struct mbuf_pool *p = &fx->fp.pool;
    struct msg *m = msg_get(&fx->msgs);
    assert_non_null(m);
    const uint8_t *b0 = fake_pool_recv(&fx->fp, 0);
    const uint8_t *b1 = fake_pool_recv(&fx->fp, 1);
    assert_int_equal(svec_push(&m->req, p, b0, 30, 0), 0);
    hand_req(m, fx->ss);
    assert_int_equal(svec_push(&m->req, p, b0 + 30, 30, 0), 0);
    assert_int_equal(svec_push(&m->req, p, b1, 30, 1), 0);
    mbuf_put(p, 0);
    mbuf_put(p, 1);
    assert_int_equal(svec_evacuate(&m->req, p, m->req_handed), 2);
    assert_slice(&m->req.v[0], b0, 30, 0);
    assert_ptr_equal(fx->ss->iov[0].iov_base, b0);
    assert_refs(fx, 0, 1); /* the send's */
    fake_pool_assert_returned(&fx->fp, 1, 1);
    assert_true(fake_sent(fx->ss, p, 30));
    fake_pool_assert_returned(&fx->fp, 0, 1);
    msg_put(&fx->msgs, p, m);
    assert_no_leak(fx);
}

/* Out of spill space, evacuation stops: the slices it could not move keep their arena
 * references, the moved ones count. */
static void test_svec_evacuate_out_of_space(void **state)
{
    struct fx *fx = fx_open(state, 64, 8, 1);
    struct mbuf_pool *p = &fx->fp.pool;
    struct svec s;
    svec_init(&s);
    const uint8_t *b0 = fake_pool_recv(&fx->fp, 0);
    const uint8_t *b1 = fake_pool_recv(&fx->fp, 1);
    const uint8_t *b2 = fake_pool_recv(&fx->fp, 2);
    assert_int_equal(svec_push(&s, p, b0, 40, 0), 0);
    assert_int_equal(svec_push(&s, p, b1, 40, 1), 0);
    assert_int_equal(svec_push(&s, p, b2, 10, 2), 0);
    for (uint32_t i = 0; i < 3; i++)
        mbuf_put(p, i);
    assert_int_equal(svec_evacuate(&s, p, 0), 1);
    assert_true(s.v[0].buf >= p->count);
    assert_slice(&s.v[1], b1, 40, 1);
    assert_slice(&s.v[2], b2, 10, 2); /* it stops at the first slice that does not fit */
    fake_pool_assert_returned(&fx->fp, 0, 1);
    assert_refs(fx, 1, 1);
    assert_refs(fx, 2, 1);
    svec_release(&s, p);
    fake_pool_assert_returned(&fx->fp, 1, 1);
    fake_pool_assert_returned(&fx->fp, 2, 1);
    assert_no_leak(fx);
}

/* msg_evacuate moves every waiting arena slice of a split request: the unhanded request and
 * reply slices, the keys, and its fragments'; handed slices stay. Indices into the
 * fragments' replies keep their meaning. After the sends and puts every buffer is back
 * once. */
static void test_msg_evacuate(void **state)
{
    struct fx *fx = fx_open(state, 64, 8, 16);
    struct mbuf_pool *p = &fx->fp.pool;
    struct msg *m = msg_get(&fx->msgs);
    struct msg *f = msg_get(&fx->msgs);
    assert_non_null(m);
    assert_non_null(f);
    const uint8_t *line = fake_pool_recv(&fx->fp, 0); /* "get a b" */
    const uint8_t *r = fake_pool_recv(&fx->fp, 1);    /* the fragment's reply */
    const uint8_t *c = fake_pool_recv(&fx->fp, 2);    /* the parent's reply, partly sent */

    m->mg = mget_new(2, true);
    assert_non_null(m->mg);
    m->mg->nkeys = 2;
    for (uint32_t k = 0; k < 2; k++) {
        mbuf_get(p, 0);
        m->mg->keys[k] = (struct slice){.ptr = line + 4 + 2 * k, .len = 1, .buf = 0};
    }
    m->frags = f;
    f->is_frag = true;
    f->parent = m;
    assert_int_equal(svec_push(&f->req, p, (const uint8_t *)"get ", 4, MBUF_NONE), 0);
    assert_int_equal(svec_push(&f->req, p, line + 4, 3, 0), 0);
    hand_req(f, fx->ss);
    assert_int_equal(svec_push(&f->req, p, (const uint8_t *)"\r\n", 2, MBUF_NONE), 0);
    assert_int_equal(svec_push_apart(&f->rsp, p, r, 20, 1), 0);
    assert_int_equal(svec_push_apart(&f->rsp, p, r + 20, 20, 1), 0);
    m->mg->items[0] = (struct mget_item){.frag = f, .first = 0, .last = 1};
    m->mg->items[1] = (struct mget_item){.frag = f, .first = 1, .last = 2};
    assert_int_equal(svec_push(&m->rsp, p, c, 16, 2), 0);
    hand_rsp(m, fx->cs);
    assert_int_equal(svec_push(&m->rsp, p, c + 16, 16, 2), 0);
    for (uint32_t i = 0; i < 3; i++)
        mbuf_put(p, i);

    /* two keys, the fragment's two reply items, the parent's unhanded reply slice */
    assert_int_equal(msg_evacuate(m, p), 5);
    fake_pool_assert_returned(&fx->fp, 1, 1);
    assert_refs(fx, 0, 1); /* the fragment's handed key bytes */
    assert_refs(fx, 2, 1); /* the parent's handed reply bytes */
    for (uint32_t k = 0; k < 2; k++) {
        assert_true(m->mg->keys[k].buf >= p->count);
        assert_int_equal(m->mg->keys[k].ptr[0], line[4 + 2 * k]);
        const struct mget_item *it = &m->mg->items[k];
        assert_int_equal(it->frag->rsp.n, 2);
        assert_memory_equal(it->frag->rsp.v[it->first].ptr, r + 20 * k, 20);
    }
    assert_slice(&f->req.v[1], line + 4, 3, 0);
    assert_true(m->rsp.v[1].buf >= p->count);
    assert_memory_equal(m->rsp.v[1].ptr, c + 16, 16);
    assert_int_equal(msg_evacuate(m, p), 0);

    assert_true(fake_sent(fx->ss, p, 7));
    fake_pool_assert_returned(&fx->fp, 0, 1);
    assert_true(fake_sent(fx->cs, p, 16));
    fake_pool_assert_returned(&fx->fp, 2, 1);
    m->frags = NULL;
    msg_put(&fx->msgs, p, f);
    msg_put(&fx->msgs, p, m);
    assert_no_leak(fx);
}

/* A redis split keeps no keys (its replies are matched by position): evacuating it moves the
 * fragments' reply slices and touches no key array (a NULL one crashed the pressure pass). */
static void test_msg_evacuate_split_without_keys(void **state)
{
    struct fx *fx = fx_open(state, 64, 8, 16);
    struct mbuf_pool *p = &fx->fp.pool;
    struct msg *m = msg_get(&fx->msgs);
    struct msg *f = msg_get(&fx->msgs);
    assert_non_null(m);
    assert_non_null(f);
    const uint8_t *r = fake_pool_recv(&fx->fp, 0);
    m->mg = mget_new(2, false);
    assert_non_null(m->mg);
    m->mg->nkeys = 2;
    m->frags = f;
    f->is_frag = true;
    f->parent = m;
    assert_int_equal(svec_push_apart(&f->rsp, p, r, 8, 0), 0);
    m->mg->items[0] = (struct mget_item){.frag = f, .first = 0, .last = 1};
    mbuf_put(p, 0);
    assert_int_equal(msg_evacuate(m, p), 1);
    fake_pool_assert_returned(&fx->fp, 0, 1);
    m->frags = NULL;
    msg_put(&fx->msgs, p, f);
    msg_put(&fx->msgs, p, m);
    assert_no_leak(fx);
}

/* Bytes read by their offset in a message: in one slice they are pointed at, across slices
 * copied, and a range is shared slice by slice with a reference each. */
static void test_svec_offsets(void **state)
{
    struct fx *fx = fx_open(state, 64, 8, 16);
    struct mbuf_pool *p = &fx->fp.pool;
    struct svec s, d;
    uint8_t out[16];
    svec_init(&s);
    svec_init(&d);
    const uint8_t *a = fake_pool_recv(&fx->fp, 0);
    const uint8_t *b = fake_pool_recv(&fx->fp, 1);
    assert_int_equal(svec_push(&s, p, a, 10, 0), 0);
    assert_int_equal(svec_push(&s, p, b, 10, 1), 0);
    struct svec_cur cur = {0, 0};
    assert_ptr_equal(svec_peek(&s, 2, 5, &cur), a + 2);
    assert_ptr_equal(svec_peek(&s, 12, 8, &cur), b + 2);
    assert_null(svec_peek(&s, 8, 4, NULL));   /* spans both */
    assert_null(svec_peek(&s, 15, 10, NULL)); /* past the end */
    assert_true(svec_copy_out(&s, 8, 4, out, NULL));
    assert_memory_equal(out, a + 8, 2);
    assert_memory_equal(out + 2, b, 2);
    assert_false(svec_copy_out(&s, 18, 4, out, NULL));
    assert_int_equal(svec_push_range(&d, p, &s, 5, 10, NULL), 0);
    assert_int_equal(d.n, 2);
    assert_slice(&d.v[0], a + 5, 5, 0);
    assert_slice(&d.v[1], b, 5, 1);
    assert_refs(fx, 0, 3); /* the receive's, s's and d's */
    assert_int_equal(svec_push_range(&d, p, &s, 19, 5, NULL), -ERANGE);
    svec_release(&s, p);
    svec_release(&d, p);
    mbuf_put(p, 0);
    mbuf_put(p, 1);
    assert_no_leak(fx);
}

#define T(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)

int main(void)
{
    if (getenv("TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        T(test_svec_init),
        T(test_svec_push_takes_ref),
        T(test_svec_push_empty),
        T(test_svec_push_merges_adjacent),
        T(test_svec_no_merge_across_buffers),
        T(test_svec_no_merge_into_sealed),
        T(test_svec_push_apart),
        T(test_svec_grows),
        T(test_svec_pseudo_ids),
        T(test_svec_release_from),
        T(test_svec_push_wait_no_pressure),
        T(test_svec_push_wait_pressure),
        T(test_svec_push_wait_spans_spill_buffers),
        T(test_svec_push_wait_spill_exhausted),
        T(test_svec_push_wait_only_arena),
        T(test_msg_get_put_recycle),
        T(test_msg_pool_bounded),
        T(test_msg_put_releases_all),
        T(test_msg_put_keeps_handed),
        T(test_request_life),
        T(test_request_streamed),
        T(test_client_gone_before_send),
        T(test_server_fails_half_handed),
        T(test_server_fails_reset_first),
        T(test_server_fails_spilled),
        T(test_client_closes_reply_half_handed),
        T(test_client_closes_put_handed),
        T(test_svec_evacuate),
        T(test_svec_evacuate_from),
        T(test_svec_evacuate_out_of_space),
        T(test_msg_evacuate),
        T(test_msg_evacuate_split_without_keys),
        T(test_svec_offsets),
    };
    return cmocka_run_group_tests_name("msg", tests, NULL, NULL);
}
