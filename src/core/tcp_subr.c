/*
 * TCP support: control-block lifecycle, demultiplexing, the one traced
 * state setter, ISN (RFC 6528), buffers, readiness.
 */
#include <string.h>

#include "core.h"

synack_time_t tcp_rto_min(const synack_stack *st)
{
    return (synack_time_t)st->tun.rto_min_us * SYNACK_USEC;
}

synack_time_t tcp_rto_max(const synack_stack *st)
{
    return (synack_time_t)st->tun.rto_max_ms * SYNACK_MSEC;
}

int tcp_keepidle(const synack_stack *st, const tcb *tp)
{
    return tp->keepidle ? tp->keepidle : st->tun.keepalive_time;
}

int tcp_keepintvl(const synack_stack *st, const tcb *tp)
{
    return tp->keepintvl ? tp->keepintvl : st->tun.keepalive_intvl;
}

int tcp_keepcnt(const synack_stack *st, const tcb *tp)
{
    return tp->keepcnt ? tp->keepcnt : st->tun.keepalive_probes;
}

/* ---- the timer heap ----------------------------------------------------
 * Every connection with a deadline is in a binary min-heap keyed by its
 * earliest deadline (tp->wheel_at, cached when filed): the stack's next
 * deadline is the root, exact (no slot granularity, so a timer fires at
 * its deadline to the nanosecond), and synack_stack_advance pops only the
 * connections that are due; a million connections without a running timer
 * cost nothing per tick. tcb_timer_sync re-files a connection when its
 * earliest deadline changed: O(1) if it did not, O(log n) if it did. The
 * heap array holds a slot per connection (max_sockets slots from the
 * start, doubled in tcb_new when connections outnumber them), so filing
 * never allocates. */
static void theap_set(synack_stack *st, uint32_t i, tcb *tp)
{
    st->theap[i] = tp;
    tp->theap_idx = i;
}

static void theap_up(synack_stack *st, uint32_t i)
{
    tcb *tp = st->theap[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (st->theap[p]->wheel_at <= tp->wheel_at)
            break;
        theap_set(st, i, st->theap[p]);
        i = p;
    }
    theap_set(st, i, tp);
}

static void theap_down(synack_stack *st, uint32_t i)
{
    tcb *tp = st->theap[i];
    uint32_t n = st->theap_len;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && st->theap[c + 1]->wheel_at < st->theap[c]->wheel_at)
            c++;
        if (tp->wheel_at <= st->theap[c]->wheel_at)
            break;
        theap_set(st, i, st->theap[c]);
        i = c;
    }
    theap_set(st, i, tp);
}

static void theap_remove(synack_stack *st, tcb *tp)
{
    uint32_t i = tp->theap_idx;
    if (i == TCB_NOT_FILED)
        return;
    tp->theap_idx = TCB_NOT_FILED;
    tp->wheel_at = SYNACK_TIME_NEVER;
    tcb *last = st->theap[--st->theap_len];
    if (last == tp)
        return;
    theap_set(st, i, last);
    theap_up(st, i);
    theap_down(st, last->theap_idx);
}

static int theap_resize(synack_stack *st, uint32_t cap)
{
    tcb **h = stack_mem_get(st, sizeof(tcb *) * cap);
    if (!h)
        return -SYNACK_ENOMEM;
    if (st->theap_len)
        memcpy(h, st->theap, sizeof(tcb *) * st->theap_len);
    stack_mem_put(st, st->theap, sizeof(tcb *) * st->theap_cap);
    st->theap = h;
    st->theap_cap = cap;
    return 0;
}

/* The connections with buffers that have nothing to send or read: on the
 * idle list, oldest first, their rings released after TCP_BUF_IDLE. */
static inline bool buf_idle(const tcb *tp)
{
    return (tp->txb || tp->rxb) && !tp->zombie && tp->tx_len == 0 &&
           tp->snd_una == tp->snd_max && tp->rx_len == 0 && tp->nooo == 0;
}

static void idle_unlink(synack_stack *st, tcb *tp)
{
    if (!tp->idle)
        return;
    if (tp->idle_prev)
        tp->idle_prev->idle_next = tp->idle_next;
    else
        st->idle_head = tp->idle_next;
    if (tp->idle_next)
        tp->idle_next->idle_prev = tp->idle_prev;
    else
        st->idle_tail = tp->idle_prev;
    tp->idle_next = tp->idle_prev = NULL;
    tp->idle = false;
}

static inline synack_time_t earliest(const tcb *tp)
{
    synack_time_t d = tp->t_rexmt;
    if (tp->t_persist < d)
        d = tp->t_persist;
    if (tp->t_delack < d)
        d = tp->t_delack;
    if (tp->t_keep < d)
        d = tp->t_keep;
    if (tp->t_2msl < d)
        d = tp->t_2msl;
    if (tp->t_pace < d)
        d = tp->t_pace;
    return d;
}

void tcb_timer_sync(synack_stack *st, tcb *tp)
{
    synack_time_t d = earliest(tp);
    if (d != tp->wheel_at) {
        if (d == SYNACK_TIME_NEVER) {
            theap_remove(st, tp);
        } else if (tp->theap_idx == TCB_NOT_FILED) {
            tp->wheel_at = d;
            theap_set(st, st->theap_len++, tp);
            theap_up(st, tp->theap_idx);
        } else {
            bool earlier = d < tp->wheel_at;
            tp->wheel_at = d;
            if (earlier)
                theap_up(st, tp->theap_idx);
            else
                theap_down(st, tp->theap_idx);
        }
    }
    bool idle = buf_idle(tp);
    if (idle == tp->idle)
        return;
    if (!idle) {
        idle_unlink(st, tp);
        return;
    }
    tp->idle = true;
    tp->idle_at = st->now;
    tp->idle_next = NULL;
    tp->idle_prev = st->idle_tail;
    if (st->idle_tail)
        st->idle_tail->idle_next = tp;
    else
        st->idle_head = tp;
    st->idle_tail = tp;
}

void tcp_reclaim_idle(synack_stack *st, synack_time_t now)
{
    tcb *tp;
    while ((tp = st->idle_head) != NULL &&
           now - tp->idle_at >= TCP_BUF_IDLE) {
        idle_unlink(st, tp);
        if (!buf_idle(tp))
            continue; /* (a missed tcb_timer_sync: keep the data) */
        tcp_free_tx(st, tp);
        tcp_free_rx(st, tp);
    }
}

void tcp_entry_done(synack_stack *st, tcb *tp)
{
    if (tp)
        tcb_timer_sync(st, tp);
    if (st->born) {
        tcb_timer_sync(st, st->born);
        st->born = NULL;
    }
    tcp_reap(st);
}

static uint32_t pow2_at_least(uint32_t n, uint32_t lo, uint32_t hi)
{
    uint32_t s = lo;
    while (s < n && s < hi)
        s <<= 1;
    return s;
}

int tcp_tables_init(synack_stack *st)
{
    uint32_t np = pow2_at_least(st->cfg.max_sockets, 64, 65536);
    st->ports = stack_mem_get(st, sizeof(tcb *) * np);
    if (!st->ports)
        return -SYNACK_ENOMEM;
    memset(st->ports, 0, sizeof(tcb *) * np);
    st->ports_mask = np - 1;
    st->theap_cap0 = st->cfg.max_sockets;
    if (theap_resize(st, st->theap_cap0) < 0)
        return -SYNACK_ENOMEM;
    return 0;
}

void tcp_tables_free(synack_stack *st)
{
    if (st->ports)
        stack_mem_put(st, st->ports, sizeof(tcb *) * (st->ports_mask + 1));
    st->ports = NULL;
    stack_mem_put(st, st->theap, sizeof(tcb *) * st->theap_cap);
    st->theap = NULL;
    st->theap_cap = 0;
}

uint64_t tcp_tables_extra(const synack_stack *st)
{
    return (uint64_t)(st->theap_cap - st->theap_cap0) * sizeof(tcb *);
}

/* ---- the bind table: connections by local port -------------------------- */
static void port_unlink(tcb *tp)
{
    if (!tp->bound)
        return;
    *tp->pprev = tp->pnext;
    if (tp->pnext)
        tp->pnext->pprev = tp->pprev;
    tp->pnext = NULL;
    tp->pprev = NULL;
    tp->bound = false;
}

void tcp_bind_port(synack_stack *st, tcb *tp, uint16_t port)
{
    port_unlink(tp);
    tp->lport = port;
    if (port == 0)
        return;
    tcb **b = &st->ports[port & st->ports_mask];
    tp->pnext = *b;
    if (*b)
        (*b)->pprev = &tp->pnext;
    *b = tp;
    tp->pprev = b;
    tp->bound = true;
}

void stack_handle_release(synack_stack *st, int h)
{
    if (h < 0 || (uint32_t)h >= st->nhandles)
        return;
    st->handles[h] = NULL;
    if ((uint32_t)h < st->handle_hint)
        st->handle_hint = (uint32_t)h;
}

tcb *tcb_new(synack_stack *st)
{
    if (st->nconns >= st->theap_cap &&
        theap_resize(st, st->theap_cap ? 2 * st->theap_cap : 64) < 0)
        return NULL;
    tcb *tp = stack_mem_get(st, sizeof(*tp));
    if (!tp)
        return NULL;
    memset(tp, 0, sizeof(*tp));
    tp->theap_idx = TCB_NOT_FILED;
    tp->wheel_at = SYNACK_TIME_NEVER;
    tp->id = st->next_id++;
    tp->handle = -1;
    tp->state = SYNACK_CLOSED;
    tp->t_rexmt = tp->t_persist = tp->t_delack = tp->t_keep = tp->t_2msl =
        tp->cookie_sent = tp->t_pace =
        SYNACK_TIME_NEVER;
    tp->rto = (synack_time_t)st->tun.rto_initial_ms * SYNACK_MSEC;
    tp->ssthresh = UINT32_MAX / 2;
    tp->first_unacked = SYNACK_TIME_NEVER;
    tp->cc = tcp_cc_default(st); /* as Linux: chosen when the socket is made */
    tp->reo_wnd_mult = 1;
    tp->mss = 536;
    tp->rcv_mss = (uint16_t)(st->cfg.mtu - 40);
    tp->next = st->conns;
    if (st->conns)
        st->conns->prev = tp;
    st->conns = tp;
    st->nconns++;
    st->born = tp;
    return tp;
}

uint32_t tcb_hash(const synack_stack *st, uint32_t lip, uint16_t lport,
                  uint32_t rip, uint16_t rport)
{
    uint64_t k;
    memcpy(&k, st->cfg.isn_secret + 8, sizeof(k));
    uint64_t x = ((uint64_t)lip << 32 | rip) ^ k;
    x ^= ((uint64_t)lport << 16 | rport) * 0x9e3779b97f4a7c15ULL;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (uint32_t)x & st->hash_mask;
}

static void hash_remove(synack_stack *st, tcb *tp)
{
    tcb **pp;
    if (tp->listed) {
        for (pp = &st->listeners; *pp; pp = &(*pp)->hnext)
            if (*pp == tp) {
                *pp = tp->hnext;
                break;
            }
        tp->listed = false;
    }
    if (!tp->hashed)
        return;
    uint32_t h = tcb_hash(st, tp->lip, tp->lport, tp->rip, tp->rport);
    for (pp = &st->hash[h]; *pp; pp = &(*pp)->hnext)
        if (*pp == tp) {
            *pp = tp->hnext;
            break;
        }
    tp->hashed = false;
}

static void aq_remove(tcb *lp, tcb *tp)
{
    tcb **pp = &lp->aq_head;
    tcb *prev = NULL;
    while (*pp && *pp != tp) {
        prev = *pp;
        pp = &(*pp)->aq_next;
    }
    if (!*pp)
        return;
    *pp = tp->aq_next;
    if (lp->aq_tail == tp)
        lp->aq_tail = prev;
    lp->aq_len--;
    tp->in_aq = false;
}

/* Detach a child from its listener (queue counts). */
static void unlink_listener(tcb *tp)
{
    tcb *lp = tp->listener;
    if (!lp)
        return;
    if (tp->in_aq)
        aq_remove(lp, tp);
    else if (tp->state == SYNACK_SYN_RECEIVED)
        lp->synq_len--;
    tp->listener = NULL;
}

void tcb_free(synack_stack *st, tcb *tp)
{
    if (st->batch_ack == tp)
        st->batch_ack = NULL; /* its batched ACK goes with it */
    if (tp->state == SYNACK_LISTEN) {
        /* children of a listener go with it (freeing a child frees
         * nothing else, so the next one stays valid) */
        for (tcb *c = st->conns; c;) {
            tcb *n = c->next;
            if (c->listener == tp) {
                unlink_listener(c);
                tcb_free(st, c);
            }
            c = n;
        }
    }
    if (tp->zombie) {
        for (tcb **pp = &st->zombies; *pp; pp = &(*pp)->hnext)
            if (*pp == tp) {
                *pp = tp->hnext;
                break;
            }
        st->nzombies--;
    }
    unlink_listener(tp);
    hash_remove(st, tp);
    theap_remove(st, tp);
    idle_unlink(st, tp);
    port_unlink(tp);
    if (st->born == tp)
        st->born = NULL;
    if (tp->handle >= 0 && (uint32_t)tp->handle < st->nhandles &&
        st->handles[tp->handle] == tp)
        stack_handle_release(st, tp->handle);
    if (tp->prev)
        tp->prev->next = tp->next;
    else
        st->conns = tp->next;
    if (tp->next)
        tp->next->prev = tp->prev;
    st->nconns--;
    tcp_free_buffers(st, tp);
    stack_mem_put(st, tp, sizeof(*tp));
    /* the heap's slots follow the connections back down */
    uint32_t cap = st->theap_cap;
    while (cap / 2 >= st->theap_cap0 && st->nconns < cap / 4 &&
           st->theap_len <= cap / 2)
        cap /= 2;
    if (cap != st->theap_cap)
        (void)theap_resize(st, cap);
}

void tcb_hash_insert(synack_stack *st, tcb *tp)
{
    if (tp->state == SYNACK_LISTEN) {
        tp->hnext = st->listeners;
        st->listeners = tp;
        tp->listed = true;
        return;
    }
    uint32_t h = tcb_hash(st, tp->lip, tp->lport, tp->rip, tp->rport);
    tp->hnext = st->hash[h];
    st->hash[h] = tp;
    tp->hashed = true;
}

tcb *tcb_lookup(const synack_stack *st, uint32_t lip, uint16_t lport, uint32_t rip,
                uint16_t rport)
{
    uint32_t h = tcb_hash(st, lip, lport, rip, rport);
    for (tcb *tp = st->hash[h]; tp; tp = tp->hnext)
        if (tp->lport == lport && tp->rport == rport && tp->rip == rip &&
            tp->lip == lip)
            return tp;
    return NULL;
}

tcb *tcb_lookup_listener(synack_stack *st, uint32_t lip, uint16_t lport)
{
    tcb *wild = NULL;
    for (tcb *tp = st->listeners; tp; tp = tp->hnext) {
        if (tp->lport != lport || tp->state != SYNACK_LISTEN)
            continue;
        if (tp->lip == lip)
            return tp;
        if (tp->lip == 0)
            wild = tp;
    }
    return wild;
}

void trace_event_init(synack_trace_event *ev, int kind, const tcb *tp,
                      synack_time_t now)
{
    memset(ev, 0, sizeof(*ev));
    ev->kind = kind;
    ev->now = now;
    ev->handle = -1;
    if (tp) {
        ev->conn_id = tp->id;
        ev->handle = tp->handle;
        ev->local = (synack_addr){tp->lip, tp->lport};
        ev->remote = (synack_addr){tp->rip, tp->rport};
        ev->old_state = ev->new_state = tp->state;
    }
}

static const char *cause_text(synack_stack *st)
{
    if (st->cause != st->cause_buf || st->cause_buf[0] || !st->cause_prefix)
        return st->cause;
    char f[32];
    size_t n = strlen(st->cause_prefix);
    if (n > sizeof(st->cause_buf) - 1)
        n = sizeof(st->cause_buf) - 1;
    memcpy(st->cause_buf, st->cause_prefix, n);
    synack_flags_str(st->cause_flags, f, sizeof(f));
    size_t m = strlen(f);
    if (n + 1 + m >= sizeof(st->cause_buf))
        m = sizeof(st->cause_buf) - n - 2;
    st->cause_buf[n] = ' ';
    memcpy(st->cause_buf + n + 1, f, m);
    st->cause_buf[n + 1 + m] = '\0';
    return st->cause;
}

static void trace_state(synack_stack *st, tcb *tp, int from, int to,
                        synack_time_t now)
{
    if (!st->trace)
        return;
    synack_trace_event ev;
    trace_event_init(&ev, SYNACK_TRACE_STATE, tp, now);
    ev.old_state = from;
    ev.new_state = to;
    const char *c = cause_text(st);
    ev.cause = c ? c : "";
    ev.seg = st->cur_seg;
    st->trace(st->trace_ctx, &ev);
}

void tcp_set_state(synack_stack *st, tcb *tp, int state, synack_time_t now)
{
    int from = tp->state;
    if (from == state)
        return;
    if (!tcp_state_edge_ok(from, state))
        st->stats.illegal_transitions++;
    if (from == SYNACK_SYN_RECEIVED && tp->listener && !tp->in_aq)
        tp->listener->synq_len--;
    tp->state = state;
    tp->state_since = now;
    trace_state(st, tp, from, state, now);
}

/* The cause is formatted only when a trace event needs it (once per
 * state change, not once per segment). */
void tcp_set_cause(synack_stack *st, const char *prefix, uint8_t flags)
{
    st->cause_prefix = prefix;
    st->cause_flags = flags;
    st->cause_buf[0] = '\0';
    st->cause = st->cause_buf;
}

void tcp_close_conn(synack_stack *st, tcb *tp, int err, synack_time_t now)
{
    if (err) {
        tp->so_error = err;
        tp->reset_done = true;
        if (err == SYNACK_ECONNRESET)
            st->stats.conns_reset++;
        else
            st->stats.conns_failed++;
    }
    tcp_set_state(st, tp, SYNACK_CLOSED, now);
    tp->t_rexmt = tp->t_persist = tp->t_delack = tp->t_keep = tp->t_2msl =
        tp->t_pace = SYNACK_TIME_NEVER;
    unlink_listener(tp);
    hash_remove(st, tp);
    tcb_timer_sync(st, tp);
    if (tp->handle < 0) {
        if (!tp->zombie) {
            tp->zombie = true;
            st->nzombies++;
            tp->hnext = st->zombies; /* unhashed: hnext is free */
            st->zombies = tp;
            idle_unlink(st, tp);
        }
        return;
    }
    tcp_notify(st, tp);
}

void tcp_reap(synack_stack *st)
{
    while (st->zombies)
        tcb_free(st, st->zombies);
}

/* RFC 6528: ISN = M + F(4-tuple, secret), M a 4-microsecond clock. */
uint32_t tcp_isn(synack_stack *st, const tcb *tp, synack_time_t now)
{
    uint8_t b[12];
    wire_put32(b, tp->lip);
    wire_put32(b + 4, tp->rip);
    wire_put16(b + 8, tp->lport);
    wire_put16(b + 10, tp->rport);
    uint64_t f = siphash24(st->cfg.isn_secret, b, sizeof(b));
    return (uint32_t)f + (uint32_t)(now / (4 * SYNACK_USEC));
}

static uint32_t clamp_buf(uint32_t v, const int lim[3])
{
    if (v == 0)
        v = (uint32_t)lim[1];
    if (v < (uint32_t)lim[0])
        v = (uint32_t)lim[0];
    if (v > (uint32_t)lim[2])
        v = (uint32_t)lim[2];
    return v;
}

/* Fix the buffer sizes, window scale and MSS a new connection will offer;
 * the buffers themselves are allocated when it is established. */
void tcp_plan_conn(synack_stack *st, tcb *tp)
{
    tp->rx_size = clamp_buf(tp->rcvbuf, st->tun.rmem);
    tp->tx_size = clamp_buf(tp->sndbuf, st->tun.wmem);
    tp->rcv_ws = 0;
    if (st->tun.window_scaling)
        while ((tp->rx_size >> tp->rcv_ws) > 65535 && tp->rcv_ws < 14)
            tp->rcv_ws++;
    tp->rcv_mss = (uint16_t)(st->cfg.mtu - 40);
    tp->ts_offset = (uint32_t)stack_rand(st);
}

void tcp_free_tx(synack_stack *st, tcb *tp)
{
    if (tp->txb)
        stack_mem_put(st, tp->txb, tp->tx_size);
    tp->txb = NULL;
    tp->tx_head = tp->tx_len = 0;
    if (tp->rec)
        stack_mem_put(st, tp->rec, sizeof(txrec) * tp->rec_cap);
    tp->rec = NULL;
    tcp_rec_clear(tp);
}

void tcp_free_rx(synack_stack *st, tcb *tp)
{
    if (tp->rxb)
        stack_mem_put(st, tp->ooo, tcp_rx_alloc_size(tp));
    tp->rxb = NULL;
    tp->ooo = NULL;
    tp->nooo = 0;
    tp->rx_head = tp->rx_len = 0;
}

void tcp_free_buffers(synack_stack *st, tcb *tp)
{
    tcp_free_tx(st, tp);
    tcp_free_rx(st, tp);
    idle_unlink(st, tp);
}

/* The send scoreboard, sized with the send ring (a FIN alone needs it
 * too: tcp_output asks for it then). */
int tcp_alloc_rec(synack_stack *st, tcb *tp)
{
    if (tp->rec)
        return 0;
    uint32_t cap = tcp_rec_cap(tp->tx_size);
    tp->rec = stack_mem_get(st, sizeof(txrec) * cap);
    if (!tp->rec)
        return -SYNACK_ENOMEM;
    tp->rec_cap = cap;
    tcp_rec_clear(tp);
    return 0;
}

int tcp_alloc_tx(synack_stack *st, tcb *tp)
{
    if (tp->txb)
        return tcp_alloc_rec(st, tp);
    if (tcp_alloc_rec(st, tp) < 0)
        return -SYNACK_ENOMEM;
    tp->txb = stack_mem_get(st, tp->tx_size);
    if (!tp->txb)
        return -SYNACK_ENOMEM;
    tp->tx_head = 0;
    return 0;
}

/* Send-buffer autotuning, as Linux's tcp_sndbuf_expand: a connection whose
 * application did not set SO_SNDBUF, and finds its send ring full, gets a
 * ring (and scoreboard) of twice what the congestion and peer windows let
 * fly, in powers of two up to tcp_wmem[2], so that the ring does not hold
 * the flight back. The unacknowledged and unsent bytes move to the new
 * ring's start; nothing else refers to ring positions. Memory refused:
 * the old ring stays. Returns true when the ring grew. */
bool tcp_sndbuf_expand(synack_stack *st, tcb *tp)
{
    if (tp->sndbuf || !tp->txb || !tp->rec || !st->tun.sndbuf_auto)
        return false;
    uint32_t wmax = (uint32_t)st->tun.wmem[2];
    uint64_t flight = tp->cwnd < tp->snd_wnd ? tp->cwnd : tp->snd_wnd;
    uint64_t want = 2 * flight;
    if (want > wmax)
        want = wmax;
    uint32_t ns = tp->tx_size;
    while (ns < want)
        ns = ns > wmax / 2 ? wmax : ns * 2;
    if (ns <= tp->tx_size)
        return false;
    uint32_t ncap = tcp_rec_cap(ns);
    uint8_t *nb = stack_mem_get(st, ns);
    txrec *nr = nb ? stack_mem_get(st, sizeof(txrec) * ncap) : NULL;
    if (!nr) {
        stack_mem_put(st, nb, ns);
        return false;
    }
    uint32_t first = tp->tx_size - tp->tx_head;
    if (first > tp->tx_len)
        first = tp->tx_len;
    memcpy(nb, tp->txb + tp->tx_head, first);
    memcpy(nb + first, tp->txb, tp->tx_len - first);
    for (uint32_t i = 0; i < tp->rec_n; i++)
        nr[i] = tp->rec[(tp->rec_head + i) % tp->rec_cap];
    stack_mem_put(st, tp->txb, tp->tx_size);
    stack_mem_put(st, tp->rec, sizeof(txrec) * tp->rec_cap);
    tp->txb = nb;
    tp->tx_size = ns;
    tp->tx_head = 0;
    tp->rec = nr;
    tp->rec_cap = ncap;
    tp->rec_head = 0;
    return true;
}

int tcp_alloc_rx(synack_stack *st, tcb *tp)
{
    if (tp->rxb)
        return 0;
    void *m = stack_mem_get(st, tcp_rx_alloc_size(tp));
    if (!m)
        return -SYNACK_ENOMEM;
    tp->ooo = m;
    tp->rxb = (uint8_t *)m + OOO_BYTES;
    tp->rx_head = 0;
    tp->nooo = 0;
    return 0;
}

bool tcp_port_in_use(synack_stack *st, uint32_t lip, uint16_t port,
                     bool reuse)
{
    for (tcb *tp = st->ports[port & st->ports_mask]; tp; tp = tp->pnext) {
        if (tp->lport != port)
            continue;
        if (tp->lip != 0 && lip != 0 && tp->lip != lip)
            continue;
        if (reuse && tp->state == SYNACK_TIME_WAIT)
            continue;
        if (tp->handle < 0 && tp->state == SYNACK_CLOSED)
            continue;
        return true;
    }
    return false;
}

/* RFC 6056 algorithm 3 (simple hash-based port selection): each
 * destination gets its own keyed offset into 32768..60999, and a counter
 * shared by all destinations moves on after every port tried. An off-path
 * attacker cannot guess the port from other connections' ports, and
 * successive connections to one destination do not reuse a port soon. */
uint16_t tcp_ephemeral_port(synack_stack *st, uint32_t lip, uint32_t rip,
                            uint16_t rport)
{
    const uint32_t lo = 32768, n = 61000 - 32768;
    /* the keyed hash of the last destination is kept: a client
     * connecting again and again to one server hashes once */
    if (!st->port_hash_ok || st->port_hash_lip != lip ||
        st->port_hash_rip != rip || st->port_hash_rport != rport) {
        uint8_t b[11];
        b[0] = 'p';
        wire_put32(b + 1, lip);
        wire_put32(b + 5, rip);
        wire_put16(b + 9, rport);
        st->port_hash = (uint32_t)siphash24(st->cfg.isn_secret, b, sizeof(b));
        st->port_hash_lip = lip;
        st->port_hash_rip = rip;
        st->port_hash_rport = rport;
        st->port_hash_ok = true;
    }
    uint32_t offset = st->port_hash;
    for (uint32_t i = 0; i < n; i++) {
        uint16_t p = (uint16_t)(lo + (offset + st->next_port++) % n);
        if (!tcp_port_in_use(st, lip, p, false))
            return p;
    }
    return 0;
}

unsigned tcp_poll_events(const tcb *tp)
{
    unsigned ev = 0;
    if (tp->state == SYNACK_LISTEN)
        return tp->aq_len > 0 ? SYNACK_POLLIN : 0;
    if (tp->rx_len > 0 || tp->fin_rcvd || tp->shut_rd || tp->reset_done)
        ev |= SYNACK_POLLIN;
    if (tp->fin_rcvd)
        ev |= SYNACK_POLLRDHUP;
    if ((tp->state == SYNACK_ESTABLISHED ||
         tp->state == SYNACK_CLOSE_WAIT) &&
        !tp->fin_queued && (!tp->txb || tp->tx_len < tp->tx_size))
        ev |= SYNACK_POLLOUT;
    if (tp->so_error)
        ev |= SYNACK_POLLERR | SYNACK_POLLOUT;
    if (tp->state == SYNACK_CLOSED && (tp->reset_done || tp->conn_reported))
        ev |= SYNACK_POLLHUP;
    if (tp->fin_rcvd && tp->fin_queued)
        ev |= SYNACK_POLLHUP;
    return ev;
}

void tcp_notify(synack_stack *st, tcb *tp)
{
    tcb *target = tp;
    if (tp->handle < 0 && tp->listener && tp->in_aq)
        target = tp->listener;
    if (target->handle < 0)
        return;
    unsigned ev = tcp_poll_events(target);
    if (ev == target->last_events)
        return;
    target->last_events = ev;
    if (st->event_cb)
        st->event_cb(st->event_ctx, target->handle, ev);
}

void tcp_trace_seg(synack_stack *st, int kind, tcb *tp, const synack_seg *seg,
                   bool retrans, synack_time_t now)
{
    if (!st->trace)
        return;
    synack_trace_event ev;
    trace_event_init(&ev, kind, tp, now);
    ev.seg = seg;
    ev.retransmit = retrans;
    st->trace(st->trace_ctx, &ev);
}

synack_time_t tcb_deadline(const tcb *tp)
{
    return earliest(tp);
}

synack_time_t tcp_deadline(const synack_stack *st)
{
    return st->theap_len ? st->theap[0]->wheel_at : SYNACK_TIME_NEVER;
}

void tcp_fill_info(const synack_stack *st, const tcb *tp,
                   synack_conn_info *o)
{
    memset(o, 0, sizeof(*o));
    o->id = tp->id;
    o->handle = tp->handle;
    o->state = tp->state;
    o->local = (synack_addr){tp->lip, tp->lport};
    o->remote = (synack_addr){tp->rip, tp->rport};
    if (tp->state == SYNACK_LISTEN) {
        o->recv_q = (uint32_t)tp->aq_len;
        o->send_q = (uint32_t)tp->backlog;
    } else {
        o->recv_q = tp->rx_len;
        o->send_q = tp->tx_len;
        o->snd_buf = tp->tx_size;
        o->rcv_buf = tp->rx_size;
    }
    struct {
        synack_time_t t;
        int kind;
    } tm[] = {
        {tp->t_rexmt, SYNACK_TIMER_ON},
        {tp->t_persist, SYNACK_TIMER_PERSIST},
        {tp->t_keep, SYNACK_TIMER_KEEPALIVE},
        {tp->t_2msl, SYNACK_TIMER_TIMEWAIT},
        {tp->t_delack, SYNACK_TIMER_DELACK},
    };
    o->timer = SYNACK_TIMER_NONE;
    o->timer_expires = SYNACK_TIME_NEVER;
    /* the earliest of the timers ss shows; the delayed-ACK timer (which ss
     * never shows) only when no other runs */
    for (size_t i = 0; i < sizeof(tm) / sizeof(tm[0]); i++) {
        if (tm[i].t == SYNACK_TIME_NEVER)
            continue;
        bool other = o->timer != SYNACK_TIMER_NONE;
        if (tm[i].kind == SYNACK_TIMER_DELACK && other)
            continue;
        if (tm[i].t < o->timer_expires ||
            o->timer == SYNACK_TIMER_DELACK) {
            o->timer_expires = tm[i].t;
            o->timer = tm[i].kind;
        }
    }
    o->backoff = tp->backoff;
    o->rtt_us = (uint32_t)(tp->srtt / SYNACK_USEC);
    o->rttvar_us = (uint32_t)(tp->rttvar / SYNACK_USEC);
    o->rto_us = (uint32_t)(tp->rto / SYNACK_USEC);
    o->snd_mss = tp->mss;
    o->rcv_mss = tp->rcv_mss;
    o->cwnd = tp->cwnd;
    o->ssthresh = tp->ssthresh;
    o->snd_wnd = tp->snd_wnd;
    o->rcv_wnd = tcp_rcv_window(tp);
    o->snd_wscale = tp->ws_ok ? tp->snd_ws : 0;
    o->rcv_wscale = tp->ws_ok ? tp->rcv_ws : 0;
    o->ts_ok = tp->ts_ok;
    o->sack_ok = tp->sack_ok;
    static const char *const ca[] = {"open", "recovery", "loss"};
    o->ca_state = ca[tp->ca_state < 3 ? tp->ca_state : 0];
    o->cc = tp->cc ? tp->cc->name : tcp_cc_default(st)->name;
    o->sacked = tp->sacked_bytes;
    o->lost = tp->lost_bytes;
    o->retrans = tp->retrans_bytes;
    o->inflight = tcp_inflight(tp);
    o->reordering = tp->reord_seen;
    o->bytes_sent = tp->bytes_sent;
    o->bytes_acked = tp->bytes_acked;
    o->bytes_received = tp->bytes_received;
    o->bytes_retrans = tp->bytes_retrans;
    o->segs_in = tp->segs_in;
    o->segs_out = tp->segs_out;
    o->total_retrans = tp->total_retrans;
    o->state_since = tp->state_since;
    o->orphan = tp->orphan;
    o->persist_probes = tp->persist_probes;
    (void)st;
}

size_t synack_conn_list(const synack_stack *st, synack_conn_info *out,
                        size_t max)
{
    size_t n = 0;
    for (const tcb *tp = st->conns; tp; tp = tp->next) {
        if (n < max)
            tcp_fill_info(st, tp, &out[n]);
        n++;
    }
    return n;
}

int synack_conn_get(const synack_stack *st, int s, synack_conn_info *out)
{
    if (s < 0 || (uint32_t)s >= st->nhandles || !st->handles[s])
        return -SYNACK_EBADF;
    tcp_fill_info(st, st->handles[s], out);
    return 0;
}

/* ---- SipHash-2-4 (Aumasson & Bernstein), for the ISN and nothing secret
 * beyond it. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                               \
    do {                                                                       \
        v0 += v1;                                                              \
        v1 = ROTL(v1, 13);                                                     \
        v1 ^= v0;                                                              \
        v0 = ROTL(v0, 32);                                                     \
        v2 += v3;                                                              \
        v3 = ROTL(v3, 16);                                                     \
        v3 ^= v2;                                                              \
        v0 += v3;                                                              \
        v3 = ROTL(v3, 21);                                                     \
        v3 ^= v0;                                                              \
        v2 += v1;                                                              \
        v1 = ROTL(v1, 17);                                                     \
        v1 ^= v2;                                                              \
        v2 = ROTL(v2, 32);                                                     \
    } while (0)

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

uint64_t siphash24(const uint8_t key[16], const void *data, size_t len)
{
    const uint8_t *in = data;
    uint64_t k0 = le64(key), k1 = le64(key + 8);
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
    uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
    uint64_t v3 = 0x7465646279746573ULL ^ k1;
    uint64_t b = (uint64_t)len << 56;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t m = le64(in + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t j = 0; i + j < len; j++)
        b |= (uint64_t)in[i + j] << (8 * j);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}
