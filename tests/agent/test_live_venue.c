/* `coce --mode live` end to end: the live runner against the fake Binance
 * venue (orders, signed) and the fake market-data server, both on
 * 127.0.0.1. Entries and exits reach the venue, every venue order is in the
 * journal, fills are journalled exactly once, and the book agrees with the
 * venue. Restart reconciliation: an order whose outcome was unknown (the
 * venue accepted it and dropped the connection) is adopted with its fills;
 * an order journalled but never sent is abandoned once the venue can no
 * longer receive it; neither is resent. The CLI refuses live trading
 * without live.enabled and the keys. */
#include "live_venue_check.h"

#include "agent/cli.h"
#include "agent/live.h"
#include "execution/binance.h"
#include "utils/fsutil.h"
#include "utils/log.h"

#include <unistd.h>

static char tmp[256];

static void paths(char *journal, char *state_path, size_t len)
{
    snprintf(journal, len, "%s/data/journal.db", tmp);
    snprintf(state_path, len, "%s/data/state.json", tmp);
}

static void test_live_end_to_end(void **state)
{
    (void)state;
    assert_non_null(coce_test_tmpdir(tmp, sizeof tmp));
    lf_market m;
    lf_market_init(&m, 3, 480);
    mock_api api;
    assert_int_equal(mock_start(&api, lf_route, &m), 0);
    coce_fake_binance *f = lv_venue();
    assert_non_null(f);
    coce_config cfg;
    assert_int_equal(lf_config(&cfg, tmp, api.base, coce_fake_binance_url(f)),
                     0);
    coce_live_args a;
    memset(&a, 0, sizeof a);
    a.cfg = &cfg;
    a.live = 1;
    a.api_key = LV_KEY;
    a.api_secret = LV_SECRET;
    a.clock_fn = lf_no_clock;
    a.stop_after_idle = 3;
    coce_live_result r;
    coce_err err;
    coce_err_clear(&err);
    int rc = coce_live_run(&a, &r, &err);
    if (rc != COCE_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(r.trades, 2 * 480);
    assert_true(r.entries > 0);
    assert_true(r.exits > 0);
    assert_int_equal(coce_fake_binance_auth_failures(f), 0);
    char journal[600], st[600], why[300];
    paths(journal, st, sizeof journal);
    lv_report rep;
    assert_int_equal(lv_check(f, journal, &rep, why, sizeof why), 0);
    assert_true(rep.venue_orders > 0);
    assert_int_equal(rep.venue_orders, rep.at_venue); /* none lost */
    assert_int_equal(rep.at_venue, rep.intents);
    assert_int_equal(rep.fill_mismatch, 0);
    assert_int_equal(rep.unfinished, 0);
    if (lv_book_matches(f, st, journal, why, sizeof why) != 0)
        fail_msg("%s", why);

    /* The next order is accepted by the venue, whose answer is lost (the
     * connection drops): its outcome is unknown, it is not resent. */
    coce_fake_binance_fault(f, "POST", "/api/v3/order", COCE_FAKE_BN_DROP, 1,
                            0);
    /* and an intent journalled by a process that died before sending */
    coce_journal *j = NULL;
    assert_int_equal(coce_journal_open(journal, &j, &err), COCE_OK);
    coce_order_intent in;
    memset(&in, 0, sizeof in);
    snprintf(in.client_id, sizeof in.client_id, "coce-dead-1");
    in.asset = 0;
    in.side = COCE_SIDE_BUY;
    in.qty = 5;
    in.type = COCE_ORDER_MARKET;
    assert_int_equal(coce_journal_append_intent(j, &in, "AAA", NULL, &err),
                     COCE_OK);
    coce_journal_close(j);
    pthread_mutex_lock(&api.mu);
    m.n_trades = 3300; /* through the next midnight */
    pthread_mutex_unlock(&api.mu);
    rc = coce_live_run(&a, &r, &err);
    if (rc != COCE_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(r.pending_at_start, 1);
    assert_true(r.adopted >= 1); /* the dropped one, found by client id */
    size_t abandoned = r.abandoned; /* coce-dead-1, after recvWindow */
    assert_true(r.entries > 0);
    assert_int_equal(coce_fake_binance_find(f, "coce-dead-1", NULL), 0);
    assert_int_equal(lv_check(f, journal, &rep, why, sizeof why), 0);
    assert_int_equal(rep.venue_orders, rep.at_venue);
    assert_int_equal(rep.done_at_venue, 0);
    assert_int_equal(rep.fill_excess, 0);
    /* the dropped order may still be unknown when the run ended; a last
     * run after recvWindow settles it: adopted with its fills */
    struct timespec ts = {1, 300000000};
    nanosleep(&ts, NULL);
    /* idle for 2 s: longer than recvWindow + 1 s after this restart, so
     * the order that never reached the venue becomes final and is
     * abandoned (a restart treats unfinished orders as sent at restart) */
    a.stop_after_idle = 20;
    rc = coce_live_run(&a, &r, &err);
    if (rc != COCE_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(abandoned + r.abandoned, 1);
    assert_int_equal(coce_fake_binance_find(f, "coce-dead-1", NULL), 0);
    assert_int_equal(lv_check(f, journal, &rep, why, sizeof why), 0);
    assert_int_equal(rep.venue_orders, rep.at_venue);
    assert_int_equal(rep.fill_mismatch, 0);
    assert_int_equal(rep.unfinished, 0);
    if (lv_book_matches(f, st, journal, why, sizeof why) != 0)
        fail_msg("%s", why);
    coce_fake_binance_stop(f);
    mock_stop(&api);
    coce_test_rmtree(tmp);
}

static int64_t later_clock(void *ctx)
{
    const lf_market *m = ctx;
    return m->t0 + 2 * LF_DAY_MS; /* the idle clock runs ahead of the data */
}

/* A journalled limit order that the venue partly filled and then canceled
 * while COCE was down: adopted by client id, the fill journalled once and
 * applied, the order closed as canceled. The idle clock runs the engine's
 * timers past the data. */
static void test_restart_adopts_partial_cancel(void **state)
{
    (void)state;
    assert_non_null(coce_test_tmpdir(tmp, sizeof tmp));
    lf_market m;
    lf_market_init(&m, 3, 20);
    mock_api api;
    assert_int_equal(mock_start(&api, lf_route, &m), 0);
    coce_fake_binance *f = lv_venue();
    assert_non_null(f);
    coce_config cfg;
    assert_int_equal(lf_config(&cfg, tmp, api.base, coce_fake_binance_url(f)),
                     0);
    coce_symbols *syms = NULL;
    coce_asset_id id;
    assert_int_equal(coce_symbols_new(&syms), COCE_OK);
    assert_int_equal(coce_symbols_intern(syms, "AAA", &id), COCE_OK);
    coce_binance_opts bo;
    coce_binance_opts_default(&bo);
    bo.base_url = coce_fake_binance_url(f);
    bo.api_key = LV_KEY;
    bo.api_secret = LV_SECRET;
    bo.quote_asset = "BTC";
    bo.symbols = syms;
    bo.recv_window_ms = 5000;
    bo.timeout_ms = 2000;
    coce_binance *bn = NULL;
    coce_err err;
    assert_int_equal(coce_binance_new(&bo, &bn, &err), COCE_OK);
    coce_order_intent in;
    memset(&in, 0, sizeof in);
    snprintf(in.client_id, sizeof in.client_id, "coce-lim-1");
    in.asset = id;
    in.side = COCE_SIDE_BUY;
    in.type = COCE_ORDER_LIMIT;
    in.qty = 100;
    in.limit_price = 0.0009;
    char dir[600], journal[700], st[700], why[300];
    snprintf(dir, sizeof dir, "%s/data", tmp);
    snprintf(journal, sizeof journal, "%s/journal.db", dir);
    snprintf(st, sizeof st, "%s/state.json", dir);
    assert_int_equal(coce_fs_mkdir_p(dir), COCE_OK);
    coce_journal *j = NULL;
    assert_int_equal(coce_journal_open(journal, &j, &err), COCE_OK);
    assert_int_equal(coce_journal_append_intent(j, &in, "AAA", NULL, &err),
                     COCE_OK);
    coce_exchange x = coce_binance_exchange(bn);
    size_t nf = 0;
    assert_int_equal(x.place(x.impl, &in, 0, NULL, 0, &nf, &err), COCE_OK);
    coce_journal_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = COCE_JOURNAL_SENT;
    snprintf(ev.client_id, sizeof ev.client_id, "coce-lim-1");
    assert_int_equal(coce_journal_append(j, &ev, NULL, &err), COCE_OK);
    coce_journal_close(j);
    coce_binance_free(bn);
    coce_symbols_free(syms);
    assert_int_equal(coce_fake_binance_fill(f, "coce-lim-1", 40, 0.0009), 0);
    assert_int_equal(coce_fake_binance_set_status(f, "coce-lim-1", "CANCELED"),
                     0);

    coce_live_args a;
    memset(&a, 0, sizeof a);
    a.cfg = &cfg;
    a.live = 1;
    a.api_key = LV_KEY;
    a.api_secret = LV_SECRET;
    a.clock_fn = later_clock;
    a.clock_ctx = &m;
    a.stop_after_idle = 2;
    coce_live_result r;
    int rc = coce_live_run(&a, &r, &err);
    if (rc != COCE_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(r.pending_at_start, 1);
    assert_int_equal(r.adopted, 1);
    assert_int_equal(r.open_orders, 0);
    lv_report rep;
    assert_int_equal(lv_check(f, journal, &rep, why, sizeof why), 0);
    assert_int_equal(rep.unfinished, 0);
    assert_int_equal(rep.fill_mismatch, 0);
    assert_int_equal(rep.fills, 1);
    if (lv_book_matches(f, st, journal, why, sizeof why) != 0)
        fail_msg("%s", why);
    /* a restart finds nothing left to settle */
    rc = coce_live_run(&a, &r, &err);
    assert_int_equal(rc, COCE_OK);
    assert_int_equal(r.pending_at_start, 0);
    coce_fake_binance_stop(f);
    mock_stop(&api);
    coce_test_rmtree(tmp);
}

static void test_cli_refuses_live(void **state)
{
    (void)state;
    assert_non_null(coce_test_tmpdir(tmp, sizeof tmp));
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s/c.yaml", tmp);
    assert_int_equal(coce_test_write_file(cfg, "feed:\n  symbols: [AAA]\n"),
                     0);
    unsetenv("EXCHANGE_API_KEY");
    unsetenv("EXCHANGE_API_SECRET");
    char *argv[] = {"coce", "--mode", "live", "--config", cfg, NULL};
    assert_int_equal(coce_cli_main(5, argv), 5);
    coce_test_rmtree(tmp);
}

int main(void)
{
    coce_log_set_stderr_level(COCE_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_end_to_end),
        cmocka_unit_test(test_restart_adopts_partial_cancel),
        cmocka_unit_test(test_cli_refuses_live),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
