/*
 * Tests of synack_attach, the virtual-time loop and the real-time loop over
 * memlink ports. The stack is a fake defined here (the four synack_stack_*
 * functions the drivers call), so these tests do not depend on src/core.
 */
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <synack/dev.h>

/* ---- fake stack ------------------------------------------------------------
 * A pinger sends a ping when its timer fires and another as soon as a pong
 * arrives, until it has `want` pongs; a ponger answers every ping at once. */
struct synack_stack {
    void (*output)(void *ctx, const uint8_t *frame, size_t len,
                   synack_time_t now);
    void *output_ctx;
    uint8_t mac[6], peer[6];
    int is_pinger;
    synack_time_t timer; /* pinger's first ping; NEVER once fired */
    int want, pongs, pings_seen, advances;
    synack_time_t pong_at[16];
    int stuck; /* deadline never moves: a livelock */
    int in_batch, batches, batched_inputs; /* synack_stack_batch_* */
};

void synack_stack_batch_begin(synack_stack *st)
{
    assert_false(st->in_batch);
    st->in_batch = 1;
}

void synack_stack_batch_end(synack_stack *st, synack_time_t now)
{
    (void)now;
    assert_true(st->in_batch);
    st->in_batch = 0;
    st->batches++;
}

void synack_stack_set_output(synack_stack *st,
                             void (*output)(void *ctx, const uint8_t *frame,
                                            size_t len, synack_time_t now),
                             void *ctx)
{
    st->output = output;
    st->output_ctx = ctx;
}

static void fake_send(synack_stack *st, uint8_t kind, synack_time_t now)
{
    uint8_t f[60] = { 0 };
    memcpy(f, st->peer, 6);
    memcpy(f + 6, st->mac, 6);
    f[12] = 0x88;
    f[13] = 0xb5;
    f[14] = kind;
    st->output(st->output_ctx, f, sizeof f, now);
}

int synack_stack_input(synack_stack *st, const uint8_t *frame, size_t len,
                       synack_time_t now)
{
    assert_int_equal(len, 60);
    st->batched_inputs += st->in_batch;
    if (frame[14] == 'P') {
        st->pings_seen++;
        fake_send(st, 'p', now);
    } else if (frame[14] == 'p' && st->is_pinger) {
        if (st->pongs < 16)
            st->pong_at[st->pongs] = now;
        if (++st->pongs < st->want)
            fake_send(st, 'P', now);
    }
    return 0;
}

void synack_stack_advance(synack_stack *st, synack_time_t now)
{
    st->advances++;
    if (st->is_pinger && st->timer <= now) {
        st->timer = SYNACK_TIME_NEVER;
        fake_send(st, 'P', now);
    }
}

synack_time_t synack_stack_next_deadline(const synack_stack *st)
{
    return st->stuck ? 0 : st->timer;
}

/* ---- fixture ----------------------------------------------------------- */

struct pair {
    synack_link *link;
    synack_dev *da, *db;
    synack_stack a, b;
};

static void pair_init(struct pair *p, synack_time_t delay, synack_time_t t0)
{
    memset(p, 0, sizeof *p);
    synack_link_config c;
    synack_link_config_init(&c);
    c.delay = delay;
    assert_int_equal(synack_link_new(&c, &p->link), 0);
    assert_int_equal(synack_link_port(p->link, &p->da), 0);
    assert_int_equal(synack_link_port(p->link, &p->db), 0);
    const uint8_t ma[6] = { 2, 0, 0, 0, 0, 1 }, mb[6] = { 2, 0, 0, 0, 0, 2 };
    memcpy(p->a.mac, ma, 6);
    memcpy(p->a.peer, mb, 6);
    memcpy(p->b.mac, mb, 6);
    memcpy(p->b.peer, ma, 6);
    p->a.is_pinger = 1;
    p->a.timer = t0;
    p->b.timer = SYNACK_TIME_NEVER;
    synack_attach(&p->a, p->da);
    synack_attach(&p->b, p->db);
}

static void pair_fini(struct pair *p)
{
    synack_dev_destroy(p->da);
    synack_dev_destroy(p->db);
    synack_link_del(p->link);
}

static synack_vloop *vloop_for(struct pair *p, synack_time_t start)
{
    synack_vloop *v;
    assert_int_equal(synack_vloop_new(start, &v), 0);
    assert_int_equal(synack_vloop_add_stack(v, &p->a), 0);
    assert_int_equal(synack_vloop_add_stack(v, &p->b), 0);
    assert_int_equal(synack_vloop_add_dev(v, p->da), 0);
    assert_int_equal(synack_vloop_add_dev(v, p->db), 0);
    return v;
}

static int pongs_done(void *ctx)
{
    const synack_stack *st = ctx;
    return st->pongs >= st->want;
}

/* ---- vloop ------------------------------------------------------------------ */

static void test_vloop_ping_pong_times(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, 5 * SYNACK_MSEC, SYNACK_MSEC);
    p.a.want = 3;
    synack_vloop *v = vloop_for(&p, 0);
    assert_int_equal(synack_vloop_next(v), SYNACK_MSEC);
    assert_int_equal(synack_vloop_run(v, pongs_done, &p.a, SYNACK_TIME_NEVER),
                     1);
    /* Ping at 1 ms, each round trip 10 ms. */
    assert_int_equal(p.a.pong_at[0], 11 * SYNACK_MSEC);
    assert_int_equal(p.a.pong_at[1], 21 * SYNACK_MSEC);
    assert_int_equal(p.a.pong_at[2], 31 * SYNACK_MSEC);
    assert_int_equal(synack_vloop_now(v), 31 * SYNACK_MSEC);
    assert_int_equal(p.b.pings_seen, 3);
    /* Nothing left: idle forever. */
    assert_int_equal(synack_vloop_run(v, NULL, NULL, SYNACK_TIME_NEVER), 0);
    assert_int_equal(synack_vloop_now(v), 31 * SYNACK_MSEC);
    synack_vloop_del(v);
    pair_fini(&p);
}

static void test_vloop_zero_delay_one_step(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, 0, 2 * SYNACK_MSEC);
    p.a.want = 10;
    synack_vloop *v = vloop_for(&p, 0);
    /* The whole exchange happens at 2 ms, in a single step. */
    assert_int_equal(synack_vloop_step(v, SYNACK_TIME_NEVER), 1);
    assert_int_equal(synack_vloop_now(v), 2 * SYNACK_MSEC);
    assert_int_equal(p.a.pongs, 10);
    assert_int_equal(p.a.pong_at[9], 2 * SYNACK_MSEC);
    assert_int_equal(synack_vloop_step(v, SYNACK_TIME_NEVER), 0);
    synack_vloop_del(v);
    pair_fini(&p);
}

static void test_vloop_limit(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, SYNACK_MSEC, 10 * SYNACK_SEC);
    p.a.want = 1;
    synack_vloop *v = vloop_for(&p, 100);
    assert_int_equal(synack_vloop_now(v), 100);
    /* Nothing due before the limit: time moves to the limit. */
    assert_int_equal(synack_vloop_step(v, 5 * SYNACK_SEC), 0);
    assert_int_equal(synack_vloop_now(v), 5 * SYNACK_SEC);
    assert_int_equal(p.a.advances, 0);
    /* run stops at the limit too. */
    assert_int_equal(synack_vloop_run(v, pongs_done, &p.a, 6 * SYNACK_SEC), 0);
    assert_int_equal(synack_vloop_now(v), 6 * SYNACK_SEC);
    /* A limit in the past never moves time back. */
    assert_int_equal(synack_vloop_step(v, SYNACK_SEC), 0);
    assert_int_equal(synack_vloop_now(v), 6 * SYNACK_SEC);
    /* The deadline itself is inside a limit equal to it. */
    assert_int_equal(synack_vloop_step(v, 10 * SYNACK_SEC), 1);
    assert_int_equal(synack_vloop_now(v), 10 * SYNACK_SEC);
    assert_int_equal(synack_vloop_run(v, pongs_done, &p.a, SYNACK_TIME_NEVER),
                     1);
    assert_int_equal(synack_vloop_now(v), 10 * SYNACK_SEC + 2 * SYNACK_MSEC);
    synack_vloop_del(v);
    pair_fini(&p);
}

static int always(void *ctx)
{
    (void)ctx;
    return 1;
}

static void test_vloop_done_first_and_overdue(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, 0, SYNACK_MSEC); /* deadline before the start time */
    p.a.want = 1;
    synack_vloop *v = vloop_for(&p, SYNACK_SEC);
    assert_int_equal(synack_vloop_run(v, always, NULL, SYNACK_TIME_NEVER), 1);
    assert_int_equal(p.a.advances, 0); /* done checked before any step */
    assert_int_equal(synack_vloop_step(v, SYNACK_TIME_NEVER), 1);
    assert_int_equal(synack_vloop_now(v), SYNACK_SEC); /* not back to 1 ms */
    assert_int_equal(p.a.pongs, 1);
    assert_int_equal(p.a.pong_at[0], SYNACK_SEC);
    synack_vloop_del(v);
    pair_fini(&p);
}

static void test_vloop_livelock_stops(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, 0, SYNACK_TIME_NEVER);
    p.b.stuck = 1;
    synack_vloop *v = vloop_for(&p, 0);
    assert_int_equal(synack_vloop_run(v, NULL, NULL, SYNACK_TIME_NEVER), 0);
    assert_true(p.b.advances > 1000);
    synack_vloop_del(v);
    pair_fini(&p);
}

/* Devices only, no stacks: the loop drives memlink ports by themselves. */
struct counter {
    int n;
    synack_time_t at;
};

static void count_rx(void *ctx, const uint8_t *f, size_t len, synack_time_t now)
{
    (void)f;
    (void)len;
    struct counter *c = ctx;
    c->n++;
    c->at = now;
}

static void test_vloop_devices_only(void **state)
{
    (void)state;
    synack_link_config c;
    synack_link_config_init(&c);
    c.delay = 7 * SYNACK_MSEC;
    synack_link *l;
    assert_int_equal(synack_link_new(&c, &l), 0);
    synack_dev *a, *b;
    assert_int_equal(synack_link_port(l, &a), 0);
    assert_int_equal(synack_link_port(l, &b), 0);
    struct counter cb = { 0 };
    synack_dev_set_rx(b, count_rx, &cb);
    uint8_t f[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1 };
    assert_int_equal(synack_dev_transmit(a, f, sizeof f, SYNACK_SEC), 0);
    assert_int_equal(synack_dev_transmit(a, f, sizeof f, 2 * SYNACK_SEC), 0);
    synack_vloop *v;
    assert_int_equal(synack_vloop_new(0, &v), 0);
    assert_int_equal(synack_vloop_add_dev(v, a), 0);
    assert_int_equal(synack_vloop_add_dev(v, b), 0);
    assert_int_equal(synack_vloop_step(v, SYNACK_TIME_NEVER), 1);
    assert_int_equal(cb.n, 1);
    assert_int_equal(cb.at, SYNACK_SEC + 7 * SYNACK_MSEC);
    assert_int_equal(synack_vloop_run(v, NULL, NULL, SYNACK_TIME_NEVER), 0);
    assert_int_equal(cb.n, 2);
    assert_int_equal(synack_vloop_now(v), 2 * SYNACK_SEC + 7 * SYNACK_MSEC);
    synack_vloop_del(v);
    synack_dev_destroy(a);
    synack_dev_destroy(b);
    synack_link_del(l);
}

/* ---- rtloop ----------------------------------------------------------------- */

static void test_rtloop_clock(void **state)
{
    (void)state;
    synack_time_t t1 = synack_rtloop_clock();
    struct timespec ts = { 0, 2000000 };
    nanosleep(&ts, NULL);
    synack_time_t t2 = synack_rtloop_clock();
    assert_true(t2 >= t1 + 2 * SYNACK_MSEC);
    assert_true(t2 < t1 + 2 * SYNACK_SEC);
}

struct fdhit {
    int n;
    int fd;
};

static void fd_cb(void *ctx, int fd, synack_time_t now)
{
    (void)now;
    struct fdhit *h = ctx;
    char c;
    assert_int_equal(read(fd, &c, 1), 1);
    h->n++;
    h->fd = fd;
}

static void test_rtloop_extra_fd(void **state)
{
    (void)state;
    synack_rtloop *r;
    assert_int_equal(synack_rtloop_new(&r), 0);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    struct fdhit h = { 0, -1 };
    assert_int_equal(synack_rtloop_add_fd(r, -1, fd_cb, &h), -SYNACK_EINVAL);
    assert_int_equal(synack_rtloop_add_fd(r, pfd[0], NULL, &h), -SYNACK_EINVAL);
    assert_int_equal(synack_rtloop_add_fd(r, pfd[0], fd_cb, &h), 0);
    /* Nothing readable: returns after max_wait. */
    synack_time_t t0 = synack_rtloop_clock();
    assert_int_equal(synack_rtloop_once(r, 20 * SYNACK_MSEC), 0);
    synack_time_t t1 = synack_rtloop_clock();
    assert_int_equal(h.n, 0);
    assert_true(t1 - t0 >= 20 * SYNACK_MSEC);
    assert_true(t1 - t0 < 2 * SYNACK_SEC);
    /* Readable: the callback runs without waiting the full max_wait. */
    assert_int_equal(write(pfd[1], "x", 1), 1);
    assert_int_equal(synack_rtloop_once(r, 10 * SYNACK_SEC), 0);
    assert_true(synack_rtloop_clock() - t1 < 5 * SYNACK_SEC);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.fd, pfd[0]);
    /* Removed: no longer watched, even when readable. */
    assert_int_equal(synack_rtloop_remove_fd(r, pfd[0]), 0);
    assert_int_equal(synack_rtloop_remove_fd(r, pfd[0]), -SYNACK_ENOENT);
    assert_int_equal(write(pfd[1], "y", 1), 1);
    assert_int_equal(synack_rtloop_once(r, 20 * SYNACK_MSEC), 0);
    assert_int_equal(h.n, 1);
    close(pfd[0]);
    close(pfd[1]);
    synack_rtloop_del(r);
}

static void test_rtloop_deadlines(void **state)
{
    (void)state;
    struct pair p;
    synack_time_t start = synack_rtloop_clock();
    /* First ping 30 ms from now, 10 ms each way. */
    pair_init(&p, 10 * SYNACK_MSEC, start + 30 * SYNACK_MSEC);
    p.a.want = 2;
    synack_rtloop *r;
    assert_int_equal(synack_rtloop_new(&r), 0);
    assert_int_equal(synack_rtloop_add_stack(r, &p.a), 0);
    assert_int_equal(synack_rtloop_add_stack(r, &p.b), 0);
    assert_int_equal(synack_rtloop_add_dev(r, p.da), 0);
    assert_int_equal(synack_rtloop_add_dev(r, p.db), 0);
    int rounds = 0;
    while (p.a.pongs < 2) {
        assert_int_equal(synack_rtloop_once(r, 5 * SYNACK_SEC), 0);
        assert_true(++rounds < 100);
    }
    synack_time_t end = synack_rtloop_clock();
    /* Deadlines drive the waits: no busy loop, no oversleeping. */
    assert_true(rounds <= 20);
    assert_true(p.a.pong_at[0] >= start + 50 * SYNACK_MSEC);
    assert_true(p.a.pong_at[1] >= p.a.pong_at[0] + 20 * SYNACK_MSEC);
    assert_true(end - start < 3 * SYNACK_SEC);
    /* every frame went in inside an input batch, one batch per round */
    assert_int_equal(p.a.batched_inputs, p.a.pongs);
    assert_int_equal(p.b.batched_inputs, p.b.pings_seen);
    assert_int_equal(p.a.batches, rounds);
    assert_false(p.a.in_batch);
    synack_rtloop_del(r);
    pair_fini(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vloop_ping_pong_times),
        cmocka_unit_test(test_vloop_zero_delay_one_step),
        cmocka_unit_test(test_vloop_limit),
        cmocka_unit_test(test_vloop_done_first_and_overdue),
        cmocka_unit_test(test_vloop_livelock_stops),
        cmocka_unit_test(test_vloop_devices_only),
        cmocka_unit_test(test_rtloop_clock),
        cmocka_unit_test(test_rtloop_extra_fd),
        cmocka_unit_test(test_rtloop_deadlines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
