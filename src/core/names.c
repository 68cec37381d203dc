/*
 * Names and text for the public enums, and small formatting helpers.
 */
#include <limits.h>
#include <string.h>

#include <synack/synack.h>

#include "core.h"

struct err_entry {
    const char *name;
    const char *text;
};

static const struct err_entry err_table[SYNACK__ERR_COUNT] = {
    [SYNACK_OK] = {"OK", "success"},
    [SYNACK_EPERM] = {"EPERM", "operation not permitted"},
    [SYNACK_ENOENT] = {"ENOENT", "no such entry"},
    [SYNACK_EBADF] = {"EBADF", "bad socket handle"},
    [SYNACK_EAGAIN] = {"EAGAIN", "resource temporarily unavailable"},
    [SYNACK_ENOMEM] = {"ENOMEM", "out of memory"},
    [SYNACK_EINVAL] = {"EINVAL", "invalid argument"},
    [SYNACK_ERANGE] = {"ERANGE", "value out of range"},
    [SYNACK_EPIPE] = {"EPIPE", "broken pipe"},
    [SYNACK_ENOTSOCK] = {"ENOTSOCK", "not a socket"},
    [SYNACK_EMSGSIZE] = {"EMSGSIZE", "message too long"},
    [SYNACK_ENOPROTOOPT] = {"ENOPROTOOPT", "protocol not available"},
    [SYNACK_EOPNOTSUPP] = {"EOPNOTSUPP", "operation not supported"},
    [SYNACK_EADDRINUSE] = {"EADDRINUSE", "address already in use"},
    [SYNACK_EADDRNOTAVAIL] = {"EADDRNOTAVAIL",
                              "cannot assign requested address"},
    [SYNACK_ENETUNREACH] = {"ENETUNREACH", "network is unreachable"},
    [SYNACK_ECONNABORTED] = {"ECONNABORTED", "connection aborted"},
    [SYNACK_ECONNRESET] = {"ECONNRESET", "connection reset by peer"},
    [SYNACK_ENOBUFS] = {"ENOBUFS", "no buffer space available"},
    [SYNACK_EISCONN] = {"EISCONN", "socket is already connected"},
    [SYNACK_ENOTCONN] = {"ENOTCONN", "socket is not connected"},
    [SYNACK_ETIMEDOUT] = {"ETIMEDOUT", "connection timed out"},
    [SYNACK_ECONNREFUSED] = {"ECONNREFUSED", "connection refused"},
    [SYNACK_EHOSTUNREACH] = {"EHOSTUNREACH", "no route to host"},
    [SYNACK_EALREADY] = {"EALREADY", "operation already in progress"},
    [SYNACK_EINPROGRESS] = {"EINPROGRESS", "operation now in progress"},
    [SYNACK_EMFILE] = {"EMFILE", "too many open sockets"},
};

/* NULL for a code outside the table; accepts the code negated or not. */
static const struct err_entry *err_lookup(int err)
{
    if (err == INT_MIN)
        return NULL;
    if (err < 0)
        err = -err;
    if (err >= SYNACK__ERR_COUNT)
        return NULL;
    return &err_table[err];
}

const char *synack_strerror(int err)
{
    const struct err_entry *e = err_lookup(err);

    return e ? e->text : "unknown error";
}

const char *synack_errname(int err)
{
    const struct err_entry *e = err_lookup(err);

    return e ? e->name : "E?";
}

const char *synack_state_name(int state)
{
    static const char *const names[SYNACK__STATE_COUNT] = {
        [SYNACK_CLOSED] = "CLOSED",
        [SYNACK_LISTEN] = "LISTEN",
        [SYNACK_SYN_SENT] = "SYN-SENT",
        [SYNACK_SYN_RECEIVED] = "SYN-RECEIVED",
        [SYNACK_ESTABLISHED] = "ESTABLISHED",
        [SYNACK_FIN_WAIT_1] = "FIN-WAIT-1",
        [SYNACK_FIN_WAIT_2] = "FIN-WAIT-2",
        [SYNACK_CLOSE_WAIT] = "CLOSE-WAIT",
        [SYNACK_CLOSING] = "CLOSING",
        [SYNACK_LAST_ACK] = "LAST-ACK",
        [SYNACK_TIME_WAIT] = "TIME-WAIT",
    };

    if (state < 0 || state >= SYNACK__STATE_COUNT)
        return "?";
    return names[state];
}

#define DROP_NAME(name, text) #name,
#define DROP_TEXT(name, text) text,

static const char *const drop_names[SYNACK__DROP_COUNT] = {
    "NONE", SYNACK_DROP_REASONS(DROP_NAME)};
static const char *const drop_texts[SYNACK__DROP_COUNT] = {
    "not dropped", SYNACK_DROP_REASONS(DROP_TEXT)};

#undef DROP_NAME
#undef DROP_TEXT

const char *synack_drop_name(int reason)
{
    if (reason < 0 || reason >= SYNACK__DROP_COUNT)
        return "?";
    return drop_names[reason];
}

const char *synack_drop_text(int reason)
{
    if (reason < 0 || reason >= SYNACK__DROP_COUNT)
        return "unknown drop reason";
    return drop_texts[reason];
}

const char *synack_timer_name(int kind)
{
    switch (kind) {
    case SYNACK_TIMER_NONE:
        return "off";
    case SYNACK_TIMER_ON:
        return "on";
    case SYNACK_TIMER_KEEPALIVE:
        return "keepalive";
    case SYNACK_TIMER_TIMEWAIT:
        return "timewait";
    case SYNACK_TIMER_PERSIST:
        return "persist";
    case SYNACK_TIMER_DELACK:
        return "delack";
    default:
        return "?";
    }
}

/* Append s at *pos, truncating so buf stays NUL-terminated within len. */
static void append(char *buf, size_t len, size_t *pos, const char *s)
{
    while (*s && *pos + 1 < len)
        buf[(*pos)++] = *s++;
    buf[*pos] = '\0';
}

/* The flags by name, in the order people read them in, SYN first. */
static const struct {
    uint8_t bit;
    const char *name;
} flag_names[] = {
    {SYNACK_TH_SYN, "SYN"}, {SYNACK_TH_FIN, "FIN"}, {SYNACK_TH_RST, "RST"},
    {SYNACK_TH_PSH, "PSH"}, {SYNACK_TH_ACK, "ACK"}, {SYNACK_TH_URG, "URG"},
    {SYNACK_TH_ECE, "ECE"}, {SYNACK_TH_CWR, "CWR"},
};
#define NFLAGS (sizeof flag_names / sizeof flag_names[0])

char *synack_flags_str(uint8_t flags, char *buf, size_t len)
{
    size_t pos = 0;
    size_t i;

    if (!buf || len == 0)
        return buf;
    buf[0] = '\0';
    if (flags == 0) {
        append(buf, len, &pos, "none");
        return buf;
    }
    for (i = 0; i < NFLAGS; i++) {
        if (!(flags & flag_names[i].bit))
            continue;
        if (pos > 0)
            append(buf, len, &pos, ",");
        append(buf, len, &pos, flag_names[i].name);
    }
    return buf;
}

int tcp_flags_parse(const char *s)
{
    if (strcmp(s, "none") == 0)
        return 0;
    int bits = 0;
    while (*s) {
        size_t n = strcspn(s, ",");
        size_t i;
        for (i = 0; i < NFLAGS; i++)
            if (strlen(flag_names[i].name) == n &&
                memcmp(s, flag_names[i].name, n) == 0)
                break;
        if (i == NFLAGS)
            return -1;
        bits |= flag_names[i].bit;
        s += n;
        if (*s == ',')
            s++;
    }
    return bits;
}

/* Decimal digits of v at p (no terminator); returns how many. */
static size_t put_uint(char *p, unsigned v)
{
    char d[10];
    size_t k = 0;
    do {
        d[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < k; i++)
        p[i] = d[k - 1 - i];
    return k;
}

char *synack_addr_str(const synack_addr *a, char *buf, size_t len)
{
    if (!buf || len == 0)
        return buf;
    /* formatted by hand: the core stays free of stdio */
    char tmp[24];
    size_t n = 0;
    for (int i = 3; i >= 0; i--) {
        n += put_uint(tmp + n, (a->ip >> (8 * i)) & 0xffu);
        tmp[n++] = i ? '.' : ':';
    }
    n += put_uint(tmp + n, a->port);
    if (n >= len)
        n = len - 1;
    memcpy(buf, tmp, n);
    buf[n] = '\0';
    return buf;
}

/* One decimal part 0..255 without leading zeros (so "010" is not read as
 * octal by one tool and decimal by another); advances *s past it. */
static int ip_part(const char **s, uint32_t *out)
{
    const char *p = *s;
    uint32_t v = 0;
    int digits = 0;

    while (*p >= '0' && *p <= '9') {
        if (digits == 1 && v == 0)
            return -1; /* leading zero */
        v = v * 10 + (uint32_t)(*p - '0');
        if (v > 255)
            return -1; /* also stops overflow on long digit runs */
        digits++;
        p++;
    }
    if (digits == 0)
        return -1;
    *s = p;
    *out = v;
    return 0;
}

int synack_ip_parse(const char *s, uint32_t *ip)
{
    uint32_t v = 0, part;
    int i;

    if (!s || !ip)
        return -SYNACK_EINVAL;
    for (i = 0; i < 4; i++) {
        if (i > 0 && *s++ != '.')
            return -SYNACK_EINVAL;
        if (ip_part(&s, &part) < 0)
            return -SYNACK_EINVAL;
        v = (v << 8) | part;
    }
    if (*s != '\0')
        return -SYNACK_EINVAL;
    *ip = v;
    return 0;
}
