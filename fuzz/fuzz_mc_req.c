/* Fuzzes the request framer (mc_framer_feed, input-chosen chunk sizes) and mc_req_parse_line
 * on every line: consumed <= len, progress, line <= max_line, tokens inside the line, nkeys <=
 * key_cap. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/mc_cmd.h"
#include "proto/mc_req.h"

#define CHECK(c) ((c) ? (void)0 : __builtin_trap())
#define HDR      4 /* limits byte, key_cap byte, two chunk-size bytes */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_tok(struct mc_tok t, size_t line_len)
{
    CHECK((uint64_t)t.off + t.len <= line_len);
}

/* Tokenizes the line from a copy of exactly its size, so that ASan sees any over-read. */
static enum mc_parse_result parse(const uint8_t *line, size_t len, const struct mc_limits *lim,
                                  uint32_t key_cap, struct mc_req *req)
{
    uint8_t *copy = malloc(len);
    struct mc_tok *keys = malloc(key_cap * sizeof(*keys));
    enum mc_parse_result r;

    CHECK(copy != NULL && keys != NULL);
    memcpy(copy, line, len);
    memset(req, 0, sizeof(*req));
    req->keys = keys;
    req->key_cap = key_cap;
    r = mc_req_parse_line(copy, len, lim, req);
    CHECK(r >= MC_PARSE_OK && r <= MC_PARSE_EMPTY);
    CHECK(mc_parse_reason(r) != NULL);
    CHECK(req->nkeys <= key_cap);
    CHECK(req->line_end <= len);
    check_tok(req->name, len);
    check_tok(req->exptime, len);
    for (uint32_t i = 0; i < req->nkeys; i++)
        check_tok(req->keys[i], len);
    if (r == MC_PARSE_OK && mc_cmd_info(req->cmd) != NULL && req->nkeys > 0)
        for (uint32_t i = 0; i < req->nkeys; i++)
            CHECK(req->keys[i].len >= 1 && req->keys[i].len <= lim->max_key_length);
    free(keys);
    free(copy);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mc_limits lim = {.max_key_length = 250, .max_value_size = 1024};
    struct mc_framer f;
    const uint8_t *stream;
    size_t len, pos = 0, abs = 0, req_start = 0, chunk_no = 0;
    uint32_t key_cap;
    unsigned idle = 0; /* consecutive events that consumed nothing */

    if (size < HDR)
        return 0;
    lim.max_line = 4 + (uint32_t)data[0] * 4;
    key_cap = 1 + (data[1] & 7);
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

            CHECK(used <= plen - off);
            off += used;
            abs += used;
            if (st == MC_AGAIN) {
                CHECK(off == plen);
                break;
            }
            if (st == MC_ERROR) {
                CHECK(f.error != NULL && f.error[0] != '\0');
                free(buf);
                return 0;
            }
            idle = used == 0 ? idle + 1 : 0;
            CHECK(idle <= 1); /* only the DONE right after a line may consume nothing */
            if (st == MC_DONE) {
                CHECK(f.state == MC_FS_LINE && f.line_len == 0);
                req_start = abs;
                continue;
            }
            CHECK(st == MC_LINE);
            CHECK(f.line_len >= 1 && f.line_len <= lim.max_line);
            CHECK(abs - req_start == f.line_len && stream[abs - 1] == '\n');
            r = parse(stream + req_start, f.line_len, &lim, key_cap, &req);
            info = mc_cmd_info(req.cmd);
            if (info == NULL || info->kind != MC_KIND_STORAGE)
                continue;
            if (r == MC_PARSE_BAD_FORMAT) {
                free(buf);
                return 0; /* the stream cannot be resynchronised: the proxy closes */
            }
            if (r == MC_PARSE_OK || r == MC_PARSE_TOO_LARGE || r == MC_PARSE_KEY_TOO_LONG)
                mc_framer_expect_data(&f, req.data_len, r != MC_PARSE_OK);
        }
        pos += plen;
        free(buf);
    }
    return 0;
}
