/*
 * Time-sequence and congestion plots as SVG (see tsplot.h).
 */
#include "tsplot.h"
#include "textesc.h"

#include <stdlib.h>
#include <string.h>

#define W 1000
#define PX0 100 /* plot area */
#define PX1 960
#define REC_MAX 2000000     /* segments kept per side by the recorder */
#define CC_VALUES_MAX 20000 /* samples written as data-v */
#define DENSE 20000 /* data segments from which bars in a column merge */

/* ---- axes ------------------------------------------------------------------ */

struct axis {
    double lo, hi, step;
    double p0, p1; /* pixels of lo and hi */
};

static double nice_step(double range, int ticks)
{
    double raw = range / ticks, mag = 1;
    if (raw <= 0)
        return 1;
    while (mag * 10 <= raw)
        mag *= 10;
    while (mag > raw)
        mag /= 10;
    static const double m[] = { 1, 2, 5, 10 };
    for (int i = 0; i < 4; i++)
        if (mag * m[i] >= raw)
            return mag * m[i];
    return mag * 10;
}

static void axis_init(struct axis *a, double lo, double hi, double p0,
                      double p1, int ticks)
{
    if (hi <= lo)
        hi = lo + 1;
    a->step = nice_step(hi - lo, ticks);
    /* round the ends out to whole steps */
    double l = (double)(long long)(lo / a->step) * a->step;
    if (l > lo)
        l -= a->step;
    double h = (double)(long long)(hi / a->step) * a->step;
    if (h < hi)
        h += a->step;
    a->lo = l;
    a->hi = h;
    a->p0 = p0;
    a->p1 = p1;
}

static double ax(const struct axis *a, double v)
{
    return a->p0 + (v - a->lo) / (a->hi - a->lo) * (a->p1 - a->p0);
}

static int decimals(double step)
{
    int d = 0;
    while (step < 0.999 && d < 6) {
        step *= 10;
        d++;
    }
    return d;
}

/* "1.5M", "200k", "35" */
static void fmt_bytes(double v, double step, double hi, char *buf, size_t len)
{
    if (hi >= 1e6)
        snprintf(buf, len, "%.*fM", decimals(step / 1e6), v / 1e6);
    else if (hi >= 1e4)
        snprintf(buf, len, "%.*fk", decimals(step / 1e3), v / 1e3);
    else
        snprintf(buf, len, "%.0f", v);
}

static void fmt_plain(double v, double step, double hi, char *buf, size_t len)
{
    (void)hi;
    snprintf(buf, len, "%.*f", decimals(step), v);
}

typedef void (*fmt_fn)(double v, double step, double hi, char *buf, size_t len);

static void doc_begin(FILE *f, int h, const char *title)
{
    fprintf(f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
            "height=\"%d\" viewBox=\"0 0 %d %d\">\n<title>",
            W, h, W, h);
    tool_xml_esc(f, title);
    fputs("</title>\n<style>\n"
          "text { font-family: 'DejaVu Sans', sans-serif; font-size: 12px;"
          " fill: #222; }\n"
          ".title { font-size: 15px; font-weight: bold; }\n"
          ".grid { stroke: #e4e4e4; stroke-width: 1; }\n"
          ".frame { stroke: #333; stroke-width: 1.2; fill: none; }\n"
          ".data { stroke: #1f4e9c; stroke-width: 2; }\n"
          ".rexmit { stroke: #d62728; stroke-width: 2.5; }\n"
          ".rexmit-mark { stroke: #d62728; stroke-width: 1.5; fill: none; }\n"
          ".ack { stroke: #2a9d3a; stroke-width: 1.4; fill: none; }\n"
          ".wnd { stroke: #c79100; stroke-width: 1.2; fill: none;"
          " stroke-dasharray: 5 3; }\n"
          ".sack { stroke: #9b59b6; stroke-width: 3; }\n"
          ".cwnd { stroke: #1f4e9c; stroke-width: 1.6; fill: none; }\n"
          ".inflight { stroke: #e67e22; stroke-width: 1.2; fill: none; }\n"
          ".srtt { stroke: #2a9d3a; stroke-width: 1.6; fill: none; }\n"
          ".legend { fill: #fff; fill-opacity: 0.9; stroke: #999; }\n"
          "</style>\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n",
          f);
    fprintf(f, "<text x=\"%d\" y=\"26\" class=\"title\">", PX0);
    tool_xml_esc(f, title);
    fputs("</text>\n", f);
}

/* Grid, frame, ticks and the axis titles of one panel. */
static void put_axes(FILE *f, const struct axis *x, const struct axis *y,
                     fmt_fn yfmt, const char *xtitle, const char *ytitle,
                     int xlabels)
{
    char b[48];
    double top = y->p1, bot = y->p0;
    for (double v = x->lo; v <= x->hi + x->step / 2; v += x->step) {
        double px = ax(x, v);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "class=\"grid\"/>\n",
                px, top, px, bot);
        if (xlabels) {
            fmt_plain(v, x->step, x->hi, b, sizeof b);
            fprintf(f,
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                    "class=\"tick\">%s</text>\n",
                    px, bot + 16, b);
        }
    }
    for (double v = y->lo; v <= y->hi + y->step / 2; v += y->step) {
        double py = ax(y, v);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "class=\"grid\"/>\n",
                x->p0, py, x->p1, py);
        yfmt(v, y->step, y->hi, b, sizeof b);
        fprintf(f,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                "class=\"tick\">%s</text>\n",
                x->p0 - 6, py + 4, b);
    }
    fprintf(f,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
            "class=\"frame\"/>\n",
            x->p0, top, x->p1 - x->p0, bot - top);
    if (xtitle)
        fprintf(f,
                "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                "class=\"axis-title\">%s</text>\n",
                (x->p0 + x->p1) / 2, bot + 36, xtitle);
    fprintf(f,
            "<text x=\"0\" y=\"0\" text-anchor=\"middle\" class=\"axis-title\" "
            "transform=\"translate(%.1f %.1f) rotate(-90)\">%s</text>\n",
            x->p0 - 66, (top + bot) / 2, ytitle);
}

/* A legend box at the top left of a panel: n entries (class, text, kind:
 * 'l' a line, 'b' a bar). */
static void put_legend(FILE *f, double x, double y, int n,
                       const char *const *cls, const char *const *text)
{
    double w = 0;
    for (int i = 0; i < n; i++) {
        double tw = 7.0 * (double)strlen(text[i]);
        if (tw > w)
            w = tw;
    }
    fprintf(f,
            "<g class=\"legend-box\"><rect x=\"%.1f\" y=\"%.1f\" "
            "width=\"%.1f\" height=\"%d\" class=\"legend\"/>\n",
            x, y, w + 56, 10 + 18 * n);
    for (int i = 0; i < n; i++) {
        double yy = y + 16 + 18 * i;
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                "class=\"%s\"/><text x=\"%.1f\" y=\"%.1f\">",
                x + 10, yy - 4, x + 40, yy - 4, cls[i], x + 48, yy);
        tool_xml_esc(f, text[i]);
        fputs("</text>\n", f);
    }
    fputs("</g>\n", f);
}

static int doc_end(FILE *f)
{
    fputs("</svg>\n", f);
    fflush(f);
    return ferror(f) ? -1 : 0;
}

/* ---- polylines, thinned to what a pixel column can show ------------------- */

/* Points falling in one half-pixel column are reduced to the first, the
 * lowest, the highest and the last: the same picture, a fraction of the
 * size on long runs. */
struct pw {
    FILE *f;
    int started, n;
    double col, cx, first, lo, hi, last;
};

static void pw_emit(struct pw *w, double x, double y)
{
    fprintf(w->f, "%s%.2f,%.2f", w->started ? " " : "", x, y);
    w->started = 1;
}

static void pw_flush(struct pw *w)
{
    if (!w->n)
        return;
    pw_emit(w, w->cx, w->first);
    if (w->n > 1) {
        if (w->lo != w->first && w->lo != w->last)
            pw_emit(w, w->cx, w->lo);
        if (w->hi != w->first && w->hi != w->last)
            pw_emit(w, w->cx, w->hi);
        pw_emit(w, w->cx, w->last);
    }
    w->n = 0;
}

static void pw_point(struct pw *w, double x, double y)
{
    double col = (double)(long long)(x * 2 + 0.5);
    if (w->n && col == w->col) {
        if (y < w->lo)
            w->lo = y;
        if (y > w->hi)
            w->hi = y;
        w->last = y;
        w->n++;
        return;
    }
    pw_flush(w);
    w->col = col;
    w->cx = x;
    w->first = w->lo = w->hi = w->last = y;
    w->n = 1;
}

/* ---- time-sequence -------------------------------------------------------- */

void tsplot_bytes(const struct tsp_seg *s, size_t n, uint64_t bytes[2])
{
    bytes[0] = bytes[1] = 0;
    for (size_t i = 0; i < n; i++)
        bytes[s[i].from & 1] += s[i].seg.len;
}

/* Sequence numbers relative to an ISN, unwrapped past 4 GiB. */
struct unwrap {
    uint32_t isn;
    int64_t last;
};

static int64_t rel(struct unwrap *u, uint32_t v)
{
    uint32_t r = v - u->isn;
    u->last += (int32_t)(r - (uint32_t)u->last);
    return u->last;
}

static double secs(synack_time_t t, synack_time_t t0)
{
    return t >= t0 ? (double)(t - t0) / 1e9 : -(double)(t0 - t) / 1e9;
}

/* A data bar, or several that continue each other in one pixel column. */
struct bar {
    double px, t;
    int64_t lo, hi;
    unsigned n;
};

static void put_bar(FILE *f, const struct bar *b, const struct axis *x,
                    const struct axis *y, int rexmit)
{
    (void)x;
    if (!b->n)
        return;
    fprintf(f,
            "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
            "class=\"%s\" data-t=\"%.6f\" data-seq=\"%lld\" "
            "data-len=\"%lld\"",
            b->px, ax(y, (double)b->lo), b->px, ax(y, (double)b->hi),
            rexmit ? "rexmit" : "data", b->t, (long long)b->lo,
            (long long)(b->hi - b->lo));
    if (b->n > 1)
        fprintf(f, " data-n=\"%u\"", b->n);
    fputs("/>\n", f);
    if (rexmit) /* a ring to find it among the data */
        fprintf(f,
                "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"4\" "
                "class=\"rexmit-mark\"/>\n",
                b->px, ax(y, (double)(b->lo + b->hi) / 2.0));
}

int tsplot_tseq(FILE *f, const struct tsp_seg *s, size_t n, int dir,
                synack_time_t t0, const char *title)
{
    dir &= 1;
    /* the sender's ISN and the window scale of the receiver's SYN */
    int have_isn = 0, ws_me = -1, ws_peer = -1;
    uint32_t isn = 0;
    for (size_t i = 0; i < n; i++) {
        const synack_seg *g = &s[i].seg;
        if (g->flags & SYNACK_TH_SYN) {
            if (s[i].from == dir) {
                isn = g->seq;
                have_isn = 1;
                ws_me = g->has_ws ? g->ws : -1;
            } else {
                ws_peer = g->has_ws ? g->ws : -1;
            }
        }
    }
    if (!have_isn)
        for (size_t i = 0; i < n; i++)
            if (s[i].from == dir) {
                isn = s[i].seg.seq;
                break;
            }
    unsigned shift = ws_me >= 0 && ws_peer >= 0 ? (unsigned)ws_peer : 0;

    /* ranges */
    struct unwrap us = { isn, 0 }, ua = { isn, 0 };
    double tmax = 0, ymin = 0, ymax = 1;
    synack_time_t tlast = t0;
    for (size_t i = 0; i < n; i++) {
        const synack_seg *g = &s[i].seg;
        if (s[i].t > tlast)
            tlast = s[i].t;
        if (s[i].from == dir) {
            int64_t a = rel(&us, g->seq);
            if ((double)a + g->len > ymax)
                ymax = (double)a + g->len;
            if ((double)a < ymin)
                ymin = (double)a;
        } else if (g->flags & SYNACK_TH_ACK && !(g->flags & SYNACK_TH_RST)) {
            int64_t a = rel(&ua, g->ack);
            double edge = (double)a +
                          (double)((uint64_t)g->wnd
                                   << ((g->flags & SYNACK_TH_SYN) ? 0 : shift));
            if (edge > ymax)
                ymax = edge;
            if ((double)a < ymin)
                ymin = (double)a;
        }
    }
    tmax = secs(tlast, t0);
    struct axis x, y;
    axis_init(&x, 0, tmax > 0 ? tmax : 0.001, PX0, PX1, 10);
    axis_init(&y, ymin, ymax, 560, 60, 8);

    doc_begin(f, 620, title);
    fprintf(f, "<g class=\"plot\" data-tmax=\"%.6f\" data-dir=\"%c\">\n", tmax,
            dir ? 'B' : 'A');
    put_axes(f, &x, &y, fmt_bytes, "time (s)",
             "sequence number relative to the ISN (bytes)", 1);

    /* data and retransmissions; on long runs (DENSE) the data bars that
     * continue each other in one pixel column are drawn as one */
    size_t ndata = 0, nrex = 0, nsack = 0, nack = 0, nfrom = 0;
    for (size_t i = 0; i < n; i++)
        nfrom += s[i].from == dir && s[i].seg.len;
    for (int pass = 0; pass < 2; pass++) {
        fprintf(f, "<g class=\"series\" id=\"%s\">\n",
                pass ? "retransmissions" : "data");
        us = (struct unwrap){ isn, 0 };
        int64_t snd_max = 0;
        int max_known = 0;
        struct bar b = { 0 };
        for (size_t i = 0; i < n; i++) {
            const synack_seg *g = &s[i].seg;
            if (s[i].from != dir)
                continue;
            int64_t a = rel(&us, g->seq);
            int64_t end = a + g->len + !!(g->flags & SYNACK_TH_SYN) +
                          !!(g->flags & SYNACK_TH_FIN);
            int rx =
                s[i].retrans >= 0 ? s[i].retrans : max_known && a < snd_max;
            if (!max_known || end > snd_max) {
                snd_max = end;
                max_known = 1;
            }
            if (!g->len || rx != pass)
                continue;
            double px = ax(&x, secs(s[i].t, t0));
            if (pass) {
                nrex++;
            } else {
                ndata++;
                if (nfrom > DENSE && b.n && (int)(px * 2) == (int)(b.px * 2) &&
                    a == b.hi) {
                    b.hi = a + g->len;
                    b.n++;
                    continue;
                }
            }
            put_bar(f, &b, &x, &y, pass);
            b = (struct bar){ px, secs(s[i].t, t0), a, a + g->len, 1 };
        }
        put_bar(f, &b, &x, &y, pass);
        fputs("</g>\n", f);
    }

    /* the receiver: ACK and window edge as steps, SACK blocks */
    for (int pass = 0; pass < 2; pass++) {
        ua = (struct unwrap){ isn, 0 };
        int started = 0;
        double last = 0;
        struct pw w = { f, 0, 0, 0, 0, 0, 0, 0, 0 };
        fprintf(f, "<polyline class=\"%s\" id=\"%s\" points=\"",
                pass ? "wnd" : "ack", pass ? "window" : "acks");
        for (size_t i = 0; i < n; i++) {
            const synack_seg *g = &s[i].seg;
            if (s[i].from == dir || !(g->flags & SYNACK_TH_ACK) ||
                (g->flags & SYNACK_TH_RST))
                continue;
            int64_t a = rel(&ua, g->ack);
            double v = (double)a;
            if (pass)
                v += (double)((uint64_t)g->wnd
                              << ((g->flags & SYNACK_TH_SYN) ? 0 : shift));
            double px = ax(&x, secs(s[i].t, t0));
            if (started)
                pw_point(&w, px, ax(&y, last));
            pw_point(&w, px, ax(&y, v));
            started = 1;
            last = v;
            if (!pass)
                nack++;
        }
        pw_flush(&w);
        fputs("\"/>\n", f);
    }
    fputs("<g class=\"series\" id=\"sack\">\n", f);
    ua = (struct unwrap){ isn, 0 };
    for (size_t i = 0; i < n; i++) {
        if (s[i].from == dir)
            continue;
        rel(&ua, s[i].seg.ack); /* keeps the unwrapping near */
        double px = ax(&x, secs(s[i].t, t0)) + 2;
        for (unsigned k = 0; k < s[i].nsack && k < CAP_MAX_SACK; k++) {
            struct unwrap u2 = ua;
            int64_t l = rel(&u2, s[i].sack[k][0]);
            int64_t r = rel(&u2, s[i].sack[k][1]);
            fprintf(f,
                    "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" "
                    "class=\"sack\"/>\n",
                    px, ax(&y, (double)l), px, ax(&y, (double)r));
            nsack++;
        }
    }
    fputs("</g>\n", f);
    char l0[64], l1[64], l2[64], l3[64], l4[80];
    snprintf(l0, sizeof l0, "data sent by %c (%zu)", dir ? 'B' : 'A', ndata);
    snprintf(l1, sizeof l1, "retransmissions (%zu)", nrex);
    snprintf(l2, sizeof l2, "ACK from %c (%zu)", dir ? 'A' : 'B', nack);
    snprintf(l3, sizeof l3, "SACK blocks (%zu)", nsack);
    snprintf(l4, sizeof l4, "window edge: ACK + WND%s", shift ? " << WS" : "");
    const char *cls[] = { "data", "rexmit", "ack", "sack", "wnd" };
    const char *txt[] = { l0, l1, l2, l3, l4 };
    put_legend(f, PX0 + 10, 70, 5, cls, txt);
    fputs("</g>\n", f);
    return doc_end(f);
}

/* ---- congestion ------------------------------------------------------------ */

/* The value a series plots: cwnd (0), bytes in flight (1) or the smoothed
 * RTT in ms (2). */
static double cc_value(const struct tsp_cc *c, int which)
{
    return which == 0   ? (double)c->cwnd
           : which == 1 ? (double)c->inflight
                        : c->srtt_us / 1000.0;
}

static void put_series(FILE *f, const char *cls, const struct tsp_cc *c,
                       size_t n, synack_time_t t0, const struct axis *x,
                       const struct axis *y, int which, int step)
{
    fprintf(f, "<polyline class=\"%s\" id=\"%s\" points=\"", cls, cls);
    double last = 0;
    int first = 1;
    struct pw w = { f, 0, 0, 0, 0, 0, 0, 0, 0 };
    /* no RTT before the first measurement */
#define SKIP(i) (which == 2 && !c[i].srtt_us)
    for (size_t i = 0; i < n; i++) {
        if (SKIP(i))
            continue;
        double v = cc_value(&c[i], which);
        double px = ax(x, secs(c[i].t, t0));
        if (!first && step)
            pw_point(&w, px, ax(y, last));
        pw_point(&w, px, ax(y, v));
        last = v;
        first = 0;
    }
    pw_flush(&w);
    /* the values themselves, for tools and tests: "t,v t,v ..." (not on
     * long runs: the picture is thinned, these would not be) */
    fputs("\"", f);
    if (n > CC_VALUES_MAX) {
        fputs("/>\n", f);
        return;
    }
    fputs(" data-v=\"", f);
    first = 1;
    for (size_t i = 0; i < n; i++) {
        if (SKIP(i))
            continue;
        double v = cc_value(&c[i], which);
        fprintf(f, "%s%.6f,%.3f", first ? "" : " ", secs(c[i].t, t0), v);
        first = 0;
    }
#undef SKIP
    fputs("\"/>\n", f);
}

int tsplot_cc(FILE *f, const struct tsp_cc *c, size_t n, synack_time_t t0,
              synack_time_t t1, const char *title)
{
    double ymax = 1, rmax = 0.001;
    for (size_t i = 0; i < n; i++) {
        if (c[i].cwnd > ymax)
            ymax = c[i].cwnd;
        if (c[i].inflight > ymax)
            ymax = c[i].inflight;
        if (c[i].srtt_us / 1000.0 > rmax)
            rmax = c[i].srtt_us / 1000.0;
    }
    double tmax = secs(t1, t0);
    struct axis x, y, r;
    axis_init(&x, 0, tmax > 0 ? tmax : 0.001, PX0, PX1, 10);
    axis_init(&y, 0, ymax, 400, 60, 6);
    axis_init(&r, 0, rmax, 640, 450, 3);
    doc_begin(f, 700, title);
    fprintf(f, "<g class=\"plot\" data-tmax=\"%.6f\">\n", tmax);
    put_axes(f, &x, &y, fmt_bytes, NULL, "bytes", 0);
    put_series(f, "cwnd", c, n, t0, &x, &y, 0, 1);
    put_series(f, "inflight", c, n, t0, &x, &y, 1, 1);
    put_axes(f, &x, &r, fmt_plain, "time (s)", "smoothed RTT (ms)", 1);
    put_series(f, "srtt", c, n, t0, &x, &r, 2, 0);
    const char *cls[] = { "cwnd", "inflight" };
    const char *txt[] = { "congestion window (cwnd)", "bytes in flight" };
    put_legend(f, PX0 + 10, 70, 2, cls, txt);
    const char *cls2[] = { "srtt" };
    const char *txt2[] = { "smoothed RTT (srtt)" };
    put_legend(f, PX0 + 10, 458, 1, cls2, txt2);
    fputs("</g>\n", f);
    return doc_end(f);
}

/* ---- recorder ----------------------------------------------------------- */

struct vec {
    void *p;
    size_t n, cap, size;
};

static void *vec_push(struct vec *v)
{
    if (v->n == v->cap) {
        size_t nc = v->cap ? v->cap * 2 : 256;
        void *np = realloc(v->p, nc * v->size);
        if (!np)
            return NULL;
        v->p = np;
        v->cap = nc;
    }
    return (char *)v->p + v->size * v->n++;
}

struct tsrec {
    struct vec seg[2]; /* struct tsp_seg, seen at side i */
    struct vec cc[2];  /* struct tsp_cc of side i's connection */
    int full[2];
    synack_time_t tmax;
};

struct tsrec *tsrec_new(void)
{
    struct tsrec *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    for (int i = 0; i < 2; i++) {
        r->seg[i].size = sizeof(struct tsp_seg);
        r->cc[i].size = sizeof(struct tsp_cc);
    }
    return r;
}

void tsrec_free(struct tsrec *r)
{
    if (!r)
        return;
    for (int i = 0; i < 2; i++) {
        free(r->seg[i].p);
        free(r->cc[i].p);
    }
    free(r);
}

void tsrec_frame(struct tsrec *r, int side, int tx, synack_time_t t,
                 const uint8_t *frame, size_t len, int retrans)
{
    struct cap_pkt p;
    side &= 1;
    if (len < 14 || frame[12] != 0x08 || frame[13] != 0x00 ||
        !capread_ipv4(frame + 14, len - 14, &p))
        return;
    if (t > r->tmax)
        r->tmax = t;
    if (r->seg[side].n >= REC_MAX) {
        r->full[side] = 1;
        return;
    }
    struct tsp_seg *s = vec_push(&r->seg[side]);
    if (!s)
        return;
    memset(s, 0, sizeof *s);
    s->t = t;
    s->from = tx ? side : !side;
    s->retrans = tx ? !!retrans : -1;
    s->seg = p.seg;
    s->nsack = p.nsack;
    memcpy(s->sack, p.sack, sizeof s->sack);
}

void tsrec_cc(struct tsrec *r, int side, synack_time_t t,
              const synack_conn_info *ci)
{
    side &= 1;
    if (r->cc[side].n >= REC_MAX)
        return;
    struct tsp_cc *c = vec_push(&r->cc[side]);
    if (!c)
        return;
    c->t = t;
    c->cwnd = ci->cwnd;
    c->inflight = ci->inflight;
    c->srtt_us = ci->rtt_us;
}

static FILE *open_out(const char *prefix, const char *suffix, char *path,
                      size_t plen, char *err, size_t errlen)
{
    snprintf(path, plen, "%s%s", prefix, suffix);
    FILE *f = fopen(path, "w");
    if (!f)
        snprintf(err, errlen, "cannot open %s for writing", path);
    return f;
}

int tsrec_write(struct tsrec *r, const char *prefix, const char *what,
                char *err, size_t errlen)
{
    /* the direction with more data, each seen from its own sender */
    uint64_t ba[2], bb[2];
    tsplot_bytes(r->seg[0].p, r->seg[0].n, ba);
    tsplot_bytes(r->seg[1].p, r->seg[1].n, bb);
    int dir = bb[1] > ba[0] ? 1 : 0;
    const struct tsp_seg *s = r->seg[dir].p;
    size_t n = r->seg[dir].n;
    char path[4096], title[256];
    synack_time_t t0 = n ? s[0].t : 0;
    FILE *f = open_out(prefix, "-tseq.svg", path, sizeof path, err, errlen);
    if (!f)
        return -1;
    snprintf(title, sizeof title, "%s: %c to %c, seen at %c%s", what,
             dir ? 'B' : 'A', dir ? 'A' : 'B', dir ? 'B' : 'A',
             r->full[dir] ? " (truncated: too many segments)" : "");
    int rc = tsplot_tseq(f, s, n, dir, t0, title);
    if (fclose(f) != 0 || rc != 0) {
        snprintf(err, errlen, "writing %s failed", path);
        return -1;
    }
    f = open_out(prefix, "-cc.svg", path, sizeof path, err, errlen);
    if (!f)
        return -1;
    synack_time_t t1 = n ? s[n - 1].t : t0;
    const struct tsp_cc *c = r->cc[dir].p;
    if (r->cc[dir].n && c[r->cc[dir].n - 1].t > t1)
        t1 = c[r->cc[dir].n - 1].t;
    snprintf(title, sizeof title,
             "%s: congestion window, bytes in flight and RTT of %c", what,
             dir ? 'B' : 'A');
    rc = tsplot_cc(f, c, r->cc[dir].n, t0, t1, title);
    if (fclose(f) != 0 || rc != 0) {
        snprintf(err, errlen, "writing %s failed", path);
        return -1;
    }
    return 0;
}
