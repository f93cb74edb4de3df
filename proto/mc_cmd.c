/* The memcached ASCII command table (built from MC_CMD_TABLE) and name lookup. */
#include "proto/mc_cmd.h"

#include <string.h>

static const struct mc_cmd_info mc_cmds[MC_CMD_COUNT] = {
#define MC_CMD_ROW(e, nm, k, mn, mx, key, nr)                                                      \
    [e] = {                                                                                        \
        .name = nm,                                                                                \
        .name_len = sizeof(nm) - 1,                                                                \
        .kind = k,                                                                                 \
        .min_args = mn,                                                                            \
        .max_args = mx,                                                                            \
        .key_index = key,                                                                          \
        .noreply_from = nr,                                                                        \
    },
    MC_CMD_TABLE(MC_CMD_ROW)
#undef MC_CMD_ROW
};

const struct mc_cmd_info *mc_cmd_info(enum mc_cmd cmd)
{
    if (cmd <= MC_CMD_NONE || cmd >= MC_CMD_COUNT)
        return NULL;
    return &mc_cmds[cmd];
}

/* Picks the only candidate from the length and one or two bytes, then confirms it with a
 * single memcmp: no chain of string compares. A new row in MC_CMD_TABLE needs a case here;
 * the unit test checks that every row is found. */
enum mc_cmd mc_cmd_lookup(const char *name, size_t len)
{
    enum mc_cmd c = MC_CMD_NONE;

    if (len < 2)
        return MC_CMD_NONE;
    switch (len) {
    case 2:
        if (name[0] != 'm')
            return MC_CMD_NONE;
        switch (name[1]) {
        case 'g':
            c = MC_MG;
            break;
        case 's':
            c = MC_MS;
            break;
        case 'd':
            c = MC_MD;
            break;
        case 'n':
            c = MC_MN;
            break;
        case 'a':
            c = MC_MA;
            break;
        case 'e':
            c = MC_ME;
            break;
        }
        break;
    case 3:
        switch (name[0]) {
        case 'g':
            c = name[1] == 'e' ? MC_GET : MC_GAT;
            break;
        case 's':
            c = MC_SET;
            break;
        case 'a':
            c = MC_ADD;
            break;
        case 'c':
            c = MC_CAS;
            break;
        case 'l':
            c = MC_LRU;
            break;
        }
        break;
    case 4:
        switch (name[0]) {
        case 'g':
            c = name[1] == 'e' ? MC_GETS : MC_GATS;
            break;
        case 'b':
            c = MC_BGET;
            break;
        case 'i':
            c = MC_INCR;
            break;
        case 'd':
            c = MC_DECR;
            break;
        case 'q':
            c = MC_QUIT;
            break;
        }
        break;
    case 5:
        switch (name[0]) {
        case 't':
            c = MC_TOUCH;
            break;
        case 's':
            c = name[1] == 't' ? MC_STATS : MC_SLABS;
            break;
        case 'w':
            c = MC_WATCH;
            break;
        }
        break;
    case 6:
        switch (name[0]) {
        case 'a':
            c = MC_APPEND;
            break;
        case 'd':
            c = MC_DELETE;
            break;
        }
        break;
    case 7:
        switch (name[0]) {
        case 'r':
            c = MC_REPLACE;
            break;
        case 'p':
            c = MC_PREPEND;
            break;
        case 'v':
            c = MC_VERSION;
            break;
        }
        break;
    case 8:
        switch (name[0]) {
        case 's':
            c = MC_SHUTDOWN;
            break;
        case 'e':
            c = MC_EXTSTORE;
            break;
        }
        break;
    case 9:
        switch (name[0]) {
        case 'f':
            c = MC_FLUSH_ALL;
            break;
        case 'v':
            c = MC_VERBOSITY;
            break;
        }
        break;
    case 11:
        c = MC_LRU_CRAWLER;
        break;
    case 13:
        c = MC_REFRESH_CERTS;
        break;
    case 14:
        c = MC_CACHE_MEMLIMIT;
        break;
    }
    if (c == MC_CMD_NONE || mc_cmds[c].name_len != len || memcmp(mc_cmds[c].name, name, len) != 0)
        return MC_CMD_NONE;
    return c;
}
