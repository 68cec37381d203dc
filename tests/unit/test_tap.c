/*
 * The TAP device against the Linux kernel, in a network namespace of the
 * test's own (unshare(CLONE_NEWNET): it disappears with the process). The
 * kernel is the peer: it must answer our ARP request for its address.
 * Without the privileges to create a namespace the test is skipped (exit
 * 77, reported by ctest as skipped), never passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <synack/dev.h>

#include "core/wire.h"

#define HOST 0x0a630001u /* 10.99.0.1, the kernel's side */
#define US 0x0a630002u   /* 10.99.0.2 */

static const uint8_t our_mac[6] = {0x02, 0x53, 0x59, 0x4e, 0x00, 0x02};

struct rx {
    uint8_t frame[2048];
    size_t len;
    int arp_replies;
    uint8_t host_mac[6];
};

static void on_rx(void *ctx, const uint8_t *f, size_t len, synack_time_t now)
{
    (void)now;
    struct rx *r = ctx;
    wire_eth eh;
    wire_arp ah;
    if (wire_eth_parse(f, len, &eh) < 0 || eh.type != WIRE_ETHERTYPE_ARP)
        return;
    if (wire_arp_parse(f + 14, len - 14, &ah) < 0)
        return;
    if (ah.op == 2 && ah.spa == HOST && ah.tpa == US &&
        memcmp(ah.tha, our_mac, 6) == 0) {
        r->arp_replies++;
        memcpy(r->host_mac, ah.sha, 6);
    }
}

static void kernel_answers_arp(void **state)
{
    (void)state;
    synack_tap_config cfg = {
        .ifname = "synacktst0", .host_ip = HOST, .host_prefix = 24};
    synack_dev *d;
    char err[256] = "";
    int rc = synack_tap_open(&cfg, &d, err, sizeof(err));
    if (rc < 0)
        fail_msg("synack_tap_open: %s", err);
    assert_string_equal(synack_tap_name(d), "synacktst0");
    assert_true(d->ops->fd(d) >= 0);
    struct rx r = {0};
    synack_dev_set_rx(d, on_rx, &r);

    uint8_t f[60] = {0};
    wire_eth eh = {.type = WIRE_ETHERTYPE_ARP};
    memset(eh.dst, 0xff, 6);
    memcpy(eh.src, our_mac, 6);
    size_t n = wire_eth_emit(f, &eh);
    wire_arp ah = {.op = 1, .spa = US, .tpa = HOST};
    memcpy(ah.sha, our_mac, 6);
    wire_arp_emit(f + n, &ah);
    assert_int_equal(synack_dev_transmit(d, f, sizeof(f), 0), 0);

    for (int i = 0; i < 50 && r.arp_replies == 0; i++) {
        struct pollfd p = {d->ops->fd(d), POLLIN, 0};
        poll(&p, 1, 100);
        synack_dev_poll(d, 0);
    }
    assert_int_equal(r.arp_replies, 1);
    synack_dev_destroy(d);
}

static void clear_errors(void **state)
{
    (void)state;
    synack_tap_config cfg = {.ifname = "this-name-is-far-too-long"};
    synack_dev *d;
    char err[256] = "";
    assert_int_equal(synack_tap_open(&cfg, &d, err, sizeof(err)),
                     -SYNACK_EINVAL);
    assert_non_null(strstr(err, "interface name"));
    /* an interface that exists but is not a TAP */
    cfg.ifname = "lo";
    assert_true(synack_tap_open(&cfg, &d, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "lo"));
}

int main(void)
{
    if (unshare(CLONE_NEWNET) < 0) {
        printf("SKIP: cannot create a network namespace (%s); the TAP test "
               "needs root or CAP_SYS_ADMIN and CAP_NET_ADMIN\n",
               strerror(errno));
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kernel_answers_arp),
        cmocka_unit_test(clear_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
