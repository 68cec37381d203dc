/*
 * Both ends' TCP states inferred from a capture's segments alone, and the
 * marks of each segment (retransmission, duplicate ACK, zero window...).
 *
 * Input: one connection of a capture (capconn.h), its segments in capture
 * order. capinfer_run walks them once with look-ahead, because what a
 * segment did to its receiver is shown by what the receiver sends later:
 *
 *  - A segment's effect on its sender (snd SYN, snd FIN, snd RST) happens
 *    when it is sent; its effect on the receiver (rcv SYN, rcv FIN,ACK,
 *    rcv ACK, rcv RST) is placed at the copy the receiver evidently got:
 *    the last transmission before the receiver's first ACK that covers it
 *    (a lost FIN seen at its sender changes nothing at the receiver; its
 *    retransmission does). A FIN the receiver never acknowledges in the
 *    capture changes nothing at the receiver, whose state is then marked
 *    uncertain; an unacknowledged SYN is applied at its first copy,
 *    uncertain.
 *  - A pure ACK that the peer answers by retransmitting what it acked was
 *    evidently lost: the next ACK covering it takes effect instead.
 *  - Times are capture times. The capture point (near A, near B, or
 *    between: capinfer.vantage, from the ACK delays each way) sets how long
 *    the peer's segments may still be in flight after a segment passed
 *    (an ACK the peer answers later by retransmitting was lost; a RST the
 *    peer answers later was not received); it is reported too: near A, B's changes really happen up to one
 *    one-way delay after the time shown, and the other way round.
 *  - Initial states: a SYN first: A CLOSED; B LISTEN if it answers with
 *    SYN,ACK, CLOSED if it answers with RST (no listener), unknown if it
 *    does not answer. A SYN,ACK first: SYN-SENT / SYN-RECEIVED assumed.
 *    Anything else: the capture starts mid-connection, ESTABLISHED assumed
 *    for both (uncertain).
 *  - TIME-WAIT is kept to the end of the capture (it ends after 2MSL, 60 s
 *    on Linux, without a segment the capture could show).
 *
 * The result serves `synack diagram` (ladder rows and marks) and `synack
 * explain FILE` (each side's final state, since when, certain or not, and
 * the counters below).
 */
#ifndef SYNACK_TOOLS_CAPINFER_H
#define SYNACK_TOOLS_CAPINFER_H

#include <stddef.h>
#include <stdint.h>

#include "capconn.h"

#define CAPINFER_NONE ((size_t)-1)

/* Where the capture was taken, judged from the handshake. */
enum capinfer_vantage {
    CAPINFER_UNKNOWN = 0, /* no complete handshake, or gaps alike */
    CAPINFER_NEAR_A,      /* A's ACK follows the SYN,ACK at once */
    CAPINFER_NEAR_B,      /* B's SYN,ACK follows the SYN at once */
};

/* One state change of one side. */
struct capinfer_change {
    uint64_t t_ns;       /* capture time of the segment it belongs to */
    uint64_t t_first_ns; /* a receipt: the first copy's time; the change
                            happened between it and t_ns (the capture does
                            not show which copy arrived). Else t_ns. */
    int side;            /* 0: A, 1: B */
    int from, to;        /* enum synack_state; -1: unknown */
    char cause[40];      /* "snd SYN", "rcv FIN,ACK", "rcv RST", ... */
    size_t seg;          /* the segment (index into the connection's segs) */
    int after;           /* 1: after that segment's row (the receiver's change);
                       0: before it (the sender's change) */
    int certain;         /* 0: inferred without direct evidence */
    const char *why;     /* NULL, or why it is uncertain (static text) */
};

/* What is known about one side at the end of the capture, and counters. */
struct capinfer_side {
    int initial;             /* state before the first segment (-1 unknown) */
    int initial_certain;     /* 0: assumed (mid-connection, no answer...) */
    const char *initial_why; /* why it is assumed (static text), or NULL */
    int state;               /* final state (-1 unknown) */
    int certain;             /* the final state is backed by the capture */
    uint64_t since_ns;       /* when it entered `state` (first segment's time
                            for the initial state) */
    unsigned long segs;      /* segments sent */
    unsigned long retrans;   /* of them retransmissions */
    unsigned long ooo;       /* out-of-order */
    unsigned long dupacks;   /* duplicate ACKs sent */
    unsigned long zero_windows;       /* segments advertising a zero window */
    unsigned long keepalives, probes; /* keepalives, zero-window probes */
    uint64_t bytes;    /* payload bytes sent, retransmissions included */
    uint64_t last_wnd; /* last window it advertised (scaled) */
    int wnd_known;
    uint64_t unacked; /* bytes (SYN/FIN count one) it sent that the peer
                           has not acknowledged in the capture */
    int syn_sent, fin_sent, fin_acked, rst_sent;
    uint64_t first_ns, last_ns; /* its first and last segment (0: none) */
};

struct capinfer {
    const struct capconn *conn;
    struct capinfer_side side[2];
    struct capinfer_change *changes; /* in ladder order */
    size_t nchanges;
    unsigned *marks;            /* per segment: LADDER_* bits (ladder.h) */
    int mid_connection;         /* no SYN in the capture */
    int vantage;                /* enum capinfer_vantage */
    uint64_t rtt_ns;            /* round trip A-B-A (0: unknown): the sum of the
                           two below, else the handshake's */
    uint64_t ack_rtt_ns[2];     /* [x]: least time from a segment of x (sent
                               once) to the peer's ACK of it, i.e. from the
                               capture point to the peer and back (0: no
                               sample). Near A, [0] is the round trip and
                               [1] about zero. */
    uint64_t first_ns, last_ns; /* the connection's first and last segment */
};

/* Infer states and marks for conn (borrowed: it must outlive out). 0, or
 * -1 when out of memory. Free with capinfer_free. */
int capinfer_run(const struct capconn *conn, struct capinfer *out);
void capinfer_free(struct capinfer *ci);

/* The state of `side` at capture time t (after every change at or before
 * t); *certain (if not NULL) says whether it is backed by the capture. */
int capinfer_state_at(const struct capinfer *ci, int side, uint64_t t_ns,
                      int *certain);

/* "ESTABLISHED", or "?" for an unknown state. */
const char *capinfer_state_name(int state);

#endif
