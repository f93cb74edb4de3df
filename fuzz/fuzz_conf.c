/* Fuzzes the YAML config loader (conf_load_string on the input as a file's text): on failure the
 * message is non-empty and starts "f.yml:line:col: "; on success the conf is sane and conf_free'd.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conf/conf.h"

#define CHECK(c) ((c) ? (void)0 : __builtin_trap())

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct conf *c = (struct conf *)0x1;
    char err[512];
    int line = 0, col = 0, n = 0;
    int rc = conf_load_string((const char *)data, size, "f.yml", &c, err, sizeof(err));

    if (rc == 0) {
        CHECK(c != NULL && err[0] == '\0');
        CHECK(c->npools >= 1 && c->pools != NULL);
        conf_free(c);
        return 0;
    }
    CHECK(rc == -1 && c == NULL);
    CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
    CHECK(sscanf(err, "f.yml:%d:%d: %n", &line, &col, &n) == 2 && n > 0);
    CHECK(line >= 1 && col >= 1 && err[n] != '\0');
    return 0;
}
