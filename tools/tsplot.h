/*
 * Time-sequence plots, written directly as SVG (no gnuplot):
 *
 *  - the time-sequence graph of one direction of a connection, seen from
 *    one point (a capture, or the sender in `synack sim`): the sender's
 *    data segments as vertical bars from SEQ to SEQ+LEN (retransmissions in
 *    another colour), the receiver's cumulative ACK and its window's right
 *    edge (ACK + WND, scaled by the window scale of its SYN) as steps, and
 *    its SACK blocks; sequence numbers relative to the sender's ISN;
 *  - the congestion plot of a synack connection: cwnd and bytes in flight
 *    (top), smoothed RTT (bottom), against time.
 *
 * `synack plot FILE` (tools/plot.c) feeds the first from a capture;
 * `synack sim --plot PREFIX` feeds both through a recorder (tsrec).
 */
#ifndef SYNACK_TOOLS_TSPLOT_H
#define SYNACK_TOOLS_TSPLOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <synack/synack.h>

#include "capread.h"

/* One segment as seen at the vantage point. */
struct tsp_seg {
    synack_time_t t;
    int from;    /* 0: A, 1: B */
    int retrans; /* 1/0 when the sender said so, -1: infer from SEQ */
    synack_seg seg;
    uint8_t nsack;
    uint32_t sack[CAP_MAX_SACK][2];
};

struct tsp_cc {
    synack_time_t t;
    uint32_t cwnd, inflight, srtt_us;
};

/* Bytes of payload each side sent (SYN/FIN not counted). */
void tsplot_bytes(const struct tsp_seg *s, size_t n, uint64_t bytes[2]);

/* The time-sequence plot of direction `dir` (data sent by dir) into f.
 * t0: time shown as 0 (normally the first segment's). `title` is shown
 * above the plot. 0, or -1 if writing failed. */
int tsplot_tseq(FILE *f, const struct tsp_seg *s, size_t n, int dir,
                synack_time_t t0, const char *title);

/* The congestion plot. 0, or -1 if writing failed. */
int tsplot_cc(FILE *f, const struct tsp_cc *c, size_t n, synack_time_t t0,
              synack_time_t t1, const char *title);

/* ---- recorder for `synack sim` -------------------------------------------- */

struct tsrec;

struct tsrec *tsrec_new(void);
void tsrec_free(struct tsrec *r);
/* A frame sent (tx) or received at side `side` at t; retrans as known. */
void tsrec_frame(struct tsrec *r, int side, int tx, synack_time_t t,
                 const uint8_t *frame, size_t len, int retrans);
/* The side's connection now (sampled after each of its segments). */
void tsrec_cc(struct tsrec *r, int side, synack_time_t t,
              const synack_conn_info *ci);
/* PREFIX-tseq.svg and PREFIX-cc.svg for the direction carrying more data
 * (A on a tie), from its sender's point of view. 0, or -1 with a sentence
 * in err. `what` names the run in the titles. */
int tsrec_write(struct tsrec *r, const char *prefix, const char *what,
                char *err, size_t errlen);

#endif
