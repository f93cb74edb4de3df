/* The little HTTP the stats port understands: the head of one request (method and path). */
#ifndef RP_HTTP_H
#define RP_HTTP_H

#include <stddef.h>

#define HTTP_HEAD_MAX 8192 /* a longer request head is refused (400) */

enum http_result {
    HTTP_AGAIN,    /* the head is not whole yet */
    HTTP_REQUEST,  /* a whole head: method and path are set */
    HTTP_BAD,      /* began like HTTP but is not valid, or is too long */
    HTTP_NOT_HTTP, /* not an HTTP request at all (a raw stats client that typed something) */
};

struct http_req {
    char method[16];
    char path[512]; /* without the query string */
};

/* Looks at the first len bytes received on a connection. Pure: no allocation, no I/O. */
enum http_result http_parse_head(const char *buf, size_t len, struct http_req *req);

#endif
