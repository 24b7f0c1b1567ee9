/* The convexity sleeve's live route: a paper spot venue, the fake Deribit
 * (127.0.0.1) as the option venue; journal, guardrails, reconciliation by
 * label, restart without a resend, streamed underlying samples. */
#include "engine_sleeve_fixture.h"

#include <jansson.h>
#include <stdlib.h>

#include "options/instruments.h"
#include "state/state_file.h"
#include "utils/log.h"

#include "../execution/fake_deribit.c"

#define CID "engine-client"
#define CSECRET "engine-secret-0123456789"
#define T0 ES_T0
#define HOUR ES_HOUR_MS
#define DAY 86400000LL
#define HOURS (24 * 12)
#define DAY7 (T0 + 7 * DAY) /* the first decision day */
static int64_t g_t[HOURS + 1];
static double g_px[HOURS + 1];

static void make_series(void)
{
    es_make_series(g_t, g_px, HOURS + 1);
}

/* The back-test's events over the series (the engine's first decision is
 * the same: same state, same samples). */
static coce_sleeve_event g_ev[256];
static size_t g_nev;

static void backtest_events(void)
{
    coce_sleeve_cfg c;
    es_sleeve_cfg(&c);
    coce_sleeve_result r;
    memset(&r, 0, sizeof r);
    r.events = g_ev;
    r.events_cap = 256;
    assert_int_equal(coce_sleeve_run(&c, g_t, g_px, HOURS + 1, 2e5, &r, NULL),
                     COCE_OK);
    g_nev = r.n_events < 256 ? r.n_events : 256;
    assert_true(g_nev > 0);
}

typedef es_rig rig;

static coce_fake_deribit *g_fake;
static int g_stream;   /* the underlying's samples are streamed */
static int g_inactive; /* the fake lists the options as inactive */
static double g_dd_hard; /* > 0: guardrails.drawdown_hard */

/* ---- the market data the engine chooses from ----------------------------
 * The fake answers public/get_instruments with one fixed contract for every
 * name and public/get_book_summary_by_currency with one fixed open
 * interest; a front server here answers those two methods from g_lst (the
 * contract from each name, per-instrument quotes and open interest, in the
 * shapes of the Deribit API v2 method pages) and hands every other request
 * to the fake's own handler. */
typedef struct listed {
    char name[64];
    double tick, step_above, step_tick, min_amount;
    int inactive;
    double bid, ask; /* book summary bid_price / ask_price (0: null) */
    double oi;       /* open_interest (NAN: absent) */
    int no_summary;  /* not in the book summary */
} listed;

#define LST_MAX 16
static listed g_lst[LST_MAX];
static int g_list_fail; /* 1: the two methods answer an error; 2: the
                           summary only; 3: the summary is not a list */
static int g_summary_iv; /* summaries carry mark_iv and underlying_price */
#define MARK_IV 80.0
static size_t g_nlst;
static struct MHD_Daemon *g_front;
static char g_front_url[64];

static json_t *lst_instruments(void)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < g_nlst; i++) {
        const listed *x = &g_lst[i];
        coce_instrument in;
        assert_int_equal(coce_instrument_parse_name(x->name, &in, NULL),
                         COCE_OK);
        json_t *steps = json_array();
        if (x->step_above > 0)
            json_array_append_new(steps,
                                  json_pack("{s:f, s:f}", "above_price",
                                            x->step_above, "tick_size",
                                            x->step_tick));
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:f, s:o, s:f, s:i, s:b, s:s, s:f,"
                           " s:s, s:I}",
                           "instrument_name", x->name, "kind", "option",
                           "base_currency", "BTC", "tick_size", x->tick,
                           "tick_size_steps", steps, "min_trade_amount",
                           x->min_amount, "contract_size", 1, "is_active",
                           !x->inactive, "option_type",
                           in.option_type == COCE_OPT_CALL ? "call" : "put",
                           "strike", in.strike, "settlement_period", "week",
                           "expiration_timestamp", (json_int_t)in.expiry_ms));
    }
    return arr;
}

static json_t *lst_summary(void)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < g_nlst; i++) {
        const listed *x = &g_lst[i];
        if (x->no_summary)
            continue;
        json_t *o = json_pack("{s:s, s:f, s:s, s:s}", "instrument_name",
                              x->name, "mark_price", 0.5 * (x->bid + x->ask),
                              "base_currency", "BTC", "quote_currency", "BTC");
        json_object_set_new(o, "bid_price",
                            x->bid > 0 ? json_real(x->bid) : json_null());
        json_object_set_new(o, "ask_price",
                            x->ask > 0 ? json_real(x->ask) : json_null());
        if (!isnan(x->oi))
            json_object_set_new(o, "open_interest", json_real(x->oi));
        if (g_summary_iv) {
            json_object_set_new(o, "mark_iv", json_real(MARK_IV));
            json_object_set_new(o, "underlying_price",
                                json_real(g_px[7 * 24]));
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

static enum MHD_Result front_handler(void *cls, struct MHD_Connection *c,
                                     const char *url, const char *method,
                                     const char *version, const char *upload,
                                     size_t *upload_size, void **con_cls)
{
    (void)cls;
    int list = strcmp(url, "/api/v2/public/get_instruments") == 0;
    int summ = strcmp(url, "/api/v2/public/get_book_summary_by_currency") == 0;
    if (!list && !summ)
        return fd_handler(g_fake, c, url, method, version, upload, upload_size,
                          con_cls);
    if (coce_fake_req_collect(con_cls, upload, upload_size))
        return MHD_YES;
    const coce_fake_req *r = *con_cls;
    json_t *req = json_loads(r->body, 0, NULL);
    json_t *id = json_object_get(req, "id");
    json_int_t idv = json_is_integer(id) ? json_integer_value(id) : 0;
    json_decref(req);
    int fail = g_list_fail == 1 || (g_list_fail == 2 && summ);
    if (g_list_fail == 3 && summ) /* a 200 answer without the list */
        return coce_fake_send(c, 200,
                              strdup("{\"jsonrpc\":\"2.0\",\"id\":1,"
                                     "\"result\":{}}"),
                              -1, NULL);
    json_t *env =
        fail
            ? json_pack("{s:s, s:I, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", idv,
                        "error", "code", -32602, "message", "Invalid params")
            : json_pack("{s:s, s:I, s:o}", "jsonrpc", "2.0", "id", idv,
                        "result", list ? lst_instruments() : lst_summary());
    char *body = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    return coce_fake_send(c, fail ? 400 : 200, body, -1, NULL);
}

static void lst_add(const listed *x)
{
    assert_true(g_nlst < LST_MAX);
    g_lst[g_nlst++] = *x;
    coce_fake_db_instrument in = {.name = x->name,
                                  .tick = x->tick,
                                  .step_above = x->step_above,
                                  .step_tick = x->step_tick,
                                  .min_amount = x->min_amount,
                                  .price = x->ask > 0 ? x->ask : 0.01,
                                  .inactive = x->inactive};
    assert_int_equal(coce_fake_deribit_add_instrument(g_fake, &in), 0);
}

/* The fake and its front server, nothing listed. */
static void fake_start(void)
{
    assert_int_equal(coce_fake_deribit_start(CID, CSECRET, 900, &g_fake), 0);
    g_nlst = 0;
    g_front = coce_fake_listen(front_handler, NULL, g_front_url,
                               sizeof g_front_url);
    assert_non_null(g_front);
}

static void fake_down(void)
{
    MHD_stop_daemon(g_front);
    g_front = NULL;
    coce_fake_deribit_stop(g_fake);
    g_fake = NULL;
}

/* Every option name the back-test trades, listed with Deribit's BTC option
 * ticks (0.0001 below 0.005, 0.0005 above), open interest 120 and a
 * venue ask far above the model's (the model ask sets the limit). */
static void fake_up(void)
{
    fake_start();
    static char names[256][64];
    size_t k = 0;
    for (size_t i = 0; i < g_nev; i++) {
        char *name = names[k];
        assert_int_equal(coce_sleeve_option_name("BTC", g_ev[i].type,
                                                 g_ev[i].strike,
                                                 g_ev[i].expiry_ms, name, 64),
                         COCE_OK);
        int seen = 0;
        for (size_t j = 0; j < k; j++)
            seen |= strcmp(names[j], name) == 0;
        if (seen)
            continue;
        k++;
        listed x = {.tick = 0.0001,
                    .step_above = 0.005,
                    .step_tick = 0.0005,
                    .min_amount = 0.1,
                    .inactive = g_inactive,
                    .bid = 0.49,
                    .ask = 0.51,
                    .oi = 120.0};
        (void)snprintf(x.name, sizeof x.name, "%s", name);
        if (g_nlst < LST_MAX)
            lst_add(&x);
    }
}

static void rig_open_at(rig *g, coce_book *book, const char *dir,
                        int64_t sent_before)
{
    es_rig_base(g, dir);
    if (g_dd_hard > 0) {
        g->cfg.guardrails.drawdown_hard = g_dd_hard;
        g->cfg.guardrails.drawdown_soft = g_dd_hard / 2;
    }
    coce_deribit_opts dop;
    coce_deribit_opts_default(&dop);
    dop.base_url = g_front_url;
    dop.client_id = CID;
    dop.client_secret = CSECRET;
    dop.timeout_ms = 2000;
    dop.backoff_ms = 10;
    dop.read_retries = 1;
    coce_err err;
    assert_int_equal(coce_deribit_new(&dop, &g->d, &err), COCE_OK);
    if (book != NULL) {
        /* the journal's unfinished orders back in the book (as live.c) */
        size_t applied = 0;
        assert_int_equal(coce_journal_replay(g->journal, book, 0, &applied,
                                             &err),
                         COCE_OK);
        while (book->n_orders > 0)
            (void)coce_book_order_remove(book, book->orders[0].client_id);
        coce_journal_pending_entry *p = NULL;
        size_t n = 0;
        assert_int_equal(coce_journal_pending(g->journal, &p, &n, &err),
                         COCE_OK);
        for (size_t i = 0; i < n; i++) {
            coce_open_order o;
            memset(&o, 0, sizeof o);
            memcpy(o.client_id, p[i].intent.client_id, sizeof o.client_id);
            o.asset = p[i].intent.asset;
            o.side = p[i].intent.side;
            o.type = p[i].intent.type;
            o.reason = p[i].intent.reason;
            o.qty = p[i].intent.qty;
            o.filled = p[i].filled;
            o.limit_price = p[i].intent.limit_price;
            o.status = COCE_ORDER_UNKNOWN;
            o.time_ms = p[i].intent.time_ms;
            assert_int_equal(coce_book_set_symbol(book, o.asset, p[i].asset,
                                                  &err),
                             COCE_OK);
            assert_int_equal(coce_book_order_add(book, &o, &err), COCE_OK);
        }
        free(p);
    }
    if (g_stream)
        es_sleeve_opts(g, NULL, NULL, 0);
    else
        es_sleeve_opts(g, g_t, g_px, HOURS + 1);
    g->so.deribit = g->d;
    g->so.sent_before_ms = sent_before;
    coce_engine_opts eo;
    es_engine_opts(g, book, &eo);
    es_engine_new(g, &eo);
}

static void rig_open(rig *g, coce_book *book)
{
    rig_open_at(g, book, NULL, 0);
}

/* The journal's option intents (client id, limit, qty, symbol). */
typedef struct jintent {
    char id[COCE_CLIENT_ID_MAX];
    char sym[COCE_BOOK_SYMBOL_MAX];
    double price, qty;
    int8_t side;
} jintent;

static size_t journal_intents(coce_journal *j, jintent *out, size_t cap)
{
    int64_t last = 0;
    assert_int_equal(coce_journal_last_seq(j, &last, NULL), COCE_OK);
    size_t k = 0;
    for (int64_t q = 1; q <= last; q++) {
        coce_journal_event ev;
        assert_int_equal(coce_journal_get(j, q, &ev, NULL), COCE_OK);
        if (ev.kind != COCE_JOURNAL_INTENT || strncmp(ev.asset, "BTC-", 4) != 0)
            continue;
        if (k < cap) {
            memcpy(out[k].id, ev.client_id, sizeof out[k].id);
            memcpy(out[k].sym, ev.asset, sizeof out[k].sym);
            out[k].price = ev.price;
            out[k].qty = ev.qty;
            out[k].side = ev.side;
        }
        k++;
    }
    return k;
}

static size_t journal_count(coce_journal *j, const char *id,
                            coce_journal_kind kind)
{
    int64_t last = 0;
    assert_int_equal(coce_journal_last_seq(j, &last, NULL), COCE_OK);
    size_t k = 0;
    for (int64_t q = 1; q <= last; q++) {
        coce_journal_event ev;
        assert_int_equal(coce_journal_get(j, q, &ev, NULL), COCE_OK);
        k += ev.kind == kind && strcmp(ev.client_id, id) == 0;
    }
    return k;
}

/* The back-test's first buy of the option named `name`. */
static const coce_sleeve_event *first_buy(const char *name)
{
    for (size_t i = 0; i < g_nev; i++) {
        char n[64];
        (void)coce_sleeve_option_name("BTC", g_ev[i].type, g_ev[i].strike,
                                      g_ev[i].expiry_ms, n, sizeof n);
        if (g_ev[i].what == COCE_SLEEVE_BUY && strcmp(n, name) == 0)
            return &g_ev[i];
    }
    return NULL;
}

static double tick_at(double price)
{
    return price >= 0.005 ? 0.0005 : 0.0001;
}

static const coce_position *option_position(const coce_engine *e,
                                            const char *name)
{
    const coce_book *b = coce_engine_book(e);
    for (size_t i = 0; i < coce_book_position_count(b); i++) {
        const coce_position *p = coce_book_position_at(b, i);
        if (p->asset >= COCE_ENGINE_OPTION_BASE &&
            strcmp(p->symbol, name) == 0)
            return p;
    }
    return NULL;
}

/* Buys sent to the venue so far. */
static int buys_sent(void)
{
    return coce_fake_deribit_requests(g_fake, "private/buy");
}

#define JI_CAP 8

/* A fresh rig traded from T0 + 1 min to `to`: its option intents (at most
 * JI_CAP in `in`), counted. */
static size_t open_and_trade(rig *g, int64_t to, jintent *in)
{
    rig_open(g, NULL);
    es_run_trades(g, T0 + 60000, to);
    return journal_intents(g->journal, in, JI_CAP);
}

static void rig_down(rig *g)
{
    es_rig_close(g, 0);
    fake_down();
}

/* The venue fills `qty` of `x` at `price`; after trades in [from, to] the
 * option is in the book. */
static const coce_position *fill_lands(rig *g, const jintent *x, double qty,
                                       double price, int64_t from, int64_t to)
{
    assert_int_equal(coce_fake_deribit_fill(g_fake, x->id, qty, price), 0);
    es_run_trades(g, from, to);
    const coce_position *p = option_position(g->e, x->sym);
    assert_non_null(p);
    return p;
}

/* Hourly samples of the series up to the first decision (and the base's,
 * from day 1 on, when `base`), with the spot trades of each hour. */
static void stream_hours(rig *g, int base)
{
    coce_err err;
    for (size_t i = 0; i <= 7 * 24 + 2; i++) {
        assert_int_equal(coce_engine_sleeve_sample(g->e, "BTC", g_t[i], g_px[i],
                                                   &err),
                         COCE_OK);
        if (base && i >= 24) /* the base's USD price from day 1 on */
            assert_int_equal(coce_engine_sleeve_sample(
                                 g->e, COCE_ENGINE_BASE_SERIES, g_t[i], 1.0,
                                 &err),
                             COCE_OK);
        es_run_trades(g, g_t[i] + 60000, g_t[i] + HOUR - 60000);
        if (base && i == 23)
            assert_int_equal(coce_engine_sleeve(g->e)->intents, 0);
    }
}

/* Each option intent is the back-test's choice, of its amount. */
static void expect_backtest_buys(rig *g)
{
    jintent in[JI_CAP];
    size_t n = journal_intents(g->journal, in, JI_CAP);
    assert_true(n >= 1);
    for (size_t i = 0; i < n; i++) {
        const coce_sleeve_event *ev = first_buy(in[i].sym);
        assert_non_null(ev); /* the back-test's choice */
        assert_close(in[i].qty, ev->amount, 0, 1e-9);
    }
}

/* The first decision day: option buys reach the fake as private/buy with
 * label = the journal's client id, a limit on the tick grid at most one
 * tick under the model ask; a fill at the fake lands in the book once. */
static void test_orders_reach_deribit(void **state)
{
    (void)state;
    fake_up();
    rig g;
    jintent in[JI_CAP];
    size_t n = open_and_trade(&g, DAY7 + 30 * 60000, in);
    assert_true(n >= 1 && n <= 2); /* a call and/or a put */
    assert_int_equal(buys_sent(), (int)n);
    for (size_t i = 0; i < n; i++) {
        coce_fake_db_order o;
        assert_int_equal(coce_fake_deribit_find(g_fake, in[i].id, &o), 1);
        assert_string_equal(o.instrument, in[i].sym);
        assert_int_equal(o.side, 1);
        assert_close(o.price, in[i].price, 0, 1e-12); /* journalled = sent */
        assert_close(o.amount, in[i].qty, 0, 1e-12);
        const coce_sleeve_event *ev = first_buy(in[i].sym);
        assert_non_null(ev);
        double tick = tick_at(o.price);
        double q = o.price / tick;
        assert_close(q, nearbyint(q), 0, 1e-6); /* on the grid */
        assert_true(o.price <= ev->price_coin + 1e-12); /* never above ask */
        assert_true(ev->price_coin - o.price < tick_at(ev->price_coin));
        assert_close(o.amount, ev->amount, 0, 1e-9);
        assert_int_equal(journal_count(g.journal, in[i].id, COCE_JOURNAL_SENT),
                         1);
    }
    /* working: the next decisions send nothing more of these kinds */
    es_run_trades(&g, DAY7 + 40 * 60000, DAY7 + 3 * HOUR);
    assert_int_equal(buys_sent(), (int)n);
    assert_null(option_position(g.e, in[0].sym));

    /* the venue fills the first in two parts: each lands once, converted
     * to USD at the decision's spot */
    const coce_sleeve_event *ev = first_buy(in[0].sym);
    double half = floor(in[0].qty / 2 / 0.1 + 1e-9) * 0.1;
    assert_true(half > 0);
    const coce_position *p = fill_lands(&g, &in[0], half, in[0].price,
                                        DAY7 + 3 * HOUR + 600000,
                                        DAY7 + 5 * HOUR);
    assert_close(p->qty, half, 0, 1e-9);
    assert_close(p->avg_price, in[0].price * ev->spot, 1e-9, 0);
    assert_int_equal(journal_count(g.journal, in[0].id, COCE_JOURNAL_FILL), 1);
    p = fill_lands(&g, &in[0], in[0].qty - half, in[0].price,
                   DAY7 + 5 * HOUR + 600000, DAY7 + 9 * HOUR);
    assert_close(p->qty, in[0].qty, 0, 1e-9);
    assert_int_equal(journal_count(g.journal, in[0].id, COCE_JOURNAL_FILL), 2);
    coce_err err;
    assert_int_equal(coce_engine_settle_orders(g.e, DAY7 + 9 * HOUR, &err),
                     COCE_OK);
    assert_int_equal(journal_count(g.journal, in[0].id, COCE_JOURNAL_FILL), 2);
    const coce_engine_sleeve_report *s = coce_engine_sleeve(g.e);
    assert_int_equal(s->res[0].n_buys, 1); /* the two parts: one option */
    assert_true(s->fills >= 2);
    /* the fee: Deribit's per contract, in USD */
    const coce_book *b = coce_engine_book(g.e);
    assert_true(b->cash < 1e5 - in[0].qty * in[0].price * ev->spot);
    assert_int_equal(buys_sent(), (int)n);
    assert_int_equal(coce_engine_finish(g.e, &err), COCE_OK);
    rig_down(&g);
}

/* A buy whose answer is lost (connection dropped after the venue took it,
 * or a 503 after executing it) is settled by label: adopted, never
 * resent; its fill lands once. */
static void test_unknown_settled_by_label(void **state)
{
    (void)state;
    const coce_fake_db_fault faults[2] = {COCE_FAKE_DB_DROP, COCE_FAKE_DB_5XX};
    for (int k = 0; k < 2; k++) {
        fake_up();
        coce_fake_deribit_fault(g_fake, "private/buy", faults[k], 1, 1);
        rig g;
        jintent in[JI_CAP];
        size_t n = open_and_trade(&g, DAY7 + 5 * 60000, in);
        assert_true(n >= 1);
        assert_int_equal(journal_count(g.journal, in[0].id,
                                       COCE_JOURNAL_UNKNOWN),
                         1);
        assert_int_equal(coce_fake_deribit_find(g_fake, in[0].id, NULL), 1);
        /* the next bar close asks by label */
        es_run_trades(&g, DAY7 + 15 * 60000, DAY7 + HOUR + 5 * 60000);
        assert_int_equal(coce_engine_get_stats(g.e)->orders_adopted, 1);
        assert_int_equal(journal_count(g.journal, in[0].id, COCE_JOURNAL_ACK),
                         1);
        assert_int_equal(buys_sent(), (int)n);
        assert_int_equal(coce_fake_deribit_find(g_fake, in[0].id, NULL), 1);
        const coce_position *p =
            fill_lands(&g, &in[0], in[0].qty, in[0].price,
                       DAY7 + HOUR + 15 * 60000, DAY7 + 3 * HOUR);
        assert_close(p->qty, in[0].qty, 0, 1e-9);
        assert_int_equal(journal_count(g.journal, in[0].id, COCE_JOURNAL_FILL),
                         1);
        assert_int_equal(coce_fake_deribit_find(g_fake, in[0].id, NULL), 1);
        rig_down(&g);
    }
}

/* A crash with an option order of unknown outcome: a new engine on the
 * same state and journal tracks it, settles it by label, takes its fill
 * (deferred until a USD price is known when the samples are streamed),
 * and resends nothing. */
static void test_restart_no_resend(void **state)
{
    (void)state;
    fake_up();
    coce_fake_deribit_fault(g_fake, "private/buy", COCE_FAKE_DB_DROP, 1, 0);
    rig g;
    jintent in[JI_CAP];
    size_t n = open_and_trade(&g, DAY7 + 5 * 60000, in);
    assert_true(n >= 1);
    int buys = buys_sent();
    char dir[512], path[700];
    (void)snprintf(dir, sizeof dir, "%s", g.dir);
    (void)snprintf(path, sizeof path, "%s/state.json", dir);
    assert_int_equal(coce_state_save(coce_engine_book(g.e), path, NULL),
                     COCE_OK);
    es_rig_close(&g, 1); /* the crash: nothing settled */

    /* the venue fills it while the engine is down */
    assert_int_equal(coce_fake_deribit_fill(g_fake, in[0].id, in[0].qty,
                                            in[0].price),
                     0);
    coce_book *back = NULL;
    assert_int_equal(coce_state_load(path, &back, NULL), COCE_OK);
    g_stream = 1;
    rig g2;
    rig_open_at(&g2, back, dir, 0);
    coce_err err;
    /* before any sample: settled (adopted), its fill waits for a price */
    assert_int_equal(coce_engine_settle_orders(g2.e, DAY7 + 10 * 60000, &err),
                     COCE_OK);
    assert_int_equal(coce_engine_get_stats(g2.e)->orders_adopted >= 1, 1);
    const coce_engine_sleeve_report *s = coce_engine_sleeve(g2.e);
    assert_int_equal(s->fills_deferred, 1);
    assert_null(option_position(g2.e, in[0].sym));
    /* a USD sample: the fill lands, once */
    assert_int_equal(coce_engine_sleeve_sample(g2.e, "BTC", DAY7 + HOUR,
                                               g_px[7 * 24 + 1], &err),
                     COCE_OK);
    es_run_trades(&g2, DAY7 + 10 * 60000, DAY7 + 2 * HOUR);
    const coce_position *p = option_position(g2.e, in[0].sym);
    assert_non_null(p);
    assert_close(p->qty, in[0].qty, 0, 1e-9);
    assert_close(p->avg_price, in[0].price * g_px[7 * 24 + 1], 1e-9, 0);
    assert_int_equal(journal_count(g2.journal, in[0].id, COCE_JOURNAL_FILL), 1);
    /* no vol window yet: marked at its fill price, not at a floor vol */
    assert_int_equal(coce_engine_sleeve_sample(g2.e, "BTC", DAY7 + 2 * HOUR,
                                               g_px[7 * 24 + 2], &err),
                     COCE_OK);
    es_run_trades(&g2, DAY7 + 2 * HOUR, DAY7 + 2 * HOUR + 600000);
    s = coce_engine_sleeve(g2.e);
    double held_value = 0;
    const coce_book *b2 = coce_engine_book(g2.e);
    for (size_t i = 0; i < coce_book_position_count(b2); i++) {
        const coce_position *q = coce_book_position_at(b2, i);
        if (q->asset >= COCE_ENGINE_OPTION_BASE)
            held_value += q->qty * q->avg_price;
    }
    assert_close(s->premium_at_risk_base, held_value, 1e-9, 0);
    assert_int_equal(coce_engine_settle_orders(g2.e, DAY7 + 2 * HOUR, &err),
                     COCE_OK);
    assert_int_equal(journal_count(g2.journal, in[0].id, COCE_JOURNAL_FILL), 1);
    /* nothing was resent, and the working order blocked its kind */
    assert_int_equal(buys_sent(), buys);
    assert_int_equal(coce_fake_deribit_find(g_fake, in[0].id, NULL), 1);
    g_stream = 0;
    rig_down(&g2);
}

/* A kill-switch halt blocks sleeve opens: nothing reaches the venue. */
static void test_halt_blocks_opens(void **state)
{
    (void)state;
    fake_up();
    coce_book *book = es_halted_book();
    rig g;
    rig_open(&g, book);
    es_run_trades(&g, T0 + 60000, T0 + 9 * DAY);
    const coce_engine_sleeve_report *s = coce_engine_sleeve(g.e);
    assert_true(s->skipped_halted > 0);
    assert_int_equal(s->intents, 0);
    assert_int_equal(buys_sent(), 0);
    assert_int_equal((int)coce_fake_deribit_order_count(g_fake), 0);
    rig_down(&g);
}

/* An option the venue does not list, or lists as inactive, is refused
 * before anything is journalled; the engine goes on. */
static void test_unlisted_refused(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        if (k == 0) {
            fake_start();
        } else {
            g_inactive = 1;
            fake_up();
        }
        rig g;
        rig_open(&g, NULL);
        es_run_trades(&g, T0 + 60000, T0 + 7 * DAY + HOUR);
        const coce_engine_sleeve_report *s = coce_engine_sleeve(g.e);
        assert_true(s->refused >= 1);
        assert_int_equal(s->intents, 0);
        jintent in[2];
        assert_int_equal(journal_intents(g.journal, in, 2), 0);
        assert_int_equal(buys_sent(), 0);
        rig_down(&g);
    }
}

/* A buy the venue refuses (not_enough_funds: not executed) is journalled
 * as rejected and counted; nothing stays working. */
static void test_venue_refusal(void **state)
{
    (void)state;
    fake_up();
    coce_fake_deribit_fault(g_fake, "private/buy", COCE_FAKE_DB_ERROR, 1,
                            10009);
    rig g;
    jintent in[JI_CAP];
    size_t n = open_and_trade(&g, T0 + 7 * DAY + 30 * 60000, in);
    assert_true(n >= 1);
    assert_int_equal(journal_count(g.journal, in[0].id, COCE_JOURNAL_REJECTED),
                     1);
    assert_null(coce_book_order_find((coce_book *)coce_engine_book(g.e),
                                     in[0].id));
    const coce_engine_sleeve_report *s = coce_engine_sleeve(g.e);
    assert_int_equal(s->refused, 1);
    assert_int_equal(coce_fake_deribit_find(g_fake, in[0].id, NULL), 0);
    rig_down(&g);
}

/* A drawdown halt with an option buy working: the cancel reaches the
 * venue, is journalled, and a query closes the order; nothing opens
 * after. */
static void test_halt_cancels_working_buys(void **state)
{
    (void)state;
    fake_up();
    g_dd_hard = 0.01;
    rig g;
    jintent in[JI_CAP];
    size_t n = open_and_trade(&g, DAY7 + 30 * 60000, in);
    assert_int_equal(n, 2); /* a call and a put */
    /* the first fills far above its limit: 3 % of the equity lost */
    double bad = 3000.0 / in[0].qty / g_px[7 * 24];
    assert_int_equal(coce_fake_deribit_fill(g_fake, in[0].id, in[0].qty, bad),
                     0);
    es_run_trades(&g, DAY7 + HOUR, DAY7 + DAY + 2 * HOUR);
    const coce_book *b = coce_engine_book(g.e);
    assert_true(coce_engine_get_stats(g.e)->halts >= 1);
    assert_int_equal(coce_fake_deribit_requests(g_fake, "private/cancel"), 1);
    assert_int_equal(
        journal_count(g.journal, in[1].id, COCE_JOURNAL_CANCEL_REQ), 1);
    assert_int_equal(journal_count(g.journal, in[1].id, COCE_JOURNAL_CANCELED),
                     1);
    assert_null(coce_book_order_find((coce_book *)b, in[1].id));
    coce_fake_db_order o;
    assert_int_equal(coce_fake_deribit_find(g_fake, in[1].id, &o), 1);
    assert_string_equal(o.state, "cancelled");
    /* the option bought stays (long convexity), nothing new opens */
    assert_non_null(option_position(g.e, in[0].sym));
    es_run_trades(&g, DAY7 + DAY + 3 * HOUR, DAY7 + 2 * DAY + 2 * HOUR);
    assert_int_equal(buys_sent(), 2);
    assert_true(coce_engine_sleeve(g.e)->skipped_halted >= 1);
    rig_down(&g);
}

/* Streamed samples (hourly, each known at its time) give the decisions of
 * the preloaded series; bad samples are refused. */
static void test_streamed_samples(void **state)
{
    (void)state;
    fake_up();
    g_stream = 1;
    rig g;
    rig_open(&g, NULL);
    g_stream = 0;
    coce_err err;
    assert_int_equal(coce_engine_sleeve_sample(g.e, "ETH", T0, 100, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_engine_sleeve_sample(g.e, COCE_ENGINE_BASE_SERIES,
                                               T0, 1, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_engine_sleeve_sample(g.e, "BTC", T0, -1, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_engine_sleeve_sample(NULL, "BTC", T0, 1, &err),
                     COCE_EINVAL);
    stream_hours(&g, 0);
    assert_int_equal(coce_engine_sleeve_sample(g.e, "BTC", g_t[3], g_px[3],
                                               &err),
                     COCE_EORDER);
    expect_backtest_buys(&g);
    rig_down(&g);
}

/* A streamed base currency (a BTC book's BTC/USD; here 1): nothing is
 * decided before its first sample, the same decisions after. */
static void test_streamed_base(void **state)
{
    (void)state;
    fake_up();
    g_stream = 1;
    rig g;
    rig_open(&g, NULL);
    coce_engine_free(g.e);
    /* the same rig with a streamed base */
    coce_engine_opts eo;
    es_engine_opts(&g, NULL, &eo);
    eo.client_tag = "b";
    g.so.base_streamed = 1;
    coce_err err;
    assert_int_equal(coce_engine_new(&g.e, &eo, &err), COCE_OK);
    stream_hours(&g, 1);
    expect_backtest_buys(&g);
    rig_down(&g);
}

/* The live spot venue without Deribit still refuses the sleeve. */
static void test_live_spot_needs_deribit(void **state)
{
    (void)state;
    es_rig g;
    coce_engine_opts eo;
    es_rig_no_feed(&g, &eo);
    (void)snprintf(g.so.u[0].name, sizeof g.so.u[0].name, "BTC");
    coce_err err;
    assert_int_equal(coce_engine_new(&g.e, &eo, &err), COCE_ECONFIG);
    assert_non_null(strstr(err.msg, "Deribit"));
    coce_paper_free(g.paper);
    coce_symbols_free(g.sym);
}

/* ---- the choice among listed options --------------------------------- */

#define DECISION (7 * 24) /* the first decision: the first sample of day 7 */

static double years_to(int64_t expiry)
{
    return (double)(expiry - g_t[DECISION]) / (365.0 * DAY);
}

/* |delta| at the venue's mark iv on the decision's spot. */
static double listed_delta(coce_opt_type type, double K, int64_t expiry)
{
    coce_b76_greeks g;
    assert_int_equal(coce_b76_greeks_calc(type, g_px[DECISION], K,
                                          years_to(expiry), MARK_IV / 100.0,
                                          1.0, &g),
                     COCE_OK);
    return fabs(g.delta);
}

/* The integer strike off the model's 100-wide grid whose |delta| is
 * closest to `target` (bisection on the monotone delta). */
static double strike_for(coce_opt_type type, double target, int64_t expiry)
{
    double F = g_px[DECISION];
    double lo = type == COCE_OPT_CALL ? F : F * 0.2;
    double hi = type == COCE_OPT_CALL ? F * 5.0 : F;
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        double d = listed_delta(type, mid, expiry);
        /* |delta| falls away from F on both sides */
        if ((d > target) == (type == COCE_OPT_CALL))
            lo = mid;
        else
            hi = mid;
    }
    double K = nearbyint(0.5 * (lo + hi));
    if (fmod(K, 100.0) == 0.0)
        K += 1.0;
    return K;
}

/* The model's ask at (type, K, expiry) at the decision: the step's ATM
 * vol (the step replayed on the same samples), the surface, Black-76,
 * coin, half spread, up to the model tick. */
static double model_ask(coce_opt_type type, double K, int64_t expiry)
{
    coce_sleeve_cfg c;
    es_sleeve_cfg(&c);
    coce_sleeve_state st;
    coce_sleeve_state_init(&st);
    coce_sleeve_event out[COCE_SLEEVE_STEP_MAX];
    size_t n = 0;
    for (size_t i = 1; i <= DECISION + 1; i++)
        assert_int_equal(coce_sleeve_step(&c, &st, g_t, g_px, i, 2e5, out,
                                          COCE_SLEEVE_STEP_MAX, &n, NULL),
                         COCE_OK);
    double F = g_px[DECISION];
    double sig = coce_sleeve_surface(&c, st.sigma_atm, F, K);
    coce_b76_greeks g;
    assert_int_equal(coce_b76_greeks_calc(type, F, K, years_to(expiry), sig,
                                          1.0, &g),
                     COCE_OK);
    double mid = g.price / F;
    return ceil(mid * (1.0 + c.half_spread) / c.tick_coin - 1e-9) *
           c.tick_coin;
}

static void lst_option(coce_opt_type type, double K, int64_t expiry,
                       double bid, double ask, double oi, listed *x)
{
    memset(x, 0, sizeof *x);
    assert_int_equal(coce_sleeve_option_name("BTC", type, K, expiry, x->name,
                                             sizeof x->name),
                     COCE_OK);
    x->tick = 0.0001;
    x->step_above = 0.005;
    x->step_tick = 0.0005;
    x->min_amount = 0.1;
    x->bid = bid;
    x->ask = ask;
    x->oi = oi;
}

/* Does the log file hold a line with both strings? */
static int log_has(const char *path, const char *a, const char *b)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof line, f) != NULL)
        found = strstr(line, a) != NULL && strstr(line, b) != NULL;
    (void)fclose(f);
    return found;
}

/* Listed strikes and expiries off the model's grid (Wednesday expiries,
 * strikes not multiples of 100): the call bought is the listed one whose
 * |delta| is nearest the band's middle among those that pass; a nearer
 * one with too little open interest and another with too wide a spread
 * are skipped; nothing in the band for puts: no put order, a log line
 * says why. The limit is on the tick grid, at most the model ask and the
 * venue's best ask. */
static void test_choice_among_listed(void **state)
{
    (void)state;
    fake_start();
    const int64_t wed1 = T0 + 15 * DAY + 8 * HOUR; /* Wed 16 Jan 2019 */
    const int64_t wed2 = T0 + 22 * DAY + 8 * HOUR; /* Wed 23 Jan 2019 */
    const int64_t far = T0 + 50 * DAY + 8 * HOUR;  /* beyond max_days */
    double k_oi = strike_for(COCE_OPT_CALL, 0.100, wed1);
    double k_wide = strike_for(COCE_OPT_CALL, 0.101, wed2);
    double k_pick = strike_for(COCE_OPT_CALL, 0.125, wed1);
    double k_far = strike_for(COCE_OPT_CALL, 0.100, far);
    double k_atm = nearbyint(g_px[DECISION]) + 1.0;
    double k_put = strike_for(COCE_OPT_PUT, 0.01, wed1);
    double m_pick = model_ask(COCE_OPT_CALL, k_pick, wed1);
    /* the venue's ask under the model's, one tick grid above 0.0001 */
    double tk = tick_at(m_pick * 0.8);
    double ask = floor(m_pick * 0.8 / tk) * tk;
    assert_true(ask >= 0.0003);
    listed x;
    lst_option(COCE_OPT_CALL, k_oi, wed1, ask - 0.0001, ask, 5.0, &x);
    lst_add(&x);
    lst_option(COCE_OPT_CALL, k_wide, wed2, 0.0001, ask, 500.0, &x);
    lst_add(&x);
    lst_option(COCE_OPT_CALL, k_pick, wed1, ask - 0.0001, ask, 50.0, &x);
    char pick[64];
    (void)snprintf(pick, sizeof pick, "%s", x.name);
    lst_add(&x);
    lst_option(COCE_OPT_CALL, k_far, far, ask - 0.0001, ask, 500.0, &x);
    lst_add(&x);
    lst_option(COCE_OPT_CALL, k_atm, wed1, 0.05, 0.051, 500.0, &x);
    lst_add(&x);
    lst_option(COCE_OPT_PUT, k_put, wed1, 0.0001, 0.0002, 500.0, &x);
    lst_add(&x);
    g_summary_iv = 1;
    char logp[700];
    rig g;
    rig_open(&g, NULL);
    (void)snprintf(logp, sizeof logp, "%s/log.jsonl", g.dir);
    assert_int_equal(coce_log_open(logp), 0);
    es_run_trades(&g, T0 + 60000, T0 + 7 * DAY + 30 * 60000);
    coce_log_close();
    jintent in[JI_CAP];
    size_t n = journal_intents(g.journal, in, JI_CAP);
    assert_int_equal(n, 1); /* the call; no put */
    assert_string_equal(in[0].sym, pick);
    assert_int_equal(in[0].side, 1);
    double d = listed_delta(COCE_OPT_CALL, k_pick, wed1);
    assert_true(d >= 0.05 && d <= 0.15);
    coce_fake_db_order o;
    assert_int_equal(coce_fake_deribit_find(g_fake, in[0].id, &o), 1);
    assert_string_equal(o.instrument, pick);
    assert_close(o.price, in[0].price, 0, 1e-12);
    double q = o.price / tick_at(o.price);
    assert_close(q, nearbyint(q), 0, 1e-6);
    assert_true(o.price <= m_pick + 1e-12);
    assert_true(o.price <= ask + 1e-12);
    assert_close(o.price, ask, 0, 1e-12); /* min(model, venue) on the grid */
    assert_true(o.amount >= 0.1);
    assert_close(o.amount / 0.1, nearbyint(o.amount / 0.1), 0, 1e-9);
    /* within the budget share of the period (a call: half of 1 % of 2e5) */
    assert_true(o.amount * o.price * g_px[DECISION] <= 0.5 * 0.01 * 2e5);
    const coce_engine_sleeve_report *s = coce_engine_sleeve(g.e);
    assert_int_equal(s->no_listed, 1);
    assert_true(log_has(logp, "sleeve_choice", pick));
    assert_true(log_has(logp, "sleeve_choice", "\"open_interest\":50"));
    assert_true(log_has(logp, "sleeve_no_choice", "\"put\""));
    assert_true(log_has(logp, "sleeve_no_choice", "\"delta\":1"));
    /* the state holds the listed contract once filled */
    const coce_position *p = fill_lands(&g, &in[0], o.amount, o.price,
                                        T0 + 7 * DAY + HOUR,
                                        T0 + 7 * DAY + 3 * HOUR);
    assert_string_equal(p->symbol, pick);
    assert_close(p->qty, o.amount, 0, 1e-9);
    rig_down(&g);
}

/* A book summary without open interest or a bid (one-sided), or no
 * summary at all: those rules are not applied and the model ask is the
 * limit; a venue that cannot be read (an error, a summary that is not a
 * list) or an option whose lot exceeds the budget refuses the buy
 * (counted). */
static void test_choice_missing_data(void **state)
{
    (void)state;
    for (int k = 0; k < 6; k++) {
        fake_start();
        const int64_t wed1 = T0 + 15 * DAY + 8 * HOUR;
        /* strikes by delta at 80 %: the model's vol puts one in the band */
        static const double target[] = {0.01, 0.02, 0.03, 0.05, 0.08, 0.12};
        listed x;
        for (size_t i = 0; i < 6; i++) {
            double kc = strike_for(COCE_OPT_CALL, target[i], wed1);
            lst_option(COCE_OPT_CALL, kc, wed1, 0, 0.5, NAN, &x);
            x.no_summary = k == 1;
            if (k == 5) /* not one lot within the budget */
                x.min_amount = 1000.0;
            lst_add(&x);
        }
        g_list_fail = k >= 2 && k <= 4 ? k - 1 : 0;
        rig g;
        jintent in[JI_CAP];
        size_t n = open_and_trade(&g, T0 + 7 * DAY + 30 * 60000, in);
        const coce_engine_sleeve_report *s = coce_engine_sleeve(g.e);
        if (k < 2) {
            assert_int_equal(n, 1);
            coce_instrument ci;
            assert_int_equal(coce_instrument_parse_name(in[0].sym, &ci, NULL),
                             COCE_OK);
            assert_int_equal(ci.expiry_ms, wed1);
            double m = model_ask(COCE_OPT_CALL, ci.strike, wed1);
            double tick = tick_at(in[0].price);
            assert_true(in[0].price <= m + 1e-12);
            assert_true(m - in[0].price < tick);
            assert_int_equal(s->no_listed, 1); /* the put */
        } else {
            assert_int_equal(n, 0);
            assert_int_equal(s->no_listed, 2);
            assert_int_equal(s->refused, 2);
        }
        rig_down(&g);
    }
}

static int each_setup(void **state)
{
    (void)state;
    g_stream = 0;
    g_inactive = 0;
    g_dd_hard = 0;
    g_summary_iv = 0;
    g_list_fail = 0;
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    coce_log_set_stderr_level(COCE_LOG_OFF);
    make_series();
    backtest_events();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_orders_reach_deribit, each_setup),
        cmocka_unit_test_setup(test_unknown_settled_by_label, each_setup),
        cmocka_unit_test_setup(test_restart_no_resend, each_setup),
        cmocka_unit_test_setup(test_halt_blocks_opens, each_setup),
        cmocka_unit_test_setup(test_unlisted_refused, each_setup),
        cmocka_unit_test_setup(test_streamed_samples, each_setup),
        cmocka_unit_test_setup(test_streamed_base, each_setup),
        cmocka_unit_test_setup(test_venue_refusal, each_setup),
        cmocka_unit_test_setup(test_halt_cancels_working_buys, each_setup),
        cmocka_unit_test_setup(test_live_spot_needs_deribit, each_setup),
        cmocka_unit_test_setup(test_choice_among_listed, each_setup),
        cmocka_unit_test_setup(test_choice_missing_data, each_setup),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
