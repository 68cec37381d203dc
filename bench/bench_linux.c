/*
 * bench_linux: the Linux loopback references, measured in the same run.
 *
 *   bench_linux connrate N   connect, 1 byte each way, close, accept on
 *                            127.0.0.1: a client thread and a server thread
 *   bench_linux rr N         1-byte request/response round trips: client
 *                            and server processes both pinned to CPU 0
 *
 * bench/run runs these inside a network namespace of their own (unshare -n)
 * with net.ipv4.tcp_tw_reuse=1 and a wide ip_local_port_range set there,
 * never on the host's. Output: "key value" lines (bench.h).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

static struct sockaddr_in lo_addr(uint16_t port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static int listener(uint16_t *port)
{
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = lo_addr(0);
    if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 4096) < 0)
        bench_die("listen: %s", strerror(errno));
    socklen_t al = sizeof(a);
    getsockname(l, (struct sockaddr *)&a, &al);
    *port = ntohs(a.sin_port);
    return l;
}

static int full_read(int fd, char *c)
{
    ssize_t k;
    do
        k = read(fd, c, 1);
    while (k < 0 && errno == EINTR);
    return (int)k;
}

typedef struct srv {
    int l;
    long n;
} srv;

static void *conn_server(void *arg)
{
    srv *s = arg;
    char c;
    for (long i = 0; i < s->n; i++) {
        int fd = accept(s->l, NULL, NULL);
        if (fd < 0)
            bench_die("accept: %s", strerror(errno));
        if (full_read(fd, &c) != 1 || write(fd, "r", 1) != 1)
            bench_die("server: request/response failed");
        if (full_read(fd, &c) != 0) /* the client's FIN */
            bench_die("server: no FIN");
        close(fd);
    }
    return NULL;
}

static int cmd_connrate(long n)
{
    uint16_t port;
    long warm = n / 10 + 1000;
    srv s = {listener(&port), warm + n};
    pthread_t th;
    pthread_create(&th, NULL, conn_server, &s);
    struct sockaddr_in a = lo_addr(port);
    uint64_t t0 = 0;
    char c;
    for (long i = 0; i < warm + n; i++) {
        if (i == warm)
            t0 = bench_clock_ns();
        int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
            bench_die("connect (connection %ld): %s", i, strerror(errno));
        if (write(fd, "q", 1) != 1 || full_read(fd, &c) != 1)
            bench_die("client: request/response failed");
        close(fd);
    }
    pthread_join(th, NULL);
    double secs = (double)(bench_clock_ns() - t0) / 1e9;
    close(s.l);
    bench_fig("linux_connrate_per_s", (double)n / secs);
    return 0;
}

static void pin0(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    sched_setaffinity(0, sizeof(set), &set);
}

static int cmd_rr(long n)
{
    uint16_t port;
    int l = listener(&port);
    long warm = n / 10 + 1000;
    pin0();
    pid_t pid = fork();
    if (pid == 0) {
        int fd = accept(l, NULL, NULL), one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        char c;
        while (full_read(fd, &c) == 1)
            if (write(fd, &c, 1) != 1)
                _exit(1);
        _exit(0);
    }
    close(l);
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in a = lo_addr(port);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
        bench_die("connect: %s", strerror(errno));
    uint64_t t0 = 0;
    for (long i = 0; i < warm + n; i++) {
        if (i == warm)
            t0 = bench_clock_ns();
        char q = (char)i, c;
        if (write(fd, &q, 1) != 1 || full_read(fd, &c) != 1 || c != q)
            bench_die("rr: round trip %ld failed", i);
    }
    double secs = (double)(bench_clock_ns() - t0) / 1e9;
    close(fd);
    int status;
    waitpid(pid, &status, 0);
    bench_fig("linux_rr_per_s", (double)n / secs);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc == 3 && !strcmp(argv[1], "connrate"))
        return cmd_connrate(atol(argv[2]));
    if (argc == 3 && !strcmp(argv[1], "rr"))
        return cmd_rr(atol(argv[2]));
    bench_die("usage: bench_linux connrate|rr N");
    return 2;
}
