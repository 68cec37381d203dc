/*
 * Internal structures of the sans-IO core: the stack, its tunables, the ARP
 * cache and the TCP control block. Nothing here makes a system call or reads
 * a clock; time comes in as `now` on every entry point.
 */
#ifndef SYNACK_CORE_CORE_H
#define SYNACK_CORE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <synack/synack.h>

#include "wire.h"

/* Sequence-number comparisons (RFC 9293 3.4), modulo 2^32. */
#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)

#define MAX_FRAME 9216 /* largest frame queued while ARP resolves */
#define MAX_IP_PACKET 65535u /* IPv4 total length is 16 bits */
#define ARP_TABLE_SIZE 64
#define ARP_PENDING_MAX 16
#define OOO_MAX 16 /* out-of-order ranges kept per connection */

/* ---- tunables ------------------------------------------------------- */
typedef struct tunables {
    int syn_retries;
    int synack_retries;
    int retries1;
    int retries2;
    int fin_timeout;   /* s */
    int timewait_len;  /* s, = 2*MSL */
    int keepalive_time;  /* s */
    int keepalive_intvl; /* s */
    int keepalive_probes;
    int rmem[3]; /* min default max */
    int wmem[3];
    int window_scaling;
    int timestamps;
    int max_syn_backlog;
    int rfc1337;
    int challenge_ack_limit; /* per second, whole stack */
    int syncookies;          /* 0 off, 1 when the SYN queue is full, 2 always */
    int invalid_ratelimit_ms; /* ACKs to unacceptable segments, per conn */
    int rto_min_us;
    int rto_max_ms;
    int rto_initial_ms;
    int delack_ms;
    int ooo_max_bytes_pct; /* unused reserve */
} tunables;

void tunables_default(tunables *t);

/* ---- ARP ------------------------------------------------------------------ */
enum { ARP_FREE = 0, ARP_INCOMPLETE, ARP_VALID, ARP_STATIC };

typedef struct arp_entry {
    uint32_t ip;
    uint8_t mac[6];
    uint8_t state;
    uint8_t tries;
    synack_time_t expires;  /* VALID: after this, refresh */
    synack_time_t next_req; /* next request to send (INCOMPLETE/refresh) */
} arp_entry;

typedef struct arp_pending {
    uint32_t nexthop;
    uint32_t len;
    bool used;
    uint8_t *frame; /* pend_cap bytes, from the stack's arena */
} arp_pending;

/* ---- TCP control block ---------------------------------------------------- */
typedef struct ooo_range {
    uint32_t start, end; /* [start, end) sequence numbers held in the ring */
} ooo_range;

typedef struct tcb tcb;
struct tcb {
    tcb *next, *prev; /* all connections of the stack */
    tcb *hnext;       /* demux hash chain (connected) or listener list */
    tcb *listener;    /* passive open: the listener that spawned us */
    tcb *aq_next;     /* listener's accept queue */
    tcb *aq_head, *aq_tail; /* listener: established, not yet accepted */
    int backlog, aq_len, synq_len;
    synack_time_t cookie_sent; /* listener: last SYN cookie sent (or NEVER) */
    synack_time_t last_oow_ack; /* tcp_invalid_ratelimit */
    bool oow_ack_sent;

    uint32_t id;
    int handle; /* -1: no handle (embryonic, queued or orphaned) */
    int state;
    uint32_t lip, rip;
    uint16_t lport, rport;
    bool hashed, listed, in_aq, passive, orphan;
    bool zombie; /* CLOSED with no handle: freed by tcp_reap() */

    /* send sequence space */
    uint32_t iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2;
    uint32_t snd_wnd, max_sndwnd;
    /* receive sequence space */
    uint32_t irs, rcv_nxt, rcv_adv, last_ack_sent;
    /* options */
    uint16_t peer_mss, mss, rcv_mss, user_mss;
    uint8_t snd_ws, rcv_ws;
    bool ws_ok, ts_ok;
    uint32_t ts_recent, ts_offset;
    uint32_t ts_rexmt_mark; /* our TS clock at the last RTO */
    bool ts_rexmt_valid;

    /* RTT (RFC 6298), nanoseconds */
    synack_time_t srtt, rttvar, rto;
    bool rtt_valid, rtt_timing;
    uint32_t rtt_seq;
    synack_time_t rtt_start;
    uint32_t backoff; /* consecutive retransmission timeouts */
    uint8_t syn_flags_sent; /* SYN or SYN,ACK: last one sent */

    /* congestion control (RFC 5681, 6582) */
    uint32_t cwnd, ssthresh, recover, dupacks, ca_acked;
    bool in_recovery;

    /* timers: absolute deadlines, SYNACK_TIME_NEVER when off */
    synack_time_t t_rexmt, t_persist, t_delack, t_keep, t_2msl;
    synack_time_t first_unacked; /* user timeout: when unacked data started */
    uint32_t persist_backoff, keep_probes, persist_probes;
    synack_time_t last_rcv; /* for keepalive idle time */

    /* buffers */
    uint8_t *txb;
    uint32_t tx_size, tx_head, tx_len; /* bytes seq tx_seq.. */
    uint32_t tx_seq;
    uint8_t *rxb;
    uint32_t rx_size, rx_head, rx_len; /* in-order, unread */
    ooo_range ooo[OOO_MAX];
    uint8_t nooo;
    uint32_t rcv_fin_seq;
    bool rcv_fin_pending; /* FIN seen beyond a hole */

    /* flags */
    bool fin_queued;  /* FIN to follow the queued data */
    bool fin_rcvd;    /* peer's FIN consumed: EOF after rx drains */
    bool shut_rd;
    bool ack_now;     /* send an ACK at the next output */
    bool rcv_opened;  /* the application read: a window update may be due */
    bool force_send;  /* persist expiry: send what the window allows */
    bool conn_reported; /* POLLOUT after connect already seen */
    bool reset_done;  /* connection ended by reset/timeout (EPIPE after) */
    uint32_t unacked_rcv; /* bytes received since our last ACK */
    unsigned last_events;
    int so_error;
    int soft_error; /* reported instead of ETIMEDOUT when retries run out */

    /* socket options */
    bool nodelay, keepalive, reuseaddr, linger_on;
    int linger_secs;
    uint32_t user_timeout_ms;
    int keepidle, keepintvl, keepcnt; /* 0: stack tunable */
    uint32_t rcvbuf, sndbuf;          /* 0: tunable default */

    /* statistics */
    uint64_t bytes_sent, bytes_acked, bytes_received, bytes_retrans;
    uint64_t segs_in, segs_out, total_retrans;
};

/* ---- the stack -------------------------------------------------------------- */
struct synack_stack {
    synack_stack_config cfg;
    tunables tun;
    synack_stack_stats stats;
    uint64_t rng;
    synack_time_t now;

    /* sockets */
    tcb **handles;
    uint32_t nhandles;
    tcb *conns; /* list of every tcb */
    size_t nconns;
    uint32_t nzombies;
    tcb **hash;
    uint32_t hash_mask;
    tcb *listeners;
    uint32_t next_id;
    uint32_t next_port; /* RFC 6056 next_ephemeral */

    /* RFC 5961 challenge-ACK limit */
    uint64_t mem_fixed; /* mem_used right after synack_stack_new */
    synack_time_t chal_window;
    uint32_t chal_count, chal_budget;

    /* ARP */
    arp_entry arp[ARP_TABLE_SIZE];
    arp_pending pend[ARP_PENDING_MAX];

    /* output */
    uint8_t *txbuf; /* txcap bytes: scratch for building one frame */
    uint16_t ip_id;

    /* trace and events */
    void (*trace)(void *ctx, const synack_trace_event *ev);
    void *trace_ctx;
    void (*event_cb)(void *ctx, int s, unsigned events);
    void *event_ctx;
    const char *cause;          /* what the current event is */
    const synack_seg *cur_seg;  /* segment being processed, if any */
    char cause_buf[48];

    /* large frames and segmentation offload (sized from cfg.mtu and
     * cfg.gso_max at synack_stack_new, so a 1500-byte stack stays small) */
    uint32_t txcap;    /* bytes of txbuf: the largest frame we build */
    uint32_t pend_cap; /* bytes of each ARP-pending frame */
};

/* ---- memory (control path only) ------------------------------------------- */
void *stack_mem_get(synack_stack *st, size_t size);
void stack_mem_put(synack_stack *st, void *p, size_t size);
uint64_t stack_rand(synack_stack *st);
synack_time_t stack_clock(synack_stack *st, synack_time_t now);

/* ---- IPv4 output, ARP, ICMP (stack.c) ------------------------------------- */
/* The L4 payload (l4len bytes) is already at st->txbuf + 34. Fills the IP
 * and Ethernet headers and sends or queues for ARP. */
int ip_output(synack_stack *st, uint32_t dst, uint8_t proto, size_t l4len,
              synack_time_t now);
void arp_input(synack_stack *st, const uint8_t *p, size_t len,
               synack_time_t now);
void arp_timers(synack_stack *st, synack_time_t now);
synack_time_t arp_deadline(const synack_stack *st);
void arp_negative_advice(synack_stack *st, uint32_t ip);
bool stack_on_link(const synack_stack *st, uint32_t ip);
void stack_drop(synack_stack *st, int reason, tcb *tp, const synack_seg *seg,
                synack_time_t now);
/* A trace event of `kind` about tp (NULL: none), everything else zero. */
void trace_event_init(synack_trace_event *ev, int kind, const tcb *tp,
                      synack_time_t now);
#define L4_OFF (WIRE_ETH_HLEN + WIRE_IPV4_HLEN)

/* ---- TCP ---------------------------------------------------------------- */
/* ARP gave up on next hop `ip` with packets waiting: connections still
 * opening through it record EHOSTUNREACH as a soft error, reported instead
 * of ETIMEDOUT if their SYN retries run out (Linux's sk_err_soft). */
void tcp_neighbour_failed(synack_stack *st, uint32_t ip, synack_time_t now);
void tcp_input(synack_stack *st, const wire_ipv4 *ip, const uint8_t *seg,
               size_t len, synack_time_t now);
void tcp_output(synack_stack *st, tcb *tp, synack_time_t now);
void tcp_timers(synack_stack *st, synack_time_t now);
synack_time_t tcp_deadline(const synack_stack *st);
synack_time_t tcb_deadline(const tcb *tp);

/* tcp_subr.c */
tcb *tcb_new(synack_stack *st);
void tcb_free(synack_stack *st, tcb *tp);
/* Free the connections that ended while no handle referred to them; run at
 * the end of every entry point, never in the middle of processing. */
void tcp_reap(synack_stack *st);
void tcp_plan_conn(synack_stack *st, tcb *tp);
void tcb_hash_insert(synack_stack *st, tcb *tp);
uint32_t tcb_hash(const synack_stack *st, uint32_t lip, uint16_t lport,
                  uint32_t rip, uint16_t rport);
tcb *tcb_lookup(const synack_stack *st, uint32_t lip, uint16_t lport, uint32_t rip,
                uint16_t rport);
tcb *tcb_lookup_listener(synack_stack *st, uint32_t lip, uint16_t lport);
void tcp_set_state(synack_stack *st, tcb *tp, int state, synack_time_t now);
/* The connection is over: CLOSED, timers off; freed at once if no handle
 * refers to it. err (positive SYNACK_E*) is reported to the application. */
void tcp_close_conn(synack_stack *st, tcb *tp, int err, synack_time_t now);
uint32_t tcp_isn(synack_stack *st, const tcb *tp, synack_time_t now);
int tcp_alloc_buffers(synack_stack *st, tcb *tp);
void tcp_free_buffers(synack_stack *st, tcb *tp);
uint16_t tcp_ephemeral_port(synack_stack *st, uint32_t lip, uint32_t rip,
                            uint16_t rport);
bool tcp_port_in_use(synack_stack *st, uint32_t lip, uint16_t port,
                     bool reuse);
void tcp_notify(synack_stack *st, tcb *tp);
unsigned tcp_poll_events(const tcb *tp);
void tcp_trace_seg(synack_stack *st, int kind, tcb *tp, const synack_seg *seg,
                   bool retrans, synack_time_t now);
synack_time_t tcp_rto_min(const synack_stack *st);
synack_time_t tcp_rto_max(const synack_stack *st);
int tcp_keepidle(const synack_stack *st, const tcb *tp);
int tcp_keepintvl(const synack_stack *st, const tcb *tp);
int tcp_keepcnt(const synack_stack *st, const tcb *tp);
void tcp_set_cause(synack_stack *st, const char *fmt_prefix, uint8_t flags);
bool tcp_state_edge_ok(int from, int to);

/* tcp_output.c */
/* Send a control segment for tp (ACK, RST, keepalive/window probe). */
void tcp_send_ctl(synack_stack *st, tcb *tp, uint32_t seq, uint8_t flags,
                  synack_time_t now);
void tcp_send_ack(synack_stack *st, tcb *tp, synack_time_t now);
/* Reply RST to a segment that has no connection (RFC 9293 3.10.7.1). */
void tcp_reset_reply(synack_stack *st, const wire_ipv4 *ip,
                     const wire_tcp *th, uint32_t seglen, synack_time_t now);
void tcp_retransmit_first(synack_stack *st, tcb *tp, synack_time_t now);
uint32_t tcp_rcv_window(const tcb *tp);
void tcp_arm_rexmt(synack_stack *st, tcb *tp, synack_time_t now);
/* Challenge ACK (RFC 5961), subject to tcp_challenge_ack_limit. */
void tcp_challenge_ack(synack_stack *st, tcb *tp, synack_time_t now);
static inline uint32_t tcp_ts_now(const tcb *tp, synack_time_t now)
{
    return (uint32_t)(now / SYNACK_MSEC) + tp->ts_offset;
}

/* tcp_usr.c: user calls on a tcb (the socket layer maps handles) */
int tcp_usr_connect(synack_stack *st, tcb *tp, const synack_addr *a,
                    synack_time_t now);
int tcp_usr_listen(synack_stack *st, tcb *tp, int backlog);
ssize_t tcp_usr_send(synack_stack *st, tcb *tp, const uint8_t *buf,
                     size_t len, synack_time_t now);
ssize_t tcp_usr_recv(synack_stack *st, tcb *tp, uint8_t *buf, size_t len,
                     synack_time_t now);
int tcp_usr_shutdown(synack_stack *st, tcb *tp, int how, synack_time_t now);
void tcp_usr_close(synack_stack *st, tcb *tp, synack_time_t now);
void tcp_usr_abort(synack_stack *st, tcb *tp, synack_time_t now);
tcb *tcp_usr_accept(synack_stack *st, tcb *lp);
void tcp_fill_info(const synack_stack *st, const tcb *tp,
                   synack_conn_info *out);

/* A connection's addresses and ports (host byte order). */
typedef struct tcb_tuple {
    uint32_t lip, rip;
    uint16_t lport, rport;
} tcb_tuple;

/* SYN cookies (tcp_syncookie.c). */
int syncookie_mss_index(uint16_t mss);
uint16_t syncookie_mss(int idx);
uint32_t syncookie_make(const synack_stack *st, const tcb_tuple *tu,
                        uint32_t irs, int mss_idx, synack_time_t now);
/* The MSS index the cookie carries, or -1 if it is not valid now. */
int syncookie_check(const synack_stack *st, const tcb_tuple *tu,
                    uint32_t irs, uint32_t cookie, synack_time_t now);
uint32_t syncookie_ts_offset(const synack_stack *st, const tcb_tuple *tu);

/* Send a segment that belongs to no connection (a RST in reply, a SYN
 * cookie's SYN,ACK): th is complete but for the checksum; `owner` (may be
 * NULL) is the socket the trace shows it under. */
void tcp_send_raw(synack_stack *st, tcb *owner, uint32_t lip, uint32_t rip,
                  const wire_tcp *th, synack_time_t now);

/* RFC 6528 keyed hash (SipHash-2-4). */
uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);

#endif
