/* How many CPUs this process may really use: its affinity mask, and the CPU quota of its cgroup
 * (a container limited to one CPU on a 64-core host may use one), for the default worker
 * count. */
#ifndef RP_CPUS_H
#define RP_CPUS_H

#include <stddef.h>

struct cpus_info {
    int online;   /* CPUs online (sysconf) */
    int affinity; /* CPUs in the affinity mask (online when it cannot be read) */
    double quota; /* cgroup CPU quota in CPUs (quota / period), the lowest on the path from the
                   * process's cgroup to the root; 0: none */
    int usable;   /* min(affinity, quota rounded up), at least 1 */
};

/* Fills out for the calling process. root prefixes every path read ("" for the real system; a
 * test passes a directory laid out like /proc and /sys/fs/cgroup). */
void cpus_usable(const char *root, struct cpus_info *out);

/* The quota in a cgroup v2 cpu.max ("max 100000", "150000 100000"): CPUs, 0 for none or for
 * text that is not a quota. */
double cpus_parse_cpu_max(const char *text);

/* The quota of a cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us pair: CPUs, 0 for none (-1) or
 * for text that is not a number. */
double cpus_parse_cfs(const char *quota, const char *period);

/* The process's cgroup path in /proc/self/cgroup text: the v2 line ("0::/path") when v2, else
 * the v1 line whose controllers include "cpu". Returns 0, or -1 when there is none. */
int cpus_cgroup_path(const char *text, int v2, char *out, size_t outlen);

#endif
