/* `coce --mode paper --sleeve convex` on the live feed with options.live:
 * the runner follows BTCUSDT for the sleeve's samples (without trading
 * it), the sleeve's orders reach the fake Deribit (127.0.0.1) labelled with
 * the journal's client ids, and a restart settles an unfinished option
 * order by label (never resent) and takes its fill once. */
#include "live_fixture.h"

#include "agent/engine.h"
#include "agent/live.h"
#include "options/sleeve.h"
#include "state/journal.h"
#include "utils/log.h"
#include "utils/rng.h"

#include "../execution/fake_deribit.c"

#define CID "live-sleeve-client"
#define CSECRET "live-sleeve-secret-987654"
#define STEP INT64_C(60000)
#define HOUR_MS INT64_C(3600000)
#define NT 3300 /* trades per pair: 2 days and 7 hours */

static char tmp[256];
static double g_btc[NT + 2000];

typedef struct market {
    int64_t t0;       /* 23:00 UTC four days ago */
    int64_t n_trades; /* served ids 0..n_trades-1 per pair */
} market;

/* Pair 0 AAAUSDT (traded), pair 1 BTCUSDT (the sleeve's underlying); a
 * trade every minute, 20 s (AAA) and 40 s (BTC) into it. */
static int64_t mk_time(const market *m, int pair, int64_t id)
{
    return m->t0 + id * STEP + (pair == 0 ? 20000 : 40000);
}

static double mk_price(int pair, int64_t id)
{
    return pair == 0 ? 0.5 + 0.01 * sin((double)id * 0.37) : g_btc[id];
}

static int64_t mk_time_cb(const void *ctx, int pair, int64_t id)
{
    return mk_time(ctx, pair, id);
}

static void mk_trade(void *ctx, int pair, int64_t id, char *out, size_t cap)
{
    snprintf(out, cap,
             "{\"a\":%" PRId64 ",\"p\":\"%.8f\",\"q\":\"%.4f\",\"f\":%" PRId64
             ",\"l\":%" PRId64 ",\"T\":%" PRId64 ",\"m\":false,\"M\":true}",
             id, mk_price(pair, id), 1.0 + (double)(id % 7), id, id,
             mk_time(ctx, pair, id));
}

static void route(mock_api *api, struct MHD_Connection *c, const char *path,
                  int n, mock_reply *out)
{
    (void)n;
    market *m = api->ctx;
    const char *symbol = mock_arg(c, "symbol");
    int pair = symbol == NULL                      ? -1
               : strcmp(symbol, "AAAUSDT") == 0 ? 0
               : strcmp(symbol, "BTCUSDT") == 0 ? 1
                                                : -1;
    if (strcmp(path, "/api/v3/aggTrades") != 0 || pair < 0) {
        out->status = 400;
        out->body = mock_strdup("{\"code\":-1121,\"msg\":\"Invalid symbol.\"}");
        return;
    }
    lf_source src = {m, m->n_trades, STEP, mk_time_cb, mk_trade};
    lf_serve_aggtrades(&src, c, pair, out);
}

/* The samples the runner takes: at each hour boundary B after the first
 * trade, BTC's last trade before B. */
static size_t samples(const market *m, int64_t n_trades, int64_t *t,
                      double *px, size_t cap)
{
    int64_t first = mk_time(m, 0, 0);
    int64_t b = (first / HOUR_MS + 1) * HOUR_MS;
    size_t k = 0;
    int64_t last_time = mk_time(m, 1, n_trades - 1);
    for (; b <= last_time && k < cap; b += HOUR_MS) {
        int64_t id = (b - mk_time(m, 1, 0) - 1) / STEP;
        if (id < 0)
            continue;
        t[k] = b;
        px[k++] = g_btc[id];
    }
    return k;
}

static void config(coce_config *cfg, const char *feed_url,
                   const char *deribit_url)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "run:\n  data_dir: %s/data\n  logs_dir: %s/logs\n"
             "  reports_dir: %s/reports\n  log_level: warn\n"
             "  base_currency: USDT\n"
             "strategy:\n  initial_capital: 1000000\n"
             "options:\n  live: true\n  underlyings: BTC\n"
             "  vol_window_days: 2\n  min_days: 3\n  max_days: 30\n"
             "deribit:\n  base_url: %s\n  timeout_ms: 2000\n"
             "feed:\n  binance_url: %s\n  symbols: [AAA]\n"
             "  quote: USDT\n  poll_ms: 100\n  start_minutes_back: 10080\n"
             "  lateness_ms: 0\n  idle_timeout_ms: 100\n"
             "  backoff_base_ms: 10\n  backoff_max_ms: 100\n",
             tmp, tmp, tmp, deribit_url, feed_url);
    coce_config_defaults(cfg);
    coce_err err;
    if (coce_config_load_string(cfg, yaml, "test.yaml", &err) != COCE_OK ||
        coce_config_validate(cfg, &err) != COCE_OK)
        fail_msg("config: %s", err.msg);
}

/* The journal's option intents. */
static size_t option_intents(char ids[][COCE_CLIENT_ID_MAX], size_t cap)
{
    char path[600];
    snprintf(path, sizeof path, "%s/data/journal.db", tmp);
    coce_journal *j = NULL;
    assert_int_equal(coce_journal_open(path, &j, NULL), COCE_OK);
    int64_t last = 0;
    assert_int_equal(coce_journal_last_seq(j, &last, NULL), COCE_OK);
    size_t k = 0;
    for (int64_t q = 1; q <= last; q++) {
        coce_journal_event ev;
        assert_int_equal(coce_journal_get(j, q, &ev, NULL), COCE_OK);
        if (ev.kind == COCE_JOURNAL_INTENT && ev.asset_id >= COCE_ENGINE_OPTION_BASE &&
            k < cap)
            memcpy(ids[k++], ev.client_id, COCE_CLIENT_ID_MAX);
    }
    coce_journal_close(j);
    return k;
}

static void test_paper_sleeve_on_deribit(void **state)
{
    (void)state;
    assert_non_null(coce_test_tmpdir(tmp, sizeof tmp));
    coce_rng r;
    coce_rng_init(&r, 5);
    g_btc[0] = 30000.0;
    for (size_t i = 1; i < sizeof g_btc / sizeof g_btc[0]; i++)
        g_btc[i] = g_btc[i - 1] *
                   exp(1.0 / sqrt(525600.0) * coce_rng_normal(&r));
    market m;
    int64_t now = (int64_t)time(NULL) * 1000;
    m.t0 = (now / LF_DAY_MS - 4) * LF_DAY_MS - HOUR_MS;
    m.n_trades = NT;
    mock_api api;
    assert_int_equal(mock_start(&api, route, &m), 0);

    /* the options the sleeve will choose (the back-test of its samples),
     * listed at the fake */
    static int64_t st[200];
    static double sp[200];
    size_t ns = samples(&m, NT + 600, st, sp, 200);
    coce_config cfg;
    coce_fake_deribit *fake = NULL;
    assert_int_equal(coce_fake_deribit_start(CID, CSECRET, 900, &fake), 0);
    config(&cfg, api.base, coce_fake_deribit_url(fake));
    coce_sleeve_cfg sc;
    coce_sleeve_cfg_default(&sc);
    assert_int_equal(coce_sleeve_rules_from_config(&cfg, &sc.rules, NULL),
                     COCE_OK);
    sc.vol_window_days = 2.0;
    static coce_sleeve_event ev[64];
    coce_sleeve_result res;
    memset(&res, 0, sizeof res);
    res.events = ev;
    res.events_cap = 64;
    assert_int_equal(coce_sleeve_run(&sc, st, sp, ns, 1e6, &res, NULL),
                     COCE_OK);
    assert_true(res.n_buys >= 1);
    for (size_t i = 0; i < res.n_events && i < 64; i++) {
        char name[64];
        assert_int_equal(coce_sleeve_option_name("BTC", ev[i].type,
                                                 ev[i].strike, ev[i].expiry_ms,
                                                 name, sizeof name),
                         COCE_OK);
        coce_fake_db_instrument in = {.name = name,
                                      .tick = 0.0001,
                                      .step_above = 0.005,
                                      .step_tick = 0.0005,
                                      .min_amount = 0.1,
                                      .price = 0.01};
        (void)coce_fake_deribit_add_instrument(fake, &in);
    }
    /* the first buy's answer is lost: settled by label */
    coce_fake_deribit_fault(fake, "private/buy", COCE_FAKE_DB_DROP, 1, 0);

    coce_live_args a;
    memset(&a, 0, sizeof a);
    a.cfg = &cfg;
    a.clock_fn = lf_no_clock;
    a.stop_after_idle = 3;
    a.sleeve = 1;
    a.deribit_client_id = CID;
    a.deribit_client_secret = CSECRET;
    coce_live_result lr;
    coce_err err;
    coce_err_clear(&err);
    int rc = coce_live_run(&a, &lr, &err);
    if (rc != COCE_OK)
        fail_msg("%s", err.msg);
    if (getenv("LS_DEBUG"))
        fprintf(stderr, "trades %zu samples %zu intents %zu fills %zu "
                "refused %zu adopted %zu\n", lr.trades, lr.sleeve_samples,
                lr.sleeve_intents, lr.sleeve_fills, lr.sleeve_refused,
                lr.adopted);
    /* BTC trades were sampled, not traded */
    assert_int_equal(lr.trades, NT);
    assert_true(lr.sleeve_samples >= 48);
    assert_true(lr.sleeve_intents >= 1);
    char ids[16][COCE_CLIENT_ID_MAX];
    size_t n = option_intents(ids, 16);
    assert_int_equal(n, lr.sleeve_intents);
    int buys = coce_fake_deribit_requests(fake, "private/buy");
    assert_int_equal(buys, (int)n);
    coce_fake_db_order o;
    for (size_t i = 0; i < n; i++)
        assert_int_equal(coce_fake_deribit_find(fake, ids[i], &o), 1);
    assert_true(lr.adopted >= 1);

    /* the venue fills the first while the runner is down; the market goes
     * on; a restart settles it by label, resends nothing, takes the fill
     * once a USD sample exists */
    assert_int_equal(coce_fake_deribit_find(fake, ids[0], &o), 1);
    assert_int_equal(coce_fake_deribit_fill(fake, ids[0], o.amount, o.price),
                     0);
    m.n_trades = NT + 200;
    rc = coce_live_run(&a, &lr, &err);
    if (rc != COCE_OK)
        fail_msg("%s", err.msg);
    if (getenv("LS_DEBUG"))
        fprintf(stderr, "restart: pending %zu adopted %zu fills %zu "
                "samples %zu\n", lr.pending_at_start, lr.adopted,
                lr.sleeve_fills, lr.sleeve_samples);
    assert_true(lr.pending_at_start >= 1);
    assert_int_equal(lr.abandoned_at_start, 0);
    assert_int_equal(coce_fake_deribit_requests(fake, "private/buy"), buys);
    assert_int_equal(coce_fake_deribit_find(fake, ids[0], NULL), 1);
    assert_true(lr.sleeve_fills >= 1);
    char path[600];
    snprintf(path, sizeof path, "%s/data/state.json", tmp);
    char *text = coce_test_read_file(path, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "BTC-")); /* the option held */
    free(text);

    /* without the Deribit route, the unfinished option orders refuse a
     * start (never abandoned) */
    a.sleeve = 0;
    rc = coce_live_run(&a, &lr, &err);
    if (lr.pending_at_start > 0) {
        assert_int_equal(rc, COCE_ESTATE);
        assert_non_null(strstr(err.msg, "--sleeve convex"));
    } else {
        assert_int_equal(rc, COCE_OK);
    }
    /* refused without credentials */
    a.sleeve = 1;
    a.deribit_client_secret = NULL;
    assert_int_equal(coce_live_run(&a, &lr, &err), COCE_ECONFIG);
    assert_non_null(strstr(err.msg, "DERIBIT_CLIENT_SECRET (not set)"));
    assert_null(strstr(err.msg, CID));

    coce_fake_deribit_stop(fake);
    mock_stop(&api);
    coce_log_close();
    coce_test_rmtree(tmp);
}

int main(void)
{
    coce_log_set_stderr_level(COCE_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paper_sleeve_on_deribit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
