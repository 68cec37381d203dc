/*
 * Unit tests for the name and formatting helpers (src/core/names.c).
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <synack/synack.h>

static void test_errname_every_code(void **state)
{
    (void)state;
    static const char *const want[SYNACK__ERR_COUNT] = {
        "OK",           "EPERM",        "ENOENT",        "EBADF",
        "EAGAIN",       "ENOMEM",       "EINVAL",        "ERANGE",
        "EPIPE",        "ENOTSOCK",     "EMSGSIZE",      "ENOPROTOOPT",
        "EOPNOTSUPP",   "EADDRINUSE",   "EADDRNOTAVAIL", "ENETUNREACH",
        "ECONNABORTED", "ECONNRESET",   "ENOBUFS",       "EISCONN",
        "ENOTCONN",     "ETIMEDOUT",    "ECONNREFUSED",  "EHOSTUNREACH",
        "EALREADY",     "EINPROGRESS",  "EMFILE",
    };
    for (int e = 0; e < SYNACK__ERR_COUNT; e++) {
        assert_non_null(want[e]); /* the table above covers every code */
        assert_string_equal(synack_errname(e), want[e]);
        assert_string_equal(synack_errname(-e), want[e]);
    }
    assert_string_equal(synack_errname(-SYNACK_ECONNRESET), "ECONNRESET");
    assert_string_equal(synack_errname(SYNACK_EAGAIN), "EAGAIN");
}

static void test_strerror_every_code(void **state)
{
    (void)state;
    for (int e = 0; e < SYNACK__ERR_COUNT; e++) {
        const char *t = synack_strerror(e);
        assert_non_null(t);
        assert_true(strlen(t) > 3);
        assert_string_not_equal(t, "unknown error");
        assert_ptr_equal(synack_strerror(-e), t);
        /* Distinct texts: a message identifies its code. */
        for (int f = 0; f < e; f++)
            assert_string_not_equal(synack_strerror(f), t);
    }
    assert_string_equal(synack_strerror(-SYNACK_ECONNREFUSED),
                        "connection refused");
    assert_string_equal(synack_strerror(SYNACK_ETIMEDOUT),
                        "connection timed out");
    assert_string_equal(synack_strerror(-SYNACK_EINVAL), "invalid argument");
    assert_string_equal(synack_strerror(0), "success");
}

static void test_err_unknown(void **state)
{
    (void)state;
    static const int bad[] = {SYNACK__ERR_COUNT, -SYNACK__ERR_COUNT, 1000,
                              -1000, INT_MAX, INT_MIN, INT_MIN + 1};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_string_equal(synack_strerror(bad[i]), "unknown error");
        assert_string_equal(synack_errname(bad[i]), "E?");
    }
}

static void test_state_names(void **state)
{
    (void)state;
    static const char *const want[SYNACK__STATE_COUNT] = {
        "CLOSED",     "LISTEN",     "SYN-SENT",   "SYN-RECEIVED",
        "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT",
        "CLOSING",    "LAST-ACK",   "TIME-WAIT",
    };
    for (int s = 0; s < SYNACK__STATE_COUNT; s++)
        assert_string_equal(synack_state_name(s), want[s]);
    assert_string_equal(synack_state_name(SYNACK_SYN_RECEIVED),
                        "SYN-RECEIVED");
    assert_string_equal(synack_state_name(-1), "?");
    assert_string_equal(synack_state_name(SYNACK__STATE_COUNT), "?");
    assert_string_equal(synack_state_name(INT_MIN), "?");
    assert_string_equal(synack_state_name(INT_MAX), "?");
}

static void test_drop_names(void **state)
{
    (void)state;
    static const struct {
        const char *name, *text;
    } want[SYNACK__DROP_COUNT] = {
        {"NONE", NULL},
#define X(name, text) {#name, text},
        SYNACK_DROP_REASONS(X)
#undef X
    };
    for (int r = 0; r < SYNACK__DROP_COUNT; r++) {
        assert_string_equal(synack_drop_name(r), want[r].name);
        if (want[r].text)
            assert_string_equal(synack_drop_text(r), want[r].text);
        for (int q = 0; q < r; q++)
            assert_string_not_equal(synack_drop_name(q), synack_drop_name(r));
    }
    assert_string_equal(synack_drop_name(SYNACK_DROP_NONE), "NONE");
    assert_non_null(synack_drop_text(SYNACK_DROP_NONE));
    assert_string_equal(synack_drop_name(SYNACK_DROP_TCP_BAD_CSUM),
                        "TCP_BAD_CSUM");
    assert_string_equal(synack_drop_text(SYNACK_DROP_TCP_BAD_CSUM),
                        "TCP checksum wrong");
    assert_string_equal(synack_drop_name(SYNACK_DROP_ETH_SHORT), "ETH_SHORT");
    assert_string_equal(synack_drop_name(SYNACK_DROP_TCP_BAD_FLAGS),
                        "TCP_BAD_FLAGS");
    assert_string_equal(synack_drop_text(SYNACK_DROP_TCP_BAD_FLAGS),
                        "invalid combination of control bits");
    assert_string_equal(synack_drop_name(-1), "?");
    assert_string_equal(synack_drop_name(SYNACK__DROP_COUNT), "?");
    assert_string_equal(synack_drop_text(-1), "unknown drop reason");
    assert_string_equal(synack_drop_text(SYNACK__DROP_COUNT),
                        "unknown drop reason");
}

static void test_timer_names(void **state)
{
    (void)state;
    assert_string_equal(synack_timer_name(SYNACK_TIMER_NONE), "off");
    assert_string_equal(synack_timer_name(SYNACK_TIMER_ON), "on");
    assert_string_equal(synack_timer_name(SYNACK_TIMER_KEEPALIVE),
                        "keepalive");
    assert_string_equal(synack_timer_name(SYNACK_TIMER_TIMEWAIT), "timewait");
    assert_string_equal(synack_timer_name(SYNACK_TIMER_PERSIST), "persist");
    assert_string_equal(synack_timer_name(SYNACK_TIMER_DELACK), "delack");
    assert_string_equal(synack_timer_name(SYNACK_TIMER_DELACK + 1), "?");
    assert_string_equal(synack_timer_name(-1), "?");
}

static void test_flags_str(void **state)
{
    (void)state;
    static const struct {
        uint8_t flags;
        const char *want;
    } cases[] = {
        {0, "none"},
        {SYNACK_TH_SYN, "SYN"},
        {SYNACK_TH_FIN, "FIN"},
        {SYNACK_TH_RST, "RST"},
        {SYNACK_TH_PSH, "PSH"},
        {SYNACK_TH_ACK, "ACK"},
        {SYNACK_TH_URG, "URG"},
        {SYNACK_TH_ECE, "ECE"},
        {SYNACK_TH_CWR, "CWR"},
        {SYNACK_TH_SYN | SYNACK_TH_ACK, "SYN,ACK"},
        {SYNACK_TH_FIN | SYNACK_TH_ACK, "FIN,ACK"},
        {SYNACK_TH_RST | SYNACK_TH_ACK, "RST,ACK"},
        {SYNACK_TH_PSH | SYNACK_TH_ACK, "PSH,ACK"},
        {SYNACK_TH_FIN | SYNACK_TH_PSH | SYNACK_TH_ACK, "FIN,PSH,ACK"},
        {SYNACK_TH_SYN | SYNACK_TH_FIN, "SYN,FIN"},
        {SYNACK_TH_SYN | SYNACK_TH_ECE | SYNACK_TH_CWR, "SYN,ECE,CWR"},
        {0xff, "SYN,FIN,RST,PSH,ACK,URG,ECE,CWR"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[32];
        memset(buf, 'x', sizeof(buf));
        assert_ptr_equal(synack_flags_str(cases[i].flags, buf, sizeof(buf)),
                         buf);
        assert_string_equal(buf, cases[i].want);
    }
}

static void test_flags_str_truncates(void **state)
{
    (void)state;
    char buf[16];

    memset(buf, 'x', sizeof(buf));
    synack_flags_str(SYNACK_TH_SYN | SYNACK_TH_ACK, buf, 5);
    assert_string_equal(buf, "SYN,");
    assert_int_equal(buf[5], 'x');
    memset(buf, 'x', sizeof(buf));
    synack_flags_str(0, buf, 3);
    assert_string_equal(buf, "no");
    memset(buf, 'x', sizeof(buf));
    synack_flags_str(0xff, buf, 1);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(buf[1], 'x');
    memset(buf, 'x', sizeof(buf));
    synack_flags_str(0xff, buf, 0);
    assert_int_equal(buf[0], 'x');
}

static void test_addr_str(void **state)
{
    (void)state;
    char buf[22];
    synack_addr a = {0x0a000001, 80};

    assert_ptr_equal(synack_addr_str(&a, buf, sizeof(buf)), buf);
    assert_string_equal(buf, "10.0.0.1:80");
    a.ip = 0;
    a.port = 0;
    assert_string_equal(synack_addr_str(&a, buf, sizeof(buf)), "0.0.0.0:0");
    a.ip = 0xffffffffu;
    a.port = 65535;
    assert_string_equal(synack_addr_str(&a, buf, sizeof(buf)),
                        "255.255.255.255:65535");
    a.ip = 0xc0a801fe;
    a.port = 8080;
    assert_string_equal(synack_addr_str(&a, buf, sizeof(buf)),
                        "192.168.1.254:8080");
    synack_addr_str(&a, buf, 8);
    assert_string_equal(buf, "192.168");
}

static void test_ip_parse_valid(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        uint32_t want;
    } ok[] = {
        {"10.0.0.1", 0x0a000001},       {"0.0.0.0", 0},
        {"255.255.255.255", 0xffffffff}, {"192.168.1.254", 0xc0a801fe},
        {"1.2.3.4", 0x01020304},        {"100.64.0.10", 0x6440000a},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        uint32_t ip = 0xdeadbeef;
        assert_int_equal(synack_ip_parse(ok[i].s, &ip), 0);
        assert_int_equal(ip, ok[i].want);
    }
}

static void test_ip_parse_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",          "1",           "1.2.3",         "1.2.3.",
        "1.2.3.4.",  "1.2.3.4.5",   ".1.2.3",        "1..2.3",
        "256.0.0.1", "1.2.3.256",   "1000.1.1.1",    "99999999999.1.1.1",
        "1.2.3.4 ",  " 1.2.3.4",    "1.2.3.4\n",     "a.b.c.d",
        "1.2.3.-4",  "+1.2.3.4",    "1.2.3.4x",      "1.2.3.0x1",
        "01.2.3.4",  "1.2.3.00",    "1.2.3.012",     "1,2,3,4",
        "1.2.3.4:80", "0x0a.0.0.1", "4294967295",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint32_t ip = 0xdeadbeef;
        int rc = synack_ip_parse(bad[i], &ip);
        if (rc != -SYNACK_EINVAL)
            fail_msg("\"%s\": got %d want %d", bad[i], rc, -SYNACK_EINVAL);
        assert_int_equal(ip, 0xdeadbeef); /* untouched on failure */
    }
    uint32_t ip;
    assert_int_equal(synack_ip_parse(NULL, &ip), -SYNACK_EINVAL);
    assert_int_equal(synack_ip_parse("1.2.3.4", NULL), -SYNACK_EINVAL);
}

static void test_ip_roundtrip_addr_str(void **state)
{
    (void)state;
    uint32_t x = 0x12345678;

    for (int i = 0; i < 1000; i++) {
        char buf[22];
        synack_addr a = {x, 1};
        uint32_t back = 0;
        x = x * 1664525u + 1013904223u;
        synack_addr_str(&a, buf, sizeof(buf));
        *strchr(buf, ':') = '\0';
        assert_int_equal(synack_ip_parse(buf, &back), 0);
        assert_int_equal(back, a.ip);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errname_every_code),
        cmocka_unit_test(test_strerror_every_code),
        cmocka_unit_test(test_err_unknown),
        cmocka_unit_test(test_state_names),
        cmocka_unit_test(test_drop_names),
        cmocka_unit_test(test_timer_names),
        cmocka_unit_test(test_flags_str),
        cmocka_unit_test(test_flags_str_truncates),
        cmocka_unit_test(test_addr_str),
        cmocka_unit_test(test_ip_parse_valid),
        cmocka_unit_test(test_ip_parse_invalid),
        cmocka_unit_test(test_ip_roundtrip_addr_str),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
