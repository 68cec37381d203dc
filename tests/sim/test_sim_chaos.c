/*
 * The chaos scenario (chaos.h): many stacks, many connections, every fault
 * at once, a few hundred seeds; and the failure path itself (a failing seed
 * prints its replay command and the ladder diagram).
 *
 * Usage:
 *   test_sim_chaos                  the cmocka tests (CI)
 *   test_sim_chaos --seed N         replay one seed: its mix, the result,
 *                                   and on failure the report with the
 *                                   ladder diagram (exit 1)
 *   test_sim_chaos --seeds FIRST COUNT [--quiet]
 *                                   run COUNT seeds from FIRST (scripts/
 *                                   sim-soak): a report per failing seed, a
 *                                   progress line every 1000 seeds, and a
 *                                   last line "chaos: seeds=... failures=..."
 * Environment:
 *   SYNACK_SIM_SEEDS   seeds in the CI tests (default 1000, 300 under ASan;
 *                      test_sim_chaos_odd runs the odd ones, _even the even)
 *   SYNACK_SIM_SEED    the CI test runs only this seed
 *   SYNACK_SIM_TRACE   with --seed: print every trace event to stderr
 *   SYNACK_SIM_DRAW    with --seed: draw this connection's ladder diagram
 *   SYNACK_SIM_FAULT   inject a fault into the checker (connection 0's byte
 *                      check fails): shows what a failure looks like
 */
#define _DEFAULT_SOURCE /* realpath, open_memstream */
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim/chaos.h"
#include "sim/simnet.h"

#if defined(__SANITIZE_ADDRESS__)
#define SIM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_ASAN 1
#endif
#endif
/* Seeds 1..DEFAULT_SEEDS, split between the two CI tests (odd, even). */
#ifdef SIM_ASAN
#define DEFAULT_SEEDS 300
#else
#define DEFAULT_SEEDS 1000
#endif

#ifndef CHAOS_PART
#define CHAOS_PART 0 /* 0: all seeds; 1, 2: odd / even seeds */
#endif

static char exe_path[PATH_MAX];

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int env_fault(void)
{
    const char *f = getenv("SYNACK_SIM_FAULT");
    return f && *f && strcmp(f, "0") != 0;
}

static void replay_cmd(const chaos_params *p, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s --seed %" PRIu64,
             p->fault ? "SYNACK_SIM_FAULT=1 " : "", exe_path, p->seed);
}

static void report(const chaos_params *p, const chaos_result *r, FILE *out)
{
    char cmd[PATH_MAX + 64];
    replay_cmd(p, cmd, sizeof cmd);
    chaos_report(p, r, cmd, out);
}

/* ---- CI tests -------------------------------------------------------------- */

static void test_chaos_seeds(void **state)
{
    (void)state;
    unsigned nseeds = simnet_seed_count(DEFAULT_SEEDS);
    uint64_t first = 1;
    const char *only = getenv("SYNACK_SIM_SEED");
    if (only && *only) {
        first = strtoull(only, NULL, 10);
        nseeds = 1;
    }
    unsigned runs = 0, failed = 0, aborted = 0, refused = 0, peer_err = 0;
    uint64_t bytes = 0, steps = 0, jumps = 0, flaps = 0, conns = 0;
    uint64_t edges[SYNACK__STATE_COUNT] = {0};
    double t0 = wall_now();
    for (uint64_t seed = first; seed < first + nseeds; seed++) {
        if (!only && CHAOS_PART && (seed & 1) != (CHAOS_PART & 1))
            continue;
        chaos_params p;
        chaos_params_init(&p);
        p.seed = seed;
        p.fault = env_fault();
        chaos_result r;
        chaos_run(&p, &r);
        runs++;
        conns += r.nconns;
        aborted += r.aborted;
        refused += r.refused;
        peer_err += r.peer_errors;
        bytes += r.bytes;
        steps += r.steps;
        jumps += r.jumps;
        flaps += r.flaps;
        for (int i = 0; i < SYNACK__STATE_COUNT; i++)
            edges[i] |= r.edges[i];
        if (!r.ok) {
            if (failed < 3)
                report(&p, &r, stdout);
            failed++;
        }
    }
    double wall = wall_now() - t0;
    int nedges = 0;
    for (int i = 0; i < SYNACK__STATE_COUNT; i++)
        nedges += __builtin_popcountll(edges[i]);
    printf("[sim] chaos seeds=%" PRIu64 "..%" PRIu64 "%s runs=%u failed=%u "
           "conns=%" PRIu64 " aborted=%u refused=%u peer-errors=%u "
           "bytes=%" PRIu64 " steps=%" PRIu64 " clock-jumps=%" PRIu64
           " flaps=%" PRIu64 " state-edges=%d wall=%.2fs\n",
           first, first + nseeds - 1,
           CHAOS_PART == 1 ? " (odd)" : CHAOS_PART == 2 ? " (even)" : "", runs,
           failed, conns, aborted, refused, peer_err, bytes, steps, jumps,
           flaps, nedges, wall);
    fflush(stdout);
    if (failed)
        fail_msg("chaos: %u of %u seeds failed (first reports above)", failed,
                 runs);
    /* the mix really covers what it should (over a few hundred seeds) */
    if (!only && runs >= 100) {
        assert_true(aborted > 0);
        assert_true(refused > 0);
        assert_true(jumps > 0);
        assert_true(flaps > 0);
        assert_true(peer_err > 0);
    }
}

/* The same seed twice gives the same run. */
static __attribute__((unused)) void test_chaos_deterministic(void **state)
{
    (void)state;
    chaos_params p;
    chaos_params_init(&p);
    p.seed = 12345;
    chaos_result a, b;
    chaos_run(&p, &a);
    chaos_run(&p, &b);
    assert_true(a.ok);
    assert_int_equal(a.steps, b.steps);
    assert_int_equal(a.bytes, b.bytes);
    assert_int_equal(a.t_end, b.t_end);
    assert_string_equal(a.mix, b.mix);
}

/* A failing seed prints the seed, a command that replays it and the ladder
 * diagram of the failing connection: shown with a fault injected into the
 * checker (connection 0's byte check fails). */
static __attribute__((unused)) void test_chaos_failure_report(void **state)
{
    (void)state;
    chaos_params p;
    chaos_params_init(&p);
    p.seed = 7;
    p.fault = 1;
    chaos_result r;
    assert_false(chaos_run(&p, &r));
    assert_int_equal(r.bad_conn, 0);
    assert_non_null(strstr(r.msg, "seed=7"));
    assert_non_null(strstr(r.msg, "data differs"));
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    report(&p, &r, f);
    fclose(f);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "replay: SYNACK_SIM_FAULT=1 %s --seed 7\n",
             exe_path);
    int ok = strstr(text, "chaos seed 7 FAILED") && strstr(text, want) &&
             strstr(text, "ladder diagram of conn 0") &&
             strstr(text, "(client)") && strstr(text, "(server)") &&
             strstr(text, "<CTL=SYN>") && strstr(text, "SYN-SENT") &&
             strstr(text, "app: connect from port") &&
             strstr(text, "app: data differs at offset") &&
             !strstr(text, "NOTE: the run drawn differs");
    if (!ok)
        fputs(text, stdout);
    else /* the first lines, to show it in the log */
        printf("%.*s...\n", (int)(strchr(strstr(text, "ladder"), '\n') - text),
               text);
    free(text);
    assert_true(ok);
}

/* ---- command line ------------------------------------------------------------ */

static int cli_one(uint64_t seed)
{
    chaos_params p;
    chaos_params_init(&p);
    p.seed = seed;
    p.fault = env_fault();
    p.verbose = getenv("SYNACK_SIM_TRACE") != NULL;
    const char *draw = getenv("SYNACK_SIM_DRAW");
    if (draw && *draw) {
        p.draw_conn = atoi(draw);
        p.draw_out = stdout;
    }
    chaos_result r;
    double c0 = cpu_now();
    chaos_run(&p, &r);
    printf("chaos seed %" PRIu64 ": %s [%s] conns=%u aborted=%u refused=%u "
           "bytes=%" PRIu64 " steps=%" PRIu64 " vtime=%.3fs cpu=%.3fs\n",
           seed, r.ok ? "ok" : "FAILED", r.mix, r.nconns, r.aborted, r.refused,
           r.bytes, r.steps, (double)r.t_end / 1e9, cpu_now() - c0);
    if (!r.ok)
        report(&p, &r, stdout);
    return r.ok ? 0 : 1;
}

static int cli_many(uint64_t first, uint64_t count, int quiet)
{
    double w0 = wall_now(), c0 = cpu_now();
    uint64_t failures = 0;
    for (uint64_t i = 0; i < count; i++) {
        chaos_params p;
        chaos_params_init(&p);
        p.seed = first + i;
        p.fault = env_fault();
        chaos_result r;
        if (!chaos_run(&p, &r)) {
            failures++;
            char cmd[PATH_MAX + 64];
            replay_cmd(&p, cmd, sizeof cmd);
            printf("FAIL seed %" PRIu64 " replay: %s\n", p.seed, cmd);
            if (failures <= 5)
                report(&p, &r, stdout);
            else
                fputs(r.msg, stdout);
            fflush(stdout);
        }
        if (!quiet && (i + 1) % 1000 == 0) {
            printf("progress: %" PRIu64 "/%" PRIu64 " seeds, %" PRIu64
                   " failures, %.0fs\n",
                   i + 1, count, failures, wall_now() - w0);
            fflush(stdout);
        }
    }
    printf("chaos: seeds=%" PRIu64 "..%" PRIu64 " run=%" PRIu64
           " failures=%" PRIu64 " wall=%.1fs cpu=%.1fs\n",
           first, first + count - 1, count, failures, wall_now() - w0,
           cpu_now() - c0);
    return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (!realpath("/proc/self/exe", exe_path))
        snprintf(exe_path, sizeof exe_path, "%s", argv[0]);
    if (argc >= 3 && strcmp(argv[1], "--seed") == 0)
        return cli_one(strtoull(argv[2], NULL, 10));
    if (argc >= 4 && strcmp(argv[1], "--seeds") == 0)
        return cli_many(strtoull(argv[2], NULL, 10),
                        strtoull(argv[3], NULL, 10),
                        argc >= 5 && strcmp(argv[4], "--quiet") == 0);
    if (argc > 1) {
        fprintf(stderr, "usage: %s [--seed N | --seeds FIRST COUNT [--quiet]]\n",
                argv[0]);
        return 2;
    }
    const struct CMUnitTest tests[] = {
#if CHAOS_PART != 2
        cmocka_unit_test(test_chaos_failure_report),
        cmocka_unit_test(test_chaos_deterministic),
#endif
        cmocka_unit_test(test_chaos_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
