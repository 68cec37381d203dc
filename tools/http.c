/*
 * synack http: HTTP/1.1 file server on the live runner (tools/live.h).
 *
 * GET and HEAD of regular files under the root; a directory serves its
 * index.html. Every path is resolved with realpath() and must stay inside
 * the root (no escape through "..", symlinks or encoded slashes): 403
 * otherwise, 404 for what does not exist. Keep-alive is the default for
 * HTTP/1.1 ("Connection: close" honoured); HTTP/1.0 closes unless it asks
 * for keep-alive. Pipelined requests are answered in order: a request is
 * parsed only when the previous response is completely queued. Files are
 * streamed in CHUNK-sized preads as the send buffer takes them. After the
 * last response of a connection the server half-closes and reads until the
 * client closes (or LINGER passes), so a pipelined tail never turns the
 * close into a reset.
 *
 * One log line per request on stderr:
 *   synack http: 10.9.0.1:41234 "GET /a.txt HTTP/1.1" 200 1234
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <synack/synack.h>

#include "http.h"
#include "tool.h"

#define CHUNK 65536
#define HDR_MAX 16384               /* request line + headers */
#define LINGER (5 * SYNACK_SEC)     /* reading after our FIN */
#define IDLE_TIMEOUT (300 * SYNACK_SEC)

struct hconn {
    int h;
    synack_addr peer;
    char in[HDR_MAX];
    size_t in_len;
    uint64_t skip;  /* request body bytes still to discard */
    int peer_eof;
    /* the response being sent */
    int responding, close_after;
    char hdr[1024];
    size_t hdr_off, hdr_len;
    const char *body; /* small generated body (error pages) */
    size_t body_off, body_len;
    int fd;
    uint64_t file_off, file_left;
    uint8_t *chunk;
    size_t chunk_off, chunk_len;
    /* after our last response: FIN sent, reading until the client's */
    int lingering;
    synack_time_t since; /* linger start, or last activity */
};

struct http {
    const char *prog;
    char root[PATH_MAX];
    size_t rootlen;
    struct hconn **c;
    size_t n, cap;
    char scratch[CHUNK];
};

/* ---- responses ------------------------------------------------------------ */

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
    }
    return "Error";
}

static const char *content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"txt", "text/plain; charset=utf-8"},
        {"css", "text/css"},
        {"js", "text/javascript"},
        {"json", "application/json"},
        {"xml", "application/xml"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"svg", "image/svg+xml"},
        {"ico", "image/x-icon"},
        {"pdf", "application/pdf"},
        {"pcap", "application/vnd.tcpdump.pcap"},
    };
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (dot)
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

static void set_header(struct hconn *c, int status, const char *type,
                       uint64_t len, int keep, int v10, const char *extra)
{
    char date[64];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    int n = snprintf(c->hdr, sizeof c->hdr,
                     "HTTP/1.1 %d %s\r\n"
                     "Server: synack/" SYNACK_TOOL_VERSION "\r\n"
                     "Date: %s\r\n"
                     "Content-Type: %s\r\n"
                     "Content-Length: %llu\r\n"
                     "%s%s"
                     "\r\n",
                     status, reason(status), date, type,
                     (unsigned long long)len,
                     !keep ? "Connection: close\r\n"
                     : v10 ? "Connection: keep-alive\r\n"
                           : "",
                     extra ? extra : "");
    c->hdr_off = 0;
    c->hdr_len = n > 0 && (size_t)n < sizeof c->hdr ? (size_t)n : 0;
}

/* An error page; `keep`: the connection may stay open. `extra`: more
 * header lines (each ending in CRLF) or NULL. */
static void respond_error_x(struct hconn *c, int status, int head, int keep,
                            int v10, const char *extra)
{
    static const int codes[] = {301, 400, 403, 404, 405,
                                414, 431, 500, 501, 505};
    static char bodies[sizeof codes / sizeof codes[0]][128];
    static size_t lens[sizeof codes / sizeof codes[0]];
    size_t k = 0;
    while (k + 1 < sizeof codes / sizeof codes[0] && codes[k] != status)
        k++;
    if (!lens[k]) {
        int n = snprintf(bodies[k], sizeof bodies[k],
                         "<html><body><h1>%d %s</h1></body></html>\n",
                         codes[k], reason(codes[k]));
        lens[k] = n > 0 ? (size_t)n : 0;
    }
    set_header(c, status, "text/html; charset=utf-8", lens[k], keep, v10,
               status == 405 ? "Allow: GET, HEAD\r\n" : extra);
    c->body = head ? NULL : bodies[k];
    c->body_off = 0;
    c->body_len = head ? 0 : lens[k];
    c->responding = 1;
    c->close_after = !keep;
}

static void respond_error(struct hconn *c, int status, int head, int keep,
                          int v10)
{
    respond_error_x(c, status, head, keep, v10, NULL);
}

/* ---- requests -------------------------------------------------------------- */

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Percent-decode the path of target into out; 0, or the status (400/414). */
static int decode_target(const char *target, char *out, size_t outlen)
{
    const char *p = target;
    if (strncasecmp(p, "http://", 7) == 0) { /* absolute-form */
        p = strchr(p + 7, '/');
        if (!p)
            p = "/";
    }
    if (*p != '/')
        return 400;
    size_t n = 0;
    for (; *p && *p != '?' && *p != '#'; p++) {
        int ch = (unsigned char)*p;
        if (ch == '%') {
            int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
            if (lo < 0)
                return 400;
            ch = hi * 16 + lo;
            if (ch == 0)
                return 400;
            p += 2;
        }
        if (n + 1 >= outlen)
            return 414;
        out[n++] = (char)ch;
    }
    out[n] = '\0';
    return 0;
}

/* Does the comma-separated header value list contain token (any case)? */
static int has_token(const char *list, const char *token)
{
    size_t tl = strlen(token);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        const char *e = p;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if ((size_t)(e - s) == tl && strncasecmp(s, token, tl) == 0)
            return 1;
    }
    return 0;
}

static int is_tchar(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Resolve a decoded path under the root to an open file: 200 with *fd and
 * *size, 301 for a directory named without its trailing slash, or
 * 403/404. */
static int open_file(struct http *hs, const char *path, int *fd,
                     uint64_t *size, char *real, size_t reallen)
{
    char want[PATH_MAX + 16];
    char res[PATH_MAX];
    size_t pl = strlen(path);
    if (hs->rootlen + pl + 1 > sizeof want)
        return 404;
    memcpy(want, hs->root, hs->rootlen);
    memcpy(want + hs->rootlen, path, pl + 1);
    for (int pass = 0; pass < 2; pass++) {
        if (!realpath(want, res))
            return errno == EACCES ? 403 : 404;
        /* inside the root: equal to it or below it */
        if (strncmp(res, hs->root, hs->rootlen) != 0 ||
            (res[hs->rootlen] != '/' && res[hs->rootlen] != '\0' &&
             !(hs->rootlen == 1 && hs->root[0] == '/')))
            return 403;
        struct stat sb;
        if (stat(res, &sb) < 0)
            return errno == EACCES ? 403 : 404;
        if (S_ISDIR(sb.st_mode)) {
            if (pass)
                return 404;
            if (pl && path[pl - 1] != '/')
                return 301;
            size_t rl = strlen(res);
            if (rl + sizeof "/index.html" > sizeof want)
                return 404;
            memcpy(want, res, rl);
            memcpy(want + rl, "/index.html", sizeof "/index.html");
            continue;
        }
        if (!S_ISREG(sb.st_mode))
            return 403;
        int f = open(res, O_RDONLY);
        if (f < 0)
            return errno == EACCES ? 403 : 404;
        if (fstat(f, &sb) < 0 || !S_ISREG(sb.st_mode)) {
            close(f);
            return 403;
        }
        *fd = f;
        *size = (uint64_t)sb.st_size;
        size_t rl = strlen(res);
        if (rl >= reallen)
            rl = reallen - 1;
        memcpy(real, res, rl);
        real[rl] = '\0';
        return 200;
    }
    return 404;
}

static void log_request(struct http *hs, struct hconn *c, const char *line,
                        int status, uint64_t len)
{
    char pa[32], safe[256];
    size_t n = 0;
    for (const char *p = line; *p && n + 1 < sizeof safe; p++)
        safe[n++] = (*p >= 0x20 && *p < 0x7f && *p != '"') ? *p : '?';
    safe[n] = '\0';
    fprintf(stderr, "%s: %s \"%s\" %d %llu\n", hs->prog,
            synack_addr_str(&c->peer, pa, sizeof pa), safe, status,
            (unsigned long long)len);
}

/* Parse and answer one complete request (head = in[0..hlen)); the bytes
 * are consumed by the caller. */
static void handle_request(struct http *hs, struct hconn *c, char *head,
                           size_t hlen)
{
    head[hlen - 1] = '\0'; /* the final '\n' */
    char *line = head, *next = strchr(line, '\n');
    if (next)
        *next++ = '\0';
    size_t ll = strlen(line);
    if (ll && line[ll - 1] == '\r')
        line[--ll] = '\0';
    char reqline[256];
    snprintf(reqline, sizeof reqline, "%s", line);

    /* request line: METHOD SP target SP HTTP/x.y */
    char *method = line, *sp1 = strchr(line, ' ');
    char *target = sp1 ? sp1 + 1 : NULL;
    char *sp2 = target ? strchr(target, ' ') : NULL;
    char *version = sp2 ? sp2 + 1 : NULL;
    int status = 0, v10 = 0, keep = 1;
    if (!sp1 || !sp2 || strchr(version, ' ') || sp1 == method ||
        sp2 == target) {
        status = 400;
    } else {
        *sp1 = *sp2 = '\0';
        for (char *p = method; *p && !status; p++)
            if (!is_tchar((unsigned char)*p))
                status = 400;
        if (!status && (strncmp(version, "HTTP/", 5) != 0 ||
                        !(version[5] >= '0' && version[5] <= '9') ||
                        version[6] != '.' ||
                        !(version[7] >= '0' && version[7] <= '9') ||
                        version[8]))
            status = 400;
        else if (!status && version[5] != '1')
            status = 505;
        else if (!status)
            v10 = version[7] == '0';
    }
    keep = !v10;

    /* headers */
    int have_host = 0, chunked = 0;
    int64_t clen = -1;
    for (char *h = next; !status && h && *h;) {
        char *nl = strchr(h, '\n');
        if (nl)
            *nl++ = '\0';
        size_t hl = strlen(h);
        if (hl && h[hl - 1] == '\r')
            h[--hl] = '\0';
        if (hl == 0)
            break;
        char *colon = strchr(h, ':');
        if (!colon || colon == h) {
            status = 400;
            break;
        }
        for (char *p = h; p < colon; p++)
            if (!is_tchar((unsigned char)*p))
                status = 400;
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        char *e = v + strlen(v);
        while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
            *--e = '\0';
        if (strcasecmp(h, "Host") == 0) {
            have_host++;
        } else if (strcasecmp(h, "Connection") == 0) {
            if (has_token(v, "close"))
                keep = 0;
            else if (has_token(v, "keep-alive") && v10)
                keep = 1;
        } else if (strcasecmp(h, "Content-Length") == 0) {
            char *end;
            errno = 0;
            long long x = (*v >= '0' && *v <= '9') ? strtoll(v, &end, 10) : -1;
            if (x < 0 || errno || *end || (clen >= 0 && clen != x))
                status = 400;
            else
                clen = x;
        } else if (strcasecmp(h, "Transfer-Encoding") == 0) {
            chunked = 1;
        }
        h = nl;
    }
    if (!status && !v10 && have_host != 1)
        status = 400; /* RFC 9112 3.2: exactly one Host in HTTP/1.1 */
    if (!status && chunked)
        status = 501; /* request bodies of unknown length */
    if (status) { /* malformed: answer and close */
        respond_error(c, status, 0, 0, v10);
        log_request(hs, c, reqline, status, c->body_len);
        return;
    }
    if (clen > 0)
        c->skip = (uint64_t)clen;

    int head_only = strcmp(method, "HEAD") == 0;
    if (!head_only && strcmp(method, "GET") != 0) {
        respond_error(c, 405, 0, keep, v10);
        log_request(hs, c, reqline, 405, c->body_len);
        return;
    }
    char path[PATH_MAX];
    status = decode_target(target, path, sizeof path);
    if (status) {
        respond_error(c, status, head_only, status == 414 && keep, v10);
        log_request(hs, c, reqline, status, c->body_len);
        return;
    }
    int fd = -1;
    uint64_t size = 0;
    char real[PATH_MAX];
    status = open_file(hs, path, &fd, &size, real, sizeof real);
    if (status == 301) { /* "dir" -> "dir/", so relative links work */
        char loc[512];
        size_t tl = strcspn(target, "?#");
        if (tl + 16 < sizeof loc) {
            snprintf(loc, sizeof loc, "Location: %.*s/\r\n", (int)tl, target);
            respond_error_x(c, 301, head_only, keep, v10, loc);
            log_request(hs, c, reqline, 301, c->body_len);
            return;
        }
        status = 404;
    }
    if (status != 200) {
        respond_error(c, status, head_only, keep, v10);
        log_request(hs, c, reqline, status, c->body_len);
        return;
    }
    set_header(c, 200, content_type(real), size, keep, v10, NULL);
    c->body = NULL;
    c->body_len = 0;
    c->responding = 1;
    c->close_after = !keep;
    if (head_only || size == 0) {
        close(fd);
    } else {
        c->fd = fd;
        c->file_off = 0;
        c->file_left = size;
    }
    log_request(hs, c, reqline, 200, head_only ? 0 : size);
}

/* Find the end of the header block in in[0..len): its length including the
 * empty line, or 0 when incomplete. */
static size_t header_end(const char *in, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (in[i] != '\n')
            continue;
        if (in[i + 1] == '\n')
            return i + 2;
        if (in[i + 1] == '\r' && i + 2 < len && in[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

static void consume(struct hconn *c, size_t n)
{
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
}

/* ---- connections ------------------------------------------------------------ */

static void end_response(struct hconn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->chunk);
    c->chunk = NULL;
    c->chunk_len = c->chunk_off = 0;
    c->file_left = 0;
    c->responding = 0;
    c->body = NULL;
}

/* Send what is queued of the response. 1 done, 0 blocked, -1 error (the
 * handle is gone). */
static int push(struct http *hs, struct live *lv, struct hconn *c,
                synack_time_t now)
{
    for (;;) {
        const void *p;
        size_t len;
        int part;
        if (c->hdr_len > c->hdr_off) {
            p = c->hdr + c->hdr_off;
            len = c->hdr_len - c->hdr_off;
            part = 0;
        } else if (c->body_len > c->body_off) {
            p = c->body + c->body_off;
            len = c->body_len - c->body_off;
            part = 1;
        } else if (c->chunk_len > c->chunk_off) {
            p = c->chunk + c->chunk_off;
            len = c->chunk_len - c->chunk_off;
            part = 2;
        } else if (c->file_left) {
            if (!c->chunk && !(c->chunk = malloc(CHUNK)))
                goto fail;
            size_t want = c->file_left < CHUNK ? (size_t)c->file_left : CHUNK;
            ssize_t n = pread(c->fd, c->chunk, want, (off_t)c->file_off);
            if (n <= 0) {
                fprintf(stderr, "%s: read error or file shrank while sending"
                                " (%s)\n",
                        hs->prog, n < 0 ? strerror(errno) : "EOF");
                goto fail;
            }
            c->file_off += (uint64_t)n;
            c->file_left -= (uint64_t)n;
            c->chunk_off = 0;
            c->chunk_len = (size_t)n;
            continue;
        } else {
            end_response(c);
            return 1;
        }
        ssize_t n = synack_send(lv->st, c->h, p, len, now);
        if (n == -SYNACK_EAGAIN)
            return 0;
        if (n < 0) {
            char pa[32];
            fprintf(stderr, "%s: %s: %s (%s)\n", hs->prog,
                    synack_addr_str(&c->peer, pa, sizeof pa),
                    synack_strerror((int)n), synack_errname((int)n));
            end_response(c);
            synack_close(lv->st, c->h, now);
            return -1;
        }
        if (part == 0)
            c->hdr_off += (size_t)n;
        else if (part == 1)
            c->body_off += (size_t)n;
        else
            c->chunk_off += (size_t)n;
        if ((size_t)n < len)
            return 0;
    }
fail:
    end_response(c);
    synack_abort(lv->st, c->h, now); /* cannot keep the Content-Length */
    return -1;
}

/* Step one connection; 1 when it is finished (handle released). */
static int conn_step(struct http *hs, struct live *lv, struct hconn *c,
                     synack_time_t now)
{
    for (int budget = 64; budget > 0; budget--) {
        if (c->lingering) {
            ssize_t n = synack_recv(lv->st, c->h, hs->scratch,
                                    sizeof hs->scratch, now);
            if (n > 0)
                continue;
            if (n == -SYNACK_EAGAIN && now - c->since < LINGER)
                return 0;
            synack_close(lv->st, c->h, now);
            return 1;
        }
        if (c->responding) {
            int r = push(hs, lv, c, now);
            if (r < 0)
                return 1;
            if (r == 0)
                return 0;
            c->since = now;
            if (c->close_after) {
                synack_shutdown(lv->st, c->h, SYNACK_SHUT_WR, now);
                c->lingering = 1;
                c->since = now;
            }
            continue;
        }
        if (c->skip && c->in_len) {
            size_t k = c->skip < c->in_len ? (size_t)c->skip : c->in_len;
            consume(c, k);
            c->skip -= k;
        }
        if (!c->skip) {
            while (c->in_len && (c->in[0] == '\r' || c->in[0] == '\n'))
                consume(c, 1); /* CRLF before a request is ignored */
            size_t hl = header_end(c->in, c->in_len);
            if (hl) {
                handle_request(hs, c, c->in, hl);
                consume(c, hl);
                continue;
            }
            if (c->in_len == sizeof c->in) {
                respond_error(c, 431, 0, 0, 0);
                log_request(hs, c, "(request header too large)", 431,
                            c->body_len);
                c->in_len = 0;
                continue;
            }
        }
        if (c->peer_eof) { /* no complete request left */
            synack_close(lv->st, c->h, now);
            return 1;
        }
        ssize_t n;
        if (c->skip && c->in_len == 0)
            n = synack_recv(lv->st, c->h, hs->scratch,
                            c->skip < sizeof hs->scratch ? (size_t)c->skip
                                                         : sizeof hs->scratch,
                            now);
        else
            n = synack_recv(lv->st, c->h, c->in + c->in_len,
                            sizeof c->in - c->in_len, now);
        if (n == -SYNACK_EAGAIN) {
            if (now - c->since > IDLE_TIMEOUT) {
                synack_close(lv->st, c->h, now);
                return 1;
            }
            return 0;
        }
        if (n < 0) {
            char pa[32];
            if (n != -SYNACK_ECONNRESET || c->in_len)
                fprintf(stderr, "%s: %s: %s (%s)\n", hs->prog,
                        synack_addr_str(&c->peer, pa, sizeof pa),
                        synack_strerror((int)n), synack_errname((int)n));
            synack_close(lv->st, c->h, now);
            return 1;
        }
        if (n == 0) {
            c->peer_eof = 1;
            continue;
        }
        c->since = now;
        if (c->skip && c->in_len == 0)
            c->skip -= (uint64_t)n;
        else
            c->in_len += (size_t)n;
    }
    return 0;
}

static void conn_free(struct hconn *c)
{
    end_response(c);
    free(c);
}

static void http_step(void *ctx, struct live *lv, synack_time_t now)
{
    struct http *hs = ctx;
    synack_addr peer;
    int h;
    while ((h = live_accept(lv, &peer, now)) >= 0) {
        struct hconn *c = NULL;
        if (hs->n == hs->cap) {
            size_t cap = hs->cap ? 2 * hs->cap : 16;
            struct hconn **a = realloc(hs->c, cap * sizeof *a);
            if (a) {
                hs->c = a;
                hs->cap = cap;
            }
        }
        if (hs->n < hs->cap)
            c = calloc(1, sizeof *c);
        if (!c) {
            fprintf(stderr, "%s: out of memory\n", hs->prog);
            synack_abort(lv->st, h, now);
            continue;
        }
        c->h = h;
        c->peer = peer;
        c->fd = -1;
        c->since = now;
        hs->c[hs->n++] = c;
    }
    for (size_t i = 0; i < hs->n;) {
        if (conn_step(hs, lv, hs->c[i], now)) {
            conn_free(hs->c[i]);
            hs->c[i] = hs->c[--hs->n];
        } else {
            i++;
        }
    }
}

static void http_close_all(void *ctx, struct live *lv, synack_time_t now)
{
    struct http *hs = ctx;
    while (hs->n) {
        struct hconn *c = hs->c[--hs->n];
        synack_close(lv->st, c->h, now);
        conn_free(c);
    }
}

static void http_destroy(void *ctx)
{
    struct http *hs = ctx;
    for (size_t i = 0; i < hs->n; i++)
        conn_free(hs->c[i]);
    free(hs->c);
    free(hs);
}

int http_app_new(const char *prog, const char *root, struct live_app *app)
{
    struct http *hs = calloc(1, sizeof *hs);
    if (!hs) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return -1;
    }
    hs->prog = prog;
    struct stat sb;
    const char *why = NULL;
    if (!realpath(root, hs->root) || stat(hs->root, &sb) < 0)
        why = strerror(errno);
    else if (!S_ISDIR(sb.st_mode))
        why = "not a directory";
    if (why) {
        fprintf(stderr, "%s: --root %s: %s\n", prog, root, why);
        free(hs);
        return -1;
    }
    hs->rootlen = strlen(hs->root);
    *app = (struct live_app){hs, http_step, http_close_all, http_destroy};
    return 0;
}
