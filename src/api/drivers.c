/* The set of stacks and devices a loop drives (see drivers.h). */
#include <stdlib.h>

#include "drivers.h"

int drivers_reserve(void *arrp, size_t *cap, size_t n, size_t elem)
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

int drivers_add_stack(drivers *d, synack_stack *st)
{
    if (!st)
        return -SYNACK_EINVAL;
    void *a = d->stacks;
    int rc = drivers_reserve(&a, &d->cap_stacks, d->nstacks, sizeof *d->stacks);
    d->stacks = a;
    if (rc)
        return rc;
    d->stacks[d->nstacks++] = st;
    return 0;
}

int drivers_add_dev(drivers *d, synack_dev *dev)
{
    if (!dev)
        return -SYNACK_EINVAL;
    void *a = d->devs;
    int rc = drivers_reserve(&a, &d->cap_devs, d->ndevs, sizeof *d->devs);
    d->devs = a;
    if (rc)
        return rc;
    d->devs[d->ndevs++] = dev;
    return 0;
}

synack_time_t drivers_earliest(const drivers *d)
{
    synack_time_t t = SYNACK_TIME_NEVER;
    for (size_t i = 0; i < d->nstacks; i++) {
        synack_time_t s = synack_stack_next_deadline(d->stacks[i]);
        if (s < t)
            t = s;
    }
    for (size_t i = 0; i < d->ndevs; i++) {
        synack_time_t s = synack_dev_next_deadline(d->devs[i]);
        if (s < t)
            t = s;
    }
    return t;
}

void drivers_free(drivers *d)
{
    free(d->stacks);
    free(d->devs);
    d->stacks = NULL;
    d->devs = NULL;
    d->nstacks = d->ndevs = d->cap_stacks = d->cap_devs = 0;
}
