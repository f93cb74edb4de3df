/* Listen addresses and server lines: twemproxy's splitting rules, plus listen host checks. */
#include "conf/conf_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_err.h"
#include "conf/conf_value.h"

#define KETAMA_COMPAT_PORT 11211 /* libmemcached leaves this port out of ring names */
#define HOSTNAME_MAX       253

static const char server_format[] =
    "expected \"host:port:weight [name]\" or \"/unix/path:weight [name]\"";

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static const char *last_of(const char *s, size_t len, char c)
{
    return len ? memrchr(s, c, len) : NULL;
}

static bool host_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

/* An IPv6 literal, with an optional "%scope" (an interface name or number). */
static bool ipv6_ok(const char *h, size_t n)
{
    char buf[INET6_ADDRSTRLEN];
    struct in6_addr a;
    const char *pct = memchr(h, '%', n);
    size_t alen = pct ? (size_t)(pct - h) : n;

    if (alen == 0 || alen >= sizeof(buf)) {
        return false;
    }
    if (pct != NULL) {
        size_t slen = n - alen - 1;

        if (slen == 0 || slen > 64) {
            return false;
        }
        for (size_t i = 0; i < slen; i++) {
            if (!host_char((unsigned char)pct[1 + i])) {
                return false;
            }
        }
    }
    memcpy(buf, h, alen);
    buf[alen] = '\0';
    return inet_pton(AF_INET6, buf, &a) == 1;
}

/* Checks a listen host as written; on success start and n select the host without IPv6
 * brackets. twemproxy resolves listen hosts when it loads the file; this layer does no I/O,
 * so it refuses what no resolver could accept: the rest is left to the bind. */
static const char *host_check(const char **start, size_t *n)
{
    const char *h = *start;
    size_t len = *n;

    if (len == 0) {
        return "the host is empty";
    }
    if (h[0] == '[') {
        if (len < 3 || h[len - 1] != ']' || !ipv6_ok(h + 1, len - 2)) {
            return "brackets must hold an IPv6 address";
        }
        *start = h + 1;
        *n = len - 2;
        return NULL;
    }
    if (memchr(h, ':', len) != NULL) {
        return ipv6_ok(h, len) ? NULL : "not an IP address or host name";
    }
    if (len > HOSTNAME_MAX) {
        return "host name longer than 253 characters";
    }
    for (size_t i = 0; i < len; i++) {
        if (!host_char((unsigned char)h[i])) {
            return "not an IP address or host name";
        }
    }
    return NULL;
}

static int parse_port(const char *p, size_t n, uint16_t *port)
{
    unsigned long long v;

    if (conf_value_uint(p, n, 65535, &v) != CONF_NUM_OK || v == 0) {
        return -1;
    }
    *port = (uint16_t)v;
    return 0;
}

void conf_addr_release(struct conf_addr *a)
{
    free(a->host);
    free(a->unix_path);
    memset(a, 0, sizeof(*a));
}

void conf_server_release(struct conf_server *cs)
{
    conf_addr_release(&cs->addr);
    free(cs->name);
    free(cs->ring_name);
    free(cs->pname);
    cs->name = cs->ring_name = cs->pname = NULL;
}

/* twemproxy reads the permission with strtol(perm, NULL, 8) and refuses only a range error
 * or a value above 0777, so "abc" or "0999" read as 0 (no chmod). We keep that. */
static int parse_perm(const char *p, size_t n, mode_t *perm)
{
    char *buf = dup_n(p, n); /* strtol wants a terminated string */
    long v;
    int e;

    if (buf == NULL) {
        return -1;
    }
    errno = 0;
    v = strtol(buf, NULL, 8);
    e = errno;
    free(buf);
    if (e != 0 || v < 0 || v > 0777) {
        return -1;
    }
    *perm = (mode_t)v;
    return 0;
}

int conf_listen_parse(const char *s, size_t len, struct conf_addr *a, char *why, size_t whylen)
{
    char q[CONF_QUOTE_MAX + 8], q2[CONF_QUOTE_MAX + 8];
    const char *colon, *host, *reason;
    size_t hlen;

    memset(a, 0, sizeof(*a));
    if (len == 0) {
        snprintf(why, whylen, "'listen' is empty");
        return -1;
    }
    conf_quote(q, sizeof(q), s, len);
    if (s[0] == '/') {
        const char *sp = last_of(s, len, ' ');
        size_t plen = sp ? (size_t)(sp - s) : len;

        if (sp != NULL && parse_perm(sp + 1, len - plen - 1, &a->perm) < 0) {
            snprintf(why, whylen,
                     "bad unix socket permissions '%s' in listen address '%s' "
                     "(octal, at most 0777)",
                     conf_quote(q2, sizeof(q2), sp + 1, len - plen - 1), q);
            return -1;
        }
        if (plen > CONF_UNIX_PATH_MAX) {
            snprintf(why, whylen,
                     "unix socket path in listen address '%s' is %zu bytes, "
                     "longer than %d",
                     q, plen, CONF_UNIX_PATH_MAX);
            return -1;
        }
        a->has_perm = a->perm != 0;
        a->unix_path = dup_n(s, plen);
        if (a->unix_path == NULL) {
            snprintf(why, whylen, "out of memory");
            return -1;
        }
        return 0;
    }
    colon = last_of(s, len, ':');
    if (colon == NULL) {
        snprintf(why, whylen, "bad listen address '%s': expected host:port or /unix/path", q);
        return -1;
    }
    if (parse_port(colon + 1, len - (size_t)(colon + 1 - s), &a->port) < 0) {
        snprintf(why, whylen, "bad port '%s' in listen address '%s' (must be 1..65535)",
                 conf_quote(q2, sizeof(q2), colon + 1, len - (size_t)(colon + 1 - s)), q);
        return -1;
    }
    host = s;
    hlen = (size_t)(colon - s);
    reason = host_check(&host, &hlen);
    if (reason != NULL) {
        snprintf(why, whylen, "bad host '%s' in listen address '%s': %s",
                 conf_quote(q2, sizeof(q2), s, (size_t)(colon - s)), q, reason);
        return -1;
    }
    a->host = dup_n(host, hlen);
    if (a->host == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    return 0;
}

int conf_server_parse(const char *s, size_t len, struct conf_server *cs, char *why, size_t whylen)
{
    char q[CONF_QUOTE_MAX + 8], q2[CONF_QUOTE_MAX + 8];
    const char *sp, *wcolon, *pcolon = NULL, *name = NULL;
    const char *host = NULL;
    size_t rlen, namelen = 0, hlen = 0, wlen;
    unsigned long long weight;
    bool is_unix = len > 0 && s[0] == '/';

    memset(cs, 0, sizeof(*cs));
    conf_quote(q, sizeof(q), s, len);

    /* from the end, as twemproxy: " name", then ":weight", then ":port" */
    sp = last_of(s, len, ' ');
    rlen = sp ? (size_t)(sp - s) : len;
    if (sp != NULL) {
        name = sp + 1;
        namelen = len - rlen - 1;
    }
    wcolon = last_of(s, rlen, ':');
    if (wcolon == NULL) {
        snprintf(why, whylen, "bad server '%s': %s", q, server_format);
        return -1;
    }
    if (is_unix) {
        if (memchr(s, ':', (size_t)(wcolon - s)) != NULL) {
            snprintf(why, whylen, "bad server '%s': a unix socket path cannot hold ':'; %s", q,
                     server_format);
            return -1;
        }
    } else {
        pcolon = last_of(s, (size_t)(wcolon - s), ':');
        if (pcolon == NULL) {
            snprintf(why, whylen, "bad server '%s': %s", q, server_format);
            return -1;
        }
    }

    wlen = rlen - (size_t)(wcolon + 1 - s);
    switch (conf_value_uint(wcolon + 1, wlen, 2147483647, &weight)) {
    case CONF_NUM_OK:
        break;
    case CONF_NUM_TOO_LARGE:
        snprintf(why, whylen, "server weight '%s' is too large in '%s' (at most 2147483647)",
                 conf_quote(q2, sizeof(q2), wcolon + 1, wlen), q);
        return -1;
    case CONF_NUM_NOT_A_NUMBER:
        if (memchr(wcolon + 1, ' ', wlen) != NULL) {
            /* "h:p:w my name": the name is only what follows the last space */
            snprintf(why, whylen, "bad server '%s': a server name cannot hold spaces", q);
            return -1;
        }
        snprintf(why, whylen, "bad server weight '%s' in '%s': %s",
                 conf_quote(q2, sizeof(q2), wcolon + 1, wlen), q, server_format);
        return -1;
    }
    if (weight == 0) {
        snprintf(why, whylen, "server weight must be > 0 in '%s'", q);
        return -1;
    }
    cs->weight = (uint32_t)weight;

    if (!is_unix) {
        size_t plen = (size_t)(wcolon - pcolon - 1);

        if (parse_port(pcolon + 1, plen, &cs->addr.port) < 0) {
            snprintf(why, whylen, "bad server port '%s' in '%s' (must be 1..65535)",
                     conf_quote(q2, sizeof(q2), pcolon + 1, plen), q);
            return -1;
        }
        host = s;
        hlen = (size_t)(pcolon - s);
        if (hlen == 0) {
            snprintf(why, whylen, "bad server '%s': the host is empty", q);
            return -1;
        }
        /* twemproxy resolves server hosts only when it connects, so it takes any text here;
         * so do we, but for taking the brackets off an IPv6 literal */
        if (host[0] == '[' && host_check(&host, &hlen) != NULL) {
            host = s;
            hlen = (size_t)(pcolon - s);
        }
    }
    if (name != NULL && namelen == 0) {
        snprintf(why, whylen, "empty server name after the space in '%s'", q);
        return -1;
    }

    cs->pname = dup_n(s, rlen);
    if (is_unix) {
        size_t plen = (size_t)(wcolon - s);

        cs->addr.unix_path = dup_n(s, plen);
        /* twemproxy's ring name for a unix socket is the path and the ':' that follows it */
        cs->ring_name = name ? dup_n(name, namelen) : dup_n(s, plen + 1);
    } else {
        cs->addr.host = dup_n(host, hlen);
        if (name != NULL) {
            cs->ring_name = dup_n(name, namelen);
        } else if (cs->addr.port == KETAMA_COMPAT_PORT) {
            cs->ring_name = dup_n(s, (size_t)(pcolon - s));
        } else {
            cs->ring_name = dup_n(s, (size_t)(wcolon - s));
        }
    }
    if (name != NULL) {
        cs->name = dup_n(name, namelen);
    }
    if (cs->pname == NULL || cs->ring_name == NULL || (name != NULL && cs->name == NULL) ||
        (is_unix ? cs->addr.unix_path == NULL : cs->addr.host == NULL)) {
        conf_server_release(cs);
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    return 0;
}

int conf_addr_cmp(const struct conf_addr *a, const struct conf_addr *b)
{
    int c;

    if ((a->unix_path != NULL) != (b->unix_path != NULL)) {
        return a->unix_path != NULL ? 1 : -1;
    }
    if (a->unix_path != NULL) {
        return strcmp(a->unix_path, b->unix_path);
    }
    c = strcmp(a->host, b->host);
    if (c != 0) {
        return c;
    }
    return (a->port > b->port) - (a->port < b->port);
}

bool conf_addr_equal(const struct conf_addr *a, const struct conf_addr *b)
{
    if ((a->unix_path == NULL) != (b->unix_path == NULL))
        return false;
    if (a->unix_path != NULL)
        return strcmp(a->unix_path, b->unix_path) == 0;
    return a->port == b->port && a->host != NULL && b->host != NULL &&
           strcmp(a->host, b->host) == 0;
}
