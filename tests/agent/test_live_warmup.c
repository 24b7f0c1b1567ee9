/* The restart warm-up (docs/live.md "Restart"): a paper run that restarts
 * replays the feed's history before its cursors into the engine in warm-up
 * (coce_engine_set_warmup) and can enter at once, before the next daily
 * close; the warm-up itself journals nothing, fills nothing and leaves the
 * book as it was; a feed that refuses the history is logged and the run
 * goes on without it. Against the fake Binance market-data server of
 * live_fixture.h (generated aggTrades, an always-alerting model). */
#include "live_fixture.h"

#include "agent/engine.h"
#include "agent/live.h"
#include "execution/paper.h"
#include "state/book.h"
#include "state/journal.h"
#include "state/state_file.h"
#include "utils/fsutil.h"
#include "utils/symbols.h"

#include <jansson.h>
#include <pthread.h>

static char tmp[256];

/* ---- the engine switch alone ---------------------------------------------- */

/* Trade `id` of `pair` as lf_trade serves it. */
static void mk_trade(const lf_market *m, int pair, int64_t id, coce_trade *t)
{
    char json[LF_TRADE_MAX];
    lf_trade(m, pair, id, json, sizeof json);
    json_t *j = json_loads(json, 0, NULL);
    assert_non_null(j);
    t->time_ms = (int64_t)json_integer_value(json_object_get(j, "T"));
    t->price = atof(json_string_value(json_object_get(j, "p")));
    t->qty = atof(json_string_value(json_object_get(j, "q")));
    t->asset = (coce_asset_id)pair;
    t->side = json_is_true(json_object_get(j, "m")) ? COCE_SIDE_SELL
                                                     : COCE_SIDE_BUY;
    json_decref(j);
}

/* The next trade of the two pairs in time order (ids in next[]). */
static int next_trade(const lf_market *m, int64_t next[LF_PAIRS],
                      coce_trade *t)
{
    int best = -1;
    for (int p = 0; p < LF_PAIRS; ++p)
        if (next[p] < m->n_trades &&
            (best < 0 || lf_time(m, p, next[p]) < lf_time(m, best, next[best])))
            best = p;
    if (best < 0)
        return 0;
    mk_trade(m, best, next[best]++, t);
    return 1;
}

static size_t day_closes;

static int count_close(void *ctx, const coce_book *book, coce_err *err)
{
    (void)ctx;
    (void)book;
    (void)err;
    ++day_closes;
    return COCE_OK;
}

static int feed_paper(void *venue, const coce_trade *t, coce_fill *fills,
                      size_t cap, size_t *n)
{
    return coce_paper_on_trade(venue, t, fills, cap, n);
}

static int liquidity(void *venue, coce_asset_id a, double adv, double sigma)
{
    return coce_paper_set_liquidity(venue, a, adv, sigma, NULL);
}

static char *read_bytes(const char *path, size_t *len)
{
    char *s = coce_test_read_file(path, len);
    assert_non_null(s);
    return s;
}

/* An entry is working at the paper venue; a day of trades in warm-up then
 * neither fills it nor alerts nor journals, and the book saves to the same
 * bytes; the daily close inside it updates market history only. Out of
 * warm-up the order fills at the next trade. */
static void test_engine_warmup_has_no_side_effects(void **state)
{
    (void)state;
    assert_non_null(coce_test_tmpdir(tmp, sizeof tmp));
    lf_market m;
    lf_market_init(&m, 4, 3200); /* 23:00 .. 01:40 the day after next */
    coce_config cfg;
    assert_int_equal(
        lf_config(&cfg, tmp, "http://127.0.0.1:9", "http://127.0.0.1:9"), 0);
    coce_symbols *sym = NULL;
    assert_int_equal(coce_symbols_new(&sym), COCE_OK);
    coce_asset_id id;
    assert_int_equal(coce_symbols_intern(sym, "AAA", &id), COCE_OK);
    assert_int_equal(coce_symbols_intern(sym, "BBB", &id), COCE_OK);
    coce_paper_opts po;
    coce_paper_opts_default(&po);
    po.latency_ms = 1000;
    po.initial_cash = cfg.strategy.initial_capital;
    coce_paper *paper = NULL;
    assert_int_equal(coce_paper_new(&po, &paper, NULL), COCE_OK);
    char jpath[600], s1[600], s2[600], meta[600];
    snprintf(jpath, sizeof jpath, "%s/journal.db", tmp);
    snprintf(s1, sizeof s1, "%s/s1.json", tmp);
    snprintf(s2, sizeof s2, "%s/s2.json", tmp);
    snprintf(meta, sizeof meta, "%s/meta.jsonl", tmp);
    coce_journal *j = NULL;
    coce_err err;
    assert_int_equal(coce_journal_open(jpath, &j, &err), COCE_OK);
    coce_engine_opts eo;
    memset(&eo, 0, sizeof eo);
    eo.cfg = &cfg;
    eo.symbols = sym;
    eo.exchange = coce_paper_exchange(paper);
    eo.feed_trade = feed_paper;
    eo.set_liquidity = liquidity;
    eo.venue = paper;
    eo.journal = j;
    eo.run_id = "w";
    eo.meta_events_path = meta;
    eo.on_day_close = count_close;
    coce_engine *e = NULL;
    assert_int_equal(coce_engine_new(&e, &eo, &err), COCE_OK);
    coce_pump_model model;
    assert_int_equal(coce_pump_model_load(cfg.model.path, &model, &err),
                     COCE_OK);
    assert_int_equal(coce_engine_set_model(e, &model, &err), COCE_OK);
    assert_int_equal(coce_engine_set_warmup(NULL, 1), COCE_EINVAL);

    /* trading until the first entry is sent (not yet filled: latency) */
    int64_t next[LF_PAIRS] = {0, 0};
    coce_trade t;
    day_closes = 0;
    while (coce_engine_get_stats(e)->entries == 0) {
        assert_true(next_trade(&m, next, &t));
        assert_int_equal(coce_engine_on_trade(e, &t, &err), COCE_OK);
    }
    assert_int_equal(day_closes, 1);
    size_t fills0, alerts0;
    (void)coce_engine_fills(e, &fills0);
    (void)coce_engine_alerts(e, &alerts0);
    coce_engine_stats st0 = *coce_engine_get_stats(e);
    assert_int_equal(coce_engine_book(e)->n_orders, 1);
    int64_t seq0 = 0, seq1 = -1;
    assert_int_equal(coce_journal_last_seq(j, &seq0, &err), COCE_OK);
    assert_int_equal(coce_state_save(coce_engine_book(e), s1, &err), COCE_OK);
    size_t jlen0 = 0, jlen1 = 0, len1 = 0, len2 = 0;
    char *jb0 = read_bytes(jpath, &jlen0);

    /* a day of trades in warm-up, across a daily close */
    assert_int_equal(coce_engine_set_warmup(e, 1), COCE_OK);
    for (int k = 0; k < 2 * 2900; ++k) {
        assert_true(next_trade(&m, next, &t));
        assert_int_equal(coce_engine_on_trade(e, &t, &err), COCE_OK);
    }
    assert_int_equal(coce_engine_on_clock(e, t.time_ms + 1, &err), COCE_OK);
    const coce_engine_stats *st = coce_engine_get_stats(e);
    size_t fills1, alerts1;
    (void)coce_engine_fills(e, &fills1);
    (void)coce_engine_alerts(e, &alerts1);
    assert_int_equal(fills1, fills0); /* no paper fill */
    assert_int_equal(alerts1, alerts0);
    assert_int_equal(st->entries, st0.entries);
    assert_int_equal(st->exits, st0.exits);
    assert_int_equal(st->halts, st0.halts);
    assert_int_equal(day_closes, 1);            /* no snapshot hook */
    assert_true(st->rebalances > st0.rebalances); /* history did move */
    assert_int_equal(st->trades, st0.trades + 2 * 2900);
    assert_int_equal(coce_engine_now(e), t.time_ms + 1);
    assert_int_equal(coce_journal_last_seq(j, &seq1, &err), COCE_OK);
    assert_int_equal(seq1, seq0);
    char *jb1 = read_bytes(jpath, &jlen1);
    assert_int_equal(jlen1, jlen0);
    assert_memory_equal(jb0, jb1, jlen0);
    assert_int_equal(coce_state_save(coce_engine_book(e), s2, &err), COCE_OK);
    char *b1 = read_bytes(s1, &len1);
    char *b2 = read_bytes(s2, &len2);
    assert_int_equal(len1, len2);
    assert_memory_equal(b1, b2, len1);
    assert_false(coce_fs_exists(meta));

    /* trading again: the working order fills at the next trades */
    assert_int_equal(coce_engine_set_warmup(e, 0), COCE_OK);
    for (int k = 0; k < 40 && next_trade(&m, next, &t); ++k)
        assert_int_equal(coce_engine_on_trade(e, &t, &err), COCE_OK);
    size_t fills2;
    (void)coce_engine_fills(e, &fills2);
    assert_true(fills2 > fills0);
    assert_true(coce_engine_book(e)->last_processed_ms == t.time_ms);

    free(jb0);
    free(jb1);
    free(b1);
    free(b2);
    coce_engine_free(e);
    coce_journal_close(j);
    coce_paper_free(paper);
    coce_symbols_free(sym);
    coce_test_rmtree(tmp);
}

/* ---- the paper runner --------------------------------------------------- */

/* The market of lf_route, able to refuse history (startTime) requests. */
typedef struct wu_market {
    lf_market m; /* first: lf_route reads the context as an lf_market */
    int refuse_start;  /* 400 */
    int empty_history; /* [] */
    int slow_history;  /* ms before each answer */
    int history_requests;
} wu_market;

static void wu_route(mock_api *api, struct MHD_Connection *c,
                     const char *path, int n, mock_reply *out)
{
    wu_market *w = api->ctx;
    if (mock_arg(c, "startTime") != NULL) {
        ++w->history_requests;
        if (w->refuse_start) {
            out->status = 400;
            out->body = mock_strdup(
                "{\"code\":-1100,\"msg\":\"startTime not supported\"}");
            return;
        }
        if (w->empty_history) {
            out->body = mock_strdup("[]");
            return;
        }
        out->delay_ms = w->slow_history;
    }
    lf_route(api, c, path, n, out);
}

static int64_t last_time(const lf_market *m, int64_t id)
{
    int64_t a = lf_time(m, 0, id), b = lf_time(m, 1, id);
    return a > b ? a : b;
}

/* `name` under the run's data directory. */
static void data_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/data/%s", tmp, name);
}

static json_t *load_state_json(void)
{
    char path[600];
    data_path(path, sizeof path, "state.json");
    json_t *j = json_load_file(path, 0, NULL);
    assert_non_null(j);
    (void)json_object_del(j, "run_id"); /* names the run that wrote it */
    return j;
}

static coce_journal *open_journal(coce_err *err)
{
    char path[600];
    data_path(path, sizeof path, "journal.db");
    coce_journal *j = NULL;
    assert_int_equal(coce_journal_open(path, &j, err), COCE_OK);
    return j;
}

static int64_t journal_seq(void)
{
    coce_err err;
    int64_t seq = -1;
    coce_journal *j = open_journal(&err);
    assert_int_equal(coce_journal_last_seq(j, &seq, &err), COCE_OK);
    coce_journal_close(j);
    return seq;
}

/* Entry intents journalled after seq `after`, in [from, to). */
static size_t entry_intents(int64_t after, int64_t from, int64_t to)
{
    coce_err err;
    coce_journal *j = open_journal(&err);
    int64_t last = 0;
    assert_int_equal(coce_journal_last_seq(j, &last, &err), COCE_OK);
    size_t n = 0;
    for (int64_t s = after + 1; s <= last; ++s) {
        coce_journal_event ev;
        assert_int_equal(coce_journal_get(j, s, &ev, &err), COCE_OK);
        n += ev.kind == COCE_JOURNAL_INTENT &&
             ev.reason == COCE_REASON_ENTRY && ev.time_ms >= from &&
             ev.time_ms < to;
    }
    coce_journal_close(j);
    return n;
}

/* Does the run's log hold `needle`? */
static int log_has(const char *needle)
{
    char path[600];
    snprintf(path, sizeof path, "%s/logs/paper.jsonl", tmp);
    char *log = coce_test_read_file(path, NULL);
    assert_non_null(log);
    int found = strstr(log, needle) != NULL;
    free(log);
    return found;
}

/* A paper run against its market server, and the result of its last run. */
typedef struct wu_run {
    wu_market w;
    mock_api api;
    coce_config cfg;
    coce_live_args a;
    coce_live_result r;
} wu_run;

/* Runs x->a into x->r; `th` (if not NULL) is joined before the result is
 * checked. */
static void run_ok(wu_run *x, pthread_t *th)
{
    coce_err err;
    coce_err_clear(&err);
    int rc = coce_live_run(&x->a, &x->r, &err);
    if (th != NULL)
        pthread_join(*th, NULL);
    if (rc != COCE_OK)
        fail_msg("%s", err.msg);
}

static void first_run(wu_run *x)
{
    assert_non_null(coce_test_tmpdir(tmp, sizeof tmp));
    memset(x, 0, sizeof *x);
    lf_market_init(&x->w.m, 3, 480); /* 23:00 .. 03:00 UTC */
    assert_int_equal(mock_start(&x->api, wu_route, &x->w), 0);
    assert_int_equal(
        lf_config(&x->cfg, tmp, x->api.base, "http://127.0.0.1:9"), 0);
    x->a.cfg = &x->cfg;
    x->a.clock_fn = lf_no_clock;
    x->a.stop_after_idle = 3;
    run_ok(x, NULL);
    assert_int_equal(x->r.trades, 2 * 480);
    assert_true(x->r.entries > 0);
    assert_int_equal(x->r.warmup_trades, 0); /* not a restart */
}

/* The market the restart sees (under the server's lock): `n_trades` per
 * pair and the history's behaviour. */
static void market_set(wu_run *x, int64_t n_trades, int refuse_start,
                       int empty_history, int slow_history)
{
    pthread_mutex_lock(&x->api.mu);
    x->w.m.n_trades = n_trades;
    x->w.refuse_start = refuse_start;
    x->w.empty_history = empty_history;
    x->w.slow_history = slow_history;
    x->w.history_requests = 0;
    pthread_mutex_unlock(&x->api.mu);
}

static void wu_down(wu_run *x)
{
    mock_stop(&x->api);
    coce_test_rmtree(tmp);
}

/* Restart shortly after (03:00, the next daily close is 21 h away): the
 * warm-up replays the history before the cursors, then the engine enters
 * on the new trades at once. Without new trades the warm-up changes
 * neither the journal (byte for byte) nor the book. */
static void test_restart_warmup_enters_before_close(void **state)
{
    (void)state;
    wu_run x;
    first_run(&x);
    coce_err err;
    coce_err_clear(&err);
    /* a restart without warm-up settles what the first run left */
    x.a.no_warmup = 1;
    assert_int_equal(coce_live_run(&x.a, &x.r, &err), COCE_OK);
    assert_int_equal(x.r.trades, 0);
    x.a.no_warmup = 0;
    int64_t seq0 = journal_seq();
    json_t *s0 = load_state_json();
    char jpath[600];
    data_path(jpath, sizeof jpath, "journal.db");
    size_t jlen0 = 0, jlen1 = 0;
    char *jb0 = read_bytes(jpath, &jlen0);

    /* the warm-up alone (no new trade) */
    run_ok(&x, NULL);
    assert_int_equal(x.r.warmup_trades, 2 * 480);
    assert_false(x.r.warmup_failed);
    assert_int_equal(x.r.trades, 0);
    assert_int_equal(x.r.entries, 0);
    assert_int_equal(x.r.exits, 0);
    assert_int_equal(x.r.fills, 0);
    assert_int_equal(journal_seq(), seq0);
    char *jb1 = read_bytes(jpath, &jlen1);
    assert_int_equal(jlen1, jlen0);
    assert_memory_equal(jb0, jb1, jlen0);
    json_t *s1 = load_state_json();
    assert_true(json_equal(s0, s1));
    json_decref(s1);
    free(jb0);
    free(jb1);

    /* new trades: entries at once, 21 h before the next daily close */
    market_set(&x, 960, 0, 0, 0);
    run_ok(&x, NULL);
    assert_int_equal(x.r.warmup_trades, 2 * 480);
    assert_int_equal(x.r.trades, 2 * 480); /* exactly the new trades */
    assert_true(x.r.entries > 0);
    int64_t restart_ms = last_time(&x.w.m, 479);
    int64_t next_close = (restart_ms / LF_DAY_MS + 1) * LF_DAY_MS;
    assert_true(entry_intents(seq0, restart_ms, next_close) > 0);
    json_t *s2 = load_state_json();
    assert_int_equal(
        json_integer_value(json_object_get(s2, "last_processed_ms")),
        last_time(&x.w.m, 959));
    json_decref(s2);
    json_decref(s0);
    wu_down(&x);
}

/* The feed refuses the history (startTime): logged, and the run goes on
 * as without a warm-up (no entry before the next daily close). */
static void test_restart_history_refused(void **state)
{
    (void)state;
    wu_run x;
    first_run(&x);
    int64_t seq0 = journal_seq();
    market_set(&x, 960, 1, 0, 0);
    run_ok(&x, NULL);
    assert_true(x.w.history_requests > 0);
    assert_true(x.r.warmup_failed);
    assert_int_equal(x.r.warmup_trades, 0);
    assert_int_equal(x.r.trades, 2 * 480);
    assert_int_equal(x.r.entries, 0);
    int64_t restart_ms = last_time(&x.w.m, 479);
    assert_int_equal(entry_intents(seq0, restart_ms, INT64_MAX), 0);
    assert_true(log_has("warmup_failed"));
    assert_true(log_has("startTime not supported"));
    wu_down(&x);
}

/* A history that never reaches the cursors (the server has nothing before
 * them): the warm-up gives up once the feed is quiet, logged. */
static void test_restart_history_missing(void **state)
{
    (void)state;
    wu_run x;
    first_run(&x);
    market_set(&x, 480, 0, 1, 0);
    coce_config quick = x.cfg;
    quick.feed.idle_timeout_ms = 10;
    x.a.cfg = &quick;
    run_ok(&x, NULL);
    assert_true(x.r.warmup_failed);
    assert_int_equal(x.r.warmup_trades, 0);
    assert_true(log_has("the feed went quiet before the cursors"));
    wu_down(&x);
}

/* Cursors that are not one time cut (pair AAA saved at id 300, BBB at
 * 479): each pair is replayed up to its own cursor only, the rest of AAA
 * comes from the live feed. */
static void test_restart_uneven_cursors(void **state)
{
    (void)state;
    wu_run x;
    first_run(&x);
    char path[600];
    data_path(path, sizeof path, "feed.json");
    json_t *feed = json_load_file(path, 0, NULL);
    assert_non_null(feed);
    json_t *c0 = json_array_get(json_object_get(feed, "cursors"), 0);
    assert_string_equal(json_string_value(json_object_get(c0, "symbol")),
                        "AAABTC");
    json_object_set_new(c0, "last_id", json_integer(300));
    assert_int_equal(json_dump_file(feed, path, 0), 0);
    json_decref(feed);
    run_ok(&x, NULL);
    assert_false(x.r.warmup_failed);
    assert_int_equal(x.r.warmup_trades, 301 + 480);
    assert_int_equal(x.r.trades, 179); /* AAA 301..479 */
    wu_down(&x);
}

static void *stop_later(void *arg)
{
    (void)arg;
    struct timespec ts = {0, 250000000};
    nanosleep(&ts, NULL);
    coce_live_request_stop();
    return NULL;
}

/* The stop request during a (slow) warm-up ends the run cleanly. */
static void test_stop_during_warmup(void **state)
{
    (void)state;
    wu_run x;
    first_run(&x);
    int64_t seq0 = journal_seq();
    market_set(&x, 960, 0, 0, 100);
    x.a.stop_after_idle = 0;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, stop_later, NULL), 0);
    run_ok(&x, &th);
    assert_true(x.r.interrupted);
    assert_false(x.r.warmup_failed);
    assert_int_equal(x.r.warmup_trades, 0);
    assert_int_equal(x.r.trades, 0);
    assert_int_equal(journal_seq(), seq0);
    wu_down(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_warmup_has_no_side_effects),
        cmocka_unit_test(test_restart_warmup_enters_before_close),
        cmocka_unit_test(test_restart_history_refused),
        cmocka_unit_test(test_restart_history_missing),
        cmocka_unit_test(test_restart_uneven_cursors),
        cmocka_unit_test(test_stop_during_warmup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
