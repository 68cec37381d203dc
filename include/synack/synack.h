/*
 * synack: a user-space TCP/IPv4 stack with a sans-IO protocol core.
 *
 * This header is the API reference. Conventions:
 *  - Time is always an argument: synack_time_t, monotonic nanoseconds. The
 *    stack never reads a clock; it reports when it next wants to be woken
 *    (synack_stack_next_deadline).
 *  - Errors are returned as 0 or a negative SYNACK_E* code (names mirror
 *    errno); byte counts are returned as ssize_t (>= 0) or a negative code.
 *  - Addresses and ports in synack_addr are in host byte order.
 *  - Frames passed in are borrowed for the duration of the call. Frames
 *    passed out (the output callback) are valid only during the callback.
 *  - Memory: the stack allocates its connection objects and buffers through
 *    the embedder's allocator when a connection is created, never per
 *    segment; everything is charged against cfg.mem_limit.
 */
#ifndef SYNACK_SYNACK_H
#define SYNACK_SYNACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h> /* ssize_t */

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t synack_time_t; /* nanoseconds */
#define SYNACK_TIME_NEVER UINT64_MAX
#define SYNACK_USEC ((synack_time_t)1000)
#define SYNACK_MSEC ((synack_time_t)1000000)
#define SYNACK_SEC ((synack_time_t)1000000000)

/* ---- errors (returned negated) ---------------------------------------- */
enum synack_err {
    SYNACK_OK = 0,
    SYNACK_EPERM = 1,
    SYNACK_ENOENT,
    SYNACK_EBADF,
    SYNACK_EAGAIN,
    SYNACK_ENOMEM,
    SYNACK_EINVAL,
    SYNACK_ERANGE,
    SYNACK_EPIPE,
    SYNACK_ENOTSOCK,
    SYNACK_EMSGSIZE,
    SYNACK_ENOPROTOOPT,
    SYNACK_EOPNOTSUPP,
    SYNACK_EADDRINUSE,
    SYNACK_EADDRNOTAVAIL,
    SYNACK_ENETUNREACH,
    SYNACK_ECONNABORTED,
    SYNACK_ECONNRESET,
    SYNACK_ENOBUFS,
    SYNACK_EISCONN,
    SYNACK_ENOTCONN,
    SYNACK_ETIMEDOUT,
    SYNACK_ECONNREFUSED,
    SYNACK_EHOSTUNREACH,
    SYNACK_EALREADY,
    SYNACK_EINPROGRESS,
    SYNACK_EMFILE,
    SYNACK__ERR_COUNT
};
/* Name and text of an error; accepts the code negated or not. */
const char *synack_strerror(int err);
const char *synack_errname(int err);

/* ---- TCP states (RFC 9293 names) ---------------------------------------- */
enum synack_state {
    SYNACK_CLOSED = 0,
    SYNACK_LISTEN,
    SYNACK_SYN_SENT,
    SYNACK_SYN_RECEIVED,
    SYNACK_ESTABLISHED,
    SYNACK_FIN_WAIT_1,
    SYNACK_FIN_WAIT_2,
    SYNACK_CLOSE_WAIT,
    SYNACK_CLOSING,
    SYNACK_LAST_ACK,
    SYNACK_TIME_WAIT,
    SYNACK__STATE_COUNT
};
/* "SYN-SENT", "FIN-WAIT-1", ...: the RFC 9293 spelling. */
const char *synack_state_name(int state);
/* 1 if from -> to is an edge of the core's transition table (below): the
 * RFC 9293 state diagram (figure 5) with the text's edges (any state to
 * CLOSED on reset, abort or timeout; FIN-WAIT-1 to TIME-WAIT on FIN+ACK).
 * An embryonic passive connection that is reset goes to CLOSED: the
 * listener itself stays in LISTEN. */
int synack_state_edge_legal(int from, int to);

/* The core's transition table (src/core/tcp_fsm.c), read-only: every edge
 * a connection may take, the source of synack_state_edge_legal, of
 * `synack states` and of docs/state-diagram.svg. */
typedef struct synack_state_edge {
    int from, to;      /* enum synack_state */
    const char *cause; /* as the trace hook names it: "rcv SYN",
                          "call close", "timeout 2MSL" */
    const char *send;  /* the segment sent: "SYN, ACK"; "" for none */
    const char *note;  /* a short note, may be "" */
    int figure5;       /* 1: an edge of RFC 9293 figure 5; 0: of the RFC's
                          text (reset, abort, timeout) or a documented
                          choice */
} synack_state_edge;
/* The table: stores its address in *edges (if not NULL), returns its
 * length. */
size_t synack_state_edges(const synack_state_edge **edges);
/* Index of the edge that describes a traced change from -> to with this
 * cause text, or -1 if none does. "rcv" causes compare as flag sets (PSH,
 * URG, ECE, CWR ignored; ACK ignored unless the edge names it); others
 * exactly or with a parenthesised detail ("call close (unread data:
 * reset)" is "call close"). */
int synack_state_edge_match(int from, int to, const char *cause);

/* ---- counters and drop reasons ------------------------------------------ */
/* Every frame or segment the stack discards is counted under one reason and
 * reported to the trace hook. */
#define SYNACK_DROP_REASONS(X)                                                 \
    X(ETH_SHORT, "frame shorter than an Ethernet header")                      \
    X(ETH_NOT_FOR_US, "destination MAC is not ours")                           \
    X(ETH_UNKNOWN_TYPE, "unsupported EtherType")                               \
    X(ARP_SHORT, "ARP packet truncated")                                       \
    X(ARP_UNSUPPORTED, "ARP not Ethernet/IPv4 or unknown op")                  \
    X(ARP_NOT_FOR_US, "ARP target is not our address")                         \
    X(ARP_QUEUE_FULL, "no room to queue a packet awaiting ARP")                \
    X(ARP_UNRESOLVED, "ARP resolution failed; queued packet discarded")        \
    X(IP_SHORT, "IPv4 packet truncated")                                       \
    X(IP_BAD_VERSION, "IP version is not 4")                                   \
    X(IP_BAD_HLEN, "IPv4 header length invalid")                               \
    X(IP_BAD_LEN, "IPv4 total length invalid")                                 \
    X(IP_BAD_CSUM, "IPv4 header checksum wrong")                               \
    X(IP_NOT_FOR_US, "IPv4 destination is not our address")                    \
    X(IP_FRAGMENT, "IPv4 fragment (reassembly not supported)")                 \
    X(IP_BAD_SRC, "IPv4 source is broadcast, multicast or ours")              \
    X(IP_UNKNOWN_PROTO, "unsupported IP protocol")                             \
    X(IP_NO_ROUTE, "no route to destination")                                  \
    X(ICMP_SHORT, "ICMP message truncated")                                    \
    X(ICMP_BAD_CSUM, "ICMP checksum wrong")                                    \
    X(ICMP_UNHANDLED, "ICMP type not handled")                                 \
    X(ICMP_TOO_BIG, "echo request too large to answer unfragmented")          \
    X(TCP_SHORT, "TCP segment truncated")                                      \
    X(TCP_BAD_OFF, "TCP data offset invalid")                                  \
    X(TCP_BAD_CSUM, "TCP checksum wrong")                                      \
    X(TCP_BAD_OPT, "TCP option malformed (zero or overlong length)")           \
    X(TCP_BAD_PORT, "TCP port zero or address invalid")                        \
    X(TCP_NO_SOCKET, "no connection or listener for segment")                  \
    X(TCP_SEQ, "sequence number not acceptable")                               \
    X(TCP_ACK, "acknowledgment number not acceptable")                         \
    X(TCP_PAWS, "timestamp older than TS.Recent (PAWS)")                       \
    X(TCP_RST_SEQ, "RST not exactly at RCV.NXT (challenge ACK or ignored)")    \
    X(TCP_RST_TIME_WAIT, "RST ignored in TIME-WAIT (RFC 1337)")                \
    X(TCP_SYN_IN_WINDOW, "SYN on a synchronized connection (challenge ACK)")   \
    X(TCP_NO_ACK, "segment without ACK in a synchronized state")               \
    X(TCP_LISTEN_BAD, "segment to a listener that is not a SYN")               \
    X(TCP_SYN_QUEUE_FULL, "SYN queue full")                                    \
    X(TCP_ACCEPT_QUEUE_FULL, "accept queue full")                              \
    X(TCP_OOO_FULL, "out-of-order queue full")                                 \
    X(TCP_RCV_SHUTDOWN, "data after the receive side was shut down")          \
    X(TCP_NO_MEM, "memory limit reached")                                      \
    X(TCP_CHALLENGE_LIMIT, "challenge ACK suppressed by rate limit")           \
    X(TCP_BAD_FLAGS, "invalid combination of control bits")                   \
    X(TCP_SYNCOOKIE_BAD, "ACK at a listener without a valid SYN cookie")

enum synack_drop {
    SYNACK_DROP_NONE = 0,
#define SYNACK_X_ENUM(name, text) SYNACK_DROP_##name,
    SYNACK_DROP_REASONS(SYNACK_X_ENUM)
#undef SYNACK_X_ENUM
        SYNACK__DROP_COUNT
};
const char *synack_drop_name(int reason); /* "TCP_BAD_CSUM" */
const char *synack_drop_text(int reason); /* "TCP checksum wrong" */

typedef struct synack_stack_stats {
    uint64_t frames_in, frames_out;
    uint64_t arp_in, arp_out, ip_in, ip_out, icmp_in, icmp_out;
    uint64_t tcp_in, tcp_out, tcp_retrans, tcp_rst_out, tcp_challenge_acks;
    uint64_t tcp_opt_unknown; /* unknown option kinds skipped (RFC 9293) */
    /* SYN cookies (tcp_syncookies): SYN,ACKs sent without keeping state,
     * ACKs that carried a valid cookie (a connection was made from it), and
     * ACKs checked against a cookie that failed. */
    uint64_t syncookies_sent, syncookies_recv, syncookies_failed;
    /* ACKs not sent to unacceptable segments (tcp_invalid_ratelimit) */
    uint64_t tcp_oow_acks_skipped;
    /* Loss recovery: episodes entered on loss found by SACK/RACK or three
     * duplicate ACKs, retransmission timeouts, tail loss probes sent and
     * those that repaired a loss, RACK reordering-window timer expiries,
     * segments marked lost by RACK and by DupThresh, SACK blocks received,
     * D-SACKs received and sent, reordering detected. */
    uint64_t tcp_recoveries, tcp_timeouts, tcp_tlp_probes, tcp_tlp_recoveries;
    uint64_t tcp_rack_reo_timeouts, tcp_rack_lost, tcp_dupthresh_lost;
    uint64_t tcp_sack_blocks_in, tcp_dsack_in, tcp_dsack_out, tcp_reordering;
    /* segments taken by header prediction (tcp_fast_path) */
    uint64_t tcp_fast_path;
    /* window reductions undone: D-SACKs showed every retransmission of
     * the recovery or timeout was spurious */
    uint64_t tcp_undos;
    uint64_t conns_active, conns_passive, conns_failed, conns_reset;
    uint64_t mem_used, mem_peak;
    /* Released buffers and connection blocks the stack keeps for reuse
     * (counted against mem_limit with mem_used; at most 1/16 of it and
     * 4 MiB), so that short connections do not go to the allocator. */
    uint64_t mem_cached;
    /* Must stay 0: state changes that are not edges of the RFC 9293
     * diagram (checked by the tests). */
    uint64_t illegal_transitions;
    /* Must stay 0: timers that fired in a state where they have no meaning
     * (e.g. a retransmission with nothing outstanding, 2MSL outside
     * TIME-WAIT and the orphaned FIN-WAIT-2); checked by the tests. */
    uint64_t timer_misfires;
    uint64_t drops[SYNACK__DROP_COUNT]; /* indexed by enum synack_drop */
} synack_stack_stats;

/* ---- the stack -------------------------------------------------------- */
typedef struct synack_stack synack_stack;

typedef struct synack_stack_config {
    uint8_t mac[6];
    uint32_t ip;        /* host byte order */
    uint8_t prefix_len; /* on-link subnet */
    uint32_t gateway;   /* 0: none; off-link destinations are unreachable */
    uint16_t mtu;       /* IP MTU of the link (default 1500) */
    uint32_t max_sockets; /* handles and connections (default 1024) */
    uint64_t mem_limit;   /* bytes of connection memory (default 256 MiB) */
    uint64_t seed;        /* PRNG seed (timestamps offsets, jitter) */
    /* The stack's secret: the key of the RFC 6528 ISN hash, the SYN cookies,
     * the RFC 6056 port choice and the connection hash table.
     * synack_stack_config_init fills it (and seed) from getrandom(); set
     * both to fixed values only for reproducible tests. */
    uint8_t isn_secret[16];
    /* Called for every frame the stack sends; the frame is valid only for the
     * call. `now` is the time of the call that caused it. */
    void (*output)(void *ctx, const uint8_t *frame, size_t len,
                   synack_time_t now);
    void *output_ctx;
    /* Optional, both or neither (for a device that owns its transmit
     * buffers, such as an in-memory link): the stack builds TCP segments
     * straight in the device's memory instead of its own scratch buffer,
     * saving the copy output() would make. tx_buffer(output_ctx, cap)
     * returns cap bytes to build the next frame in, or NULL (then that
     * frame goes through output() as usual); tx_commit(output_ctx, buf,
     * len, now) hands over the first len bytes of the buffer just
     * returned. A buffer may be abandoned without tx_commit (e.g. a frame
     * queued for ARP is copied out of it first); the next tx_buffer call
     * may return the same memory. The stack calls no other callback of the
     * device between the two calls. synack_stack_set_output clears both. */
    uint8_t *(*tx_buffer)(void *ctx, size_t cap);
    void (*tx_commit)(void *ctx, uint8_t *buf, size_t len, synack_time_t now);
    /* Allocator for connection objects and buffers (never per segment).
     * synack_stack_config_init installs malloc/free. */
    void *(*mem_alloc)(void *ctx, size_t size);
    void (*mem_release)(void *ctx, void *ptr, size_t size);
    void *mem_ctx;
    /* Segmentation offload (GSO/TSO): the largest IPv4 packet, in bytes, the
     * device takes and cuts into MTU-sized TCP segments itself (a TAP
     * device with IFF_VNET_HDR offloads, an in-memory link with tso set);
     * at most 65535. 0 (the default) or a value not above mtu: off, no
     * packet is longer than mtu. When on, a TCP data segment may carry
     * several MSS worth of payload in one packet, but only when every
     * MSS-sized piece fills the MTU exactly (the peer's MSS is not smaller
     * than ours), so that the device, cutting at its MTU, rebuilds the
     * segments the stack would have sent; retransmissions stay one MSS.
     * The device's MTU must be this mtu. Received packets may be up to
     * 65535 bytes whatever this says (GRO). */
    uint32_t gso_max;
} synack_stack_config;

/* Fill cfg with defaults (MTU 1500, 1024 sockets, 256 MiB, malloc
 * allocator, isn_secret and seed from the kernel's getrandom()). */
void synack_stack_config_init(synack_stack_config *cfg);

/* Returns 0, -SYNACK_EINVAL (bad config) or -SYNACK_ENOMEM. */
int synack_stack_new(const synack_stack_config *cfg, synack_stack **out);
/* Frees every connection and the stack; sends nothing. */
void synack_stack_del(synack_stack *st);
void synack_stack_set_output(synack_stack *st,
                             void (*output)(void *ctx, const uint8_t *frame,
                                            size_t len, synack_time_t now),
                             void *ctx);

/* Process one received Ethernet frame. Always 0: bad frames are counted
 * and dropped, never returned as errors. */
int synack_stack_input(synack_stack *st, const uint8_t *frame, size_t len,
                       synack_time_t now);
/* An input batch: the frames a driver takes from its device in one go
 * (one poll), handed to synack_stack_input between these two calls. In a
 * batch, the ACK that in-order data calls for every second full-sized
 * segment is sent once, at synack_stack_batch_end, for all the segments of
 * the batch (one connection at a time; out-of-order data, window updates
 * and anything else still ACK at once): as Linux's GRO merges the segments
 * of one NAPI poll into one before TCP ACKs them, so no ACK is later in
 * time than without the batch, and fewer are sent. Other calls (send,
 * recv, advance) may come between; a batch left open is ended by the next
 * synack_stack_batch_end, and the delayed-ACK timer sends a held-back ACK
 * in any case. */
void synack_stack_batch_begin(synack_stack *st);
void synack_stack_batch_end(synack_stack *st, synack_time_t now);
/* Run every timer due at or before `now`. */
void synack_stack_advance(synack_stack *st, synack_time_t now);
/* Earliest time the stack wants synack_stack_advance; SYNACK_TIME_NEVER if
 * none. */
synack_time_t synack_stack_next_deadline(const synack_stack *st);
void synack_stack_get_stats(const synack_stack *st, synack_stack_stats *out);
/* Number of connection objects alive (including orphans and TIME-WAIT). */
size_t synack_stack_conn_count(const synack_stack *st);
/* Check the stack's internal invariants (sequence variables, rings and the
 * out-of-order ranges, advertised window, timers per state, listener queue
 * counts, the connection hash, memory accounting). Returns the number of
 * violations (0 when all hold) and describes the first in msg. Changes
 * nothing; costs one pass over the connections. For tests and
 * simulations, after every step. */
size_t synack_stack_check(const synack_stack *st, char *msg, size_t len);
/* Insert a static ARP entry (tests and tools that know the peer). */
int synack_arp_add(synack_stack *st, uint32_t ip, const uint8_t mac[6],
                   synack_time_t now);

/* ---- tunables (Linux sysctl names) -------------------------------------- */
/* Names accepted with or without the "net.ipv4." prefix, e.g.
 * "tcp_syn_retries" or "net.ipv4.tcp_rmem". Values as Linux prints them
 * ("6", "4096 131072 6291456").
 * set: 0, -SYNACK_ENOENT (no such tunable), -SYNACK_EINVAL (not a number or
 * wrong count), -SYNACK_ERANGE (outside the allowed range). */
int synack_sysctl_set(synack_stack *st, const char *name, const char *value);
/* get: writes the value as text; returns its length or -SYNACK_ENOENT /
 * -SYNACK_ENOBUFS. */
int synack_sysctl_get(const synack_stack *st, const char *name, char *buf,
                      size_t len);
/* Enumerate: returns the i-th tunable's short name, NULL past the end. */
const char *synack_sysctl_name(size_t i);
/* One-line description of a tunable (units, range, default). */
const char *synack_sysctl_help(const char *name);

/* ---- sockets ------------------------------------------------------------ */
typedef struct synack_addr {
    uint32_t ip; /* host byte order; 0 = any */
    uint16_t port;
} synack_addr;

enum { SYNACK_SHUT_RD = 0, SYNACK_SHUT_WR = 1, SYNACK_SHUT_RDWR = 2 };

/* Readiness bits (synack_poll and the event callback). */
#define SYNACK_POLLIN 0x01u    /* data, EOF, or a connection to accept */
#define SYNACK_POLLOUT 0x04u   /* room in the send buffer; connect done */
#define SYNACK_POLLERR 0x08u   /* SO_ERROR is set */
#define SYNACK_POLLHUP 0x10u   /* both directions closed */
#define SYNACK_POLLRDHUP 0x20u /* peer sent FIN */

/* Options (level is implied by the name). */
enum synack_sockopt {
    SYNACK_SO_REUSEADDR = 1, /* int */
    SYNACK_SO_LINGER,        /* struct synack_linger */
    SYNACK_SO_KEEPALIVE,     /* int */
    SYNACK_SO_RCVBUF,        /* int, bytes */
    SYNACK_SO_SNDBUF,        /* int, bytes */
    SYNACK_SO_ERROR,         /* int (positive SYNACK_E*), get only; clears */
    SYNACK_TCP_NODELAY,      /* int */
    SYNACK_TCP_MAXSEG,       /* int */
    SYNACK_TCP_USER_TIMEOUT, /* unsigned int, milliseconds; 0 = off */
    SYNACK_TCP_KEEPIDLE,     /* int, seconds */
    SYNACK_TCP_KEEPINTVL,    /* int, seconds */
    SYNACK_TCP_KEEPCNT,      /* int */
    /* char[16], NUL-terminated: "cubic" or "reno" (the stack's
     * tcp_congestion_control by default); -SYNACK_ENOENT if unknown */
    SYNACK_TCP_CONGESTION,
};
struct synack_linger {
    int l_onoff;
    int l_linger; /* seconds */
};

/* All socket calls return -SYNACK_EBADF for a handle that is not open. */

/* New TCP socket handle (>= 0), -SYNACK_EMFILE or -SYNACK_ENOMEM. */
int synack_socket(synack_stack *st);
/* -EINVAL (already bound, or address not ours), -EADDRINUSE. Port 0 picks an
 * ephemeral port. */
int synack_bind(synack_stack *st, int s, const synack_addr *addr);
/* -EINVAL (connected), -EADDRINUSE (unbound and no port free). */
int synack_listen(synack_stack *st, int s, int backlog);
/* New handle, -EAGAIN (none ready), -EINVAL (not listening). */
int synack_accept(synack_stack *st, int s, synack_addr *peer);
/* Sends the SYN: -EINPROGRESS on success (POLLOUT when established),
 * -EISCONN, -EALREADY, -EINVAL, -ENETUNREACH, -EADDRNOTAVAIL (no port). */
int synack_connect(synack_stack *st, int s, const synack_addr *addr,
                   synack_time_t now);
/* Bytes queued (maybe fewer than len), -EAGAIN (buffer full or not yet
 * connected), -EPIPE (shut down for writing, or peer reset after it was
 * reported), -ENOTCONN, or the pending connection error (-ECONNRESET...). */
ssize_t synack_send(synack_stack *st, int s, const void *buf, size_t len,
                    synack_time_t now);
/* Bytes read, 0 at end of stream, -EAGAIN, -ENOTCONN, or the pending error
 * (-ECONNRESET, -ETIMEDOUT, -ECONNREFUSED). Reading may send a window
 * update. */
ssize_t synack_recv(synack_stack *st, int s, void *buf, size_t len,
                    synack_time_t now);
/* SHUT_WR sends FIN after the queued data. -ENOTCONN, -EINVAL. */
int synack_shutdown(synack_stack *st, int s, int how, synack_time_t now);
/* Release the handle. The connection closes gracefully in the background
 * (FIN after queued data), or is reset if unread data remains or SO_LINGER
 * is on with zero time. */
int synack_close(synack_stack *st, int s, synack_time_t now);
/* Reset the connection (RST) and release the handle. */
int synack_abort(synack_stack *st, int s, synack_time_t now);
int synack_setsockopt(synack_stack *st, int s, int opt, const void *val,
                      size_t len);
int synack_getsockopt(synack_stack *st, int s, int opt, void *val,
                      size_t *len);
int synack_getsockname(synack_stack *st, int s, synack_addr *out);
/* -ENOTCONN when not connected. */
int synack_getpeername(synack_stack *st, int s, synack_addr *out);
/* Current readiness bits of a handle (0 for a bad handle). */
unsigned synack_poll(synack_stack *st, int s);
/* Told whenever a handle's readiness may have changed. */
void synack_set_event_cb(synack_stack *st,
                         void (*cb)(void *ctx, int s, unsigned events),
                         void *ctx);

/* ---- introspection ------------------------------------------------------- */
enum synack_timer_kind {
    SYNACK_TIMER_NONE = 0,
    SYNACK_TIMER_ON,        /* retransmission (ss: "on") */
    SYNACK_TIMER_KEEPALIVE, /* keepalive */
    SYNACK_TIMER_TIMEWAIT,  /* TIME-WAIT or FIN-WAIT-2 timeout */
    SYNACK_TIMER_PERSIST,   /* zero-window probe */
    SYNACK_TIMER_DELACK,    /* delayed ACK */
};
const char *synack_timer_name(int kind); /* "on", "keepalive", ... */

typedef struct synack_conn_info {
    uint32_t id;   /* unique per stack, never reused */
    int handle;    /* -1 when orphaned (closed by the application) */
    int state;     /* enum synack_state */
    synack_addr local, remote;
    uint32_t recv_q; /* unread bytes (LISTEN: accept queue length) */
    uint32_t send_q; /* unacknowledged + unsent bytes (LISTEN: backlog) */
    int timer; /* enum synack_timer_kind: the earliest running, the
                * delayed-ACK timer only when no other runs (as ss) */
    synack_time_t timer_expires; /* absolute */
    uint32_t backoff;            /* retransmissions of the current segment */
    /* like struct tcp_info */
    uint32_t rtt_us, rttvar_us, rto_us;
    uint32_t snd_mss, rcv_mss;
    uint32_t cwnd, ssthresh; /* bytes */
    uint32_t snd_wnd, rcv_wnd;
    uint8_t snd_wscale, rcv_wscale, ts_ok, sack_ok;
    uint64_t bytes_sent, bytes_acked, bytes_received, bytes_retrans;
    uint64_t segs_in, segs_out, total_retrans;
    /* loss recovery: "open", "recovery" or "loss"; the send scoreboard
     * (bytes SACKed, deemed lost, retransmitted and in flight); what the
     * congestion window counts against (RFC 6675 pipe) */
    const char *ca_state;
    const char *cc; /* congestion control: "cubic", "reno" */
    uint32_t sacked, lost, retrans, inflight;
    uint32_t reordering; /* 1 once reordering was seen */
    /* the send and receive buffers' sizes now (ss's tb and rb): the send
     * buffer grows under tcp_sndbuf_auto */
    uint32_t snd_buf, rcv_buf;
    /* for diagnosis (`synack explain`): when the connection entered its
     * state (the `now` of that transition; 0 for a connection that never
     * changed state), whether its application has closed it (an orphan:
     * only timers and the peer can end it now), and the zero-window probes
     * sent without an answer that opened the window */
    synack_time_t state_since;
    uint8_t orphan;
    uint32_t persist_probes;
} synack_conn_info;

/* Fill up to max entries; returns the total number of connections
 * (listeners included). */
size_t synack_conn_list(const synack_stack *st, synack_conn_info *out,
                        size_t max);
/* Info about one handle: 0 or -EBADF. */
int synack_conn_get(const synack_stack *st, int s, synack_conn_info *out);

/* ---- trace hook --------------------------------------------------------- */
enum synack_trace_kind {
    SYNACK_TRACE_STATE = 1, /* a connection changed state */
    SYNACK_TRACE_SEG_IN,    /* a TCP segment reached a connection */
    SYNACK_TRACE_SEG_OUT,   /* a TCP segment was sent */
    SYNACK_TRACE_DROP,      /* a frame or segment was dropped */
};

#define SYNACK_TH_FIN 0x01u
#define SYNACK_TH_SYN 0x02u
#define SYNACK_TH_RST 0x04u
#define SYNACK_TH_PSH 0x08u
#define SYNACK_TH_ACK 0x10u
#define SYNACK_TH_URG 0x20u
#define SYNACK_TH_ECE 0x40u
#define SYNACK_TH_CWR 0x80u

typedef struct synack_seg {
    synack_addr src, dst;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd; /* as on the wire (unscaled) */
    uint32_t len; /* payload bytes */
    uint8_t has_mss, has_ws, has_ts, has_sackok;
    uint16_t mss;
    uint8_t ws;
    uint32_t tsval, tsecr;
} synack_seg;

typedef struct synack_trace_event {
    int kind;
    synack_time_t now;
    uint32_t conn_id; /* 0 when no connection is involved */
    int handle;
    synack_addr local, remote;
    int old_state, new_state; /* SYNACK_TRACE_STATE */
    const char *cause;        /* "rcv SYN", "call connect", "timeout 2MSL" */
    const synack_seg *seg;    /* segment involved, or NULL */
    int drop_reason;          /* SYNACK_TRACE_DROP */
    uint8_t retransmit;       /* SEG_OUT: a retransmission */
} synack_trace_event;

void synack_set_trace(synack_stack *st,
                      void (*cb)(void *ctx, const synack_trace_event *ev),
                      void *ctx);

/* Render flags as "SYN,ACK" into buf (at least 32 bytes); returns buf. */
char *synack_flags_str(uint8_t flags, char *buf, size_t len);
/* "10.0.0.1:80" into buf (at least 22 bytes); returns buf. */
char *synack_addr_str(const synack_addr *a, char *buf, size_t len);
/* Parse "A.B.C.D" into host order; 0 or -EINVAL. */
int synack_ip_parse(const char *s, uint32_t *ip);

#ifdef __cplusplus
}
#endif
#endif
