/* Send-buffer autotuning (tcp_sndbuf_auto, as Linux's tcp_sndbuf_expand):
 * a connection whose application did not set SO_SNDBUF and fills its send
 * buffer gets one of twice what the congestion and peer windows let fly,
 * in powers of two up to tcp_wmem's maximum; every byte still goes out
 * once, in order. SO_SNDBUF, or tcp_sndbuf_auto=0, keeps the size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pkt.h"

#define A_ SYNACK_TH_ACK
#define CHUNK (1u << 20)

static uint8_t pattern(uint64_t off)
{
    return (uint8_t)(off % 251);
}

static int sndbuf(pkt_env *e, int s)
{
    int v = 0;
    size_t len = sizeof v;
    assert_int_equal(synack_getsockopt(e->st, s, SYNACK_SO_SNDBUF, &v, &len),
                     0);
    return v;
}

/* The application offers CHUNK bytes from offset *off; returns what the
 * stack took. */
static size_t offer(pkt_env *e, int s, uint64_t *off)
{
    static uint8_t buf[CHUNK];
    for (uint32_t i = 0; i < CHUNK; i++)
        buf[i] = pattern(*off + i);
    ssize_t n = synack_send(e->st, s, buf, CHUNK, e->now);
    assert_true(n > 0);
    *off += (uint64_t)n;
    return (size_t)n;
}

/* Pop what the stack sent, check every byte is the next one of the
 * stream, and acknowledge it all with one ACK 10 ms later. */
static void ack_round(pkt_env *e, uint32_t *next, uint16_t wnd)
{
    pkt_seg g;
    while (pkt_pop(e, &g)) {
        if (g.len == 0)
            continue;
        assert_int_equal(g.th.seq, *next); /* in order, nothing resent */
        uint64_t off = g.th.seq - (e->iss + 1);
        for (uint32_t i = 0; i < g.len; i++)
            if (g.data[i] != pattern(off + i))
                fail_msg("byte %llu wrong", (unsigned long long)(off + i));
        *next += g.len;
    }
    pkt_run_for(e, 10 * SYNACK_MSEC);
    pkt_inject(e, A_, PKT_RISN + 1, *next, wnd, NULL, 0);
}

static bool pow2(uint32_t v)
{
    return v && !(v & (v - 1));
}

static void grows_with_the_window(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    /* the peer offers 65535 << 7 (8 MiB) */
    pkt_peer_opts o = {.mss = 1460, .ws = 7, .wnd = 65535};
    int s = pkt_open_active(&e, &o);
    assert_int_equal(sndbuf(&e, s), 16384); /* tcp_wmem's default */
    uint64_t off = 0;
    uint32_t next = e.iss + 1;
    /* a full buffer with cwnd 10 segments: 2 x 14600 -> 32 KiB */
    assert_int_equal(offer(&e, s, &off), 32768);
    assert_int_equal(sndbuf(&e, s), 32768);
    uint32_t prev = 32768;
    for (int round = 0; round < 5; round++) {
        ack_round(&e, &next, 65535);
        offer(&e, s, &off);
        synack_conn_info ci = pkt_info(&e, s);
        assert_int_equal(ci.snd_buf, (uint32_t)sndbuf(&e, s));
        assert_true(pow2(ci.snd_buf));
        assert_true(ci.snd_buf >= prev);
        uint32_t flight = ci.cwnd < ci.snd_wnd ? ci.cwnd : ci.snd_wnd;
        assert_true(ci.snd_buf >= 2 * flight || ci.snd_buf == 4194304);
        assert_true(ci.send_q <= ci.snd_buf);
        prev = ci.snd_buf;
    }
    /* slow start doubled cwnd every round: so did the buffer */
    assert_true(prev >= 512 * 1024);
    ack_round(&e, &next, 65535);
    assert_int_equal(next - (e.iss + 1), (uint32_t)(off - pkt_info(&e, s).send_q));
    pkt_teardown(&e, false);
}

static void capped_at_wmem_max(void **state)
{
    (void)state;
    pkt_env e;
    static const char *const wmem[] = {"tcp_wmem=4096 16384 65536", NULL};
    pkt_setup(&e, wmem);
    pkt_peer_opts o = {.mss = 1460, .ws = 7, .wnd = 65535};
    int s = pkt_open_active(&e, &o);
    uint64_t off = 0;
    uint32_t next = e.iss + 1;
    offer(&e, s, &off);
    for (int round = 0; round < 5; round++) {
        ack_round(&e, &next, 65535);
        offer(&e, s, &off);
        assert_true(sndbuf(&e, s) <= 65536);
    }
    assert_int_equal(sndbuf(&e, s), 65536);
    pkt_teardown(&e, false);
}

/* The peer's window counts too: a peer offering 8 KiB never makes the
 * buffer grow past tcp_wmem's default. */
static void small_peer_window_keeps_it(void **state)
{
    (void)state;
    pkt_env e;
    pkt_setup(&e, NULL);
    pkt_peer_opts o = {.mss = 1460, .ws = -1, .wnd = 8192};
    int s = pkt_open_active(&e, &o);
    uint64_t off = 0;
    uint32_t next = e.iss + 1;
    assert_int_equal(offer(&e, s, &off), 16384);
    for (int round = 0; round < 4; round++) {
        ack_round(&e, &next, 8192);
        offer(&e, s, &off);
        assert_int_equal(sndbuf(&e, s), 16384);
    }
    pkt_teardown(&e, false);
}

static void fixed_by_sndbuf_or_sysctl(void **state)
{
    (void)state;
    for (int way = 0; way < 2; way++) {
        pkt_env e;
        static const char *const off_[] = {"tcp_sndbuf_auto=0", NULL};
        pkt_setup(&e, way ? off_ : NULL);
        pkt_peer_opts o = {.mss = 1460, .ws = 7, .wnd = 65535,
                           .sndbuf = way ? 0 : 16384};
        int s = pkt_open_active(&e, &o);
        uint64_t off = 0;
        uint32_t next = e.iss + 1;
        assert_int_equal(offer(&e, s, &off), 16384);
        for (int round = 0; round < 4; round++) {
            ack_round(&e, &next, 65535);
            offer(&e, s, &off);
            assert_int_equal(sndbuf(&e, s), 16384);
            assert_int_equal(pkt_info(&e, s).snd_buf, 16384);
        }
        pkt_teardown(&e, false);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grows_with_the_window),
        cmocka_unit_test(capped_at_wmem_max),
        cmocka_unit_test(small_peer_window_keeps_it),
        cmocka_unit_test(fixed_by_sndbuf_or_sysctl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
