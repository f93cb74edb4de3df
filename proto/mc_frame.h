/* The framing machine shared by memcached requests and replies: find where a line ends, then
 * skip a data block of known length and check its "\r\n". Resumable, pure, no allocation. */
#ifndef RP_MC_FRAME_H
#define RP_MC_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mc_frame_state { MC_FS_LINE = 0, MC_FS_DATA, MC_FS_DATA_CR, MC_FS_DATA_LF, MC_FS_LINE_DONE };

/* Framer state, kept across receive buffers (requests and replies use the same type). */
struct mc_framer {
    uint8_t state;       /* enum mc_frame_state */
    uint32_t line_len;   /* bytes of the current line seen so far */
    uint64_t data_left;  /* data bytes still expected (state DATA) */
    bool discard;        /* requests: the data block is being swallowed, not forwarded */
    bool lenient;        /* requests: a data block is its length + 2 bytes whatever they are, as
                          * memcached reads it; bad_chunk then says whether the last two were not
                          * "\r\n" (replies: that is a framing error) */
    bool bad_chunk;      /* lenient: the block that just ended was not ended by "\r\n" */
    uint8_t lead;        /* requests: what the start of the line says (enum mc_lead, mc_req.c) */
    uint8_t lead_spaces; /* requests: spaces before the line's first word, counted so far */
    uint8_t lead_word;   /* requests: bytes of the first word compared so far */
    const char *error;   /* static message after an error */
};

enum mc_frame_ev {
    MC_FRAME_AGAIN = 0, /* every byte consumed; feed more */
    MC_FRAME_LINE,      /* a line ended at *consumed; state is MC_FS_LINE_DONE */
    MC_FRAME_DATA,      /* a data block and its "\r\n" ended at *consumed; state is MC_FS_LINE */
    MC_FRAME_ERROR,     /* line over max_line, or (not lenient) a block not ended by "\r\n":
                         * f->error */
};

/* Runs the machine from a state other than MC_FS_LINE_DONE (what follows a line is the
 * caller's decision) over len bytes; *consumed is how far it got. */
enum mc_frame_ev mc_frame_run(struct mc_framer *f, uint32_t max_line, const uint8_t *buf,
                              size_t len, size_t *consumed);

#endif
