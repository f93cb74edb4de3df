/* Logging: levels as nutcracker's -v (0..11), one write(2) per line, thread safe. */
#ifndef RP_LOG_H
#define RP_LOG_H

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
/* Reopens the log file (SIGHUP-style rotation). */
void log_reopen(void);
int log_level(void);

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

#endif
