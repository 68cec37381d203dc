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
    int sack;          /* RFC 2018 selective acknowledgment */
    int dsack;         /* RFC 2883 duplicate SACK (sending) */
    int recovery;      /* bit 0 (1): RACK loss detection (RFC 8985) */
    int early_retrans; /* 3: tail loss probe (RFC 8985 TLP); 0: off */
    int reordering;    /* initial DupThresh (RFC 6675), default 3 */
    int fast_path;     /* header prediction on (1) or off (0) */
    int pacing;        /* tcp_pacing: honour the module's pacing rate */
    int sndbuf_auto;   /* tcp_sndbuf_auto: grow the send ring (autotuning) */
    char cc_name[16];  /* tcp_congestion_control */
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

/* One sent segment (tcp_sack.c): the send scoreboard, a ring of records
 * covering [SND.UNA, SND.MAX) in order, allocated with the send ring. */
enum {
    TXR_SACKED = 1,  /* selectively acknowledged */
    TXR_LOST = 2,    /* deemed lost (RACK, DupThresh, RTO): to resend */
    TXR_RETRANS = 4, /* retransmitted, that copy still in flight */
    TXR_EVER_RT = 8, /* retransmitted at least once (RACK's Karn rule) */
    TXR_FIN = 16,    /* the record ends with our FIN */
    TXR_APPLIM = 32, /* sent while the application was the limit (rate) */
    TXR_RATE = 64,   /* the rate fields are set (sampling was on) */
};
typedef struct txrec {
    uint32_t start, end;  /* sequence space, FIN included */
    synack_time_t xmit;   /* last (re)transmission */
    /* delivery-rate sampling (tcp_sack.c, draft-cheng-iccrg-delivery-
     * rate-estimation) at the last (re)transmission: tp->delivered, and
     * how long before xmit tp->delivered_time and tp->first_tx_time were,
     * in units of 1024 ns (saturated) */
    uint32_t delivered, dlv_t, first_t;
    uint8_t fl;
} txrec;

/* One ACK's delivery-rate sample (tcp_sack.c), for congestion control
 * that models the path (BBR): `delivered` bytes over `interval`. */
typedef struct tcp_rate_sample {
    synack_time_t interval; /* 0: no sample on this ACK */
    synack_time_t rtt;      /* of the newest record delivered; 0: none */
    uint32_t delivered;     /* bytes delivered during interval */
    uint32_t prior_delivered; /* tp->delivered when that record was sent */
    uint32_t acked_sacked;  /* bytes newly delivered by this ACK */
    uint32_t losses;        /* bytes newly deemed lost on this ACK */
    uint32_t prior_in_flight; /* pipe before the ACK */
    bool app_limited;       /* the sample may underestimate the path */
    /* (tcp_sack.c's own: the record chosen so far) */
    bool have;
    uint32_t last_end;
    synack_time_t last_xmit, prior_time, send_elapsed;
} tcp_rate_sample;

/* Congestion-control state of a connection (tcp_cc.c): ca_state. */
enum { CA_OPEN = 0, CA_RECOVERY, CA_LOSS };
/* What t_rexmt is armed for. */
enum { RX_RTO = 0, RX_TLP, RX_REO };

typedef struct tcb tcb;
typedef struct tcp_cc_ops {
    const char *name;
    /* the connection is established (cwnd set) */
    void (*init)(tcb *tp, synack_time_t now);
    /* `acked` bytes newly acknowledged outside recovery: grow cwnd */
    void (*cong_avoid)(tcb *tp, uint32_t acked, synack_time_t now);
    /* a congestion event (loss detected, RTO): the new ssthresh */
    uint32_t (*ssthresh)(tcb *tp, synack_time_t now);
    /* a retransmission timeout (after ssthresh was taken) */
    void (*on_rto)(tcb *tp, synack_time_t now);
    /* optional: on every ACK that delivered data or marked losses, in
     * and out of recovery, instead of cong_avoid and PRR: the module
     * sets cwnd (and the pacing rate) from the rate sample itself */
    void (*cong_control)(tcb *tp, const tcp_rate_sample *rs,
                         synack_time_t now);
} tcp_cc_ops;

/* The control block. Laid out for size (a million idle connections must fit
 * well under 1 GiB with the stack's per-connection tables): pointers and
 * 64-bit fields first, then 32-, 16- and 8-bit ones, the flags as bits. The
 * out-of-order ranges live in the receive buffer's allocation (tp->ooo is
 * NULL, and nooo 0, while there is none); the rings are allocated when data
 * first flows and released when the connection has been idle for
 * TCP_BUF_IDLE (tcp_subr.c). */
struct tcb {
    tcb *next, *prev; /* all connections of the stack */
    tcb *hnext;       /* demux hash chain, listener list or zombie list */
    tcb *pnext, **pprev; /* bind table chain (by local port) */
    tcb *listener;    /* passive open: the listener that spawned us */
    tcb *aq_next;     /* listener's accept queue */
    tcb *aq_head, *aq_tail; /* listener: established, not yet accepted */
    tcb *idle_next, *idle_prev; /* buffers held, connection idle (FIFO) */
    ooo_range *ooo;   /* OOO_MAX ranges, in front of rxb's allocation */
    uint8_t *txb, *rxb;
    const tcp_cc_ops *cc; /* congestion control (tcp_cc.c) */
    txrec *rec;       /* the send scoreboard ring (rec_cap entries) */

    synack_time_t cookie_sent; /* listener: last SYN cookie sent (or NEVER) */
    synack_time_t last_oow_ack; /* tcp_invalid_ratelimit */
    /* RTT (RFC 6298), nanoseconds */
    synack_time_t srtt, rttvar, rto, rtt_start;
    /* timers: absolute deadlines, SYNACK_TIME_NEVER when off. Whoever
     * changes one calls tcb_timer_sync() before the entry point returns
     * (the entry points in tcp_input.c, tcp_timer.c and tcp_usr.c do). */
    synack_time_t t_rexmt, t_persist, t_delack, t_keep, t_2msl;
    synack_time_t first_unacked; /* user timeout: when unacked data started */
    synack_time_t last_rcv; /* for keepalive idle time */
    synack_time_t wheel_at; /* the timer heap's key: tcb_deadline when filed */
    synack_time_t idle_at;  /* on the idle list since */
    synack_time_t rto_at; /* the RTO's deadline while t_rexmt waits for
                           * a tail loss probe */
    /* RACK (RFC 8985): send time and RTT of the newest delivered segment */
    synack_time_t rack_xmit, rack_rtt, min_rtt;
    /* delivery-rate sampling (tcp_sack.c): when tp->delivered last grew,
     * and the send time of the newest delivered record */
    synack_time_t delivered_time, first_tx_time;
    /* pacing (tcp_output.c): the next segment's earliest send time, and
     * t_pace, the timer for it while tcp_output waits at the gate (the
     * module sets pacing_rate, bytes per second; 0: not paced) */
    synack_time_t pace_at, t_pace;
    synack_time_t state_since; /* when tcp_set_state last changed state */
    uint64_t cc_priv[6]; /* the congestion-control module's state */
    /* statistics */
    uint64_t bytes_sent, bytes_acked, bytes_received, bytes_retrans;
    uint64_t segs_in, segs_out, total_retrans;

    uint32_t id;
    int handle; /* -1: no handle (embryonic, queued or orphaned) */
    int state;
    int backlog, aq_len, synq_len;
    uint32_t lip, rip;
    uint32_t theap_idx; /* position in the timer heap, TCB_NOT_FILED */

    /* send sequence space */
    uint32_t iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2;
    uint32_t snd_wnd, max_sndwnd;
    /* receive sequence space */
    uint32_t irs, rcv_nxt, rcv_adv, last_ack_sent;
    uint32_t ts_recent, ts_offset;
    uint32_t ts_rexmt_mark; /* our TS clock at the last RTO */
    uint32_t rtt_seq;
    uint32_t backoff; /* consecutive retransmission timeouts */
    /* congestion control (RFC 5681, 6582, 6937; tcp_cc.c) */
    uint32_t cwnd, ssthresh, recover, dupacks, ca_acked;
    uint32_t prr_delivered, prr_out, recover_fs; /* PRR (RFC 6937) */
    /* undo of a reduction D-SACKs show was spurious: the window before
     * it, SND.UNA when it began, retransmissions not yet D-SACKed */
    uint32_t prior_cwnd, prior_ssthresh, undo_marker, undo_retrans;
    uint32_t persist_backoff, keep_probes, persist_probes;
    /* SACK, RACK-TLP (tcp_sack.c) */
    uint32_t rec_cap, rec_head, rec_n;
    uint32_t sacked_bytes, lost_bytes, retrans_bytes;
    uint32_t fack;     /* highest SACKed sequence number + 1 */
    uint32_t rack_end; /* RACK.end_seq */
    uint32_t reo_wnd_mult, reo_wnd_persist;
    uint32_t dsack_round; /* SND.MAX when reo_wnd_mult last grew */
    uint32_t tlp_high;    /* TLP.end_seq while tlp_on */
    /* bytes delivered (cumulatively ACKed or SACKed) since the start,
     * modulo 2^32; app_limited: the rate samples are application-limited
     * until tp->delivered passes it (0: not limited) */
    uint32_t delivered, app_limited;
    uint32_t pacing_rate;
    /* receiver: D-SACK to report (RFC 2883), newest out-of-order data */
    uint32_t dsack_start, dsack_end;
    uint32_t ooo_last; /* start of the last out-of-order segment kept */

    /* buffers */
    uint32_t tx_size, tx_head, tx_len; /* bytes seq tx_seq.. */
    uint32_t tx_seq;
    uint32_t rx_size, rx_head, rx_len; /* in-order, unread */
    uint32_t rcv_fin_seq;
    uint32_t unacked_rcv; /* bytes received since our last ACK */
    unsigned last_events;
    int so_error;
    int soft_error; /* reported instead of ETIMEDOUT when retries run out */

    /* socket options */
    int linger_secs;
    uint32_t user_timeout_ms;
    uint32_t rcvbuf, sndbuf;          /* 0: tunable default */
    int16_t keepidle, keepintvl;      /* 0: stack tunable (1..32767) */
    uint8_t keepcnt;                  /* 0: stack tunable (1..127) */

    uint16_t lport, rport;
    uint16_t peer_mss, mss, rcv_mss, user_mss;
    uint8_t snd_ws, rcv_ws;
    uint8_t syn_flags_sent; /* SYN or SYN,ACK: last one sent */
    uint8_t nooo;
    uint8_t ca_state;   /* CA_* */
    uint8_t rexmt_kind; /* RX_*: what t_rexmt is armed for */

    bool oow_ack_sent : 1;
    bool hashed : 1, listed : 1, in_aq : 1, passive : 1, orphan : 1;
    bool zombie : 1; /* CLOSED with no handle: freed by tcp_reap() */
    bool bound : 1;  /* in the bind table */
    bool idle : 1;   /* on the idle list */
    bool ws_ok : 1, ts_ok : 1;
    bool ts_rexmt_valid : 1;
    bool rtt_valid : 1, rtt_timing : 1;
    bool in_recovery : 1; /* ca_state != CA_OPEN */
    bool sack_ok : 1;     /* both ends offered SACK-permitted */
    bool reord_seen : 1, rack_valid : 1;
    bool tlp_probe : 1; /* tcp_output may send one segment beyond cwnd */
    bool tlp_on : 1, tlp_retrans : 1;
    bool dsack_pending : 1;
    bool undo_on : 1; /* prior_cwnd/ssthresh hold an undoable reduction */
    bool rcv_fin_pending : 1; /* FIN seen beyond a hole */
    bool fin_queued : 1;  /* FIN to follow the queued data */
    bool fin_rcvd : 1;    /* peer's FIN consumed: EOF after rx drains */
    bool shut_rd : 1;
    bool ack_now : 1;     /* send an ACK at the next output */
    bool rcv_opened : 1;  /* the application read: a window update may be due */
    bool force_send : 1;  /* persist expiry: send what the window allows */
    bool conn_reported : 1; /* POLLOUT after connect already seen */
    bool reset_done : 1;  /* connection ended by reset/timeout (EPIPE after) */
    bool nodelay : 1, keepalive : 1, reuseaddr : 1, linger_on : 1;
};

#define TCB_NOT_FILED UINT32_MAX
/* A connection's receive allocation: the out-of-order ranges, then the
 * ring. */
#define OOO_BYTES (OOO_MAX * sizeof(ooo_range))
/* Rings of a connection idle this long are released (at the next
 * synack_stack_advance). */
#define TCP_BUF_IDLE SYNACK_SEC

/* The stack keeps released blocks of up to MCACHE_SIZES distinct sizes
 * (tcbs, send and receive rings, scoreboards) for reuse. */
#define MCACHE_SIZES 6
#define MCACHE_MAX (4u << 20)

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
    tcb *zombies; /* through hnext */
    tcb **hash;
    uint32_t hash_mask;
    uint32_t handle_hint; /* no free handle below this one */
    /* bind table: connections by local port (tcp_port_in_use) */
    tcb **ports;
    uint32_t ports_mask;
    /* timer heap: every tcb with a deadline, a binary min-heap on
     * tp->wheel_at (tcb_timer_sync); theap_cap0 slots are part of
     * mem_fixed, more are allocated when connections outnumber them */
    tcb **theap;
    uint32_t theap_len, theap_cap, theap_cap0;
    tcb *born; /* created by the current entry point, to file at its end */
    /* connections holding buffers while idle, oldest first */
    tcb *idle_head, *idle_tail;
    tcb *listeners;
    uint32_t next_id;
    uint32_t next_port; /* RFC 6056 next_ephemeral */
    /* RFC 6056's keyed offset for the last destination asked for */
    uint32_t port_hash, port_hash_lip, port_hash_rip;
    uint16_t port_hash_rport;
    bool port_hash_ok;

    /* RFC 5961 challenge-ACK limit */
    uint64_t mem_fixed; /* mem_used right after synack_stack_new */
    synack_time_t chal_window;
    uint32_t chal_count, chal_budget;

    /* ARP */
    arp_entry arp[ARP_TABLE_SIZE];
    synack_time_t arp_next; /* no ARP request is due before (arp_timers) */
    arp_pending pend[ARP_PENDING_MAX];

    /* output */
    uint8_t *txbuf; /* txcap bytes: where the frame being built goes */
    uint8_t *txown; /* our scratch: txbuf except while a TCP segment is
                       built in the device's memory (cfg.tx_buffer) */
    /* input batch (synack_stack_batch_begin/end): the connection whose
     * every-second-segment ACK waits for the batch's end, if any */
    bool batching;
    struct tcb *batch_ack;
    uint16_t ip_id;

    /* trace and events */
    void (*trace)(void *ctx, const synack_trace_event *ev);
    void *trace_ctx;
    void (*event_cb)(void *ctx, int s, unsigned events);
    void *event_ctx;
    const char *cause;          /* what the current event is */
    const synack_seg *cur_seg;  /* segment being processed, if any */
    char cause_buf[48];
    const char *cause_prefix; /* tcp_set_cause: formatted when traced */
    uint8_t cause_flags;

    /* large frames and segmentation offload (sized from cfg.mtu and
     * cfg.gso_max at synack_stack_new, so a 1500-byte stack stays small) */
    uint32_t txcap;    /* bytes of txbuf: the largest frame we build */
    uint32_t pend_cap; /* bytes of each ARP-pending frame */

    /* released blocks kept for reuse, one list per size (stack_mem_get) */
    struct mcache {
        size_t size;
        void *head; /* each free block starts with the next one's address */
    } mcache[MCACHE_SIZES];
    uint64_t mcache_max; /* bytes: mem_limit / 16, at most MCACHE_MAX */
};

/* ---- memory (control path only) ------------------------------------------- */
void *stack_mem_get(synack_stack *st, size_t size);
void stack_mem_put(synack_stack *st, void *p, size_t size);
void stack_mem_trim(synack_stack *st);
uint64_t stack_rand(synack_stack *st);
synack_time_t stack_clock(synack_stack *st, synack_time_t now);

/* ---- IPv4 output, ARP, ICMP (stack.c) ------------------------------------- */
/* Point st->txbuf at the device's transmit buffer when it offers one
 * (cfg.tx_buffer), for one frame; stack_tx_end points it back at our own
 * scratch (after ip_output, whatever happened to the frame). */
void stack_tx_begin(synack_stack *st);
/* The ACK an input batch held back (tcp_input.c), at the batch's end. */
void tcp_batch_flush(synack_stack *st, synack_time_t now);
void stack_tx_end(synack_stack *st);
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
/* The one place each ring is allocated and released. The receive ring is
 * allocated when the first data arrives, the send ring when the
 * application first sends; both are released when the connection has been
 * idle (everything read, everything sent acknowledged) for TCP_BUF_IDLE,
 * and when it ends. */
int tcp_alloc_tx(synack_stack *st, tcb *tp);
int tcp_alloc_rec(synack_stack *st, tcb *tp);
int tcp_alloc_rx(synack_stack *st, tcb *tp);
bool tcp_sndbuf_expand(synack_stack *st, tcb *tp);
void tcp_free_tx(synack_stack *st, tcb *tp);
void tcp_free_rx(synack_stack *st, tcb *tp);
void tcp_free_buffers(synack_stack *st, tcb *tp);
/* Bytes of the receive allocation (ring and out-of-order ranges). */
static inline size_t tcp_rx_alloc_size(const tcb *tp)
{
    return tp->rx_size + OOO_BYTES;
}
/* Re-file tp in the timer heap at tcb_deadline(tp) and on or off the idle
 * list; call after changing its timers or buffers, before the entry point
 * returns. */
void tcb_timer_sync(synack_stack *st, tcb *tp);
/* The end of an entry point that worked on tp (may be NULL): file tp and
 * any connection the call created, free the zombies. */
void tcp_entry_done(synack_stack *st, tcb *tp);
/* Release the rings of connections idle for TCP_BUF_IDLE. */
void tcp_reclaim_idle(synack_stack *st, synack_time_t now);
/* Set tp's local port and enter it in the bind table. */
void tcp_bind_port(synack_stack *st, tcb *tp, uint16_t port);
/* Make a handle slot free again (socket layer and core). */
void stack_handle_release(synack_stack *st, int h);
/* Timer heap bookkeeping at stack creation and deletion (tcp_subr.c). */
int tcp_tables_init(synack_stack *st);
void tcp_tables_free(synack_stack *st);
/* Bytes of the per-connection tables beyond mem_fixed (timer heap growth). */
uint64_t tcp_tables_extra(const synack_stack *st);
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
/* "SYN,ACK" (as synack_flags_str writes it; "none" is 0) as flag bits;
 * -1 if a name is unknown. */
int tcp_flags_parse(const char *s);

/* tcp_output.c */
/* Send a control segment for tp (ACK, RST, keepalive/window probe). */
void tcp_send_ctl(synack_stack *st, tcb *tp, uint32_t seq, uint8_t flags,
                  synack_time_t now);
void tcp_send_ack(synack_stack *st, tcb *tp, synack_time_t now);
/* Reply RST to a segment that has no connection (RFC 9293 3.10.7.1). */
void tcp_reset_reply(synack_stack *st, const wire_ipv4 *ip,
                     const wire_tcp *th, uint32_t seglen, synack_time_t now);
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

/* Congestion control (tcp_cc.c). */
const tcp_cc_ops *tcp_cc_find(const char *name);
const char *tcp_cc_name(size_t i); /* i-th module, NULL past the end */
const tcp_cc_ops *tcp_cc_default(const synack_stack *st);
void tcp_cc_enter_recovery(synack_stack *st, tcb *tp, synack_time_t now);
void tcp_cc_prr(tcb *tp, uint32_t delivered, uint32_t pipe);
void tcp_cc_exit_recovery(tcb *tp);
/* A reduction begins (recovery, or a first timeout): remember what to
 * restore if D-SACKs show every retransmission of it was spurious. */
void tcp_cc_undo_begin(tcb *tp);
typedef struct tcp_bbr_state {
    uint8_t mode; /* 0 STARTUP, 1 DRAIN, 2 PROBE_BW, 3 PROBE_RTT */
    uint8_t cycle_idx;
    bool full_bw;
    uint32_t rounds;
    uint32_t pacing_gain, cwnd_gain; /* x256 */
    uint64_t bw;           /* bytes per second */
    synack_time_t min_rtt; /* 0: none yet */
} tcp_bbr_state;
bool tcp_bbr_info(const tcb *tp, tcp_bbr_state *out);

/* Loss recovery, SACK, RACK-TLP (tcp_sack.c). */
uint32_t tcp_rec_cap(uint32_t tx_size);
bool tcp_rec_room(const tcb *tp);
void tcp_rec_add(tcb *tp, uint32_t start, uint32_t end, bool fin,
                 synack_time_t now);
void tcp_rec_clear(tcb *tp);
uint32_t tcp_inflight(const tcb *tp);
txrec *tcp_rec_next_lost(const tcb *tp);
void tcp_rec_collapse(tcb *tp, txrec *r, uint32_t max);
void tcp_rec_sent_again(tcb *tp, txrec *r, synack_time_t now);
/* tcp_output found nothing more to send with room in cwnd: the rate
 * samples of what is in flight are application-limited. */
void tcp_rate_check_app_limited(tcb *tp);
void tcp_arm_tlp_or_rto(synack_stack *st, tcb *tp, synack_time_t now);
void tcp_rearm_tlp(synack_stack *st, tcb *tp, synack_time_t now);
void tcp_recovery_on_ack(synack_stack *st, tcb *tp, const wire_tcp *th,
                         uint32_t ack, uint32_t acked, bool dup,
                         synack_time_t now);
void tcp_rack_timeout(synack_stack *st, tcb *tp, synack_time_t now);
void tcp_tlp_timeout(synack_stack *st, tcb *tp, synack_time_t now);
void tcp_rto_mark(synack_stack *st, tcb *tp, synack_time_t now);
void tcp_note_dsack(synack_stack *st, tcb *tp, uint32_t start, uint32_t end);
void tcp_fill_sack(synack_stack *st, tcb *tp, wire_tcp *th, unsigned room);
/* tcp_output.c: send record r again (a retransmission). */
void tcp_resend_rec(synack_stack *st, tcb *tp, txrec *r, synack_time_t now);

/* RFC 6528 keyed hash (SipHash-2-4). */
uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);

#endif
