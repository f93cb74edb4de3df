/* RESP requests: the resumable request framer (redis 7.0's processMultibulkBuffer and
 * processInlineBuffer, verdict for verdict) and the inline tokenizer (its sdssplitargs). */
#include "proto/rd_req.h"

#include <limits.h>
#include <string.h>

/* ---- numbers: redis's string2ll, a byte at a time ---- */

enum {
    RD_NF_NEG = 1u << 0,    /* a leading '-' */
    RD_NF_DIGITS = 1u << 1, /* at least one digit */
    RD_NF_ZERO = 1u << 2,   /* the first digit is '0': nothing may follow it */
    RD_NF_BAD = 1u << 3,    /* not a number string2ll takes */
    RD_NF_NUL = 1u << 4,    /* a NUL before the line's end: redis's strchr never finds it */
};

/* string2ll refuses 21 characters or more (LONG_STR_SIZE). A number it takes has at most 20
 * anyway (no leading zeros, int64), so this only says where the check comes from. */
#define RD_NUM_CHARS_MAX 20

static void rd_num_reset(struct rd_req_framer *f)
{
    f->num = 0;
    f->numflags = 0;
}

/* One more character c, the nchars-th (from 1) after the line's '*' or '$'. Magnitudes are
 * accumulated with the sign, so that leaving int64 is where string2ll would fail too (its
 * unsigned accumulator only goes further than that before it also refuses). */
static void rd_num_push(struct rd_req_framer *f, uint8_t c, uint32_t nchars)
{
    int64_t d;

    if (f->numflags & RD_NF_BAD)
        return;
    if (nchars > RD_NUM_CHARS_MAX)
        goto out_bad;
    if (c == '-' && nchars == 1) {
        f->numflags |= RD_NF_NEG;
        return;
    }
    if (c < '0' || c > '9')
        goto out_bad;
    d = c - '0';
    if (!(f->numflags & RD_NF_DIGITS)) {
        f->numflags |= RD_NF_DIGITS;
        if (d == 0) {
            /* "0" alone is a number, "-0" and "01" are not */
            if (f->numflags & RD_NF_NEG)
                goto out_bad;
            f->numflags |= RD_NF_ZERO;
            return;
        }
        f->num = f->numflags & RD_NF_NEG ? -d : d;
        return;
    }
    if (f->numflags & RD_NF_ZERO)
        goto out_bad;
    if (f->numflags & RD_NF_NEG) {
        if (f->num < (INT64_MIN + d) / 10)
            goto out_bad;
        f->num = f->num * 10 - d;
    } else {
        if (f->num > (INT64_MAX - d) / 10)
            goto out_bad;
        f->num = f->num * 10 + d;
    }
    return;

out_bad:
    f->numflags |= RD_NF_BAD;
}

static bool rd_num_ok(const struct rd_req_framer *f)
{
    return (f->numflags & (RD_NF_DIGITS | RD_NF_BAD)) == RD_NF_DIGITS;
}

/* ---- "expected '$', got 'X'" ---- */

/* redis formats the byte with %c and then turns '\r' and '\n' into spaces (addReplyErrorFormat);
 * the framer cannot format into memory of its own, so every text is in this table. A NUL never
 * gets here (it hides the end of the line). */
/* clang-format off */
#define RD_EXP_BYTE(c) ((c) == '\r' || (c) == '\n' ? ' ' : (char)(c))
#define RD_EXP(c)                                                                                  \
    {'e', 'x', 'p', 'e', 'c', 't', 'e', 'd', ' ', '\'', '$', '\'', ',', ' ', 'g', 'o', 't', ' ',  \
     '\'', RD_EXP_BYTE(c), '\'', '\0'}
#define RD_EXP4(c)  RD_EXP(c), RD_EXP((c) + 1), RD_EXP((c) + 2), RD_EXP((c) + 3)
#define RD_EXP16(c) RD_EXP4(c), RD_EXP4((c) + 4), RD_EXP4((c) + 8), RD_EXP4((c) + 12)
#define RD_EXP64(c) RD_EXP16(c), RD_EXP16((c) + 16), RD_EXP16((c) + 32), RD_EXP16((c) + 48)
/* clang-format on */

static const char rd_expected_dollar[256][sizeof("expected '$', got 'X'")] = {
    RD_EXP64(0),
    RD_EXP64(64),
    RD_EXP64(128),
    RD_EXP64(192),
};

#undef RD_EXP64
#undef RD_EXP16
#undef RD_EXP4
#undef RD_EXP
#undef RD_EXP_BYTE

/* ---- framer ---- */

void rd_req_framer_init(struct rd_req_framer *f)
{
    memset(f, 0, sizeof(*f));
    f->state = RD_RS_START;
}

/* A new request: what the caller read of the previous one goes. */
static void rd_req_reset(struct rd_req_framer *f)
{
    f->is_inline = false;
    f->argc = 0;
    f->argi = 0;
    f->req_off = 0;
    f->arg_off = 0;
    f->arg_len = 0;
    f->data_left = 0;
    f->line_len = 0;
    f->lead = 0;
    rd_num_reset(f);
}

enum rd_line { RD_LINE_MORE, RD_LINE_CR, RD_LINE_TOO_BIG };

/* Runs a "*N" or "$N" line over p[0, n) up to its '\r': the first byte is the lead (kept in
 * f->lead), the rest goes to the number. *used: bytes consumed (the '\r' included; on
 * RD_LINE_TOO_BIG the byte past the cap is not). */
static enum rd_line rd_count_line(struct rd_req_framer *f, uint32_t max_inline, const uint8_t *p,
                                  size_t n, size_t *used)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];

        if (f->line_len == 0)
            f->lead = c;
        if (c == '\r' && !(f->numflags & RD_NF_NUL)) {
            f->line_len++;
            *used = i + 1;
            return RD_LINE_CR;
        }
        if (f->line_len >= max_inline) {
            *used = i;
            return RD_LINE_TOO_BIG;
        }
        f->line_len++;
        if (c == '\0')
            f->numflags |= RD_NF_NUL;
        else if (f->line_len > 1 && !(f->numflags & RD_NF_NUL))
            rd_num_push(f, c, f->line_len - 1);
    }
    *used = n;
    return RD_LINE_MORE;
}

/* Runs an inline line over p[0, n) up to its '\n'; as rd_count_line. */
static enum rd_line rd_inline_line(struct rd_req_framer *f, uint32_t max_inline, const uint8_t *p,
                                   size_t n, size_t *used)
{
    size_t pos = 0;

    while (pos < n) {
        /* room: bytes that may still come before the '\n' */
        uint64_t room = (uint64_t)max_inline - f->line_len;
        size_t w = (uint64_t)(n - pos) <= room ? n - pos : (size_t)room + 1;
        const uint8_t *nl = NULL, *nul;
        size_t k;

        if (!(f->numflags & RD_NF_NUL))
            nl = memchr(p + pos, '\n', w);
        /* the bytes before the newline (or all that may be taken) */
        k = nl != NULL ? (size_t)(nl - (p + pos)) : (w <= room ? w : (size_t)room);
        nul = f->numflags & RD_NF_NUL ? NULL : memchr(p + pos, '\0', k);
        if (nul != NULL) {
            /* from here on the line cannot end: the newline redis looks for is behind it */
            k = (size_t)(nul - (p + pos)) + 1;
            f->numflags |= RD_NF_NUL;
            f->line_len += (uint32_t)k;
            pos += k;
            continue;
        }
        f->line_len += (uint32_t)k;
        pos += k;
        if (nl != NULL) {
            f->line_len++;
            *used = pos + 1;
            return RD_LINE_CR;
        }
        if (w > room) {
            *used = pos;
            return RD_LINE_TOO_BIG;
        }
    }
    *used = pos;
    return RD_LINE_MORE;
}

enum rd_req_ev rd_req_feed(struct rd_req_framer *f, const struct rd_limits *lim, const uint8_t *buf,
                           size_t len, size_t *consumed)
{
    size_t pos = 0, used;
    enum rd_req_ev ev;

    switch (f->state) {
    case RD_RS_START:
        rd_req_reset(f);
        break;
    case RD_RS_NEXT:
        f->argi++;
        f->line_len = 0;
        f->state = RD_RS_DOLLAR;
        break;
    case RD_RS_ERROR:
        *consumed = 0;
        return RD_REQ_ERROR;
    default:
        break;
    }

    for (;;) {
        switch (f->state) {
        case RD_RS_START:
            if (pos == len)
                goto out_again;
            /* the first byte decides, as in processInputBuffer */
            if (buf[pos] == '*') {
                f->state = RD_RS_ARGC;
            } else {
                f->is_inline = true;
                f->state = RD_RS_INLINE;
            }
            break;

        case RD_RS_ARGC:
        case RD_RS_DOLLAR:
        case RD_RS_LEN: {
            enum rd_line r;

            if (pos == len)
                goto out_again;
            if (f->state == RD_RS_DOLLAR) {
                rd_num_reset(f);
                f->line_len = 0;
                f->state = RD_RS_LEN;
            }
            r = rd_count_line(f, lim->max_inline, buf + pos, len - pos, &used);
            pos += used;
            if (r == RD_LINE_MORE)
                goto out_again;
            if (r == RD_LINE_TOO_BIG) {
                f->error = f->state == RD_RS_ARGC ? "too big mbulk count string"
                                                  : "too big bulk count string";
                goto out_error;
            }
            f->state = f->state == RD_RS_ARGC ? RD_RS_ARGC_LF : RD_RS_LEN_LF;
            break;
        }

        case RD_RS_ARGC_LF:
            /* redis wants one more byte after the '\r', whatever it is */
            if (pos == len)
                goto out_again;
            pos++;
            f->line_len++;
            if (!rd_num_ok(f) || f->num > (int64_t)lim->max_args) {
                f->error = "invalid multibulk length";
                goto out_error;
            }
            if (lim->unauth && f->num > (int64_t)RD_UNAUTH_ARGS) {
                f->error = "unauthenticated multibulk length";
                goto out_error;
            }
            if (f->num <= 0) {
                /* "*0", "*-1": an empty request, which redis skips */
                f->argc = 0;
                f->state = RD_RS_START;
                ev = RD_REQ_DONE;
                goto out_event;
            }
            f->argc = (uint32_t)f->num;
            f->argi = 0;
            f->state = RD_RS_DOLLAR;
            break;

        case RD_RS_LEN_LF:
            if (pos == len)
                goto out_again;
            pos++;
            f->line_len++;
            if (f->lead != '$') {
                f->error = rd_expected_dollar[f->lead];
                goto out_error;
            }
            if (!rd_num_ok(f) || f->num < 0 || (uint64_t)f->num > lim->max_bulk) {
                f->error = "invalid bulk length";
                goto out_error;
            }
            if (lim->unauth && f->num > (int64_t)RD_UNAUTH_BULK) {
                f->error = "unauthenticated bulk length";
                goto out_error;
            }
            f->arg_off = f->req_off + pos;
            f->arg_len = (uint64_t)f->num;
            f->data_left = f->arg_len;
            f->state = RD_RS_DATA;
            break;

        case RD_RS_DATA: {
            size_t n = len - pos;

            if (f->data_left > 0) {
                if (n == 0)
                    goto out_again;
                if (n > f->data_left)
                    n = (size_t)f->data_left;
                f->data_left -= n;
                pos += n;
                if (f->data_left > 0)
                    goto out_again;
            }
            /* the two bytes after the payload: redis skips them without a look */
            f->data_left = 2;
            f->state = RD_RS_DATA_END;
            break;
        }

        case RD_RS_DATA_END: {
            size_t n = len - pos;

            if (n > f->data_left)
                n = (size_t)f->data_left;
            f->data_left -= n;
            pos += n;
            if (f->data_left > 0)
                goto out_again;
            if (f->argi + 1 == f->argc) {
                f->state = RD_RS_START;
                ev = RD_REQ_DONE;
            } else {
                f->state = RD_RS_NEXT;
                ev = RD_REQ_ARG;
            }
            goto out_event;
        }

        case RD_RS_INLINE: {
            enum rd_line r;

            if (pos == len)
                goto out_again;
            r = rd_inline_line(f, lim->max_inline, buf + pos, len - pos, &used);
            pos += used;
            if (r == RD_LINE_MORE)
                goto out_again;
            if (r == RD_LINE_TOO_BIG) {
                f->error = "too big inline request";
                goto out_error;
            }
            f->state = RD_RS_START;
            ev = RD_REQ_INLINE;
            goto out_event;
        }

        default:
            f->error = "bad framer state";
            goto out_error;
        }
    }

out_again:
    ev = RD_REQ_AGAIN;
out_event:
    f->req_off += pos;
    *consumed = pos;
    return ev;

out_error:
    f->state = RD_RS_ERROR;
    f->req_off += pos;
    *consumed = pos;
    return RD_REQ_ERROR;
}

/* ---- inline tokenizer: sdssplitargs ---- */

/* isspace() in the C locale, which redis keeps for LC_CTYPE */
static bool rd_isspace(uint8_t c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static bool rd_ishex(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static uint8_t rd_hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return (uint8_t)(c - '0');
    if (c >= 'a' && c <= 'f')
        return (uint8_t)(c - 'a' + 10);
    return (uint8_t)(c - 'A' + 10);
}

/* The byte at i of a C string of length len: sdssplitargs looks past the end and finds the
 * terminating NUL. */
static uint8_t rd_at(const uint8_t *s, size_t len, size_t i)
{
    return i < len ? s[i] : 0;
}

/* One token of sdssplitargs from s[*pos] (not a space, not the end): its bytes end at the
 * first separator outside quotes, or right after a closing quote (which must be followed by a
 * space or the end). When out is not NULL, writes the decoded bytes to it. Returns the decoded
 * length, or -1 for unbalanced quotes; *quoted says whether quotes were met. */
static int64_t rd_token(const uint8_t *s, size_t len, size_t *pos, bool *quoted, uint8_t *out)
{
    enum { RD_Q_NONE, RD_Q_DOUBLE, RD_Q_SINGLE } q = RD_Q_NONE;
    size_t i = *pos;
    int64_t n = 0;

    *quoted = false;
    for (;;) {
        uint8_t c = rd_at(s, len, i), b;

        switch (q) {
        case RD_Q_DOUBLE:
            if (c == '\\' && rd_at(s, len, i + 1) == 'x' && rd_ishex(rd_at(s, len, i + 2)) &&
                rd_ishex(rd_at(s, len, i + 3))) {
                b = (uint8_t)(rd_hexval(s[i + 2]) * 16 + rd_hexval(s[i + 3]));
                i += 4;
            } else if (c == '\\' && rd_at(s, len, i + 1) != 0) {
                switch (s[i + 1]) {
                case 'n':
                    b = '\n';
                    break;
                case 'r':
                    b = '\r';
                    break;
                case 't':
                    b = '\t';
                    break;
                case 'b':
                    b = '\b';
                    break;
                case 'a':
                    b = '\a';
                    break;
                default:
                    b = s[i + 1];
                    break;
                }
                i += 2;
            } else if (c == '"') {
                c = rd_at(s, len, i + 1);
                if (c != 0 && !rd_isspace(c))
                    return -1;
                *pos = i + 1;
                return n;
            } else if (c == 0) {
                return -1;
            } else {
                b = c;
                i++;
            }
            break;
        case RD_Q_SINGLE:
            if (c == '\\' && rd_at(s, len, i + 1) == '\'') {
                b = '\'';
                i += 2;
            } else if (c == '\'') {
                c = rd_at(s, len, i + 1);
                if (c != 0 && !rd_isspace(c))
                    return -1;
                *pos = i + 1;
                return n;
            } else if (c == 0) {
                return -1;
            } else {
                b = c;
                i++;
            }
            break;
        case RD_Q_NONE:
        default:
            /* only these end a bare token: "a\vb" is one token (but a leading \v is skipped) */
            if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == 0) {
                *pos = i;
                return n;
            }
            i++;
            if (c == '"' || c == '\'') {
                /* a quote opens even in the middle of a token: a"b c" is "ab c" */
                q = c == '"' ? RD_Q_DOUBLE : RD_Q_SINGLE;
                *quoted = true;
                continue;
            }
            b = c;
            break;
        }
        if (out != NULL)
            out[n] = b;
        n++;
    }
}

int rd_inline_split(const uint8_t *line, size_t len, struct rd_itok *toks, uint32_t cap)
{
    const uint8_t *nul;
    size_t pos = 0;
    int ntok = 0;

    /* offsets are 32-bit; the framer's lines are far shorter */
    if (len > INT_MAX)
        return -1;
    /* redis splits a C string: a NUL ends it (the framer never gives one) */
    nul = memchr(line, '\0', len);
    if (nul != NULL)
        len = (size_t)(nul - line);
    for (;;) {
        size_t start;
        bool quoted;
        int64_t dlen;

        while (pos < len && rd_isspace(line[pos]))
            pos++;
        if (pos == len)
            return ntok;
        start = pos;
        dlen = rd_token(line, len, &pos, &quoted, NULL);
        if (dlen < 0)
            return -1;
        if ((uint32_t)ntok < cap) {
            toks[ntok].off = (uint32_t)start;
            toks[ntok].len = (uint32_t)(pos - start);
            toks[ntok].dlen = (uint32_t)dlen;
            toks[ntok].quoted = quoted;
        }
        ntok++;
    }
}

void rd_inline_unquote(const uint8_t *line, const struct rd_itok *tok, uint8_t *out)
{
    size_t pos = 0;
    bool quoted;

    if (!tok->quoted) {
        memcpy(out, line + tok->off, tok->len);
        return;
    }
    /* the token was split from this line, so its closing quote is its last byte and nothing
     * is read past it */
    (void)rd_token(line + tok->off, tok->len, &pos, &quoted, out);
}
