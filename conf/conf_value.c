/* Numbers, booleans and plain values of nutcracker.yml, and their messages. */
#include "conf/conf_value.h"

#include <string.h>

enum conf_num_status conf_value_uint(const char *s, size_t len, unsigned long long max,
                                     unsigned long long *out)
{
    unsigned long long v = 0;
    bool big = false;

    if (len == 0) {
        return CONF_NUM_NOT_A_NUMBER;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned char)s[i] - (unsigned)'0';

        if (d > 9) {
            return CONF_NUM_NOT_A_NUMBER;
        }
        /* keep scanning after overflow, so "99999999999999999999x" is "not a number" */
        if (!big) {
            if (d > max || v > (max - d) / 10) {
                big = true;
            } else {
                v = v * 10 + d;
            }
        }
    }
    if (big) {
        return CONF_NUM_TOO_LARGE;
    }
    *out = v;
    return CONF_NUM_OK;
}

int conf_value_bool(const char *s, size_t len, bool *out)
{
    if (len == 4 && memcmp(s, "true", 4) == 0) {
        *out = true;
        return 0;
    }
    if (len == 5 && memcmp(s, "false", 5) == 0) {
        *out = false;
        return 0;
    }
    return -1;
}

int conf_node_scalar(const struct cy_node *k, const struct cy_node *v, const char *ctx,
                     struct conf_err *err)
{
    if (v->kind != CY_SCALAR) {
        conf_err_at(err, v->line, v->col, "%s'%s' must be a single value, not %s", ctx, k->str,
                    cy_kind_name(v));
        return -1;
    }
    if (cy_is_empty(v)) {
        conf_err_at(err, k->line, k->col, "%s'%s' has no value", ctx, k->str);
        return -1;
    }
    if (strlen(v->str) != v->len) {
        conf_err_at(err, v->line, v->col, "%s'%s' holds a NUL byte", ctx, k->str);
        return -1;
    }
    return 0;
}

int conf_node_uint(const struct cy_node *k, const struct cy_node *v, const char *ctx,
                   unsigned long long min, unsigned long long max, unsigned long long *out,
                   struct conf_err *err)
{
    char q[CONF_QUOTE_MAX + 8];
    unsigned long long n = 0;

    if (conf_node_scalar(k, v, ctx, err) < 0) {
        return -1;
    }
    switch (conf_value_uint(v->str, v->len, max, &n)) {
    case CONF_NUM_NOT_A_NUMBER:
        conf_err_at(err, v->line, v->col, "%s'%s' must be a whole number in %llu..%llu, not '%s'",
                    ctx, k->str, min, max, conf_quote(q, sizeof(q), v->str, v->len));
        return -1;
    case CONF_NUM_TOO_LARGE:
        conf_err_at(err, v->line, v->col, "%s'%s' is out of range: %s (must be %llu..%llu)", ctx,
                    k->str, conf_quote(q, sizeof(q), v->str, v->len), min, max);
        return -1;
    case CONF_NUM_OK:
        break;
    }
    if (n < min) {
        conf_err_at(err, v->line, v->col, "%s'%s' is out of range: %llu (must be %llu..%llu)", ctx,
                    k->str, n, min, max);
        return -1;
    }
    *out = n;
    return 0;
}

int conf_node_bool(const struct cy_node *k, const struct cy_node *v, const char *ctx, bool *out,
                   struct conf_err *err)
{
    char q[CONF_QUOTE_MAX + 8];

    if (conf_node_scalar(k, v, ctx, err) < 0) {
        return -1;
    }
    if (conf_value_bool(v->str, v->len, out) < 0) {
        conf_err_at(err, v->line, v->col, "%s'%s' must be true or false, not '%s'", ctx, k->str,
                    conf_quote(q, sizeof(q), v->str, v->len));
        return -1;
    }
    return 0;
}

/* Levenshtein distance, capped: anything above 2 is "far". */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t row[64];

    if (la >= 63 || lb >= 63) {
        return 3;
    }
    for (size_t j = 0; j <= lb; j++) {
        row[j] = j;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];

        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);

            if (up + 1 < best) {
                best = up + 1;
            }
            if (row[j - 1] + 1 < best) {
                best = row[j - 1] + 1;
            }
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *conf_closest_name(const char *s, size_t len, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t best_d = 3;

    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(s, len, names[i], strlen(names[i]));

        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    return best;
}
