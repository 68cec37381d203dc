/*
 * Options shared by the synack subcommands: link impairments, the seed,
 * tunables (-o NAME=VALUE), --pcap. `sim` uses them today; the subcommands
 * that run on a TAP device will reuse the same parsing and messages.
 *
 * Every parser prints its own error to stderr, prefixed with the command
 * name ("synack sim: --loss: ..."), and returns -1; the caller exits 2.
 */
#ifndef SYNACK_TOOLS_OPTS_H
#define SYNACK_TOOLS_OPTS_H

#include <stdint.h>
#include <stdio.h>

#include <synack/dev.h>
#include <synack/synack.h>

struct tool_tunable {
    char *name;
    char *value;
};

struct tool_opts {
    /* link impairments, as the link wants them (probabilities 0..1) */
    double loss, reorder, dup, corrupt;
    synack_time_t delay, jitter;
    uint64_t rate_bps; /* 0 = unlimited */
    uint64_t seed;
    const char *pcap; /* NULL: no capture */
    struct tool_tunable *tunables;
    size_t ntunables;
};

/* Defaults: no impairment, the given one-way delay, seed 1. */
void opts_init(struct tool_opts *o, synack_time_t default_delay);
void opts_free(struct tool_opts *o);

/* If argv[*i] is a shared option, consume it (and its value, given as
 * "--opt VALUE", "--opt=VALUE" or, for -o, "-oNAME=VALUE") and return 1,
 * leaving *i on the last argument used. 0: not a shared option. -1: bad
 * value (message printed). */
int opts_parse_common(const char *prog, int argc, char **argv, int *i,
                      struct tool_opts *o);

/* The value of option `name` at argv[*i] ("--name=V" or "--name V");
 * NULL (message printed) when it is missing. Advances *i past a separate
 * value. Returns NULL without a message when argv[*i] is not `name`,
 * setting *matched to 0. */
const char *opts_value(const char *prog, int argc, char **argv, int *i,
                       const char *name, int *matched);

/* Value parsers: 0, or -1 with a message naming `opt`. */
int opts_parse_percent(const char *prog, const char *opt, const char *s,
                       double *fraction);
int opts_parse_size(const char *prog, const char *opt, const char *s,
                    uint64_t *bytes);
int opts_parse_ms(const char *prog, const char *opt, const char *s,
                  synack_time_t *t);
int opts_parse_seconds(const char *prog, const char *opt, const char *s,
                       synack_time_t *t);
int opts_parse_mbit(const char *prog, const char *opt, const char *s,
                    uint64_t *bps);
int opts_parse_u64(const char *prog, const char *opt, const char *s,
                   uint64_t *v);

/* Apply every -o tunable to st, in the order given. 0, or -1 with a clear
 * message (unknown tunable, bad value, out of range with the range text). */
int opts_apply_tunables(const char *prog, synack_stack *st,
                        const struct tool_opts *o);
/* Same checks against a scratch stack, to refuse bad -o before running. */
int opts_check_tunables(const char *prog, const struct tool_opts *o);
/* Apply one tunable with the same messages ("scenario" presets use it). */
int opts_set_tunable(const char *prog, synack_stack *st, const char *name,
                     const char *value);

/* --list-tunables: name, default value and help, one per line. */
int opts_list_tunables(FILE *out);

/* Help text for the shared options (indented two spaces). */
void opts_print_help(FILE *out);

/* "1.5 KiB", "10 MiB", "123 bytes": human size into buf. */
const char *opts_fmt_size(uint64_t bytes, char *buf, size_t len);

/* "PROG: link: sent N delivered N lost N ..." and a newline: the in-memory
 * link's counters (both directions together), as the live subcommands
 * and `synack bridge` print them at exit. */
void tool_print_link_stats(FILE *f, const char *prog, const synack_link *l);

/* The stack's loss-recovery counters as " name value" pairs (fast_path
 * first), no newline: the --stats recovery line and synack sim's summary
 * print the same set. */
void tool_print_recovery(FILE *f, const synack_stack_stats *s);

#endif
