/* The address strings of nutcracker.yml: a pool's listen value and its server lines, split
 * the way twemproxy splits them. */
#ifndef RP_CONF_ADDR_H
#define RP_CONF_ADDR_H

#include <stddef.h>

#include "conf/conf.h"

/* Longest unix socket path: sun_path holds 108 bytes with the NUL. */
#define CONF_UNIX_PATH_MAX 107

/* Parses "host:port" (split at the last ':', so a bare IPv6 literal works as in twemproxy;
 * "[v6]:port" is accepted too) or "/unix/path" with an optional " perm" after the last space
 * (octal, read like twemproxy's strtol(perm, NULL, 8)). On success returns 0 and fills *a,
 * which then owns its strings (conf_addr_release). On failure returns -1, *a holds nothing,
 * and why says what is wrong (without a position). */
int conf_listen_parse(const char *s, size_t len, struct conf_addr *a, char *why, size_t whylen);

/* Parses "host:port:weight [name]" or "/unix/path:weight [name]": the name is what follows
 * the last space, the weight what follows the last ':' before it, then the port. Fills
 * addr, weight, name, ring_name and pname (not line/col) as documented in conf.h. Same
 * ownership and return as conf_listen_parse (release with conf_server_release). */
int conf_server_parse(const char *s, size_t len, struct conf_server *cs, char *why, size_t whylen);

void conf_addr_release(struct conf_addr *a);
void conf_server_release(struct conf_server *cs);

/* Orders addresses (unix paths after TCP, then by text and port); 0 when they are the same
 * address as written. */
int conf_addr_cmp(const struct conf_addr *a, const struct conf_addr *b);

/* Same address as written: host and port, or unix path (a listen socket's mode aside). */
bool conf_addr_equal(const struct conf_addr *a, const struct conf_addr *b);

#endif
