/*
 * libsynack_packetdrill.so: one synack stack behind packetdrill's
 * --so_filename interface (see pd_interface.h and docs/packetdrill-adapter.md).
 *
 *  - Time is virtual. It starts at 1 s and moves only when packetdrill calls
 *    usleep() (by the amount asked), gettimeofday() (1 us per call, so that
 *    packetdrill's final spin-wait before an event terminates), or when
 *    netdev_receive() waits for the stack's next timer. Every timer due on the
 *    way runs at its own deadline.
 *  - packetdrill's IP datagrams get an Ethernet header (peer MAC -> ours)
 *    before synack_stack_input; the stack's IPv4 frames lose theirs and are
 *    queued for netdev_receive with their send time. ARP requests from the
 *    stack are answered at once with the peer's MAC, whatever the address.
 *  - Sockets are real descriptors (open("/dev/null")) mapped to synack
 *    handles, because packetdrill closes left-over descriptors with close().
 *  - packetdrill runs blocking calls on a second thread: one mutex guards the
 *    stack, and a blocked call sleeps on one condition variable, woken after
 *    every change (packet in, timer run, clock moved, other call).
 *
 * Flags (--so_flags), comma separated key=value:
 *   local=A.B.C.D     our address (default 192.168.0.1); must equal
 *                     packetdrill's --local_ip, which is not passed to us
 *   prefix=N          on-link prefix length (default 0: every address is
 *                     on-link and ARP is answered by the adapter)
 *   gateway=A.B.C.D   default gateway (default none)
 *   remote=A.B.C.D    peer address put in the ARP table up front (optional)
 *   mtu=N             IP MTU (default 1500)
 *   seed=N            PRNG seed of the stack (default 1)
 *   give_up=SECS      netdev_receive gives up (exit status 1) when no packet
 *                     comes out within SECS virtual seconds (default 300)
 *   verbose=1         log packets and clock jumps to stderr
 *   <sysctl>=VALUE    any synack tunable, e.g. tcp_syn_retries=3
 *                     (see `synack sysctl list`)
 */
#define _GNU_SOURCE
#include "packetdrill/pd_interface.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include <synack/synack.h>

#define PD_EXPORT __attribute__((visibility("default")))

PD_EXPORT void packetdrill_interface_init(const char *flags,
                                          struct packetdrill_interface *ifc);

#define ETH_HLEN 14
#define MAX_FRAME 65600

struct pkt {
    struct pkt *next;
    size_t len;
    long long t_us;
    uint8_t data[];
};

struct sock {
    int fd;     /* real descriptor handed to packetdrill */
    int h;      /* synack handle */
    int family; /* AF_INET or AF_INET6 (v4-mapped addresses) */
    int nonblock;
};

struct pd {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    synack_stack *st;
    synack_time_t now;
    uint64_t gen; /* bumped on every change a blocked call may wait for */
    int blocked;  /* a call is asleep in wait_change() */
    uint64_t blocked_seen;
    struct pkt *qhead, *qtail;
    struct sock *socks;
    size_t nsocks, capsocks;
    uint32_t arp_pending[16];
    size_t narp;
    uint8_t mac[6], peer_mac[6];
    uint32_t ip;
    synack_time_t give_up;
    synack_time_t wake_at; /* a blocked poll() times out then */
    pthread_t main_thread;  /* the one that moves packets and the clock */
    int main_known;
    int verbose;
};

/* ---- helpers ------------------------------------------------------------ */

static int err_to_errno(int e)
{
    if (e < 0)
        e = -e;
    switch (e) {
    case SYNACK_EPERM: return EPERM;
    case SYNACK_ENOENT: return ENOENT;
    case SYNACK_EBADF: return EBADF;
    case SYNACK_EAGAIN: return EAGAIN;
    case SYNACK_ENOMEM: return ENOMEM;
    case SYNACK_EINVAL: return EINVAL;
    case SYNACK_ERANGE: return ERANGE;
    case SYNACK_EPIPE: return EPIPE;
    case SYNACK_ENOTSOCK: return ENOTSOCK;
    case SYNACK_EMSGSIZE: return EMSGSIZE;
    case SYNACK_ENOPROTOOPT: return ENOPROTOOPT;
    case SYNACK_EOPNOTSUPP: return EOPNOTSUPP;
    case SYNACK_EADDRINUSE: return EADDRINUSE;
    case SYNACK_EADDRNOTAVAIL: return EADDRNOTAVAIL;
    case SYNACK_ENETUNREACH: return ENETUNREACH;
    case SYNACK_ECONNABORTED: return ECONNABORTED;
    case SYNACK_ECONNRESET: return ECONNRESET;
    case SYNACK_ENOBUFS: return ENOBUFS;
    case SYNACK_EISCONN: return EISCONN;
    case SYNACK_ENOTCONN: return ENOTCONN;
    case SYNACK_ETIMEDOUT: return ETIMEDOUT;
    case SYNACK_ECONNREFUSED: return ECONNREFUSED;
    case SYNACK_EHOSTUNREACH: return EHOSTUNREACH;
    case SYNACK_EALREADY: return EALREADY;
    case SYNACK_EINPROGRESS: return EINPROGRESS;
    case SYNACK_EMFILE: return EMFILE;
    default: return EIO;
    }
}

/* -1 with errno from a negative synack code. */
static int fail(int code)
{
    errno = err_to_errno(code);
    return -1;
}

static int fail_errno(int e)
{
    errno = e;
    return -1;
}

static void lock(struct pd *p) { pthread_mutex_lock(&p->mu); }
static void unlock(struct pd *p) { pthread_mutex_unlock(&p->mu); }

static void bump(struct pd *p)
{
    p->gen++;
    pthread_cond_broadcast(&p->cv);
}

static void put16(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)(v >> 24);
    b[1] = (uint8_t)(v >> 16);
    b[2] = (uint8_t)(v >> 8);
    b[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 |
           b[3];
}

/* Answer the ARP requests the stack sent during the last call. Done after
 * the call returns: the output callback must not re-enter the stack. */
static void answer_arp(struct pd *p)
{
    while (p->narp > 0) {
        uint32_t ip = p->arp_pending[--p->narp];
        uint8_t f[ETH_HLEN + 28];
        memcpy(f, p->mac, 6);
        memcpy(f + 6, p->peer_mac, 6);
        put16(f + 12, 0x0806);
        uint8_t *a = f + ETH_HLEN;
        put16(a, 1);
        put16(a + 2, 0x0800);
        a[4] = 6;
        a[5] = 4;
        put16(a + 6, 2); /* reply */
        memcpy(a + 8, p->peer_mac, 6);
        put32(a + 14, ip);
        memcpy(a + 18, p->mac, 6);
        put32(a + 24, p->ip);
        if (p->verbose)
            fprintf(stderr, "synack-pd: ARP reply for %u.%u.%u.%u\n",
                    ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
        synack_stack_input(p->st, f, sizeof f, p->now);
    }
}

/* After every call into the stack. */
static void after(struct pd *p)
{
    answer_arp(p);
    bump(p);
}

static void on_output(void *ctx, const uint8_t *frame, size_t len,
                      synack_time_t now)
{
    struct pd *p = ctx;
    (void)now;
    if (len < ETH_HLEN)
        return;
    unsigned type = (unsigned)frame[12] << 8 | frame[13];
    if (type == 0x0806) {
        if (len >= ETH_HLEN + 28 && frame[ETH_HLEN + 7] == 1 &&
            p->narp < sizeof p->arp_pending / sizeof p->arp_pending[0])
            p->arp_pending[p->narp++] = get32(frame + ETH_HLEN + 24);
        return;
    }
    if (type != 0x0800 || len < ETH_HLEN + 20)
        return;
    /* Drop the Ethernet padding of short frames: the datagram ends at the
     * IPv4 total length. */
    size_t ip_len = (size_t)frame[ETH_HLEN + 2] << 8 | frame[ETH_HLEN + 3];
    if (ip_len < 20 || ip_len > len - ETH_HLEN)
        ip_len = len - ETH_HLEN;
    struct pkt *k = malloc(sizeof *k + ip_len);
    if (!k)
        return;
    k->next = NULL;
    k->len = ip_len;
    k->t_us = (long long)(p->now / SYNACK_USEC);
    memcpy(k->data, frame + ETH_HLEN, k->len);
    if (p->qtail)
        p->qtail->next = k;
    else
        p->qhead = k;
    p->qtail = k;
    if (p->verbose)
        fprintf(stderr, "synack-pd: %.6f out %zu bytes\n",
                (double)p->now / 1e9, k->len);
}

/* Let a blocked call look at the latest change before the clock moves on,
 * so that it returns at the virtual time the change happened. Bounded in
 * real time in case that thread is busy elsewhere. */
static void catch_up(struct pd *p)
{
    for (int i = 0; i < 100 && p->blocked && p->blocked_seen != p->gen; i++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&p->cv, &p->mu, &ts);
    }
}

/* packetdrill's main thread is the one that calls gettimeofday first and
 * the one that moves packets and the clock. */
static void note_main(struct pd *p)
{
    if (!p->main_known) {
        p->main_thread = pthread_self();
        p->main_known = 1;
    }
}

/* Sleep until the next change (a call that would block). */
static void wait_change(struct pd *p)
{
    if (p->main_known && pthread_equal(p->main_thread, pthread_self())) {
        /* Nobody else would ever deliver the packet or move the clock. */
        fprintf(stderr,
                "synack packetdrill adapter: a system call blocks on "
                "packetdrill's main thread, which nothing could ever wake; "
                "mark it blocking in the script (+0...T call) or make the "
                "socket non-blocking\n");
        fflush(stderr);
        exit(EXIT_FAILURE);
    }
    p->blocked = 1;
    p->blocked_seen = p->gen;
    pthread_cond_broadcast(&p->cv); /* tell catch_up() we have looked */
    uint64_t g = p->gen;
    while (p->gen == g)
        pthread_cond_wait(&p->cv, &p->mu);
    p->blocked = 0;
}

/* Move the clock to t, stopping at each stack timer and at the time a
 * blocked poll() gives up, so that each happens at its own virtual time. */
static void clock_to(struct pd *p, synack_time_t t)
{
    for (int guard = 0; guard < 1000000; guard++) {
        synack_time_t d = synack_stack_next_deadline(p->st);
        if (p->wake_at < d)
            d = p->wake_at;
        if (d == SYNACK_TIME_NEVER || d > t)
            break;
        if (d > p->now)
            p->now = d;
        synack_stack_advance(p->st, p->now);
        if (p->wake_at <= p->now)
            p->wake_at = SYNACK_TIME_NEVER;
        after(p);
        catch_up(p);
    }
    if (t > p->now) {
        p->now = t;
        synack_stack_advance(p->st, p->now);
        after(p);
        catch_up(p);
    }
}

static struct sock *find(struct pd *p, int fd)
{
    for (size_t i = 0; i < p->nsocks; i++)
        if (p->socks[i].fd == fd)
            return &p->socks[i];
    return NULL;
}

static int to_addr(const struct sock *s, const struct sockaddr *sa,
                   socklen_t len, synack_addr *out)
{
    if (!sa)
        return -SYNACK_EINVAL;
    if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof in); /* sa may be less aligned */
        out->ip = ntohl(in.sin_addr.s_addr);
        out->port = ntohs(in.sin_port);
        return 0;
    }
    if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 in6;
        memcpy(&in6, sa, sizeof in6);
        const uint8_t *b = in6.sin6_addr.s6_addr;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0,
                                           0, 0, 0, 0, 0xff, 0xff};
        static const uint8_t any[16] = {0};
        if (memcmp(b, any, 16) == 0)
            out->ip = 0;
        else if (memcmp(b, mapped, 12) == 0)
            out->ip = get32(b + 12);
        else
            return -SYNACK_EADDRNOTAVAIL; /* IPv4 only */
        out->port = ntohs(in6.sin6_port);
        return 0;
    }
    (void)s;
    return -SYNACK_EINVAL;
}

static void from_addr(const struct sock *s, const synack_addr *a,
                      struct sockaddr *sa, socklen_t *len)
{
    if (!sa || !len)
        return;
    struct sockaddr_storage ss;
    socklen_t n;
    memset(&ss, 0, sizeof ss);
    if (s->family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(a->port);
        in6->sin6_addr.s6_addr[10] = 0xff;
        in6->sin6_addr.s6_addr[11] = 0xff;
        put32(in6->sin6_addr.s6_addr + 12, a->ip);
        n = sizeof *in6;
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(a->port);
        in->sin_addr.s_addr = htonl(a->ip);
        n = sizeof *in;
    }
    memcpy(sa, &ss, *len < n ? *len : n);
    *len = n;
}

static struct sock *add_sock(struct pd *p, int h, int family, int nonblock)
{
    if (p->nsocks == p->capsocks) {
        size_t cap = p->capsocks ? p->capsocks * 2 : 16;
        struct sock *n = realloc(p->socks, cap * sizeof *n);
        if (!n)
            return NULL;
        p->socks = n;
        p->capsocks = cap;
    }
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct sock *s = &p->socks[p->nsocks++];
    s->fd = fd;
    s->h = h;
    s->family = family;
    s->nonblock = nonblock;
    return s;
}

#define ENTER(p, fd, s)                                                        \
    struct pd *p = ud;                                                         \
    lock(p);                                                                   \
    struct sock *s = find(p, fd);                                              \
    if (!s) {                                                                  \
        unlock(p);                                                             \
        return fail_errno(EBADF);                                              \
    }

/* ---- socket calls ------------------------------------------------------- */

static int pd_socket(void *ud, int domain, int type, int protocol)
{
    struct pd *p = ud;
    if (domain != AF_INET && domain != AF_INET6)
        return fail_errno(EAFNOSUPPORT);
    if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_STREAM ||
        (protocol != 0 && protocol != IPPROTO_TCP))
        return fail_errno(EPROTONOSUPPORT);
    lock(p);
    int h = synack_socket(p->st);
    if (h < 0) {
        unlock(p);
        return fail(h);
    }
    struct sock *s = add_sock(p, h, domain, (type & SOCK_NONBLOCK) != 0);
    if (!s) {
        int e = errno ? errno : ENOMEM;
        synack_close(p->st, h, p->now);
        unlock(p);
        return fail_errno(e);
    }
    int fd = s->fd;
    unlock(p);
    return fd;
}

static int pd_bind(void *ud, int fd, const struct sockaddr *sa, socklen_t len)
{
    ENTER(p, fd, s);
    synack_addr a;
    int r = to_addr(s, sa, len, &a);
    if (r == 0)
        r = synack_bind(p->st, s->h, &a);
    after(p);
    unlock(p);
    return r < 0 ? fail(r) : 0;
}

static int pd_listen(void *ud, int fd, int backlog)
{
    ENTER(p, fd, s);
    int r = synack_listen(p->st, s->h, backlog);
    after(p);
    unlock(p);
    return r < 0 ? fail(r) : 0;
}

static int pd_accept(void *ud, int fd, struct sockaddr *sa, socklen_t *len)
{
    ENTER(p, fd, s);
    synack_addr peer;
    int r;
    for (;;) {
        r = synack_accept(p->st, s->h, &peer);
        after(p);
        if (r != -SYNACK_EAGAIN || s->nonblock)
            break;
        wait_change(p);
        s = find(p, fd);
        if (!s) {
            unlock(p);
            return fail_errno(EBADF);
        }
    }
    if (r < 0) {
        unlock(p);
        return fail(r);
    }
    int family = s->family;
    struct sock *n = add_sock(p, r, family, 0);
    if (!n) {
        synack_abort(p->st, r, p->now);
        after(p);
        unlock(p);
        return fail_errno(EMFILE);
    }
    from_addr(n, &peer, sa, len);
    int nfd = n->fd;
    unlock(p);
    return nfd;
}

static int pd_connect(void *ud, int fd, const struct sockaddr *sa,
                      socklen_t len)
{
    ENTER(p, fd, s);
    synack_addr a;
    int r = to_addr(s, sa, len, &a);
    if (r == 0)
        r = synack_connect(p->st, s->h, &a, p->now);
    after(p);
    if (r == -SYNACK_EINPROGRESS && !s->nonblock) {
        int h = s->h;
        while (!(synack_poll(p->st, h) &
                 (SYNACK_POLLOUT | SYNACK_POLLERR | SYNACK_POLLHUP)))
            wait_change(p);
        int e = 0;
        size_t elen = sizeof e;
        synack_getsockopt(p->st, h, SYNACK_SO_ERROR, &e, &elen);
        r = e ? -e : 0;
    }
    unlock(p);
    return r < 0 ? fail(r) : 0;
}

static ssize_t do_recv(struct pd *p, int fd, void *buf, size_t len, int flags)
{
    if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL))
        return fail_errno(EOPNOTSUPP);
    lock(p);
    ssize_t r;
    for (;;) {
        struct sock *s = find(p, fd);
        if (!s) {
            unlock(p);
            return fail_errno(EBADF);
        }
        r = synack_recv(p->st, s->h, buf, len, p->now);
        after(p);
        if (r != -SYNACK_EAGAIN || s->nonblock || (flags & MSG_DONTWAIT))
            break;
        wait_change(p);
    }
    unlock(p);
    return r < 0 ? fail((int)r) : r;
}

static ssize_t do_send(struct pd *p, int fd, const void *buf, size_t len,
                       int flags)
{
    if (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE))
        return fail_errno(EOPNOTSUPP);
    lock(p);
    size_t done = 0;
    ssize_t r = 0;
    for (;;) {
        struct sock *s = find(p, fd);
        if (!s) {
            unlock(p);
            return fail_errno(EBADF);
        }
        r = synack_send(p->st, s->h, (const uint8_t *)buf + done, len - done,
                        p->now);
        after(p);
        if (r > 0)
            done += (size_t)r;
        if (done == len && (r >= 0 || len == 0))
            break;
        if (r < 0 && r != -SYNACK_EAGAIN)
            break;
        if (s->nonblock || (flags & MSG_DONTWAIT))
            break;
        if (r == -SYNACK_EAGAIN || r == 0)
            wait_change(p);
    }
    unlock(p);
    if (done > 0)
        return (ssize_t)done;
    return r < 0 ? fail((int)r) : 0;
}

static ssize_t pd_read(void *ud, int fd, void *buf, size_t n)
{
    return do_recv(ud, fd, buf, n, 0);
}

static ssize_t pd_recv(void *ud, int fd, void *buf, size_t n, int flags)
{
    return do_recv(ud, fd, buf, n, flags);
}

static ssize_t pd_recvfrom(void *ud, int fd, void *buf, size_t n, int flags,
                           struct sockaddr *sa, socklen_t *len)
{
    ssize_t r = do_recv(ud, fd, buf, n, flags);
    if (r >= 0 && sa && len) {
        struct pd *p = ud;
        lock(p);
        struct sock *s = find(p, fd);
        synack_addr a;
        if (s && synack_getpeername(p->st, s->h, &a) == 0)
            from_addr(s, &a, sa, len);
        else
            *len = 0;
        unlock(p);
    }
    return r;
}

/* A contiguous buffer for the iovec's total length (at least 1 byte);
 * NULL with errno set on a bad count or no memory. */
static uint8_t *iov_buffer(const struct iovec *iov, int n, size_t *total)
{
    if (n < 0) {
        errno = EINVAL;
        return NULL;
    }
    size_t t = 0;
    for (int i = 0; i < n; i++)
        t += iov[i].iov_len;
    *total = t;
    uint8_t *b = malloc(t ? t : 1);
    if (!b)
        errno = ENOMEM;
    return b;
}

static ssize_t recv_iov(void *ud, int fd, const struct iovec *iov, int n,
                        int flags)
{
    size_t total;
    uint8_t *tmp = iov_buffer(iov, n, &total);
    if (!tmp)
        return fail_errno(errno);
    ssize_t r = do_recv(ud, fd, tmp, total, flags);
    size_t off = 0;
    for (int i = 0; r > 0 && i < n && off < (size_t)r; i++) {
        size_t c = iov[i].iov_len;
        if (c > (size_t)r - off)
            c = (size_t)r - off;
        memcpy(iov[i].iov_base, tmp + off, c);
        off += c;
    }
    free(tmp);
    return r;
}

static ssize_t send_iov(void *ud, int fd, const struct iovec *iov, int n,
                        int flags)
{
    size_t total;
    uint8_t *tmp = iov_buffer(iov, n, &total);
    if (!tmp)
        return fail_errno(errno);
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        memcpy(tmp + off, iov[i].iov_base, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    ssize_t r = do_send(ud, fd, tmp, total, flags);
    free(tmp);
    return r;
}

static ssize_t pd_readv(void *ud, int fd, const struct iovec *iov, int n)
{
    return recv_iov(ud, fd, iov, n, 0);
}

static ssize_t pd_recvmsg(void *ud, int fd, struct msghdr *m, int flags)
{
    ssize_t r = recv_iov(ud, fd, m->msg_iov, (int)m->msg_iovlen, flags);
    if (r >= 0) {
        m->msg_controllen = 0;
        m->msg_flags = 0;
        m->msg_namelen = 0;
    }
    return r;
}

static ssize_t pd_write(void *ud, int fd, const void *buf, size_t n)
{
    return do_send(ud, fd, buf, n, 0);
}

static ssize_t pd_writev(void *ud, int fd, const struct iovec *iov, int n)
{
    return send_iov(ud, fd, iov, n, 0);
}

static ssize_t pd_send(void *ud, int fd, const void *buf, size_t n, int flags)
{
    return do_send(ud, fd, buf, n, flags);
}

static ssize_t pd_sendto(void *ud, int fd, const void *buf, size_t n,
                         int flags, const struct sockaddr *sa, socklen_t len)
{
    (void)sa; /* a TCP socket ignores the address once connected */
    (void)len;
    return do_send(ud, fd, buf, n, flags);
}

static ssize_t pd_sendmsg(void *ud, int fd, const struct msghdr *m, int flags)
{
    return send_iov(ud, fd, m->msg_iov, (int)m->msg_iovlen, flags);
}

static int pd_fcntl(void *ud, int fd, int cmd, ...)
{
    ENTER(p, fd, s);
    int r;
    if (cmd == F_GETFL) {
        r = O_RDWR | (s->nonblock ? O_NONBLOCK : 0);
    } else if (cmd == F_SETFL) {
        va_list ap;
        va_start(ap, cmd);
        int fl = va_arg(ap, int);
        va_end(ap);
        s->nonblock = (fl & O_NONBLOCK) != 0;
        r = 0;
    } else {
        unlock(p);
        return fail_errno(EINVAL);
    }
    unlock(p);
    return r;
}

static int pd_ioctl(void *ud, int fd, unsigned long req, ...)
{
    ENTER(p, fd, s);
    va_list ap;
    va_start(ap, req);
    int *arg = va_arg(ap, int *);
    va_end(ap);
    synack_conn_info ci;
    int r = -1;
    if (req == FIONREAD || req == TIOCOUTQ) {
        if (synack_conn_get(p->st, s->h, &ci) < 0) {
            errno = EBADF;
        } else {
            *arg = (int)(req == FIONREAD ? ci.recv_q : ci.send_q);
            r = 0;
        }
    } else if (req == FIONBIO) {
        s->nonblock = *arg != 0;
        r = 0;
    } else {
        errno = ENOTTY;
    }
    unlock(p);
    return r;
}

static int pd_close(void *ud, int fd)
{
    ENTER(p, fd, s);
    int r = synack_close(p->st, s->h, p->now);
    after(p);
    close(s->fd);
    *s = p->socks[--p->nsocks];
    unlock(p);
    return r < 0 ? fail(r) : 0;
}

static int pd_shutdown(void *ud, int fd, int how)
{
    ENTER(p, fd, s);
    int r = synack_shutdown(p->st, s->h, how, p->now);
    after(p);
    unlock(p);
    return r < 0 ? fail(r) : 0;
}

/* synack option for (level, name); 0 when not supported. */
static int map_opt(int level, int name)
{
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_REUSEADDR: return SYNACK_SO_REUSEADDR;
        case SO_LINGER: return SYNACK_SO_LINGER;
        case SO_KEEPALIVE: return SYNACK_SO_KEEPALIVE;
        case SO_RCVBUF: return SYNACK_SO_RCVBUF;
        case SO_SNDBUF: return SYNACK_SO_SNDBUF;
        case SO_ERROR: return SYNACK_SO_ERROR;
        }
    } else if (level == IPPROTO_TCP) {
        switch (name) {
        case TCP_NODELAY: return SYNACK_TCP_NODELAY;
        case TCP_MAXSEG: return SYNACK_TCP_MAXSEG;
        case TCP_USER_TIMEOUT: return SYNACK_TCP_USER_TIMEOUT;
        case TCP_KEEPIDLE: return SYNACK_TCP_KEEPIDLE;
        case TCP_KEEPINTVL: return SYNACK_TCP_KEEPINTVL;
        case TCP_KEEPCNT: return SYNACK_TCP_KEEPCNT;
        }
    }
    return 0;
}

static int pd_getsockopt(void *ud, int fd, int level, int name, void *val,
                         socklen_t *len)
{
    ENTER(p, fd, s);
    int opt = map_opt(level, name);
    if (!opt) {
        unlock(p);
        return fail_errno(ENOPROTOOPT);
    }
    union {
        int i;
        struct synack_linger l;
    } v;
    memset(&v, 0, sizeof v);
    size_t n = opt == SYNACK_SO_LINGER ? sizeof v.l : sizeof v.i;
    int r = synack_getsockopt(p->st, s->h, opt, &v, &n);
    unlock(p);
    if (r < 0)
        return fail(r);
    if (opt == SYNACK_SO_ERROR && v.i)
        v.i = err_to_errno(v.i);
    if (opt == SYNACK_SO_LINGER) {
        struct linger l = {v.l.l_onoff, v.l.l_linger};
        memcpy(val, &l, *len < sizeof l ? *len : sizeof l);
        *len = sizeof l;
    } else {
        memcpy(val, &v.i, *len < sizeof v.i ? *len : sizeof v.i);
        *len = sizeof v.i;
    }
    return 0;
}

static int pd_setsockopt(void *ud, int fd, int level, int name,
                         const void *val, socklen_t len)
{
    ENTER(p, fd, s);
    int opt = map_opt(level, name);
    if (!opt) {
        unlock(p);
        return fail_errno(ENOPROTOOPT);
    }
    int r;
    if (opt == SYNACK_SO_LINGER) {
        struct linger l;
        if (len < sizeof l) {
            unlock(p);
            return fail_errno(EINVAL);
        }
        memcpy(&l, val, sizeof l);
        struct synack_linger sl = {l.l_onoff, l.l_linger};
        r = synack_setsockopt(p->st, s->h, opt, &sl, sizeof sl);
    } else {
        int i;
        if (len < sizeof i) {
            unlock(p);
            return fail_errno(EINVAL);
        }
        memcpy(&i, val, sizeof i);
        r = synack_setsockopt(p->st, s->h, opt, &i, sizeof i);
    }
    after(p);
    unlock(p);
    return r < 0 ? fail(r) : 0;
}

static short poll_bits(struct pd *p, const struct pollfd *f)
{
    struct sock *s = find(p, f->fd);
    if (!s)
        return f->fd < 0 ? 0 : POLLNVAL;
    unsigned b = synack_poll(p->st, s->h);
    short r = 0;
    if (b & SYNACK_POLLIN)
        r |= POLLIN | POLLRDNORM;
    if (b & SYNACK_POLLOUT)
        r |= POLLOUT | POLLWRNORM;
    if (b & SYNACK_POLLRDHUP)
        r |= POLLRDHUP;
    if (b & SYNACK_POLLERR)
        r |= POLLERR;
    if (b & SYNACK_POLLHUP)
        r |= POLLHUP;
    return (short)(r & (f->events | POLLERR | POLLHUP | POLLNVAL));
}

static int pd_poll(void *ud, struct pollfd *fds, nfds_t n, int timeout)
{
    struct pd *p = ud;
    lock(p);
    synack_time_t end = timeout < 0 ? SYNACK_TIME_NEVER
                                    : p->now + (synack_time_t)timeout *
                                                   SYNACK_MSEC;
    int ready;
    for (;;) {
        ready = 0;
        for (nfds_t i = 0; i < n; i++) {
            fds[i].revents = poll_bits(p, &fds[i]);
            if (fds[i].revents)
                ready++;
        }
        if (ready || p->now >= end)
            break;
        if (end < p->wake_at)
            p->wake_at = end;
        wait_change(p);
    }
    unlock(p);
    return ready;
}

/* ---- packets and time --------------------------------------------------- */

static int pd_netdev_send(void *ud, const void *buf, size_t count)
{
    struct pd *p = ud;
    if (count == 0 || count > MAX_FRAME - ETH_HLEN)
        return fail_errno(EINVAL);
    if ((((const uint8_t *)buf)[0] >> 4) != 4)
        return fail_errno(EAFNOSUPPORT); /* IPv4 only */
    uint8_t *f = malloc(count + ETH_HLEN);
    if (!f)
        return fail_errno(ENOMEM);
    lock(p);
    note_main(p);
    memcpy(f, p->mac, 6);
    memcpy(f + 6, p->peer_mac, 6);
    put16(f + 12, 0x0800);
    memcpy(f + ETH_HLEN, buf, count);
    if (p->verbose && count >= 20) {
        const uint8_t *b = buf;
        fprintf(stderr,
                "synack-pd: %.6f in %zu bytes %u.%u.%u.%u -> %u.%u.%u.%u\n",
                (double)p->now / 1e9, count, b[12], b[13], b[14], b[15],
                b[16], b[17], b[18], b[19]);
    }
    synack_stack_input(p->st, f, count + ETH_HLEN, p->now);
    after(p);
    unlock(p);
    free(f);
    return 0;
}

static int pd_netdev_receive(void *ud, void *buf, size_t *count,
                             long long *time_us)
{
    struct pd *p = ud;
    lock(p);
    note_main(p);
    synack_time_t start = p->now;
    synack_time_t limit = start + p->give_up;
    int idle = 0;
    for (;;) {
        catch_up(p);
        struct pkt *k = p->qhead;
        if (k) {
            p->qhead = k->next;
            if (!p->qhead)
                p->qtail = NULL;
            size_t n = k->len < *count ? k->len : *count;
            memcpy(buf, k->data, n);
            *count = n;
            *time_us = k->t_us;
            free(k);
            unlock(p);
            return 0;
        }
        synack_time_t d = synack_stack_next_deadline(p->st);
        if (p->wake_at < d)
            d = p->wake_at; /* a blocked poll() times out first */
        if (d != SYNACK_TIME_NEVER && d <= limit) {
            if (p->verbose)
                fprintf(stderr, "synack-pd: %.6f waiting for a packet: "
                                "clock to the next timer at %.6f\n",
                        (double)p->now / 1e9, (double)d / 1e9);
            clock_to(p, d > p->now ? d : p->now);
            idle = 0;
            continue;
        }
        /* Nothing scheduled: a blocked call on the other thread may still
         * act. Give it a moment of real time, then give up. */
        if (idle++ < 20) {
            uint64_t g = p->gen;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 50 * 1000 * 1000;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&p->cv, &p->mu, &ts);
            if (p->gen != g)
                idle = 0;
            continue;
        }
        fprintf(stderr,
                "synack packetdrill adapter: expected a packet from the "
                "stack, but none came within %.3f virtual seconds (waited "
                "from %.6f to %.6f); giving up (so_flags give_up=SECS "
                "changes the bound)\n",
                (double)p->give_up / 1e9, (double)(start - SYNACK_SEC) / 1e9,
                (double)(limit - SYNACK_SEC) / 1e9);
        fflush(stderr);
        exit(EXIT_FAILURE);
    }
}

static int pd_usleep(void *ud, useconds_t us)
{
    struct pd *p = ud;
    lock(p);
    note_main(p);
    clock_to(p, p->now + (synack_time_t)us * SYNACK_USEC);
    unlock(p);
    return 0;
}

static int pd_gettimeofday(void *ud, struct timeval *tv, void *tz)
{
    struct pd *p = ud;
    (void)tz;
    lock(p);
    note_main(p);
    synack_time_t t = p->now;
    /* One microsecond per look, so that a caller spinning until a time
     * (packetdrill's wait before each event) sees it arrive. */
    clock_to(p, p->now + SYNACK_USEC);
    unlock(p);
    tv->tv_sec = (time_t)(t / SYNACK_SEC);
    tv->tv_usec = (suseconds_t)((t % SYNACK_SEC) / SYNACK_USEC);
    return 0;
}

static int pd_epoll_create(void *ud, int size)
{
    (void)ud;
    (void)size;
    return fail_errno(ENOSYS);
}

static int pd_epoll_ctl(void *ud, int epfd, int op, int fd,
                        struct epoll_event *ev)
{
    (void)ud;
    (void)epfd;
    (void)op;
    (void)fd;
    (void)ev;
    return fail_errno(ENOSYS);
}

static int pd_epoll_wait(void *ud, int epfd, struct epoll_event *ev, int max,
                         int timeout)
{
    (void)ud;
    (void)epfd;
    (void)ev;
    (void)max;
    (void)timeout;
    return fail_errno(ENOSYS);
}

static int pd_pipe(void *ud, int fds[2])
{
    (void)ud;
    (void)fds;
    return fail_errno(ENOSYS);
}

static int pd_splice(void *ud, int in, pd_loff_t *off_in, int out,
                     pd_loff_t *off_out, size_t len, unsigned flags)
{
    (void)ud;
    (void)in;
    (void)off_in;
    (void)out;
    (void)off_out;
    (void)len;
    (void)flags;
    return fail_errno(ENOSYS);
}

static void pd_free(void *ud)
{
    struct pd *p = ud;
    if (!p)
        return;
    /* The descriptors were already closed by packetdrill (close_all_fds runs
     * before free); closing them again could close someone else's. */
    synack_stack_del(p->st);
    while (p->qhead) {
        struct pkt *k = p->qhead;
        p->qhead = k->next;
        free(k);
    }
    free(p->socks);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* ---- set-up ------------------------------------------------------------- */

/* verbose=1: the stack's trace events on stderr. */
static void on_trace(void *ctx, const synack_trace_event *ev)
{
    (void)ctx;
    char l[32], r[32], fl[32];
    synack_addr_str(&ev->local, l, sizeof l);
    synack_addr_str(&ev->remote, r, sizeof r);
    double t = (double)ev->now / 1e9;
    switch (ev->kind) {
    case SYNACK_TRACE_STATE:
        fprintf(stderr, "synack-pd: %.6f %s-%s %s -> %s (%s)\n", t, l, r,
                synack_state_name(ev->old_state),
                synack_state_name(ev->new_state),
                ev->cause ? ev->cause : "");
        break;
    case SYNACK_TRACE_DROP:
        fprintf(stderr, "synack-pd: %.6f drop %s: %s\n", t,
                synack_drop_name(ev->drop_reason),
                synack_drop_text(ev->drop_reason));
        break;
    default:
        if (ev->seg)
            fprintf(stderr, "synack-pd: %.6f seg %s %s seq %u ack %u len %u\n",
                    t, ev->kind == SYNACK_TRACE_SEG_IN ? "in" : "out",
                    synack_flags_str(ev->seg->flags, fl, sizeof fl),
                    ev->seg->seq, ev->seg->ack, ev->seg->len);
        break;
    }
}

__attribute__((format(printf, 1, 2), noreturn)) static void
die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "synack packetdrill adapter: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static unsigned long num(const char *k, const char *v, unsigned long max)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(v, &end, 10);
    if (errno || end == v || *end || n > max)
        die("bad value for %s: '%s'", k, v);
    return n;
}

static uint32_t ipv4(const char *k, const char *v)
{
    uint32_t ip;
    if (synack_ip_parse(v, &ip) < 0)
        die("bad address for %s: '%s'", k, v);
    return ip;
}

PD_EXPORT void packetdrill_interface_init(const char *flags,
                                          struct packetdrill_interface *ifc)
{
    struct pd *p = calloc(1, sizeof *p);
    if (!p)
        die("out of memory");
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    static const uint8_t mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x01};
    static const uint8_t peer[6] = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x02};
    memcpy(p->mac, mac, 6);
    memcpy(p->peer_mac, peer, 6);
    p->now = SYNACK_SEC;
    p->give_up = 300 * SYNACK_SEC;
    p->wake_at = SYNACK_TIME_NEVER;

    synack_stack_config cfg;
    synack_stack_config_init(&cfg);
    memcpy(cfg.mac, mac, 6);
    synack_ip_parse("192.168.0.1", &cfg.ip);
    cfg.prefix_len = 0;
    cfg.seed = 1;
    uint32_t remote = 0;

    /* Two passes: stack options first, tunables once the stack exists. */
    char *copy = strdup(flags ? flags : "");
    char *tunables[64];
    size_t ntun = 0;
    for (char *save = NULL, *kv = strtok_r(copy, ",", &save); kv;
         kv = strtok_r(NULL, ",", &save)) {
        while (*kv == ' ')
            kv++;
        if (!*kv)
            continue;
        char *eq = strchr(kv, '=');
        if (!eq)
            die("flag '%s' is not key=value", kv);
        *eq = 0;
        const char *k = kv, *v = eq + 1;
        if (!strcmp(k, "local"))
            cfg.ip = ipv4(k, v);
        else if (!strcmp(k, "prefix"))
            cfg.prefix_len = (uint8_t)num(k, v, 32);
        else if (!strcmp(k, "gateway"))
            cfg.gateway = ipv4(k, v);
        else if (!strcmp(k, "remote"))
            remote = ipv4(k, v);
        else if (!strcmp(k, "mtu"))
            cfg.mtu = (uint16_t)num(k, v, 65535);
        else if (!strcmp(k, "seed"))
            cfg.seed = num(k, v, ~0ul);
        else if (!strcmp(k, "give_up"))
            p->give_up = (synack_time_t)num(k, v, 1000000) * SYNACK_SEC;
        else if (!strcmp(k, "verbose"))
            p->verbose = (int)num(k, v, 1);
        else if (ntun < sizeof tunables / sizeof tunables[0]) {
            *eq = '=';
            tunables[ntun++] = kv;
        } else
            die("too many flags at '%s'", k);
    }
    for (size_t i = 0; i < sizeof cfg.isn_secret; i++)
        cfg.isn_secret[i] = (uint8_t)(cfg.seed >> (8 * (i % 8)) ^ (i * 37));
    cfg.output = on_output;
    cfg.output_ctx = p;
    p->ip = cfg.ip;
    int r = synack_stack_new(&cfg, &p->st);
    if (r < 0)
        die("cannot create the stack: %s", synack_strerror(r));
    for (size_t i = 0; i < ntun; i++) {
        char *eq = strchr(tunables[i], '=');
        *eq = 0;
        r = synack_sysctl_set(p->st, tunables[i], eq + 1);
        if (r == -SYNACK_ENOENT)
            die("unknown flag or tunable '%s'", tunables[i]);
        if (r < 0)
            die("bad value for %s: '%s'", tunables[i], eq + 1);
    }
    free(copy);
    if (remote)
        synack_arp_add(p->st, remote, p->peer_mac, p->now);
    if (p->verbose)
        synack_set_trace(p->st, on_trace, p);

    memset(ifc, 0, sizeof *ifc);
    ifc->userdata = p;
    ifc->free = pd_free;
    ifc->socket = pd_socket;
    ifc->bind = pd_bind;
    ifc->listen = pd_listen;
    ifc->accept = pd_accept;
    ifc->connect = pd_connect;
    ifc->read = pd_read;
    ifc->readv = pd_readv;
    ifc->recv = pd_recv;
    ifc->recvfrom = pd_recvfrom;
    ifc->recvmsg = pd_recvmsg;
    ifc->write = pd_write;
    ifc->writev = pd_writev;
    ifc->send = pd_send;
    ifc->sendto = pd_sendto;
    ifc->sendmsg = pd_sendmsg;
    ifc->fcntl = pd_fcntl;
    ifc->ioctl = pd_ioctl;
    ifc->close = pd_close;
    ifc->shutdown = pd_shutdown;
    ifc->getsockopt = pd_getsockopt;
    ifc->setsockopt = pd_setsockopt;
    ifc->poll = pd_poll;
    ifc->netdev_send = pd_netdev_send;
    ifc->netdev_receive = pd_netdev_receive;
    ifc->usleep = pd_usleep;
    ifc->gettimeofday = pd_gettimeofday;
    ifc->epoll_create = pd_epoll_create;
    ifc->epoll_ctl = pd_epoll_ctl;
    ifc->epoll_wait = pd_epoll_wait;
    ifc->pipe = pd_pipe;
    ifc->splice = pd_splice;
}
