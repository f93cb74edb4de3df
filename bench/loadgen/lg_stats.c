/* Counters of a load-generator thread and their merge (see lg_stats.h). */
#include "lg_stats.h"

#include <string.h>

const char *const lg_fail_names[LG_FAIL_COUNT] = {
    [LG_FAIL_REFUSED] = "refused",         [LG_FAIL_CONNECT_TIMEOUT] = "connect_timeout",
    [LG_FAIL_CLOSED] = "closed_by_server", [LG_FAIL_IO] = "io_error",
    [LG_FAIL_PROTOCOL] = "protocol_error", [LG_FAIL_TIMEOUT] = "reply_timeout",
};

void lg_stats_init(struct lg_stats *s)
{
    memset(s, 0, sizeof(*s));
    lg_hist_init(&s->hist);
}

void lg_stats_merge(struct lg_stats *dst, const struct lg_stats *src)
{
    lg_hist_merge(&dst->hist, &src->hist);
    dst->requests += src->requests;
    dst->gets += src->gets;
    dst->sets += src->sets;
    dst->keys += src->keys;
    dst->hits += src->hits;
    dst->misses += src->misses;
    dst->errors += src->errors;
    dst->incomplete += src->incomplete;
    dst->prefill_sets += src->prefill_sets;
    dst->prefill_errors += src->prefill_errors;
    dst->connected += src->connected;
    dst->open_at_end += src->open_at_end;
    dst->touched += src->touched;
    for (int i = 0; i < LG_FAIL_COUNT; i++)
        dst->failed[i] += src->failed[i];
    dst->failed_total += src->failed_total;
    dst->lag_sum += src->lag_sum;
    dst->lag_n += src->lag_n;
    if (src->lag_max > dst->lag_max)
        dst->lag_max = src->lag_max;
    if (src->t_window_end > dst->t_window_end)
        dst->t_window_end = src->t_window_end;
    dst->cpu_user_s += src->cpu_user_s;
    dst->cpu_sys_s += src->cpu_sys_s;
    if (dst->first_fail[0] == '\0')
        memcpy(dst->first_fail, src->first_fail, sizeof(dst->first_fail));
    if (dst->first_error[0] == '\0')
        memcpy(dst->first_error, src->first_error, sizeof(dst->first_error));
}
