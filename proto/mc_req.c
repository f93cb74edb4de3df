/* memcached ASCII requests: the resumable request framer and the command-line tokenizer. */
#include "proto/mc_req.h"

#include <assert.h>
#include <limits.h>
#include <string.h>

/* Non-retrieval commands keep their argument tokens in a small array on the stack; every
 * row of the table must fit (retrieval keys go straight into req->keys instead). */
#define MC_ARGS_MAX 8

#define MC_ARGS_CHECK(e, nm, k, mn, mx, key)                                                       \
    _Static_assert((k) == MC_KIND_RETRIEVAL || ((mx) >= 0 && (mx) <= MC_ARGS_MAX),                 \
                   "MC_ARGS_MAX too small for " nm);
MC_CMD_TABLE(MC_ARGS_CHECK)
#undef MC_ARGS_CHECK

/* ---- framer ---- */

void mc_framer_init(struct mc_framer *p, bool discard_data)
{
    p->state = MC_FS_LINE;
    p->line_len = 0;
    p->data_left = 0;
    p->discard = discard_data;
    p->error = NULL;
}

/* Ready for the next request. discard is left alone so that the caller can still read it
 * when it handles the MC_DONE that ended a data block. */
static void mc_framer_next(struct mc_framer *p)
{
    p->state = MC_FS_LINE;
    p->line_len = 0;
    p->data_left = 0;
}

enum mc_status mc_framer_feed(struct mc_framer *p, const struct mc_limits *limits,
                              const uint8_t *buf, size_t len, size_t *consumed)
{
    if (p->state == MC_FS_LINE_DONE) {
        /* the caller asked for no data block: the line was the whole request */
        mc_framer_next(p);
        *consumed = 0;
        return MC_DONE;
    }
    switch (mc_frame_run(p, limits->max_line, buf, len, consumed)) {
    case MC_FRAME_LINE:
        return MC_LINE;
    case MC_FRAME_DATA:
        return MC_DONE;
    case MC_FRAME_ERROR:
        return MC_ERROR;
    case MC_FRAME_AGAIN:
    default:
        return MC_AGAIN;
    }
}

void mc_framer_expect_data(struct mc_framer *p, uint64_t n, bool discard)
{
    assert(p->state == MC_FS_LINE_DONE);
    p->state = MC_FS_DATA;
    p->data_left = n;
    p->discard = discard;
}

/* ---- tokenizer ---- */

bool mc_parse_uint(const uint8_t *s, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)s[i] - '0';

        if (d > 9 || d > max || v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* An exptime or flush_all delay: a C int as memcached reads it, negative allowed. */
static bool mc_parse_int(const uint8_t *s, size_t len, int64_t *out)
{
    uint64_t v;

    if (len > 0 && s[0] == '-') {
        if (!mc_parse_uint(s + 1, len - 1, (uint64_t)INT_MAX + 1, &v))
            return false;
        *out = -(int64_t)v;
        return true;
    }
    if (!mc_parse_uint(s, len, INT_MAX, &v))
        return false;
    *out = (int64_t)v;
    return true;
}

/* Next run of non-space bytes in line[*pos, end): memcached splits on ' ' only, so a tab or
 * a stray '\r' stays inside a token. */
static bool mc_next_token(const uint8_t *line, size_t end, size_t *pos, struct mc_tok *tok)
{
    size_t i = *pos;
    size_t start;

    while (i < end && line[i] == ' ')
        i++;
    if (i == end) {
        *pos = i;
        return false;
    }
    start = i;
    while (i < end && line[i] != ' ')
        i++;
    tok->off = (uint32_t)start;
    tok->len = (uint32_t)(i - start);
    *pos = i;
    return true;
}

static bool mc_tok_is(const uint8_t *line, struct mc_tok t, const char *word, size_t wlen)
{
    return t.len == wlen && memcmp(line + t.off, word, wlen) == 0;
}

static bool mc_tok_uint(const uint8_t *line, struct mc_tok t, uint64_t max, uint64_t *out)
{
    return mc_parse_uint(line + t.off, t.len, max, out);
}

static bool mc_tok_int(const uint8_t *line, struct mc_tok t)
{
    int64_t v;

    return mc_parse_int(line + t.off, t.len, &v);
}

/* A key is at most max_key_length bytes. Like memcached (and twemproxy), tokens split on ' '
 * only, so control bytes and bytes >= 0x80 pass (clients such as memaslap use them); only a
 * NUL byte, which no text client can mean, is refused. */
static enum mc_parse_result mc_check_key(const uint8_t *line, struct mc_tok t,
                                         const struct mc_limits *limits)
{
    if (t.len > limits->max_key_length)
        return MC_PARSE_KEY_TOO_LONG;
    if (memchr(line + t.off, 0, t.len) != NULL)
        return MC_PARSE_BAD_FORMAT;
    return MC_PARSE_OK;
}

/* The single key of a storage or keyed command. */
static enum mc_parse_result mc_set_key(const uint8_t *line, struct mc_tok t,
                                       const struct mc_limits *limits, struct mc_req *req)
{
    enum mc_parse_result r = mc_check_key(line, t, limits);

    if (r != MC_PARSE_OK)
        return r;
    if (req->key_cap < 1)
        return MC_PARSE_TOO_MANY_KEYS;
    req->keys[0] = t;
    req->nkeys = 1;
    return MC_PARSE_OK;
}

/* get gets gat gats: [exptime] key+. Every key is checked; the first req->key_cap are
 * stored. */
static enum mc_parse_result mc_parse_retrieval(const uint8_t *line, size_t end, size_t pos,
                                               const struct mc_cmd_info *info,
                                               const struct mc_limits *limits, struct mc_req *req)
{
    struct mc_tok t;
    uint64_t seen = 0;

    if (info->key_index == 1) {
        if (!mc_next_token(line, end, &pos, &t) || !mc_tok_int(line, t))
            return MC_PARSE_BAD_FORMAT;
        req->exptime = t;
    }
    while (mc_next_token(line, end, &pos, &t)) {
        enum mc_parse_result r = mc_check_key(line, t, limits);

        if (r != MC_PARSE_OK)
            return r;
        if (seen < req->key_cap)
            req->keys[seen] = t;
        seen++;
    }
    if (seen == 0)
        return MC_PARSE_BAD_FORMAT;
    if (seen > req->key_cap) {
        req->nkeys = req->key_cap;
        return MC_PARSE_TOO_MANY_KEYS;
    }
    req->nkeys = (uint32_t)seen;
    return MC_PARSE_OK;
}

/* set add replace append prepend: key flags exptime bytes; cas adds a cas token. Numbers
 * are read before the key is judged so that after KEY_TOO_LONG (as after TOO_LARGE) data_len
 * still tells the caller how many data bytes to swallow. BAD_FORMAT leaves data_len 0. */
static enum mc_parse_result mc_parse_storage(const uint8_t *line, const struct mc_tok *a,
                                             uint32_t n, const struct mc_limits *limits,
                                             struct mc_req *req)
{
    enum mc_parse_result r;
    uint64_t v;

    if (!mc_tok_uint(line, a[1], UINT32_MAX, &v))
        return MC_PARSE_BAD_FORMAT;
    req->flags = (uint32_t)v;
    if (!mc_tok_int(line, a[2]))
        return MC_PARSE_BAD_FORMAT;
    if (!mc_tok_uint(line, a[3], UINT32_MAX, &v))
        return MC_PARSE_BAD_FORMAT;
    if (n == 5 && !mc_tok_uint(line, a[4], UINT64_MAX, &req->cas))
        return MC_PARSE_BAD_FORMAT;
    r = mc_check_key(line, a[0], limits);
    if (r == MC_PARSE_BAD_FORMAT)
        return r;
    req->data_len = v;
    if (r != MC_PARSE_OK)
        return r;
    r = mc_set_key(line, a[0], limits, req);
    if (r != MC_PARSE_OK)
        return r;
    if (v > limits->max_value_size)
        return MC_PARSE_TOO_LARGE;
    return MC_PARSE_OK;
}

static enum mc_parse_result mc_parse_args(const uint8_t *line, const struct mc_tok *a, uint32_t n,
                                          const struct mc_limits *limits, struct mc_req *req)
{
    uint64_t v;

    switch (req->cmd) {
    case MC_SET:
    case MC_ADD:
    case MC_REPLACE:
    case MC_APPEND:
    case MC_PREPEND:
    case MC_CAS:
        return mc_parse_storage(line, a, n, limits, req);
    case MC_DELETE:
        /* memcached still accepts the legacy "delete <key> 0" (a zero hold time). */
        if (n == 2 && !mc_tok_is(line, a[1], "0", 1))
            return MC_PARSE_BAD_FORMAT;
        return mc_set_key(line, a[0], limits, req);
    case MC_INCR:
    case MC_DECR:
        if (!mc_tok_uint(line, a[1], UINT64_MAX, &req->delta))
            return MC_PARSE_BAD_FORMAT;
        return mc_set_key(line, a[0], limits, req);
    case MC_TOUCH:
        if (!mc_tok_int(line, a[1]))
            return MC_PARSE_BAD_FORMAT;
        return mc_set_key(line, a[0], limits, req);
    case MC_FLUSH_ALL:
        if (n == 1 && !mc_tok_int(line, a[0]))
            return MC_PARSE_BAD_FORMAT;
        return MC_PARSE_OK;
    case MC_VERBOSITY:
        if (!mc_tok_uint(line, a[0], UINT32_MAX, &v))
            return MC_PARSE_BAD_FORMAT;
        return MC_PARSE_OK;
    default:
        /* version, quit, stats: the arity check was all there is. */
        return MC_PARSE_OK;
    }
}

enum mc_parse_result mc_req_parse_line(const uint8_t *line, size_t len,
                                       const struct mc_limits *limits, struct mc_req *req)
{
    const struct mc_cmd_info *info;
    struct mc_tok a[MC_ARGS_MAX + 1];
    struct mc_tok t;
    size_t end = len;
    size_t pos = 0;
    uint32_t n = 0;
    uint32_t max;
    bool can_noreply;

    req->cmd = MC_CMD_NONE;
    req->noreply = false;
    req->nkeys = 0;
    req->name = (struct mc_tok){0, 0};
    req->exptime = (struct mc_tok){0, 0};
    req->flags = 0;
    req->data_len = 0;
    req->cas = 0;
    req->delta = 0;
    req->line_end = 0;

    /* Offsets are 32-bit and every cap is too, so no such line is a command we know (and
     * BAD_FORMAT always names its command). */
    if (len > UINT32_MAX)
        return MC_PARSE_UNKNOWN;
    if (end > 0 && line[end - 1] == '\n') {
        end--;
        if (end > 0 && line[end - 1] == '\r')
            end--;
    }
    req->line_end = (uint32_t)end;

    if (!mc_next_token(line, end, &pos, &t))
        return MC_PARSE_EMPTY;
    req->name = t;
    req->cmd = mc_cmd_lookup((const char *)line + t.off, t.len);
    if (req->cmd == MC_CMD_NONE)
        return MC_PARSE_UNKNOWN;
    info = mc_cmd_info(req->cmd);
    if (info->kind == MC_KIND_RETRIEVAL)
        return mc_parse_retrieval(line, end, pos, info, limits, req);

    max = (uint32_t)info->max_args;
    while (n <= max && mc_next_token(line, end, &pos, &a[n]))
        n++;
    if (n > max)
        return MC_PARSE_BAD_FORMAT;

    /* A trailing "noreply" is the option only when the positional arguments are all there:
     * "touch k noreply" is a touch with a bad exptime, not a silent one. */
    can_noreply = info->kind != MC_KIND_LOCAL;
    if (can_noreply && n > (uint32_t)info->min_args && mc_tok_is(line, a[n - 1], "noreply", 7)) {
        req->noreply = true;
        n--;
    }
    if (n < (uint32_t)info->min_args || (can_noreply && n == max))
        return MC_PARSE_BAD_FORMAT;
    return mc_parse_args(line, a, n, limits, req);
}

const char *mc_parse_reason(enum mc_parse_result r)
{
    switch (r) {
    case MC_PARSE_OK:
        return "ok";
    case MC_PARSE_UNKNOWN:
        return "unknown command";
    case MC_PARSE_BAD_FORMAT:
        return "bad command line format";
    case MC_PARSE_KEY_TOO_LONG:
        return "key too long";
    case MC_PARSE_TOO_LARGE:
        return "value too large";
    case MC_PARSE_TOO_MANY_KEYS:
        return "too many keys";
    case MC_PARSE_EMPTY:
        return "empty command line";
    }
    return "bad request";
}
