/*
 * pcap recorder: a device wrapping another device. Frames going down
 * (transmit) and coming up (the inner device's rx callback, which the
 * wrapper takes over) are written to a pcap file with the time they were
 * handed over, then passed on unchanged.
 */
#define _DEFAULT_SOURCE /* pcap.h needs u_int and u_char */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>

#include <synack/dev.h>

#define SNAPLEN 65535

struct pcapdev {
    synack_dev dev; /* first, so a synack_dev * is a struct pcapdev * */
    synack_dev *inner;
    pcap_t *pcap;
    pcap_dumper_t *dumper;
    char name[40];
};

static struct pcapdev *to_pcapdev(synack_dev *d)
{
    return (struct pcapdev *)(void *)d;
}

static const synack_dev *inner_of(const synack_dev *d)
{
    return ((const struct pcapdev *)(const void *)d)->inner;
}

static void record(struct pcapdev *pd, const uint8_t *frame, size_t len,
                   synack_time_t now)
{
    struct pcap_pkthdr h;
    h.ts.tv_sec = (time_t)(now / SYNACK_SEC);
    h.ts.tv_usec = (suseconds_t)((now % SYNACK_SEC) / SYNACK_USEC);
    h.caplen = (bpf_u_int32)(len > SNAPLEN ? SNAPLEN : len);
    h.len = len > UINT32_MAX ? UINT32_MAX : (bpf_u_int32)len;
    pcap_dump((u_char *)pd->dumper, &h, frame);
}

static void pcapdev_rx(void *ctx, const uint8_t *frame, size_t len,
                       synack_time_t now)
{
    struct pcapdev *pd = ctx;
    record(pd, frame, len, now);
    if (pd->dev.rx)
        pd->dev.rx(pd->dev.rx_ctx, frame, len, now);
}

static int pcapdev_transmit(synack_dev *d, const uint8_t *frame, size_t len,
                            synack_time_t now)
{
    struct pcapdev *pd = to_pcapdev(d);
    /* Recorded even if the inner device then drops it: this is what the
     * stack sent, as tcpdump on the sending host would show it. */
    record(pd, frame, len, now);
    return synack_dev_transmit(pd->inner, frame, len, now);
}

static int pcapdev_poll(synack_dev *d, synack_time_t now)
{
    return synack_dev_poll(to_pcapdev(d)->inner, now);
}

static synack_time_t pcapdev_next_deadline(const synack_dev *d)
{
    return synack_dev_next_deadline(inner_of(d));
}

static int pcapdev_fd(const synack_dev *d)
{
    const synack_dev *in = inner_of(d);
    return in->ops->fd(in);
}

static void pcapdev_destroy(synack_dev *d)
{
    struct pcapdev *pd = to_pcapdev(d);
    pcap_dump_flush(pd->dumper);
    pcap_dump_close(pd->dumper);
    pcap_close(pd->pcap);
    synack_dev_destroy(pd->inner);
    free(pd);
}

static const struct synack_dev_ops pcapdev_ops = {
    .transmit = pcapdev_transmit,
    .poll = pcapdev_poll,
    .next_deadline = pcapdev_next_deadline,
    .fd = pcapdev_fd,
    .destroy = pcapdev_destroy,
};

static int errno_to_synack(int e)
{
    switch (e) {
    case ENOMEM:
        return -SYNACK_ENOMEM;
    case ENOENT:
    case ENOTDIR:
        return -SYNACK_ENOENT;
    case EACCES:
    case EPERM:
    case EROFS:
        return -SYNACK_EPERM;
    default:
        return -SYNACK_EINVAL;
    }
}

/* On failure the caller still owns inner, untouched. */
int synack_pcap_wrap(synack_dev *inner, const char *path, synack_dev **out)
{
    if (!inner || !path || !out)
        return -SYNACK_EINVAL;
    struct pcapdev *pd = calloc(1, sizeof *pd);
    if (!pd)
        return -SYNACK_ENOMEM;
    pd->pcap = pcap_open_dead(DLT_EN10MB, SNAPLEN);
    if (!pd->pcap) {
        free(pd);
        return -SYNACK_ENOMEM;
    }
    errno = 0;
    pd->dumper = pcap_dump_open(pd->pcap, path);
    if (!pd->dumper) {
        int rc = errno_to_synack(errno);
        pcap_close(pd->pcap);
        free(pd);
        return rc;
    }
    pd->inner = inner;
    pd->dev.ops = &pcapdev_ops;
    snprintf(pd->name, sizeof pd->name, "pcap:%s",
             inner->name ? inner->name : "?");
    pd->dev.name = pd->name;
    /* Whoever was receiving from inner now receives through us. */
    pd->dev.rx = inner->rx;
    pd->dev.rx_ctx = inner->rx_ctx;
    synack_dev_set_rx(inner, pcapdev_rx, pd);
    *out = &pd->dev;
    return 0;
}
