/*
 * `synack explain FILE`: the explanations of tools/explain_rules for the
 * connections of a capture, both ends of each, as tools/capinfer infers
 * their states from the segments. "Now" is the capture's last packet: a
 * connection is stuck if it sat in its state that long before the capture
 * ended.
 *
 * What a capture cannot show is left unknown to the rules (whether the
 * application closed its socket, what it has not read, the timers); what
 * it shows is passed on: the time in the state, the bytes sent and not
 * acknowledged (a lower bound of the Send-Q), both windows, the
 * retransmissions of the oldest unacknowledged segment in a row (the
 * backoff) and the gap between the last two (the RTO then, doubled for
 * the RTO now), zero-window probes. The tunables are Linux's defaults,
 * which synack shares; the capture does not say what the hosts used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capconn.h"
#include "capinfer.h"
#include "explain_cap.h"
#include "explain_out.h"
#include "ladder.h"

#define PROG "synack explain"
#define RTO_MAX_US 120000000u /* tcp_rto_max_ms: 120 s */

static void fmt_ep(synack_addr a, char *buf, size_t len)
{
    snprintf(buf, len, "%u.%u.%u.%u:%u", a.ip >> 24, (a.ip >> 16) & 255,
             (a.ip >> 8) & 255, a.ip & 255, a.port);
}

/* Retransmissions in a row of `side`'s oldest unacknowledged segment at
 * the end of the capture, and the gap between its last two copies. A
 * peer's ACK that covers the latest retransmission, seen after it, ends
 * the series (the sender got it, as far as the capture tells). */
static void backoff_of(const struct capconn *cn, const struct capinfer *ci,
                       int side, uint32_t *backoff, uint64_t *gap_ns)
{
    uint32_t n = 0;
    uint64_t last_send = 0, gap = 0;
    uint32_t end = 0; /* sequence end of the latest retransmission */
    for (size_t i = 0; i < cn->nsegs; i++) {
        const struct capconn_seg *g = &cn->segs[i];
        const synack_seg *s = &g->p.seg;
        if (g->from != side) {
            if (n && (s->flags & SYNACK_TH_ACK) &&
                (int32_t)(s->ack - end) >= 0) {
                n = 0;
                gap = 0;
            }
            continue;
        }
        uint32_t len = s->len + ((s->flags & SYNACK_TH_SYN) ? 1u : 0u) +
                       ((s->flags & SYNACK_TH_FIN) ? 1u : 0u);
        if (!len)
            continue;
        if (ci->marks && (ci->marks[i] & LADDER_RETRANS)) {
            n++;
            gap = last_send ? g->p.t_ns - last_send : 0;
            end = s->seq + len;
        }
        last_send = g->p.t_ns;
    }
    *backoff = n;
    *gap_ns = gap;
}

static void conn_of(const struct capconns *cc, size_t k,
                    const struct capinfer *ci, int side, uint64_t now,
                    struct explain_conn *c)
{
    const struct capconn *cn = &cc->conns[k];
    const struct capinfer_side *me = &ci->side[side];
    const struct capinfer_side *peer = &ci->side[!side];
    explain_conn_init(c);
    c->state = me->state;
    if (now >= me->since_ns)
        c->in_state = (int64_t)(now - me->since_ns);
    c->orphan = -1; /* a capture cannot tell */
    c->queues_unseen = 1;
    c->send_q = me->unacked > UINT32_MAX ? UINT32_MAX : (uint32_t)me->unacked;
    if (peer->wnd_known)
        c->snd_wnd = peer->last_wnd > UINT32_MAX ? UINT32_MAX
                                                 : (uint32_t)peer->last_wnd;
    else
        c->snd_wnd = 65535; /* unknown: not a zero window */
    if (me->wnd_known)
        c->rcv_wnd = me->last_wnd > UINT32_MAX ? UINT32_MAX
                                               : (uint32_t)me->last_wnd;
    else
        c->rcv_wnd = 65535;
    c->total_retrans = me->retrans;
    /* the probes since the peer's window last opened: all of them, as far
     * as the counters go (a window that opened again ends them) */
    c->persist_probes = peer->wnd_known && peer->last_wnd == 0
                            ? (uint32_t)me->probes
                            : 0;
    uint64_t gap;
    backoff_of(cn, ci, side, &c->backoff, &gap);
    if (c->backoff && gap) {
        uint64_t rto = 2 * gap / 1000; /* the next one is doubled */
        c->rto_us = rto > RTO_MAX_US ? RTO_MAX_US : (uint32_t)rto;
    }
}

int explain_capture(const char *path, const char *filter, int json, int all,
                    int64_t min_age)
{
    char err[512];
    struct capconns cc;
    int damaged = 0;
    if (capconn_load_ex(path, filter, 1, &damaged, &cc, err, sizeof err) !=
        0) {
        fprintf(stderr, PROG ": %s\n", err);
        return 1;
    }
    if (damaged)
        fprintf(stderr, PROG ": %s (explaining what was read before it)\n",
                err);
    if (cc.n == 0) {
        fprintf(stderr, PROG ": %s: no IPv4 TCP segment in %lu packets%s\n",
                path, cc.packets,
                cc.skipped_ipv6 ? " (IPv6 is not supported)" : "");
        capconn_free(&cc);
        return 1;
    }
    struct capinfer *ci = calloc(cc.n, sizeof *ci);
    if (!ci) {
        fprintf(stderr, PROG ": out of memory\n");
        capconn_free(&cc);
        return 1;
    }
    uint64_t now = 0;
    int code = 0;
    for (size_t k = 0; k < cc.n; k++) {
        if (capinfer_run(&cc.conns[k], &ci[k]) != 0) {
            fprintf(stderr, PROG ": out of memory\n");
            code = 1;
            goto out;
        }
        if (ci[k].last_ns > now)
            now = ci[k].last_ns;
    }
    struct explain_tunables tun;
    explain_tunables_default(&tun);
    struct explain_out *o = explain_out_new(stdout, json, all);
    char label[512], la[32], lb[32];
    for (size_t k = 0; k < cc.n; k++) {
        const struct capconn *cn = &cc.conns[k];
        fmt_ep(cn->ep[0], la, sizeof la);
        fmt_ep(cn->ep[1], lb, sizeof lb);
        snprintf(label, sizeof label,
                 "%s, connection %u: A %s%s, B %s%s (as of the capture's "
                 "end)",
                 path, cn->id, la, cn->a_is_client ? " (client)" : "", lb,
                 cn->a_is_client ? " (server)" : "");
        explain_out_process(o, label, 0, "capture", "");
        for (int side = 0; side < 2; side++) {
            if (ci[k].side[side].state < 0)
                continue;
            struct explain_conn c;
            conn_of(&cc, k, &ci[k], side, now, &c);
            /* alike: the same state on the same endpoint, any connection */
            for (size_t j = 0; j < cc.n; j++)
                for (int s2 = 0; s2 < 2; s2++)
                    c.similar += ci[j].side[s2].state == c.state &&
                                 cc.conns[j].ep[s2].ip == cn->ep[side].ip &&
                                 cc.conns[j].ep[s2].port == cn->ep[side].port;
            struct explain_result r;
            explain_conn(&c, &tun, min_age, &r);
            explain_out_conn(o, side ? lb : la, side ? la : lb, &c, &r);
        }
    }
    explain_out_finish(o, cc.n);
    fflush(stdout);
out:
    for (size_t k = 0; k < cc.n; k++)
        capinfer_free(&ci[k]);
    free(ci);
    capconn_free(&cc);
    return code;
}
