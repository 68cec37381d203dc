/*
 * `synack packetdrill`: a runner for packetdrill scripts (the TCP/IPv4
 * subset) against one synack stack on virtual time. pd_parse.c reads a
 * script into events, pd_run.c runs them and reports. See docs/packetdrill.md.
 */
#ifndef SYNACK_TOOLS_PD_H
#define SYNACK_TOOLS_PD_H

#include <stddef.h>
#include <stdint.h>

enum pd_time_kind { PD_T_ABS, PD_T_REL, PD_T_ANY };

enum pd_expr_kind {
    PD_X_NUM,
    PD_X_ELLIPSIS,
    PD_X_IDENT,
    PD_X_STR,
    PD_X_LIST,   /* [a, b] */
    PD_X_STRUCT, /* {name=a, b} */
    PD_X_OR,     /* a | b */
};

struct pd_expr {
    int kind;
    int64_t num;
    char *str;   /* IDENT, STR */
    char *name;  /* field name inside a STRUCT, or NULL */
    struct pd_expr **kids;
    size_t nkids;
};

enum pd_opt_kind {
    PD_O_EOL,
    PD_O_NOP,
    PD_O_MSS,
    PD_O_WSCALE,
    PD_O_SACKOK,
    PD_O_TS,
    PD_O_SACK,
};

struct pd_opt {
    int kind;
    uint32_t a, b;          /* MSS/wscale in a; TS val a, ecr b */
    uint32_t blocks[8];     /* SACK: left/right pairs */
    int nblocks;
};

struct pd_pkt {
    int inbound;           /* '<' */
    uint8_t flags;         /* SYNACK_TH_* */
    uint32_t seq_start, seq_end, len;
    int has_ack, has_win;
    uint32_t ack, win;
    int opts_given, opts_any;
    struct pd_opt opts[16];
    int nopts;
};

struct pd_call {
    char *name;
    struct pd_expr **args;
    size_t nargs;
    int ret_any;    /* "= ..." */
    int64_t ret;
    char *err;      /* "EAGAIN" or NULL */
};

enum pd_event_kind { PD_EV_PKT, PD_EV_CALL };

struct pd_event {
    int line;
    char *text;     /* the statement as written (for messages) */
    int time_kind;  /* PD_T_* */
    int64_t t_us;
    int has_range;  /* N~M */
    int range_rel;
    int64_t range_us;
    int blocking;   /* N...M */
    int64_t end_us; /* relative to the start when end_rel */
    int end_rel;
    int kind;
    struct pd_pkt pkt;
    struct pd_call call;
};

struct pd_script {
    const char *file;
    struct pd_event *ev;
    size_t nev;
    int64_t tolerance_us; /* -1: not given in the script */
    int64_t ts_tick_us;   /* --tcp_ts_tick_usecs; 0: TS val unchecked */
};

/* Parse a script. Returns 0, or -1 after printing "FILE:LINE: ..." to
 * stderr (syntax errors, unsupported lines). */
int pd_parse_file(const char *file, struct pd_script *out, int verbose);
void pd_script_free(struct pd_script *s);

/* Render a flag byte the packetdrill way ("S.", "P.", "F.", "R"). */
const char *pd_flags_str(uint8_t flags, char *buf, size_t len);

#endif
