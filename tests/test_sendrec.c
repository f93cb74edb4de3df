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
#include "tests/fake_pool.h"

/* ---- fixture: a pool over a fake engine, and a send record ---------------------------- */

struct fx {
    struct fake_pool fp;
    struct sendrec_cache cache;
    struct sendrec *s; /* taken by fx_open, given back by the teardown */
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
    if (fx->s != NULL) {
        /* the pool goes away: forget the references (a failed test may have left them wrong)
         * and let the reset free the owned blocks */
        fx->s->nbufs = 0;
        sendrec_reset(fx->s, &fx->fp.pool);
        sendrec_give(&fx->cache, fx->s);
    }
    sendrec_cache_destroy(&fx->cache);
    fake_pool_close(&fx->fp);
    free(fx);
    return 0;
}

static struct fx *fx_open(void **state, uint32_t size, uint32_t count, uint32_t spill_max)
{
    struct fx *fx = *state;
    fake_pool_open(&fx->fp, size, count, spill_max);
    fx->s = sendrec_take(&fx->cache);
    assert_non_null(fx->s);
    return fx;
}

/* A slice of buffer id with its own reference, as a message holds it before a send. */
static struct slice fx_slice(struct fx *fx, uint32_t id, uint32_t off, uint32_t len)
{
    mbuf_get(&fx->fp.pool, id);
    return (struct slice){.ptr = mbuf_data(&fx->fp.pool, id) + off, .len = len, .buf = id};
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
    const uint8_t *d = fake_pool_recv(&fx->fp, 2);
    struct slice sl = fx_slice(fx, 2, 10, 40);
    mbuf_put(&fx->fp.pool, 2); /* the connection is done with it: the slice keeps it */
    assert_int_equal(fx->fp.pool.refs[2], 1);
    assert_true(sendrec_add(s, &sl));
    assert_int_equal(fx->fp.pool.refs[2], 1);
    assert_int_equal(s->niov, 1);
    assert_int_equal(s->nbufs, 1);
    assert_int_equal(s->bufs[0], 2);
    assert_int_equal(s->bytes, 40);
    assert_ptr_equal(s->iov[0].iov_base, d + 10);
    assert_int_equal(s->iov[0].iov_len, 40);
    assert_int_equal(fx->fp.nreturned, 0);
    s->busy = true;
    assert_true(fake_sent(s, &fx->fp.pool, 40));
    fake_pool_assert_returned(&fx->fp, 2, 1);
    assert_empty(s);
    fake_pool_assert_no_leak(&fx->fp);
}

/* Bytes the proxy invented (MBUF_NONE) and bytes a message owns (MBUF_COPY) are carried
 * without any reference. */
static void test_add_pseudo_ids(void **state)
{
    struct fx *fx = fx_open(state, 256, 4, 0);
    struct sendrec *s = fx->s;
    static const char end[] = "END\r\n";
    uint8_t copy[7] = "copied";
    fake_pool_recv(&fx->fp, 0);
    struct slice a = {.ptr = (const uint8_t *)end, .len = 5, .buf = MBUF_NONE};
    struct slice b = {.ptr = copy, .len = 6, .buf = MBUF_COPY};
    struct slice c = fx_slice(fx, 0, 0, 3);
    assert_true(sendrec_add(s, &a));
    assert_int_equal(s->nbufs, 0); /* nothing to drop for a static string */
    assert_true(sendrec_add(s, &b));
    assert_true(sendrec_add(s, &c));
    assert_int_equal(s->niov, 3);
    assert_int_equal(s->bytes, 14);
    assert_int_equal(fx->fp.pool.refs[0], 2);
    assert_true(fake_sent(s, &fx->fp.pool, 14));
    assert_int_equal(fx->fp.pool.refs[0], 1);
    assert_int_equal(fx->fp.nreturned, 0);
    mbuf_put(&fx->fp.pool, 0);
    fake_pool_assert_no_leak(&fx->fp);
}

/* The header covers the iovecs not yet sent, from the first unsent byte. */
static void test_msghdr(void **state)
{
    struct fx *fx = fx_open(state, 256, 4, 0);
    struct sendrec *s = fx->s;
    const uint8_t *d0 = fake_pool_recv(&fx->fp, 0);
    const uint8_t *d1 = fake_pool_recv(&fx->fp, 1);
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

    assert_false(fake_sent(s, &fx->fp.pool, 13));
    mh = sendrec_msghdr(s);
    assert_ptr_equal(mh->msg_iov, &s->iov[1]);
    assert_int_equal(mh->msg_iovlen, 1);
    assert_ptr_equal(mh->msg_iov[0].iov_base, d1 + 5 + 3);
    assert_int_equal(mh->msg_iov[0].iov_len, 17);
    assert_true(fake_sent(s, &fx->fp.pool, 17));
    mbuf_put(&fx->fp.pool, 0);
    mbuf_put(&fx->fp.pool, 1);
    fake_pool_assert_no_leak(&fx->fp);
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
        fake_pool_recv(&fx->fp, i);
        struct slice sl = fx_slice(fx, i, i, len[i]);
        mbuf_put(&fx->fp.pool, i);
        assert_true(sendrec_add(s, &sl));
    }
    assert_int_equal(s->bytes, 60);

    s->busy = true;
    assert_false(fake_sent(s, &fx->fp.pool, 5)); /* inside the first */
    assert_false(s->busy);
    assert_int_equal(s->first, 0);
    assert_ptr_equal(s->iov[0].iov_base, mbuf_data(&fx->fp.pool, 0) + 5);
    assert_int_equal(s->iov[0].iov_len, 5);
    assert_int_equal(fx->fp.nreturned, 0);

    assert_false(fake_sent(s, &fx->fp.pool, 5 + 20 + 3)); /* across two boundaries */
    assert_int_equal(s->first, 2);
    assert_ptr_equal(s->iov[2].iov_base, mbuf_data(&fx->fp.pool, 2) + 2 + 3);
    assert_int_equal(s->iov[2].iov_len, 27);
    assert_int_equal(fx->fp.nreturned, 0); /* buffers 0 and 1 are sent but still held */
    assert_int_equal(fx->fp.pool.refs[0], 1);
    assert_int_equal(fx->fp.pool.refs[1], 1);

    assert_false(fake_sent(s, &fx->fp.pool, 26));
    assert_int_equal(fx->fp.nreturned, 0);
    assert_true(fake_sent(s, &fx->fp.pool, 1));
    for (uint32_t i = 0; i < 3; i++)
        fake_pool_assert_returned(&fx->fp, i, 1);
    assert_empty(s);
    fake_pool_assert_no_leak(&fx->fp);
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
        fake_pool_recv(&fx->fp, b);
    size_t total = 0;
    for (uint32_t i = 0; i < NSL; i++) {
        memcpy(want + total, mbuf_data(&fx->fp.pool, buf[i]) + off[i], len[i]);
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
            bool done = fake_sent(s, &fx->fp.pool, res);
            assert_int_equal(done, sent == total);
            if (done)
                break;
            for (uint32_t b = 0; b < 4; b++)
                assert_int_equal(fx->fp.pool.refs[b], b == 1 ? 3 : 2);
        }
        assert_empty(s);
        for (uint32_t b = 0; b < 4; b++)
            assert_int_equal(fx->fp.pool.refs[b], 1);
    }
    assert_int_equal(fx->fp.nreturned, 0);
    for (uint32_t b = 0; b < 4; b++)
        mbuf_put(&fx->fp.pool, b);
    fake_pool_assert_no_leak(&fx->fp);
}

/* Empty iovecs are skipped, so a resumed send never starts with one and a send whose only
 * rest is empty is complete. */
static void test_empty_iovecs_skipped(void **state)
{
    struct fx *fx = fx_open(state, 256, 4, 0);
    struct sendrec *s = fx->s;
    static const uint8_t nothing[1];
    const struct slice empty = {.ptr = nothing, .len = 0, .buf = MBUF_NONE};
    fake_pool_recv(&fx->fp, 0);
    fake_pool_recv(&fx->fp, 1);
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

    assert_false(fake_sent(s, &fx->fp.pool, 5)); /* ends exactly at a's end */
    assert_int_equal(s->first, 4);
    struct msghdr *mh = sendrec_msghdr(s);
    assert_int_equal(mh->msg_iovlen, 2);
    assert_ptr_equal(mh->msg_iov[0].iov_base, mbuf_data(&fx->fp.pool, 1));
    assert_int_equal(mh->msg_iov[0].iov_len, 5);
    assert_int_equal(fx->fp.nreturned, 0);

    assert_true(fake_sent(s, &fx->fp.pool, 5)); /* the trailing empty one is not waited for */
    assert_empty(s);
    assert_int_equal(fx->fp.pool.refs[0], 1);
    assert_int_equal(fx->fp.pool.refs[1], 1);

    /* a partial send inside an iovec does not skip the empties after it yet */
    struct slice c = fx_slice(fx, 0, 0, 4);
    assert_true(sendrec_add(s, &c));
    assert_true(sendrec_add(s, &empty));
    struct slice d = fx_slice(fx, 1, 0, 4);
    assert_true(sendrec_add(s, &d));
    assert_false(fake_sent(s, &fx->fp.pool, 2));
    assert_int_equal(s->first, 0);
    assert_false(fake_sent(s, &fx->fp.pool, 2));
    assert_int_equal(s->first, 2);
    assert_true(fake_sent(s, &fx->fp.pool, 4));
    mbuf_put(&fx->fp.pool, 0);
    mbuf_put(&fx->fp.pool, 1);
    fake_pool_assert_no_leak(&fx->fp);
}

/* The same buffer carried by several slices of one send: one reference each, and the buffer
 * goes back once, at the end. */
static void test_one_buffer_many_slices(void **state)
{
    struct fx *fx = fx_open(state, 256, 4, 0);
    struct sendrec *s = fx->s;
    fake_pool_recv(&fx->fp, 3);
    for (uint32_t i = 0; i < 10; i++) {
        struct slice sl = fx_slice(fx, 3, i * 20, 10);
        assert_true(sendrec_add(s, &sl));
    }
    mbuf_put(&fx->fp.pool, 3);
    assert_int_equal(fx->fp.pool.refs[3], 10);
    assert_int_equal(s->nbufs, 10);
    assert_false(fake_sent(s, &fx->fp.pool, 99));
    assert_int_equal(fx->fp.pool.refs[3], 10);
    assert_true(fake_sent(s, &fx->fp.pool, 1));
    fake_pool_assert_returned(&fx->fp, 3, 1);
    fake_pool_assert_no_leak(&fx->fp);
}

/* A connection that fails mid-send drops every reference, sent or not, and empties the
 * record; resetting an empty record does nothing. */
static void test_reset_drops_all(void **state)
{
    struct fx *fx = fx_open(state, 256, 4, 0);
    struct sendrec *s = fx->s;
    for (uint32_t i = 0; i < 3; i++) {
        fake_pool_recv(&fx->fp, i);
        struct slice sl = fx_slice(fx, i, 0, 50);
        mbuf_put(&fx->fp.pool, i);
        assert_true(sendrec_add(s, &sl));
    }
    uint8_t *block = malloc(32);
    assert_non_null(block);
    assert_true(sendrec_own(s, block));
    s->busy = true;
    assert_false(fake_sent(s, &fx->fp.pool, 70));
    s->busy = true;
    sendrec_reset(s, &fx->fp.pool);
    for (uint32_t i = 0; i < 3; i++)
        fake_pool_assert_returned(&fx->fp, i, 1);
    assert_empty(s);
    sendrec_reset(s, &fx->fp.pool);
    assert_empty(s);
    assert_int_equal(fx->fp.nreturned, 3);
    fake_pool_assert_no_leak(&fx->fp);
}

/* Owned heap blocks: up to 64 per send, freed when the send completes (the leak sanitizer
 * checks that they are); one more is refused and stays the caller's. */
static void test_own_frees(void **state)
{
    struct fx *fx = fx_open(state, 256, 4, 0);
    struct sendrec *s = fx->s;
    enum { MAXOWN = sizeof(((struct sendrec *)0)->owned) / sizeof(void *) };
    assert_int_equal(MAXOWN, 64);
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
    assert_false(fake_sent(s, &fx->fp.pool, 100));
    assert_int_equal(s->nowned, MAXOWN); /* still pointed into */
    assert_true(fake_sent(s, &fx->fp.pool, MAXOWN * 16 - 100));
    assert_empty(s);

    /* and again after a reset */
    void *late = malloc(10);
    assert_non_null(late);
    assert_true(sendrec_own(s, late));
    sendrec_reset(s, &fx->fp.pool);
    assert_empty(s);
    fake_pool_assert_no_leak(&fx->fp);
}

/* SENDREC_MAX_IOV slices fill a send; the next is refused without taking its reference,
 * which the caller keeps. */
static void test_full_at_max_iov(void **state)
{
    struct fx *fx = fx_open(state, 4096, 4, 0);
    struct sendrec *s = fx->s;
    fake_pool_recv(&fx->fp, 0);
    fake_pool_recv(&fx->fp, 1);
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
    uint32_t refs0 = fx->fp.pool.refs[0];
    assert_false(sendrec_add(s, &more));
    assert_int_equal(s->niov, SENDREC_MAX_IOV);
    assert_int_equal(s->nbufs, SENDREC_MAX_IOV);
    assert_int_equal(s->bytes, bytes);
    assert_int_equal(fx->fp.pool.refs[0], refs0);
    mbuf_put(&fx->fp.pool, more.buf); /* the refused slice is still the caller's */

    assert_int_equal(sendrec_msghdr(s)->msg_iovlen, SENDREC_MAX_IOV);
    assert_false(fake_sent(s, &fx->fp.pool, 3 * 1000 + 1));
    assert_true(sendrec_full(s)); /* full until it is done: iovecs are not reused */
    assert_int_equal(sendrec_msghdr(s)->msg_iovlen, SENDREC_MAX_IOV - 1000);
    assert_true(fake_sent(s, &fx->fp.pool, (uint32_t)(bytes - 3 * 1000 - 1)));
    assert_false(sendrec_full(s));
    assert_int_equal(fx->fp.pool.refs[0], 1);
    assert_int_equal(fx->fp.pool.refs[1], 1);
    mbuf_put(&fx->fp.pool, 0);
    mbuf_put(&fx->fp.pool, 1);
    fake_pool_assert_no_leak(&fx->fp);
}

/* A send record back from the cache is empty and usable again. */
static void test_reuse_after_complete(void **state)
{
    struct fx *fx = fx_open(state, 256, 4, 0);
    fake_pool_recv(&fx->fp, 0);
    struct slice a = fx_slice(fx, 0, 0, 8);
    assert_true(sendrec_add(fx->s, &a));
    assert_false(fake_sent(fx->s, &fx->fp.pool, 3));
    assert_true(fake_sent(fx->s, &fx->fp.pool, 5));
    sendrec_give(&fx->cache, fx->s);
    fx->s = sendrec_take(&fx->cache);
    assert_non_null(fx->s);
    assert_empty(fx->s);
    struct slice b = fx_slice(fx, 0, 100, 8);
    assert_true(sendrec_add(fx->s, &b));
    assert_ptr_equal(sendrec_msghdr(fx->s)->msg_iov, fx->s->iov);
    assert_true(fake_sent(fx->s, &fx->fp.pool, 8));
    mbuf_put(&fx->fp.pool, 0);
    fake_pool_assert_no_leak(&fx->fp);
}

/* Spill buffers carried by a send are released when it completes, never given to the
 * engine. */
static void test_spill_slices(void **state)
{
    struct fx *fx = fx_open(state, 64, 4, 4);
    struct sendrec *s = fx->s;
    const uint8_t *src = fake_pool_recv(&fx->fp, 0);
    uint32_t done = 0;
    while (done < 100) {
        const uint8_t *d;
        uint32_t id;
        uint32_t n = mbuf_spill(&fx->fp.pool, src + done, 100 - done, &d, &id);
        assert_true(n > 0);
        struct slice sl = {.ptr = d, .len = n, .buf = id};
        assert_true(sendrec_add(s, &sl));
        done += n;
    }
    mbuf_put(&fx->fp.pool, 0);
    fake_pool_assert_returned(&fx->fp, 0, 1); /* the arena buffer is back while its bytes wait */
    assert_int_equal(fx->fp.pool.spill_live, 2);
    uint8_t got[100];
    assert_int_equal(gather(s, got, sizeof(got)), 100);
    assert_memory_equal(got, src, 100);
    assert_true(fake_sent(s, &fx->fp.pool, 100));
    assert_int_equal(fx->fp.pool.spill_live, 1); /* the one being filled */
    assert_int_equal(fx->fp.nreturned, 1);
    fake_pool_assert_no_leak(&fx->fp);
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
