/* Unit tests for the log's rate limit: how many lines are held back and how that is said. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "src/log.h"

static void test_held_text(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(log_held_text(buf, sizeof(buf), 1, 10000), "... 1 more in the last 10 s");
    assert_string_equal(log_held_text(buf, sizeof(buf), 999, 1), "... 999 more in the last 1 s");
    assert_string_equal(log_held_text(buf, sizeof(buf), 1234, 9500),
                        "... 1,234 more in the last 10 s");
    assert_string_equal(log_held_text(buf, sizeof(buf), 1234567, 0),
                        "... 1,234,567 more in the last 1 s");
}

static void test_allow_counts_held(void **state)
{
    (void)state;
    struct log_limit lim = {0};
    uint32_t held = 99;
    assert_true(log_allow(&lim, 60000, &held));
    assert_int_equal(held, 0);
    for (int i = 0; i < 5; i++)
        assert_false(log_allow(&lim, 60000, &held));
    lim.next_ns = 0; /* the interval is over */
    assert_true(log_allow(&lim, 60000, &held));
    assert_int_equal(held, 5);
    lim.next_ns = 0;
    assert_true(log_allow(&lim, 60000, &held));
    assert_int_equal(held, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_held_text),
        cmocka_unit_test(test_allow_counts_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
