/*
 * The control-socket protocol (private to tools/: the server in ctl.c, the
 * clients `synack ss`, `synack sysctl`, `synack explain` and `synack
 * trace`), and the client helpers.
 *
 * One request per connection: the client sends one line (at most
 * CTL_MAX_LINE bytes with its '\n'); the server answers and closes (but
 * for `trace`, a stream that lasts as long as the client stays).
 *
 * Requests:
 *   hello                      who serves this socket
 *   conns                      every connection of the stack
 *   sysctl-list                every tunable
 *   sysctl-get NAME            one tunable
 *   sysctl-set NAME VALUE      change one (VALUE: the rest of the line,
 *                              e.g. "4096 131072 6291456"); answers the
 *                              value now in force
 *   trace                      a stream (the one request that does not
 *                              end the connection): the status and
 *                              process lines, then
 *       fields<TAB>time<TAB>id<TAB>local<TAB>remote<TAB>from<TAB>to<TAB>cause
 *     and then, as they happen, one line per state change of any
 *     connection of the stack:
 *       state<TAB>1.234567<TAB>5<TAB>10.0.0.2:80<TAB>10.0.0.1:4000<TAB>
 *             ESTABLISHED<TAB>CLOSE-WAIT<TAB>rcv FIN,ACK
 *     time: seconds since the subscription (server's monotonic clock);
 *     cause: what made it (a segment "rcv FIN,ACK", a call "call close",
 *     a timer "timeout 2MSL"). The server never blocks on a subscriber:
 *     each has CTL_TRACE_BUF bytes of queue; events that do not fit are
 *     dropped and counted, and reported as "lost<TAB>N" once there is room
 *     again. At most CTL_TRACE_MAX_SUBS subscribers ("too many trace
 *     subscribers"). The client keeps its sending side open: closing it
 *     (or the connection) ends the subscription. When the process exits
 *     the stream ends with "end".
 *
 * Answer: a status line, then (when ok) lines of TAB-separated fields, the
 * first field naming the line's kind, and a last line "end" (so a client
 * can tell a complete answer from a cut one):
 *   synack-ctl 1 ok                      | synack-ctl 1 error TEXT
 *   pid<TAB>1234
 *   command<TAB>echo
 *   ifname<TAB>tap0
 *   version<TAB>0.1.0
 *   ...request-specific lines...
 *   end
 * "1" is the protocol version; a client refuses other versions.
 *
 * conns:       fields<TAB>id<TAB>handle<TAB>state<TAB>...   (the column names)
 *              conn<TAB>1<TAB>3<TAB>SYN-SENT<TAB>...         (one per connection)
 *   Columns (clients look them up by name, so more may be added):
 *   id handle state(RFC 9293 spelling) local remote (A.B.C.D:PORT)
 *   recv_q send_q timer(synack_timer_name: off/on/keepalive/timewait/
 *   persist/delack) timer_expires_ms (signed, relative to the server's
 *   monotonic clock when it answered; "-" with timer off) backoff rtt_us
 *   rttvar_us rto_us snd_mss rcv_mss cwnd ssthresh (bytes) snd_wnd rcv_wnd
 *   snd_wscale rcv_wscale ts_ok sack_ok bytes_sent bytes_acked
 *   bytes_received bytes_retrans segs_in segs_out total_retrans
 *   state_ms (milliseconds since the connection entered its state; "-"
 *   when unknown: a state set before the stack first saw the clock)
 *   orphan (1: the application closed its handle; only the peer and the
 *   timers can end it) persist_probes (zero-window probes unanswered)
 * sysctl-*:    sysctl<TAB>NAME<TAB>VALUE<TAB>HELP
 *   NAME is the short name (tcp_syn_retries); numbers of a vector value are
 *   separated by single spaces.
 *
 * Errors (status line only, no "end"): "unknown tunable NAME", "invalid
 * value 'V' (NAME: HELP; accepted: LO to HI)", "value out of range (NAME:
 * HELP; accepted: LO to HI)" (the range only for one-number tunables),
 * "unknown request 'WORD' (the requests are: ...)", "request 'WORD' takes
 * no argument", "usage: sysctl-get NAME", "request line too long (at most
 * 1024 bytes)", "too many trace subscribers (at most 8)". A client that
 * sends nothing within CTL_SERVER_READ_MS is closed without an answer.
 */
#ifndef SYNACK_TOOLS_CTL_PROTO_H
#define SYNACK_TOOLS_CTL_PROTO_H

#include <stddef.h>

#define CTL_MAGIC "synack-ctl"
#define CTL_VERSION 1
#define CTL_MAX_LINE 1024
/* How long the server waits for a request line, and for a stalled client
 * to take its answer: the stack does not run meanwhile. */
#define CTL_SERVER_READ_MS 200
#define CTL_SERVER_WRITE_MS 500
/* trace: queue per subscriber, and how many at once */
#define CTL_TRACE_BUF 65536
#define CTL_TRACE_MAX_SUBS 8
/* How long a client waits for a server. */
#define CTL_CLIENT_MS 2000

/* ctl_request results */
enum {
    CTL_OK = 0,
    CTL_ABSENT = -1, /* no such socket file */
    CTL_STALE = -2,  /* the file exists, nobody listens (process gone) */
    CTL_DENIED = -3, /* permission denied */
    CTL_FAILED = -4, /* no answer, cut answer, or not our protocol */
};

/* <dir>/<ifname>.sock into buf; 0 or -1 (too long). */
int ctl_sock_path(const char *dir, const char *ifname, char *buf, size_t len);

/* Send `request` (one line, without '\n') to the socket at path and read
 * the whole answer (NUL-terminated, malloc'd, into *answer). CTL_OK or a
 * negative CTL_* with a sentence in err. */
int ctl_request(const char *path, const char *request, int timeout_ms,
                char **answer, char *err, size_t errlen);

/* Connect to path and send `request` without closing the sending side
 * (for `trace`): the connected socket (blocking), or a negative CTL_* with
 * a sentence in err. */
int ctl_open_stream(const char *path, const char *request, char *err,
                    size_t errlen);

/* A parsed answer; the strings point into the answer text (modified in
 * place). */
struct ctl_reply {
    int ok;            /* status ok */
    const char *error; /* status error: its text */
    long pid;
    const char *command, *ifname, *version;
    char **lines; /* the request-specific lines, without "end" */
    size_t nlines;
};
/* 0, or -1 (not a complete answer of our protocol version) with err. Free
 * with ctl_reply_free. */
int ctl_reply_parse(char *answer, struct ctl_reply *r, char *err,
                    size_t errlen);
void ctl_reply_free(struct ctl_reply *r);

/* Split a line at TABs in place: up to max fields into f; returns the
 * count. */
size_t ctl_split(char *line, char **f, size_t max);

/* The control sockets in dir ("*.sock"), sorted, as malloc'd full paths.
 * 0 (a missing directory is no socket), or -1 with err (unreadable). */
int ctl_scan(const char *dir, char ***paths, size_t *n, char *err,
             size_t errlen);
void ctl_scan_free(char **paths, size_t n);

#endif
