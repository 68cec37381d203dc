/*
 * packetdrill script reader: comments are stripped, statements split at
 * line ends (a statement whose brackets are still open continues on the
 * next line), and each statement parsed by hand into a struct pd_event.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <synack/synack.h>

#include "pd.h"

struct pd_parser {
    const char *file;
    int line;
    const char *p;
    char err[256];
};

static void perr(struct pd_parser *ps, const char *fmt, ...)
{
    if (ps->err[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err, sizeof(ps->err), fmt, ap);
    va_end(ap);
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) {
        fprintf(stderr, "synack packetdrill: out of memory\n");
        exit(2);
    }
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    if (!p) {
        fprintf(stderr, "synack packetdrill: out of memory\n");
        exit(2);
    }
    return p;
}

static void ws(struct pd_parser *ps)
{
    while (*ps->p && isspace((unsigned char)*ps->p))
        ps->p++;
}

static int eat(struct pd_parser *ps, const char *s)
{
    ws(ps);
    size_t n = strlen(s);
    if (strncmp(ps->p, s, n) == 0) {
        ps->p += n;
        return 1;
    }
    return 0;
}

static int expect(struct pd_parser *ps, const char *s)
{
    if (eat(ps, s))
        return 0;
    perr(ps, "expected '%s' at '%.20s'", s, ps->p);
    return -1;
}

static int word(struct pd_parser *ps, char *buf, size_t len)
{
    ws(ps);
    size_t n = 0;
    while (isalnum((unsigned char)ps->p[n]) || ps->p[n] == '_')
        n++;
    if (n == 0 || n >= len)
        return -1;
    memcpy(buf, ps->p, n);
    buf[n] = 0;
    ps->p += n;
    return 0;
}

/* A keyword followed by a non-identifier character. */
static int eat_kw(struct pd_parser *ps, const char *kw)
{
    ws(ps);
    size_t n = strlen(kw);
    if (strncmp(ps->p, kw, n) == 0 &&
        !(isalnum((unsigned char)ps->p[n]) || ps->p[n] == '_')) {
        ps->p += n;
        return 1;
    }
    return 0;
}

static int integer(struct pd_parser *ps, int64_t *v)
{
    ws(ps);
    char *end;
    errno = 0;
    long long x = strtoll(ps->p, &end, 0);
    if (end == ps->p || errno) {
        perr(ps, "expected a number at '%.20s'", ps->p);
        return -1;
    }
    ps->p = end;
    *v = x;
    return 0;
}

static int u32(struct pd_parser *ps, uint32_t *v)
{
    int64_t x;
    if (integer(ps, &x) < 0)
        return -1;
    if (x < 0 || x > 0xffffffffLL) {
        perr(ps, "number out of range: %lld", (long long)x);
        return -1;
    }
    *v = (uint32_t)x;
    return 0;
}

/* Seconds ("0.100", ".1", "1") as microseconds. */
static int seconds(struct pd_parser *ps, int64_t *us)
{
    ws(ps);
    if (!(isdigit((unsigned char)*ps->p) ||
          (*ps->p == '.' && isdigit((unsigned char)ps->p[1])))) {
        perr(ps, "expected a time at '%.20s'", ps->p);
        return -1;
    }
    char *end;
    double d = strtod(ps->p, &end);
    /* "0...0.1": strtod would eat "0." of the ellipsis */
    const char *dots = strstr(ps->p, "...");
    if (dots && dots < end) {
        char tmp[64];
        size_t n = (size_t)(dots - ps->p);
        if (n >= sizeof(tmp)) {
            perr(ps, "bad time");
            return -1;
        }
        memcpy(tmp, ps->p, n);
        tmp[n] = 0;
        d = strtod(tmp, NULL);
        end = (char *)dots;
    }
    ps->p = end;
    *us = (int64_t)(d * 1e6 + 0.5);
    return 0;
}

/* ---- expressions (system call arguments) ------------------------------- */

static struct pd_expr *expr(struct pd_parser *ps);

static struct pd_expr *new_expr(int kind)
{
    struct pd_expr *e = xcalloc(1, sizeof(*e));
    e->kind = kind;
    return e;
}

static void add_kid(struct pd_expr *e, struct pd_expr *k)
{
    e->kids = realloc(e->kids, (e->nkids + 1) * sizeof(*e->kids));
    if (!e->kids) {
        fprintf(stderr, "synack packetdrill: out of memory\n");
        exit(2);
    }
    e->kids[e->nkids++] = k;
}

static void free_expr(struct pd_expr *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nkids; i++)
        free_expr(e->kids[i]);
    free(e->kids);
    free(e->str);
    free(e->name);
    free(e);
}

static struct pd_expr *seq_expr(struct pd_parser *ps, const char *close,
                                int kind)
{
    struct pd_expr *e = new_expr(kind);
    if (eat(ps, close))
        return e;
    for (;;) {
        char name[64] = "";
        const char *save = ps->p;
        if (kind == PD_X_STRUCT && word(ps, name, sizeof(name)) == 0 &&
            eat(ps, "=") && !eat(ps, "=")) {
            /* a named field */
        } else {
            ps->p = save;
            name[0] = 0;
        }
        struct pd_expr *k = expr(ps);
        if (!k) {
            free_expr(e);
            return NULL;
        }
        if (name[0])
            k->name = xstrndup(name, strlen(name));
        add_kid(e, k);
        if (eat(ps, close))
            return e;
        if (expect(ps, ",") < 0) {
            free_expr(e);
            return NULL;
        }
    }
}

static struct pd_expr *primary(struct pd_parser *ps)
{
    ws(ps);
    if (eat(ps, "..."))
        return new_expr(PD_X_ELLIPSIS);
    if (eat(ps, "["))
        return seq_expr(ps, "]", PD_X_LIST);
    if (eat(ps, "{"))
        return seq_expr(ps, "}", PD_X_STRUCT);
    if (*ps->p == '"') {
        const char *s = ++ps->p;
        while (*ps->p && *ps->p != '"')
            ps->p++;
        if (!*ps->p) {
            perr(ps, "unterminated string");
            return NULL;
        }
        struct pd_expr *e = new_expr(PD_X_STR);
        e->str = xstrndup(s, (size_t)(ps->p - s));
        ps->p++;
        return e;
    }
    if (isdigit((unsigned char)*ps->p) || *ps->p == '-') {
        struct pd_expr *e = new_expr(PD_X_NUM);
        if (integer(ps, &e->num) < 0) {
            free(e);
            return NULL;
        }
        return e;
    }
    char w[64];
    if (word(ps, w, sizeof(w)) == 0) {
        struct pd_expr *e = new_expr(PD_X_IDENT);
        e->str = xstrndup(w, strlen(w));
        return e;
    }
    perr(ps, "unexpected '%.20s'", ps->p);
    return NULL;
}

static struct pd_expr *expr(struct pd_parser *ps)
{
    struct pd_expr *e = primary(ps);
    while (e && eat(ps, "|")) {
        struct pd_expr *r = primary(ps);
        if (!r) {
            free_expr(e);
            return NULL;
        }
        struct pd_expr *o = new_expr(PD_X_OR);
        add_kid(o, e);
        add_kid(o, r);
        e = o;
    }
    return e;
}

/* ---- statements --------------------------------------------------------- */

const char *pd_flags_str(uint8_t flags, char *buf, size_t len)
{
    size_t n = 0;
    static const struct {
        uint8_t bit;
        char c;
    } map[] = {{SYNACK_TH_SYN, 'S'}, {SYNACK_TH_FIN, 'F'},
               {SYNACK_TH_RST, 'R'}, {SYNACK_TH_PSH, 'P'},
               {SYNACK_TH_URG, 'U'}, {SYNACK_TH_ECE, 'E'},
               {SYNACK_TH_CWR, 'W'}, {SYNACK_TH_ACK, '.'}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]) && n + 1 < len; i++)
        if (flags & map[i].bit)
            buf[n++] = map[i].c;
    buf[n] = 0;
    return buf;
}

static int parse_opts(struct pd_parser *ps, struct pd_pkt *k)
{
    k->opts_given = 1;
    if (eat(ps, "...")) {
        k->opts_any = 1;
        return expect(ps, ">");
    }
    if (eat(ps, ">"))
        return 0;
    for (;;) {
        if (k->nopts >= 16) {
            perr(ps, "too many options");
            return -1;
        }
        struct pd_opt *o = &k->opts[k->nopts++];
        memset(o, 0, sizeof(*o));
        if (eat_kw(ps, "nop"))
            o->kind = PD_O_NOP;
        else if (eat_kw(ps, "eol"))
            o->kind = PD_O_EOL;
        else if (eat_kw(ps, "sackOK"))
            o->kind = PD_O_SACKOK;
        else if (eat_kw(ps, "mss")) {
            o->kind = PD_O_MSS;
            if (u32(ps, &o->a) < 0)
                return -1;
        } else if (eat_kw(ps, "wscale")) {
            o->kind = PD_O_WSCALE;
            if (u32(ps, &o->a) < 0)
                return -1;
        } else if (eat_kw(ps, "TS")) {
            o->kind = PD_O_TS;
            if (!eat_kw(ps, "val") || u32(ps, &o->a) < 0 ||
                !eat_kw(ps, "ecr") || u32(ps, &o->b) < 0) {
                perr(ps, "expected 'TS val N ecr N'");
                return -1;
            }
        } else if (eat_kw(ps, "sack")) {
            o->kind = PD_O_SACK;
            while (o->nblocks < 4) {
                ws(ps);
                if (!isdigit((unsigned char)*ps->p))
                    break;
                if (u32(ps, &o->blocks[2 * o->nblocks]) < 0 ||
                    expect(ps, ":") < 0 ||
                    u32(ps, &o->blocks[2 * o->nblocks + 1]) < 0)
                    return -1;
                o->nblocks++;
            }
        } else {
            perr(ps, "unsupported TCP option at '%.20s'", ps->p);
            return -1;
        }
        if (eat(ps, ">"))
            return 0;
        if (expect(ps, ",") < 0)
            return -1;
    }
}

static int parse_pkt(struct pd_parser *ps, struct pd_pkt *k)
{
    ws(ps);
    if (eat_kw(ps, "icmp") || eat_kw(ps, "udp") || eat_kw(ps, "udplite") ||
        eat_kw(ps, "ipv4") || eat_kw(ps, "ipv6") || eat_kw(ps, "mpls") ||
        eat_kw(ps, "gre")) {
        perr(ps, "only TCP segments are supported");
        return -1;
    }
    ws(ps);
    int n = 0;
    for (; *ps->p && !isspace((unsigned char)*ps->p); ps->p++, n++) {
        switch (*ps->p) {
        case 'S': k->flags |= SYNACK_TH_SYN; break;
        case 'F': k->flags |= SYNACK_TH_FIN; break;
        case 'R': k->flags |= SYNACK_TH_RST; break;
        case 'P': k->flags |= SYNACK_TH_PSH; break;
        case '.': k->flags |= SYNACK_TH_ACK; break;
        case 'U': k->flags |= SYNACK_TH_URG; break;
        case 'E': k->flags |= SYNACK_TH_ECE; break;
        case 'W': k->flags |= SYNACK_TH_CWR; break;
        default:
            perr(ps, "unknown TCP flag '%c'", *ps->p);
            return -1;
        }
    }
    if (n == 0) {
        perr(ps, "expected TCP flags");
        return -1;
    }
    if (u32(ps, &k->seq_start) < 0 || expect(ps, ":") < 0 ||
        u32(ps, &k->seq_end) < 0 || expect(ps, "(") < 0 ||
        u32(ps, &k->len) < 0 || expect(ps, ")") < 0)
        return -1;
    if (k->seq_end - k->seq_start != k->len) {
        perr(ps, "sequence range %u:%u does not match length %u",
             k->seq_start, k->seq_end, k->len);
        return -1;
    }
    for (;;) {
        ws(ps);
        if (!*ps->p)
            return 0;
        if (eat_kw(ps, "ack")) {
            k->has_ack = 1;
            if (u32(ps, &k->ack) < 0)
                return -1;
        } else if (eat_kw(ps, "win")) {
            k->has_win = 1;
            if (u32(ps, &k->win) < 0)
                return -1;
            if (k->win > 65535) {
                perr(ps, "window %u does not fit 16 bits", k->win);
                return -1;
            }
        } else if (eat(ps, "<")) {
            if (parse_opts(ps, k) < 0)
                return -1;
        } else {
            perr(ps, "unexpected '%.20s' in a segment", ps->p);
            return -1;
        }
    }
}

static int parse_call(struct pd_parser *ps, struct pd_call *c)
{
    char w[64];
    if (word(ps, w, sizeof(w)) < 0) {
        perr(ps, "expected '<', '>' or a system call at '%.20s'", ps->p);
        return -1;
    }
    c->name = xstrndup(w, strlen(w));
    if (expect(ps, "(") < 0)
        return -1;
    struct pd_expr *args = seq_expr(ps, ")", PD_X_LIST);
    if (!args)
        return -1;
    c->args = args->kids;
    c->nargs = args->nkids;
    free(args);
    if (expect(ps, "=") < 0)
        return -1;
    if (eat(ps, "...")) {
        c->ret_any = 1;
    } else if (integer(ps, &c->ret) < 0)
        return -1;
    ws(ps);
    if (isupper((unsigned char)*ps->p)) {
        if (word(ps, w, sizeof(w)) < 0)
            return -1;
        c->err = xstrndup(w, strlen(w));
    }
    ws(ps);
    if (*ps->p == '(') { /* the error's text: ignored */
        int depth = 0;
        for (; *ps->p; ps->p++) {
            if (*ps->p == '(')
                depth++;
            else if (*ps->p == ')' && --depth == 0) {
                ps->p++;
                break;
            }
        }
    }
    ws(ps);
    if (*ps->p) {
        perr(ps, "unexpected '%.20s' after the return value", ps->p);
        return -1;
    }
    if (c->ret == -1 && !c->err) {
        perr(ps, "'= -1' needs an error name (e.g. '= -1 EAGAIN')");
        return -1;
    }
    return 0;
}

static int parse_time(struct pd_parser *ps, struct pd_event *e)
{
    ws(ps);
    if (eat(ps, "*")) {
        e->time_kind = PD_T_ANY;
        return 0;
    }
    e->time_kind = eat(ps, "+") ? PD_T_REL : PD_T_ABS;
    if (seconds(ps, &e->t_us) < 0)
        return -1;
    if (eat(ps, "~")) {
        e->has_range = 1;
        e->range_rel = eat(ps, "+");
        if (seconds(ps, &e->range_us) < 0)
            return -1;
    } else if (eat(ps, "...")) {
        e->blocking = 1;
        e->end_rel = eat(ps, "+") || e->time_kind == PD_T_REL;
        if (seconds(ps, &e->end_us) < 0)
            return -1;
    }
    return 0;
}

static int parse_option(struct pd_parser *ps, struct pd_script *s,
                        const char *text)
{
    (void)ps;
    char name[64];
    const char *eq = strchr(text, '=');
    size_t n = eq ? (size_t)(eq - text) : strlen(text);
    while (n && isspace((unsigned char)text[n - 1]))
        n--;
    if (n >= sizeof(name))
        n = sizeof(name) - 1;
    memcpy(name, text, n);
    name[n] = 0;
    if (strcmp(name, "--tolerance_usecs") == 0 && eq) {
        s->tolerance_us = strtoll(eq + 1, NULL, 10);
        return 0;
    }
    if (strcmp(name, "--tcp_ts_tick_usecs") == 0 && eq) {
        s->ts_tick_us = strtoll(eq + 1, NULL, 10);
        return 0;
    }
    fprintf(stderr, "%s:%d: warning: option %s is not supported; ignored\n",
            s->file, ps->line, name);
    return 0;
}

/* Replace comments with spaces (newlines kept, so line numbers hold). */
static void strip_comments(char *b)
{
    for (char *p = b; *p; p++) {
        if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n')
                *p++ = ' ';
            if (!*p)
                return;
        } else if (p[0] == '/' && p[1] == '*') {
            char *q = p;
            while (*q && !(q[0] == '*' && q[1] == '/')) {
                if (*q != '\n')
                    *q = ' ';
                q++;
            }
            if (*q) {
                q[0] = q[1] = ' ';
                q++;
            }
            p = q;
            if (!*p)
                return;
        } else if (*p == '"') { /* strings may hold '//' */
            p++;
            while (*p && *p != '"' && *p != '\n')
                p++;
            if (!*p)
                return;
        }
    }
}

void pd_script_free(struct pd_script *s)
{
    for (size_t i = 0; i < s->nev; i++) {
        struct pd_event *e = &s->ev[i];
        free(e->text);
        if (e->kind == PD_EV_CALL) {
            free(e->call.name);
            for (size_t j = 0; j < e->call.nargs; j++)
                free_expr(e->call.args[j]);
            free(e->call.args);
            free(e->call.err);
        }
    }
    free(s->ev);
    s->ev = NULL;
    s->nev = 0;
}

int pd_parse_file(const char *file, struct pd_script *out, int verbose)
{
    memset(out, 0, sizeof(*out));
    out->file = file;
    out->tolerance_us = -1;
    FILE *f = fopen(file, "r");
    if (!f) {
        fprintf(stderr, "%s: %s\n", file, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *buf = xcalloc(cap, 1);
    size_t r;
    while ((r = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += r;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf) {
                fprintf(stderr, "synack packetdrill: out of memory\n");
                exit(2);
            }
        }
    }
    fclose(f);
    buf[len] = 0;
    strip_comments(buf);

    size_t evcap = 0;
    int rc = 0;
    int line = 1;
    char *p = buf;
    while (*p && rc == 0) {
        /* one statement: up to a newline outside brackets */
        int start_line = line;
        char *s = p;
        int depth = 0;
        while (*p && !(*p == '\n' && depth <= 0)) {
            if (*p == '(' || *p == '[' || *p == '{')
                depth++;
            else if (*p == ')' || *p == ']' || *p == '}')
                depth--;
            if (*p == '\n')
                line++;
            p++;
        }
        char *stmt = xstrndup(s, (size_t)(p - s));
        if (*p == '\n') {
            p++;
            line++;
        }
        struct pd_parser ps = {.file = file, .line = start_line, .p = stmt};
        ws(&ps);
        if (!*ps.p) {
            free(stmt);
            continue;
        }
        if (*ps.p == '`') {
            fprintf(stderr,
                    "%s:%d: shell command lines (`...`) are not supported: "
                    "synack packetdrill runs no commands\n",
                    file, start_line);
            rc = -1;
        } else if (ps.p[0] == '%' && ps.p[1] == '{') {
            fprintf(stderr,
                    "%s:%d: python blocks (%%{ }%%) are not supported\n",
                    file, start_line);
            rc = -1;
        } else if (ps.p[0] == '-' && ps.p[1] == '-') {
            parse_option(&ps, out, ps.p);
        } else {
            if (out->nev == evcap) {
                evcap = evcap ? 2 * evcap : 64;
                out->ev = realloc(out->ev, evcap * sizeof(*out->ev));
                if (!out->ev) {
                    fprintf(stderr, "synack packetdrill: out of memory\n");
                    exit(2);
                }
            }
            struct pd_event *e = &out->ev[out->nev];
            memset(e, 0, sizeof(*e));
            e->line = start_line;
            /* the statement as written, without comments, on one line */
            const char *o = ps.p;
            size_t ol = strlen(o);
            while (ol && isspace((unsigned char)o[ol - 1]))
                ol--;
            e->text = xstrndup(o, ol);
            for (char *c = e->text; *c; c++)
                if (*c == '\n' || *c == '\t')
                    *c = ' ';
            int ok = parse_time(&ps, e) == 0;
            if (ok) {
                ws(&ps);
                if (*ps.p == '<' || *ps.p == '>') {
                    e->kind = PD_EV_PKT;
                    e->pkt.inbound = *ps.p == '<';
                    ps.p++;
                    ok = parse_pkt(&ps, &e->pkt) == 0;
                    if (ok && e->blocking) {
                        perr(&ps, "a segment cannot have a blocking time");
                        ok = 0;
                    }
                } else {
                    e->kind = PD_EV_CALL;
                    ok = parse_call(&ps, &e->call) == 0;
                }
            }
            out->nev++;
            if (!ok) {
                fprintf(stderr, "%s:%d: syntax error: %s\n  %s\n", file,
                        start_line, ps.err[0] ? ps.err : "bad statement",
                        e->text);
                rc = -1;
            } else if (verbose > 1) {
                fprintf(stderr, "%s:%d: parsed: %s\n", file, start_line,
                        e->text);
            }
        }
        free(stmt);
    }
    free(buf);
    if (rc < 0)
        pd_script_free(out);
    return rc;
}
