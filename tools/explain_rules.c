/*
 * The rules of `synack explain` (see explain_rules.h): one function per
 * state, each filling the result with the cause, what governs it and the
 * plain-words story. The figures (retransmission schedule, time left) are
 * computed the way synack's timers run (src/core/tcp_timer.c), which is
 * also Linux's: each retransmission timeout doubles the RTO, up to
 * tcp_rto_max_ms, and the timeout that finds the retry limit reached ends
 * the connection.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain_rules.h"

#define NS_MS ((int64_t)1000000)
#define NS_S ((int64_t)1000000000)
/* "many" connections alike (explain_conn.similar) */
#define EXPLAIN_MANY 10

void explain_tunables_default(struct explain_tunables *t)
{
    t->syn_retries = 6;
    t->synack_retries = 5;
    t->retries2 = 15;
    t->fin_timeout = 60;
    t->timewait_len = 60;
    t->syncookies = 1;
    t->max_syn_backlog = 128;
    t->rto_initial_ms = 1000;
    t->rto_max_ms = 120000;
}

void explain_tunables_set(struct explain_tunables *t, const char *name,
                          const char *value)
{
    if (strncmp(name, "net.ipv4.", 9) == 0)
        name += 9;
    char *end;
    long v = strtol(value, &end, 10);
    if (end == value || v < 0 || v > 0x7fffffffL)
        return;
    if (strcmp(name, "tcp_syn_retries") == 0)
        t->syn_retries = (int)v;
    else if (strcmp(name, "tcp_synack_retries") == 0)
        t->synack_retries = (int)v;
    else if (strcmp(name, "tcp_retries2") == 0)
        t->retries2 = (int)v;
    else if (strcmp(name, "tcp_fin_timeout") == 0)
        t->fin_timeout = (int)v;
    else if (strcmp(name, "tcp_timewait_len") == 0)
        t->timewait_len = (int)v;
    else if (strcmp(name, "tcp_syncookies") == 0)
        t->syncookies = (int)v;
    else if (strcmp(name, "tcp_max_syn_backlog") == 0)
        t->max_syn_backlog = (int)v;
    else if (strcmp(name, "tcp_rto_initial_ms") == 0)
        t->rto_initial_ms = (uint32_t)v;
    else if (strcmp(name, "tcp_rto_max_ms") == 0)
        t->rto_max_ms = (uint32_t)v;
}

void explain_tunables_from_stack(struct explain_tunables *t,
                                 const synack_stack *st)
{
    static const char *const names[] = {
        "tcp_syn_retries",     "tcp_synack_retries", "tcp_retries2",
        "tcp_fin_timeout",     "tcp_timewait_len",   "tcp_syncookies",
        "tcp_max_syn_backlog", "tcp_rto_initial_ms", "tcp_rto_max_ms"
    };
    explain_tunables_default(t);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char v[64];
        if (synack_sysctl_get(st, names[i], v, sizeof v) > 0)
            explain_tunables_set(t, names[i], v);
    }
}

void explain_conn_init(struct explain_conn *c)
{
    memset(c, 0, sizeof *c);
    c->in_state = -1;
    c->orphan = -1;
    c->send_q_before = -1;
    c->timer_left = -1;
}

void explain_conn_from_info(struct explain_conn *c, const synack_conn_info *ci,
                            synack_time_t now)
{
    explain_conn_init(c);
    c->state = ci->state;
    if (now >= ci->state_since)
        c->in_state = (int64_t)(now - ci->state_since);
    c->orphan = ci->orphan ? 1 : 0;
    c->recv_q = ci->recv_q;
    c->send_q = ci->send_q;
    c->snd_wnd = ci->snd_wnd;
    c->rcv_wnd = ci->rcv_wnd;
    c->timer = ci->timer;
    if (ci->timer != SYNACK_TIMER_NONE &&
        ci->timer_expires != SYNACK_TIME_NEVER)
        c->timer_left =
            ci->timer_expires >= now ? (int64_t)(ci->timer_expires - now) : 0;
    c->backoff = ci->backoff;
    c->rto_us = ci->rto_us;
    c->total_retrans = ci->total_retrans;
    c->persist_probes = ci->persist_probes;
}

const char *explain_fmt_dur(int64_t ns, char *buf, size_t len)
{
    if (ns < 0) {
        snprintf(buf, len, "?");
    } else if (ns < NS_S) {
        snprintf(buf, len, "%lld ms", (long long)(ns / NS_MS));
    } else if (ns < 120 * NS_S) {
        long long ds = (ns + 50 * NS_MS) / (100 * NS_MS);
        if (ds % 10 == 0)
            snprintf(buf, len, "%lld s", ds / 10);
        else
            snprintf(buf, len, "%lld.%lld s", ds / 10, ds % 10);
    } else {
        long long s = (ns + NS_S / 2) / NS_S;
        if (s < 3600)
            snprintf(buf, len, "%lld min %lld s", s / 60, s % 60);
        else
            snprintf(buf, len, "%lld h %lld min", s / 3600, s / 60 % 60);
    }
    return buf;
}

/* ---- text helpers ----------------------------------------------------------- */

static void put(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void put(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* Append to r->detail. */
static void say(struct explain_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(struct explain_result *r, const char *fmt, ...)
{
    size_t n = strlen(r->detail);
    if (n + 1 >= sizeof r->detail)
        return;
    if (n) {
        r->detail[n++] = ' ';
        r->detail[n] = '\0';
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail + n, sizeof r->detail - n, fmt, ap);
    va_end(ap);
}

/* "for 12.3 s" or "" */
static const char *age(const struct explain_conn *c, char *buf, size_t len)
{
    char d[32];
    if (c->in_state < 0)
        snprintf(buf, len, "for an unknown time");
    else
        snprintf(buf, len, "for %s", explain_fmt_dur(c->in_state, d, sizeof d));
    return buf;
}

/* Until the retransmission timer gives up: it fires in timer_left with the
 * RTO now in force; each firing below `limit` doubles the RTO (capped) and
 * re-arms, the one that finds backoff == limit ends the connection. -1
 * when the figures are unknown. */
static int64_t giveup_in(const struct explain_conn *c,
                         const struct explain_tunables *t, int limit)
{
    if (c->timer != SYNACK_TIMER_ON || c->timer_left < 0 || c->rto_us == 0)
        return -1;
    int64_t max = (int64_t)t->rto_max_ms * NS_MS;
    int64_t rto = (int64_t)c->rto_us * 1000, left = c->timer_left;
    for (int b = (int)c->backoff; b < limit; b++) {
        rto = rto * 2 > max ? max : rto * 2;
        left += rto;
    }
    return left;
}

/* The retransmission schedule of a handshake segment from time 0: "1, 3,
 * 7, 15, 31, 63 s" into buf; returns the give-up time. */
static int64_t schedule(const struct explain_tunables *t, int limit, char *buf,
                        size_t len)
{
    int64_t rto = (int64_t)t->rto_initial_ms * NS_MS,
            max = (int64_t)t->rto_max_ms * NS_MS, at = 0;
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < limit; i++) {
        at += rto;
        rto = rto * 2 > max ? max : rto * 2;
        char d[32];
        explain_fmt_dur(at, d, sizeof d);
        if (i + 1 < limit && strlen(d) > 2 &&
            strcmp(d + strlen(d) - 2, " s") == 0)
            d[strlen(d) - 2] = '\0'; /* the unit once, at the end */
        if (n + 1 < len) {
            int w = snprintf(buf + n, len - n, "%s%s", i ? ", " : "", d);
            if (w > 0)
                n += (size_t)w;
        }
    }
    return at + rto;
}

static void set(struct explain_result *r, int verdict, const char *cause)
{
    r->verdict = verdict;
    r->cause = cause;
}

/* A segment the retransmission timer resends (SYN, SYN,ACK, FIN): OK while
 * nothing was resent and the state is younger than min_age, else STUCK. */
static void set_unacked(const struct explain_conn *c, struct explain_result *r,
                        int64_t min_age, const char *cause)
{
    int young = c->backoff == 0 && (c->in_state < 0 || c->in_state < min_age);
    set(r, young ? EXPLAIN_OK : EXPLAIN_STUCK, cause);
}

/* SYN-SENT, SYN-RECEIVED: the verdict, the time left, the retransmission
 * schedule of the handshake segment into sched; returns the give-up time. */
static int64_t handshake(const struct explain_conn *c,
                         const struct explain_tunables *t,
                         struct explain_result *r, int64_t min_age, int limit,
                         const char *cause, char *sched, size_t len)
{
    set_unacked(c, r, min_age, cause);
    r->ends_in = giveup_in(c, t, limit);
    return schedule(t, limit, sched, len);
}

/* The RTO now in force, "4 s" */
static const char *rto_now(const struct explain_conn *c, char *buf, size_t len)
{
    return explain_fmt_dur((int64_t)c->rto_us * 1000, buf, len);
}

static const char *plural(uint32_t n)
{
    return n == 1 ? "" : "s";
}

/* ---- the states ---------------------------------------------------------------- */

static void close_wait(const struct explain_conn *c, struct explain_result *r,
                       int64_t min_age)
{
    char a[48];
    set(r,
        c->in_state >= 0 && c->in_state < min_age ? EXPLAIN_OK : EXPLAIN_STUCK,
        "close-wait");
    put(r->summary, sizeof r->summary,
        "the peer closed its side; this application has not called close()");
    put(r->governs, sizeof r->governs,
        "close() (or shutdown(SHUT_WR)) in the local application; no timer "
        "ends CLOSE-WAIT");
    say(r,
        "The peer sent its FIN (it has nothing more to send) and this end "
        "acknowledged it; the connection has been in CLOSE-WAIT %s.",
        age(c, a, sizeof a));
    if (c->recv_q)
        say(r,
            "%u bytes the peer sent are still unread: the application "
            "has not even read up to the end of the stream (recv() "
            "returning 0).",
            c->recv_q);
    else
        say(r, "The application has read everything; its next recv() "
               "returns 0 (end of stream), the sign to close.");
    if (c->similar >= EXPLAIN_MANY)
        say(r,
            "%u connections on this local address are in CLOSE-WAIT: "
            "the application seems to leak sockets (it never closes "
            "those whose peer has finished).",
            c->similar);
    say(r, "TCP waits for the application as long as it takes: a process "
           "that never closes its sockets (a leak, a missing close() on an "
           "error path, a worker that hangs) keeps them in CLOSE-WAIT "
           "forever.");
    r->ends_in = -1;
}

static void fin_wait_2(const struct explain_conn *c,
                       const struct explain_tunables *t,
                       struct explain_result *r, int64_t min_age)
{
    char a[48], d[32];
    int young = c->in_state >= 0 && c->in_state < min_age;
    say(r,
        "This end sent its FIN and the peer acknowledged it; the "
        "connection has been in FIN-WAIT-2 %s, waiting for the peer's "
        "FIN (the peer's application has not called close()).",
        age(c, a, sizeof a));
    if (c->orphan == 1) {
        set(r, young ? EXPLAIN_OK : EXPLAIN_STUCK, "fin-wait-2-orphan");
        put(r->summary, sizeof r->summary,
            "waiting for the peer to close; this application already "
            "closed, so tcp_fin_timeout ends it");
        put(r->governs, sizeof r->governs,
            "tcp_fin_timeout=%d s (this socket is orphaned: the application "
            "called close())",
            t->fin_timeout);
        r->ends_in = c->timer == SYNACK_TIMER_TIMEWAIT ? c->timer_left : -1;
        say(r,
            "The local application has closed the socket, so nobody "
            "could read what the peer still sends: the stack gives the "
            "peer tcp_fin_timeout (%d s) and then drops the connection%s%s.",
            t->fin_timeout, r->ends_in >= 0 ? ", in " : "",
            r->ends_in >= 0 ? explain_fmt_dur(r->ends_in, d, sizeof d) : "");
        say(r, "If it happens often, the peer's application is slow to "
               "close its end.");
    } else if (c->orphan == 0) {
        set(r, young ? EXPLAIN_OK : EXPLAIN_STUCK, "fin-wait-2-half-closed");
        put(r->summary, sizeof r->summary,
            "waiting for the peer to close; this application only shut down "
            "its sending side, so no timer applies");
        put(r->governs, sizeof r->governs,
            "close() in the peer's application; tcp_fin_timeout (%d s) does "
            "not apply: the local application still holds the socket "
            "(shutdown(SHUT_WR), not close())",
            t->fin_timeout);
        say(r, "The local application called shutdown(SHUT_WR) and still "
               "holds the socket: it may still receive data (a half-close), "
               "so TCP waits for the peer's FIN without a limit. "
               "tcp_fin_timeout only applies to orphaned sockets. It ends "
               "when the peer closes, when the local application calls "
               "close() (then tcp_fin_timeout runs), or through keepalive "
               "(SO_KEEPALIVE) if the peer is gone.");
        r->ends_in = -1;
    } else {
        set(r, young ? EXPLAIN_OK : EXPLAIN_NORMAL, "fin-wait-2");
        put(r->summary, sizeof r->summary, "waiting for the peer to close");
        put(r->governs, sizeof r->governs,
            "close() in the peer's application; tcp_fin_timeout=%d s if "
            "this end is orphaned (cannot be told from here)",
            t->fin_timeout);
        say(r,
            "Whether the local application closed the socket (then "
            "tcp_fin_timeout, %d s, ends the wait) or only shut down its "
            "sending side (then nothing does) cannot be told from here.",
            t->fin_timeout);
        r->ends_in = -1;
    }
}

static void time_wait(const struct explain_conn *c,
                      const struct explain_tunables *t,
                      struct explain_result *r)
{
    char a[48], d[32];
    set(r, EXPLAIN_NORMAL, "time-wait");
    r->ends_in = c->timer == SYNACK_TIMER_TIMEWAIT ? c->timer_left : -1;
    if (r->ends_in < 0 && c->timer == SYNACK_TIMER_NONE && c->in_state >= 0) {
        /* no timer seen (a capture): 2MSL from when it entered */
        int64_t len = (int64_t)t->timewait_len * (int64_t)SYNACK_SEC;
        r->ends_in = c->in_state < len ? len - c->in_state : 0;
    }
    put(r->summary, sizeof r->summary,
        "normal: this end closed first and waits 2MSL%s%s",
        r->ends_in >= 0 ? ", " : "",
        r->ends_in >= 0 ? explain_fmt_dur(r->ends_in, d, sizeof d) : "");
    if (r->ends_in >= 0)
        strncat(r->summary, " left",
                sizeof r->summary - strlen(r->summary) - 1);
    put(r->governs, sizeof r->governs,
        "tcp_timewait_len=%d s (2MSL); SO_REUSEADDR and TIME-WAIT reuse "
        "for new connections",
        t->timewait_len);
    say(r,
        "The end that closes first keeps the connection in TIME-WAIT for "
        "2MSL (tcp_timewait_len, %d s) after the exchange of FINs; it has "
        "been there %s. Meanwhile it re-acknowledges a retransmitted FIN "
        "(in case its last ACK was lost) and keeps old duplicate segments "
        "from being taken for a new connection on the same address pair.",
        t->timewait_len, age(c, a, sizeof a) + 4);
    say(r, "It is harmless and ends by itself. It does not stop a server "
           "from listening again: SO_REUSEADDR lets bind() take the port "
           "while TIME-WAIT connections exist. A new SYN for the same "
           "address pair is accepted during TIME-WAIT (TIME-WAIT reuse) if "
           "its timestamp (RFC 6191) or, without timestamps, its sequence "
           "number is above the old connection's. Many of them on a client "
           "mean many short connections to the same server: reuse "
           "connections (keep-alive) rather than shorten TIME-WAIT.");
}

static void syn_sent(const struct explain_conn *c,
                     const struct explain_tunables *t, struct explain_result *r,
                     int64_t min_age)
{
    char a[48], sched[160], d[32], d2[32];
    int64_t total = handshake(c, t, r, min_age, t->syn_retries,
                              "syn-sent-no-answer", sched, sizeof sched);
    put(r->summary, sizeof r->summary,
        "no answer to our SYN: %u retransmission%s so far, connect() fails "
        "after tcp_syn_retries=%d",
        c->backoff, plural(c->backoff), t->syn_retries);
    put(r->governs, sizeof r->governs,
        "tcp_syn_retries=%d, tcp_rto_initial_ms=%u (RTO doubles each time, "
        "up to tcp_rto_max_ms=%u)",
        t->syn_retries, t->rto_initial_ms, t->rto_max_ms);
    say(r,
        "This end sent a SYN %s ago and nothing came back: no SYN,ACK "
        "and no RST. The host is down or unreachable, or a firewall "
        "drops the SYN (a closed port would have answered with a RST).",
        age(c, a, sizeof a) + 4);
    say(r,
        "The SYN is resent %s after the first one (tcp_syn_retries=%d, "
        "the RTO doubling from tcp_rto_initial_ms=%u ms); connect() "
        "fails with ETIMEDOUT %s after it.",
        sched, t->syn_retries, t->rto_initial_ms,
        explain_fmt_dur(total, d, sizeof d));
    if (r->ends_in >= 0)
        say(r,
            "It has been retransmitted %u time%s; the RTO now in force "
            "is %s; it gives up in %s.",
            c->backoff, plural(c->backoff), rto_now(c, d, sizeof d),
            explain_fmt_dur(r->ends_in, d2, sizeof d2));
}

static void syn_received(const struct explain_conn *c,
                         const struct explain_tunables *t,
                         struct explain_result *r, int64_t min_age)
{
    char a[48], sched[160], d[32], d2[32];
    int64_t total = handshake(c, t, r, min_age, t->synack_retries,
                              "syn-received-no-ack", sched, sizeof sched);
    put(r->summary, sizeof r->summary,
        "the final ACK of the handshake does not come: SYN,ACK "
        "retransmitted %u time%s, dropped after tcp_synack_retries=%d",
        c->backoff, plural(c->backoff), t->synack_retries);
    put(r->governs, sizeof r->governs,
        "tcp_synack_retries=%d; tcp_syncookies=%d and tcp_max_syn_backlog=%d "
        "for floods",
        t->synack_retries, t->syncookies, t->max_syn_backlog);
    say(r,
        "A SYN came in and this end answered with SYN,ACK %s ago; the "
        "ACK that completes the handshake has not arrived. Either our "
        "SYN,ACK does not reach the peer, or its ACK does not reach us "
        "(a one-way path problem, a firewall), or the SYN was not a real "
        "connection attempt: many connections like this at once on one "
        "listener are a SYN flood (half-open connections from spoofed "
        "addresses).",
        age(c, a, sizeof a) + 4);
    if (c->similar >= EXPLAIN_MANY)
        say(r,
            "%u connections on this listener are half-open right now: "
            "that looks like a SYN flood.",
            c->similar);
    else if (c->similar > 1)
        say(r,
            "%u connections on this listener are half-open: a few, not "
            "a flood.",
            c->similar);
    say(r,
        "The SYN,ACK is resent %s after the first one and the "
        "half-open connection dropped %s after it (tcp_synack_retries=%d). "
        "Under a flood, "
        "tcp_syncookies=1 answers with SYN cookies once the listener's "
        "SYN queue (tcp_max_syn_backlog=%d) is full, so no state is kept "
        "for such connections (tcp_syncookies is %d here).",
        sched, explain_fmt_dur(total, d, sizeof d), t->synack_retries,
        t->max_syn_backlog, t->syncookies);
    if (r->ends_in >= 0)
        say(r, "The RTO now in force is %s; it is dropped in %s.",
            rto_now(c, d, sizeof d),
            explain_fmt_dur(r->ends_in, d2, sizeof d2));
}

/* LAST-ACK, FIN-WAIT-1, CLOSING: our FIN is not acknowledged. */
static void fin_unacked(const struct explain_conn *c,
                        const struct explain_tunables *t,
                        struct explain_result *r, int64_t min_age)
{
    char a[48], d[32], d2[32];
    r->ends_in = giveup_in(c, t, t->retries2);
    if (c->state == SYNACK_LAST_ACK) {
        set_unacked(c, r, min_age, "last-ack-fin-unacked");
        say(r,
            "The peer closed first; then the local application closed "
            "and this end sent its FIN. The connection has been in "
            "LAST-ACK %s, waiting for the ACK of that FIN.",
            age(c, a, sizeof a));
    } else if (c->state == SYNACK_CLOSING) {
        set_unacked(c, r, min_age, "closing-fin-unacked");
        say(r,
            "Both ends closed at the same time; the peer's FIN arrived "
            "but the ACK of ours has not, %s.",
            age(c, a, sizeof a));
    } else {
        set_unacked(c, r, min_age, "fin-wait-1-fin-unacked");
        say(r,
            "The local application closed and this end sent its FIN "
            "(after any data still queued: Send-Q %u bytes); it has been "
            "in FIN-WAIT-1 %s without the ACK of that FIN.",
            c->send_q, age(c, a, sizeof a));
    }
    put(r->summary, sizeof r->summary,
        "our FIN is not acknowledged: retransmitted %u time%s, given up "
        "after tcp_retries2=%d",
        c->backoff, plural(c->backoff), t->retries2);
    put(r->governs, sizeof r->governs,
        "tcp_retries2=%d (RTO doubling up to tcp_rto_max_ms=%u)", t->retries2,
        t->rto_max_ms);
    if (c->backoff)
        say(r,
            "The FIN was retransmitted %u time%s with exponential "
            "backoff: the peer is gone, or the path to it is down.",
            c->backoff, plural(c->backoff));
    else
        say(r, "Nothing was retransmitted yet.");
    if (r->ends_in >= 0)
        say(r,
            "The RTO now in force is %s; after tcp_retries2=%d "
            "retransmissions the connection is dropped, in %s.",
            rto_now(c, d, sizeof d), t->retries2,
            explain_fmt_dur(r->ends_in, d2, sizeof d2));
}

/* ESTABLISHED (and CLOSE-WAIT's data side): windows, queues, losses.
 * Returns 1 if something was found. */
static int data_side(const struct explain_conn *c,
                     const struct explain_tunables *t, struct explain_result *r)
{
    char d[32], d2[32], g[32];
    if (c->backoff >= 2 && c->snd_wnd > 0) {
        set(r, EXPLAIN_STUCK, "retransmissions");
        r->ends_in = giveup_in(c, t, t->retries2);
        put(r->summary, sizeof r->summary,
            "loss: the oldest unacknowledged segment was retransmitted %u "
            "times without an ACK; RTO now %s",
            c->backoff, rto_now(c, d, sizeof d));
        put(r->governs, sizeof r->governs,
            "tcp_retries2=%d (then ETIMEDOUT), RTO doubling up to "
            "tcp_rto_max_ms=%u",
            t->retries2, t->rto_max_ms);
        say(r,
            "%u bytes are waiting to be acknowledged; the retransmission "
            "timer fired %u times in a row for the same data (%llu "
            "retransmissions over the connection's life). Segments or "
            "their ACKs are lost: the peer is gone, or the path to it "
            "is down or very lossy.",
            c->send_q, c->backoff, (unsigned long long)c->total_retrans);
        if (r->ends_in >= 0)
            say(r,
                "The RTO now in force is %s and doubles with each "
                "timeout (at most tcp_rto_max_ms=%u ms); after "
                "tcp_retries2=%d the connection is aborted with "
                "ETIMEDOUT, in %s.",
                rto_now(c, d, sizeof d), t->rto_max_ms, t->retries2,
                explain_fmt_dur(r->ends_in, d2, sizeof d2));
        return 1;
    }
    if (c->snd_wnd == 0 &&
        (c->send_q > 0 || (c->queues_unseen && c->persist_probes > 0))) {
        set(r, EXPLAIN_STUCK, "zero-window");
        r->ends_in = -1;
        if (c->queues_unseen)
            put(r->summary, sizeof r->summary,
                "the peer's window is zero: its application is not "
                "reading; this end probes it, so it has data to send");
        else
            put(r->summary, sizeof r->summary,
                "the peer's window is zero: its application is not "
                "reading; %u bytes wait in our Send-Q",
                c->send_q);
        put(r->governs, sizeof r->governs,
            "recv() in the peer's application; zero-window probes (persist "
            "timer, tcp_retries2=%d unanswered probes)",
            t->retries2);
        if (c->queues_unseen)
            say(r, "The peer advertises a receive window of 0: its receive "
                   "buffer is full because its application does not read. "
                   "This end cannot send; what its application wrote stays "
                   "in Send-Q (a capture does not show how much), and its "
                   "writes block once the send buffer is full.");
        else
            say(r,
                "The peer advertises a receive window of 0: its receive "
                "buffer is full because its application does not read. "
                "This end cannot send; the %u bytes the local application "
                "wrote stay in Send-Q, and its writes block once the send "
                "buffer is full.",
                c->send_q);
        say(r,
            "This end sends zero-window probes (persist timer, backing "
            "off up to tcp_rto_max_ms) to learn when the window opens; "
            "%u of them unanswered now. As long as the peer answers "
            "them the connection stays: a peer that is alive but never "
            "reads holds it forever; one that stops answering is "
            "dropped after tcp_retries2=%d probes.",
            c->persist_probes, t->retries2);
        return 1;
    }
    if (c->send_q_before >= 0 && c->sample_gap > 0 &&
        (int64_t)c->send_q > c->send_q_before && c->backoff == 0) {
        set(r, EXPLAIN_STUCK, "send-q-growing");
        r->ends_in = -1;
        put(r->summary, sizeof r->summary,
            "Send-Q grew from %lld to %u bytes in %s: the peer takes the "
            "data slower than this application writes it",
            (long long)c->send_q_before, c->send_q,
            explain_fmt_dur(c->sample_gap, g, sizeof g));
        put(r->governs, sizeof r->governs,
            "recv() in the peer's application, or the path's capacity");
        say(r,
            "The peer's window is %u bytes. If it stays small, the "
            "peer's application is not reading fast enough; if it is "
            "large, the path is the bottleneck (congestion window).",
            c->snd_wnd);
        return 1;
    }
    if (c->rcv_wnd == 0 && (c->recv_q > 0 || c->queues_unseen)) {
        set(r, EXPLAIN_STUCK, "local-app-not-reading");
        r->ends_in = -1;
        if (c->queues_unseen)
            put(r->summary, sizeof r->summary,
                "this application is not reading: its window is zero");
        else
            put(r->summary, sizeof r->summary,
                "this application is not reading: %u bytes unread, our "
                "window is zero",
                c->recv_q);
        put(r->governs, sizeof r->governs,
            "recv() in the local application (the buffer: tcp_rmem, "
            "SO_RCVBUF)");
        if (c->queues_unseen)
            say(r, "The receive buffer is full of data the local "
                   "application has not read, so this end advertises a "
                   "zero window and the peer has to stop sending and "
                   "probe.");
        else
            say(r,
                "The receive buffer is full of data the local application "
                "has not read (Recv-Q %u bytes), so this end advertises a "
                "zero window and the peer has to stop sending and probe.",
                c->recv_q);
        return 1;
    }
    return 0;
}

void explain_conn(const struct explain_conn *c,
                  const struct explain_tunables *t, int64_t min_age,
                  struct explain_result *r)
{
    memset(r, 0, sizeof *r);
    r->ends_in = -1;
    set(r, EXPLAIN_OK, "ok");
    switch (c->state) {
    case SYNACK_CLOSE_WAIT:
        if (c->backoff >= 2 || (c->snd_wnd == 0 && c->send_q > 0)) {
            data_side(c, t, r); /* the data this end still sends is stuck */
            break;
        }
        close_wait(c, r, min_age);
        break;
    case SYNACK_FIN_WAIT_2:
        fin_wait_2(c, t, r, min_age);
        break;
    case SYNACK_TIME_WAIT:
        time_wait(c, t, r);
        break;
    case SYNACK_SYN_SENT:
        syn_sent(c, t, r, min_age);
        break;
    case SYNACK_SYN_RECEIVED:
        syn_received(c, t, r, min_age);
        break;
    case SYNACK_LAST_ACK:
    case SYNACK_CLOSING:
    case SYNACK_FIN_WAIT_1:
        if (c->snd_wnd == 0 && c->send_q > 1 && c->backoff < 2) {
            data_side(c, t, r); /* data before the FIN meets a zero window */
            break;
        }
        fin_unacked(c, t, r, min_age);
        break;
    case SYNACK_ESTABLISHED:
        if (!data_side(c, t, r)) {
            put(r->summary, sizeof r->summary,
                "data flows: nothing holds this connection");
            put(r->governs, sizeof r->governs, "-");
        }
        break;
    case SYNACK_LISTEN:
        put(r->summary, sizeof r->summary,
            "a listening socket: waiting for connections");
        put(r->governs, sizeof r->governs, "accept(), close()");
        break;
    default:
        put(r->summary, sizeof r->summary, "closed");
        put(r->governs, sizeof r->governs, "-");
        break;
    }
    if (!r->governs[0])
        put(r->governs, sizeof r->governs, "-");
}
