/*
 * The live subcommands (echo, discard, http, listen, connect): one synack
 * stack on a Linux TAP device, run by the real-time loop. tools/live.c
 * parses the shared options, wires stack, link, pcap and TAP together,
 * serves the control socket and runs the loop; each subcommand is an
 * application (struct live_app) whose step() runs after every turn of the
 * loop with non-blocking sockets.
 */
#ifndef SYNACK_TOOLS_LIVE_H
#define SYNACK_TOOLS_LIVE_H

#include <stddef.h>

#include <synack/dev.h>
#include <synack/synack.h>

struct live {
    const char *prog;   /* "synack echo" */
    const char *ifname; /* the TAP's name */
    synack_stack *st;
    synack_rtloop *loop;
    int listener; /* -1 when none */
    /* Set by an application: finished, exit with rc (listen, connect). */
    int done, rc;
    /* Set by an application during step(): it has work that no network
     * event will announce (stdout blocked), so wake again soon. */
    int poll_soon;
};

struct live_app {
    void *ctx;
    /* Run after every turn of the loop (and again while it makes
     * progress); accept, read, write. */
    void (*step)(void *ctx, struct live *lv, synack_time_t now);
    /* SIGINT/SIGTERM: close every connection (synack_close), gracefully. */
    void (*close_all)(void *ctx, struct live *lv, synack_time_t now);
    void (*destroy)(void *ctx);
};

/* Accept one pending connection on lv->listener: its handle, or -1 when
 * none is pending (errors other than EAGAIN are reported on stderr). */
int live_accept(struct live *lv, synack_addr *peer, synack_time_t now);

/* True for the errors that end a connection (not EAGAIN). */
static inline int live_fatal(ssize_t rc)
{
    return rc < 0 && rc != -SYNACK_EAGAIN;
}

/* "1.25 MB/s"-style rate text of bytes over ns into buf. */
const char *live_fmt_rate(uint64_t bytes, synack_time_t ns, char *buf,
                          size_t len);

#endif
