/*
 * chaos: the many-stack simulation scenario (issue 5, part 1).
 *
 * Every seed builds its own world from the seed alone: 3 to 5 stacks on
 * one in-memory link (each with its own MTU, 576 to 9000, and its own
 * tunables), a listener on every stack, and 3 to 16 connections between
 * random pairs of stacks in both directions, started at random moments
 * (connection churn: ephemeral ports are reused), some of them to a port
 * with no listener (they must be refused). The link mixes loss, loss
 * bursts, reordering, duplication, corruption, a rate limit with tiny or
 * large queues, and link flaps (down for up to 5 s); the loop's clock
 * jumps ahead by seconds at random moments (timers fire late). Each
 * connection draws buffers from 1 KiB to 4 MiB, a reader per end (fast,
 * slow, or one that stops reading for a while), a half-close (shutdown for
 * writing, then read to the end) or a plain close, and maybe an abort of
 * one end at a random moment (SO_LINGER 0 + close, or synack_abort).
 *
 * Checked after every step (invariants), and at the end:
 *  - every byte arrives exactly once and in order (each stream is a seeded
 *    pattern checked as it is read; the client's stream starts with an
 *    8-byte header naming the connection, so the server knows which one it
 *    accepted); end of stream is only read after the whole stream;
 *  - a connection that nobody aborted delivers both streams completely and
 *    both applications read end of stream and see no error; where one end
 *    aborted, the other application sees an error (ECONNRESET, EPIPE,
 *    ETIMEDOUT) or had already read its whole stream to the end; a
 *    connection to a port with no listener fails with ECONNREFUSED;
 *  - every state change is an edge of the RFC 9293 diagram
 *    (synack_state_edge_legal) continuing from the last state seen, every
 *    connection ends in CLOSED, stats.illegal_transitions and
 *    stats.timer_misfires (a timer fired in a state where it has no
 *    meaning) are 0;
 *  - per step: the state synack_conn_list reports is the one the trace
 *    reported last; Recv-Q + receive window <= SO_RCVBUF; Send-Q <=
 *    SO_SNDBUF; bytes_acked <= bytes_sent; bytes in flight (SND.NXT -
 *    SND.UNA) <= the peer's scaled window (+1 for a window probe); what the
 *    application wrote equals what was acknowledged plus Send-Q; nothing
 *    received that the peer's application has not written; the running
 *    timer has a meaning in the connection's state (TIME-WAIT timer only in
 *    TIME-WAIT/FIN-WAIT-2, no persist timer before ESTABLISHED, nothing but
 *    the 2MSL timer in TIME-WAIT, no timer on a listener) and is not
 *    overdue; the accept queue stays within the backlog; mem_used <=
 *    mem_peak and <= the limit; synack_stack_check (the core's own
 *    invariants) finds nothing;
 *  - no data segment larger than the receiver's MTU allows;
 *  - every stack holds exactly its initial memory at the end, and after
 *    synack_stack_del the allocator has every byte back.
 *
 * A failing seed names the connection involved; chaos_report prints the
 * seed, a command that replays it, and the ladder diagram of that
 * connection (the seed is run again with the diagram on).
 */
#ifndef SYNACK_TESTS_CHAOS_H
#define SYNACK_TESTS_CHAOS_H

#include <stdint.h>
#include <stdio.h>

#include <synack/synack.h>

typedef struct chaos_params {
    uint64_t seed;
    int verbose; /* print every trace event of every stack to stderr */
    /* Inject a fault into the checker (self-test of the failure path): the
     * byte check of connection 0 is told one received byte is wrong. */
    int fault;
    /* Draw this connection's ladder diagram to `draw_out` (-1: none). */
    int draw_conn;
    FILE *draw_out;
} chaos_params;

typedef struct chaos_result {
    int ok;
    int nfail;
    char msg[4096];  /* one line per failed check */
    char mix[400];   /* what the seed chose */
    int bad_conn;    /* first connection a failure names, -1 if none */
    unsigned nstacks, nconns, aborted, refused, peer_errors;
    unsigned cookie_resets; /* see check_conn in chaos.c */
    uint64_t bytes;  /* stream bytes delivered (all connections) */
    uint64_t steps, jumps, flaps;
    synack_time_t t_end;
    uint64_t edges[SYNACK__STATE_COUNT]; /* bit `to` of edges[from] */
} chaos_result;

void chaos_params_init(chaos_params *p);
/* Run one seed; returns r->ok. Never aborts the process. */
int chaos_run(const chaos_params *p, chaos_result *r);
/* Print a failed run's messages, the replay command (`replay_cmd`, e.g.
 * "tests/test_sim_chaos --seed 17") and the ladder diagram of the failing
 * connection, which is drawn by running the seed again. */
void chaos_report(const chaos_params *p, const chaos_result *r,
                  const char *replay_cmd, FILE *out);

#endif
