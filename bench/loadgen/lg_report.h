/* The load generator's output: a human-readable summary or one JSON object. */
#ifndef LG_REPORT_H
#define LG_REPORT_H

#include <stdio.h>

#include "lg_opts.h"
#include "lg_stats.h"

struct lg_result {
    const struct lg_stats *st; /* merged over threads */
    double duration_s;         /* measured window (idle mode: the hold) */
    double setup_s;            /* connecting (and prefilling) before the window */
    double warmup_s;
};

void lg_report_text(FILE *f, const struct lg_config *cfg, const struct lg_result *r);
void lg_report_json(FILE *f, const struct lg_config *cfg, const struct lg_result *r);

#endif
