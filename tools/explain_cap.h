/*
 * `synack explain FILE`: explain the connections of a capture (both ends
 * of each, their states inferred by tools/capinfer) with the rules of
 * tools/explain_rules. See explain_cap.c for what a capture can and cannot
 * tell the rules.
 */
#ifndef SYNACK_TOOLS_EXPLAIN_CAP_H
#define SYNACK_TOOLS_EXPLAIN_CAP_H

#include <stdint.h>

/* filter: a BPF expression or NULL. Prints to stdout (text or JSON, all:
 * healthy connections too). Returns 0, or 1 after a message on stderr (no
 * such file, not a capture, no TCP in it). */
int explain_capture(const char *path, const char *filter, int json, int all,
                    int64_t min_age);

#endif
