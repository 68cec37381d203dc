/*
 * The ladder diagram of RFC 793/9293 (figure "TCP A / TCP B"), drawn from
 * events: segments with what happened to them on the way, state changes
 * with their causes, drops and notes. One numbered row per event:
 *
 *     3.  0.010000  ESTABLISHED  --> <SEQ=1><ACK=1><CTL=ACK><WND=65535> -->  SYN-RECEIVED
 *
 * Time, state of A, the segment with its direction, state of B, and a note
 * (retransmission, lost, ...). Sequence numbers are relative to each side's
 * ISN unless `absolute` is set, as Wireshark shows them.
 *
 * The renderer knows nothing about where events come from: `synack sim`
 * feeds it from the trace hook and its link probe; a live run or a pcap
 * reader can feed it the same way (ladder_parse_frame decodes a frame).
 */
#ifndef SYNACK_TOOLS_LADDER_H
#define SYNACK_TOOLS_LADDER_H

#include <stdio.h>

#include <synack/synack.h>

enum { LADDER_A = 0, LADDER_B = 1 };

enum ladder_mode {
    LADDER_NONE = 0, /* draw nothing */
    LADDER_AUTO,     /* every row if at most head+tail segment rows, else
                        the first `head` and the last `tail`; state changes
                        and notes are always shown */
    LADDER_FULL,     /* every row */
};

/* What happened to a segment (bits for ladder_segment). */
#define LADDER_RETRANS 0x001u  /* the sender's retransmission */
#define LADDER_LOST 0x002u     /* dropped on the link */
#define LADDER_LINKDOWN 0x004u /* with LOST: the link was down */
#define LADDER_QDROP 0x008u    /* dropped by the sender's full queue */
#define LADDER_CORRUPT 0x010u  /* a bit was flipped on the way */
#define LADDER_DUP 0x020u      /* delivered twice */
#define LADDER_REORDER 0x040u  /* held back: arrives after later frames */
/* Found by the renderer itself (returned by ladder_segment). */
#define LADDER_KEEPALIVE 0x100u /* a bare ACK one byte behind: keepalive */
/* Found in a capture by its reader (tools/capinfer.h), drawn as notes. */
#define LADDER_OOO 0x200u        /* fills a hole soon after: out-of-order */
#define LADDER_MISSING 0x400u    /* bytes before it are not in the capture */
#define LADDER_DUPACK 0x800u     /* duplicate ACK; its number in the bits
                                    LADDER_DUPACK_N */
#define LADDER_ZEROWIN 0x1000u   /* advertises a zero window */
#define LADDER_WINPROBE 0x2000u  /* probes the peer's zero window */
#define LADDER_WINUPDATE 0x4000u /* same ACK, only the window changed */
#define LADDER_RST 0x8000u       /* a reset */
#define LADDER_CHALLENGE 0x10000u /* an ACK answering an in-window SYN or
                                     RST (RFC 5961 challenge ACK) */
#define LADDER_ACKUNSEEN 0x20000u /* acknowledges data not in the capture */
/* The duplicate ACK's number (1 for the first duplicate) in the top bits. */
#define LADDER_DUPACK_SHIFT 20
#define LADDER_DUPACK_N(n)                                                     \
    ((unsigned)((n) > 4095u ? 4095u : (n)) << LADDER_DUPACK_SHIFT)
#define LADDER_DUPACK_COUNT(fate) ((unsigned)(fate) >> LADDER_DUPACK_SHIFT)

struct ladder_config {
    FILE *out;
    int mode;          /* enum ladder_mode */
    int absolute;      /* absolute sequence numbers */
    unsigned head, tail; /* LADDER_AUTO: rows kept at each end (30, 30) */
    const char *name_a, *name_b; /* column titles: "TCP A", "TCP B" */
    FILE *svg; /* also draw the diagram as SVG into this file (ladder_finish writes it); NULL: no SVG */
};

typedef struct ladder ladder;

ladder *ladder_new(const struct ladder_config *cfg);
/* Flushes nothing: call ladder_finish first. */
void ladder_free(ladder *l);

/* The state shown in a side's column from now on (enum synack_state; -1
 * for an empty column). */
void ladder_set_state(ladder *l, int side, int state);

/* A state change of `side` at t: its column shows `state` from this row on
 * and the middle shows "(cause)" next to it, followed by `detail` if not
 * NULL. Always shown. */
void ladder_state(ladder *l, synack_time_t t, int side, int state,
                  const char *cause, const char *detail);

/* The base of `side`'s relative sequence numbers, for a capture without
 * that side's SYN (a SYN sets it too). */
void ladder_set_isn(ladder *l, int side, uint32_t isn);

/* A segment sent by `from` at t. `fate` is a mask of LADDER_* bits.
 * Returns the bits the renderer recognised itself (LADDER_KEEPALIVE). */
unsigned ladder_segment(ladder *l, synack_time_t t, int from,
                        const synack_seg *seg, unsigned fate);

/* The same with the segment's SACK blocks (at most 4, [left, right) as on
 * the wire), drawn after the options as <SACK=L-R,...>, relative to the
 * peer's ISN like the ACK. */
unsigned ladder_segment_sack(ladder *l, synack_time_t t, int from,
                             const synack_seg *seg, unsigned fate,
                             unsigned nsack, const uint32_t (*sack)[2]);

/* `side` discarded a segment (seg may be NULL when it could not be
 * parsed) for `reason`. */
void ladder_drop(ladder *l, synack_time_t t, int side, const synack_seg *seg,
                 const char *reason);

/* A free-text row (application events, link up/down), next to `side` or
 * centred when side is -1. Always shown. */
void ladder_note(ladder *l, synack_time_t t, int side, const char *text);

/* The note text of a segment's fate bits ("retransmission, dup ACK #2"). */
void ladder_fate_text(unsigned fate, char *buf, size_t len);

/* The segment `seg` (as on the wire) sent by the other side reached `to`
 * at t. Only the SVG uses it: the arrow ends at its arrival. */
void ladder_arrival(ladder *l, synack_time_t t, int to, const synack_seg *seg);

/* Print what is still buffered (LADDER_AUTO), and write the SVG. The SVG
 * has every row in LADDER_FULL, the text's abbreviation otherwise (also
 * with LADDER_NONE, which prints no text). */
void ladder_finish(ladder *l);

/* Rows created, and rows left out by LADDER_AUTO (after ladder_finish). */
unsigned long ladder_rows(const ladder *l);
unsigned long ladder_omitted(const ladder *l);

/* Decode an Ethernet II / IPv4 / TCP frame into seg. 1 if it is one, 0
 * otherwise (ARP, other protocols, truncated). Checksums are not checked. */
int ladder_parse_frame(const uint8_t *frame, size_t len, synack_seg *seg);

/* "12.345678" (seconds and microseconds) into buf. */
const char *ladder_fmt_time(synack_time_t t, char *buf, size_t len);

#endif
