/* Wiring between a stack and a device; neither knows the other's type. */
#include <synack/dev.h>

static void attach_output(void *ctx, const uint8_t *frame, size_t len,
                          synack_time_t now)
{
    /* A drop by the device is recovered by the stack's retransmission. */
    (void)synack_dev_transmit(ctx, frame, len, now);
}

static void attach_input(void *ctx, const uint8_t *frame, size_t len,
                         synack_time_t now)
{
    (void)synack_stack_input(ctx, frame, len, now);
}

void synack_attach(synack_stack *st, synack_dev *d)
{
    synack_stack_set_output(st, attach_output, d);
    synack_dev_set_rx(d, attach_input, st);
}

static void bridge_forward(void *ctx, const uint8_t *frame, size_t len,
                           synack_time_t now)
{
    synack_dev_transmit(ctx, frame, len, now);
}

void synack_bridge(synack_dev *a, synack_dev *b)
{
    synack_dev_set_rx(a, bridge_forward, b);
    synack_dev_set_rx(b, bridge_forward, a);
}
