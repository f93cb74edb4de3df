/* Client connections: requests framed and routed as their bytes arrive, split retrievals,
 * local commands, and replies sent back in request order. */
#ifndef RP_CLIENT_H
#define RP_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/mc_frame.h"
#include "src/io.h"
#include "src/linebuf.h"
#include "src/msg.h"
#include "src/sendrec.h"
#include "src/worker.h"

struct rd_conn;

struct client {
    struct owner o;
    struct pool_rt *pool;
    struct mc_framer fr;
    struct msg *cur;           /* request being received */
    struct msg *qhead, *qtail; /* requests in reply order */
    struct sendrec *send;      /* in-flight reply send, or NULL */
    struct linebuf line;
    struct client *next, *prev; /* worker's client list */
    bool eof;                   /* no more requests: close when every reply is out */
    bool recv_armed;
    bool starved;         /* recv ended with ENOBUFS: re-arm when buffers return */
    bool close_now;       /* protocol error: stop reading, close after flushing */
    bool cut;             /* a reply was cut off by its server: not one more byte may follow it;
                           * closed as soon as no send is in flight */
    bool paused;          /* too many requests outstanding: not reading until they drain */
    bool spoke;           /* its first bytes have come (a binary-protocol first byte closes) */
    uint32_t nqueued;     /* requests in qhead..qtail */
    uint64_t last_active; /* monotonic ns of its last received bytes or completed reply send */
    uint64_t rsp_queued;  /* reply bytes from servers for requests still on its queue */
    uint32_t keys_queued; /* keys of the retrievals on its queue (each may bring a value, and
                           * a split one holds per-key state) */
    uint64_t rsp_avg;     /* a running mean of its reply sizes (0 until one has been sent) */
    uint32_t window;      /* client_window() for this rsp_avg, kept so that the backlog test
                           * (once per reply piece) does not divide */
    struct held *held;    /* received bytes not parsed yet (a backlog stopped the parse), in
                           * order; each holds a reference on its buffer */
    struct held *held_tail;
    struct rd_conn *rd;    /* a redis pool's client: its protocol state (NULL: memcached) */
    bool retiring;         /* the drain or its pool's removal asked it to go: it goes once what
                            * it had sent by then is read and answered */
    uint32_t retire_left;  /* retiring: bytes that were in its socket then, still to be read */
    bool rx_eof;           /* the client's EOF came while bytes were held: acted on once they
                            * are parsed */
    uint64_t probed;       /* monotonic ns of its last clients_probe_quiet poll */
    bool fin;              /* the client's own EOF came: nothing more can arrive from it */
    bool detached;         /* its requests are let go and it is no longer counted as connected */
    bool lingering;        /* closed by the proxy, its output not yet delivered (client_linger) */
    uint32_t linger_outq;  /* lingering: the least of its unacknowledged bytes seen so far */
    uint64_t linger_since; /* lingering: monotonic ns it began */
    uint64_t linger_moved; /* lingering: monotonic ns its unacknowledged bytes last went down */
};

/* Bytes of one receive buffer that wait to be parsed. */
struct held {
    struct held *next;
    uint32_t buf, off, len;
};

/* A client may have this many requests outstanding; past it, parsing stops until half are
 * answered (a client that pipelines without reading cannot make the proxy hold unbounded
 * state). The window is smaller for a client whose replies are big (client_window): all of
 * its requests on a server connection are replies every other client behind them waits for. */
#define CLIENT_MAX_QUEUE 1024
/* ... and at least this many (and this many before a first reply tells how big they are). */
#define CLIENT_MIN_QUEUE   16
#define CLIENT_FIRST_QUEUE 16
/* ... or keys of retrievals outstanding past this many (the same rule). */
#define CLIENT_MAX_KEYS 32768

/* A new client on fd, accepted by pool's listener: its receive is armed. */
void client_accept(struct worker *w, struct pool_rt *pool, int fd);
void client_event(struct worker *w, struct client *c, const struct io_event *ev);
void client_flush(struct worker *w, struct client *c);
void client_rearm(struct worker *w, struct client *c);
/* Its pool is going (a reload removed it) or the process is draining: what c had sent by then
 * (bytes in its socket, bytes held) is still read and answered; after that, a request still half
 * received is dropped, nothing more is read, and c closes once its replies are out. */
void client_retire(struct worker *w, struct client *c);
/* Detaches the client's requests (their replies will be dropped) and closes it. */
void client_close(struct worker *w, struct client *c);
void client_free(struct worker *w, struct client *c);
/* Stops reading from c when it has too much outstanding (CLIENT_MAX_QUEUE requests or
 * CLIENT_MAX_KEYS retrieval keys, or more than
 * its pool's client_reply_limit bytes of replies waiting to be sent): a client that pipelines
 * without reading cannot make the proxy hold unbounded state. Reading resumes at half. */
void client_check_backlog(struct worker *w, struct client *c);
/* Closes the clients of pools with client_idle_timeout that have had nothing outstanding (at
 * most half a request of their own) and sent nothing for that long. */
void clients_idle_sweep(struct worker *w);
/* Under arena pressure: copies c's held bytes (client_parse stopped by a backlog) into spill
 * space, so that their receive buffers go back. Returns how many moved. */
uint32_t client_evacuate_held(struct worker *w, struct client *c);
/* Bytes held for c: its requests and replies not yet sent, fragments included (an estimate for
 * choosing whom to close when memory runs out; slices in flight are counted too). */
uint64_t client_waiting_bytes(const struct client *c);
/* A client whose peer is gone but whose receive never said so would keep its descriptor for
 * ever: a multishot recv can miss a reset that races with the last bytes (seen on Linux 6.x,
 * rarely, under load). Once a second, each client quiet for CLIENT_PROBE_NS with a receive
 * armed is asked about with one poll(2); a hang-up or an error restarts its receive, which
 * then reports it. */
void clients_probe_quiet(struct worker *w);
#define CLIENT_PROBE_NS (5ULL * 1000000000ULL)
/* A client the proxy closes on its own (a request it cannot frame, a reply cut off by its
 * server, a drain) may still be sending, and a socket closed with unread input resets the
 * connection: the kernel then drops whatever was still queued for the client, replies that
 * were complete included. Such a client lingers instead: its side is shut down (the FIN follows
 * the last byte), what it sends is read and dropped, and it is closed once the kernel has
 * nothing unacknowledged for it, the client closes, CLIENT_LINGER_STALL_NS pass without its
 * queue going down, or CLIENT_LINGER_MAX_NS pass in all. Checked each tick. */
void clients_linger_sweep(struct worker *w);
#define CLIENT_LINGER_STALL_NS (2ULL * 1000000000ULL)
#define CLIENT_LINGER_MAX_NS   (30ULL * 1000000000ULL)
/* No new request of c is parsed while this holds (its window, keys or reply bytes are full). */
bool client_backlog_full(const struct client *c);
/* A new request at the end of c's queue (its reply order); NULL when memory ran out. */
struct msg *client_new_msg(struct worker *w, struct client *c);
/* A new fragment of split request p, queued on p's list and counted as pending; NULL when
 * memory ran out. Its state is QUEUED: server_enqueue it right after. */
struct msg *msg_frag_new(struct worker *w, struct msg *p);
/* Frees the fragments of split request p before any of them was queued (a split that ran out
 * of memory halfway). */
void msg_drop_frags(struct worker *w, struct msg *p);
/* The reply line for a request that failed for e (redis: "-ERR ...", else "SERVER_ERROR ..."),
 * static, with *len its length. */
const char *msg_err_line(enum msg_err e, bool redis, uint32_t *len);
/* Makes m's reply the single line text (static, len bytes), dropping what it had. */
void msg_set_reply(struct worker *w, struct msg *m, const char *text, uint32_t len);
/* The server side is done with m (reply complete or failed): its reply goes to its client,
 * or, noreply or client gone, nowhere. */
void msg_server_done(struct worker *w, struct msg *m);
/* A server's reply of len bytes for c (NULL: none) is complete: it sets c's window. */
void client_note_reply(struct client *c, uint64_t len);
/* Where m's key (key_off / key_len in its request bytes, base64 when key_b64) goes in pool;
 * old (or NULL) receives where it went before, while a warm-up window lasts (pool_route_prev,
 * UINT32_MAX otherwise). */
uint32_t msg_route_in(struct worker *w, struct pool_rt *pool, const struct msg *m, uint32_t *old);

#endif
