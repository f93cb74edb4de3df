/* Unit tests for the stats port's request-head parser: a table, each input fed whole and cut at
 * every byte (a prefix must never be judged other than AGAIN or its final answer's kind). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "src/http.h"

struct http_case {
    const char *in;
    enum http_result want;
    const char *method, *path;
};

static const struct http_case cases[] = {
    {"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", HTTP_REQUEST, "GET", "/metrics"},
    {"GET /stats HTTP/1.0\r\n\r\n", HTTP_REQUEST, "GET", "/stats"},
    {"GET /metrics?x=1 HTTP/1.1\r\n\r\n", HTTP_REQUEST, "GET", "/metrics"},
    {"GET / HTTP/1.1\n\n", HTTP_REQUEST, "GET", "/"},
    {"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", HTTP_REQUEST, "POST", "/metrics"},
    {"GET /nope HTTP/1.1\r\n\r\n", HTTP_REQUEST, "GET", "/nope"},
    {"stats\r\n", HTTP_NOT_HTTP, NULL, NULL},
    {"\r\n", HTTP_NOT_HTTP, NULL, NULL},
    {"GET\r\n", HTTP_NOT_HTTP, NULL, NULL},
    {"GET metrics HTTP/1.1\r\n\r\n", HTTP_BAD, NULL, NULL},
    {"GET /metrics SPDY/3\r\n\r\n", HTTP_BAD, NULL, NULL},
    {"GET /metrics\r\n\r\n", HTTP_BAD, NULL, NULL},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const struct http_case *t = &cases[c];
        size_t n = strlen(t->in);
        struct http_req req;
        assert_int_equal(http_parse_head(t->in, n, &req), t->want);
        if (t->want == HTTP_REQUEST) {
            assert_string_equal(req.method, t->method);
            assert_string_equal(req.path, t->path);
        }
        for (size_t cut = 1; cut < n; cut++) {
            enum http_result r = http_parse_head(t->in, cut, &req);
            if (r != HTTP_AGAIN && r != t->want)
                fail_msg("case %zu cut at %zu: %d, want AGAIN or %d", c, cut, r, t->want);
            if (t->want == HTTP_REQUEST && r != HTTP_AGAIN)
                fail_msg("case %zu: a request judged whole at %zu of %zu bytes", c, cut, n);
        }
    }
}

static void test_too_long(void **state)
{
    (void)state;
    static char big[HTTP_HEAD_MAX + 16];
    memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
    memset(big + 26, 'a', sizeof(big) - 26);
    struct http_req req;
    assert_int_equal(http_parse_head(big, sizeof(big), &req), HTTP_BAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
