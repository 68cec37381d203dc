/*
 * `synack bridge`: two TAP devices joined through the in-memory link, so
 * that the link's seeded impairments (loss, delay, reordering, ...) apply
 * to whatever two kernels, namespaces or programs send each other:
 *
 *     kernel side of TAP A <-> [TAP A ~ port A] link [port B ~ TAP B] <->
 *     kernel side of TAP B
 *
 * No stack runs here: frames cross unchanged (ARP included), except for
 * what the impairments do to them. Both devices are created in the
 * current network namespace and left down; the caller moves each into a
 * namespace of its own (`ip link set NAME netns NS`), brings it up and
 * gives it an address there. The descriptors stay valid across the move.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <synack/dev.h>
#include <synack/synack.h>

#include "opts.h"
#include "tool.h"

static volatile sig_atomic_t bridge_stop;

static void on_signal(int sig)
{
    (void)sig;
    bridge_stop = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: synack bridge --tap-a NAME --tap-b NAME [OPTIONS]\n"
            "\n"
            "Create two TAP devices and forward every frame between them "
            "through\n"
            "synack's in-memory link with its impairments, both ways, until "
            "SIGINT\n"
            "or SIGTERM. No TCP stack runs here: two kernels (or network "
            "namespaces)\n"
            "talk to each other through it, as over a lossy wire. The "
            "devices are\n"
            "created down in the current network namespace; move each into "
            "a\n"
            "namespace of its own, bring it up and address it there:\n"
            "\n"
            "  synack bridge --tap-a sbr0 --tap-b sbr1 --loss 1%% --delay 10 "
            "&\n"
            "  ip link set sbr0 netns ns1; ip -n ns1 addr add 10.9.0.1/24 dev "
            "sbr0\n"
            "  ip -n ns1 link set sbr0 up   (and the same for sbr1 in ns2)\n"
            "\n"
            "It prints \"bridge: ready\" on standard output once both "
            "devices exist,\n"
            "and the link's counters on standard error when it stops. Needs "
            "root\n"
            "(CAP_NET_ADMIN) and /dev/net/tun.\n"
            "\n"
            "Options:\n"
            "  --tap-a NAME      the first TAP device (created if absent)\n"
            "  --tap-b NAME      the second TAP device\n"
            "  --mtu N           the devices' MTU (default: the kernel's, "
            "1500)\n");
    opts_print_help(out);
    fprintf(out, "  -h, --help        this text\n"
                 "\n"
                 "--pcap records what crosses the link at TAP A's end. -o "
                 "(tunables) does\n"
                 "not apply: no stack runs here.\n");
}

static int open_tap(const char *prog, const char *name, uint16_t mtu,
                    synack_dev **out)
{
    synack_tap_config tc;
    memset(&tc, 0, sizeof tc);
    tc.ifname = name;
    tc.mtu = mtu;
    char err[256];
    err[0] = '\0';
    int rc = synack_tap_open(&tc, out, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", prog, err[0] ? err : synack_strerror(rc));
        return -1;
    }
    return 0;
}

int bridge_main(int argc, char **argv)
{
    const char *prog = "synack bridge";
    const char *na = NULL, *nb = NULL;
    uint64_t mtu = 0;
    struct tool_opts o;
    opts_init(&o, 0);
    int code = TOOL_USAGE;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int m;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            opts_free(&o);
            return TOOL_OK;
        }
        const char *v = opts_value(prog, argc, argv, &i, "--tap-a", &m);
        if (m) {
            if (!v)
                goto out;
            na = v;
            continue;
        }
        v = opts_value(prog, argc, argv, &i, "--tap-b", &m);
        if (m) {
            if (!v)
                goto out;
            nb = v;
            continue;
        }
        v = opts_value(prog, argc, argv, &i, "--mtu", &m);
        if (m) {
            if (!v || opts_parse_u64(prog, "--mtu", v, &mtu) < 0)
                goto out;
            if (mtu < 68 || mtu > 65535) {
                fprintf(stderr, "%s: --mtu: %llu is out of range (68 to "
                        "65535)\n", prog, (unsigned long long)mtu);
                goto out;
            }
            continue;
        }
        int rc = opts_parse_common(prog, argc, argv, &i, &o);
        if (rc < 0)
            goto out;
        if (rc > 0)
            continue;
        fprintf(stderr, "%s: unknown %s '%s' (see --help)\n", prog,
                a[0] == '-' ? "option" : "argument", a);
        goto out;
    }
    if (o.ntunables) {
        fprintf(stderr, "%s: -o %s: no stack runs in a bridge, so there are "
                "no tunables to set\n", prog, o.tunables[0].name);
        goto out;
    }
    if (!na || !nb) {
        fprintf(stderr, "%s: both --tap-a and --tap-b are needed (see "
                "--help)\n", prog);
        goto out;
    }
    if (strcmp(na, nb) == 0) {
        fprintf(stderr, "%s: --tap-a and --tap-b name the same device "
                "'%s'\n", prog, na);
        goto out;
    }

    code = TOOL_FAIL;
    synack_dev *ta = NULL, *tb = NULL, *pa = NULL, *pb = NULL;
    synack_link *link = NULL;
    synack_rtloop *loop = NULL;
    synack_link_config lc;
    synack_link_config_init(&lc);
    lc.loss = o.loss;
    lc.reorder = o.reorder;
    lc.dup = o.dup;
    lc.corrupt = o.corrupt;
    lc.delay = o.delay;
    lc.jitter = o.jitter;
    lc.rate_bps = o.rate_bps;
    lc.seed = o.seed;
    int rc;
    if (open_tap(prog, na, (uint16_t)mtu, &ta) < 0 ||
        open_tap(prog, nb, (uint16_t)mtu, &tb) < 0)
        goto done;
    if ((rc = synack_link_new(&lc, &link)) < 0 ||
        (rc = synack_link_port(link, &pa)) < 0 ||
        (rc = synack_link_port(link, &pb)) < 0) {
        fprintf(stderr, "%s: cannot create the link: %s\n", prog,
                synack_strerror(rc));
        goto done;
    }
    if (o.pcap) {
        synack_dev *w;
        if ((rc = synack_pcap_wrap(pa, o.pcap, &w)) < 0) {
            fprintf(stderr, "%s: --pcap %s: cannot open for writing: %s\n",
                    prog, o.pcap, synack_strerror(rc));
            code = TOOL_USAGE;
            goto done;
        }
        pa = w;
    }
    synack_bridge(ta, pa);
    synack_bridge(tb, pb);
    if ((rc = synack_rtloop_new(&loop)) < 0 ||
        (rc = synack_rtloop_add_dev(loop, ta)) < 0 ||
        (rc = synack_rtloop_add_dev(loop, tb)) < 0 ||
        (rc = synack_rtloop_add_dev(loop, pa)) < 0 ||
        (rc = synack_rtloop_add_dev(loop, pb)) < 0) {
        fprintf(stderr, "%s: cannot set up the loop: %s\n", prog,
                synack_strerror(rc));
        goto done;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    printf("bridge: ready %s <-> %s\n", synack_tap_name(ta),
           synack_tap_name(tb));
    fflush(stdout);
    while (!bridge_stop) {
        rc = synack_rtloop_once(loop, SYNACK_SEC);
        if (rc < 0) {
            fprintf(stderr, "%s: loop: %s\n", prog, synack_strerror(rc));
            goto done;
        }
    }
    code = TOOL_OK;

done:;
    if (link)
        tool_print_link_stats(stderr, prog, link);
    synack_rtloop_del(loop);
    synack_dev_destroy(pa);
    synack_dev_destroy(pb);
    synack_link_del(link);
    synack_dev_destroy(ta);
    synack_dev_destroy(tb);
out:
    opts_free(&o);
    return code;
}
