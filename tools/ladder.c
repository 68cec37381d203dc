/*
 * The ladder renderer (see ladder.h).
 *
 * Row layout, columns separated by blanks:
 *   number  time  state-of-A  middle  state-of-B  note
 * The middle is a segment ("--> <SEQ=..>... -->" or "<-- ... <--"), or a
 * text next to the side it concerns (state changes, drops, notes).
 *
 * LADDER_AUTO keeps every row until more than head+tail segment rows have
 * been made. Then the first `head` are printed, the last `tail` are kept
 * in a ring, and the always-shown rows made in between are kept in a list
 * with their position; ladder_finish merges them with lines saying how
 * many rows were left out.
 */
#include "ladder.h"

#include "capread.h"
#include "ladder_svg.h"

#include <stdlib.h>
#include <string.h>

#define STATE_W 12 /* strlen("SYN-RECEIVED") */
#define MID_REL 60 /* width of a segment's text, relative numbers */
#define MID_ABS 72 /* ... absolute numbers */
#define ROW_MAX 512

/* A segment row kept for later drawing: everything the text needs, taken
 * when the segment was seen (LADDER_AUTO renders only what it prints). */
struct segrec {
    synack_time_t t;
    unsigned long num;
    int st[2];
    synack_seg seg; /* seq and ack already made relative, wnd scaled */
    uint64_t wnd;
    uint8_t rel;          /* REL_* bits: which numbers are relative */
    uint8_t nsack;        /* SACK blocks, relative like the ACK */
    uint32_t sack[4][2];
    int from;
    unsigned fate;
};

struct row {
    char *text;         /* rendered row, or NULL: render `rec` */
    struct segrec rec;
    unsigned long ord; /* segment rows: 1-based ordinal; sticky: count of
                          segment rows made before it */
    int sticky;
};

struct dir {
    int isn_known;
    uint32_t isn;
    int ws_known; /* the SYN from this side carried a window scale */
    uint8_t ws;
    int max_known;
    uint32_t snd_max; /* highest sequence number sent, plus one */
};

struct ladder {
    struct ladder_config cfg;
    int state[2];
    struct dir dir[2];
    unsigned long nrows;   /* rows numbered so far */
    unsigned long nseg;    /* omittable rows made */
    unsigned long omitted; /* rows left out */
    int header_done;
    int midw;
    /* LADDER_AUTO */
    int phase2;
    struct row *buf; /* phase 1: every row; phase 2: sticky rows */
    size_t nbuf, capbuf;
    struct row *ring; /* phase 2: the last `tail` segment rows */
    size_t ring_head, ring_len;
    unsigned long printed; /* phase 2: segment ordinals handled so far */
    unsigned long gap;     /* rows left out since the last printed one */
    struct lsvg *svg;      /* cfg.svg: the SVG backend */
};

ladder *ladder_new(const struct ladder_config *cfg)
{
    ladder *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->cfg = *cfg;
    if (!l->cfg.out)
        l->cfg.out = stdout;
    if (!l->cfg.name_a)
        l->cfg.name_a = "TCP A";
    if (!l->cfg.name_b)
        l->cfg.name_b = "TCP B";
    if (l->cfg.mode == LADDER_AUTO && !l->cfg.head && !l->cfg.tail)
        l->cfg.head = l->cfg.tail = 30;
    l->midw = (l->cfg.absolute ? MID_ABS : MID_REL) + 8;
    l->state[0] = l->state[1] = -1;
    if (l->cfg.mode == LADDER_AUTO && l->cfg.tail) {
        l->ring = calloc(l->cfg.tail, sizeof *l->ring);
        if (!l->ring) {
            free(l);
            return NULL;
        }
    }
    if (l->cfg.svg) {
        unsigned h = l->cfg.head, tl = l->cfg.tail;
        if (!h && !tl)
            h = tl = 30;
        l->svg = lsvg_new(l->cfg.svg, l->cfg.mode == LADDER_FULL, h, tl,
                          l->cfg.name_a, l->cfg.name_b);
        if (!l->svg) {
            free(l->ring);
            free(l);
            return NULL;
        }
    }
    return l;
}

void ladder_free(ladder *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->nbuf; i++)
        free(l->buf[i].text);
    free(l->buf);
    if (l->ring)
        for (size_t i = 0; i < l->cfg.tail; i++)
            free(l->ring[i].text);
    free(l->ring);
    lsvg_free(l->svg);
    free(l);
}

void ladder_set_state(ladder *l, int side, int state)
{
    l->state[side & 1] = state;
}

unsigned long ladder_rows(const ladder *l)
{
    return l->nrows;
}

unsigned long ladder_omitted(const ladder *l)
{
    return l->omitted;
}

const char *ladder_fmt_time(synack_time_t t, char *buf, size_t len)
{
    snprintf(buf, len, "%llu.%06llu", (unsigned long long)(t / SYNACK_SEC),
             (unsigned long long)(t % SYNACK_SEC / SYNACK_USEC));
    return buf;
}

/* ---- output ----------------------------------------------------------- */

static const char *state_text(int s)
{
    return s < 0 ? "" : synack_state_name(s);
}

static void put_line(ladder *l, const char *text)
{
    if (!l->header_done) {
        l->header_done = 1;
        fprintf(l->cfg.out, "%6s %11s  %-*s %*s %s\n", "", "TIME", STATE_W,
                l->cfg.name_a, l->midw, "", l->cfg.name_b);
    }
    fputs(text, l->cfg.out);
    fputc('\n', l->cfg.out);
}

static void put_gap(ladder *l)
{
    if (!l->gap)
        return;
    char line[160];
    snprintf(line, sizeof line,
             "%6s %11s  ... %lu row%s left out (--ladder full shows every "
             "row) ...",
             "", "", l->gap, l->gap == 1 ? "" : "s");
    put_line(l, line);
    l->omitted += l->gap;
    l->gap = 0;
}

static void render_rec(const ladder *l, const struct segrec *r, char *out,
                       size_t len);

/* Print a row (rendering a deferred one) and release its text. */
static void put_row(ladder *l, struct row *r)
{
    if (r->text) {
        put_line(l, r->text);
        free(r->text);
        r->text = NULL;
    } else {
        char buf[ROW_MAX];
        render_rec(l, &r->rec, buf, sizeof buf);
        put_line(l, buf);
    }
}

static int push_buf(ladder *l, const struct row *r)
{
    if (l->nbuf == l->capbuf) {
        size_t ncap = l->capbuf ? l->capbuf * 2 : 64;
        struct row *n = realloc(l->buf, ncap * sizeof *n);
        if (!n)
            return -1;
        l->buf = n;
        l->capbuf = ncap;
    }
    l->buf[l->nbuf++] = *r;
    return 0;
}

static void ring_push(ladder *l, const struct row *r)
{
    size_t cap = l->cfg.tail;
    if (!cap) {
        free(r->text);
        return;
    }
    size_t idx;
    if (l->ring_len < cap) {
        idx = (l->ring_head + l->ring_len) % cap;
        l->ring_len++;
    } else {
        idx = l->ring_head;
        l->ring_head = (l->ring_head + 1) % cap;
        free(l->ring[idx].text);
    }
    l->ring[idx] = *r;
}

/* Switch to phase 2: print up to the head-th segment row, move the rest of
 * the buffer into the ring and the sticky list. */
static void enter_phase2(ladder *l)
{
    struct row *rows = l->buf;
    size_t n = l->nbuf;
    l->buf = NULL;
    l->nbuf = l->capbuf = 0;
    l->phase2 = 1;
    l->printed = l->cfg.head;
    size_t i = 0;
    for (; i < n; i++) {
        if (!rows[i].sticky && rows[i].ord > l->cfg.head)
            break;
        put_row(l, &rows[i]);
    }
    for (; i < n; i++) {
        if (rows[i].sticky) {
            if (push_buf(l, &rows[i]) != 0)
                free(rows[i].text);
        } else {
            ring_push(l, &rows[i]);
        }
    }
    free(rows);
}

/* Phase 2 output of segment ordinals (printed, upto]: those still in the
 * ring are printed, the others counted as left out. */
static void flush_upto(ladder *l, unsigned long upto)
{
    unsigned long first_kept =
        l->nseg >= l->ring_len ? l->nseg - l->ring_len + 1 : 1;
    while (l->printed < upto) {
        unsigned long o = ++l->printed;
        if (o < first_kept) {
            l->gap++;
            continue;
        }
        put_gap(l);
        put_row(l, &l->ring[(l->ring_head + (o - first_kept)) % l->cfg.tail]);
    }
}

/* Hand a row over: printed now, kept, or dropped, by mode. Takes the
 * row's text. */
static void emit(ladder *l, struct row *r)
{
    if (!r->sticky)
        l->nseg++;
    switch (l->cfg.mode) {
    case LADDER_FULL:
        put_row(l, r);
        return;
    case LADDER_AUTO:
        break;
    default:
        free(r->text);
        return;
    }
    r->ord = l->nseg; /* segment: its ordinal; sticky: rows before it */
    if (!l->phase2) {
        if (push_buf(l, r) != 0)
            free(r->text);
        if (l->nseg > (unsigned long)l->cfg.head + l->cfg.tail)
            enter_phase2(l);
        return;
    }
    if (r->sticky) {
        if (push_buf(l, r) != 0)
            free(r->text);
    } else {
        ring_push(l, r);
    }
}

static void emit_text(ladder *l, char *text, int sticky)
{
    if (!text)
        return;
    struct row r;
    memset(&r, 0, sizeof r);
    r.text = text;
    r.sticky = sticky;
    emit(l, &r);
}

void ladder_finish(ladder *l)
{
    if (l->cfg.mode == LADDER_AUTO) {
        if (!l->phase2) {
            for (size_t i = 0; i < l->nbuf; i++)
                put_row(l, &l->buf[i]);
            l->nbuf = 0;
        } else {
            for (size_t i = 0; i < l->nbuf; i++) {
                flush_upto(l, l->buf[i].ord);
                put_gap(l);
                put_row(l, &l->buf[i]);
            }
            l->nbuf = 0;
            flush_upto(l, l->nseg);
            put_gap(l);
        }
    }
    if (l->cfg.mode != LADDER_NONE && !l->header_done)
        put_line(l, "       (no segments)");
    fflush(l->cfg.out);
    if (l->svg)
        lsvg_finish(l->svg);
}

/* Hand the row about to be numbered to the SVG backend. */
static void svg_row(ladder *l, int kind, synack_time_t t, int side,
                    const char *label, const char *note, const synack_seg *raw,
                    unsigned fate)
{
    struct lsvg_row r = {kind, l->nrows + 1, t, {l->state[0], l->state[1]},
                         side, fate, label, note ? note : "", raw};
    lsvg_add(l->svg, &r);
}

void ladder_arrival(ladder *l, synack_time_t t, int to, const synack_seg *seg)
{
    if (l->svg)
        lsvg_arrival(l->svg, t, to, seg);
}

/* ---- rows --------------------------------------------------------------- */

/* Format a whole row into out; `mid` is already laid out to the middle
 * width. */
static void format_row(char *out, size_t len, unsigned long num,
                       synack_time_t t, int st_a, int st_b, const char *mid,
                       const char *note)
{
    char tb[32], nb[24];
    snprintf(nb, sizeof nb, "%lu.", num);
    int n = snprintf(out, len, "%6s %11s  %-*s %s %-*s", nb,
                     ladder_fmt_time(t, tb, sizeof tb), STATE_W,
                     state_text(st_a), mid, STATE_W, state_text(st_b));
    if (n > 0 && (size_t)n < len && note && *note)
        snprintf(out + n, len - (size_t)n, "  %s", note);
    /* no trailing blanks */
    size_t k = strlen(out);
    while (k && out[k - 1] == ' ')
        out[--k] = '\0';
}

/* A new numbered row with the current states, as an allocated string. */
static char *make_row(ladder *l, synack_time_t t, const char *mid,
                      const char *note)
{
    char *row = malloc(ROW_MAX);
    if (!row)
        return NULL;
    format_row(row, ROW_MAX, ++l->nrows, t, l->state[0], l->state[1], mid,
               note);
    return row;
}

/* Text next to one side: left-aligned for A, right-aligned for B, centred
 * for -1. */
static void side_text(ladder *l, int side, const char *text, char *mid,
                      size_t len)
{
    int w = l->midw;
    int tl = (int)strlen(text);
    if (side == LADDER_A)
        snprintf(mid, len, "%-*s", w, text);
    else if (side == LADDER_B)
        snprintf(mid, len, "%*s", w, text);
    else {
        int left = tl < w ? (w - tl) / 2 : 0;
        snprintf(mid, len, "%*s%-*s", left, "", w - left, text);
    }
}

void ladder_state(ladder *l, synack_time_t t, int side, int state,
                  const char *cause, const char *detail)
{
    l->state[side & 1] = state;
    char text[200], mid[ROW_MAX];
    snprintf(text, sizeof text, "(%s)%s%s", cause && *cause ? cause : "?",
             detail ? " " : "", detail ? detail : "");
    if (l->svg)
        svg_row(l, LSVG_STATE, t, side, text, NULL, NULL, 0);
    if (l->cfg.mode == LADDER_NONE) {
        l->nrows++;
        return;
    }
    side_text(l, side, text, mid, sizeof mid);
    emit_text(l, make_row(l, t, mid, NULL), 1);
}

void ladder_note(ladder *l, synack_time_t t, int side, const char *text)
{
    if (l->svg)
        svg_row(l, LSVG_NOTE, t, side, text, NULL, NULL, 0);
    if (l->cfg.mode == LADDER_NONE) {
        l->nrows++;
        return;
    }
    char mid[ROW_MAX];
    side_text(l, side, text, mid, sizeof mid);
    emit_text(l, make_row(l, t, mid, NULL), 1);
}

static uint32_t seq_len(const synack_seg *s)
{
    return s->len + !!(s->flags & SYNACK_TH_SYN) + !!(s->flags & SYNACK_TH_FIN);
}

/* "<SEQ=1><ACK=1><CTL=ACK><LEN=100><WND=65535>" */
/* What seg_view made relative (seg_text draws those as signed). */
#define REL_SEQ 1
#define REL_ACK 2 /* the ACK and the SACK blocks */

/* A sequence number as drawn: relative ones before the base (data sent
 * before a capture began, acknowledged in it) are negative. */
static long seqnum(uint32_t v, int rel)
{
    return rel ? (long)(int32_t)v : (long)v;
}

static void seg_text(const synack_seg *s, uint64_t wnd, unsigned nsack,
                     const uint32_t (*sack)[2], int rel, char *buf,
                     size_t len)
{
    char flags[32];
    size_t n = 0;
#define ADD(...)                                                               \
    do {                                                                       \
        if (n < len) {                                                         \
            int k_ = snprintf(buf + n, len - n, __VA_ARGS__);                  \
            if (k_ > 0)                                                        \
                n += (size_t)k_;                                               \
        }                                                                      \
    } while (0)
    ADD("<SEQ=%ld>", seqnum(s->seq, rel & REL_SEQ));
    if (s->flags & SYNACK_TH_ACK)
        ADD("<ACK=%ld>", seqnum(s->ack, rel & REL_ACK));
    ADD("<CTL=%s>", synack_flags_str(s->flags, flags, sizeof flags));
    if (s->len)
        ADD("<LEN=%lu>", (unsigned long)s->len);
    if (!(s->flags & SYNACK_TH_RST))
        ADD("<WND=%llu>", (unsigned long long)wnd);
    if (s->has_mss)
        ADD("<MSS=%u>", (unsigned)s->mss);
    if (s->has_ws)
        ADD("<WS=%u>", (unsigned)s->ws);
    for (unsigned i = 0; i < nsack; i++)
        ADD("%s%ld-%ld%s", i ? "," : "<SACK=",
            seqnum(sack[i][0], rel & REL_ACK),
            seqnum(sack[i][1], rel & REL_ACK), i + 1 == nsack ? ">" : "");
#undef ADD
}

/* The segment as drawn: numbers relative to the ISNs known now, window
 * scaled. */
static int seg_view(const ladder *l, int from, const synack_seg *s,
                    synack_seg *v, uint64_t *wnd)
{
    const struct dir *me = &l->dir[from & 1], *peer = &l->dir[!(from & 1)];
    int rel = 0;
    *v = *s;
    if (!l->cfg.absolute && me->isn_known) {
        v->seq -= me->isn;
        rel |= REL_SEQ;
    }
    if (!l->cfg.absolute && peer->isn_known) {
        v->ack -= peer->isn;
        rel |= REL_ACK;
    }
    *wnd = s->wnd;
    if (!(s->flags & SYNACK_TH_SYN) && me->ws_known && peer->ws_known)
        *wnd <<= me->ws;
    return rel;
}

static void note_fate(unsigned fate, char *buf, size_t len)
{
    static const struct {
        unsigned bit;
        const char *text;
    } tab[] = {
        {LADDER_RETRANS, "retransmission"},
        {LADDER_KEEPALIVE, "keepalive probe"},
        {LADDER_QDROP, "dropped: sender's queue full"},
        {LADDER_CORRUPT, "corrupted"},
        {LADDER_DUP, "duplicated"},
        {LADDER_REORDER, "reordered"},
        {LADDER_OOO, "out-of-order"},
        {LADDER_MISSING, "previous segment not captured"},
        {LADDER_ZEROWIN, "zero window"},
        {LADDER_WINPROBE, "zero-window probe"},
        {LADDER_WINUPDATE, "window update"},
        {LADDER_RST, "reset"},
        {LADDER_CHALLENGE, "challenge ACK (RFC 5961)"},
        {LADDER_ACKUNSEEN, "ACKs data not in the capture"},
    };
    size_t n = 0;
    buf[0] = '\0';
    if (fate & LADDER_LOST) {
        n += (size_t)snprintf(buf, len, "%s",
                              fate & LADDER_LINKDOWN ? "lost (link down)"
                                                     : "lost");
    }
    for (size_t i = 0; i < sizeof tab / sizeof tab[0] && n < len; i++)
        if (fate & tab[i].bit)
            n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "",
                                  tab[i].text);
    if ((fate & LADDER_DUPACK) && n < len)
        n += (size_t)snprintf(buf + n, len - n, "%sdup ACK #%u", n ? ", " : "",
                              LADDER_DUPACK_COUNT(fate));
}

void ladder_fate_text(unsigned fate, char *buf, size_t len)
{
    if (len)
        note_fate(fate, buf, len);
}

void ladder_set_isn(ladder *l, int side, uint32_t isn)
{
    l->dir[side & 1].isn_known = 1;
    l->dir[side & 1].isn = isn;
}

unsigned ladder_segment(ladder *l, synack_time_t t, int from,
                        const synack_seg *s, unsigned fate)
{
    return ladder_segment_sack(l, t, from, s, fate, 0, NULL);
}

/* SACK blocks as drawn: relative to the peer's ISN, like the ACK. */
static unsigned sack_view(const ladder *l, int from, unsigned nsack,
                          const uint32_t (*sack)[2], uint32_t (*out)[2])
{
    const struct dir *peer = &l->dir[!(from & 1)];
    if (nsack > 4)
        nsack = 4;
    for (unsigned i = 0; i < nsack; i++)
        for (int k = 0; k < 2; k++)
            out[i][k] = sack[i][k] - (!l->cfg.absolute && peer->isn_known
                                          ? peer->isn
                                          : 0);
    return nsack;
}

unsigned ladder_segment_sack(ladder *l, synack_time_t t, int from,
                             const synack_seg *s, unsigned fate,
                             unsigned nsack, const uint32_t (*sack)[2])
{
    struct dir *me = &l->dir[from & 1];
    unsigned found = 0;
    if (s->flags & SYNACK_TH_SYN) {
        me->isn_known = 1;
        me->isn = s->seq;
        me->ws_known = s->has_ws;
        me->ws = s->ws > 14 ? 14 : s->ws; /* RFC 7323: at most 14 */
        me->max_known = 0;
    }
    uint8_t bare = SYNACK_TH_ACK;
    if (!(fate & (LADDER_RETRANS | LADDER_WINPROBE | LADDER_KEEPALIVE)) &&
        s->flags == bare && s->len <= 1 &&
        me->max_known && s->seq + 1 == me->snd_max)
        found |= LADDER_KEEPALIVE;
    if (!(s->flags & SYNACK_TH_RST)) {
        uint32_t end = s->seq + seq_len(s);
        if (!me->max_known || (int32_t)(end - me->snd_max) > 0) {
            me->snd_max = end;
            me->max_known = 1;
        }
    }
    if (l->svg) {
        synack_seg v;
        uint64_t wnd;
        char text[256], note[160];
        uint32_t sk[4][2];
        unsigned ns = sack_view(l, from, nsack, sack, sk);
        int rel = seg_view(l, from, s, &v, &wnd);
        seg_text(&v, wnd, ns, (const uint32_t(*)[2])sk, rel, text,
                 sizeof text);
        note_fate(fate | found, note, sizeof note);
        svg_row(l, LSVG_SEG, t, from & 1, text, note, s, fate | found);
    }
    if (l->cfg.mode == LADDER_NONE) {
        l->nrows++;
        l->nseg++;
        return found;
    }
    struct row r;
    memset(&r, 0, sizeof r);
    struct segrec *rec = &r.rec;
    rec->t = t;
    rec->num = ++l->nrows;
    rec->st[0] = l->state[0];
    rec->st[1] = l->state[1];
    rec->from = from & 1;
    rec->fate = fate | found;
    rec->rel = (uint8_t)seg_view(l, from, s, &rec->seg, &rec->wnd);
    rec->nsack = (uint8_t)sack_view(l, from, nsack, sack, rec->sack);
    emit(l, &r);
    return found;
}

static void render_rec(const ladder *l, const struct segrec *r, char *out,
                       size_t len)
{
    char text[256], mid[ROW_MAX], note[160];
    seg_text(&r->seg, r->wnd, r->nsack, (const uint32_t(*)[2])r->sack,
             r->rel, text, sizeof text);
    int w = l->midw - 8;
    const char *tail;
    if (r->from == LADDER_A) {
        tail = r->fate & (LADDER_LOST | LADDER_QDROP) ? "--X" : "-->";
        snprintf(mid, sizeof mid, "--> %-*s %s", w, text, tail);
    } else {
        tail = r->fate & (LADDER_LOST | LADDER_QDROP) ? "X--" : "<--";
        snprintf(mid, sizeof mid, "%s %-*s <--", tail, w, text);
    }
    note_fate(r->fate, note, sizeof note);
    format_row(out, len, r->num, r->t, r->st[0], r->st[1], mid, note);
}

void ladder_drop(ladder *l, synack_time_t t, int side, const synack_seg *s,
                 const char *reason)
{
    char text[2 * 160 + 8], mid[ROW_MAX], note[200], st[160] = "(a frame)";
    if (s) {
        synack_seg v;
        uint64_t wnd;
        int rel = seg_view(l, !(side & 1), s, &v, &wnd);
        seg_text(&v, wnd, 0, NULL, rel, st, sizeof st);
    }
    snprintf(note, sizeof note, "%s drops it: %s",
             side == LADDER_A ? "A" : "B", reason);
    if (l->svg)
        svg_row(l, LSVG_DROP, t, side & 1, st, note, NULL, 0);
    if (l->cfg.mode == LADDER_NONE) {
        l->nrows++;
        l->nseg++;
        return;
    }
    snprintf(text, sizeof text, "%s %s", side == LADDER_A ? "X" : st,
             side == LADDER_A ? st : "X");
    side_text(l, side, text, mid, sizeof mid);
    emit_text(l, make_row(l, t, mid, note), 0);
}

/* ---- frame decoding ------------------------------------------------------ */

int ladder_parse_frame(const uint8_t *f, size_t len, synack_seg *s)
{
    struct cap_pkt p;
    memset(s, 0, sizeof *s);
    if (len < 14 || f[12] != 0x08 || f[13] != 0x00)
        return 0;
    if (!capread_ipv4(f + 14, len - 14, &p) || p.truncated)
        return 0;
    *s = p.seg;
    return 1;
}
