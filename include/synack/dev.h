/*
 * synack link devices and drivers.
 *
 * A device moves Ethernet frames. Every device has the same small vtable, so
 * wrappers (the pcap recorder) compose with any device. Received frames are
 * handed to the device's rx callback from synack_dev_poll(); frames to send
 * go through synack_dev_transmit().
 */
#ifndef SYNACK_DEV_H
#define SYNACK_DEV_H

#include <synack/synack.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synack_dev synack_dev;

typedef void (*synack_dev_rx_fn)(void *ctx, const uint8_t *frame, size_t len,
                                 synack_time_t now);

struct synack_dev_ops {
    /* Queue or send one frame; 0, or -SYNACK_ENOBUFS when the device drops
     * it (the stack recovers by retransmission). The frame is borrowed. */
    int (*transmit)(synack_dev *d, const uint8_t *frame, size_t len,
                    synack_time_t now);
    /* Deliver every received frame due at or before now to the rx
     * callback; returns how many were delivered. */
    int (*poll)(synack_dev *d, synack_time_t now);
    /* Earliest time poll has something to deliver (virtual-time devices);
     * SYNACK_TIME_NEVER if nothing pending or the device is fd-driven. */
    synack_time_t (*next_deadline)(const synack_dev *d);
    /* File descriptor to wait on for the real-time loop, or -1. */
    int (*fd)(const synack_dev *d);
    void (*destroy)(synack_dev *d);
};

struct synack_dev {
    const struct synack_dev_ops *ops;
    synack_dev_rx_fn rx;
    void *rx_ctx;
    const char *name;
};

static inline int synack_dev_transmit(synack_dev *d, const uint8_t *f,
                                      size_t n, synack_time_t now)
{
    return d->ops->transmit(d, f, n, now);
}
static inline int synack_dev_poll(synack_dev *d, synack_time_t now)
{
    return d->ops->poll(d, now);
}
static inline synack_time_t synack_dev_next_deadline(const synack_dev *d)
{
    return d->ops->next_deadline(d);
}
static inline void synack_dev_set_rx(synack_dev *d, synack_dev_rx_fn rx,
                                     void *ctx)
{
    d->rx = rx;
    d->rx_ctx = ctx;
}
void synack_dev_destroy(synack_dev *d); /* NULL is fine */

/* Connect a stack and a device both ways: the stack's output goes to
 * synack_dev_transmit, the device's received frames to synack_stack_input. */
void synack_attach(synack_stack *st, synack_dev *d);

/* ---- in-memory link ---------------------------------------------------- */
/* A shared medium between any number of ports (a switch: a frame goes to
 * the port whose stack owns the destination MAC, broadcast to all others;
 * unknown unicast floods). Impairments apply to every frame that crosses
 * it, decided by a PRNG seeded from cfg.seed, so a run is reproducible. */
typedef struct synack_link synack_link;

typedef struct synack_link_config {
    double loss;    /* probability 0..1 a frame is dropped */
    double reorder; /* probability a frame is held back (delivered late) */
    double dup;     /* probability a frame is delivered twice */
    double corrupt; /* probability one byte of the frame is flipped */
    synack_time_t delay;  /* one-way propagation delay */
    synack_time_t jitter; /* extra uniform random delay in [0, jitter] */
    uint64_t rate_bps;    /* serialization rate per sender; 0 = unlimited */
    uint32_t queue_limit; /* frames waiting per sender; 0 = unlimited */
    /* Explicit loss pattern: 1-based indices of frames (counted over the
     * whole link, in transmit order) that are dropped. Not copied: must
     * outlive the link. */
    const uint32_t *loss_pattern;
    size_t loss_pattern_len;
    uint64_t seed;
    /* Bursts of loss: before its other impairments, each frame starts a
     * burst with probability burst_prob; the burst drops that frame and the
     * next ones, burst_len frames in all (when burst_len_max > burst_len,
     * the length is drawn uniformly from [burst_len, burst_len_max]).
     * burst_len 0 counts as 1. Counted in stats.lost and stats.burst_lost. */
    double burst_prob;
    uint32_t burst_len, burst_len_max;
    /* Largest IP packet (bytes) the link carries; 0: no limit below the
     * link's own, 65535 + the 14-byte Ethernet header (a 64 KiB-frame
     * link). A longer frame is dropped (stats.too_big) -- unless tso is set
     * and it is TCP over IPv4: the link then cuts it into segments that fit,
     * as a NIC doing TCP segmentation offload does (sequence numbers, IP
     * IDs, lengths and both checksums per segment; PSH and FIN only on the
     * last, CWR only on the first). Stacks on such a link use
     * synack_stack_config.gso_max. */
    uint32_t mtu;
    int tso;
} synack_link_config;

typedef struct synack_link_stats {
    uint64_t sent, delivered, lost, reordered, duplicated, corrupted,
        queue_drops;
    uint64_t burst_lost; /* frames lost in bursts (also in `lost`) */
    uint64_t down_lost;  /* frames lost while the link was down (also in
                            `lost`) */
    uint64_t flaps;      /* up -> down changes */
    uint64_t too_big;      /* frames over the MTU dropped (not in `sent`) */
    uint64_t tso_frames;   /* frames over the MTU cut by TSO */
    uint64_t tso_segments; /* the segments they were cut into (in `sent`) */
} synack_link_stats;

void synack_link_config_init(synack_link_config *cfg); /* no impairment */
int synack_link_new(const synack_link_config *cfg, synack_link **out);
/* Destroys the link; its ports must have been destroyed first. */
void synack_link_del(synack_link *l);
/* A new port device on the link (destroy with synack_dev_destroy). */
int synack_link_port(synack_link *l, synack_dev **out);
void synack_link_get_stats(const synack_link *l, synack_link_stats *out);
/* Link flap: while the link is down, every frame transmitted on any port
 * is lost (frames already on the wire still arrive). Takes effect for the
 * next transmit; draws nothing from the PRNG. */
void synack_link_set_down(synack_link *l, int down);
int synack_link_is_down(const synack_link *l);

/* ---- pcap recorder ------------------------------------------------------ */
/* Wraps a device: every frame transmitted or received through it is
 * recorded (Ethernet link type, timestamps = virtual or real time). The
 * wrapper owns `inner` and destroys it with itself. */
int synack_pcap_wrap(synack_dev *inner, const char *path, synack_dev **out);

/* ---- Linux TAP device ------------------------------------------------------
 * A TAP interface (IFF_TAP | IFF_NO_PI), opened non-blocking; the interface
 * is created if it does not exist (needs CAP_NET_ADMIN). Frames are read in
 * poll() (driven by the real-time loop through fd()) and written in
 * transmit(). Optionally the kernel's side of the link is set up too, so
 * that one command is enough: the address host_ip/host_prefix is assigned
 * to the interface and the link brought up. */
typedef struct synack_tap_config {
    const char *ifname;  /* e.g. "tap0" (at most 15 characters) */
    uint32_t host_ip;    /* 0: leave the kernel side's addresses alone */
    uint8_t host_prefix; /* with host_ip */
    int bring_up;        /* set the link up (implied by host_ip) */
    uint16_t mtu;        /* 0: leave the MTU alone */
    /* Offloads: the interface is opened with IFF_VNET_HDR and told with
     * TUNSETOFFLOAD that we take TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6, so
     * the kernel may hand over large TCP frames (up to 64 KiB, GSO/GRO)
     * and frames whose checksum is left to us (the device completes it
     * before the stack sees the frame). Frames we send that are TCP/IPv4
     * and longer than the interface's MTU go out as one GSO frame for the
     * kernel to cut at the MTU: set synack_stack_config.gso_max (65535)
     * and keep the stack's mtu equal to the interface's. */
    int offload;
} synack_tap_config;

/* 0, or a negative SYNACK_E* code with a sentence in err (which may be
 * NULL) saying what failed and why, e.g. "open /dev/net/tun: Permission
 * denied (needs root or CAP_NET_ADMIN)". */
int synack_tap_open(const synack_tap_config *cfg, synack_dev **out,
                    char *err, size_t errlen);
/* The interface's name as the kernel reports it. */
const char *synack_tap_name(const synack_dev *d);

typedef struct synack_tap_stats {
    uint64_t rx_frames, tx_frames;
    uint64_t rx_gso;       /* received frames the kernel left unsegmented */
    uint64_t rx_csum_done; /* checksums completed by the device */
    uint64_t tx_gso;       /* sent as GSO frames for the kernel to cut */
    uint64_t rx_bad;       /* frames with a virtio header that makes no
                              sense, dropped */
    uint64_t tx_errors;    /* writes the kernel refused or found full */
} synack_tap_stats;
/* Counters of a TAP device (zeros for another device). */
void synack_tap_get_stats(const synack_dev *d, synack_tap_stats *out);

/* ---- bridge --------------------------------------------------------------
 * Connect two devices back to back: what a receives is transmitted on b
 * and the other way round. With a link port on one side and a TAP on the
 * other, the link's impairments apply to everything that crosses between
 * the stack and the TAP, in both directions. */
void synack_bridge(synack_dev *a, synack_dev *b);

/* ---- virtual-time loop ----------------------------------------------------
 * Runs stacks and devices by jumping straight to the next deadline. */
typedef struct synack_vloop synack_vloop;
int synack_vloop_new(synack_time_t start, synack_vloop **out);
void synack_vloop_del(synack_vloop *l);
int synack_vloop_add_stack(synack_vloop *l, synack_stack *st);
int synack_vloop_add_dev(synack_vloop *l, synack_dev *d);
synack_time_t synack_vloop_now(const synack_vloop *l);
/* Earliest deadline of every stack and device. */
synack_time_t synack_vloop_next(const synack_vloop *l);
/* Jump to the next deadline (not past `limit`) and run everything due
 * then. Returns 1 if it ran something, 0 if nothing is due before limit
 * (time is then set to limit, unless limit is SYNACK_TIME_NEVER). */
int synack_vloop_step(synack_vloop *l, synack_time_t limit);
/* Step until done(ctx) returns non-zero (checked after every step) or time
 * passes limit. Returns 1 if done, 0 on limit or when idle forever. */
int synack_vloop_run(synack_vloop *l, int (*done)(void *ctx), void *ctx,
                     synack_time_t limit);

/* ---- real-time loop (file-descriptor devices) ------------------------ */
typedef struct synack_rtloop synack_rtloop;
int synack_rtloop_new(synack_rtloop **out);
void synack_rtloop_del(synack_rtloop *l);
int synack_rtloop_add_stack(synack_rtloop *l, synack_stack *st);
int synack_rtloop_add_dev(synack_rtloop *l, synack_dev *d);
/* Extra descriptor to watch (e.g. stdin); cb runs when it is readable. */
int synack_rtloop_add_fd(synack_rtloop *l, int fd,
                         void (*cb)(void *ctx, int fd, synack_time_t now),
                         void *ctx);
/* Stop watching fd (the caller closes it). Not from a callback of the same
 * loop. 0, or -SYNACK_ENOENT if it was not watched. */
int synack_rtloop_remove_fd(synack_rtloop *l, int fd);
/* Monotonic clock in synack_time_t. */
synack_time_t synack_rtloop_clock(void);
/* Wait for a device, an fd or the next stack deadline (at most max_wait),
 * then run what is due. Returns 0 or a negative error. */
int synack_rtloop_once(synack_rtloop *l, synack_time_t max_wait);

#ifdef __cplusplus
}
#endif
#endif
