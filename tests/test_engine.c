/* Contract tests of src/io.h, run against both engines (io_uring and epoll) on loopback TCP
 * sockets with ports chosen at run time. The io_uring half is skipped, not failed, where the
 * machine refuses to set up a ring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "src/io.h"
#include "src/mbuf.h"

#define FX_DEADLINE_MS 5000 /* longest a test waits for one expected event */

struct engine_param {
    enum io_choice choice;
    const char *name;
};

static const struct engine_param param_uring = {IO_CHOICE_URING, "uring"};
static const struct engine_param param_epoll = {IO_CHOICE_EPOLL, "epoll"};

/* An event as delivered, and whether a test has looked at it yet. */
struct logged {
    struct io_event ev;
    bool taken;
};

struct fx {
    const struct engine_param *param;
    struct mbuf_pool pool;
    struct io_engine *e;
    char reason[256];
    struct logged *log; /* every event, in delivery order */
    size_t nlog, caplog;
    void (*idle)(void *arg); /* run around every wait(): the test's side of the sockets */
    void *idle_arg;
};

/* Owners: anything 8-byte aligned. */
struct own {
    uint64_t tag;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *kind_name(unsigned kind)
{
    static const char *const names[] = {"?", "ACCEPT", "RECV", "SEND", "CONNECT", "CLOSE"};
    return kind < IO_KIND_MAX ? names[kind] : "?";
}

/* ---- fixture ---- */

static int fx_setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));
    if (fx == NULL)
        return -1;
    fx->param = *state;
    *state = fx;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *fx = *state;
    if (fx->e != NULL)
        fx->e->ops->destroy(fx->e);
    mbuf_pool_free(&fx->pool);
    free(fx->log);
    free(fx);
    return 0;
}

/* Builds the arena and the engine under test; skips the test if io_uring is refused here. */
static struct fx *fx_open(void **state, uint32_t size, uint32_t count)
{
    struct fx *fx = *state;
    assert_int_equal(mbuf_pool_init(&fx->pool, size, count, 0), 0);
    fx->e = io_engine_create(fx->param->choice, &fx->pool, 64, fx->reason, sizeof(fx->reason));
    if (fx->e == NULL && fx->param->choice == IO_CHOICE_URING) {
        print_message("[  SKIP    ] io_uring refused on this machine: %s\n", fx->reason);
        skip();
    }
    if (fx->e == NULL)
        fail_msg("%s engine: %s", fx->param->name, fx->reason);
    assert_string_equal(fx->e->ops->name, fx->param->name);
    assert_ptr_equal(fx->pool.engine, fx->e);
    return fx;
}

/* One wait() call; its events go to the log. Returns how many came. */
static int fx_pump(struct fx *fx, int timeout_ms)
{
    struct io_event ev[16];
    if (fx->idle != NULL)
        fx->idle(fx->idle_arg);
    int n = fx->e->ops->wait(fx->e, ev, 16, timeout_ms);
    if (n < 0)
        fail_msg("%s: wait failed: %s", fx->param->name, strerror(-n));
    assert_true(n <= 16);
    for (int i = 0; i < n; i++) {
        if (fx->nlog == fx->caplog) {
            fx->caplog = fx->caplog ? fx->caplog * 2 : 256;
            fx->log = realloc(fx->log, fx->caplog * sizeof(*fx->log));
            assert_non_null(fx->log);
        }
        fx->log[fx->nlog++] = (struct logged){.ev = ev[i], .taken = false};
    }
    if (fx->idle != NULL)
        fx->idle(fx->idle_arg);
    return n;
}

/* The owner's next event in delivery order (its index in the log in *idx), waiting for it. */
static struct io_event fx_next(struct fx *fx, void *owner, size_t *idx)
{
    int64_t deadline = now_ms() + FX_DEADLINE_MS;
    for (;;) {
        for (size_t i = 0; i < fx->nlog; i++) {
            struct logged *l = &fx->log[i];
            if (l->taken || l->ev.owner != owner)
                continue;
            l->taken = true;
            if (idx != NULL)
                *idx = i;
            return l->ev;
        }
        if (now_ms() > deadline)
            fail_msg("%s: no event for owner %p within %d ms", fx->param->name, owner,
                     FX_DEADLINE_MS);
        fx_pump(fx, 20);
    }
}

static void expect_event(const struct fx *fx, const struct io_event *ev, enum io_kind kind,
                         int32_t res, uint8_t flags)
{
    if (ev->kind != kind || ev->res != res || ev->flags != flags)
        fail_msg("%s: expected %s res %d flags %#x, got %s res %d (%s) flags %#x", fx->param->name,
                 kind_name(kind), res, flags, kind_name(ev->kind), ev->res,
                 ev->res < 0 ? strerror(-ev->res) : "-", ev->flags);
}

/* Runs the engine for ms and fails if owner gets any event meanwhile. */
static void fx_quiet(struct fx *fx, void *owner, int ms)
{
    int64_t end = now_ms() + ms;
    while (now_ms() < end)
        fx_pump(fx, 10);
    for (size_t i = 0; i < fx->nlog; i++)
        if (!fx->log[i].taken && fx->log[i].ev.owner == owner)
            fail_msg("%s: unexpected %s res %d", fx->param->name, kind_name(fx->log[i].ev.kind),
                     fx->log[i].ev.res);
}

/* ---- sockets ---- */

static struct sockaddr_in loopback(uint16_t port)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sa;
}

static uint16_t local_port(int fd)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    return ntohs(sa.sin_port);
}

static uint16_t peer_port(int fd)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    assert_int_equal(getpeername(fd, (struct sockaddr *)&sa, &len), 0);
    return ntohs(sa.sin_port);
}

/* A socket bound to a free loopback port; listening if backlog > 0. */
static int tcp_bound(int backlog, uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = loopback(0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    if (backlog > 0)
        assert_int_equal(listen(fd, backlog), 0);
    *port = local_port(fd);
    return fd;
}

static int tcp_dial(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = loopback(port);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* A connected loopback TCP pair, both ends blocking: *a for the engine, *b for the test. */
static void tcp_pair(int *a, int *b)
{
    uint16_t port;
    int lfd = tcp_bound(1, &port);
    *b = tcp_dial(port);
    *a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(*a >= 0);
    close(lfd);
    int one = 1;
    setsockopt(*a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(*b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static uint8_t *pattern(size_t len, unsigned seed)
{
    uint8_t *p = malloc(len);
    assert_non_null(p);
    uint32_t v = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        v = v * 1103515245u + 12345u;
        p[i] = (uint8_t)(v >> 16);
    }
    return p;
}

/* The test's writing end: pushes what the socket takes, without blocking. */
struct writer {
    int fd;
    const uint8_t *data;
    size_t len, off;
};

static void writer_pump(struct writer *w)
{
    while (w->off < w->len) {
        ssize_t n = send(w->fd, w->data + w->off, w->len - w->off, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n <= 0) {
            assert_true(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
            return;
        }
        w->off += (size_t)n;
    }
}

/* The test's reading end: takes what has arrived, without blocking. */
struct reader {
    int fd;
    uint8_t *buf;
    size_t cap, len;
};

static void reader_pump(struct reader *r)
{
    while (r->len < r->cap) {
        ssize_t n = recv(r->fd, r->buf + r->len, r->cap - r->len, MSG_DONTWAIT);
        if (n == 0)
            return; /* the engine's end is closed */
        if (n < 0) {
            assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
            return;
        }
        r->len += (size_t)n;
    }
}

static void idle_writer(void *arg)
{
    writer_pump(arg);
}

static void idle_reader(void *arg)
{
    reader_pump(arg);
}

/* Closes fd through the engine and checks that its IO_CLOSE says res 0. The cancellations of
 * operations still armed on fd come to their own owners. Returns the close's log index. */
static size_t engine_close(struct fx *fx, int fd)
{
    struct own closer;
    size_t idx;
    assert_int_equal(fx->e->ops->close(fx->e, fd, &closer), 0);
    struct io_event ev = fx_next(fx, &closer, &idx);
    expect_event(fx, &ev, IO_CLOSE, 0, 0);
    return idx;
}

/* ---- tests ---- */

/* Multishot accept: one IO_ACCEPT (IO_F_MORE) per connection, each a new connected fd; close
 * of the listener ends it with -ECANCELED before the IO_CLOSE. */
static void test_accept_multishot(void **state)
{
    struct fx *fx = fx_open(state, 4096, 16);
    enum { N = 4 };
    struct own lo, lc;
    uint16_t port, cport[N];
    int cli[N], srv[N];
    bool seen[N] = {false};

    int lfd = tcp_bound(16, &port);
    assert_int_equal(fx->e->ops->accept(fx->e, lfd, &lo), 0);
    assert_int_equal(fx_pump(fx, 0), 0); /* armed, nothing yet */
    for (int i = 0; i < N; i++) {
        cli[i] = tcp_dial(port);
        cport[i] = local_port(cli[i]);
    }
    for (int i = 0; i < N; i++) {
        struct io_event ev = fx_next(fx, &lo, NULL);
        if (ev.kind != IO_ACCEPT || ev.res < 0 || ev.flags != IO_F_MORE)
            fail_msg("%s: accept event %d: %s res %d flags %#x", fx->param->name, i,
                     kind_name(ev.kind), ev.res, ev.flags);
        srv[i] = ev.res;
        assert_true(fcntl(srv[i], F_GETFD) & FD_CLOEXEC);
        uint16_t pp = peer_port(srv[i]);
        int j = 0;
        while (j < N && cport[j] != pp)
            j++;
        assert_true(j < N);
        assert_false(seen[j]);
        seen[j] = true;
    }
    /* the accepted fds carry data */
    assert_int_equal(write(cli[0], "x", 1), 1);

    size_t ia, ic;
    assert_int_equal(fx->e->ops->close(fx->e, lfd, &lc), 0);
    struct io_event ev = fx_next(fx, &lo, &ia);
    expect_event(fx, &ev, IO_ACCEPT, -ECANCELED, 0);
    ev = fx_next(fx, &lc, &ic);
    expect_event(fx, &ev, IO_CLOSE, 0, 0);
    assert_true(ia < ic);
    for (int i = 0; i < N; i++) {
        close(srv[i]);
        close(cli[i]);
    }
}

/* Multishot recv: the bytes arrive in arena buffers (IO_F_BUF | IO_F_MORE), in order; EOF is
 * a final res 0; every buffer goes back. */
static void test_recv_data_eof(void **state)
{
    struct fx *fx = fx_open(state, 4096, 16);
    struct own ro;
    int a, b;
    const size_t total = 5 * 4096 + 123;
    uint8_t *data = pattern(total, 1);

    tcp_pair(&a, &b);
    assert_int_equal(fx->e->ops->recv(fx->e, a, &ro), 0);
    assert_int_equal(fx_pump(fx, 0), 0);
    struct writer w = {.fd = b, .data = data, .len = total};
    fx->idle = idle_writer;
    fx->idle_arg = &w;

    size_t got = 0;
    while (got < total) {
        struct io_event ev = fx_next(fx, &ro, NULL);
        if (ev.kind != IO_RECV || ev.res <= 0 || ev.flags != (IO_F_BUF | IO_F_MORE))
            fail_msg("%s: recv event: %s res %d flags %#x after %zu bytes", fx->param->name,
                     kind_name(ev.kind), ev.res, ev.flags, got);
        assert_true(ev.buf < fx->pool.count);
        assert_true((uint32_t)ev.res <= fx->pool.size);
        assert_true(got + (size_t)ev.res <= total);
        mbuf_received(&fx->pool, ev.buf);
        assert_memory_equal(mbuf_data(&fx->pool, ev.buf), data + got, (size_t)ev.res);
        got += (size_t)ev.res;
        mbuf_put(&fx->pool, ev.buf);
    }
    assert_int_equal(shutdown(b, SHUT_WR), 0);
    struct io_event ev = fx_next(fx, &ro, NULL);
    expect_event(fx, &ev, IO_RECV, 0, 0);
    assert_int_equal(fx->pool.held, 0);

    engine_close(fx, a);
    assert_true(fx->e->stats.events >= 8);
    assert_true(fx->e->stats.syscalls > 0);
    close(b);
    free(data);
}

/* A small arena runs dry: the recv ends with -ENOBUFS once every buffer is held; after the
 * buffers come back and recv is re-armed, the rest arrives intact and in order. */
static void test_recv_enobufs(void **state)
{
    enum { NBUF = 4, SIZE = 4096 };
    struct fx *fx = fx_open(state, SIZE, NBUF);
    struct own ro;
    int a, b;
    const size_t total = 16 * SIZE + 1000;
    uint8_t *data = pattern(total, 2);
    uint32_t held[NBUF];
    unsigned nheld = 0;
    size_t got = 0;

    tcp_pair(&a, &b);
    struct writer w = {.fd = b, .data = data, .len = total};
    writer_pump(&w); /* queued before the recv is armed: the arena cannot keep up */
    assert_true(w.off > NBUF * SIZE);
    fx->idle = idle_writer;
    fx->idle_arg = &w;
    assert_int_equal(fx->e->ops->recv(fx->e, a, &ro), 0);

    /* phase 1: hold every buffer until the engine says -ENOBUFS */
    for (;;) {
        struct io_event ev = fx_next(fx, &ro, NULL);
        assert_int_equal(ev.kind, IO_RECV);
        if (!(ev.flags & IO_F_MORE)) {
            expect_event(fx, &ev, IO_RECV, -ENOBUFS, 0);
            break;
        }
        assert_int_equal(ev.flags, IO_F_BUF | IO_F_MORE);
        assert_true(ev.res > 0 && ev.buf < NBUF);
        assert_true(nheld < NBUF);
        for (unsigned i = 0; i < nheld; i++)
            assert_int_not_equal(held[i], ev.buf);
        mbuf_received(&fx->pool, ev.buf);
        assert_memory_equal(mbuf_data(&fx->pool, ev.buf), data + got, (size_t)ev.res);
        got += (size_t)ev.res;
        held[nheld++] = ev.buf;
    }
    assert_int_equal(nheld, NBUF); /* dry means every buffer is out */
    assert_true(fx->e->stats.enobufs >= 1);
    assert_true(got < total);

    /* phase 2: give the buffers back, re-arm, and take the rest as it comes */
    for (unsigned i = 0; i < nheld; i++)
        mbuf_put(&fx->pool, held[i]);
    assert_int_equal(fx->pool.held, 0);
    unsigned rearms = 0;
    assert_int_equal(fx->e->ops->recv(fx->e, a, &ro), 0);
    while (got < total) {
        struct io_event ev = fx_next(fx, &ro, NULL);
        assert_int_equal(ev.kind, IO_RECV);
        if (ev.res == -ENOBUFS && ev.flags == 0) {
            /* a ring may fill all four again within one wait(): re-arm, as the core does */
            assert_true(++rearms < 1000);
            assert_int_equal(fx->e->ops->recv(fx->e, a, &ro), 0);
            continue;
        }
        if (ev.res <= 0 || ev.flags != (IO_F_BUF | IO_F_MORE))
            fail_msg("%s: recv event res %d flags %#x after %zu of %zu bytes", fx->param->name,
                     ev.res, ev.flags, got, total);
        assert_true(got + (size_t)ev.res <= total);
        mbuf_received(&fx->pool, ev.buf);
        assert_memory_equal(mbuf_data(&fx->pool, ev.buf), data + got, (size_t)ev.res);
        got += (size_t)ev.res;
        mbuf_put(&fx->pool, ev.buf);
    }
    assert_int_equal(w.off, total);
    assert_int_equal(shutdown(b, SHUT_WR), 0);
    struct io_event ev = fx_next(fx, &ro, NULL);
    expect_event(fx, &ev, IO_RECV, 0, 0);
    assert_int_equal(fx->pool.held, 0);
    engine_close(fx, a);
    close(b);
    free(data);
}

/* sendmsg of three iovecs larger than the socket buffers: each IO_SEND says how much went
 * out (short writes included) and the core resumes from there; the peer gets every byte. */
static void test_send_iovec(void **state)
{
    struct fx *fx = fx_open(state, 4096, 16);
    struct own so;
    int a, b;
    static const char head[] = "VALUE k 0 1048576\r\n";
    static const char tail[] = "\r\nEND\r\n";
    const size_t body = 1 << 20;
    const size_t total = sizeof(head) - 1 + body + sizeof(tail) - 1;
    uint8_t *data = pattern(body, 3);
    uint8_t *expect = malloc(total);
    assert_non_null(expect);
    memcpy(expect, head, sizeof(head) - 1);
    memcpy(expect + sizeof(head) - 1, data, body);
    memcpy(expect + sizeof(head) - 1 + body, tail, sizeof(tail) - 1);

    tcp_pair(&a, &b);
    int small = 32 * 1024;
    setsockopt(a, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    setsockopt(b, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    struct reader r = {.fd = b, .buf = malloc(total + 1), .cap = total + 1};
    assert_non_null(r.buf);
    fx->idle = idle_reader;
    fx->idle_arg = &r;

    struct iovec iov[3] = {
        {.iov_base = (void *)head, .iov_len = sizeof(head) - 1},
        {.iov_base = data, .iov_len = body},
        {.iov_base = (void *)tail, .iov_len = sizeof(tail) - 1},
    };
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 3};
    size_t sent = 0;
    unsigned sends = 0;
    while (sent < total) {
        assert_int_equal(fx->e->ops->send(fx->e, a, &msg, &so), 0);
        struct io_event ev = fx_next(fx, &so, NULL);
        if (ev.kind != IO_SEND || ev.res <= 0 || ev.flags != 0)
            fail_msg("%s: send event %s res %d flags %#x after %zu bytes", fx->param->name,
                     kind_name(ev.kind), ev.res, ev.flags, sent);
        sends++;
        sent += (size_t)ev.res;
        assert_true(sent <= total);
        /* resume after a short write */
        size_t n = (size_t)ev.res;
        while (n > 0 && msg.msg_iovlen > 0) {
            if (n >= msg.msg_iov[0].iov_len) {
                n -= msg.msg_iov[0].iov_len;
                msg.msg_iov++;
                msg.msg_iovlen--;
            } else {
                msg.msg_iov[0].iov_base = (uint8_t *)msg.msg_iov[0].iov_base + n;
                msg.msg_iov[0].iov_len -= n;
                n = 0;
            }
        }
    }
    int64_t deadline = now_ms() + FX_DEADLINE_MS;
    while (r.len < total && now_ms() < deadline)
        fx_pump(fx, 10);
    assert_int_equal(r.len, total);
    assert_memory_equal(r.buf, expect, total);
    print_message("[          ] %s: %zu bytes in %u sends\n", fx->param->name, total, sends);

    engine_close(fx, a);
    close(b);
    free(r.buf);
    free(expect);
    free(data);
}

/* Fills an AF_UNIX socket's send path until it would block (the peer does not read). */
static void fill_socket(int fd)
{
    static uint8_t junk[65536];
    while (send(fd, junk, sizeof(junk), MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
        ;
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
}

/* A send on a full socket stays pending (no event) until the peer reads; closing the fd
 * with a send still blocked ends it with -ECANCELED, before the IO_CLOSE. */
static void test_send_blocked(void **state)
{
    struct fx *fx = fx_open(state, 4096, 16);
    struct own so, oc;
    int a, b;
    const size_t len = 64 * 1024;
    uint8_t *data = pattern(len, 5);

    /* AF_UNIX: queued bytes stay charged to the sender until the peer reads them, so "full"
     * stays full (a TCP receiver may reopen its window on its own) */
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    a = sv[0];
    b = sv[1];
    fill_socket(a);
    struct iovec iov = {.iov_base = data, .iov_len = len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    assert_int_equal(fx->e->ops->send(fx->e, a, &msg, &so), 0);
    fx_quiet(fx, &so, 60);

    /* the peer reads: the send goes out, short or whole */
    struct reader r = {.fd = b, .buf = malloc(8 << 20), .cap = 8 << 20};
    assert_non_null(r.buf);
    fx->idle = idle_reader;
    fx->idle_arg = &r;
    struct io_event ev = fx_next(fx, &so, NULL);
    if (ev.kind != IO_SEND || ev.res <= 0 || (size_t)ev.res > len || ev.flags != 0)
        fail_msg("%s: send event %s res %d flags %#x", fx->param->name, kind_name(ev.kind), ev.res,
                 ev.flags);

    /* blocked again, then closed under it */
    fx->idle = NULL;
    reader_pump(&r);
    fill_socket(a);
    assert_int_equal(fx->e->ops->send(fx->e, a, &msg, &so), 0);
    fx_quiet(fx, &so, 30);
    size_t is, ic;
    assert_int_equal(fx->e->ops->close(fx->e, a, &oc), 0);
    ev = fx_next(fx, &so, &is);
    expect_event(fx, &ev, IO_SEND, -ECANCELED, 0);
    ev = fx_next(fx, &oc, &ic);
    expect_event(fx, &ev, IO_CLOSE, 0, 0);
    assert_true(is < ic);
    close(b);
    free(r.buf);
    free(data);
}

/* Many fds ready at once and wait() asked for 3 events at a time: nothing is lost, every
 * fd's bytes arrive. */
static void test_many_ready(void **state)
{
    enum { N = 40 };
    struct fx *fx = fx_open(state, 4096, 128);
    struct own o[N];
    int a[N], b[N];
    unsigned got[N] = {0};
    struct io_event ev[3];

    for (int i = 0; i < N; i++) {
        tcp_pair(&a[i], &b[i]);
        char msg[16];
        int len = snprintf(msg, sizeof(msg), "fd-%02d", i);
        assert_int_equal(write(b[i], msg, (size_t)len), len);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(fx->e->ops->recv(fx->e, a[i], &o[i]), 0);
    unsigned done = 0, calls = 0;
    int64_t deadline = now_ms() + FX_DEADLINE_MS;
    while (done < N && now_ms() < deadline) {
        int n = fx->e->ops->wait(fx->e, ev, 3, 20);
        assert_true(n >= 0 && n <= 3);
        calls++;
        for (int k = 0; k < n; k++) {
            int i = (int)((struct own *)ev[k].owner - o);
            assert_true(i >= 0 && i < N);
            expect_event(fx, &ev[k], IO_RECV, 5, IO_F_BUF | IO_F_MORE);
            mbuf_received(&fx->pool, ev[k].buf);
            char want[16];
            snprintf(want, sizeof(want), "fd-%02d", i);
            assert_memory_equal(mbuf_data(&fx->pool, ev[k].buf), want, 5);
            mbuf_put(&fx->pool, ev[k].buf);
            assert_int_equal(got[i]++, 0);
            done++;
        }
    }
    assert_int_equal(done, N);
    assert_true(calls >= N / 3);
    for (int i = 0; i < N; i++) {
        engine_close(fx, a[i]);
        close(b[i]);
    }
    for (int i = 0; i < N; i++) {
        struct io_event e = fx_next(fx, &o[i], NULL);
        expect_event(fx, &e, IO_RECV, -ECANCELED, 0);
    }
}

/* A send submitted just before the close of the same fd goes out first (as the ring issues
 * SQEs in order), then the close. */
static void test_send_then_close(void **state)
{
    struct fx *fx = fx_open(state, 4096, 16);
    struct own o;
    int a, b;
    static const char reply[] = "SERVER_ERROR bye\r\n";

    tcp_pair(&a, &b);
    struct iovec iov = {.iov_base = (void *)reply, .iov_len = sizeof(reply) - 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    assert_int_equal(fx->e->ops->send(fx->e, a, &msg, &o), 0);
    assert_int_equal(fx->e->ops->close(fx->e, a, &o), 0);
    struct io_event ev = fx_next(fx, &o, NULL);
    expect_event(fx, &ev, IO_SEND, (int32_t)(sizeof(reply) - 1), 0);
    ev = fx_next(fx, &o, NULL);
    expect_event(fx, &ev, IO_CLOSE, 0, 0);

    char buf[64];
    size_t got = 0;
    ssize_t n;
    while ((n = read(b, buf + got, sizeof(buf) - got)) > 0)
        got += (size_t)n;
    assert_int_equal(n, 0); /* EOF after the reply */
    assert_int_equal(got, sizeof(reply) - 1);
    assert_memory_equal(buf, reply, got);
    close(b);
}

/* Connect to a listening loopback port (res 0) and to a bound port nobody listens on
 * (-ECONNREFUSED); the core may then close the failed socket itself, and the next socket,
 * likely with the same number, connects fine. */
static void test_connect(void **state)
{
    struct fx *fx = fx_open(state, 4096, 16);
    struct own co;
    uint16_t port, dead_port;
    int lfd = tcp_bound(16, &port);
    int holder = tcp_bound(0, &dead_port);

    /* blocking on purpose: the engine must not sleep on it */
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s >= 0);
    struct sockaddr_in sa = loopback(port);
    assert_int_equal(fx->e->ops->connect(fx->e, s, (struct sockaddr *)&sa, sizeof(sa), &co), 0);
    struct io_event ev = fx_next(fx, &co, NULL);
    expect_event(fx, &ev, IO_CONNECT, 0, 0);
    int srv = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(srv >= 0);
    assert_int_equal(peer_port(srv), local_port(s));
    engine_close(fx, s);
    close(srv);

    int s2 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s2 >= 0);
    struct sockaddr_in dead = loopback(dead_port);
    assert_int_equal(fx->e->ops->connect(fx->e, s2, (struct sockaddr *)&dead, sizeof(dead), &co),
                     0);
    ev = fx_next(fx, &co, NULL);
    expect_event(fx, &ev, IO_CONNECT, -ECONNREFUSED, 0);
    close(s2); /* nothing pending: the core may close it itself */

    int s3 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s3 >= 0);
    assert_int_equal(fx->e->ops->connect(fx->e, s3, (struct sockaddr *)&sa, sizeof(sa), &co), 0);
    ev = fx_next(fx, &co, NULL);
    expect_event(fx, &ev, IO_CONNECT, 0, 0);
    /* and it carries data: recv armed right after the connect */
    srv = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    assert_true(srv >= 0);
    assert_int_equal(fx->e->ops->recv(fx->e, s3, &co), 0);
    assert_int_equal(write(srv, "hello", 5), 5);
    ev = fx_next(fx, &co, NULL);
    expect_event(fx, &ev, IO_RECV, 5, IO_F_BUF | IO_F_MORE);
    mbuf_received(&fx->pool, ev.buf);
    assert_memory_equal(mbuf_data(&fx->pool, ev.buf), "hello", 5);
    mbuf_put(&fx->pool, ev.buf);
    size_t ir, ic;
    assert_int_equal(fx->e->ops->close(fx->e, s3, &co), 0);
    ev = fx_next(fx, &co, &ir);
    expect_event(fx, &ev, IO_RECV, -ECANCELED, 0);
    ev = fx_next(fx, &co, &ic);
    expect_event(fx, &ev, IO_CLOSE, 0, 0);

    close(srv);
    close(holder);
    close(lfd);
}

/* Close with a multishot recv armed: the recv's final event (-ECANCELED) comes first, then
 * IO_CLOSE, and the fd is closed. */
static void test_close_pending_recv(void **state)
{
    struct fx *fx = fx_open(state, 4096, 16);
    struct own o, oc;
    int a, b;

    tcp_pair(&a, &b);
    assert_int_equal(fx->e->ops->recv(fx->e, a, &o), 0);
    assert_int_equal(fx_pump(fx, 10), 0); /* submitted and armed, no data */
    size_t ir, ic;
    assert_int_equal(fx->e->ops->close(fx->e, a, &oc), 0);
    struct io_event ev = fx_next(fx, &o, &ir);
    expect_event(fx, &ev, IO_RECV, -ECANCELED, 0);
    ev = fx_next(fx, &oc, &ic);
    expect_event(fx, &ev, IO_CLOSE, 0, 0);
    assert_true(ir < ic);
    /* closed: the peer sees EOF */
    char c;
    assert_int_equal(read(b, &c, 1), 0);

    /* same again with one owner for both, as a connection owns its recv and its close */
    tcp_pair(&a, &b);
    assert_int_equal(fx->e->ops->recv(fx->e, a, &o), 0);
    assert_int_equal(fx_pump(fx, 10), 0);
    assert_int_equal(fx->e->ops->close(fx->e, a, &o), 0);
    ev = fx_next(fx, &o, NULL);
    expect_event(fx, &ev, IO_RECV, -ECANCELED, 0);
    ev = fx_next(fx, &o, NULL);
    expect_event(fx, &ev, IO_CLOSE, 0, 0);
    assert_int_equal(fx_pump(fx, 10), 0); /* nothing after the close */
    close(b);
}

/* wait() with nothing to happen returns 0 after about the timeout; 0 ms returns at once.
 * A wait may end early on EINTR (a signal, or task work the kernel queued to this thread),
 * which both engines report as 0 events, so a few early returns are allowed, not a spin. */
static void test_wait_timeout(void **state)
{
    struct fx *fx = fx_open(state, 4096, 16);
    struct io_event ev[4];
    struct own o;
    int a, b;

    tcp_pair(&a, &b);
    assert_int_equal(fx->e->ops->recv(fx->e, a, &o), 0); /* armed, idle */
    unsigned calls = 0;
    int64_t t0 = now_ms(), took;
    do {
        assert_int_equal(fx->e->ops->wait(fx->e, ev, 4, 150), 0);
        calls++;
        took = now_ms() - t0;
    } while (took < 140 && calls < 4);
    if (took < 140 || took > 1000)
        fail_msg("%s: %u wait(150 ms) calls took %lld ms", fx->param->name, calls, (long long)took);
    if (calls > 1)
        print_message("[          ] %s: %u calls to wait 150 ms (EINTR)\n", fx->param->name, calls);
    t0 = now_ms();
    assert_int_equal(fx->e->ops->wait(fx->e, ev, 4, 0), 0);
    assert_true(now_ms() - t0 < 50);
    engine_close(fx, a);
    close(b);
}

/* A busy fd does not starve a quiet one: the quiet fd's bytes arrive long before the busy
 * fd's stream ends. */
static void test_recv_fairness(void **state)
{
    struct fx *fx = fx_open(state, 4096, 64);
    struct own busy, quiet;
    int a1, b1, a2, b2;
    const size_t total = 512 * 1024;
    uint8_t *data = pattern(total, 4);

    tcp_pair(&a1, &b1);
    tcp_pair(&a2, &b2);
    struct writer w = {.fd = b1, .data = data, .len = total};
    writer_pump(&w);
    assert_int_equal(write(b2, "ping", 4), 4);
    fx->idle = idle_writer;
    fx->idle_arg = &w;
    assert_int_equal(fx->e->ops->recv(fx->e, a1, &busy), 0);
    assert_int_equal(fx->e->ops->recv(fx->e, a2, &quiet), 0);

    size_t iq;
    struct io_event ev = fx_next(fx, &quiet, &iq);
    expect_event(fx, &ev, IO_RECV, 4, IO_F_BUF | IO_F_MORE);
    mbuf_received(&fx->pool, ev.buf);
    mbuf_put(&fx->pool, ev.buf);

    size_t got = 0, before = 0, rearms = 0;
    while (got < total) {
        size_t idx;
        ev = fx_next(fx, &busy, &idx);
        if (ev.res == -ENOBUFS && ev.flags == 0) {
            assert_true(++rearms < 1000);
            assert_int_equal(fx->e->ops->recv(fx->e, a1, &busy), 0);
            continue;
        }
        assert_int_equal(ev.flags, IO_F_BUF | IO_F_MORE);
        mbuf_received(&fx->pool, ev.buf);
        assert_memory_equal(mbuf_data(&fx->pool, ev.buf), data + got, (size_t)ev.res);
        got += (size_t)ev.res;
        mbuf_put(&fx->pool, ev.buf);
        if (idx < iq)
            before += (size_t)ev.res;
    }
    print_message("[          ] %s: %zu of %zu busy bytes before the quiet fd's 4\n",
                  fx->param->name, before, total);
    assert_true(before < total / 2);
    engine_close(fx, a1);
    engine_close(fx, a2);
    close(b1);
    close(b2);
    free(data);
}

/* A socket with far more queued than one buffer holds (a large value) is read into several
 * buffers per system call on epoll (readv): the bytes still arrive whole and in order, one
 * event per buffer; a socket whose reads fit one buffer goes on reading into one. */
static void test_recv_wide(void **state)
{
    struct fx *fx = fx_open(state, 4096, 64);
    struct own ro;
    int a, b;
    const size_t total = 160 * 1024;
    uint8_t *data = pattern(total, 5);

    tcp_pair(&a, &b);
    int big = 1 << 20;
    setsockopt(b, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
    setsockopt(a, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    struct writer w = {.fd = b, .data = data, .len = total};
    writer_pump(&w);
    fx->idle = idle_writer;
    fx->idle_arg = &w;
    uint64_t sc0 = fx->e->stats.syscalls;
    assert_int_equal(fx->e->ops->recv(fx->e, a, &ro), 0);
    size_t got = 0, events = 0;
    while (got < total) {
        struct io_event ev = fx_next(fx, &ro, NULL);
        if (ev.kind != IO_RECV || ev.res <= 0 || ev.flags != (IO_F_BUF | IO_F_MORE))
            fail_msg("%s: recv event: %s res %d flags %#x after %zu bytes", fx->param->name,
                     kind_name(ev.kind), ev.res, ev.flags, got);
        mbuf_received(&fx->pool, ev.buf);
        assert_memory_equal(mbuf_data(&fx->pool, ev.buf), data + got, (size_t)ev.res);
        got += (size_t)ev.res;
        events++;
        mbuf_put(&fx->pool, ev.buf);
    }
    uint64_t reads = fx->e->stats.syscalls - sc0;
    print_message("[          ] %s: %zu bytes in %zu events, %llu system calls\n", fx->param->name,
                  total, events, (unsigned long long)reads);
    if (strcmp(fx->param->name, "epoll") == 0)
        assert_true(reads * 4 <= events); /* 16 buffers a read once the first one fills */
    assert_int_equal(fx->pool.held, 0);
    engine_close(fx, a);
    close(b);
    free(data);
}

/* AUTO picks io_uring when it can, else epoll and says why; a bad choice is EINVAL. */
static void test_auto_choice(void **state)
{
    (void)state;
    struct mbuf_pool pool;
    char reason[256];
    assert_int_equal(mbuf_pool_init(&pool, 4096, 8, 0), 0);
    struct io_engine *e = io_engine_create(IO_CHOICE_AUTO, &pool, 64, reason, sizeof(reason));
    assert_non_null(e);
    if (strcmp(e->ops->name, "uring") == 0) {
        assert_string_equal(reason, "");
    } else {
        assert_string_equal(e->ops->name, "epoll");
        assert_true(reason[0] != '\0' && strchr(reason, '\n') == NULL);
        print_message("[          ] auto fell back: %s\n", reason);
    }
    assert_ptr_equal(pool.engine, e);
    e->ops->destroy(e);
    /* reason may be NULL */
    e = io_engine_create(IO_CHOICE_AUTO, &pool, 64, NULL, 0);
    assert_non_null(e);
    e->ops->destroy(e);
    errno = 0;
    assert_null(io_engine_create((enum io_choice)42, &pool, 64, reason, sizeof(reason)));
    assert_int_equal(errno, EINVAL);
    mbuf_pool_free(&pool);

    /* more buffers than one provided-buffer ring holds: the ring is refused on any machine,
     * so AUTO must fall back, with ur_engine_create's reason as the one line */
    assert_int_equal(mbuf_pool_init(&pool, 64, 32769, 0), 0);
    e = io_engine_create(IO_CHOICE_AUTO, &pool, 64, reason, sizeof(reason));
    assert_non_null(e);
    assert_string_equal(e->ops->name, "epoll");
    assert_ptr_equal(pool.engine, e);
    assert_true(reason[0] != '\0' && strchr(reason, '\n') == NULL);
    print_message("[          ] auto fallback reason: %s\n", reason);
    e->ops->destroy(e);
    assert_null(io_engine_create(IO_CHOICE_URING, &pool, 64, reason, sizeof(reason)));
    assert_true(reason[0] != '\0');
    mbuf_pool_free(&pool);
}

/* Zero-copy sends (io_uring only; the epoll engine has none): from the registered arena (one
 * iovec and several), and from plain memory. Each submission gives its result with IO_F_MORE,
 * then one final notification (IO_F_NOTIF, res 1: loopback copies), and the bytes arrive
 * intact however the sends were cut. */
static void test_send_zc(void **state)
{
    struct fx *fx = fx_open(state, 16384, 64);
    if (fx->e->ops->zc_enable == NULL) {
        assert_string_equal(fx->param->name, "epoll");
        assert_null(fx->e->ops->send_zc);
        return;
    }
    char why[128] = "";
    int zc = fx->e->ops->zc_enable(fx->e, why, sizeof(why));
    if (zc < 0) {
        print_message("[  SKIP    ] no zero-copy sends here: %s\n", why);
        skip();
    }
    if (zc == 0)
        print_message("[          ] arena not registered: %s\n", why);
    assert_int_equal(fx->e->ops->zc_enable(fx->e, why, sizeof(why)), zc); /* idempotent */

    /* the arena's 64 buffers hold a pattern; the heap block another */
    const size_t arena = 64 * 16384;
    uint8_t *pat = pattern(arena, 5);
    memcpy(fx->pool.arena, pat, arena);
    uint8_t *heap = pattern(3000, 9);
    struct {
        struct iovec v[4];
        unsigned n;
        bool fixed;
    } cases[] = {
        {{{fx->pool.arena + 100, 16000}}, 1, true},
        {{{fx->pool.arena + 16384 * 3, 16384 * 20},
          {fx->pool.arena + 7, 10},
          {fx->pool.arena + 16384 * 40, 16384 * 24}},
         3,
         true},
        {{{heap, 3000}, {fx->pool.arena + 5, 20000}}, 2, false},
    };
    int a, b;
    tcp_pair(&a, &b);
    int small = 32 * 1024;
    setsockopt(a, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
    struct own so;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        size_t total = 0;
        for (unsigned i = 0; i < cases[c].n; i++)
            total += cases[c].v[i].iov_len;
        uint8_t *expect = malloc(total);
        assert_non_null(expect);
        size_t off = 0;
        for (unsigned i = 0; i < cases[c].n; i++) {
            memcpy(expect + off, cases[c].v[i].iov_base, cases[c].v[i].iov_len);
            off += cases[c].v[i].iov_len;
        }
        struct reader r = {.fd = b, .buf = malloc(total + 1), .cap = total + 1};
        assert_non_null(r.buf);
        fx->idle = idle_reader;
        fx->idle_arg = &r;
        struct iovec iov[4];
        memcpy(iov, cases[c].v, sizeof(iov));
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = cases[c].n};
        size_t sent = 0;
        unsigned sends = 0, notifs = 0, copied = 0;
        while (sent < total) {
            assert_int_equal(fx->e->ops->send_zc(fx->e, a, &msg, cases[c].fixed, &so), 0);
            struct io_event ev = fx_next(fx, &so, NULL);
            /* an earlier submission's notification may come before this one's result */
            while (ev.flags == IO_F_NOTIF && notifs < sends) {
                notifs++;
                copied += (unsigned)ev.res;
                ev = fx_next(fx, &so, NULL);
            }
            if (ev.kind != IO_SEND || ev.res <= 0 || ev.flags != IO_F_MORE)
                fail_msg("case %zu: result %s res %d flags %#x after %zu bytes", c,
                         kind_name(ev.kind), ev.res, ev.flags, sent);
            sends++;
            sent += (size_t)ev.res;
            assert_true(sent <= total);
            size_t n = (size_t)ev.res;
            while (n > 0 && msg.msg_iovlen > 0) {
                if (n >= msg.msg_iov[0].iov_len) {
                    n -= msg.msg_iov[0].iov_len;
                    msg.msg_iov++;
                    msg.msg_iovlen--;
                } else {
                    msg.msg_iov[0].iov_base = (uint8_t *)msg.msg_iov[0].iov_base + n;
                    msg.msg_iov[0].iov_len -= n;
                    n = 0;
                }
            }
        }
        /* one notification per submission, each the final event */
        while (notifs < sends) {
            struct io_event ev = fx_next(fx, &so, NULL);
            if (ev.kind != IO_SEND || ev.flags != IO_F_NOTIF || (ev.res != 0 && ev.res != 1))
                fail_msg("case %zu: notification %s res %d flags %#x", c, kind_name(ev.kind),
                         ev.res, ev.flags);
            notifs++;
            copied += (unsigned)ev.res;
        }
        int64_t deadline = now_ms() + FX_DEADLINE_MS;
        while (r.len < total && now_ms() < deadline)
            fx_pump(fx, 10);
        assert_int_equal(r.len, total);
        assert_memory_equal(r.buf, expect, total);
        fx_quiet(fx, &so, 30);
        print_message("[          ] case %zu: %zu bytes in %u zero-copy sends, %u copied by the "
                      "kernel\n",
                      c, total, sends, copied);
        fx->idle = NULL;
        free(r.buf);
        free(expect);
    }
    if (zc == 1) {
        /* the registered buffer is really what is sent from: memory outside it is refused */
        struct iovec out = {.iov_base = heap, .iov_len = 100};
        struct msghdr msg = {.msg_iov = &out, .msg_iovlen = 1};
        assert_int_equal(fx->e->ops->send_zc(fx->e, a, &msg, true, &so), 0);
        struct io_event ev = fx_next(fx, &so, NULL);
        if (ev.res != -EFAULT)
            fail_msg("fixed send outside the arena: res %d flags %#x", ev.res, ev.flags);
        if (ev.flags & IO_F_MORE) {
            /* a notification follows even a failure */
            ev = fx_next(fx, &so, NULL);
            assert_int_equal(ev.flags, IO_F_NOTIF);
        }
    }
    engine_close(fx, a);
    close(b);
    free(heap);
    free(pat);
}

/* Each contract test once per engine, named test/engine (kept as written: clang-format cannot
 * lay out a braced initializer inside a macro, nor keep the table one test per line). */
// clang-format off
#define ONE(t, engine) {#t "/" #engine, t, fx_setup, fx_teardown, (void *)&param_##engine}
#define BOTH(t)        ONE(t, uring), ONE(t, epoll)

int main(void)
{
    /* TEST_FILTER=test_connect* runs a subset */
    if (getenv("TEST_FILTER") != NULL)
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    const struct CMUnitTest tests[] = {
        BOTH(test_accept_multishot),
        BOTH(test_recv_data_eof),
        BOTH(test_recv_enobufs),
        BOTH(test_send_iovec),
        BOTH(test_send_blocked),
        BOTH(test_send_then_close),
        BOTH(test_connect),
        BOTH(test_close_pending_recv),
        BOTH(test_wait_timeout),
        BOTH(test_recv_fairness),
        BOTH(test_many_ready),
        BOTH(test_recv_wide),
        BOTH(test_send_zc),
        cmocka_unit_test(test_auto_choice),
    };
    // clang-format on
    return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
