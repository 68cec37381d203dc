/*
 * Two stacks in one process over the in-memory link, driven by the
 * virtual-time loop: B listens, A connects and sends a greeting, B echoes
 * it back, both close. Build: cc hello.c $(pkg-config --cflags --libs synack)
 */
#include <stdio.h>
#include <string.h>

#include <synack/dev.h>
#include <synack/synack.h>

struct app {
    synack_stack *a, *b;
    synack_vloop *loop;
    int ca, lb, cb;
    char got[64];
    size_t ngot;
    int a_closed, b_closed;
};

static synack_stack *new_stack(const char *ip, uint8_t mac_last)
{
    synack_stack_config cfg;
    synack_stack_config_init(&cfg);
    cfg.mac[0] = 0x02;
    cfg.mac[5] = mac_last;
    synack_ip_parse(ip, &cfg.ip);
    cfg.seed = mac_last;
    cfg.isn_secret[0] = mac_last; /* real programs: fill from getrandom() */
    synack_stack *st;
    return synack_stack_new(&cfg, &st) == 0 ? st : NULL;
}

/* Called after every step of the loop: a non-blocking application. */
static int step(void *ctx)
{
    struct app *p = ctx;
    synack_time_t now = synack_vloop_now(p->loop);
    char buf[64];
    if (p->cb < 0)
        p->cb = synack_accept(p->b, p->lb, NULL);
    if (p->cb >= 0 && !p->b_closed) {
        ssize_t n = synack_recv(p->b, p->cb, buf, sizeof(buf), now);
        if (n > 0)
            synack_send(p->b, p->cb, buf, (size_t)n, now); /* echo */
        else if (n == 0) {                                 /* A closed */
            synack_close(p->b, p->cb, now);
            synack_close(p->b, p->lb, now);
            p->b_closed = 1;
        }
    }
    if (!p->a_closed) {
        ssize_t n = synack_recv(p->a, p->ca, p->got + p->ngot,
                                sizeof(p->got) - 1 - p->ngot, now);
        if (n > 0)
            p->ngot += (size_t)n;
        if (p->ngot == 5) {
            synack_close(p->a, p->ca, now);
            p->a_closed = 1;
        }
    }
    /* done when every connection, TIME-WAIT included, is gone */
    return p->a_closed && p->b_closed && synack_stack_conn_count(p->a) == 0 &&
           synack_stack_conn_count(p->b) == 0;
}

int main(void)
{
    struct app p = {.cb = -1};
    synack_link_config lc;
    synack_link_config_init(&lc);
    lc.delay = 5 * SYNACK_MSEC;
    synack_link *link;
    synack_dev *pa, *pb;
    p.a = new_stack("10.0.0.1", 1);
    p.b = new_stack("10.0.0.2", 2);
    if (!p.a || !p.b || synack_link_new(&lc, &link) < 0 ||
        synack_link_port(link, &pa) < 0 || synack_link_port(link, &pb) < 0 ||
        synack_vloop_new(0, &p.loop) < 0)
        return 1;
    synack_attach(p.a, pa);
    synack_attach(p.b, pb);
    synack_vloop_add_stack(p.loop, p.a);
    synack_vloop_add_stack(p.loop, p.b);
    synack_vloop_add_dev(p.loop, pa);
    synack_vloop_add_dev(p.loop, pb);

    synack_addr server = {0, 7};
    synack_ip_parse("10.0.0.2", &server.ip);
    p.lb = synack_socket(p.b);
    synack_bind(p.b, p.lb, &server);
    synack_listen(p.b, p.lb, 8);
    p.ca = synack_socket(p.a);
    synack_connect(p.a, p.ca, &server, 0); /* -SYNACK_EINPROGRESS */
    synack_send(p.a, p.ca, "hello", 5, 0); /* -EAGAIN until connected */
    int sent = 0;
    while (!step(&p)) {
        if (!sent && synack_send(p.a, p.ca, "hello", 5,
                                 synack_vloop_now(p.loop)) == 5)
            sent = 1;
        if (!synack_vloop_step(p.loop, 300 * SYNACK_SEC))
            break;
    }
    printf("echoed \"%.*s\", done at t=%.3f s (virtual)\n", (int)p.ngot,
           p.got, (double)synack_vloop_now(p.loop) / 1e9);
    int ok = p.ngot == 5 && memcmp(p.got, "hello", 5) == 0 &&
             synack_stack_conn_count(p.a) == 0;
    synack_vloop_del(p.loop);
    synack_stack_del(p.a);
    synack_stack_del(p.b);
    synack_dev_destroy(pa);
    synack_dev_destroy(pb);
    synack_link_del(link);
    return ok ? 0 : 1;
}
