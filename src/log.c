/* Logging to stderr or a file, a timestamped line per call. */
#include "src/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Process-wide by nature (one log per process). The path is written before threads start; the
 * descriptor number never changes after log_init (reopen dup2s over it); the level changes on
 * signals, so it is an atomic. */
static int log_fd = STDERR_FILENO;
static _Atomic int log_lvl = LOG_NOTICE;
static char log_path[4096];

int log_init(int level, const char *path)
{
    atomic_store(&log_lvl, level);
    if (path == NULL || path[0] == '\0')
        return 0;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    snprintf(log_path, sizeof(log_path), "%s", path);
    log_fd = fd;
    return 0;
}

void log_reopen(void)
{
    if (log_path[0] == '\0')
        return;
    int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    if (dup3(fd, log_fd, O_CLOEXEC) < 0) {
        close(fd);
        return;
    }
    close(fd);
}

int log_level(void)
{
    return atomic_load_explicit(&log_lvl, memory_order_relaxed);
}

int log_level_up(void)
{
    int l = atomic_load(&log_lvl);
    if (l < LOG_PVERB)
        atomic_store(&log_lvl, ++l);
    return l;
}

int log_level_down(void)
{
    int l = atomic_load(&log_lvl);
    if (l > LOG_EMERG)
        atomic_store(&log_lvl, --l);
    return l;
}

const char *log_held_text(char *buf, size_t len, uint32_t held, uint32_t window_ms)
{
    /* "1,234": digits in groups of three, as an operator reads a count */
    char digits[16], grouped[24];
    int nd = snprintf(digits, sizeof(digits), "%u", held), g = 0;
    for (int i = 0; i < nd; i++) {
        if (i > 0 && (nd - i) % 3 == 0)
            grouped[g++] = ',';
        grouped[g++] = digits[i];
    }
    grouped[g] = '\0';
    uint32_t secs = (window_ms + 999) / 1000;
    snprintf(buf, len, "... %s more in the last %u s", grouped, secs ? secs : 1);
    return buf;
}

bool log_allow(struct log_limit *l, uint32_t interval_ms, uint32_t *held)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
    uint64_t next = __atomic_load_n(&l->next_ns, __ATOMIC_RELAXED);
    if (now < next ||
        !__atomic_compare_exchange_n(&l->next_ns, &next, now + (uint64_t)interval_ms * 1000000ULL,
                                     false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        __atomic_add_fetch(&l->suppressed, 1, __ATOMIC_RELAXED);
        return false;
    }
    *held = __atomic_exchange_n(&l->suppressed, 0, __ATOMIC_RELAXED);
    uint64_t last = __atomic_exchange_n(&l->last_ns, now, __ATOMIC_RELAXED);
    l->window_ms = last != 0 ? (uint32_t)((now - last) / 1000000ULL) : 0;
    return true;
}

static void log_vwrite(const char *fmt, va_list ap)
{
    char buf[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(buf, sizeof(buf), "[%Y-%m-%d %H:%M:%S", &tm);
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, ".%03ld] ", (long)tv.tv_usec / 1000);
    int m = vsnprintf(buf + n, sizeof(buf) - n - 1, fmt, ap);
    if (m < 0)
        m = 0;
    n += (size_t)m < sizeof(buf) - n - 1 ? (size_t)m : sizeof(buf) - n - 2;
    buf[n++] = '\n';
    ssize_t w = write(log_fd, buf, n);
    (void)w;
}

void log_write(int level, const char *fmt, ...)
{
    (void)level;
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(fmt, ap);
    va_end(ap);
}

void log_panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(fmt, ap);
    va_end(ap);
    abort();
}
