/*
 * libFuzzer target: the TCP option parser (wire_tcp_parse in
 * src/core/wire.c) on headers whose option bytes come from the input, and
 * the option emitter (wire_tcp_emit) on fuzzed header structs.
 *
 * Input: byte 0 (ctl), then option bytes, then payload.
 *   ctl bits 0-3  option words n (0..10, larger values taken mod 11): the
 *                 data offset is 5 + n and the next 4n input bytes are the
 *                 options (zero-filled when the input is shorter)
 *   ctl bit 4     corrupt the checksum (the parse must fail with
 *                 TCP_BAD_CSUM)
 *   ctl bit 5     emit mode: the rest of the input fills a wire_tcp (flags,
 *                 MSS, window scale, timestamps, SACK-permitted); it is
 *                 emitted, parsed and must come back equal
 *   ctl bit 6     the data offset nibble is the next input byte's low
 *                 nibble instead (0..15: too small, too large for the
 *                 segment, or not matching the option bytes)
 * The rest of the input (at most 64 bytes) is the payload.
 *
 * Every segment sits in a heap buffer of exactly its length, so a read past
 * the end is an AddressSanitizer report. Checked: the result equals that of
 * an independent parser written from the rules in wire.h (rc and every
 * field); hlen within 20..60 and within the segment; the parse does not
 * depend on the payload bytes; a parsed header emitted again (known options
 * only) parses to the same values with unknown_opts == 0 and hlen ==
 * wire_tcp_hdr_len.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/wire.h"

#define SRC 0x0a000001u
#define DST 0x0a000002u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference parser: only the rules wire.h states. */
static int ref_parse(const uint8_t *p, size_t len, wire_tcp *o)
{
    if (len < 20)
        return -SYNACK_DROP_TCP_SHORT;
    size_t hlen = (size_t)(p[12] >> 4) * 4;
    if (hlen < 20 || hlen > len)
        return -SYNACK_DROP_TCP_BAD_OFF;
    /* checksum: a 16-bit ones'-complement sum over pseudo-header and
     * segment must come to 0xffff */
    uint32_t s = (SRC >> 16) + (SRC & 0xffff) + (DST >> 16) + (DST & 0xffff) +
                 6 + (uint32_t)len;
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    if (s != 0xffff)
        return -SYNACK_DROP_TCP_BAD_CSUM;
    memset(o, 0, sizeof *o);
    o->sport = (uint16_t)(p[0] << 8 | p[1]);
    o->dport = (uint16_t)(p[2] << 8 | p[3]);
    o->seq = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
             (uint32_t)p[6] << 8 | p[7];
    o->ack = (uint32_t)p[8] << 24 | (uint32_t)p[9] << 16 |
             (uint32_t)p[10] << 8 | p[11];
    o->hlen = (uint8_t)hlen;
    o->flags = p[13];
    o->wnd = (uint16_t)(p[14] << 8 | p[15]);
    o->urp = (uint16_t)(p[18] << 8 | p[19]);
    size_t i = 20;
    while (i < hlen) {
        uint8_t kind = p[i];
        if (kind == 0) /* end of option list */
            break;
        if (kind == 1) { /* no-operation */
            i++;
            continue;
        }
        if (i + 1 >= hlen)
            return -SYNACK_DROP_TCP_BAD_OPT;
        size_t ol = p[i + 1];
        if (ol < 2 || i + ol > hlen)
            return -SYNACK_DROP_TCP_BAD_OPT;
        const uint8_t *v = p + i + 2;
        switch (kind) {
        case 2:
            if (ol != 4)
                return -SYNACK_DROP_TCP_BAD_OPT;
            o->has_mss = 1;
            o->mss = (uint16_t)(v[0] << 8 | v[1]);
            break;
        case 3:
            if (ol != 3)
                return -SYNACK_DROP_TCP_BAD_OPT;
            o->has_ws = 1;
            o->ws = v[0];
            break;
        case 4:
            if (ol != 2)
                return -SYNACK_DROP_TCP_BAD_OPT;
            o->has_sackok = 1;
            break;
        case 5: /* SACK: 1..4 blocks of 8 bytes, at most 4 kept in all */
            if (ol < 10 || (ol - 2) % 8 != 0)
                return -SYNACK_DROP_TCP_BAD_OPT;
            for (size_t b = 0; b + 8 <= ol - 2 && o->nsack < 4; b += 8) {
                const uint8_t *q = v + b;
                o->sack[o->nsack].start = (uint32_t)q[0] << 24 |
                                          (uint32_t)q[1] << 16 |
                                          (uint32_t)q[2] << 8 | q[3];
                o->sack[o->nsack].end = (uint32_t)q[4] << 24 |
                                        (uint32_t)q[5] << 16 |
                                        (uint32_t)q[6] << 8 | q[7];
                o->nsack++;
            }
            break;
        case 8:
            if (ol != 10)
                return -SYNACK_DROP_TCP_BAD_OPT;
            o->has_ts = 1;
            o->tsval = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 |
                       (uint32_t)v[2] << 8 | v[3];
            o->tsecr = (uint32_t)v[4] << 24 | (uint32_t)v[5] << 16 |
                       (uint32_t)v[6] << 8 | v[7];
            break;
        default:
            if (o->unknown_opts < 255)
                o->unknown_opts++;
            break;
        }
        i += ol;
    }
    return 0;
}

static int same_sack(const wire_tcp *a, const wire_tcp *b)
{
    if (a->nsack != b->nsack)
        return 0;
    for (unsigned i = 0; i < a->nsack; i++)
        if (a->sack[i].start != b->sack[i].start ||
            a->sack[i].end != b->sack[i].end)
            return 0;
    return 1;
}

static int same(const wire_tcp *a, const wire_tcp *b, int with_unknown)
{
    return same_sack(a, b) && a->sport == b->sport && a->dport == b->dport && a->seq == b->seq &&
           a->ack == b->ack && a->flags == b->flags && a->wnd == b->wnd &&
           a->urp == b->urp && a->has_mss == b->has_mss &&
           a->has_ws == b->has_ws && a->has_ts == b->has_ts &&
           a->has_sackok == b->has_sackok &&
           (!a->has_mss || a->mss == b->mss) && (!a->has_ws || a->ws == b->ws) &&
           (!a->has_ts || (a->tsval == b->tsval && a->tsecr == b->tsecr)) &&
           (!with_unknown || a->unknown_opts == b->unknown_opts);
}

/* Parse seg (len bytes) from an exact-size heap copy. */
static int parse_exact(const uint8_t *seg, size_t len, wire_tcp *out)
{
    uint8_t *b = malloc(len ? len : 1);
    if (!b)
        abort();
    memcpy(b, seg, len);
    int rc = wire_tcp_parse(b, len, SRC, DST, out);
    free(b);
    return rc;
}

/* Emit h into an exact-size buffer, parse it back, compare. */
static void round_trip(const wire_tcp *h)
{
    size_t hl = wire_tcp_hdr_len(h);
    if (hl < 20 || hl > 60 || hl % 4 != 0)
        __builtin_trap();
    uint8_t *b = malloc(hl);
    if (!b)
        abort();
    memset(b, 0xa5, hl);
    if (wire_tcp_emit(b, h) != hl)
        __builtin_trap();
    wire_tcp_set_csum(b, hl, SRC, DST);
    wire_tcp back, ref;
    if (wire_tcp_parse(b, hl, SRC, DST, &back) != 0)
        __builtin_trap(); /* the emitter wrote something the parser refuses */
    if (ref_parse(b, hl, &ref) != 0 || !same(&back, &ref, 1))
        __builtin_trap();
    if (back.hlen != hl || back.unknown_opts != 0 || !same(h, &back, 0))
        __builtin_trap();
    free(b);
}

static void emit_mode(const uint8_t *p, size_t len)
{
    uint8_t v[24] = {0};
    memcpy(v, p, len < sizeof v ? len : sizeof v);
    wire_tcp h;
    memset(&h, 0, sizeof h);
    h.sport = (uint16_t)(v[0] << 8 | v[1]);
    h.dport = (uint16_t)(v[2] << 8 | v[3]);
    h.seq = (uint32_t)v[4] << 24 | (uint32_t)v[5] << 16 | v[6];
    h.ack = (uint32_t)v[7] << 24 | (uint32_t)v[8] << 8;
    h.flags = v[9];
    h.wnd = (uint16_t)(v[10] << 8 | v[11]);
    h.urp = v[12];
    h.has_mss = v[13] & 1;
    h.has_ws = (v[13] >> 1) & 1;
    h.has_ts = (v[13] >> 2) & 1;
    h.has_sackok = (v[13] >> 3) & 1;
    h.mss = (uint16_t)(v[14] << 8 | v[15]);
    h.ws = v[16];
    h.tsval = (uint32_t)v[17] << 24 | (uint32_t)v[18] << 16 | v[19];
    h.tsecr = (uint32_t)v[20] << 24 | (uint32_t)v[21] << 8 | v[22];
    /* SACK blocks: as many as fit beside the other options (40 bytes) */
    unsigned room = (40u - (unsigned)(wire_tcp_hdr_len(&h) - 20u));
    unsigned nmax = room >= 4 ? (room - 4) / 8 : 0;
    h.nsack = (uint8_t)((v[23] & 7) % (nmax + 1));
    if (h.nsack > 4)
        h.nsack = 4;
    for (unsigned i = 0; i < h.nsack; i++) {
        h.sack[i].start = h.seq + 1000u * i + v[i];
        h.sack[i].end = h.sack[i].start + 100u + v[i + 4];
    }
    round_trip(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t ctl = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    if (ctl & 0x20) {
        emit_mode(p, n);
        return 0;
    }
    uint8_t off_nibble = 0;
    int raw_off = (ctl & 0x40) != 0;
    if (raw_off) {
        if (n < 1)
            return 0;
        off_nibble = p[0] & 0x0f;
        p++;
        n--;
    }
    size_t words = (size_t)(ctl & 0x0f) % 11;
    size_t optlen = 4 * words;
    size_t take = n < optlen ? n : optlen;
    size_t plen = n - take;
    if (plen > 64)
        plen = 64;

    uint8_t seg[60 + 64];
    size_t len = 20 + optlen + plen;
    memset(seg, 0, sizeof seg);
    static const uint8_t base[20] = {0x9c, 0x40, 0x00, 0x50, 0x11, 0x22,
                                     0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                                     0x00, 0x12, 0xff, 0xff, 0x00, 0x00,
                                     0x00, 0x00};
    memcpy(seg, base, 20);
    seg[12] = (uint8_t)((raw_off ? off_nibble : 5 + words) << 4);
    memcpy(seg + 20, p, take);
    memcpy(seg + 20 + optlen, p + take, plen);
    wire_tcp_set_csum(seg, len, SRC, DST);
    if (ctl & 0x10)
        seg[16] ^= 0x01; /* never a ones'-complement equivalent value */

    wire_tcp got, ref;
    int rc = parse_exact(seg, len, &got);
    int rrc = ref_parse(seg, len, &ref);
    if (rc != rrc)
        __builtin_trap();
    if ((ctl & 0x10) && rc != -SYNACK_DROP_TCP_BAD_CSUM &&
        rc != -SYNACK_DROP_TCP_BAD_OFF)
        __builtin_trap();
    if (rc != 0)
        return 0;
    if (!same(&got, &ref, 1) || got.hlen != ref.hlen)
        __builtin_trap();
    if (got.hlen < 20 || got.hlen > 60 || got.hlen > len || got.hlen % 4)
        __builtin_trap();
    if (got.unknown_opts > 20) /* 40 option bytes hold at most 20 options */
        __builtin_trap();

    /* The payload does not change what the header parses to. */
    if (len > got.hlen) {
        for (size_t i = got.hlen; i < len; i++)
            seg[i] = (uint8_t)~seg[i];
        wire_tcp_set_csum(seg, len, SRC, DST);
        wire_tcp again;
        if (parse_exact(seg, len, &again) != 0 || !same(&got, &again, 1) ||
            again.hlen != got.hlen)
            __builtin_trap();
    }
    /* Without the payload at all: the same result. */
    {
        uint8_t hdr[60];
        memcpy(hdr, seg, got.hlen);
        wire_tcp_set_csum(hdr, got.hlen, SRC, DST);
        wire_tcp again;
        if (parse_exact(hdr, got.hlen, &again) != 0 || !same(&got, &again, 1))
            __builtin_trap();
    }
    /* Emit what was understood and parse it again. The emitter pads each
     * option group to 4 bytes, so SACK blocks that fit beside compact or
     * repeated options on the wire may not all fit in what it writes: keep
     * those that do (its contract: the caller sizes nsack). */
    while (got.nsack && wire_tcp_hdr_len(&got) > 60)
        got.nsack--;
    round_trip(&got);
    return 0;
}
