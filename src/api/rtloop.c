/*
 * Real-time loop: ppoll(2) on the devices' descriptors and any extra ones,
 * with the earliest stack or device deadline as the timeout, to the
 * nanosecond (a paced connection's next segment is due in microseconds).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>

#include <synack/dev.h>

#include "drivers.h"

struct extra_fd {
    int fd;
    void (*cb)(void *ctx, int fd, synack_time_t now);
    void *ctx;
};

struct synack_rtloop {
    drivers set;
    struct extra_fd *fds;
    size_t nfds, cap_fds;
    struct pollfd *pfd; /* devs first, then fds; rebuilt on every wait */
    size_t cap_pfd;
};

synack_time_t synack_rtloop_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (synack_time_t)ts.tv_sec * SYNACK_SEC + (synack_time_t)ts.tv_nsec;
}

int synack_rtloop_new(synack_rtloop **out)
{
    if (!out)
        return -SYNACK_EINVAL;
    *out = calloc(1, sizeof **out);
    return *out ? 0 : -SYNACK_ENOMEM;
}

void synack_rtloop_del(synack_rtloop *l)
{
    if (!l)
        return;
    drivers_free(&l->set);
    free(l->fds);
    free(l->pfd);
    free(l);
}

int synack_rtloop_add_stack(synack_rtloop *l, synack_stack *st)
{
    return l ? drivers_add_stack(&l->set, st) : -SYNACK_EINVAL;
}

int synack_rtloop_add_dev(synack_rtloop *l, synack_dev *d)
{
    return l ? drivers_add_dev(&l->set, d) : -SYNACK_EINVAL;
}

int synack_rtloop_add_fd(synack_rtloop *l, int fd,
                         void (*cb)(void *ctx, int fd, synack_time_t now),
                         void *ctx)
{
    if (!l || fd < 0 || !cb)
        return -SYNACK_EINVAL;
    void *a = l->fds;
    int rc = drivers_reserve(&a, &l->cap_fds, l->nfds, sizeof *l->fds);
    l->fds = a;
    if (rc)
        return rc;
    l->fds[l->nfds++] = (struct extra_fd){ fd, cb, ctx };
    return 0;
}

int synack_rtloop_remove_fd(synack_rtloop *l, int fd)
{
    if (!l)
        return -SYNACK_EINVAL;
    for (size_t i = 0; i < l->nfds; i++) {
        if (l->fds[i].fd != fd)
            continue;
        l->fds[i] = l->fds[--l->nfds];
        return 0;
    }
    return -SYNACK_ENOENT;
}

/* ppoll(2) timeout: NULL (no deadline) or the time left until it, so
 * that we never wake before the deadline and not a millisecond after. */
static const struct timespec *timeout_ts(synack_time_t now,
                                         synack_time_t deadline,
                                         synack_time_t max_wait,
                                         struct timespec *ts)
{
    synack_time_t wait = deadline <= now ? 0 : deadline - now;
    if (max_wait < wait)
        wait = max_wait;
    if (wait == SYNACK_TIME_NEVER)
        return NULL;
    ts->tv_sec = (time_t)(wait / SYNACK_SEC);
    ts->tv_nsec = (long)(wait % SYNACK_SEC);
    return ts;
}

static int build_pollfds(synack_rtloop *l, size_t *n)
{
    size_t need = l->set.ndevs + l->nfds;
    if (need > l->cap_pfd) {
        struct pollfd *p = realloc(l->pfd, need * sizeof *p);
        if (!p)
            return -SYNACK_ENOMEM;
        l->pfd = p;
        l->cap_pfd = need;
    }
    for (size_t i = 0; i < l->set.ndevs; i++) {
        const synack_dev *d = l->set.devs[i];
        l->pfd[i] =
            (struct pollfd){ d->ops->fd(d), POLLIN, 0 }; /* -1: ignored */
    }
    for (size_t i = 0; i < l->nfds; i++)
        l->pfd[l->set.ndevs + i] = (struct pollfd){ l->fds[i].fd, POLLIN, 0 };
    *n = need;
    return 0;
}

int synack_rtloop_once(synack_rtloop *l, synack_time_t max_wait)
{
    size_t n;
    int rc = build_pollfds(l, &n);
    if (rc)
        return rc;
    struct timespec ts;
    const struct timespec *tmo = timeout_ts(
        synack_rtloop_clock(), drivers_earliest(&l->set), max_wait, &ts);
    if (ppoll(l->pfd, (nfds_t)n, tmo, NULL) < 0) {
        if (errno == EINTR)
            return 0;
        return errno == ENOMEM ? -SYNACK_ENOMEM : -SYNACK_EINVAL;
    }
    synack_time_t now = synack_rtloop_clock();
    const short ready = POLLIN | POLLERR | POLLHUP;
    /* What the devices hold now is one input batch for every stack: in-order
     * data is ACKed once at its end (synack_stack_batch_begin, like GRO). */
    for (size_t i = 0; i < l->set.nstacks; i++)
        synack_stack_batch_begin(l->set.stacks[i]);
    for (size_t i = 0; i < l->set.ndevs; i++) {
        synack_dev *d = l->set.devs[i];
        if ((l->pfd[i].revents & ready) || synack_dev_next_deadline(d) <= now)
            synack_dev_poll(d, now);
    }
    for (size_t i = 0; i < l->set.nstacks; i++)
        synack_stack_batch_end(l->set.stacks[i], now);
    /* Callbacks may add descriptors; only those polled have revents. */
    size_t polled = n - l->set.ndevs;
    for (size_t i = 0; i < polled; i++)
        if (l->pfd[l->set.ndevs + i].revents & ready)
            l->fds[i].cb(l->fds[i].ctx, l->fds[i].fd, now);
    for (size_t i = 0; i < l->set.nstacks; i++)
        synack_stack_advance(l->set.stacks[i], now);
    return 0;
}
