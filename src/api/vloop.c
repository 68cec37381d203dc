/*
 * Virtual-time loop: no clock, no sleeping. Time jumps to the earliest
 * deadline of any stack or device, and everything due then runs, again and
 * again at that instant until nothing more is due, so frames sent with zero
 * delay arrive within the same step.
 */
#include <stdlib.h>

#include <synack/dev.h>

#include "drivers.h"

/* Rounds of poll+advance at one instant before a step gives up; only a
 * livelock (two parties answering each other with zero delay forever)
 * reaches it. */
#define SAME_TIME_ROUNDS 100000

struct synack_vloop {
    synack_time_t now;
    int stuck; /* the last step hit SAME_TIME_ROUNDS */
    drivers set;
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
    drivers_free(&l->set);
    free(l);
}

int synack_vloop_add_stack(synack_vloop *l, synack_stack *st)
{
    return l ? drivers_add_stack(&l->set, st) : -SYNACK_EINVAL;
}

int synack_vloop_add_dev(synack_vloop *l, synack_dev *d)
{
    return l ? drivers_add_dev(&l->set, d) : -SYNACK_EINVAL;
}

synack_time_t synack_vloop_now(const synack_vloop *l)
{
    return l->now;
}

synack_time_t synack_vloop_next(const synack_vloop *l)
{
    return drivers_earliest(&l->set);
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
        for (size_t i = 0; i < l->set.ndevs; i++)
            synack_dev_poll(l->set.devs[i], l->now);
        for (size_t i = 0; i < l->set.nstacks; i++)
            synack_stack_advance(l->set.stacks[i], l->now);
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
