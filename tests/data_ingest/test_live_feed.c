/* Live feed against a recorded feed served on 127.0.0.1.
 *
 * The fake Binance answers GET /api/v3/aggTrades (fromId, or startTime/
 * endTime, and limit) with slices of the recorded histories in
 * tests/fixtures/live_feed/<PAIR>.json (made by tests/reference/
 * make_live_feed_fixtures.py, Binance's documented answer shape), showing
 * only trades whose time has passed on the test's fake clock; the feed's
 * clock and sleeps are the same fake clock. Faults (5xx, dropped
 * connections, 429 with Retry-After, ids skipped, duplicates, high request
 * weight) are switched on per test.
 *
 * Golden values: the exact stream is the union of the histories sorted by
 * (time, pair order, id) -- the order the feed documents -- so every test
 * can check that no trade is lost, none is repeated and the order holds. */
#include "data_ingest/live_feed.h"
#include "data_ingest/source.h"
#include "data_ingest/trades.h"
#include "mock_api.h"
#include "testutil.h"
#include "utils/log.h"
#include "utils/symbols.h"

#include <jansson.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T0 1600000000000LL /* first trade time of the recording */
#define SPAN 900000LL      /* 15 minutes recorded */
#define NPAIRS 3
#define MAXREQ 4096

static const char *const PAIRS[NPAIRS] = {"ADXBTC", "VIBBTC", "NEBLBTC"};
static const char *const BASES[NPAIRS] = {"ADX", "VIB", "NEBL"};

typedef struct row {
    int64_t id, t;
    double price, qty;
    int side;
} row;

typedef struct hist {
    json_t *rows;
    row *r;
    size_t n;
} hist;

typedef struct srv {
    hist h[NPAIRS];
    _Atomic int64_t now; /* the fake clock, shared with the feed */
    /* faults */
    int fail_from, fail_to; /* requests in [from, to] get 503 */
    const char *fail_sym;   /* only this pair fails (NULL = all) */
    int64_t fail_until_ms;  /* and (if > 0) only while now < this */
    int drop_from, drop_to; /* requests dropped without an answer */
    int r429_at;            /* this request gets 429 + Retry-After */
    int retry_after_s;
    int gap_sym;            /* pair index, -1 = none */
    int64_t gap_lo, gap_hi; /* ids left out of an answer */
    int gap_always;         /* 0: only the first answer that has them */
    int gap_done;
    const char *fail_query; /* requests whose query has this fail (503) */
    int fail_query_left;    /* ... this many times */
    int dup;     /* repeat the id before fromId and the last row */
    int weight;  /* X-MBX-USED-WEIGHT-1M sent (0 = header absent) */
    /* record */
    int64_t req_clock[MAXREQ];
    char req_query[MAXREQ][160];
    int nreq;
    /* stop hook: stop `feed` at this sleep call */
    coce_live_feed *feed;
    int stop_at_sleep;
    int sleeps;
} srv;

static srv S;
static mock_api M;

/* ---- fixture -------------------------------------------------------------- */

static void load_hist(hist *h, const char *pair)
{
    char rel[256], path[1024];
    snprintf(rel, sizeof rel, "tests/fixtures/live_feed/%s.json", pair);
    coce_test_path(path, sizeof path, rel);
    json_error_t je;
    h->rows = json_load_file(path, 0, &je);
    assert_non_null(h->rows);
    h->n = json_array_size(h->rows);
    h->r = calloc(h->n, sizeof *h->r);
    assert_non_null(h->r);
    for (size_t i = 0; i < h->n; ++i) {
        json_t *o = json_array_get(h->rows, i);
        h->r[i].id = json_integer_value(json_object_get(o, "a"));
        h->r[i].t = json_integer_value(json_object_get(o, "T"));
        h->r[i].price = strtod(json_string_value(json_object_get(o, "p")), NULL);
        h->r[i].qty = strtod(json_string_value(json_object_get(o, "q")), NULL);
        h->r[i].side =
            json_is_true(json_object_get(o, "m")) ? COCE_SIDE_SELL : COCE_SIDE_BUY;
    }
}

static char *fixture_text(const char *name)
{
    char rel[256], path[1024];
    snprintf(rel, sizeof rel, "tests/fixtures/live_feed/%s", name);
    return mock_read_fixture(coce_test_path(path, sizeof path, rel));
}

/* ---- the fake Binance ----------------------------------------------------- */

static int omitted(srv *s, int sym, int64_t id)
{
    return sym == s->gap_sym && id >= s->gap_lo && id <= s->gap_hi &&
           (s->gap_always || !s->gap_done);
}

static void route(mock_api *m, struct MHD_Connection *c, const char *path,
                  int n, mock_reply *r)
{
    srv *s = m->ctx;
    int64_t now = atomic_load(&s->now);
    if (s->nreq < MAXREQ) {
        s->req_clock[s->nreq] = now;
        snprintf(s->req_query[s->nreq], sizeof s->req_query[0], "%s",
                 m->last_query);
        s->nreq++;
    }
    static char weight[64];
    if (s->weight > 0) {
        snprintf(weight, sizeof weight, "X-MBX-USED-WEIGHT-1M: %d", s->weight);
        r->headers[0] = weight;
    }
    if (strcmp(path, "/api/v3/aggTrades") != 0) {
        r->status = 404;
        return;
    }
    const char *symbol = mock_arg(c, "symbol");
    int sym = -1;
    for (int i = 0; i < NPAIRS && symbol != NULL; ++i)
        if (strcmp(symbol, PAIRS[i]) == 0)
            sym = i;
    if (sym < 0) {
        r->status = 400;
        r->body = fixture_text("error_invalid_symbol.json");
        return;
    }
    int fail_pair = s->fail_sym == NULL || strcmp(s->fail_sym, symbol) == 0;
    if (n >= s->fail_from && n <= s->fail_to && fail_pair &&
        (s->fail_until_ms <= 0 || now < s->fail_until_ms)) {
        r->status = 503;
        r->body = mock_strdup("{\"code\":-1001,\"msg\":\"Internal error; "
                              "unable to process your request.\"}");
        return;
    }
    if (s->fail_query != NULL && s->fail_query_left > 0 &&
        strstr(m->last_query, s->fail_query) != NULL) {
        s->fail_query_left--;
        r->status = 502;
        return;
    }
    if (n >= s->drop_from && n <= s->drop_to) {
        r->drop = 1;
        return;
    }
    if (n == s->r429_at) {
        static char ra[64];
        snprintf(ra, sizeof ra, "Retry-After: %d", s->retry_after_s);
        r->headers[s->weight > 0 ? 1 : 0] = ra;
        r->status = 429;
        r->body = fixture_text("error_429.json");
        return;
    }
    const char *from = mock_arg(c, "fromId");
    const char *st = mock_arg(c, "startTime");
    const char *et = mock_arg(c, "endTime");
    const char *lim = mock_arg(c, "limit");
    size_t limit = lim != NULL ? (size_t)atoll(lim) : 500;
    if (st != NULL && et != NULL && atoll(et) - atoll(st) >= 3600000LL) {
        r->status = 400;
        r->body = mock_strdup("{\"code\":-1127,\"msg\":\"More than 1 hours "
                              "between startTime and endTime.\"}");
        return;
    }
    const hist *h = &s->h[sym];
    size_t i = 0;
    if (from != NULL) {
        int64_t f = atoll(from);
        while (i < h->n && h->r[i].id < f)
            ++i;
    } else {
        int64_t a = st != NULL ? atoll(st) : INT64_MIN;
        while (i < h->n && h->r[i].t < a)
            ++i;
    }
    int64_t end = et != NULL ? atoll(et) : INT64_MAX;
    json_t *page = json_array();
    if (s->dup && from != NULL && i > 0)
        json_array_append(page, json_array_get(h->rows, i - 1));
    int skipped = 0;
    size_t taken = 0;
    for (; i < h->n && taken < limit && h->r[i].t <= now && h->r[i].t <= end;
         ++i) {
        if (omitted(s, sym, h->r[i].id)) {
            skipped = 1;
            continue;
        }
        json_array_append(page, json_array_get(h->rows, i));
        ++taken;
    }
    if (s->dup && taken > 1)
        json_array_append(page, json_array_get(h->rows, i - 1));
    if (skipped)
        s->gap_done = 1;
    r->body = json_dumps(page, JSON_COMPACT);
    json_decref(page);
}

/* ---- fake time ------------------------------------------------------------ */

static int64_t fake_clock(void *ctx)
{
    return atomic_load(&((srv *)ctx)->now);
}

static void fake_sleep(void *ctx, int64_t ms)
{
    srv *s = ctx;
    atomic_fetch_add(&s->now, ms);
    if (++s->sleeps == s->stop_at_sleep && s->feed != NULL)
        coce_live_feed_stop(s->feed);
}

/* ---- helpers -------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    memset(&S, 0, sizeof S);
    for (int i = 0; i < NPAIRS; ++i)
        load_hist(&S.h[i], PAIRS[i]);
    S.gap_sym = -1;
    S.fail_from = S.fail_to = -1;
    S.drop_from = S.drop_to = -1;
    S.r429_at = -1;
    assert_int_equal(mock_start(&M, route, &S), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mock_stop(&M);
    for (int i = 0; i < NPAIRS; ++i) {
        json_decref(S.h[i].rows);
        free(S.h[i].r);
    }
    return 0;
}

static coce_http_opts g_http;

static void test_opts(coce_live_feed_opts *o)
{
    coce_live_feed_opts_default(o);
    o->base_url = M.base;
    o->bases = BASES;
    o->n_bases = NPAIRS;
    o->quote = "btc";
    o->limit = 100;
    o->poll_ms = 5000;
    o->start_ms = T0;
    o->lateness_ms = 2000;
    o->max_hold_ms = 600000;
    o->idle_timeout_ms = 1000;
    o->max_failures = 1000;
    o->backoff_base_ms = 500;
    o->backoff_max_ms = 8000;
    coce_http_opts_default(&g_http);
    g_http.max_retries = 1;
    g_http.backoff_base_ms = 100;
    g_http.backoff_max_ms = 400;
    g_http.timeout_ms = 5000;
    o->http = &g_http;
    o->clock_fn = fake_clock;
    o->sleep_fn = fake_sleep;
    o->time_ctx = &S;
}

typedef struct item {
    coce_trade t;
    int64_t id;
    int pair;
} item;

static int item_cmp(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->t.time_ms != y->t.time_ms)
        return x->t.time_ms < y->t.time_ms ? -1 : 1;
    if (x->pair != y->pair)
        return x->pair - y->pair;
    return (x->id > y->id) - (x->id < y->id);
}

/* The documented order of every recorded trade, less the ids in
 * [skip_lo, skip_hi] of pair skip_pair. */
static item *expected(size_t *n, int skip_pair, int64_t skip_lo,
                      int64_t skip_hi)
{
    size_t total = 0;
    for (int p = 0; p < NPAIRS; ++p)
        total += S.h[p].n;
    item *e = calloc(total, sizeof *e);
    assert_non_null(e);
    size_t k = 0;
    for (int p = 0; p < NPAIRS; ++p)
        for (size_t i = 0; i < S.h[p].n; ++i) {
            const row *r = &S.h[p].r[i];
            if (p == skip_pair && r->id >= skip_lo && r->id <= skip_hi)
                continue;
            e[k].t = (coce_trade){.time_ms = r->t,
                                  .price = r->price,
                                  .qty = r->qty,
                                  .asset = (coce_asset_id)p,
                                  .side = (int8_t)r->side};
            e[k].id = r->id;
            e[k].pair = p;
            ++k;
        }
    qsort(e, k, sizeof *e, item_cmp);
    *n = k;
    return e;
}

/* Calls next() until `want` trades came (or the clock passes `limit_ms`). */
static size_t drain(coce_live_feed *f, coce_trade *out, int64_t *at,
                    size_t want, int64_t limit_ms)
{
    size_t n = 0;
    while (n < want) {
        coce_err err;
        int rc = coce_live_feed_next(f, &out[n], &err);
        if (rc == COCE_OK) {
            if (at != NULL)
                at[n] = atomic_load(&S.now);
            ++n;
            continue;
        }
        if (rc != COCE_ETIMEOUT)
            fail_msg("next: %s: %s", coce_err_name(rc), err.msg);
        if (atomic_load(&S.now) > limit_ms)
            break;
    }
    return n;
}

static void assert_same_trade(const coce_trade *a, const coce_trade *b,
                              size_t i)
{
    if (a->time_ms != b->time_ms || a->price != b->price ||
        a->qty != b->qty || a->asset != b->asset || a->side != b->side)
        fail_msg("trade %zu: got t=%" PRId64 " p=%.10g q=%.10g asset=%u "
                 "side=%d, want t=%" PRId64 " p=%.10g q=%.10g asset=%u side=%d",
                 i, a->time_ms, a->price, a->qty, a->asset, a->side,
                 b->time_ms, b->price, b->qty, b->asset, b->side);
}

static void assert_stream(const coce_trade *got, size_t n, const item *want,
                          size_t wn)
{
    assert_int_equal(n, wn);
    for (size_t i = 0; i < n; ++i)
        assert_same_trade(&got[i], &want[i].t, i);
}

static coce_live_feed *open_feed(const coce_live_feed_opts *o,
                                 coce_symbols **sy)
{
    assert_int_equal(coce_symbols_new(sy), COCE_OK);
    coce_live_feed *f = NULL;
    coce_err err;
    int rc = coce_live_feed_new(o, *sy, &f, &err);
    if (rc != COCE_OK)
        fail_msg("new: %s", err.msg);
    S.feed = f;
    return f;
}

static int has_query(const char *needle)
{
    for (int i = 0; i < S.nreq && i < MAXREQ; ++i)
        if (strstr(S.req_query[i], needle) != NULL)
            return 1;
    return 0;
}

/* Runs a whole catch-up (clock after the recording) and checks the stream
 * equals `want` exactly. */
static void run_exact(const coce_live_feed_opts *o, const item *want,
                      size_t wn, coce_live_feed_stats *st)
{
    coce_symbols *sy = NULL;
    coce_live_feed *f = open_feed(o, &sy);
    coce_trade *got = calloc(wn + 1, sizeof *got);
    assert_non_null(got);
    size_t n = drain(f, got, NULL, wn, T0 + SPAN + 3600000);
    assert_stream(got, n, want, wn);
    /* and nothing more */
    coce_trade extra;
    coce_err err;
    assert_int_equal(coce_live_feed_next(f, &extra, &err), COCE_ETIMEOUT);
    coce_live_feed_stats_get(f, st);
    coce_live_feed_free(f);
    coce_symbols_free(sy);
    free(got);
}

/* ---- tests ---------------------------------------------------------------- */

/* Live: starts 10 minutes into the recording (so first catches up through
 * pages, then follows trades as the clock makes them appear); the stream
 * is the exact merge; each live trade is released at most lateness_ms +
 * poll_ms (+ one wait slice) after its time (the documented latency). */
static void test_merge_live_and_pagination(void **state)
{
    (void)state;
    atomic_store(&S.now, T0 + 600000);
    coce_live_feed_opts o;
    test_opts(&o);
    o.start_ms = 0;
    o.start_minutes_back = 10; /* = T0 */
    size_t wn = 0;
    item *want = expected(&wn, -1, 0, 0);
    coce_symbols *sy = NULL;
    coce_live_feed *f = open_feed(&o, &sy);
    assert_string_equal(coce_symbols_name(sy, 0), "ADX");
    assert_string_equal(coce_symbols_name(sy, 2), "NEBL");
    coce_trade *got = calloc(wn, sizeof *got);
    int64_t *at = calloc(wn, sizeof *at);
    size_t n = drain(f, got, at, wn, T0 + SPAN + 600000);
    assert_stream(got, n, want, wn);
    size_t live = 0;
    for (size_t i = 0; i < n; ++i) {
        if (got[i].time_ms <= T0 + 600000 + 2000)
            continue;
        int64_t delay = at[i] - got[i].time_ms;
        if (delay < 0 || delay > o.lateness_ms + o.poll_ms + 100)
            fail_msg("trade %zu released %" PRId64 " ms after its time", i,
                     delay);
        ++live;
    }
    assert_true(live > 500);
    /* the first request of a pair is a time window from the start */
    char q[128];
    snprintf(q, sizeof q, "symbol=ADXBTC&startTime=%lld&endTime=%lld",
             (long long)T0, (long long)(T0 + 3600000 - 1));
    assert_true(has_query(q));
    assert_true(has_query("symbol=ADXBTC&fromId=5000100&limit=100"));
    coce_live_feed_stats st;
    coce_live_feed_stats_get(f, &st);
    assert_int_equal(st.emitted, wn);
    assert_int_equal(st.late, 0);
    assert_int_equal(st.duplicates, 0);
    assert_int_equal(st.gap_fills, 0);
    assert_int_equal(st.failures, 0);
    assert_true(st.requests >= 24 + 3);
    coce_live_feed_cursor cur[NPAIRS + 1];
    size_t nc = 0;
    coce_live_feed_last_ids(f, cur, NPAIRS + 1, &nc);
    assert_int_equal(nc, NPAIRS);
    for (int p = 0; p < NPAIRS; ++p) {
        assert_string_equal(cur[p].symbol, PAIRS[p]);
        assert_int_equal(cur[p].last_id, S.h[p].r[S.h[p].n - 1].id);
    }
    coce_live_feed_free(f);
    coce_symbols_free(sy);
    free(got);
    free(at);
    free(want);
}

/* The server leaves ids out of one answer -- at the start of a page (its
 * first id > last + 1) and inside a page -- and serves them on the range
 * request: each is filled exactly once. */
static void run_gap(int64_t lo, int64_t hi)
{
    atomic_store(&S.now, T0 + SPAN + 10000);
    S.gap_sym = 0;
    S.gap_lo = lo;
    S.gap_hi = hi;
    S.gap_done = 0;
    S.nreq = 0;
    coce_live_feed_opts o;
    test_opts(&o);
    size_t wn = 0;
    item *want = expected(&wn, -1, 0, 0);
    coce_live_feed_stats st;
    run_exact(&o, want, wn, &st);
    assert_int_equal(S.gap_done, 1);
    assert_int_equal(st.gap_fills, 1);
    assert_int_equal(st.failures, S.fail_query != NULL ? 1 : 0);
    assert_int_equal(st.ids_missing, 0);
    char q[96];
    snprintf(q, sizeof q, "symbol=ADXBTC&fromId=%lld&limit=%lld",
             (long long)lo, (long long)(hi - lo + 1));
    assert_true(has_query(q));
    free(want);
}

static void test_gap_at_page_start(void **state)
{
    (void)state;
    run_gap(5000200, 5000204); /* the page asked from 5000200 */
}

/* The range request of a hole fails: nothing of that turn is kept, the
 * turn is redone, and the stream is still exact. */
static void test_gap_fill_fails(void **state)
{
    (void)state;
    S.fail_query = "fromId=5000200&limit=5";
    S.fail_query_left = 2; /* the client's try and its retry */
    run_gap(5000200, 5000204);
}

static void test_gap_inside_page(void **state)
{
    (void)state;
    run_gap(5000250, 5000252);
}

/* Ids the server never has: given up after gap_retries range requests,
 * counted; everything else exactly once. */
static void test_gap_never_filled(void **state)
{
    (void)state;
    atomic_store(&S.now, T0 + SPAN + 10000);
    S.gap_sym = 1;
    S.gap_lo = 9000050;
    S.gap_hi = 9000051;
    S.gap_always = 1;
    coce_live_feed_opts o;
    test_opts(&o);
    o.gap_retries = 2;
    size_t wn = 0;
    item *want = expected(&wn, 1, 9000050, 9000051);
    coce_live_feed_stats st;
    run_exact(&o, want, wn, &st);
    assert_int_equal(st.ids_missing, 2);
    assert_int_equal(st.gap_fills, 2);
    free(want);
}

/* Every answer repeats the trade before fromId and its own last one. */
static void test_duplicates_dropped(void **state)
{
    (void)state;
    atomic_store(&S.now, T0 + SPAN + 10000);
    S.dup = 1;
    S.weight = 120; /* below the pause threshold */
    coce_live_feed_opts o;
    test_opts(&o);
    size_t wn = 0;
    item *want = expected(&wn, -1, 0, 0);
    coce_live_feed_stats st;
    run_exact(&o, want, wn, &st);
    assert_true(st.duplicates >= 24);
    assert_int_equal(st.gap_fills, 0);
    assert_int_equal(st.weight_pauses, 0);
    free(want);
}

/* 503 for 40 requests (through the HTTP client's retries and the feed's
 * backoff), then recovery: nothing lost, nothing twice. */
static void test_outage_recovers(void **state)
{
    (void)state;
    atomic_store(&S.now, T0 + 600000);
    S.fail_from = 5;
    S.fail_to = 44;
    coce_live_feed_opts o;
    test_opts(&o);
    size_t wn = 0;
    item *want = expected(&wn, -1, 0, 0);
    coce_live_feed_stats st;
    int64_t t_start = atomic_load(&S.now);
    run_exact(&o, want, wn, &st);
    assert_true(st.failures >= 20);
    assert_int_equal(st.late, 0);
    assert_true(atomic_load(&S.now) > t_start);
    free(want);
}

/* Every request fails: after max_failures in a row for a pair next()
 * reports COCE_ENET with the pair and the last error; calling again goes
 * on, and once the server is back the stream is whole. */
static void test_persistent_failure_reported(void **state)
{
    (void)state;
    atomic_store(&S.now, T0 + SPAN + 10000);
    S.fail_from = 1;
    S.fail_to = 1000000;
    coce_live_feed_opts o;
    test_opts(&o);
    o.max_failures = 3;
    o.backoff_max_ms = 2000;
    size_t wn = 0;
    item *want = expected(&wn, -1, 0, 0);
    coce_symbols *sy = NULL;
    coce_live_feed *f = open_feed(&o, &sy);
    coce_trade t;
    coce_err err;
    int rc, timeouts = 0;
    while ((rc = coce_live_feed_next(f, &t, &err)) == COCE_ETIMEOUT)
        ++timeouts;
    assert_int_equal(rc, COCE_ENET);
    assert_non_null(strstr(err.msg, "ADXBTC: 3 failed requests in a row"));
    assert_non_null(strstr(err.msg, "HTTP 503"));
    assert_true(timeouts > 0);
    pthread_mutex_lock(&M.mu);
    S.fail_to = S.nreq; /* the server is back */
    pthread_mutex_unlock(&M.mu);
    coce_trade *got = calloc(wn, sizeof *got);
    size_t n = 0;
    while (n < wn) {
        rc = coce_live_feed_next(f, &got[n], &err);
        if (rc == COCE_OK)
            ++n;
        else
            assert_true(rc == COCE_ETIMEOUT || rc == COCE_ENET);
    }
    assert_stream(got, n, want, wn);
    coce_live_feed_free(f);
    coce_symbols_free(sy);
    free(got);
    free(want);
}

/* Connections dropped without an answer (twice in a row, more than the
 * client's one retry). */
static void test_dropped_connection(void **state)
{
    (void)state;
    atomic_store(&S.now, T0 + SPAN + 10000);
    S.drop_from = 3;
    S.drop_to = 6;
    coce_live_feed_opts o;
    test_opts(&o);
    size_t wn = 0;
    item *want = expected(&wn, -1, 0, 0);
    coce_live_feed_stats st;
    run_exact(&o, want, wn, &st);
    assert_true(st.failures >= 1);
    free(want);
}

/* 429 with Retry-After: 7: the next request waits at least 7 s, whether the
 * HTTP client retries (max_retries 1) or the feed does (max_retries 0). */
static void run_429(int http_retries)
{
    atomic_store(&S.now, T0 + SPAN + 10000);
    S.r429_at = 2;
    S.retry_after_s = 7;
    coce_live_feed_opts o;
    test_opts(&o);
    g_http.max_retries = http_retries;
    size_t wn = 0;
    item *want = expected(&wn, -1, 0, 0);
    coce_live_feed_stats st;
    run_exact(&o, want, wn, &st);
    assert_true(S.req_clock[2] - S.req_clock[1] >= 7000);
    assert_int_equal(st.failures, http_retries == 0 ? 1 : 0);
    free(want);
}

static void test_429_retry_after_client(void **state)
{
    (void)state;
    run_429(1);
}

static void test_429_retry_after_feed(void **state)
{
    (void)state;
    run_429(0);
}

/* X-MBX-USED-WEIGHT-1M at the threshold: no request before the next
 * minute starts. */
static void test_weight_pause(void **state)
{
    (void)state;
    atomic_store(&S.now, T0 + SPAN + 10000);
    S.weight = 5500;
    coce_live_feed_opts o;
    test_opts(&o);
    o.limit = 1000;
    size_t wn = 0;
    item *want = expected(&wn, -1, 0, 0);
    coce_live_feed_stats st;
    run_exact(&o, want, wn, &st);
    assert_true(S.nreq >= 4);
    for (int i = 1; i < S.nreq; ++i)
        assert_true(S.req_clock[i] / 60000 > S.req_clock[i - 1] / 60000);
    assert_true(st.weight_pauses >= 4);
    free(want);
}

/* No trade: next() returns COCE_ETIMEOUT after idle_timeout_ms. */
static void test_idle_timeout(void **state)
{
    (void)state;
    atomic_store(&S.now, T0 - 600000);
    coce_live_feed_opts o;
    test_opts(&o);
    o.start_ms = 0;
    o.start_minutes_back = 5;
    o.poll_ms = 300;
    coce_symbols *sy = NULL;
    coce_live_feed *f = open_feed(&o, &sy);
    coce_trade t;
    coce_err err;
    for (int k = 0; k < 3; ++k) {
        int64_t before = atomic_load(&S.now);
        assert_int_equal(coce_live_feed_next(f, &t, &err), COCE_ETIMEOUT);
        int64_t waited = atomic_load(&S.now) - before;
        assert_true(waited >= o.idle_timeout_ms);
        assert_true(waited <= o.idle_timeout_ms + 100);
        assert_non_null(strstr(err.msg, "no trade within 1000 ms"));
    }
    assert_true(S.nreq >= 3 * NPAIRS);
    coce_live_feed_free(f);
    coce_symbols_free(sy);
}

/* Take part of the stream, save the cursors, start a new feed from them:
 * the two parts together are the whole stream, exactly. */
static void test_resume(void **state)
{
    (void)state;
    atomic_store(&S.now, T0 + SPAN + 10000);
    coce_live_feed_opts o;
    test_opts(&o);
    size_t wn = 0;
    item *want = expected(&wn, -1, 0, 0);
    coce_trade *got = calloc(wn, sizeof *got);
    coce_symbols *sy = NULL;
    coce_live_feed *f = open_feed(&o, &sy);
    size_t first = drain(f, got, NULL, 1234, INT64_MAX);
    assert_int_equal(first, 1234);
    coce_live_feed_cursor cur[NPAIRS];
    size_t nc = 0;
    coce_live_feed_last_ids(f, cur, 2, &nc); /* cap smaller than pairs */
    assert_int_equal(nc, NPAIRS);
    coce_live_feed_last_ids(f, cur, NPAIRS, &nc);
    coce_live_feed_free(f);
    coce_symbols_free(sy);
    int resumed = 0;
    for (int p = 0; p < NPAIRS; ++p)
        resumed += cur[p].last_id >= 0;
    assert_true(resumed >= 2);

    coce_live_feed_cursor extra = {.symbol = "OTHERBTC", .last_id = 5};
    coce_live_feed_cursor all[NPAIRS + 1];
    memcpy(all, cur, sizeof cur);
    all[NPAIRS] = extra; /* an unknown pair is ignored */
    o.resume = all;
    o.n_resume = NPAIRS + 1;
    f = open_feed(&o, &sy);
    size_t second = drain(f, got + first, NULL, wn - first, T0 + 2 * SPAN);
    assert_stream(got, first + second, want, wn);
    coce_live_feed_stats st;
    coce_live_feed_stats_get(f, &st);
    assert_int_equal(st.duplicates, 0);
    coce_live_feed_free(f);
    coce_symbols_free(sy);
    free(got);
    free(want);
}

/* A resumed cursor older than what the server shows first: the hole is
 * filled by id. */
static void test_resume_fills_hole(void **state)
{
    (void)state;
    atomic_store(&S.now, T0 + SPAN + 10000);
    coce_live_feed_opts o;
    test_opts(&o);
    o.bases = BASES + 2;
    o.n_bases = 1;
    coce_live_feed_cursor cur = {.symbol = "NEBLBTC", .last_id = 703};
    o.resume = &cur;
    o.n_resume = 1;
    S.gap_sym = 2;
    S.gap_lo = 704;
    S.gap_hi = 706;
    coce_symbols *sy = NULL;
    coce_live_feed *f = open_feed(&o, &sy);
    coce_trade got[64];
    size_t n = drain(f, got, NULL, S.h[2].n - 4, INT64_MAX);
    assert_int_equal(n, S.h[2].n - 4);
    for (size_t i = 0; i < n; ++i)
        assert_int_equal(got[i].time_ms, S.h[2].r[i + 4].t);
    coce_live_feed_last_ids(f, &cur, 1, &n);
    assert_int_equal(cur.last_id, S.h[2].r[S.h[2].n - 1].id);
    coce_live_feed_free(f);
    coce_symbols_free(sy);
}

/* One pair down for two minutes with a short max_hold_ms: after 5 s it is
 * not waited for and the others are merged and released without it; its trades then come late, once each, with their
 * times raised so that the stream never goes back. */
static void test_late_pair_clamped(void **state)
{
    (void)state;
    atomic_store(&S.now, T0 + 600000);
    S.fail_from = 1;
    S.fail_to = 1000000;
    S.fail_sym = "NEBLBTC";
    S.fail_until_ms = T0 + 720000;
    coce_live_feed_opts o;
    test_opts(&o);
    o.max_hold_ms = 5000;
    size_t wn = 0;
    item *want = expected(&wn, -1, 0, 0);
    coce_symbols *sy = NULL;
    coce_live_feed *f = open_feed(&o, &sy);
    coce_trade *got = calloc(wn, sizeof *got);
    size_t n = drain(f, got, NULL, wn, T0 + SPAN + 600000);
    assert_int_equal(n, wn);
    size_t k[NPAIRS] = {0};
    for (size_t i = 0; i < n; ++i) {
        if (i > 0)
            assert_true(got[i].time_ms >= got[i - 1].time_ms);
        int p = (int)got[i].asset;
        const row *r = &S.h[p].r[k[p]++];
        assert_true(got[i].price == r->price && got[i].qty == r->qty);
        assert_true(got[i].time_ms >= r->t);
    }
    for (int p = 0; p < NPAIRS; ++p)
        assert_int_equal(k[p], S.h[p].n);
    coce_live_feed_stats st;
    coce_live_feed_stats_get(f, &st);
    assert_int_equal(st.late, 20); /* NEBL's first-five-minute trades */
    coce_live_feed_free(f);
    coce_symbols_free(sy);
    free(got);
    free(want);
}

/* stop() from inside a wait (as a signal handler would): next() returns
 * COCE_EEOF at once, and keeps doing so. */
static void test_stop_during_wait(void **state)
{
    (void)state;
    atomic_store(&S.now, T0 - 600000);
    coce_live_feed_opts o;
    test_opts(&o);
    o.poll_ms = 3600000;
    o.idle_timeout_ms = 7200000;
    coce_symbols *sy = NULL;
    coce_live_feed *f = open_feed(&o, &sy);
    S.stop_at_sleep = 5;
    coce_trade t;
    coce_err err;
    int64_t before = atomic_load(&S.now);
    assert_int_equal(coce_live_feed_next(f, &t, &err), COCE_EEOF);
    assert_true(atomic_load(&S.now) - before <= 500);
    assert_int_equal(coce_live_feed_next(f, &t, &err), COCE_EEOF);
    coce_live_feed_free(f);
    coce_symbols_free(sy);
}

static void *stopper(void *arg)
{
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
    coce_live_feed_stop(arg);
    return NULL;
}

static int64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* stop() from another thread during a real (nanosleep) wait. */
static void test_stop_real_time(void **state)
{
    (void)state;
    atomic_store(&S.now, T0 - 600000);
    coce_live_feed_opts o;
    test_opts(&o);
    o.clock_fn = NULL;
    o.sleep_fn = NULL;
    o.start_ms = 0; /* now - 5 min (real time): the server has nothing */
    o.n_bases = 1;
    o.poll_ms = 60000;
    o.idle_timeout_ms = 120000;
    coce_symbols *sy = NULL;
    coce_live_feed *f = open_feed(&o, &sy);
    pthread_t th;
    int64_t t0 = real_ms();
    assert_int_equal(pthread_create(&th, NULL, stopper, f), 0);
    coce_trade t;
    coce_err err;
    assert_int_equal(coce_live_feed_next(f, &t, &err), COCE_EEOF);
    pthread_join(th, NULL);
    assert_true(real_ms() - t0 < 2000);
    coce_live_feed_free(f);
    coce_symbols_free(sy);
}

/* A 4xx that will not pass (an unknown symbol) is returned as it is. */
static void test_invalid_symbol(void **state)
{
    (void)state;
    atomic_store(&S.now, T0 + SPAN + 10000);
    static const char *const bad[] = {"ADX", "XXX"};
    coce_live_feed_opts o;
    test_opts(&o);
    o.bases = bad;
    o.n_bases = 2;
    coce_symbols *sy = NULL;
    coce_live_feed *f = open_feed(&o, &sy);
    coce_trade t;
    coce_err err;
    int rc;
    while ((rc = coce_live_feed_next(f, &t, &err)) == COCE_OK) {
    }
    assert_int_equal(rc, COCE_EHTTP);
    assert_non_null(strstr(err.msg, "XXXBTC"));
    assert_non_null(strstr(err.msg, "Invalid symbol"));
    coce_live_feed_free(f);
    coce_symbols_free(sy);
    /* a wrong base URL: 404, returned as COCE_ENOTFOUND */
    char url[128];
    snprintf(url, sizeof url, "%s/wrong", M.base);
    o.base_url = url;
    f = open_feed(&o, &sy);
    assert_int_equal(coce_live_feed_next(f, &t, &err), COCE_ENOTFOUND);
    assert_non_null(strstr(err.msg, "live feed: ADXBTC: GET"));
    coce_live_feed_free(f);
    coce_symbols_free(sy);
}

/* A start three hours before the first trade: quiet one-hour windows are
 * walked through (each under Binance's one-hour limit) until the trades. */
static void test_quiet_windows(void **state)
{
    (void)state;
    atomic_store(&S.now, T0 + SPAN + 10000);
    coce_live_feed_opts o;
    test_opts(&o);
    o.bases = BASES + 2;
    o.n_bases = 1;
    o.start_ms = T0 - 3 * 3600000LL - 1234;
    coce_symbols *sy = NULL;
    coce_live_feed *f = open_feed(&o, &sy);
    coce_trade got[64];
    size_t n = drain(f, got, NULL, S.h[2].n, INT64_MAX);
    assert_int_equal(n, S.h[2].n);
    for (size_t i = 0; i < n; ++i)
        assert_int_equal(got[i].time_ms, S.h[2].r[i].t);
    char q[128];
    snprintf(q, sizeof q, "startTime=%lld&endTime=%lld",
             (long long)(T0 - 3600000LL - 1234),
             (long long)(T0 - 1234 - 1));
    assert_true(has_query(q));
    coce_live_feed_free(f);
    coce_symbols_free(sy);
}

static void expect_einval(coce_live_feed_opts *o, const char *what)
{
    coce_symbols *sy = NULL;
    assert_int_equal(coce_symbols_new(&sy), COCE_OK);
    coce_live_feed *f = (coce_live_feed *)&f;
    coce_err err;
    assert_int_equal(coce_live_feed_new(o, sy, &f, &err), COCE_EINVAL);
    assert_null(f);
    if (strstr(err.msg, what) == NULL)
        fail_msg("'%s' does not name '%s'", err.msg, what);
    coce_symbols_free(sy);
}

static void test_bad_options(void **state)
{
    (void)state;
    coce_live_feed_opts o;
    static const char *const dup[] = {"ADX", "adx"};
    static const char *const badc[] = {"AD-X"};
    static const char *const nul[] = {NULL};
    test_opts(&o), o.n_bases = 0, expect_einval(&o, "bases");
    test_opts(&o), o.limit = 1001, expect_einval(&o, "limit");
    test_opts(&o), o.idle_timeout_ms = 0, expect_einval(&o, "idle_timeout_ms");
    test_opts(&o), o.start_ms = 0, o.start_minutes_back = -1,
                   expect_einval(&o, "start_minutes_back");
    test_opts(&o), o.max_failures = 0, expect_einval(&o, "max_failures");
    test_opts(&o), o.backoff_max_ms = 1, expect_einval(&o, "backoff");
    test_opts(&o), o.n_resume = 2, expect_einval(&o, "resume");
    test_opts(&o), o.quote = "B/TC", expect_einval(&o, "quote");
    test_opts(&o), o.bases = dup, o.n_bases = 2, expect_einval(&o, "ADX twice");
    test_opts(&o), o.bases = badc, o.n_bases = 1, expect_einval(&o, "bases[0]");
    test_opts(&o), o.bases = nul, o.n_bases = 1, expect_einval(&o, "bases[0]");
    char longurl[600];
    memset(longurl, 'h', sizeof longurl - 1);
    longurl[sizeof longurl - 1] = '\0';
    test_opts(&o), o.base_url = longurl, expect_einval(&o, "base_url");
    coce_symbols *sy = NULL;
    assert_int_equal(coce_symbols_new(&sy), COCE_OK);
    coce_live_feed *f = NULL;
    coce_err err;
    assert_int_equal(coce_live_feed_new(NULL, sy, &f, &err), COCE_EINVAL);
    coce_symbols_free(sy);
    coce_live_feed_free(NULL);
    coce_live_feed_stop(NULL);
}

/* Defaults, a trailing '/' in the base URL, the default quote and HTTP
 * options: the feed asks <base>/api/v3/aggTrades?symbol=ADXBTC. */
static void test_defaults(void **state)
{
    (void)state;
    atomic_store(&S.now, T0 + SPAN + 10000);
    coce_live_feed_opts o;
    coce_live_feed_opts_default(&o);
    assert_int_equal(o.limit, 1000);
    assert_int_equal(o.poll_ms, 2000);
    assert_int_equal(o.start_minutes_back, 5);
    assert_string_equal(o.quote, "BTC");
    char url[128];
    snprintf(url, sizeof url, "%s/", M.base);
    o.base_url = url;
    o.bases = BASES;
    o.n_bases = 1;
    o.quote = NULL;
    o.clock_fn = fake_clock;
    o.sleep_fn = fake_sleep;
    o.time_ctx = &S;
    coce_symbols *sy = NULL;
    coce_live_feed *f = open_feed(&o, &sy);
    coce_trade t;
    coce_err err;
    /* 5 minutes back from the end: the window has the last ADX trades */
    assert_int_equal(coce_live_feed_next(f, &t, &err), COCE_OK);
    assert_true(t.time_ms >= T0 + SPAN + 10000 - 300000);
    assert_string_equal(M.last_path, "/api/v3/aggTrades");
    assert_true(has_query("symbol=ADXBTC&startTime="));
    coce_source src = coce_live_feed_source(f);
    assert_int_equal(src.next(src.impl, &t, &err), COCE_OK);
    src.stop(src.impl);
    assert_int_equal(src.next(src.impl, &t, &err), COCE_EEOF);
    coce_live_feed_free(f);
    coce_symbols_free(sy);
}

/* The replay behind the same interface. */
static void test_replay_source(void **state)
{
    (void)state;
    char dir[512], path[600];
    coce_test_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/adx.csv", dir);
    coce_trade_writer *w = NULL;
    coce_err err;
    assert_int_equal(coce_trade_writer_open(&w, path, "ADX/BTC", &err),
                     COCE_OK);
    for (int i = 0; i < 3; ++i) {
        coce_trade t = {.time_ms = T0 + i, .price = 1.0 + i, .qty = 2.0,
                        .side = COCE_SIDE_BUY};
        assert_int_equal(coce_trade_writer_write(w, &t, &err), COCE_OK);
    }
    assert_int_equal(coce_trade_writer_close(w, &err), COCE_OK);
    coce_symbols *sy = NULL;
    assert_int_equal(coce_symbols_new(&sy), COCE_OK);
    coce_replay *r = NULL;
    char *paths[] = {path};
    assert_int_equal(coce_replay_open(&r, paths, 1, sy, NULL, &err), COCE_OK);
    coce_source src = coce_replay_source(r);
    coce_trade t;
    int n = 0, rc;
    src.stop(src.impl); /* a replay ends by itself */
    while ((rc = src.next(src.impl, &t, &err)) == COCE_OK) {
        assert_int_equal(t.time_ms, T0 + n);
        ++n;
    }
    assert_int_equal(rc, COCE_EEOF);
    assert_int_equal(n, 3);
    coce_replay_free(r);
    coce_symbols_free(sy);
    coce_test_rmtree(dir);
}

int main(void)
{
    coce_log_set_stderr_level(COCE_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_merge_live_and_pagination, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gap_at_page_start, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_gap_fill_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap_inside_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap_never_filled, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_dropped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outage_recovers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_persistent_failure_reported,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_dropped_connection, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_429_retry_after_client, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_429_retry_after_feed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_weight_pause, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_fills_hole, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_late_pair_clamped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stop_during_wait, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stop_real_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_symbol, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quiet_windows, setup, teardown),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
        cmocka_unit_test(test_replay_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
