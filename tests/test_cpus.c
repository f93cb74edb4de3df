/* Unit tests for src/cpus: the cgroup quota parsers, and cpus_usable over fake /proc and
 * /sys/fs/cgroup trees (cgroup v2, v1, nested limits, none). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "src/cpus.h"

static void test_parse_cpu_max(void **state)
{
    (void)state;
    assert_true(cpus_parse_cpu_max("max 100000\n") == 0);
    assert_true(cpus_parse_cpu_max("100000 100000\n") == 1.0);
    assert_true(cpus_parse_cpu_max("150000 100000") == 1.5);
    assert_true(cpus_parse_cpu_max("50000 100000") == 0.5);
    assert_true(cpus_parse_cpu_max("") == 0);
    assert_true(cpus_parse_cpu_max("abc 100000") == 0);
    assert_true(cpus_parse_cpu_max("100000 0") == 0);
    assert_true(cpus_parse_cpu_max("-5 100000") == 0);
}

static void test_parse_cfs(void **state)
{
    (void)state;
    assert_true(cpus_parse_cfs("-1\n", "100000\n") == 0);
    assert_true(cpus_parse_cfs("200000\n", "100000\n") == 2.0);
    assert_true(cpus_parse_cfs("25000", "100000") == 0.25);
    assert_true(cpus_parse_cfs("x", "100000") == 0);
    assert_true(cpus_parse_cfs("100000", "0") == 0);
}

static void test_cgroup_path(void **state)
{
    static const char v1[] = "9:name=systemd:/\n4:memory:/m\n2:cpuacct:/a\n1:cpu,cpuacct:/docker/"
                             "abc\n0::/unified/x\n";
    char out[256];

    (void)state;
    assert_int_equal(cpus_cgroup_path(v1, 1, out, sizeof(out)), 0);
    assert_string_equal(out, "/unified/x");
    assert_int_equal(cpus_cgroup_path(v1, 0, out, sizeof(out)), 0);
    assert_string_equal(out, "/docker/abc"); /* "cpuacct" alone is not "cpu" */
    assert_int_equal(cpus_cgroup_path("0::/\n", 1, out, sizeof(out)), 0);
    assert_string_equal(out, "/");
    assert_int_equal(cpus_cgroup_path("0::/\n", 0, out, sizeof(out)), -1);
    assert_int_equal(cpus_cgroup_path("4:memory:/m\n", 1, out, sizeof(out)), -1);
    assert_int_equal(cpus_cgroup_path("", 1, out, sizeof(out)), -1);
    assert_int_equal(cpus_cgroup_path("garbage", 1, out, sizeof(out)), -1);
}

/* A fake root: writes text to root/path, making the directories. */
static void put(const char *root, const char *path, const char *text)
{
    char full[1024];
    snprintf(full, sizeof(full), "%s%s", root, path);
    for (char *p = full + strlen(root) + 1; *p != '\0'; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(full, 0700);
            *p = '/';
        }
    }
    FILE *f = fopen(full, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void rm_tree(const char *root)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

static void fake_root(char *root, size_t len)
{
    snprintf(root, len, "/tmp/rp-cpus-XXXXXX");
    assert_non_null(mkdtemp(root));
}

static void test_usable_v2(void **state)
{
    char root[64];
    struct cpus_info ci;

    (void)state;
    fake_root(root, sizeof(root));
    put(root, "/proc/self/cgroup", "0::/pod/ctr\n");
    put(root, "/sys/fs/cgroup/cpu.max", "max 100000\n");
    put(root, "/sys/fs/cgroup/pod/cpu.max", "300000 100000\n");
    put(root, "/sys/fs/cgroup/pod/ctr/cpu.max", "max 100000\n");
    cpus_usable(root, &ci);
    /* the pod's limit applies to the container below it */
    assert_true(ci.quota == 3.0);
    assert_int_equal(ci.usable, ci.online < 3 ? ci.online : 3);
    /* a fractional quota rounds up, and never below one worker */
    put(root, "/sys/fs/cgroup/pod/ctr/cpu.max", "50000 100000\n");
    cpus_usable(root, &ci);
    assert_true(ci.quota == 0.5);
    assert_int_equal(ci.usable, 1);
    rm_tree(root);
}

static void test_usable_v1(void **state)
{
    char root[64];
    struct cpus_info ci;

    (void)state;
    fake_root(root, sizeof(root));
    put(root, "/proc/self/cgroup", "3:cpu,cpuacct:/docker/abc\n2:memory:/docker/abc\n");
    put(root, "/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "100000\n");
    put(root, "/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
    put(root, "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
    put(root, "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
    cpus_usable(root, &ci);
    assert_true(ci.quota == 1.0);
    assert_int_equal(ci.usable, 1);
    rm_tree(root);
}

static void test_usable_none(void **state)
{
    char root[64];
    struct cpus_info ci;

    (void)state;
    fake_root(root, sizeof(root));
    cpus_usable(root, &ci); /* nothing to read: every CPU online */
    assert_true(ci.quota == 0);
    assert_int_equal(ci.usable, ci.online);
    put(root, "/proc/self/cgroup", "0::/\n");
    put(root, "/sys/fs/cgroup/cpu.max", "max 100000\n");
    cpus_usable(root, &ci);
    assert_true(ci.quota == 0);
    assert_int_equal(ci.usable, ci.affinity);
    rm_tree(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_cpu_max), cmocka_unit_test(test_parse_cfs),
        cmocka_unit_test(test_cgroup_path),   cmocka_unit_test(test_usable_v2),
        cmocka_unit_test(test_usable_v1),     cmocka_unit_test(test_usable_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
