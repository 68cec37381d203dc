/*
 * User calls on a connection (RFC 9293 3.10.1-3.10.6): OPEN (connect,
 * listen), SEND, RECEIVE, CLOSE (shutdown, close), ABORT. The socket layer
 * in src/api maps handles to control blocks and calls these.
 */
#include <string.h>

#include "core.h"

static uint32_t min32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

int tcp_usr_connect(synack_stack *st, tcb *tp, const synack_addr *a,
                    synack_time_t now)
{
    switch (tp->state) {
    case SYNACK_SYN_SENT:
    case SYNACK_SYN_RECEIVED:
        return -SYNACK_EALREADY;
    case SYNACK_LISTEN:
        return -SYNACK_EINVAL;
    case SYNACK_CLOSED:
        if (tp->conn_reported || tp->reset_done)
            return tp->reset_done ? -SYNACK_EINVAL : -SYNACK_EISCONN;
        break;
    default:
        return -SYNACK_EISCONN;
    }
    if (a->ip == 0 || a->port == 0 || a->ip == 0xffffffffu ||
        (a->ip >> 28) == 0xe)
        return -SYNACK_EINVAL;
    uint32_t mask =
        st->cfg.prefix_len ? ~0u << (32 - st->cfg.prefix_len) : 0;
    if ((a->ip & mask) != (st->cfg.ip & mask) && !st->cfg.gateway)
        return -SYNACK_ENETUNREACH;
    tp->lip = st->cfg.ip;
    if (tp->lport == 0) {
        uint16_t port = tcp_ephemeral_port(st, tp->lip, a->ip, a->port);
        if (port == 0)
            return -SYNACK_EADDRNOTAVAIL;
        tcp_bind_port(st, tp, port);
    }
    if (tcb_lookup(st, tp->lip, tp->lport, a->ip, a->port))
        return -SYNACK_EADDRNOTAVAIL;
    tp->rip = a->ip;
    tp->rport = a->port;
    tcp_plan_conn(st, tp); /* (the buffers come with the data) */
    tp->iss = tcp_isn(st, tp, now);
    tp->snd_una = tp->snd_nxt = tp->snd_max = tp->iss;
    tp->tx_seq = tp->iss + 1;
    tp->recover = tp->iss;
    tp->last_rcv = now;
    tcb_hash_insert(st, tp);
    st->cause = "call connect";
    tcp_set_state(st, tp, SYNACK_SYN_SENT, now);
    tcp_output(st, tp, now);
    st->cause = NULL;
    tcb_timer_sync(st, tp);
    return -SYNACK_EINPROGRESS;
}

int tcp_usr_listen(synack_stack *st, tcb *tp, int backlog)
{
    if (backlog < 1)
        backlog = 1;
    if (backlog > 65535)
        backlog = 65535;
    if (tp->state == SYNACK_LISTEN) {
        tp->backlog = backlog;
        return 0;
    }
    if (tp->state != SYNACK_CLOSED || tp->conn_reported || tp->reset_done)
        return -SYNACK_EINVAL;
    if (tp->lport == 0) {
        uint16_t port = tcp_ephemeral_port(st, tp->lip, 0, 0);
        if (port == 0)
            return -SYNACK_EADDRINUSE;
        tcp_bind_port(st, tp, port);
    }
    tp->backlog = backlog;
    st->cause = "call listen";
    tcp_set_state(st, tp, SYNACK_LISTEN, st->now);
    st->cause = NULL;
    tcb_hash_insert(st, tp);
    return 0;
}

static int take_error(tcb *tp)
{
    int e = tp->so_error;
    tp->so_error = 0;
    return -e;
}

ssize_t tcp_usr_send(synack_stack *st, tcb *tp, const uint8_t *buf,
                     size_t len, synack_time_t now)
{
    if (tp->so_error)
        return take_error(tp);
    if (tp->reset_done)
        return -SYNACK_EPIPE;
    switch (tp->state) {
    case SYNACK_SYN_SENT:
    case SYNACK_SYN_RECEIVED:
        return -SYNACK_EAGAIN;
    case SYNACK_ESTABLISHED:
    case SYNACK_CLOSE_WAIT:
        break;
    case SYNACK_CLOSED:
    case SYNACK_LISTEN:
        return tp->conn_reported ? -SYNACK_EPIPE : -SYNACK_ENOTCONN;
    default:
        return -SYNACK_EPIPE;
    }
    if (tp->fin_queued)
        return -SYNACK_EPIPE;
    if (len == 0)
        return 0;
    if (!tp->txb && tcp_alloc_tx(st, tp) < 0)
        return -SYNACK_ENOBUFS; /* memory limit: as a full buffer would */
    if (len > tp->tx_size - tp->tx_len)
        tcp_sndbuf_expand(st, tp);
    uint32_t room = tp->tx_size - tp->tx_len;
    uint32_t n = (uint32_t)(len < room ? len : room);
    if (n == 0)
        return -SYNACK_EAGAIN;
    uint32_t pos = (tp->tx_head + tp->tx_len) % tp->tx_size;
    uint32_t first = min32(n, tp->tx_size - pos);
    memcpy(tp->txb + pos, buf, first);
    if (n > first)
        memcpy(tp->txb, buf + first, n - first);
    tp->tx_len += n;
    tcp_output(st, tp, now);
    tcb_timer_sync(st, tp);
    return (ssize_t)n;
}

ssize_t tcp_usr_recv(synack_stack *st, tcb *tp, uint8_t *buf, size_t len,
                     synack_time_t now)
{
    if (tp->rx_len > 0 && !tp->shut_rd) {
        uint32_t n = (uint32_t)(len < tp->rx_len ? len : tp->rx_len);
        uint32_t first = min32(n, tp->rx_size - tp->rx_head);
        memcpy(buf, tp->rxb + tp->rx_head, first);
        if (n > first)
            memcpy(buf + first, tp->rxb, n - first);
        tp->rx_head = (tp->rx_head + n) % tp->rx_size;
        tp->rx_len -= n;
        tp->rcv_opened = true;
        if (tp->state != SYNACK_CLOSED)
            tcp_output(st, tp, now); /* window update if it opened enough */
        tcb_timer_sync(st, tp);
        return (ssize_t)n;
    }
    if (tp->so_error)
        return take_error(tp);
    if (tp->fin_rcvd || tp->shut_rd || tp->reset_done)
        return 0;
    if (tp->state == SYNACK_LISTEN ||
        (tp->state == SYNACK_CLOSED && !tp->conn_reported))
        return -SYNACK_ENOTCONN;
    return -SYNACK_EAGAIN;
}

/* Queue our FIN after the data (RFC 9293 3.10.4 CLOSE). */
static void queue_fin(synack_stack *st, tcb *tp, synack_time_t now)
{
    if (tp->fin_queued)
        return;
    switch (tp->state) {
    case SYNACK_SYN_RECEIVED:
    case SYNACK_ESTABLISHED:
        tp->fin_queued = true;
        tcp_set_state(st, tp, SYNACK_FIN_WAIT_1, now);
        break;
    case SYNACK_CLOSE_WAIT:
        tp->fin_queued = true;
        tcp_set_state(st, tp, SYNACK_LAST_ACK, now);
        break;
    default:
        return;
    }
    tcp_output(st, tp, now);
}

int tcp_usr_shutdown(synack_stack *st, tcb *tp, int how, synack_time_t now)
{
    if (how != SYNACK_SHUT_RD && how != SYNACK_SHUT_WR &&
        how != SYNACK_SHUT_RDWR)
        return -SYNACK_EINVAL;
    if (tp->state == SYNACK_LISTEN || tp->state == SYNACK_SYN_SENT ||
        (tp->state == SYNACK_CLOSED && !tp->conn_reported))
        return -SYNACK_ENOTCONN;
    if (how != SYNACK_SHUT_WR)
        tp->shut_rd = true;
    if (how != SYNACK_SHUT_RD) {
        st->cause = "call shutdown";
        queue_fin(st, tp, now);
        st->cause = NULL;
    }
    tcp_notify(st, tp);
    tcb_timer_sync(st, tp);
    return 0;
}

static void send_rst(synack_stack *st, tcb *tp, synack_time_t now)
{
    switch (tp->state) {
    case SYNACK_SYN_RECEIVED:
    case SYNACK_ESTABLISHED:
    case SYNACK_FIN_WAIT_1:
    case SYNACK_FIN_WAIT_2:
    case SYNACK_CLOSE_WAIT:
        tcp_send_ctl(st, tp, tp->snd_max, SYNACK_TH_RST | SYNACK_TH_ACK, now);
        break;
    default:
        break;
    }
}

static void release_handle(synack_stack *st, tcb *tp)
{
    stack_handle_release(st, tp->handle);
    tp->handle = -1;
}

/* Reset and release a connection (or a listener and its children). */
static void abort_with(synack_stack *st, tcb *tp, const char *cause,
                       synack_time_t now)
{
    st->cause = cause;
    if (tp->state == SYNACK_LISTEN) {
        /* established children waiting in the accept queue are reset;
         * half-open ones are dropped silently (as Linux) */
        for (tcb *c = st->conns; c; c = c->next) {
            if (c->listener != tp || c->zombie)
                continue;
            if (c->in_aq)
                send_rst(st, c, now);
            tcp_close_conn(st, c, 0, now);
        }
    }
    send_rst(st, tp, now);
    release_handle(st, tp);
    if (tp->state == SYNACK_LISTEN)
        tcp_set_state(st, tp, SYNACK_CLOSED, now);
    if (tp->state == SYNACK_CLOSED)
        tcb_free(st, tp);
    else
        tcp_close_conn(st, tp, 0, now);
    st->cause = NULL;
    tcp_reap(st);
}

void tcp_usr_abort(synack_stack *st, tcb *tp, synack_time_t now)
{
    abort_with(st, tp, "call abort", now);
}

void tcp_usr_close(synack_stack *st, tcb *tp, synack_time_t now)
{
    switch (tp->state) {
    case SYNACK_LISTEN:
    case SYNACK_CLOSED:
    case SYNACK_SYN_SENT:
        abort_with(st, tp, "call close", now);
        return;
    default:
        break;
    }
    /* Unread data, or SO_LINGER with zero time: abort (RFC 9293 3.10.4
     * permits; RFC 2525 2.17 and Linux do so, so the peer learns that its
     * data was lost). */
    if (tp->rx_len > 0) {
        abort_with(st, tp, "call close (unread data: reset)", now);
        return;
    }
    if (tp->linger_on && tp->linger_secs == 0) {
        abort_with(st, tp, "call close (SO_LINGER 0: reset)", now);
        return;
    }
    st->cause = "call close";
    tp->orphan = true;
    tp->shut_rd = true;
    release_handle(st, tp);
    queue_fin(st, tp, now);
    if (tp->state == SYNACK_FIN_WAIT_2)
        tp->t_2msl = now + (synack_time_t)st->tun.fin_timeout * SYNACK_SEC;
    st->cause = NULL;
    tcb_timer_sync(st, tp);
}

tcb *tcp_usr_accept(synack_stack *st, tcb *lp)
{
    (void)st;
    tcb *tp = lp->aq_head;
    if (!tp)
        return NULL;
    lp->aq_head = tp->aq_next;
    if (!lp->aq_head)
        lp->aq_tail = NULL;
    lp->aq_len--;
    tp->in_aq = false;
    tp->aq_next = NULL;
    tp->listener = NULL;
    return tp;
}
