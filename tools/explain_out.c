/*
 * Printing explanations (see explain_out.h).
 */
#include <stdlib.h>
#include <string.h>

#include "explain_out.h"
#include "textesc.h"

struct explain_out {
    FILE *f;
    int json, all;
    int ngroups, nconns_group, nshown_group, nstuck;
};

struct explain_out *explain_out_new(FILE *f, int json, int all)
{
    struct explain_out *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->f = f;
    o->json = json;
    o->all = all;
    if (json)
        fprintf(f, "{\"processes\":[");
    return o;
}

static void end_group(struct explain_out *o)
{
    if (!o->ngroups)
        return;
    if (o->json)
        fprintf(o->f, "%s]}", o->nshown_group ? "\n " : "");
    else if (!o->nshown_group)
        fprintf(o->f, "  nothing stuck (%d connection%s)\n", o->nconns_group,
                o->nconns_group == 1 ? "" : "s");
}

void explain_out_process(struct explain_out *o, const char *label, long pid,
                         const char *command, const char *ifname)
{
    if (!o)
        return;
    end_group(o);
    if (o->json) {
        fprintf(o->f, "%s\n {\"name\":", o->ngroups ? "," : "");
        tool_json_str(o->f, label);
        if (pid > 0)
            fprintf(o->f, ",\"pid\":%ld", pid);
        fprintf(o->f, ",\"command\":");
        tool_json_str(o->f, command);
        fprintf(o->f, ",\"ifname\":");
        tool_json_str(o->f, ifname);
        fprintf(o->f, ",\"connections\":[");
    } else {
        fprintf(o->f, "%s%s\n", o->ngroups ? "\n" : "", label);
    }
    o->ngroups++;
    o->nconns_group = o->nshown_group = 0;
}

static const char *verdict_name(int v)
{
    return v == EXPLAIN_STUCK ? "stuck" : v == EXPLAIN_NORMAL ? "normal" : "ok";
}

/* label then the words of s, wrapped at width; continuation lines are
 * indented by `indent`. */
static void wrap(FILE *f, const char *label, const char *s, int indent,
                 int width)
{
    fputs(label, f);
    int col = (int)strlen(label), first = 1;
    while (*s) {
        while (*s == ' ')
            s++;
        size_t w = strcspn(s, " ");
        if (!w)
            break;
        if (!first && col + 1 + (int)w > width) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
            first = 1;
        }
        if (!first) {
            fputc(' ', f);
            col++;
        }
        fwrite(s, 1, w, f);
        col += (int)w;
        s += w;
        first = 0;
    }
    fputc('\n', f);
}

void explain_out_conn(struct explain_out *o, const char *local,
                      const char *remote, const struct explain_conn *c,
                      const struct explain_result *r)
{
    if (!o)
        return;
    o->nconns_group++;
    if (r->verdict == EXPLAIN_STUCK)
        o->nstuck++;
    if (r->verdict == EXPLAIN_OK && !o->all)
        return;
    o->nshown_group++;
    char d[32];
    if (o->json) {
        fprintf(o->f, "%s\n  {\"local\":", o->nshown_group > 1 ? "," : "");
        tool_json_str(o->f, local);
        fprintf(o->f, ",\"remote\":");
        tool_json_str(o->f, remote);
        fprintf(o->f, ",\"state\":");
        tool_json_str(o->f, synack_state_name(c->state));
        if (c->in_state >= 0)
            fprintf(o->f, ",\"in_state_ms\":%lld",
                    (long long)(c->in_state / 1000000));
        else
            fprintf(o->f, ",\"in_state_ms\":null");
        fprintf(o->f, ",\"orphan\":%s",
                c->orphan < 0 ? "null"
                : c->orphan   ? "true"
                              : "false");
        fprintf(o->f,
                ",\"verdict\":\"%s\",\"cause\":", verdict_name(r->verdict));
        tool_json_str(o->f, r->cause);
        fprintf(o->f, ",\"summary\":");
        tool_json_str(o->f, r->summary);
        fprintf(o->f, ",\"governs\":");
        tool_json_str(o->f, r->governs);
        if (r->ends_in >= 0)
            fprintf(o->f, ",\"ends_in_ms\":%lld",
                    (long long)(r->ends_in / 1000000));
        else
            fprintf(o->f, ",\"ends_in_ms\":null");
        fprintf(o->f, ",\"detail\":");
        tool_json_str(o->f, r->detail);
        fprintf(o->f, "}");
        return;
    }
    fprintf(o->f, "  %s %s -> %s, for %s [%s: %s]\n",
            synack_state_name(c->state), local, remote,
            c->in_state >= 0 ? explain_fmt_dur(c->in_state, d, sizeof d)
                             : "an unknown time",
            verdict_name(r->verdict), r->cause);
    wrap(o->f, "    ", r->summary, 4, 78);
    wrap(o->f, "    governed by: ", r->governs, 6, 78);
    if (r->ends_in >= 0)
        fprintf(o->f, "    ends by itself in: %s\n",
                explain_fmt_dur(r->ends_in, d, sizeof d));
    else if (r->verdict != EXPLAIN_OK)
        fprintf(o->f, "    ends by itself: never (only a call or a segment "
                      "ends it)\n");
    if (r->detail[0])
        wrap(o->f, "    why: ", r->detail, 6, 78);
}

int explain_out_finish(struct explain_out *o, size_t nsources)
{
    if (!o)
        return 0;
    end_group(o);
    if (o->json)
        fprintf(o->f, "%s]}\n", o->ngroups ? "\n" : "");
    else if (nsources == 0)
        fprintf(o->f, "no running synack process\n");
    int n = o->nstuck;
    free(o);
    return n;
}
