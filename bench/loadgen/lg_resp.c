/* Resumable RESP2 reply parser (see lg_resp.h). */
#include "lg_resp.h"

#include <string.h>

/* ST_END: a reply has just ended; its last line stays readable until more is fed */
enum { ST_LINE, ST_DATA, ST_DATA_CR, ST_DATA_LF, ST_END };

void lg_resp_parser_init(struct lg_resp_parser *p)
{
    memset(p, 0, sizeof(*p));
    p->state = ST_LINE;
}

const char *lg_resp_last_line(const struct lg_resp_parser *p, size_t *len)
{
    size_t n = p->line_len < LG_RESP_LINE_KEEP ? p->line_len : LG_RESP_LINE_KEEP;
    while (n > 0 && (p->line[n - 1] == '\n' || p->line[n - 1] == '\r'))
        n--;
    if (n == 0) {
        *len = 0;
        return p->line;
    }
    *len = n - 1;
    return p->line + 1;
}

/* A signed decimal filling s[0..len) exactly; returns 0, or -1. */
static int parse_int(const char *s, size_t len, int64_t *v)
{
    size_t i = 0;
    bool neg = false;
    if (len > 0 && s[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i == len || len - i > 18)
        return -1;
    int64_t x = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        x = x * 10 + (s[i] - '0');
    }
    *v = neg ? -x : x;
    return 0;
}

enum { V_MORE, V_DONE };

/* One value (scalar or whole array) has ended: count it against the open arrays. Returns
 * V_DONE when that completed the top-level reply. */
static int value_end(struct lg_resp_parser *p)
{
    for (;;) {
        if (p->depth == 0)
            return V_DONE;
        if (--p->left[p->depth - 1] > 0)
            return V_MORE;
        p->depth--; /* the array is complete: it is itself a value of its parent */
    }
}

enum { LINE_MORE, LINE_DONE, LINE_BAD };

/* A complete line is in p->line (p->line_len bytes, "\r\n" included). */
static int end_line(struct lg_resp_parser *p)
{
    if (p->line_len < 3)
        return LINE_BAD;
    if (!p->truncated && p->line[p->line_len - 2] != '\r')
        return LINE_BAD;
    char type = p->line[0];
    const char *arg = p->line + 1;
    size_t alen = p->line_len - 3;
    bool top = p->depth == 0;
    int64_t n;

    if (p->truncated && type != '-' && type != '+')
        return LINE_BAD;
    switch (type) {
    case '+':
        if (top)
            p->cur.kind = LG_RESP_SIMPLE;
        break;
    case '-':
        if (top)
            p->cur.kind = LG_RESP_ERR;
        p->cur.errors++;
        break;
    case ':':
        if (parse_int(arg, alen, &n) < 0)
            return LINE_BAD;
        if (top)
            p->cur.kind = LG_RESP_INT;
        break;
    case '$':
        if (parse_int(arg, alen, &n) < 0 || n < -1 || n > LG_RESP_BULK_MAX)
            return LINE_BAD;
        if (n == -1) {
            if (top)
                p->cur.kind = LG_RESP_NIL;
            p->cur.nils++;
            break;
        }
        if (top)
            p->cur.kind = LG_RESP_BULK;
        p->cur.bulks++;
        p->data_left = (uint64_t)n;
        p->state = ST_DATA;
        return LINE_MORE;
    case '*':
        if (parse_int(arg, alen, &n) < 0 || n < -1 || n > LG_RESP_ARRAY_MAX)
            return LINE_BAD;
        if (top) {
            p->cur.kind = n == -1 ? LG_RESP_NIL : LG_RESP_ARRAY;
            p->cur.elems = n > 0 ? (uint32_t)n : 0;
        }
        if (n == -1) {
            p->cur.nils++;
            break;
        }
        if (n == 0)
            break;
        if (p->depth == LG_RESP_DEPTH_MAX)
            return LINE_BAD;
        p->left[p->depth++] = n;
        return LINE_MORE;
    default:
        return LINE_BAD;
    }
    return value_end(p) == V_DONE ? LINE_DONE : LINE_MORE;
}

enum lg_resp_status lg_resp_feed(struct lg_resp_parser *p, const char *buf, size_t len,
                                 size_t *consumed, struct lg_resp_reply *out)
{
    size_t pos = 0;
    while (pos < len) {
        switch (p->state) {
        case ST_LINE: {
            if (p->line_len == 0)
                p->truncated = false;
            const char *nl = memchr(buf + pos, '\n', len - pos);
            size_t take = nl ? (size_t)(nl - (buf + pos)) + 1 : len - pos;
            if (p->line_len < LG_RESP_LINE_KEEP) {
                size_t room = LG_RESP_LINE_KEEP - p->line_len;
                memcpy(p->line + p->line_len, buf + pos, take < room ? take : room);
                if (take > room)
                    p->truncated = true;
            } else {
                p->truncated = true;
            }
            if (take > LG_RESP_LINE_MAX - p->line_len) {
                *consumed = pos;
                return LG_RESP_BAD;
            }
            p->line_len += (uint32_t)take;
            pos += take;
            if (!nl)
                break;
            int r = end_line(p);
            if (r == LINE_BAD) {
                *consumed = pos;
                return LG_RESP_BAD;
            }
            if (r == LINE_DONE) {
                *out = p->cur;
                memset(&p->cur, 0, sizeof(p->cur));
                p->state = ST_END;
                *consumed = pos;
                return LG_RESP_DONE;
            }
            if (p->state == ST_LINE)
                p->line_len = 0;
            break;
        }
        case ST_DATA: {
            size_t n = len - pos;
            if (n > p->data_left)
                n = (size_t)p->data_left;
            p->data_left -= n;
            pos += n;
            if (p->data_left == 0)
                p->state = ST_DATA_CR;
            break;
        }
        case ST_DATA_CR:
            if (buf[pos++] != '\r') {
                *consumed = pos;
                return LG_RESP_BAD;
            }
            p->state = ST_DATA_LF;
            break;
        case ST_DATA_LF:
            if (buf[pos++] != '\n') {
                *consumed = pos;
                return LG_RESP_BAD;
            }
            p->state = ST_LINE;
            p->line_len = 0;
            if (value_end(p) == V_DONE) {
                *out = p->cur;
                memset(&p->cur, 0, sizeof(p->cur));
                p->state = ST_END;
                *consumed = pos;
                return LG_RESP_DONE;
            }
            break;
        case ST_END:
        default:
            p->state = ST_LINE;
            p->line_len = 0;
            break;
        }
    }
    *consumed = pos;
    return LG_RESP_AGAIN;
}
