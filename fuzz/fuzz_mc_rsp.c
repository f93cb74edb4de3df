/* Fuzzes the reply framer (mc_rsp_framer_feed, input-chosen chunk sizes) and mc_rsp_parse_line on
 * every line: consumed <= len, progress, line <= max_line, in_line/line_start agree, key inside. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/mc_rsp.h"

#define CHECK(c)  ((c) ? (void)0 : __builtin_trap())
#define HDR       3 /* max_line byte, two chunk-size bytes */
#define MAX_VALUE 1024

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Classifies the line from a copy of exactly its size, so that ASan sees any over-read. */
static void parse(const uint8_t *line, size_t len, struct mc_rsp_line *rl)
{
    uint8_t *copy = malloc(len);

    CHECK(copy != NULL);
    memcpy(copy, line, len);
    memset(rl, 0, sizeof(*rl));
    mc_rsp_parse_line(copy, len, MAX_VALUE, rl);
    CHECK(rl->type >= MC_RSP_VALUE && rl->type <= MC_RSP_MN);
    if (rl->type == MC_RSP_META_VALUE || rl->type == MC_RSP_META || rl->type == MC_RSP_MN)
        CHECK(len >= 4 && copy[2] == (rl->type == MC_RSP_MN ? '\r' : copy[2]) &&
              (len == 4 || copy[2] == ' '));
    if (rl->type == MC_RSP_META_VALUE)
        CHECK(copy[0] == 'V' && copy[1] == 'A' && rl->data_len <= MAX_VALUE);
    else if (rl->type != MC_RSP_VALUE)
        CHECK(rl->data_len == 0);
    if (rl->type == MC_RSP_VALUE) {
        CHECK((uint64_t)rl->key.off + rl->key.len <= len && rl->key.len >= 1);
        CHECK(rl->data_len <= MAX_VALUE);
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mc_framer f;
    const uint8_t *stream;
    size_t len, pos = 0, abs = 0, line_start = 0, chunk_no = 0;
    uint32_t max_line;

    if (size < HDR)
        return 0;
    max_line = 4 + (uint32_t)data[0] * 4;
    stream = data + HDR;
    len = size - HDR;
    mc_rsp_framer_init(&f);
    while (pos < len || chunk_no == 0) {
        size_t want = 1 + data[1 + (chunk_no++ & 1)];
        size_t plen = want < len - pos ? want : len - pos, off = 0;
        uint8_t *buf = malloc(plen ? plen : 1);

        CHECK(buf != NULL);
        memcpy(buf, stream + pos, plen);
        for (;;) {
            size_t used = (size_t)-1;
            enum mc_rsp_status st;
            struct mc_rsp_line rl;

            /* the helpers agree with where the bytes really go */
            if (mc_rsp_framer_line_start(&f))
                CHECK(abs == line_start);
            else if (mc_rsp_framer_in_line(&f))
                CHECK(abs > line_start);
            else
                CHECK(f.state == MC_FS_DATA || f.state == MC_FS_DATA_CR ||
                      f.state == MC_FS_DATA_LF);
            st = mc_rsp_framer_feed(&f, max_line, buf + off, plen - off, &used);
            CHECK(used <= plen - off);
            off += used;
            abs += used;
            if (st == MC_RSP_AGAIN) {
                CHECK(off == plen);
                break;
            }
            if (st == MC_RSP_BAD) {
                CHECK(f.error != NULL && f.error[0] != '\0');
                free(buf);
                return 0;
            }
            CHECK(used > 0); /* every line and block ends on a byte of this feed */
            if (st == MC_RSP_GOT_DATA) {
                line_start = abs;
                continue;
            }
            CHECK(st == MC_RSP_GOT_LINE);
            CHECK(f.line_len >= 1 && f.line_len <= max_line);
            CHECK(abs - f.line_len == line_start && stream[abs - 1] == '\n');
            line_start = abs;
            parse(stream + abs - f.line_len, f.line_len, &rl);
            if (rl.type == MC_RSP_INVALID) {
                free(buf);
                return 0; /* the proxy closes the server connection */
            }
            if (rl.type == MC_RSP_VALUE || rl.type == MC_RSP_META_VALUE)
                mc_rsp_framer_expect_data(&f, rl.data_len);
        }
        pos += plen;
        free(buf);
    }
    return 0;
}
