/* The CPUs this process may use: affinity mask and cgroup quota (v2 cpu.max, v1 CFS). */
#include "src/cpus.h"

#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

double cpus_parse_cpu_max(const char *text)
{
    char q[32];
    long long period;

    if (sscanf(text, "%31s %lld", q, &period) != 2 || period <= 0 || strcmp(q, "max") == 0)
        return 0;
    char *end;
    long long quota = strtoll(q, &end, 10);
    if (*end != '\0' || quota <= 0)
        return 0;
    return (double)quota / (double)period;
}

double cpus_parse_cfs(const char *quota, const char *period)
{
    char *end;
    long long q = strtoll(quota, &end, 10);
    if (end == quota || q <= 0)
        return 0;
    long long p = strtoll(period, &end, 10);
    if (end == period || p <= 0)
        return 0;
    return (double)q / (double)p;
}

/* Whether the comma-separated list s[0, n) holds word. */
static int list_has(const char *s, size_t n, const char *word)
{
    size_t wl = strlen(word);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        if (j - i == wl && memcmp(s + i, word, wl) == 0)
            return 1;
        i = j + 1;
    }
    return 0;
}

int cpus_cgroup_path(const char *text, int v2, char *out, size_t outlen)
{
    for (const char *line = text; *line != '\0';) {
        const char *nl = strchr(line, '\n');
        size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);
        /* hierarchy-id:controllers:path */
        const char *c1 = memchr(line, ':', len);
        const char *c2 = c1 != NULL ? memchr(c1 + 1, ':', len - (size_t)(c1 + 1 - line)) : NULL;
        if (c2 != NULL) {
            size_t clen = (size_t)(c2 - c1 - 1);
            int match = v2 ? (c1 - line == 1 && line[0] == '0' && clen == 0)
                           : list_has(c1 + 1, clen, "cpu");
            size_t plen = len - (size_t)(c2 + 1 - line);
            if (match && plen > 0 && plen < outlen) {
                memcpy(out, c2 + 1, plen);
                out[plen] = '\0';
                return 0;
            }
        }
        line += len + (nl != NULL);
    }
    return -1;
}

/* root/path (its first len - 1 bytes) into buf, NUL-terminated; 0, or -1. */
static int read_file(const char *root, const char *path, char *buf, size_t len)
{
    char full[4096];
    snprintf(full, sizeof(full), "%s%s", root, path);
    FILE *f = fopen(full, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0 ? 0 : -1;
}

/* The lowest quota from cgroup dir `base + path` up to `base`, v2 (cpu.max) or v1 (CFS files). */
static double quota_up(const char *root, const char *base, const char *path, int v2)
{
    char dir[2048], a[128], b[128], file[2300];
    double best = 0;
    snprintf(dir, sizeof(dir), "%s", path);
    for (;;) {
        double q = 0;
        const char *d = strcmp(dir, "/") == 0 ? "" : dir; /* the root is base itself */
        if (v2) {
            snprintf(file, sizeof(file), "%s%s/cpu.max", base, d);
            if (read_file(root, file, a, sizeof(a)) == 0)
                q = cpus_parse_cpu_max(a);
        } else {
            snprintf(file, sizeof(file), "%s%s/cpu.cfs_quota_us", base, d);
            if (read_file(root, file, a, sizeof(a)) == 0) {
                snprintf(file, sizeof(file), "%s%s/cpu.cfs_period_us", base, d);
                if (read_file(root, file, b, sizeof(b)) == 0)
                    q = cpus_parse_cfs(a, b);
            }
        }
        if (q > 0 && (best == 0 || q < best))
            best = q;
        char *slash = strrchr(dir, '/');
        if (slash == NULL || strcmp(dir, "/") == 0)
            break;
        if (slash == dir)
            strcpy(dir, "/");
        else
            *slash = '\0';
    }
    return best;
}

void cpus_usable(const char *root, struct cpus_info *out)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    out->online = n > 0 ? (int)n : 1;
    out->affinity = out->online;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (root[0] == '\0' && sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        out->affinity = CPU_COUNT(&set);

    char cg[4096], path[2048];
    double quota = 0, q;
    if (read_file(root, "/proc/self/cgroup", cg, sizeof(cg)) == 0) {
        if (cpus_cgroup_path(cg, 1, path, sizeof(path)) == 0 &&
            (q = quota_up(root, "/sys/fs/cgroup", path, 1)) > 0)
            quota = q;
        if (cpus_cgroup_path(cg, 0, path, sizeof(path)) == 0) {
            static const char *const v1[] = {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpu,cpuacct"};
            for (size_t i = 0; i < sizeof(v1) / sizeof(v1[0]); i++)
                if ((q = quota_up(root, v1[i], path, 0)) > 0 && (quota == 0 || q < quota))
                    quota = q;
        }
    }
    out->quota = quota;
    out->usable = out->affinity;
    if (quota > 0 && (int)ceil(quota) < out->usable)
        out->usable = (int)ceil(quota);
    if (out->usable < 1)
        out->usable = 1;
}
