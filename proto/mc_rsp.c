/* memcached ASCII replies: the resumable reply framer and the reply-line classifier. */
#include "proto/mc_rsp.h"

#include <assert.h>
#include <string.h>

/* ---- framer ---- */

void mc_rsp_framer_init(struct mc_framer *f)
{
    f->state = MC_FS_LINE;
    f->line_len = 0;
    f->data_left = 0;
    f->discard = false;
    f->lenient = false;
    f->bad_chunk = false;
    f->lead = 0;
    f->lead_spaces = 0;
    f->lead_word = 0;
    f->error = NULL;
}

/* After a line that announced no data block, the next byte simply starts the next line. */
enum mc_rsp_status mc_rsp_framer_feed(struct mc_framer *f, uint32_t max_line, const uint8_t *buf,
                                      size_t len, size_t *consumed)
{
    if (f->state == MC_FS_LINE_DONE) {
        f->state = MC_FS_LINE;
        f->line_len = 0;
    }
    switch (mc_frame_run(f, max_line, buf, len, consumed)) {
    case MC_FRAME_LINE:
        return MC_RSP_GOT_LINE;
    case MC_FRAME_DATA:
        return MC_RSP_GOT_DATA;
    case MC_FRAME_ERROR:
        return MC_RSP_BAD;
    case MC_FRAME_AGAIN:
    default:
        return MC_RSP_AGAIN;
    }
}

void mc_rsp_framer_expect_data(struct mc_framer *f, uint64_t n)
{
    assert(f->state == MC_FS_LINE_DONE);
    f->state = MC_FS_DATA;
    f->data_left = n;
}

bool mc_rsp_framer_in_line(const struct mc_framer *f)
{
    return f->state == MC_FS_LINE || f->state == MC_FS_LINE_DONE;
}

bool mc_rsp_framer_line_start(const struct mc_framer *f)
{
    return f->state == MC_FS_LINE_DONE || (f->state == MC_FS_LINE && f->line_len == 0);
}

/* ---- classifier ---- */

/* Text after the first word: none ("END"), anything including none ("SERVER_ERROR ..."), or
 * at least one byte ("VERSION 1.6.21", "STAT pid 1"). */
enum mc_rsp_rest { MC_REST_NONE, MC_REST_ANY, MC_REST_SOME };

struct mc_rsp_word {
    const char *word;
    uint8_t len;
    enum mc_rsp_type type;
    enum mc_rsp_rest rest;
};

/* clang-format off */
#define MC_W(s, t, r) {s, sizeof(s) - 1, t, r}
/* clang-format on */

/* Grouped by first byte so that a line is compared with at most three words. */
static const struct mc_rsp_word mc_words_e[] = {
    MC_W("END", MC_RSP_END, MC_REST_NONE),
    MC_W("ERROR", MC_RSP_ERROR, MC_REST_ANY),
    MC_W("EXISTS", MC_RSP_LINE, MC_REST_NONE),
};
static const struct mc_rsp_word mc_words_s[] = {
    MC_W("STORED", MC_RSP_LINE, MC_REST_NONE),
    MC_W("STAT", MC_RSP_STAT, MC_REST_SOME),
    MC_W("SERVER_ERROR", MC_RSP_ERROR, MC_REST_ANY),
};
static const struct mc_rsp_word mc_words_n[] = {
    MC_W("NOT_FOUND", MC_RSP_LINE, MC_REST_NONE),
    MC_W("NOT_STORED", MC_RSP_LINE, MC_REST_NONE),
};
static const struct mc_rsp_word mc_words_v[] = {
    MC_W("VERSION", MC_RSP_LINE, MC_REST_SOME),
};
static const struct mc_rsp_word mc_words_c[] = {
    MC_W("CLIENT_ERROR", MC_RSP_ERROR, MC_REST_ANY),
};
static const struct mc_rsp_word mc_words_d[] = {
    MC_W("DELETED", MC_RSP_LINE, MC_REST_NONE),
};
static const struct mc_rsp_word mc_words_t[] = {
    MC_W("TOUCHED", MC_RSP_LINE, MC_REST_NONE),
};
static const struct mc_rsp_word mc_words_o[] = {
    MC_W("OK", MC_RSP_LINE, MC_REST_NONE),
};

#undef MC_W

#define MC_NWORDS(a) (sizeof(a) / sizeof((a)[0]))

/* The type of a line whose first word is line[0, w) and whose text ends at end, or
 * MC_RSP_INVALID. */
static enum mc_rsp_type mc_rsp_word_type(const uint8_t *line, size_t w, size_t end)
{
    const struct mc_rsp_word *words;
    size_t n;

    switch (line[0]) {
    case 'E':
        words = mc_words_e, n = MC_NWORDS(mc_words_e);
        break;
    case 'S':
        words = mc_words_s, n = MC_NWORDS(mc_words_s);
        break;
    case 'N':
        words = mc_words_n, n = MC_NWORDS(mc_words_n);
        break;
    case 'V':
        words = mc_words_v, n = MC_NWORDS(mc_words_v);
        break;
    case 'C':
        words = mc_words_c, n = MC_NWORDS(mc_words_c);
        break;
    case 'D':
        words = mc_words_d, n = MC_NWORDS(mc_words_d);
        break;
    case 'T':
        words = mc_words_t, n = MC_NWORDS(mc_words_t);
        break;
    case 'O':
        words = mc_words_o, n = MC_NWORDS(mc_words_o);
        break;
    default:
        return MC_RSP_INVALID;
    }
    for (size_t i = 0; i < n; i++) {
        if (words[i].len != w || memcmp(words[i].word, line, w) != 0)
            continue;
        switch (words[i].rest) {
        case MC_REST_NONE:
            return w == end ? words[i].type : MC_RSP_INVALID;
        case MC_REST_SOME:
            return end > w + 1 ? words[i].type : MC_RSP_INVALID;
        case MC_REST_ANY:
            return words[i].type;
        }
    }
    return MC_RSP_INVALID;
}

/* The next token of a server line: servers write exactly one space between tokens, so an
 * empty token (two spaces, or a trailing space) makes the line invalid. */
static bool mc_rsp_token(const uint8_t *line, size_t end, size_t *pos, struct mc_tok *t)
{
    const uint8_t *sp;
    size_t start = *pos;
    size_t stop;

    if (start >= end)
        return false;
    sp = memchr(line + start, ' ', end - start);
    stop = sp != NULL ? (size_t)(sp - line) : end;
    if (stop == start)
        return false;
    t->off = (uint32_t)start;
    t->len = (uint32_t)(stop - start);
    *pos = sp != NULL ? stop + 1 : end + 1;
    return true;
}

/* "VALUE <key> <flags> <bytes> [<cas>]" from just after "VALUE ". */
static void mc_rsp_parse_value(const uint8_t *line, size_t end, size_t pos, uint64_t max_value,
                               struct mc_rsp_line *out)
{
    struct mc_tok key, flags, bytes, cas;
    uint64_t v, len;

    if (!mc_rsp_token(line, end, &pos, &key) || !mc_rsp_token(line, end, &pos, &flags) ||
        !mc_rsp_token(line, end, &pos, &bytes))
        return;
    if (mc_rsp_token(line, end, &pos, &cas)) {
        if (!mc_parse_uint(line + cas.off, cas.len, UINT64_MAX, &v))
            return;
    }
    /* Anything left (a fifth token, or an empty one) is not a VALUE line. */
    if (pos <= end)
        return;
    /* the key is whatever the client asked for: any byte but space and NUL (see mc_req.c) */
    if (memchr(line + key.off, 0, key.len) != NULL)
        return;
    if (!mc_parse_uint(line + flags.off, flags.len, UINT32_MAX, &v) ||
        !mc_parse_uint(line + bytes.off, bytes.len, max_value, &len))
        return;
    out->type = MC_RSP_VALUE;
    out->key = key;
    out->flags = (uint32_t)v;
    out->data_len = len;
}

/* A meta reply: a two-letter code (line[0, 2), w == 2), then flags; VA's first is its length.
 * Returns false when the code is not a meta one (OK, a number): the caller classifies it. */
static bool mc_rsp_parse_meta(const uint8_t *line, size_t end, uint64_t max_value,
                              struct mc_rsp_line *out)
{
    uint16_t code = (uint16_t)(line[0] << 8 | line[1]);
    bool more = end > 3; /* " " and at least one byte of flags */

#define MC_CODE(a, b) ((uint16_t)((a) << 8 | (b)))
    switch (code) {
    case MC_CODE('V', 'A'): {
        size_t pos = 3, start = 3;
        uint64_t n;

        while (pos < end && line[pos] != ' ')
            pos++;
        if (!more || !mc_parse_uint(line + start, pos - start, max_value, &n))
            return true;
        if (pos < end && pos + 1 == end)
            return true; /* a trailing space: not what a server writes */
        out->type = MC_RSP_META_VALUE;
        out->data_len = n;
        return true;
    }
    case MC_CODE('H', 'D'):
    case MC_CODE('E', 'N'):
    case MC_CODE('N', 'F'):
    case MC_CODE('N', 'S'):
    case MC_CODE('E', 'X'):
        if (end == 2 || more)
            out->type = MC_RSP_META;
        return true;
    case MC_CODE('M', 'E'):
        if (more)
            out->type = MC_RSP_META;
        return true;
    case MC_CODE('M', 'N'):
        if (end == 2)
            out->type = MC_RSP_MN;
        return true;
    default:
        return false;
    }
#undef MC_CODE
}

void mc_rsp_parse_line(const uint8_t *line, size_t len, uint64_t max_value, struct mc_rsp_line *out)
{
    const uint8_t *sp;
    size_t end, w;
    uint64_t v;

    out->type = MC_RSP_INVALID;
    out->key = (struct mc_tok){0, 0};
    out->flags = 0;
    out->data_len = 0;

    if (len < 3 || len > UINT32_MAX || line[len - 2] != '\r' || line[len - 1] != '\n')
        return;
    end = len - 2;
    sp = memchr(line, ' ', end);
    w = sp != NULL ? (size_t)(sp - line) : end;

    if (w == 5 && memcmp(line, "VALUE", 5) == 0) {
        mc_rsp_parse_value(line, end, w + 1, max_value, out);
        return;
    }
    if (w == 2 && mc_rsp_parse_meta(line, end, max_value, out))
        return;
    if (line[0] >= '0' && line[0] <= '9') {
        /* incr / decr: the new value, a 64-bit unsigned number. */
        if (mc_parse_uint(line, end, UINT64_MAX, &v))
            out->type = MC_RSP_LINE;
        return;
    }
    out->type = mc_rsp_word_type(line, w, end);
}
