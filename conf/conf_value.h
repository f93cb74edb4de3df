/* Scalar values read the way twemproxy reads them (numbers, booleans, strings), and the
 * messages for a value that does not fit. */
#ifndef RP_CONF_VALUE_H
#define RP_CONF_VALUE_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/conf_err.h"
#include "conf/conf_yaml.h"

enum conf_num_status { CONF_NUM_OK = 0, CONF_NUM_NOT_A_NUMBER = -1, CONF_NUM_TOO_LARGE = -2 };

/* Decimal digits only, at least one: no sign, no spaces, no 0x, leading zeros allowed (as
 * twemproxy's nc_atoi). Values above max are refused instead of wrapping around. */
enum conf_num_status conf_value_uint(const char *s, size_t len, unsigned long long max,
                                     unsigned long long *out);

/* Exactly "true" or "false", lower case (as twemproxy). Returns 0, or -1 for anything else. */
int conf_value_bool(const char *s, size_t len, bool *out);

/* The node-level readers below take ctx, the start of every message ("pool 'alpha': "), and
 * key, the key the value belongs to (k is its node, for positions). Each returns 0, or -1
 * with the message in err pointing at the value (at the key when the value is missing). */

/* A scalar with a value: not a sequence or mapping, not empty when plain, no NUL byte. */
int conf_node_scalar(const struct cy_node *k, const struct cy_node *v, const char *ctx,
                     struct conf_err *err);
int conf_node_uint(const struct cy_node *k, const struct cy_node *v, const char *ctx,
                   unsigned long long min, unsigned long long max, unsigned long long *out,
                   struct conf_err *err);
int conf_node_bool(const struct cy_node *k, const struct cy_node *v, const char *ctx, bool *out,
                   struct conf_err *err);

/* The closest of names[0..n) to the len bytes at s, if a typo away (edit distance at most 2),
 * else NULL. For "did you mean" hints. */
const char *conf_closest_name(const char *s, size_t len, const char *const *names, size_t n);

#endif
