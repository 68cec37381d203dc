/*
 * Virtual-time loop: no clock, no sleeping. Time jumps to the earliest
 * deadline of any stack or device, and everything due then runs, again and
 * again at that instant until nothing more is due, so frames sent with zero
 * delay arrive within the same step.
 */
#include <stdlib.h>

#include <synack/dev.h>

/* Rounds of poll+advance at one instant before a step gives up; only a
 * livelock (two parties answering each other with zero delay forever)
 * reaches it. */
#define SAME_TIME_ROUNDS 100000

struct synack_vloop {
    synack_time_t now;
    int stuck; /* the last step hit SAME_TIME_ROUNDS */
    synack_stack **stacks;
    size_t nstacks, cap_stacks;
    synack_dev **devs;
    size_t ndevs, cap_devs;
};

int synack_vloop_new(synack_time_t start, synack_vloop **out)
{
    if (!out)
        return -SYNACK_EINVAL;
    synack_vloop *l = calloc(1, sizeof *l);
    if (!l)
        return -SYNACK_ENOMEM;
    l->now = start;
    *out = l;
    return 0;
}

void synack_vloop_del(synack_vloop *l)
{
    if (!l)
        return;
    free(l->stacks);
    free(l->devs);
    free(l);
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
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

int synack_vloop_add_stack(synack_vloop *l, synack_stack *st)
{
    if (!l || !st)
        return -SYNACK_EINVAL;
    void *arr = l->stacks;
    int rc = grow(&arr, &l->cap_stacks, l->nstacks, sizeof *l->stacks);
    l->stacks = arr;
    if (rc)
        return rc;
    l->stacks[l->nstacks++] = st;
    return 0;
}

int synack_vloop_add_dev(synack_vloop *l, synack_dev *d)
{
    if (!l || !d)
        return -SYNACK_EINVAL;
    void *arr = l->devs;
    int rc = grow(&arr, &l->cap_devs, l->ndevs, sizeof *l->devs);
    l->devs = arr;
    if (rc)
        return rc;
    l->devs[l->ndevs++] = d;
    return 0;
}

synack_time_t synack_vloop_now(const synack_vloop *l)
{
    return l->now;
}

synack_time_t synack_vloop_next(const synack_vloop *l)
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

int synack_vloop_step(synack_vloop *l, synack_time_t limit)
{
    synack_time_t t = synack_vloop_next(l);
    if (t == SYNACK_TIME_NEVER || t > limit) {
        if (limit != SYNACK_TIME_NEVER && limit > l->now)
            l->now = limit;
        return 0;
    }
    if (t > l->now)
        l->now = t; /* an overdue deadline runs now; time never goes back */
    l->stuck = 1;
    for (int round = 0; round < SAME_TIME_ROUNDS; round++) {
        for (size_t i = 0; i < l->ndevs; i++)
            synack_dev_poll(l->devs[i], l->now);
        for (size_t i = 0; i < l->nstacks; i++)
            synack_stack_advance(l->stacks[i], l->now);
        if (synack_vloop_next(l) > l->now) {
            l->stuck = 0;
            break;
        }
    }
    return 1;
}

int synack_vloop_run(synack_vloop *l, int (*done)(void *ctx), void *ctx,
                     synack_time_t limit)
{
    if (done && done(ctx))
        return 1;
    while (synack_vloop_step(l, limit) > 0) {
        if (done && done(ctx))
            return 1;
        if (l->stuck)
            return 0; /* livelock: time can no longer advance */
    }
    return 0;
}
