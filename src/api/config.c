/*
 * Defaults for a stack's configuration, including the malloc-backed
 * allocator (outside the core, which never calls malloc itself).
 */
#include <stdlib.h>
#include <string.h>

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

void synack_stack_config_init(synack_stack_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->mtu = 1500;
    cfg->prefix_len = 24;
    cfg->max_sockets = 1024;
    cfg->mem_limit = 256u << 20;
    cfg->mem_alloc = default_alloc;
    cfg->mem_release = default_release;
}
