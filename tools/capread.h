/*
 * Reading captures: pcap and pcapng files through libpcap, with the link
 * types tcpdump and Wireshark write for IPv4 traffic (Ethernet II with or
 * without 802.1Q tags, raw IP, Linux cooked v1 and v2, BSD loopback), and
 * the decoding of an IPv4/TCP packet into what the tools draw and analyse.
 *
 * Shared by `synack diagram`, `synack explain FILE` and the time-sequence
 * plots; `synack sim` decodes its own link's frames with capread_ipv4 too
 * (through ladder_parse_frame).
 */
#ifndef SYNACK_TOOLS_CAPREAD_H
#define SYNACK_TOOLS_CAPREAD_H

#include <stddef.h>
#include <stdint.h>

#include <synack/synack.h>

#define CAP_MAX_SACK 4

/* One TCP segment of a capture. */
struct cap_pkt {
    uint64_t t_ns;   /* capture time, ns since the epoch */
    unsigned long n; /* the packet's number in the file (1-based, counting
                        every packet, as Wireshark numbers them) */
    synack_seg seg;  /* addresses, ports, SEQ/ACK/CTL/WND/LEN, options */
    uint8_t nsack;   /* SACK blocks in the option (D-SACK first, if any) */
    uint32_t sack[CAP_MAX_SACK][2]; /* [left, right) as on the wire */
    uint8_t ttl;
    uint16_t ip_id;
    uint8_t hdr_len;   /* TCP header bytes, options included */
    uint8_t truncated; /* the payload was cut by the snap length: LEN is
                          the length on the wire, the bytes are partial */
    const uint8_t *payload; /* the captured part of the payload (valid until
                               the next capread_next) */
    uint32_t payload_caplen;
};

typedef struct capread capread;

/* Open a pcap or pcapng file ("-" for standard input). NULL with a
 * sentence in err (no such file, not a capture, unsupported link type). */
capread *capread_open(const char *path, char *err, size_t errlen);
void capread_close(capread *c);

/* Keep only the packets a BPF expression (tcpdump's syntax, e.g. "tcp port
 * 80 and host 10.0.0.2") matches, through pcap_setfilter on the offline
 * handle: call it before the first capread_next. 0, or -1 with a sentence
 * in err (the expression does not compile). Packets the filter rejects are
 * not counted by capread_packets. */
int capread_set_filter(capread *c, const char *expr, char *err, size_t errlen);

/* The next IPv4/TCP segment: 1, or 0 at the end of the file, or -1 with a
 * sentence in err (a damaged file: what was read so far stays valid).
 * Packets that are not IPv4/TCP (ARP, IPv6, UDP, fragments) are counted
 * and skipped. */
int capread_next(capread *c, struct cap_pkt *p, char *err, size_t errlen);

/* The link type's name ("EN10MB", "LINUX_SLL2", ...). */
const char *capread_linktype(const capread *c);

/* Packets read so far, and of them those that were skipped: not IPv4
 * (IPv6 included: the tools are IPv4-only, as the stack), not TCP, IP
 * fragments, or damaged headers. */
unsigned long capread_packets(const capread *c);
unsigned long capread_skipped_ipv6(const capread *c);
unsigned long capread_skipped_other(const capread *c);

/* Decode an IPv4 packet (its header first) into p: 1 if it is an
 * unfragmented TCP segment with sane headers, 0 otherwise. caplen is what
 * is present; the IP total length says what was on the wire. Checksums are
 * not checked. */
int capread_ipv4(const uint8_t *ip, size_t caplen, struct cap_pkt *p);

#endif
