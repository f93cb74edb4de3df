/* Micro benchmarks of hash/: the twelve key hashes, ketama and modula lookups, hash_tag
 * narrowing and the whole key-to-server route. */
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

extern "C" {
#include "hash/hash.h"
#include "hash/hash_dist.h"
}

namespace
{

/* Distinct keys cycled through by the lookup benchmarks, so that the ring search sees hashes
 * spread over the whole ring rather than one path the branch predictor learns. A power of two. */
const uint32_t kNumKeys = 4096;

/* twemproxy's default hash, used wherever a benchmark needs one. */
const enum hash_type kHash = HASH_FNV1A_64;

/* A key of len bytes (len >= 10), distinct for each i: "k000000042" then filler. */
std::string make_key(unsigned i, size_t len)
{
    char b[16];

    snprintf(b, sizeof(b), "k%09u", i % 1000000000u);
    std::string s = b;
    while (s.size() < len)
        s += static_cast<char>('a' + s.size() % 26);
    return s;
}

/* kNumKeys distinct 10-byte keys, back to back: key i is at 10 * i. */
std::string key_block()
{
    std::string s;

    for (unsigned i = 0; i < kNumKeys; i++)
        s += make_key(i, 10);
    return s;
}

/* n live servers of weight 1, named as ring names are ("host" alone: port 11211). The
 * strings own the names the dist_server entries point into. */
struct server_set {
    std::vector<std::string> names;
    std::vector<dist_server> servers;

    explicit server_set(uint32_t n) : names(n), servers(n)
    {
        for (uint32_t i = 0; i < n; i++) {
            names[i] = "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
            servers[i].ring_name = names[i].c_str();
            servers[i].ring_name_len = names[i].size();
            servers[i].weight = 1;
            servers[i].live = true;
        }
    }
};

/* One key hash on one key of len bytes, through hash_key's dispatch as dist_route calls it. */
void BM_hash_key(benchmark::State &state, enum hash_type type, size_t len)
{
    std::string key = make_key(42, len);

    for (auto _ : state) {
        const char *k = key.data();

        benchmark::DoNotOptimize(k);
        uint32_t h = hash_key(type, k, len);
        benchmark::DoNotOptimize(h);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * len));
}

/* Registers BM_hash_key/<name>/<len> for every hash and both key lengths. */
int register_hash_benchmarks()
{
    for (int t = 0; t < HASH_COUNT; t++) {
        for (size_t len : {10, 100}) {
            std::string name = std::string("BM_hash_key/") + hash_name(static_cast<hash_type>(t)) +
                               "/" + std::to_string(len);
            benchmark::RegisterBenchmark(name.c_str(), BM_hash_key, static_cast<hash_type>(t), len);
        }
    }
    return 0;
}

const int hash_benchmarks_registered = register_hash_benchmarks();

/* Builds d over n servers; false (and the benchmark skipped) on failure. */
bool build(benchmark::State &state, dist *d, enum dist_type type, const server_set &set)
{
    if (dist_build(d, type, set.servers.data(), static_cast<uint32_t>(set.servers.size())) != 0 ||
        d->nlive != set.servers.size()) {
        state.SkipWithError("dist_build failed");
        return false;
    }
    return true;
}

/* dist_pick alone: the server for a precomputed key hash (ketama: binary search of the ring;
 * modula: one division). The hashes are those of kNumKeys distinct keys. */
void BM_dist_pick(benchmark::State &state, enum dist_type type)
{
    server_set set(static_cast<uint32_t>(state.range(0)));
    std::string keys = key_block();
    std::vector<uint32_t> hashes(kNumKeys);
    dist d;
    uint32_t i = 0;

    if (!build(state, &d, type, set))
        return;
    for (uint32_t k = 0; k < kNumKeys; k++) {
        hashes[k] = hash_key(kHash, keys.data() + 10 * k, 10);
        if (dist_pick(&d, hashes[k]) >= set.servers.size()) {
            state.SkipWithError("dist_pick returned no server");
            dist_free(&d);
            return;
        }
    }
    for (auto _ : state) {
        uint32_t s = dist_pick(&d, hashes[i++ & (kNumKeys - 1)]);
        benchmark::DoNotOptimize(s);
    }
    state.counters["points"] = d.npoints;
    dist_free(&d);
}

/* dist_route: hash tag (none here), fnv1a_64 of a 10-byte key, dist_pick, over kNumKeys
 * distinct keys: the whole key-to-server step of a request. */
void BM_dist_route(benchmark::State &state, enum dist_type type)
{
    server_set set(static_cast<uint32_t>(state.range(0)));
    std::string keys = key_block();
    dist d;
    uint32_t i = 0;

    if (!build(state, &d, type, set))
        return;
    for (auto _ : state) {
        const char *k = keys.data() + 10 * (i++ & (kNumKeys - 1));

        benchmark::DoNotOptimize(k);
        uint32_t s = dist_route(&d, kHash, nullptr, k, 10);
        benchmark::DoNotOptimize(s);
    }
    dist_free(&d);
}

/* dist_build: the ketama ring (160 md5-derived points per server, sorted) for n servers, as a
 * configuration load or a server ejection rebuilds it. */
void BM_ketama_build(benchmark::State &state)
{
    server_set set(static_cast<uint32_t>(state.range(0)));
    dist d;

    for (auto _ : state) {
        int r = dist_build(&d, DIST_KETAMA, set.servers.data(),
                           static_cast<uint32_t>(set.servers.size()));
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(d.points);
        benchmark::ClobberMemory();
        dist_free(&d);
    }
}

/* dist_apply_hash_tag with tag "{}" on one key. */
void BM_hash_tag(benchmark::State &state, const std::string &key)
{
    const char tag[2] = {'{', '}'};

    for (auto _ : state) {
        const char *k = key.data();
        size_t len = key.size();

        benchmark::DoNotOptimize(k);
        dist_apply_hash_tag(tag, &k, &len);
        benchmark::DoNotOptimize(k);
        benchmark::DoNotOptimize(len);
    }
}

/* dist_route with hash_tag "{}" over 16 servers (ketama): narrowing + hash + lookup. */
void BM_dist_route_hash_tag(benchmark::State &state)
{
    server_set set(16);
    std::vector<std::string> keys(kNumKeys);
    const char tag[2] = {'{', '}'};
    dist d;
    uint32_t i = 0;

    if (!build(state, &d, DIST_KETAMA, set))
        return;
    for (uint32_t k = 0; k < kNumKeys; k++)
        keys[k] = "{" + make_key(k, 10) + "}:profile";
    for (auto _ : state) {
        const std::string &key = keys[i++ & (kNumKeys - 1)];
        const char *k = key.data();

        benchmark::DoNotOptimize(k);
        uint32_t s = dist_route(&d, kHash, tag, k, key.size());
        benchmark::DoNotOptimize(s);
    }
    dist_free(&d);
}

} // namespace

BENCHMARK_CAPTURE(BM_dist_pick, ketama, DIST_KETAMA)->Arg(3)->Arg(16)->Arg(256);
BENCHMARK_CAPTURE(BM_dist_route, ketama, DIST_KETAMA)->Arg(3)->Arg(16)->Arg(256);
BENCHMARK_CAPTURE(BM_dist_pick, modula, DIST_MODULA)->Arg(3)->Arg(16)->Arg(256);
BENCHMARK_CAPTURE(BM_dist_route, modula, DIST_MODULA)->Arg(3)->Arg(16)->Arg(256);
BENCHMARK(BM_ketama_build)->Arg(3)->Arg(16)->Arg(256)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_hash_tag, tagged, std::string("{user:12345}:profile"));
BENCHMARK_CAPTURE(BM_hash_tag, untagged, std::string("user:12345:profile"));
BENCHMARK(BM_dist_route_hash_tag);
