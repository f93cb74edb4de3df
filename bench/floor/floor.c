/* bench/floor: the cheapest proxy hop, the reference column of the benchmarks. One thread, one
 * memcached, every client coalesced onto ONE server connection; requests and replies are only
 * framed (where each ends), never routed, split or validated. The loop is the proxy core's minus
 * everything else: a batch of completions, dispatch, then one send per dirty socket. Bytes are
 * forwarded by reference from the receive buffers they arrived in (src/mbuf.h rules).
 * Classic text commands only: meta commands (mg, ms ...) carry data blocks this framing does not
 * know. A request is forwarded once whole, so the arena must hold the largest one (half of it is
 * the cap); a client that does not read its replies holds buffers, as it would in the proxy. */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto/mc_cmd.h"
#include "proto/mc_req.h"
#include "proto/mc_rsp.h"
#include "src/io.h"
#include "src/linebuf.h"
#include "src/log.h"
#include "src/mbuf.h"
#include "src/msg.h"
#include "src/sendrec.h"

#define FL_BATCH     512
#define FL_ENTRIES   4096
#define FL_MAX_LINE  65536        /* longest request or reply line, as ringproxy's default */
#define FL_MAX_VALUE (1ULL << 30) /* memcached's own ceiling for -I */

enum fl_type { FL_LISTENER = 1, FL_CLIENT, FL_SERVER };
enum fl_rsp { FL_RSP_NONE = 0, FL_RSP_LINE, FL_RSP_END }; /* none (noreply), a line, until END */
enum fl_line_kind { FL_PLAIN, FL_DATA, FL_QUIT, FL_BAD };

/* A socket and the operations it owns: first member of the listener, the clients and the
 * server connection (8-byte aligned, as src/io.h wants of owners). */
struct fl_conn {
    uint8_t type;     /* enum fl_type */
    bool closing;     /* close submitted: free once pending is zero */
    bool dirty;       /* on the flush list */
    bool recv_armed;  /* multishot receive in place */
    bool starved;     /* receive ended on an empty arena: re-armed when buffers are back */
    uint16_t pending; /* operations whose final event has not come */
    int fd;
    struct fl_conn *dnext;
    struct svec out;      /* bytes for the next send, each slice holding its buffer */
    struct sendrec *send; /* the one send in flight; clients give it back when idle */
};

struct fl_client {
    struct fl_conn k;
    struct fl_client *next, *prev;
    struct mc_framer fr;
    struct linebuf line; /* a line cut by a buffer boundary, copied to be read (not forwarded) */
    struct svec part;    /* a request begun in an earlier buffer: held until it is whole */
    uint32_t inflight;   /* FIFO entries naming this client: freed only at zero */
    uint8_t cur_rsp;     /* enum fl_rsp of the request being received */
    bool eof;            /* no more requests: close once every reply is out */
};

/* Whose reply comes next from the server, and what ends it. */
struct fl_pend {
    struct fl_client *c;
    uint8_t rsp; /* FL_RSP_LINE or FL_RSP_END */
};

struct fl_server {
    struct fl_conn k;  /* k.out: whole requests for the next send */
    struct fl_pend *q; /* FIFO ring, qcap a power of two */
    uint32_t qhead, qlen, qcap;
    struct mc_framer fr;
    struct linebuf line;
};

struct floor {
    struct io_engine *io;
    struct mbuf_pool pool;
    struct sendrec_cache sendrecs;
    struct fl_conn lst;
    struct fl_server srv;
    struct fl_client *clients;
    struct fl_conn *dirty; /* to flush after this batch */
    struct mc_limits limits;
    uint64_t max_data; /* largest data block taken: half the arena */
    uint32_t nstarved;
    uint32_t part_bufs; /* slices (about one per buffer) held by partial requests */
    bool failed;        /* the server connection is gone */
    uint64_t requests, replies, server_sends, client_sends;
};

/* Set by the signal handler, the one thing a handler may touch. */
static volatile sig_atomic_t fl_stop;

static void fl_on_signal(int sig)
{
    (void)sig;
    fl_stop = 1;
}

static void fl_mark_dirty(struct floor *f, struct fl_conn *k)
{
    if (k->dirty || k->closing)
        return;
    k->dirty = true;
    k->dnext = f->dirty;
    f->dirty = k;
}

static void fl_fail(struct floor *f, const char *why)
{
    if (!f->failed)
        log_error("floor: server connection lost (%s), %u replies outstanding; stopping", why,
                  f->srv.qlen);
    f->failed = true;
}

static void fl_part_drop(struct floor *f, struct fl_client *c)
{
    f->part_bufs -= c->part.n;
    svec_release(&c->part, &f->pool);
}

/* ---- connections: receive, send, close -------------------------------------------------- */

static void fl_client_close(struct floor *f, struct fl_client *c);

/* The connection cannot go on: a client is closed, the server connection ends the run. */
static void fl_conn_error(struct floor *f, struct fl_conn *k, const char *why)
{
    if (k->type == FL_CLIENT)
        fl_client_close(f, (struct fl_client *)k);
    else
        fl_fail(f, why);
}

static void fl_conn_rearm(struct floor *f, struct fl_conn *k)
{
    if (k->starved) {
        k->starved = false;
        f->nstarved--;
    }
    if (k->recv_armed || k->closing || (k->type == FL_CLIENT && ((struct fl_client *)k)->eof))
        return;
    if (f->io->ops->recv(f->io, k->fd, k) == 0) {
        k->recv_armed = true;
        k->pending++;
    } else {
        fl_conn_error(f, k, "cannot arm a receive");
    }
}

/* Hands k->out to one send, unless one is in flight. */
static void fl_conn_flush(struct floor *f, struct fl_conn *k)
{
    if ((k->send != NULL && k->send->busy) || k->out.n == 0)
        return;
    if (k->send == NULL && (k->send = sendrec_take(&f->sendrecs)) == NULL) {
        fl_conn_error(f, k, "out of memory");
        return;
    }
    uint32_t i = 0; /* the send takes over each slice's buffer reference */
    while (i < k->out.n && sendrec_add(k->send, &k->out.v[i]))
        i++;
    memmove(k->out.v, k->out.v + i, (k->out.n - i) * sizeof(*k->out.v));
    k->out.n -= i;
    if (f->io->ops->send(f->io, k->fd, sendrec_msghdr(k->send), k) < 0) {
        fl_conn_error(f, k, "cannot submit a send");
        return;
    }
    k->send->busy = true;
    k->pending++;
    if (k->type == FL_CLIENT)
        f->client_sends++;
    else
        f->server_sends++;
}

static void fl_conn_sent(struct floor *f, struct fl_conn *k, int res)
{
    k->send->busy = false;
    if (res <= 0) {
        fl_conn_error(f, k, res < 0 ? strerror(-res) : "send took nothing");
    } else if (!sendrec_advance(k->send, (uint32_t)res)) {
        /* short send: the rest goes at once, before anything newer */
        if (f->io->ops->send(f->io, k->fd, sendrec_msghdr(k->send), k) == 0) {
            k->send->busy = true;
            k->pending++;
        } else {
            fl_conn_error(f, k, "cannot resume a short send");
        }
    } else {
        sendrec_reset(k->send, &f->pool); /* all out: the references go, the record stays */
        fl_mark_dirty(f, k);              /* what gathered meanwhile goes with this batch */
    }
}

static void fl_close(struct floor *f, struct fl_conn *k)
{
    if (k->closing)
        return;
    if (k->starved) {
        k->starved = false;
        f->nstarved--;
    }
    k->closing = true;
    svec_release(&k->out, &f->pool);
    if (f->io->ops->close(f->io, k->fd, k) == 0)
        k->pending++;
    else
        close(k->fd);
    k->fd = -1;
}

/* ---- requests ---------------------------------------------------------------------------- */

/* Reads what framing needs from one command line: the reply it expects and, for a storage
 * command, its data block's length (the 5th token, also for cas). memcached judges the rest. */
static enum fl_line_kind fl_classify(const uint8_t *line, uint32_t len, uint8_t *rsp,
                                     uint64_t *dlen)
{
    struct mc_tok t[6], last = {0, 0};
    uint32_t ntok = 0, i = 0;
    if (len > 0 && line[len - 1] == '\n')
        len--;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    while (i < len) {
        while (i < len && line[i] == ' ')
            i++;
        if (i == len)
            break;
        last.off = i;
        while (i < len && line[i] != ' ')
            i++;
        last.len = i - last.off;
        if (ntok < 6)
            t[ntok] = last;
        ntok++;
        /* a retrieval's keys are of no interest: stop at its command word */
        if (ntok == 1 && line[last.off] == 'g')
            break;
    }
    enum mc_cmd cmd =
        ntok > 0 ? mc_cmd_lookup((const char *)line + t[0].off, t[0].len) : MC_CMD_NONE;
    *dlen = 0;
    *rsp = FL_RSP_LINE;
    if (cmd == MC_QUIT)
        return FL_QUIT;
    if (cmd == MC_CMD_NONE)
        return FL_PLAIN; /* memcached answers ERROR */
    const struct mc_cmd_info *ci = mc_cmd_info(cmd);
    enum mc_kind kind = ci->kind;
    if (kind == MC_KIND_RETRIEVAL)
        *rsp = FL_RSP_END;
    if (cmd == MC_STATS) {
        /* "stats", "stats slabs" ... end with END; "stats reset", "stats detail on|off" are
         * one line ("stats detail dump" ends with END) */
        bool one = ntok >= 2 &&
                   ((t[1].len == 5 && memcmp(line + t[1].off, "reset", 5) == 0) ||
                    (ntok >= 3 && t[1].len == 6 && memcmp(line + t[1].off, "detail", 6) == 0 &&
                     !(t[2].len == 4 && memcmp(line + t[2].off, "dump", 4) == 0)));
        *rsp = one ? FL_RSP_LINE : FL_RSP_END;
    }
    if (*rsp == FL_RSP_END)
        return FL_PLAIN;
    if (ntok > 1 && last.len == 7 && memcmp(line + last.off, "noreply", 7) == 0)
        *rsp = FL_RSP_NONE;
    if (kind != MC_KIND_STORAGE)
        return FL_PLAIN;
    /* memcached reads a block only after a well-formed line (a wrong arity is one ERROR, and
     * the block would then be read as commands): such a line cannot be followed */
    if (ntok - 1 < (uint32_t)ci->min_args || ntok - 1 > (uint32_t)ci->max_args ||
        !mc_parse_uint(line + t[4].off, t[4].len, FL_MAX_VALUE, dlen))
        return FL_BAD;
    return FL_DATA;
}

/* A client's request is whole: its bytes (part, then p..p+len of buffer buf) join the server's
 * next send, and its reply, if any, is expected after those of every earlier request. */
static void fl_request_done(struct floor *f, struct fl_client *c, const uint8_t *p, size_t len,
                            uint32_t buf)
{
    struct fl_server *s = &f->srv;
    for (uint32_t i = 0; i < c->part.n; i++)
        svec_push(&s->k.out, &f->pool, c->part.v[i].ptr, c->part.v[i].len, c->part.v[i].buf);
    fl_part_drop(f, c);
    svec_push(&s->k.out, &f->pool, p, (uint32_t)len, buf);
    f->requests++;
    fl_mark_dirty(f, &s->k);
    if (c->cur_rsp == FL_RSP_NONE)
        return;
    if (s->qlen == s->qcap) {
        uint32_t cap = s->qcap ? s->qcap * 2 : 1024;
        struct fl_pend *q = malloc(cap * sizeof(*q));
        if (q == NULL)
            log_panic("floor: out of memory growing the reply FIFO to %u", cap);
        for (uint32_t i = 0; i < s->qlen; i++)
            q[i] = s->q[(s->qhead + i) & (s->qcap - 1)];
        free(s->q);
        s->q = q;
        s->qhead = 0;
        s->qcap = cap;
    }
    s->q[(s->qhead + s->qlen++) & (s->qcap - 1)] = (struct fl_pend){c, c->cur_rsp};
    c->inflight++;
}

/* Frames the n bytes of receive buffer buf. */
static void fl_client_parse(struct floor *f, struct fl_client *c, uint32_t buf, uint32_t n)
{
    const uint8_t *base = mbuf_data(&f->pool, buf);
    size_t pos = 0, start = 0; /* start: where the request being framed began in this buffer */

    while (pos < n && !c->eof) {
        bool in_line = c->fr.state == MC_FS_LINE;
        size_t used = 0, none;
        enum mc_status st = mc_framer_feed(&c->fr, &f->limits, base + pos, n - pos, &used);
        const uint8_t *chunk = base + pos;
        pos += used;
        if (in_line && st == MC_AGAIN && used > 0 &&
            linebuf_append(&c->line, chunk, (uint32_t)used, FL_MAX_LINE) < 0)
            st = MC_ERROR;

        switch (st) {
        case MC_AGAIN:
            break;
        case MC_LINE: {
            uint32_t len;
            uint64_t dlen;
            const uint8_t *line =
                linebuf_finish(&c->line, chunk, (uint32_t)used, FL_MAX_LINE, &len);
            if (line == NULL)
                goto out_bad;
            enum fl_line_kind kind = fl_classify(line, len, &c->cur_rsp, &dlen);
            linebuf_reset(&c->line);
            if (kind == FL_QUIT) {
                c->eof = true;
                break;
            }
            if (kind == FL_BAD || dlen > f->max_data)
                goto out_bad;
            if (kind == FL_DATA) {
                mc_framer_expect_data(&c->fr, dlen, false);
                break;
            }
            mc_framer_feed(&c->fr, &f->limits, base + pos, 0, &none); /* MC_DONE */
            fl_request_done(f, c, base + start, pos - start, buf);
            start = pos;
            break;
        }
        case MC_DONE:
            fl_request_done(f, c, base + start, pos - start, buf);
            start = pos;
            break;
        case MC_ERROR:
            goto out_bad;
        }
    }
    if (!c->eof && start < n) {
        f->part_bufs -= c->part.n;
        svec_push(&c->part, &f->pool, base + start, (uint32_t)(n - start), buf);
        f->part_bufs += c->part.n;
    }
    goto out;

out_bad:
    log_info("floor: client fd %d: request cannot be framed (%s), closing after its replies",
             c->k.fd, c->fr.error ? c->fr.error : "bad or too large storage command");
    c->eof = true;
out:
    if (c->eof) {
        fl_part_drop(f, c);
        fl_mark_dirty(f, &c->k);
    }
}

/* ---- clients ----------------------------------------------------------------------------- */

static void fl_client_close(struct floor *f, struct fl_client *c)
{
    fl_part_drop(f, c);
    fl_close(f, &c->k);
}

/* Frees a closed client once no operation and no FIFO entry refers to it any more. */
static void fl_client_maybe_free(struct floor *f, struct fl_client *c)
{
    /* still on the flush list: fl_flush() comes back here */
    if (!c->k.closing || c->k.pending > 0 || c->inflight > 0 || c->k.dirty)
        return;
    if (c->k.send != NULL) {
        sendrec_reset(c->k.send, &f->pool);
        sendrec_give(&f->sendrecs, c->k.send);
    }
    linebuf_free(&c->line);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        f->clients = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    free(c);
}

static void fl_client_flush(struct floor *f, struct fl_client *c)
{
    fl_conn_flush(f, &c->k);
    if (c->k.closing || c->k.out.n > 0 || (c->k.send != NULL && c->k.send->busy))
        return;
    if (c->k.send != NULL) { /* idle: a sendrec is 20 KiB, keep it only while sending */
        sendrec_give(&f->sendrecs, c->k.send);
        c->k.send = NULL;
    }
    if (c->eof && c->inflight == 0)
        fl_client_close(f, c);
}

static void fl_client_accept(struct floor *f, int fd)
{
    struct fl_client *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->k.type = FL_CLIENT;
    c->k.fd = fd;
    svec_init(&c->k.out);
    svec_init(&c->part);
    mc_framer_init(&c->fr, false);
    c->next = f->clients;
    if (f->clients != NULL)
        f->clients->prev = c;
    f->clients = c;
    fl_conn_rearm(f, &c->k);
}

/* ---- replies ----------------------------------------------------------------------------- */

/* The reply at the head of the FIFO is complete. */
static void fl_reply_done(struct floor *f)
{
    struct fl_server *s = &f->srv;
    struct fl_client *c = s->q[s->qhead].c;
    s->qhead = (s->qhead + 1) & (s->qcap - 1);
    s->qlen--;
    f->replies++;
    c->inflight--;
    if (c->k.closing)
        fl_client_maybe_free(f, c);
    else if (c->eof)
        fl_mark_dirty(f, &c->k);
}

/* Frames the n bytes of receive buffer buf and hands each piece to the client it answers. */
static void fl_server_parse(struct floor *f, uint32_t buf, uint32_t n)
{
    struct fl_server *s = &f->srv;
    const uint8_t *base = mbuf_data(&f->pool, buf);
    size_t pos = 0;

    while (pos < n && !f->failed) {
        if (s->qlen == 0) {
            fl_fail(f, "bytes nobody asked for");
            return;
        }
        struct fl_pend *e = &s->q[s->qhead];
        bool in_line = mc_rsp_framer_in_line(&s->fr);
        size_t used = 0;
        enum mc_rsp_status st = mc_rsp_framer_feed(&s->fr, FL_MAX_LINE, base + pos, n - pos, &used);
        const uint8_t *chunk = base + pos;
        pos += used;
        if (used > 0 && !e->c->k.closing) {
            /* a reply streams to its client as it arrives: a client's replies come in its
             * order, so nothing else can be interleaved in its out vector */
            svec_push(&e->c->k.out, &f->pool, chunk, (uint32_t)used, buf);
            fl_mark_dirty(f, &e->c->k);
        }
        bool done = false;
        switch (st) {
        case MC_RSP_AGAIN:
            if (in_line && e->rsp == FL_RSP_END && used > 0 &&
                linebuf_append(&s->line, chunk, (uint32_t)used, FL_MAX_LINE) < 0)
                goto out_bad;
            break;
        case MC_RSP_GOT_LINE: {
            if (e->rsp == FL_RSP_LINE) {
                done = true;
                break;
            }
            uint32_t len;
            const uint8_t *line =
                linebuf_finish(&s->line, chunk, (uint32_t)used, FL_MAX_LINE, &len);
            if (line == NULL)
                goto out_bad;
            struct mc_rsp_line rl;
            mc_rsp_parse_line(line, len, FL_MAX_VALUE, &rl);
            linebuf_reset(&s->line);
            if (rl.type == MC_RSP_VALUE)
                mc_rsp_framer_expect_data(&s->fr, rl.data_len);
            else if (rl.type == MC_RSP_END || rl.type == MC_RSP_ERROR)
                done = true;
            else if (rl.type == MC_RSP_INVALID && len >= 6 && memcmp(line, "VALUE ", 6) == 0)
                goto out_bad; /* a data block of unknown length: framing is lost */
            break;
        }
        case MC_RSP_GOT_DATA:
            break;
        case MC_RSP_BAD:
            goto out_bad;
        }
        if (done)
            fl_reply_done(f);
    }
    return;

out_bad:
    fl_fail(f, s->fr.error ? s->fr.error : "reply cannot be framed");
}

/* ---- the loop ---------------------------------------------------------------------------- */

static void fl_recv_event(struct floor *f, struct fl_conn *k, const struct io_event *ev)
{
    if (!(ev->flags & IO_F_MORE))
        k->recv_armed = false;
    if (ev->res > 0 && (ev->flags & IO_F_BUF)) {
        if (k->type == FL_SERVER)
            fl_server_parse(f, ev->buf, (uint32_t)ev->res);
        else if (!((struct fl_client *)k)->eof)
            fl_client_parse(f, (struct fl_client *)k, ev->buf, (uint32_t)ev->res);
        mbuf_put(&f->pool, ev->buf);
        if (!(ev->flags & IO_F_MORE))
            fl_conn_rearm(f, k);
    } else if (ev->res == -ENOBUFS) {
        if (!k->starved) {
            k->starved = true;
            f->nstarved++;
        }
    } else if (ev->res == 0 && k->type == FL_CLIENT) {
        struct fl_client *c = (struct fl_client *)k;
        c->eof = true; /* answer what it asked, then close */
        fl_part_drop(f, c);
        fl_mark_dirty(f, k);
    } else if (ev->res != -ECANCELED || k->type == FL_SERVER) {
        fl_conn_error(f, k, ev->res == 0 ? "closed by the server" : strerror(-ev->res));
    }
}

static void fl_dispatch(struct floor *f, const struct io_event *ev)
{
    struct fl_conn *k = ev->owner;
    if (!(ev->flags & IO_F_MORE))
        k->pending--;
    if (ev->flags & IO_F_BUF)
        mbuf_received(&f->pool, ev->buf);
    if (k->closing) {
        if (ev->flags & IO_F_BUF)
            mbuf_put(&f->pool, ev->buf);
        if (ev->kind == IO_ACCEPT && ev->res >= 0)
            close(ev->res); /* accepted while the listener was being closed */
    } else if (ev->kind == IO_ACCEPT) {
        if (ev->res >= 0)
            fl_client_accept(f, ev->res);
        else if (ev->res != -ECANCELED)
            log_warn("floor: accept failed: %s", strerror(-ev->res));
        if (!(ev->flags & IO_F_MORE) && !fl_stop) {
            if (ev->res == -EMFILE || ev->res == -ENFILE)
                usleep(10000); /* out of descriptors: do not spin on a failing accept */
            if (f->io->ops->accept(f->io, k->fd, k) == 0)
                k->pending++;
        }
    } else if (ev->kind == IO_RECV) {
        fl_recv_event(f, k, ev);
    } else if (ev->kind == IO_SEND) {
        fl_conn_sent(f, k, ev->res);
    }
    if (k->type == FL_CLIENT)
        fl_client_maybe_free(f, (struct fl_client *)k);
}

static void fl_flush(struct floor *f)
{
    while (f->dirty != NULL) {
        struct fl_conn *k = f->dirty;
        f->dirty = k->dnext;
        k->dirty = false;
        if (k->type == FL_SERVER)
            fl_conn_flush(f, k);
        else if (k->closing)
            fl_client_maybe_free(f, (struct fl_client *)k);
        else
            fl_client_flush(f, (struct fl_client *)k);
    }
}

/* Re-arms receives that stopped on an empty arena: the server's as soon as a buffer is free
 * (reading replies is what lets memcached read, and so our sends complete and free request
 * buffers), the clients' once a quarter of the arena is free again. */
static void fl_rearm_starved(struct floor *f)
{
    if (f->srv.k.starved && f->pool.held < f->pool.count)
        fl_conn_rearm(f, &f->srv.k);
    if (f->pool.held <= f->pool.count - f->pool.count / 4) {
        for (struct fl_client *c = f->clients; c != NULL; c = c->next)
            if (c->k.starved)
                fl_conn_rearm(f, &c->k);
        return;
    }
    /* A request is forwarded once whole, so requests trickling in a few bytes per receive
     * can hold the whole arena with none of them complete: nothing would move again. Past
     * half the arena, the client holding the most goes (after its earlier replies). */
    if (f->part_bufs <= f->pool.count / 2)
        return;
    struct fl_client *worst = f->clients;
    for (struct fl_client *c = f->clients; c != NULL; c = c->next)
        if (c->part.n > worst->part.n)
            worst = c;
    log_warn("floor: client fd %d holds a partial request over %u receive buffers of %u; "
             "closing it (more --buffers, or a larger --buffer-size)",
             worst->k.fd, worst->part.n, f->pool.count);
    fl_part_drop(f, worst);
    worst->eof = true;
    fl_mark_dirty(f, &worst->k);
}

/* ---- set-up ------------------------------------------------------------------------------ */

/* A listening or a connected socket for "host:port" ("[v6]:port" too), or -1 (logged). */
static int fl_socket(const char *spec, bool listening)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    size_t hl = colon != NULL ? (size_t)(colon - spec) : 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
    int one = 1, fd = -1, rc;
    if (hl > 1 && spec[0] == '[' && spec[hl - 1] == ']')
        spec++, hl -= 2;
    if (hl == 0 || hl >= sizeof(host)) {
        log_error("floor: '%s' is not host:port", spec);
        return -1;
    }
    memcpy(host, spec, hl);
    host[hl] = '\0';
    if ((rc = getaddrinfo(host, colon + 1, &hints, &ai)) != 0) {
        log_error("floor: cannot resolve %s: %s", spec, gai_strerror(rc));
        return -1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && listening) {
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        rc = bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1024) < 0;
    } else if (fd >= 0) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        rc = connect(fd, ai->ai_addr, ai->ai_addrlen) < 0;
    }
    freeaddrinfo(ai);
    if (fd < 0 || rc != 0) {
        log_error("floor: cannot %s %s: %s", listening ? "listen on" : "connect to", spec,
                  strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static uint64_t fl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char fl_usage[] =
    "Usage: floor --listen HOST:PORT --server HOST:PORT [--io uring|epoll]\n"
    "             [--buffers N] [--buffer-size BYTES] [-v LEVEL]\n"
    "The cheapest memcached proxy hop: framing only, every client on one server\n"
    "connection, one send to the server per batch of completions.\n";

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"server", required_argument, NULL, 's'},
        {"io", required_argument, NULL, 'i'},
        {"buffers", required_argument, NULL, 'n'},
        {"buffer-size", required_argument, NULL, 'b'},
        {"verbose", required_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *listen_spec = NULL, *server_spec = NULL, *io_name = "uring";
    unsigned long nbufs = 4096, bufsize = 16384;
    int level = LOG_NOTICE, opt, rc = 1;
    struct floor f;

    while ((opt = getopt_long(argc, argv, "l:s:i:n:b:v:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'l':
            listen_spec = optarg;
            break;
        case 's':
            server_spec = optarg;
            break;
        case 'i':
            io_name = optarg;
            break;
        case 'n':
            nbufs = strtoul(optarg, NULL, 10);
            break;
        case 'b':
            bufsize = strtoul(optarg, NULL, 10);
            break;
        case 'v':
            level = atoi(optarg);
            break;
        case 'h':
            fputs(fl_usage, stdout);
            return 0;
        default:
            goto out_usage;
        }
    }
    bool epoll = strcmp(io_name, "epoll") == 0;
    if (listen_spec == NULL || server_spec == NULL || optind != argc || nbufs < 16 ||
        nbufs > 32768 || bufsize < 512 || bufsize > (1UL << 24) ||
        (!epoll && strcmp(io_name, "uring") != 0))
        goto out_usage;
    log_init(level, NULL);

    memset(&f, 0, sizeof(f));
    f.limits = (struct mc_limits){250, UINT32_MAX, FL_MAX_LINE};
    f.max_data = (uint64_t)nbufs * bufsize / 2;
    f.lst.type = FL_LISTENER;
    f.srv.k.type = FL_SERVER;
    svec_init(&f.lst.out);
    svec_init(&f.srv.k.out);
    mc_rsp_framer_init(&f.srv.fr);
    int ret = mbuf_pool_init(&f.pool, (uint32_t)bufsize, (uint32_t)nbufs, 0);
    if (ret < 0) {
        log_error("floor: cannot allocate %lu x %lu bytes: %s", nbufs, bufsize, strerror(-ret));
        return 1;
    }
    char why[256] = "";
    f.io = io_engine_create(epoll ? IO_CHOICE_EPOLL : IO_CHOICE_URING, &f.pool, FL_ENTRIES, why,
                            sizeof(why));
    if (f.io == NULL) {
        log_error("floor: cannot start the %s engine: %s", io_name, why);
        goto out_pool;
    }
    log_notice("floor: %s", f.io->desc);
    if ((f.srv.k.send = sendrec_take(&f.sendrecs)) == NULL ||
        (f.lst.fd = fl_socket(listen_spec, true)) < 0)
        goto out_engine;
    if ((f.srv.k.fd = fl_socket(server_spec, false)) < 0) {
        close(f.lst.fd);
        goto out_engine;
    }

    struct sigaction sa = {.sa_handler = fl_on_signal}; /* no SA_RESTART: the wait must end */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (f.io->ops->accept(f.io, f.lst.fd, &f.lst) == 0)
        f.lst.pending++;
    fl_conn_rearm(&f, &f.srv.k);
    log_notice("floor: %s -> %s, %s engine", listen_spec, server_spec, f.io->ops->name);

    struct io_event ev[FL_BATCH];
    while (!fl_stop && !f.failed) {
        int n = f.io->ops->wait(f.io, ev, FL_BATCH, 1000);
        if (n < 0) {
            log_error("floor: wait failed: %s", strerror(-n));
            break;
        }
        for (int i = 0; i < n; i++)
            fl_dispatch(&f, &ev[i]);
        fl_flush(&f);
        if (f.nstarved > 0)
            fl_rearm_starved(&f);
    }
    rc = f.failed ? 1 : 0;

    /* close everything through the engine and collect the final events */
    fl_close(&f, &f.lst);
    fl_close(&f, &f.srv.k);
    for (struct fl_client *c = f.clients; c != NULL; c = c->next)
        fl_client_close(&f, c);
    for (uint64_t deadline = fl_now_ms() + 2000; fl_now_ms() < deadline;) {
        int n = f.io->ops->wait(f.io, ev, FL_BATCH, 50);
        if (n <= 0)
            break;
        for (int i = 0; i < n; i++)
            fl_dispatch(&f, &ev[i]);
    }
    while (f.clients != NULL) { /* whatever is left is released without the kernel */
        f.clients->k.pending = 0;
        f.clients->k.dirty = false;
        f.clients->inflight = 0;
        fl_client_maybe_free(&f, f.clients);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    log_notice("floor: %llu requests, %llu replies, %llu server sends (%.1f requests each), "
               "%llu client sends, %llu engine syscalls, %.3f CPU s (%.3f user)",
               (unsigned long long)f.requests, (unsigned long long)f.replies,
               (unsigned long long)f.server_sends,
               f.server_sends ? (double)f.requests / (double)f.server_sends : 0.0,
               (unsigned long long)f.client_sends, (unsigned long long)f.io->stats.syscalls,
               ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
                   (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
               ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6);
    free(f.srv.q);
    linebuf_free(&f.srv.line);
out_engine:
    if (f.srv.k.send != NULL) {
        sendrec_reset(f.srv.k.send, &f.pool);
        sendrec_give(&f.sendrecs, f.srv.k.send);
    }
    sendrec_cache_destroy(&f.sendrecs);
    f.io->ops->destroy(f.io);
out_pool:
    mbuf_pool_free(&f.pool);
    return rc;

out_usage:
    fputs(fl_usage, stderr);
    return 2;
}
