/*
 * Defaults for a stack's configuration, including the malloc-backed
 * allocator (outside the core, which never calls malloc itself).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <synack/synack.h>

static void *default_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}

static void default_release(void *ctx, void *p, size_t size)
{
    (void)ctx;
    (void)size;
    free(p);
}

static ssize_t from_getrandom(int fd, void *buf, size_t len)
{
    (void)fd;
    return getrandom(buf, len, 0);
}

/* Read into [*p, *p + *len) with fn until it is full, fails or gives
 * nothing; advances *p and *len. */
static void fill_with(ssize_t (*fn)(int, void *, size_t), int fd, uint8_t **p,
                      size_t *len)
{
    while (*len > 0) {
        ssize_t n = fn(fd, *p, *len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        *p += n;
        *len -= (size_t)n;
    }
}

/* Fill buf from the kernel's random source: getrandom(), or /dev/urandom
 * where that system call is missing. The core never does this itself
 * (RFC 6528: the secret comes from the driver). Returns 0 or -1. */
static int fill_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    fill_with(from_getrandom, -1, &p, &len);
    if (len == 0)
        return 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    fill_with(read, fd, &p, &len);
    close(fd);
    return len == 0 ? 0 : -1;
}

void synack_stack_config_init(synack_stack_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->mtu = 1500;
    cfg->prefix_len = 24;
    cfg->max_sockets = 1024;
    cfg->mem_limit = 256u << 20;
    cfg->mem_alloc = default_alloc;
    cfg->mem_release = default_release;
    /* A fresh secret (ISN, SYN cookies, port choice, hash keys) and PRNG
     * seed per stack; tests and simulations overwrite both for
     * reproducible runs. Should the kernel give nothing, the secret stays
     * zero: predictable, but still working. */
    (void)fill_random(cfg->isn_secret, sizeof cfg->isn_secret);
    (void)fill_random(&cfg->seed, sizeof cfg->seed);
}
