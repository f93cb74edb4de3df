/* The completion-style I/O interface between the proxy core and an engine (uring/ or the
 * epoll engine): submit accept / recv / send / connect / close, then collect completions.
 *
 * Contract shared by every engine:
 *   - Every submitted operation ends with exactly one final event (flags without IO_F_MORE).
 *     accept and recv are multishot: they may deliver many events first, each with IO_F_MORE.
 *   - recv picks an arena buffer itself; its event carries the buffer id (IO_F_BUF) with res
 *     bytes in it, and the core then holds that buffer (mbuf_received). res == 0 is EOF.
 *     -ENOBUFS as a final event means the arena ran dry: the core re-arms later.
 *   - At most one send per socket in flight (the core's rule): sends complete in order.
 *   - close cancels every pending operation of the fd (their final events still arrive,
 *     usually with -ECANCELED), closes it, and ends with its own IO_CLOSE event.
 *   - Owners are pointers aligned to 8 bytes; an owner must stay alive until the final events
 *     of all its operations have been delivered.
 *   - Functions return 0 or -errno (submission failed; no event will come). */
#ifndef RP_IO_H
#define RP_IO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "src/mbuf.h"

enum io_kind { IO_ACCEPT = 1, IO_RECV, IO_SEND, IO_CONNECT, IO_CLOSE, IO_KIND_MAX };

#define IO_F_MORE  0x1 /* multishot operation still armed */
#define IO_F_BUF   0x2 /* buf holds an arena buffer id */
#define IO_F_NOTIF 0x4 /* a zero-copy send's notification: the kernel let go of its bytes */

struct io_event {
    void *owner;
    int32_t res;
    uint32_t buf;
    uint8_t kind;
    uint8_t flags;
};

struct io_engine;

struct io_ops {
    const char *name;
    int (*accept)(struct io_engine *e, int lfd, void *owner);
    int (*recv)(struct io_engine *e, int fd, void *owner);
    /* msg (and the iovecs it points to) must stay untouched until the send's event. */
    int (*send)(struct io_engine *e, int fd, struct msghdr *msg, void *owner);
    /* Zero-copy sends; NULL when the engine has none. zc_enable prepares them once, before the
     * first: returns 1 when the arena is registered (fixed-buffer sends possible), 0 when
     * zero-copy sends will pin the pages at each send instead (why says why), -errno when
     * they are not available at all. */
    int (*zc_enable)(struct io_engine *e, char *why, size_t why_len);
    /* Like send, but the kernel sends from the pages themselves: the owner gets the result as
     * an IO_SEND event, with IO_F_MORE when a notification follows; the notification is the
     * final IO_SEND event, flagged IO_F_NOTIF, with res 1 when the kernel copied the bytes
     * after all (loopback does) and 0 when it did not. The bytes must not change until then.
     * fixed: every iovec lies in the arena (zc_enable returned 1). */
    int (*send_zc)(struct io_engine *e, int fd, struct msghdr *msg, bool fixed, void *owner);
    int (*connect)(struct io_engine *e, int fd, const struct sockaddr *sa, socklen_t len,
                   void *owner);
    int (*close)(struct io_engine *e, int fd, void *owner);
    /* Stops the multishot recv of owner on fd: its final event comes (usually -ECANCELED);
     * buffers already filled may still be delivered before it. */
    int (*recv_stop)(struct io_engine *e, int fd, void *owner);
    /* Submits what is queued, waits up to timeout_ms for at least one event, and returns
     * up to max events (0 on timeout) or -errno. */
    int (*wait)(struct io_engine *e, struct io_event *ev, unsigned max, int timeout_ms);
    /* Buffer id is back from the core (refcount reached zero): lend it out again. */
    void (*buf_return)(struct io_engine *e, uint32_t id);
    void (*destroy)(struct io_engine *e);
};

/* Counters every engine keeps. */
struct io_stats {
    uint64_t syscalls; /* io_uring_enter / epoll_wait / read / writev ... made */
    uint64_t events;   /* completions delivered */
    uint64_t enobufs;  /* receives that found the arena empty */
};

struct io_engine {
    const struct io_ops *ops;
    struct mbuf_pool *pool;
    struct io_stats stats;
    char desc[192]; /* what was set up (ring flags, buffers): logged once at start */
};

enum io_choice { IO_CHOICE_AUTO, IO_CHOICE_URING, IO_CHOICE_EPOLL };

/* Creates an engine over pool. For IO_CHOICE_AUTO, io_uring first and epoll when the ring
 * cannot be set up; why is written to reason (may be NULL). Returns NULL with errno set. */
struct io_engine *io_engine_create(enum io_choice choice, struct mbuf_pool *pool, unsigned entries,
                                   char *reason, size_t reason_len);

#endif
