/*
 * synack http: an HTTP/1.1 file server (GET and HEAD) with keep-alive and
 * pipelining, run as a live application (tools/live.h).
 */
#ifndef SYNACK_TOOLS_HTTP_H
#define SYNACK_TOOLS_HTTP_H

#include "live.h"

/* root: the directory served (must exist). 0, or -1 with a message
 * printed (the caller exits 2). */
int http_app_new(const char *prog, const char *root, struct live_app *app);

#endif
