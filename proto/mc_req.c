/* memcached ASCII requests: the resumable request framer and the command-line tokenizer. */
#include "proto/mc_req.h"

#include <assert.h>
#include <limits.h>
#include <string.h>

/* memcached's tokenizer stops after this many tokens (its MAX_TOKENS, 24, less the terminal
 * one); what is left of the line counts as one more, so a longer line fails any bounded
 * arity. Retrieval commands go on to the line's end. */
#define MC_TOKENS_MAX 23

/* Every bounded row of the table must fit the token array of one line. */
#define MC_ARGS_CHECK(e, nm, k, mn, mx, key, nr)                                                   \
    _Static_assert((mx) < MC_TOKENS_MAX, "too many arguments for " nm);
MC_CMD_TABLE(MC_ARGS_CHECK)
#undef MC_ARGS_CHECK

/* ---- framer ---- */

void mc_framer_init(struct mc_framer *p, bool discard_data)
{
    p->state = MC_FS_LINE;
    p->line_len = 0;
    p->data_left = 0;
    p->discard = discard_data;
    p->lenient = true;
    p->bad_chunk = false;
    p->lead = 0;
    p->lead_spaces = 0;
    p->lead_word = 0;
    p->error = NULL;
}

/* What the start of a request line says about how long it may be: past memcached's read
 * buffer (MC_PLAIN_LINE_MAX), only a line that, after at most 100 spaces, starts with "get "
 * or "gets " goes on (memcached's test once 2048 bytes have come without a newline). */
enum mc_lead { MC_LEAD_OPEN = 0, MC_LEAD_GET, MC_LEAD_OTHER };

/* Looks at the first bytes of the line in buf[0, len) until the verdict is known (at most
 * 100 spaces and 5 bytes of a word) or the line ends: a newline is not part of a word, and
 * the framer finds it. */
static void mc_lead_scan(struct mc_framer *p, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len && p->lead == MC_LEAD_OPEN; i++) {
        uint8_t b = buf[i];

        if (b == '\n')
            return;
        if (p->lead_word == 0 && b == ' ') {
            if (++p->lead_spaces > 100)
                p->lead = MC_LEAD_OTHER;
            continue;
        }
        switch (p->lead_word++) {
        case 0:
            p->lead = b == 'g' ? MC_LEAD_OPEN : MC_LEAD_OTHER;
            break;
        case 1:
            p->lead = b == 'e' ? MC_LEAD_OPEN : MC_LEAD_OTHER;
            break;
        case 2:
            p->lead = b == 't' ? MC_LEAD_OPEN : MC_LEAD_OTHER;
            break;
        case 3:
            p->lead = b == ' ' ? MC_LEAD_GET : b == 's' ? MC_LEAD_OPEN : MC_LEAD_OTHER;
            break;
        default:
            p->lead = b == ' ' ? MC_LEAD_GET : MC_LEAD_OTHER;
            break;
        }
    }
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
    uint32_t cap = limits->max_line;

    if (p->state == MC_FS_LINE_DONE) {
        /* the caller asked for no data block: the line was the whole request */
        mc_framer_next(p);
        *consumed = 0;
        return MC_DONE;
    }
    if (p->state == MC_FS_LINE) {
        if (p->line_len == 0) {
            p->lead = MC_LEAD_OPEN;
            p->lead_spaces = 0;
            p->lead_word = 0;
            p->bad_chunk = false;
        }
        if (p->lead == MC_LEAD_OPEN) {
            /* only bytes within the cap count, so that the verdict does not depend on how the
             * line was split; the scan stops by itself within 106 bytes */
            size_t room = cap > p->line_len ? cap - p->line_len : 0;
            mc_lead_scan(p, buf, len < room ? len : room);
        }
        /* an undecided lead has seen at most 105 bytes: far under either cap */
        if (p->lead != MC_LEAD_GET && cap > MC_PLAIN_LINE_MAX)
            cap = MC_PLAIN_LINE_MAX;
    }
    switch (mc_frame_run(p, cap, buf, len, consumed)) {
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
    p->bad_chunk = false;
}

bool mc_framer_silent_close(const struct mc_framer *p)
{
    return p->lead != MC_LEAD_GET;
}

bool mc_framer_line_overdue(const struct mc_framer *p)
{
    return p->state == MC_FS_LINE && p->line_len > MC_PLAIN_LINE_WAIT && p->lead != MC_LEAD_GET;
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

/* isspace() in the C locale, less ' ' and '\n' (neither can be inside a token). */
static bool mc_is_space(uint8_t b)
{
    return b == '\t' || b == '\v' || b == '\f' || b == '\r';
}

/* A number read as glibc's strtoull/strtoll read one token: white space, a sign, digits. */
struct mc_num {
    bool ok;       /* digits were found, and after them the token ends or white space follows
                    * (memcached's safe_strto* test) */
    bool neg;      /* a '-' sign */
    bool over;     /* the magnitude does not fit 64 bits */
    bool has_dash; /* a '-' anywhere in the token (memcached looks for one with strchr) */
    uint64_t mag;  /* the magnitude (when !over) */
};

static struct mc_num mc_read_num(const uint8_t *s, size_t len)
{
    struct mc_num n = {0};
    size_t i = 0;
    size_t digits;

    n.has_dash = memchr(s, '-', len) != NULL;
    while (i < len && mc_is_space(s[i]))
        i++;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        n.neg = s[i++] == '-';
    digits = i;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        unsigned d = (unsigned)(s[i] - '0');

        if (n.mag > (UINT64_MAX - d) / 10)
            n.over = true;
        else
            n.mag = n.mag * 10 + d;
    }
    n.ok = i > digits && (i == len || mc_is_space(s[i]));
    return n;
}

/* memcached's safe_strtoull: strtoull (a '-' negates modulo 2^64), then refused if the result
 * reads as negative and the token holds a '-'. */
static bool mc_strtoull(const uint8_t *s, size_t len, uint64_t *out)
{
    struct mc_num n = mc_read_num(s, len);
    uint64_t v;

    if (!n.ok || n.over)
        return false;
    v = n.neg ? (uint64_t)0 - n.mag : n.mag;
    if ((int64_t)v < 0 && n.has_dash)
        return false;
    *out = v;
    return true;
}

/* memcached's safe_strtoul: the same on a 64-bit unsigned long, stored in 32 bits. */
static bool mc_strtoul32(const uint8_t *s, size_t len, uint32_t *out)
{
    uint64_t v;

    if (!mc_strtoull(s, len, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

/* memcached's safe_strtol: strtol on a 64-bit long (out of range is refused), stored in 32
 * bits. */
static bool mc_strtol32(const uint8_t *s, size_t len, int32_t *out)
{
    struct mc_num n = mc_read_num(s, len);

    if (!n.ok || n.over || n.mag > (n.neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
        return false;
    *out = (int32_t)(uint32_t)(n.neg ? (uint64_t)0 - n.mag : n.mag);
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

/* get gets gat gats bget: [exptime] key*. Every key is checked; the first req->key_cap are
 * stored. */
static enum mc_parse_result mc_parse_retrieval(const uint8_t *line, size_t end, size_t pos,
                                               const struct mc_cmd_info *info,
                                               const struct mc_limits *limits, struct mc_req *req)
{
    struct mc_tok t;
    uint64_t seen = 0;

    if (info->key_index == 1) {
        int32_t e;

        if (!mc_next_token(line, end, &pos, &t) || !mc_strtol32(line + t.off, t.len, &e))
            return MC_PARSE_BAD_EXPTIME;
        req->exptime = t;
    }
    while (mc_next_token(line, end, &pos, &t)) {
        if (t.len > limits->max_key_length)
            return MC_PARSE_BAD_FORMAT;
        if (seen < req->key_cap)
            req->keys[seen] = t;
        seen++;
    }
    if (seen == 0)
        return MC_PARSE_NO_KEYS; /* only "gat <exptime>" gets here: get needs a token */
    if (seen > req->key_cap) {
        req->nkeys = req->key_cap;
        return MC_PARSE_TOO_MANY_KEYS;
    }
    req->nkeys = (uint32_t)seen;
    return MC_PARSE_OK;
}

/* set add replace append prepend: key flags exptime bytes [noreply]; cas adds a cas unique
 * before noreply. memcached judges them in this order; a failure leaves no data block (the
 * bytes that follow are read as the next command). */
static enum mc_parse_result mc_parse_storage(const uint8_t *line, const struct mc_tok *a,
                                             const struct mc_limits *limits, struct mc_req *req)
{
    int32_t exptime, vlen;
    uint32_t flags;

    if (a[0].len > limits->max_key_length)
        return MC_PARSE_BAD_FORMAT;
    if (!mc_strtoul32(line + a[1].off, a[1].len, &flags) ||
        !mc_strtol32(line + a[2].off, a[2].len, &exptime) ||
        !mc_strtol32(line + a[3].off, a[3].len, &vlen))
        return MC_PARSE_BAD_FORMAT;
    if (req->cmd == MC_CAS && !mc_strtoull(line + a[4].off, a[4].len, &req->cas))
        return MC_PARSE_BAD_FORMAT;
    if (vlen < 0 || vlen > INT32_MAX - 2)
        return MC_PARSE_BAD_FORMAT;
    req->flags = flags;
    req->data_len = (uint64_t)vlen;
    if (req->key_cap < 1)
        return MC_PARSE_TOO_MANY_KEYS;
    req->keys[0] = a[0];
    req->nkeys = 1;
    if ((uint64_t)vlen > limits->max_value_size)
        return MC_PARSE_TOO_LARGE;
    return MC_PARSE_OK;
}

/* The one key of a keyed or meta command: too long is "bad command line format". */
static enum mc_parse_result mc_take_key(struct mc_tok key, const struct mc_limits *limits,
                                        struct mc_req *req)
{
    if (key.len > limits->max_key_length)
        return MC_PARSE_BAD_FORMAT;
    if (req->key_cap < 1)
        return MC_PARSE_TOO_MANY_KEYS;
    req->keys[0] = key;
    req->nkeys = 1;
    return MC_PARSE_OK;
}

/* delete incr decr touch: the key is judged (its server is where the request goes); the
 * rest is the server's to judge, except delete's arguments, which memcached checks first. */
static enum mc_parse_result mc_parse_keyed(const uint8_t *line, const struct mc_tok *a, uint32_t n,
                                           const struct mc_limits *limits, struct mc_req *req)
{
    if (req->cmd == MC_DELETE && n > 1) {
        bool zero = mc_tok_is(line, a[1], "0", 1);
        if (!((n == 2 && (zero || req->noreply)) || (n == 3 && zero && req->noreply)))
            return MC_PARSE_BAD_DELETE;
    }
    return mc_take_key(a[0], limits, req);
}

/* mg md ma me ms: key [data length (ms)] flag*. What memcached judges before anything reaches
 * a server is judged here, in its order: a missing key (me; the others fail their arity), the
 * key's length, and for ms the number of tokens and the data length (a failure there leaves no
 * data block). A bad flag and the like are the server's to answer, and so is a base64 key that
 * does not decode (memcached checks the flags first), except where the proxy answers itself: an
 * me (nothing else is checked) or an ms too large for the pool. q and b are read as memcached
 * reads every flag, by the first byte of its token. */
static enum mc_parse_result mc_parse_meta_line(const uint8_t *line, const struct mc_tok *a,
                                               uint32_t n, const struct mc_limits *limits,
                                               struct mc_req *req)
{
    uint32_t stored = n < MC_TOKENS_MAX - 1 ? n : MC_TOKENS_MAX - 1; /* tokens kept in a[] */
    int32_t vlen;

    if (n == 0)
        return MC_PARSE_BAD_FORMAT;
    enum mc_parse_result r = mc_take_key(a[0], limits, req);
    if (r != MC_PARSE_OK)
        return r;
    if (req->cmd == MC_ME) {
        /* me takes no flags but one: a lone "b" right after the key */
        req->b64 = n >= 2 && a[1].len == 1 && line[a[1].off] == 'b';
    } else {
        for (uint32_t i = req->cmd == MC_MS ? 2 : 1; i < stored; i++) {
            uint8_t f = line[a[i].off];
            req->quiet |= f == 'q';
            req->b64 |= f == 'b';
        }
    }
    if (req->b64)
        req->bkey_len =
            (uint32_t)mc_b64_decode(line + a[0].off, a[0].len, req->bkey, sizeof(req->bkey));
    if (req->cmd == MC_ME && req->b64 && req->bkey_len == 0)
        return MC_PARSE_BAD_FORMAT;
    if (req->cmd != MC_MS)
        return MC_PARSE_OK;
    if (n < 2)
        return MC_PARSE_BAD_FORMAT;
    if (n > MC_META_MAX_ARGS)
        return MC_PARSE_META_LONG;
    if (!mc_strtol32(line + a[1].off, a[1].len, &vlen) || vlen < 0 || vlen > INT32_MAX - 2)
        return MC_PARSE_BAD_FORMAT;
    req->data_len = (uint64_t)vlen;
    if ((uint64_t)vlen > limits->max_value_size)
        return req->b64 && req->bkey_len == 0 ? MC_PARSE_META_BAD_KEY : MC_PARSE_TOO_LARGE;
    return MC_PARSE_OK;
}

/* As every parse here, a line in error takes no key, unless a block is swallowed after it. */
static enum mc_parse_result mc_parse_meta(const uint8_t *line, const struct mc_tok *a, uint32_t n,
                                          const struct mc_limits *limits, struct mc_req *req)
{
    enum mc_parse_result r = mc_parse_meta_line(line, a, n, limits, req);

    if (r != MC_PARSE_OK && r != MC_PARSE_TOO_LARGE && r != MC_PARSE_META_BAD_KEY) {
        req->nkeys = 0;
        req->quiet = req->b64 = false;
        req->bkey_len = 0;
    }
    return r;
}

/* memcached's dispatch sends a word it does not know to "ERROR" at once when the word starts
 * like one of its commands (the branch for that first letter answers ERROR); only a word
 * that reaches the end of its chain is checked for an HTTP request. */
static bool mc_reaches_http_check(const uint8_t *line, struct mc_tok name)
{
    uint8_t first = line[name.off];

    if (first == 'm' && name.len == 2)
        return false;
    return memchr("gsacidt", first, 7) == NULL;
}

enum mc_parse_result mc_req_parse_line(const uint8_t *line, size_t len,
                                       const struct mc_limits *limits, struct mc_req *req)
{
    const struct mc_cmd_info *info;
    struct mc_tok a[MC_TOKENS_MAX];
    struct mc_tok t, last;
    const uint8_t *nul;
    size_t end = len;
    size_t pos = 0;
    uint32_t n = 0; /* tokens after the name, as memcached counts them */

    req->cmd = MC_CMD_NONE;
    req->noreply = false;
    req->nkeys = 0;
    req->name = (struct mc_tok){0, 0};
    req->exptime = (struct mc_tok){0, 0};
    req->sub = (struct mc_tok){0, 0};
    req->flags = 0;
    req->data_len = 0;
    req->cas = 0;
    req->line_end = 0;
    req->quiet = false;
    req->b64 = false;
    req->bkey_len = 0;

    /* Offsets are 32-bit, and every cap is too. */
    if (len > UINT32_MAX)
        return MC_PARSE_ERROR;
    /* memcached ends the line at its '\n', drops a '\r' before it unless that is the line's
     * only byte, and reads the rest as a C string: a NUL ends it. */
    if (end > 0 && line[end - 1] == '\n') {
        end--;
        if (end > 1 && line[end - 1] == '\r')
            end--;
    }
    nul = memchr(line, 0, end);
    if (nul != NULL)
        end = (size_t)(nul - line);
    req->line_end = (uint32_t)end;

    if (!mc_next_token(line, end, &pos, &t) || t.len < 2)
        return MC_PARSE_ERROR;
    req->name = t;
    req->cmd = mc_cmd_lookup((const char *)line + t.off, t.len);
    last = t;
    if (req->cmd == MC_CMD_NONE) {
        /* the last token memcached sees: the 23rd of a longer line */
        for (uint32_t k = 1; k < MC_TOKENS_MAX && mc_next_token(line, end, &pos, &t); k++)
            last = t;
        if (mc_reaches_http_check(line, req->name) && last.len >= 5 &&
            memcmp(line + last.off, "HTTP/", 5) == 0)
            return MC_PARSE_CLOSE;
        return MC_PARSE_ERROR;
    }
    info = mc_cmd_info(req->cmd);
    if (info->kind == MC_KIND_REFUSED)
        return MC_PARSE_ERROR;
    if (info->kind == MC_KIND_RETRIEVAL) {
        size_t probe = pos;
        if (!mc_next_token(line, end, &probe, &t))
            return MC_PARSE_ERROR; /* a retrieval needs one more token */
        return mc_parse_retrieval(line, end, pos, info, limits, req);
    }

    /* count up to the 22 tokens memcached keeps after the name, then whether more follow */
    while (n < MC_TOKENS_MAX - 1 && mc_next_token(line, end, &pos, &a[n]))
        n++;
    if (n == MC_TOKENS_MAX - 1 && mc_next_token(line, end, &pos, &t))
        n++; /* the rest of the line: one more token, whatever its length */
    if (n < (uint32_t)info->min_args || (info->max_args >= 0 && n > (uint32_t)info->max_args))
        return MC_PARSE_ERROR;
    if (info->kind == MC_KIND_LOCAL || info->kind == MC_KIND_ANY) {
        if (n > 0)
            req->sub = a[0];
        return MC_PARSE_OK;
    }
    /* every bounded command has fewer than 22 tokens here: a[n - 1] is the last */
    if (info->noreply_from >= 0 && n >= (uint32_t)info->noreply_from && n > 0 &&
        mc_tok_is(line, a[n - 1], "noreply", 7))
        req->noreply = true;

    switch (info->kind) {
    case MC_KIND_STORAGE:
        return mc_parse_storage(line, a, limits, req);
    case MC_KIND_KEYED:
        return mc_parse_keyed(line, a, n, limits, req);
    case MC_KIND_META:
    case MC_KIND_META_SET:
        return mc_parse_meta(line, a, n, limits, req);
    default:
        /* flush_all, verbosity: every server judges the arguments and answers alike */
        return MC_PARSE_OK;
    }
}

const char *mc_parse_reply(enum mc_parse_result r, uint32_t *len)
{
    static const char *const lines[] = {
        [MC_PARSE_ERROR] = "ERROR\r\n",
        [MC_PARSE_BAD_FORMAT] = "CLIENT_ERROR bad command line format\r\n",
        [MC_PARSE_BAD_DELETE] =
            "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n",
        [MC_PARSE_BAD_EXPTIME] = "CLIENT_ERROR invalid exptime argument\r\n",
        [MC_PARSE_NO_KEYS] = "END\r\n",
        [MC_PARSE_TOO_LARGE] = "SERVER_ERROR object too large for cache\r\n",
        [MC_PARSE_TOO_MANY_KEYS] = "SERVER_ERROR too many keys in one request\r\n",
        [MC_PARSE_META_LONG] = "CLIENT_ERROR options flags too long\r\n",
        [MC_PARSE_META_BAD_KEY] = "CLIENT_ERROR error decoding key\r\n",
    };
    const char *s = (unsigned)r < sizeof(lines) / sizeof(lines[0]) ? lines[r] : NULL;

    *len = s != NULL ? (uint32_t)strlen(s) : 0;
    return s;
}
