/* Logging: levels as nutcracker's -v (0..11), one write(2) per line, thread safe. */
#ifndef RP_LOG_H
#define RP_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level {
    LOG_EMERG = 0,
    LOG_ALERT,
    LOG_CRIT,
    LOG_ERR,
    LOG_WARN,
    LOG_NOTICE, /* nutcracker's default level */
    LOG_INFO,
    LOG_DEBUG,
    LOG_VERB,
    LOG_VVERB,
    LOG_VVVERB,
    LOG_PVERB
};

/* Sets the level and destination (path NULL: stderr). Returns 0 or -errno. */
int log_init(int level, const char *path);
/* Reopens the log file (SIGHUP-style rotation): the new file is dup2'd over the old descriptor,
 * so a thread writing at that moment writes into one file or the other, never a closed fd. */
void log_reopen(void);
int log_level(void);
/* SIGTTIN / SIGTTOU: one level up (more verbose) or down, within 0..11. Returns the new level. */
int log_level_up(void);
int log_level_down(void);

/* A rate limit for one kind of log line (a static per call site, or one per server): at most
 * one line per interval, and the next line says how many were held back. Thread safe. */
struct log_limit {
    uint64_t next_ns;    /* monotonic ns before which lines are held back */
    uint32_t suppressed; /* lines held back since the last one written */
    uint64_t last_ns;    /* monotonic ns of the last line written */
    uint32_t window_ms;  /* time between the last two lines written (log_allow sets it) */
};

/* "... 1,234 more in the last 10 s" into buf: held lines over window_ms. Returns buf. */
const char *log_held_text(char *buf, size_t len, uint32_t held, uint32_t window_ms);

/* True when a line may be written now; *held receives how many were held back before it. */
bool log_allow(struct log_limit *l, uint32_t interval_ms, uint32_t *held);

void log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs and aborts: an internal invariant was broken. */
void log_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define log_at(lvl, ...)                                                                           \
    do {                                                                                           \
        if ((lvl) <= log_level())                                                                  \
            log_write((lvl), __VA_ARGS__);                                                         \
    } while (0)
#define log_error(...)  log_at(LOG_ERR, __VA_ARGS__)
#define log_warn(...)   log_at(LOG_WARN, __VA_ARGS__)
#define log_notice(...) log_at(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)   log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...)  log_at(LOG_DEBUG, __VA_ARGS__)

/* log_at through a limit: " (... 1,234 more in the last 10 s)" is appended when lines were held
 * back since the last one written. */
#define log_limited(lim, interval_ms, lvl, fmt, ...)                                               \
    do {                                                                                           \
        uint32_t held_;                                                                            \
        if ((lvl) <= log_level() && log_allow((lim), (interval_ms), &held_)) {                     \
            if (held_ > 0) {                                                                       \
                char heldbuf_[64];                                                                 \
                log_write((lvl), fmt " (%s)", ##__VA_ARGS__,                                       \
                          log_held_text(heldbuf_, sizeof(heldbuf_), held_, (lim)->window_ms));     \
            } else                                                                                 \
                log_write((lvl), fmt, ##__VA_ARGS__);                                              \
        }                                                                                          \
    } while (0)

#endif
