/* conf/: nutcracker.yml loading, defaults, every error message and position, and malformed
 * input (truncations, byte flips, deep nesting, huge numbers) that must never crash or leak. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"

#define NAME "t.yml"

static char errbuf[1024];

/* Loads text that must be valid; the caller frees. */
static struct conf *load_ok(const char *text)
{
    struct conf *c = (struct conf *)0x1;
    int rc = conf_load_string(text, strlen(text), NAME, &c, errbuf, sizeof(errbuf));

    if (rc != 0) {
        print_error("unexpected error: %s\n", errbuf);
    }
    assert_int_equal(rc, 0);
    assert_non_null(c);
    assert_string_equal(errbuf, "");
    return c;
}

/* Loads text that must fail at line:col with a message containing what. */
static void expect_err_named(const char *name, const char *text, int line, int col,
                             const char *what)
{
    struct conf *c = (struct conf *)0x1;
    char prefix[128];
    int rc = conf_load_string(text, strlen(text), name, &c, errbuf, sizeof(errbuf));

    if (rc == 0) {
        print_error("expected an error containing \"%s\", got success\n", what);
        conf_free(c);
        fail();
    }
    assert_int_equal(rc, -1);
    assert_null(c);
    snprintf(prefix, sizeof(prefix), "%s:%d:%d: ", name, line, col);
    if (strncmp(errbuf, prefix, strlen(prefix)) != 0 || strstr(errbuf, what) == NULL) {
        print_error("expected \"%s...%s\"\n     got \"%s\"\n", prefix, what, errbuf);
        fail();
    }
    assert_null(strchr(errbuf, '\n'));
}

static void expect_err(const char *text, int line, int col, const char *what)
{
    expect_err_named(NAME, text, line, col, what);
}

/* ---- valid configurations ---- */

static const char full_yml[] = "# every key\n"                      /* 1 */
                               "ringproxy:\n"                       /* 2 */
                               "  workers: 8\n"                     /* 3 */
                               "  io: epoll\n"                      /* 4 */
                               "  buffer_size: 32768\n"             /* 5 */
                               "  buffers: 2048\n"                  /* 6 */
                               "  max_request_line: 131072\n"       /* 7 */
                               "\n"                                 /* 8 */
                               "alpha:\n"                           /* 9 */
                               "  listen: 127.0.0.1:22121\n"        /* 10 */
                               "  hash: md5\n"                      /* 11 */
                               "  hash_tag: \"{}\"\n"               /* 12 */
                               "  distribution: modula\n"           /* 13 */
                               "  timeout: 400\n"                   /* 14 */
                               "  backlog: 1024\n"                  /* 15 */
                               "  preconnect: true\n"               /* 16 */
                               "  redis: true\n"                    /* 17 */
                               "  redis_auth: s3cret\n"             /* 18 */
                               "  redis_db: 3\n"                    /* 19 */
                               "  server_connections: 4\n"          /* 20 */
                               "  auto_eject_hosts: true\n"         /* 21 */
                               "  server_retry_timeout: 2000\n"     /* 22 */
                               "  server_failure_limit: 5\n"        /* 23 */
                               "  client_connections: 100\n"        /* 24 */
                               "  tcpkeepalive: true\n"             /* 25 */
                               "  reuseport: true\n"                /* 26 */
                               "  max_key_length: 1024\n"           /* 27 */
                               "  max_value_size: 2097152\n"        /* 28 */
                               "  servers:\n"                       /* 29 */
                               "   - 10.0.0.2:6379:2 beta\n"        /* 30 */
                               "   - 10.0.0.1:6379:1 alpha\n"       /* 31 */
                               "   - /var/run/redis.sock:3\n"       /* 32 */
                               "\n"                                 /* 33 */
                               "beta:\n"                            /* 34 */
                               "  listen: /tmp/rp-beta.sock 0660\n" /* 35 */
                               "  servers:\n"                       /* 36 */
                               "   - 127.0.0.1:11211:1\n";          /* 37 */

static void test_full_config(void **state)
{
    struct conf *c = load_ok(full_yml);
    const struct conf_pool *a, *b;
    const struct conf_server *s;

    (void)state;
    assert_string_equal(c->path, NAME);
    assert_int_equal(c->global.workers, 8);
    assert_int_equal(c->global.io, CONF_IO_EPOLL);
    assert_int_equal(c->global.buffer_size, 32768);
    assert_int_equal(c->global.buffers, 2048);
    assert_int_equal(c->global.max_request_line, 131072);
    assert_int_equal(c->npools, 2);

    a = &c->pools[0];
    assert_ptr_equal(conf_pool_find(c, "alpha"), a);
    assert_string_equal(a->name, "alpha");
    assert_int_equal(a->line, 9);
    assert_int_equal(a->col, 1);
    assert_string_equal(a->listen.host, "127.0.0.1");
    assert_int_equal(a->listen.port, 22121);
    assert_null(a->listen.unix_path);
    assert_false(a->listen.has_perm);
    assert_int_equal(a->listen_line, 10);
    assert_int_equal(a->listen_col, 11);
    assert_int_equal(a->hash, HASH_MD5);
    assert_true(a->has_hash_tag);
    assert_memory_equal(a->hash_tag, "{}", 2);
    assert_int_equal(a->distribution, DIST_MODULA);
    assert_int_equal(a->timeout_ms, 400);
    assert_int_equal(a->backlog, 1024);
    assert_true(a->preconnect);
    assert_true(a->redis);
    assert_string_equal(a->redis_auth, "s3cret");
    assert_int_equal(a->redis_db, 3);
    assert_int_equal(a->server_connections, 4);
    assert_true(a->auto_eject_hosts);
    assert_int_equal(a->server_retry_timeout_ms, 2000);
    assert_int_equal(a->server_failure_limit, 5);
    assert_int_equal(a->client_connections, 100);
    assert_true(a->tcpkeepalive);
    assert_true(a->reuseport);
    assert_int_equal(a->max_key_length, 1024);
    assert_int_equal(a->max_value_size, 2097152);

    /* twemproxy's order: shorter names first: "beta", "alpha", "/var/run/redis.sock:" */
    assert_int_equal(a->nservers, 3);
    s = &a->servers[0];
    assert_string_equal(s->ring_name, "beta");
    assert_string_equal(s->name, "beta");
    assert_string_equal(s->pname, "10.0.0.2:6379:2");
    assert_string_equal(s->addr.host, "10.0.0.2");
    assert_int_equal(s->addr.port, 6379);
    assert_null(s->addr.unix_path);
    assert_int_equal(s->weight, 2);
    assert_int_equal(s->line, 30);
    assert_int_equal(s->col, 6);
    s = &a->servers[1];
    assert_string_equal(s->ring_name, "alpha");
    assert_string_equal(s->pname, "10.0.0.1:6379:1");
    assert_int_equal(s->weight, 1);
    assert_int_equal(s->line, 31);
    s = &a->servers[2];
    assert_string_equal(s->ring_name, "/var/run/redis.sock:");
    assert_null(s->name);
    assert_string_equal(s->pname, "/var/run/redis.sock:3");
    assert_null(s->addr.host);
    assert_string_equal(s->addr.unix_path, "/var/run/redis.sock");
    assert_int_equal(s->addr.port, 0);
    assert_int_equal(s->weight, 3);
    assert_int_equal(s->line, 32);

    b = conf_pool_find(c, "beta");
    assert_ptr_equal(b, &c->pools[1]);
    assert_int_equal(b->line, 34);
    assert_null(b->listen.host);
    assert_string_equal(b->listen.unix_path, "/tmp/rp-beta.sock");
    assert_true(b->listen.has_perm);
    assert_int_equal(b->listen.perm, 0660);
    assert_int_equal(b->nservers, 1);
    assert_string_equal(b->servers[0].ring_name, "127.0.0.1");
    assert_null(conf_pool_find(c, "ringproxy"));
    assert_null(conf_pool_find(c, "gamma"));
    conf_free(c);
}

static void test_defaults(void **state)
{
    struct conf *c = load_ok("p:\n  listen: 0.0.0.0:1\n  servers:\n   - h:2:1\n"
                             "r:\n  redis: true\n  listen: 0.0.0.0:2\n  servers:\n   - h:3:1\n");
    const struct conf_pool *p = &c->pools[0];

    (void)state;
    /* twemproxy 0.5.0's defaults */
    assert_int_equal(p->hash, HASH_FNV1A_64);
    assert_false(p->has_hash_tag);
    assert_int_equal(p->hash_tag[0], 0);
    assert_int_equal(p->hash_tag[1], 0);
    assert_int_equal(p->distribution, DIST_KETAMA);
    assert_int_equal(p->timeout_ms, -1);
    assert_int_equal(p->backlog, 512);
    assert_false(p->preconnect);
    assert_false(p->redis);
    assert_null(p->redis_auth);
    assert_int_equal(p->redis_db, 0);
    assert_int_equal(p->server_connections, 1);
    assert_false(p->auto_eject_hosts);
    assert_int_equal(p->server_retry_timeout_ms, 30000);
    assert_int_equal(p->server_failure_limit, 2);
    assert_int_equal(p->client_connections, 0);
    assert_false(p->tcpkeepalive);
    assert_false(p->reuseport);
    /* ringproxy's */
    assert_int_equal(p->max_key_length, 250);
    assert_int_equal(p->max_value_size, 1048576);
    assert_int_equal(c->pools[1].max_key_length, 65536);
    assert_int_equal(c->global.workers, 0);
    assert_int_equal(c->global.io, CONF_IO_AUTO);
    assert_int_equal(c->global.buffer_size, 16384);
    assert_int_equal(c->global.buffers, 1024);
    assert_int_equal(c->global.max_request_line, 65536);
    assert_int_equal(c->global.max_spill_mb, 256);
    assert_string_equal(conf_io_name(CONF_IO_AUTO), "auto");
    assert_string_equal(conf_io_name(CONF_IO_URING), "uring");
    assert_string_equal(conf_io_name(CONF_IO_EPOLL), "epoll");
    conf_free(c);
}

static void test_bounds_accepted(void **state)
{
    struct conf *c = load_ok("p:\n  listen: h:65535\n  timeout: 0\n  backlog: 0\n"
                             "  server_connections: 2147483647\n  server_failure_limit: 0\n"
                             "  server_retry_timeout: 0\n  redis_db: 2147483647\n"
                             "  max_key_length: 1\n  max_value_size: 1073741824\n"
                             "  servers:\n   - h:1:2147483647\n"
                             "ringproxy:\n  workers: 256\n  buffer_size: 1048576\n"
                             "  buffers: 65536\n  max_request_line: 1024\n  io: uring\n"
                             "  max_spill_mb: 1048576\n");
    const struct conf_pool *p = &c->pools[0];

    (void)state;
    assert_int_equal(p->listen.port, 65535);
    assert_int_equal(p->timeout_ms, 0);
    assert_int_equal(p->backlog, 0);
    assert_int_equal(p->server_connections, 2147483647);
    assert_int_equal(p->redis_db, 2147483647);
    assert_int_equal(p->max_key_length, 1);
    assert_int_equal(p->max_value_size, 1073741824);
    assert_int_equal(p->servers[0].weight, 2147483647);
    assert_int_equal(p->servers[0].addr.port, 1);
    assert_int_equal(c->global.workers, 256);
    assert_int_equal(c->global.buffer_size, 1048576);
    assert_int_equal(c->global.buffers, 65536);
    assert_int_equal(c->global.max_request_line, 1024);
    assert_int_equal(c->global.io, CONF_IO_URING);
    assert_int_equal(c->global.max_spill_mb, 1048576);
    conf_free(c);

    /* twemproxy counts a hash tag in bytes: one two-byte UTF-8 character is a tag */
    c = load_ok("p:\n  listen: h:1\n  hash_tag: \"\xc2\xa7\"\n  servers:\n   - h:2:1\n");
    assert_memory_equal(c->pools[0].hash_tag, "\xc2\xa7", 2);
    conf_free(c);

    /* numbers as twemproxy reads them: leading zeros, quoted scalars */
    c = load_ok("p:\n  listen: '127.0.0.1:022121'\n  timeout: \"007\"\n  redis: \"false\"\n"
                "  servers:\n   - h:011211:01\n");
    assert_int_equal(c->pools[0].listen.port, 22121);
    assert_int_equal(c->pools[0].timeout_ms, 7);
    /* the port reads as 11211, so the ring name leaves it out (twemproxy compares numbers) */
    assert_string_equal(c->pools[0].servers[0].ring_name, "h");
    assert_int_equal(c->pools[0].servers[0].weight, 1);
    conf_free(c);
}

static void test_examples(void **state)
{
    struct conf *c = NULL;
    const struct conf_pool *a;

    (void)state;
    if (conf_load_file("conf/example/nutcracker.yml", &c, errbuf, sizeof(errbuf)) != 0) {
        print_error("%s\n", errbuf);
        fail();
    }
    assert_int_equal(c->npools, 1);
    a = conf_pool_find(c, "alpha");
    assert_non_null(a);
    assert_string_equal(a->listen.host, "127.0.0.1");
    assert_int_equal(a->listen.port, 22121);
    assert_false(a->redis);
    assert_int_equal(a->distribution, DIST_KETAMA);
    assert_int_equal(a->hash, HASH_FNV1A_64);
    assert_memory_equal(a->hash_tag, "{}", 2);
    assert_int_equal(a->timeout_ms, 400);
    assert_true(a->auto_eject_hosts);
    assert_int_equal(a->server_retry_timeout_ms, 2000);
    assert_int_equal(a->server_failure_limit, 1);
    assert_int_equal(a->nservers, 3);
    for (uint32_t i = 0; i < 3; i++) {
        assert_string_equal(a->servers[i].addr.host, "127.0.0.1");
        assert_int_equal(a->servers[i].addr.port, 11311 + i);
        assert_int_equal(a->servers[i].weight, 1);
    }
    assert_string_equal(c->path, "conf/example/nutcracker.yml");
    conf_free(c);

    if (conf_load_file("conf/example/ringproxy.yml", &c, errbuf, sizeof(errbuf)) != 0) {
        print_error("%s\n", errbuf);
        fail();
    }
    assert_int_equal(c->npools, 2);
    assert_int_equal(c->global.io, CONF_IO_AUTO);
    assert_non_null(conf_pool_find(c, "beta"));
    assert_true(conf_pool_find(c, "beta")->listen.has_perm);
    conf_free(c);
}

/* The example shipped with the nutcracker package, when installed. */
static void test_nutcracker_package_example(void **state)
{
    const char *path = "/usr/share/doc/nutcracker/examples/nutcracker.yml";
    struct conf *c = NULL;

    (void)state;
    if (access(path, R_OK) != 0) {
        skip();
    }
    if (conf_load_file(path, &c, errbuf, sizeof(errbuf)) != 0) {
        print_error("%s\n", errbuf);
        fail();
    }
    assert_true(c->npools >= 1);
    conf_free(c);
}

static void test_unix_sockets(void **state)
{
    struct conf *c;
    const struct conf_pool *p;

    (void)state;
    c = load_ok("a:\n  listen: /tmp/a.sock\n  servers:\n   - /tmp/m.sock:1\n"
                "b:\n  listen: /tmp/b.sock 0666\n  servers:\n   - /tmp/m.sock:2 named\n"
                "c:\n  listen: /tmp/c.sock 600\n  servers:\n   - /tmp/m.sock:1\n"
                /* twemproxy reads the permission with strtol(.., 8): text reads as 0, no chmod */
                "d:\n  listen: /tmp/d.sock abc\n  servers:\n   - /tmp/m.sock:1\n"
                /* ':' is no separator for a unix listen address: the path holds it */
                "e:\n  listen: /tmp/e.sock:0666\n  servers:\n   - /tmp/m.sock:1\n");
    p = conf_pool_find(c, "a");
    assert_string_equal(p->listen.unix_path, "/tmp/a.sock");
    assert_null(p->listen.host);
    assert_false(p->listen.has_perm);
    assert_int_equal(p->listen.perm, 0);
    /* twemproxy's ring name for a unix server: the path and the ':' after it */
    assert_string_equal(p->servers[0].ring_name, "/tmp/m.sock:");
    assert_string_equal(p->servers[0].addr.unix_path, "/tmp/m.sock");
    assert_string_equal(p->servers[0].pname, "/tmp/m.sock:1");
    p = conf_pool_find(c, "b");
    assert_true(p->listen.has_perm);
    assert_int_equal(p->listen.perm, 0666);
    assert_string_equal(p->listen.unix_path, "/tmp/b.sock");
    assert_string_equal(p->servers[0].ring_name, "named");
    assert_string_equal(p->servers[0].name, "named");
    assert_string_equal(p->servers[0].pname, "/tmp/m.sock:2");
    assert_int_equal(p->servers[0].weight, 2);
    p = conf_pool_find(c, "c");
    assert_int_equal(p->listen.perm, 0600);
    p = conf_pool_find(c, "d");
    assert_false(p->listen.has_perm);
    assert_string_equal(p->listen.unix_path, "/tmp/d.sock");
    p = conf_pool_find(c, "e");
    assert_string_equal(p->listen.unix_path, "/tmp/e.sock:0666");
    assert_false(p->listen.has_perm);
    conf_free(c);

    /* a server path longer than sun_path is taken as written, as twemproxy (it fails at
     * connect time); a listen path is not */
    c = load_ok(
        "a:\n  listen: h:1\n  servers:\n   - /tmp/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.sock:1\n");
    conf_free(c);
    expect_err(
        "a:\n  listen: /tmp/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.sock\n  servers:\n   - h:1:1\n",
        2, 11, "longer than 107");
    expect_err("a:\n  listen: /tmp/a.sock 1777\n  servers:\n   - h:1:1\n", 2, 11,
               "bad unix socket permissions '1777'");
    expect_err("a:\n  listen: /tmp/a.sock -1\n  servers:\n   - h:1:1\n", 2, 11,
               "bad unix socket permissions '-1'");
    expect_err("a:\n  listen: h:1\n  servers:\n   - /tmp/a:b.sock:1\n", 4, 6,
               "a unix socket path cannot hold ':'");
    expect_err("a:\n  listen: h:1\n  servers:\n   - /tmp/a.sock\n", 4, 6,
               "bad server '/tmp/a.sock': expected");
}

static void test_server_names_and_addresses(void **state)
{
    struct conf *c;
    const struct conf_pool *p;

    (void)state;
    c = load_ok("p:\n  listen: '[::1]:22121'\n  servers:\n"
                "   - 127.0.0.1:11211:1\n"           /* port 11211: ring name is the host */
                "   - 127.0.0.1:11212:10\n"          /* else host:port */
                "   - cache-3.example:11211:1 c:3\n" /* a name may hold ':' */
                "   - ::1:11213:1\n"                 /* bare IPv6, split at the last ':' */
                "   - '[::1]:11214:1'\n"             /* bracketed IPv6 */
                "   - host_x:1:1\n");
    p = &c->pools[0];
    assert_string_equal(p->listen.host, "::1");
    assert_int_equal(p->listen.port, 22121);
    assert_int_equal(p->nservers, 6);
    /* sorted by name length, then bytes: "c:3" "::1:11213" "127.0.0.1" "host_x:1"
     * "[::1]:11214" "127.0.0.1:11212" */
    assert_string_equal(p->servers[0].ring_name, "c:3");
    assert_string_equal(p->servers[0].pname, "cache-3.example:11211:1");
    assert_string_equal(p->servers[0].addr.host, "cache-3.example");
    assert_int_equal(p->servers[0].line, 6);
    assert_string_equal(p->servers[1].ring_name, "host_x:1");
    assert_string_equal(p->servers[2].ring_name, "127.0.0.1");
    assert_null(p->servers[2].name);
    assert_int_equal(p->servers[2].line, 4);
    assert_string_equal(p->servers[3].ring_name, "::1:11213");
    assert_string_equal(p->servers[3].addr.host, "::1");
    assert_int_equal(p->servers[3].addr.port, 11213);
    assert_string_equal(p->servers[4].ring_name, "[::1]:11214");
    assert_string_equal(p->servers[4].addr.host, "::1");
    assert_string_equal(p->servers[4].pname, "[::1]:11214:1");
    assert_string_equal(p->servers[5].ring_name, "127.0.0.1:11212");
    assert_int_equal(p->servers[5].weight, 10);
    assert_int_equal(p->servers[5].line, 5);
    assert_int_equal(p->servers[5].col, 6);
    conf_free(c);

    /* same address, different names: twemproxy checks names only */
    c = load_ok("p:\n  listen: h:1\n  servers:\n   - h:11211:1 x\n   - h:11211:1 y\n");
    assert_int_equal(c->pools[0].nservers, 2);
    conf_free(c);

    /* server hosts are resolved at connect time by twemproxy, so any text is taken */
    c = load_ok("p:\n  listen: h:1\n  servers:\n   - some*odd~name:2:1\n   - '[bad]:3:1'\n");
    assert_string_equal(c->pools[0].servers[0].addr.host, "[bad]");
    assert_string_equal(c->pools[0].servers[1].addr.host, "some*odd~name");
    conf_free(c);

    /* flow style, '---' and comments: YAML twemproxy refuses, harmless to accept */
    c = load_ok("---\n{p: {listen: 'h:1', servers: [h:2:1, 'h:3:1 n']}}  # flow\n...\n");
    assert_int_equal(c->pools[0].nservers, 2);
    conf_free(c);

    /* CRLF line ends */
    c = load_ok("p:\r\n  listen: h:1\r\n  servers:\r\n   - h:2:1\r\n");
    assert_string_equal(c->pools[0].servers[0].pname, "h:2:1");
    conf_free(c);
}

static void test_many_pools_and_servers(void **state)
{
    size_t cap = 4u << 20, len = 0;
    char *t = malloc(cap);
    struct conf *c;

    (void)state;
    assert_non_null(t);
    for (int p = 0; p < 200; p++) {
        len += (size_t)snprintf(t + len, cap - len, "pool%d:\n  listen: 127.0.0.1:%d\n  servers:\n",
                                p, 10000 + p);
        for (int s = 0; s < 50; s++) {
            len += (size_t)snprintf(t + len, cap - len, "   - 10.0.%d.%d:11211:%d\n", p, s, s + 1);
        }
    }
    c = load_ok(t);
    assert_int_equal(c->npools, 200);
    assert_string_equal(c->pools[199].name, "pool199");
    assert_int_equal(c->pools[199].nservers, 50);
    assert_non_null(conf_pool_find(c, "pool123"));
    conf_free(c);
    free(t);
}

/* ---- the `ringproxy:` section ---- */

static void test_ringproxy_section(void **state)
{
    struct conf *c;

    (void)state;
    /* with listen and servers it is a pool like any other */
    c = load_ok("ringproxy:\n  listen: h:1\n  servers:\n   - h:2:1\n");
    assert_int_equal(c->npools, 1);
    assert_non_null(conf_pool_find(c, "ringproxy"));
    assert_int_equal(c->global.buffer_size, 16384);
    conf_free(c);

    /* empty section: all defaults */
    c = load_ok("ringproxy:\np:\n  listen: h:1\n  servers:\n   - h:2:1\n");
    assert_int_equal(c->npools, 1);
    assert_int_equal(c->global.buffers, 1024);
    conf_free(c);

    c = load_ok("p:\n  listen: h:1\n  servers:\n   - h:2:1\nringproxy: {workers: 3}\n");
    assert_int_equal(c->global.workers, 3);
    assert_null(conf_pool_find(c, "ringproxy"));
    conf_free(c);

    /* a pool named ringproxy that lacks one of the two is still a pool, to be told so */
    expect_err("ringproxy:\n  listen: h:1\n  hash: md5\n", 1, 1,
               "pool 'ringproxy': missing 'servers'");
    expect_err("ringproxy:\n  hash: md5\n", 2, 3,
               "ringproxy section: unknown key 'hash': 'hash' is a pool key, and a pool named "
               "'ringproxy' needs 'listen' and 'servers'");
    expect_err("ringproxy:\n  workerz: 2\np:\n  listen: h:1\n  servers:\n   - h:2:1\n", 2, 3,
               "ringproxy section: unknown key 'workerz' (did you mean 'workers'?)");
    expect_err("ringproxy:\n  workers: 1\n", 1, 1, "no pools");
    expect_err("ringproxy:\n  workers: 1\nringproxy:\n  workers: 2\n", 3, 1,
               "duplicate top-level key 'ringproxy' (first at 1:1)");
    expect_err(
        "ringproxy:\n  workers: 1\n  workers: 2\np:\n  listen: h:1\n  servers:\n   - h:2:1\n", 3, 3,
        "ringproxy section: duplicate key 'workers' (first at 2:3)");
    expect_err("ringproxy: [1]\np:\n  listen: h:1\n  servers:\n   - h:2:1\n", 1, 12,
               "pool 'ringproxy': a pool must be a mapping");
    expect_err("p:\n  listen: h:1\n  workers: 4\n  servers:\n   - h:2:1\n", 3, 3,
               "pool 'p': unknown key 'workers': it belongs in the top-level 'ringproxy:' section");
}

static void test_global_errors(void **state)
{
    static const char pool[] = "p:\n  listen: h:1\n  servers:\n   - h:2:1\n";
    static const struct {
        const char *section;
        const char *what;
    } cases[] = {
        {"  workers: 257\n", "'workers' is out of range: 257 (must be 0..256)"},
        {"  workers: -1\n", "'workers' must be a whole number in 0..256, not '-1'"},
        {"  io: kqueue\n", "unknown io 'kqueue' (valid: uring, epoll, auto)"},
        {"  buffer_size: 4095\n", "'buffer_size' is out of range: 4095 (must be 4096..1048576)"},
        {"  buffer_size: 1048577\n", "'buffer_size' is out of range: 1048577"},
        {"  buffers: 15\n", "'buffers' is out of range: 15 (must be 16..65536)"},
        {"  buffers: 65537\n", "'buffers' is out of range: 65537"},
        {"  max_request_line: 1023\n", "'max_request_line' is out of range: 1023 (must be 1024.."},
        {"  max_request_line: 99999999999999999999999\n", "'max_request_line' is out of range"},
        {"  io: [uring]\n", "'io' must be a single value, not a sequence"},
        {"  io:\n", "'io' has no value"},
    };
    char text[512];
    struct conf *c;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text), "%sringproxy:\n%s", pool, cases[i].section);
        /* the section starts at line 5, its key at 6:3 */
        assert_int_equal(conf_load_string(text, strlen(text), NAME, &c, errbuf, sizeof(errbuf)),
                         -1);
        assert_null(c);
        if (strstr(errbuf, cases[i].what) == NULL || strncmp(errbuf, NAME ":6:", 6) != 0 ||
            strstr(errbuf, "ringproxy section: ") == NULL) {
            print_error("case %zu: expected \"%s\", got \"%s\"\n", i, cases[i].what, errbuf);
            fail();
        }
    }
}

/* ---- errors: message and position ---- */

struct err_case {
    const char *text;
    int line, col;
    const char *what;
};

static const struct err_case pool_errors[] = {
    /* servers */
    {"alpha:\n  listen: 127.0.0.1:22121\n  servers:\n  - 127.0.0.1:11211:0\n", 4, 5,
     "pool 'alpha': server weight must be > 0 in '127.0.0.1:11211:0'"},
    {"a:\n  listen: h:1\n  servers:\n   - h:1:-1\n", 4, 6, "bad server weight '-1' in 'h:1:-1'"},
    {"a:\n  listen: h:1\n  servers:\n   - h:1:x\n", 4, 6, "bad server weight 'x'"},
    {"a:\n  listen: h:1\n  servers:\n   - h:1:2147483648\n", 4, 6,
     "server weight '2147483648' is too large"},
    {"a:\n  listen: h:1\n  servers:\n   - h:11211\n", 4, 6,
     "bad server 'h:11211': expected \"host:port:weight [name]\" or \"/unix/path:weight [name]\""},
    {"a:\n  listen: h:1\n  servers:\n   - h\n", 4, 6, "bad server 'h': expected"},
    {"a:\n  listen: h:1\n  servers:\n   - h:0:1\n", 4, 6,
     "bad server port '0' in 'h:0:1' (must be 1..65535)"},
    {"a:\n  listen: h:1\n  servers:\n   - h:65536:1\n", 4, 6, "bad server port '65536'"},
    {"a:\n  listen: h:1\n  servers:\n   - h::1\n", 4, 6, "bad server port ''"},
    {"a:\n  listen: h:1\n  servers:\n   - :1:1\n", 4, 6, "bad server ':1:1': the host is empty"},
    {"a:\n  listen: h:1\n  servers:\n   - h:1:1 two names\n", 4, 6,
     "a server name cannot hold spaces"},
    {"a:\n  listen: h:1\n  servers:\n   - 'h:1:1 '\n", 4, 6, "empty server name"},
    {"a:\n  listen: h:1\n  servers:\n   - ''\n", 4, 6, "bad server ''"},
    {"a:\n  listen: h:1\n  servers:\n   -\n", 4, 5, "bad server ''"},
    {"a:\n  listen: h:1\n  servers:\n   - [h:1:1]\n", 4, 6,
     "a server must be a \"host:port:weight [name]\" string, not a sequence"},
    {"a:\n  listen: h:1\n  servers:\n   - \"h:1:1\\0\"\n", 4, 6, "a server holds a NUL byte"},
    {"a:\n  listen: h:1\n  servers:\n", 3, 3, "pool 'a': 'servers' is empty"},
    {"a:\n  listen: h:1\n  servers: []\n", 3, 12, "pool 'a': 'servers' is empty"},
    {"a:\n  listen: h:1\n  servers: h:1:1\n", 3, 12,
     "'servers' must be a sequence of \"host:port:weight [name]\" items, not a scalar"},
    {"a:\n  listen: h:1\n", 1, 1, "pool 'a': missing 'servers'"},
    /* duplicate servers, as twemproxy: same name, whatever the address */
    {"a:\n  listen: h:1\n  servers:\n   - 10.0.0.1:11211:1 x\n   - 10.0.0.2:11211:1 x\n", 5, 6,
     "pool 'a': duplicate server name 'x': '10.0.0.2:11211:1' here and '10.0.0.1:11211:1' at 4:6"},
    {"a:\n  listen: h:1\n  servers:\n   - h:11211:1\n   - h:5:1\n   - h:11211:2\n", 6, 6,
     "duplicate server name 'h': 'h:11211:2' here and 'h:11211:1' at 4:6"},
    {"a:\n  listen: h:1\n  servers:\n   - h:7:1\n   - h:7:1\n", 5, 6,
     "duplicate server name 'h:7'"},
    {"a:\n  listen: h:1\n  servers:\n   - h:11211:1\n   - g:7:1 h\n", 5, 6,
     "duplicate server name 'h'"},
    /* listen */
    {"a:\n  servers:\n   - h:1:1\n", 1, 1, "pool 'a': missing 'listen'"},
    {"a:\n  listen: 127.0.0.1\n  servers:\n   - h:1:1\n", 2, 11,
     "pool 'a': bad listen address '127.0.0.1': expected host:port or /unix/path"},
    {"a:\n  listen: 127.0.0.1:0\n  servers:\n   - h:1:1\n", 2, 11,
     "bad port '0' in listen address '127.0.0.1:0' (must be 1..65535)"},
    {"a:\n  listen: 127.0.0.1:70000\n  servers:\n   - h:1:1\n", 2, 11, "bad port '70000'"},
    {"a:\n  listen: 127.0.0.1:x\n  servers:\n   - h:1:1\n", 2, 11, "bad port 'x'"},
    {"a:\n  listen: :22121\n  servers:\n   - h:1:1\n", 2, 11,
     "bad host '' in listen address ':22121': the host is empty"},
    {"a:\n  listen: '127.0.0.1 :1'\n  servers:\n   - h:1:1\n", 2, 11,
     "bad host '127.0.0.1 ' in listen address '127.0.0.1 :1': not an IP address or host name"},
    {"a:\n  listen: '[::1:1'\n  servers:\n   - h:1:1\n", 2, 11,
     "bad host '[::1' in listen address '[::1:1': brackets must hold an IPv6 address"},
    {"a:\n  listen: 'h:x:1'\n  servers:\n   - h:1:1\n", 2, 11,
     "bad host 'h:x' in listen address 'h:x:1': not an IP address or host name"},
    {"a:\n  listen: 'h*:1'\n  servers:\n   - h:1:1\n", 2, 11, "not an IP address or host name"},
    {"a:\n  listen: ''\n  servers:\n   - h:1:1\n", 2, 11, "'listen' is empty"},
    {"a:\n  listen:\n  servers:\n   - h:1:1\n", 2, 3, "pool 'a': 'listen' has no value"},
    {"a:\n  listen: [h:1]\n  servers:\n   - h:1:1\n", 2, 11,
     "'listen' must be a single value, not a sequence"},
    {"a:\n  listen: h:1\n  servers:\n   - h:1:1\nb:\n  listen: h:1\n  servers:\n   - h:1:1\n", 6,
     11, "pool 'b': listens on the same address as pool 'a' at 2:11"},
    {"a:\n  listen: /s 0600\n  servers:\n   - h:1:1\nb:\n  listen: /s\n  servers:\n   - h:1:1\n", 6,
     11, "pool 'b': listens on the same address as pool 'a'"},
    {"a:\n  listen: '[::1]:5'\n  servers:\n   - h:1:1\nb:\n  listen: ::1:5\n  servers:\n   - "
     "h:1:1\n",
     6, 11, "listens on the same address"},
    /* keys */
    {"a:\n  listen: h:1\n  timout: 5\n  servers:\n   - h:1:1\n", 3, 3,
     "pool 'a': unknown key 'timout' (did you mean 'timeout'?)"},
    {"a:\n  listen: h:1\n  colour: red\n  servers:\n   - h:1:1\n", 3, 3,
     "pool 'a': unknown key 'colour'"},
    {"a:\n  listen: h:1\n  timeout: 5\n  servers:\n   - h:1:1\n  timeout: 6\n", 6, 3,
     "pool 'a': duplicate key 'timeout' (first at 3:3)"},
    {"a:\n  listen: h:1\n  servers:\n   - h:1:1\n  servers:\n   - h:2:1\n", 5, 3,
     "duplicate key 'servers' (first at 3:3)"},
    {"a:\n  listen: h:1\n  [x]: 1\n  servers:\n   - h:1:1\n", 3, 3,
     "keys must be plain names, not a sequence"},
    /* numbers */
    {"a:\n  listen: h:1\n  timeout: 2147483648\n  servers:\n   - h:1:1\n", 3, 12,
     "pool 'a': 'timeout' is out of range: 2147483648 (must be 0..2147483647)"},
    {"a:\n  listen: h:1\n  timeout: 99999999999999999999999999999\n  servers:\n   - h:1:1\n", 3, 12,
     "'timeout' is out of range"},
    {"a:\n  listen: h:1\n  timeout: -1\n  servers:\n   - h:1:1\n", 3, 12,
     "'timeout' must be a whole number in 0..2147483647, not '-1'"},
    {"a:\n  listen: h:1\n  backlog: 1.5\n  servers:\n   - h:1:1\n", 3, 12,
     "'backlog' must be a whole number"},
    {"a:\n  listen: h:1\n  backlog: 0x10\n  servers:\n   - h:1:1\n", 3, 12, "not '0x10'"},
    {"a:\n  listen: h:1\n  backlog: ' 5'\n  servers:\n   - h:1:1\n", 3, 12, "not ' 5'"},
    {"a:\n  listen: h:1\n  redis_db: +1\n  servers:\n   - h:1:1\n", 3, 13, "not '+1'"},
    {"a:\n  listen: h:1\n  timeout:\n  servers:\n   - h:1:1\n", 3, 3, "'timeout' has no value"},
    {"a:\n  listen: h:1\n  timeout: {x: 1}\n  servers:\n   - h:1:1\n", 3, 12,
     "'timeout' must be a single value, not a mapping"},
    {"a:\n  listen: h:1\n  server_connections: 0\n  servers:\n   - h:1:1\n", 3, 23,
     "'server_connections' is out of range: 0 (must be 1..2147483647)"},
    {"a:\n  listen: h:1\n  server_failure_limit: -2\n  servers:\n   - h:1:1\n", 3, 25,
     "'server_failure_limit' must be a whole number"},
    {"a:\n  listen: h:1\n  max_key_length: 251\n  servers:\n   - h:1:1\n", 3, 19,
     "'max_key_length' is out of range: 251 (memcached allows 1..250)"},
    {"a:\n  listen: h:1\n  max_key_length: 0\n  servers:\n   - h:1:1\n", 3, 19,
     "'max_key_length' is out of range: 0"},
    {"a:\n  listen: h:1\n  redis: true\n  max_key_length: 1048577\n  servers:\n   - h:1:1\n", 4, 19,
     "'max_key_length' is out of range: 1048577 (must be 1..1048576)"},
    {"a:\n  listen: h:1\n  max_value_size: 0\n  servers:\n   - h:1:1\n", 3, 19,
     "'max_value_size' is out of range: 0 (must be 1..1073741824)"},
    {"a:\n  listen: h:1\n  max_value_size: 1073741825\n  servers:\n   - h:1:1\n", 3, 19,
     "'max_value_size' is out of range"},
    /* booleans: exactly true or false, as twemproxy */
    {"a:\n  listen: h:1\n  redis: yes\n  servers:\n   - h:1:1\n", 3, 10,
     "pool 'a': 'redis' must be true or false, not 'yes'"},
    {"a:\n  listen: h:1\n  preconnect: True\n  servers:\n   - h:1:1\n", 3, 15, "not 'True'"},
    {"a:\n  listen: h:1\n  auto_eject_hosts: 1\n  servers:\n   - h:1:1\n", 3, 21, "not '1'"},
    {"a:\n  listen: h:1\n  tcpkeepalive: on\n  servers:\n   - h:1:1\n", 3, 17, "not 'on'"},
    {"a:\n  listen: h:1\n  reuseport: ~\n  servers:\n   - h:1:1\n", 3, 14, "not '~'"},
    /* hash, distribution, hash_tag */
    {"a:\n  listen: h:1\n  hash: FNV1A_64\n  servers:\n   - h:1:1\n", 3, 9,
     "pool 'a': unknown hash 'FNV1A_64' (valid: one_at_a_time, md5, crc16, crc32, crc32a, "
     "fnv1_64, fnv1a_64, fnv1_32, fnv1a_32, hsieh, murmur, jenkins)"},
    {"a:\n  listen: h:1\n  distribution: vnode\n  servers:\n   - h:1:1\n", 3, 17,
     "pool 'a': unknown distribution 'vnode' (valid: ketama, modula, random)"},
    {"a:\n  listen: h:1\n  hash_tag: '{'\n  servers:\n   - h:1:1\n", 3, 13,
     "pool 'a': 'hash_tag' must be exactly 2 characters, like \"{}\", not '{' (1 byte)"},
    {"a:\n  listen: h:1\n  hash_tag: '{}}'\n  servers:\n   - h:1:1\n", 3, 13, "(3 bytes)"},
    {"a:\n  listen: h:1\n  hash_tag: ''\n  servers:\n   - h:1:1\n", 3, 13, "(0 bytes)"},
    /* redis_auth */
    {"a:\n  listen: h:1\n  redis_auth: pw\n  servers:\n   - h:1:1\n", 3, 15,
     "pool 'a': 'redis_auth' is only valid in a redis pool (add 'redis: true')"},
    {"a:\n  listen: h:1\n  redis: true\n  redis_auth: ''\n  servers:\n   - h:1:1\n", 4, 15,
     "'redis_auth' is empty"},
    {"a:\n  listen: h:1\n  redis: true\n  redis_auth: \"p\\0w\"\n  servers:\n   - h:1:1\n", 4, 15,
     "'redis_auth' holds a NUL byte"},
    /* pools */
    {"a:\n  listen: h:1\n  servers:\n   - h:1:1\na:\n  listen: h:2\n  servers:\n   - h:1:1\n", 5, 1,
     "duplicate pool 'a' (first at 1:1)"},
    {"a: b\n", 1, 4, "pool 'a': a pool must be a mapping of keys to values, not a scalar"},
    {"a:\n  - x\n", 2, 3, "pool 'a': a pool must be a mapping of keys to values, not a sequence"},
    {"a:\n", 1, 1, "pool 'a': the pool is empty: it needs 'listen' and 'servers'"},
    {"'': {listen: 'h:1', servers: [h:1:1]}\n", 1, 1, "empty pool name"},
    {"\"a\\0b\": {listen: 'h:1', servers: [h:1:1]}\n", 1, 1, "a pool name holds a NUL byte"},
    {"? [a]\n: {listen: 'h:1'}\n", 1, 3, "a pool name must be a plain name, not a sequence"},
    {"- a\n", 1, 1, "the top level must be a mapping of pool names to pools, not a sequence"},
    {"hello\n", 1, 1, "the top level must be a mapping of pool names to pools, not a scalar"},
    {"{}\n", 1, 1, "no pools"},
    /* names in messages are quoted safely */
    {"\"a\\tb\\x01'\": {listen: 'h:1'}\n", 1, 1, "pool 'a\\x09b\\x01\\'': missing 'servers'"},
};

static const struct err_case yaml_errors[] = {
    {"", 1, 1, "empty configuration: no pools"},
    {"# only a comment\n\n", 1, 1, "empty configuration: no pools"},
    {"---\n", 1, 1, "empty configuration"},
    {"a:\n  listen: [h:1\n", 3, 1,
     "YAML syntax error: did not find expected ',' or ']' "
     "(while parsing a flow sequence at 2:11)"},
    {"a:\n  listen: 'h:1\n", 3, 1,
     "YAML syntax error: found unexpected end of stream (while scanning a quoted scalar at 2:11)"},
    {"a:\n\tlisten: h:1\n", 2, 1, "YAML syntax error: found character that cannot start any token"},
    {"a:\n  listen: h:1\n servers:\n", 3, 2, "YAML syntax error:"},
    {"a: b: c\n", 1, 5, "YAML syntax error: mapping values are not allowed in this context"},
    {"a:\n  listen: h:1\n  servers:\n   - h:1:1\n---\nb: {}\n", 5, 1,
     "a second YAML document: the file must hold only one"},
    {"a: &x\n  listen: h:1\n", 1, 4, "YAML anchors (&x) are not supported"},
    {"a:\n  listen: h:1\n  servers: *x\n", 3, 12, "YAML aliases (*x) are not supported"},
    {"a:\n  listen: !!str h:1\n", 2, 11, "YAML tags (tag:yaml.org,2002:str) are not supported"},
    {"a:\n  listen: h:\xff\n", 2, 13, "YAML syntax error: invalid leading UTF-8 octet (byte 0xff)"},
    {"a:\n  listen: h\x01\n", 2, 12, "YAML syntax error: control characters are not allowed"},
};

static void run_cases(const struct err_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        expect_err(cases[i].text, cases[i].line, cases[i].col, cases[i].what);
    }
}

static void test_pool_errors(void **state)
{
    (void)state;
    run_cases(pool_errors, sizeof(pool_errors) / sizeof(pool_errors[0]));
    /* the message names the file as given */
    expect_err_named("nutcracker.yml",
                     "alpha:\n  listen: 127.0.0.1:22121\n  hash: fnv1a_64\n"
                     "  distribution: ketama\n  timeout: 400\n  servers:\n  - 127.0.0.1:11211:0\n",
                     7, 5, "pool 'alpha': server weight must be > 0");
}

#define RT_SRV  "  servers:\n   - 127.0.0.1:11211:1\n"
#define RT_HEAD "front:\n  listen: 127.0.0.1:1\n  route:\n"

static void test_routes(void **state)
{
    (void)state;
    struct conf *c = load_ok(RT_HEAD "    replicate: [east, west]\n    read: random\n"
                                     "    writes: one\n    read_fallback: false\n"
                                     "east:\n" RT_SRV "west:\n" RT_SRV);
    const struct conf_pool *f = conf_pool_find(c, "front");
    assert_non_null(f);
    assert_int_equal(f->route.kind, CONF_ROUTE_REPLICATE);
    assert_int_equal(f->route.ntargets, 2);
    assert_string_equal(f->route.targets[1], "west");
    assert_ptr_equal(&c->pools[f->route.target_idx[1]], conf_pool_find(c, "west"));
    assert_int_equal(f->route.read, CONF_READ_RANDOM);
    assert_int_equal(f->route.writes, CONF_WRITES_ONE);
    assert_false(f->route.read_fallback);
    assert_int_equal(f->nservers, 0);
    assert_false(conf_pool_find(c, "east")->has_listen);
    conf_free(c);
    c = load_ok(RT_HEAD "    failover: [b, a]\n    on_miss: true\na:\n" RT_SRV "b:\n" RT_SRV);
    f = conf_pool_find(c, "front");
    assert_int_equal(f->route.kind, CONF_ROUTE_FAILOVER);
    assert_true(f->route.on_miss);
    assert_true(f->route.read_fallback); /* the default */
    assert_ptr_equal(&c->pools[f->route.target_idx[0]], conf_pool_find(c, "b"));
    conf_free(c);
    /* redis pools route too, all of one protocol */
    c = load_ok(RT_HEAD "    replicate: [e, w]\n  redis: true\ne:\n  redis: true\n" RT_SRV
                        "w:\n  redis: true\n" RT_SRV);
    assert_true(conf_pool_find(c, "front")->redis);
    conf_free(c);

    static const struct err_case cases[] = {
        {RT_HEAD "    replicate: [east, nosuch]\neast:\n" RT_SRV, 4, 23,
         "the route names 'nosuch', which is not a pool in this file"},
        {RT_HEAD "    replicate: [east]\neast:\n" RT_SRV, 4, 16, "2 to 8 pools"},
        {RT_HEAD "    replicate: [e, e]\ne:\n" RT_SRV, 4, 20, "names pool 'e' twice"},
        {RT_HEAD "    failover: [e, w]\n    writes: one\ne:\n" RT_SRV "w:\n" RT_SRV, 5, 5,
         "'writes' is not an option of 'failover'"},
        {RT_HEAD "    on_miss: true\n    replicate: [e, w]\ne:\n" RT_SRV "w:\n" RT_SRV, 4, 5,
         "'on_miss' is not an option of 'replicate'"},
        {RT_HEAD "    replicate: [e, w]\n    read: nearest\ne:\n" RT_SRV "w:\n" RT_SRV, 5, 11,
         "unknown route read 'nearest' (valid: first, random, local)"},
        {RT_HEAD "    replicate: [e, w]\n    retries: 3\ne:\n" RT_SRV "w:\n" RT_SRV, 5, 5,
         "unknown route key 'retries'"},
        {RT_HEAD "    replicate: [e, w]\n" RT_SRV "e:\n" RT_SRV "w:\n" RT_SRV, 5, 3,
         "a pool has 'servers' or a 'route', not both"},
        {"front:\n  route:\n    replicate: [e, w]\ne:\n" RT_SRV "w:\n" RT_SRV, 1, 1,
         "a pool with a 'route' needs 'listen'"},
        {RT_HEAD "    replicate: [e, front]\ne:\n" RT_SRV, 4, 20, "a pool with a route of its own"},
        {RT_HEAD "    replicate: [e, w]\ne:\n" RT_SRV "w:\n  redis: true\n" RT_SRV, 4, 20,
         "'w', which speaks redis"},
        {RT_HEAD "    replicate: [e, w]\ne:\n" RT_SRV "w:\n" RT_SRV "z:\n" RT_SRV, 11, 1,
         "pool 'z': missing 'listen'"},
        {RT_HEAD "    replicate: e\ne:\n" RT_SRV, 4, 16, "as a list"},
    };
    run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_yaml_errors(void **state)
{
    (void)state;
    run_cases(yaml_errors, sizeof(yaml_errors) / sizeof(yaml_errors[0]));
}

static void test_deep_nesting(void **state)
{
    size_t n = 100000;
    char *t = malloc(2 * n + 16);
    struct conf *c = (struct conf *)0x1;

    (void)state;
    assert_non_null(t);
    /* flow: [[[[...]]]] */
    memset(t, '[', n);
    memset(t + n, ']', n);
    t[2 * n] = '\0';
    assert_int_equal(conf_load_string(t, 2 * n, NAME, &c, errbuf, sizeof(errbuf)), -1);
    assert_null(c);
    assert_non_null(strstr(errbuf, "nested deeper than 32 levels"));
    /* flow mappings inside a pool */
    strcpy(t, "a: ");
    for (size_t i = 0; i < 5000; i++) {
        strcat(t + 3 + 3 * i, "{b:");
    }
    assert_int_equal(conf_load_string(t, strlen(t), NAME, &c, errbuf, sizeof(errbuf)), -1);
    assert_null(c);
    assert_non_null(strstr(errbuf, NAME ":1:"));
    /* block sequences: "- - - - ..." */
    for (size_t i = 0; i < n; i++) {
        t[2 * i] = '-';
        t[2 * i + 1] = ' ';
    }
    t[2 * n] = '\0';
    assert_int_equal(conf_load_string(t, 2 * n, NAME, &c, errbuf, sizeof(errbuf)), -1);
    assert_null(c);
    assert_non_null(strstr(errbuf, "nested deeper than 32 levels"));
    free(t);

    /* deep block mappings, one level per line */
    t = malloc(64 * 1024);
    assert_non_null(t);
    t[0] = '\0';
    for (int i = 0; i < 200; i++) {
        size_t l = strlen(t);

        memset(t + l, ' ', (size_t)i);
        snprintf(t + l + i, 64, "k%d:\n", i);
    }
    assert_int_equal(conf_load_string(t, strlen(t), NAME, &c, errbuf, sizeof(errbuf)), -1);
    assert_null(c);
    assert_non_null(strstr(errbuf, "nested deeper than 32 levels"));
    free(t);
}

static void test_huge_values(void **state)
{
    static const char *const keys[] = {
        "timeout",
        "backlog",
        "client_connections",
        "redis_db",
        "server_connections",
        "server_retry_timeout",
        "server_failure_limit",
        "max_key_length",
        "max_value_size",
    };
    size_t big = 1u << 20;
    size_t tsz = 2 * big + 4096;
    char *t = malloc(tsz);
    char *v = malloc(big + 1);
    struct conf *c;

    (void)state;
    assert_non_null(t);
    assert_non_null(v);
    memset(v, '9', big);
    v[big] = '\0';
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        snprintf(t, tsz, "a:\n  listen: h:1\n  %s: %s\n  servers:\n   - h:1:1\n", keys[i], v);
        c = (struct conf *)0x1;
        assert_int_equal(conf_load_string(t, strlen(t), NAME, &c, errbuf, sizeof(errbuf)), -1);
        assert_null(c);
        assert_non_null(strstr(errbuf, "is out of range: 99999"));
        assert_non_null(strstr(errbuf, "...")); /* long values are cut in messages */
        assert_true(strlen(errbuf) < 400);
    }
    snprintf(t, tsz, "a:\n  listen: h:1\n  servers:\n   - h:1:%s\n", v);
    assert_int_equal(conf_load_string(t, strlen(t), NAME, &c, errbuf, sizeof(errbuf)), -1);
    assert_non_null(strstr(errbuf, "is too large"));
    snprintf(t, tsz, "a:\n  listen: h:%s\n  servers:\n   - h:1:1\n", v);
    assert_int_equal(conf_load_string(t, strlen(t), NAME, &c, errbuf, sizeof(errbuf)), -1);
    assert_non_null(strstr(errbuf, "bad port"));
    /* a 1 MiB password is fine; a pool name is a YAML simple key, which libyaml caps at 1024
     * characters (an explicit "? key" has no such cap) */
    memset(v, 'x', big);
    snprintf(t, tsz,
             "%.1000s:\n  listen: h:1\n  redis: true\n  redis_auth: %s\n"
             "  servers:\n   - h:1:1\n",
             v, v);
    c = load_ok(t);
    assert_int_equal(strlen(c->pools[0].redis_auth), big);
    assert_int_equal(strlen(c->pools[0].name), 1000);
    conf_free(c);
    snprintf(t, tsz, "? %s\n: {listen: 'h:1', servers: [h:1:1]}\n", v);
    c = load_ok(t);
    assert_int_equal(strlen(c->pools[0].name), big);
    conf_free(c);
    free(t);
    free(v);

    /* more than 16 MiB is refused before parsing */
    c = (struct conf *)0x1;
    assert_int_equal(conf_load_string("a", (size_t)17 << 20, NAME, &c, errbuf, sizeof(errbuf)), -1);
    assert_null(c);
    assert_non_null(strstr(errbuf, "limited to 16 MiB"));
}

static void test_load_file(void **state)
{
    struct conf *c = (struct conf *)0x1;
    char path[] = "/tmp/test_conf_XXXXXX";
    int fd;
    FILE *f;

    (void)state;
    assert_int_equal(conf_load_file("/nonexistent/nutcracker.yml", &c, errbuf, sizeof(errbuf)), -1);
    assert_null(c);
    assert_string_equal(errbuf,
                        "/nonexistent/nutcracker.yml: cannot open: No such file or directory");
    c = (struct conf *)0x1;
    assert_int_equal(conf_load_file("/tmp", &c, errbuf, sizeof(errbuf)), -1);
    assert_null(c);
    assert_string_equal(errbuf, "/tmp: cannot read: Is a directory");

    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(full_yml, f);
    fclose(f);
    assert_int_equal(conf_load_file(path, &c, errbuf, sizeof(errbuf)), 0);
    assert_string_equal(c->path, path);
    assert_int_equal(c->npools, 2);
    conf_free(c);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("a:\n  listen: h:1\n  servers:\n   - h:1:0\n", f);
    fclose(f);
    assert_int_equal(conf_load_file(path, &c, errbuf, sizeof(errbuf)), -1);
    assert_null(c);
    assert_true(strncmp(errbuf, path, strlen(path)) == 0);
    assert_non_null(strstr(errbuf, ":4:6: pool 'a': server weight must be > 0"));
    unlink(path);
}

static void test_api_edges(void **state)
{
    static const char ok[] = "a:\n  listen: h:1\n  servers:\n   - h:1:1\n";
    static const char bad[] = "a:\n  listen: h:1\n  servers:\n   - h:1:0\n";
    struct conf *c = (struct conf *)0x1;
    char small[12];

    (void)state;
    conf_free(NULL);
    assert_null(conf_pool_find(NULL, "a"));
    /* no error buffer */
    assert_int_equal(conf_load_string(bad, strlen(bad), NAME, &c, NULL, 0), -1);
    assert_null(c);
    assert_int_equal(conf_load_string(ok, strlen(ok), NULL, &c, NULL, 0), 0);
    assert_string_equal(c->path, "<string>");
    assert_null(conf_pool_find(c, NULL));
    conf_free(c);
    /* a small buffer is cut, and terminated */
    memset(small, 'z', sizeof(small));
    assert_int_equal(conf_load_string(bad, strlen(bad), NAME, &c, small, sizeof(small)), -1);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_memory_equal(small, "t.yml:4:6: ", 11);
    memset(small, 'z', sizeof(small));
    assert_int_equal(conf_load_string(bad, strlen(bad), NAME, &c, small, 3), -1);
    assert_string_equal(small, "t.");
    /* nowhere to put the result */
    assert_int_equal(conf_load_string(ok, strlen(ok), NAME, NULL, errbuf, sizeof(errbuf)), -1);
    assert_int_equal(conf_load_file(NULL, &c, errbuf, sizeof(errbuf)), -1);
    assert_null(c);
    /* not NUL-terminated: only len bytes are read */
    assert_int_equal(conf_load_string(ok, strlen(ok) - 1, NAME, &c, errbuf, sizeof(errbuf)), 0);
    conf_free(c);
    assert_int_equal(conf_load_string(NULL, 0, NAME, &c, errbuf, sizeof(errbuf)), -1);
    assert_non_null(strstr(errbuf, "empty configuration"));
}

/* ---- malformed input: no crash, no leak, success or one message ---- */

/* Loads len bytes; either a conf or a one-line message naming the file. */
static int load_any(const char *text, size_t len)
{
    struct conf *c = (struct conf *)0x1;
    int rc = conf_load_string(text, len, "f.yml", &c, errbuf, sizeof(errbuf));

    if (rc == 0) {
        assert_non_null(c);
        assert_string_equal(errbuf, "");
        assert_true(c->npools >= 1);
        for (uint32_t i = 0; i < c->npools; i++) {
            assert_true(c->pools[i].nservers >= 1);
            assert_ptr_equal(conf_pool_find(c, c->pools[i].name), &c->pools[i]);
        }
        conf_free(c);
    } else {
        assert_int_equal(rc, -1);
        assert_null(c);
        assert_true(strncmp(errbuf, "f.yml:", 6) == 0);
        assert_true(strlen(errbuf) > 8);
        assert_null(strchr(errbuf, '\n'));
    }
    return rc;
}

static void test_fuzz_truncation(void **state)
{
    size_t n = strlen(full_yml);
    int ok = 0;

    (void)state;
    /* a copy of exactly len bytes, so reading past a prefix would show under ASan */
    for (size_t len = 0; len <= n; len++) {
        char *p = malloc(len ? len : 1);

        assert_non_null(p);
        memcpy(p, full_yml, len);
        ok += load_any(p, len) == 0;
        free(p);
    }
    /* the whole file loads, and so do the prefixes that end just after a server line */
    assert_true(ok >= 2);
}

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64*: fixed seed, same sequence on every run */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

static void test_fuzz_mutations(void **state)
{
    static const char alphabet[] = ": -'\"#{}[],&*!|>%@`\\?\t\n\r0123456789abcxyz/._~";
    size_t n = strlen(full_yml);
    char *t = malloc(n + 64);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    int ok = 0, bad = 0;

    (void)state;
    assert_non_null(t);
    for (int iter = 0; iter < 5000; iter++) {
        size_t len = n;
        int edits = 1 + (int)(rng_next(&seed) % 4);

        memcpy(t, full_yml, n);
        for (int e = 0; e < edits; e++) {
            uint64_t r = rng_next(&seed);
            size_t pos = (size_t)(r >> 8) % (len + 1);
            char ch = (r & 0x80) ? (char)(r >> 40) : alphabet[(r >> 40) % (sizeof(alphabet) - 1)];

            switch (r % 4) {
            case 0: /* replace */
            case 1:
                if (pos < len) {
                    t[pos] = ch;
                }
                break;
            case 2: /* insert */
                if (len < n + 60) {
                    memmove(t + pos + 1, t + pos, len - pos);
                    t[pos] = ch;
                    len++;
                }
                break;
            default: /* delete */
                if (pos < len) {
                    memmove(t + pos, t + pos + 1, len - pos - 1);
                    len--;
                }
                break;
            }
        }
        if (load_any(t, len) == 0) {
            ok++;
        } else {
            bad++;
        }
    }
    free(t);
    /* both outcomes are exercised */
    assert_true(ok > 100);
    assert_true(bad > 100);
}

/* Random text from YAML's own punctuation and config words: reaches the parser's corners. */
static void test_fuzz_random_text(void **state)
{
    static const char *const words[] = {
        "a",     ":",     " ",   "\n",        "  ",      "- ",    "listen", "servers",
        "h:1",   "h:1:1", "{",   "}",         "[",       "]",     ",",      "'",
        "\"",    "#",     "? ",  "ringproxy", "workers", "---\n", "...\n",  "&x ",
        "*x",    "!t ",   "|\n", ">\n",       "\t",      "\\",    "\xff",   "\xc3\xa9",
        "redis", "true",  "0",   "/p 0666",
    };
    char t[512];
    uint64_t seed = 42;

    (void)state;
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = 0;
        int nw = 1 + (int)(rng_next(&seed) % 60);

        for (int w = 0; w < nw; w++) {
            const char *s = words[rng_next(&seed) % (sizeof(words) / sizeof(words[0]))];
            size_t l = strlen(s);

            if (len + l > sizeof(t)) {
                break;
            }
            memcpy(t + len, s, l);
            len += l;
        }
        load_any(t, len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_config),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_bounds_accepted),
        cmocka_unit_test(test_examples),
        cmocka_unit_test(test_nutcracker_package_example),
        cmocka_unit_test(test_unix_sockets),
        cmocka_unit_test(test_server_names_and_addresses),
        cmocka_unit_test(test_many_pools_and_servers),
        cmocka_unit_test(test_ringproxy_section),
        cmocka_unit_test(test_global_errors),
        cmocka_unit_test(test_pool_errors),
        cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_huge_values),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_api_edges),
        cmocka_unit_test(test_fuzz_truncation),
        cmocka_unit_test(test_fuzz_mutations),
        cmocka_unit_test(test_fuzz_random_text),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
