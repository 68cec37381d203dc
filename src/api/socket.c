/*
 * The socket-like API: handles map to TCP control blocks; argument checks
 * and option handling live here, protocol behaviour in src/core.
 */
#include <string.h>

#include "core/core.h"

static tcb *get(synack_stack *st, int s)
{
    if (!st || s < 0 || (uint32_t)s >= st->nhandles)
        return NULL;
    return st->handles[s];
}

/* The lowest free handle (as POSIX file descriptors). No handle below
 * st->handle_hint is free, so a million accepts do not each scan the
 * table from 0. */
static int free_handle(synack_stack *st)
{
    for (uint32_t i = st->handle_hint; i < st->nhandles; i++)
        if (!st->handles[i]) {
            st->handle_hint = i;
            return (int)i;
        }
    st->handle_hint = st->nhandles;
    return -1;
}

int synack_socket(synack_stack *st)
{
    int h = free_handle(st);
    if (h < 0)
        return -SYNACK_EMFILE;
    tcb *tp = tcb_new(st);
    if (!tp)
        return -SYNACK_ENOMEM;
    tp->handle = h;
    st->handles[h] = tp;
    return h;
}

int synack_bind(synack_stack *st, int s, const synack_addr *a)
{
    tcb *tp = get(st, s);
    if (!tp)
        return -SYNACK_EBADF;
    if (!a)
        return -SYNACK_EINVAL;
    if (tp->lport != 0 || tp->state != SYNACK_CLOSED)
        return -SYNACK_EINVAL;
    if (a->ip != 0 && a->ip != st->cfg.ip)
        return -SYNACK_EADDRNOTAVAIL;
    uint16_t port = a->port;
    if (port == 0) {
        port = tcp_ephemeral_port(st, a->ip, 0, 0);
        if (port == 0)
            return -SYNACK_EADDRINUSE;
    } else if (tcp_port_in_use(st, a->ip, port, tp->reuseaddr)) {
        return -SYNACK_EADDRINUSE;
    }
    tp->lip = a->ip;
    tcp_bind_port(st, tp, port);
    return 0;
}

int synack_listen(synack_stack *st, int s, int backlog)
{
    tcb *tp = get(st, s);
    if (!tp)
        return -SYNACK_EBADF;
    return tcp_usr_listen(st, tp, backlog);
}

int synack_accept(synack_stack *st, int s, synack_addr *peer)
{
    tcb *lp = get(st, s);
    if (!lp)
        return -SYNACK_EBADF;
    if (lp->state != SYNACK_LISTEN)
        return -SYNACK_EINVAL;
    if (!lp->aq_head)
        return -SYNACK_EAGAIN;
    int h = free_handle(st);
    if (h < 0)
        return -SYNACK_EMFILE;
    tcb *tp = tcp_usr_accept(st, lp);
    tp->handle = h;
    st->handles[h] = tp;
    if (peer)
        *peer = (synack_addr){tp->rip, tp->rport};
    lp->last_events = tcp_poll_events(lp);
    return h;
}

int synack_connect(synack_stack *st, int s, const synack_addr *a,
                   synack_time_t now)
{
    tcb *tp = get(st, s);
    if (!tp)
        return -SYNACK_EBADF;
    if (!a)
        return -SYNACK_EINVAL;
    now = stack_clock(st, now);
    return tcp_usr_connect(st, tp, a, now);
}

ssize_t synack_send(synack_stack *st, int s, const void *buf, size_t len,
                    synack_time_t now)
{
    tcb *tp = get(st, s);
    if (!tp)
        return -SYNACK_EBADF;
    if (!buf && len)
        return -SYNACK_EINVAL;
    now = stack_clock(st, now);
    ssize_t r = tcp_usr_send(st, tp, buf, len, now);
    tp->last_events = tcp_poll_events(tp);
    return r;
}

ssize_t synack_recv(synack_stack *st, int s, void *buf, size_t len,
                    synack_time_t now)
{
    tcb *tp = get(st, s);
    if (!tp)
        return -SYNACK_EBADF;
    if (!buf && len)
        return -SYNACK_EINVAL;
    now = stack_clock(st, now);
    ssize_t r = tcp_usr_recv(st, tp, buf, len, now);
    tp->last_events = tcp_poll_events(tp);
    return r;
}

int synack_shutdown(synack_stack *st, int s, int how, synack_time_t now)
{
    tcb *tp = get(st, s);
    if (!tp)
        return -SYNACK_EBADF;
    now = stack_clock(st, now);
    return tcp_usr_shutdown(st, tp, how, now);
}

int synack_close(synack_stack *st, int s, synack_time_t now)
{
    tcb *tp = get(st, s);
    if (!tp)
        return -SYNACK_EBADF;
    now = stack_clock(st, now);
    tcp_usr_close(st, tp, now);
    tcp_reap(st);
    return 0;
}

int synack_abort(synack_stack *st, int s, synack_time_t now)
{
    tcb *tp = get(st, s);
    if (!tp)
        return -SYNACK_EBADF;
    now = stack_clock(st, now);
    tcp_usr_abort(st, tp, now);
    return 0;
}

static int get_int(const void *val, size_t len, int *out)
{
    if (!val || len < sizeof(int))
        return -SYNACK_EINVAL;
    memcpy(out, val, sizeof(int));
    return 0;
}

int synack_setsockopt(synack_stack *st, int s, int opt, const void *val,
                      size_t len)
{
    tcb *tp = get(st, s);
    if (!tp)
        return -SYNACK_EBADF;
    if (opt == SYNACK_SO_LINGER) {
        struct synack_linger l;
        if (!val || len < sizeof(l))
            return -SYNACK_EINVAL;
        memcpy(&l, val, sizeof(l));
        if (l.l_linger < 0)
            return -SYNACK_EINVAL;
        tp->linger_on = l.l_onoff != 0;
        tp->linger_secs = l.l_linger;
        return 0;
    }
    if (opt == SYNACK_TCP_CONGESTION) {
        char name[16];
        if (!val || len == 0)
            return -SYNACK_EINVAL;
        size_t n = strnlen(val, len < sizeof(name) ? len : sizeof(name));
        if (n == 0 || n >= sizeof(name))
            return -SYNACK_EINVAL;
        memcpy(name, val, n);
        name[n] = '\0';
        const tcp_cc_ops *cc = tcp_cc_find(name);
        if (!cc)
            return -SYNACK_ENOENT;
        bool running = tp->cwnd != 0 && tp->cc != cc;
        tp->cc = cc;
        if (running) /* as Linux: the new module starts from here */
            cc->init(tp, st->now);
        return 0;
    }
    int v;
    if (get_int(val, len, &v) < 0)
        return -SYNACK_EINVAL;
    switch (opt) {
    case SYNACK_SO_REUSEADDR:
        tp->reuseaddr = v != 0;
        return 0;
    case SYNACK_SO_KEEPALIVE:
        tp->keepalive = v != 0;
        /* as Linux: the idle time runs from this call */
        if (tp->keepalive && tp->t_keep == SYNACK_TIME_NEVER &&
            tp->state != SYNACK_CLOSED && tp->state != SYNACK_LISTEN)
            tp->t_keep =
                st->now + (synack_time_t)tcp_keepidle(st, tp) * SYNACK_SEC;
        if (!tp->keepalive)
            tp->t_keep = SYNACK_TIME_NEVER;
        tcb_timer_sync(st, tp);
        return 0;
    case SYNACK_SO_RCVBUF:
    case SYNACK_SO_SNDBUF:
        if (v <= 0)
            return -SYNACK_EINVAL;
        if (tp->state != SYNACK_CLOSED && tp->state != SYNACK_LISTEN)
            return -SYNACK_EISCONN; /* buffers are fixed once connecting */
        if (opt == SYNACK_SO_RCVBUF)
            tp->rcvbuf = (uint32_t)v;
        else
            tp->sndbuf = (uint32_t)v;
        return 0;
    case SYNACK_SO_ERROR:
        return -SYNACK_ENOPROTOOPT;
    case SYNACK_TCP_NODELAY:
        tp->nodelay = v != 0;
        if (tp->nodelay)
            tcp_output(st, tp, st->now);
        tcb_timer_sync(st, tp);
        return 0;
    case SYNACK_TCP_MAXSEG:
        if (v < 88 || v > 65495)
            return -SYNACK_EINVAL;
        tp->user_mss = (uint16_t)v;
        return 0;
    case SYNACK_TCP_USER_TIMEOUT:
        if (v < 0)
            return -SYNACK_EINVAL;
        tp->user_timeout_ms = (uint32_t)v;
        return 0;
    case SYNACK_TCP_KEEPIDLE:
    case SYNACK_TCP_KEEPINTVL:
        if (v < 1 || v > 32767)
            return -SYNACK_EINVAL;
        if (opt == SYNACK_TCP_KEEPIDLE)
            tp->keepidle = v;
        else
            tp->keepintvl = v;
        if (tp->keepalive && opt == SYNACK_TCP_KEEPIDLE &&
            tp->keep_probes == 0 && tp->t_keep != SYNACK_TIME_NEVER)
            tp->t_keep = tp->last_rcv + (synack_time_t)v * SYNACK_SEC;
        tcb_timer_sync(st, tp);
        return 0;
    case SYNACK_TCP_KEEPCNT:
        if (v < 1 || v > 127)
            return -SYNACK_EINVAL;
        tp->keepcnt = v;
        return 0;
    default:
        return -SYNACK_ENOPROTOOPT;
    }
}

int synack_getsockopt(synack_stack *st, int s, int opt, void *val,
                      size_t *len)
{
    tcb *tp = get(st, s);
    if (!tp)
        return -SYNACK_EBADF;
    if (!val || !len)
        return -SYNACK_EINVAL;
    if (opt == SYNACK_SO_LINGER) {
        struct synack_linger l = {tp->linger_on, tp->linger_secs};
        if (*len < sizeof(l))
            return -SYNACK_EINVAL;
        memcpy(val, &l, sizeof(l));
        *len = sizeof(l);
        return 0;
    }
    if (opt == SYNACK_TCP_CONGESTION) {
        const char *name = tp->cc ? tp->cc->name : tcp_cc_default(st)->name;
        size_t n = strlen(name) + 1;
        if (*len < n)
            return -SYNACK_EINVAL;
        memcpy(val, name, n);
        *len = n;
        return 0;
    }
    if (*len < sizeof(int))
        return -SYNACK_EINVAL;
    int v;
    switch (opt) {
    case SYNACK_SO_REUSEADDR:
        v = tp->reuseaddr;
        break;
    case SYNACK_SO_KEEPALIVE:
        v = tp->keepalive;
        break;
    case SYNACK_SO_RCVBUF:
        v = (int)(tp->rx_size ? tp->rx_size
                              : (tp->rcvbuf ? tp->rcvbuf
                                            : (uint32_t)st->tun.rmem[1]));
        break;
    case SYNACK_SO_SNDBUF:
        v = (int)(tp->tx_size ? tp->tx_size
                              : (tp->sndbuf ? tp->sndbuf
                                            : (uint32_t)st->tun.wmem[1]));
        break;
    case SYNACK_SO_ERROR:
        v = tp->so_error;
        tp->so_error = 0;
        break;
    case SYNACK_TCP_NODELAY:
        v = tp->nodelay;
        break;
    case SYNACK_TCP_MAXSEG:
        v = tp->state >= SYNACK_ESTABLISHED ? tp->mss
                                             : (tp->user_mss ? tp->user_mss
                                                             : 536);
        break;
    case SYNACK_TCP_USER_TIMEOUT:
        v = (int)tp->user_timeout_ms;
        break;
    case SYNACK_TCP_KEEPIDLE:
        v = tcp_keepidle(st, tp);
        break;
    case SYNACK_TCP_KEEPINTVL:
        v = tcp_keepintvl(st, tp);
        break;
    case SYNACK_TCP_KEEPCNT:
        v = tcp_keepcnt(st, tp);
        break;
    default:
        return -SYNACK_ENOPROTOOPT;
    }
    memcpy(val, &v, sizeof(v));
    *len = sizeof(v);
    return 0;
}

int synack_getsockname(synack_stack *st, int s, synack_addr *out)
{
    tcb *tp = get(st, s);
    if (!tp)
        return -SYNACK_EBADF;
    if (!out)
        return -SYNACK_EINVAL;
    *out = (synack_addr){tp->lip, tp->lport};
    return 0;
}

int synack_getpeername(synack_stack *st, int s, synack_addr *out)
{
    tcb *tp = get(st, s);
    if (!tp)
        return -SYNACK_EBADF;
    if (!out)
        return -SYNACK_EINVAL;
    if (tp->rport == 0 || tp->state == SYNACK_LISTEN)
        return -SYNACK_ENOTCONN;
    *out = (synack_addr){tp->rip, tp->rport};
    return 0;
}

unsigned synack_poll(synack_stack *st, int s)
{
    tcb *tp = get(st, s);
    return tp ? tcp_poll_events(tp) : 0;
}
