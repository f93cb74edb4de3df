/* Unit tests for src/sendrec: gathering slices into one send, resuming short sends across
 * iovec boundaries, and when the buffer references a send holds go back, over a fake engine
 * that counts the buffers given back to it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "src/io.h"
#include "src/mbuf.h"
#include "src/sendrec.h"

/* ---- fixture: a pool over a fake engine, and a send record ---------------------------- */

/* The engine side of the arena as the core sees it: buf_return is all the core calls. */
struct fx {
    struct io_engine e; /* first: buf_return finds the fixture from its engine pointer */
    struct mbuf_pool pool;
    uint32_t *received; /* mbuf_received calls per arena buffer */
    uint32_t *returned; /* buf_return calls per arena buffer */
    uint64_t nreturned; /* buf_return calls in all */
    struct sendrec_cache cache;
    struct sendrec *s; /* taken by fx_open, given back by the teardown */
};

static void fake_buf_return(struct io_engine *e, uint32_t id)
{
    struct fx *fx = (struct fx *)(void *)e;
    if (id >= fx->pool.count)
        fail_msg("buffer %u given to the engine: not an arena buffer (count %u)", id,
                 fx->pool.count);
    if (fx->pool.refs[id] != 0)
        fail_msg("buffer %u given back with %u references", id, fx->pool.refs[id]);
    fx->returned[id]++;
    fx->nreturned++;
    if (fx->returned[id] > fx->received[id])
        fail_msg("buffer %u given back %u times, received %u times", id, fx->returned[id],
                 fx->received[id]);
}

static const struct io_ops fake_ops = {.name = "fake", .buf_return = fake_buf_return};

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
    if (fx->s != NULL) {
        /* the pool goes away: forget the references (a failed test may have left them wrong)
         * and let the reset free the owned blocks */
        fx->s->nbufs = 0;
        sendrec_reset(fx->s, &fx->pool);
        sendrec_give(&fx->cache, fx->s);
    }
    sendrec_cache_destroy(&fx->cache);
    mbuf_pool_free(&fx->pool);
    free(fx->received);
    free(fx->returned);
    free(fx);
    return 0;
}

static struct fx *fx_open(void **state, uint32_t size, uint32_t count, uint32_t spill_max)
{
    struct fx *fx = *state;
    assert_int_equal(mbuf_pool_init(&fx->pool, size, count, spill_max), 0);
    fx->e.ops = &fake_ops;
    fx->e.pool = &fx->pool;
    fx->pool.engine = &fx->e;
    fx->received = calloc(count, sizeof(*fx->received));
    fx->returned = calloc(count, sizeof(*fx->returned));
    assert_non_null(fx->received);
    assert_non_null(fx->returned);
    fx->s = sendrec_take(&fx->cache);
    assert_non_null(fx->s);
    return fx;
}

/* A receive completed into arena buffer id: fills it with a pattern and takes the core's
 * first reference, as a connection does on a recv event. */
static uint8_t *fx_recv(struct fx *fx, uint32_t id)
{
    uint8_t *d = mbuf_data(&fx->pool, id);
    for (uint32_t i = 0; i < fx->pool.size; i++)
        d[i] = (uint8_t)(id * 31 + i * 7 + 1);
    mbuf_received(&fx->pool, id);
    fx->received[id]++;
    return d;
}

/* A slice of buffer id with its own reference, as a message holds it before a send. */
static struct slice fx_slice(struct fx *fx, uint32_t id, uint32_t off, uint32_t len)
{
    mbuf_get(&fx->pool, id);
    return (struct slice){.ptr = mbuf_data(&fx->pool, id) + off, .len = len, .buf = id};
}

static void assert_returned(const struct fx *fx, uint32_t id, uint32_t times)
{
    if (fx->returned[id] != times)
        fail_msg("buffer %u given back %u times, expected %u", id, fx->returned[id], times);
}

/* The leak check: every arena buffer is unreferenced and went back as often as it came,
 * and the only spill reference left is the filler's own on the buffer being filled. */
static void assert_no_leak(const struct fx *fx)
{
    const struct mbuf_pool *p = &fx->pool;
    for (uint32_t i = 0; i < p->count; i++) {
        if (p->refs[i] != 0)
            fail_msg("arena buffer %u still has %u references", i, p->refs[i]);
        if (fx->returned[i] != fx->received[i])
            fail_msg("arena buffer %u received %u times, given back %u times", i, fx->received[i],
                     fx->returned[i]);
    }
    assert_int_equal(p->held, 0);
    for (uint32_t i = p->count; i < p->count + p->spill_max; i++) {
        uint32_t want = i == p->spill_cur ? 1 : 0;
        if (p->refs[i] != want)
            fail_msg("spill buffer %u has %u references, expected %u", i, p->refs[i], want);
    }
    assert_int_equal(p->spill_live, p->spill_cur != MBUF_NONE ? 1 : 0);
}

static void assert_empty(const struct sendrec *s)
{
    assert_int_equal(s->niov, 0);
    assert_int_equal(s->first, 0);
    assert_int_equal(s->nbufs, 0);
    assert_int_equal(s->nowned, 0);
    assert_int_equal(s->bytes, 0);
    assert_false(s->busy);
}

/* The bytes the next sendmsg would carry, gathered from the message header. */
static size_t gather(struct sendrec *s, uint8_t *out, size_t cap)
{
    struct msghdr *mh = sendrec_msghdr(s);
    size_t n = 0;
    for (size_t i = 0; i < (size_t)mh->msg_iovlen; i++) {
        assert_true(n + mh->msg_iov[i].iov_len <= cap);
        memcpy(out + n, mh->msg_iov[i].iov_base, mh->msg_iov[i].iov_len);
        n += mh->msg_iov[i].iov_len;
    }
    return n;
}

/* ---- the cache ---------------------------------------------------------------------- */

static void test_cache_take_give(void **state)
{
    (void)state;
    struct sendrec_cache c = {.n = 0};
    struct sendrec *a = sendrec_take(&c);
    assert_non_null(a);
    assert_non_null(a->iov);
    assert_non_null(a->bufs);
    assert_empty(a);
    sendrec_give(&c, a);
    assert_int_equal(c.n, 1);
    assert_ptr_equal(sendrec_take(&c), a); /* reused, not allocated again */
    assert_int_equal(c.n, 0);
    struct sendrec *b = sendrec_take(&c);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    sendrec_give(&c, a);
    sendrec_give(&c, b);
    assert_ptr_equal(sendrec_take(&c), b); /* last in, first out */
    sendrec_give(&c, b);
    sendrec_cache_destroy(&c);
    assert_int_equal(c.n, 0);
}

/* The cache is bounded: what it cannot keep is freed (the leak sanitizer checks it). */
static void test_cache_bounded(void **state)
{
    (void)state;
    enum { CAP = sizeof(((struct sendrec_cache *)0)->free) / sizeof(struct sendrec *) };
    struct sendrec_cache c = {.n = 0};
    struct sendrec *s[CAP + 5];
    for (int i = 0; i < CAP + 5; i++) {
        s[i] = sendrec_take(&c);
        assert_non_null(s[i]);
    }
    for (int i = 0; i < CAP + 5; i++) {
        sendrec_give(&c, s[i]);
        assert_int_equal(c.n, i < CAP ? i + 1 : CAP);
    }
    sendrec_cache_destroy(&c);
    assert_int_equal(c.n, 0);
}

/* ---- gathering ---------------------------------------------------------------------- */

/* sendrec_add takes the slice's reference over: it neither takes nor drops one until the
 * send completes; then the buffer goes back and the record is empty. */
static void test_add_takes_over_ref(void **state)
{
    struct fx *fx = fx_open(state, 256, 4, 0);
    struct sendrec *s = fx->s;
    const uint8_t *d = fx_recv(fx, 2);
    struct slice sl = fx_slice(fx, 2, 10, 40);
    mbuf_put(&fx->pool, 2); /* the connection is done with it: the slice keeps it */
    assert_int_equal(fx->pool.refs[2], 1);
    assert_true(sendrec_add(s, &sl));
    assert_int_equal(fx->pool.refs[2], 1);
    assert_int_equal(s->niov, 1);
    assert_int_equal(s->nbufs, 1);
    assert_int_equal(s->bufs[0], 2);
    assert_int_equal(s->bytes, 40);
    assert_ptr_equal(s->iov[0].iov_base, d + 10);
    assert_int_equal(s->iov[0].iov_len, 40);
    assert_int_equal(fx->nreturned, 0);
    s->busy = true;
    assert_true(sendrec_complete(s, &fx->pool, 40));
    assert_returned(fx, 2, 1);
    assert_empty(s);
    assert_no_leak(fx);
}

/* Bytes the proxy invented (MBUF_NONE) and bytes a message owns (MBUF_COPY) are carried
 * without any reference. */
static void test_add_pseudo_ids(void **state)
{
    struct fx *fx = fx_open(state, 256, 4, 0);
    struct sendrec *s = fx->s;
    static const char end[] = "END\r\n";
    uint8_t copy[7] = "copied";
    fx_recv(fx, 0);
    struct slice a = {.ptr = (const uint8_t *)end, .len = 5, .buf = MBUF_NONE};
    struct slice b = {.ptr = copy, .len = 6, .buf = MBUF_COPY};
    struct slice c = fx_slice(fx, 0, 0, 3);
    assert_true(sendrec_add(s, &a));
    assert_int_equal(s->nbufs, 0); /* nothing to drop for a static string */
    assert_true(sendrec_add(s, &b));
    assert_true(sendrec_add(s, &c));
    assert_int_equal(s->niov, 3);
    assert_int_equal(s->bytes, 14);
    assert_int_equal(fx->pool.refs[0], 2);
    assert_true(sendrec_complete(s, &fx->pool, 14));
    assert_int_equal(fx->pool.refs[0], 1);
    assert_int_equal(fx->nreturned, 0);
    mbuf_put(&fx->pool, 0);
    assert_no_leak(fx);
}

/* The header covers the iovecs not yet sent, from the first unsent byte. */
static void test_msghdr(void **state)
{
    struct fx *fx = fx_open(state, 256, 4, 0);
    struct sendrec *s = fx->s;
    const uint8_t *d0 = fx_recv(fx, 0);
    const uint8_t *d1 = fx_recv(fx, 1);
    struct slice a = fx_slice(fx, 0, 0, 10);
    struct slice b = fx_slice(fx, 1, 5, 20);
    assert_true(sendrec_add(s, &a));
    assert_true(sendrec_add(s, &b));
    struct msghdr *mh = sendrec_msghdr(s);
    assert_ptr_equal(mh, &s->mh);
    assert_ptr_equal(mh->msg_iov, s->iov);
    assert_int_equal(mh->msg_iovlen, 2);
    assert_null(mh->msg_name);
    assert_null(mh->msg_control);
    assert_int_equal(mh->msg_flags, 0);
    assert_ptr_equal(mh->msg_iov[0].iov_base, d0);
    assert_ptr_equal(mh->msg_iov[1].iov_base, d1 + 5);

    assert_false(sendrec_complete(s, &fx->pool, 13));
    mh = sendrec_msghdr(s);
    assert_ptr_equal(mh->msg_iov, &s->iov[1]);
    assert_int_equal(mh->msg_iovlen, 1);
    assert_ptr_equal(mh->msg_iov[0].iov_base, d1 + 5 + 3);
    assert_int_equal(mh->msg_iov[0].iov_len, 17);
    assert_true(sendrec_complete(s, &fx->pool, 17));
    mbuf_put(&fx->pool, 0);
    mbuf_put(&fx->pool, 1);
    assert_no_leak(fx);
}

/* Short sends resume where they stopped, within an iovec and across iovec boundaries; no
 * reference is dropped, not even of a buffer whose bytes are all gone, until the whole send
 * has completed. */
static void test_short_send_resumed(void **state)
{
    struct fx *fx = fx_open(state, 256, 4, 0);
    struct sendrec *s = fx->s;
    const uint32_t len[3] = {10, 20, 30};
    for (uint32_t i = 0; i < 3; i++) {
        fx_recv(fx, i);
        struct slice sl = fx_slice(fx, i, i, len[i]);
        mbuf_put(&fx->pool, i);
        assert_true(sendrec_add(s, &sl));
    }
    assert_int_equal(s->bytes, 60);

    s->busy = true;
    assert_false(sendrec_complete(s, &fx->pool, 5)); /* inside the first */
    assert_false(s->busy);
    assert_int_equal(s->first, 0);
    assert_ptr_equal(s->iov[0].iov_base, mbuf_data(&fx->pool, 0) + 5);
    assert_int_equal(s->iov[0].iov_len, 5);
    assert_int_equal(fx->nreturned, 0);

    assert_false(sendrec_complete(s, &fx->pool, 5 + 20 + 3)); /* across two boundaries */
    assert_int_equal(s->first, 2);
    assert_ptr_equal(s->iov[2].iov_base, mbuf_data(&fx->pool, 2) + 2 + 3);
    assert_int_equal(s->iov[2].iov_len, 27);
    assert_int_equal(fx->nreturned, 0); /* buffers 0 and 1 are sent but still held */
    assert_int_equal(fx->pool.refs[0], 1);
    assert_int_equal(fx->pool.refs[1], 1);

    assert_false(sendrec_complete(s, &fx->pool, 26));
    assert_int_equal(fx->nreturned, 0);
    assert_true(sendrec_complete(s, &fx->pool, 1));
    for (uint32_t i = 0; i < 3; i++)
        assert_returned(fx, i, 1);
    assert_empty(s);
    assert_no_leak(fx);
}

/* Every way the kernel may cut the send: chunks of every size from 1 byte to all of it.
 * After each completion the header carries exactly the bytes not yet sent, and the buffers
 * go back only with the last chunk. */
static void test_short_send_every_chunk(void **state)
{
    enum { NSL = 5, MAXB = 256 };
    struct fx *fx = fx_open(state, 64, 8, 0);
    struct sendrec *s = fx->s;
    static const uint32_t off[NSL] = {0, 7, 0, 63, 10};
    static const uint32_t len[NSL] = {13, 1, 64, 1, 40};
    static const uint32_t buf[NSL] = {0, 1, 2, 3, 1}; /* buffer 1 twice */
    uint8_t want[MAXB], got[MAXB];
    for (uint32_t b = 0; b < 4; b++)
        fx_recv(fx, b);
    size_t total = 0;
    for (uint32_t i = 0; i < NSL; i++) {
        memcpy(want + total, mbuf_data(&fx->pool, buf[i]) + off[i], len[i]);
        total += len[i];
    }
    for (uint32_t chunk = 1; chunk <= total; chunk++) {
        for (uint32_t i = 0; i < NSL; i++) {
            struct slice sl = fx_slice(fx, buf[i], off[i], len[i]);
            assert_true(sendrec_add(s, &sl));
        }
        size_t sent = 0;
        for (;;) {
            size_t n = gather(s, got, sizeof(got));
            assert_int_equal(n, total - sent);
            assert_memory_equal(got, want + sent, n);
            assert_true(sendrec_msghdr(s)->msg_iov[0].iov_len > 0 || sent == 0);
            uint32_t res = (uint32_t)(n < chunk ? n : chunk);
            sent += res;
            bool done = sendrec_complete(s, &fx->pool, res);
            assert_int_equal(done, sent == total);
            if (done)
                break;
            for (uint32_t b = 0; b < 4; b++)
                assert_int_equal(fx->pool.refs[b], b == 1 ? 3 : 2);
        }
        assert_empty(s);
        for (uint32_t b = 0; b < 4; b++)
            assert_int_equal(fx->pool.refs[b], 1);
    }
    assert_int_equal(fx->nreturned, 0);
    for (uint32_t b = 0; b < 4; b++)
        mbuf_put(&fx->pool, b);
    assert_no_leak(fx);
}

/* Empty iovecs are skipped, so a resumed send never starts with one and a send whose only
 * rest is empty is complete. */
static void test_empty_iovecs_skipped(void **state)
{
    struct fx *fx = fx_open(state, 256, 4, 0);
    struct sendrec *s = fx->s;
    static const uint8_t nothing[1];
    const struct slice empty = {.ptr = nothing, .len = 0, .buf = MBUF_NONE};
    fx_recv(fx, 0);
    fx_recv(fx, 1);
    struct slice a = fx_slice(fx, 0, 0, 5);
    struct slice b = fx_slice(fx, 1, 0, 5);
    assert_true(sendrec_add(s, &empty));
    assert_true(sendrec_add(s, &a));
    assert_true(sendrec_add(s, &empty));
    assert_true(sendrec_add(s, &empty));
    assert_true(sendrec_add(s, &b));
    assert_true(sendrec_add(s, &empty));
    assert_int_equal(s->niov, 6);
    assert_int_equal(s->bytes, 10);

    assert_false(sendrec_complete(s, &fx->pool, 5)); /* ends exactly at a's end */
    assert_int_equal(s->first, 4);
    struct msghdr *mh = sendrec_msghdr(s);
    assert_int_equal(mh->msg_iovlen, 2);
    assert_ptr_equal(mh->msg_iov[0].iov_base, mbuf_data(&fx->pool, 1));
    assert_int_equal(mh->msg_iov[0].iov_len, 5);
    assert_int_equal(fx->nreturned, 0);

    assert_true(sendrec_complete(s, &fx->pool, 5)); /* the trailing empty one is not waited for */
    assert_empty(s);
    assert_int_equal(fx->pool.refs[0], 1);
    assert_int_equal(fx->pool.refs[1], 1);

    /* a partial send inside an iovec does not skip the empties after it yet */
    struct slice c = fx_slice(fx, 0, 0, 4);
    assert_true(sendrec_add(s, &c));
    assert_true(sendrec_add(s, &empty));
    struct slice d = fx_slice(fx, 1, 0, 4);
    assert_true(sendrec_add(s, &d));
    assert_false(sendrec_complete(s, &fx->pool, 2));
    assert_int_equal(s->first, 0);
    assert_false(sendrec_complete(s, &fx->pool, 2));
    assert_int_equal(s->first, 2);
    assert_true(sendrec_complete(s, &fx->pool, 4));
    mbuf_put(&fx->pool, 0);
    mbuf_put(&fx->pool, 1);
    assert_no_leak(fx);
}

/* The same buffer carried by several slices of one send: one reference each, and the buffer
 * goes back once, at the end. */
static void test_one_buffer_many_slices(void **state)
{
    struct fx *fx = fx_open(state, 256, 4, 0);
    struct sendrec *s = fx->s;
    fx_recv(fx, 3);
    for (uint32_t i = 0; i < 10; i++) {
        struct slice sl = fx_slice(fx, 3, i * 20, 10);
        assert_true(sendrec_add(s, &sl));
    }
    mbuf_put(&fx->pool, 3);
    assert_int_equal(fx->pool.refs[3], 10);
    assert_int_equal(s->nbufs, 10);
    assert_false(sendrec_complete(s, &fx->pool, 99));
    assert_int_equal(fx->pool.refs[3], 10);
    assert_true(sendrec_complete(s, &fx->pool, 1));
    assert_returned(fx, 3, 1);
    assert_no_leak(fx);
}

/* A connection that fails mid-send drops every reference, sent or not, and empties the
 * record; resetting an empty record does nothing. */
static void test_reset_drops_all(void **state)
{
    struct fx *fx = fx_open(state, 256, 4, 0);
    struct sendrec *s = fx->s;
    for (uint32_t i = 0; i < 3; i++) {
        fx_recv(fx, i);
        struct slice sl = fx_slice(fx, i, 0, 50);
        mbuf_put(&fx->pool, i);
        assert_true(sendrec_add(s, &sl));
    }
    uint8_t *block = malloc(32);
    assert_non_null(block);
    assert_true(sendrec_own(s, block));
    s->busy = true;
    assert_false(sendrec_complete(s, &fx->pool, 70));
    s->busy = true;
    sendrec_reset(s, &fx->pool);
    for (uint32_t i = 0; i < 3; i++)
        assert_returned(fx, i, 1);
    assert_empty(s);
    sendrec_reset(s, &fx->pool);
    assert_empty(s);
    assert_int_equal(fx->nreturned, 3);
    assert_no_leak(fx);
}

/* Owned heap blocks: up to 8 per send, freed when the send completes (the leak sanitizer
 * checks that they are); a ninth is refused and stays the caller's. */
static void test_own_frees(void **state)
{
    struct fx *fx = fx_open(state, 256, 4, 0);
    struct sendrec *s = fx->s;
    enum { MAXOWN = sizeof(((struct sendrec *)0)->owned) / sizeof(void *) };
    assert_int_equal(MAXOWN, 8);
    for (int i = 0; i < MAXOWN; i++) {
        char *b = malloc(16);
        assert_non_null(b);
        memcpy(b, "SERVER_ERROR x\r\n", 16);
        assert_true(sendrec_own(s, b));
        struct slice sl = {.ptr = (const uint8_t *)b, .len = 16, .buf = MBUF_COPY};
        assert_true(sendrec_add(s, &sl));
    }
    void *extra = malloc(16);
    assert_non_null(extra);
    assert_false(sendrec_own(s, extra));
    assert_int_equal(s->nowned, MAXOWN);
    free(extra);
    assert_false(sendrec_complete(s, &fx->pool, 100));
    assert_int_equal(s->nowned, MAXOWN); /* still pointed into */
    assert_true(sendrec_complete(s, &fx->pool, 8 * 16 - 100));
    assert_empty(s);

    /* and again after a reset */
    void *late = malloc(10);
    assert_non_null(late);
    assert_true(sendrec_own(s, late));
    sendrec_reset(s, &fx->pool);
    assert_empty(s);
    assert_no_leak(fx);
}

/* SENDREC_MAX_IOV slices fill a send; the next is refused without taking its reference,
 * which the caller keeps. */
static void test_full_at_max_iov(void **state)
{
    struct fx *fx = fx_open(state, 4096, 4, 0);
    struct sendrec *s = fx->s;
    fx_recv(fx, 0);
    fx_recv(fx, 1);
    for (uint32_t i = 0; i < SENDREC_MAX_IOV; i++) {
        assert_false(sendrec_full(s));
        struct slice sl = fx_slice(fx, i % 2, i % 4000, 3);
        assert_true(sendrec_add(s, &sl));
    }
    assert_true(sendrec_full(s));
    assert_int_equal(s->niov, SENDREC_MAX_IOV);
    assert_int_equal(s->nbufs, SENDREC_MAX_IOV);
    uint64_t bytes = s->bytes;
    assert_int_equal(bytes, 3 * SENDREC_MAX_IOV);

    struct slice more = fx_slice(fx, 0, 0, 9);
    uint32_t refs0 = fx->pool.refs[0];
    assert_false(sendrec_add(s, &more));
    assert_int_equal(s->niov, SENDREC_MAX_IOV);
    assert_int_equal(s->nbufs, SENDREC_MAX_IOV);
    assert_int_equal(s->bytes, bytes);
    assert_int_equal(fx->pool.refs[0], refs0);
    mbuf_put(&fx->pool, more.buf); /* the refused slice is still the caller's */

    assert_int_equal(sendrec_msghdr(s)->msg_iovlen, SENDREC_MAX_IOV);
    assert_false(sendrec_complete(s, &fx->pool, 3 * 1000 + 1));
    assert_true(sendrec_full(s)); /* full until it is done: iovecs are not reused */
    assert_int_equal(sendrec_msghdr(s)->msg_iovlen, SENDREC_MAX_IOV - 1000);
    assert_true(sendrec_complete(s, &fx->pool, (uint32_t)(bytes - 3 * 1000 - 1)));
    assert_false(sendrec_full(s));
    assert_int_equal(fx->pool.refs[0], 1);
    assert_int_equal(fx->pool.refs[1], 1);
    mbuf_put(&fx->pool, 0);
    mbuf_put(&fx->pool, 1);
    assert_no_leak(fx);
}

/* A send record back from the cache is empty and usable again. */
static void test_reuse_after_complete(void **state)
{
    struct fx *fx = fx_open(state, 256, 4, 0);
    fx_recv(fx, 0);
    struct slice a = fx_slice(fx, 0, 0, 8);
    assert_true(sendrec_add(fx->s, &a));
    assert_false(sendrec_complete(fx->s, &fx->pool, 3));
    assert_true(sendrec_complete(fx->s, &fx->pool, 5));
    sendrec_give(&fx->cache, fx->s);
    fx->s = sendrec_take(&fx->cache);
    assert_non_null(fx->s);
    assert_empty(fx->s);
    struct slice b = fx_slice(fx, 0, 100, 8);
    assert_true(sendrec_add(fx->s, &b));
    assert_ptr_equal(sendrec_msghdr(fx->s)->msg_iov, fx->s->iov);
    assert_true(sendrec_complete(fx->s, &fx->pool, 8));
    mbuf_put(&fx->pool, 0);
    assert_no_leak(fx);
}

/* Spill buffers carried by a send are released when it completes, never given to the
 * engine. */
static void test_spill_slices(void **state)
{
    struct fx *fx = fx_open(state, 64, 4, 4);
    struct sendrec *s = fx->s;
    const uint8_t *src = fx_recv(fx, 0);
    uint32_t done = 0;
    while (done < 100) {
        const uint8_t *d;
        uint32_t id;
        uint32_t n = mbuf_spill(&fx->pool, src + done, 100 - done, &d, &id);
        assert_true(n > 0);
        struct slice sl = {.ptr = d, .len = n, .buf = id};
        assert_true(sendrec_add(s, &sl));
        done += n;
    }
    mbuf_put(&fx->pool, 0);
    assert_returned(fx, 0, 1); /* the arena buffer is back while its bytes wait */
    assert_int_equal(fx->pool.spill_live, 2);
    uint8_t got[100];
    assert_int_equal(gather(s, got, sizeof(got)), 100);
    assert_memory_equal(got, src, 100);
    assert_true(sendrec_complete(s, &fx->pool, 100));
    assert_int_equal(fx->pool.spill_live, 1); /* the one being filled */
    assert_int_equal(fx->nreturned, 1);
    assert_no_leak(fx);
}

#define T(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)

int main(void)
{
    if (getenv("TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_take_give),
        cmocka_unit_test(test_cache_bounded),
        T(test_add_takes_over_ref),
        T(test_add_pseudo_ids),
        T(test_msghdr),
        T(test_short_send_resumed),
        T(test_short_send_every_chunk),
        T(test_empty_iovecs_skipped),
        T(test_one_buffer_many_slices),
        T(test_reset_drops_all),
        T(test_own_frees),
        T(test_full_at_max_iov),
        T(test_reuse_after_complete),
        T(test_spill_slices),
    };
    return cmocka_run_group_tests_name("sendrec", tests, NULL, NULL);
}
