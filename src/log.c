/* Logging to stderr or a file, a timestamped line per call. */
#include "src/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Process-wide by nature (one log per process); written before threads start. */
static int log_fd = STDERR_FILENO;
static int log_lvl = LOG_NOTICE;
static char log_path[4096];

int log_init(int level, const char *path)
{
    log_lvl = level;
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
    int old = log_fd;
    log_fd = fd;
    close(old);
}

int log_level(void)
{
    return log_lvl;
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
