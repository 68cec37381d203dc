/*
 * Real-time loop: poll(2) on the devices' descriptors and any extra ones,
 * with the earliest stack or device deadline as the timeout.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>

#include <synack/dev.h>

struct extra_fd {
    int fd;
    void (*cb)(void *ctx, int fd, synack_time_t now);
    void *ctx;
};

struct synack_rtloop {
    synack_stack **stacks;
    size_t nstacks, cap_stacks;
    synack_dev **devs;
    size_t ndevs, cap_devs;
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
    free(l->stacks);
    free(l->devs);
    free(l->fds);
    free(l->pfd);
    free(l);
}

/* Make room for one more element; *arr is updated in place. */
static int reserve(void *arrp, size_t *cap, size_t n, size_t elem)
{
    void **arr = arrp;
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 4;
    void *a = realloc(*arr, ncap * elem);
    if (!a)
        return -SYNACK_ENOMEM;
    *arr = a;
    *cap = ncap;
    return 0;
}

int synack_rtloop_add_stack(synack_rtloop *l, synack_stack *st)
{
    if (!l || !st)
        return -SYNACK_EINVAL;
    void *a = l->stacks;
    int rc = reserve(&a, &l->cap_stacks, l->nstacks, sizeof *l->stacks);
    l->stacks = a;
    if (rc)
        return rc;
    l->stacks[l->nstacks++] = st;
    return 0;
}

int synack_rtloop_add_dev(synack_rtloop *l, synack_dev *d)
{
    if (!l || !d)
        return -SYNACK_EINVAL;
    void *a = l->devs;
    int rc = reserve(&a, &l->cap_devs, l->ndevs, sizeof *l->devs);
    l->devs = a;
    if (rc)
        return rc;
    l->devs[l->ndevs++] = d;
    return 0;
}

int synack_rtloop_add_fd(synack_rtloop *l, int fd,
                         void (*cb)(void *ctx, int fd, synack_time_t now),
                         void *ctx)
{
    if (!l || fd < 0 || !cb)
        return -SYNACK_EINVAL;
    void *a = l->fds;
    int rc = reserve(&a, &l->cap_fds, l->nfds, sizeof *l->fds);
    l->fds = a;
    if (rc)
        return rc;
    l->fds[l->nfds++] = (struct extra_fd){ fd, cb, ctx };
    return 0;
}

static synack_time_t earliest(const synack_rtloop *l)
{
    synack_time_t t = SYNACK_TIME_NEVER;
    for (size_t i = 0; i < l->nstacks; i++) {
        synack_time_t s = synack_stack_next_deadline(l->stacks[i]);
        if (s < t)
            t = s;
    }
    for (size_t i = 0; i < l->ndevs; i++) {
        synack_time_t d = synack_dev_next_deadline(l->devs[i]);
        if (d < t)
            t = d;
    }
    return t;
}

/* poll(2) timeout in ms, rounded up so we never wake before the deadline. */
static int timeout_ms(synack_time_t now, synack_time_t deadline,
                      synack_time_t max_wait)
{
    synack_time_t wait = deadline <= now ? 0 : deadline - now;
    if (max_wait < wait)
        wait = max_wait;
    if (wait == SYNACK_TIME_NEVER)
        return -1;
    synack_time_t ms = wait / SYNACK_MSEC + (wait % SYNACK_MSEC != 0);
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static int build_pollfds(synack_rtloop *l, size_t *n)
{
    size_t need = l->ndevs + l->nfds;
    if (need > l->cap_pfd) {
        struct pollfd *p = realloc(l->pfd, need * sizeof *p);
        if (!p)
            return -SYNACK_ENOMEM;
        l->pfd = p;
        l->cap_pfd = need;
    }
    for (size_t i = 0; i < l->ndevs; i++) {
        const synack_dev *d = l->devs[i];
        l->pfd[i] =
            (struct pollfd){ d->ops->fd(d), POLLIN, 0 }; /* -1: ignored */
    }
    for (size_t i = 0; i < l->nfds; i++)
        l->pfd[l->ndevs + i] = (struct pollfd){ l->fds[i].fd, POLLIN, 0 };
    *n = need;
    return 0;
}

int synack_rtloop_once(synack_rtloop *l, synack_time_t max_wait)
{
    size_t n;
    int rc = build_pollfds(l, &n);
    if (rc)
        return rc;
    int tmo = timeout_ms(synack_rtloop_clock(), earliest(l), max_wait);
    if (poll(l->pfd, (nfds_t)n, tmo) < 0) {
        if (errno == EINTR)
            return 0;
        return errno == ENOMEM ? -SYNACK_ENOMEM : -SYNACK_EINVAL;
    }
    synack_time_t now = synack_rtloop_clock();
    const short ready = POLLIN | POLLERR | POLLHUP;
    for (size_t i = 0; i < l->ndevs; i++) {
        synack_dev *d = l->devs[i];
        if ((l->pfd[i].revents & ready) || synack_dev_next_deadline(d) <= now)
            synack_dev_poll(d, now);
    }
    /* Callbacks may add descriptors; only those polled have revents. */
    size_t polled = n - l->ndevs;
    for (size_t i = 0; i < polled; i++)
        if (l->pfd[l->ndevs + i].revents & ready)
            l->fds[i].cb(l->fds[i].ctx, l->fds[i].fd, now);
    for (size_t i = 0; i < l->nstacks; i++)
        synack_stack_advance(l->stacks[i], now);
    return 0;
}
