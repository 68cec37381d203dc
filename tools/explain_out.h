/*
 * The output of `synack explain` and `synack sim --explain-at`: text for
 * people (each reported connection with its cause, what governs it, when
 * it ends and the story, wrapped), or one JSON document for tools.
 */
#ifndef SYNACK_TOOLS_EXPLAIN_OUT_H
#define SYNACK_TOOLS_EXPLAIN_OUT_H

#include <stdio.h>

#include "explain_rules.h"

struct explain_out;

/* all: report healthy connections too (verdict EXPLAIN_OK). NULL when out
 * of memory (then nothing is printed). */
struct explain_out *explain_out_new(FILE *f, int json, int all);
/* A new group of connections: a process (pid > 0) or a simulated stack
 * (pid 0). */
void explain_out_process(struct explain_out *o, const char *label, long pid,
                         const char *command, const char *ifname);
void explain_out_conn(struct explain_out *o, const char *local,
                      const char *remote, const struct explain_conn *c,
                      const struct explain_result *r);
/* Close the document (nsources: groups asked) and free o. Returns the
 * number of connections reported as stuck. */
int explain_out_finish(struct explain_out *o, size_t nsources);

#endif
