/*
 * libFuzzer target: the wire parsers (src/core/wire.c) on arbitrary bytes.
 * The first input byte picks the parser; the rest is the packet. After a
 * successful parse the returned lengths are checked against the input.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    const uint8_t *p = data + 1;
    size_t len = size - 1;
    switch (sel % 5) {
    case 0: {
        wire_tcp th;
        /* Half the inputs get a checksum fixed up so option parsing is
         * reached; a copy is needed since the input is const. */
        static uint8_t buf[65536];
        if (len > sizeof buf)
            len = sizeof buf;
        for (size_t i = 0; i < len; i++)
            buf[i] = p[i];
        if ((sel & 0x80) && len >= 20)
            wire_tcp_set_csum(buf, len, 0x0a000001u, 0x0a000002u);
        if (wire_tcp_parse(buf, len, 0x0a000001u, 0x0a000002u, &th) == 0) {
            if (th.hlen < 20 || th.hlen > 60 || th.hlen > len)
                __builtin_trap();
        }
        break;
    }
    case 1: {
        wire_ipv4 ih;
        static uint8_t buf[65536];
        if (len > sizeof buf)
            len = sizeof buf;
        for (size_t i = 0; i < len; i++)
            buf[i] = p[i];
        if ((sel & 0x80) && len >= 20) {
            size_t hl = (size_t)(buf[0] & 0x0f) * 4;
            if (hl >= 12 && hl <= len) {
                wire_put16(buf + 10, 0);
                wire_put16(buf + 10, wire_csum_fold(wire_csum_add(0, buf, hl)));
            }
        }
        if (wire_ipv4_parse(buf, len, &ih) == 0) {
            if (ih.hlen < 20 || ih.hlen > 60 || ih.hlen > len ||
                ih.total_len < ih.hlen || ih.total_len > len)
                __builtin_trap();
        }
        break;
    }
    case 2: {
        wire_arp ah;
        (void)wire_arp_parse(p, len, &ah);
        break;
    }
    case 3: {
        wire_icmp_echo ie;
        (void)wire_icmp_parse(p, len, &ie);
        break;
    }
    default: {
        wire_eth eh;
        (void)wire_eth_parse(p, len, &eh);
        (void)wire_csum_fold(wire_csum_add(0, p, len));
        break;
    }
    }
    return 0;
}
