/* The memcached ASCII command table (built from MC_CMD_TABLE) and name lookup. */
#include "proto/mc_cmd.h"

#include <string.h>

static const struct mc_cmd_info mc_cmds[MC_CMD_COUNT] = {
#define MC_CMD_ROW(e, nm, k, mn, mx, key)                                                          \
    [e] = {                                                                                        \
        .name = nm,                                                                                \
        .name_len = sizeof(nm) - 1,                                                                \
        .kind = k,                                                                                 \
        .min_args = mn,                                                                            \
        .max_args = mx,                                                                            \
        .key_index = key,                                                                          \
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

    if (len < 3)
        return MC_CMD_NONE;
    switch (len) {
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
        }
        break;
    case 4:
        switch (name[0]) {
        case 'g':
            c = name[1] == 'e' ? MC_GETS : MC_GATS;
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
            c = MC_STATS;
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
    }
    if (c == MC_CMD_NONE || mc_cmds[c].name_len != len || memcmp(mc_cmds[c].name, name, len) != 0)
        return MC_CMD_NONE;
    return c;
}
