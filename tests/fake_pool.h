/* Shared unit-test fixture: an mbuf pool over a fake engine that counts what it gets back. */
#ifndef TESTS_FAKE_POOL_H
#define TESTS_FAKE_POOL_H

/* Static functions only, so each test binary is still built from its one test file; every
 * includer (mbuf, sendrec, msg) uses all of them. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "src/io.h"
#include "src/mbuf.h"
#include "src/sendrec.h"

/* The engine side of the arena as the core sees it: buf_return is all the core calls. */
struct fake_pool {
    struct io_engine e; /* first: buf_return finds the fake pool from its engine pointer */
    struct mbuf_pool pool;
    uint32_t *received; /* mbuf_received calls per arena buffer */
    uint32_t *returned; /* buf_return calls per arena buffer */
    uint64_t nreturned; /* buf_return calls in all */
};

static void fake_buf_return(struct io_engine *e, uint32_t id)
{
    struct fake_pool *fp = (struct fake_pool *)(void *)e;
    if (id >= fp->pool.count)
        fail_msg("buffer %u given to the engine: not an arena buffer (count %u)", id,
                 fp->pool.count);
    if (fp->pool.refs[id] != 0)
        fail_msg("buffer %u given back with %u references", id, fp->pool.refs[id]);
    fp->returned[id]++;
    fp->nreturned++;
    if (fp->returned[id] > fp->received[id])
        fail_msg("buffer %u given back %u times, received %u times", id, fp->returned[id],
                 fp->received[id]);
}

static const struct io_ops fake_ops = {.name = "fake", .buf_return = fake_buf_return};

/* Builds the pool in fp (zeroed, or closed by fake_pool_close) and wires it to the fake engine.
 * nreturned is left as it is: a test that opens the pool again keeps counting. */
static void fake_pool_open(struct fake_pool *fp, uint32_t size, uint32_t count, uint32_t spill_max)
{
    assert_int_equal(mbuf_pool_init(&fp->pool, size, count, spill_max), 0);
    fp->e.ops = &fake_ops;
    fp->e.pool = &fp->pool;
    fp->pool.engine = &fp->e;
    fp->received = calloc(count, sizeof(*fp->received));
    fp->returned = calloc(count, sizeof(*fp->returned));
    assert_non_null(fp->received);
    assert_non_null(fp->returned);
}

/* Frees the pool and the counters; fp can be opened again, and closing it twice is harmless
 * (a test that reopens the pool closes it itself, then the teardown closes it again). */
static void fake_pool_close(struct fake_pool *fp)
{
    mbuf_pool_free(&fp->pool);
    free(fp->received);
    free(fp->returned);
    fp->received = fp->returned = NULL;
}

/* A receive completed into arena buffer id: fills it with a pattern and takes the core's
 * first reference, as a connection does on a recv event. The pattern changes with each
 * receive of the same buffer, so bytes left over from its previous life show. */
static uint8_t *fake_pool_recv(struct fake_pool *fp, uint32_t id)
{
    uint8_t *d = mbuf_data(&fp->pool, id);
    for (uint32_t i = 0; i < fp->pool.size; i++)
        d[i] = (uint8_t)(id * 31 + i * 7 + fp->received[id] + 1);
    mbuf_received(&fp->pool, id);
    fp->received[id]++;
    return d;
}

static void fake_pool_assert_returned(const struct fake_pool *fp, uint32_t id, uint32_t times)
{
    if (fp->returned[id] != times)
        fail_msg("buffer %u given back %u times, expected %u", id, fp->returned[id], times);
}

/* The leak check: every arena buffer is unreferenced and went back as often as it came,
 * and the only spill reference left is the filler's own on the buffer being filled. */
static void fake_pool_assert_no_leak(const struct fake_pool *fp)
{
    const struct mbuf_pool *p = &fp->pool;
    for (uint32_t i = 0; i < p->count; i++) {
        if (p->refs[i] != 0)
            fail_msg("arena buffer %u still has %u references", i, p->refs[i]);
        if (fp->returned[i] != fp->received[i])
            fail_msg("arena buffer %u received %u times, given back %u times", i, fp->received[i],
                     fp->returned[i]);
    }
    assert_int_equal(p->held, 0);
    for (uint32_t i = p->count; i < p->count + p->spill_max; i++) {
        uint32_t want = i == p->spill_cur ? 1 : 0;
        if (p->refs[i] != want)
            fail_msg("spill buffer %u has %u references, expected %u", i, p->refs[i], want);
    }
    assert_int_equal(p->spill_live, p->spill_cur != MBUF_NONE ? 1 : 0);
}

/* What a connection does with a send's result: advance, and once everything is out release
 * the record's references (worker_send_release for a plain send). */
static inline bool fake_sent(struct sendrec *s, struct mbuf_pool *p, uint32_t res)
{
    if (!sendrec_advance(s, res))
        return false;
    sendrec_reset(s, p);
    return true;
}

#endif
