/*
 * Shared option parsing for the synack subcommands (see opts.h).
 */
#include "opts.h"

#include <errno.h>
#include <math.h> /* isfinite: a macro, no libm */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void opts_init(struct tool_opts *o, synack_time_t default_delay)
{
    memset(o, 0, sizeof *o);
    o->delay = default_delay;
    o->seed = 1;
}

void opts_free(struct tool_opts *o)
{
    for (size_t i = 0; i < o->ntunables; i++) {
        free(o->tunables[i].name);
        free(o->tunables[i].value);
    }
    free(o->tunables);
    o->tunables = NULL;
    o->ntunables = 0;
}

const char *opts_value(const char *prog, int argc, char **argv, int *i,
                       const char *name, int *matched)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    *matched = 0;
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=') {
        *matched = 1;
        return a + n + 1;
    }
    if (a[n] != '\0')
        return NULL;
    *matched = 1;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: %s needs a value\n", prog, name);
        return NULL;
    }
    (*i)++;
    return argv[*i];
}

/* A finite decimal number, nothing else; returns 0 or -1. `rest` gets what
 * follows the number (may be a unit suffix). */
static int parse_number(const char *s, double *v, const char **rest)
{
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    /* digits and at most one dot: no hex, exponents, inf or nan */
    const char *p = s;
    int digits = 0, dots = 0;
    while ((*p >= '0' && *p <= '9') || *p == '.') {
        if (*p == '.')
            dots++;
        else
            digits++;
        p++;
    }
    if (!digits || dots > 1)
        return -1;
    errno = 0;
    char *end;
    double d = strtod(s, &end);
    if (end != p || errno || !isfinite(d))
        return -1;
    *v = d;
    *rest = p;
    return 0;
}

int opts_parse_percent(const char *prog, const char *opt, const char *s,
                       double *fraction)
{
    double v;
    const char *rest;
    if (parse_number(s, &v, &rest) == 0 &&
        (*rest == '\0' || strcmp(rest, "%") == 0) && v >= 0 && v <= 100) {
        *fraction = v / 100.0;
        return 0;
    }
    fprintf(stderr,
            "%s: %s: '%s' is not a percentage from 0 to 100 (e.g. 2, 2%% "
            "or 0.5)\n",
            prog, opt, s);
    return -1;
}

static int suffix_is(const char *rest, char unit)
{
    /* "K", "k", "KB", "KiB" (any case of the trailing letters) */
    if (rest[0] != unit && rest[0] != unit - 'A' + 'a')
        return 0;
    const char *t = rest + 1;
    return *t == '\0' || strcmp(t, "B") == 0 || strcmp(t, "iB") == 0 ||
           strcmp(t, "ib") == 0 || strcmp(t, "b") == 0;
}

int opts_parse_size(const char *prog, const char *opt, const char *s,
                    uint64_t *bytes)
{
    double v;
    const char *rest;
    if (parse_number(s, &v, &rest) == 0) {
        double mul = 0;
        if (*rest == '\0' || strcmp(rest, "B") == 0 || strcmp(rest, "b") == 0)
            mul = 1;
        else if (suffix_is(rest, 'K'))
            mul = 1024.0;
        else if (suffix_is(rest, 'M'))
            mul = 1024.0 * 1024;
        else if (suffix_is(rest, 'G'))
            mul = 1024.0 * 1024 * 1024;
        else if (suffix_is(rest, 'T'))
            mul = 1024.0 * 1024 * 1024 * 1024;
        double b = v * mul;
        /* whole bytes only, and below 2^53 so the double is exact */
        if (mul > 0 && b < 9007199254740992.0 && b == (double)(uint64_t)b) {
            *bytes = (uint64_t)b;
            return 0;
        }
    }
    fprintf(stderr,
            "%s: %s: '%s' is not a size in bytes (e.g. 1000, 100K, 10M, 1G; "
            "K/M/G are KiB/MiB/GiB)\n",
            prog, opt, s);
    return -1;
}

static int parse_time(const char *prog, const char *opt, const char *s,
                      synack_time_t *t, double unit_ns, const char *unit,
                      double max)
{
    double v;
    const char *rest;
    if (parse_number(s, &v, &rest) == 0 &&
        (*rest == '\0' || strcmp(rest, unit) == 0) && v <= max) {
        *t = (synack_time_t)(v * unit_ns + 0.5);
        return 0;
    }
    fprintf(stderr,
            "%s: %s: '%s' is not a time in %s from 0 to %.0f (decimals "
            "allowed)\n",
            prog, opt, s, unit, max);
    return -1;
}

int opts_parse_ms(const char *prog, const char *opt, const char *s,
                  synack_time_t *t)
{
    return parse_time(prog, opt, s, t, 1e6, "ms", 3600e3);
}

int opts_parse_seconds(const char *prog, const char *opt, const char *s,
                       synack_time_t *t)
{
    return parse_time(prog, opt, s, t, 1e9, "s", 1e9);
}

int opts_parse_mbit(const char *prog, const char *opt, const char *s,
                    uint64_t *bps)
{
    double v;
    const char *rest;
    if (parse_number(s, &v, &rest) == 0 && *rest == '\0' && v <= 1e6) {
        double b = v * 1e6;
        if (v == 0 || b >= 1) {
            *bps = (uint64_t)(b + 0.5);
            return 0;
        }
    }
    fprintf(stderr,
            "%s: %s: '%s' is not a rate in Mbit/s from 0.000001 to 1000000 "
            "(0: unlimited)\n",
            prog, opt, s);
    return -1;
}

int opts_parse_u64(const char *prog, const char *opt, const char *s,
                   uint64_t *v)
{
    const char *p = s;
    if (*p) {
        while (*p >= '0' && *p <= '9')
            p++;
        if (*p == '\0' && p - s <= 20) {
            errno = 0;
            unsigned long long x = strtoull(s, NULL, 10);
            if (!errno) {
                *v = (uint64_t)x;
                return 0;
            }
        }
    }
    fprintf(stderr, "%s: %s: '%s' is not a non-negative integer\n", prog, opt,
            s);
    return -1;
}

static int add_tunable(const char *prog, struct tool_opts *o, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        fprintf(stderr,
                "%s: -o: '%s' is not NAME=VALUE (e.g. -o tcp_syn_retries=3; "
                "see %s --list-tunables)\n",
                prog, arg, prog);
        return -1;
    }
    struct tool_tunable *t =
        realloc(o->tunables, (o->ntunables + 1) * sizeof *t);
    if (!t) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return -1;
    }
    o->tunables = t;
    size_t n = (size_t)(eq - arg);
    char *name = malloc(n + 1);
    char *value = strdup(eq + 1);
    if (!name || !value) {
        free(name);
        free(value);
        fprintf(stderr, "%s: out of memory\n", prog);
        return -1;
    }
    memcpy(name, arg, n);
    name[n] = '\0';
    t[o->ntunables].name = name;
    t[o->ntunables].value = value;
    o->ntunables++;
    return 0;
}

int opts_parse_common(const char *prog, int argc, char **argv, int *i,
                      struct tool_opts *o)
{
    const char *a = argv[*i];
    int m;
    const char *v;

    if (strcmp(a, "-o") == 0) {
        if (*i + 1 >= argc) {
            fprintf(stderr, "%s: -o needs NAME=VALUE\n", prog);
            return -1;
        }
        (*i)++;
        return add_tunable(prog, o, argv[*i]) ? -1 : 1;
    }
    if (strncmp(a, "-o", 2) == 0 && a[2] != '-')
        return add_tunable(prog, o, a + 2) ? -1 : 1;

    static const struct {
        const char *name;
        int kind; /* 0 percent, 1 ms, 2 mbit, 3 u64, 4 path */
        size_t off;
    } tab[] = {
        {"--loss", 0, offsetof(struct tool_opts, loss)},
        {"--reorder", 0, offsetof(struct tool_opts, reorder)},
        {"--dup", 0, offsetof(struct tool_opts, dup)},
        {"--corrupt", 0, offsetof(struct tool_opts, corrupt)},
        {"--delay", 1, offsetof(struct tool_opts, delay)},
        {"--jitter", 1, offsetof(struct tool_opts, jitter)},
        {"--rate", 2, offsetof(struct tool_opts, rate_bps)},
        {"--seed", 3, offsetof(struct tool_opts, seed)},
        {"--pcap", 4, offsetof(struct tool_opts, pcap)},
    };
    for (size_t k = 0; k < sizeof tab / sizeof tab[0]; k++) {
        v = opts_value(prog, argc, argv, i, tab[k].name, &m);
        if (!m)
            continue;
        if (!v)
            return -1;
        void *field = (char *)o + tab[k].off;
        int rc = -1;
        switch (tab[k].kind) {
        case 0: {
            double d;
            rc = opts_parse_percent(prog, tab[k].name, v, &d);
            if (!rc)
                memcpy(field, &d, sizeof d);
            break;
        }
        case 1: {
            synack_time_t t;
            rc = opts_parse_ms(prog, tab[k].name, v, &t);
            if (!rc)
                memcpy(field, &t, sizeof t);
            break;
        }
        case 2:
        case 3: {
            uint64_t x;
            rc = tab[k].kind == 2 ? opts_parse_mbit(prog, tab[k].name, v, &x)
                                  : opts_parse_u64(prog, tab[k].name, v, &x);
            if (!rc)
                memcpy(field, &x, sizeof x);
            break;
        }
        case 4:
            if (!*v) {
                fprintf(stderr, "%s: %s: empty file name\n", prog,
                        tab[k].name);
                break;
            }
            memcpy(field, &v, sizeof v);
            rc = 0;
            break;
        }
        return rc ? -1 : 1;
    }
    return 0;
}

/* ---- tunables ------------------------------------------------------------- */

static int scratch_stack(synack_stack **out)
{
    synack_stack_config cfg;
    synack_stack_config_init(&cfg);
    cfg.ip = 0x0a000001u; /* any address will do */
    cfg.prefix_len = 24;
    cfg.mac[0] = 0x02;
    cfg.mac[5] = 0x01;
    cfg.max_sockets = 4;
    return synack_stack_new(&cfg, out);
}

/* Accepted range of a single-valued tunable, found by asking the stack
 * (the accepted values form one interval around the default). 0 or -1. */
static int probe_range(const char *name, uint64_t *lo, uint64_t *hi)
{
    synack_stack *st;
    if (scratch_stack(&st) != 0)
        return -1;
    char cur[64], buf[32];
    int rc = -1;
    if (synack_sysctl_get(st, name, cur, sizeof cur) <= 0 ||
        strspn(cur, "0123456789") != strlen(cur))
        goto out; /* not one number (e.g. tcp_rmem's three) */
    uint64_t def = strtoull(cur, NULL, 10);
    uint64_t a = 0, b = def; /* smallest accepted in [a, b] */
    while (a < b) {
        uint64_t mid = a + (b - a) / 2;
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)mid);
        if (synack_sysctl_set(st, name, buf) == 0)
            b = mid;
        else
            a = mid + 1;
    }
    *lo = a;
    a = def;
    b = UINT64_C(1) << 40; /* largest accepted in [a, b] */
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)b);
    if (synack_sysctl_set(st, name, buf) == 0)
        goto out; /* unbounded above: no useful range */
    while (a + 1 < b) {
        uint64_t mid = a + (b - a) / 2;
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)mid);
        if (synack_sysctl_set(st, name, buf) == 0)
            a = mid;
        else
            b = mid;
    }
    *hi = a;
    rc = 0;
out:
    synack_stack_del(st);
    return rc;
}

int opts_set_tunable(const char *prog, synack_stack *st, const char *name,
                     const char *value)
{
    int rc = synack_sysctl_set(st, name, value);
    if (rc == 0)
        return 0;
    const char *help = synack_sysctl_help(name);
    uint64_t lo, hi;
    char range[96] = "";
    if (rc == -SYNACK_ERANGE || rc == -SYNACK_EINVAL) {
        if (probe_range(name, &lo, &hi) == 0)
            snprintf(range, sizeof range, "; accepted: %llu to %llu",
                     (unsigned long long)lo, (unsigned long long)hi);
    }
    switch (-rc) {
    case SYNACK_ENOENT:
        fprintf(stderr,
                "%s: -o %s=%s: unknown tunable %s (see %s --list-tunables)\n",
                prog, name, value, name, prog);
        break;
    case SYNACK_EINVAL:
        fprintf(stderr,
                "%s: -o %s=%s: invalid value '%s' (%s: %s%s)\n", prog, name,
                value, value, name, help ? help : "", range);
        break;
    case SYNACK_ERANGE:
        fprintf(stderr,
                "%s: -o %s=%s: value out of range (%s: %s%s)\n", prog, name,
                value, name, help ? help : "", range);
        break;
    default:
        fprintf(stderr, "%s: -o %s=%s: %s\n", prog, name, value,
                synack_strerror(rc));
        break;
    }
    return -1;
}

int opts_apply_tunables(const char *prog, synack_stack *st,
                        const struct tool_opts *o)
{
    for (size_t i = 0; i < o->ntunables; i++)
        if (opts_set_tunable(prog, st, o->tunables[i].name,
                             o->tunables[i].value) != 0)
            return -1;
    return 0;
}

int opts_check_tunables(const char *prog, const struct tool_opts *o)
{
    if (!o->ntunables)
        return 0;
    synack_stack *st;
    if (scratch_stack(&st) != 0) {
        fprintf(stderr, "%s: cannot create a stack to check -o\n", prog);
        return -1;
    }
    int rc = opts_apply_tunables(prog, st, o);
    synack_stack_del(st);
    return rc;
}

int opts_list_tunables(FILE *out)
{
    synack_stack *st;
    if (scratch_stack(&st) != 0)
        return -1;
    fprintf(out, "%-24s %-24s %s\n", "NAME", "VALUE", "DESCRIPTION");
    for (size_t i = 0;; i++) {
        const char *name = synack_sysctl_name(i);
        if (!name)
            break;
        char val[128];
        if (synack_sysctl_get(st, name, val, sizeof val) < 0)
            snprintf(val, sizeof val, "?");
        for (char *p = val; *p; p++) /* vectors come tab-separated */
            if (*p == '\t')
                *p = ' ';
        const char *help = synack_sysctl_help(name);
        fprintf(out, "%-24s %-24s %s\n", name, val, help ? help : "");
    }
    synack_stack_del(st);
    return 0;
}

void opts_print_help(FILE *out)
{
    fputs("  --loss P          drop P% of frames on the link (P: 2, 2% or "
          "0.5; 0 to 100)\n"
          "  --reorder P       hold back P% of frames so they arrive late\n"
          "  --dup P           deliver P% of frames twice\n"
          "  --corrupt P       flip one bit in P% of frames\n"
          "  --delay MS        one-way propagation delay in milliseconds\n"
          "  --jitter MS       extra random delay per frame, uniform in [0, "
          "MS]\n"
          "  --rate MBIT       serialization rate per sender in Mbit/s "
          "(0: unlimited)\n"
          "  --seed N          seed of the link and the stacks; the same seed "
          "gives\n"
          "                    the same run, byte for byte\n"
          "  -o NAME=VALUE     set a tunable (Linux sysctl name, e.g. "
          "tcp_syn_retries=3);\n"
          "                    repeatable; see --list-tunables\n"
          "  --pcap FILE       record the frames A sends and receives (pcap, "
          "for\n"
          "                    tshark or Wireshark)\n",
          out);
}

const char *opts_fmt_size(uint64_t bytes, char *buf, size_t len)
{
    static const char *units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) {
        snprintf(buf, len, "%llu bytes", (unsigned long long)bytes);
        return buf;
    }
    double v = (double)bytes;
    int u = -1;
    while (v >= 1024 && u < 3) {
        v /= 1024;
        u++;
    }
    if (v == (double)(uint64_t)v)
        snprintf(buf, len, "%.0f %s", v, units[u]);
    else
        snprintf(buf, len, "%.1f %s", v, units[u]);
    return buf;
}

void tool_print_recovery(FILE *f, const synack_stack_stats *s)
{
    const struct {
        const char *name;
        uint64_t v;
    } c[] = {
        {"fast_path", s->tcp_fast_path},
        {"recoveries", s->tcp_recoveries},
        {"timeouts", s->tcp_timeouts},
        {"tlp_probes", s->tcp_tlp_probes},
        {"tlp_recoveries", s->tcp_tlp_recoveries},
        {"rack_lost", s->tcp_rack_lost},
        {"dupthresh_lost", s->tcp_dupthresh_lost},
        {"rack_reo_timeouts", s->tcp_rack_reo_timeouts},
        {"sack_blocks_in", s->tcp_sack_blocks_in},
        {"dsack_in", s->tcp_dsack_in},
        {"dsack_out", s->tcp_dsack_out},
        {"undos", s->tcp_undos},
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        fprintf(f, " %s %llu", c[i].name, (unsigned long long)c[i].v);
}

void tool_print_link_stats(FILE *f, const char *prog, const synack_link *link)
{
    synack_link_stats l;
    synack_link_get_stats(link, &l);
    fprintf(f,
            "%s: link: sent %llu delivered %llu lost %llu reordered %llu "
            "duplicated %llu corrupted %llu queue_drops %llu\n",
            prog, (unsigned long long)l.sent, (unsigned long long)l.delivered,
            (unsigned long long)l.lost, (unsigned long long)l.reordered,
            (unsigned long long)l.duplicated, (unsigned long long)l.corrupted,
            (unsigned long long)l.queue_drops);
}
