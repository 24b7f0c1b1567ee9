/* Tests of the pump event loaders (src/data_ingest/events.h). Small fixtures
 * are written into a tmpdir; the real lists in ../shared/data are read when
 * present. Expected times: Python datetime(..., tzinfo=utc).timestamp()*1000. */
#include "testutil.h"
#include "data_ingest/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char g_dir[512];

static int setup(void **state)
{
    (void)state;
    return coce_test_tmpdir(g_dir, sizeof g_dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    coce_test_rmtree(g_dir);
    return 0;
}

static const char *fixture(char *buf, size_t len, const char *name,
                           const char *text)
{
    (void)snprintf(buf, len, "%s/%s", g_dir, name);
    assert_int_equal(coce_test_write_file(buf, text), 0);
    return buf;
}

static void test_telegram_csv(void **state)
{
    (void)state;
    char path[600];
    fixture(path, sizeof path, "tg.csv",
            "symbol,group,date,hour,exchange\n"
            "R,ATW,2018-01-01,16:00,yobit\r\n"
            "lrc,ATW,2018-01-03,15:59,Binance\n"
            "\n"
            "R,XYZ,2018-01-01,16:00,yobit"); /* no trailing newline */
    coce_event *ev = NULL;
    size_t n = 0;
    coce_err err;
    assert_int_equal(coce_events_load(path, &ev, &n, &err), COCE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(ev[0].symbol, "R");
    assert_int_equal(ev[0].time_ms, 1514822400000LL);
    assert_string_equal(ev[0].exchange, "yobit");
    assert_true(ev[0].onset_ms == INT64_MIN);
    assert_string_equal(ev[1].symbol, "LRC");
    assert_int_equal(ev[1].time_ms, 1514995140000LL);
    assert_string_equal(ev[1].exchange, "Binance");
    assert_int_equal(coce_events_dedupe(ev, &n, 0), COCE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(ev[0].symbol, "LRC"); /* sorted by symbol */
    coce_events_free(ev);
    coce_events_free(NULL);
}

static void test_json(void **state)
{
    (void)state;
    char path[600];
    fixture(path, sizeof path, "p.json",
            "[{\"symbol\":\"AAPC-BTC\",\"exchange\":\"BINANCE_SPOT\","
            "\"time\":\"2020-11-18 18:00:11\"},\n"
            " {\"symbol\":\"adx\",\"time\":1000}]");
    coce_event *ev = NULL;
    size_t n = 0;
    coce_err err;
    assert_int_equal(coce_events_load(path, &ev, &n, &err), COCE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(ev[0].symbol, "AAPC");
    assert_string_equal(ev[0].exchange, "BINANCE_SPOT");
    assert_int_equal(ev[0].time_ms, 1605722411000LL);
    assert_string_equal(ev[1].symbol, "ADX");
    assert_string_equal(ev[1].exchange, "");
    assert_int_equal(ev[1].time_ms, 1000);
    coce_events_free(ev);

    fixture(path, sizeof path, "empty.json", " []");
    assert_int_equal(coce_events_load(path, &ev, &n, &err), COCE_OK);
    assert_int_equal(n, 0);
    assert_null(ev);
}

static void test_onset_and_truth_csv(void **state)
{
    (void)state;
    char path[600];
    fixture(path, sizeof path, "onset_features_25S.csv",
            "date,pump_index,std_rush_order,symbol,gt\n"
            "2018-12-30 17:00:00,0,0.579,BRD,1\n");
    coce_event *ev = NULL;
    size_t n = 0;
    coce_err err;
    assert_int_equal(coce_events_load(path, &ev, &n, &err), COCE_OK);
    assert_int_equal(n, 1);
    assert_string_equal(ev[0].symbol, "BRD");
    assert_int_equal(ev[0].time_ms, 1546189200000LL);
    assert_int_equal(ev[0].onset_ms, 1546189200000LL);
    assert_string_equal(ev[0].exchange, "binance");
    coce_events_free(ev);

    fixture(path, sizeof path, "truth.csv",
            "symbol,time_ms,onset_ms\n"
            "ADX,1562346000000,1562345990000\n"
            "BNT/BTC,2019-07-05T17:00:00Z,\n");
    assert_int_equal(coce_events_load(path, &ev, &n, &err), COCE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ev[0].time_ms, 1562346000000LL);
    assert_int_equal(ev[0].onset_ms, 1562345990000LL);
    assert_string_equal(ev[1].symbol, "BNT");
    assert_int_equal(ev[1].time_ms, 1562346000000LL);
    assert_true(ev[1].onset_ms == INT64_MIN);
    coce_events_free(ev);

    fixture(path, sizeof path, "truth2.csv",
            "symbol,time_ms\nADX,5\n");
    assert_int_equal(coce_events_load(path, &ev, &n, &err), COCE_OK);
    assert_int_equal(n, 1);
    assert_true(ev[0].onset_ms == INT64_MIN);
    coce_events_free(ev);
}

typedef struct bad_case {
    const char *name;
    const char *text;
    int code;
    const char *msg; /* after "PATH" */
} bad_case;

static void test_load_errors(void **state)
{
    (void)state;
    static const bad_case BAD[] = {
        {"a.csv", "symbol,group,date,hour,exchange\nR,G,2018-01-01,16:00,y\n"
                  "R,G,2018-02-30,16:00,y\n",
         COCE_EPARSE, ":3: column 'date' and 'hour': not a time"},
        {"b.csv", "symbol,group,date,hour,exchange\nR,G,2018-01-01,16:00\n",
         COCE_EPARSE, ":2: wrong number of columns (expected 5, got 4)"},
        {"c.csv", "symbol,group,date,hour,exchange\nR$,G,2018-01-01,16:00,y\n",
         COCE_EPARSE, ":2: column 'symbol': not a symbol 'R$'"},
        {"c2.csv",
         "symbol,group,date,hour,exchange\nABCDEFGHIJKLMNOPQRSTUVWXYZ,G,"
         "2018-01-01,16:00,y\n",
         COCE_EPARSE, ":2: column 'symbol': not a symbol"},
        {"d.csv", "symbol,group,date,hour,exchange\nR,G,2018-01-01,16:00,"
                  "an_exchange_name_too_long_to_keep\n",
         COCE_EPARSE, ":2: column 'exchange': longer than 23"},
        {"e.csv", "date,symbol\nyesterday,BRD\n", COCE_EPARSE,
         ":2: column 'date': not a time 'yesterday'"},
        {"f.csv", "symbol,time_ms,onset_ms\nADX,1,x\n", COCE_EPARSE,
         ":2: column 'onset_ms': not a time 'x'"},
        {"f2.csv", "symbol,time_ms\nADX,\n", COCE_EPARSE,
         ":2: column 'time_ms': not a time ''"},
        {"g.csv", "a,b,c\n1,2,3\n", COCE_EPARSE, ":1: unknown header"},
        {"h.csv", "", COCE_EPARSE, ": empty file"},
        {"i.json", "[{\"symbol\": }]", COCE_EPARSE, ":1: invalid JSON"},
        {"j.json", "{\"symbol\":\"A\"}", COCE_EPARSE,
         ": expected a JSON array"},
        {"k.json", "[{\"time\":\"2020-01-01\"}]", COCE_EPARSE,
         ": event 0: field 'symbol'"},
        {"l.json", "[{\"symbol\":\"A-BTC\",\"time\":\"2020-01-01\"},"
                   "{\"symbol\":\"A-BTC\",\"time\":\"soon\"}]",
         COCE_EPARSE, ": event 1: field 'time'"},
        {"m.json", "[{\"symbol\":\"A-BTC\",\"time\":1,\"exchange\":3}]",
         COCE_EPARSE, ": event 0: field 'exchange'"},
        {"n.json", "[{\"symbol\":\"A-BTC\"}]", COCE_EPARSE,
         ": event 0: field 'time'"},
        {"o.json", "[7]", COCE_EPARSE, ": event 0: field 'symbol'"},
    };
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; ++i) {
        char path[600], want[800];
        fixture(path, sizeof path, BAD[i].name, BAD[i].text);
        coce_event *ev = (coce_event *)&want; /* must be reset to NULL */
        size_t n = 7;
        coce_err err;
        int rc = coce_events_load(path, &ev, &n, &err);
        (void)snprintf(want, sizeof want, "%s%s", path, BAD[i].msg);
        if (rc != BAD[i].code || strstr(err.msg, want) != err.msg)
            fail_msg("case %s: rc %d msg '%s', want '%s'", BAD[i].name, rc,
                     err.msg, want);
        assert_null(ev);
        assert_int_equal(n, 0);
    }
    char many[400] = "symbol,time_ms";
    for (int i = 0; i < 70; ++i)
        strcat(many, ",x");
    char path[600];
    fixture(path, sizeof path, "many.csv", many);
    coce_event *ev = NULL;
    size_t n = 0;
    coce_err err;
    assert_int_equal(coce_events_load(path, &ev, &n, &err), COCE_EPARSE);
    assert_non_null(strstr(err.msg, ":1: more than 64 columns"));
    (void)snprintf(path, sizeof path, "%s/missing.csv", g_dir);
    assert_int_equal(coce_events_load(path, &ev, &n, &err), COCE_ENOTFOUND);
    assert_non_null(strstr(err.msg, "missing.csv"));
    assert_int_equal(coce_events_load(NULL, &ev, &n, &err), COCE_EINVAL);
}

static coce_event mk(const char *sym, int64_t t, const char *exch,
                     int64_t onset)
{
    coce_event e;
    memset(&e, 0, sizeof e);
    (void)snprintf(e.symbol, sizeof e.symbol, "%s", sym);
    (void)snprintf(e.exchange, sizeof e.exchange, "%s", exch);
    e.time_ms = t;
    e.onset_ms = onset;
    return e;
}

static void test_filter_exchange(void **state)
{
    (void)state;
    coce_event ev[] = {mk("A", 1, "binance", INT64_MIN),
                       mk("B", 2, "BINANCE_SPOT", INT64_MIN),
                       mk("C", 3, "yobit", INT64_MIN),
                       mk("D", 4, "binanceus", INT64_MIN),
                       mk("E", 5, "Binance", INT64_MIN),
                       mk("F", 6, "", INT64_MIN)};
    size_t n = 6;
    assert_int_equal(coce_events_filter_exchange(ev, &n, "binance"), COCE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(ev[0].symbol, "A");
    assert_string_equal(ev[1].symbol, "B");
    assert_string_equal(ev[2].symbol, "E");
    assert_int_equal(coce_events_filter_exchange(ev, &n, "BINANCE_SPOT"),
                     COCE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(coce_events_filter_exchange(ev, &n, "kucoin"), COCE_OK);
    assert_int_equal(n, 0);
    assert_int_equal(coce_events_filter_exchange(NULL, &n, "x"), COCE_OK);
    n = 1;
    assert_int_equal(coce_events_filter_exchange(NULL, &n, "x"), COCE_EINVAL);
    assert_int_equal(coce_events_filter_exchange(ev, NULL, "x"), COCE_EINVAL);
    assert_int_equal(coce_events_filter_exchange(ev, &n, NULL), COCE_EINVAL);
}

static void test_dedupe_window(void **state)
{
    (void)state;
    const int64_t S = 1000;
    coce_event ev[] = {
        mk("ADX", 200 * S, "b", INT64_MIN), mk("ADX", 30 * S, "b", 25 * S),
        mk("BNT", 0, "b", INT64_MIN),       mk("ADX", 0, "b", INT64_MIN),
        mk("ADX", 90 * S, "b", INT64_MIN),  mk("ADX", 60 * S, "b", INT64_MIN),
        mk("ADX", 0, "a", INT64_MIN),
    };
    size_t n = sizeof ev / sizeof ev[0];
    assert_int_equal(coce_events_dedupe(ev, &n, 60 * S), COCE_OK);
    /* ADX runs: {0 (a), 0 (b), 30, 60} {90} {200}; BNT {0} */
    assert_int_equal(n, 4);
    assert_string_equal(ev[0].symbol, "ADX");
    assert_int_equal(ev[0].time_ms, 0);
    assert_string_equal(ev[0].exchange, "a"); /* tie broken by exchange */
    assert_int_equal(ev[0].onset_ms, 25 * S); /* first known in the run */
    assert_int_equal(ev[1].time_ms, 90 * S);
    assert_true(ev[1].onset_ms == INT64_MIN);
    assert_int_equal(ev[2].time_ms, 200 * S);
    assert_string_equal(ev[3].symbol, "BNT");

    coce_event same[] = {mk("X", 5, "b", 2), mk("X", 5, "b", 1),
                         mk("X", 6, "b", INT64_MIN)};
    n = 3;
    assert_int_equal(coce_events_dedupe(same, &n, 0), COCE_OK);
    assert_int_equal(n, 2);
    assert_int_equal(same[0].onset_ms, 1);
    n = 0;
    assert_int_equal(coce_events_dedupe(NULL, &n, 0), COCE_OK);
    n = 1;
    assert_int_equal(coce_events_dedupe(NULL, &n, 0), COCE_EINVAL);
    assert_int_equal(coce_events_dedupe(same, &n, -1), COCE_EINVAL);
    assert_int_equal(coce_events_dedupe(same, NULL, 0), COCE_EINVAL);
}

static int cmp_full(const void *a, const void *b)
{
    const coce_event *x = a, *y = b;
    int c = strcmp(x->symbol, y->symbol);
    if (c != 0)
        return c;
    if (x->time_ms != y->time_ms)
        return x->time_ms < y->time_ms ? -1 : 1;
    return strcmp(x->exchange, y->exchange);
}

/* Counts from ../shared/README.md: 1110 rows, 914 unique (symbol, date,
 * hour, exchange), 520 rows on Binance, 338 unique Binance events. Dedupe
 * by exact time (window 0) after filtering gives the 338. Without the
 * exchange filter dedupe keys on (symbol, time) only, so the 10 pumps listed
 * at the same time on two exchanges merge: 904, as
 * `len({(symbol, date, hour)})` in Python over the same file gives. */
static void test_real_telegram(void **state)
{
    (void)state;
    char path[1024];
    if (coce_test_shared_path(path, sizeof path, "data/pump_telegram.csv") ==
        NULL)
        skip();
    coce_event *ev = NULL;
    size_t n = 0;
    coce_err err;
    assert_int_equal(coce_events_load(path, &ev, &n, &err), COCE_OK);
    assert_int_equal(n, 1110);
    assert_string_equal(ev[0].symbol, "R");
    assert_int_equal(ev[0].time_ms, 1514822400000LL);
    assert_string_equal(ev[n - 1].exchange, "binance");

    coce_event *copy = malloc(n * sizeof *copy);
    assert_non_null(copy);
    memcpy(copy, ev, n * sizeof *copy);
    qsort(copy, n, sizeof *copy, cmp_full);
    size_t uniq = 0;
    for (size_t i = 0; i < n; ++i)
        uniq += i == 0 || cmp_full(&copy[i], &copy[i - 1]) != 0;
    assert_int_equal(uniq, 914);
    size_t all = n;
    assert_int_equal(coce_events_dedupe(copy, &all, 0), COCE_OK);
    assert_int_equal(all, 904);
    free(copy);

    assert_int_equal(coce_events_filter_exchange(ev, &n, "binance"), COCE_OK);
    assert_int_equal(n, 520);
    assert_int_equal(coce_events_dedupe(ev, &n, 0), COCE_OK);
    assert_int_equal(n, 338);
    coce_events_free(ev);
}

static void test_real_json_and_onsets(void **state)
{
    (void)state;
    char path[1024];
    if (coce_test_shared_path(path, sizeof path,
                              "data/pump_events_more/pumps.json") == NULL)
        skip();
    coce_event *ev = NULL;
    size_t n = 0;
    coce_err err;
    assert_int_equal(coce_events_load(path, &ev, &n, &err), COCE_OK);
    assert_int_equal(n, 498); /* README: 498 Binance pump times */
    assert_string_equal(ev[0].symbol, "AAPC");
    assert_int_equal(ev[0].time_ms, 1605722411000LL);
    assert_string_equal(ev[n - 1].symbol, "ZEN");
    assert_int_equal(coce_events_filter_exchange(ev, &n, "binance"), COCE_OK);
    assert_int_equal(n, 498);
    coce_events_free(ev);

    assert_non_null(coce_test_shared_path(
        path, sizeof path, "data/pump_onsets/onset_features_25S.csv"));
    assert_int_equal(coce_events_load(path, &ev, &n, &err), COCE_OK);
    assert_int_equal(n, 317); /* README: 317 Binance events */
    assert_string_equal(ev[0].symbol, "BRD");
    assert_int_equal(ev[0].time_ms, 1546189200000LL);
    assert_int_equal(ev[0].onset_ms, ev[0].time_ms);
    coce_events_free(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_telegram_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_onset_and_truth_csv, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_load_errors, setup, teardown),
        cmocka_unit_test(test_filter_exchange),
        cmocka_unit_test(test_dedupe_window),
        cmocka_unit_test(test_real_telegram),
        cmocka_unit_test(test_real_json_and_onsets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
