/* Micro benchmarks of proto/: the memcached request framer + tokenizer and the reply framer +
 * classifier, driven over whole requests and replies the way src/client.c and src/server.c
 * drive them. */
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

/* C headers: mc_cmd.h declares a function mc_cmd_info() named like its struct mc_cmd_info,
 * which is fine in C and only a -Wshadow note ("hides constructor") in C++. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wshadow"
extern "C" {
#include "proto/mc_cmd.h"
#include "proto/mc_req.h"
#include "proto/mc_rsp.h"
}
#pragma GCC diagnostic pop

namespace
{

/* What a pool runs with by default: max_key_length 250, max_value_size 1 MiB (conf/),
 * max_request_line 64 KiB (conf_global.c). */
const mc_limits kLimits = {250, 1u << 20, 65536};

/* Room for the keys of one request; the worker has max_request_line / 2 + 1, but no request
 * here has more than 100. */
const uint32_t kKeyCap = 1024;

/* A 10-byte key, distinct for each i: "k000000042". */
std::string key10(unsigned i)
{
    char b[16];

    snprintf(b, sizeof(b), "k%09u", i % 1000000000u);
    return b;
}

/* "get k000000000 k000000001 ...\r\n" with nkeys keys. */
std::string req_get(unsigned nkeys)
{
    std::string s = "get";

    for (unsigned i = 0; i < nkeys; i++)
        s += " " + key10(i);
    return s + "\r\n";
}

/* "set k000000000 0 0 <vlen>\r\n<vlen bytes>\r\n". */
std::string req_set(size_t vlen)
{
    return "set " + key10(0) + " 0 0 " + std::to_string(vlen) + "\r\n" + std::string(vlen, 'v') +
           "\r\n";
}

/* n single-key gets back to back, as a pipelining client sends them in one buffer. */
std::string req_get_pipeline(unsigned n)
{
    std::string s;

    for (unsigned i = 0; i < n; i++)
        s += "get " + key10(i) + "\r\n";
    return s;
}

/* What the server returns for a get of nitems keys, all hits with vlen-byte values. */
std::string rsp_values(unsigned nitems, size_t vlen)
{
    std::string s;

    for (unsigned i = 0; i < nitems; i++)
        s += "VALUE " + key10(i) + " 0 " + std::to_string(vlen) + "\r\n" + std::string(vlen, 'v') +
             "\r\n";
    return s + "END\r\n";
}

/* n "STORED\r\n" lines, the replies to n pipelined sets. */
std::string rsp_stored(unsigned n)
{
    std::string s;

    for (unsigned i = 0; i < n; i++)
        s += "STORED\r\n";
    return s;
}

const uint8_t *bytes(const std::string &s)
{
    return reinterpret_cast<const uint8_t *>(s.data());
}

/* Frames and tokenizes every request in buf[0, len): feed the framer, tokenize each line it
 * returns in place, ask for the data block of a storage command, and end a line-only request
 * with an empty feed, as client_parse() does (minus its slice bookkeeping: every line is whole
 * in buf). Adds the keys found to *keys so that the tokenizer's output is used. Returns the
 * requests framed, or -1 on any framing or parse error. */
long frame_requests(mc_framer *fr, mc_req *req, const uint8_t *buf, size_t len, uint64_t *keys)
{
    size_t pos = 0, used;
    long nreq = 0;

    while (pos < len) {
        enum mc_status st = mc_framer_feed(fr, &kLimits, buf + pos, len - pos, &used);

        pos += used;
        switch (st) {
        case MC_AGAIN:
            break;
        case MC_LINE:
            if (mc_req_parse_line(buf + pos - fr->line_len, fr->line_len, &kLimits, req) !=
                MC_PARSE_OK)
                return -1;
            *keys += req->nkeys;
            if (mc_cmd_info(req->cmd)->kind == MC_KIND_STORAGE)
                mc_framer_expect_data(fr, req->data_len, false);
            break;
        case MC_DONE:
            nreq++;
            break;
        case MC_ERROR:
            return -1;
        }
    }
    if (fr->state == MC_FS_LINE_DONE) {
        /* the last request was a line alone: the empty feed ends it */
        if (mc_framer_feed(fr, &kLimits, buf + pos, 0, &used) != MC_DONE)
            return -1;
        nreq++;
    }
    return fr->state == MC_FS_LINE && fr->line_len == 0 ? nreq : -1;
}

/* Frames and classifies every reply line in buf[0, len): feed the framer, classify each line
 * in place, ask for the data block after VALUE, as sconn_parse() does. Adds the data bytes
 * announced to *data. Returns the replies ended (END, one-line replies, errors), or -1 on a
 * framing error or an invalid line. */
long frame_replies(mc_framer *f, const uint8_t *buf, size_t len, uint64_t *data)
{
    size_t pos = 0, used;
    long nrsp = 0;
    mc_rsp_line rl;

    while (pos < len) {
        enum mc_rsp_status st =
            mc_rsp_framer_feed(f, kLimits.max_line, buf + pos, len - pos, &used);

        pos += used;
        switch (st) {
        case MC_RSP_AGAIN:
        case MC_RSP_GOT_DATA:
            break;
        case MC_RSP_GOT_LINE:
            mc_rsp_parse_line(buf + pos - f->line_len, f->line_len, kLimits.max_value_size, &rl);
            switch (rl.type) {
            case MC_RSP_VALUE:
                mc_rsp_framer_expect_data(f, rl.data_len);
                *data += rl.data_len;
                break;
            case MC_RSP_END:
            case MC_RSP_LINE:
            case MC_RSP_ERROR:
                nrsp++;
                break;
            default:
                return -1;
            }
            break;
        case MC_RSP_BAD:
            return -1;
        }
    }
    return mc_rsp_framer_line_start(f) ? nrsp : -1;
}

/* Counters every benchmark reports: bytes/s and requests (or replies)/s from the figures of
 * one iteration, and per_req, the time per request (or reply) in seconds. */
void set_rates(benchmark::State &state, size_t len, long per_iter)
{
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * len));
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * per_iter);
    state.counters["per_req"] = benchmark::Counter(static_cast<double>(per_iter),
                                                   benchmark::Counter::kIsIterationInvariantRate |
                                                       benchmark::Counter::kInvert);
}

/* Framer + tokenizer over a buffer of nreq whole requests. */
void BM_req(benchmark::State &state, const std::string &in, long nreq)
{
    std::vector<mc_tok> keys(kKeyCap);
    mc_req req{};
    mc_framer fr;
    uint64_t nkeys = 0;

    req.keys = keys.data();
    req.key_cap = kKeyCap;
    mc_framer_init(&fr, false);
    if (frame_requests(&fr, &req, bytes(in), in.size(), &nkeys) != nreq) {
        state.SkipWithError("request framing or parsing failed");
        return;
    }
    for (auto _ : state) {
        const uint8_t *buf = bytes(in);

        benchmark::DoNotOptimize(buf);
        long n = frame_requests(&fr, &req, buf, in.size(), &nkeys);
        benchmark::DoNotOptimize(n);
        benchmark::DoNotOptimize(nkeys);
        benchmark::ClobberMemory();
    }
    set_rates(state, in.size(), nreq);
}

/* Tokenizer alone on one command line (framing already done). */
void BM_req_parse_line(benchmark::State &state, const std::string &line)
{
    std::vector<mc_tok> keys(kKeyCap);
    mc_req req{};

    req.keys = keys.data();
    req.key_cap = kKeyCap;
    if (mc_req_parse_line(bytes(line), line.size(), &kLimits, &req) != MC_PARSE_OK) {
        state.SkipWithError("mc_req_parse_line failed");
        return;
    }
    for (auto _ : state) {
        const uint8_t *buf = bytes(line);

        benchmark::DoNotOptimize(buf);
        enum mc_parse_result r = mc_req_parse_line(buf, line.size(), &kLimits, &req);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(req.nkeys);
        benchmark::ClobberMemory();
    }
    set_rates(state, line.size(), 1);
}

/* Reply framer + classifier over a buffer of nrsp whole replies. */
void BM_rsp(benchmark::State &state, const std::string &in, long nrsp)
{
    mc_framer f;
    uint64_t data = 0;

    mc_rsp_framer_init(&f);
    if (frame_replies(&f, bytes(in), in.size(), &data) != nrsp) {
        state.SkipWithError("reply framing or classification failed");
        return;
    }
    for (auto _ : state) {
        const uint8_t *buf = bytes(in);

        benchmark::DoNotOptimize(buf);
        long n = frame_replies(&f, buf, in.size(), &data);
        benchmark::DoNotOptimize(n);
        benchmark::DoNotOptimize(data);
        benchmark::ClobberMemory();
    }
    set_rates(state, in.size(), nrsp);
}

/* Classifier alone on one reply line. */
void BM_rsp_parse_line(benchmark::State &state, const std::string &line, enum mc_rsp_type want)
{
    mc_rsp_line rl;

    mc_rsp_parse_line(bytes(line), line.size(), kLimits.max_value_size, &rl);
    if (rl.type != want) {
        state.SkipWithError("mc_rsp_parse_line misclassified the line");
        return;
    }
    for (auto _ : state) {
        const uint8_t *buf = bytes(line);

        benchmark::DoNotOptimize(buf);
        mc_rsp_parse_line(buf, line.size(), kLimits.max_value_size, &rl);
        benchmark::DoNotOptimize(rl);
        benchmark::ClobberMemory();
    }
    set_rates(state, line.size(), 1);
}

} // namespace

/* requests: framer + tokenizer */
BENCHMARK_CAPTURE(BM_req, get_1key, req_get(1), 1);
BENCHMARK_CAPTURE(BM_req, get_10keys, req_get(10), 1);
BENCHMARK_CAPTURE(BM_req, get_100keys, req_get(100), 1);
BENCHMARK_CAPTURE(BM_req, set_100B, req_set(100), 1);
BENCHMARK_CAPTURE(BM_req, set_16KiB, req_set(16384), 1);
BENCHMARK_CAPTURE(BM_req, pipeline_100gets, req_get_pipeline(100), 100);

/* requests: tokenizer alone */
BENCHMARK_CAPTURE(BM_req_parse_line, get_1key, req_get(1));
BENCHMARK_CAPTURE(BM_req_parse_line, get_10keys, req_get(10));
BENCHMARK_CAPTURE(BM_req_parse_line, get_100keys, req_get(100));
BENCHMARK_CAPTURE(BM_req_parse_line, set_line, std::string("set k000000000 0 0 100\r\n"));

/* replies: framer + classifier */
BENCHMARK_CAPTURE(BM_rsp, miss_END, rsp_values(0, 0), 1);
BENCHMARK_CAPTURE(BM_rsp, hit_100B, rsp_values(1, 100), 1);
BENCHMARK_CAPTURE(BM_rsp, hit_16KiB, rsp_values(1, 16384), 1);
BENCHMARK_CAPTURE(BM_rsp, hits_10x100B, rsp_values(10, 100), 1);
BENCHMARK_CAPTURE(BM_rsp, hits_100x100B, rsp_values(100, 100), 1);
BENCHMARK_CAPTURE(BM_rsp, STORED, rsp_stored(1), 1);
BENCHMARK_CAPTURE(BM_rsp, pipeline_100STORED, rsp_stored(100), 100);

/* replies: classifier alone */
BENCHMARK_CAPTURE(BM_rsp_parse_line, VALUE, std::string("VALUE k000000000 0 100\r\n"),
                  MC_RSP_VALUE);
BENCHMARK_CAPTURE(BM_rsp_parse_line, END, std::string("END\r\n"), MC_RSP_END);
BENCHMARK_CAPTURE(BM_rsp_parse_line, STORED, std::string("STORED\r\n"), MC_RSP_LINE);
