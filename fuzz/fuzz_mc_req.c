/* Fuzzes the request framer (mc_framer_feed, input-chosen chunk sizes) and mc_req_parse_line
 * on every line, driven as the proxy core drives them (a storage line that is OK is followed
 * by its data block, a TOO_LARGE one by a block to swallow, any other by none; CLOSE ends the
 * stream). Checks: consumed <= len, progress, a line ends at its first newline and is no
 * longer than its cap (max_line for a get/gets, else also MC_PLAIN_LINE_MAX), an error is
 * exactly at that cap; a block is data_len + 2 bytes and bad_chunk says whether its last two
 * were not "\r\n"; tokens inside the line memcached reads (line_end, itself checked), keys no
 * longer than max_key_length, nkeys <= key_cap, noreply exactly where memcached's
 * set_noreply_maybe puts it, data_len within its caps, one reply line per local answer; meta
 * requests (ms with its block) carry one key, q and b only where a flag can say so, and a
 * decoded base64 key is what they are routed by. */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/mc_cmd.h"
#include "proto/mc_req.h"

#define CHECK(c) ((c) ? (void)0 : __builtin_trap())
#define HDR      4 /* limits byte, key_cap byte, two chunk-size bytes */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Below this max_line the framer may meet the cap before it knows whether the line is a get
 * (at most 100 spaces and "gets "), and then says silent or not depending on how the bytes
 * were split: mc_framer_silent_close() is only checked above it. */
#define LEAD_DECIDED 106

/* The reference for what may be a long line: after at most 100 spaces, "get " or "gets "
 * (memcached's try_read_command_ascii). s[0, n) is the stream from the line's start. */
static bool ref_get_lead(const uint8_t *s, size_t n)
{
    const uint8_t *nl = memchr(s, '\n', n);
    size_t i = 0;

    if (nl != NULL)
        n = (size_t)(nl - s);

    while (i < n && s[i] == ' ')
        i++;
    if (i > 100)
        return false;
    return (n - i >= 4 && memcmp(s + i, "get ", 4) == 0) ||
           (n - i >= 5 && memcmp(s + i, "gets ", 5) == 0);
}

/* The line's cap, its newline included. */
static size_t ref_cap(const struct mc_limits *lim, bool get)
{
    if (get || lim->max_line < MC_PLAIN_LINE_MAX)
        return lim->max_line;
    return MC_PLAIN_LINE_MAX;
}

/* What memcached reads of a line: no "\n", no "\r" before it unless it is the only byte, and
 * nothing from a NUL on. */
static size_t ref_line_end(const uint8_t *s, size_t len)
{
    const uint8_t *nul;

    if (len > 0 && s[len - 1] == '\n') {
        len--;
        if (len > 1 && s[len - 1] == '\r')
            len--;
    }
    nul = memchr(s, 0, len);
    return nul != NULL ? (size_t)(nul - s) : len;
}

/* A token: inside the line memcached reads, not empty unless absent, no space in it. */
static void check_tok(struct mc_tok t, const uint8_t *line, size_t line_end)
{
    CHECK((uint64_t)t.off + t.len <= line_end);
    CHECK(memchr(line + t.off, ' ', t.len) == NULL);
}

/* Counts the space-separated tokens of s[0, n); finds the first and the last memcached sees
 * (it keeps 23: the 23rd of a longer line). */
static size_t ref_tokens(const uint8_t *s, size_t n, size_t *first, const uint8_t **last,
                         size_t *last_len)
{
    size_t count = 0;

    for (size_t i = 0; i < n;) {
        size_t start;

        while (i < n && s[i] == ' ')
            i++;
        if (i == n)
            break;
        start = i;
        while (i < n && s[i] != ' ')
            i++;
        if (count == 0)
            *first = start;
        if (count < 23) {
            *last = s + start;
            *last_len = i - start;
        }
        count++;
    }
    return count;
}

/* Tokenizes the line from a copy of exactly its size, so that ASan sees any over-read. */
static enum mc_parse_result parse(const uint8_t *line, size_t len, const struct mc_limits *lim,
                                  uint32_t key_cap, struct mc_req *req)
{
    uint8_t *copy = malloc(len);
    struct mc_tok *keys = malloc(key_cap ? key_cap * sizeof(*keys) : 1);
    const struct mc_cmd_info *info;
    enum mc_parse_result r;
    const uint8_t *last = NULL;
    size_t last_len = 0, first = 0, ntok, end;
    const char *reply;
    uint32_t rlen = 99;

    CHECK(copy != NULL && keys != NULL);
    memcpy(copy, line, len);
    memset(req, 0xa5, sizeof(*req));
    req->keys = keys;
    req->key_cap = key_cap;
    r = mc_req_parse_line(copy, len, lim, req);
    CHECK(r >= MC_PARSE_OK && r <= MC_PARSE_META_BAD_KEY);
    CHECK(req->keys == keys && req->key_cap == key_cap);

    /* one reply line for every answer the proxy gives itself */
    reply = mc_parse_reply(r, &rlen);
    if (r == MC_PARSE_OK || r == MC_PARSE_CLOSE) {
        CHECK(reply == NULL && rlen == 0);
    } else {
        CHECK(reply != NULL && rlen >= 5 && strlen(reply) == rlen);
        CHECK(memcmp(reply + rlen - 2, "\r\n", 2) == 0);
        CHECK(memchr(reply, '\n', rlen - 1) == NULL);
    }

    end = ref_line_end(copy, len);
    CHECK(req->line_end == end);
    check_tok(req->name, copy, end);
    check_tok(req->exptime, copy, end);
    check_tok(req->sub, copy, end);
    ntok = ref_tokens(copy, end, &first, &last, &last_len);
    info = mc_cmd_info(req->cmd);
    if (ntok == 0) {
        CHECK(r == MC_PARSE_ERROR && info == NULL);
    } else {
        /* the name is the first token (not kept when under two bytes: ERROR) */
        CHECK(req->name.len == 0 || req->name.off == first);
        CHECK(req->name.len > 0 || (r == MC_PARSE_ERROR && info == NULL));
        CHECK(info == NULL || (info->name_len == req->name.len &&
                               memcmp(info->name, copy + req->name.off, req->name.len) == 0));
    }
    if (r == MC_PARSE_OK || r == MC_PARSE_TOO_LARGE || r == MC_PARSE_TOO_MANY_KEYS ||
        r == MC_PARSE_META_BAD_KEY) {
        CHECK(info != NULL);
        CHECK(req->nkeys <= key_cap);
        for (uint32_t i = 0; i < req->nkeys; i++) {
            check_tok(req->keys[i], copy, end);
            CHECK(req->keys[i].len >= 1 && req->keys[i].len <= lim->max_key_length);
        }
        if (r == MC_PARSE_OK && info->kind == MC_KIND_RETRIEVAL)
            CHECK(req->nkeys >= 1);
    } else {
        CHECK(req->nkeys == 0);
    }
    if (r == MC_PARSE_CLOSE)
        CHECK(info == NULL && last_len >= 5 && memcmp(last, "HTTP/", 5) == 0);
    /* a storage block that follows has a length under memcached's caps, and only then */
    if (r == MC_PARSE_OK && (info->kind == MC_KIND_STORAGE || info->kind == MC_KIND_META_SET))
        CHECK(req->data_len <= lim->max_value_size && req->data_len <= INT_MAX - 2);
    else if (r == MC_PARSE_TOO_LARGE || r == MC_PARSE_META_BAD_KEY)
        CHECK((info->kind == MC_KIND_STORAGE || info->kind == MC_KIND_META_SET) &&
              req->data_len > lim->max_value_size && req->data_len <= INT_MAX - 2);
    else if (r != MC_PARSE_TOO_MANY_KEYS)
        CHECK(req->data_len == 0);
    /* noreply: the last token is "noreply", for a command that takes it, with enough
     * arguments for memcached to look (never after a wrong token count: ERROR first) */
    {
        bool want = r != MC_PARSE_ERROR && info != NULL && info->noreply_from >= 0 &&
                    ntok - 1 >= (size_t)info->noreply_from && ntok >= 2 && last_len == 7 &&
                    memcmp(last, "noreply", 7) == 0;

        CHECK(req->noreply == want);
    }
    /* meta: one key; quiet and b64 only for the commands that have them, with a flag token
     * starting with 'q' or 'b' somewhere after the key; a decoded key fits its token's size */
    if (req->quiet || req->b64) {
        CHECK(info != NULL && (info->kind == MC_KIND_META || info->kind == MC_KIND_META_SET));
        CHECK(req->nkeys == 1);
        CHECK(!req->quiet || req->cmd != MC_ME);
        CHECK(!req->quiet || memmem(copy + req->keys[0].off + req->keys[0].len,
                                    end - req->keys[0].off - req->keys[0].len, " q", 2) != NULL);
    }
    if (req->b64) {
        CHECK(req->bkey_len <= MC_META_BKEY_MAX && req->bkey_len <= req->keys[0].len / 4 * 3);
        /* a key that decodes is what the request is routed by */
        uint32_t route_len;
        const uint8_t *rk = mc_req_route_key(copy, req, &route_len);
        CHECK(req->bkey_len == 0 ? rk == copy + req->keys[0].off : rk == req->bkey);
    } else if (r == MC_PARSE_OK && req->nkeys > 0) {
        CHECK(req->bkey_len == 0);
    }
    free(keys);
    free(copy);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mc_limits lim = {.max_key_length = 250, .max_value_size = 1024};
    struct mc_framer f;
    const uint8_t *stream;
    size_t len, pos = 0, abs = 0, req_start = 0, chunk_no = 0, block_start = 0;
    uint64_t block_len = 0;
    bool in_block = false;
    uint32_t key_cap;
    unsigned idle = 0; /* consecutive events that consumed nothing */

    if (size < HDR)
        return 0;
    lim.max_line = 4 + (uint32_t)data[0] * 4;
    key_cap = data[1] & 0x80 ? 0 : 1 + (data[1] & 7);
    stream = data + HDR;
    len = size - HDR;
    mc_framer_init(&f, false);
    while (pos < len || chunk_no == 0) {
        size_t want = 1 + data[2 + (chunk_no++ & 1)];
        size_t plen = want < len - pos ? want : len - pos, off = 0;
        uint8_t *buf = malloc(plen ? plen : 1);

        CHECK(buf != NULL);
        memcpy(buf, stream + pos, plen);
        for (;;) {
            size_t used = (size_t)-1;
            enum mc_status st = mc_framer_feed(&f, &lim, buf + off, plen - off, &used);
            struct mc_req req;
            enum mc_parse_result r;
            const struct mc_cmd_info *info;
            size_t cap;

            CHECK(used <= plen - off);
            off += used;
            abs += used;
            if (st == MC_AGAIN) {
                CHECK(off == plen);
                break;
            }
            if (st == MC_ERROR) {
                /* only a line too long: no newline in its first cap bytes, and it goes on */
                CHECK(!in_block && f.error != NULL && f.error[0] != '\0');
                cap = ref_cap(&lim, ref_get_lead(stream + req_start, len - req_start));
                CHECK(abs - req_start == cap && f.line_len == cap);
                CHECK(len - req_start > cap);
                CHECK(memchr(stream + req_start, '\n', cap) == NULL);
                if (lim.max_line >= LEAD_DECIDED)
                    CHECK(mc_framer_silent_close(&f) ==
                          !ref_get_lead(stream + req_start, len - req_start));
                free(buf);
                return 0;
            }
            idle = used == 0 ? idle + 1 : 0;
            CHECK(idle <= 1); /* only the DONE right after a line may consume nothing */
            if (st == MC_DONE) {
                CHECK(f.state == MC_FS_LINE && f.line_len == 0);
                if (in_block) {
                    /* a block is its length and two bytes, whatever they are */
                    CHECK(abs - block_start == block_len + 2);
                    CHECK(f.bad_chunk != (stream[abs - 2] == '\r' && stream[abs - 1] == '\n'));
                } else {
                    CHECK(!f.bad_chunk && abs == block_start);
                }
                in_block = false;
                req_start = abs;
                continue;
            }
            CHECK(st == MC_LINE);
            CHECK(!in_block);
            cap = ref_cap(&lim, ref_get_lead(stream + req_start, len - req_start));
            CHECK(f.line_len >= 1 && f.line_len <= cap);
            CHECK(abs - req_start == f.line_len && stream[abs - 1] == '\n');
            CHECK(memchr(stream + req_start, '\n', f.line_len - 1) == NULL);
            r = parse(stream + req_start, f.line_len, &lim, key_cap, &req);
            block_start = abs;
            if (r == MC_PARSE_CLOSE) {
                free(buf);
                return 0; /* an HTTP request: the proxy closes */
            }
            info = mc_cmd_info(req.cmd);
            if (info == NULL || (info->kind != MC_KIND_STORAGE && info->kind != MC_KIND_META_SET))
                continue;
            if (r == MC_PARSE_OK || r == MC_PARSE_TOO_LARGE || r == MC_PARSE_META_BAD_KEY) {
                mc_framer_expect_data(&f, req.data_len, r != MC_PARSE_OK);
                CHECK(f.discard == (r != MC_PARSE_OK) && !f.bad_chunk);
                in_block = true;
                block_len = req.data_len;
            }
        }
        pos += plen;
        free(buf);
    }
    return 0;
}
