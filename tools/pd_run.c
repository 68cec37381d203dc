/*
 * `synack packetdrill [--tolerance_usecs N] [--verbose] SCRIPT.pkt...`
 *
 * Runs each script against a fresh synack stack on virtual time. The stack
 * is 192.168.0.1 (port 8080 for bind), the script's peer 192.0.2.1 (port
 * 8080 for connect), with a static ARP entry. Conventions follow
 * packetdrill: injected segments carry the sequence numbers as written;
 * the stack's segments are shown and matched with SEQ relative to its ISN
 * and ACK as written; the ACK of an injected segment is relative to the
 * stack's ISN. See docs/packetdrill.md.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <synack/synack.h>

#include "pd.h"
#include "tool.h"

#define PD_LOCAL_IP 0xc0a80001u  /* 192.168.0.1 */
#define PD_REMOTE_IP 0xc0000201u /* 192.0.2.1 */
#define PD_PORT 8080
#define PD_REMOTE_PORT 40000
#define PD_MAXFD 256
#define PD_MAXQ 1024
#define PD_DEFAULT_TOL_US 4000

/* Linux values, as scripts write them */
#define L_O_RDWR 02
#define L_O_NONBLOCK 04000
#define L_POLLIN 0x001
#define L_POLLOUT 0x004
#define L_POLLERR 0x008
#define L_POLLHUP 0x010
#define L_POLLRDHUP 0x2000

static const uint8_t local_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t remote_mac[6] = {0x02, 0, 0, 0, 0, 0x02};

struct out_seg {
    synack_time_t t;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t win;
    uint32_t len;
    uint8_t opt[40];
    size_t optlen;
};

struct pending {
    int active;
    const struct pd_event *ev;
    int64_t start_us;
    int64_t end_us; /* expected completion */
    int64_t deadline_us; /* poll timeout, or -1 */
    int64_t done;        /* bytes a blocking write has queued so far */
};

struct pd_runner {
    int64_t pend_done_us; /* when the last blocking call returned */
    const struct pd_script *sc;
    int verbose;
    int64_t tol_us;
    synack_stack *st;
    synack_time_t now;
    struct out_seg q[PD_MAXQ];
    size_t qhead, qtail;
    int overflow;
    /* script fd -> handle (-1 free) */
    int fd[PD_MAXFD];
    uint8_t nonblock[PD_MAXFD];
    /* the connection the script talks to */
    uint16_t lport, rport;
    uint32_t local_isn;
    int ts_mapped;
    uint32_t ts_script, ts_live; /* first outbound TS val: script, live */
    struct pending pend;
    int failed;
};

static int64_t now_us(const struct pd_runner *r)
{
    return (int64_t)(r->now / SYNACK_USEC);
}

/* ---- frames ------------------------------------------------------------ */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}
/* Edge coverage (docs/state-transitions.md): with SYNACK_EDGE_LOG naming
 * a file, every state change is written to it as FROM<TAB>TO<TAB>CAUSE, for
 * `synack states --coverage`. */
static void edge_log(void *ctx, const synack_trace_event *ev)
{
    if (ev->kind != SYNACK_TRACE_STATE)
        return;
    fprintf((FILE *)ctx, "%s\t%s\t%s\n", synack_state_name(ev->old_state),
            synack_state_name(ev->new_state), ev->cause ? ev->cause : "");
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += rd16(p + i);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void capture(void *ctx, const uint8_t *f, size_t len, synack_time_t now)
{
    struct pd_runner *r = ctx;
    if (len < 14 + 20 || rd16(f + 12) != 0x0800)
        return; /* ARP: the peer is static, nothing to do */
    const uint8_t *ip = f + 14;
    size_t hl = (size_t)(ip[0] & 15) * 4;
    size_t tot = rd16(ip + 2);
    if (ip[9] != 6 || tot > len - 14 || hl < 20 || tot < hl + 20)
        return;
    const uint8_t *t = ip + hl;
    size_t thl = (size_t)(t[12] >> 4) * 4;
    if (thl < 20 || hl + thl > tot)
        return;
    if (r->qtail - r->qhead >= PD_MAXQ) {
        r->overflow = 1;
        return;
    }
    struct out_seg *s = &r->q[r->qtail++ % PD_MAXQ];
    memset(s, 0, sizeof(*s));
    s->t = now;
    s->sport = rd16(t);
    s->dport = rd16(t + 2);
    s->seq = rd32(t + 4);
    s->ack = rd32(t + 8);
    s->flags = t[13];
    s->win = rd16(t + 14);
    s->len = (uint32_t)(tot - hl - thl);
    s->optlen = thl - 20;
    memcpy(s->opt, t + 20, s->optlen);
    if ((s->flags & SYNACK_TH_SYN) && !(s->flags & SYNACK_TH_ACK)) {
        /* active open: learn our port and ISN */
        r->lport = s->sport;
        r->rport = s->dport;
        r->local_isn = s->seq;
        r->ts_mapped = 0;
    } else if (s->flags & SYNACK_TH_SYN) {
        r->local_isn = s->seq;
        r->ts_mapped = 0;
    }
}

static void inject(struct pd_runner *r, const struct pd_pkt *k)
{
    uint8_t f[14 + 20 + 60 + 65536];
    memcpy(f, local_mac, 6);
    memcpy(f + 6, remote_mac, 6);
    wr16(f + 12, 0x0800);
    uint8_t opt[64];
    size_t ol = 0;
    for (int i = 0; i < k->nopts && !k->opts_any; i++) {
        const struct pd_opt *o = &k->opts[i];
        switch (o->kind) {
        case PD_O_EOL: opt[ol++] = 0; break;
        case PD_O_NOP: opt[ol++] = 1; break;
        case PD_O_MSS:
            opt[ol++] = 2;
            opt[ol++] = 4;
            wr16(opt + ol, (uint16_t)o->a);
            ol += 2;
            break;
        case PD_O_WSCALE:
            opt[ol++] = 3;
            opt[ol++] = 3;
            opt[ol++] = (uint8_t)o->a;
            break;
        case PD_O_SACKOK:
            opt[ol++] = 4;
            opt[ol++] = 2;
            break;
        case PD_O_TS: {
            uint32_t ecr = o->b;
            /* the script's ecr is in the script's TS val space */
            if (ecr && r->ts_mapped)
                ecr = ecr - r->ts_script + r->ts_live;
            opt[ol++] = 8;
            opt[ol++] = 10;
            wr32(opt + ol, o->a);
            wr32(opt + ol + 4, ecr);
            ol += 8;
            break;
        }
        case PD_O_SACK:
            opt[ol++] = 5;
            opt[ol++] = (uint8_t)(2 + 8 * o->nblocks);
            for (int b = 0; b < 2 * o->nblocks; b++) {
                wr32(opt + ol, o->blocks[b] + r->local_isn);
                ol += 4;
            }
            break;
        }
        if (ol > 40)
            break;
    }
    while (ol % 4)
        opt[ol++] = 0; /* pad with EOL */
    if (ol > 40)
        ol = 40;
    size_t thl = 20 + ol;
    uint8_t *ip = f + 14, *t = ip + 20;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    wr16(ip + 2, (uint16_t)(20 + thl + k->len));
    wr16(ip + 4, 1);
    wr16(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = 6;
    wr32(ip + 12, PD_REMOTE_IP);
    wr32(ip + 16, PD_LOCAL_IP);
    wr16(ip + 10, csum_fold(csum_add(0, ip, 20)));
    memset(t, 0, thl);
    wr16(t, r->rport);
    wr16(t + 2, r->lport);
    wr32(t + 4, k->seq_start);
    wr32(t + 8, k->has_ack ? k->ack + r->local_isn : 0);
    t[12] = (uint8_t)((thl / 4) << 4);
    t[13] = k->flags;
    wr16(t + 14, (uint16_t)(k->has_win ? k->win : 65535));
    memcpy(t + 20, opt, ol);
    memset(t + thl, 0, k->len);
    uint8_t ph[12];
    wr32(ph, PD_REMOTE_IP);
    wr32(ph + 4, PD_LOCAL_IP);
    ph[8] = 0;
    ph[9] = 6;
    wr16(ph + 10, (uint16_t)(thl + k->len));
    uint32_t sum = csum_add(0, ph, 12);
    sum = csum_add(sum, t, thl + k->len);
    wr16(t + 16, csum_fold(sum));
    synack_stack_input(r->st, f, 14 + 20 + thl + k->len, r->now);
}

/* ---- rendering ---------------------------------------------------------- */

static void opts_str(const uint8_t *o, size_t n, uint32_t isn, char *b,
                     size_t bl)
{
    size_t w = 0;
    b[0] = 0;
#define ADD(...)                                                               \
    do {                                                                       \
        int k_ = snprintf(b + w, bl - w, __VA_ARGS__);                         \
        if (k_ > 0 && (size_t)k_ < bl - w)                                     \
            w += (size_t)k_;                                                   \
    } while (0)
    for (size_t i = 0; i < n;) {
        if (w)
            ADD(",");
        uint8_t k = o[i];
        if (k == 0) {
            ADD("eol");
            i++;
            continue;
        }
        if (k == 1) {
            ADD("nop");
            i++;
            continue;
        }
        if (i + 1 >= n || o[i + 1] < 2 || i + o[i + 1] > n) {
            ADD("?");
            break;
        }
        uint8_t l = o[i + 1];
        if (k == 2 && l == 4)
            ADD("mss %u", rd16(o + i + 2));
        else if (k == 3 && l == 3)
            ADD("wscale %u", o[i + 2]);
        else if (k == 4 && l == 2)
            ADD("sackOK");
        else if (k == 8 && l == 10)
            ADD("TS val %u ecr %u", rd32(o + i + 2), rd32(o + i + 6));
        else if (k == 5) {
            ADD("sack");
            for (size_t j = 2; j + 8 <= l; j += 8)
                ADD(" %u:%u", rd32(o + i + j) - isn, rd32(o + i + j + 4) - isn);
        } else
            ADD("opt%u len %u", k, l);
        i += l;
    }
#undef ADD
}

static void seg_str(const struct pd_runner *r, const struct out_seg *s,
                    char *b, size_t bl)
{
    char fl[16], ob[200];
    uint32_t rs = s->seq - r->local_isn;
    pd_flags_str(s->flags, fl, sizeof(fl));
    int n = snprintf(b, bl, "> %s %u:%u(%u)", fl, rs, rs + s->len, s->len);
    if (n < 0 || (size_t)n >= bl)
        return;
    size_t w = (size_t)n;
    if (s->flags & SYNACK_TH_ACK)
        w += (size_t)snprintf(b + w, bl - w, " ack %u", s->ack);
    if (w < bl)
        w += (size_t)snprintf(b + w, bl - w, " win %u", s->win);
    if (s->optlen && w < bl) {
        /* SACK blocks of the stack's segments cover the script's own
         * (absolute) sequence numbers */
        opts_str(s->opt, s->optlen, 0, ob, sizeof(ob));
        snprintf(b + w, bl - w, " <%s>", ob);
    }
}

static void fail(struct pd_runner *r, const struct pd_event *e,
                 const char *fmt, ...)
{
    if (r->failed)
        return;
    r->failed = 1;
    fprintf(stderr, "%s:%d: error: ", r->sc->file, e ? e->line : 0);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    if (e && !(e->kind == PD_EV_PKT && !e->pkt.inbound))
        fprintf(stderr, "  script:   %s\n", e->text);
}

/* ---- time --------------------------------------------------------------- */

static void try_pending(struct pd_runner *r);

static void step_to(struct pd_runner *r, synack_time_t t)
{
    if (t > r->now)
        r->now = t;
    synack_stack_advance(r->st, r->now);
    try_pending(r);
}

static synack_time_t next_stop(const struct pd_runner *r)
{
    synack_time_t d = synack_stack_next_deadline(r->st);
    if (r->pend.active && r->pend.deadline_us >= 0) {
        synack_time_t pd = (synack_time_t)r->pend.deadline_us * SYNACK_USEC;
        if (pd < d)
            d = pd;
    }
    return d;
}

/* Run timers up to t (inclusive). */
static void advance_to(struct pd_runner *r, synack_time_t t)
{
    while (!r->failed) {
        synack_time_t d = next_stop(r);
        if (d > t)
            break;
        step_to(r, d > r->now ? d : r->now);
        if (d <= r->now && synack_stack_next_deadline(r->st) <= r->now &&
            !(r->pend.active && r->pend.deadline_us >= 0))
            break; /* the stack keeps a due timer: do not spin */
    }
    if (!r->failed)
        step_to(r, t);
}

/* Run until the stack sends something or the time passes t. */
static void advance_until_output(struct pd_runner *r, synack_time_t t)
{
    while (!r->failed && r->qhead == r->qtail) {
        synack_time_t d = next_stop(r);
        if (d > t)
            break;
        synack_time_t before = r->now;
        step_to(r, d > r->now ? d : r->now);
        if (r->now == before && r->qhead == r->qtail &&
            synack_stack_next_deadline(r->st) <= r->now)
            break;
    }
}

/* ---- system calls ------------------------------------------------------- */

struct cname {
    const char *name;
    int64_t v;
};

static const struct cname consts[] = {
    {"AF_INET", 2}, {"PF_INET", 2}, {"SOCK_STREAM", 1},
    {"SOCK_NONBLOCK", L_O_NONBLOCK},
    {"IPPROTO_TCP", 6}, {"IPPROTO_IP", 0}, {"SOL_SOCKET", 1},
    {"SOL_TCP", 6}, {"SO_REUSEADDR", 2}, {"SO_KEEPALIVE", 9},
    {"SO_SNDBUF", 7}, {"SO_RCVBUF", 8}, {"SO_LINGER", 13},
    {"SO_ERROR", 4}, {"TCP_NODELAY", 1}, {"TCP_MAXSEG", 2},
    {"TCP_KEEPIDLE", 4}, {"TCP_KEEPINTVL", 5}, {"TCP_KEEPCNT", 6},
    {"TCP_USER_TIMEOUT", 18}, {"SHUT_RD", 0}, {"SHUT_WR", 1},
    {"SHUT_RDWR", 2}, {"F_GETFL", 3}, {"F_SETFL", 4},
    {"O_RDWR", L_O_RDWR}, {"O_RDONLY", 0}, {"O_WRONLY", 1},
    {"O_NONBLOCK", L_O_NONBLOCK}, {"POLLIN", L_POLLIN},
    {"POLLOUT", L_POLLOUT}, {"POLLERR", L_POLLERR},
    {"POLLHUP", L_POLLHUP}, {"POLLRDHUP", L_POLLRDHUP},
    {"MSG_DONTWAIT", 0x40}, {"MSG_PEEK", 2}, {"MSG_WAITALL", 0x100},
    {"INADDR_ANY", 0},
};

/* Evaluate an integer expression; errno names give synack codes. */
static int eval(const struct pd_expr *x, int64_t *v)
{
    switch (x->kind) {
    case PD_X_NUM:
        *v = x->num;
        return 0;
    case PD_X_IDENT:
        for (size_t i = 0; i < sizeof(consts) / sizeof(consts[0]); i++)
            if (strcmp(consts[i].name, x->str) == 0) {
                *v = consts[i].v;
                return 0;
            }
        for (int e = 1; e < SYNACK__ERR_COUNT; e++)
            if (strcmp(synack_errname(e), x->str) == 0) {
                *v = e;
                return 0;
            }
        return -1;
    case PD_X_OR: {
        int64_t a, b;
        if (eval(x->kids[0], &a) < 0 || eval(x->kids[1], &b) < 0)
            return -1;
        *v = a | b;
        return 0;
    }
    case PD_X_LIST:
        if (x->nkids == 1)
            return eval(x->kids[0], v);
        return -1;
    default:
        return -1;
    }
}

static const struct pd_expr *arg(const struct pd_event *e, size_t i)
{
    return i < e->call.nargs ? e->call.args[i] : NULL;
}

static int argint(struct pd_runner *r, const struct pd_event *e, size_t i,
                  int64_t *v)
{
    const struct pd_expr *x = arg(e, i);
    if (!x || eval(x, v) < 0) {
        fail(r, e, "%s: argument %zu is not a number or known constant",
             e->call.name, i + 1);
        return -1;
    }
    return 0;
}

static int handle_of(struct pd_runner *r, const struct pd_event *e, int *fd)
{
    int64_t v;
    if (argint(r, e, 0, &v) < 0)
        return -1;
    if (v < 0 || v >= PD_MAXFD || r->fd[v] < 0) {
        *fd = (int)v;
        return -2; /* EBADF */
    }
    *fd = (int)v;
    return r->fd[v];
}

static int new_fd(struct pd_runner *r, int h)
{
    for (int i = 3; i < PD_MAXFD; i++)
        if (r->fd[i] < 0) {
            r->fd[i] = h;
            r->nonblock[i] = 0;
            return i;
        }
    return -1;
}

static unsigned poll_bits(unsigned b)
{
    unsigned v = 0;
    if (b & SYNACK_POLLIN)
        v |= L_POLLIN;
    if (b & SYNACK_POLLOUT)
        v |= L_POLLOUT;
    if (b & SYNACK_POLLERR)
        v |= L_POLLERR;
    if (b & SYNACK_POLLHUP)
        v |= L_POLLHUP;
    if (b & SYNACK_POLLRDHUP)
        v |= L_POLLRDHUP;
    return v;
}

static int sockopt_of(int64_t level, int64_t name)
{
    if (level == 1) {
        switch (name) {
        case 2: return SYNACK_SO_REUSEADDR;
        case 9: return SYNACK_SO_KEEPALIVE;
        case 7: return SYNACK_SO_SNDBUF;
        case 8: return SYNACK_SO_RCVBUF;
        case 13: return SYNACK_SO_LINGER;
        case 4: return SYNACK_SO_ERROR;
        }
    } else if (level == 6) {
        switch (name) {
        case 1: return SYNACK_TCP_NODELAY;
        case 2: return SYNACK_TCP_MAXSEG;
        case 4: return SYNACK_TCP_KEEPIDLE;
        case 5: return SYNACK_TCP_KEEPINTVL;
        case 6: return SYNACK_TCP_KEEPCNT;
        case 18: return SYNACK_TCP_USER_TIMEOUT;
        }
    }
    return -1;
}

#define WOULD_BLOCK 1000000 /* result: call must wait */

/* Run the call once. Returns its result (>= 0, or -SYNACK_E*), or
 * WOULD_BLOCK when it would block on a blocking socket (or poll's
 * timeout has not run out). *bad is set when the script line itself is
 * wrong (message printed). */
static int64_t do_call(struct pd_runner *r, const struct pd_event *e,
                       int first, int *bad)
{
    const char *n = e->call.name;
    static uint8_t buf[1 << 20];
    int fd = -1, h;
    int64_t v;
    *bad = 0;
#define BAD()                                                                  \
    do {                                                                       \
        *bad = 1;                                                              \
        return 0;                                                              \
    } while (0)
    if (strcmp(n, "socket") == 0) {
        h = synack_socket(r->st);
        if (h < 0)
            return h;
        int f = new_fd(r, h);
        if (f < 0)
            return -SYNACK_EMFILE;
        int64_t type;
        const struct pd_expr *ta = arg(e, 1);
        if (ta && eval(ta, &type) == 0 && (type & L_O_NONBLOCK))
            r->nonblock[f] = 1;
        return f;
    }
    if (strcmp(n, "poll") == 0) {
        const struct pd_expr *l = arg(e, 0);
        int64_t timeout = 0;
        if (!l || l->kind != PD_X_LIST || argint(r, e, 2, &timeout) < 0) {
            fail(r, e, "poll: expected poll([{fd=N, events=..., "
                       "revents=...}], n, timeout)");
            BAD();
        }
        int count = 0;
        for (size_t i = 0; i < l->nkids; i++) {
            const struct pd_expr *s = l->kids[i];
            int64_t pfd = -1, evs = 0;
            for (size_t j = 0; j < s->nkids; j++) {
                const char *nm = s->kids[j]->name;
                int64_t x = 0;
                if (nm && strcmp(nm, "revents") == 0)
                    continue;
                if (eval(s->kids[j], &x) < 0) {
                    fail(r, e, "poll: bad field");
                    BAD();
                }
                if ((nm && strcmp(nm, "fd") == 0) || (!nm && j == 0))
                    pfd = x;
                else if ((nm && strcmp(nm, "events") == 0) || (!nm && j == 1))
                    evs = x;
            }
            unsigned rev = 0;
            if (pfd >= 0 && pfd < PD_MAXFD && r->fd[pfd] >= 0)
                rev = poll_bits(synack_poll(r->st, r->fd[pfd])) &
                      (unsigned)(evs | L_POLLERR | L_POLLHUP);
            if (rev)
                count++;
        }
        if (count == 0 && timeout != 0) {
            if (first)
                r->pend.deadline_us =
                    timeout < 0 ? -1 : now_us(r) + timeout * 1000;
            if (timeout < 0 || now_us(r) < r->pend.deadline_us)
                return WOULD_BLOCK;
        }
        /* revents are compared after the call: see check_poll */
        return count;
    }
    h = handle_of(r, e, &fd);
    if (h == -1)
        BAD();
    if (h == -2)
        return -SYNACK_EBADF;
    int blocking = !r->nonblock[fd];
    if (strcmp(n, "bind") == 0) {
        synack_addr a = {PD_LOCAL_IP, PD_PORT};
        r->lport = PD_PORT;
        return synack_bind(r->st, h, &a);
    }
    if (strcmp(n, "listen") == 0) {
        if (argint(r, e, 1, &v) < 0)
            BAD();
        return synack_listen(r->st, h, (int)v);
    }
    if (strcmp(n, "accept") == 0) {
        synack_addr peer;
        int c = synack_accept(r->st, h, &peer);
        if (c == -SYNACK_EAGAIN && blocking)
            return WOULD_BLOCK;
        if (c < 0)
            return c;
        int f = new_fd(r, c);
        return f < 0 ? -SYNACK_EMFILE : f;
    }
    if (strcmp(n, "connect") == 0) {
        if (first) {
            synack_addr a = {PD_REMOTE_IP, PD_PORT};
            int c = synack_connect(r->st, h, &a, r->now);
            if (c != -SYNACK_EINPROGRESS || !blocking)
                return c;
        }
        unsigned b = synack_poll(r->st, h);
        if (b & SYNACK_POLLERR) {
            int err = 0;
            size_t len = sizeof(err);
            synack_getsockopt(r->st, h, SYNACK_SO_ERROR, &err, &len);
            return err ? -err : -SYNACK_ECONNREFUSED;
        }
        if (b & SYNACK_POLLOUT)
            return 0;
        return WOULD_BLOCK;
    }
    if (strcmp(n, "read") == 0 || strcmp(n, "recv") == 0) {
        if (argint(r, e, 2, &v) < 0)
            BAD();
        if (v < 0 || (size_t)v > sizeof(buf))
            v = sizeof(buf);
        ssize_t c = synack_recv(r->st, h, buf, (size_t)v, r->now);
        if (c == -SYNACK_EAGAIN && blocking)
            return WOULD_BLOCK;
        return c;
    }
    if (strcmp(n, "write") == 0 || strcmp(n, "send") == 0) {
        if (argint(r, e, 2, &v) < 0)
            BAD();
        if (v < 0 || (size_t)v > sizeof(buf))
            v = sizeof(buf);
        memset(buf, 'x', (size_t)v);
        if (first)
            r->pend.done = 0;
        /* a blocking write returns when all of it is queued (or on an
         * error after nothing was), as on Linux */
        ssize_t c = synack_send(r->st, h, buf, (size_t)(v - r->pend.done),
                                r->now);
        if (c > 0)
            r->pend.done += c;
        if (!blocking)
            return c;
        if (c < 0 && c != -SYNACK_EAGAIN)
            return r->pend.done ? r->pend.done : c;
        if (r->pend.done < v)
            return WOULD_BLOCK;
        return r->pend.done;
    }
    if (strcmp(n, "shutdown") == 0) {
        if (argint(r, e, 1, &v) < 0)
            BAD();
        return synack_shutdown(r->st, h, (int)v, r->now);
    }
    if (strcmp(n, "close") == 0) {
        int c = synack_close(r->st, h, r->now);
        r->fd[fd] = -1;
        return c;
    }
    if (strcmp(n, "fcntl") == 0) {
        if (argint(r, e, 1, &v) < 0)
            BAD();
        if (v == 3)
            return L_O_RDWR | (r->nonblock[fd] ? L_O_NONBLOCK : 0);
        if (v == 4) {
            int64_t fl;
            if (argint(r, e, 2, &fl) < 0)
                BAD();
            r->nonblock[fd] = (fl & L_O_NONBLOCK) != 0;
            return 0;
        }
        return -SYNACK_EINVAL;
    }
    if (strcmp(n, "setsockopt") == 0 || strcmp(n, "getsockopt") == 0) {
        int64_t level, name;
        if (argint(r, e, 1, &level) < 0 || argint(r, e, 2, &name) < 0)
            BAD();
        int o = sockopt_of(level, name);
        if (o < 0)
            return -SYNACK_ENOPROTOOPT;
        const struct pd_expr *val = arg(e, 3);
        if (!val) {
            fail(r, e, "%s: missing value", n);
            BAD();
        }
        if (strcmp(n, "setsockopt") == 0) {
            if (o == SYNACK_SO_LINGER) {
                struct synack_linger lg = {0, 0};
                if (val->kind != PD_X_STRUCT || val->nkids != 2 ||
                    eval(val->kids[0], &v) < 0) {
                    fail(r, e, "SO_LINGER: expected {onoff=N, linger=N}");
                    BAD();
                }
                lg.l_onoff = (int)v;
                if (eval(val->kids[1], &v) < 0)
                    BAD();
                lg.l_linger = (int)v;
                return synack_setsockopt(r->st, h, o, &lg, sizeof(lg));
            }
            if (eval(val, &v) < 0) {
                fail(r, e, "setsockopt: value is not a number");
                BAD();
            }
            int iv = (int)v;
            return synack_setsockopt(r->st, h, o, &iv, sizeof(iv));
        }
        /* getsockopt: compare the value */
        int iv = 0;
        size_t len = sizeof(iv);
        struct synack_linger lg;
        if (o == SYNACK_SO_LINGER) {
            len = sizeof(lg);
            int c = synack_getsockopt(r->st, h, o, &lg, &len);
            return c;
        }
        int c = synack_getsockopt(r->st, h, o, &iv, &len);
        if (c < 0)
            return c;
        if (val->kind != PD_X_ELLIPSIS) {
            int64_t want;
            if (eval(val, &want) < 0) {
                fail(r, e, "getsockopt: value is not a number");
                BAD();
            }
            if (want != iv) {
                if (o == SYNACK_SO_ERROR)
                    fail(r, e, "getsockopt SO_ERROR: expected %s, got %s",
                         want ? synack_errname((int)want) : "0",
                         iv ? synack_errname(iv) : "0");
                else
                    fail(r, e, "getsockopt: expected value %" PRId64
                               ", got %d", want, iv);
                BAD();
            }
        }
        return c;
    }
    fail(r, e, "system call '%s' is not supported", n);
    BAD();
#undef BAD
}

static void check_result(struct pd_runner *r, const struct pd_event *e,
                         int64_t res)
{
    const struct pd_call *c = &e->call;
    if (c->ret_any)
        return;
    if (res < 0) {
        const char *got = synack_errname((int)-res);
        if (c->ret != -1 || !c->err || strcmp(c->err, got) != 0) {
            if (c->err)
                fail(r, e, "%s: expected -1 %s, got -1 %s (%s)", c->name,
                     c->err, got, synack_strerror((int)-res));
            else
                fail(r, e, "%s: expected %" PRId64 ", got -1 %s (%s)",
                     c->name, c->ret, got, synack_strerror((int)-res));
        }
        return;
    }
    if (c->ret != res) {
        if (c->err)
            fail(r, e, "%s: expected -1 %s, got %" PRId64, c->name, c->err,
                 res);
        else
            fail(r, e, "%s: expected %" PRId64 ", got %" PRId64, c->name,
                 c->ret, res);
        return;
    }
    if (strcmp(c->name, "poll") == 0) {
        const struct pd_expr *l = arg(e, 0);
        for (size_t i = 0; l && i < l->nkids; i++) {
            const struct pd_expr *s = l->kids[i];
            int64_t pfd = -1, evs = 0, want = -1;
            for (size_t j = 0; j < s->nkids; j++) {
                const char *nm = s->kids[j]->name;
                int64_t x = 0;
                if (eval(s->kids[j], &x) < 0)
                    continue;
                if ((nm && strcmp(nm, "fd") == 0) || (!nm && j == 0))
                    pfd = x;
                else if ((nm && strcmp(nm, "events") == 0) || (!nm && j == 1))
                    evs = x;
                else
                    want = x;
            }
            unsigned rev = 0;
            if (pfd >= 0 && pfd < PD_MAXFD && r->fd[pfd] >= 0)
                rev = poll_bits(synack_poll(r->st, r->fd[pfd])) &
                      (unsigned)(evs | L_POLLERR | L_POLLHUP);
            if (want >= 0 && (unsigned)want != rev) {
                fail(r, e, "poll: fd %" PRId64 " revents expected %#" PRIx64
                           ", got %#x",
                     pfd, want, rev);
                return;
            }
        }
    }
}

static void try_pending(struct pd_runner *r)
{
    if (!r->pend.active || r->failed)
        return;
    int bad;
    const struct pd_event *e = r->pend.ev;
    int64_t res = do_call(r, e, 0, &bad);
    if (bad)
        return;
    if (res == WOULD_BLOCK)
        return;
    r->pend.active = 0;
    int64_t t = now_us(r);
    r->pend_done_us = t;
    if (t + r->tol_us < r->pend.end_us || t > r->pend.end_us + r->tol_us) {
        fail(r, e, "%s returned at %.6f s, expected at %.6f s", e->call.name,
             (double)t / 1e6, (double)r->pend.end_us / 1e6);
        return;
    }
    check_result(r, e, res);
}

/* ---- segments ----------------------------------------------------------- */

static int match_opts(struct pd_runner *r, const struct pd_pkt *k,
                      const struct out_seg *s, char *why, size_t wl)
{
    if (!k->opts_given || k->opts_any)
        return 1;
    size_t i = 0;
    for (int j = 0; j < k->nopts; j++) {
        const struct pd_opt *o = &k->opts[j];
        if (i >= s->optlen) {
            snprintf(why, wl, "fewer options than expected");
            return 0;
        }
        uint8_t kind = s->opt[i];
        uint8_t l = kind <= 1 ? 1 : (i + 1 < s->optlen ? s->opt[i + 1] : 0);
        if (l == 0 || i + l > s->optlen) {
            snprintf(why, wl, "malformed options");
            return 0;
        }
        static const uint8_t kinds[] = {
            [PD_O_EOL] = 0, [PD_O_NOP] = 1, [PD_O_MSS] = 2, [PD_O_WSCALE] = 3,
            [PD_O_SACKOK] = 4, [PD_O_TS] = 8, [PD_O_SACK] = 5};
        if (kind != kinds[o->kind]) {
            snprintf(why, wl, "option %d differs", j + 1);
            return 0;
        }
        if (o->kind == PD_O_MSS && rd16(s->opt + i + 2) != o->a) {
            snprintf(why, wl, "mss differs");
            return 0;
        }
        if (o->kind == PD_O_WSCALE && s->opt[i + 2] != o->a) {
            snprintf(why, wl, "wscale differs");
            return 0;
        }
        if (o->kind == PD_O_TS) {
            uint32_t val = rd32(s->opt + i + 2), ecr = rd32(s->opt + i + 6);
            if (!r->ts_mapped) {
                r->ts_mapped = 1;
                r->ts_script = o->a;
                r->ts_live = val;
            }
            if (ecr != o->b) {
                snprintf(why, wl, "TS ecr differs");
                return 0;
            }
            if (r->sc->ts_tick_us > 0) {
                uint32_t want = o->a - r->ts_script + r->ts_live;
                if (val != want) {
                    snprintf(why, wl, "TS val differs");
                    return 0;
                }
            }
        }
        if (o->kind == PD_O_SACK) {
            for (int b = 0; b < 2 * o->nblocks; b++)
                if (l != 2 + 8 * o->nblocks ||
                    rd32(s->opt + i + 2 + 4 * (size_t)b) != o->blocks[b]) {
                    snprintf(why, wl, "SACK blocks differ");
                    return 0;
                }
        }
        i += l;
    }
    /* trailing padding (EOL) is allowed */
    for (; i < s->optlen; i++)
        if (s->opt[i] != 0) {
            snprintf(why, wl, "more options than expected");
            return 0;
        }
    return 1;
}

static void expect_pkt(struct pd_runner *r, const struct pd_event *e,
                       int64_t t_us, int64_t range_us)
{
    const struct pd_pkt *k = &e->pkt;
    int64_t lo = t_us - r->tol_us, hi = t_us + r->tol_us;
    if (e->has_range)
        hi = range_us + r->tol_us;
    int any = e->time_kind == PD_T_ANY;
    synack_time_t limit =
        any ? SYNACK_TIME_NEVER - 1 : (synack_time_t)(hi > 0 ? hi : 0) * 1000;
    advance_until_output(r, limit);
    if (r->failed)
        return;
    char want[256];
    snprintf(want, sizeof(want), "%s", e->text);
    if (r->qhead == r->qtail) {
        /* look ahead (up to 10 minutes) for what the stack sends next */
        if (limit < SYNACK_TIME_NEVER - 600 * SYNACK_SEC)
            advance_until_output(r, limit + 600 * SYNACK_SEC);
        fail(r, e, "expected segment not sent by %.6f s",
             (double)limit / 1e9);
        if (r->qhead != r->qtail) {
            seg_str(r, &r->q[r->qhead % PD_MAXQ], want, sizeof(want));
            fprintf(stderr, "  expected: %s\n  actual:   %s  (at %.6f s)\n",
                    e->text, want,
                    (double)r->q[r->qhead % PD_MAXQ].t / 1e9);
        } else {
            fprintf(stderr, "  expected: %s\n  actual:   nothing sent\n",
                    e->text);
        }
        return;
    }
    struct out_seg *s = &r->q[r->qhead++ % PD_MAXQ];
    char got[400];
    seg_str(r, s, got, sizeof(got));
    int64_t ts = (int64_t)(s->t / SYNACK_USEC);
    char why[128] = "";
    if (s->dport != r->rport || s->sport != r->lport)
        snprintf(why, sizeof(why), "ports %u -> %u, expected %u -> %u",
                 s->sport, s->dport, r->lport, r->rport);
    else if (s->flags != k->flags)
        snprintf(why, sizeof(why), "flags differ");
    else if (s->seq - r->local_isn != k->seq_start)
        snprintf(why, sizeof(why), "sequence number differs");
    else if (s->len != k->len)
        snprintf(why, sizeof(why), "payload length differs");
    else if (k->has_ack && s->ack != k->ack)
        snprintf(why, sizeof(why), "ack differs");
    else if (k->has_win && s->win != k->win)
        snprintf(why, sizeof(why), "window differs");
    else if (!match_opts(r, k, s, why, sizeof(why)))
        ;
    else if (!any && (ts < lo || ts > hi))
        snprintf(why, sizeof(why),
                 "sent at %.6f s, expected at %.6f s (tolerance %" PRId64
                 " us)",
                 (double)ts / 1e6, (double)t_us / 1e6, r->tol_us);
    if (why[0]) {
        fail(r, e, "outbound segment does not match: %s", why);
        fprintf(stderr, "  expected: %s\n  actual:   %s  (at %.6f s)\n", want,
                got, (double)ts / 1e6);
    } else if (r->verbose) {
        fprintf(stderr, "%s:%d: ok %.6f %s\n", r->sc->file, e->line,
                (double)ts / 1e6, got);
    }
}

/* A segment the stack sent that the script did not expect. */
static void check_unexpected(struct pd_runner *r, const struct pd_event *e,
                             const char *when)
{
    if (r->failed || r->qhead == r->qtail)
        return;
    const struct out_seg *s = &r->q[r->qhead % PD_MAXQ];
    char got[400];
    seg_str(r, s, got, sizeof(got));
    fail(r, e, "the stack sent a segment the script did not expect %s", when);
    fprintf(stderr, "  actual:   %s  (at %.6f s)\n", got,
            (double)s->t / 1e9);
}

/* ---- the script --------------------------------------------------------- */

static int run_script(const struct pd_script *sc, int verbose,
                      int64_t tol_cli)
{
    struct pd_runner *r = calloc(1, sizeof(*r));
    if (!r) {
        fprintf(stderr, "synack packetdrill: out of memory\n");
        return TOOL_USAGE;
    }
    r->sc = sc;
    r->verbose = verbose;
    r->tol_us = tol_cli >= 0        ? tol_cli
                : sc->tolerance_us >= 0 ? sc->tolerance_us
                                        : PD_DEFAULT_TOL_US;
    for (int i = 0; i < PD_MAXFD; i++)
        r->fd[i] = -1;
    r->lport = PD_PORT;
    r->rport = PD_REMOTE_PORT;
    synack_stack_config cfg;
    synack_stack_config_init(&cfg);
    memcpy(cfg.mac, local_mac, 6);
    cfg.ip = PD_LOCAL_IP;
    cfg.prefix_len = 8; /* 192.0.2.1 is on-link */
    cfg.seed = 1;
    for (int i = 0; i < 16; i++)
        cfg.isn_secret[i] = (uint8_t)(i * 31 + 7);
    cfg.output = capture;
    cfg.output_ctx = r;
    if (synack_stack_new(&cfg, &r->st) < 0 ||
        synack_arp_add(r->st, PD_REMOTE_IP, remote_mac, 0) < 0) {
        fprintf(stderr, "synack packetdrill: cannot create the stack\n");
        free(r);
        return TOOL_USAGE;
    }
    /* emptied by the first script of this process, appended to after */
    static bool edge_log_started;
    const char *edge_path = getenv("SYNACK_EDGE_LOG");
    FILE *edges = NULL;
    if (edge_path && *edge_path) {
        edges = fopen(edge_path, edge_log_started ? "a" : "w");
        edge_log_started = true;
        if (!edges) {
            fprintf(stderr, "synack packetdrill: SYNACK_EDGE_LOG %s: cannot "
                            "open\n", edge_path);
            synack_stack_del(r->st);
            free(r);
            return TOOL_FAIL;
        }
        synack_set_trace(r->st, edge_log, edges);
    }
    int64_t base = 0;
    for (size_t i = 0; i < sc->nev && !r->failed; i++) {
        const struct pd_event *e = &sc->ev[i];
        int64_t t;
        /* As packetdrill: a system call waits for a blocking call still
         * running on the other thread, and its relative time counts from
         * that call's return; a packet does not wait. */
        if (e->kind == PD_EV_CALL && r->pend.active) {
            advance_to(r, (synack_time_t)(r->pend.end_us + r->tol_us) *
                              SYNACK_USEC);
            if (!r->failed && !r->pend.active)
                base = r->pend_done_us;
        }
        if (e->time_kind == PD_T_ANY)
            t = now_us(r);
        else if (e->time_kind == PD_T_REL)
            t = base + e->t_us;
        else
            t = e->t_us;
        int64_t range = e->range_rel ? base + e->range_us : e->range_us;
        if (e->kind == PD_EV_PKT && !e->pkt.inbound) {
            expect_pkt(r, e, t, range);
            if (e->time_kind == PD_T_ANY || e->has_range)
                t = now_us(r);
        } else {
            synack_time_t tt = (synack_time_t)(t > 0 ? t : 0) * SYNACK_USEC;
            if (tt > r->now)
                advance_to(r, tt);
            if (t < now_us(r) && e->time_kind != PD_T_ANY)
                t = now_us(r);
            /* a segment sent clearly before an injected one that no '>'
             * line took: the script did not expect it */
            if (e->kind == PD_EV_PKT && r->qhead != r->qtail &&
                (int64_t)(r->q[r->qhead % PD_MAXQ].t / SYNACK_USEC) <
                    t - r->tol_us)
                check_unexpected(r, e, "before this line");
            if (r->failed)
                break;
            if (e->kind == PD_EV_PKT) {
                inject(r, &e->pkt);
                try_pending(r);
            } else {
                if (r->pend.active) {
                    fail(r, e, "a blocking call (line %d) is still waiting",
                         r->pend.ev->line);
                    break;
                }
                int bad;
                r->pend.deadline_us = -1;
                r->pend.ev = e;
                int64_t res = do_call(r, e, 1, &bad);
                if (bad)
                    break;
                if (res == WOULD_BLOCK) {
                    r->pend.active = 1;
                    r->pend.start_us = t;
                    r->pend.end_us =
                        e->blocking ? (e->end_rel ? t + e->end_us : e->end_us)
                                    : t;
                } else {
                    if (e->blocking) {
                        int64_t end = e->end_rel ? t + e->end_us : e->end_us;
                        if (end > t + r->tol_us) {
                            fail(r, e,
                                 "%s returned at once (%.6f s), expected it "
                                 "to block until %.6f s",
                                 e->call.name, (double)t / 1e6,
                                 (double)end / 1e6);
                            break;
                        }
                    }
                    check_result(r, e, res);
                }
            }
        }
        if (r->overflow)
            fail(r, e, "the stack sent more than %d segments unread",
                 PD_MAXQ);
        base = t;
        if (verbose && !r->failed && (e->kind != PD_EV_PKT || e->pkt.inbound))
            fprintf(stderr, "%s:%d: ok %.6f %s\n", sc->file, e->line,
                    (double)t / 1e6, e->text);
    }
    if (!r->failed && r->pend.active) {
        const struct pd_event *e = r->pend.ev;
        advance_to(r, (synack_time_t)(r->pend.end_us + r->tol_us) *
                          SYNACK_USEC);
        if (!r->failed && r->pend.active)
            fail(r, e, "%s still blocked at %.6f s (expected to return at "
                       "%.6f s)",
                 e->call.name, (double)now_us(r) / 1e6,
                 (double)r->pend.end_us / 1e6);
    }
    if (!r->failed)
        check_unexpected(r, sc->nev ? &sc->ev[sc->nev - 1] : NULL,
                         "after the last line");
    int rc = r->failed ? TOOL_FAIL : TOOL_OK;
    synack_stack_del(r->st);
    if (edges && fclose(edges) != 0) {
        fprintf(stderr, "synack packetdrill: SYNACK_EDGE_LOG %s: write "
                        "error\n", edge_path);
        rc = TOOL_FAIL;
    }
    free(r);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: synack packetdrill [--tolerance_usecs N] [--verbose] "
            "SCRIPT.pkt...\n"
            "\n"
            "Run packetdrill scripts (TCP/IPv4 subset) against one synack "
            "stack on\n"
            "virtual time: the stack is 192.168.0.1, the script's peer "
            "192.0.2.1.\n"
            "Exit 0 when every script passes, 1 when one fails, 2 on a "
            "syntax error.\n"
            "See docs/packetdrill.md.\n");
}

int packetdrill_main(int argc, char **argv)
{
    int verbose = 0;
    int64_t tol = -1;
    char **scripts = calloc((size_t)argc, sizeof(*scripts));
    int nscripts = 0, dashdash = 0;
    if (!scripts)
        return TOOL_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (dashdash) {
            scripts[nscripts++] = argv[i];
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            free(scripts);
            return TOOL_OK;
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            verbose++;
        } else if (strncmp(a, "--tolerance_usecs", 17) == 0) {
            const char *v = a[17] == '=' ? a + 18 : (a[17] == 0 && i + 1 < argc)
                                                        ? argv[++i]
                                                        : NULL;
            char *end;
            if (!v || (tol = strtoll(v, &end, 10)) < 0 || *end || !*v) {
                fprintf(stderr, "synack packetdrill: --tolerance_usecs: "
                                "expected a number of microseconds\n");
                free(scripts);
                return TOOL_USAGE;
            }
        } else if (strcmp(a, "--") == 0) {
            dashdash = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "synack packetdrill: unknown option '%s'\n", a);
            usage(stderr);
            free(scripts);
            return TOOL_USAGE;
        } else {
            scripts[nscripts++] = argv[i];
        }
    }
    if (nscripts == 0) {
        usage(stderr);
        free(scripts);
        return TOOL_USAGE;
    }
    int rc = TOOL_OK;
    for (int j = 0; j < nscripts; j++) {
        char *file = scripts[j];
        struct pd_script sc;
        if (pd_parse_file(file, &sc, verbose) < 0) {
            rc = TOOL_USAGE;
            continue;
        }
        int r = run_script(&sc, verbose, tol);
        pd_script_free(&sc);
        if (r == TOOL_OK)
            printf("%s: pass\n", file);
        else
            printf("%s: FAIL\n", file);
        fflush(stdout);
        if (r != TOOL_OK && rc == TOOL_OK)
            rc = r;
        if (r == TOOL_USAGE)
            rc = TOOL_USAGE;
    }
    free(scripts);
    return rc;
}
