/*
 * SYN cookies (RFC 4987 section 3.6): when a listener's SYN queue is full
 * (tcp_syncookies=1) or always (=2), the SYN,ACK carries everything needed
 * to rebuild the connection in its initial sequence number, and the
 * listener keeps no state until the final ACK proves the peer saw it.
 *
 * Our layout of the 32-bit cookie (the ISS):
 *
 *   bits 31..27  t mod 32, t = now / 64 s (the cookie's age)
 *   bits 26..24  index of the MSS in mss_table (the peer's MSS, rounded down)
 *   bits 23..0   SipHash-2-4 under the stack's secret of (tag, 4-tuple,
 *                the peer's ISN, t, MSS index), low 24 bits
 *
 * A cookie is accepted for 64 to 128 s (t or t-1). Without timestamps the
 * connection has no window scaling; with them, the peer's window-scale
 * shift (or "none") rides in the low 4 bits of our SYN,ACK's TSval and
 * comes back in the ACK's TSecr, as Linux does.
 */
#include <string.h>

#include "core.h"

#define COOKIE_PERIOD (64 * SYNACK_SEC)

static const uint16_t mss_table[8] = {536,  1024, 1220, 1360,
                                      1440, 1460, 4312, 8960};

int syncookie_mss_index(uint16_t mss)
{
    int i = 7;
    while (i > 0 && mss_table[i] > mss)
        i--;
    return i;
}

uint16_t syncookie_mss(int idx)
{
    return mss_table[idx & 7];
}

static uint32_t cookie_hash(const synack_stack *st, const tcb_tuple *tu,
                            uint32_t irs, uint32_t t, uint32_t idx)
{
    uint8_t b[22];
    b[0] = 'c';
    b[1] = (uint8_t)idx;
    wire_put32(b + 2, tu->lip);
    wire_put32(b + 6, tu->rip);
    wire_put16(b + 10, tu->lport);
    wire_put16(b + 12, tu->rport);
    wire_put32(b + 14, irs);
    wire_put32(b + 18, t);
    return (uint32_t)siphash24(st->cfg.isn_secret, b, sizeof(b)) & 0xffffffu;
}

uint32_t syncookie_make(const synack_stack *st, const tcb_tuple *tu,
                        uint32_t irs, int mss_idx, synack_time_t now)
{
    uint32_t t = (uint32_t)(now / COOKIE_PERIOD);
    uint32_t idx = (uint32_t)mss_idx & 7;
    return (t & 31u) << 27 | idx << 24 | cookie_hash(st, tu, irs, t, idx);
}

int syncookie_check(const synack_stack *st, const tcb_tuple *tu,
                    uint32_t irs, uint32_t cookie, synack_time_t now)
{
    uint32_t t = (uint32_t)(now / COOKIE_PERIOD);
    uint32_t idx = (cookie >> 24) & 7;
    for (uint32_t age = 0; age < 2; age++) {
        uint32_t tt = t - age;
        if ((tt & 31u) != cookie >> 27)
            continue;
        if (cookie_hash(st, tu, irs, tt, idx) == (cookie & 0xffffffu))
            return (int)idx;
    }
    return -1;
}

/* The timestamp clock offset of a cookie connection: recomputable from the
 * 4-tuple, since nothing is stored between the SYN,ACK and the ACK. */
uint32_t syncookie_ts_offset(const synack_stack *st, const tcb_tuple *tu)
{
    uint8_t b[13];
    b[0] = 't';
    wire_put32(b + 1, tu->lip);
    wire_put32(b + 5, tu->rip);
    wire_put16(b + 9, tu->lport);
    wire_put16(b + 11, tu->rport);
    return (uint32_t)siphash24(st->cfg.isn_secret, b, sizeof(b));
}
