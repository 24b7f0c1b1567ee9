/* Binance aggTrades client and resumable downloader against a fake Binance
 * on 127.0.0.1 that pages through tests/fixtures/api/binance/
 * aggtrades_adxbtc.json (made by tests/reference/make_api_fixtures.py). */
#include "data_ingest/binance_trades.h"
#include "data_ingest/trades.h"
#include "mock_api.h"
#include "testutil.h"
#include "utils/fsutil.h"
#include "utils/symbols.h"

#include <jansson.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE_MS 1562338800000LL /* 2019-07-05 15:00 UTC */
#define HOUR 3600000LL

typedef struct fake {
    json_t *all;
    int drop_after;   /* requests after this one are dropped (0 = never) */
    int bad_json_at;  /* this request gets a malformed page */
    int weight;       /* X-MBX-USED-WEIGHT-1M value sent */
    int window_errors;
    char first_query[512];
} fake;

typedef struct sleeps {
    int64_t ms[64];
    int n;
} sleeps;

static void record_sleep(void *ctx, int64_t ms)
{
    sleeps *s = ctx;
    if (s->n < 64)
        s->ms[s->n++] = ms;
}

static void route_binance(mock_api *m, struct MHD_Connection *c,
                          const char *path, int n, mock_reply *r)
{
    fake *f = m->ctx;
    if (n == 1)
        snprintf(f->first_query, sizeof f->first_query, "%s", m->last_query);
    if (f->drop_after > 0 && n > f->drop_after) {
        r->drop = 1;
        return;
    }
    if (strcmp(path, "/api/v3/aggTrades") != 0) {
        r->status = 404;
        return;
    }
    static char weight[64];
    snprintf(weight, sizeof weight, "X-MBX-USED-WEIGHT-1M: %d", f->weight);
    r->headers[0] = weight;
    if (n == f->bad_json_at) {
        r->body = mock_strdup("[{\"a\":1,\"p\":0.5,\"q\":\"1\",\"f\":1,"
                              "\"l\":1,\"T\":1,\"m\":true}]");
        return;
    }
    const char *sym = mock_arg(c, "symbol");
    if (sym == NULL || strcmp(sym, "ADXBTC") != 0) {
        r->status = 400;
        r->body = mock_strdup("{\"code\":-1121,\"msg\":\"Invalid symbol.\"}");
        return;
    }
    const char *lim = mock_arg(c, "limit");
    const char *from = mock_arg(c, "fromId");
    const char *st = mock_arg(c, "startTime");
    const char *et = mock_arg(c, "endTime");
    long long limit = lim != NULL ? atoll(lim) : 500;
    long long s = st != NULL ? atoll(st) : INT64_MIN;
    long long e = et != NULL ? atoll(et) : INT64_MAX;
    if (st != NULL && et != NULL && e - s >= HOUR) {
        f->window_errors++;
        r->status = 400;
        r->body = mock_strdup("{\"code\":-1127,\"msg\":\"More than 1 hours "
                              "between startTime and endTime.\"}");
        return;
    }
    long long fid = from != NULL ? atoll(from) : INT64_MIN;
    json_t *out = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(f->all, i, t)
    {
        long long a = json_integer_value(json_object_get(t, "a"));
        long long T = json_integer_value(json_object_get(t, "T"));
        if ((long long)json_array_size(out) >= limit)
            break;
        if (from != NULL ? a >= fid : (T >= s && T <= e))
            json_array_append(out, t);
    }
    r->body = json_dumps(out, JSON_COMPACT);
    json_decref(out);
}

static json_t *load_fixture(void)
{
    char p[1024];
    coce_test_path(p, sizeof p,
                   "tests/fixtures/api/binance/aggtrades_adxbtc.json");
    json_error_t je;
    json_t *all = json_load_file(p, 0, &je);
    assert_non_null(all);
    return all;
}

static coce_http_client *client(sleeps *s, int retries)
{
    coce_http_opts o;
    coce_http_opts_default(&o);
    o.max_retries = retries;
    o.backoff_base_ms = 1;
    o.backoff_max_ms = 4;
    o.timeout_ms = 3000;
    o.sleep_fn = record_sleep;
    o.sleep_ctx = s;
    coce_http_client *c = NULL;
    assert_int_equal(coce_http_client_new(&c, &o, NULL), COCE_OK);
    return c;
}

/* The downloaded file holds exactly the fixture's trades with
 * start <= T <= end, in order, with the taker side from m. */
static void check_file(const char *path, json_t *all, int64_t s, int64_t e)
{
    coce_symbols *sy = NULL;
    assert_int_equal(coce_symbols_new(&sy), COCE_OK);
    coce_trade_reader *r = NULL;
    coce_err err;
    assert_int_equal(coce_trade_reader_open(&r, path, sy, NULL, &err),
                     COCE_OK);
    coce_trade buf[64];
    size_t n = 0;
    assert_int_equal(coce_trade_reader_next(r, buf, 64, &n, &err), COCE_OK);
    assert_string_equal(coce_trade_reader_symbol(r), "ADX");
    size_t k = 0, i;
    json_t *t;
    json_array_foreach(all, i, t)
    {
        int64_t T = json_integer_value(json_object_get(t, "T"));
        if (T < s || T > e)
            continue;
        assert_true(k < n);
        assert_int_equal(buf[k].time_ms, T);
        assert_close(buf[k].price,
                     strtod(json_string_value(json_object_get(t, "p")), NULL),
                     0, 0);
        assert_close(buf[k].qty,
                     strtod(json_string_value(json_object_get(t, "q")), NULL),
                     0, 0);
        assert_int_equal(buf[k].side, json_is_true(json_object_get(t, "m"))
                                          ? COCE_SIDE_SELL
                                          : COCE_SIDE_BUY);
        ++k;
    }
    assert_int_equal(k, n);
    coce_trade_reader_free(r);
    coce_symbols_free(sy);
}

static void test_parse(void **state)
{
    (void)state;
    coce_agg_trade *t = NULL;
    size_t n = 0;
    coce_err err;
    const char *ok = "[{\"a\":26129,\"p\":\"0.01633102\",\"q\":\"4.70443515\","
                     "\"f\":27781,\"l\":27781,\"T\":1498793709153,\"m\":true,"
                     "\"M\":true}]";
    assert_int_equal(coce_binance_parse_agg_trades(ok, strlen(ok), &t, &n,
                                                    &err),
                     COCE_OK);
    assert_int_equal(n, 1);
    assert_int_equal(t[0].id, 26129);
    assert_close(t[0].price, 0.01633102, 0, 0);
    assert_close(t[0].qty, 4.70443515, 0, 0);
    assert_int_equal(t[0].first_id, 27781);
    assert_int_equal(t[0].last_id, 27781);
    assert_int_equal(t[0].time_ms, 1498793709153LL);
    assert_int_equal(t[0].buyer_maker, 1);
    free(t);
    assert_int_equal(coce_binance_parse_agg_trades("[]", 2, &t, &n, &err),
                     COCE_OK);
    assert_int_equal(n, 0);
    assert_null(t);

    static const struct {
        const char *json;
        const char *msg;
    } bad[] = {
        {"[{", "invalid JSON"},
        {"{\"code\":-1121}", "expected an array"},
        {"[1]", "item 0: expected an object"},
        {"[{\"a\":\"1\"}]", "item 0: field 'a': expected an integer"},
        {"[{\"a\":1,\"p\":0.5}]", "field 'p': expected a decimal string"},
        {"[{\"a\":1,\"p\":\"x\"}]", "field 'p'"},
        {"[{\"a\":1,\"p\":\"1\",\"q\":\"1e999\"}]", "field 'q'"},
        {"[{\"a\":1,\"p\":\"1\",\"q\":\"1\"}]", "field 'f'"},
        {"[{\"a\":1,\"p\":\"1\",\"q\":\"1\",\"f\":1}]", "field 'l'"},
        {"[{\"a\":1,\"p\":\"1\",\"q\":\"1\",\"f\":1,\"l\":1}]", "field 'T'"},
        {"[{\"a\":1,\"p\":\"1\",\"q\":\"1\",\"f\":1,\"l\":1,\"T\":1,"
         "\"m\":\"true\"}]",
         "field 'm': expected a boolean"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        coce_err_clear(&err);
        assert_int_equal(coce_binance_parse_agg_trades(bad[i].json,
                                                       strlen(bad[i].json), &t,
                                                       &n, &err),
                         COCE_EPARSE);
        assert_non_null(strstr(err.msg, "binance /api/v3/aggTrades"));
        if (strstr(err.msg, bad[i].msg) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, bad[i].msg);
    }
    assert_int_equal(coce_binance_parse_agg_trades(NULL, 0, &t, &n, &err),
                     COCE_EPARSE);
}

static void test_page_request(void **state)
{
    (void)state;
    fake f = {.all = load_fixture(), .weight = 3};
    mock_api m;
    assert_int_equal(mock_start(&m, route_binance, &f), 0);
    sleeps s = {0};
    coce_http_client *c = client(&s, 0);
    coce_agg_trade *t = NULL;
    size_t n = 0;
    coce_err err;
    assert_int_equal(coce_binance_agg_trades_page(c, m.base, "ADXBTC", 1005,
                                                  INT64_MIN, INT64_MIN, 3, &t,
                                                  &n, &err),
                     COCE_OK);
    assert_string_equal(m.last_query, "symbol=ADXBTC&limit=3&fromId=1005");
    assert_int_equal(n, 3);
    assert_int_equal(t[0].id, 1005);
    assert_int_equal(t[2].id, 1007);
    free(t);
    assert_int_equal(coce_binance_agg_trades_page(
                         c, m.base, "ADXBTC", -1, BASE_MS + HOUR,
                         BASE_MS + 2 * HOUR - 1, 1000, &t, &n, &err),
                     COCE_OK);
    assert_string_equal(m.last_query, "symbol=ADXBTC&limit=1000&startTime="
                                      "1562342400000&endTime=1562345999999");
    assert_int_equal(n, 13); /* 16:05 .. 16:59 every 4.5 min */
    free(t);
    /* Binance's own error body is passed on. */
    assert_int_equal(coce_binance_agg_trades_page(c, m.base, "NOPE", -1,
                                                  INT64_MIN, INT64_MIN, 10, &t,
                                                  &n, &err),
                     COCE_EHTTP);
    assert_non_null(strstr(err.msg, "Invalid symbol."));
    assert_int_equal(coce_binance_agg_trades_page(c, m.base, "ADXBTC", -1,
                                                  INT64_MIN, INT64_MIN, 1001,
                                                  &t, &n, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_binance_agg_trades_page(c, m.base, "", -1,
                                                  INT64_MIN, INT64_MIN, 10, &t,
                                                  &n, &err),
                     COCE_EINVAL);
    coce_http_client_free(c);
    mock_stop(&m);
    json_decref(f.all);
}

static void test_download_pages_and_range(void **state)
{
    (void)state;
    fake f = {.all = load_fixture(), .weight = 1};
    mock_api m;
    assert_int_equal(mock_start(&m, route_binance, &f), 0);
    sleeps s = {0};
    coce_http_client *c = client(&s, 0);
    char dir[512], path[700];
    coce_test_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/out/ADX_2019-07-05_17.00.csv.gz", dir);
    coce_binance_dl_opts o;
    coce_binance_dl_opts_default(&o);
    o.base_url = m.base;
    o.limit = 5;
    coce_binance_dl_stats st;
    coce_err err;
    int64_t s0 = BASE_MS, e0 = BASE_MS + 3 * HOUR;
    assert_int_equal(coce_binance_download_trades(c, &o, "adx", "btc", s0, e0,
                                                  path, &st, &err),
                     COCE_OK);
    /* Quiet first hour (one empty window), one window page, then fromId
     * pages of 5 until a trade after 18:00 shows up: ids 1002..1022. */
    assert_string_equal(f.first_query, "symbol=ADXBTC&startTime=1562338800000"
                                       "&endTime=1562342399999&limit=5");
    assert_int_equal(f.window_errors, 0);
    assert_int_equal(st.trades, 21);
    assert_int_equal(st.last_id, 1022);
    assert_int_equal(st.resumed, 0);
    assert_int_equal(st.pages, 1 + 1 + 4);
    assert_int_equal(mock_count(&m), 6);
    check_file(path, f.all, s0, e0);
    char part[800];
    snprintf(part, sizeof part, "%s.part", path);
    assert_false(coce_fs_exists(part));
    snprintf(part, sizeof part, "%s.resume", path);
    assert_false(coce_fs_exists(part));
    assert_int_equal(s.n, 0);

    /* A range ending before the newest trades stops on a short page. */
    snprintf(path, sizeof path, "%s/late.csv", dir);
    o.limit = 1000;
    assert_int_equal(coce_binance_download_trades(c, &o, "ADX", "BTC",
                                                  BASE_MS + 3 * HOUR,
                                                  BASE_MS + 10 * HOUR, path,
                                                  &st, &err),
                     COCE_OK);
    assert_int_equal(st.trades, 3);
    check_file(path, f.all, BASE_MS + 3 * HOUR, BASE_MS + 10 * HOUR);

    /* No trade at all: every window empty, an empty file. */
    snprintf(path, sizeof path, "%s/none.csv", dir);
    assert_int_equal(coce_binance_download_trades(c, &o, "ADX", "BTC",
                                                  BASE_MS - 30 * HOUR,
                                                  BASE_MS - 27 * HOUR, path,
                                                  &st, &err),
                     COCE_OK);
    assert_int_equal(st.trades, 0);
    assert_int_equal(st.pages, 4); /* the last window is [end, end] */
    assert_true(coce_fs_exists(path));

    coce_http_client_free(c);
    mock_stop(&m);
    json_decref(f.all);
    coce_test_rmtree(dir);
}

static void test_resume_after_interruption(void **state)
{
    (void)state;
    fake f = {.all = load_fixture(), .weight = 1, .drop_after = 4};
    mock_api m;
    assert_int_equal(mock_start(&m, route_binance, &f), 0);
    sleeps s = {0};
    coce_http_client *c = client(&s, 1);
    char dir[512], path[700], part[800], marker[800];
    coce_test_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/ADX_2019-07-05_17.00.csv.gz", dir);
    snprintf(part, sizeof part, "%s.part", path);
    snprintf(marker, sizeof marker, "%s.resume", path);
    coce_binance_dl_opts o;
    coce_binance_dl_opts_default(&o);
    o.base_url = m.base;
    o.limit = 5;
    coce_binance_dl_stats st;
    coce_err err;
    int64_t s0 = BASE_MS, e0 = BASE_MS + 3 * HOUR;
    int rc = coce_binance_download_trades(c, &o, "ADX", "BTC", s0, e0, path,
                                          &st, &err);
    assert_int_equal(rc, COCE_ENET);
    assert_non_null(strstr(err.msg, "ADXBTC: GET "));
    assert_false(coce_fs_exists(path));
    assert_true(coce_fs_exists(part));
    assert_true(coce_fs_exists(marker));
    /* Pages 1 (empty), 2 (1002..1006), 3 (1007..1011), 4 (1012..1016). */
    assert_int_equal(st.last_id, 1016);
    /* Simulate a crash after rows were appended but before the marker:
     * the extra line is cut off on resume. */
    FILE *fp = fopen(part, "ab");
    fputs("1017,1562346000000,1,1,0\n", fp);
    fclose(fp);
    coce_http_client_free(c);
    mock_stop(&m);

    f.drop_after = 0;
    assert_int_equal(mock_start(&m, route_binance, &f), 0);
    o.base_url = m.base;
    c = client(&s, 0);
    assert_int_equal(coce_binance_download_trades(c, &o, "ADX", "BTC", s0, e0,
                                                  path, &st, &err),
                     COCE_OK);
    assert_int_equal(st.resumed, 1);
    assert_string_equal(f.first_query, "symbol=ADXBTC&fromId=1017&limit=5");
    assert_int_equal(st.trades, 21);
    check_file(path, f.all, s0, e0);
    assert_false(coce_fs_exists(part));
    assert_false(coce_fs_exists(marker));

    /* A marker for another request is not trusted: start afresh. */
    assert_int_equal(coce_test_write_file(part, "garbage\n"), 0);
    assert_int_equal(coce_test_write_file(
                         marker, "{\"symbol\":\"ADXBTC\",\"start_ms\":1,"
                                 "\"end_ms\":2,\"last_id\":5,\"part_bytes\":"
                                 "8,\"rows\":1}"),
                     0);
    assert_int_equal(coce_binance_download_trades(c, &o, "ADX", "BTC", s0, e0,
                                                  path, &st, &err),
                     COCE_OK);
    assert_int_equal(st.resumed, 0);
    check_file(path, f.all, s0, e0);
    /* A marker claiming more bytes than the part holds: afresh too. */
    assert_int_equal(coce_test_write_file(part, "x"), 0);
    char mk[256];
    snprintf(mk, sizeof mk,
             "{\"symbol\":\"ADXBTC\",\"start_ms\":%lld,\"end_ms\":%lld,"
             "\"last_id\":5,\"part_bytes\":99,\"rows\":1}",
             (long long)s0, (long long)e0);
    assert_int_equal(coce_test_write_file(marker, mk), 0);
    assert_int_equal(coce_binance_download_trades(c, &o, "ADX", "BTC", s0, e0,
                                                  path, &st, &err),
                     COCE_OK);
    assert_int_equal(st.resumed, 0);
    /* A damaged part file under a valid marker is reported on finishing. */
    assert_int_equal(coce_test_write_file(part, "not,a,row\n"), 0);
    snprintf(mk, sizeof mk,
             "{\"symbol\":\"ADXBTC\",\"start_ms\":%lld,\"end_ms\":%lld,"
             "\"last_id\":1030,\"part_bytes\":10,\"rows\":1}",
             (long long)s0, (long long)e0);
    assert_int_equal(coce_test_write_file(marker, mk), 0);
    assert_int_equal(coce_binance_download_trades(c, &o, "ADX", "BTC", s0, e0,
                                                  path, &st, &err),
                     COCE_EPARSE);
    assert_non_null(strstr(err.msg, ".part:1: damaged row"));
    coce_http_client_free(c);
    mock_stop(&m);
    json_decref(f.all);
    coce_test_rmtree(dir);
}

static void test_malformed_page_and_weight_pause(void **state)
{
    (void)state;
    fake f = {.all = load_fixture(), .weight = 5500, .bad_json_at = 3};
    mock_api m;
    assert_int_equal(mock_start(&m, route_binance, &f), 0);
    sleeps s = {0};
    coce_http_client *c = client(&s, 0);
    char dir[512], path[700];
    coce_test_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/ADX.csv", dir);
    coce_binance_dl_opts o;
    coce_binance_dl_opts_default(&o);
    o.base_url = m.base;
    o.limit = 5;
    coce_err err;
    assert_int_equal(coce_binance_download_trades(c, &o, "ADX", "BTC", BASE_MS,
                                                  BASE_MS + 3 * HOUR, path,
                                                  NULL, &err),
                     COCE_EPARSE);
    assert_non_null(strstr(err.msg, "binance /api/v3/aggTrades: item 0: "
                                    "field 'p': expected a decimal string"));
    /* Used weight 5500 >= 5000: each good page waited for the next minute. */
    assert_int_equal(s.n, 2);
    for (int i = 0; i < s.n; ++i)
        assert_true(s.ms[i] > 0 && s.ms[i] <= 60000);
    coce_http_client_free(c);
    mock_stop(&m);
    json_decref(f.all);
    coce_test_rmtree(dir);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    sleeps s = {0};
    coce_http_client *c = client(&s, 0);
    coce_err err;
    coce_binance_dl_opts o;
    coce_binance_dl_opts_default(&o);
    assert_int_equal(coce_binance_download_trades(c, NULL, "AD-X", "BTC", 0, 1,
                                                  "/tmp/x.csv", NULL, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_binance_download_trades(c, &o, "ADX", "", 0, 1,
                                                  "/tmp/x.csv", NULL, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_binance_download_trades(c, &o, "ADX", "BTC", 5, 1,
                                                  "/tmp/x.csv", NULL, &err),
                     COCE_EINVAL);
    assert_non_null(strstr(err.msg, "before start"));
    o.limit = 0;
    assert_int_equal(coce_binance_download_trades(c, &o, "ADX", "BTC", 0, 1,
                                                  "/tmp/x.csv", NULL, &err),
                     COCE_EINVAL);
    char longp[1200];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    o.limit = 10;
    o.base_url = NULL;
    assert_int_equal(coce_binance_download_trades(c, &o, "ADX", "BTC", 0, 1,
                                                  longp, NULL, &err),
                     COCE_EINVAL);
    /* Unwritable directory. */
    assert_int_equal(coce_binance_download_trades(c, &o, "ADX", "BTC", 0, 1,
                                                  "/proc/nope/x.csv", NULL,
                                                  &err),
                     COCE_EIO);
    coce_http_client_free(c);
}

static void test_archive(void **state)
{
    (void)state;
    char url[256];
    assert_int_equal(coce_binance_archive_url(NULL, "ADXBTC", BASE_MS, 0, url,
                                              sizeof url),
                     COCE_OK);
    assert_string_equal(url, "https://data.binance.vision/data/spot/daily/"
                             "aggTrades/ADXBTC/ADXBTC-aggTrades-2019-07-05.zip");
    assert_int_equal(coce_binance_archive_url("http://x", "ADXBTC", BASE_MS, 1,
                                              url, sizeof url),
                     COCE_OK);
    assert_string_equal(url, "http://x/data/spot/monthly/aggTrades/ADXBTC/"
                             "ADXBTC-aggTrades-2019-07.zip");
    assert_int_equal(coce_binance_archive_url(NULL, "ADXBTC", BASE_MS, 0, url,
                                              10),
                     COCE_ERANGE);
    assert_int_equal(coce_binance_archive_url(NULL, "A/B", BASE_MS, 0, url,
                                              sizeof url),
                     COCE_EINVAL);
    assert_int_equal(coce_binance_archive_url(NULL, "ADXBTC", -1, 0, url,
                                              sizeof url),
                     COCE_EINVAL);

    coce_agg_trade t;
    const char *row = "26129,0.01633102,4.70443515,27781,27782,1498793709153,"
                      "True,True\r\n";
    assert_int_equal(coce_binance_archive_parse_row(row, strlen(row), &t),
                     COCE_OK);
    assert_int_equal(t.id, 26129);
    assert_close(t.price, 0.01633102, 0, 0);
    assert_close(t.qty, 4.70443515, 0, 0);
    assert_int_equal(t.first_id, 27781);
    assert_int_equal(t.last_id, 27782);
    assert_int_equal(t.time_ms, 1498793709153LL);
    assert_int_equal(t.buyer_maker, 1);
    row = "1,2,3,4,5,6,false";
    assert_int_equal(coce_binance_archive_parse_row(row, strlen(row), &t),
                     COCE_OK);
    assert_int_equal(t.buyer_maker, 0);
    static const char *bad[] = {"",
                                "1,2,3,4,5,6",
                                "1,2,3,4,5,6,maybe",
                                "x,2,3,4,5,6,true",
                                "1,x,3,4,5,6,true",
                                "1,2,x,4,5,6,true",
                                "1,2,3,4,5,6,true,true,9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i)
        assert_int_equal(coce_binance_archive_parse_row(bad[i], strlen(bad[i]),
                                                        &t),
                         COCE_EPARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_page_request),
        cmocka_unit_test(test_download_pages_and_range),
        cmocka_unit_test(test_resume_after_interruption),
        cmocka_unit_test(test_malformed_page_and_weight_pause),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_archive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
