/*
 * The TCP state machine as a table: every edge tcp_set_state may take,
 * labelled with its cause as the trace hook names it ("rcv FIN,ACK",
 * "call close", "timeout 2MSL"), the segment sent on the way (in the style
 * of the seed documents' diagram: "SYN, ACK") and a short note.
 *
 * This table is the source of truth: tcp_state_edge_ok (and so the
 * illegal_transitions counter of tcp_set_state) answers from it,
 * `synack states` prints it and draws docs/state-diagram.dot from it, and
 * the fsm_edges_covered test checks that the packet-level tests exercise
 * every edge and take no edge it lacks (docs/state-transitions.md).
 *
 * Cause matching (synack_state_edge_match): "rcv" causes compare as flag
 * sets, PSH, URG, ECE and CWR ignored, and ACK ignored when the edge does
 * not name it ("rcv RST" is a RST with or without ACK; in synchronized
 * states every segment carries ACK). Other causes match exactly or with a
 * parenthesised detail: "call close" matches "call close (unread data:
 * reset)", "timeout retransmission" matches "timeout retransmission (peer
 * silent)".
 */
#include <string.h>

#include "core.h"

/* X(from, to, cause, send, figure5, note): figure5 is 1 for an edge of RFC
 * 9293 figure 5, 0 for one of the RFC's text (reset, abort, timeout) or of
 * a choice documented in docs/state-transitions.md. */
#define C_ SYNACK_CLOSED
#define L_ SYNACK_LISTEN
#define SS SYNACK_SYN_SENT
#define SR SYNACK_SYN_RECEIVED
#define ES SYNACK_ESTABLISHED
#define F1 SYNACK_FIN_WAIT_1
#define F2 SYNACK_FIN_WAIT_2
#define CW SYNACK_CLOSE_WAIT
#define CG SYNACK_CLOSING
#define LA SYNACK_LAST_ACK
#define TW SYNACK_TIME_WAIT
#define TCP_FSM_EDGES(X, a)                                                    \
    X(a, C_, L_, "call listen", "", 1, "passive open")                         \
    X(a, C_, SS, "call connect", "SYN", 1, "active open")                      \
    X(a, L_, SR, "rcv SYN", "SYN, ACK", 1,                                     \
      "a new connection forks off the listener, which stays in LISTEN")       \
    X(a, L_, SR, "rcv ACK", "", 0,                                             \
      "a valid SYN cookie (tcp_syncookies): the connection is rebuilt and "   \
      "the same ACK establishes it")                                           \
    X(a, L_, C_, "call close", "", 1,                                          \
      "pending embryos freed, unaccepted children reset")                     \
    X(a, L_, C_, "call abort", "", 0, "as close")                              \
    X(a, SS, ES, "rcv SYN,ACK", "ACK", 1, "our SYN acked")                     \
    X(a, SS, ES, "rcv SYN,FIN,ACK", "ACK", 0,                                  \
      "then CLOSE-WAIT for the FIN of the same segment")                      \
    X(a, SS, SR, "rcv SYN", "SYN, ACK", 1, "simultaneous open")                \
    X(a, SS, C_, "call close", "", 1, "delete the TCB")                        \
    X(a, SS, C_, "call abort", "", 0, "delete the TCB")                        \
    X(a, SS, C_, "rcv RST,ACK", "", 0, "connection refused: ECONNREFUSED")     \
    X(a, SS, C_, "timeout retransmission", "", 0,                              \
      "tcp_syn_retries exhausted: ETIMEDOUT")                                  \
    X(a, SS, C_, "timeout TCP_USER_TIMEOUT", "", 0, "ETIMEDOUT")               \
    X(a, SR, ES, "rcv ACK", "", 1, "our SYN acked (with or without data)")     \
    X(a, SR, ES, "rcv SYN,ACK", "ACK", 0,                                      \
      "simultaneous open, RFC 9293 figure 8")                                  \
    X(a, SR, ES, "rcv FIN,ACK", "", 0,                                         \
      "the ACK first, then the FIN moves on to CLOSE-WAIT")                    \
    X(a, SR, F1, "call close", "FIN, ACK", 1, "simultaneous open")             \
    X(a, SR, F1, "call shutdown", "FIN, ACK", 0, "simultaneous open, SHUT_WR")  \
    X(a, SR, C_, "rcv RST", "", 0,                                             \
      "passive: embryo freed, the listener stays; simultaneous: "             \
      "ECONNREFUSED")                                                          \
    X(a, SR, C_, "rcv SYN", "", 0,                                             \
      "another SYN in the window: \"return to LISTEN\", embryo freed")         \
    X(a, SR, C_, "call close", "", 0,                                          \
      "its listener closed: embryo freed (simultaneous open with SO_LINGER "   \
      "{1, 0}: RST, ACK)")                                                     \
    X(a, SR, C_, "call abort", "RST, ACK", 0,                                  \
      "simultaneous open; an embryo of an aborted listener: freed")            \
    X(a, SR, C_, "timeout retransmission", "", 0,                              \
      "tcp_synack_retries exhausted")                                          \
    X(a, SR, C_, "timeout TCP_USER_TIMEOUT", "", 0,                            \
      "inherited from the listener")                                           \
    X(a, ES, F1, "call close", "FIN, ACK", 1, "active close")                  \
    X(a, ES, F1, "call shutdown", "FIN, ACK", 1, "half-close (SHUT_WR)")       \
    X(a, ES, CW, "rcv FIN,ACK", "ACK", 1, "passive close")                     \
    X(a, ES, CW, "rcv SYN,FIN,ACK", "ACK", 0,                                  \
      "the FIN of the SYN,ACK that established it")                            \
    X(a, ES, CW, "rcv ACK", "ACK", 0,                                          \
      "data fills the hole before a FIN held out of order")                    \
    X(a, ES, C_, "rcv RST", "", 0, "ECONNRESET")                               \
    X(a, ES, C_, "call abort", "RST, ACK", 0, "")                              \
    X(a, ES, C_, "call close", "RST, ACK", 0,                                  \
      "unread data, SO_LINGER {1, 0}, or unaccepted when its listener "       \
      "closes")                                                                \
    X(a, ES, C_, "timeout retransmission", "", 0,                              \
      "tcp_retries2 exhausted: ETIMEDOUT")                                     \
    X(a, ES, C_, "timeout TCP_USER_TIMEOUT", "", 0, "ETIMEDOUT")               \
    X(a, ES, C_, "timeout zero-window probes", "", 0, "ETIMEDOUT")             \
    X(a, ES, C_, "timeout keepalive", "RST, ACK", 0,                           \
      "tcp_keepalive_probes unanswered: ETIMEDOUT")                            \
    X(a, F1, F2, "rcv ACK", "", 1, "our FIN acked")                            \
    X(a, F1, CG, "rcv FIN,ACK", "ACK", 1, "simultaneous close")                \
    X(a, F1, TW, "rcv FIN,ACK", "ACK", 0,                                      \
      "the FIN,ACK acks our FIN: no FIN-WAIT-2 step")                          \
    X(a, F1, C_, "rcv RST", "", 0, "ECONNRESET")                               \
    X(a, F1, C_, "call abort", "RST, ACK", 0, "")                              \
    X(a, F1, C_, "rcv ACK", "RST, ACK", 0,                                     \
      "new data for an orphaned connection (RFC 1122 4.2.2.13)")              \
    X(a, F1, C_, "call close", "RST, ACK", 0,                                  \
      "after shutdown: unread data or SO_LINGER {1, 0}")                       \
    X(a, F1, C_, "timeout retransmission", "", 0, "ETIMEDOUT")                 \
    X(a, F1, C_, "timeout TCP_USER_TIMEOUT", "", 0, "ETIMEDOUT")               \
    X(a, F1, C_, "timeout zero-window probes", "", 0, "ETIMEDOUT")             \
    X(a, F2, TW, "rcv FIN,ACK", "ACK", 1, "")                                  \
    X(a, F2, C_, "rcv RST", "", 0, "ECONNRESET")                               \
    X(a, F2, C_, "rcv ACK", "RST, ACK", 0,                                     \
      "new data for an orphaned connection (RFC 1122 4.2.2.13)")              \
    X(a, F2, C_, "call abort", "RST, ACK", 0, "")                              \
    X(a, F2, C_, "call close", "RST, ACK", 0,                                  \
      "after shutdown: unread data or SO_LINGER {1, 0}")                       \
    X(a, F2, C_, "timeout tcp_fin_timeout", "", 0, "orphaned connections only") \
    X(a, F2, C_, "timeout keepalive", "RST, ACK", 0, "ETIMEDOUT")              \
    X(a, CW, LA, "call close", "FIN, ACK", 1, "")                              \
    X(a, CW, LA, "call shutdown", "FIN, ACK", 1, "SHUT_WR")                    \
    X(a, CW, C_, "rcv RST", "", 0, "ECONNRESET")                               \
    X(a, CW, C_, "call abort", "RST, ACK", 0, "")                              \
    X(a, CW, C_, "call close", "RST, ACK", 0, "unread data or SO_LINGER {1, 0}") \
    X(a, CW, C_, "timeout retransmission", "", 0, "ETIMEDOUT")                 \
    X(a, CW, C_, "timeout TCP_USER_TIMEOUT", "", 0, "ETIMEDOUT")               \
    X(a, CW, C_, "timeout zero-window probes", "", 0, "ETIMEDOUT")             \
    X(a, CW, C_, "timeout keepalive", "RST, ACK", 0, "ETIMEDOUT")              \
    X(a, CG, TW, "rcv ACK", "", 1, "our FIN acked")                            \
    X(a, CG, C_, "rcv RST", "", 0, "")                                         \
    X(a, CG, C_, "call abort", "", 0, "")                                      \
    X(a, CG, C_, "call close", "", 0,                                          \
      "after shutdown: unread data or SO_LINGER {1, 0}")                       \
    X(a, CG, C_, "timeout retransmission", "", 0, "ETIMEDOUT")                 \
    X(a, CG, C_, "timeout TCP_USER_TIMEOUT", "", 0, "ETIMEDOUT")               \
    X(a, LA, C_, "rcv ACK", "", 1, "our FIN acked: delete the TCB")            \
    X(a, LA, C_, "rcv RST", "", 0, "")                                         \
    X(a, LA, C_, "call abort", "", 0, "")                                      \
    X(a, LA, C_, "call close", "", 0, "after shutdown: SO_LINGER {1, 0}")     \
    X(a, LA, C_, "timeout retransmission", "", 0, "ETIMEDOUT")                 \
    X(a, LA, C_, "timeout TCP_USER_TIMEOUT", "", 0, "ETIMEDOUT")               \
    X(a, LA, C_, "timeout zero-window probes", "", 0,                          \
      "data and FIN behind a zero window")                                     \
    X(a, TW, C_, "timeout 2MSL", "", 1, "tcp_timewait_len: delete the TCB")    \
    X(a, TW, C_, "rcv RST", "", 0, "tcp_rfc1337=0 (the default)")              \
    X(a, TW, C_, "rcv SYN", "", 0,                                             \
      "a newer SYN with a listener: a new connection takes over")              \
    X(a, TW, C_, "call abort", "", 0, "")                                      \
    X(a, TW, C_, "call close", "", 0,                                          \
      "after shutdown: unread data or SO_LINGER {1, 0}")

#define EDGE_ROW(a, f, t, c, s, fig, n) {f, t, c, s, n, fig},
static const synack_state_edge edges[] = {TCP_FSM_EDGES(EDGE_ROW, 0)};
#undef EDGE_ROW

/* The same table as one bitmask of to-states per from-state, computed by
 * the compiler: tcp_set_state checks it on every change. */
#define FROM_BIT(a, f, t, c, s, fig, n) | ((f) == (a) ? 1u << (t) : 0u)
#define FROM_MASK(s) [s] = (uint16_t)(0u TCP_FSM_EDGES(FROM_BIT, s))
static const uint16_t legal[SYNACK__STATE_COUNT] = {
    FROM_MASK(C_), FROM_MASK(L_), FROM_MASK(SS), FROM_MASK(SR),
    FROM_MASK(ES), FROM_MASK(F1), FROM_MASK(F2), FROM_MASK(CW),
    FROM_MASK(CG), FROM_MASK(LA), FROM_MASK(TW),
};
#undef FROM_MASK
#undef FROM_BIT

bool tcp_state_edge_ok(int from, int to)
{
    if (from < 0 || from >= SYNACK__STATE_COUNT || to < 0 ||
        to >= SYNACK__STATE_COUNT)
        return false;
    return (legal[from] >> to) & 1u;
}

int synack_state_edge_legal(int from, int to)
{
    return tcp_state_edge_ok(from, to);
}

size_t synack_state_edges(const synack_state_edge **out)
{
    if (out)
        *out = edges;
    return sizeof edges / sizeof edges[0];
}

static bool cause_matches(const char *edge, const char *cause)
{
    if (strncmp(edge, "rcv ", 4) == 0) {
        if (strncmp(cause, "rcv ", 4) != 0)
            return false;
        int want = tcp_flags_parse(edge + 4);
        int got = tcp_flags_parse(cause + 4);
        if (want < 0 || got < 0)
            return false;
        int ignore = SYNACK_TH_PSH | SYNACK_TH_URG | SYNACK_TH_ECE |
                     SYNACK_TH_CWR;
        if (!(want & SYNACK_TH_ACK))
            ignore |= SYNACK_TH_ACK;
        return (got & ~ignore) == want;
    }
    size_t n = strlen(edge);
    if (strncmp(edge, cause, n) != 0)
        return false;
    return cause[n] == '\0' || (cause[n] == ' ' && cause[n + 1] == '(');
}

int synack_state_edge_match(int from, int to, const char *cause)
{
    if (!cause)
        return -1;
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        if (edges[i].from == from && edges[i].to == to &&
            cause_matches(edges[i].cause, cause))
            return (int)i;
    return -1;
}
