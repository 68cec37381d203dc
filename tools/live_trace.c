/*
 * The live subcommands' trace hook (see live_trace.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ladder.h"
#include "live_trace.h"

#define NSTATES 256 /* connections whose state the ladder remembers */

struct live_trace {
    ctl_server *ctl;
    ladder *lad;
    synack_time_t t0;
    char name_a[64];  /* the ladder keeps the pointer */
    uint32_t last_id; /* connection of the last state row */
    struct {
        uint32_t id;
        int state;
    } st[NSTATES];
    size_t next;
};

struct live_trace *live_trace_new(ctl_server *ctl, FILE *ladder_out,
                                  const char *name_a, synack_time_t t0)
{
    struct live_trace *lt = calloc(1, sizeof *lt);
    if (!lt)
        return NULL;
    lt->ctl = ctl;
    lt->t0 = t0;
    snprintf(lt->name_a, sizeof lt->name_a, "%s", name_a ? name_a : "synack");
    if (ladder_out) {
        struct ladder_config c;
        memset(&c, 0, sizeof c); /* no SVG */
        c.out = ladder_out;
        c.mode = LADDER_FULL;
        c.head = c.tail = 30;
        c.name_a = lt->name_a;
        c.name_b = "peer";
        lt->lad = ladder_new(&c);
        if (!lt->lad) {
            free(lt);
            return NULL;
        }
        ladder_set_state(lt->lad, LADDER_A, SYNACK_CLOSED);
        ladder_set_state(lt->lad, LADDER_B, -1);
    }
    return lt;
}

static int *state_of(struct live_trace *lt, uint32_t id)
{
    for (size_t i = 0; i < NSTATES; i++)
        if (lt->st[i].id == id)
            return &lt->st[i].state;
    size_t i = lt->next++ % NSTATES;
    lt->st[i].id = id;
    lt->st[i].state = SYNACK_CLOSED;
    return &lt->st[i].state;
}

void live_trace_hook(void *ctx, const synack_trace_event *ev)
{
    struct live_trace *lt = ctx;
    ctl_server_trace(lt->ctl, ev);
    if (!lt->lad || !ev->conn_id)
        return;
    synack_time_t t = ev->now > lt->t0 ? ev->now - lt->t0 : 0;
    int *st = state_of(lt, ev->conn_id);
    switch (ev->kind) {
    case SYNACK_TRACE_STATE: {
        *st = ev->new_state;
        char detail[80] = "", la[32], ra[32];
        if (ev->conn_id != lt->last_id)
            snprintf(detail, sizeof detail, "%s <-> %s",
                     synack_addr_str(&ev->local, la, sizeof la),
                     synack_addr_str(&ev->remote, ra, sizeof ra));
        lt->last_id = ev->conn_id;
        ladder_state(lt->lad, t, LADDER_A, *st, ev->cause,
                     detail[0] ? detail : NULL);
        break;
    }
    case SYNACK_TRACE_SEG_OUT:
    case SYNACK_TRACE_SEG_IN:
        if (!ev->seg)
            break;
        ladder_set_state(lt->lad, LADDER_A, *st);
        ladder_segment(lt->lad, t,
                       ev->kind == SYNACK_TRACE_SEG_OUT ? LADDER_A : LADDER_B,
                       ev->seg, ev->retransmit ? LADDER_RETRANS : 0);
        break;
    case SYNACK_TRACE_DROP:
        ladder_set_state(lt->lad, LADDER_A, *st);
        ladder_drop(lt->lad, t, LADDER_A, ev->seg,
                    synack_drop_name(ev->drop_reason));
        break;
    default:
        break;
    }
}

void live_trace_free(struct live_trace *lt)
{
    if (!lt)
        return;
    if (lt->lad) {
        ladder_finish(lt->lad);
        ladder_free(lt->lad);
    }
    free(lt);
}
