/* Differential fuzzing of the request framer: the stream fed whole and split at two input-chosen
 * points must give the same (status, consumed total, line length, parse result and what it
 * says of the block, bad chunk, error and whether it is a silent close) events. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/mc_cmd.h"
#include "proto/mc_req.h"

#define CHECK(c)   ((c) ? (void)0 : __builtin_trap())
#define HDR        5 /* limits byte, two 16-bit cut points */
#define MAX_EVENTS 4096
#define KEY_CAP    4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Below this max_line the framer may meet the cap before it knows whether the line is a get,
 * and whether it closes silently then depends on the split (see fuzz_mc_req.c). */
#define LEAD_DECIDED 106

struct event {
    int status;    /* enum mc_status, never MC_AGAIN (where a feed runs dry depends on the cuts) */
    size_t abs;    /* bytes consumed since the start of the stream */
    uint32_t line; /* MC_LINE: f.line_len */
    int parse;     /* MC_LINE: enum mc_parse_result */
    bool noreply;  /* MC_LINE: req.noreply */
    uint64_t data_len; /* MC_LINE: req.data_len */
    bool flag;         /* MC_DONE: f.bad_chunk; MC_ERROR: mc_framer_silent_close() */
    const char *error; /* MC_ERROR: f.error */
};

struct trace {
    struct event ev[MAX_EVENTS];
    size_t n;
    bool failed;   /* ended on MC_ERROR */
    uint8_t state; /* framer state at the end */
    uint32_t line_len;
};

static void add(struct trace *t, struct event e)
{
    if (t->n < MAX_EVENTS)
        t->ev[t->n++] = e;
}

/* Feeds stream in the pieces [0,c0) [c0,c1) [c1,len), each from its own heap copy, driven as the
 * proxy core drives the framer: an OK storage line is followed by its block, a TOO_LARGE one by
 * a block to swallow, any other by none; CLOSE (an HTTP request) ends the stream. */
static void run(const uint8_t *stream, size_t len, size_t c0, size_t c1,
                const struct mc_limits *lim, struct trace *t)
{
    const size_t cuts[4] = {0, c0, c1, len};
    struct mc_tok keys[KEY_CAP];
    struct mc_framer f;
    size_t abs = 0, req_start = 0;

    t->n = 0;
    t->failed = false;
    mc_framer_init(&f, false);
    for (int piece = 0; piece < 3; piece++) {
        size_t plen = cuts[piece + 1] - cuts[piece], off = 0;
        uint8_t *buf = malloc(plen ? plen : 1);

        CHECK(buf != NULL);
        memcpy(buf, stream + cuts[piece], plen);
        for (;;) {
            size_t used = 0;
            enum mc_status st = mc_framer_feed(&f, lim, buf + off, plen - off, &used);
            struct mc_req req = {.keys = keys, .key_cap = KEY_CAP};
            const struct mc_cmd_info *info;
            enum mc_parse_result r;

            CHECK(used <= plen - off);
            off += used;
            abs += used;
            if (st == MC_AGAIN)
                break;
            if (st == MC_ERROR) {
                add(t, (struct event){.status = st,
                                      .abs = abs,
                                      .flag = lim->max_line >= LEAD_DECIDED &&
                                              mc_framer_silent_close(&f),
                                      .error = f.error});
                t->failed = true;
                free(buf);
                goto out;
            }
            if (st == MC_DONE) {
                add(t, (struct event){.status = st, .abs = abs, .flag = f.bad_chunk});
                req_start = abs;
                continue;
            }
            r = mc_req_parse_line(stream + req_start, f.line_len, lim, &req);
            add(t, (struct event){.status = st,
                                  .abs = abs,
                                  .line = f.line_len,
                                  .parse = r,
                                  .noreply = req.noreply,
                                  .data_len = req.data_len});
            if (r == MC_PARSE_CLOSE) {
                free(buf);
                goto out;
            }
            info = mc_cmd_info(req.cmd);
            if (info == NULL || info->kind != MC_KIND_STORAGE)
                continue;
            if (r == MC_PARSE_OK || r == MC_PARSE_TOO_LARGE)
                mc_framer_expect_data(&f, req.data_len, r == MC_PARSE_TOO_LARGE);
        }
        free(buf);
    }
out:
    t->state = f.state;
    t->line_len = f.line_len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct trace whole, split;
    struct mc_limits lim = {.max_key_length = 250, .max_value_size = 1024};
    const uint8_t *stream;
    size_t len, c0, c1;

    if (size < HDR)
        return 0;
    lim.max_line = 4 + (uint32_t)data[0] * 4;
    stream = data + HDR;
    len = size - HDR;
    c0 = ((size_t)data[1] << 8 | data[2]) % (len + 1);
    c1 = ((size_t)data[3] << 8 | data[4]) % (len + 1);
    if (c0 > c1) {
        size_t tmp = c0;

        c0 = c1;
        c1 = tmp;
    }
    run(stream, len, len, len, &lim, &whole);
    run(stream, len, c0, c1, &lim, &split);
    CHECK(whole.n == split.n);
    for (size_t i = 0; i < whole.n; i++) {
        CHECK(whole.ev[i].status == split.ev[i].status && whole.ev[i].abs == split.ev[i].abs);
        CHECK(whole.ev[i].line == split.ev[i].line && whole.ev[i].parse == split.ev[i].parse);
        CHECK(whole.ev[i].noreply == split.ev[i].noreply);
        CHECK(whole.ev[i].data_len == split.ev[i].data_len && whole.ev[i].flag == split.ev[i].flag);
        CHECK((whole.ev[i].error == NULL) == (split.ev[i].error == NULL));
        CHECK(whole.ev[i].error == NULL || strcmp(whole.ev[i].error, split.ev[i].error) == 0);
    }
    CHECK(whole.failed == split.failed);
    CHECK(whole.state == split.state && whole.line_len == split.line_len);
    return 0;
}
