/*
 * libsynack_packetdrill.so without packetdrill: dlopen the adapter, take its
 * callback table from packetdrill_interface_init and drive it the way
 * packetdrill does (IP datagrams in and out, virtual time, socket calls,
 * blocking calls on a second thread).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "packetdrill/pd_interface.h"

#ifndef PD_ADAPTER_SO
#error "PD_ADAPTER_SO must name the built libsynack_packetdrill.so"
#endif

#define LOCAL_IP 0xc0a80001u  /* 192.168.0.1 */
#define REMOTE_IP 0xc0000201u /* 192.0.2.1 */
#define LPORT 8080
#define RPORT 40000

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10

static struct packetdrill_interface ifc;
static void *lib;

static void load(const char *flags)
{
    lib = dlopen(PD_ADAPTER_SO, RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        fail_msg("dlopen: %s", dlerror());
    packetdrill_interface_init_fn init;
    *(void **)&init = dlsym(lib, "packetdrill_interface_init");
    assert_non_null(init);
    memset(&ifc, 0, sizeof ifc);
    init(flags, &ifc);
    assert_non_null(ifc.userdata);
    assert_non_null(ifc.netdev_receive);
    assert_non_null(ifc.splice); /* the last member is filled in too */
    /* packetdrill's main thread looks at the clock first */
    struct timeval tv;
    assert_int_equal(ifc.gettimeofday(ifc.userdata, &tv, NULL), 0);
}

static void unload(void)
{
    ifc.free(ifc.userdata);
    dlclose(lib);
}

static uint16_t csum(const uint8_t *b, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)b[i] << 8 | b[i + 1];
    if (n & 1)
        sum += (uint32_t)b[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void put16(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}
static void put32(uint8_t *b, uint32_t v)
{
    put16(b, (uint16_t)(v >> 16));
    put16(b + 2, (uint16_t)v);
}
static uint16_t get16(const uint8_t *b) { return (uint16_t)(b[0] << 8 | b[1]); }
static uint32_t get32(const uint8_t *b)
{
    return (uint32_t)get16(b) << 16 | get16(b + 2);
}

/* An IPv4 datagram from the peer, as packetdrill injects it. */
static void inject(uint8_t flags, uint32_t seq, uint32_t ack,
                   const char *data)
{
    uint8_t p[200];
    size_t dlen = data ? strlen(data) : 0;
    size_t olen = (flags & F_SYN) ? 4 : 0;
    size_t tlen = 20 + olen + dlen, len = 20 + tlen;
    memset(p, 0, sizeof p);
    p[0] = 0x45;
    put16(p + 2, (uint16_t)len);
    p[8] = 64;
    p[9] = 6;
    put32(p + 12, REMOTE_IP);
    put32(p + 16, LOCAL_IP);
    put16(p + 10, csum(p, 20, 0));
    uint8_t *t = p + 20;
    put16(t, RPORT);
    put16(t + 2, LPORT);
    put32(t + 4, seq);
    put32(t + 8, ack);
    t[12] = (uint8_t)(((20 + olen) / 4) << 4);
    t[13] = flags;
    put16(t + 14, 65535);
    if (olen) {
        t[20] = 2;
        t[21] = 4;
        put16(t + 22, 1460);
    }
    memcpy(t + 20 + olen, data ? data : "", dlen);
    uint32_t pseudo = (REMOTE_IP >> 16) + (REMOTE_IP & 0xffff) +
                      (LOCAL_IP >> 16) + (LOCAL_IP & 0xffff) + 6 +
                      (uint32_t)tlen;
    put16(t + 16, csum(t, tlen, pseudo));
    assert_int_equal(ifc.netdev_send(ifc.userdata, p, len), 0);
}

struct seg {
    uint8_t flags;
    uint32_t seq, ack;
    size_t dlen;
    char data[64];
    long long t_us;
};

/* The next datagram out of the stack, checked as packetdrill would. */
static struct seg sniff(void)
{
    uint8_t p[2048];
    size_t n = sizeof p;
    struct seg s;
    memset(&s, 0, sizeof s);
    assert_int_equal(ifc.netdev_receive(ifc.userdata, p, &n, &s.t_us), 0);
    assert_true(n >= 40);
    assert_int_equal(p[0], 0x45);
    assert_int_equal(get16(p + 2), n);
    assert_int_equal(p[9], 6);
    assert_int_equal(csum(p, 20, 0), 0);
    assert_int_equal(get32(p + 12), LOCAL_IP);
    assert_int_equal(get32(p + 16), REMOTE_IP);
    const uint8_t *t = p + 20;
    size_t tlen = n - 20;
    uint32_t pseudo = (REMOTE_IP >> 16) + (REMOTE_IP & 0xffff) +
                      (LOCAL_IP >> 16) + (LOCAL_IP & 0xffff) + 6 +
                      (uint32_t)tlen;
    assert_int_equal(csum(t, tlen, pseudo), 0);
    assert_int_equal(get16(t), LPORT);
    assert_int_equal(get16(t + 2), RPORT);
    s.seq = get32(t + 4);
    s.ack = get32(t + 8);
    s.flags = t[13];
    size_t off = (size_t)(t[12] >> 4) * 4;
    s.dlen = tlen - off;
    assert_true(s.dlen < sizeof s.data);
    memcpy(s.data, t + off, s.dlen);
    return s;
}

static int listener(void)
{
    int fd = ifc.socket(ifc.userdata, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(fd >= 0);
    assert_true(fcntl(fd, F_GETFD) >= 0); /* a real descriptor */
    int one = 1;
    assert_int_equal(ifc.setsockopt(ifc.userdata, fd, SOL_SOCKET,
                                    SO_REUSEADDR, &one, sizeof one),
                     0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(LPORT)};
    assert_int_equal(
        ifc.bind(ifc.userdata, fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(ifc.listen(ifc.userdata, fd, 4), 0);
    return fd;
}

struct call {
    pthread_t th;
    int fd;
    long r;
    int err;
    char buf[64];
    struct sockaddr_in peer;
};

static void *accept_thread(void *arg)
{
    struct call *c = arg;
    socklen_t len = sizeof c->peer;
    c->r = ifc.accept(ifc.userdata, c->fd, (struct sockaddr *)&c->peer, &len);
    c->err = errno;
    return NULL;
}

static void *read_thread(void *arg)
{
    struct call *c = arg;
    c->r = ifc.read(ifc.userdata, c->fd, c->buf, sizeof c->buf);
    c->err = errno;
    return NULL;
}

static void now_us(long long *t)
{
    struct timeval tv;
    ifc.gettimeofday(ifc.userdata, &tv, NULL);
    *t = (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

static void test_handshake_data_close(void **state)
{
    (void)state;
    load("local=192.168.0.1,remote=192.0.2.1");
    int lfd = listener();

    /* non-blocking accept with nothing queued */
    assert_int_equal(ifc.fcntl(ifc.userdata, lfd, F_SETFL, O_NONBLOCK), 0);
    assert_true(ifc.fcntl(ifc.userdata, lfd, F_GETFL) & O_NONBLOCK);
    errno = 0;
    assert_int_equal(ifc.accept(ifc.userdata, lfd, NULL, NULL), -1);
    assert_int_equal(errno, EAGAIN);
    struct pollfd pf = {.fd = lfd, .events = POLLIN};
    assert_int_equal(ifc.poll(ifc.userdata, &pf, 1, 0), 0);
    assert_int_equal(ifc.fcntl(ifc.userdata, lfd, F_SETFL, 0), 0);

    /* SYN in, SYN-ACK out */
    inject(F_SYN, 1000, 0, NULL);
    struct seg s = sniff();
    assert_int_equal(s.flags, F_SYN | F_ACK);
    assert_int_equal(s.ack, 1001);
    uint32_t iss = s.seq;

    /* a blocking accept on a second thread, completed by the ACK */
    struct call c = {.fd = lfd};
    assert_int_equal(pthread_create(&c.th, NULL, accept_thread, &c), 0);
    assert_int_equal(ifc.usleep(ifc.userdata, 10000), 0);
    inject(F_ACK, 1001, iss + 1, NULL);
    pthread_join(c.th, NULL);
    assert_true(c.r >= 0);
    int fd = (int)c.r;
    assert_int_equal(ntohs(c.peer.sin_port), RPORT);
    assert_int_equal(ntohl(c.peer.sin_addr.s_addr), REMOTE_IP);

    pf.revents = 0;
    pf.fd = fd;
    pf.events = POLLOUT;
    assert_int_equal(ifc.poll(ifc.userdata, &pf, 1, 0), 1);
    assert_int_equal(pf.revents, POLLOUT);

    /* data in, read */
    inject(F_PSH | F_ACK, 1001, iss + 1, "hello");
    char buf[64];
    assert_int_equal(ifc.read(ifc.userdata, fd, buf, sizeof buf), 5);
    assert_memory_equal(buf, "hello", 5);
    int n = -1;
    assert_int_equal(ifc.ioctl(ifc.userdata, fd, FIONREAD, &n), 0);
    assert_int_equal(n, 0);

    /* write, data out (with the ACK of "hello") */
    assert_int_equal(ifc.write(ifc.userdata, fd, "world", 5), 5);
    s = sniff();
    assert_int_equal(s.seq, iss + 1);
    assert_int_equal(s.ack, 1006);
    assert_int_equal(s.dlen, 5);
    assert_memory_equal(s.data, "world", 5);
    inject(F_ACK, 1006, iss + 6, NULL);

    /* a blocking read on the second thread, ended by the peer's FIN */
    struct call r = {.fd = fd};
    assert_int_equal(pthread_create(&r.th, NULL, read_thread, &r), 0);
    assert_int_equal(ifc.usleep(ifc.userdata, 50000), 0);
    long long t0, t1;
    now_us(&t0);
    inject(F_FIN | F_ACK, 1006, iss + 6, NULL);
    pthread_join(r.th, NULL);
    assert_int_equal(r.r, 0);
    /* the ACK of the FIN: netdev_receive waits (virtual time) for it */
    s = sniff();
    assert_true(s.flags & F_ACK);
    assert_int_equal(s.ack, 1007);
    now_us(&t1);
    assert_true(t1 - t0 < 1000000);
    assert_true(s.t_us >= t0);

    int err = -1;
    socklen_t elen = sizeof err;
    assert_int_equal(ifc.getsockopt(ifc.userdata, fd, SOL_SOCKET, SO_ERROR,
                                    &err, &elen),
                     0);
    assert_int_equal(err, 0);
    errno = 0;
    assert_int_equal(ifc.getsockopt(ifc.userdata, fd, SOL_IP, 12345, &err,
                                    &elen),
                     -1);
    assert_int_equal(errno, ENOPROTOOPT);

    /* close: our FIN (LAST-ACK), the peer ACKs it */
    assert_int_equal(ifc.close(ifc.userdata, fd), 0);
    s = sniff();
    assert_int_equal(s.flags, F_FIN | F_ACK);
    assert_int_equal(s.seq, iss + 6);
    inject(F_ACK, 1007, iss + 7, NULL);

    errno = 0;
    assert_int_equal(ifc.close(ifc.userdata, fd), -1);
    assert_int_equal(errno, EBADF);
    assert_int_equal(ifc.close(ifc.userdata, lfd), 0);
    unload();
}

static void test_rst_and_errno(void **state)
{
    (void)state;
    load("local=192.168.0.1,tcp_syn_retries=2");
    /* a connect refused by RST+ACK: the non-blocking connect reports
     * EINPROGRESS, SO_ERROR and a second connect report the refusal */
    int fd = ifc.socket(ifc.userdata, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(RPORT)};
    a.sin_addr.s_addr = htonl(REMOTE_IP);
    errno = 0;
    assert_int_equal(
        ifc.connect(ifc.userdata, fd, (struct sockaddr *)&a, sizeof a), -1);
    assert_int_equal(errno, EINPROGRESS);
    uint8_t p[2048];
    size_t n = sizeof p;
    long long t;
    /* the SYN went out after the adapter answered ARP itself */
    assert_int_equal(ifc.netdev_receive(ifc.userdata, p, &n, &t), 0);
    assert_int_equal(p[20 + 13], F_SYN);
    uint32_t iss = get32(p + 24);
    uint16_t lport = get16(p + 20);
    /* RST+ACK for it (hand-built: our ports are reversed here) */
    uint8_t r[40];
    memset(r, 0, sizeof r);
    r[0] = 0x45;
    put16(r + 2, 40);
    r[8] = 64;
    r[9] = 6;
    put32(r + 12, REMOTE_IP);
    put32(r + 16, LOCAL_IP);
    put16(r + 10, csum(r, 20, 0));
    put16(r + 20, RPORT);
    put16(r + 22, lport);
    put32(r + 28, iss + 1);
    r[32] = 5 << 4;
    r[33] = F_RST | F_ACK;
    uint32_t pseudo = (REMOTE_IP >> 16) + (REMOTE_IP & 0xffff) +
                      (LOCAL_IP >> 16) + (LOCAL_IP & 0xffff) + 6 + 20;
    put16(r + 36, csum(r + 20, 20, pseudo));
    assert_int_equal(ifc.netdev_send(ifc.userdata, r, sizeof r), 0);
    struct pollfd pf = {.fd = fd, .events = POLLOUT};
    assert_int_equal(ifc.poll(ifc.userdata, &pf, 1, 100), 1);
    assert_true(pf.revents & (POLLERR | POLLHUP));
    int err = 0;
    socklen_t elen = sizeof err;
    assert_int_equal(ifc.getsockopt(ifc.userdata, fd, SOL_SOCKET, SO_ERROR,
                                    &err, &elen),
                     0);
    assert_int_equal(err, ECONNREFUSED);
    assert_int_equal(ifc.close(ifc.userdata, fd), 0);

    /* argument errors come back as -1 and errno */
    errno = 0;
    assert_int_equal(ifc.socket(ifc.userdata, AF_UNIX, SOCK_STREAM, 0), -1);
    assert_int_equal(errno, EAFNOSUPPORT);
    errno = 0;
    assert_int_equal(ifc.listen(ifc.userdata, 12345, 1), -1);
    assert_int_equal(errno, EBADF);
    unload();
}

/* Run fn in a child with stderr silenced; the child must exit with 1 (the
 * adapter's fatal-error exit), never return. */
static void expect_child_exits_1(void (*fn)(void))
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int dn = open("/dev/null", O_WRONLY);
        dup2(dn, 2);
        fn();
        _exit(0); /* not reached */
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 1);
}

static void wait_for_nothing(void)
{
    load("local=192.168.0.1,give_up=2");
    uint8_t p[100];
    size_t n = sizeof p;
    long long t;
    ifc.netdev_receive(ifc.userdata, p, &n, &t);
}

/* packetdrill would wait forever for a packet that never comes: the
 * adapter exits non-zero after give_up virtual seconds. */
static void test_gives_up(void **state)
{
    (void)state;
    expect_child_exits_1(wait_for_nothing);
}

static void accept_on_main_thread(void)
{
    load("local=192.168.0.1");
    int fd = listener();
    ifc.accept(ifc.userdata, fd, NULL, NULL);
}

/* A blocking call on the thread that delivers packets can never return. */
static void test_blocking_on_main_thread(void **state)
{
    (void)state;
    expect_child_exits_1(accept_on_main_thread);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_data_close),
        cmocka_unit_test(test_rst_and_errno),
        cmocka_unit_test(test_gives_up),
        cmocka_unit_test(test_blocking_on_main_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
