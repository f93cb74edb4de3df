/* The redis command table (built from RD_CMD_TABLE), name lookup, arity and key positions. */
#include "proto/rd_cmd.h"

/* The longest name ("georadiusbymember_ro"): a longer one is unknown without a search. */
#define RD_CMD_NAME_MAX 20

static const struct rd_cmd_info rd_cmds[RD_CMD_COUNT] = {
#define RD_CMD_ROW(e, nm, ar, fk, lk, st, nk, k)                                                   \
    [e] = {                                                                                        \
        .name = nm,                                                                                \
        .name_len = sizeof(nm) - 1,                                                                \
        .arity = ar,                                                                               \
        .first = fk,                                                                               \
        .last = lk,                                                                                \
        .step = st,                                                                                \
        .numkeys_at = nk,                                                                          \
        .kind = k,                                                                                 \
    },
    RD_CMD_TABLE(RD_CMD_ROW)
#undef RD_CMD_ROW
};

/* Each row fits its fields: a name of 1 ... RD_CMD_NAME_MAX bytes, an arity, a step of at
 * least 1 where there is a fixed key (and nothing where there is none), a numkeys index. */
#define RD_CMD_CHECK(e, nm, ar, fk, lk, st, nk, k)                                                 \
    _Static_assert(sizeof(nm) - 1 >= 1 && sizeof(nm) - 1 <= RD_CMD_NAME_MAX, "name of " #e);       \
    _Static_assert(ar != 0 && ar >= -127 && ar <= 127, "arity of " #e);                            \
    _Static_assert((fk == 0 && lk == 0 && st == 0) || (fk > 0 && st > 0), "keys of " #e);          \
    _Static_assert(nk >= 0 && nk < 128, "numkeys_at of " #e);
RD_CMD_TABLE(RD_CMD_CHECK)
#undef RD_CMD_CHECK

const struct rd_cmd_info *rd_cmd_info(enum rd_cmd cmd)
{
    if (cmd <= RD_CMD_NONE || cmd >= RD_CMD_COUNT)
        return NULL;
    return &rd_cmds[cmd];
}

/* Compares the len bytes at s, folded to lower case as redis's strcasecmp does (ASCII
 * letters only), with the row's name, in byte order: < 0, 0 or > 0. */
static int name_cmp(const uint8_t *s, size_t len, const struct rd_cmd_info *ci)
{
    size_t n = len < ci->name_len ? len : ci->name_len;

    for (size_t i = 0; i < n; i++) {
        unsigned c = s[i];
        unsigned r = (uint8_t)ci->name[i];

        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        if (c != r)
            return c < r ? -1 : 1;
    }
    if (len == ci->name_len)
        return 0;
    return len < ci->name_len ? -1 : 1;
}

/* The enum follows the table, which is sorted by name: a binary search over the enum values
 * is a binary search over the names. */
enum rd_cmd rd_cmd_lookup(const uint8_t *name, size_t len)
{
    int lo = RD_CMD_NONE + 1;
    int hi = RD_CMD_COUNT - 1;

    if (len == 0 || len > RD_CMD_NAME_MAX)
        return RD_CMD_NONE;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = name_cmp(name, len, &rd_cmds[mid]);

        if (c == 0)
            return (enum rd_cmd)mid;
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return RD_CMD_NONE;
}

bool rd_cmd_arity_ok(const struct rd_cmd_info *ci, uint32_t argc)
{
    if (ci == NULL)
        return false;
    if (ci->arity > 0)
        return argc == (uint32_t)ci->arity;
    return argc >= (uint32_t)-ci->arity;
}

enum rd_keys_result rd_cmd_keys(const struct rd_cmd_info *ci, uint32_t argc, int64_t numkeys,
                                bool numkeys_ok, struct rd_keypos *out)
{
    struct rd_keypos kp = {0};

    *out = kp;
    if (ci == NULL)
        return RD_KEYS_NONE;
    if (ci->first > 0 && (uint32_t)ci->first < argc) {
        uint32_t first = (uint32_t)ci->first;
        uint32_t step = (uint32_t)ci->step;
        int64_t last = ci->last >= 0 ? ci->last : (int64_t)argc + ci->last;

        /* a range to the end in groups of step (MSET's key/value pairs) must come out even */
        if (ci->last < 0 && step > 1 && (argc - first) % step != 0)
            return RD_KEYS_BAD_PAIRS;
        if (last >= (int64_t)argc)
            last = (int64_t)argc - 1;
        if (last >= (int64_t)first) {
            kp.first = first;
            kp.step = step;
            kp.count = ((uint32_t)last - first) / step + 1;
            kp.last = first + (kp.count - 1) * step;
        }
    }
    if (ci->numkeys_at > 0) {
        uint32_t at = ci->numkeys_at;
        uint32_t after = argc > at ? argc - at - 1 : 0;

        if (!numkeys_ok || at >= argc || numkeys < 0 || numkeys > (int64_t)after)
            return RD_KEYS_BAD_NUMKEYS;
        if (numkeys > 0) {
            kp.nk_first = at + 1;
            kp.nk_count = (uint32_t)numkeys;
        }
    }
    if (kp.count == 0 && kp.nk_count == 0)
        return RD_KEYS_NONE;
    *out = kp;
    return RD_KEYS_OK;
}
