/* Unit tests of the pcap recorder: what goes through the wrapper is in the
 * file, byte for byte, with the time it went through. */
#define _DEFAULT_SOURCE /* pcap.h needs u_int and u_char */
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <synack/dev.h>

struct got {
    int n;
    uint8_t last[128];
    size_t last_len;
    synack_time_t last_at;
};

static void got_rx(void *ctx, const uint8_t *f, size_t len, synack_time_t now)
{
    struct got *g = ctx;
    g->n++;
    g->last_len = len;
    g->last_at = now;
    memcpy(g->last, f, len < sizeof g->last ? len : sizeof g->last);
}

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 1 };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 2 };

static size_t mkframe(uint8_t *buf, size_t len, const uint8_t *dst,
                      const uint8_t *src, uint8_t fill)
{
    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    buf[12] = 0x88;
    buf[13] = 0xb5;
    for (size_t i = 14; i < len; i++)
        buf[i] = (uint8_t)(fill + i);
    return len;
}

static void tmp_path(char *buf, size_t len, const char *tag)
{
    const char *dir = getenv("TMPDIR");
    snprintf(buf, len, "%s/synack_test_pcap_%ld_%s.pcap", dir ? dir : "/tmp",
             (long)getpid(), tag);
}

struct expect {
    synack_time_t at;
    uint8_t bytes[128];
    size_t len;
};

static void check_file(const char *path, const struct expect *want, int n)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    if (!p)
        fail_msg("pcap_open_offline(%s): %s", path, err);
    assert_int_equal(pcap_datalink(p), DLT_EN10MB);
    assert_true(pcap_snapshot(p) >= 65535);
    struct pcap_pkthdr *h;
    const u_char *data;
    for (int i = 0; i < n; i++) {
        assert_int_equal(pcap_next_ex(p, &h, &data), 1);
        assert_int_equal(h->caplen, want[i].len);
        assert_int_equal(h->len, want[i].len);
        assert_memory_equal(data, want[i].bytes, want[i].len);
        assert_int_equal(h->ts.tv_sec, want[i].at / SYNACK_SEC);
        assert_int_equal(h->ts.tv_usec,
                         (want[i].at % SYNACK_SEC) / SYNACK_USEC);
    }
    assert_int_equal(pcap_next_ex(p, &h, &data), PCAP_ERROR_BREAK);
    pcap_close(p);
}

static void test_records_tx_and_rx(void **state)
{
    (void)state;
    char path[256];
    tmp_path(path, sizeof path, "txrx");
    synack_link_config c;
    synack_link_config_init(&c);
    c.delay = 3 * SYNACK_MSEC;
    synack_link *l;
    assert_int_equal(synack_link_new(&c, &l), 0);
    synack_dev *a, *b, *w;
    assert_int_equal(synack_link_port(l, &a), 0);
    assert_int_equal(synack_link_port(l, &b), 0);
    assert_int_equal(synack_pcap_wrap(a, path, &w), 0);
    assert_non_null(w->name);
    assert_int_equal(w->ops->fd(w), -1);

    struct got ga = { 0 }, gb = { 0 };
    synack_dev_set_rx(w, got_rx, &ga);
    synack_dev_set_rx(b, got_rx, &gb);

    struct expect want[5];
    /* Sent through the wrapper: recorded at the transmit time. */
    const synack_time_t tx_at[3] = { 1 * SYNACK_SEC + 1234,
                                     1 * SYNACK_SEC + 2 * SYNACK_MSEC + 999,
                                     7 * SYNACK_SEC + 999999999 };
    for (int i = 0; i < 3; i++) {
        want[i].len = mkframe(want[i].bytes, 60 + (size_t)i * 20, MAC_B, MAC_A,
                              (uint8_t)i);
        want[i].at = tx_at[i];
        assert_int_equal(
            synack_dev_transmit(w, want[i].bytes, want[i].len, tx_at[i]), 0);
    }
    /* Received: recorded at the time the wrapper was polled. */
    for (int i = 3; i < 5; i++) {
        want[i].len = mkframe(want[i].bytes, 100 + (size_t)i, MAC_A, MAC_B,
                              (uint8_t)(i * 40));
        assert_int_equal(synack_dev_transmit(b, want[i].bytes, want[i].len,
                                             10 * SYNACK_SEC + (uint64_t)i),
                         0);
    }
    assert_int_equal(synack_dev_next_deadline(w),
                     10 * SYNACK_SEC + 3 + c.delay);
    want[3].at = want[4].at = 11 * SYNACK_SEC + 5 * SYNACK_USEC;
    assert_int_equal(synack_dev_poll(w, want[3].at), 2);
    assert_int_equal(ga.n, 2);
    assert_int_equal(ga.last_len, want[4].len);
    assert_memory_equal(ga.last, want[4].bytes, want[4].len);
    assert_int_equal(ga.last_at, want[3].at);
    assert_int_equal(synack_dev_poll(b, 9 * SYNACK_SEC), 3);

    synack_dev_destroy(w); /* flushes, and destroys the port */
    synack_dev_destroy(b);
    synack_link_del(l);
    check_file(path, want, 5);
    unlink(path);
}

static void test_keeps_existing_rx(void **state)
{
    (void)state;
    char path[256];
    tmp_path(path, sizeof path, "keep");
    synack_link_config c;
    synack_link_config_init(&c);
    synack_link *l;
    assert_int_equal(synack_link_new(&c, &l), 0);
    synack_dev *a, *b, *w;
    assert_int_equal(synack_link_port(l, &a), 0);
    assert_int_equal(synack_link_port(l, &b), 0);
    struct got ga = { 0 };
    synack_dev_set_rx(a, got_rx, &ga); /* attached before wrapping */
    assert_int_equal(synack_pcap_wrap(a, path, &w), 0);
    assert_ptr_equal(w->rx_ctx, &ga);

    struct expect want[1];
    want[0].len = mkframe(want[0].bytes, 64, MAC_A, MAC_B, 9);
    want[0].at = 42;
    assert_int_equal(synack_dev_transmit(b, want[0].bytes, 64, 0), 0);
    /* Polling the inner device still goes through the recorder. */
    assert_int_equal(synack_dev_poll(a, 42), 1);
    assert_int_equal(ga.n, 1);
    synack_dev_destroy(w);
    synack_dev_destroy(b);
    synack_link_del(l);
    check_file(path, want, 1);
    unlink(path);
}

static void test_open_failure(void **state)
{
    (void)state;
    synack_link_config c;
    synack_link_config_init(&c);
    synack_link *l;
    assert_int_equal(synack_link_new(&c, &l), 0);
    synack_dev *a, *w = NULL;
    assert_int_equal(synack_link_port(l, &a), 0);
    struct got ga = { 0 };
    synack_dev_set_rx(a, got_rx, &ga);
    assert_int_equal(synack_pcap_wrap(a, "/nonexistent-synack-dir/x.pcap", &w),
                     -SYNACK_ENOENT);
    assert_null(w);
    assert_int_equal(synack_pcap_wrap(NULL, "x", &w), -SYNACK_EINVAL);
    assert_int_equal(synack_pcap_wrap(a, NULL, &w), -SYNACK_EINVAL);
    /* The caller still owns a, untouched. */
    assert_ptr_equal(a->rx_ctx, &ga);
    synack_dev_destroy(a);
    synack_link_del(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records_tx_and_rx),
        cmocka_unit_test(test_keeps_existing_rx),
        cmocka_unit_test(test_open_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
