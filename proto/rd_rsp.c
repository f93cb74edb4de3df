/* RESP2 replies: the resumable reply framer. */
#include "proto/rd_rsp.h"

#include <string.h>

/* f->state. A line is TYPE, then TEXT or NUM up to its '\r', then LF; what the line says
 * decides what comes next. */
enum rd_rsp_state {
    RD_PS_START = 0, /* before a reply's first byte */
    RD_PS_TYPE,      /* a line's type byte */
    RD_PS_TEXT,      /* the text of a '+' or '-' line */
    RD_PS_NUM,       /* the number of a ':', '$' or '*' line */
    RD_PS_LF,        /* the '\n' after a line's '\r' */
    RD_PS_DATA,      /* a bulk payload and its "\r\n" (data_left of them still to come) */
    RD_PS_DONE,      /* the reply has ended: the next call reports RD_RSP_DONE */
    RD_PS_BAD,       /* after RD_RSP_BAD: every later call repeats it */
};

/* f->pflags */
enum {
    RD_PF_NEG = 1u << 0,    /* a leading '-' */
    RD_PF_DIGITS = 1u << 1, /* at least one digit */
};

void rd_rsp_framer_init(struct rd_rsp_framer *f)
{
    memset(f, 0, sizeof(*f));
    f->state = RD_PS_START;
}

/* A value (a line, a bulk string with its payload, or a whole array) that was an element of
 * the innermost open array has ended: counts it there, closing the arrays it completes. An
 * element of the top-level array is RD_RSP_ELEM (and ends the reply when it is the last);
 * a deeper one is no event (RD_RSP_AGAIN: go on). */
static enum rd_rsp_ev rd_rsp_elem_end(struct rd_rsp_framer *f)
{
    for (;;) {
        if (--f->left[f->depth - 1] > 0) {
            if (f->depth == 1)
                f->nelem++;
            f->state = RD_PS_TYPE;
            return f->depth == 1 ? RD_RSP_ELEM : RD_RSP_AGAIN;
        }
        /* that array is complete, and is itself an element of the one around it */
        if (--f->depth == 0) {
            f->nelem++;
            f->state = RD_PS_DONE;
            return RD_RSP_ELEM;
        }
    }
}

/* A whole line (its "\r\n" consumed) of type ltype and number pnum: what follows. */
static enum rd_rsp_ev rd_rsp_line_end(struct rd_rsp_framer *f, uint64_t max_bulk)
{
    bool head = f->depth == 0, ended;
    int64_t v = 0;

    if (f->ltype != RD_T_STATUS && f->ltype != RD_T_ERROR) {
        if (!(f->pflags & RD_PF_DIGITS)) {
            f->error = "bad number";
            goto out_bad;
        }
        v = f->pnum;
    }
    switch (f->ltype) {
    case RD_T_BULK:
        if (v < -1) {
            f->error = "bad bulk length";
            goto out_bad;
        }
        if (v >= 0 && (uint64_t)v > max_bulk) {
            f->error = "bulk too big";
            goto out_bad;
        }
        ended = v == -1;
        if (!ended) {
            f->data_left = (uint64_t)v + 2;
            f->state = RD_PS_DATA;
        }
        break;
    case RD_T_ARRAY:
        if (v < -1) {
            f->error = "bad array length";
            goto out_bad;
        }
        /* an array inside RD_RSP_MAX_DEPTH others is too deep, even an empty or nil one */
        if (f->depth == RD_RSP_MAX_DEPTH) {
            f->error = "nesting too deep";
            goto out_bad;
        }
        ended = v <= 0;
        if (!ended) {
            f->left[f->depth++] = (uint64_t)v;
            f->state = RD_PS_TYPE;
        }
        break;
    default:
        ended = true;
        break;
    }
    if (head) {
        f->type = f->ltype;
        f->num = v;
        if (ended)
            f->state = RD_PS_DONE;
        return RD_RSP_HEAD;
    }
    if (ended)
        return rd_rsp_elem_end(f);
    return RD_RSP_AGAIN;

out_bad:
    f->state = RD_PS_BAD;
    return RD_RSP_BAD;
}

/* One more byte of a line: false when the line would pass max_line. */
static bool rd_rsp_line_room(struct rd_rsp_framer *f, uint32_t max_line)
{
    if (f->line_len >= max_line) {
        f->error = "line too long";
        f->state = RD_PS_BAD;
        return false;
    }
    f->line_len++;
    return true;
}

enum rd_rsp_ev rd_rsp_feed(struct rd_rsp_framer *f, uint32_t max_line, uint64_t max_bulk,
                           const uint8_t *buf, size_t len, size_t *consumed)
{
    size_t pos = 0;
    enum rd_rsp_ev ev;

    switch (f->state) {
    case RD_PS_DONE:
        f->state = RD_PS_START;
        *consumed = 0;
        return RD_RSP_DONE;
    case RD_PS_BAD:
        *consumed = 0;
        return RD_RSP_BAD;
    default:
        break;
    }

    for (;;) {
        switch (f->state) {
        case RD_PS_START:
            if (pos == len)
                goto out_again;
            f->type = RD_T_NONE;
            f->num = 0;
            f->nelem = 0;
            f->depth = 0;
            f->state = RD_PS_TYPE;
            break;

        case RD_PS_TYPE: {
            uint8_t c;

            if (pos == len)
                goto out_again;
            f->line_len = 0;
            if (!rd_rsp_line_room(f, max_line))
                goto out_bad;
            c = buf[pos++];
            f->ltype = c;
            f->pnum = 0;
            f->pflags = 0;
            switch (c) {
            case RD_T_STATUS:
            case RD_T_ERROR:
                f->state = RD_PS_TEXT;
                break;
            case RD_T_INT:
            case RD_T_BULK:
            case RD_T_ARRAY:
                f->state = RD_PS_NUM;
                break;
            default:
                f->error = "bad type byte";
                f->state = RD_PS_BAD;
                goto out_bad;
            }
            break;
        }

        case RD_PS_TEXT: {
            /* any byte up to the '\r' but '\n'; the line's room bounds the search */
            size_t n = len - pos, room = max_line - f->line_len, k;
            const uint8_t *cr, *lf;

            if (n == 0)
                goto out_again;
            if (n > room)
                n = room;
            cr = memchr(buf + pos, '\r', n);
            k = cr != NULL ? (size_t)(cr - (buf + pos)) + 1 : n;
            lf = memchr(buf + pos, '\n', k);
            if (lf != NULL) {
                k = (size_t)(lf - (buf + pos)) + 1;
                f->line_len += (uint32_t)k;
                pos += k;
                f->error = "bare LF";
                f->state = RD_PS_BAD;
                goto out_bad;
            }
            f->line_len += (uint32_t)k;
            pos += k;
            if (cr != NULL) {
                f->state = RD_PS_LF;
                break;
            }
            if (pos < len) {
                /* the next byte would pass max_line */
                (void)rd_rsp_line_room(f, max_line);
                goto out_bad;
            }
            goto out_again;
        }

        case RD_PS_NUM: {
            uint8_t c;
            int64_t d;

            if (pos == len)
                goto out_again;
            if (!rd_rsp_line_room(f, max_line))
                goto out_bad;
            c = buf[pos++];
            if (c == '\r') {
                f->state = RD_PS_LF;
                break;
            }
            if (c == '-' && f->pflags == 0) {
                f->pflags |= RD_PF_NEG;
                break;
            }
            if (c < '0' || c > '9') {
                f->error = c == '\n' ? "bare LF" : "bad number";
                f->state = RD_PS_BAD;
                goto out_bad;
            }
            d = c - '0';
            f->pflags |= RD_PF_DIGITS;
            if (f->pflags & RD_PF_NEG) {
                if (f->pnum < (INT64_MIN + d) / 10)
                    goto out_overflow;
                f->pnum = f->pnum * 10 - d;
            } else {
                if (f->pnum > (INT64_MAX - d) / 10)
                    goto out_overflow;
                f->pnum = f->pnum * 10 + d;
            }
            break;
        out_overflow:
            f->error = "bad number";
            f->state = RD_PS_BAD;
            goto out_bad;
        }

        case RD_PS_LF:
            if (pos == len)
                goto out_again;
            if (!rd_rsp_line_room(f, max_line))
                goto out_bad;
            if (buf[pos++] != '\n') {
                f->error = "CR without LF";
                f->state = RD_PS_BAD;
                goto out_bad;
            }
            ev = rd_rsp_line_end(f, max_bulk);
            if (ev != RD_RSP_AGAIN)
                goto out_event;
            break;

        case RD_PS_DATA: {
            size_t n = len - pos;

            if (f->data_left > 2) {
                if (n == 0)
                    goto out_again;
                if (n > f->data_left - 2)
                    n = (size_t)(f->data_left - 2);
                f->data_left -= n;
                pos += n;
                if (f->data_left > 2)
                    goto out_again;
                break;
            }
            if (n == 0)
                goto out_again;
            if (buf[pos++] != (f->data_left == 2 ? '\r' : '\n')) {
                f->error = "bulk not ended by CRLF";
                f->state = RD_PS_BAD;
                goto out_bad;
            }
            if (--f->data_left > 0)
                break;
            if (f->depth == 0) {
                f->state = RD_PS_START;
                ev = RD_RSP_DONE;
                goto out_event;
            }
            ev = rd_rsp_elem_end(f);
            if (ev != RD_RSP_AGAIN)
                goto out_event;
            break;
        }

        default:
            f->error = "bad framer state";
            f->state = RD_PS_BAD;
            goto out_bad;
        }
    }

out_again:
    ev = RD_RSP_AGAIN;
out_event:
    *consumed = pos;
    return ev;

out_bad:
    *consumed = pos;
    return RD_RSP_BAD;
}

bool rd_rsp_in_head(const struct rd_rsp_framer *f)
{
    switch (f->state) {
    case RD_PS_START:
    case RD_PS_DONE:
        /* the next byte starts a reply (after the pending RD_RSP_DONE) */
        return true;
    case RD_PS_TYPE:
    case RD_PS_TEXT:
    case RD_PS_NUM:
    case RD_PS_LF:
        return f->depth == 0;
    default:
        return false;
    }
}
