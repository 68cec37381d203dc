/*
 * synack plot FILE: the time-sequence plot (tsplot.h) of one connection of
 * a capture, as SVG.
 */
#include <stdlib.h>
#include <string.h>

#include "capconn.h"
#include "opts.h"
#include "tool.h"
#include "tsplot.h"

#define PROG "synack plot"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: synack plot FILE [--conn N] [--dir A|B] [-o OUT.svg]\n"
            "\n"
            "The time-sequence plot of one TCP connection of a capture (pcap "
            "or pcapng;\n"
            "Ethernet, raw IP, Linux cooked), written as SVG: sequence number "
            "against\n"
            "time for one direction, as seen where the capture was taken: "
            "the data\n"
            "segments (retransmissions in red: they start below the highest "
            "sequence\n"
            "number sent before), the receiver's ACK and window edge (ACK + "
            "WND, scaled\n"
            "by its SYN's window scale) and SACK blocks.\n"
            "\n"
            "Options:\n"
            "  --conn N      the connection (numbered from 1 in the order of "
            "their first\n"
            "                segment; default: the one with the most data)\n"
            "  --dir A|B     the direction: data sent by A (the client) or B "
            "(default: the\n"
            "                one carrying more data)\n"
            "  -o OUT.svg    where to write (default: FILE without its "
            "extension, plus\n"
            "                -tseq.svg, in the current directory; - for "
            "standard output)\n"
            "  -h, --help    this text\n"
            "\n"
            "Exit status: 0 written, 1 the capture cannot be read or has no "
            "such\n"
            "connection, 2 bad usage.\n"
            "\n"
            "Example:\n"
            "  synack sim --bytes 300K --loss 3 --pcap run.pcap --quiet && "
            "synack plot run.pcap\n");
}

static void default_out(const char *in, char *out, size_t len)
{
    const char *base = strrchr(in, '/');
    base = base ? base + 1 : in;
    if (!*base || strcmp(base, "-") == 0)
        base = "capture";
    size_t n = strlen(base);
    const char *dot = strrchr(base, '.');
    if (dot && dot != base)
        n = (size_t)(dot - base);
    snprintf(out, len, "%.*s-tseq.svg", (int)n, base);
}

int plot_main(int argc, char **argv)
{
    const char *file = NULL, *out = NULL;
    unsigned long conn = 0;
    int dir = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int m;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return TOOL_OK;
        }
        if ((v = opts_value(PROG, argc, argv, &i, "--conn", &m)) || m) {
            char *end;
            if (!v)
                return TOOL_USAGE;
            conn = strtoul(v, &end, 10);
            if (*end || !conn || v[0] == '-') {
                fprintf(stderr,
                        "%s: --conn: '%s' is not a connection number (1, 2, "
                        "...)\n",
                        PROG, v);
                return TOOL_USAGE;
            }
            continue;
        }
        if ((v = opts_value(PROG, argc, argv, &i, "--dir", &m)) || m) {
            if (!v)
                return TOOL_USAGE;
            if (strcmp(v, "A") == 0 || strcmp(v, "a") == 0)
                dir = 0;
            else if (strcmp(v, "B") == 0 || strcmp(v, "b") == 0)
                dir = 1;
            else {
                fprintf(stderr, "%s: --dir: '%s' is not A or B\n", PROG, v);
                return TOOL_USAGE;
            }
            continue;
        }
        if ((v = opts_value(PROG, argc, argv, &i, "-o", &m)) || m) {
            if (!v)
                return TOOL_USAGE;
            out = v;
            continue;
        }
        if (a[0] == '-' && a[1]) {
            fprintf(stderr, "%s: unknown option '%s' (see %s --help)\n", PROG,
                    a, PROG);
            return TOOL_USAGE;
        }
        if (file) {
            fprintf(stderr, "%s: one capture at a time ('%s' and '%s')\n", PROG,
                    file, a);
            return TOOL_USAGE;
        }
        file = a;
    }
    if (!file) {
        fprintf(stderr, "%s: no capture file given\n", PROG);
        usage(stderr);
        return TOOL_USAGE;
    }

    struct capconns cc;
    char err[512];
    if (capconn_load(file, &cc, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        return TOOL_FAIL;
    }
    int code = TOOL_FAIL;
    struct tsp_seg *segs = NULL;
    FILE *f = NULL;
    if (!cc.n) {
        fprintf(stderr, "%s: %s: no IPv4 TCP connection in %lu packets\n", PROG,
                file, cc.packets);
        goto done;
    }
    if (conn > cc.n) {
        fprintf(stderr, "%s: %s has %zu connection%s; there is no --conn %lu\n",
                PROG, file, cc.n, cc.n == 1 ? "" : "s", conn);
        goto done;
    }
    const struct capconn *c = NULL;
    if (conn) {
        c = &cc.conns[conn - 1];
    } else {
        uint64_t best = 0;
        for (size_t i = 0; i < cc.n; i++) {
            uint64_t b = 0;
            for (size_t k = 0; k < cc.conns[i].nsegs; k++)
                b += cc.conns[i].segs[k].p.seg.len;
            if (!c || b > best) {
                c = &cc.conns[i];
                best = b;
            }
        }
    }
    segs = calloc(c->nsegs ? c->nsegs : 1, sizeof *segs);
    if (!segs) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        goto done;
    }
    for (size_t k = 0; k < c->nsegs; k++) {
        const struct capconn_seg *s = &c->segs[k];
        segs[k].t = s->p.t_ns;
        segs[k].from = s->from;
        segs[k].retrans = -1;
        segs[k].seg = s->p.seg;
        segs[k].nsack = s->p.nsack;
        memcpy(segs[k].sack, s->p.sack, sizeof segs[k].sack);
    }
    if (dir < 0) {
        uint64_t b[2];
        tsplot_bytes(segs, c->nsegs, b);
        dir = b[1] > b[0];
    }
    char outbuf[4096];
    if (!out) {
        default_out(file, outbuf, sizeof outbuf);
        out = outbuf;
    }
    int to_stdout = strcmp(out, "-") == 0;
    f = to_stdout ? stdout : fopen(out, "w");
    if (!f) {
        fprintf(stderr, "%s: cannot open %s for writing\n", PROG, out);
        goto done;
    }
    char title[512], ea[32], eb[32];
    synack_addr_str(&c->ep[0], ea, sizeof ea);
    synack_addr_str(&c->ep[1], eb, sizeof eb);
    const char *base = strrchr(file, '/');
    snprintf(title, sizeof title, "%s, connection %u: %c %s to %c %s",
             base ? base + 1 : file, c->id, dir ? 'B' : 'A', dir ? eb : ea,
             dir ? 'A' : 'B', dir ? ea : eb);
    int rc =
        tsplot_tseq(f, segs, c->nsegs, dir, c->nsegs ? segs[0].t : 0, title);
    if (!to_stdout) {
        if (fclose(f) != 0)
            rc = -1;
    } else {
        fflush(stdout);
    }
    f = NULL;
    if (rc != 0) {
        fprintf(stderr, "%s: writing %s failed\n", PROG, out);
        goto done;
    }
    if (!to_stdout)
        fprintf(stderr,
                "%s: connection %u (%s - %s, %zu segments), data "
                "from %c: %s\n",
                PROG, c->id, ea, eb, c->nsegs, dir ? 'B' : 'A', out);
    code = TOOL_OK;
done:
    free(segs);
    capconn_free(&cc);
    return code;
}
