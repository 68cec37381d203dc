/*
 * simnet: a deterministic two-stack simulation fixture for the tests.
 *
 * Stack A (10.0.0.1) and stack B (10.0.0.2) sit on one in-memory link with
 * the given impairments and run in virtual time. A connects to B's listener
 * and sends `nbytes` of a seeded pattern, then closes; B accepts (closing its
 * listener at once), reads and verifies the stream as it arrives (nothing is
 * stored), and closes on end of stream. Optionally (bidir) B sends a stream
 * back at the same time, with half-closes on both ends. The run ends when neither stack has
 * a connection left (TIME-WAIT included) or at the virtual-time limit.
 *
 * Checks made by simnet_run (each failure is one line in result.msg, naming
 * the configuration and the seed):
 *  - the stream arrived complete and byte-exact, and no socket call failed;
 *  - every state change reported by the trace hook is an edge of the
 *    RFC 9293 diagram (synack_state_edge_legal), continues from the state
 *    the connection was last seen in, and every connection ends in CLOSED;
 *    stats.illegal_transitions and stats.timer_misfires are 0 on both
 *    stacks;
 *  - both stacks hold exactly the memory they held right after
 *    synack_stack_new, and after synack_stack_del the allocator has every
 *    byte back (sizes given to mem_release are checked against the
 *    allocation);
 *  - no data segment is larger than the peer's MTU (IP + TCP headers,
 *    timestamps, payload);
 *  - with check_invariants, after every step of the loop: every connection
 *    is in a valid state, Recv-Q plus the receive window never exceed the
 *    receive buffer, Send-Q never exceeds the send buffer, nothing is
 *    acknowledged that was not sent, B's connection never holds more than
 *    was sent, mem_used never exceeds mem_peak, and synack_stack_check
 *    (the core's own invariants) finds nothing.
 */
#ifndef SYNACK_TESTS_SIMNET_H
#define SYNACK_TESTS_SIMNET_H

#include <stddef.h>
#include <stdint.h>

#include <synack/dev.h>
#include <synack/synack.h>

typedef struct simnet_params {
    /* Impairments. link.seed is ignored: the link is seeded from `seed`. */
    synack_link_config link;
    uint64_t nbytes;
    /* Everything random derives from this: the data pattern, both stacks'
     * seeds and ISN secrets, and the link's impairments. */
    uint64_t seed;
    synack_time_t vlimit; /* virtual-time limit (absolute; start is 0) */
    int check_invariants;
    const char *label; /* configuration name used in messages */
    /* Optional "name=value" tunables applied to both stacks, NULL ended. */
    const char *const *sysctls;
    /* Optional: record every frame crossing A's port to this pcap file. */
    const char *pcap_path;
    /* Optional: SO_RCVBUF / SO_SNDBUF for both sockets (0: default). */
    int rcvbuf, sndbuf;
    /* Print every trace event (states, segments, drops) to stderr. */
    int verbose;
    /* Two-way transfer: B also sends nbytes_back to A. Each end shuts down
     * for writing when it has queued its stream, reads the other's to the
     * end, then closes (half-close; FINs may cross: simultaneous close). */
    int bidir;
    uint64_t nbytes_back;
    /* B's application reads at most this many bits per second of virtual
     * time (checked every 10 ms): a slow reader, zero windows. 0: as fast as
     * data comes. */
    uint64_t read_rate_bps;
    /* IP MTU of A's and B's interface (0: 1500). No data segment may be
     * larger than the receiving side's MTU (MSS option, RFC 9293 3.7.1). */
    uint16_t mtu_a, mtu_b;
    /* synack_stack_config.gso_max of both stacks (0: off). The link must
     * then cut the large segments (link.mtu, link.tso); the MTU check above
     * applies to the segments as they arrive. */
    uint32_t gso_max;
    int gso_a_only; /* B without gso_max */
} simnet_params;

typedef struct simnet_result {
    int ok;         /* every check passed */
    int nfail;      /* number of failed checks */
    char msg[4096]; /* one line per failed check */
    uint64_t sent;  /* bytes A's send() accepted */
    uint64_t rcvd;  /* bytes B's recv() returned (all verified) */
    uint64_t sent_back, rcvd_back; /* the same for B->A (bidir) */
    synack_time_t t_eof_back;      /* A read end of stream (bidir) */
    synack_time_t t_established; /* A saw its connect complete */
    synack_time_t t_eof;         /* B read end of stream */
    synack_time_t t_end;         /* both stacks without connections */
    uint64_t steps;              /* loop steps */
    synack_stack_stats sa, sb;   /* stats of A and B after the run */
    synack_link_stats ls;
    /* State-diagram edges taken on either stack: bit `to` of edges[from]. */
    uint32_t edges[SYNACK__STATE_COUNT];
} simnet_result;

/* Defaults: no impairment, 1 MiB, seed 1, limit 1 day, invariants on. */
void simnet_params_init(simnet_params *p);

/* Run one simulation; returns r->ok. Never aborts the process. */
int simnet_run(const simnet_params *p, simnet_result *r);

/* "loss=5% delay=5ms ..." for messages; returns buf. */
char *simnet_link_str(const synack_link_config *c, char *buf, size_t len);

/* The pattern byte at stream offset `off` for `seed` (exposed for tests
 * that want to check the generator). */
void simnet_pattern(uint64_t seed, uint64_t off, uint8_t *buf, size_t len);

/* Number of seeds for the multi-seed tests: SYNACK_SIM_SEEDS if set (> 0),
 * else `dflt`. */
unsigned simnet_seed_count(unsigned dflt);

/* Counting allocator for a stack (synack_stack_config.mem_alloc /
 * mem_release, ctx: a simnet_alloc): every block records its size, so a
 * release with another size is counted, and a balanced run ends with
 * bytes == blocks == 0. Shared by the simnet and chaos fixtures. */
typedef struct simnet_alloc {
    int64_t bytes, blocks;
    uint64_t bad_release; /* release with a size that differs */
} simnet_alloc;
void *simnet_mem_alloc(void *ctx, size_t size);
void simnet_mem_release(void *ctx, void *ptr, size_t size);

#endif
