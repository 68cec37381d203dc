/*
 * The control socket: the server every live subcommand runs (answered from
 * the real-time loop), and the client side used by `synack ss` and
 * `synack sysctl`. The protocol is described in ctl_proto.h.
 *
 * The server never blocks the stack for long: the listening socket is
 * non-blocking, a request line must arrive within CTL_SERVER_READ_MS and a
 * client that does not take its answer within CTL_SERVER_WRITE_MS loses
 * it. Bad clients (garbage, overlong lines, early disconnects) get an error
 * line or nothing; SIGPIPE is avoided with MSG_NOSIGNAL.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_proto.h"
#include "tool.h"

/* ---- shared ----------------------------------------------------------------- */

int ctl_dir(char *buf, size_t len)
{
    const char *x = getenv("XDG_RUNTIME_DIR");
    int n;
    if (x && x[0])
        n = snprintf(buf, len, "%s/synack", x);
    else
        n = snprintf(buf, len, "/run/synack");
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

int ctl_sock_path(const char *dir, const char *ifname, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/%s.sock", dir, ifname);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    int fdfl = fcntl(fd, F_GETFD);
    if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0)
        return -1;
    return 0;
}

static int ms_left(synack_time_t deadline)
{
    synack_time_t now = synack_rtloop_clock();
    if (now >= deadline)
        return 0;
    synack_time_t ms = (deadline - now + SYNACK_MSEC - 1) / SYNACK_MSEC;
    return ms > 60000 ? 60000 : (int)ms;
}

/* Write all of buf to a non-blocking socket before the deadline. */
static int write_all(int fd, const char *buf, size_t len,
                     synack_time_t deadline)
{
    size_t off = 0;
    while (off < len) {
        ssize_t w = send(fd, buf + off, len - off, MSG_NOSIGNAL);
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int left = ms_left(deadline);
            if (left == 0)
                return -1;
            struct pollfd p = { fd, POLLOUT, 0 };
            if (poll(&p, 1, left) < 0 && errno != EINTR)
                return -1;
            continue;
        }
        return -1;
    }
    return 0;
}

/* ---- growing text buffer ------------------------------------------------------ */

struct sbuf {
    char *p;
    size_t len, cap;
    int failed;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = 1;
        return;
    }
    if ((size_t)n < sizeof tmp) {
        sb_add(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->failed = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_add(b, big, (size_t)n);
    free(big);
}

/* Text as one protocol field: TABs, newlines and other control characters
 * become spaces. */
static void sb_field(struct sbuf *b, const char *s)
{
    for (; s && *s; s++) {
        char c = (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s;
        sb_add(b, &c, 1);
    }
}

/* ---- server ------------------------------------------------------------------- */

/* A `trace` subscriber: its socket and what is queued for it. */
struct ctl_sub {
    int fd;
    int dead;        /* gone or failed: removed by ctl_server_poll */
    size_t len, off; /* queued bytes in buf[off..len) */
    uint64_t lost;   /* events dropped since the last "lost" line */
    synack_time_t t0; /* subscription time: event times are relative */
    char buf[CTL_TRACE_BUF];
};

struct ctl_server {
    int fd;
    struct ctl_sub *subs[CTL_TRACE_MAX_SUBS];
    size_t nsubs;
    /* the stack's trace hook, installed while needed (see ctl.h) */
    void (*hook)(void *ctx, const synack_trace_event *ev);
    void *hook_ctx;
    int hook_always, hook_on;
    int closed;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    ino_t ino;
    dev_t dev;
    char ifname[64];
    char command[32];
    synack_stack *st;
    synack_rtloop *loop;
};

static void errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void put_process(const struct ctl_server *s, struct sbuf *b)
{
    sb_printf(b, "%s %d ok\n", CTL_MAGIC, CTL_VERSION);
    sb_printf(b, "pid\t%ld\n", (long)getpid());
    sb_add(b, "command\t", 8);
    sb_field(b, s->command);
    sb_add(b, "\nifname\t", 8);
    sb_field(b, s->ifname);
    sb_printf(b, "\nversion\t%s\n", SYNACK_TOOL_VERSION);
}

static void put_error(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void put_error(struct sbuf *b, const char *fmt, ...)
{
    char tmp[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    b->len = 0;
    sb_printf(b, "%s %d error ", CTL_MAGIC, CTL_VERSION);
    sb_field(b, tmp);
    sb_add(b, "\n", 1);
}

static const char *const conn_fields[] = {
    "id", "handle", "state", "local", "remote", "recv_q", "send_q", "timer",
    "timer_expires_ms", "backoff", "rtt_us", "rttvar_us", "rto_us",
    "snd_mss", "rcv_mss", "cwnd", "ssthresh", "snd_wnd", "rcv_wnd",
    "snd_wscale", "rcv_wscale", "ts_ok", "sack_ok", "bytes_sent",
    "bytes_acked", "bytes_received", "bytes_retrans", "segs_in", "segs_out",
    "total_retrans", "state_ms", "orphan", "persist_probes",
};

static int put_conns(const struct ctl_server *s, struct sbuf *b)
{
    size_t cap = synack_conn_list(s->st, NULL, 0) + 16;
    synack_conn_info *ci = calloc(cap, sizeof *ci);
    if (!ci) {
        put_error(b, "out of memory");
        return -1;
    }
    size_t n = synack_conn_list(s->st, ci, cap);
    if (n > cap)
        n = cap;
    synack_time_t now = synack_rtloop_clock();
    put_process(s, b);
    sb_add(b, "fields", 6);
    for (size_t i = 0; i < sizeof conn_fields / sizeof conn_fields[0]; i++)
        sb_printf(b, "\t%s", conn_fields[i]);
    sb_add(b, "\n", 1);
    for (size_t i = 0; i < n; i++) {
        const synack_conn_info *c = &ci[i];
        char la[32], ra[32], exp[32];
        synack_addr_str(&c->local, la, sizeof la);
        synack_addr_str(&c->remote, ra, sizeof ra);
        if (c->timer == SYNACK_TIMER_NONE ||
            c->timer_expires == SYNACK_TIME_NEVER)
            snprintf(exp, sizeof exp, "-");
        else if (c->timer_expires >= now)
            snprintf(exp, sizeof exp, "%llu",
                     (unsigned long long)((c->timer_expires - now) /
                                          SYNACK_MSEC));
        else
            snprintf(exp, sizeof exp, "-%llu",
                     (unsigned long long)((now - c->timer_expires) /
                                          SYNACK_MSEC));
        const char *tn = synack_timer_name(c->timer);
        /* 0: the stack had no time yet when the state was set (a listen()
         * before the loop first ran): unknown */
        char age[32] = "-";
        if (c->state_since && now >= c->state_since)
            snprintf(age, sizeof age, "%llu",
                     (unsigned long long)((now - c->state_since) /
                                          SYNACK_MSEC));
        sb_printf(b,
                  "conn\t%lu\t%d\t%s\t%s\t%s\t%lu\t%lu\t%s\t%s\t%lu\t%lu\t%lu"
                  "\t%lu\t%lu\t%lu\t%lu\t%lu\t%lu\t%lu\t%u\t%u\t%u\t%u"
                  "\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%s\t%u"
                  "\t%lu\n",
                  (unsigned long)c->id, c->handle,
                  synack_state_name(c->state), la, ra,
                  (unsigned long)c->recv_q, (unsigned long)c->send_q,
                  tn ? tn : "off", exp, (unsigned long)c->backoff,
                  (unsigned long)c->rtt_us, (unsigned long)c->rttvar_us,
                  (unsigned long)c->rto_us, (unsigned long)c->snd_mss,
                  (unsigned long)c->rcv_mss, (unsigned long)c->cwnd,
                  (unsigned long)c->ssthresh, (unsigned long)c->snd_wnd,
                  (unsigned long)c->rcv_wnd, c->snd_wscale, c->rcv_wscale,
                  c->ts_ok, c->sack_ok, (unsigned long long)c->bytes_sent,
                  (unsigned long long)c->bytes_acked,
                  (unsigned long long)c->bytes_received,
                  (unsigned long long)c->bytes_retrans,
                  (unsigned long long)c->segs_in,
                  (unsigned long long)c->segs_out,
                  (unsigned long long)c->total_retrans,
                  age,
                  c->orphan, (unsigned long)c->persist_probes);
    }
    free(ci);
    return 0;
}

static void put_tunable(const struct ctl_server *s, struct sbuf *b,
                        const char *name)
{
    char val[128];
    if (synack_sysctl_get(s->st, name, val, sizeof val) < 0)
        snprintf(val, sizeof val, "?");
    for (char *p = val; *p; p++)
        if (*p == '\t')
            *p = ' ';
    sb_add(b, "sysctl\t", 7);
    sb_field(b, name);
    sb_add(b, "\t", 1);
    sb_field(b, val);
    sb_add(b, "\t", 1);
    sb_field(b, synack_sysctl_help(name));
    sb_add(b, "\n", 1);
}

/* The short name of a tunable given with or without "net.ipv4." (or
 * "net/ipv4/"); NULL if unknown. */
static const char *tunable_name(const char *name)
{
    if (strncmp(name, "net.ipv4.", 9) == 0 ||
        strncmp(name, "net/ipv4/", 9) == 0)
        name += 9;
    for (size_t i = 0; synack_sysctl_name(i); i++)
        if (strcmp(synack_sysctl_name(i), name) == 0)
            return synack_sysctl_name(i);
    return NULL;
}

/* "; accepted: LO to HI" for a tunable of one number, found by asking a
 * scratch stack (the accepted values are one interval around the
 * default); "" when that does not apply. */
static void accepted_range(const char *name, char *buf, size_t len)
{
    buf[0] = '\0';
    synack_stack_config cfg;
    synack_stack_config_init(&cfg);
    cfg.ip = 0x0a000001u;
    cfg.prefix_len = 24;
    cfg.mac[0] = 0x02;
    cfg.mac[5] = 0x01;
    cfg.max_sockets = 4;
    synack_stack *st;
    if (synack_stack_new(&cfg, &st) != 0)
        return;
    char cur[64], num[32];
    if (synack_sysctl_get(st, name, cur, sizeof cur) <= 0 ||
        strspn(cur, "0123456789") != strlen(cur))
        goto out;
    uint64_t def = strtoull(cur, NULL, 10), a = 0, b = def;
    while (a < b) { /* smallest accepted */
        uint64_t mid = a + (b - a) / 2;
        snprintf(num, sizeof num, "%llu", (unsigned long long)mid);
        if (synack_sysctl_set(st, name, num) == 0)
            b = mid;
        else
            a = mid + 1;
    }
    uint64_t lo = a;
    a = def;
    b = UINT64_C(1) << 40;
    snprintf(num, sizeof num, "%llu", (unsigned long long)b);
    if (synack_sysctl_set(st, name, num) == 0)
        goto out; /* no upper bound worth telling */
    while (a + 1 < b) { /* largest accepted: a accepted, b not */
        uint64_t mid = a + (b - a) / 2;
        snprintf(num, sizeof num, "%llu", (unsigned long long)mid);
        if (synack_sysctl_set(st, name, num) == 0)
            a = mid;
        else
            b = mid;
    }
    snprintf(buf, len, "; accepted: %llu to %llu", (unsigned long long)lo,
             (unsigned long long)a);
out:
    synack_stack_del(st);
}

/* A request word or name, shortened and made printable for a message. */
static const char *printable(const char *s, char *buf, size_t len)
{
    size_t i = 0;
    for (; s[i] && i + 4 < len && i < 40; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f
                     ? '?'
                     : s[i];
    if (s[i] && i + 4 <= len) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

static void answer(struct ctl_server *s, char *line, struct sbuf *b)
{
    char pbuf[64], pbuf2[64];
    char *arg = strchr(line, ' ');
    if (arg)
        *arg++ = '\0';
    if (strcmp(line, "hello") == 0 && !arg) {
        put_process(s, b);
    } else if (strcmp(line, "conns") == 0 && !arg) {
        if (put_conns(s, b) != 0)
            return;
    } else if (strcmp(line, "sysctl-list") == 0 && !arg) {
        put_process(s, b);
        for (size_t i = 0; synack_sysctl_name(i); i++)
            put_tunable(s, b, synack_sysctl_name(i));
    } else if (strcmp(line, "sysctl-get") == 0 && arg && *arg &&
               !strchr(arg, ' ')) {
        const char *name = tunable_name(arg);
        if (!name) {
            put_error(b, "unknown tunable %s", printable(arg, pbuf, sizeof pbuf));
            return;
        }
        put_process(s, b);
        put_tunable(s, b, name);
    } else if (strcmp(line, "sysctl-set") == 0 && arg && *arg) {
        char *value = strchr(arg, ' ');
        if (value)
            *value++ = '\0';
        const char *name = tunable_name(arg);
        if (!name) {
            put_error(b, "unknown tunable %s", printable(arg, pbuf, sizeof pbuf));
            return;
        }
        if (!value || !*value) {
            put_error(b, "sysctl-set %s: no value given (%s: %s)", name, name,
                      synack_sysctl_help(name));
            return;
        }
        int rc = synack_sysctl_set(s->st, name, value);
        if (rc != 0) {
            char range[96];
            accepted_range(name, range, sizeof range);
            const char *help = synack_sysctl_help(name);
            if (rc == -SYNACK_EINVAL)
                put_error(b, "invalid value '%s' (%s: %s%s)",
                          printable(value, pbuf2, sizeof pbuf2), name,
                          help ? help : "", range);
            else if (rc == -SYNACK_ERANGE)
                put_error(b, "value out of range (%s: %s%s)", name,
                          help ? help : "", range);
            else
                put_error(b, "%s: %s", name, synack_strerror(rc));
            return;
        }
        put_process(s, b);
        put_tunable(s, b, name);
    } else if (strcmp(line, "sysctl-get") == 0 ||
               strcmp(line, "sysctl-set") == 0) {
        put_error(b, "usage: %s", strcmp(line, "sysctl-get") == 0
                                      ? "sysctl-get NAME"
                                      : "sysctl-set NAME VALUE");
        return;
    } else if (strcmp(line, "hello") == 0 || strcmp(line, "conns") == 0 ||
               strcmp(line, "sysctl-list") == 0 ||
               strcmp(line, "trace") == 0) {
        put_error(b, "request '%s' takes no argument", line);
        return;
    } else {
        put_error(b,
                  "unknown request '%s' (the requests are: hello, conns, "
                  "sysctl-list, sysctl-get NAME, sysctl-set NAME VALUE, "
                  "trace)",
                  printable(line, pbuf, sizeof pbuf));
        return;
    }
    sb_add(b, "end\n", 4);
}

/* Read one request line within CTL_SERVER_READ_MS; 0 with the line
 * (without its newline) in buf, 1 when it is too long, -1 on timeout,
 * error or an empty connection. */
static int read_line(int fd, char *buf, size_t len)
{
    synack_time_t deadline =
        synack_rtloop_clock() + CTL_SERVER_READ_MS * SYNACK_MSEC;
    size_t have = 0;
    for (;;) {
        ssize_t r = recv(fd, buf + have, len - 1 - have, 0);
        if (r > 0) {
            have += (size_t)r;
            buf[have] = '\0';
            char *nl = memchr(buf, '\n', have);
            if (nl) {
                *nl = '\0';
                break;
            }
            if (have >= len - 1)
                return 1;
            continue;
        }
        if (r == 0) { /* EOF: take what came, if anything */
            buf[have] = '\0';
            if (have == 0)
                return -1;
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        int left = ms_left(deadline);
        if (left == 0)
            return -1;
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, left) < 0 && errno != EINTR)
            return -1;
    }
    size_t n = strlen(buf); /* a NUL inside the line ends it */
    if (n && buf[n - 1] == '\r')
        buf[--n] = '\0';
    return 0;
}

static int subscribe(struct ctl_server *s, int c);

/* Answer one client; 1 when a `trace` subscriber took the socket over. */
static int serve_one(struct ctl_server *s, int c)
{
    char line[CTL_MAX_LINE + 1];
    struct sbuf b = { 0 };
    int rc = read_line(c, line, sizeof line);
    if (rc < 0)
        return 0;
    if (rc == 0 && strcmp(line, "trace") == 0) {
        if (subscribe(s, c) == 0)
            return 1;
        put_error(&b, "too many trace subscribers (at most %d)",
                  CTL_TRACE_MAX_SUBS);
    } else if (rc == 1)
        put_error(&b, "request line too long (at most %d bytes)",
                  CTL_MAX_LINE);
    else
        answer(s, line, &b);
    if (b.failed) {
        free(b.p);
        b = (struct sbuf){ 0 };
        put_error(&b, "out of memory");
    }
    if (b.p)
        write_all(c, b.p, b.len,
                  synack_rtloop_clock() + CTL_SERVER_WRITE_MS * SYNACK_MSEC);
    free(b.p);
    /* Unread input would turn our close into a reset for the client, which
     * could then miss the answer: drop what is already there. */
    shutdown(c, SHUT_WR);
    for (int i = 0; i < 64; i++)
        if (recv(c, line, sizeof line, 0) <= 0)
            break;
    return 0;
}

static void on_listen(void *ctx, int fd, synack_time_t now)
{
    (void)now;
    struct ctl_server *s = ctx;
    for (int i = 0; i < 16; i++) { /* a few per wake-up, then the stack */
        int c = accept(fd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            return; /* EAGAIN, or a client gone before we got to it */
        }
        if (!s->closed && set_flags(c) == 0 && serve_one(s, c))
            continue; /* a trace subscriber now */
        close(c);
    }
}

/* ---- trace subscribers ---------------------------------------------------- */

/* Send what is queued, without blocking; a failed socket is marked dead. */
static void sub_flush(struct ctl_sub *u)
{
    while (!u->dead && u->off < u->len) {
        ssize_t w = send(u->fd, u->buf + u->off, u->len - u->off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            u->off += (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            u->dead = 1;
        }
    }
    if (u->off == u->len)
        u->off = u->len = 0;
}

/* Queue one line; 0, or -1 when it does not fit (the caller counts it
 * lost). */
static int sub_queue(struct ctl_sub *u, const char *line, size_t n)
{
    if (u->off && u->len + n > sizeof u->buf) { /* compact */
        memmove(u->buf, u->buf + u->off, u->len - u->off);
        u->len -= u->off;
        u->off = 0;
    }
    if (u->len + n > sizeof u->buf)
        return -1;
    memcpy(u->buf + u->len, line, n);
    u->len += n;
    return 0;
}

/* The client side is readable: input to drop, or the client is gone. */
static void on_sub(void *ctx, int fd, synack_time_t now)
{
    (void)now;
    struct ctl_sub *u = ctx;
    char tmp[256];
    for (;;) {
        ssize_t r = recv(fd, tmp, sizeof tmp, MSG_DONTWAIT);
        if (r > 0)
            continue;
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            u->dead = 1; /* removed by ctl_server_poll, outside the loop */
        return;
    }
}

static void own_hook(void *ctx, const synack_trace_event *ev)
{
    ctl_server_trace(ctx, ev);
}

/* Install or remove the stack's trace hook as needed now. */
static void hook_update(struct ctl_server *s)
{
    int want = !s->closed && (s->hook_always || s->nsubs > 0);
    if (want == s->hook_on || !s->st)
        return;
    if (want)
        synack_set_trace(s->st, s->hook ? s->hook : own_hook,
                         s->hook ? s->hook_ctx : s);
    else
        synack_set_trace(s->st, NULL, NULL);
    s->hook_on = want;
}

void ctl_server_set_trace_hook(ctl_server *s,
                               void (*hook)(void *ctx,
                                            const synack_trace_event *ev),
                               void *ctx, int always)
{
    if (!s)
        return;
    if (s->hook_on) { /* re-install with the new one */
        synack_set_trace(s->st, NULL, NULL);
        s->hook_on = 0;
    }
    s->hook = hook;
    s->hook_ctx = ctx;
    s->hook_always = always;
    hook_update(s);
}

static int subscribe(struct ctl_server *s, int c)
{
    if (s->nsubs == CTL_TRACE_MAX_SUBS)
        return -1;
    struct ctl_sub *u = calloc(1, sizeof *u);
    if (!u)
        return -1;
    u->fd = c;
    u->t0 = synack_rtloop_clock();
    struct sbuf b = { 0 };
    put_process(s, &b);
    sb_printf(&b, "fields\ttime\tid\tlocal\tremote\tfrom\tto\tcause\n");
    if (b.failed || sub_queue(u, b.p, b.len) != 0 ||
        synack_rtloop_add_fd(s->loop, c, on_sub, u) != 0) {
        free(b.p);
        free(u);
        return -1;
    }
    free(b.p);
    s->subs[s->nsubs++] = u;
    hook_update(s);
    sub_flush(u);
    return 0;
}

void ctl_server_trace(ctl_server *s, const synack_trace_event *ev)
{
    if (!s || s->closed || !s->nsubs || ev->kind != SYNACK_TRACE_STATE)
        return;
    char la[32], ra[32], line[512];
    synack_addr_str(&ev->local, la, sizeof la);
    synack_addr_str(&ev->remote, ra, sizeof ra);
    for (size_t i = 0; i < s->nsubs; i++) {
        struct ctl_sub *u = s->subs[i];
        if (u->dead)
            continue;
        if (u->lost) {
            int n = snprintf(line, sizeof line, "lost\t%llu\n",
                             (unsigned long long)u->lost);
            if (sub_queue(u, line, (size_t)n) == 0)
                u->lost = 0;
        }
        synack_time_t t = ev->now > u->t0 ? ev->now - u->t0 : 0;
        int n = snprintf(line, sizeof line,
                         "state\t%llu.%06llu\t%lu\t%s\t%s\t%s\t%s\t",
                         (unsigned long long)(t / SYNACK_SEC),
                         (unsigned long long)(t % SYNACK_SEC / SYNACK_USEC),
                         (unsigned long)ev->conn_id, la, ra,
                         synack_state_name(ev->old_state),
                         synack_state_name(ev->new_state));
        size_t k = (size_t)n;
        for (const char *c = ev->cause; c && *c && k + 2 < sizeof line; c++)
            line[k++] = (unsigned char)*c < 0x20 ? ' ' : *c;
        line[k++] = '\n';
        if (u->lost || sub_queue(u, line, k) != 0)
            u->lost++;
        sub_flush(u);
    }
}

void ctl_server_poll(ctl_server *s)
{
    if (!s || s->closed)
        return;
    for (size_t i = 0; i < s->nsubs;) {
        struct ctl_sub *u = s->subs[i];
        if (!u->dead && u->lost) {
            char line[64];
            int n = snprintf(line, sizeof line, "lost\t%llu\n",
                             (unsigned long long)u->lost);
            if (sub_queue(u, line, (size_t)n) == 0)
                u->lost = 0;
        }
        sub_flush(u);
        if (u->dead) {
            synack_rtloop_remove_fd(s->loop, u->fd);
            close(u->fd);
            free(u);
            s->subs[i] = s->subs[--s->nsubs];
            continue;
        }
        i++;
    }
    hook_update(s);
}

static void subs_close(struct ctl_server *s)
{
    for (size_t i = 0; i < s->nsubs; i++) {
        struct ctl_sub *u = s->subs[i];
        if (!u->dead) { /* a last "end", if it fits: the stream is over */
            sub_queue(u, "end\n", 4);
            sub_flush(u);
        }
        synack_rtloop_remove_fd(s->loop, u->fd);
        close(u->fd);
        free(u);
    }
    s->nsubs = 0;
}

static int valid_ifname(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len >= sizeof(((struct ctl_server *)0)->ifname) ||
        strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
        return 0;
    for (; *n; n++)
        if (*n == '/' || (unsigned char)*n <= 0x20 || (unsigned char)*n >= 0x7f)
            return 0;
    return 1;
}

/* mkdir -p for the last two components at most ($XDG_RUNTIME_DIR itself
 * must exist; /run/synack is created under /run). */
static int make_dir(const char *dir, char *err, size_t errlen)
{
    if (mkdir(dir, 0700) == 0)
        return 0;
    int e = errno;
    struct stat sb;
    if (e == EEXIST) {
        if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
            return 0;
        errf(err, errlen, "%s exists and is not a directory", dir);
        return -1;
    }
    if (e == EACCES || e == EPERM || e == EROFS)
        errf(err, errlen,
             "cannot create the control directory %s: %s (run as root, or "
             "set XDG_RUNTIME_DIR to a directory of yours)",
             dir, strerror(e));
    else
        errf(err, errlen, "cannot create the control directory %s: %s", dir,
             strerror(e));
    return -1;
}

/* Something exists at path: refuse (-1) if a live server owns it, remove
 * it (0) if it is a stale socket. */
static int check_existing(const char *path, const char *ifname, char *err,
                          size_t errlen)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return 0;
    if (!S_ISSOCK(sb.st_mode)) {
        errf(err, errlen,
             "%s exists and is not a socket; remove it if it is not needed",
             path);
        return -1;
    }
    char *ans = NULL, why[256];
    int rc = ctl_request(path, "hello", 1000, &ans, why, sizeof why);
    if (rc == CTL_OK) {
        struct ctl_reply r;
        char perr[128];
        if (ctl_reply_parse(ans, &r, perr, sizeof perr) == 0 && r.ok)
            errf(err, errlen,
                 "%s is already served by synack %s (pid %ld); its control "
                 "socket is %s",
                 ifname, r.command ? r.command : "?", r.pid, path);
        else
            errf(err, errlen,
                 "%s is already served: a process answers on %s", ifname,
                 path);
        ctl_reply_free(&r);
        free(ans);
        return -1;
    }
    free(ans);
    if (rc == CTL_ABSENT)
        return 0;
    if (rc == CTL_STALE) {
        if (unlink(path) != 0 && errno != ENOENT) {
            errf(err, errlen, "cannot remove the stale control socket %s: %s",
                 path, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (rc == CTL_DENIED)
        errf(err, errlen,
             "%s: permission denied (is %s served by a synack process of "
             "another user?)",
             path, ifname);
    else
        errf(err, errlen,
             "%s is in use but its process does not answer (%s); if that "
             "process is gone, remove the file",
             path, why);
    return -1;
}

int ctl_server_open(ctl_server **out, const char *ifname, const char *command,
                    synack_stack *st, synack_rtloop *loop, char *err,
                    size_t errlen)
{
    if (!out || !ifname || !st || !loop) {
        errf(err, errlen, "control socket: bad arguments");
        return -1;
    }
    *out = NULL;
    if (!valid_ifname(ifname)) {
        errf(err, errlen, "control socket: '%s' cannot name a socket file",
             ifname);
        return -1;
    }
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct ctl_server *s = calloc(1, sizeof *s);
    if (!s) {
        errf(err, errlen, "control socket: out of memory");
        return -1;
    }
    s->fd = -1;
    s->st = st;
    snprintf(s->ifname, sizeof s->ifname, "%s", ifname);
    snprintf(s->command, sizeof s->command, "%s", command ? command : "?");
    if (ctl_dir(dir, sizeof dir) != 0 ||
        ctl_sock_path(dir, ifname, s->path, sizeof s->path) != 0) {
        errf(err, errlen,
             "control socket: the path for %s is too long (shorten "
             "XDG_RUNTIME_DIR)",
             ifname);
        goto fail;
    }
    if (make_dir(dir, err, errlen) != 0)
        goto fail;
    if (check_existing(s->path, ifname, err, errlen) != 0)
        goto fail;

    s->fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s->fd < 0) {
        errf(err, errlen, "control socket: socket: %s", strerror(errno));
        goto fail;
    }
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
    mode_t old = umask(077);
    int brc = bind(s->fd, (struct sockaddr *)&sa, sizeof sa);
    int berr = errno;
    umask(old);
    if (brc != 0) {
        if (berr == EADDRINUSE)
            errf(err, errlen,
                 "%s is already served: another process created %s just now",
                 ifname, s->path);
        else
            errf(err, errlen, "control socket %s: bind: %s", s->path,
                 strerror(berr));
        goto fail_fd;
    }
    struct stat sb;
    if (chmod(s->path, 0600) != 0 || stat(s->path, &sb) != 0) {
        errf(err, errlen, "control socket %s: %s", s->path, strerror(errno));
        goto fail_unlink;
    }
    s->ino = sb.st_ino;
    s->dev = sb.st_dev;
    if (listen(s->fd, 64) != 0 || set_flags(s->fd) != 0) {
        errf(err, errlen, "control socket %s: listen: %s", s->path,
             strerror(errno));
        goto fail_unlink;
    }
    s->loop = loop;
    int rc = synack_rtloop_add_fd(loop, s->fd, on_listen, s);
    if (rc != 0) {
        errf(err, errlen, "control socket: %s", synack_strerror(rc));
        goto fail_unlink;
    }
    *out = s;
    return 0;

fail_unlink:
    unlink(s->path);
fail_fd:
    close(s->fd);
fail:
    free(s);
    return -1;
}

void ctl_server_close(ctl_server *s)
{
    if (!s || s->closed)
        return;
    struct stat sb;
    if (lstat(s->path, &sb) == 0 && sb.st_ino == s->ino &&
        sb.st_dev == s->dev)
        unlink(s->path);
    subs_close(s);
    if (s->hook_on && s->st)
        synack_set_trace(s->st, NULL, NULL);
    s->hook_on = 0;
    s->closed = 1;
    s->st = NULL;
    synack_rtloop_remove_fd(s->loop, s->fd);
    close(s->fd);
    free(s);
}

/* ---- client ------------------------------------------------------------------- */

/* A Unix-domain socket of `type` and, into sa, the address of path: the
 * descriptor, or CTL_FAILED with err. */
static int client_socket(const char *path, int type, struct sockaddr_un *sa,
                         char *err, size_t errlen)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof sa->sun_path) {
        errf(err, errlen, "%s: path too long", path);
        return CTL_FAILED;
    }
    memcpy(sa->sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, type, 0);
    if (fd < 0) {
        errf(err, errlen, "socket: %s", strerror(errno));
        return CTL_FAILED;
    }
    return fd;
}

int ctl_request(const char *path, const char *request, int timeout_ms,
                char **answer, char *err, size_t errlen)
{
    *answer = NULL;
    struct sockaddr_un sa;
    int fd = client_socket(path, SOCK_STREAM, &sa, err, errlen);
    if (fd < 0)
        return fd;
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int rc = CTL_FAILED;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        if (e == ENOENT) {
            rc = CTL_ABSENT;
            errf(err, errlen, "%s: no such socket", path);
        } else if (e == ECONNREFUSED) {
            rc = CTL_STALE;
            errf(err, errlen, "%s: nobody listens (stale socket)", path);
        } else if (e == EACCES || e == EPERM) {
            rc = CTL_DENIED;
            errf(err, errlen, "%s: permission denied", path);
        } else if (e == EAGAIN || e == EINPROGRESS || e == ETIMEDOUT) {
            errf(err, errlen, "%s: no answer within %d ms", path,
                 timeout_ms);
        } else {
            errf(err, errlen, "%s: connect: %s", path, strerror(e));
        }
        close(fd);
        return rc;
    }
    size_t rl = strlen(request);
    char *req = malloc(rl + 2);
    if (!req) {
        close(fd);
        errf(err, errlen, "out of memory");
        return CTL_FAILED;
    }
    memcpy(req, request, rl);
    req[rl] = '\n';
    size_t off = 0;
    while (off < rl + 1) {
        ssize_t w = send(fd, req + off, rl + 1 - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            free(req);
            close(fd);
            errf(err, errlen, "%s: sending the request: %s", path,
                 w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
                     ? "timed out"
                     : strerror(errno));
            return CTL_FAILED;
        }
        off += (size_t)w;
    }
    free(req);
    shutdown(fd, SHUT_WR);
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            close(fd);
            errf(err, errlen, "out of memory");
            return CTL_FAILED;
        }
        if (len + 1 == cap) {
            if (cap >= (size_t)64 << 20) {
                free(buf);
                close(fd);
                errf(err, errlen, "%s: answer too long", path);
                return CTL_FAILED;
            }
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                buf = NULL;
                continue;
            }
            buf = p;
            cap *= 2;
        }
        ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);
        if (r > 0) {
            len += (size_t)r;
            continue;
        }
        if (r == 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno == ECONNRESET && len > 0)
            break; /* the server closed with our input unread: answered */
        int e = errno;
        free(buf);
        close(fd);
        if (e == EAGAIN || e == EWOULDBLOCK)
            errf(err, errlen, "%s: no answer within %d ms (is the process "
                              "stopped?)",
                 path, timeout_ms);
        else
            errf(err, errlen, "%s: reading the answer: %s", path,
                 strerror(e));
        return CTL_FAILED;
    }
    close(fd);
    buf[len] = '\0';
    if (len == 0) {
        free(buf);
        errf(err, errlen, "%s: the process closed without answering", path);
        return CTL_FAILED;
    }
    *answer = buf;
    return CTL_OK;
}

int ctl_open_stream(const char *path, const char *request, char *err,
                    size_t errlen)
{
    struct sockaddr_un sa;
    int fd = client_socket(path, SOCK_STREAM | SOCK_CLOEXEC, &sa, err,
                           errlen);
    if (fd < 0)
        return fd;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(fd);
        errf(err, errlen, "%s: %s", path,
             e == ENOENT         ? "no such socket"
             : e == ECONNREFUSED ? "nobody listens (stale socket)"
                                 : strerror(e));
        return e == ENOENT         ? CTL_ABSENT
               : e == ECONNREFUSED ? CTL_STALE
               : e == EACCES || e == EPERM ? CTL_DENIED
                                           : CTL_FAILED;
    }
    char line[CTL_MAX_LINE + 2];
    int n = snprintf(line, sizeof line, "%s\n", request);
    if (n < 0 || (size_t)n >= sizeof line ||
        send(fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
        close(fd);
        errf(err, errlen, "%s: sending the request failed", path);
        return CTL_FAILED;
    }
    return fd;
}

size_t ctl_split(char *line, char **f, size_t max)
{
    size_t n = 0;
    if (max == 0)
        return 0;
    f[n++] = line;
    for (char *p = line; *p; p++)
        if (*p == '\t') {
            *p = '\0';
            if (n == max)
                break;
            f[n++] = p + 1;
        }
    return n;
}

int ctl_reply_parse(char *answer, struct ctl_reply *r, char *err,
                    size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->pid = -1;
    char *save = answer;
    char *nl = strchr(save, '\n');
    if (!nl) {
        errf(err, errlen, "not a synack control answer (no status line)");
        return -1;
    }
    *nl = '\0';
    char *status = save;
    save = nl + 1;
    size_t ml = strlen(CTL_MAGIC);
    if (strncmp(status, CTL_MAGIC, ml) != 0 || status[ml] != ' ') {
        errf(err, errlen, "not a synack control answer");
        return -1;
    }
    char *end;
    long ver = strtol(status + ml + 1, &end, 10);
    if (ver != CTL_VERSION || *end != ' ') {
        errf(err, errlen,
             "control protocol version %ld, this synack speaks %d (a "
             "different synack version runs there)",
             ver, CTL_VERSION);
        return -1;
    }
    end++;
    if (strncmp(end, "error ", 6) == 0 || strcmp(end, "error") == 0) {
        r->error = end[5] ? end + 6 : "unspecified error";
        return 0;
    }
    if (strcmp(end, "ok") != 0) {
        errf(err, errlen, "bad status line from the control socket");
        return -1;
    }
    r->ok = 1;
    size_t cap = 16;
    r->lines = malloc(cap * sizeof *r->lines);
    if (!r->lines) {
        errf(err, errlen, "out of memory");
        return -1;
    }
    int complete = 0;
    while (*save) {
        nl = strchr(save, '\n');
        if (!nl)
            break; /* a last line without newline: cut */
        *nl = '\0';
        char *line = save;
        save = nl + 1;
        if (strcmp(line, "end") == 0) {
            complete = 1;
            break;
        }
        if (strncmp(line, "pid\t", 4) == 0)
            r->pid = strtol(line + 4, NULL, 10);
        else if (strncmp(line, "command\t", 8) == 0)
            r->command = line + 8;
        else if (strncmp(line, "ifname\t", 7) == 0)
            r->ifname = line + 7;
        else if (strncmp(line, "version\t", 8) == 0)
            r->version = line + 8;
        else {
            if (r->nlines == cap) {
                char **p = realloc(r->lines, cap * 2 * sizeof *p);
                if (!p) {
                    errf(err, errlen, "out of memory");
                    ctl_reply_free(r);
                    return -1;
                }
                r->lines = p;
                cap *= 2;
            }
            r->lines[r->nlines++] = line;
        }
    }
    if (!complete) {
        ctl_reply_free(r);
        errf(err, errlen, "the answer was cut short");
        return -1;
    }
    return 0;
}

void ctl_reply_free(struct ctl_reply *r)
{
    free(r->lines);
    r->lines = NULL;
    r->nlines = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int ctl_scan(const char *dir, char ***paths, size_t *n, char *err,
             size_t errlen)
{
    *paths = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        if (errno == EACCES)
            errf(err, errlen,
                 "cannot read %s: permission denied (its synack processes "
                 "run as another user; run as that user or as root)",
                 dir);
        else
            errf(err, errlen, "cannot read %s: %s", dir, strerror(errno));
        return -1;
    }
    size_t cap = 0;
    char **v = NULL;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l <= 5 || strcmp(e->d_name + l - 5, ".sock") != 0)
            continue;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            char **p = realloc(v, nc * sizeof *p);
            if (!p)
                break;
            v = p;
            cap = nc;
        }
        size_t pl = strlen(dir) + 1 + l + 1;
        char *p = malloc(pl);
        if (!p)
            break;
        snprintf(p, pl, "%s/%s", dir, e->d_name);
        v[(*n)++] = p;
    }
    closedir(d);
    if (*n)
        qsort(v, *n, sizeof *v, cmp_str);
    *paths = v;
    return 0;
}

void ctl_scan_free(char **paths, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}

int ctl_scan_running(const char *only, char ***paths, size_t *n, char *err,
                     size_t errlen)
{
    char dir[256];
    *paths = NULL;
    *n = 0;
    if (ctl_dir(dir, sizeof dir) != 0) {
        errf(err, errlen, "XDG_RUNTIME_DIR is too long");
        return -1;
    }
    if (ctl_scan(dir, paths, n, err, errlen) != 0)
        return -2;
    if (only) { /* keep <dir>/<only>.sock */
        size_t k = 0, l = strlen(only);
        for (size_t i = 0; i < *n; i++) {
            const char *b = strrchr((*paths)[i], '/');
            b = b ? b + 1 : (*paths)[i];
            if (strncmp(b, only, l) == 0 && strcmp(b + l, ".sock") == 0)
                (*paths)[k++] = (*paths)[i];
            else
                free((*paths)[i]);
        }
        *n = k;
    }
    return 0;
}
