/*
 * `synack diagram FILE`: each TCP connection of a capture as the RFC 9293
 * ladder diagram, with both ends' states inferred from the segments
 * (capinfer.h) and the segments marked (retransmission, dup ACK, ...).
 */
#define _DEFAULT_SOURCE
#include "capconn.h"
#include "capinfer.h"
#include "ladder.h"
#include "textesc.h"
#include "tool.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define PROG "synack diagram"

struct dopts {
    const char *file;
    const char *filter;
    char *filter_buf;
    unsigned *conns; /* picked connection ids */
    size_t nconns;
    int list, json, absolute, mode;
    const char *svg;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: synack diagram FILE [OPTIONS]\n"
            "\n"
            "Draws each TCP connection of a capture (pcap or pcapng; "
            "Ethernet, raw IP,\n"
            "Linux cooked v1/v2 or loopback; IPv4) as the RFC 9293 ladder "
            "diagram: time,\n"
            "state of A, the segment with SEQ/ACK/CTL/LEN/WND and options, "
            "state of B.\n"
            "A is the client (the SYN's sender), B the server. Both ends' "
            "states are\n"
            "inferred from the segments alone; where the capture cannot "
            "tell, the row\n"
            "says so (\"uncertain\", \"assumed\"). Segments are marked: "
            "retransmission,\n"
            "out-of-order, previous segment not captured, dup ACK #n, zero "
            "window,\n"
            "zero-window probe, window update, keepalive probe, reset, "
            "challenge ACK,\n"
            "ACKs data not in the capture. FILE \"-\" reads standard "
            "input.\n"
            "\n"
            "Options:\n"
            "  --conn N[,N...]   only these connections (numbered from 1 "
            "as --list shows);\n"
            "                    repeatable\n"
            "  --filter EXPR     only packets this BPF expression matches "
            "(tcpdump syntax,\n"
            "                    e.g. 'tcp port 80 and host 10.0.0.2')\n"
            "  --port N          the same as --filter 'tcp port N'\n"
            "  --host IP         the same as --filter 'host IP' (both "
            "combine with 'and')\n"
            "  --list            one line per connection: number, "
            "endpoints, segments,\n"
            "                    duration, final states; no diagram\n"
            "  -S, --absolute    absolute sequence numbers (default: "
            "relative to each ISN)\n"
            "  --full            every row (the same as --ladder full)\n"
            "  --ladder MODE     full, or auto (default: at most 60 segment "
            "rows, else the\n"
            "                    first and last 30; state changes always "
            "shown)\n"
            "  --svg FILE        also draw the diagram as SVG into FILE (one "
            "connection:\n"
            "                    pick it with --conn N if there are "
            "several)\n"
            "  --json            machine-readable: per connection the rows, "
            "the state\n"
            "                    changes (times in seconds since the epoch) "
            "and the final\n"
            "                    states with counters\n"
            "  -h, --help        this text\n"
            "\n"
            "Exit status: 0 on success, 1 if the file cannot be read, is "
            "damaged or holds\n"
            "no TCP connection, 2 for bad usage.\n"
            "\n"
            "Examples:\n"
            "  synack sim lost-fin --pcap lost-fin.pcap && synack diagram "
            "lost-fin.pcap\n"
            "  synack diagram trace.pcapng --list\n"
            "  synack diagram trace.pcap --port 443 --conn 2 --full\n");
}

static int add_conns(struct dopts *o, const char *arg)
{
    const char *p = arg;
    while (*p) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p || v == 0 || v > 100000000ul || (*end && *end != ','))
            return -1;
        unsigned *n = realloc(o->conns, (o->nconns + 1) * sizeof *n);
        if (!n)
            return -1;
        o->conns = n;
        o->conns[o->nconns++] = (unsigned)v;
        p = *end ? end + 1 : end;
    }
    return o->nconns ? 0 : -1;
}

static int add_filter(struct dopts *o, const char *expr)
{
    size_t n = (o->filter_buf ? strlen(o->filter_buf) : 0) + strlen(expr) + 16;
    char *b = malloc(n);
    if (!b)
        return -1;
    if (o->filter_buf)
        snprintf(b, n, "(%s) and (%s)", o->filter_buf, expr);
    else
        snprintf(b, n, "%s", expr);
    free(o->filter_buf);
    o->filter_buf = b;
    o->filter = b;
    return 0;
}

static int parse(int argc, char **argv, struct dopts *o)
{
    enum {
        O_CONN = 256,
        O_FILTER,
        O_PORT,
        O_HOST,
        O_LIST,
        O_FULL,
        O_LADDER,
        O_SVG,
        O_JSON
    };
    static const struct option lo[] = {
        { "conn", required_argument, NULL, O_CONN },
        { "filter", required_argument, NULL, O_FILTER },
        { "port", required_argument, NULL, O_PORT },
        { "host", required_argument, NULL, O_HOST },
        { "list", no_argument, NULL, O_LIST },
        { "absolute", no_argument, NULL, 'S' },
        { "full", no_argument, NULL, O_FULL },
        { "ladder", required_argument, NULL, O_LADDER },
        { "svg", required_argument, NULL, O_SVG },
        { "json", no_argument, NULL, O_JSON },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    o->mode = LADDER_AUTO;
    opterr = 0;
    optind = 1;
    int c;
    char buf[64];
    while ((c = getopt_long(argc, argv, ":Sh", lo, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(stdout);
            return 1;
        case 'S':
            o->absolute = 1;
            break;
        case O_CONN:
            if (add_conns(o, optarg) != 0) {
                fprintf(stderr,
                        PROG ": --conn '%s': expected connection numbers "
                             "from 1, e.g. 2 or 1,3\n",
                        optarg);
                return -1;
            }
            break;
        case O_FILTER:
            if (add_filter(o, optarg) != 0)
                return -1;
            break;
        case O_PORT: {
            char *end;
            unsigned long p = strtoul(optarg, &end, 10);
            if (*end || end == optarg || p == 0 || p > 65535) {
                fprintf(stderr, PROG ": --port '%s': expected 1 to 65535\n",
                        optarg);
                return -1;
            }
            snprintf(buf, sizeof buf, "tcp port %lu", p);
            if (add_filter(o, buf) != 0)
                return -1;
            break;
        }
        case O_HOST: {
            uint32_t ip;
            if (synack_ip_parse(optarg, &ip) != 0) {
                fprintf(stderr,
                        PROG ": --host '%s': expected an IPv4 "
                             "address\n",
                        optarg);
                return -1;
            }
            snprintf(buf, sizeof buf, "host %s", optarg);
            if (add_filter(o, buf) != 0)
                return -1;
            break;
        }
        case O_LIST:
            o->list = 1;
            break;
        case O_FULL:
            o->mode = LADDER_FULL;
            break;
        case O_LADDER:
            if (strcmp(optarg, "full") == 0)
                o->mode = LADDER_FULL;
            else if (strcmp(optarg, "auto") == 0)
                o->mode = LADDER_AUTO;
            else {
                fprintf(stderr,
                        PROG ": --ladder '%s': expected full or "
                             "auto\n",
                        optarg);
                return -1;
            }
            break;
        case O_SVG:
            o->svg = optarg;
            break;
        case O_JSON:
            o->json = 1;
            break;
        case ':':
            fprintf(stderr, PROG ": option '%s' needs a value\n",
                    argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, PROG ": unknown option '%s'\n", argv[optind - 1]);
            return -1;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, PROG ": no capture file given\n");
        return -1;
    }
    if (optind + 1 < argc) {
        fprintf(stderr,
                PROG ": one capture file at a time (got '%s' and "
                     "'%s')\n",
                argv[optind], argv[optind + 1]);
        return -1;
    }
    o->file = argv[optind];
    if (o->json && o->list) {
        fprintf(stderr, PROG ": --json and --list do not go together\n");
        return -1;
    }
    return 0;
}

/* ---- text --------------------------------------------------------------- */

static const char *ep_str(const synack_addr *a, char *buf, size_t len)
{
    return synack_addr_str(a, buf, len);
}

static void fmt_rel(uint64_t t, uint64_t t0, char *buf, size_t len)
{
    ladder_fmt_time(t >= t0 ? t - t0 : 0, buf, len);
}

static void fmt_epoch(uint64_t t, char *buf, size_t len)
{
    time_t s = (time_t)(t / 1000000000ull);
    struct tm tm;
    gmtime_r(&s, &tm);
    char d[40];
    strftime(d, sizeof d, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(buf, len, "%s.%06llu UTC", d,
             (unsigned long long)(t % 1000000000ull / 1000));
}

static const char *state_or_q(int st)
{
    return capinfer_state_name(st);
}

static void print_final(const struct capinfer *ci, uint64_t t0, FILE *out)
{
    char tb[32];
    fprintf(out, "  final state   ");
    for (int x = 0; x < 2; x++) {
        const struct capinfer_side *sd = &ci->side[x];
        fmt_rel(sd->since_ns, t0, tb, sizeof tb);
        fprintf(out, "%c %s since %s%s%s", x ? 'B' : 'A', state_or_q(sd->state),
                tb, sd->certain ? "" : " (uncertain)", x ? "\n" : ", ");
    }
    for (int x = 0; x < 2; x++)
        if (ci->side[x].state == SYNACK_TIME_WAIT)
            fprintf(out,
                    "  time-wait     %c stays in TIME-WAIT for 2MSL (60 s on "
                    "Linux) after it entered it; no segment shows the end, "
                    "so it is TIME-WAIT to the end of the capture\n",
                    x ? 'B' : 'A');
    for (int x = 0; x < 2; x++) {
        const struct capinfer_side *sd = &ci->side[x];
        fprintf(out,
                "  %-14s%c sent %lu segments (%llu bytes): %lu "
                "retransmissions, %lu out-of-order, %lu dup ACKs, %lu zero "
                "windows, %lu keepalives, %lu window probes\n",
                x ? "" : "counts", x ? 'B' : 'A', sd->segs,
                (unsigned long long)sd->bytes, sd->retrans, sd->ooo,
                sd->dupacks, sd->zero_windows, sd->keepalives, sd->probes);
    }
}

static void print_vantage(const struct capinfer *ci, FILE *out)
{
    int cl = ci->conn && ci->conn->a_is_client;
    const char *v = ci->vantage == CAPINFER_NEAR_A
                        ? (cl ? "near A (the client)" : "near A")
                    : ci->vantage == CAPINFER_NEAR_B
                        ? (cl ? "near B (the server)" : "near B")
                        : "unknown";
    fprintf(out, "  capture point %s", v);
    if (ci->rtt_ns)
        fprintf(out, "; %s round trip %.3f ms",
                ci->mid_connection ? "estimated" : "handshake",
                (double)ci->rtt_ns / 1e6);
    fprintf(out, "\n");
    if (ci->vantage == CAPINFER_NEAR_A)
        fprintf(out, "                B's changes happen up to one one-way "
                     "delay after the times shown\n");
    else if (ci->vantage == CAPINFER_NEAR_B)
        fprintf(out, "                A's changes happen up to one one-way "
                     "delay after the times shown\n");
}

/* The base of each side's relative sequence numbers: its SYN's, else
 * (the capture starts mid-connection) one below its first segment's, so
 * that the first byte seen is 1, as after a SYN; else the peer's first
 * ACK's minus one (a side that only receives). bknown[x] is 0 when the
 * capture shows neither. */
static void rel_bases(const struct capconn *c, uint32_t base[2],
                      int bknown[2])
{
    base[0] = base[1] = 0;
    bknown[0] = bknown[1] = 0;
    for (size_t k = 0; k < c->nsegs; k++) {
        const synack_seg *s = &c->segs[k].p.seg;
        int x = c->segs[k].from;
        if ((s->flags & SYNACK_TH_SYN) && !bknown[x]) {
            base[x] = s->seq;
            bknown[x] = 1;
        }
    }
    for (size_t k = 0; k < c->nsegs; k++) {
        const synack_seg *s = &c->segs[k].p.seg;
        int x = c->segs[k].from;
        if (!bknown[x]) {
            base[x] = s->seq - 1;
            bknown[x] = 1;
        }
        if (!bknown[!x] && (s->flags & SYNACK_TH_ACK)) {
            base[!x] = s->ack - 1;
            bknown[!x] = 1;
        }
    }
}

static int draw_text(const struct capconn *c, const struct capinfer *ci,
                     const struct dopts *o, uint64_t t0, FILE *svg)
{
    char a[32], b[32], tb[32];
    fmt_rel(ci->last_ns - ci->first_ns, 0, tb, sizeof tb);
    printf("\nConnection %u: A %s%s  B %s%s  %zu segments, %s s\n", c->id,
           ep_str(&c->ep[0], a, sizeof a), c->a_is_client ? " (client)" : "",
           ep_str(&c->ep[1], b, sizeof b), c->a_is_client ? " (server)" : "",
           c->nsegs, tb);
    print_vantage(ci, stdout);
    struct ladder_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.out = stdout;
    cfg.mode = o->mode;
    cfg.absolute = o->absolute;
    cfg.svg = svg;
    ladder *l = ladder_new(&cfg);
    if (!l)
        return -1;
    ladder_set_state(l, LADDER_A, ci->side[0].initial);
    ladder_set_state(l, LADDER_B, ci->side[1].initial);
    if (!o->absolute) {
        uint32_t base[2];
        int bknown[2];
        rel_bases(c, base, bknown);
        for (int x = 0; x < 2; x++)
            if (bknown[x])
                ladder_set_isn(l, x, base[x]);
    }
    uint64_t tfirst = ci->first_ns - t0;
    if (ci->side[0].initial_why &&
        ci->side[0].initial_why == ci->side[1].initial_why)
        ladder_note(l, tfirst, -1, ci->side[0].initial_why);
    else
        for (int x = 0; x < 2; x++)
            if (ci->side[x].initial_why) {
                char t[160];
                snprintf(t, sizeof t, "%c: %s", x ? 'B' : 'A',
                         ci->side[x].initial_why);
                ladder_note(l, tfirst, x, t);
            }
    size_t ch = 0;
    for (size_t k = 0; k < c->nsegs; k++) {
        const struct capconn_seg *g = &c->segs[k];
        for (int after = 0; after < 2; after++) {
            while (ch < ci->nchanges && ci->changes[ch].seg == k &&
                   ci->changes[ch].after == after) {
                const struct capinfer_change *x = &ci->changes[ch++];
                char det[200], tf[32];
                det[0] = '\0';
                if (!x->certain)
                    snprintf(det, sizeof det, "[uncertain: %s]",
                             x->why ? x->why : "no direct evidence");
                else if (x->t_first_ns < x->t_ns)
                    snprintf(
                        det, sizeof det,
                        "[since %s: which copy arrived is not in the "
                        "capture]",
                        ladder_fmt_time(x->t_first_ns - t0, tf, sizeof tf));
                ladder_state(l, x->t_ns - t0, x->side, x->to, x->cause,
                             det[0] ? det : NULL);
            }
            if (!after)
                ladder_segment_sack(l, g->p.t_ns - t0, g->from, &g->p.seg,
                                    ci->marks[k], g->p.nsack,
                                    (const uint32_t(*)[2])g->p.sack);
        }
    }
    for (int x = 0; x < 2; x++)
        if (ci->side[x].state == SYNACK_TIME_WAIT)
            ladder_note(l, ci->last_ns - t0, x,
                        "TIME-WAIT to the end of the capture (2MSL: 60 s on "
                        "Linux)");
    ladder_finish(l);
    ladder_free(l);
    print_final(ci, t0, stdout);
    return 0;
}

static void list_line(const struct capconn *c, const struct capinfer *ci)
{
    char a[32], b[32], tb[32];
    fmt_rel(ci->last_ns - ci->first_ns, 0, tb, sizeof tb);
    char fa[24];
    snprintf(fa, sizeof fa, "%s%s", state_or_q(ci->side[0].state),
             ci->side[0].certain ? "" : "?");
    printf("%4u  %-21s %-21s %8zu  %12s  %-13s %s%s\n", c->id,
           ep_str(&c->ep[0], a, sizeof a), ep_str(&c->ep[1], b, sizeof b),
           c->nsegs, tb, fa, state_or_q(ci->side[1].state),
           ci->side[1].certain ? "" : "?");
}

/* ---- JSON --------------------------------------------------------------- */

static void jtime(FILE *f, uint64_t t)
{
    fprintf(f, "%llu.%09llu", (unsigned long long)(t / 1000000000ull),
            (unsigned long long)(t % 1000000000ull));
}

static void jstate(FILE *f, int st)
{
    if (st < 0)
        fputs("null", f);
    else
        tool_json_str(f, synack_state_name(st));
}

static void jmarks(FILE *f, unsigned m)
{
    static const struct {
        unsigned bit;
        const char *name;
    } tab[] = {
        { LADDER_RETRANS, "retransmission" },
        { LADDER_OOO, "out-of-order" },
        { LADDER_MISSING, "previous-segment-not-captured" },
        { LADDER_DUPACK, "dup-ack" },
        { LADDER_ZEROWIN, "zero-window" },
        { LADDER_WINPROBE, "zero-window-probe" },
        { LADDER_WINUPDATE, "window-update" },
        { LADDER_KEEPALIVE, "keepalive" },
        { LADDER_RST, "reset" },
        { LADDER_CHALLENGE, "challenge-ack" },
        { LADDER_ACKUNSEEN, "ack-of-unseen-data" },
    };
    fputc('[', f);
    int first = 1;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (m & tab[i].bit) {
            fprintf(f, "%s\"%s\"", first ? "" : ",", tab[i].name);
            first = 0;
        }
    fputc(']', f);
}

static void jside(FILE *f, const struct capinfer_side *sd)
{
    fputs("{\"state\":", f);
    jstate(f, sd->state);
    fprintf(f, ",\"certain\":%s,\"since\":", sd->certain ? "true" : "false");
    jtime(f, sd->since_ns);
    fputs(",\"initial\":", f);
    jstate(f, sd->initial);
    fprintf(f, ",\"initial_certain\":%s,\"initial_why\":",
            sd->initial_certain ? "true" : "false");
    tool_json_str(f, sd->initial_why);
    fprintf(f,
            ",\"segments\":%lu,\"bytes\":%llu,\"retransmissions\":%lu,"
            "\"out_of_order\":%lu,\"dup_acks\":%lu,\"zero_windows\":%lu,"
            "\"keepalives\":%lu,\"window_probes\":%lu,\"last_window\":",
            sd->segs, (unsigned long long)sd->bytes, sd->retrans, sd->ooo,
            sd->dupacks, sd->zero_windows, sd->keepalives, sd->probes);
    if (sd->wnd_known)
        fprintf(f, "%llu", (unsigned long long)sd->last_wnd);
    else
        fputs("null", f);
    fprintf(f,
            ",\"unacked\":%llu,\"syn_sent\":%s,\"fin_sent\":%s,"
            "\"fin_acked\":%s,\"rst_sent\":%s,\"last_segment\":",
            (unsigned long long)sd->unacked, sd->syn_sent ? "true" : "false",
            sd->fin_sent ? "true" : "false", sd->fin_acked ? "true" : "false",
            sd->rst_sent ? "true" : "false");
    if (sd->segs)
        jtime(f, sd->last_ns);
    else
        fputs("null", f);
    fputc('}', f);
}

static void json_conn(FILE *f, const struct capconn *c,
                      const struct capinfer *ci, int first)
{
    char a[32], b[32];
    fprintf(f, "%s\n{\"id\":%u,\"a\":\"%s\",\"b\":\"%s\",\"a_is_client\":%s,",
            first ? "" : ",", c->id, ep_str(&c->ep[0], a, sizeof a),
            ep_str(&c->ep[1], b, sizeof b), c->a_is_client ? "true" : "false");
    fprintf(f, "\"vantage\":\"%s\",\"rtt\":",
            ci->vantage == CAPINFER_NEAR_A   ? "A"
            : ci->vantage == CAPINFER_NEAR_B ? "B"
                                             : "unknown");
    if (ci->rtt_ns)
        fprintf(f, "%.9f", (double)ci->rtt_ns / 1e9);
    else
        fputs("null", f);
    fprintf(f, ",\"mid_connection\":%s,\"segments\":%zu,\"first\":",
            ci->mid_connection ? "true" : "false", c->nsegs);
    jtime(f, ci->first_ns);
    fputs(",\"last\":", f);
    jtime(f, ci->last_ns);
    fputs(",\"final\":{\"A\":", f);
    jside(f, &ci->side[0]);
    fputs(",\"B\":", f);
    jside(f, &ci->side[1]);
    fputs("},\n\"changes\":[", f);
    for (size_t i = 0; i < ci->nchanges; i++) {
        const struct capinfer_change *x = &ci->changes[i];
        fprintf(f, "%s\n {\"t\":", i ? "," : "");
        jtime(f, x->t_ns);
        fputs(",\"t_first\":", f);
        jtime(f, x->t_first_ns);
        fprintf(f, ",\"side\":\"%c\",\"from\":", x->side ? 'B' : 'A');
        jstate(f, x->from);
        fputs(",\"to\":", f);
        jstate(f, x->to);
        fputs(",\"cause\":", f);
        tool_json_str(f, x->cause);
        fprintf(f, ",\"segment\":%zu,\"after\":%s,\"certain\":%s,\"why\":",
                x->seg + 1, x->after ? "true" : "false",
                x->certain ? "true" : "false");
        tool_json_str(f, x->why);
        fputc('}', f);
    }
    fputs("],\n\"rows\":[", f);
    uint32_t base[2];
    int bknown[2];
    rel_bases(c, base, bknown);
    size_t ch = 0;
    int st[2] = { ci->side[0].initial, ci->side[1].initial };
    for (size_t k = 0; k < c->nsegs; k++) {
        const struct capconn_seg *g = &c->segs[k];
        const synack_seg *s = &g->p.seg;
        while (ch < ci->nchanges && ci->changes[ch].seg == k &&
               !ci->changes[ch].after)
            st[ci->changes[ch].side] = ci->changes[ch].to, ch++;
        char fl[32];
        fprintf(f, "%s\n {\"segment\":%zu,\"packet\":%lu,\"t\":", k ? "," : "",
                k + 1, g->p.n);
        jtime(f, g->p.t_ns);
        fprintf(f,
                ",\"from\":\"%c\",\"seq\":%lu,\"ack\":%lu,\"rseq\":%lu,"
                "\"rack\":%lu,\"flags\":\"%s\",\"len\":%lu,\"wnd\":%u",
                g->from ? 'B' : 'A', (unsigned long)s->seq,
                (unsigned long)s->ack,
                (unsigned long)(uint32_t)(s->seq - base[g->from]),
                (unsigned long)(uint32_t)(s->ack - base[!g->from]),
                synack_flags_str(s->flags, fl, sizeof fl),
                (unsigned long)s->len, (unsigned)s->wnd);
        if (s->has_mss)
            fprintf(f, ",\"mss\":%u", (unsigned)s->mss);
        if (s->has_ws)
            fprintf(f, ",\"ws\":%u", (unsigned)s->ws);
        if (g->p.nsack) {
            /* relative to the peer's base, like rack */
            fputs(",\"sack\":[", f);
            for (unsigned j = 0; j < g->p.nsack; j++)
                fprintf(f, "%s[%lu,%lu]", j ? "," : "",
                        (unsigned long)(uint32_t)(g->p.sack[j][0] -
                                                  base[!g->from]),
                        (unsigned long)(uint32_t)(g->p.sack[j][1] -
                                                  base[!g->from]));
            fputc(']', f);
        }
        fputs(",\"marks\":", f);
        jmarks(f, ci->marks[k]);
        fprintf(f, ",\"dup_ack\":%u,\"state_a\":",
                LADDER_DUPACK_COUNT(ci->marks[k]));
        jstate(f, st[0]);
        fputs(",\"state_b\":", f);
        jstate(f, st[1]);
        fputc('}', f);
        while (ch < ci->nchanges && ci->changes[ch].seg == k)
            st[ci->changes[ch].side] = ci->changes[ch].to, ch++;
    }
    fputs("]}", f);
}

/* ---- main ------------------------------------------------------------------ */

static int picked(const struct dopts *o, unsigned id)
{
    if (!o->nconns)
        return 1;
    for (size_t i = 0; i < o->nconns; i++)
        if (o->conns[i] == id)
            return 1;
    return 0;
}

static int run(struct dopts *o)
{
    struct capconns cc;
    char err[512];
    int damaged = 0;
    struct stat sb;
    if (strcmp(o->file, "-") != 0 && stat(o->file, &sb) == 0 &&
        S_ISREG(sb.st_mode) && sb.st_size == 0) {
        fprintf(stderr, PROG ": %s: empty file, not a capture\n", o->file);
        return TOOL_FAIL;
    }
    if (capconn_load_ex(o->file, o->filter, 1, &damaged, &cc, err,
                        sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return TOOL_FAIL;
    }
    int rc = TOOL_OK;
    if (!cc.n) {
        if (damaged)
            fprintf(stderr, PROG ": %s: %s\n", o->file, err);
        fprintf(stderr,
                PROG ": %s: no TCP connection%s (%lu packet%s read, link "
                     "type %s; skipped: %lu IPv6, %lu not TCP or damaged)\n",
                o->file, o->filter ? " matches the filter" : " in it",
                cc.packets, cc.packets == 1 ? "" : "s", cc.linktype,
                cc.skipped_ipv6, cc.skipped_other);
        capconn_free(&cc);
        return TOOL_FAIL;
    }
    for (size_t i = 0; i < o->nconns; i++)
        if (o->conns[i] > cc.n) {
            fprintf(stderr,
                    PROG ": --conn %u: %s has %zu connection%s%s (see "
                         "--list)\n",
                    o->conns[i], o->file, cc.n, cc.n == 1 ? "" : "s",
                    o->filter ? " matching the filter" : "");
            capconn_free(&cc);
            return TOOL_USAGE;
        }
    size_t npicked = 0;
    for (size_t i = 0; i < cc.n; i++)
        npicked += picked(o, cc.conns[i].id) ? 1 : 0;
    FILE *svg = NULL;
    if (o->svg) {
        if (npicked != 1) {
            fprintf(stderr,
                    PROG ": --svg draws one connection and %s has %zu: pick "
                         "one with --conn N\n",
                    o->file, npicked);
            capconn_free(&cc);
            return TOOL_USAGE;
        }
        svg = fopen(o->svg, "w");
        if (!svg) {
            fprintf(stderr, PROG ": --svg %s: cannot open for writing\n",
                    o->svg);
            capconn_free(&cc);
            return TOOL_FAIL;
        }
    }
    uint64_t t0 = cc.conns[0].segs[0].p.t_ns;
    for (size_t i = 0; i < cc.n; i++)
        if (cc.conns[i].segs[0].p.t_ns < t0)
            t0 = cc.conns[i].segs[0].p.t_ns;
    char tb[64];
    if (o->json) {
        printf("{\"file\":");
        tool_json_str(stdout, o->file);
        printf(",\"linktype\":");
        tool_json_str(stdout, cc.linktype);
        printf(",\"packets\":%lu,\"damaged\":", cc.packets);
        if (damaged)
            tool_json_str(stdout, err);
        else
            fputs("null", stdout);
        printf(",\"connections\":[");
    } else if (o->list) {
        fmt_epoch(t0, tb, sizeof tb);
        printf("%s: %zu TCP connection%s in %lu packets (link type %s); "
               "times from %s\n",
               o->file, cc.n, cc.n == 1 ? "" : "s", cc.packets, cc.linktype,
               tb);
        printf("%4s  %-21s %-21s %8s  %12s  %-13s %s\n", "CONN", "A (client)",
               "B (server)", "SEGMENTS", "DURATION (s)", "FINAL A", "FINAL B");
    } else {
        fmt_epoch(t0, tb, sizeof tb);
        printf("%s: %zu TCP connection%s in %lu packets (link type %s).\n"
               "Times are seconds since the first packet shown, %s.\n"
               "Sequence numbers are %s.\n",
               o->file, cc.n, cc.n == 1 ? "" : "s", cc.packets, cc.linktype, tb,
               o->absolute ? "absolute"
                           : "relative to each side's ISN (without its SYN in "
                             "the capture: to the first byte seen, as 1)");
    }
    int first = 1;
    for (size_t i = 0; i < cc.n && rc == TOOL_OK; i++) {
        const struct capconn *c = &cc.conns[i];
        if (!picked(o, c->id))
            continue;
        struct capinfer ci;
        if (capinfer_run(c, &ci) != 0) {
            fprintf(stderr, PROG ": out of memory\n");
            rc = TOOL_FAIL;
            break;
        }
        if (o->json)
            json_conn(stdout, c, &ci, first);
        else if (o->list)
            list_line(c, &ci);
        else if (draw_text(c, &ci, o, t0, svg) != 0)
            rc = TOOL_FAIL;
        first = 0;
        capinfer_free(&ci);
    }
    if (o->json)
        printf("\n]}\n");
    if (svg && fclose(svg) != 0) {
        fprintf(stderr, PROG ": --svg %s: write failed\n", o->svg);
        rc = TOOL_FAIL;
    }
    fflush(stdout);
    if (damaged) {
        fprintf(stderr,
                PROG ": %s: %s; what was read before it is shown above\n",
                o->file, err);
        rc = TOOL_FAIL;
    }
    capconn_free(&cc);
    return rc;
}

int diagram_main(int argc, char **argv)
{
    struct dopts o;
    memset(&o, 0, sizeof o);
    int p = parse(argc, argv, &o);
    int rc;
    if (p > 0)
        rc = TOOL_OK;
    else if (p < 0) {
        fprintf(stderr, "'" PROG " --help' describes the options\n");
        rc = TOOL_USAGE;
    } else
        rc = run(&o);
    free(o.conns);
    free(o.filter_buf);
    return rc;
}
