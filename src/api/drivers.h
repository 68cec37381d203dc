/*
 * The set of stacks and devices a loop drives; shared by the virtual-time
 * and the real-time loop.
 */
#ifndef SYNACK_API_DRIVERS_H
#define SYNACK_API_DRIVERS_H

#include <stddef.h>

#include <synack/dev.h>

typedef struct drivers {
    synack_stack **stacks;
    size_t nstacks, cap_stacks;
    synack_dev **devs;
    size_t ndevs, cap_devs;
} drivers;

/* Make room for one more element of `elem` bytes in the array at *arrp
 * (which holds n of *cap); 0 or -SYNACK_ENOMEM. */
int drivers_reserve(void *arrp, size_t *cap, size_t n, size_t elem);
int drivers_add_stack(drivers *d, synack_stack *st);
int drivers_add_dev(drivers *d, synack_dev *dev);
/* Earliest deadline of every stack and device. */
synack_time_t drivers_earliest(const drivers *d);
void drivers_free(drivers *d);

#endif
