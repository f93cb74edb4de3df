/* YAML text to a position-carrying node tree, with libyaml's event (parser) API. */
#include "conf/conf_yaml.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct cy_build {
    struct cy_node *root;
    struct cy_node *stack[CY_MAX_DEPTH]; /* open sequences and mappings, innermost last */
    int depth;
    int ndocs;
};

void cy_free(struct cy_node *n)
{
    if (n == NULL) {
        return;
    }
    for (uint32_t i = 0; i < n->nkids; i++) {
        cy_free(n->kids[i]);
    }
    free(n->kids);
    free(n->str);
    free(n);
}

bool cy_is(const struct cy_node *n, const char *s)
{
    size_t l = strlen(s);

    return n->kind == CY_SCALAR && n->len == l && memcmp(n->str, s, l) == 0;
}

bool cy_is_empty(const struct cy_node *n)
{
    return n->kind == CY_SCALAR && n->plain && n->len == 0;
}

const char *cy_kind_name(const struct cy_node *n)
{
    switch (n->kind) {
    case CY_SCALAR:
        return "a scalar";
    case CY_SEQ:
        return "a sequence";
    case CY_MAP:
        return "a mapping";
    }
    return "a node";
}

/* Line and column of a byte offset: libyaml's reader errors only give the offset. */
static void cy_offset_pos(const char *text, size_t len, size_t off, int *line, int *col)
{
    size_t bol = 0;
    int l = 1;

    if (off > len) {
        off = len;
    }
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            l++;
            bol = i + 1;
        }
    }
    *line = l;
    *col = (int)(off - bol) + 1;
}

static void cy_syntax_error(const yaml_parser_t *p, const char *text, size_t len,
                            struct conf_err *err)
{
    const char *problem = p->problem != NULL ? p->problem : "unknown error";
    int line, col;

    switch (p->error) {
    case YAML_MEMORY_ERROR:
        conf_err_at(err, 0, 0, "out of memory while parsing YAML");
        return;
    case YAML_READER_ERROR:
        cy_offset_pos(text, len, p->problem_offset, &line, &col);
        if (p->problem_value != -1) {
            conf_err_at(err, line, col, "YAML syntax error: %s (byte 0x%02x)", problem,
                        (unsigned)p->problem_value & 0xffu);
        } else {
            conf_err_at(err, line, col, "YAML syntax error: %s", problem);
        }
        return;
    default:
        line = (int)p->problem_mark.line + 1;
        col = (int)p->problem_mark.column + 1;
        if (p->context != NULL) {
            conf_err_at(err, line, col, "YAML syntax error: %s (%s at %d:%d)", problem, p->context,
                        (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
        } else {
            conf_err_at(err, line, col, "YAML syntax error: %s", problem);
        }
        return;
    }
}

static int cy_attach(struct cy_build *b, struct cy_node *n)
{
    struct cy_node *parent;

    if (b->depth == 0) {
        b->root = n; /* one document, so one root: a second is refused at its start */
        return 0;
    }
    parent = b->stack[b->depth - 1];
    if (parent->nkids == parent->cap) {
        uint32_t cap = parent->cap ? parent->cap * 2 : 8;
        struct cy_node **kids;

        if (cap < parent->cap) {
            return -1;
        }
        kids = realloc(parent->kids, cap * sizeof(*kids));
        if (kids == NULL) {
            return -1;
        }
        parent->kids = kids;
        parent->cap = cap;
    }
    parent->kids[parent->nkids++] = n;
    return 0;
}

/* Creates the node an event starts and hangs it in the tree (so the tree frees it on error). */
static struct cy_node *cy_open(struct cy_build *b, enum cy_kind kind, const yaml_event_t *ev,
                               struct conf_err *err)
{
    struct cy_node *n = calloc(1, sizeof(*n));

    if (n == NULL) {
        conf_err_at(err, 0, 0, "out of memory");
        return NULL;
    }
    n->kind = kind;
    n->line = (int)ev->start_mark.line + 1;
    n->col = (int)ev->start_mark.column + 1;
    if (cy_attach(b, n) < 0) {
        free(n);
        conf_err_at(err, 0, 0, "out of memory");
        return NULL;
    }
    return n;
}

static int cy_check_props(const yaml_event_t *ev, const yaml_char_t *anchor, const yaml_char_t *tag,
                          struct conf_err *err)
{
    int line = (int)ev->start_mark.line + 1;
    int col = (int)ev->start_mark.column + 1;

    if (anchor != NULL) {
        conf_err_at(err, line, col, "YAML anchors (&%.40s) are not supported",
                    (const char *)anchor);
        return -1;
    }
    if (tag != NULL) {
        conf_err_at(err, line, col, "YAML tags (%.40s) are not supported", (const char *)tag);
        return -1;
    }
    return 0;
}

/* Returns 1 at the end of the stream, 0 to go on, -1 on error. */
static int cy_event(struct cy_build *b, const yaml_event_t *ev, struct conf_err *err)
{
    int line = (int)ev->start_mark.line + 1;
    int col = (int)ev->start_mark.column + 1;
    struct cy_node *n;

    switch (ev->type) {
    case YAML_STREAM_START_EVENT:
    case YAML_DOCUMENT_END_EVENT:
    case YAML_NO_EVENT:
        return 0;
    case YAML_STREAM_END_EVENT:
        return 1;
    case YAML_DOCUMENT_START_EVENT:
        if (++b->ndocs > 1) {
            conf_err_at(err, line, col, "a second YAML document: the file must hold only one");
            return -1;
        }
        return 0;
    case YAML_ALIAS_EVENT:
        conf_err_at(err, line, col, "YAML aliases (*%.40s) are not supported",
                    (const char *)ev->data.alias.anchor);
        return -1;
    case YAML_SCALAR_EVENT:
        if (cy_check_props(ev, ev->data.scalar.anchor, ev->data.scalar.tag, err) < 0) {
            return -1;
        }
        n = cy_open(b, CY_SCALAR, ev, err);
        if (n == NULL) {
            return -1;
        }
        n->len = ev->data.scalar.length;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        n->str = malloc(n->len + 1);
        if (n->str == NULL) {
            conf_err_at(err, 0, 0, "out of memory");
            return -1;
        }
        memcpy(n->str, ev->data.scalar.value, n->len);
        n->str[n->len] = '\0';
        return 0;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if (ev->type == YAML_SEQUENCE_START_EVENT
                ? cy_check_props(ev, ev->data.sequence_start.anchor, ev->data.sequence_start.tag,
                                 err) < 0
                : cy_check_props(ev, ev->data.mapping_start.anchor, ev->data.mapping_start.tag,
                                 err) < 0) {
            return -1;
        }
        n = cy_open(b, ev->type == YAML_SEQUENCE_START_EVENT ? CY_SEQ : CY_MAP, ev, err);
        if (n == NULL) {
            return -1;
        }
        if (b->depth == CY_MAX_DEPTH) {
            conf_err_at(err, line, col, "nested deeper than %d levels", CY_MAX_DEPTH);
            return -1;
        }
        b->stack[b->depth++] = n;
        return 0;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (b->depth > 0) {
            b->depth--;
        }
        return 0;
    }
    return 0;
}

int cy_parse(const char *text, size_t len, struct cy_node **root, struct conf_err *err)
{
    struct cy_build b = {0};
    yaml_parser_t p;
    yaml_event_t ev;
    int rc = 0;

    *root = NULL;
    if (!yaml_parser_initialize(&p)) {
        conf_err_at(err, 0, 0, "out of memory");
        return -1;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    while (rc == 0) {
        if (!yaml_parser_parse(&p, &ev)) {
            cy_syntax_error(&p, text, len, err);
            rc = -1;
            break;
        }
        rc = cy_event(&b, &ev, err);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&p);
    if (rc < 0) {
        cy_free(b.root);
        return -1;
    }
    *root = b.root;
    return 0;
}
