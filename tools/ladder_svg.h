/*
 * The SVG backend of the ladder renderer (ladder.c): the same rows, drawn
 * as a sequence diagram a person opens in a browser. Private to ladder.c,
 * which hands over every row it makes, already formatted (the segment's
 * <SEQ=..> text, the note of its fate), so that a new mark of ladder.c
 * shows in the SVG without a change here.
 *
 * Layout: one row per ladder row, numbered as in the text; TCP A's and TCP
 * B's lifelines with a coloured band per state and the state's name where
 * it changes; an arrow per segment from the sender's lifeline at its row
 * to the receiver's at the row of its arrival (ladder_arrival), labelled
 * along the arrow; notes at the right in the colour of their arrow. The
 * time column on the left is the axis (rows are evenly spaced, not by
 * time). LADDER_AUTO's head/tail abbreviation applies as in the text.
 */
#ifndef SYNACK_TOOLS_LADDER_SVG_H
#define SYNACK_TOOLS_LADDER_SVG_H

#include <stdio.h>

#include <synack/synack.h>

enum lsvg_kind {
    LSVG_STATE, /* `side` changed state; label "(cause) detail" */
    LSVG_NOTE,  /* free text next to `side`, or centred (-1) */
    LSVG_SEG,   /* a segment sent by `side` */
    LSVG_DROP,  /* `side` discarded a segment; label the segment or "" */
};

struct lsvg_row {
    int kind;
    unsigned long num;
    synack_time_t t;
    int st[2]; /* states shown from this row on (-1: empty) */
    int side;
    unsigned fate;         /* LADDER_* bits (segments) */
    const char *label;     /* segment text, cause, note text */
    const char *note;      /* the note at the end of the row, or "" */
    const synack_seg *raw; /* LSVG_SEG: as sent (absolute), for arrivals */
};

struct lsvg;

/* full: every row; otherwise the first `head` and last `tail` omittable
 * rows (segments, drops) when there are more than head+tail. */
struct lsvg *lsvg_new(FILE *out, int full, unsigned head, unsigned tail,
                      const char *name_a, const char *name_b);
void lsvg_free(struct lsvg *s);
void lsvg_add(struct lsvg *s, const struct lsvg_row *r);
/* The segment `seg` (as sent) reached side `to` at t. */
void lsvg_arrival(struct lsvg *s, synack_time_t t, int to,
                  const synack_seg *seg);
/* Write the document. 0, or -1 if writing failed. */
int lsvg_finish(struct lsvg *s);

#endif
