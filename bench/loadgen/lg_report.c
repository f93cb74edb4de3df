/* Human-readable and JSON reports of a load-generator run (see lg_report.h). */
#include "lg_report.h"

#include "lg_hist.h"

static double us(uint64_t ns)
{
    return (double)ns / 1e3;
}

static const char *mode_name(const struct lg_config *cfg)
{
    if (cfg->idle > 0)
        return "idle";
    return cfg->rate > 0 ? "open" : "closed";
}

static const char *proto_name(const struct lg_config *cfg)
{
    return cfg->proto == LG_PROTO_MC ? "memcache" : cfg->proto == LG_PROTO_META ? "meta" : "redis";
}

static double per_sec(uint64_t n, double s)
{
    return s > 0 ? (double)n / s : 0.0;
}

void lg_report_text(FILE *f, const struct lg_config *cfg, const struct lg_result *r)
{
    const struct lg_stats *st = r->st;
    const struct lg_hist *h = &st->hist;

    fprintf(f, "loadgen: %s %s, %u connection%s on %u thread%s", proto_name(cfg), cfg->server,
            cfg->conns, cfg->conns == 1 ? "" : "s", cfg->threads, cfg->threads == 1 ? "" : "s");
    if (cfg->idle > 0) {
        fprintf(f, ", idle%s\n", cfg->idle_touch ? " after one get each" : "");
        fprintf(f, "established %llu in %.2f s, held %.2f s, %llu still open at the end\n",
                (unsigned long long)st->connected, r->setup_s, r->duration_s,
                (unsigned long long)st->open_at_end);
        if (cfg->idle_touch)
            fprintf(f, "touched: %llu answered\n", (unsigned long long)st->touched);
    } else {
        if (cfg->rate > 0)
            fprintf(f,
                    ", open loop at %.0f requests/s (fixed schedule, at most %u in flight "
                    "per connection)\n",
                    cfg->rate, cfg->pipeline);
        else
            fprintf(f, ", closed loop, pipeline %u\n", cfg->pipeline);
        fprintf(f, "workload: %.0f%% reads of %u key%s, %u-byte values, %u keys ",
                cfg->get_fraction * 100, cfg->width, cfg->width == 1 ? "" : "s", cfg->value_size,
                cfg->keys);
        if (cfg->pattern == LG_KEYS_ZIPF)
            fprintf(f, "zipf s=%.3g", cfg->zipf_s);
        else
            fprintf(f, "uniform");
        if (cfg->prefill)
            fprintf(f, ", prefilled (%llu sets, %llu errors)", (unsigned long long)st->prefill_sets,
                    (unsigned long long)st->prefill_errors);
        fprintf(f, "\nwindow: %.2f s", r->duration_s);
        if (r->warmup_s > 0)
            fprintf(f, " after %.2f s warmup", r->warmup_s);
        fprintf(f, " (setup %.2f s)\n", r->setup_s);
        fprintf(f,
                "throughput: %.0f requests/s, %.0f keys/s (%llu requests: %llu reads, %llu "
                "writes)\n",
                per_sec(st->requests, r->duration_s), per_sec(st->keys, r->duration_s),
                (unsigned long long)st->requests, (unsigned long long)st->gets,
                (unsigned long long)st->sets);
        fprintf(f, "keys read: %llu hit, %llu missed; error replies: %llu; incomplete: %llu\n",
                (unsigned long long)st->hits, (unsigned long long)st->misses,
                (unsigned long long)st->errors, (unsigned long long)st->incomplete);
        fprintf(f, "latency us: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  mean %.1f\n",
                us(lg_hist_percentile(h, 50)), us(lg_hist_percentile(h, 90)),
                us(lg_hist_percentile(h, 99)), us(lg_hist_percentile(h, 99.9)), us(h->max),
                lg_hist_mean(h) / 1e3);
        if (cfg->rate > 0 && st->lag_n > 0)
            fprintf(f, "send lag (actual minus intended send time): mean %.1f us, max %.1f us\n",
                    st->lag_sum / (double)st->lag_n / 1e3, us(st->lag_max));
        double cpu = st->cpu_user_s + st->cpu_sys_s;
        fprintf(f, "client CPU: %.2f s user, %.2f s system (%.2f us per request)\n", st->cpu_user_s,
                st->cpu_sys_s, st->requests ? cpu * 1e6 / (double)st->requests : 0.0);
    }
    fprintf(f, "connections: %llu established, %llu failed", (unsigned long long)st->connected,
            (unsigned long long)st->failed_total);
    if (st->failed_total > 0) {
        const char *sep = " (";
        for (int i = 0; i < LG_FAIL_COUNT; i++) {
            if (st->failed[i] == 0)
                continue;
            fprintf(f, "%s%s %llu", sep, lg_fail_names[i], (unsigned long long)st->failed[i]);
            sep = ", ";
        }
        fprintf(f, ")");
    }
    fprintf(f, "\n");
    if (st->first_fail[0])
        fprintf(f, "first connection failure: %s\n", st->first_fail);
    if (st->first_error[0])
        fprintf(f, "first error reply: %s\n", st->first_error);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

void lg_report_json(FILE *f, const struct lg_config *cfg, const struct lg_result *r)
{
    const struct lg_stats *st = r->st;
    const struct lg_hist *h = &st->hist;
    double cpu = st->cpu_user_s + st->cpu_sys_s;

    fprintf(f, "{\"mode\":\"%s\",\"protocol\":\"%s\",\"server\":", mode_name(cfg), proto_name(cfg));
    json_str(f, cfg->server);
    fprintf(f, ",\"connections\":%u,\"threads\":%u,\"pipeline\":%u,\"rate\":%.17g", cfg->conns,
            cfg->threads, cfg->pipeline, cfg->rate);
    fprintf(f, ",\"multiget\":%u,\"get_fraction\":%.6g,\"value_size\":%u,\"key_count\":%u",
            cfg->width, cfg->get_fraction, cfg->value_size, cfg->keys);
    fprintf(f, ",\"key_pattern\":\"%s\",\"zipf_s\":%.6g,\"key_prefix\":",
            cfg->pattern == LG_KEYS_ZIPF ? "zipf" : "uniform", cfg->zipf_s);
    json_str(f, cfg->key_prefix);
    fprintf(f, ",\"prefill\":%s,\"warmup_s\":%.6g,\"duration_s\":%.6f,\"setup_s\":%.6f",
            cfg->prefill ? "true" : "false", r->warmup_s, r->duration_s, r->setup_s);
    fprintf(f,
            ",\"requests\":%llu,\"ops_per_sec\":%.1f,\"keys_requested\":%llu"
            ",\"keys_per_sec\":%.1f",
            (unsigned long long)st->requests, per_sec(st->requests, r->duration_s),
            (unsigned long long)st->keys, per_sec(st->keys, r->duration_s));
    fprintf(f,
            ",\"gets\":%llu,\"sets\":%llu,\"hits\":%llu,\"misses\":%llu,\"errors\":%llu"
            ",\"incomplete\":%llu",
            (unsigned long long)st->gets, (unsigned long long)st->sets,
            (unsigned long long)st->hits, (unsigned long long)st->misses,
            (unsigned long long)st->errors, (unsigned long long)st->incomplete);
    fprintf(f,
            ",\"p50_us\":%.1f,\"p90_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f"
            ",\"max_us\":%.1f,\"mean_us\":%.1f",
            us(lg_hist_percentile(h, 50)), us(lg_hist_percentile(h, 90)),
            us(lg_hist_percentile(h, 99)), us(lg_hist_percentile(h, 99.9)), us(h->max),
            lg_hist_mean(h) / 1e3);
    fprintf(f, ",\"send_lag_mean_us\":%.1f,\"send_lag_max_us\":%.1f",
            st->lag_n ? st->lag_sum / (double)st->lag_n / 1e3 : 0.0, us(st->lag_max));
    fprintf(f, ",\"prefill_sets\":%llu,\"prefill_errors\":%llu",
            (unsigned long long)st->prefill_sets, (unsigned long long)st->prefill_errors);
    fprintf(f,
            ",\"connections_established\":%llu,\"connections_failed\":%llu"
            ",\"connections_open_at_end\":%llu,\"touched\":%llu,\"failures\":{",
            (unsigned long long)st->connected, (unsigned long long)st->failed_total,
            (unsigned long long)st->open_at_end, (unsigned long long)st->touched);
    for (int i = 0; i < LG_FAIL_COUNT; i++)
        fprintf(f, "%s\"%s\":%llu", i ? "," : "", lg_fail_names[i],
                (unsigned long long)st->failed[i]);
    fprintf(f,
            "},\"client_cpu_user_s\":%.3f,\"client_cpu_sys_s\":%.3f"
            ",\"client_cpu_us_per_op\":%.3f",
            st->cpu_user_s, st->cpu_sys_s, st->requests ? cpu * 1e6 / (double)st->requests : 0.0);
    fprintf(f, ",\"first_failure\":");
    json_str(f, st->first_fail);
    fprintf(f, ",\"first_error\":");
    json_str(f, st->first_error);
    fprintf(f, "}\n");
}
