/*
 * The SVG ladder (see ladder_svg.h).
 *
 * Rows are kept as ladder.c hands them over: every row in full mode;
 * otherwise the sticky rows (state changes, notes), the first `head`
 * omittable rows and a ring of the last `tail`, as the text renderer
 * keeps them, so a long run costs no more memory than its text. The
 * document is written at the end, when every arrival is known.
 */
#include "ladder_svg.h"
#include "textesc.h"

#include "ladder.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* geometry, in px */
#define ROW_H 24
#define TOP 96     /* first row's top */
#define X_NUM 44   /* right edge of the row numbers */
#define X_TIME 126 /* right edge of the times */
#define X_AXIS 134 /* the time axis */
#define X_A 270    /* A's lifeline */
#define LANE 620   /* from A's lifeline to B's */
#define X_B (X_A + LANE)
#define STATE_GAP 14 /* from a lifeline to its state's name */
#define X_NOTE (X_B + 130)
#define WIDTH (X_NOTE + 440)
#define DROP_STUB 60 /* a discarded segment's arrow into the receiver */
#define BAND_W 12
#define MATCH_BACK 4096 /* rows searched back for a segment's arrival */

struct srow {
    int kind;
    unsigned long num;
    synack_time_t t;
    int st[2];
    int side;
    unsigned fate;
    char *label, *note;
    /* segments: to match arrivals */
    uint32_t seq, ack, len;
    uint8_t flags;
    int arrived;
    synack_time_t t_arr;
    unsigned long ord; /* omittable rows: ordinal from 1 */
    int sticky;
};

struct lsvg {
    FILE *out;
    int full;
    unsigned head, tail;
    char *name[2];
    struct srow *rows; /* every row (full), or sticky + head rows */
    size_t n, cap;
    struct srow *ring; /* the last `tail` omittable rows */
    size_t ring_head, ring_len;
    unsigned long nomit; /* omittable rows made */
};

static char *dupstr(const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s ? s : "", n);
    return d;
}

struct lsvg *lsvg_new(FILE *out, int full, unsigned head, unsigned tail,
                      const char *name_a, const char *name_b)
{
    struct lsvg *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->out = out;
    s->full = full;
    s->head = head;
    s->tail = tail;
    s->name[0] = dupstr(name_a ? name_a : "TCP A");
    s->name[1] = dupstr(name_b ? name_b : "TCP B");
    if (!full && tail)
        s->ring = calloc(tail, sizeof *s->ring);
    if (!s->name[0] || !s->name[1] || (!full && tail && !s->ring)) {
        lsvg_free(s);
        return NULL;
    }
    return s;
}

static void row_free(struct srow *r)
{
    free(r->label);
    free(r->note);
    r->label = r->note = NULL;
}

void lsvg_free(struct lsvg *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        row_free(&s->rows[i]);
    free(s->rows);
    if (s->ring)
        for (size_t i = 0; i < s->ring_len; i++)
            row_free(&s->ring[(s->ring_head + i) % s->tail]);
    free(s->ring);
    free(s->name[0]);
    free(s->name[1]);
    free(s);
}

static void push(struct lsvg *s, struct srow *r)
{
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 128;
        struct srow *n = realloc(s->rows, ncap * sizeof *n);
        if (!n) {
            row_free(r);
            return;
        }
        s->rows = n;
        s->cap = ncap;
    }
    s->rows[s->n++] = *r;
}

static void ring_push(struct lsvg *s, struct srow *r)
{
    if (!s->tail) {
        row_free(r);
        return;
    }
    size_t idx;
    if (s->ring_len < s->tail) {
        idx = (s->ring_head + s->ring_len++) % s->tail;
    } else {
        idx = s->ring_head;
        s->ring_head = (s->ring_head + 1) % s->tail;
        row_free(&s->ring[idx]);
    }
    s->ring[idx] = *r;
}

void lsvg_add(struct lsvg *s, const struct lsvg_row *in)
{
    struct srow r;
    memset(&r, 0, sizeof r);
    r.kind = in->kind;
    r.num = in->num;
    r.t = in->t;
    r.st[0] = in->st[0];
    r.st[1] = in->st[1];
    r.side = in->side;
    r.fate = in->fate;
    r.label = dupstr(in->label);
    r.note = dupstr(in->note);
    if (in->raw) {
        r.seq = in->raw->seq;
        r.ack = in->raw->ack;
        r.len = in->raw->len;
        r.flags = in->raw->flags;
    }
    r.sticky = in->kind == LSVG_STATE || in->kind == LSVG_NOTE;
    /* omittable rows: their ordinal; sticky ones: omittable rows before */
    r.ord = r.sticky ? s->nomit : ++s->nomit;
    if (s->full || r.sticky || r.ord <= s->head)
        push(s, &r);
    else
        ring_push(s, &r);
}

static int matches(const struct srow *r, int from, const synack_seg *g)
{
    return r->kind == LSVG_SEG && r->side == from && !r->arrived &&
           r->seq == g->seq && r->ack == g->ack && r->len == g->len &&
           r->flags == g->flags;
}

void lsvg_arrival(struct lsvg *s, synack_time_t t, int to, const synack_seg *g)
{
    int from = !(to & 1);
    /* the newest matching row sent no later than t: the ring first */
    for (size_t i = s->ring_len; i-- > 0;) {
        struct srow *r = &s->ring[(s->ring_head + i) % s->tail];
        if (r->t <= t && matches(r, from, g)) {
            r->arrived = 1;
            r->t_arr = t;
            return;
        }
    }
    size_t lim = s->n > MATCH_BACK ? s->n - MATCH_BACK : 0;
    for (size_t i = s->n; i-- > lim;) {
        struct srow *r = &s->rows[i];
        if (r->t <= t && matches(r, from, g)) {
            r->arrived = 1;
            r->t_arr = t;
            return;
        }
    }
}

/* ---- writing ------------------------------------------------------------- */

/* A drawn line of the diagram: a row, or a "rows left out" line. */
struct item {
    const struct srow *r; /* NULL: a gap */
    unsigned long gap;    /* rows left out */
    double y;             /* centre */
    double y_arr;         /* segments that arrived: the arrow's end */
    unsigned arrivals;    /* arrivals drawn at this row so far */
};

static void put_text(FILE *f, double x, double y, const char *cls,
                     const char *anchor, const char *text)
{
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" class=\"%s\"", x, y, cls);
    if (anchor)
        fprintf(f, " text-anchor=\"%s\"", anchor);
    fputs(">", f);
    tool_xml_esc(f, text);
    fputs("</text>\n", f);
}

static const char *state_name(int st)
{
    return st < 0 ? "" : synack_state_name(st);
}

/* Band colour per state: synchronised states green, opening blue,
 * closing orange/red, nothing grey. */
static const char *state_fill(int st)
{
    switch (st) {
    case SYNACK_ESTABLISHED:
        return "#8fd19e";
    case SYNACK_SYN_SENT:
    case SYNACK_SYN_RECEIVED:
    case SYNACK_LISTEN:
        return "#9cc3ef";
    case SYNACK_FIN_WAIT_1:
    case SYNACK_FIN_WAIT_2:
    case SYNACK_CLOSE_WAIT:
        return "#f7c77f";
    case SYNACK_CLOSING:
    case SYNACK_LAST_ACK:
    case SYNACK_TIME_WAIT:
        return "#f19a8e";
    default:
        return "#d5d5d5";
    }
}

/* A segment's colour and its note's, by what happened to it. */
static const char *seg_class(unsigned fate, uint8_t flags)
{
    if (fate & (LADDER_LOST | LADDER_QDROP))
        return "lost";
    if (fate & LADDER_RETRANS)
        return "rexmit";
    if (fate & LADDER_KEEPALIVE)
        return "ka";
    if (fate & (LADDER_CORRUPT | LADDER_DUP | LADDER_REORDER))
        return "odd";
    if (flags & SYNACK_TH_RST)
        return "rst";
    if (fate)
        return "marked";
    return "seg";
}

static double lane_x(int side)
{
    return side == LADDER_A ? X_A : X_B;
}

/* Where an arrival at t is drawn: on the first drawn row at t, or between
 * the rows before and after t (the gap's line when t falls among the rows
 * left out; the end when no row follows).
 * Arrivals at the same instant as rows of that instant take those rows in
 * turn, as the receiver handled them, so a burst fans out instead of
 * converging on one point. */
static double arrival_y(struct item *it, size_t n, synack_time_t t)
{
    size_t lo = 0, hi = n; /* first drawn row with time >= t (rows sorted) */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2, k = mid;
        while (k < hi && !it[k].r)
            k++;
        if (k == hi) {
            hi = mid;
            continue;
        }
        if (it[k].r->t >= t)
            hi = mid;
        else
            lo = k + 1;
    }
    while (lo < n && !it[lo].r)
        lo++;
    if (lo == n)
        return n ? it[n - 1].y + ROW_H : TOP;
    if (it[lo].r->t > t) {
        if (lo == 0)
            return it[lo].y;
        if (!it[lo - 1].r) /* among the rows left out */
            return it[lo - 1].y;
        /* between two rows: placed by time, at least half a row down */
        const struct srow *p = it[lo - 1].r, *q = it[lo].r;
        double frac = (double)(t - p->t) / (double)(q->t - p->t);
        return it[lo - 1].y + (frac > 0.5 ? frac : 0.5) * ROW_H;
    }
    size_t k = lo + it[lo].arrivals++;
    size_t last = lo;
    while (last + 1 < n && it[last + 1].r && it[last + 1].r->t == t && last < k)
        last++;
    return it[last].y;
}

static void put_cross(FILE *f, double x, double y, const char *cls)
{
    fprintf(f,
            "<path d=\"M%.1f %.1fl10 10m0 -10l-10 10\" class=\"cross %s\"/>\n",
            x - 5, y - 5, cls);
}

static void put_segment(FILE *f, const struct item *it, size_t i)
{
    const struct srow *r = it[i].r;
    char tb[32], ta[32];
    int from = r->side & 1;
    double x0 = lane_x(from), y0 = it[i].y;
    double x1 = lane_x(!from), y1 = y0;
    int lost = (r->fate & (LADDER_LOST | LADDER_QDROP)) != 0;
    int drop = r->kind == LSVG_DROP;
    const char *cls = drop ? "lost" : seg_class(r->fate, r->flags);
    if (drop) { /* a stub into the receiver, which discards it */
        from = !(r->side & 1);
        x1 = lane_x(!from);
        x0 = from == LADDER_A ? x1 - DROP_STUB : x1 + DROP_STUB;
    } else if (r->arrived) {
        y1 = it[i].y_arr;
    } else if (lost) {
        x1 = (x0 + x1) / 2;
        y1 = y0 + ROW_H / 2.0;
    }
    /* stop short of the lifeline so the head stays visible */
    double dx = x1 - x0, dy = y1 - y0;
    fprintf(f, "<g class=\"segrow %s\" data-row=\"%lu\" data-from=\"%c\">", cls,
            r->num, from == LADDER_A ? 'A' : 'B');
    if (drop)
        fprintf(f, "<title>row %lu: %c discards a segment from %c at %s s",
                r->num, from == LADDER_A ? 'B' : 'A',
                from == LADDER_A ? 'A' : 'B',
                ladder_fmt_time(r->t, tb, sizeof tb));
    else
        fprintf(f, "<title>row %lu: %c to %c, sent %s s", r->num,
                from == LADDER_A ? 'A' : 'B', from == LADDER_A ? 'B' : 'A',
                ladder_fmt_time(r->t, tb, sizeof tb));
    if (r->arrived)
        fprintf(f, ", arrived %s s", ladder_fmt_time(r->t_arr, ta, sizeof ta));
    fputs(": ", f);
    tool_xml_esc(f, r->label);
    if (r->note[0]) {
        fputs(" (", f);
        tool_xml_esc(f, r->note);
        fputs(")", f);
    }
    fputs("</title>\n", f);
    fprintf(f,
            "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
            "class=\"arrow %s\"%s/>\n",
            x0, y0, x1, y1, cls,
            lost || drop ? "" : " marker-end=\"url(#head)\"");
    if (lost || drop)
        put_cross(f, x1, y1, cls);
    /* the label along the arrow, from the sender's end */
    double ang = 0;
    if (dx != 0) {
        double slope = dy / (dx < 0 ? -dx : dx);
        /* atan without libm: good to a tenth of a degree below 60 */
        double a = slope < 0 ? -slope : slope, deg;
        if (a <= 1)
            deg = 57.29578 * a / (1 + 0.28125 * a * a);
        else
            deg = 90 - 57.29578 * (1 / a) / (1 + 0.28125 / (a * a));
        ang = slope < 0 ? -deg : deg;
    }
    if (dx < 0)
        ang = -ang;
    double lx = from == LADDER_A ? x0 + 16 : x0 - 16;
    double ly =
        y0 - 4 +
        (from == LADDER_A ? 16 : -16) * (dx ? dy / (dx < 0 ? -dx : dx) : 0);
    const char *anchor = from == LADDER_A ? "start" : "end";
    if (drop) { /* the label before the stub */
        lx = from == LADDER_A ? x0 - 8 : x0 + 8;
        ly = y0 + 4;
        anchor = from == LADDER_A ? "end" : "start";
    }
    fprintf(f,
            "<text x=\"%.1f\" y=\"%.1f\" class=\"label %s\" "
            "text-anchor=\"%s\" transform=\"rotate(%.2f %.1f %.1f)\">",
            lx, ly, cls, anchor, ang, lx, ly);
    tool_xml_esc(f, r->label);
    fputs("</text>\n", f);
    if (r->note[0])
        put_text(f, X_NOTE, y0 + 4, cls, NULL, r->note);
    fputs("</g>\n", f);
}

static void put_style(FILE *f)
{
    fputs("<style>\n"
          "text { font-family: 'DejaVu Sans Mono', monospace; font-size: 12px;"
          " fill: #222; }\n"
          ".num, .time { fill: #555; }\n"
          ".head { font-family: 'DejaVu Sans', sans-serif; font-size: 15px;"
          " font-weight: bold; }\n"
          ".title { font-family: 'DejaVu Sans', sans-serif; font-size: 13px;"
          " fill: #444; }\n"
          ".state { font-weight: bold; }\n"
          ".cause { fill: #444; font-style: italic; }\n"
          ".gap { fill: #777; font-style: italic; }\n"
          ".note { fill: #6a3d9a; }\n"
          ".lifeline { stroke: #222; stroke-width: 1.5; }\n"
          ".axis { stroke: #888; stroke-width: 1; }\n"
          ".band { stroke: #444; stroke-width: 0.8; }\n"
          ".stripe { fill: #f4f6f8; }\n"
          ".arrow { stroke-width: 1.6; stroke: #1f4e9c; }\n"
          "text.seg { fill: #1f4e9c; }\n"
          ".arrow.rexmit { stroke: #d35400; } text.rexmit { fill: #b34700; }\n"
          ".arrow.lost { stroke: #c0392b; stroke-dasharray: 6 3; }"
          " text.lost { fill: #c0392b; }\n"
          ".cross { stroke-width: 3; stroke: #c0392b; fill: none; }\n"
          ".arrow.ka { stroke: #138d75; } text.ka { fill: #117864; }\n"
          ".arrow.odd { stroke: #8e44ad; } text.odd { fill: #8e44ad; }\n"
          ".arrow.rst { stroke: #000; stroke-width: 2.2; }"
          " text.rst { fill: #000; font-weight: bold; }\n"
          ".arrow.marked { stroke: #7d6608; } text.marked { fill: #7d6608; }\n"
          "</style>\n",
          f);
}

static void put_defs(FILE *f)
{
    /* context-stroke is not everywhere yet: one head per colour would be
     * exact; a dark head reads well on every arrow colour */
    fputs("<defs><marker id=\"head\" viewBox=\"0 0 10 10\" refX=\"10\" "
          "refY=\"5\" markerWidth=\"9\" markerHeight=\"9\" "
          "orient=\"auto-start-reverse\" markerUnits=\"userSpaceOnUse\">"
          "<path d=\"M0 0L10 5L0 10z\" fill=\"#333\"/></marker></defs>\n",
          f);
}

/* The state bands of one side: a run of rows with the same state is one
 * band, its name written where it starts. */
static void put_bands(FILE *f, const struct item *it, size_t n, int side)
{
    size_t i = 0;
    while (i < n) {
        if (!it[i].r) {
            i++;
            continue;
        }
        int st = it[i].r->st[side];
        size_t j = i + 1;
        while (j < n && (!it[j].r || it[j].r->st[side] == st))
            j++;
        if (st >= 0) {
            double y0 = it[i].y - ROW_H / 2.0;
            double y1 = (j < n ? it[j].y : it[n - 1].y + ROW_H) - ROW_H / 2.0;
            double x = lane_x(side);
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" "
                    "fill=\"%s\" class=\"band\" data-side=\"%c\" "
                    "data-state=\"%s\"/>\n",
                    x - BAND_W / 2.0, y0, BAND_W, y1 - y0, state_fill(st),
                    side == LADDER_A ? 'A' : 'B', state_name(st));
            put_text(f, side == LADDER_A ? x - STATE_GAP : x + STATE_GAP,
                     it[i].y + 4, "state", side == LADDER_A ? "end" : "start",
                     state_name(st));
        }
        i = j;
    }
}

static int write_doc(struct lsvg *s, const struct item *it, size_t n)
{
    FILE *f = s->out;
    double height = TOP + (double)(n ? n : 1) * ROW_H + 40;
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%.0f\" viewBox=\"0 0 %d %.0f\">\n",
            WIDTH, height, WIDTH, height);
    fputs("<title>TCP ladder diagram (synack)</title>\n", f);
    put_style(f);
    put_defs(f);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n");
    for (size_t i = 0; i < n; i += 2)
        fprintf(f,
                "<rect x=\"0\" y=\"%.1f\" width=\"%d\" height=\"%d\" "
                "class=\"stripe\"/>\n",
                it[i].y - ROW_H / 2.0, WIDTH, ROW_H);
    /* heads */
    put_text(f, X_NUM, TOP - 30, "title", "end", "row");
    put_text(f, X_TIME, TOP - 30, "title", "end", "time (s)");
    for (int side = 0; side < 2; side++) {
        double x = lane_x(side);
        fprintf(f,
                "<rect x=\"%.1f\" y=\"14\" width=\"120\" height=\"30\" "
                "rx=\"5\" fill=\"#eef2f7\" stroke=\"#222\" "
                "stroke-width=\"1.5\"/>\n",
                x - 60);
        put_text(f, x, 35, "head", "middle", s->name[side]);
    }
    put_text(f, X_NOTE, TOP - 30, "title", NULL, "notes");
    double yend = TOP + (double)n * ROW_H + 10;
    fprintf(
        f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%.1f\" class=\"axis\"/>\n",
        X_AXIS, TOP - 8, X_AXIS, yend);
    put_bands(f, it, n, LADDER_A);
    put_bands(f, it, n, LADDER_B);
    for (int side = 0; side < 2; side++) /* over the bands */
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"44\" x2=\"%.1f\" y2=\"%.1f\" "
                "class=\"lifeline\" data-side=\"%c\"/>\n",
                lane_x(side), lane_x(side), yend, side == LADDER_A ? 'A' : 'B');
    for (size_t i = 0; i < n; i++) {
        char nb[24], tb[32];
        double y = it[i].y;
        if (!it[i].r) {
            snprintf(nb, sizeof nb, "%lu", it[i].gap);
            char text[120];
            snprintf(text, sizeof text,
                     "... %lu row%s left out (--ladder full shows every "
                     "row) ...",
                     it[i].gap, it[i].gap == 1 ? "" : "s");
            put_text(f, (X_A + X_B) / 2.0, y + 4, "gap", "middle", text);
            continue;
        }
        const struct srow *r = it[i].r;
        fprintf(f,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
                "class=\"axis\"/>\n",
                X_AXIS - 4, y, X_AXIS, y);
        snprintf(nb, sizeof nb, "%lu.", r->num);
        put_text(f, X_NUM, y + 4, "num", "end", nb);
        put_text(f, X_TIME, y + 4, "time", "end",
                 ladder_fmt_time(r->t, tb, sizeof tb));
        switch (r->kind) {
        case LSVG_SEG:
        case LSVG_DROP:
            put_segment(f, it, i);
            break;
        case LSVG_STATE:
        case LSVG_NOTE: {
            const char *cls = r->kind == LSVG_STATE ? "cause" : "note";
            if (r->side == LADDER_A)
                put_text(f, X_A + 12, y + 4, cls, "start", r->label);
            else if (r->side == LADDER_B)
                put_text(f, X_B - 12, y + 4, cls, "end", r->label);
            else if (r->label[0])
                put_text(f, (X_A + X_B) / 2.0, y + 4, cls, "middle", r->label);
            break;
        }
        }
    }
    if (!n)
        put_text(f, (X_A + X_B) / 2.0, TOP + 4, "gap", "middle",
                 "(no segments)");
    fputs("</svg>\n", f);
    fflush(f);
    return ferror(f) ? -1 : 0;
}

int lsvg_finish(struct lsvg *s)
{
    /* merge the kept rows with the ring by row number, gaps between */
    size_t nk = s->n + s->ring_len;
    struct item *it = calloc(2 * nk + 1, sizeof *it);
    if (!it)
        return -1;
    size_t n = 0, a = 0, b = 0;
    unsigned long last_ord = 0;
    while (a < s->n || b < s->ring_len) {
        const struct srow *ra = a < s->n ? &s->rows[a] : NULL;
        const struct srow *rb =
            b < s->ring_len ? &s->ring[(s->ring_head + b) % s->tail] : NULL;
        const struct srow *r;
        if (ra && (!rb || ra->num < rb->num)) {
            r = ra;
            a++;
        } else {
            r = rb;
            b++;
        }
        unsigned long before = r->sticky ? r->ord : r->ord - 1;
        if (before > last_ord) { /* rows left out just before this one */
            it[n].r = NULL;
            it[n].gap = before - last_ord;
            n++;
            last_ord = before;
        }
        if (!r->sticky)
            last_ord = r->ord;
        it[n++].r = r;
    }
    if (s->nomit > last_ord) {
        it[n].r = NULL;
        it[n].gap = s->nomit - last_ord;
        n++;
    }
    for (size_t i = 0; i < n; i++)
        it[i].y = TOP + (double)i * ROW_H + ROW_H / 2.0;
    for (size_t i = 0; i < n; i++)
        if (it[i].r && it[i].r->kind == LSVG_SEG && it[i].r->arrived)
            it[i].y_arr = arrival_y(it, n, it[i].r->t_arr);
    int rc = write_doc(s, it, n);
    free(it);
    return rc;
}
