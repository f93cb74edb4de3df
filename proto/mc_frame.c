/* The framing machine shared by the request and the reply framers. */
#include "proto/mc_frame.h"

#include <string.h>

enum mc_frame_ev mc_frame_run(struct mc_framer *f, uint32_t max_line, const uint8_t *buf,
                              size_t len, size_t *consumed)
{
    size_t pos = 0;

    for (;;) {
        switch (f->state) {
        case MC_FS_LINE: {
            const uint8_t *nl;
            size_t n;

            if (pos == len)
                goto out_again;
            nl = memchr(buf + pos, '\n', len - pos);
            n = nl != NULL ? (size_t)(nl - (buf + pos)) + 1 : len - pos;
            if ((uint64_t)f->line_len + n > max_line) {
                /* at the first byte beyond the cap, wherever the buffers were split */
                pos += max_line - f->line_len;
                f->line_len = max_line; /* as far as it was read, however it was split */
                f->error = "line too long";
                *consumed = pos;
                return MC_FRAME_ERROR;
            }
            f->line_len += (uint32_t)n;
            pos += n;
            if (nl == NULL)
                goto out_again;
            f->state = MC_FS_LINE_DONE;
            *consumed = pos;
            return MC_FRAME_LINE;
        }
        case MC_FS_DATA: {
            size_t n = len - pos;

            if (f->data_left > 0) {
                if (n == 0)
                    goto out_again;
                if (n > f->data_left)
                    n = (size_t)f->data_left;
                f->data_left -= n;
                pos += n;
                if (f->data_left > 0)
                    goto out_again;
            }
            f->state = MC_FS_DATA_CR;
            break;
        }
        case MC_FS_DATA_CR:
            if (pos == len)
                goto out_again;
            if (buf[pos] != '\r') {
                if (!f->lenient)
                    goto out_bad_chunk;
                f->bad_chunk = true;
            }
            pos++;
            f->state = MC_FS_DATA_LF;
            break;
        case MC_FS_DATA_LF:
            if (pos == len)
                goto out_again;
            if (buf[pos] != '\n') {
                if (!f->lenient)
                    goto out_bad_chunk;
                f->bad_chunk = true;
            }
            pos++;
            f->state = MC_FS_LINE;
            f->line_len = 0;
            f->data_left = 0;
            *consumed = pos;
            return MC_FRAME_DATA;
        default:
            f->error = "bad framer state";
            *consumed = pos;
            return MC_FRAME_ERROR;
        }
    }

out_again:
    *consumed = pos;
    return MC_FRAME_AGAIN;

out_bad_chunk:
    f->error = "bad data chunk";
    *consumed = pos;
    return MC_FRAME_ERROR;
}
