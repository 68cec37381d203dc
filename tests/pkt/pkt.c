/* Packet-level test harness; see pkt.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pkt.h"

static const uint8_t local_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t remote_mac[6] = {0x02, 0, 0, 0, 0, 0x02};

static void capture(void *ctx, const uint8_t *f, size_t len, synack_time_t now)
{
    pkt_env *e = ctx;
    wire_eth eh;
    wire_ipv4 ih;
    if (wire_eth_parse(f, len, &eh) < 0 || eh.type != WIRE_ETHERTYPE_IPV4) {
        e->nonip_frames++;
        return;
    }
    if (wire_ipv4_parse(f + 14, len - 14, &ih) < 0)
        fail_msg("stack sent an invalid IPv4 packet");
    /* never more than the link's MTU (options included: SACK blocks on a
     * full-sized data segment must not push it over) */
    if (ih.total_len > e->mtu)
        fail_msg("stack sent a %u-byte IP packet on a %u-byte MTU",
                 ih.total_len, e->mtu);
    if (ih.proto != WIRE_IPPROTO_TCP) {
        e->nonip_frames++;
        return;
    }
    if (e->qtail - e->qhead >= PKT_MAXSEGS)
        fail_msg("harness queue full: test never popped segments");
    pkt_seg *s = &e->q[e->qtail++ % PKT_MAXSEGS];
    const uint8_t *tcp = f + 14 + ih.hlen;
    size_t tlen = (size_t)ih.total_len - ih.hlen;
    if (wire_tcp_parse(tcp, tlen, ih.src, ih.dst, &s->th) < 0)
        fail_msg("stack sent a TCP segment that does not parse");
    s->t = now;
    s->len = (uint32_t)(tlen - s->th.hlen);
    if (s->len > PKT_MAXDATA)
        fail_msg("segment larger than the harness buffer");
    memcpy(s->data, tcp + s->th.hlen, s->len);
}

/* Edge coverage (docs/state-transitions.md): when SYNACK_EDGE_LOG names a
 * file, every traced state change is appended to it as
 * "FROM<TAB>TO<TAB>CAUSE" lines; the file is emptied by the first change of
 * this process, and `synack states --coverage` matches the lines against
 * the core's transition table. */
static void edge_log(const synack_trace_event *ev)
{
    static bool started;
    const char *path = getenv("SYNACK_EDGE_LOG");
    if (!path || !*path)
        return;
    FILE *f = fopen(path, started ? "a" : "w");
    if (!f)
        fail_msg("SYNACK_EDGE_LOG %s: cannot open", path);
    started = true;
    fprintf(f, "%s\t%s\t%s\n", synack_state_name(ev->old_state),
            synack_state_name(ev->new_state), ev->cause ? ev->cause : "");
    fclose(f);
}

static void trace(void *ctx, const synack_trace_event *ev)
{
    if (ev->kind == SYNACK_TRACE_STATE)
        edge_log(ev);
    pkt_env *e = ctx;
    if (ev->kind != SYNACK_TRACE_STATE || e->nev >= 256)
        return;
    pkt_state_ev *p = &e->ev[e->nev++];
    p->t = ev->now;
    p->conn_id = ev->conn_id;
    p->from = ev->old_state;
    p->to = ev->new_state;
    snprintf(p->cause, sizeof(p->cause), "%s", ev->cause ? ev->cause : "");
    if (!synack_state_edge_legal(ev->old_state, ev->new_state))
        fail_msg("illegal transition %s -> %s (%s)",
                 synack_state_name(ev->old_state),
                 synack_state_name(ev->new_state), p->cause);
}

void pkt_sysctl(pkt_env *e, const char *name, const char *value)
{
    int r = synack_sysctl_set(e->st, name, value);
    if (r != 0)
        fail_msg("sysctl %s=%s: %s", name, value, synack_strerror(r));
}

void pkt_setup(pkt_env *e, const char *const *sysctls)
{
    memset(e, 0, sizeof(*e));
    e->q = calloc(PKT_MAXSEGS, sizeof(pkt_seg));
    assert_non_null(e->q);
    synack_stack_config cfg;
    synack_stack_config_init(&cfg);
    memcpy(cfg.mac, local_mac, 6);
    cfg.ip = PKT_LOCAL_IP;
    cfg.prefix_len = 24;
    cfg.seed = 42;
    for (int i = 0; i < 16; i++)
        cfg.isn_secret[i] = (uint8_t)(i * 17 + 3);
    cfg.output = capture;
    cfg.output_ctx = e;
    e->mtu = cfg.mtu;
    assert_int_equal(synack_stack_new(&cfg, &e->st), 0);
    synack_set_trace(e->st, trace, e);
    synack_stack_stats s;
    synack_stack_get_stats(e->st, &s);
    e->mem_base = s.mem_used;
    assert_int_equal(synack_arp_add(e->st, PKT_REMOTE_IP, remote_mac, 0), 0);
    for (size_t i = 0; sysctls && sysctls[i]; i++) {
        char name[64];
        const char *eq = strchr(sysctls[i], '=');
        assert_non_null(eq);
        snprintf(name, sizeof(name), "%.*s", (int)(eq - sysctls[i]),
                 sysctls[i]);
        pkt_sysctl(e, name, eq + 1);
    }
    e->rport = PKT_REMOTE_PORT;
    e->lport = PKT_LOCAL_PORT;
}

/* The stack's internal invariants (synack_stack_check) after every step. */
static void pkt_check(pkt_env *e)
{
    char msg[256];
    if (synack_stack_check(e->st, msg, sizeof msg))
        fail_msg("invariant broken at t=%.6f: %s", (double)e->now / 1e9, msg);
}

void pkt_teardown(pkt_env *e, bool check_mem)
{
    if (check_mem) {
        synack_stack_stats s;
        synack_stack_get_stats(e->st, &s);
        if (synack_stack_conn_count(e->st) != 0)
            fail_msg("%zu connection(s) still alive at teardown",
                     synack_stack_conn_count(e->st));
        if (s.mem_used != e->mem_base)
            fail_msg("memory held at teardown: %llu bytes, expected %llu",
                     (unsigned long long)s.mem_used,
                     (unsigned long long)e->mem_base);
        assert_int_equal(s.illegal_transitions, 0);
    }
    pkt_check(e);
    {
        synack_stack_stats s;
        synack_stack_get_stats(e->st, &s);
        if (s.timer_misfires)
            fail_msg("%llu timer(s) fired in a state where they have no "
                     "meaning",
                     (unsigned long long)s.timer_misfires);
    }
    synack_stack_del(e->st);
    free(e->q);
    e->q = NULL;
}

void pkt_run_until(pkt_env *e, synack_time_t t)
{
    for (;;) {
        synack_time_t d = synack_stack_next_deadline(e->st);
        if (d > t)
            break;
        if (d > e->now)
            e->now = d;
        synack_stack_advance(e->st, e->now);
        pkt_check(e);
    }
    if (t > e->now)
        e->now = t;
    synack_stack_advance(e->st, e->now);
    pkt_check(e);
}

void pkt_run_for(pkt_env *e, synack_time_t dt)
{
    pkt_run_until(e, e->now + dt);
}

size_t pkt_build(pkt_env *e, uint8_t *buf, const wire_tcp *th,
                 const void *data, size_t len)
{
    (void)e;
    wire_eth eh;
    memcpy(eh.dst, local_mac, 6);
    memcpy(eh.src, remote_mac, 6);
    eh.type = WIRE_ETHERTYPE_IPV4;
    size_t n = wire_eth_emit(buf, &eh);
    uint8_t *tcp = buf + n + WIRE_IPV4_HLEN;
    size_t hl = wire_tcp_emit(tcp, th);
    if (len)
        memcpy(tcp + hl, data, len);
    wire_tcp_set_csum(tcp, hl + len, PKT_REMOTE_IP, PKT_LOCAL_IP);
    wire_ipv4 ih = {.hlen = 20,
                    .total_len = (uint16_t)(20 + hl + len),
                    .id = 1,
                    .frag = WIRE_IP_DF,
                    .ttl = 64,
                    .proto = WIRE_IPPROTO_TCP,
                    .src = PKT_REMOTE_IP,
                    .dst = PKT_LOCAL_IP};
    wire_ipv4_emit(buf + n, &ih);
    return n + 20 + hl + len;
}

void pkt_inject_frame(pkt_env *e, const uint8_t *frame, size_t len)
{
    synack_stack_input(e->st, frame, len, e->now);
    pkt_check(e);
}

void pkt_inject_th(pkt_env *e, const wire_tcp *th, const void *data,
                   size_t len)
{
    static uint8_t buf[PKT_MAXDATA + 128];
    size_t n = pkt_build(e, buf, th, data, len);
    pkt_inject_frame(e, buf, n);
}

void pkt_inject(pkt_env *e, uint8_t flags, uint32_t seq, uint32_t ack,
                uint16_t wnd, const void *data, size_t len)
{
    wire_tcp th;
    memset(&th, 0, sizeof(th));
    th.sport = e->rport;
    th.dport = e->lport;
    th.seq = seq;
    th.ack = ack;
    th.flags = flags;
    th.wnd = wnd;
    pkt_inject_th(e, &th, data, len);
}

bool pkt_pop(pkt_env *e, pkt_seg *out)
{
    if (e->qhead == e->qtail) {
        /* callers fail the test here, but cmocka's fail_msg is not
         * noreturn: leave the header defined for the optimiser */
        if (out) {
            memset(&out->th, 0, sizeof(out->th));
            out->len = 0;
            out->t = 0;
        }
        return false;
    }
    if (out)
        *out = e->q[e->qhead % PKT_MAXSEGS];
    e->qhead++;
    return true;
}

size_t pkt_pending(const pkt_env *e)
{
    return e->qtail - e->qhead;
}

static void seg_str(char *b, size_t n, uint8_t flags, uint32_t seq,
                    uint32_t ack, uint32_t len)
{
    char f[32];
    snprintf(b, n, "<SEQ=%u><ACK=%u><CTL=%s><LEN=%u>", seq, ack,
             synack_flags_str(flags, f, sizeof(f)), len);
}

const pkt_seg *pkt_expect(pkt_env *e, uint8_t flags, uint32_t seq,
                          uint32_t ack, uint32_t len)
{
    char want[96], got[96];
    seg_str(want, sizeof(want), flags, seq, ack, len);
    if (e->qhead == e->qtail)
        fail_msg("expected %s at t=%.6f, but nothing was sent", want,
                 (double)e->now / 1e9);
    const pkt_seg *s = &e->q[e->qhead % PKT_MAXSEGS];
    e->qhead++;
    /* PSH is the sender's business: compare without it */
    uint8_t gf = s->th.flags & (uint8_t)~SYNACK_TH_PSH;
    uint8_t wf = flags & (uint8_t)~SYNACK_TH_PSH;
    uint32_t gack = (s->th.flags & SYNACK_TH_ACK) ? s->th.ack : ack;
    if ((flags & SYNACK_TH_ACK) == 0)
        gack = ack;
    seg_str(got, sizeof(got), s->th.flags, s->th.seq, s->th.ack, s->len);
    if (gf != wf || s->th.seq != seq || gack != ack || s->len != len)
        fail_msg("expected %s\n      got %s (sent at t=%.6f)", want, got,
                 (double)s->t / 1e9);
    return s;
}

void pkt_expect_none(pkt_env *e)
{
    if (e->qhead != e->qtail) {
        const pkt_seg *s = &e->q[e->qhead % PKT_MAXSEGS];
        char got[96];
        seg_str(got, sizeof(got), s->th.flags, s->th.seq, s->th.ack, s->len);
        fail_msg("expected nothing, got %s (sent at t=%.6f)", got,
                 (double)s->t / 1e9);
    }
}

int pkt_state(pkt_env *e, int s)
{
    synack_conn_info ci;
    if (synack_conn_get(e->st, s, &ci) < 0)
        return SYNACK_CLOSED;
    return ci.state;
}

int pkt_conn_state(pkt_env *e)
{
    synack_conn_info ci[64];
    size_t n = synack_conn_list(e->st, ci, 64);
    int found = SYNACK_CLOSED;
    for (size_t i = 0; i < n && i < 64; i++)
        if (ci[i].state != SYNACK_LISTEN)
            found = ci[i].state;
    return found;
}

bool pkt_saw(const pkt_env *e, int from, int to)
{
    for (size_t i = 0; i < e->nev; i++)
        if (e->ev[i].from == from && e->ev[i].to == to)
            return true;
    return false;
}

const char *pkt_cause(const pkt_env *e, int to)
{
    for (size_t i = e->nev; i > 0; i--)
        if (e->ev[i - 1].to == to)
            return e->ev[i - 1].cause;
    return NULL;
}

int pkt_listen(pkt_env *e, int backlog)
{
    int s = synack_socket(e->st);
    assert_true(s >= 0);
    synack_addr a = {PKT_LOCAL_IP, e->lport};
    assert_int_equal(synack_bind(e->st, s, &a), 0);
    assert_int_equal(synack_listen(e->st, s, backlog), 0);
    return s;
}

static void fill_opts(wire_tcp *th, const pkt_peer_opts *o)
{
    th->wnd = 65535;
    if (!o)
        return;
    if (o->wnd)
        th->wnd = o->wnd;
    if (o->mss) {
        th->has_mss = 1;
        th->mss = o->mss;
    }
    if (o->ws >= 0) {
        th->has_ws = 1;
        th->ws = (uint8_t)o->ws;
    }
    if (o->ts) {
        th->has_ts = 1;
        th->tsval = o->tsval;
    }
    th->has_sackok = o->sack;
}

int pkt_open_passive(pkt_env *e, int *lh, const pkt_peer_opts *opts)
{
    return pkt_open_passive_rtt(e, lh, 0, opts);
}

int pkt_open_active(pkt_env *e, const pkt_peer_opts *opts)
{
    return pkt_open_active_rtt(e, 0, opts);
}

uint32_t pkt_drive_to(pkt_env *e, int s, int target, bool orphan)
{
    const uint8_t A = SYNACK_TH_ACK, F = SYNACK_TH_FIN;
    uint32_t r = PKT_RISN + 1;
    uint32_t l = e->iss + 1;
    switch (target) {
    case SYNACK_CLOSE_WAIT:
    case SYNACK_LAST_ACK:
        pkt_inject(e, F | A, r, l, 65535, NULL, 0);
        r++;
        pkt_expect(e, A, l, r, 0);
        assert_int_equal(pkt_state(e, s), SYNACK_CLOSE_WAIT);
        if (target == SYNACK_CLOSE_WAIT)
            return r;
        if (orphan)
            assert_int_equal(synack_close(e->st, s, e->now), 0);
        else
            assert_int_equal(synack_shutdown(e->st, s, SYNACK_SHUT_WR, e->now),
                             0);
        pkt_expect(e, F | A, l, r, 0);
        assert_int_equal(pkt_conn_state(e), SYNACK_LAST_ACK);
        return r;
    default:
        break;
    }
    /* active close first */
    if (orphan)
        assert_int_equal(synack_close(e->st, s, e->now), 0);
    else
        assert_int_equal(synack_shutdown(e->st, s, SYNACK_SHUT_WR, e->now), 0);
    pkt_expect(e, F | A, l, r, 0);
    assert_int_equal(pkt_conn_state(e), SYNACK_FIN_WAIT_1);
    if (target == SYNACK_FIN_WAIT_1)
        return r;
    if (target == SYNACK_CLOSING) {
        pkt_inject(e, F | A, r, l, 65535, NULL, 0); /* FIN, not acking ours */
        r++;
        pkt_expect(e, A, l + 1, r, 0);
        assert_int_equal(pkt_conn_state(e), SYNACK_CLOSING);
        return r;
    }
    pkt_inject(e, A, r, l + 1, 65535, NULL, 0);
    pkt_expect_none(e);
    assert_int_equal(pkt_conn_state(e), SYNACK_FIN_WAIT_2);
    if (target == SYNACK_FIN_WAIT_2)
        return r;
    pkt_inject(e, F | A, r, l + 1, 65535, NULL, 0);
    r++;
    pkt_expect(e, A, l + 1, r, 0);
    assert_int_equal(pkt_conn_state(e), SYNACK_TIME_WAIT);
    return r;
}

/* ---- helpers added for the state-diagram tests (test_state_*.c) ---- */

int pkt_so_error(pkt_env *e, int s)
{
    int v = -1;
    size_t len = sizeof(v);
    int r = synack_getsockopt(e->st, s, SYNACK_SO_ERROR, &v, &len);
    if (r != 0)
        fail_msg("getsockopt(SO_ERROR): %s", synack_strerror(r));
    return v;
}

uint64_t pkt_drops(pkt_env *e, int reason)
{
    synack_stack_stats s;
    synack_stack_get_stats(e->st, &s);
    return s.drops[reason];
}

/* Connect (SO_SNDBUF first when sndbuf > 0) and pop the bare SYN. */
static int connect_syn(pkt_env *e, int sndbuf, pkt_seg *syn)
{
    int s = synack_socket(e->st);
    assert_true(s >= 0);
    if (sndbuf > 0)
        pkt_setopt_int(e, s, SYNACK_SO_SNDBUF, sndbuf);
    synack_addr la = {0, e->lport};
    assert_int_equal(synack_bind(e->st, s, &la), 0);
    synack_addr ra = {PKT_REMOTE_IP, e->rport};
    assert_int_equal(synack_connect(e->st, s, &ra, e->now),
                     -SYNACK_EINPROGRESS);
    if (!pkt_pop(e, syn))
        fail_msg("connect did not send anything");
    if (syn->th.flags != SYNACK_TH_SYN || syn->len != 0)
        fail_msg("connect sent flags %#x len %u, expected a bare SYN",
                 syn->th.flags, syn->len);
    e->iss = syn->th.seq;
    assert_int_equal(pkt_state(e, s), SYNACK_SYN_SENT);
    return s;
}

int pkt_connect_syn(pkt_env *e)
{
    pkt_seg syn;
    return connect_syn(e, 0, &syn);
}

void pkt_inject_syn(pkt_env *e, const pkt_peer_opts *o)
{
    pkt_peer_opts none = {.ws = -1};
    wire_tcp th;
    memset(&th, 0, sizeof(th));
    th.sport = e->rport;
    th.dport = e->lport;
    th.seq = PKT_RISN;
    th.flags = SYNACK_TH_SYN;
    fill_opts(&th, o ? o : &none);
    pkt_inject_th(e, &th, NULL, 0);
}

static void peer_header(pkt_env *e, wire_tcp *th, uint8_t flags,
                        uint32_t seq, uint32_t ack, uint16_t wnd)
{
    memset(th, 0, sizeof(*th));
    th->sport = e->rport;
    th->dport = e->lport;
    th->seq = seq;
    th->ack = ack;
    th->flags = flags;
    th->wnd = wnd;
}

void pkt_inject_ts(pkt_env *e, uint8_t flags, uint32_t seq, uint32_t ack,
                   uint16_t wnd, uint32_t tsval, uint32_t tsecr,
                   const void *data, size_t len)
{
    wire_tcp th;
    peer_header(e, &th, flags, seq, ack, wnd);
    th.has_ts = 1;
    th.tsval = tsval;
    th.tsecr = tsecr;
    pkt_inject_th(e, &th, data, len);
}

void pkt_inject_sack(pkt_env *e, uint32_t seq, uint32_t ack,
                     const uint32_t *blocks, unsigned n)
{
    wire_tcp th;
    peer_header(e, &th, SYNACK_TH_ACK, seq, ack, 65535);
    th.nsack = (uint8_t)(n < WIRE_TCP_MAX_SACK ? n : WIRE_TCP_MAX_SACK);
    for (unsigned i = 0; i < th.nsack; i++) {
        th.sack[i].start = blocks[2 * i];
        th.sack[i].end = blocks[2 * i + 1];
    }
    pkt_inject_th(e, &th, NULL, 0);
}

synack_time_t pkt_saw_time(const pkt_env *e, int from, int to)
{
    for (size_t i = e->nev; i > 0; i--)
        if (e->ev[i - 1].from == from && e->ev[i - 1].to == to)
            return e->ev[i - 1].t;
    fail_msg("no transition %s -> %s was traced", synack_state_name(from),
             synack_state_name(to));
    return 0;
}

/* ---- helpers added for the timer tests (test_timer_*.c) ---- */

const pkt_seg *pkt_expect_at(pkt_env *e, synack_time_t t, uint8_t flags,
                             uint32_t seq, uint32_t ack, uint32_t len)
{
    const pkt_seg *s = pkt_expect(e, flags, seq, ack, len);
    if (s->t != t) {
        char f[32];
        fail_msg("<SEQ=%u><CTL=%s><LEN=%u> sent at t=%.9f, expected "
                 "t=%.9f",
                 s->th.seq, synack_flags_str(s->th.flags, f, sizeof(f)),
                 s->len, (double)s->t / 1e9, (double)t / 1e9);
    }
    return s;
}

int pkt_open_active_rtt(pkt_env *e, synack_time_t rtt,
                        const pkt_peer_opts *opts)
{
    pkt_peer_opts none = {.ws = -1};
    if (!opts)
        opts = &none;
    pkt_seg syn;
    int s = connect_syn(e, opts->sndbuf, &syn);
    if (rtt) {
        pkt_run_for(e, rtt);
        pkt_expect_none(e);
    }
    wire_tcp th;
    memset(&th, 0, sizeof(th));
    th.sport = e->rport;
    th.dport = e->lport;
    th.seq = PKT_RISN;
    th.ack = e->iss + 1;
    th.flags = SYNACK_TH_SYN | SYNACK_TH_ACK;
    fill_opts(&th, opts);
    if (opts->ts && syn.th.has_ts)
        th.tsecr = syn.th.tsval;
    pkt_inject_th(e, &th, NULL, 0);
    pkt_expect(e, SYNACK_TH_ACK, e->iss + 1, PKT_RISN + 1, 0);
    assert_int_equal(pkt_state(e, s), SYNACK_ESTABLISHED);
    return s;
}

int pkt_open_passive_rtt(pkt_env *e, int *lh, synack_time_t rtt,
                         const pkt_peer_opts *opts)
{
    pkt_peer_opts none = {.ws = -1};
    if (!opts)
        opts = &none;
    int l = pkt_listen(e, 16);
    wire_tcp th;
    memset(&th, 0, sizeof(th));
    th.sport = e->rport;
    th.dport = e->lport;
    th.seq = PKT_RISN;
    th.flags = SYNACK_TH_SYN;
    fill_opts(&th, opts);
    pkt_inject_th(e, &th, NULL, 0);
    pkt_seg s;
    if (!pkt_pop(e, &s))
        fail_msg("no SYN,ACK in reply to a SYN");
    if (s.th.flags != (SYNACK_TH_SYN | SYNACK_TH_ACK) ||
        s.th.ack != PKT_RISN + 1)
        fail_msg("expected SYN,ACK acking %u, got flags %#x ack %u",
                 PKT_RISN + 1, s.th.flags, s.th.ack);
    e->iss = s.th.seq;
    if (rtt) {
        pkt_run_for(e, rtt);
        pkt_expect_none(e);
    }
    memset(&th, 0, sizeof(th));
    th.sport = e->rport;
    th.dport = e->lport;
    th.seq = PKT_RISN + 1;
    th.ack = e->iss + 1;
    th.flags = SYNACK_TH_ACK;
    th.wnd = opts->wnd ? opts->wnd : 65535;
    if (opts->ts && s.th.has_ts) {
        th.has_ts = 1;
        th.tsval = opts->tsval + 1;
        th.tsecr = s.th.tsval;
    }
    pkt_inject_th(e, &th, NULL, 0);
    synack_addr peer;
    int c = synack_accept(e->st, l, &peer);
    if (c < 0)
        fail_msg("accept: %s", synack_strerror(c));
    assert_int_equal(peer.ip, PKT_REMOTE_IP);
    assert_int_equal(peer.port, e->rport);
    assert_int_equal(pkt_state(e, c), SYNACK_ESTABLISHED);
    if (lh)
        *lh = l;
    return c;
}

synack_conn_info pkt_info(pkt_env *e, int s)
{
    synack_conn_info ci;
    int r = synack_conn_get(e->st, s, &ci);
    if (r != 0)
        fail_msg("synack_conn_get(%d): %s", s, synack_strerror(r));
    return ci;
}

void pkt_setopt_int(pkt_env *e, int s, int opt, int v)
{
    int r = synack_setsockopt(e->st, s, opt, &v, sizeof(v));
    if (r != 0)
        fail_msg("setsockopt(%d, %d): %s", opt, v, synack_strerror(r));
}
