/*
 * synack trace: a live stream of the state changes of every connection of
 * running synack processes, with their causes (the segment, the call or
 * the timer), one line each; --json one JSON object per line. A client of
 * the control socket's `trace` request (ctl_proto.h).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_proto.h"
#include "textesc.h"
#include "tool.h"

#define PROG "synack trace"
#define MAXP 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: synack trace [--if IFNAME] [--json] [--count N]\n"
            "\n"
            "Follow the state changes of the connections of the synack "
            "processes running\n"
            "when it starts (their control sockets in $XDG_RUNTIME_DIR/synack "
            "or /run/synack),\n"
            "one line each, as they happen, with the cause: the segment "
            "that came in\n"
            "(\"rcv FIN,ACK\"), the application's call (\"call close\") or "
            "the timer\n"
            "(\"timeout 2MSL\"):\n"
            "\n"
            "  TIME       PROCESS                      LOCAL           "
            "REMOTE          FROM -> TO (CAUSE)\n"
            "  1.204512 synack:echo(pid=42,if=tap0) 10.0.0.2:7 "
            "10.0.0.1:40000 ESTABLISHED -> CLOSE-WAIT (rcv FIN,ACK)\n"
            "\n"
            "TIME is seconds since the trace started. A process that "
            "cannot keep up with a\n"
            "slow reader drops events and says so: \"N events lost\". Runs "
            "until every traced\n"
            "process has exited, or until interrupted (Ctrl-C).\n"
            "\n"
            "Options:\n"
            "  --if IF, -i IF   only the process serving interface IF\n"
            "  --json           one JSON object per line: time, pid, "
            "command, ifname, id,\n"
            "                   local, remote, from, to, cause (or \"lost\": "
            "N)\n"
            "  --count N        exit after N state changes\n"
            "  -h, --help       this text\n"
            "\n"
            "Exit status: 0, 1 if no process could be traced, 2 for bad "
            "usage.\n");
}

struct src {
    int fd;
    char label[160];
    long pid;
    char command[32], ifname[64];
    int header_done;
    char buf[CTL_MAX_LINE * 4];
    size_t len;
};

/* One line from a process; returns 1 for a state change printed, -1 when
 * the stream is over, -2 when the process refused (an error answer), 0
 * otherwise. */
static int handle_line(struct src *p, char *line, int json)
{
    char *f[10];
    if (!p->header_done) {
        if (strncmp(line, CTL_MAGIC " ", strlen(CTL_MAGIC) + 1) == 0) {
            char *st = line + strlen(CTL_MAGIC) + 1;
            if (strtol(st, NULL, 10) != CTL_VERSION) {
                fprintf(stderr,
                        PROG ": %s: control protocol %s, this synack "
                             "speaks %d\n",
                        p->label, st, CTL_VERSION);
                return -2;
            }
            char *sp = strchr(st, ' ');
            if (!sp || strncmp(sp + 1, "ok", 2) != 0) {
                const char *why = sp ? sp + 1 : "bad status line";
                if (strncmp(why, "error ", 6) == 0)
                    why += 6;
                fprintf(stderr, PROG ": %s: %s\n", p->label, why);
                return -2;
            }
            return 0;
        }
        size_t n = ctl_split(line, f, 10);
        if (n >= 2 && strcmp(f[0], "pid") == 0)
            p->pid = strtol(f[1], NULL, 10);
        else if (n >= 2 && strcmp(f[0], "command") == 0)
            snprintf(p->command, sizeof p->command, "%s", f[1]);
        else if (n >= 2 && strcmp(f[0], "ifname") == 0)
            snprintf(p->ifname, sizeof p->ifname, "%s", f[1]);
        else if (strcmp(f[0], "fields") == 0) {
            p->header_done = 1;
            snprintf(p->label, sizeof p->label, "synack:%s(pid=%ld,if=%s)",
                     p->command, p->pid, p->ifname);
            fprintf(stderr, PROG ": following %s\n", p->label);
        }
        return 0;
    }
    if (strcmp(line, "end") == 0)
        return -1;
    size_t n = ctl_split(line, f, 10);
    if (n >= 2 && strcmp(f[0], "lost") == 0) {
        if (json) {
            printf("{\"pid\":%ld,\"ifname\":", p->pid);
            tool_json_str(stdout, p->ifname);
            printf(",\"lost\":%s}\n", f[1]);
        } else {
            printf("%s: %s events lost (this reader was too slow)\n", p->label,
                   f[1]);
        }
        fflush(stdout);
        return 0;
    }
    if (n < 8 || strcmp(f[0], "state") != 0)
        return 0; /* a kind of line from a newer server */
    if (json) {
        printf("{\"time\":%s,\"pid\":%ld,\"command\":", f[1], p->pid);
        tool_json_str(stdout, p->command);
        printf(",\"ifname\":");
        tool_json_str(stdout, p->ifname);
        printf(",\"id\":%s,\"local\":", f[2]);
        tool_json_str(stdout, f[3]);
        printf(",\"remote\":");
        tool_json_str(stdout, f[4]);
        printf(",\"from\":");
        tool_json_str(stdout, f[5]);
        printf(",\"to\":");
        tool_json_str(stdout, f[6]);
        printf(",\"cause\":");
        tool_json_str(stdout, f[7]);
        printf("}\n");
    } else {
        printf("%s %s %s %s %s -> %s (%s)\n", f[1], p->label, f[3], f[4], f[5],
               f[6], f[7][0] ? f[7] : "?");
    }
    fflush(stdout);
    return 1;
}

int trace_main(int argc, char **argv)
{
    int json = 0;
    const char *only = NULL;
    unsigned long long count = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return TOOL_OK;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "-i") == 0 || strcmp(a, "--if") == 0 ||
                   strcmp(a, "--ifname") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, PROG ": %s needs an interface name\n", a);
                return TOOL_USAGE;
            }
            only = argv[++i];
        } else if (strcmp(a, "--count") == 0) {
            char *end;
            if (i + 1 >= argc ||
                (count = strtoull(argv[i + 1], &end, 10), *end) ||
                !argv[i + 1][0] || argv[i + 1][0] == '-' || count == 0) {
                fprintf(stderr, PROG ": --count needs a number above 0\n");
                return TOOL_USAGE;
            }
            i++;
        } else {
            fprintf(stderr, PROG ": %s '%s' (see " PROG " --help)\n",
                    a[0] == '-' ? "unknown option" : "unexpected argument", a);
            return TOOL_USAGE;
        }
    }
    char err[512];
    char **paths;
    size_t npaths;
    if (ctl_scan_running(only, &paths, &npaths, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return TOOL_FAIL;
    }
    static struct src srcs[MAXP];
    size_t n = 0;
    int status = TOOL_OK;
    for (size_t i = 0; i < npaths && n < MAXP; i++) {
        int fd = ctl_open_stream(paths[i], "trace", err, sizeof err);
        if (fd == CTL_ABSENT || fd == CTL_STALE)
            continue;
        if (fd < 0) {
            fprintf(stderr, PROG ": %s\n", err);
            status = TOOL_FAIL;
            continue;
        }
        memset(&srcs[n], 0, sizeof srcs[n]);
        srcs[n].fd = fd;
        snprintf(srcs[n].label, sizeof srcs[n].label, "%s", paths[i]);
        n++;
    }
    ctl_scan_free(paths, npaths);
    if (n == 0) {
        fprintf(stderr, PROG ": %s\n",
                only ? "no running synack process serves that interface"
                     : "no running synack process");
        return TOOL_FAIL;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    size_t open = n;
    unsigned long long seen = 0;
    struct pollfd pfd[MAXP];
    while (open && !stop && !(count && seen >= count)) {
        for (size_t i = 0; i < n; i++) {
            pfd[i].fd = srcs[i].fd;
            pfd[i].events = POLLIN;
            pfd[i].revents = 0;
        }
        int r = poll(pfd, (nfds_t)n, -1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, PROG ": poll: %s\n", strerror(errno));
            status = TOOL_FAIL;
            break;
        }
        for (size_t i = 0; i < n && !(count && seen >= count); i++) {
            struct src *p = &srcs[i];
            if (p->fd < 0 || !pfd[i].revents)
                continue;
            ssize_t got = read(p->fd, p->buf + p->len, sizeof p->buf - p->len);
            int over = got <= 0;
            if (got > 0)
                p->len += (size_t)got;
            char *start = p->buf, *nl;
            while (!over && (nl = memchr(start, '\n',
                                         p->len - (size_t)(start - p->buf)))) {
                *nl = '\0';
                int h = handle_line(p, start, json);
                start = nl + 1;
                if (h == -2)
                    status = TOOL_FAIL;
                if (h < 0)
                    over = 1;
                else if (h > 0 && count && ++seen >= count)
                    break;
            }
            size_t rest = p->len - (size_t)(start - p->buf);
            memmove(p->buf, start, rest);
            p->len = rest;
            if (p->len == sizeof p->buf)
                p->len = 0; /* an overlong line: drop it */
            if (over) {
                if (got < 0 && errno == EINTR)
                    continue;
                close(p->fd);
                p->fd = -1;
                open--;
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        if (srcs[i].fd >= 0)
            close(srcs[i].fd);
    return status;
}
