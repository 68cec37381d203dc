/*
 * Packet-level test harness: one synack stack (the "local" end, 10.0.0.1)
 * on virtual time, and a scripted remote peer (10.0.0.2) whose segments the
 * test injects and whose expected replies the test pops, one by one.
 *
 * Conventions: the remote peer's ISN is PKT_RISN, so its first data byte is
 * PKT_RISN + 1. The local ISS is learned from the SYN or SYN,ACK the stack
 * sends (e->iss). The remote end does not offer window scaling or
 * timestamps unless a test asks (pkt_open_*_opts), so segments carry
 * exactly the fields the RFC talks about.
 */
#ifndef SYNACK_TESTS_PKT_H
#define SYNACK_TESTS_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <synack/synack.h>

#include "core/wire.h"

#define PKT_LOCAL_IP 0x0a000001u  /* 10.0.0.1 */
#define PKT_REMOTE_IP 0x0a000002u /* 10.0.0.2 */
#define PKT_LOCAL_PORT 8080
#define PKT_REMOTE_PORT 40000
#define PKT_RISN 1000u
#define PKT_MAXSEGS 512
#define PKT_MAXDATA 9000

typedef struct pkt_seg {
    synack_time_t t; /* virtual time it was sent */
    wire_tcp th;     /* header and options as parsed */
    uint32_t len;    /* payload bytes */
    uint8_t data[PKT_MAXDATA];
} pkt_seg;

typedef struct pkt_state_ev {
    synack_time_t t;
    uint32_t conn_id;
    int from, to;
    char cause[48];
} pkt_state_ev;

typedef struct pkt_env {
    synack_stack *st;
    synack_time_t now;
    uint64_t mem_base;
    /* captured TCP segments sent by the stack, FIFO */
    pkt_seg *q;
    size_t qhead, qtail;
    uint64_t nonip_frames; /* ARP/other frames sent (should stay 0) */
    /* state changes seen through the trace hook */
    pkt_state_ev ev[256];
    size_t nev;
    /* sequence bookkeeping for the current connection */
    uint32_t iss;  /* local ISS */
    uint16_t rport; /* remote port in use */
    uint16_t lport; /* local port in use */
    uint16_t mtu;   /* the stack's MTU: no IP packet may be larger */
} pkt_env;

/* Options for the remote side of a handshake. */
typedef struct pkt_peer_opts {
    uint16_t mss;  /* 0: no MSS option */
    int ws;        /* -1: no window scale option */
    bool ts;       /* offer timestamps */
    uint32_t tsval;
    uint16_t wnd;  /* window in the SYN / SYN,ACK (default 65535) */
    bool sack;     /* offer SACK-permitted */
    int sndbuf;    /* > 0: the local SO_SNDBUF, set before an active open */
} pkt_peer_opts;

/* Create the stack (fails the test on error). `sysctls` is NULL or a
 * NULL-terminated list of "name=value". */
void pkt_setup(pkt_env *e, const char *const *sysctls);
/* Assert nothing is left held, then free everything. Call after the
 * connections are gone (or pass check_mem=false). */
void pkt_teardown(pkt_env *e, bool check_mem);
void pkt_sysctl(pkt_env *e, const char *name, const char *value);

/* Advance virtual time to t, running every timer at its deadline on the
 * way (so captured segments carry their exact send times). */
void pkt_run_until(pkt_env *e, synack_time_t t);
void pkt_run_for(pkt_env *e, synack_time_t dt);

/* Inject a segment from the remote peer (rport -> lport). */
void pkt_inject(pkt_env *e, uint8_t flags, uint32_t seq, uint32_t ack,
                uint16_t wnd, const void *data, size_t len);
/* Inject with full control of the header (ports taken from th). */
void pkt_inject_th(pkt_env *e, const wire_tcp *th, const void *data,
                   size_t len);
/* Inject a raw Ethernet frame. */
void pkt_inject_frame(pkt_env *e, const uint8_t *frame, size_t len);
/* Build the Ethernet+IPv4+TCP frame pkt_inject_th would send; returns its
 * length (buf needs PKT_MAXDATA + 100 bytes). */
size_t pkt_build(pkt_env *e, uint8_t *buf, const wire_tcp *th,
                 const void *data, size_t len);

/* Pop the next captured segment; false if none. */
bool pkt_pop(pkt_env *e, pkt_seg *out);
size_t pkt_pending(const pkt_env *e);
/* Pop the next segment and assert flags/seq/ack/len (fails the test with
 * expected vs got). Returns the popped segment (valid until next pop). */
const pkt_seg *pkt_expect(pkt_env *e, uint8_t flags, uint32_t seq,
                          uint32_t ack, uint32_t len);
/* Assert that nothing was sent. */
void pkt_expect_none(pkt_env *e);

/* State of a handle (CLOSED if the handle is gone). */
int pkt_state(pkt_env *e, int s);
/* State of the only non-listening connection, or CLOSED if there is none
 * (for orphaned connections after close()). */
int pkt_conn_state(pkt_env *e);
/* Whether the trace recorded the edge from -> to (any connection). */
bool pkt_saw(const pkt_env *e, int from, int to);
/* Cause recorded for the most recent transition into `to`, or NULL. */
const char *pkt_cause(const pkt_env *e, int to);

/* Listening socket on PKT_LOCAL_PORT. */
int pkt_listen(pkt_env *e, int backlog);
/* Passive open: listen, inject SYN (ISN PKT_RISN), expect SYN,ACK, inject
 * the ACK, accept. Returns the accepted handle; *lh gets the listener.
 * opts may be NULL. */
int pkt_open_passive(pkt_env *e, int *lh, const pkt_peer_opts *opts);
/* Active open: connect to the remote, expect SYN, inject SYN,ACK (ISN
 * PKT_RISN), expect ACK. Returns the handle. */
int pkt_open_active(pkt_env *e, const pkt_peer_opts *opts);
/* Drive an ESTABLISHED connection (remote next seq PKT_RISN+1, nothing in
 * flight) to a target state by the usual path, asserting each segment:
 * FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, LAST-ACK, CLOSING, TIME-WAIT. For
 * states reached by close(), the handle is closed (orphaned) when
 * `orphan`, else shutdown(SHUT_WR) is used. Returns the remote's next
 * sequence number. */
uint32_t pkt_drive_to(pkt_env *e, int s, int target, bool orphan);

/* ---- helpers added for the state-diagram tests (test_state_*.c) ---- */

/* getsockopt(SO_ERROR) on s (asserts the call succeeds); clears it. */
int pkt_so_error(pkt_env *e, int s);
/* stats.drops[reason]. */
uint64_t pkt_drops(pkt_env *e, int reason);
/* Active open up to SYN-SENT: socket, bind to e->lport, connect to the
 * remote, pop the SYN (asserting <SEQ=ISS><CTL=SYN>) and set e->iss.
 * Returns the handle. */
int pkt_connect_syn(pkt_env *e);
/* Inject the remote's SYN (ISN PKT_RISN, no ACK) with the options of o
 * (NULL: none). */
void pkt_inject_syn(pkt_env *e, const pkt_peer_opts *o);
/* pkt_inject with a timestamp option <TSval=tsval><TSecr=tsecr>. */
void pkt_inject_ts(pkt_env *e, uint8_t flags, uint32_t seq, uint32_t ack,
                   uint16_t wnd, uint32_t tsval, uint32_t tsecr,
                   const void *data, size_t len);
/* An ACK (window 65535) from the peer with n SACK blocks: blocks holds
 * start,end pairs. */
void pkt_inject_sack(pkt_env *e, uint32_t seq, uint32_t ack,
                     const uint32_t *blocks, unsigned n);
/* Time of the most recent traced transition from -> to; fails the test
 * if there was none. */
synack_time_t pkt_saw_time(const pkt_env *e, int from, int to);

/* ---- helpers added for the timer tests (test_timer_*.c) ---- */

/* pkt_expect, and assert the segment was sent at exactly virtual time t. */
const pkt_seg *pkt_expect_at(pkt_env *e, synack_time_t t, uint8_t flags,
                             uint32_t seq, uint32_t ack, uint32_t len);
/* pkt_open_active, but the SYN,ACK arrives `rtt` after the SYN was sent
 * (so the handshake yields an RTT sample of exactly rtt). */
int pkt_open_active_rtt(pkt_env *e, synack_time_t rtt,
                        const pkt_peer_opts *opts);
/* pkt_open_passive, but the final ACK arrives `rtt` after the SYN,ACK. */
int pkt_open_passive_rtt(pkt_env *e, int *lh, synack_time_t rtt,
                         const pkt_peer_opts *opts);
/* synack_conn_get on s (asserts the handle exists). */
synack_conn_info pkt_info(pkt_env *e, int s);
/* setsockopt with an int value (asserts success). */
void pkt_setopt_int(pkt_env *e, int s, int opt, int v);

#endif
