/* libyaml's event stream turned into a small tree of scalars, sequences and mappings, each
 * node remembering where it was written. The only file that includes yaml.h. */
#ifndef RP_CONF_YAML_H
#define RP_CONF_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf_err.h"

/* Deeper than any configuration needs (4), low enough that walking the tree is safe. */
#define CY_MAX_DEPTH 32

enum cy_kind { CY_SCALAR, CY_SEQ, CY_MAP };

struct cy_node {
    enum cy_kind kind;
    int line, col;         /* 1-based, where the node starts */
    char *str;             /* scalar text, NUL-terminated (may also hold NULs: see len) */
    size_t len;            /* scalar length in bytes */
    bool plain;            /* scalar written without quotes or block style */
    struct cy_node **kids; /* sequence: items; mapping: key, value, key, value, ... */
    uint32_t nkids, cap;
};

/* Parses len bytes of text holding at most one YAML document. Returns 0 with *root set (NULL
 * when the text holds no document: empty, or only comments); the caller frees it with
 * cy_free. Returns -1 with the error in err (YAML syntax, a second document, anchors,
 * aliases, tags, nesting deeper than CY_MAX_DEPTH, out of memory) and *root NULL. */
int cy_parse(const char *text, size_t len, struct cy_node **root, struct conf_err *err);

void cy_free(struct cy_node *n);

/* True when n is a scalar equal to the C string s. */
bool cy_is(const struct cy_node *n, const char *s);

/* Plain empty scalar: what YAML writes as "key:" with nothing after it. */
bool cy_is_empty(const struct cy_node *n);

/* "a scalar", "a sequence", "a mapping": for messages. */
const char *cy_kind_name(const struct cy_node *n);

#endif
