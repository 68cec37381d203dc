/*
 * Linux TAP device: Ethernet frames to and from the kernel through
 * /dev/net/tun, non-blocking, driven by the real-time loop through fd().
 * Optionally sets up the kernel's side (address, link up, MTU) with the
 * classic interface ioctls, so one command is enough.
 */
#define _GNU_SOURCE /* struct ifreq */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <synack/dev.h>

#define TAP_MAX_FRAME 65536
#define TAP_BATCH 256 /* frames read per poll before yielding */
#define TAP_TXQLEN 10000 /* kernel queue toward us (default 1000 overflows) */

typedef struct tap_dev {
    synack_dev dev;
    int fd;
    char name[IFNAMSIZ];
    uint8_t buf[TAP_MAX_FRAME];
} tap_dev;

static void say(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(char *err, size_t len, const char *fmt, ...)
{
    if (!err || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
}

static int errno_code(int e)
{
    switch (e) {
    case EPERM:
    case EACCES:
        return -SYNACK_EPERM;
    case ENOENT:
    case ENODEV:
        return -SYNACK_ENOENT;
    case ENOMEM:
        return -SYNACK_ENOMEM;
    case EBUSY:
    case EEXIST:
        return -SYNACK_EADDRINUSE;
    default:
        return -SYNACK_EINVAL;
    }
}

static const char *hint(int e)
{
    return (e == EPERM || e == EACCES) ? " (needs root or CAP_NET_ADMIN)" : "";
}

static int tap_transmit(synack_dev *d, const uint8_t *frame, size_t len,
                        synack_time_t now)
{
    (void)now;
    tap_dev *t = (tap_dev *)d;
    ssize_t n = write(t->fd, frame, len);
    if (n == (ssize_t)len)
        return 0;
    /* a full queue (EAGAIN) or a refused frame: the stack retransmits */
    return -SYNACK_ENOBUFS;
}

static int tap_poll(synack_dev *d, synack_time_t now)
{
    tap_dev *t = (tap_dev *)d;
    int got = 0;
    while (got < TAP_BATCH) {
        ssize_t n = read(t->fd, t->buf, sizeof(t->buf));
        if (n <= 0)
            break; /* EAGAIN: drained; errors are retried at the next poll */
        got++;
        if (t->dev.rx)
            t->dev.rx(t->dev.rx_ctx, t->buf, (size_t)n, now);
    }
    return got;
}

static synack_time_t tap_next_deadline(const synack_dev *d)
{
    (void)d;
    return SYNACK_TIME_NEVER;
}

static int tap_fd(const synack_dev *d)
{
    return ((const tap_dev *)d)->fd;
}

static void tap_destroy(synack_dev *d)
{
    tap_dev *t = (tap_dev *)d;
    if (t->fd >= 0)
        close(t->fd);
    free(t);
}

static const struct synack_dev_ops tap_ops = {
    .transmit = tap_transmit,
    .poll = tap_poll,
    .next_deadline = tap_next_deadline,
    .fd = tap_fd,
    .destroy = tap_destroy,
};

/* Address, MTU and link state of the kernel's side. */
static int host_setup(const tap_dev *t, const synack_tap_config *cfg,
                      char *err, size_t errlen)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        int e = errno;
        say(err, errlen, "socket for interface set-up: %s", strerror(e));
        return errno_code(e);
    }
    struct ifreq ifr;
    int rc = 0;
    const char *what = NULL;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, t->name, sizeof(ifr.ifr_name));
    if (cfg->mtu) {
        ifr.ifr_mtu = cfg->mtu;
        if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
            what = "set MTU";
    }
    if (!what && cfg->host_ip) {
        struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ifr.ifr_addr;
        memset(&ifr.ifr_addr, 0, sizeof(ifr.ifr_addr));
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(cfg->host_ip);
        if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
            what = "assign address";
        uint32_t mask =
            cfg->host_prefix ? ~0u << (32 - cfg->host_prefix) : 0;
        sin->sin_addr.s_addr = htonl(mask);
        if (!what && ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
            what = "set netmask";
    }
    if (!what) {
        /* best effort: a longer kernel-side queue absorbs bursts toward us */
        ifr.ifr_qlen = TAP_TXQLEN;
        (void)ioctl(s, SIOCSIFTXQLEN, &ifr);
    }
    if (!what && (cfg->bring_up || cfg->host_ip)) {
        if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
            what = "read flags";
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        if (!what && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
            what = "bring the link up";
    }
    if (what) {
        int e = errno;
        say(err, errlen, "%s: %s of the kernel side: %s%s", t->name, what,
            strerror(e), hint(e));
        rc = errno_code(e);
    }
    close(s);
    return rc;
}

int synack_tap_open(const synack_tap_config *cfg, synack_dev **out,
                    char *err, size_t errlen)
{
    if (!cfg || !out || !cfg->ifname || !cfg->ifname[0] ||
        strlen(cfg->ifname) >= IFNAMSIZ || cfg->host_prefix > 32) {
        say(err, errlen, "bad TAP configuration (interface name of 1 to %d "
                         "characters, prefix length 0 to 32)",
            IFNAMSIZ - 1);
        return -SYNACK_EINVAL;
    }
    tap_dev *t = calloc(1, sizeof(*t));
    if (!t) {
        say(err, errlen, "out of memory");
        return -SYNACK_ENOMEM;
    }
    t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (t->fd < 0) {
        int e = errno;
        say(err, errlen, "open /dev/net/tun: %s%s", strerror(e), hint(e));
        free(t);
        return errno_code(e);
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    memcpy(ifr.ifr_name, cfg->ifname, strlen(cfg->ifname));
    if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        say(err, errlen, "%s: attach TAP (TUNSETIFF): %s%s%s", cfg->ifname,
            strerror(e), hint(e),
            e == EBUSY ? " -- another program holds it, or it is not a "
                         "TAP interface"
                       : "");
        tap_destroy(&t->dev);
        return errno_code(e);
    }
    memcpy(t->name, ifr.ifr_name, sizeof(t->name));
    t->name[IFNAMSIZ - 1] = '\0';
    t->dev.ops = &tap_ops;
    t->dev.name = t->name;
    int rc = host_setup(t, cfg, err, errlen);
    if (rc < 0) {
        tap_destroy(&t->dev);
        return rc;
    }
    *out = &t->dev;
    return 0;
}

const char *synack_tap_name(const synack_dev *d)
{
    return d && d->ops == &tap_ops ? ((const tap_dev *)d)->name : NULL;
}
