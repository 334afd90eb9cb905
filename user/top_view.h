/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `finwatch top`'s terminal: ncurses drawing and keys over top_model. The
 * app samples it about once a second and polls it for keys on every turn
 * of its loop; everything it shows comes from the model.
 */
#ifndef FW_TOP_VIEW_H
#define FW_TOP_VIEW_H

#include <stddef.h>
#include <linux/types.h>
#include "fw2_tracker.h"
#include "run_stats.h"

struct top_view;

/* Before anything is loaded: 0 if stdout is a terminal whose type
 * terminfo knows; else -1 with one line in msg saying what to do. */
int top_view_check(char *msg, size_t len);

/* Takes over the terminal (alternate screen, keys without echo); stderr is
 * kept off the screen until top_view_end. NULL with msg on failure. */
struct top_view *top_view_start(__u64 now_ns, char *msg, size_t len);

/* A new sample of the tracker (ignored while paused). */
void top_view_sample(struct top_view *v, const struct fw2_tracker *t, const struct fw_run_stats *st,
		     __u64 now_ns);

/* Reads the keys typed so far and redraws what changed. Returns 1 when
 * the user quit. */
int top_view_poll(struct top_view *v, const struct fw2_tracker *t, __u64 now_ns);

/* A warning for the status line (fw_warn's stderr is hidden meanwhile); the
 * first few are printed again on stderr by top_view_end. */
void top_view_note(struct top_view *v, const char *msg);

/* Gives the terminal back as it was (idempotent; safe with NULL). */
void top_view_end(struct top_view *v);
void top_view_free(struct top_view *v);

#endif
