/*
 * Tunables with the Linux sysctl names, meanings and defaults.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

typedef struct tunable_desc {
    const char *name;
    size_t off;   /* offsetof(tunables, field) */
    int count;    /* 1 or 3 (min default max vectors) */
    long min, max;
    const char *help;
} tunable_desc;

#define T(f) offsetof(tunables, f)
static const tunable_desc table[] = {
    {"tcp_syn_retries", T(syn_retries), 1, 1, 127,
     "SYN retransmissions before connect() fails (default 6)"},
    {"tcp_synack_retries", T(synack_retries), 1, 1, 255,
     "SYN-ACK retransmissions before a half-open connection is dropped "
     "(default 5)"},
    {"tcp_retries1", T(retries1), 1, 1, 255,
     "retransmissions before the route/ARP entry is re-confirmed (default "
     "3)"},
    {"tcp_retries2", T(retries2), 1, 1, 255,
     "data retransmissions before the connection is aborted with ETIMEDOUT "
     "(default 15)"},
    {"tcp_fin_timeout", T(fin_timeout), 1, 1, 86400,
     "seconds an orphaned connection stays in FIN-WAIT-2 (default 60)"},
    {"tcp_timewait_len", T(timewait_len), 1, 1, 86400,
     "seconds in TIME-WAIT, 2*MSL (Linux: TCP_TIMEWAIT_LEN, fixed at 60)"},
    {"tcp_keepalive_time", T(keepalive_time), 1, 1, 32767,
     "idle seconds before the first keepalive probe (default 7200)"},
    {"tcp_keepalive_intvl", T(keepalive_intvl), 1, 1, 32767,
     "seconds between keepalive probes (default 75)"},
    {"tcp_keepalive_probes", T(keepalive_probes), 1, 1, 127,
     "unanswered probes before the connection is reset (default 9)"},
    {"tcp_rmem", T(rmem), 3, 2048, 1 << 30,
     "receive buffer min default max in bytes (default 4096 131072 "
     "6291456)"},
    {"tcp_wmem", T(wmem), 3, 2048, 1 << 30,
     "send buffer min default max in bytes (default 4096 16384 4194304)"},
    {"tcp_window_scaling", T(window_scaling), 1, 0, 1,
     "RFC 7323 window scaling (default 1)"},
    {"tcp_timestamps", T(timestamps), 1, 0, 1,
     "RFC 7323 timestamps and PAWS (default 1)"},
    {"tcp_max_syn_backlog", T(max_syn_backlog), 1, 1, 1 << 20,
     "half-open connections per listener (default 128)"},
    {"tcp_rfc1337", T(rfc1337), 1, 0, 1,
     "1: ignore RST in TIME-WAIT (RFC 1337); 0: RST ends TIME-WAIT as RFC "
     "9293 says (default 0, as Linux)"},
    {"tcp_challenge_ack_limit", T(challenge_ack_limit), 1, 0, 1 << 30,
     "RFC 5961 challenge ACKs per second, whole stack (default 1000)"},
    {"tcp_syncookies", T(syncookies), 1, 0, 2,
     "SYN cookies: 0 off, 1 when a listener's SYN queue is full, 2 always "
     "(default 1, as Linux)"},
    {"tcp_invalid_ratelimit", T(invalid_ratelimit_ms), 1, 0, 3600000,
     "milliseconds between ACKs sent to unacceptable segments without data "
     "(out of window, bad ACK, PAWS) on one connection; 0 no limit "
     "(default 500, as Linux)"},
    {"tcp_rto_min_us", T(rto_min_us), 1, 1000, 2000000000,
     "minimum retransmission timeout in microseconds (default 200000)"},
    {"tcp_rto_max_ms", T(rto_max_ms), 1, 100, 3600000,
     "maximum retransmission timeout in milliseconds (default 120000)"},
    {"tcp_rto_initial_ms", T(rto_initial_ms), 1, 10, 3600000,
     "initial retransmission timeout in milliseconds (default 1000, RFC "
     "6298)"},
    {"tcp_delack_ms", T(delack_ms), 1, 1, 499,
     "delayed-ACK timeout in milliseconds (default 40; RFC 1122 caps it "
     "below 500)"},
    {"tcp_sack", T(sack), 1, 0, 1,
     "RFC 2018 selective acknowledgments, offered and used (default 1)"},
    {"tcp_dsack", T(dsack), 1, 0, 1,
     "RFC 2883 duplicate SACKs sent for duplicate data (default 1)"},
    {"tcp_recovery", T(recovery), 1, 0, 1,
     "1: RACK time-based loss detection (RFC 8985, default, as Linux); 0: "
     "RFC 6675 DupThresh"},
    {"tcp_early_retrans", T(early_retrans), 1, 0, 4,
     "3 or 4: tail loss probes (RFC 8985 TLP, default 3, as Linux); 0: "
     "off"},
    {"tcp_reordering", T(reordering), 1, 1, 300,
     "initial reordering degree: duplicate ACKs or SACKed segments before "
     "a segment is deemed lost without RACK (DupThresh, default 3)"},
    {"tcp_fast_path", T(fast_path), 1, 0, 1,
     "header prediction for in-order data and pure ACKs (Van Jacobson's "
     "fast path, default 1; 0 sends every segment through the full "
     "RFC 9293 checks, for comparison)"},
    {"tcp_congestion_control", T(cc_name), 0, 0, 0,
     "congestion control of new connections: cubic (RFC 9438, default), "
     "reno (NewReno, RFC 5681/6582; both recover with PRR, RFC 6937) or bbr "
     "(BBR v1: a model of bandwidth and RTT, paced, no cut on random loss)"},
    {"tcp_pacing", T(pacing), 1, 0, 1,
     "pace the segments of connections whose congestion control sets a "
     "rate (bbr): 1 (default) or 0 (send as cwnd allows, for comparison)"},
    {"tcp_sndbuf_auto", T(sndbuf_auto), 1, 0, 1,
     "send-buffer autotuning: a connection without SO_SNDBUF whose send "
     "buffer fills grows it to twice the window in flight, up to "
     "tcp_wmem's maximum (1, default, as Linux); 0: tcp_wmem's default "
     "stays"},
};
#undef T
#define NTUNABLES (sizeof(table) / sizeof(table[0]))

void tunables_default(tunables *t)
{
    memset(t, 0, sizeof(*t));
    t->syn_retries = 6;
    t->synack_retries = 5;
    t->retries1 = 3;
    t->retries2 = 15;
    t->fin_timeout = 60;
    t->timewait_len = 60;
    t->keepalive_time = 7200;
    t->keepalive_intvl = 75;
    t->keepalive_probes = 9;
    t->rmem[0] = 4096;
    t->rmem[1] = 131072;
    t->rmem[2] = 6291456;
    t->wmem[0] = 4096;
    t->wmem[1] = 16384;
    t->wmem[2] = 4194304;
    t->window_scaling = 1;
    t->timestamps = 1;
    t->max_syn_backlog = 128;
    t->rfc1337 = 0;
    t->challenge_ack_limit = 1000;
    t->syncookies = 1;
    t->invalid_ratelimit_ms = 500;
    t->rto_min_us = 200000;
    t->rto_max_ms = 120000;
    t->rto_initial_ms = 1000;
    t->delack_ms = 40;
    t->sack = 1;
    t->dsack = 1;
    t->recovery = 1;
    t->early_retrans = 3;
    t->reordering = 3;
    t->fast_path = 1;
    t->sndbuf_auto = 1;
    t->pacing = 1;
    memcpy(t->cc_name, "cubic", 6);
}

static const tunable_desc *find(const char *name)
{
    if (!name)
        return NULL;
    if (strncmp(name, "net.ipv4.", 9) == 0)
        name += 9;
    else if (strncmp(name, "net/ipv4/", 9) == 0)
        name += 9;
    for (size_t i = 0; i < NTUNABLES; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

const char *synack_sysctl_name(size_t i)
{
    return i < NTUNABLES ? table[i].name : NULL;
}

const char *synack_sysctl_help(const char *name)
{
    const tunable_desc *d = find(name);
    return d ? d->help : NULL;
}

int synack_sysctl_set(synack_stack *st, const char *name, const char *value)
{
    const tunable_desc *d = find(name);
    if (!d)
        return -SYNACK_ENOENT;
    if (!value)
        return -SYNACK_EINVAL;
    if (d->count == 0) { /* a name: the congestion-control module */
        char cc_name[sizeof(st->tun.cc_name)];
        size_t n = strcspn(value, " \t\n");
        if (n == 0 || n >= sizeof(cc_name) ||
            value[n + strspn(value + n, " \t\n")])
            return -SYNACK_EINVAL;
        memcpy(cc_name, value, n);
        cc_name[n] = '\0';
        const tcp_cc_ops *cc = tcp_cc_find(cc_name);
        if (!cc)
            return -SYNACK_ENOENT;
        memset(st->tun.cc_name, 0, sizeof(st->tun.cc_name));
        memcpy(st->tun.cc_name, cc->name, strlen(cc->name));
        return 0;
    }
    long v[3];
    const char *p = value;
    for (int i = 0; i < d->count; i++) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            return -SYNACK_EINVAL;
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno == ERANGE)
            return end == p ? -SYNACK_EINVAL : -SYNACK_ERANGE;
        if (*end != '\0' && *end != ' ' && *end != '\t' && *end != '\n')
            return -SYNACK_EINVAL;
        if (x < d->min || x > d->max)
            return -SYNACK_ERANGE;
        v[i] = x;
        p = end;
    }
    while (*p == ' ' || *p == '\t' || *p == '\n')
        p++;
    if (*p != '\0')
        return -SYNACK_EINVAL;
    if (d->count == 3 && !(v[0] <= v[1] && v[1] <= v[2]))
        return -SYNACK_EINVAL;
    int *f = (int *)(void *)((char *)&st->tun + d->off);
    for (int i = 0; i < d->count; i++)
        f[i] = (int)v[i];
    return 0;
}

int synack_sysctl_get(const synack_stack *st, const char *name, char *buf,
                      size_t len)
{
    const tunable_desc *d = find(name);
    if (!d)
        return -SYNACK_ENOENT;
    if (d->count == 0) {
        size_t n = strlen(st->tun.cc_name);
        if (n + 1 > len)
            return -SYNACK_ENOBUFS;
        memcpy(buf, st->tun.cc_name, n + 1);
        return (int)n;
    }
    const int *f = (const int *)(const void *)((const char *)&st->tun + d->off);
    char tmp[64];
    size_t n = 0;
    for (int i = 0; i < d->count; i++) {
        char num[16];
        size_t k = 0;
        long x = f[i];
        bool neg = x < 0;
        unsigned long u = neg ? (unsigned long)(-x) : (unsigned long)x;
        do {
            num[k++] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (neg)
            num[k++] = '-';
        if (i)
            tmp[n++] = '\t';
        while (k)
            tmp[n++] = num[--k];
    }
    if (n + 1 > len)
        return -SYNACK_ENOBUFS;
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return (int)n;
}
