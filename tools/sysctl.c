/*
 * synack sysctl: read or change the tunables of a running synack process
 * through its control socket (tools/ctl.c), printed as Linux's sysctl
 * prints them ("net.ipv4.tcp_syn_retries = 6", the numbers of a vector
 * separated by TABs).
 *
 * The target is the process given by --if IFNAME, or the only one running.
 * Exit status: 0; 1 when a tunable is unknown, a value is refused or no
 * process answers; 2 for bad usage (including several processes and no
 * --if).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "ctl_proto.h"
#include "tool.h"

#define PROG "synack sysctl"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: synack sysctl [--if IFNAME] [-a] [-n] [NAME[=VALUE] ...]\n"
            "\n"
            "Read or change the tunables of a running synack process "
            "through its control\n"
            "socket. Without NAME (or with -a) every tunable is listed.\n"
            "NAME prints one (net.ipv4.tcp_syn_retries or "
            "tcp_syn_retries); NAME=VALUE sets\n"
            "it and prints the value now in force.\n"
            "\n"
            "Options:\n"
            "  --if IFNAME  the process serving interface IFNAME (needed "
            "when several run)\n"
            "  -a, --all    list every tunable\n"
            "  -n           print values only\n"
            "  -w           accepted (NAME=VALUE writes anyway)\n"
            "  -h, --help   this text\n"
            "\n"
            "Exit status: 0; 1 unknown tunable, refused value or no "
            "process; 2 bad usage.\n");
}

/* A tunable line "sysctl NAME VALUE HELP" as sysctl prints it. */
static void print_tunable(char *line, int values_only)
{
    char *f[4];
    size_t n = ctl_split(line, f, 4);
    if (n < 3 || strcmp(f[0], "sysctl") != 0)
        return;
    for (char *p = f[2]; *p; p++)
        if (*p == ' ')
            *p = '\t';
    if (values_only)
        printf("%s\n", f[2]);
    else
        printf("net.ipv4.%s = %s\n", f[1], f[2]);
}

/* Ask and parse; 0 with r filled (ok or error), -1 with a message. */
static int ask(const char *path, const char *req, char **ans,
               struct ctl_reply *r)
{
    char err[512];
    memset(r, 0, sizeof *r);
    int rc = ctl_request(path, req, CTL_CLIENT_MS, ans, err, sizeof err);
    if (rc != CTL_OK) {
        fprintf(stderr, PROG ": %s\n", err);
        return -1;
    }
    if (ctl_reply_parse(*ans, r, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s: %s\n", path, err);
        free(*ans);
        *ans = NULL;
        return -1;
    }
    return 0;
}

/* The socket of the target process into path; 0, or the exit status. */
static int find_target(const char *ifname, char *path, size_t len)
{
    char dir[256], err[512];
    if (ctl_dir(dir, sizeof dir) != 0) {
        fprintf(stderr, PROG ": XDG_RUNTIME_DIR is too long\n");
        return TOOL_FAIL;
    }
    if (ifname) {
        if (!*ifname || strchr(ifname, '/')) {
            fprintf(stderr, PROG ": --if: '%s' is not an interface name\n",
                    ifname);
            return TOOL_USAGE;
        }
        if (ctl_sock_path(dir, ifname, path, len) != 0) {
            fprintf(stderr, PROG ": --if: '%s' is too long\n", ifname);
            return TOOL_USAGE;
        }
        char *ans = NULL;
        int rc = ctl_request(path, "hello", CTL_CLIENT_MS, &ans, err,
                             sizeof err);
        free(ans);
        if (rc == CTL_ABSENT || rc == CTL_STALE) {
            fprintf(stderr,
                    PROG ": no running synack process serves %s (looked "
                         "for %s)\n",
                    ifname, path);
            return TOOL_FAIL;
        }
        if (rc == CTL_DENIED) {
            fprintf(stderr,
                    PROG ": %s: permission denied (the process runs as "
                         "another user; run as that user or as root)\n",
                    path);
            return TOOL_FAIL;
        }
        if (rc != CTL_OK) {
            fprintf(stderr, PROG ": %s\n", err);
            return TOOL_FAIL;
        }
        return 0;
    }
    char **paths;
    size_t n;
    if (ctl_scan(dir, &paths, &n, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return TOOL_FAIL;
    }
    char list[2048] = "";
    size_t live = 0, ll = 0;
    int denied = 0;
    for (size_t i = 0; i < n; i++) {
        char *ans = NULL;
        struct ctl_reply r;
        int rc = ctl_request(paths[i], "hello", CTL_CLIENT_MS, &ans, err,
                             sizeof err);
        if (rc == CTL_DENIED) {
            fprintf(stderr, PROG ": %s: permission denied\n", paths[i]);
            denied = 1;
        }
        if (rc != CTL_OK) {
            free(ans);
            continue;
        }
        if (ctl_reply_parse(ans, &r, err, sizeof err) == 0 && r.ok) {
            if (live++ == 0)
                snprintf(path, len, "%s", paths[i]);
            int k = snprintf(list + ll, sizeof list - ll,
                             "\n  --if %s   (synack %s, pid %ld)",
                             r.ifname ? r.ifname : "?",
                             r.command ? r.command : "?", r.pid);
            if (k > 0 && ll + (size_t)k < sizeof list)
                ll += (size_t)k;
        }
        ctl_reply_free(&r);
        free(ans);
    }
    ctl_scan_free(paths, n);
    if (live == 0) {
        fprintf(stderr, PROG ": no running synack process (looked in %s)%s\n",
                dir,
                denied ? "; some control sockets were not accessible" : "");
        return TOOL_FAIL;
    }
    if (live > 1) {
        fprintf(stderr,
                PROG ": %zu synack processes are running; choose one:%s\n",
                live, list);
        return TOOL_USAGE;
    }
    return 0;
}

int sysctl_main(int argc, char **argv)
{
    const char *ifname = NULL;
    int all = 0, values_only = 0;
    char **names = calloc((size_t)argc + 1, sizeof *names);
    size_t nnames = 0;
    if (!names) {
        fprintf(stderr, PROG ": out of memory\n");
        return TOOL_FAIL;
    }
    int status = TOOL_OK;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            free(names);
            return TOOL_OK;
        } else if (strcmp(a, "--if") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, PROG ": --if needs an interface name\n");
                free(names);
                return TOOL_USAGE;
            }
            ifname = argv[++i];
        } else if (strncmp(a, "--if=", 5) == 0) {
            ifname = a + 5;
        } else if (strcmp(a, "-a") == 0 || strcmp(a, "-A") == 0 ||
                   strcmp(a, "--all") == 0) {
            all = 1;
        } else if (strcmp(a, "-n") == 0) {
            values_only = 1;
        } else if (strcmp(a, "-w") == 0) {
            /* NAME=VALUE writes */
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, PROG ": unknown option '%s'\n\n", a);
            usage(stderr);
            free(names);
            return TOOL_USAGE;
        } else if (a[0] == '\0' || a[0] == '=') {
            fprintf(stderr, PROG ": '%s' is not NAME or NAME=VALUE\n", a);
            free(names);
            return TOOL_USAGE;
        } else {
            names[nnames++] = argv[i];
        }
    }

    char path[256];
    int rc = find_target(ifname, path, sizeof path);
    if (rc != 0) {
        free(names);
        return rc;
    }

    char *ans = NULL;
    struct ctl_reply r;
    if (all || nnames == 0) {
        if (ask(path, "sysctl-list", &ans, &r) != 0) {
            status = TOOL_FAIL;
        } else if (!r.ok) {
            fprintf(stderr, PROG ": %s\n", r.error);
            status = TOOL_FAIL;
        } else {
            for (size_t k = 0; k < r.nlines; k++)
                print_tunable(r.lines[k], values_only);
        }
        ctl_reply_free(&r);
        free(ans);
        ans = NULL;
    }
    for (size_t i = 0; i < nnames; i++) {
        const char *arg = names[i];
        const char *eq = strchr(arg, '=');
        size_t nl = eq ? (size_t)(eq - arg) : strlen(arg);
        /* "name = value" spacing is not sysctl's either; trim blanks */
        while (nl && (arg[nl - 1] == ' ' || arg[nl - 1] == '\t'))
            nl--;
        size_t need = nl + (eq ? strlen(eq) : 0) + 32;
        char *req = malloc(need);
        if (!req) {
            fprintf(stderr, PROG ": out of memory\n");
            status = TOOL_FAIL;
            break;
        }
        if (nl == 0 || memchr(arg, ' ', nl) || memchr(arg, '\t', nl) ||
            memchr(arg, '\n', nl)) {
            fprintf(stderr, PROG ": '%s' is not NAME or NAME=VALUE\n", arg);
            free(req);
            status = TOOL_USAGE;
            break;
        }
        if (eq) {
            /* TABs (as sysctl prints vectors) become spaces; a newline
             * would end the request line */
            int bad = 0;
            int k = snprintf(req, need, "sysctl-set %.*s ", (int)nl, arg);
            char *v = req + k;
            const char *s = eq + 1;
            while (*s == ' ' || *s == '\t')
                s++;
            for (; *s; s++) {
                if (*s == '\n' || *s == '\r')
                    bad = 1;
                *v++ = *s == '\t' ? ' ' : *s;
            }
            *v = '\0';
            if (bad) {
                fprintf(stderr,
                        PROG ": %.*s: invalid value (a line break)\n",
                        (int)nl, arg);
                free(req);
                status = TOOL_FAIL;
                continue;
            }
        } else {
            snprintf(req, need, "sysctl-get %.*s", (int)nl, arg);
        }
        if (ask(path, req, &ans, &r) != 0) {
            free(req);
            status = TOOL_FAIL;
            break;
        }
        free(req);
        if (!r.ok) {
            fprintf(stderr, PROG ": %s: %s\n", arg, r.error);
            status = TOOL_FAIL;
        } else {
            for (size_t k = 0; k < r.nlines; k++)
                print_tunable(r.lines[k], values_only);
        }
        ctl_reply_free(&r);
        free(ans);
        ans = NULL;
    }
    free(names);
    return status;
}
