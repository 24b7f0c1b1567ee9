/* `coce --mode paper` on the live feed, end to end against a fake Binance
 * market-data server on 127.0.0.1 (generated aggTrades pages): the paper
 * venue trades, state.json and feed.json persist, and a restart resumes
 * after the saved cursors -- no trade is given to the engine twice, none is
 * lost. Also: the stop request ends a run cleanly, an unfinished paper order
 * is abandoned on restart, the engine's idle clock. */
#include "live_fixture.h"

#include "agent/live.h"
#include "state/book.h"
#include "state/journal.h"
#include "state/lock.h"
#include "state/state_file.h"
#include "utils/fsutil.h"
#include "utils/log.h"

#include <jansson.h>
#include <pthread.h>
#include <unistd.h>

static char tmp[256];

static json_t *load_json(const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/data/%s", tmp, name);
    return json_load_file(path, 0, NULL);
}

static int64_t cursor(const json_t *feed, int i)
{
    return json_integer_value(json_object_get(
        json_array_get(json_object_get(feed, "cursors"), (size_t)i),
        "last_id"));
}

static int64_t last_time(const lf_market *m, int64_t id)
{
    int64_t a = lf_time(m, 0, id), b = lf_time(m, 1, id);
    return a > b ? a : b;
}

static void test_paper_live_feed_restart(void **state)
{
    (void)state;
    assert_non_null(coce_test_tmpdir(tmp, sizeof tmp));
    lf_market m;
    lf_market_init(&m, 3, 480); /* 23:00 .. 03:00 UTC */
    mock_api api;
    assert_int_equal(mock_start(&api, lf_route, &m), 0);
    coce_config cfg;
    assert_int_equal(lf_config(&cfg, tmp, api.base, "http://127.0.0.1:9"), 0);
    coce_live_args a;
    memset(&a, 0, sizeof a);
    a.cfg = &cfg;
    a.clock_fn = lf_no_clock;
    a.stop_after_idle = 3;
    coce_live_result r;
    coce_err err;
    coce_err_clear(&err);
    if (getenv("LF_DEBUG"))
        coce_log_set_level(COCE_LOG_DEBUG);
    int rc = coce_live_run(&a, &r, &err);
    if (rc != COCE_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(r.trades, 2 * 480);
    assert_true(r.entries > 0);
    assert_true(r.fills > 0);
    assert_int_equal(r.pending_at_start, 0);
    json_t *feed = load_json("feed.json");
    assert_non_null(feed);
    assert_int_equal(cursor(feed, 0), 479);
    assert_int_equal(cursor(feed, 1), 479);
    json_decref(feed);
    char path[600];
    snprintf(path, sizeof path, "%s/data/state.json", tmp);
    coce_book *b = NULL;
    assert_int_equal(coce_state_load(path, &b, &err), COCE_OK);
    assert_int_equal(b->last_processed_ms, last_time(&m, 479));
    size_t trades_before = b->n_trades;
    coce_book_free(b);

    /* more trades appear; the restart continues after the cursors */
    pthread_mutex_lock(&api.mu);
    m.n_trades = 960;
    int64_t served_before = m.served_total;
    pthread_mutex_unlock(&api.mu);
    /* without the warm-up (its replay is also served; test_live_warmup.c),
     * the server's count shows the feed fetched only the new trades */
    a.no_warmup = 1;
    rc = coce_live_run(&a, &r, &err);
    if (rc != COCE_OK)
        fail_msg("%s", err.msg);
    assert_int_equal(r.trades, 2 * 480); /* only the new ones */
    assert_int_equal(m.served_total - served_before, 2 * 480);
    /* (no entry before the next daily close: the paper venue's liquidity
     * estimate and the ADV cap are rebuilt from the feed, docs/live.md) */
    feed = load_json("feed.json");
    assert_int_equal(cursor(feed, 0), 959);
    assert_int_equal(cursor(feed, 1), 959);
    json_decref(feed);
    assert_int_equal(coce_state_load(path, &b, &err), COCE_OK);
    assert_true(b->n_trades >= trades_before);
    assert_int_equal(b->last_processed_ms, last_time(&m, 959));
    coce_book_free(b);

    /* a second engine on the same data directory is refused */
    mock_stop(&api);
    coce_test_rmtree(tmp);
}

/* An order journalled but never finished (the process died) is abandoned
 * by the next paper run: the in-memory venue lost it; never resent. */
static void test_paper_abandons_unfinished(void **state)
{
    (void)state;
    assert_non_null(coce_test_tmpdir(tmp, sizeof tmp));
    lf_market m;
    lf_market_init(&m, 3, 10);
    mock_api api;
    assert_int_equal(mock_start(&api, lf_route, &m), 0);
    coce_config cfg;
    assert_int_equal(lf_config(&cfg, tmp, api.base, "http://127.0.0.1:9"), 0);
    char dir[600], path[700];
    snprintf(dir, sizeof dir, "%s/data", tmp);
    assert_int_equal(coce_fs_mkdir_p(dir), COCE_OK);
    snprintf(path, sizeof path, "%s/journal.db", dir);
    coce_journal *j = NULL;
    coce_err err;
    assert_int_equal(coce_journal_open(path, &j, &err), COCE_OK);
    coce_order_intent in;
    memset(&in, 0, sizeof in);
    snprintf(in.client_id, sizeof in.client_id, "coce-old-1");
    in.side = COCE_SIDE_BUY;
    in.qty = 5;
    in.type = COCE_ORDER_MARKET;
    assert_int_equal(coce_journal_append_intent(j, &in, "AAA", NULL, &err),
                     COCE_OK);
    coce_journal_close(j);
    coce_live_args a;
    memset(&a, 0, sizeof a);
    a.cfg = &cfg;
    a.clock_fn = lf_no_clock;
    a.stop_after_idle = 2;
    coce_live_result r;
    assert_int_equal(coce_live_run(&a, &r, &err), COCE_OK);
    assert_int_equal(r.pending_at_start, 1);
    assert_int_equal(r.abandoned_at_start, 1);
    assert_int_equal(coce_journal_open(path, &j, &err), COCE_OK);
    coce_journal_pending_entry *p = NULL;
    size_t n = 9;
    assert_int_equal(coce_journal_pending(j, &p, &n, &err), COCE_OK);
    assert_int_equal(n, 0);
    free(p);
    coce_journal_close(j);
    mock_stop(&api);
    coce_test_rmtree(tmp);
}

static void *stop_later(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 300000000};
    nanosleep(&ts, NULL);
    coce_live_request_stop();
    return NULL;
}

/* The stop request (what SIGTERM calls) ends an idle run cleanly, with the
 * state written; an empty universe is refused before anything is touched. */
static void test_stop_and_refusals(void **state)
{
    (void)state;
    assert_non_null(coce_test_tmpdir(tmp, sizeof tmp));
    lf_market m;
    lf_market_init(&m, 3, 0);
    mock_api api;
    assert_int_equal(mock_start(&api, lf_route, &m), 0);
    coce_config cfg;
    assert_int_equal(lf_config(&cfg, tmp, api.base, "http://127.0.0.1:9"), 0);
    coce_live_args a;
    memset(&a, 0, sizeof a);
    a.cfg = &cfg; /* wall clock: the engine has seen no trade, a no-op */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, stop_later, NULL), 0);
    coce_live_result r;
    coce_err err;
    assert_int_equal(coce_live_run(&a, &r, &err), COCE_OK);
    pthread_join(th, NULL);
    assert_true(r.interrupted);
    assert_true(r.idle > 0);
    assert_int_equal(r.trades, 0);
    json_t *feed = load_json("feed.json");
    assert_non_null(feed);
    assert_int_equal(cursor(feed, 0), -1);
    json_decref(feed);
    /* a second engine on the same directory is refused while one runs */
    char dir[600];
    snprintf(dir, sizeof dir, "%s/data", tmp);
    coce_lock *lock = NULL;
    assert_int_equal(coce_lock_acquire(dir, &lock, &err), COCE_OK);
    assert_int_equal(coce_live_run(&a, &r, &err), COCE_ELOCKED);
    coce_lock_release(lock);
    /* a corrupt cursor file is refused with its name */
    char path[700];
    snprintf(path, sizeof path, "%s/feed.json", dir);
    assert_int_equal(coce_test_write_file(path, "{\"cursors\": 3}"), 0);
    assert_int_equal(coce_live_run(&a, &r, &err), COCE_ESTATE);
    assert_non_null(strstr(err.msg, "feed.json"));
    assert_int_equal(coce_test_write_file(path, "{\"cursors\": [{}]}"), 0);
    assert_int_equal(coce_live_run(&a, &r, &err), COCE_ESTATE);
    coce_config empty = cfg;
    empty.feed.symbols.n = 0;
    a.cfg = &empty;
    assert_int_equal(coce_live_run(&a, &r, &err), COCE_ENOTSUP);
    assert_non_null(strstr(err.msg, "feed.symbols"));
    assert_int_equal(coce_live_run(NULL, &r, &err), COCE_EINVAL);
    mock_stop(&api);
    coce_test_rmtree(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paper_live_feed_restart),
        cmocka_unit_test(test_paper_abandons_unfinished),
        cmocka_unit_test(test_stop_and_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
