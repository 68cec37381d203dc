/*
 * arch/cc.h: the platform glue lwIP needs for the benchmark's NO_SYS build
 * (x86-64 Linux, gcc; little-endian byte order from lwIP's default).
 */
#ifndef BENCH_LWIP_ARCH_CC_H
#define BENCH_LWIP_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>

#define LWIP_PLATFORM_DIAG(x)                                                  \
    do {                                                                       \
        printf x;                                                              \
    } while (0)
#define LWIP_PLATFORM_ASSERT(x)                                                \
    do {                                                                       \
        fprintf(stderr, "lwIP assertion: %s (%s:%d)\n", x, __FILE__,          \
                __LINE__);                                                     \
        abort();                                                               \
    } while (0)
#define LWIP_RAND() ((u32_t)rand())

#endif
