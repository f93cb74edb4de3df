/* Request-head parsing for the stats port: the request line is checked as far as the bytes go
 * (so a raw client is told apart early), then the head must end with an empty line. */
#include "src/http.h"

#include <stdbool.h>
#include <string.h>

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

enum http_result http_parse_head(const char *buf, size_t len, struct http_req *req)
{
    size_t i = 0;
    /* the method: upper-case letters, then one space */
    while (i < len && is_upper(buf[i]) && i < sizeof(req->method) - 1)
        i++;
    if (i == len)
        return HTTP_AGAIN;
    if (i == 0 || buf[i] != ' ')
        return HTTP_NOT_HTTP;
    memcpy(req->method, buf, i);
    req->method[i] = '\0';
    size_t p = ++i;
    /* the target: an origin form path, up to the next space */
    while (i < len && buf[i] != ' ' && buf[i] != '\r' && buf[i] != '\n')
        i++;
    if (i == len)
        return len >= HTTP_HEAD_MAX ? HTTP_BAD : HTTP_AGAIN;
    if (buf[i] != ' ' || i == p || buf[p] != '/')
        return HTTP_BAD;
    size_t plen = i - p;
    const char *q = memchr(buf + p, '?', plen);
    if (q != NULL)
        plen = (size_t)(q - (buf + p));
    if (plen >= sizeof(req->path))
        return HTTP_BAD;
    memcpy(req->path, buf + p, plen);
    req->path[plen] = '\0';
    i++;
    /* the version */
    static const char ver[] = "HTTP/1.";
    for (size_t k = 0; k < sizeof(ver) - 1; k++, i++) {
        if (i == len)
            return HTTP_AGAIN;
        if (buf[i] != ver[k])
            return HTTP_BAD;
    }
    /* the rest of the head, up to an empty line */
    for (; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if ((i >= 1 && buf[i - 1] == '\n') || (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n'))
            return HTTP_REQUEST;
    }
    return len >= HTTP_HEAD_MAX ? HTTP_BAD : HTTP_AGAIN;
}
