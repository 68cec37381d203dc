/*
 * The diagnosis behind `synack explain`: given what is known about one
 * connection (a plain struct, filled from whatever source: the control
 * socket of a live process, the simulator's stacks, or a capture analysed
 * by tools/capinfer), say whether it sits in a state longer than it should
 * and why, in plain words, naming the tunable or the application call that
 * governs it. explain_conn() is a pure function: no I/O, no clock, no
 * global state; the same input gives the same text.
 *
 * The cause identifiers (explain_result.cause) are stable and documented
 * in docs/explain.md; tests match on them.
 */
#ifndef SYNACK_TOOLS_EXPLAIN_RULES_H
#define SYNACK_TOOLS_EXPLAIN_RULES_H

#include <stddef.h>
#include <stdint.h>

#include <synack/synack.h>

/* The tunables the explanations quote (their meaning is Linux's and
 * synack's, see `synack sysctl -l`). explain_tunables_default() sets
 * synack's defaults; a source that knows the real values overwrites them. */
struct explain_tunables {
    int syn_retries;         /* tcp_syn_retries: SYN retransmissions */
    int synack_retries;      /* tcp_synack_retries: SYN,ACK retransmissions */
    int retries2;            /* tcp_retries2: data/FIN retransmissions */
    int fin_timeout;         /* tcp_fin_timeout, seconds (orphans only) */
    int timewait_len;        /* tcp_timewait_len, seconds (2MSL) */
    int syncookies;          /* tcp_syncookies: 0, 1, 2 */
    int max_syn_backlog;     /* tcp_max_syn_backlog */
    uint32_t rto_initial_ms; /* tcp_rto_initial_ms */
    uint32_t rto_max_ms;     /* tcp_rto_max_ms */
};
void explain_tunables_default(struct explain_tunables *t);
/* Set one tunable from its short name and value text (as `synack sysctl`
 * prints them); unknown names are ignored. */
void explain_tunables_set(struct explain_tunables *t, const char *name,
                          const char *value);

/* One connection as the rules see it. Times are durations in nanoseconds
 * (no clock: the source has already subtracted its "now"). A source that
 * does not know a field leaves it at the value explain_conn_init() set,
 * which the rules treat as unknown. */
struct explain_conn {
    /* enum synack_state (the RFC 9293 states) */
    int state;
    /* how long it has been in `state`; -1 unknown */
    int64_t in_state;
    /* 1: the application closed its handle (only the peer and the timers
     * can end it now); 0: the application still holds it; -1 unknown (a
     * capture cannot tell) */
    int orphan;
    /* bytes received and not yet read by the application (Recv-Q), and
     * written by it and not yet acknowledged (Send-Q) */
    uint32_t recv_q, send_q;
    /* Send-Q at an earlier sample (-1: none), taken sample_gap before */
    int64_t send_q_before, sample_gap;
    /* the peer's advertised window, and the one we advertise (bytes) */
    uint32_t snd_wnd, rcv_wnd;
    /* enum synack_timer_kind running (or SYNACK_TIMER_NONE), and the time
     * until it fires (-1 unknown) */
    int timer;
    int64_t timer_left;
    /* consecutive retransmission timeouts of the oldest unacknowledged
     * segment (or of the SYN) */
    uint32_t backoff;
    /* the retransmission timeout in force now (backed off); 0 unknown */
    uint32_t rto_us;
    /* retransmissions over the connection's life */
    uint64_t total_retrans;
    /* zero-window probes sent without an answer */
    uint32_t persist_probes;
    /* connections of the same process (stack) in the same state on the
     * same local address, this one included; 0 unknown. Many half-open
     * ones on a listener look like a SYN flood; many CLOSE-WAIT, like an
     * application that leaks sockets. */
    uint32_t similar;
    /* 1: the queues are not seen (a capture): send_q is only what was sent
     * and not acknowledged, recv_q is 0; a zero window is then judged by
     * the windows and the probes alone */
    int queues_unseen;
};
void explain_conn_init(struct explain_conn *c);

/* Fill from the stack's own view of a connection, at time `now` of that
 * stack's clock (the simulator; the control-socket client builds the same
 * fields from the "conns" columns). */
void explain_conn_from_info(struct explain_conn *c, const synack_conn_info *ci,
                            synack_time_t now);
/* The tunables of a stack (synack_sysctl_get). */
void explain_tunables_from_stack(struct explain_tunables *t,
                                 const synack_stack *st);

enum explain_verdict {
    EXPLAIN_OK = 0,     /* nothing to say */
    EXPLAIN_NORMAL = 1, /* a wait that is part of TCP (TIME-WAIT; a
                         * FIN-WAIT-2 whose end cannot be told) */
    EXPLAIN_STUCK = 2,  /* in the state longer than it should be */
};

struct explain_result {
    int verdict;       /* enum explain_verdict */
    const char *cause; /* stable identifier: "close-wait", ... ("ok") */
    char summary[160]; /* one line: what is going on */
    char governs[160]; /* the tunable(s) or application call in charge */
    char detail[1024]; /* plain-words explanation, several sentences */
    /* when it ends by itself (a timer, a give-up); -1: only an event (a
     * call, a segment) ends it */
    int64_t ends_in;
};

/* Connections younger in their state than this are not reported as stuck
 * (a CLOSE-WAIT of 5 ms is an application about to close). */
#define EXPLAIN_MIN_AGE_DEFAULT (1 * (int64_t)SYNACK_SEC)

/* Diagnose c. min_age: see above (0: report at once). Always fills r. */
void explain_conn(const struct explain_conn *c,
                  const struct explain_tunables *t, int64_t min_age,
                  struct explain_result *r);

/* "12.3 s", "450 ms", "2 min 5 s" into buf; returns buf. */
const char *explain_fmt_dur(int64_t ns, char *buf, size_t len);

#endif
