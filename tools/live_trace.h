/*
 * The trace hook of the live subcommands: every event of the stack goes to
 * the control socket's `trace` subscribers (ctl_server_trace) and, with
 * --ladder, to a ladder diagram of the live connections (tools/ladder.c,
 * the renderer `synack sim` uses): column A is synack, column B the peer
 * (whose state synack cannot know: the column stays empty). Segments come
 * from the hook itself: SEG_OUT (with the retransmission mark) for what
 * synack sends, SEG_IN for what reaches a connection.
 */
#ifndef SYNACK_TOOLS_LIVE_TRACE_H
#define SYNACK_TOOLS_LIVE_TRACE_H

#include <stdio.h>

#include <synack/synack.h>

#include "ctl.h"

struct live_trace;

/* ladder_out: where the ladder goes (NULL: no ladder); name_a: column A's
 * title; t0: the time shown as 0. NULL when out of memory. */
struct live_trace *live_trace_new(ctl_server *ctl, FILE *ladder_out,
                                  const char *name_a, synack_time_t t0);
/* The hook (synack_set_trace(st, live_trace_hook, lt)). */
void live_trace_hook(void *ctx, const synack_trace_event *ev);
/* Flush the ladder and free. NULL is fine. */
void live_trace_free(struct live_trace *lt);

#endif
