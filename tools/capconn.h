/*
 * The TCP connections of a capture: every IPv4/TCP segment of a file
 * (capread.h), grouped by connection, in capture order.
 *
 * A connection is one 4-tuple from its first segment until a new SYN
 * (without ACK, with another ISN) arrives on the same 4-tuple after the
 * old one ended (RST, or FINs both ways) or is 2 minutes old in silence:
 * the port was reused. Side A is the endpoint that sent the first SYN
 * (the client) when the capture has it, otherwise the sender of the first
 * segment seen; side B is the other one. Connections are numbered from 1
 * in the order of their first segment, as `--conn N` picks them.
 */
#ifndef SYNACK_TOOLS_CAPCONN_H
#define SYNACK_TOOLS_CAPCONN_H

#include "capread.h"

struct capconn_seg {
    struct cap_pkt p; /* payload and payload_caplen are not kept (NULL, 0) */
    int from;         /* 0: sent by A, 1: sent by B */
};

struct capconn {
    unsigned id;        /* 1-based */
    synack_addr ep[2];  /* [0] = A, [1] = B */
    int a_is_client;    /* A sent the first SYN in the capture */
    struct capconn_seg *segs;
    size_t nsegs;
};

struct capconns {
    struct capconn *conns;
    size_t n;
    unsigned long packets;      /* every packet of the file */
    unsigned long skipped_ipv6; /* not drawn: IPv6 */
    unsigned long skipped_other;
    char linktype[32];
};

/* Read the whole file. 0, or -1 with a sentence in err. A damaged file
 * after some packets is an error too (err says after which packet). */
int capconn_load(const char *path, struct capconns *out, char *err,
                 size_t errlen);
/* capconn_load with a BPF filter (NULL: none; capread_set_filter) and,
 * when keep_damaged is set, a damaged file is not an error: what was read
 * before the damage is kept in out, *damaged is set and err says where it
 * broke; the return is then 0. */
int capconn_load_ex(const char *path, const char *filter, int keep_damaged,
                    int *damaged, struct capconns *out, char *err,
                    size_t errlen);
void capconn_free(struct capconns *c);

#endif
