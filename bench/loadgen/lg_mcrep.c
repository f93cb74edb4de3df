/* Resumable memcached text reply parser (see lg_mcrep.h). */
#include "lg_mcrep.h"

#include <string.h>

/* ST_END: a reply has just ended; its last line stays readable until more is fed */
enum { ST_LINE, ST_DATA, ST_DATA_CR, ST_DATA_LF, ST_END };

void lg_mc_parser_init(struct lg_mc_parser *p)
{
    p->state = ST_LINE;
    p->truncated = false;
    p->line_len = 0;
    p->hits = 0;
    p->data_left = 0;
    p->meta = LG_MC_TEXT;
}

const char *lg_mc_last_line(const struct lg_mc_parser *p, size_t *len)
{
    size_t n = p->line_len < LG_MC_LINE_KEEP ? p->line_len : LG_MC_LINE_KEEP;
    while (n > 0 && (p->line[n - 1] == '\n' || p->line[n - 1] == '\r'))
        n--;
    *len = n;
    return p->line;
}

static bool starts(const char *s, size_t len, const char *word)
{
    size_t wl = strlen(word);
    return len >= wl && memcmp(s, word, wl) == 0 && (len == wl || s[wl] == ' ');
}

/* "VALUE <key> <flags> <bytes> [<cas>]": returns the data length, or -1. */
static int64_t value_len(const char *s, size_t len)
{
    size_t i = 6, tok = 0;
    int64_t bytes = -1;
    while (i < len) {
        while (i < len && s[i] == ' ')
            i++;
        if (i == len)
            break;
        size_t start = i;
        while (i < len && s[i] != ' ')
            i++;
        tok++;
        if (tok == 3) {
            uint64_t v = 0;
            for (size_t j = start; j < i; j++) {
                if (s[j] < '0' || s[j] > '9' || v > LG_MC_VALUE_MAX)
                    return -1;
                v = v * 10 + (uint64_t)(s[j] - '0');
            }
            if (v > LG_MC_VALUE_MAX)
                return -1;
            bytes = (int64_t)v;
        }
    }
    return (tok == 3 || tok == 4) ? bytes : -1;
}

enum { LINE_MORE, LINE_DONE, LINE_BAD };

/* A meta reply line s[0, len) (no "\r\n"). */
static int end_meta_line(struct lg_mc_parser *p, const char *s, size_t len, struct lg_mc_reply *out)
{
    if (starts(s, len, "VA")) {
        uint64_t v = 0;
        size_t i = 3;
        if (len < 4)
            return LINE_BAD;
        for (; i < len && s[i] != ' '; i++) {
            if (s[i] < '0' || s[i] > '9' || v > LG_MC_VALUE_MAX)
                return LINE_BAD;
            v = v * 10 + (uint64_t)(s[i] - '0');
        }
        if (i == 3 || v > LG_MC_VALUE_MAX)
            return LINE_BAD;
        p->hits++;
        p->data_left = v;
        p->state = ST_DATA;
        return LINE_MORE;
    }
    out->hits = p->hits;
    if (starts(s, len, "MN") || (starts(s, len, "EN") && p->meta == LG_MC_META_ONE)) {
        out->kind = LG_MC_VALUES;
        return LINE_DONE;
    }
    if (p->hits > 0) /* between a quiet read's values only more values or the MN */
        return LINE_BAD;
    if (starts(s, len, "HD")) {
        out->kind = LG_MC_STORED;
    } else if (starts(s, len, "NS") || starts(s, len, "EX") || starts(s, len, "NF")) {
        out->kind = LG_MC_NOT_STORED;
    } else {
        return LINE_BAD;
    }
    return LINE_DONE;
}

/* A complete line is in p->line (p->line_len bytes, "\r\n" included). */
static int end_line(struct lg_mc_parser *p, struct lg_mc_reply *out)
{
    if (p->line_len < 2)
        return LINE_BAD;
    if (!p->truncated && p->line[p->line_len - 2] != '\r')
        return LINE_BAD;
    size_t len = p->truncated ? LG_MC_LINE_KEEP : p->line_len - 2;
    const char *s = p->line;

    if (starts(s, len, "ERROR") || starts(s, len, "CLIENT_ERROR") ||
        starts(s, len, "SERVER_ERROR")) {
        out->kind = LG_MC_ERROR;
        out->hits = p->hits;
        return LINE_DONE;
    }
    if (p->truncated)
        return LINE_BAD;
    if (p->meta != LG_MC_TEXT)
        return end_meta_line(p, s, len, out);
    if (starts(s, len, "VALUE")) {
        int64_t n = value_len(s, len);
        if (n < 0)
            return LINE_BAD;
        p->hits++;
        p->data_left = (uint64_t)n;
        p->state = ST_DATA;
        return LINE_MORE;
    }
    if (len == 3 && memcmp(s, "END", 3) == 0) {
        out->kind = LG_MC_VALUES;
        out->hits = p->hits;
        return LINE_DONE;
    }
    if (p->hits > 0) /* inside a get reply only VALUE, END or an error may come */
        return LINE_BAD;
    if (len == 6 && memcmp(s, "STORED", 6) == 0) {
        out->kind = LG_MC_STORED;
    } else if ((len == 10 && memcmp(s, "NOT_STORED", 10) == 0) ||
               (len == 6 && memcmp(s, "EXISTS", 6) == 0) ||
               (len == 9 && memcmp(s, "NOT_FOUND", 9) == 0)) {
        out->kind = LG_MC_NOT_STORED;
    } else {
        return LINE_BAD;
    }
    out->hits = 0;
    return LINE_DONE;
}

enum lg_mc_status lg_mc_feed(struct lg_mc_parser *p, const char *buf, size_t len, size_t *consumed,
                             struct lg_mc_reply *out)
{
    size_t pos = 0;
    while (pos < len) {
        switch (p->state) {
        case ST_LINE: {
            if (p->line_len == 0)
                p->truncated = false;
            const char *nl = memchr(buf + pos, '\n', len - pos);
            size_t take = nl ? (size_t)(nl - (buf + pos)) + 1 : len - pos;
            if (p->line_len < LG_MC_LINE_KEEP) {
                size_t room = LG_MC_LINE_KEEP - p->line_len;
                memcpy(p->line + p->line_len, buf + pos, take < room ? take : room);
                if (take > room)
                    p->truncated = true;
            } else {
                p->truncated = true;
            }
            if (take > LG_MC_LINE_MAX - p->line_len) {
                *consumed = pos;
                return LG_MC_BAD;
            }
            p->line_len += (uint32_t)take;
            pos += take;
            if (!nl)
                break;
            int r = end_line(p, out);
            uint32_t done_len = p->line_len;
            p->line_len = 0;
            if (r == LINE_BAD) {
                p->line_len = done_len; /* keep it for lg_mc_last_line */
                *consumed = pos;
                return LG_MC_BAD;
            }
            if (r == LINE_DONE) {
                p->line_len = done_len;
                p->hits = 0;
                *consumed = pos;
                p->state = ST_END;
                return LG_MC_DONE;
            }
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
                return LG_MC_BAD;
            }
            p->state = ST_DATA_LF;
            break;
        case ST_DATA_LF:
            if (buf[pos++] != '\n') {
                *consumed = pos;
                return LG_MC_BAD;
            }
            p->state = ST_LINE;
            if (p->meta == LG_MC_META_ONE) {
                /* a meta read's reply is its one value */
                out->kind = LG_MC_VALUES;
                out->hits = p->hits;
                p->hits = 0;
                p->line_len = 0;
                *consumed = pos;
                p->state = ST_END;
                return LG_MC_DONE;
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
    return LG_MC_AGAIN;
}
