/* The fake Binance venue of the live-runner tests and the agreement check
 * between the venue and COCE's journal and state (header-only). */
#ifndef COCE_TESTS_LIVE_VENUE_CHECK_H
#define COCE_TESTS_LIVE_VENUE_CHECK_H

#include "../execution/fake_binance.c"
#include "live_fixture.h"

#include "state/book.h"
#include "state/journal.h"
#include "state/state_file.h"

#define LV_KEY "live-test-key-0123456789"
#define LV_SECRET "live-test-secret-9876543210"
#define LV_MAX_ORDERS 20000

static inline coce_fake_binance *lv_venue(void)
{
    coce_fake_binance *f = NULL;
    if (coce_fake_binance_start(LV_KEY, LV_SECRET, &f) != 0)
        return NULL;
    /* The fake counts request weight over its whole life (Binance resets it
     * every minute): a long test would trip the adapter's used-weight pause,
     * which these tests are not about. A constant, low weight. */
    coce_fake_binance_set_weight(f, 1);
    for (int i = 0; i < LF_PAIRS; ++i) {
        char sym[16];
        snprintf(sym, sizeof sym, "%sBTC", lf_bases[i]);
        coce_fake_bn_symbol s;
        memset(&s, 0, sizeof s);
        s.symbol = sym;
        s.base = lf_bases[i];
        s.quote = "BTC";
        s.min_price = "0.00000001";
        s.max_price = "1000.00000000";
        s.tick = "0.00000001";
        s.min_qty = "0.01000000";
        s.max_qty = "900000000.00000000";
        s.step = "0.01000000";
        s.price = 0.001;
        if (coce_fake_binance_add_symbol(f, &s) != 0)
            return NULL;
    }
    coce_fake_binance_set_balance(f, "BTC", 100.0, 0.0);
    return f;
}

typedef struct lv_report {
    size_t intents;       /* orders journalled */
    size_t at_venue;      /* of which the venue has */
    size_t venue_orders;  /* orders the venue holds */
    size_t unfinished;    /* journal: not terminal */
    size_t fill_mismatch; /* journalled fills != venue executed (final) */
    size_t fill_excess;   /* journalled fills > venue executed (never ok) */
    size_t done_at_venue; /* abandoned in the journal yet at the venue */
    size_t fills;         /* fill rows journalled */
} lv_report;

/* Reads the whole journal and compares it with the venue, order by order
 * (the venue refuses a reused client id, so an id is there at most once). */
static inline int lv_check(coce_fake_binance *f, const char *journal_path,
                           lv_report *out, char *why, size_t why_len)
{
    memset(out, 0, sizeof *out);
    why[0] = '\0';
    coce_journal *j = NULL;
    coce_err err;
    if (coce_journal_open(journal_path, &j, &err) != COCE_OK) {
        snprintf(why, why_len, "%s", err.msg);
        return -1;
    }
    int64_t last = 0;
    (void)coce_journal_last_seq(j, &last, &err);
    typedef struct {
        char id[COCE_CLIENT_ID_MAX];
        double filled;
        int done;
    } row;
    row *rows = calloc(LV_MAX_ORDERS, sizeof *rows);
    size_t n = 0;
    for (int64_t s = 1; s <= last; ++s) {
        coce_journal_event ev;
        if (coce_journal_get(j, s, &ev, &err) != COCE_OK)
            continue;
        if (ev.kind == COCE_JOURNAL_INTENT && n < LV_MAX_ORDERS) {
            memcpy(rows[n].id, ev.client_id, sizeof rows[n].id);
            ++n;
            continue;
        }
        for (size_t i = n; i-- > 0;)
            if (strcmp(rows[i].id, ev.client_id) == 0) {
                if (ev.kind == COCE_JOURNAL_FILL) {
                    rows[i].filled += ev.qty;
                    ++out->fills;
                }
                if (ev.kind == COCE_JOURNAL_DONE)
                    rows[i].done = 1;
                break;
            }
    }
    coce_journal_pending_entry *p = NULL;
    size_t np = 0;
    (void)coce_journal_pending(j, &p, &np, &err);
    free(p);
    coce_journal_close(j);
    out->unfinished = np;
    out->intents = n;
    out->venue_orders = coce_fake_binance_order_count(f);
    for (size_t i = 0; i < n; ++i) {
        coce_fake_bn_order o;
        if (coce_fake_binance_find(f, rows[i].id, &o) != 1)
            continue;
        ++out->at_venue;
        if (rows[i].done)
            ++out->done_at_venue;
        if (rows[i].filled > o.executed * (1 + 1e-9) + 1e-12) {
            ++out->fill_excess;
            snprintf(why, why_len, "%s: journal filled %.17g, venue %.17g",
                     rows[i].id, rows[i].filled, o.executed);
        }
        if (fabs(rows[i].filled - o.executed) > 1e-9 * o.executed + 1e-12)
            ++out->fill_mismatch;
    }
    free(rows);
    return 0;
}

/* The book in state.json holds exactly the journalled fills: per asset,
 * position = sum of buys - sells at the venue. */
static inline int lv_book_matches(coce_fake_binance *f, const char *state_path,
                                  const char *journal_path, char *why,
                                  size_t why_len)
{
    coce_book *b = NULL;
    coce_err err;
    if (coce_state_load(state_path, &b, &err) != COCE_OK) {
        snprintf(why, why_len, "%s", err.msg);
        return -1;
    }
    coce_journal *j = NULL;
    int rc = coce_journal_open(journal_path, &j, &err);
    if (rc == COCE_OK)
        rc = coce_journal_replay(j, b, 0, NULL, &err);
    int64_t last = 0;
    (void)coce_journal_last_seq(j, &last, &err);
    double net[LF_PAIRS] = {0};
    for (int64_t s = 1; rc == COCE_OK && s <= last; ++s) {
        coce_journal_event ev;
        if (coce_journal_get(j, s, &ev, &err) != COCE_OK ||
            ev.kind != COCE_JOURNAL_INTENT)
            continue;
        coce_fake_bn_order o;
        if (coce_fake_binance_find(f, ev.client_id, &o) != 1)
            continue;
        for (int k = 0; k < LF_PAIRS; ++k)
            if (strncmp(o.symbol, lf_bases[k], 3) == 0)
                net[k] += o.side * o.executed;
    }
    coce_journal_close(j);
    int bad = rc != COCE_OK;
    for (int k = 0; k < LF_PAIRS && !bad; ++k) {
        coce_asset_id id;
        double qty = 0;
        if (coce_book_asset_by_symbol(b, lf_bases[k], &id) == COCE_OK &&
            coce_book_position(b, id) != NULL)
            qty = coce_book_position(b, id)->qty;
        if (fabs(qty - net[k]) > 1e-6 * (1 + fabs(net[k]))) {
            bad = 1;
            snprintf(why, why_len, "%s: book %.17g, venue net %.17g",
                     lf_bases[k], qty, net[k]);
        }
    }
    coce_book_free(b);
    return bad ? -1 : 0;
}

#endif
