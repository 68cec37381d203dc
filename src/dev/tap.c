/*
 * Linux TAP device: Ethernet frames to and from the kernel through
 * /dev/net/tun, non-blocking, driven by the real-time loop through fd().
 * Optionally sets up the kernel's side (address, link up, MTU) with the
 * classic interface ioctls, so one command is enough.
 *
 * With offloads (cfg.offload) every frame is preceded by a struct
 * virtio_net_hdr both ways. Toward the kernel, a TCP/IPv4 frame over the
 * MTU is sent as GSO (gso_type TCPV4, gso_size = what fills the MTU) with
 * the checksum left partial (NEEDS_CSUM, the field holding the
 * pseudo-header sum, as Linux's own TSO path does), so the kernel cuts it
 * -- or delivers it whole to its own TCP -- without summing it again. From
 * the kernel, frames may be GRO/GSO super-frames and may need their
 * checksum completed (NEEDS_CSUM): done here, so the stack gets an
 * ordinary, fully checksummed frame.
 */
#define _GNU_SOURCE /* struct ifreq */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <synack/dev.h>

#include "core/wire.h"

#define TAP_MAX_FRAME (65536 + 64) /* a 64 KiB IP packet + Ethernet */
#define VNET_HLEN ((size_t)sizeof(struct virtio_net_hdr))
#define TCP_HDRS_MAX (WIRE_ETH_HLEN + 60 + 60)
#define TAP_BATCH 256 /* frames read per poll before yielding */
#define TAP_TXQLEN 10000 /* kernel queue toward us (default 1000 overflows) */

typedef struct tap_dev {
    synack_dev dev;
    int fd;
    int vnet;     /* IFF_VNET_HDR: a virtio_net_hdr before every frame */
    uint32_t mtu; /* the interface's, for gso_size */
    char name[IFNAMSIZ];
    synack_tap_stats stats;
    uint8_t hdrs[TCP_HDRS_MAX]; /* GSO send: headers, checksum partial */
    uint8_t buf[VNET_HLEN + TAP_MAX_FRAME];
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

/* Header lengths of a TCP/IPv4 frame longer than the MTU, or 0 when the
 * frame is something else (it then goes out as it is). */
static size_t gso_hdrs(const tap_dev *t, const uint8_t *f, size_t len,
                       size_t *ihl, size_t *thl)
{
    if (len <= WIRE_ETH_HLEN + (size_t)t->mtu ||
        len < WIRE_ETH_HLEN + WIRE_IPV4_HLEN + WIRE_TCP_HLEN ||
        wire_get16(f + 12) != WIRE_ETHERTYPE_IPV4)
        return 0;
    const uint8_t *ip = f + WIRE_ETH_HLEN;
    *ihl = (size_t)(ip[0] & 0x0f) * 4;
    size_t total = wire_get16(ip + 2);
    if ((ip[0] >> 4) != 4 || ip[9] != WIRE_IPPROTO_TCP ||
        *ihl < WIRE_IPV4_HLEN || total != len - WIRE_ETH_HLEN ||
        total < *ihl + WIRE_TCP_HLEN)
        return 0;
    *thl = (size_t)(ip[*ihl + 12] >> 4) * 4;
    if (*thl < WIRE_TCP_HLEN || *ihl + *thl >= total ||
        t->mtu <= *ihl + *thl)
        return 0;
    return WIRE_ETH_HLEN + *ihl + *thl;
}

static int tap_transmit(synack_dev *d, const uint8_t *frame, size_t len,
                        synack_time_t now)
{
    (void)now;
    tap_dev *t = (tap_dev *)d;
    ssize_t n;
    size_t want = len;
    if (!t->vnet) {
        n = write(t->fd, frame, len);
    } else {
        struct virtio_net_hdr vh;
        struct iovec iov[3];
        size_t ihl = 0, thl = 0, hl = gso_hdrs(t, frame, len, &ihl, &thl);
        memset(&vh, 0, sizeof(vh));
        iov[0] = (struct iovec){&vh, VNET_HLEN};
        want += VNET_HLEN;
        if (hl) {
            /* the headers go from a copy whose checksum field holds the
             * pseudo-header sum (not complemented) over the whole TCP
             * length; the payload is written from the frame itself */
            const uint8_t *ip = frame + WIRE_ETH_HLEN;
            memcpy(t->hdrs, frame, hl);
            uint32_t ps = wire_csum_pseudo(
                wire_get32(ip + 12), wire_get32(ip + 16), WIRE_IPPROTO_TCP,
                (uint16_t)(len - WIRE_ETH_HLEN - ihl));
            wire_put16(t->hdrs + WIRE_ETH_HLEN + ihl + 16,
                       (uint16_t)~wire_csum_fold(ps));
            vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
            vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
            vh.hdr_len = (uint16_t)hl;
            vh.gso_size = (uint16_t)(t->mtu - ihl - thl);
            vh.csum_start = (uint16_t)(WIRE_ETH_HLEN + ihl);
            vh.csum_offset = 16;
            iov[1] = (struct iovec){t->hdrs, hl};
            iov[2] = (struct iovec){(void *)(uintptr_t)(frame + hl),
                                    len - hl};
            n = writev(t->fd, iov, 3);
            t->stats.tx_gso++;
        } else {
            iov[1] = (struct iovec){(void *)(uintptr_t)frame, len};
            n = writev(t->fd, iov, 2);
        }
    }
    if (n == (ssize_t)want) {
        t->stats.tx_frames++;
        return 0;
    }
    /* a full queue (EAGAIN) or a refused frame: the stack retransmits */
    t->stats.tx_errors++;
    return -SYNACK_ENOBUFS;
}

/* A frame read with its virtio_net_hdr: complete a partial checksum. Returns
 * 0, or -1 to drop the frame. */
static int vnet_rx_fixup(tap_dev *t, const struct virtio_net_hdr *vh,
                         uint8_t *f, size_t len)
{
    if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
        t->stats.rx_gso++;
    if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
        return 0;
    size_t start = vh->csum_start, at = start + vh->csum_offset;
    if (start >= len || at + 2 > len)
        return -1;
    /* the field holds the pseudo-header sum: summing from csum_start to
     * the end with it in place and complementing gives the checksum */
    wire_put16(f + at, wire_csum_fold(wire_csum_add(0, f + start,
                                                    len - start)));
    t->stats.rx_csum_done++;
    return 0;
}

static int tap_poll(synack_dev *d, synack_time_t now)
{
    tap_dev *t = (tap_dev *)d;
    size_t skip = t->vnet ? VNET_HLEN : 0;
    int got = 0;
    while (got < TAP_BATCH) {
        ssize_t n = read(t->fd, t->buf, sizeof(t->buf));
        if (n <= 0)
            break; /* EAGAIN: drained; errors are retried at the next poll */
        got++;
        if ((size_t)n < skip) {
            t->stats.rx_bad++;
            continue;
        }
        uint8_t *f = t->buf + skip;
        size_t len = (size_t)n - skip;
        if (t->vnet) {
            struct virtio_net_hdr vh;
            memcpy(&vh, t->buf, sizeof(vh));
            if (vnet_rx_fixup(t, &vh, f, len) != 0) {
                t->stats.rx_bad++;
                continue;
            }
        }
        t->stats.rx_frames++;
        if (t->dev.rx)
            t->dev.rx(t->dev.rx_ctx, f, len, now);
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

/* The interface's MTU as it is now (GSO frames are cut to fit it). */
static int read_mtu(tap_dev *t, char *err, size_t errlen)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, t->name, sizeof(ifr.ifr_name));
    if (s < 0 || ioctl(s, SIOCGIFMTU, &ifr) < 0) {
        int e = errno;
        say(err, errlen, "%s: read the MTU: %s", t->name, strerror(e));
        if (s >= 0)
            close(s);
        return errno_code(e);
    }
    close(s);
    t->mtu = (uint32_t)ifr.ifr_mtu;
    return 0;
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
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (cfg->offload ? IFF_VNET_HDR : 0);
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
    if (cfg->offload) {
        unsigned off = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
        if (ioctl(t->fd, TUNSETOFFLOAD, off) < 0) {
            int e = errno;
            say(err, errlen, "%s: TUNSETOFFLOAD (checksum, TSO4, TSO6): %s",
                t->name, strerror(e));
            tap_destroy(&t->dev);
            return errno_code(e);
        }
        t->vnet = 1;
    }
    int rc = host_setup(t, cfg, err, errlen);
    if (rc == 0)
        rc = read_mtu(t, err, errlen);
    if (rc < 0) {
        tap_destroy(&t->dev);
        return rc;
    }
    *out = &t->dev;
    return 0;
}

void synack_tap_get_stats(const synack_dev *d, synack_tap_stats *out)
{
    if (d && d->ops == &tap_ops)
        *out = ((const tap_dev *)d)->stats;
    else
        memset(out, 0, sizeof(*out));
}

const char *synack_tap_name(const synack_dev *d)
{
    return d && d->ops == &tap_ops ? ((const tap_dev *)d)->name : NULL;
}
