/*
 * ctl_testsrv IFNAME [COMMAND]: a synack process with a control socket and
 * no TAP device, for the tests of `synack ss` and `synack sysctl`.
 *
 * Two stacks, A (10.0.0.1, served on the control socket as IFNAME) and B
 * (10.0.0.2), on an in-memory link driven by the real-time loop. A has:
 *   - a listener on port 7 (LISTEN);
 *   - a connection to B:80, ESTABLISHED, 3000 bytes sent (B reads them)
 *     and 500 received that A leaves unread (Recv-Q 500);
 *   - a connection to 10.0.0.9:80, a host nobody answers for, so it sits
 *     in SYN-SENT with the retransmission timer running
 *     (tcp_syn_retries=127 keeps it there for the length of a test).
 * Prints "ready pid=N" when all of that is in place, then serves until
 * SIGTERM or SIGINT, closes the control socket and exits 0. The control
 * socket's `trace` subscribers see A's state changes; on SIGUSR1 A
 * connects to B:81, where nobody listens (CLOSED -> SYN-SENT -> CLOSED).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <synack/dev.h>
#include <synack/synack.h>

#include "ctl.h"

static volatile sig_atomic_t stop, usr1;

static void on_usr1(int sig)
{
    (void)sig;
    usr1 = 1;
}


static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static synack_stack *make_stack(uint32_t ip, uint8_t last)
{
    synack_stack_config cfg;
    synack_stack_config_init(&cfg);
    cfg.ip = ip;
    cfg.prefix_len = 24;
    cfg.mac[0] = 0x02;
    cfg.mac[5] = last;
    cfg.seed = last;
    for (size_t i = 0; i < sizeof cfg.isn_secret; i++)
        cfg.isn_secret[i] = (uint8_t)(i * 7 + last);
    synack_stack *st;
    if (synack_stack_new(&cfg, &st) != 0) {
        fprintf(stderr, "ctl_testsrv: cannot create a stack\n");
        exit(1);
    }
    return st;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ctl_testsrv IFNAME [COMMAND]\n");
        return 2;
    }
    const char *ifname = argv[1];
    const char *command = argc > 2 ? argv[2] : "testsrv";
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);

    const uint32_t ipa = 0x0a000001u, ipb = 0x0a000002u;
    synack_stack *a = make_stack(ipa, 1), *b = make_stack(ipb, 2);
    synack_sysctl_set(a, "tcp_syn_retries", "127");

    synack_link_config lc;
    synack_link_config_init(&lc);
    lc.seed = 1;
    lc.delay = 2 * SYNACK_MSEC; /* an RTT to show */
    synack_link *link;
    synack_dev *pa, *pb;
    synack_rtloop *loop;
    if (synack_link_new(&lc, &link) != 0 || synack_link_port(link, &pa) != 0 ||
        synack_link_port(link, &pb) != 0 || synack_rtloop_new(&loop) != 0) {
        fprintf(stderr, "ctl_testsrv: set-up failed\n");
        return 1;
    }
    synack_attach(a, pa);
    synack_attach(b, pb);
    synack_rtloop_add_stack(loop, a);
    synack_rtloop_add_stack(loop, b);
    synack_rtloop_add_dev(loop, pa);
    synack_rtloop_add_dev(loop, pb);

    ctl_server *srv;
    char err[512];
    if (ctl_server_open(&srv, ifname, command, a, loop, err, sizeof err) !=
        0) {
        fprintf(stderr, "ctl_testsrv: %s\n", err);
        return 1;
    }

    synack_time_t now = synack_rtloop_clock();
    int lsa = synack_socket(a), lsb = synack_socket(b);
    synack_addr any7 = { 0, 7 }, any80 = { 0, 80 };
    if (synack_bind(a, lsa, &any7) != 0 || synack_listen(a, lsa, 8) != 0 ||
        synack_bind(b, lsb, &any80) != 0 || synack_listen(b, lsb, 8) != 0) {
        fprintf(stderr, "ctl_testsrv: listen failed\n");
        return 1;
    }
    int ca = synack_socket(a);
    synack_addr to_b = { ipb, 80 }, nowhere = { 0x0a000009u, 80 };
    synack_connect(a, ca, &to_b, now);
    int cn = synack_socket(a);
    synack_connect(a, cn, &nowhere, now);

    /* Run until A and B have exchanged their bytes. */
    static char buf[4096];
    memset(buf, 'x', sizeof buf);
    size_t a_sent = 0, b_sent = 0, b_read = 0;
    int cb = -1;
    synack_time_t limit = now + 10 * SYNACK_SEC;
    while (!stop && (a_sent < 3000 || b_sent < 500 || b_read < 3000)) {
        synack_rtloop_once(loop, 10 * SYNACK_MSEC);
        now = synack_rtloop_clock();
        if (now > limit) {
            fprintf(stderr, "ctl_testsrv: the connection A-B did not come "
                            "up\n");
            return 1;
        }
        if (cb < 0) {
            synack_addr peer;
            cb = synack_accept(b, lsb, &peer);
            if (cb < 0)
                continue;
        }
        if (a_sent < 3000) {
            ssize_t n = synack_send(a, ca, buf, 3000 - a_sent, now);
            if (n > 0)
                a_sent += (size_t)n;
        }
        if (b_sent < 500) {
            ssize_t n = synack_send(b, cb, buf, 500 - b_sent, now);
            if (n > 0)
                b_sent += (size_t)n;
        }
        ssize_t n = synack_recv(b, cb, buf, sizeof buf, now);
        if (n > 0)
            b_read += (size_t)n;
    }
    /* let the last ACKs settle */
    for (int i = 0; i < 20 && !stop; i++)
        synack_rtloop_once(loop, 10 * SYNACK_MSEC);
    printf("ready pid=%ld\n", (long)getpid());

    while (!stop) {
        synack_rtloop_once(loop, 100 * SYNACK_MSEC);
        ctl_server_poll(srv);
        if (usr1) {
            usr1 = 0;
            synack_addr to81 = { ipb, 81 };
            int s = synack_socket(a);
            synack_connect(a, s, &to81, synack_rtloop_clock());
            /* the handle stays (CLOSED after the RST) until exit */
        }
    }

    ctl_server_close(srv);
    /* the loop may go on after the close */
    for (int i = 0; i < 3; i++)
        synack_rtloop_once(loop, 10 * SYNACK_MSEC);
    synack_rtloop_del(loop);
    synack_stack_del(a);
    synack_stack_del(b);
    synack_dev_destroy(pa);
    synack_dev_destroy(pb);
    synack_link_del(link);
    printf("closed\n");
    return 0;
}
