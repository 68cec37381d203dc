/*
 * synack explain: for every running synack process (the control sockets
 * `synack ss` asks), the connections that sit in a state longer than they
 * should, and why, in plain words (the rules: tools/explain_rules.c).
 *
 * Per process it asks "conns" twice, --interval apart (to see a Send-Q
 * grow), and "sysctl-list" (the tunables the explanations quote).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "ctl_proto.h"
#include "explain_out.h"
#include "explain_rules.h"
#include "opts.h"
#include "explain_cap.h"
#include "tool.h"

#define PROG "synack explain"
#define MAXF 64

static void usage(FILE *out)
{
    fprintf(out,
            "usage: synack explain [--if IFNAME] [--all] [--json] "
            "[--min-age SEC]\n"
            "                      [--interval MS]\n"
            "       synack explain [--all] [--json] [--min-age SEC] "
            "[--filter EXPR] FILE\n"
            "\n"
            "For every running synack process (control sockets in "
            "$XDG_RUNTIME_DIR/synack\n"
            "or /run/synack), list the connections that sit in a state "
            "longer than they\n"
            "should (CLOSE-WAIT, FIN-WAIT-2, SYN-SENT, SYN-RECEIVED, "
            "LAST-ACK, a zero window,\n"
            "repeated retransmissions, ...) and TIME-WAIT, and say why in "
            "plain words, with\n"
            "the tunable or the application call that governs each.\n"
            "\n"
            "With FILE (pcap or pcapng), the same for both ends of every "
            "TCP connection\n"
            "in the capture, their states inferred from the segments as "
            "`synack diagram`\n"
            "does, as of the capture's last packet. A capture cannot show "
            "whether an\n"
            "application closed its socket or what it has not read: the "
            "explanations\n"
            "say so; the tunables quoted are Linux's defaults.\n"
            "\n"
            "Options:\n"
            "  --if IF          only the process serving interface IF\n"
            "  -a, --all        explain every connection, healthy ones too\n"
            "  --json           one JSON document: every connection with its "
            "cause\n"
            "  --min-age SEC    report a state only after SEC seconds in it "
            "(default 1)\n"
            "  --interval MS    look twice, MS apart, to see a growing "
            "Send-Q (default 250;\n"
            "                   0: look once)\n"
            "  --filter EXPR    with FILE: only packets this BPF expression "
            "matches\n"
            "  -h, --help       this text\n"
            "\n"
            "Exit status: 0 (whether or not something is stuck), 1 if a "
            "process could not\n"
            "be asked, 2 for bad usage. The causes are listed in "
            "docs/explain.md.\n");
}

struct row {
    char *f[MAXF];
    size_t nf;
};

struct proc {
    char *answer, *answer2, *tun_answer;
    struct ctl_reply r, r2, rt;
    char *names[MAXF], *names2[MAXF];
    size_t nnames, nnames2;
    const char *path;
};

static const char *col(char *const *names, size_t nnames, char **f, size_t nf,
                       const char *name)
{
    for (size_t i = 0; i < nnames && i < nf; i++)
        if (strcmp(names[i], name) == 0)
            return f[i];
    return NULL;
}

static long long num(char *const *names, size_t nnames, char **f, size_t nf,
                     const char *name, long long dflt)
{
    const char *v = col(names, nnames, f, nf, name);
    if (!v || !*v || strcmp(v, "-") == 0)
        return dflt;
    return strtoll(v, NULL, 10);
}

static int state_by_name(const char *s)
{
    for (int i = 0; i < SYNACK__STATE_COUNT; i++)
        if (strcmp(synack_state_name(i), s) == 0)
            return i;
    return -1;
}

static int timer_by_name(const char *s)
{
    for (int i = SYNACK_TIMER_NONE; i <= SYNACK_TIMER_DELACK; i++)
        if (synack_timer_name(i) && strcmp(synack_timer_name(i), s) == 0)
            return i;
    return SYNACK_TIMER_NONE;
}

static int fetch(const char *path, const char *req, char **ans,
                 struct ctl_reply *r, char *err, size_t errlen)
{
    int rc = ctl_request(path, req, CTL_CLIENT_MS, ans, err, errlen);
    if (rc != CTL_OK)
        return rc;
    if (ctl_reply_parse(*ans, r, err, errlen) != 0)
        return CTL_FAILED;
    if (!r->ok) {
        snprintf(err, errlen, "%s: %s", path, r->error ? r->error : "error");
        ctl_reply_free(r);
        return CTL_FAILED;
    }
    return CTL_OK;
}

static size_t field_names(struct ctl_reply *r, char **names)
{
    for (size_t k = 0; k < r->nlines; k++)
        if (strncmp(r->lines[k], "fields\t", 7) == 0)
            return ctl_split(r->lines[k] + 7, names, MAXF);
    return 0;
}

/* The earlier sample's Send-Q of connection id, or -1. */
static long long earlier_send_q(struct proc *p, const char *id)
{
    if (!p->answer2)
        return -1;
    for (size_t k = 0; k < p->r2.nlines; k++) {
        const char *line = p->r2.lines[k];
        if (strncmp(line, "conn\t", 5) != 0)
            continue;
        char copy[CTL_MAX_LINE * 2];
        snprintf(copy, sizeof copy, "%s", line + 5);
        char *f[MAXF];
        size_t nf = ctl_split(copy, f, MAXF);
        const char *cid = col(p->names2, p->nnames2, f, nf, "id");
        if (cid && strcmp(cid, id) == 0)
            return num(p->names2, p->nnames2, f, nf, "send_q", -1);
    }
    return -1;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int explain_main(int argc, char **argv)
{
    int all = 0, json = 0;
    int64_t min_age = EXPLAIN_MIN_AGE_DEFAULT;
    long interval = 250;
    const char *only = NULL, *file = NULL, *filter = NULL;
    int live_opt = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        int m;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return TOOL_OK;
        } else if (strcmp(a, "-a") == 0 || strcmp(a, "--all") == 0) {
            all = 1;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--if") == 0) {
            if (i + 1 >= argc || !argv[i + 1][0]) {
                fprintf(stderr, PROG ": --if needs an interface name\n");
                return TOOL_USAGE;
            }
            only = argv[++i];
            live_opt = 1;
        } else if ((v = opts_value(PROG, argc, argv, &i, "--filter", &m)) ||
                   m) {
            if (!v || !*v) {
                fprintf(stderr, PROG ": --filter needs a BPF expression\n");
                return TOOL_USAGE;
            }
            filter = v;
        } else if ((v = opts_value(PROG, argc, argv, &i, "--min-age", &m)) ||
                   m) {
            synack_time_t t;
            if (!v || opts_parse_seconds(PROG, "--min-age", v, &t) != 0)
                return TOOL_USAGE;
            min_age = (int64_t)t;
        } else if ((v = opts_value(PROG, argc, argv, &i, "--interval", &m)) ||
                   m) {
            uint64_t ms;
            if (!v || opts_parse_u64(PROG, "--interval", v, &ms) != 0)
                return TOOL_USAGE;
            if (ms > 60000) {
                fprintf(stderr, PROG ": --interval: at most 60000 ms\n");
                return TOOL_USAGE;
            }
            interval = (long)ms;
            live_opt = 1;
        } else if (a[0] != '-' && !file) {
            file = a;
        } else {
            fprintf(stderr, PROG ": %s '%s' (see " PROG " --help)\n",
                    a[0] == '-' ? "unknown option" : "unexpected argument", a);
            return TOOL_USAGE;
        }
    }

    if (file && live_opt) {
        fprintf(stderr, PROG ": --if and --interval ask running processes; "
                "they do not apply to a capture file\n");
        return TOOL_USAGE;
    }
    if (filter && !file) {
        fprintf(stderr, PROG ": --filter applies to a capture file: give "
                "one (see " PROG " --help)\n");
        return TOOL_USAGE;
    }
    if (file)
        return explain_capture(file, filter, json, all, min_age) ? TOOL_FAIL
                                                                 : TOOL_OK;

    char err[512];
    char **paths;
    size_t npaths;
    int status = TOOL_OK;
    if (ctl_scan_running(only, &paths, &npaths, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return TOOL_FAIL;
    }
    struct proc *procs = calloc(npaths ? npaths : 1, sizeof *procs);
    if (!procs) {
        fprintf(stderr, PROG ": out of memory\n");
        ctl_scan_free(paths, npaths);
        return TOOL_FAIL;
    }
    /* first look (the "earlier" sample) */
    for (size_t i = 0; i < npaths && interval > 0; i++) {
        struct proc *p = &procs[i];
        if (fetch(paths[i], "conns", &p->answer2, &p->r2, err, sizeof err) !=
            CTL_OK) {
            free(p->answer2);
            p->answer2 = NULL;
            continue;
        }
        p->nnames2 = field_names(&p->r2, p->names2);
    }
    if (interval > 0 && npaths > 0)
        sleep_ms(interval);

    struct explain_out *out = explain_out_new(stdout, json, all);
    size_t nasked = 0;
    for (size_t i = 0; i < npaths; i++) {
        struct proc *p = &procs[i];
        p->path = paths[i];
        int rc = fetch(paths[i], "conns", &p->answer, &p->r, err, sizeof err);
        if (rc == CTL_ABSENT || rc == CTL_STALE) {
            free(p->answer);
            p->answer = NULL;
            continue; /* a process that is gone */
        }
        if (rc != CTL_OK) {
            fprintf(stderr, PROG ": %s\n",
                    rc == CTL_DENIED ? "permission denied (that process runs "
                                       "as another user; run as that user "
                                       "or as root)"
                                     : err);
            free(p->answer);
            p->answer = NULL;
            status = TOOL_FAIL;
            continue;
        }
        nasked++;
        struct explain_tunables tun;
        explain_tunables_default(&tun);
        if (fetch(paths[i], "sysctl-list", &p->tun_answer, &p->rt, err,
                  sizeof err) == CTL_OK) {
            for (size_t k = 0; k < p->rt.nlines; k++) {
                char *f[4];
                if (strncmp(p->rt.lines[k], "sysctl\t", 7) == 0 &&
                    ctl_split(p->rt.lines[k] + 7, f, 4) >= 2)
                    explain_tunables_set(&tun, f[0], f[1]);
            }
            ctl_reply_free(&p->rt);
        }
        char procname[160];
        snprintf(procname, sizeof procname, "synack:%s(pid=%ld,if=%s)",
                 p->r.command ? p->r.command : "?", p->r.pid,
                 p->r.ifname ? p->r.ifname : "?");
        explain_out_process(out, procname, p->r.pid,
                            p->r.command ? p->r.command : "",
                            p->r.ifname ? p->r.ifname : "");
        p->nnames = field_names(&p->r, p->names);
        /* every connection split into its fields first: the rules are
         * told how many are alike (same state, same local address) */
        struct row *rows = calloc(p->r.nlines ? p->r.nlines : 1, sizeof *rows);
        size_t nrows = 0;
        if (!rows) {
            fprintf(stderr, PROG ": out of memory\n");
            status = TOOL_FAIL;
            continue;
        }
        for (size_t k = 0; k < p->r.nlines; k++)
            if (strncmp(p->r.lines[k], "conn\t", 5) == 0) {
                rows[nrows].nf =
                    ctl_split(p->r.lines[k] + 5, rows[nrows].f, MAXF);
                nrows++;
            }
        for (size_t k = 0; k < nrows; k++) {
            char **f = rows[k].f;
            size_t nf = rows[k].nf;
            char *const *nm = p->names;
            size_t nn = p->nnames;
            const char *st = col(nm, nn, f, nf, "state");
            struct explain_conn c;
            explain_conn_init(&c);
            c.state = st ? state_by_name(st) : -1;
            if (c.state < 0)
                continue;
            long long ms = num(nm, nn, f, nf, "state_ms", -1);
            c.in_state = ms < 0 ? -1 : ms * 1000000LL;
            c.orphan = (int)num(nm, nn, f, nf, "orphan", -1);
            c.recv_q = (uint32_t)num(nm, nn, f, nf, "recv_q", 0);
            c.send_q = (uint32_t)num(nm, nn, f, nf, "send_q", 0);
            c.snd_wnd = (uint32_t)num(nm, nn, f, nf, "snd_wnd", 0);
            c.rcv_wnd = (uint32_t)num(nm, nn, f, nf, "rcv_wnd", 0);
            const char *tm = col(nm, nn, f, nf, "timer");
            c.timer = tm ? timer_by_name(tm) : SYNACK_TIMER_NONE;
            long long left = num(nm, nn, f, nf, "timer_expires_ms", -1);
            c.timer_left = left < 0 ? (c.timer ? 0 : -1) : left * 1000000LL;
            c.backoff = (uint32_t)num(nm, nn, f, nf, "backoff", 0);
            c.rto_us = (uint32_t)num(nm, nn, f, nf, "rto_us", 0);
            c.total_retrans = (uint64_t)num(nm, nn, f, nf, "total_retrans", 0);
            c.persist_probes =
                (uint32_t)num(nm, nn, f, nf, "persist_probes", 0);
            const char *id = col(nm, nn, f, nf, "id");
            if (id && interval > 0) {
                c.send_q_before = earlier_send_q(p, id);
                c.sample_gap = (int64_t)interval * 1000000LL;
            }
            const char *la0 = col(nm, nn, f, nf, "local");
            for (size_t j = 0; j < nrows && st && la0; j++) {
                const char *s2 = col(nm, nn, rows[j].f, rows[j].nf, "state");
                const char *l2 = col(nm, nn, rows[j].f, rows[j].nf, "local");
                c.similar +=
                    s2 && l2 && strcmp(s2, st) == 0 && strcmp(l2, la0) == 0;
            }
            struct explain_result res;
            explain_conn(&c, &tun, min_age, &res);
            const char *la = col(nm, nn, f, nf, "local");
            const char *ra = col(nm, nn, f, nf, "remote");
            explain_out_conn(out, la ? la : "?", ra ? ra : "?", &c, &res);
        }
        free(rows);
    }
    explain_out_finish(out, nasked);
    fflush(stdout);
    for (size_t i = 0; i < npaths; i++) {
        struct proc *p = &procs[i];
        if (p->answer)
            ctl_reply_free(&p->r);
        if (p->answer2)
            ctl_reply_free(&p->r2);
        free(p->answer);
        free(p->answer2);
        free(p->tun_answer);
    }
    free(procs);
    ctl_scan_free(paths, npaths);
    return status;
}
