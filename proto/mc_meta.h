/* memcached's meta protocol (mg ms md ma mn me): the limits memcached applies to a meta line and
 * the base64 decoding of a key sent with the b flag. Pure. */
#ifndef RP_MC_META_H
#define RP_MC_META_H

#include <stddef.h>
#include <stdint.h>

/* memcached refuses a meta line (mg ms md ma) of more than 20 tokens, counting its name and an
 * empty last one: more than this many after the name. For ms the refusal ("CLIENT_ERROR options
 * flags too long") comes before its data length is read, so no data block follows it. */
#define MC_META_MAX_ARGS 18

/* The request the proxy sends after a quiet meta request, so that its reply (maybe nothing) is
 * known to end where this one's begins: every memcached answers it with one "VERSION ..." line,
 * which no meta reply can be mistaken for. Not mn: memcached writes to the socket at every MN
 * (one system call and one segment per quiet request, measured: 25 MN in one read cost 25
 * sendmsg, 25 version replies one), where a VERSION waits for the rest of its read. */
#define MC_META_END     "version\r\n"
#define MC_META_END_LEN 9

/* Room for a decoded key: a base64 token of at most 250 bytes decodes to at most 187. */
#define MC_META_BKEY_MAX 192

/* Decodes the base64 key src[0, len) into out (cap bytes) as memcached 1.6 decodes one: bytes
 * outside the alphabet are skipped; what is left ('=' included) must be a non-zero multiple of 4
 * characters; decoding stops after the first group of four holding a '=', which drops one byte
 * per '=' (one or two; more is an error). Returns the decoded length, or 0 when memcached would
 * answer "error decoding key" (or when more than cap bytes would be written). */
size_t mc_b64_decode(const uint8_t *src, size_t len, uint8_t *out, size_t cap);

#endif
