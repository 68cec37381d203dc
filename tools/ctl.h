/*
 * The control socket of a running synack process. Every live subcommand
 * (echo, discard, http, listen, connect) serves one; `synack ss` and
 * `synack sysctl` are its clients.
 *
 * Where: $XDG_RUNTIME_DIR/synack/ when XDG_RUNTIME_DIR is set, else
 * /run/synack/; the socket is named after the interface: <dir>/<ifname>.sock
 * (a Unix-domain stream socket, mode 0600). One request per connection, a
 * line of text; the answer follows and the server closes. The protocol is
 * private to synack (both ends are in tools/) and versioned in its first
 * answer line.
 */
#ifndef SYNACK_TOOLS_CTL_H
#define SYNACK_TOOLS_CTL_H

#include <stddef.h>

#include <synack/dev.h>
#include <synack/synack.h>

/* The directory (without the trailing slash) into buf; 0 or -1. */
int ctl_dir(char *buf, size_t len);
/* The control sockets of the running processes (ctl_scan of ctl_dir), only
 * <only>.sock when `only` is not NULL, into *paths (free with
 * ctl_scan_free). 0; -1 when the directory's name is too long, -2 when it
 * cannot be read: both with a sentence in err (and no paths). */
int ctl_scan_running(const char *only, char ***paths, size_t *n, char *err,
                     size_t errlen);

typedef struct ctl_server ctl_server;

/* Create the socket for interface `ifname` (replacing a stale one left by a
 * dead process; refusing, with a message in err, when a live process
 * already serves that name) and register it with the loop, so requests are
 * answered from synack_rtloop_once(). `command` ("echo", ...) is reported
 * to clients. 0, or -1 with a sentence in err. */
int ctl_server_open(ctl_server **out, const char *ifname, const char *command,
                    synack_stack *st, synack_rtloop *loop, char *err,
                    size_t errlen);
/* The stack's trace hook calls this with every event: state changes are
 * queued for the `trace` subscribers (never blocking: each has a buffer of
 * CTL_TRACE_BUF bytes; what does not fit is counted and reported as a
 * "lost" line once there is room again). NULL is fine. */
void ctl_server_trace(ctl_server *s, const synack_trace_event *ev);
/* The stack's trace hook costs a call per segment, so the server installs
 * it only while it is needed: while it has `trace` subscribers, or always
 * when `always` is set. `hook` (with ctx) must pass every event on to
 * ctl_server_trace; NULL: the server's own hook, which does only that (the
 * default when this is never called). The hook is removed when the server
 * closes. */
void ctl_server_set_trace_hook(ctl_server *s,
                               void (*hook)(void *ctx,
                                            const synack_trace_event *ev),
                               void *ctx, int always);
/* Once per turn of the loop (not from a loop callback): send what is
 * queued, and drop the subscribers that went away. NULL is fine. */
void ctl_server_poll(ctl_server *s);
/* Close and remove the socket file (subscribers get a last "end" line).
 * NULL is fine. */
void ctl_server_close(ctl_server *s);

#endif
