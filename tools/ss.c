/*
 * synack ss: the connections of every running synack process, asked for
 * through their control sockets (tools/ctl.c), in the layout of Linux's
 * `ss -tan` so that the two can be read side by side.
 *
 * Matching ss (iproute2):
 *  - state names: ESTAB, SYN-SENT, SYN-RECV, FIN-WAIT-1, FIN-WAIT-2,
 *    TIME-WAIT, CLOSE-WAIT, LAST-ACK, LISTEN, CLOSING, and UNCONN for
 *    CLOSED;
 *  - default filter: every state but LISTEN, UNCONN, TIME-WAIT and SYN-RECV
 *    (ss's "connected" set); -a shows all, -l LISTEN and UNCONN; the last
 *    of -a/-l wins;
 *  - -o: timer:(NAME,EXPIRES,N) with ss's time format (476ms, 9.501sec,
 *    13sec, 2min) and N the retransmissions of the current segment. The
 *    delayed-ACK timer is not shown, as Linux never reports it; --json
 *    has it;
 *  - -i: a second line of tcp_info figures in ss's order and units (rto
 *    and rtt in ms, cwnd and ssthresh in segments; zero counters and an
 *    infinite ssthresh left out), plus rcv_wnd, which ss lacks.
 * Differences: the Process column (always shown) names the synack process
 * as synack:COMMAND(pid=N,if=IFNAME), and a space always separates it from
 * the peer's port. -n and -t are accepted: addresses are always numeric
 * and synack only has TCP.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_proto.h"
#include "textesc.h"
#include "tool.h"

#define PROG "synack ss"
#define MAXF 64

enum { SHOW_CONN, SHOW_ALL, SHOW_LISTEN };

struct row {
    char *f[MAXF]; /* values by column of the process's "fields" line */
    size_t nf;
    const char *ssname;
    const struct proc *proc;
};

struct proc {
    char *answer;
    struct ctl_reply r;
    char *names[MAXF];
    size_t nnames;
    const char *path;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: synack ss [-t] [-a] [-l] [-n] [-o] [-i] [--json]\n"
            "\n"
            "Connections of every running synack process (through the "
            "control sockets in\n"
            "$XDG_RUNTIME_DIR/synack or /run/synack), laid out like "
            "`ss -tan`.\n"
            "\n"
            "Options:\n"
            "  -a, --all        all states (default: not LISTEN, UNCONN, "
            "TIME-WAIT, SYN-RECV)\n"
            "  -l, --listening  only listening (and closed) sockets\n"
            "  -o, --options    the running timer: "
            "timer:(on|keepalive|timewait|persist,TIME,RETRANS)\n"
            "  -i, --info       tcp_info-like figures (rtt, rto, mss, cwnd, "
            "bytes, segments)\n"
            "  -n, --numeric    accepted (always numeric)\n"
            "  -t, --tcp        accepted (synack only has TCP)\n"
            "  --json           every field of every connection as JSON\n"
            "  -h, --help       this text\n"
            "\n"
            "States are spelled as ss spells them: ESTAB, SYN-SENT, "
            "SYN-RECV, FIN-WAIT-1,\n"
            "FIN-WAIT-2, TIME-WAIT, CLOSE-WAIT, LAST-ACK, LISTEN, CLOSING, "
            "UNCONN (closed).\n");
}

static const struct {
    const char *rfc, *ss;
} state_names[] = {
    {"ESTABLISHED", "ESTAB"},     {"SYN-SENT", "SYN-SENT"},
    {"SYN-RECEIVED", "SYN-RECV"}, {"FIN-WAIT-1", "FIN-WAIT-1"},
    {"FIN-WAIT-2", "FIN-WAIT-2"}, {"TIME-WAIT", "TIME-WAIT"},
    {"CLOSED", "UNCONN"},         {"CLOSE-WAIT", "CLOSE-WAIT"},
    {"LAST-ACK", "LAST-ACK"},     {"LISTEN", "LISTEN"},
    {"CLOSING", "CLOSING"},
};

static const char *ss_state(const char *rfc)
{
    for (size_t i = 0; i < sizeof state_names / sizeof state_names[0]; i++)
        if (strcmp(state_names[i].rfc, rfc) == 0)
            return state_names[i].ss;
    return "UNKNOWN";
}

static int shown(const char *ssname, int mode)
{
    int listen = strcmp(ssname, "LISTEN") == 0 ||
                 strcmp(ssname, "UNCONN") == 0;
    if (mode == SHOW_ALL)
        return 1;
    if (mode == SHOW_LISTEN)
        return listen;
    return !listen && strcmp(ssname, "TIME-WAIT") != 0 &&
           strcmp(ssname, "SYN-RECV") != 0;
}

static const char *field(const struct row *r, const char *name)
{
    const struct proc *p = r->proc;
    for (size_t i = 0; i < p->nnames && i < r->nf; i++)
        if (strcmp(p->names[i], name) == 0)
            return r->f[i];
    return "";
}

static unsigned long long num(const struct row *r, const char *name)
{
    return strtoull(field(r, name), NULL, 10);
}

/* "10.0.0.1:80" -> "10.0.0.1" and "80" ("*" for port 0). */
static void split_addr(const char *s, char *addr, size_t alen, char *port,
                       size_t plen)
{
    const char *c = strrchr(s, ':');
    size_t n = c ? (size_t)(c - s) : strlen(s);
    snprintf(addr, alen, "%.*s", (int)n, s);
    if (!c || strcmp(c + 1, "0") == 0)
        snprintf(port, plen, "*");
    else
        snprintf(port, plen, "%s", c + 1);
}

/* ss's print_ms_timer (with the later fix that says "sec" after a
 * fraction): 476ms, 9.501sec, 13sec, 2min30sec, 12min. */
static void fmt_timer(long long ms, char *buf, size_t len)
{
    if (ms <= 0) {
        snprintf(buf, len, "0ms");
        return;
    }
    long long secs = ms / 1000, minutes = secs / 60, msecs = ms % 1000;
    secs %= 60;
    size_t n = 0;
    buf[0] = '\0';
    if (minutes) {
        msecs = 0;
        n += (size_t)snprintf(buf + n, len - n, "%lldmin", minutes);
        if (minutes > 9)
            secs = 0;
    }
    if (secs && n < len) {
        if (secs > 9)
            msecs = 0;
        n += (size_t)snprintf(buf + n, len - n, "%lld%s", secs,
                              msecs ? "." : "sec");
    }
    if (msecs && n < len)
        snprintf(buf + n, len - n, "%03lld%s", msecs, secs ? "sec" : "ms");
}

static void print_info(const struct row *r)
{
    unsigned long long mss = num(r, "snd_mss"), cwnd = num(r, "cwnd"),
                       ssth = num(r, "ssthresh");
    printf("\t");
    if (num(r, "ts_ok"))
        printf(" ts");
    if (num(r, "sack_ok"))
        printf(" sack");
    if (num(r, "snd_wscale") || num(r, "rcv_wscale"))
        printf(" wscale:%llu,%llu", num(r, "snd_wscale"),
               num(r, "rcv_wscale"));
    printf(" rto:%g", (double)num(r, "rto_us") / 1000.0);
    if (num(r, "backoff"))
        printf(" backoff:%llu", num(r, "backoff"));
    if (num(r, "rtt_us") || num(r, "rttvar_us") || num(r, "segs_in"))
        printf(" rtt:%g/%g", (double)num(r, "rtt_us") / 1000.0,
               (double)num(r, "rttvar_us") / 1000.0);
    printf(" mss:%llu", mss);
    if (num(r, "rcv_mss"))
        printf(" rcvmss:%llu", num(r, "rcv_mss"));
    if (mss && cwnd)
        printf(" cwnd:%llu", (cwnd + mss - 1) / mss);
    if (mss && ssth < 0x7fffffffull)
        printf(" ssthresh:%llu", (ssth + mss - 1) / mss);
    const char *counters[] = {"bytes_sent", "bytes_retrans", "bytes_acked",
                              "bytes_received", "segs_out", "segs_in"};
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        if (num(r, counters[i]))
            printf(" %s:%llu", counters[i], num(r, counters[i]));
    if (num(r, "backoff") || num(r, "total_retrans"))
        printf(" retrans:%llu/%llu", num(r, "backoff"),
               num(r, "total_retrans"));
    if (num(r, "snd_wnd"))
        printf(" snd_wnd:%llu", num(r, "snd_wnd"));
    if (num(r, "rcv_wnd"))
        printf(" rcv_wnd:%llu", num(r, "rcv_wnd"));
    printf("\n");
}

static int is_int(const char *s)
{
    if (*s == '-')
        s++;
    if (!*s || strlen(s) > 19)
        return 0;
    return strspn(s, "0123456789") == strlen(s);
}

static void json_value(const char *s)
{
    if (strcmp(s, "-") == 0)
        printf("null");
    else if (is_int(s))
        printf("%s", s);
    else
        tool_json_str(stdout, s);
}

static void print_json(struct proc *procs, size_t nprocs, struct row *rows,
                       size_t nrows)
{
    printf("{\"processes\":[");
    for (size_t p = 0; p < nprocs; p++) {
        const struct proc *pr = &procs[p];
        printf("%s\n {\"pid\":%ld,\"command\":", p ? "," : "", pr->r.pid);
        tool_json_str(stdout, pr->r.command ? pr->r.command : "");
        printf(",\"ifname\":");
        tool_json_str(stdout, pr->r.ifname ? pr->r.ifname : "");
        printf(",\"version\":");
        tool_json_str(stdout, pr->r.version ? pr->r.version : "");
        printf(",\"socket\":");
        tool_json_str(stdout, pr->path);
        printf(",\"connections\":[");
        int first = 1;
        for (size_t i = 0; i < nrows; i++) {
            const struct row *r = &rows[i];
            if (r->proc != pr)
                continue;
            printf("%s\n  {\"ss_state\":", first ? "" : ",");
            first = 0;
            tool_json_str(stdout, r->ssname);
            for (size_t k = 0; k < pr->nnames && k < r->nf; k++) {
                printf(",");
                tool_json_str(stdout, pr->names[k]);
                printf(":");
                if (strcmp(pr->names[k], "timer") == 0 &&
                    strcmp(r->f[k], "off") == 0)
                    printf("null");
                else
                    json_value(r->f[k]);
            }
            char addr[64], port[16];
            split_addr(field(r, "local"), addr, sizeof addr, port,
                       sizeof port);
            printf(",\"local_addr\":");
            tool_json_str(stdout, addr);
            printf(",\"local_port\":%ld", strtol(port, NULL, 10));
            split_addr(field(r, "remote"), addr, sizeof addr, port,
                       sizeof port);
            printf(",\"remote_addr\":");
            tool_json_str(stdout, addr);
            printf(",\"remote_port\":%ld}", strtol(port, NULL, 10));
        }
        printf("%s]}", first ? "" : "\n ");
    }
    printf("%s]}\n", nprocs ? "\n" : "");
}

struct cell {
    char state[16], rq[24], sq[24], laddr[48], lport[8], raddr[48],
        rport[8], proc[160];
};

static size_t umax(size_t a, size_t b)
{
    return a > b ? a : b;
}

static void print_table(struct row *rows, size_t nrows, int timers, int info)
{
    struct cell *c = calloc(nrows ? nrows : 1, sizeof *c);
    if (!c) {
        fprintf(stderr, PROG ": out of memory\n");
        return;
    }
    size_t w[7] = {strlen("State"),          strlen("Recv-Q"),
                   strlen("Send-Q"),         strlen("Local Address:"),
                   strlen("Port"),           strlen("Peer Address:"),
                   strlen("Port")};
    for (size_t i = 0; i < nrows; i++) {
        const struct row *r = &rows[i];
        snprintf(c[i].state, sizeof c[i].state, "%s", r->ssname);
        snprintf(c[i].rq, sizeof c[i].rq, "%s", field(r, "recv_q"));
        snprintf(c[i].sq, sizeof c[i].sq, "%s", field(r, "send_q"));
        char a[40];
        split_addr(field(r, "local"), a, sizeof a - 1, c[i].lport,
                   sizeof c[i].lport);
        snprintf(c[i].laddr, sizeof c[i].laddr, "%s:", a);
        split_addr(field(r, "remote"), a, sizeof a - 1, c[i].rport,
                   sizeof c[i].rport);
        snprintf(c[i].raddr, sizeof c[i].raddr, "%s:", a);
        snprintf(c[i].proc, sizeof c[i].proc, "synack:%s(pid=%ld,if=%s)",
                 r->proc->r.command ? r->proc->r.command : "?",
                 r->proc->r.pid,
                 r->proc->r.ifname ? r->proc->r.ifname : "?");
        w[0] = umax(w[0], strlen(c[i].state));
        w[1] = umax(w[1], strlen(c[i].rq));
        w[2] = umax(w[2], strlen(c[i].sq));
        w[3] = umax(w[3], strlen(c[i].laddr));
        w[4] = umax(w[4], strlen(c[i].lport));
        w[5] = umax(w[5], strlen(c[i].raddr));
        w[6] = umax(w[6], strlen(c[i].rport));
    }
    printf("%-*s %-*s %-*s %*s%-*s %*s%-*s Process\n", (int)w[0], "State",
           (int)w[1], "Recv-Q", (int)w[2], "Send-Q", (int)w[3],
           "Local Address:", (int)w[4], "Port", (int)w[5], "Peer Address:",
           (int)w[6], "Port");
    for (size_t i = 0; i < nrows; i++) {
        printf("%-*s %-*s %-*s %*s%-*s %*s%-*s %s", (int)w[0], c[i].state,
               (int)w[1], c[i].rq, (int)w[2], c[i].sq, (int)w[3],
               c[i].laddr, (int)w[4], c[i].lport, (int)w[5], c[i].raddr,
               (int)w[6], c[i].rport, c[i].proc);
        const struct row *r = &rows[i];
        const char *t = field(r, "timer");
        if (timers && (strcmp(t, "on") == 0 || strcmp(t, "keepalive") == 0 ||
                       strcmp(t, "timewait") == 0 ||
                       strcmp(t, "persist") == 0)) {
            char tb[48];
            fmt_timer(strtoll(field(r, "timer_expires_ms"), NULL, 10), tb,
                      sizeof tb);
            printf(" timer:(%s,%s,%llu)", t, tb, num(r, "backoff"));
        }
        printf("\n");
        if (info)
            print_info(r);
    }
    free(c);
}

int ss_main(int argc, char **argv)
{
    int mode = SHOW_CONN, timers = 0, info = 0, json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return TOOL_OK;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--all") == 0) {
            mode = SHOW_ALL;
        } else if (strcmp(a, "--listening") == 0) {
            mode = SHOW_LISTEN;
        } else if (strcmp(a, "--options") == 0) {
            timers = 1;
        } else if (strcmp(a, "--info") == 0) {
            info = 1;
        } else if (strcmp(a, "--numeric") == 0 || strcmp(a, "--tcp") == 0) {
            /* always */
        } else if (a[0] == '-' && a[1] && a[1] != '-') {
            for (const char *p = a + 1; *p; p++) {
                switch (*p) {
                case 'a': mode = SHOW_ALL; break;
                case 'l': mode = SHOW_LISTEN; break;
                case 'o': timers = 1; break;
                case 'i': info = 1; break;
                case 'n': case 't': break;
                case 'h': usage(stdout); return TOOL_OK;
                default:
                    fprintf(stderr, PROG ": unknown option '-%c'\n\n", *p);
                    usage(stderr);
                    return TOOL_USAGE;
                }
            }
        } else if (a[0] == '-') {
            fprintf(stderr, PROG ": unknown option '%s'\n\n", a);
            usage(stderr);
            return TOOL_USAGE;
        } else {
            fprintf(stderr,
                    PROG ": unexpected argument '%s' (filters are not "
                         "supported; use -a, -l)\n\n",
                    a);
            usage(stderr);
            return TOOL_USAGE;
        }
    }

    char err[512];
    char **paths;
    size_t npaths;
    int status = TOOL_OK;
    int scan = ctl_scan_running(NULL, &paths, &npaths, err, sizeof err);
    if (scan != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        if (scan == -1)
            return TOOL_FAIL;
        status = TOOL_FAIL; /* unreadable: no process, said so */
    }
    struct proc *procs = calloc(npaths ? npaths : 1, sizeof *procs);
    struct row *rows = NULL;
    size_t nprocs = 0, nrows = 0, caprows = 0;
    if (!procs) {
        fprintf(stderr, PROG ": out of memory\n");
        ctl_scan_free(paths, npaths);
        return TOOL_FAIL;
    }
    for (size_t i = 0; i < npaths; i++) {
        struct proc *p = &procs[nprocs];
        p->path = paths[i];
        int rc = ctl_request(paths[i], "conns", CTL_CLIENT_MS, &p->answer,
                             err, sizeof err);
        if (rc == CTL_ABSENT || rc == CTL_STALE)
            continue; /* a process that is gone */
        if (rc == CTL_DENIED) {
            fprintf(stderr,
                    PROG ": %s: permission denied (that process runs as "
                         "another user; run as that user or as root)\n",
                    paths[i]);
            status = TOOL_FAIL;
            continue;
        }
        if (rc != CTL_OK) {
            fprintf(stderr, PROG ": %s\n", err);
            status = TOOL_FAIL;
            continue;
        }
        if (ctl_reply_parse(p->answer, &p->r, err, sizeof err) != 0 ||
            !p->r.ok) {
            fprintf(stderr, PROG ": %s: %s\n", paths[i],
                    p->r.ok ? err : p->r.error ? p->r.error : err);
            ctl_reply_free(&p->r);
            free(p->answer);
            memset(p, 0, sizeof *p);
            status = TOOL_FAIL;
            continue;
        }
        nprocs++;
        for (size_t k = 0; k < p->r.nlines; k++) {
            char *line = p->r.lines[k];
            if (strncmp(line, "fields\t", 7) == 0) {
                p->nnames = ctl_split(line + 7, p->names, MAXF);
                continue;
            }
            if (strncmp(line, "conn\t", 5) != 0)
                continue; /* a kind of line from a newer server */
            if (nrows == caprows) {
                size_t nc = caprows ? caprows * 2 : 16;
                struct row *nr = realloc(rows, nc * sizeof *nr);
                if (!nr) {
                    fprintf(stderr, PROG ": out of memory\n");
                    status = TOOL_FAIL;
                    break;
                }
                rows = nr;
                caprows = nc;
            }
            struct row *r = &rows[nrows];
            memset(r, 0, sizeof *r);
            r->nf = ctl_split(line + 5, r->f, MAXF);
            r->proc = p;
            r->ssname = ss_state(field(r, "state"));
            if (shown(r->ssname, mode))
                nrows++;
        }
    }
    if (json)
        print_json(procs, nprocs, rows, nrows);
    else
        print_table(rows, nrows, timers, info);
    fflush(stdout);
    for (size_t i = 0; i < nprocs; i++) {
        ctl_reply_free(&procs[i].r);
        free(procs[i].answer);
    }
    free(procs);
    free(rows);
    ctl_scan_free(paths, npaths);
    return status;
}
