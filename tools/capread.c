/*
 * Capture reading and IPv4/TCP decoding (capread.h).
 */
#define _DEFAULT_SOURCE /* pcap.h needs u_int and u_char */
#include "capread.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif

struct capread {
    pcap_t *pcap;
    int dlt;
    unsigned long packets, ipv6, other;
};

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static int dlt_supported(int dlt)
{
    switch (dlt) {
    case DLT_EN10MB:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_NULL:
    case DLT_LOOP:
        return 1;
    default:
        return 0;
    }
}

capread *capread_open(const char *path, char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE];
    ebuf[0] = '\0';
    pcap_t *p = pcap_open_offline_with_tstamp_precision(
        path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
    if (!p) {
        if (strstr(ebuf, "unknown file format") ||
            strstr(ebuf, "truncated dump file"))
            snprintf(err, errlen, "%s: not a pcap or pcapng file (%s)", path,
                     ebuf);
        else if (ebuf[0] && strncmp(ebuf, path, strlen(path)) == 0)
            snprintf(err, errlen, "%s", ebuf);
        else
            snprintf(err, errlen, "%s: %s", path,
                     ebuf[0] ? ebuf : "cannot read it as a capture");
        return NULL;
    }
    int dlt = pcap_datalink(p);
    if (!dlt_supported(dlt)) {
        const char *name = pcap_datalink_val_to_name(dlt);
        snprintf(err, errlen,
                 "%s: link type %s (%d) is not supported (supported: "
                 "Ethernet, raw IP, Linux cooked v1/v2, BSD loopback)",
                 path, name ? name : "unknown", dlt);
        pcap_close(p);
        return NULL;
    }
    capread *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "%s: out of memory", path);
        pcap_close(p);
        return NULL;
    }
    c->pcap = p;
    c->dlt = dlt;
    return c;
}

void capread_close(capread *c)
{
    if (!c)
        return;
    pcap_close(c->pcap);
    free(c);
}

int capread_set_filter(capread *c, const char *expr, char *err, size_t errlen)
{
    struct bpf_program prog;
    if (pcap_compile(c->pcap, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(err, errlen, "filter '%s': %s", expr, pcap_geterr(c->pcap));
        return -1;
    }
    int rc = pcap_setfilter(c->pcap, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
        snprintf(err, errlen, "filter '%s': %s", expr, pcap_geterr(c->pcap));
        return -1;
    }
    return 0;
}

const char *capread_linktype(const capread *c)
{
    const char *n = pcap_datalink_val_to_name(c->dlt);
    return n ? n : "unknown";
}

unsigned long capread_packets(const capread *c)
{
    return c->packets;
}

unsigned long capread_skipped_ipv6(const capread *c)
{
    return c->ipv6;
}

unsigned long capread_skipped_other(const capread *c)
{
    return c->other;
}

/* The network-layer protocol and where its header starts: 4, 6 or 0
 * (something else), with *off set. */
static int network_of(int dlt, const uint8_t *d, size_t len, size_t *off)
{
    uint16_t et;
    switch (dlt) {
    case DLT_EN10MB: {
        size_t o = 12;
        if (len < o + 2)
            return 0;
        et = rd16(d + o);
        while ((et == 0x8100 || et == 0x88a8) && len >= o + 6) {
            o += 4;
            et = rd16(d + o);
        }
        *off = o + 2;
        break;
    }
    case DLT_LINUX_SLL:
        if (len < 16)
            return 0;
        et = rd16(d + 14);
        *off = 16;
        break;
    case DLT_LINUX_SLL2:
        if (len < 20)
            return 0;
        et = rd16(d);
        *off = 20;
        break;
    case DLT_NULL:
    case DLT_LOOP: {
        if (len < 4)
            return 0;
        uint32_t fam = dlt == DLT_LOOP ? rd32(d)
                                       : (uint32_t)d[0] | (uint32_t)d[1] << 8 |
                                             (uint32_t)d[2] << 16 |
                                             (uint32_t)d[3] << 24;
        if (fam > 0xffff) /* written on a big-endian host */
            fam = rd32(d);
        *off = 4;
        if (fam == 2)
            return 4;
        /* BSDs disagree on AF_INET6: 24, 28, 30 */
        return fam == 24 || fam == 28 || fam == 30 ? 6 : 0;
    }
    default: /* DLT_RAW, DLT_IPV4: the IP header first */
        *off = 0;
        if (len < 1)
            return 0;
        return d[0] >> 4 == 4 ? 4 : d[0] >> 4 == 6 ? 6 : 0;
    }
    return et == 0x0800 ? 4 : et == 0x86dd ? 6 : 0;
}

static void parse_options(const uint8_t *th, size_t off, struct cap_pkt *p)
{
    synack_seg *s = &p->seg;
    for (size_t i = 20; i < off;) {
        uint8_t kind = th[i];
        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= off || th[i + 1] < 2 || i + th[i + 1] > off)
            break;
        uint8_t ol = th[i + 1];
        if (kind == 2 && ol == 4) {
            s->has_mss = 1;
            s->mss = rd16(th + i + 2);
        } else if (kind == 3 && ol == 3) {
            s->has_ws = 1;
            s->ws = th[i + 2];
        } else if (kind == 4 && ol == 2) {
            s->has_sackok = 1;
        } else if (kind == 5 && ol >= 10 && (ol - 2) % 8 == 0) {
            for (size_t b = i + 2; b + 8 <= i + ol && p->nsack < CAP_MAX_SACK;
                 b += 8) {
                p->sack[p->nsack][0] = rd32(th + b);
                p->sack[p->nsack][1] = rd32(th + b + 4);
                p->nsack++;
            }
        } else if (kind == 8 && ol == 10) {
            s->has_ts = 1;
            s->tsval = rd32(th + i + 2);
            s->tsecr = rd32(th + i + 6);
        }
        i += ol;
    }
}

int capread_ipv4(const uint8_t *ip, size_t caplen, struct cap_pkt *p)
{
    memset(p, 0, sizeof *p);
    if (caplen < 20 || (ip[0] >> 4) != 4)
        return 0;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    size_t tot = rd16(ip + 2);
    if (ihl < 20 || tot < ihl || ip[9] != 6 || caplen < ihl)
        return 0;
    if (rd16(ip + 6) & 0x3fff) /* a fragment */
        return 0;
    if (tot == 0) /* TSO on the capturing host: length left 0 */
        tot = caplen;
    const uint8_t *th = ip + ihl;
    size_t have = caplen - ihl;            /* captured TCP bytes */
    size_t tlen = tot - ihl;               /* TCP bytes on the wire */
    if (tlen < 20 || have < 20)
        return 0;
    size_t off = (size_t)(th[12] >> 4) * 4;
    if (off < 20 || off > tlen || off > have)
        return 0;
    synack_seg *s = &p->seg;
    s->src.ip = rd32(ip + 12);
    s->dst.ip = rd32(ip + 16);
    s->src.port = rd16(th);
    s->dst.port = rd16(th + 2);
    s->seq = rd32(th + 4);
    s->ack = rd32(th + 8);
    s->flags = th[13];
    s->wnd = rd16(th + 14);
    s->len = (uint32_t)(tlen - off);
    p->ttl = ip[8];
    p->ip_id = rd16(ip + 4);
    p->hdr_len = (uint8_t)off;
    parse_options(th, off, p);
    size_t got = have > tlen ? tlen : have; /* Ethernet padding beyond */
    p->payload = th + off;
    p->payload_caplen = (uint32_t)(got - off);
    p->truncated = p->payload_caplen < s->len;
    return 1;
}

int capread_next(capread *c, struct cap_pkt *p, char *err, size_t errlen)
{
    for (;;) {
        struct pcap_pkthdr *h;
        const u_char *d;
        int r = pcap_next_ex(c->pcap, &h, &d);
        if (r == PCAP_ERROR_BREAK)
            return 0;
        if (r != 1) {
            snprintf(err, errlen, "damaged capture after packet %lu: %s",
                     c->packets, pcap_geterr(c->pcap));
            return -1;
        }
        c->packets++;
        size_t off = 0;
        int net = network_of(c->dlt, d, h->caplen, &off);
        if (net == 6) {
            c->ipv6++;
            continue;
        }
        if (net != 4 || !capread_ipv4(d + off, h->caplen - off, p)) {
            c->other++;
            continue;
        }
        p->t_ns = (uint64_t)h->ts.tv_sec * 1000000000u +
                  (uint64_t)h->ts.tv_usec; /* nano precision was asked */
        p->n = c->packets;
        return 1;
    }
}
