/* The write-ahead journal: durability across close/reopen, pending orders
 * with their last state, idempotent replay, corrupt files refused. */
#include "state/journal.h"
#include "state/state_file.h"
#include "testutil.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fixture {
    char dir[256];
    char path[512];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (fx == NULL || coce_test_tmpdir(fx->dir, sizeof fx->dir) == NULL)
        return -1;
    (void)snprintf(fx->path, sizeof fx->path, "%s/journal.db", fx->dir);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    coce_test_rmtree(fx->dir);
    free(fx);
    return 0;
}

static coce_order_intent mkintent(const char *cid, coce_asset_id asset,
                                  int side, double qty, double limit, int64_t t)
{
    coce_order_intent in;
    memset(&in, 0, sizeof in);
    (void)snprintf(in.client_id, sizeof in.client_id, "%s", cid);
    in.asset = asset;
    in.side = (int8_t)side;
    in.type = limit > 0 ? COCE_ORDER_LIMIT : COCE_ORDER_MARKET;
    in.qty = qty;
    in.limit_price = limit;
    in.reason = COCE_REASON_ENTRY;
    in.time_ms = t;
    return in;
}

static coce_journal_event mkevent(coce_journal_kind kind, const char *cid,
                                  int64_t t)
{
    coce_journal_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.time_ms = t;
    (void)snprintf(ev.client_id, sizeof ev.client_id, "%s", cid);
    return ev;
}

static coce_fill mkfill(const char *cid, coce_asset_id asset, int side,
                        double qty, double price, double fee, int64_t t)
{
    coce_fill f;
    memset(&f, 0, sizeof f);
    (void)snprintf(f.client_id, sizeof f.client_id, "%s", cid);
    f.asset = asset;
    f.side = (int8_t)side;
    f.qty = qty;
    f.price = price;
    f.fee = fee;
    f.time_ms = t;
    return f;
}

static void test_intents_survive_reopen(void **state)
{
    fixture *fx = *state;
    coce_journal *j = NULL;
    coce_err err;
    assert_int_equal(coce_journal_open(fx->path, &j, &err), COCE_OK);
    /* durability can be switched off (back-tests) and on again */
    assert_int_equal(coce_journal_set_durable(j, 0, &err), COCE_OK);
    assert_int_equal(coce_journal_set_durable(j, 1, &err), COCE_OK);
    assert_int_equal(coce_journal_set_durable(NULL, 1, &err), COCE_EINVAL);
    int64_t seq = 0, last = -1;
    assert_int_equal(coce_journal_last_seq(j, &last, &err), COCE_OK);
    assert_int_equal(last, 0);
    coce_order_intent in = mkintent("c-1", 3, COCE_SIDE_BUY, 1.5, 0.25, 111);
    in.reason = COCE_REASON_REBALANCE;
    assert_int_equal(coce_journal_append_intent(j, &in, "AUSDT", &seq, &err),
                     COCE_OK);
    assert_int_equal(seq, 1);
    in = mkintent("c-2", 4, COCE_SIDE_SELL, 2, 0, 112);
    assert_int_equal(coce_journal_append_intent(j, &in, "BUSDT", NULL, &err),
                     COCE_OK);
    /* Same client id twice: refused. */
    assert_int_equal(coce_journal_append_intent(j, &in, "BUSDT", NULL, &err),
                     COCE_EEXIST);
    assert_non_null(strstr(err.msg, "c-2"));
    coce_journal_close(j);

    assert_int_equal(coce_journal_open(fx->path, &j, &err), COCE_OK);
    assert_int_equal(coce_journal_last_seq(j, &last, &err), COCE_OK);
    assert_int_equal(last, 2);
    coce_journal_event ev;
    assert_int_equal(coce_journal_get(j, 1, &ev, &err), COCE_OK);
    assert_int_equal(ev.kind, COCE_JOURNAL_INTENT);
    assert_string_equal(ev.client_id, "c-1");
    assert_string_equal(ev.asset, "AUSDT");
    assert_int_equal(ev.asset_id, 3);
    assert_int_equal(ev.side, COCE_SIDE_BUY);
    assert_int_equal(ev.type, COCE_ORDER_LIMIT);
    assert_int_equal(ev.reason, COCE_REASON_REBALANCE);
    assert_true(ev.qty == 1.5 && ev.price == 0.25);
    assert_int_equal(ev.time_ms, 111);
    assert_string_equal(ev.note, "rebalance");
    assert_int_equal(coce_journal_get(j, 99, &ev, &err), COCE_ENOTFOUND);
    coce_journal_pending_entry *p = NULL;
    size_t n = 0;
    assert_int_equal(coce_journal_pending(j, &p, &n, &err), COCE_OK);
    assert_int_equal(n, 2);
    assert_string_equal(p[0].intent.client_id, "c-1");
    assert_int_equal(p[0].state, COCE_JSTATE_INTENT);
    assert_string_equal(p[1].asset, "BUSDT");
    assert_int_equal(p[1].intent.side, COCE_SIDE_SELL);
    assert_int_equal(p[1].intent.type, COCE_ORDER_MARKET);
    free(p);

    /* The file is an append-only SQLite WAL database. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    assert_int_not_equal(
        sqlite3_exec(db, "DELETE FROM events", NULL, NULL, NULL), SQLITE_OK);
    assert_int_not_equal(
        sqlite3_exec(db, "UPDATE events SET qty = 0", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(db);
    coce_journal_close(j);
}

static void test_bad_appends(void **state)
{
    fixture *fx = *state;
    coce_journal *j = NULL;
    coce_err err;
    assert_int_equal(coce_journal_open(fx->path, &j, &err), COCE_OK);
    coce_order_intent in = mkintent("x", 1, COCE_SIDE_BUY, 0, 0, 1);
    assert_int_equal(coce_journal_append_intent(j, &in, "A", NULL, &err),
                     COCE_EINVAL);
    in = mkintent("", 1, COCE_SIDE_BUY, 1, 0, 1);
    assert_int_equal(coce_journal_append_intent(j, &in, "A", NULL, &err),
                     COCE_EINVAL);
    in = mkintent("x", 1, COCE_SIDE_BUY, 1, -1, 1);
    assert_int_equal(coce_journal_append_intent(j, &in, "A", NULL, &err),
                     COCE_EINVAL);
    in = mkintent("x", 1, COCE_SIDE_BUY, 1, 0, 1);
    assert_int_equal(coce_journal_append_intent(j, &in, "", NULL, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_journal_append_intent(j, &in, NULL, NULL, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_journal_append_intent(j, &in, "A", NULL, &err),
                     COCE_OK);

    coce_journal_event ev = mkevent(COCE_JOURNAL_SENT, "nobody", 2);
    assert_int_equal(coce_journal_append(j, &ev, NULL, &err), COCE_ENOTFOUND);
    assert_non_null(strstr(err.msg, "nobody"));
    ev = mkevent(COCE_JOURNAL_INTENT, "x", 2);
    assert_int_equal(coce_journal_append(j, &ev, NULL, &err), COCE_EINVAL);
    ev = mkevent((coce_journal_kind)77, "x", 2);
    assert_int_equal(coce_journal_append(j, &ev, NULL, &err), COCE_EINVAL);
    ev = mkevent(COCE_JOURNAL_FILL, "x", 2);
    ev.qty = 1;
    ev.price = 0;
    assert_int_equal(coce_journal_append(j, &ev, NULL, &err), COCE_EINVAL);
    ev = mkevent(COCE_JOURNAL_ACK, "x", 2);
    ev.fee = NAN;
    assert_int_equal(coce_journal_append(j, &ev, NULL, &err), COCE_EINVAL);
    assert_int_equal(coce_journal_append(NULL, &ev, NULL, &err), COCE_EINVAL);

    /* record_fill: a fill the book rejects is not journalled. */
    coce_book *b = NULL;
    assert_int_equal(coce_book_new(100, &b), COCE_OK);
    coce_fill f = mkfill("x", 1, COCE_SIDE_SELL, 1, 10, 0, 3);
    int64_t before = 0, after = 0;
    assert_int_equal(coce_journal_last_seq(j, &before, &err), COCE_OK);
    assert_int_equal(coce_journal_record_fill(j, b, &f, "A", &err),
                     COCE_EINVAL);
    f = mkfill("unknown-id", 1, COCE_SIDE_BUY, 1, 10, 0, 3);
    assert_int_equal(coce_journal_record_fill(j, b, &f, "A", &err),
                     COCE_ENOTFOUND);
    assert_int_equal(coce_journal_last_seq(j, &after, &err), COCE_OK);
    assert_int_equal(before, after);
    assert_int_equal(b->trade_count, 0);
    assert_int_equal(coce_journal_record_fill(NULL, b, &f, "A", &err),
                     COCE_EINVAL);
    coce_book_free(b);

    assert_int_equal(coce_journal_get(NULL, 1, &ev, &err), COCE_EINVAL);
    assert_int_equal(coce_journal_last_seq(NULL, &after, &err), COCE_EINVAL);
    assert_int_equal(coce_journal_pending(NULL, NULL, NULL, &err), COCE_EINVAL);
    assert_int_equal(coce_journal_replay(NULL, NULL, 0, NULL, &err),
                     COCE_EINVAL);
    char id[COCE_CLIENT_ID_MAX];
    assert_int_equal(coce_journal_next_client_id(NULL, "r", id, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_journal_open(NULL, &j, &err), COCE_EINVAL);
    coce_journal_close(j);
    coce_journal_close(NULL);
}

static void test_pending_states(void **state)
{
    fixture *fx = *state;
    coce_journal *j = NULL;
    coce_err err;
    assert_int_equal(coce_journal_open(fx->path, &j, &err), COCE_OK);
    /* One order per lifecycle; names say where each one stops. */
    static const char *const ids[] = {"z-intent",
                                      "y-sent",
                                      "x-ack",
                                      "w-partial",
                                      "v-filled",
                                      "u-canceled",
                                      "t-rejected",
                                      "s-done",
                                      "r-cancelreq",
                                      "q-unknown",
                                      "p-filled-after-unknown"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; ++i) {
        coce_order_intent in = mkintent(ids[i], (coce_asset_id)i, COCE_SIDE_BUY,
                                        10, 1, 100 + (int64_t)i);
        assert_int_equal(coce_journal_append_intent(j, &in, "SYM", NULL, &err),
                         COCE_OK);
    }
    struct {
        const char *id;
        coce_journal_kind kind;
        double qty;
    } steps[] = {
        {"y-sent", COCE_JOURNAL_SENT, 0},
        {"x-ack", COCE_JOURNAL_SENT, 0},
        {"x-ack", COCE_JOURNAL_ACK, 0},
        {"w-partial", COCE_JOURNAL_SENT, 0},
        {"w-partial", COCE_JOURNAL_ACK, 0},
        {"w-partial", COCE_JOURNAL_FILL, 4},
        {"v-filled", COCE_JOURNAL_SENT, 0},
        {"v-filled", COCE_JOURNAL_FILL, 4},
        {"v-filled", COCE_JOURNAL_FILL, 6},
        {"u-canceled", COCE_JOURNAL_SENT, 0},
        {"u-canceled", COCE_JOURNAL_CANCEL_REQ, 0},
        {"u-canceled", COCE_JOURNAL_CANCELED, 0},
        {"t-rejected", COCE_JOURNAL_SENT, 0},
        {"t-rejected", COCE_JOURNAL_REJECTED, 0},
        {"s-done", COCE_JOURNAL_DONE, 0},
        {"r-cancelreq", COCE_JOURNAL_SENT, 0},
        {"r-cancelreq", COCE_JOURNAL_CANCEL_REQ, 0},
        {"q-unknown", COCE_JOURNAL_SENT, 0},
        {"q-unknown", COCE_JOURNAL_UNKNOWN, 0},
        {"p-filled-after-unknown", COCE_JOURNAL_UNKNOWN, 0},
        {"p-filled-after-unknown", COCE_JOURNAL_FILL, 10},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; ++i) {
        coce_journal_event ev =
            mkevent(steps[i].kind, steps[i].id, 200 + (int64_t)i);
        if (steps[i].kind == COCE_JOURNAL_FILL) {
            ev.qty = steps[i].qty;
            ev.price = 1;
        }
        if (steps[i].kind == COCE_JOURNAL_ACK)
            (void)snprintf(ev.exchange_order_id, sizeof ev.exchange_order_id,
                           "EX-%zu", i);
        assert_int_equal(coce_journal_append(j, &ev, NULL, &err), COCE_OK);
    }
    coce_journal_close(j);
    assert_int_equal(coce_journal_open(fx->path, &j, &err), COCE_OK);
    coce_journal_pending_entry *p = NULL;
    size_t n = 0;
    assert_int_equal(coce_journal_pending(j, &p, &n, &err), COCE_OK);
    /* Exactly the non-terminal ones, in intent order. */
    struct {
        const char *id;
        coce_journal_state state;
        double filled;
        const char *text;
    } want[] = {
        {"z-intent", COCE_JSTATE_INTENT, 0,
         "intent only: never confirmed sent"},
        {"y-sent", COCE_JSTATE_SENT, 0, "sent: outcome unknown"},
        {"x-ack", COCE_JSTATE_ACKED, 0, "acknowledged"},
        {"w-partial", COCE_JSTATE_PARTIAL, 4, "partly filled"},
        {"r-cancelreq", COCE_JSTATE_CANCEL_PENDING, 0, "cancel requested"},
        {"q-unknown", COCE_JSTATE_UNKNOWN, 0, "outcome unknown"},
    };
    assert_int_equal(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n; ++i) {
        assert_string_equal(p[i].intent.client_id, want[i].id);
        assert_int_equal(p[i].state, want[i].state);
        assert_true(p[i].filled == want[i].filled);
        assert_non_null(
            strstr(coce_journal_state_text(p[i].state), want[i].text));
        assert_true(p[i].intent.qty == 10);
        assert_string_equal(p[i].asset, "SYM");
    }
    assert_string_equal(p[2].exchange_order_id, "EX-2");
    assert_string_equal(p[3].exchange_order_id, "EX-4");
    assert_true(p[3].last_seq > p[3].intent_seq);
    assert_int_equal(p[0].last_time_ms, 100);
    free(p);
    coce_journal_close(j);

    /* Names. */
    coce_journal_kind k;
    for (int i = 0; i <= COCE_JOURNAL_DONE; ++i) {
        assert_int_equal(coce_journal_kind_parse(
                             coce_journal_kind_name((coce_journal_kind)i), &k),
                         COCE_OK);
        assert_int_equal(k, i);
    }
    assert_null(coce_journal_kind_name((coce_journal_kind)9));
    assert_int_equal(coce_journal_kind_parse("nope", &k), COCE_EINVAL);
    assert_int_equal(coce_journal_kind_parse(NULL, &k), COCE_EINVAL);
    assert_string_equal(coce_journal_state_text((coce_journal_state)99),
                        "invalid state");
}

/* Live loop: intents and fills journalled, a snapshot taken half-way; the
 * restart loads the snapshot and replays the rest. */
static void test_replay_idempotent(void **state)
{
    fixture *fx = *state;
    char snap[600], full[600], again[600];
    (void)snprintf(snap, sizeof snap, "%s/state.json", fx->dir);
    (void)snprintf(full, sizeof full, "%s/full.json", fx->dir);
    (void)snprintf(again, sizeof again, "%s/again.json", fx->dir);
    coce_journal *j = NULL;
    coce_err err;
    assert_int_equal(coce_journal_open(fx->path, &j, &err), COCE_OK);
    coce_book *live = NULL;
    assert_int_equal(coce_book_new(1000, &live), COCE_OK);

    struct {
        const char *id;
        coce_asset_id asset;
        const char *sym;
        int side;
        double qty, price, fee;
    } fills[] = {
        {"b1", 1, "AUSDT", COCE_SIDE_BUY, 3, 10, 0.03},
        {"b1", 1, "AUSDT", COCE_SIDE_BUY, 2, 11, 0.02},
        {"b2", 2, "BUSDT", COCE_SIDE_BUY, 100, 0.5, 0.05},
        {"s1", 1, "AUSDT", COCE_SIDE_SELL, 4, 12, 0.048},
        {"s2", 2, "BUSDT", COCE_SIDE_SELL, 100, 0.55, 0.055},
        {"s3", 1, "AUSDT", COCE_SIDE_SELL, 1, 9, 0.009},
    };
    const size_t nf = sizeof fills / sizeof fills[0];
    for (size_t i = 0; i < nf; ++i) {
        if (i == 0 || strcmp(fills[i].id, fills[i - 1].id) != 0) {
            coce_order_intent in =
                mkintent(fills[i].id, fills[i].asset, fills[i].side, 100, 0,
                         10 * (int64_t)i);
            in.qty =
                fills[i].id[0] == 'b' && fills[i].asset == 1 ? 5 : fills[i].qty;
            assert_int_equal(
                coce_journal_append_intent(j, &in, fills[i].sym, NULL, &err),
                COCE_OK);
            coce_journal_event ev = mkevent(COCE_JOURNAL_SENT, fills[i].id, 1);
            assert_int_equal(coce_journal_append(j, &ev, NULL, &err), COCE_OK);
        }
        coce_fill f =
            mkfill(fills[i].id, fills[i].asset, fills[i].side, fills[i].qty,
                   fills[i].price, fills[i].fee, 10 * (int64_t)i + 5);
        assert_int_equal(
            coce_journal_record_fill(j, live, &f, fills[i].sym, &err), COCE_OK);
        if (i == 2)
            assert_int_equal(coce_state_save(live, snap, &err), COCE_OK);
    }
    int64_t last = 0;
    assert_int_equal(coce_journal_last_seq(j, &last, &err), COCE_OK);
    assert_int_equal(live->journal_seq, last);
    assert_int_equal(live->n_trades, 2);
    assert_int_equal(coce_state_save(live, full, &err), COCE_OK);
    coce_journal_close(j);

    /* Restart: snapshot + replay == live book, byte for byte. */
    assert_int_equal(coce_journal_open(fx->path, &j, &err), COCE_OK);
    coce_book *b = NULL;
    assert_int_equal(coce_state_load(snap, &b, &err), COCE_OK);
    assert_int_equal(b->trade_count, 3);
    size_t applied = 0;
    assert_int_equal(coce_journal_replay(j, b, 0, &applied, &err), COCE_OK);
    assert_int_equal(applied, 3);
    assert_int_equal(coce_journal_replay(j, b, 0, &applied, &err), COCE_OK);
    assert_int_equal(applied, 0); /* twice == once */
    assert_int_equal(b->trade_count, 6);
    assert_int_equal(coce_state_save(b, again, &err), COCE_OK);
    size_t n1 = 0, n2 = 0;
    char *t1 = coce_test_read_file(full, &n1),
         *t2 = coce_test_read_file(again, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(t1, t2, n1);
    free(t1);
    free(t2);
    coce_book_free(b);

    /* An empty book replaying from after_seq = everything. */
    assert_int_equal(coce_book_new(1000, &b), COCE_OK);
    assert_int_equal(coce_journal_replay(j, b, 0, &applied, &err), COCE_OK);
    assert_int_equal(applied, nf);
    assert_true(b->cash == live->cash);
    assert_true(b->realised_pnl == live->realised_pnl);
    coce_book_free(b);
    /* after_seq beyond the last fill: nothing. */
    assert_int_equal(coce_book_new(1000, &b), COCE_OK);
    assert_int_equal(coce_journal_replay(j, b, last, &applied, &err), COCE_OK);
    assert_int_equal(applied, 0);
    /* A later run interned the symbols differently: the symbol wins. */
    coce_book_free(b);
    assert_int_equal(coce_book_new(1000, &b), COCE_OK);
    assert_int_equal(coce_book_set_symbol(b, 77, "AUSDT", &err), COCE_OK);
    assert_int_equal(coce_journal_replay(j, b, 0, &applied, &err), COCE_OK);
    assert_int_equal(b->trades[1].asset, 77);
    coce_book_free(b);

    /* A journalled fill that the book cannot take stops the replay. */
    coce_journal_event ev = mkevent(COCE_JOURNAL_FILL, "s3", 999);
    ev.qty = 50;
    ev.price = 9;
    int64_t bad_seq = 0;
    assert_int_equal(coce_journal_append(j, &ev, &bad_seq, &err), COCE_OK);
    assert_int_equal(coce_book_new(1000, &b), COCE_OK);
    assert_int_equal(coce_journal_replay(j, b, 0, &applied, &err), COCE_EINVAL);
    char want[64];
    (void)snprintf(want, sizeof want, "replay of seq %lld", (long long)bad_seq);
    assert_non_null(strstr(err.msg, want));
    assert_int_equal(applied, nf);
    assert_true(b->journal_seq < bad_seq);
    coce_book_free(b);
    coce_book_free(live);
    coce_journal_close(j);
}

static void test_client_ids_unique_across_restarts(void **state)
{
    fixture *fx = *state;
    coce_journal *j = NULL;
    coce_err err;
    char a[COCE_CLIENT_ID_MAX], b[COCE_CLIENT_ID_MAX], c[COCE_CLIENT_ID_MAX];
    assert_int_equal(coce_journal_open(fx->path, &j, &err), COCE_OK);
    assert_int_equal(coce_journal_next_client_id(j, "run1", a, &err), COCE_OK);
    assert_string_equal(a, "coce-run1-1");
    assert_int_equal(coce_journal_next_client_id(j, "run1", b, &err), COCE_OK);
    assert_string_equal(b, "coce-run1-2");
    coce_journal_close(j);
    assert_int_equal(coce_journal_open(fx->path, &j, &err), COCE_OK);
    /* Same run tag after a restart: still a fresh number. */
    assert_int_equal(coce_journal_next_client_id(j, "run1", c, &err), COCE_OK);
    assert_string_equal(c, "coce-run1-3");
    /* Bad characters replaced, long tags shortened to 36 characters. */
    assert_int_equal(
        coce_journal_next_client_id(
            j, "2024-01-01T00:00:00Z/a very long run name indeed", c, &err),
        COCE_OK);
    assert_true(strlen(c) <= 36);
    assert_true(strncmp(c, "coce-2024_01_01T00_00_00Z_a_", 28) == 0);
    assert_string_equal(c + strlen(c) - 2, "-4");
    assert_int_equal(coce_journal_next_client_id(j, NULL, c, &err), COCE_OK);
    assert_string_equal(c, "coce--5");
    coce_journal_close(j);
}

static void expect_refused(const char *path, const char *needle)
{
    size_t len0 = 0, len1 = 0;
    char *before = coce_test_read_file(path, &len0);
    coce_journal *j = NULL;
    coce_err err;
    coce_err_clear(&err);
    int rc = coce_journal_open(path, &j, &err);
    if (rc != COCE_ESTATE || strstr(err.msg, needle) == NULL ||
        strstr(err.msg, path) == NULL)
        fail_msg("rc %d, message '%s', wanted '%s'", rc, err.msg, needle);
    assert_null(j);
    char *after = coce_test_read_file(path, &len1);
    assert_int_equal(len0, len1);
    assert_memory_equal(before, after, len0);
    free(before);
    free(after);
}

static void test_corrupt_and_foreign_files(void **state)
{
    fixture *fx = *state;
    char path[600];
    coce_err err;
    coce_journal *j = NULL;
    /* Garbage. */
    (void)snprintf(path, sizeof path, "%s/garbage.db", fx->dir);
    char junk[8192];
    for (size_t i = 0; i < sizeof junk; ++i)
        junk[i] = (char)('a' + i % 26);
    junk[sizeof junk - 1] = '\0';
    assert_int_equal(coce_test_write_file(path, junk), 0);
    expect_refused(path, "corrupt, truncated or not SQLite");

    /* A foreign SQLite database. */
    (void)snprintf(path, sizeof path, "%s/foreign.db", fx->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    expect_refused(path, "application_id");

    /* A newer journal version. */
    (void)snprintf(path, sizeof path, "%s/v2.db", fx->dir);
    assert_int_equal(coce_journal_open(path, &j, &err), COCE_OK);
    coce_journal_close(j);
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "PRAGMA user_version = 2", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    expect_refused(path, "version 2 is not supported");

    /* A truncated journal (power cut while copying, say). */
    (void)snprintf(path, sizeof path, "%s/cut.db", fx->dir);
    assert_int_equal(coce_journal_open(path, &j, &err), COCE_OK);
    for (int i = 0; i < 300; ++i) {
        char cid[32];
        (void)snprintf(cid, sizeof cid, "id-%d-with-some-padding-xxxx", i);
        coce_order_intent in = mkintent(cid, 1, COCE_SIDE_BUY, 1, 0, i);
        assert_int_equal(
            coce_journal_append_intent(j, &in, "AUSDT", NULL, &err), COCE_OK);
    }
    coce_journal_close(j);
    size_t len = 0;
    char *whole = coce_test_read_file(path, &len);
    assert_true(len > 3 * 4096);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(whole, 1, len / 2 + 100, fp), len / 2 + 100);
    fclose(fp);
    free(whole);
    expect_refused(path, "malformed");

    /* Damage in the middle of the data, found by quick_check. */
    (void)snprintf(path, sizeof path, "%s/cut.db", fx->dir);
    unlink(path);
    assert_int_equal(coce_journal_open(path, &j, &err), COCE_OK);
    for (int i = 0; i < 300; ++i) {
        char cid[32];
        (void)snprintf(cid, sizeof cid, "id-%d-with-some-padding-xxxx", i);
        coce_order_intent in = mkintent(cid, 1, COCE_SIDE_BUY, 1, 0, i);
        assert_int_equal(
            coce_journal_append_intent(j, &in, "AUSDT", NULL, &err), COCE_OK);
    }
    coce_journal_close(j);
    whole = coce_test_read_file(path, &len);
    assert_true(len > 13 * 4096);
    memset(whole + 12 * 4096, 'A', 300);
    fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(whole, 1, len, fp), len);
    fclose(fp);
    free(whole);
    expect_refused(path, "journal is corrupt");

    /* A directory that does not exist: I/O error, not a state error. */
    assert_int_equal(
        coce_journal_open("/nonexistent/coce/journal.db", &j, &err), COCE_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/coce/journal.db"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_intents_survive_reopen, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_idempotent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_client_ids_unique_across_restarts,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_and_foreign_files, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
