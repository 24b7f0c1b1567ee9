/* The convexity sleeve's part of the engine (docs/options.md): each
 * underlying's samples stepped through coce_sleeve_step, the intents
 * guarded, sent and settled, the held options marked, the option fills
 * converted to the base currency, and the live route on Deribit (listed
 * option choice, tick rounding, restore of working orders). Kept apart from
 * engine.c, the spot strategy, so that each file stays short; the two share
 * the engine's state through agent/engine_internal.h. */
#include "agent/engine_internal.h"

#include "execution/deribit.h"
#include "options/instruments.h"
#include "options/sleeve.h"
#include "risk_guardrails/guardrails.h"
#include "state/journal.h"
#include "utils/log.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the convexity sleeve ------------------------------------------------ */

/* Last sample at or before t (the first one when none is): the history up
 * to t only. */
static double series_at(const int64_t *t, const double *px, size_t n,
                        int64_t at)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[mid] <= at)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 ? px[lo - 1] : px[0];
}

/* USD per unit of the base currency at t (1 for a USD book; NAN for a
 * streamed one before its first sample). */
static double base_usd(const coce_engine *e, int64_t at)
{
    if (e->sl.base_t_ms == NULL || e->sl.base_n == 0)
        return e->ser_on[COCE_ENGINE_SLEEVE_MAX] ? NAN : 1.0;
    return series_at(e->sl.base_t_ms, e->sl.base_px, e->sl.base_n, at);
}

/* The marks of the held options (base currency): their premium at risk. */
double coce__engine_sleeve_value_base(const coce_engine *e)
{
    double v = 0;
    for (size_t i = 0; i < coce_book_position_count(e->book); ++i) {
        const coce_position *p = coce_book_position_at(e->book, i);
        size_t k = p->asset - COCE_ENGINE_OPTION_BASE;
        if (is_option(p->asset) && k < e->n_opt)
            v += p->qty * e->opt[k].mark_base;
    }
    return v;
}

/* The asset id of an option (registered on first use) under the venue's
 * name `listed` (NULL: the name made from the event). A held option is
 * found again by its contract (type, strike, expiry), also when the
 * venue's spelling of the name differs from coce_sleeve_option_name's. */
static int opt_id(coce_engine *e, size_t u, const coce_sleeve_event *ev,
                  const char *listed, coce_asset_id *out, coce_err *err)
{
    char name[COCE_BOOK_SYMBOL_MAX];
    if (listed != NULL)
        (void)snprintf(name, sizeof name, "%s", listed);
    else if (coce_sleeve_option_name(e->sl.u[u].name, ev->type, ev->strike,
                                     ev->expiry_ms, name,
                                     sizeof name) != COCE_OK)
        return coce_err_set(err, COCE_EINVAL,
                            "sleeve: no instrument name for strike %g", ev->strike);
    for (size_t k = 0; k < e->n_opt; ++k) {
        coce_instrument in;
        int same = strcmp(e->opt[k].name, name) == 0;
        if (!same && e->opt[k].u == u &&
            coce_instrument_parse_name(e->opt[k].name, &in, NULL) == COCE_OK)
            same = in.option_type == ev->type && in.strike == ev->strike &&
                   in.expiry_ms == ev->expiry_ms;
        if (same) {
            *out = COCE_ENGINE_OPTION_BASE + (coce_asset_id)k;
            return COCE_OK;
        }
    }
    if (coce__engine_grow((void **)&e->opt, &e->cap_opt, e->n_opt + 1,
                          sizeof *e->opt) != COCE_OK)
        return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
    opt_inst *o = &e->opt[e->n_opt];
    memset(o, 0, sizeof *o);
    (void)snprintf(o->name, sizeof o->name, "%s", name);
    o->u = u;
    *out = COCE_ENGINE_OPTION_BASE + (coce_asset_id)e->n_opt++;
    /* the state file names it even while only an order is working */
    return coce_book_set_symbol(e->book, *out, name, err);
}

static int sleeve_order_working(const coce_engine *e, size_t u,
                                const coce_sleeve_event *ev)
{
    for (size_t i = 0; i < e->n_sord; ++i) {
        const coce_sleeve_event *w = &e->sord[i].ev;
        if (e->sord[i].u != u)
            continue;
        if (ev->what == COCE_SLEEVE_BUY ? w->what == COCE_SLEEVE_BUY &&
                                              w->type == ev->type
                                        : w->type == ev->type &&
                                              w->strike == ev->strike &&
                                              w->expiry_ms == ev->expiry_ms)
            return 1;
    }
    return 0;
}

/* Guardrails on an opening intent, in coce_guard_apply_entry's order:
 * halts, drawdown scale, the VaR floor against the premium at risk (the
 * new option's cost is premium at risk too). Cuts the amount to whole
 * lots; 0 when nothing may be bought. */
static double sleeve_guard(coce_engine *e, size_t u, const coce_sleeve_event *ev,
                           double conv, coce_err *err, int *rc)
{
    const coce_config *cfg = e->cfg;
    double unit = (ev->price_coin + ev->fee_coin) * conv;
    double cost = ev->amount * unit;
    double equity = coce__engine_mark_equity(e);
    coce_guard_entry_input gi;
    memset(&gi, 0, sizeof gi);
    gi.requested = cost;
    gi.adv_notional = cost; /* options: no ADV cap */
    gi.adv_max_fraction = 1.0;
    gi.killswitch_halted = e->book->kill.halted;
    gi.drawdown_halted = e->dd.halted;
    gi.scale_drawdown = e->scale_drawdown;
    gi.scale_corr = 1.0;
    double floor_loss = cfg->guardrails.var_floor * (equity > 0 ? equity : 0);
    *rc = coce_guard_var_premium_scale(cost, coce__engine_sleeve_value_base(e),
                                       floor_loss, NULL, &gi.scale_var);
    coce_guard_decision gd;
    if (*rc == COCE_OK)
        *rc = coce_guard_apply_entry(&gi, &gd);
    if (*rc != COCE_OK) {
        *rc = coce_err_set(err, *rc, "sleeve guardrails: %s",
                           coce_strerror(*rc));
        return 0.0;
    }
    double lot = e->sl.u[u].cfg.min_trade_amount;
    double amount = ev->amount;
    if (gd.allowed < cost * (1.0 - 1e-12))
        amount = floor(gd.allowed / unit / lot + 1e-9) * lot;
    if (gd.halted)
        ++e->srep.skipped_halted;
    else if (amount < ev->amount)
        ++e->srep.cut_guardrails;
    coce_log(COCE_LOG_INFO, "guardrails", "sleeve_entry_decision",
             "{s:s, s:f, s:f, s:f, s:f, s:s}", "underlying", e->sl.u[u].name,
             "requested", cost, "allowed", gd.allowed, "scale_var",
             gd.scale_var, "premium_at_risk", coce__engine_sleeve_value_base(e),
             "binding_rule", gd.binding_rule);
    return amount > 0 ? amount : 0.0;
}

/* Settlement at expiry: the venue pays the intrinsic value in coin. It is
 * journalled as an intent and a fill (no order reaches the venue). */
static int sleeve_settle(coce_engine *e, coce_asset_id asset, double qty,
                         double price, int64_t now, coce_err *err)
{
    coce_order_intent in;
    memset(&in, 0, sizeof in);
    int rc = COCE_OK;
    if (e->o.journal != NULL)
        rc = coce_journal_next_client_id(
            e->o.journal,
            e->o.client_tag ? e->o.client_tag
                            : (e->o.run_id ? e->o.run_id : "run"),
            in.client_id, err);
    else
        (void)snprintf(in.client_id, sizeof in.client_id, "coce-%llu",
                       (unsigned long long)++e->order_seq);
    if (rc != COCE_OK)
        return rc;
    in.asset = asset;
    in.side = COCE_SIDE_SELL;
    in.type = COCE_ORDER_MARKET;
    in.qty = qty;
    in.reason = COCE_REASON_FLATTEN;
    in.time_ms = now;
    if (e->o.journal != NULL) {
        rc = coce_journal_append_intent(e->o.journal, &in,
                                        coce__engine_sym(e, asset), NULL, err);
        if (rc != COCE_OK)
            return rc;
    }
    ++e->srep.intents;
    coce_open_order oo;
    memset(&oo, 0, sizeof oo);
    memcpy(oo.client_id, in.client_id, sizeof oo.client_id);
    oo.asset = asset;
    oo.side = COCE_SIDE_SELL;
    oo.reason = in.reason;
    oo.qty = qty;
    oo.status = COCE_ORDER_OPEN;
    oo.time_ms = now;
    rc = coce_book_order_add(e->book, &oo, err);
    if (rc != COCE_OK)
        return rc;
    coce_fill f;
    memset(&f, 0, sizeof f);
    memcpy(f.client_id, in.client_id, sizeof f.client_id);
    f.asset = asset;
    f.side = COCE_SIDE_SELL;
    f.qty = qty;
    f.price = price;
    f.time_ms = now;
    if (price > 0)
        return coce__engine_apply_fills(e, &f, 1, err);
    /* Worthless: the journal takes no fill at price 0, so the expiry is
     * journalled as done and the position leaves the book directly (after
     * a crash the restored option is past expiry and settles again). */
    rc = coce__engine_journal_event(
        e, COCE_JOURNAL_DONE, in.client_id, now,
        "expired worthless: settled at 0 by the venue", err);
    if (rc != COCE_OK)
        return rc;
    coce__engine_record_fill(e, &f);
    rc = coce_book_apply_fill(e->book, &f, coce__engine_sym(e, asset), err);
    if (rc == COCE_OK)
        ++e->srep.fills;
    return rc;
}

/* ---- the sleeve on Deribit ------------------------------------------------ */

static sleeve_order *sord_find(coce_engine *e, const char *client_id)
{
    for (size_t i = 0; i < e->n_sord; ++i)
        if (strcmp(e->sord[i].client_id, client_id) == 0)
            return &e->sord[i];
    return NULL;
}

/* Drops the sleeve's orders that have left the book (filled, closed). */
void coce__engine_sord_sweep(coce_engine *e)
{
    for (size_t i = 0; i < e->n_sord; ++i)
        if (coce_book_order_find(e->book, e->sord[i].client_id) == NULL) {
            e->sord[i] = e->sord[--e->n_sord];
            --i;
        }
}

/* Underlying of an option asset (SIZE_MAX when not the sleeve's). */
static size_t opt_underlying(const coce_engine *e, coce_asset_id asset)
{
    size_t k = asset - COCE_ENGINE_OPTION_BASE;
    return is_option(asset) && k < e->n_opt && e->opt[k].u < e->sl.n_u
               ? e->opt[k].u
               : SIZE_MAX;
}

/* Base currency per coin of an option's underlying: the rate its order was
 * decided at, else the samples' at `now` (at most the engine's time); 0
 * when no USD price is known yet. */
static double opt_conv(const coce_engine *e, const sleeve_order *so,
                       coce_asset_id asset, int64_t now)
{
    if (so != NULL && so->conv > 0)
        return so->conv;
    size_t u = opt_underlying(e, asset);
    if (u == SIZE_MAX)
        return 0.0;
    const coce_engine_underlying *un = &e->sl.u[u];
    if (un->n == 0 || un->t_ms[0] > now)
        return 0.0;
    double c = series_at(un->t_ms, un->px, un->n, now) / base_usd(e, now);
    return c > 0 && isfinite(c) ? c : 0.0;
}

/* The sleeve's state and results take `amount` of an executed option
 * order. A buy adds to a held option of the same name (Deribit fills one
 * order in parts); the book stays the reference when the two disagree
 * (a resumed order), so a mismatch is logged, not fatal. */
static void sleeve_fill(coce_engine *e, const sleeve_order *so, double amount)
{
    if (so->u >= e->sl.n_u)
        return;
    coce_sleeve_state *st = &e->sst[so->u];
    const coce_sleeve_event *ev = &so->ev;
    if (ev->what == COCE_SLEEVE_BUY)
        for (size_t k = 0; k < st->np; ++k) {
            coce_sleeve_pos *p = &st->pos[k];
            if (p->type != ev->type || p->strike != ev->strike ||
                p->expiry_ms != ev->expiry_ms || p->abandoned)
                continue;
            double cost = amount * (ev->price_coin + ev->fee_coin) * ev->spot;
            p->amount += amount;
            st->spent_kind[ev->type == COCE_OPT_PUT] += cost;
            st->period_spend += cost;
            if (st->period_spend > st->max_period_spend_usd)
                st->max_period_spend_usd = st->period_spend;
            /* the premium and fees of the part; still one option bought */
            coce_sleeve_account(&e->srep.res[so->u], ev, amount);
            --e->srep.res[so->u].n_buys;
            return;
        }
    coce_err serr;
    coce_err_clear(&serr);
    if (coce_sleeve_apply(st, ev, amount, &serr) == COCE_OK)
        coce_sleeve_account(&e->srep.res[so->u], ev, amount);
    else
        coce_log(COCE_LOG_WARN, "options", "sleeve_state_mismatch",
                 "{s:s, s:s}", "client_id", so->client_id, "why", serr.msg);
}

/* Executions of option orders from Deribit (coin per contract): converted
 * to the base currency, journalled and applied once (apply_fills), then
 * given to the sleeve's state. A fill without a known USD price (a restart
 * before the first sample) waits in memory: the journal has not seen it,
 * so after a crash meanwhile the adapter reports it again. */
int coce__engine_opt_fills(coce_engine *e, const coce_fill *fills, size_t n,
                           int64_t now, coce_err *err)
{
    for (size_t i = 0; i < n; ++i) {
        coce_fill f = fills[i];
        const sleeve_order *so = sord_find(e, f.client_id);
        double conv = opt_conv(e, so, f.asset, now);
        if (!(conv > 0)) {
            if (coce__engine_grow((void **)&e->ofill, &e->cap_ofill,
                                  e->n_ofill + 1, sizeof *e->ofill) != COCE_OK)
                return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
            e->ofill[e->n_ofill++] = f;
            ++e->srep.fills_deferred;
            coce_log(COCE_LOG_INFO, "engine", "option_fill_deferred",
                     "{s:s, s:f}", "client_id", f.client_id, "qty", f.qty);
            continue;
        }
        /* what the book will take of it (apply_fills skips repeats) */
        const coce_open_order *o = coce_book_order_find(e->book, f.client_id);
        double rest = o != NULL ? o->qty - o->filled : 0.0;
        double taken = o == NULL || rest <= o->qty * COCE_BOOK_QTY_RTOL ? 0.0
                       : f.qty > rest * (1.0 + COCE_BOOK_QTY_RTOL) ? rest
                                                                   : f.qty;
        size_t u = opt_underlying(e, f.asset);
        double fee_coin = f.fee;
        if (!(fee_coin > 0) && u != SIZE_MAX)
            fee_coin = f.qty * coce_sleeve_fee(f.price, e->sl.u[u].cfg.fee_rate,
                                               e->sl.u[u].cfg.fee_cap);
        f.price *= conv;
        f.fee = fee_coin > 0 ? fee_coin * conv : 0.0;
        int rc = coce__engine_apply_fills(e, &f, 1, err);
        if (rc != COCE_OK)
            return rc;
        /* until the model can mark it (next sample, a vol window), an
         * option is marked at its fill price, never at 0 */
        opt_inst *oi = &e->opt[f.asset - COCE_ENGINE_OPTION_BASE];
        if (u != SIZE_MAX && taken > 0 && !(oi->mark_base > 0))
            oi->mark_base = f.price;
        if (so != NULL && taken > 0)
            sleeve_fill(e, so, taken);
    }
    return COCE_OK;
}

/* The waiting option fills, once a USD price is known. */
int coce__engine_opt_flush(coce_engine *e, int64_t now, coce_err *err)
{
    size_t n = e->n_ofill;
    if (n == 0)
        return COCE_OK;
    coce_fill *f = malloc(n * sizeof *f);
    if (f == NULL)
        return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
    memcpy(f, e->ofill, n * sizeof *f);
    e->n_ofill = 0;
    int rc = coce__engine_opt_fills(e, f, n, now, err);
    free(f);
    if (rc == COCE_OK)
        coce__engine_sord_sweep(e);
    return rc;
}

/* The instrument `name` as the venue lists it (public/get_instruments of
 * the underlying's currency, fetched again when a name is missing, at most
 * once per engine time). COCE_ENOTFOUND when not listed; venue errors as
 * they come. */
static int opt_fetch_list(coce_engine *e, size_t u, int64_t now,
                          coce_err *err);

static int opt_listed(coce_engine *e, size_t u, const char *name,
                      int64_t now, coce_instrument *out, coce_err *err)
{
    size_t k = coce_instrument_find(e->oins[u], e->n_oins[u], name);
    if (k < e->n_oins[u]) {
        *out = e->oins[u][k];
        return COCE_OK;
    }
    if (e->oins[u] == NULL || e->oins_at[u] != now) {
        int rc = opt_fetch_list(e, u, now, err);
        if (rc != COCE_OK)
            return rc;
        k = coce_instrument_find(e->oins[u], e->n_oins[u], name);
    }
    if (k >= e->n_oins[u] || e->oins[u] == NULL)
        return coce_err_set(err, COCE_ENOTFOUND,
                            "%s: not listed by the venue (public/"
                            "get_instruments %s)",
                            name, e->sl.u[u].name);
    *out = e->oins[u][k];
    return COCE_OK;
}

/* Deribit answers parsed whole: the parsers count first (COCE_ERANGE with
 * *n = the number of entries when cap is short), then fill. */
typedef int (*venue_list_parse)(const char *json, size_t len, void *out,
                                size_t cap, size_t *n, coce_err *err);

static int parse_instrument_list(const char *json, size_t len, void *out,
                                 size_t cap, size_t *n, coce_err *err)
{
    return coce_instruments_parse(json, len, out, cap, n, err);
}

static int parse_summary_list(const char *json, size_t len, void *out,
                              size_t cap, size_t *n, coce_err *err)
{
    return coce_book_summary_parse(json, len, out, cap, n, err);
}

/* Parses json (freed here) into a new array of *n entries of elem bytes. */
static int parse_venue_list(char *json, size_t elem, venue_list_parse parse,
                            void **out, size_t *n, coce_err *err)
{
    size_t len = strlen(json);
    *n = 0;
    void *all = malloc(elem);
    int rc = all != NULL ? parse(json, len, all, 1, n, err) : COCE_ENOMEM;
    if (rc == COCE_ERANGE) { /* *n > 1 entries: parse again into room */
        free(all);
        all = malloc(*n * elem);
        rc = all != NULL ? parse(json, len, all, *n, n, err) : COCE_ENOMEM;
    }
    free(json);
    if (rc != COCE_OK) {
        free(all);
        return rc == COCE_ENOMEM
                   ? coce_err_set(err, rc, "engine: out of memory")
                   : rc;
    }
    *out = all;
    return COCE_OK;
}

/* The venue's option list of underlying u (public/get_instruments of its
 * currency) into e->oins[u], stamped with the engine time. */
static int opt_fetch_list(coce_engine *e, size_t u, int64_t now,
                          coce_err *err)
{
    char *json = NULL;
    int rc = coce_deribit_get_instruments(e->sl.deribit, e->sl.u[u].name,
                                          "option", &json, err);
    void *all = NULL;
    size_t n = 0;
    if (rc == COCE_OK)
        rc = parse_venue_list(json, sizeof(coce_instrument),
                              parse_instrument_list, &all, &n, err);
    if (rc != COCE_OK)
        return rc;
    free(e->oins[u]);
    e->oins[u] = all;
    e->n_oins[u] = n;
    e->oins_at[u] = now;
    return COCE_OK;
}

/* The book summaries of underlying u's options
 * (public/get_book_summary_by_currency) into e->osum[u]. */
static int opt_fetch_summary(coce_engine *e, size_t u, int64_t now,
                             coce_err *err)
{
    char *json = NULL;
    int rc = coce_deribit_book_summary(e->sl.deribit, e->sl.u[u].name,
                                       "option", &json, err);
    void *all = NULL;
    size_t n = 0;
    if (rc == COCE_OK)
        rc = parse_venue_list(json, sizeof(coce_ticker), parse_summary_list,
                              &all, &n, err);
    if (rc != COCE_OK)
        return rc;
    free(e->osum[u]);
    e->osum[u] = all;
    e->n_osum[u] = n;
    e->osum_at[u] = now;
    return COCE_OK;
}

static json_t *num_or_null(double x)
{
    return isfinite(x) ? json_real(x) : NULL;
}

/* The live route's choice of the option to buy (docs/options.md, "The
 * live route"): the step's model choice is replaced by the best listed
 * option of the same type by the rules (coce_sleeve_select_listed) on the
 * venue's list and book summaries of this engine time; the event takes
 * its contract, its limit (min of model and venue ask, on the tick) and an
 * amount never above the step's nor above what is left of the budget.
 * COCE_ENOTFOUND (logged with the reject counts) when nothing passes,
 * COCE_EEXCHANGE (logged) when the venue cannot be read; both are
 * counted by the caller as refused. */
static int opt_choose(coce_engine *e, size_t u, coce_sleeve_event *ev,
                      int64_t now, char *listed, size_t cap, coce_err *err)
{
    const coce_engine_underlying *un = &e->sl.u[u];
    coce_err xerr;
    coce_err_clear(&xerr);
    int rc = COCE_OK;
    if (e->oins[u] == NULL || e->oins_at[u] != now)
        rc = opt_fetch_list(e, u, now, &xerr);
    if (rc == COCE_OK && (e->osum[u] == NULL || e->osum_at[u] != now))
        rc = opt_fetch_summary(e, u, now, &xerr);
    if (rc == COCE_ENOMEM) {
        if (err != NULL)
            *err = xerr;
        return rc;
    }
    if (rc != COCE_OK) {
        coce_log(COCE_LOG_WARN, "options", "sleeve_no_choice",
                 "{s:s, s:s, s:s}", "underlying", un->name, "type",
                 ev->type == COCE_OPT_CALL ? "call" : "put", "why", xerr.msg);
        return COCE_EEXCHANGE;
    }
    coce_sleeve_choice ch;
    coce_sleeve_rejects rej;
    rc = coce_sleeve_select_listed(&un->cfg, ev->type, ev->t_ms, ev->spot,
                                   e->sst[u].sigma_atm, e->oins[u],
                                   e->n_oins[u], e->osum[u], e->n_osum[u], &ch,
                                   &rej, &xerr);
    if (rc != COCE_OK) {
        coce_log(COCE_LOG_WARN, "options", "sleeve_no_choice",
                 "{s:s, s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}}",
                 "underlying", un->name, "type",
                 ev->type == COCE_OPT_CALL ? "call" : "put", "why", xerr.msg,
                 "rejected", "listed", (json_int_t)rej.seen, "kind",
                 (json_int_t)rej.kind, "inactive", (json_int_t)rej.inactive,
                 "days", (json_int_t)rej.days, "delta",
                 (json_int_t)rej.delta, "open_interest",
                 (json_int_t)rej.open_interest, "spread",
                 (json_int_t)rej.spread, "price", (json_int_t)rej.price);
        return rc == COCE_EINVAL ? COCE_EEXCHANGE : COCE_ENOTFOUND;
    }
    const coce_instrument *in = &e->oins[u][ch.inst];
    /* what the step had left of the budget for this buy, at its spot */
    double left = ev->budget_left_usd +
                  ev->amount * (ev->price_coin + ev->fee_coin) * ev->spot;
    double fee = coce_sleeve_fee(ch.limit, un->cfg.fee_rate, un->cfg.fee_cap);
    double lot = in->min_trade_amount > 0 ? in->min_trade_amount
                                          : un->cfg.min_trade_amount;
    double amount = 0.0;
    (void)coce_sleeve_size(left / ev->spot, ch.limit, fee, lot, &amount);
    if (amount > ev->amount)
        amount = ev->amount;
    size_t len = strlen(in->name);
    if (len >= cap) /* longer than a book symbol: cannot be held */
        return COCE_ENOTFOUND;
    memcpy(listed, in->name, len + 1);
    coce_log(COCE_LOG_INFO, "options", "sleeve_choice",
             "{s:s, s:s, s:f, s:f, s:f, s:o?, s:o?, s:f, s:f, s:o?, s:f, "
             "s:f, s:f, s:f}",
             "instrument", in->name, "type",
             ch.type == COCE_OPT_CALL ? "call" : "put", "delta", ch.delta,
             "days", ch.days, "iv", ch.iv, "open_interest",
             num_or_null(ch.open_interest), "spread", num_or_null(ch.spread),
             "price", ch.limit, "model_ask", ch.model_ask, "venue_ask",
             num_or_null(ch.venue_ask), "amount", amount, "model_strike",
             ev->strike, "underlying", ch.underlying, "score", ch.score);
    if (!(amount > 0))
        return COCE_ENOTFOUND;
    ev->strike = ch.strike;
    ev->expiry_ms = ch.expiry_ms;
    ev->days = ch.days;
    ev->delta = ch.delta;
    ev->sigma = ch.iv;
    ev->price_coin = ch.limit;
    ev->fee_coin = fee;
    ev->budget_left_usd = left - amount * (ch.limit + fee) * ev->spot;
    ev->amount = amount;
    return COCE_OK;
}

/* Before an option order goes to Deribit: its name registered for its
 * asset id, listed and active, the limit in coin on the tick grid in force
 * (down for a buy: never above the model ask; up for a sale).
 * COCE_EEXCHANGE (logged, counted by the caller) when the venue cannot
 * take it now; other errors are the engine's. */
static int opt_prepare(coce_engine *e, size_t u, coce_asset_id asset,
                       int8_t side, double price_coin, int64_t now,
                       double *limit_coin, coce_err *err)
{
    const char *name = coce__engine_sym(e, asset);
    int rc = coce_deribit_register(e->sl.deribit, asset, name, err);
    if (rc != COCE_OK)
        return rc;
    coce_instrument in;
    /* read only after opt_listed's COCE_OK; zeroed for the analyzer, which
     * cannot see that coce_err_set returns its (negative) code */
    memset(&in, 0, sizeof in);
    coce_err xerr;
    coce_err_clear(&xerr);
    rc = opt_listed(e, u, name, now, &in, &xerr);
    if (rc == COCE_OK && !in.is_active)
        rc = coce_err_set(&xerr, COCE_EEXCHANGE, "%s: not active", name);
    if (rc == COCE_OK &&
        coce_instrument_round_price(&in, price_coin,
                                    side > 0 ? COCE_ROUND_DOWN : COCE_ROUND_UP,
                                    limit_coin) != COCE_OK)
        rc = coce_err_set(&xerr, COCE_EEXCHANGE,
                          "%s: no tick grid for the price %.10g", name,
                          price_coin);
    if (rc == COCE_OK && !(*limit_coin > 0))
        rc = coce_err_set(&xerr, COCE_EEXCHANGE,
                          "%s: model price %.10g is below one tick", name,
                          price_coin);
    if (rc == COCE_ENOMEM) {
        if (err != NULL)
            *err = xerr;
        return rc;
    }
    if (rc != COCE_OK) {
        coce_log(COCE_LOG_WARN, "engine", "sleeve_refused", "{s:s, s:s}",
                 "option", name, "why", xerr.msg);
        return COCE_EEXCHANGE;
    }
    return COCE_OK;
}

/* A resumed book on Deribit: every option name registered for its asset
 * id, every unfinished option order tracked by the adapter (so that a
 * query by client id can settle it) and listed as working (it blocks new
 * orders of its kind until settled). */
static int opt_venue_restore(coce_engine *e, coce_err *err)
{
    for (size_t k = 0; k < e->n_opt; ++k) {
        if (e->opt[k].name[0] == '\0')
            continue;
        int rc = coce_deribit_register(e->sl.deribit,
                                       COCE_ENGINE_OPTION_BASE +
                                           (coce_asset_id)k,
                                       e->opt[k].name, err);
        if (rc != COCE_OK)
            return rc;
    }
    for (size_t i = 0; i < e->book->n_orders; ++i) {
        const coce_open_order *o = &e->book->orders[i];
        size_t u = opt_underlying(e, o->asset);
        if (!is_option(o->asset))
            continue;
        coce_instrument in;
        if (u == SIZE_MAX ||
            coce_instrument_parse_name(coce__engine_sym(e, o->asset), &in,
                                       NULL) != COCE_OK)
            return coce_err_set(err, COCE_ESTATE,
                                "state: order %s: '%s' is not an option of "
                                "the sleeve's underlyings",
                                o->client_id, coce__engine_sym(e, o->asset));
        coce_order_intent it;
        memset(&it, 0, sizeof it);
        memcpy(it.client_id, o->client_id, sizeof it.client_id);
        it.asset = o->asset;
        it.side = o->side;
        it.type = o->type;
        it.limit_price = o->limit_price;
        it.qty = o->qty;
        it.reason = o->reason;
        it.time_ms = o->time_ms;
        int rc = coce_deribit_track(e->sl.deribit, &it, e->sl.sent_before_ms,
                                    o->filled, err);
        if (rc == COCE_OK)
            rc = coce__engine_grow((void **)&e->sord, &e->cap_sord,
                                   e->n_sord + 1, sizeof *e->sord) == COCE_OK
                     ? COCE_OK
                     : coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
        if (rc != COCE_OK)
            return rc;
        sleeve_order *so = &e->sord[e->n_sord++];
        memset(so, 0, sizeof *so);
        memcpy(so->client_id, o->client_id, sizeof so->client_id);
        so->u = u;
        so->asset = o->asset;
        so->ev.what = o->side > 0 ? COCE_SLEEVE_BUY : COCE_SLEEVE_ROLL;
        so->ev.type = in.option_type;
        so->ev.strike = in.strike;
        so->ev.expiry_ms = in.expiry_ms;
        so->ev.amount = o->qty;
        so->ev.price_coin = o->limit_price;
        so->ev.fee_coin = coce_sleeve_fee(o->limit_price,
                                          e->sl.u[u].cfg.fee_rate,
                                          e->sl.u[u].cfg.fee_cap);
        /* conv 0: the rate at the fill (the decision's is not journalled) */
        coce_log(COCE_LOG_INFO, "engine", "option_order_resumed",
                 "{s:s, s:s, s:f}", "client_id", o->client_id, "option",
                 coce__engine_sym(e, o->asset), "filled", o->filled);
    }
    return COCE_OK;
}

int coce_engine_sleeve_sample(coce_engine *e, const char *series, int64_t t_ms,
                              double px_usd, coce_err *err)
{
    if (e == NULL || series == NULL || !e->sleeve_on)
        return coce_err_set(err, COCE_EINVAL, "sleeve sample: no sleeve");
    size_t k = COCE_ENGINE_SLEEVE_MAX;
    if (strcmp(series, COCE_ENGINE_BASE_SERIES) != 0)
        for (k = 0; k < e->sl.n_u; ++k)
            if (strcmp(e->sl.u[k].name, series) == 0)
                break;
    if (k == e->sl.n_u || !e->ser_on[k])
        return coce_err_set(err, COCE_EINVAL,
                            "sleeve sample: '%s' is not a streamed series",
                            series);
    if (!(px_usd > 0) || !isfinite(px_usd))
        return coce_err_set(err, COCE_EINVAL,
                            "sleeve sample: %s: price %g not positive", series,
                            px_usd);
    size_t n = k < COCE_ENGINE_SLEEVE_MAX ? e->sl.u[k].n : e->sl.base_n;
    if (n > 0 && t_ms <= e->ser_t[k][n - 1])
        return coce_err_set(err, COCE_EORDER,
                            "sleeve sample: %s: t %lld not after %lld", series,
                            (long long)t_ms, (long long)e->ser_t[k][n - 1]);
    size_t cap = e->ser_cap[k];
    if (coce__engine_grow((void **)&e->ser_t[k], &cap, n + 1,
                          sizeof *e->ser_t[k]) != COCE_OK ||
        coce__engine_grow((void **)&e->ser_px[k], &e->ser_cap[k], n + 1,
                          sizeof *e->ser_px[k]) != COCE_OK)
        return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
    e->ser_t[k][n] = t_ms;
    e->ser_px[k][n] = px_usd;
    if (k < COCE_ENGINE_SLEEVE_MAX) {
        e->sl.u[k].t_ms = e->ser_t[k];
        e->sl.u[k].px = e->ser_px[k];
        e->sl.u[k].n = n + 1;
    } else {
        e->sl.base_t_ms = e->ser_t[k];
        e->sl.base_px = e->ser_px[k];
        e->sl.base_n = n + 1;
    }
    return COCE_OK;
}

/* One intent of the step: settle, or an order on the venue (a limit at the
 * model quote: the venue fills it at that price, as the back-test does). */
static int sleeve_intent(coce_engine *e, size_t u, const coce_sleeve_event *ev,
                         int64_t now, coce_err *err)
{
    coce_sleeve_state *st = &e->sst[u];
    if (ev->what == COCE_SLEEVE_ROLL && !(ev->price_coin > 0)) {
        /* no bid: kept to settlement; nothing is sent */
        int rc = coce_sleeve_apply(st, ev, ev->amount, err);
        if (rc == COCE_OK)
            coce_sleeve_account(&e->srep.res[u], ev, ev->amount);
        return rc;
    }
    if (sleeve_order_working(e, u, ev)) {
        ++e->srep.skipped_pending;
        return COCE_OK;
    }
    coce_sleeve_event chosen;
    char listed[COCE_BOOK_SYMBOL_MAX];
    listed[0] = '\0';
    if (e->ox_on && ev->what == COCE_SLEEVE_BUY && !e->book->kill.halted &&
        !e->dd.halted) {
        /* Deribit: a listed option by the rules, not the model grid's (a
         * halt skips the venue: the guardrails refuse the buy below) */
        chosen = *ev;
        int crc = opt_choose(e, u, &chosen, now, listed, sizeof listed, err);
        if (crc == COCE_ENOTFOUND || crc == COCE_EEXCHANGE) {
            ++e->srep.refused;
            ++e->srep.no_listed;
            return COCE_OK;
        }
        if (crc != COCE_OK)
            return crc;
        ev = &chosen;
    }
    coce_asset_id asset = COCE_ENGINE_OPTION_BASE;
    int rc = opt_id(e, u, ev, listed[0] != '\0' ? listed : NULL, &asset, err);
    if (rc != COCE_OK)
        return rc;
    double conv = ev->spot / base_usd(e, now); /* base per coin */
    double amount = ev->amount;
    if (ev->what == COCE_SLEEVE_SETTLE) {
        const coce_position *p = coce_book_position(e->book, asset);
        if (p != NULL) {
            amount = p->qty;
            rc = sleeve_settle(e, asset, amount, ev->price_coin * conv, now,
                               err);
        }
        if (rc == COCE_OK)
            rc = coce_sleeve_apply(st, ev, ev->amount, err);
        if (rc == COCE_OK)
            coce_sleeve_account(&e->srep.res[u], ev, amount);
        return rc;
    }
    int8_t side = COCE_SIDE_BUY;
    coce_order_reason reason = COCE_REASON_ENTRY;
    if (ev->what == COCE_SLEEVE_BUY) {
        amount = sleeve_guard(e, u, ev, conv, err, &rc);
        if (rc != COCE_OK || !(amount > 0))
            return rc;
    } else {
        /* a roll sells the held option, never more: long only */
        const coce_position *p = coce_book_position(e->book, asset);
        double held = p != NULL ? p->qty : 0.0;
        rc = coce_sleeve_check_sell(held, amount, err);
        if (rc != COCE_OK)
            return rc;
        side = COCE_SIDE_SELL;
        reason = COCE_REASON_MAX_HOLD;
    }
    /* the venue's limit: base currency per contract on the engine's own
     * venue, coin on Deribit (rounded to the listed instrument's tick) */
    double limit = ev->price_coin * conv;
    if (e->ox_on) {
        double coin = 0.0;
        rc = opt_prepare(e, u, asset, side, ev->price_coin, now, &coin, err);
        if (rc == COCE_EEXCHANGE) {
            ++e->srep.refused;
            return COCE_OK;
        }
        if (rc != COCE_OK)
            return rc;
        limit = coin;
    }
    if (coce__engine_grow((void **)&e->sord, &e->cap_sord, e->n_sord + 1,
                          sizeof *e->sord) != COCE_OK)
        return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
    /* listed before sending: synchronous fills find their order */
    sleeve_order *so = &e->sord[e->n_sord++];
    memset(so, 0, sizeof *so);
    so->u = u;
    so->ev = *ev;
    so->ev.amount = amount;
    so->asset = asset;
    so->conv = conv;
    so->limit = e->ox_on ? limit * conv : limit;
    /* (nothing reorders the list before the sweep below) */
    rc = coce__engine_place_order(e, asset, side, amount, limit, reason, now,
                                  so->client_id, err);
    ++e->srep.intents;
    if (rc != COCE_OK)
        --e->n_sord; /* so is still the last entry */
    if (venue_refused(rc) || (e->ox_on && rc == COCE_ENOTFOUND)) {
        ++e->srep.refused;
        coce_log(COCE_LOG_WARN, "engine", "sleeve_refused", "{s:s, s:s}",
                 "option", coce__engine_sym(e, asset), "why",
                 coce_strerror(rc));
        return COCE_OK;
    }
    if (rc == COCE_OK) {
        coce_log(COCE_LOG_INFO, "options", "sleeve_order",
                 "{s:s, s:s, s:f, s:f, s:f, s:f, s:f}", "option",
                 coce__engine_sym(e, asset), "side", side > 0 ? "buy" : "sell",
                 "amount", amount, "price_coin", ev->price_coin, "spot",
                 ev->spot, "sigma", ev->sigma, "delta", ev->delta);
        coce__engine_sord_sweep(e); /* filled at once */
    }
    return rc;
}

/* Sample i of underlying u: the step, its intents, then the marks. */
static int sleeve_sample(coce_engine *e, size_t u, size_t i, int64_t now,
                         coce_err *err)
{
    const coce_engine_underlying *un = &e->sl.u[u];
    coce_sleeve_state *st = &e->sst[u];
    const int64_t t = un->t_ms[i];
    if (!(base_usd(e, t) > 0))
        return COCE_OK; /* no USD price of the base currency yet */
    double equity_usd = e->sl.fixed_equity_usd > 0
                            ? e->sl.fixed_equity_usd
                            : coce__engine_mark_equity(e) * base_usd(e, t);
    coce_sleeve_event out[COCE_SLEEVE_STEP_MAX];
    size_t k = 0;
    int rc = COCE_OK;
    if (equity_usd > 0)
        rc = coce_sleeve_step(&un->cfg, st, un->t_ms, un->px, i + 1,
                              equity_usd, out, COCE_SLEEVE_STEP_MAX, &k, err);
    for (size_t j = 0; j < k && rc == COCE_OK; ++j)
        rc = sleeve_intent(e, u, &out[j], now, err);
    if (rc != COCE_OK)
        return rc;
    const double F = un->px[i];
    const double conv = F / base_usd(e, t);
    for (size_t j = 0; j < e->n_opt; ++j) {
        opt_inst *o = &e->opt[j];
        if (o->u != u)
            continue;
        coce_instrument in;
        if (coce_instrument_parse_name(o->name, &in, NULL) != COCE_OK)
            continue;
        /* no vol window yet (a run resumed on streamed samples): the last
         * mark (entry or fill price) stays rather than a floor-vol price */
        if (!(st->sigma_atm > 0) && t < in.expiry_ms)
            continue;
        coce_sleeve_pos p = {in.option_type, in.strike, in.expiry_ms, 0, 0};
        o->mark_coin = coce_sleeve_mark(&un->cfg, &p, t, F, st->sigma_atm);
        o->spot_usd = F;
        o->mark_base = o->mark_coin * conv;
    }
    return e->ox_on ? coce__engine_opt_flush(e, t, err) : COCE_OK;
}

/* Every sample of every underlying up to now, in time order per
 * underlying. */
int coce__engine_sleeve_advance(coce_engine *e, int64_t now, coce_err *err)
{
    if (!e->sleeve_on)
        return COCE_OK;
    for (size_t u = 0; u < e->sl.n_u; ++u) {
        const coce_engine_underlying *un = &e->sl.u[u];
        while (e->snext[u] < un->n && un->t_ms[e->snext[u]] <= now) {
            int rc = sleeve_sample(e, u, e->snext[u], now, err);
            if (rc != COCE_OK)
                return rc;
            ++e->snext[u];
        }
    }
    return COCE_OK;
}

/* The option market's print at the model quote for each working option
 * order (the paper venue fills a limit order on a print through it, after
 * its latency), at the time of a market trade. Option fees are Deribit's
 * per-contract fee (coce_sleeve_fee), not the spot venue's bps. */
int coce__engine_sleeve_feed(coce_engine *e, int64_t now, coce_err *err)
{
    for (size_t i = 0; i < e->n_sord; ++i) {
        sleeve_order *so = &e->sord[i];
        coce_trade t;
        memset(&t, 0, sizeof t);
        t.time_ms = now;
        t.asset = so->asset;
        t.price = so->limit * (so->ev.what == COCE_SLEEVE_BUY ? 1.0 - 1e-9
                                                             : 1.0 + 1e-9);
        t.qty = so->ev.amount * 1e9;
        t.side = so->ev.what == COCE_SLEEVE_BUY ? COCE_SIDE_SELL : COCE_SIDE_BUY;
        coce_fill fills[MAX_FILLS];
        size_t n = 0;
        int rc = e->o.feed_trade(e->o.venue, &t, fills, MAX_FILLS, &n);
        if (rc != COCE_OK)
            return coce_err_set(err, rc, "exchange: %s", coce_strerror(rc));
        double filled = 0;
        for (size_t j = 0; j < n; ++j) {
            fills[j].fee = fills[j].qty * so->ev.fee_coin * so->conv;
            filled += fills[j].qty;
        }
        rc = coce__engine_apply_fills(e, fills, n, err);
        if (rc == COCE_OK && filled > 0) {
            rc = coce_sleeve_apply(&e->sst[so->u], &so->ev, filled, err);
            if (rc == COCE_OK)
                coce_sleeve_account(&e->srep.res[so->u], &so->ev, filled);
        }
        if (rc != COCE_OK)
            return rc;
        if (coce_book_order_find(e->book, so->client_id) == NULL) {
            e->sord[i] = e->sord[--e->n_sord];
            --i;
        }
    }
    return COCE_OK;
}

int coce__engine_sleeve_day_close(coce_engine *e, int64_t now, coce_err *err)
{
    if (!e->sleeve_on)
        return COCE_OK;
    size_t cap = e->cap_sday;
    if (coce__engine_grow((void **)&e->sday_ms, &cap, e->n_sday + 1,
                          sizeof *e->sday_ms) != COCE_OK ||
        coce__engine_grow((void **)&e->sday_pnl, &e->cap_sday, e->n_sday + 1,
                          sizeof *e->sday_pnl) != COCE_OK)
        return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
    e->sday_ms[e->n_sday] = now;
    e->sday_pnl[e->n_sday++] =
        e->sleeve_flow_base + coce__engine_sleeve_value_base(e);
    return COCE_OK;
}

/* The step's clock after the last sample at or before `last` of fixed
 * series u, as an uninterrupted run has it: coce_sleeve_clock over the
 * samples the engine stepped with a full vol window. *start receives the time of the decision that opened
 * the current period; 0 when no decision has happened yet. */
static int sleeve_clock_at(const coce_engine *e, size_t u, int64_t last,
                           coce_sleeve_state *st, int64_t *start)
{
    const coce_engine_underlying *un = &e->sl.u[u];
    const int64_t window =
        (int64_t)llround(un->cfg.vol_window_days * 86400000.0);
    for (size_t i = 1; i < un->n && un->t_ms[i] <= last; ++i) {
        int64_t t = un->t_ms[i];
        if (!(base_usd(e, t) > 0) || t - un->t_ms[0] < window)
            continue; /* not stepped, or no vol window: no decision */
        if (coce_sleeve_clock(&un->cfg.rules, st, t) == 2)
            *start = t;
    }
    return st->period >= 0;
}

/* A restart must not spend a period's premium budget twice: the clock of
 * each fixed series is brought to the last sample the previous run stepped
 * and the current period's spend is rebuilt from the journal's option buy
 * fills since that period's first decision, in the step's units (USD,
 * premium + fee: coce_sleeve_apply's amount * (price + fee) * spot, here
 * (qty * price + fee) in the base currency * base USD at the fill). The
 * budget is the fixed equity's, else budget_share of the resumed book's
 * marked equity (the period start's equity is not kept). Streamed series
 * start empty after a restart: their clock and budget start afresh. */
static int sleeve_restore_budget(coce_engine *e, coce_err *err)
{
    const coce_book *b = e->book;
    int64_t start[COCE_ENGINE_SLEEVE_MAX];
    int any = 0;
    for (size_t u = 0; u < e->sl.n_u; ++u) {
        coce_sleeve_state *st = &e->sst[u];
        start[u] = 0;
        if (e->ser_on[u] ||
            !sleeve_clock_at(e, u, b->last_processed_ms, st, &start[u]))
            continue;
        double equity_usd =
            e->sl.fixed_equity_usd > 0
                ? e->sl.fixed_equity_usd
                : coce__engine_mark_equity(e) *
                      base_usd(e, b->last_processed_ms);
        st->budget_usd = e->sl.u[u].cfg.rules.budget_share *
                         (equity_usd > 0 ? equity_usd : 0.0);
        any = 1;
    }
    int64_t last = 0;
    int rc = any && e->o.journal != NULL
                 ? coce_journal_last_seq(e->o.journal, &last, err)
                 : COCE_OK;
    for (int64_t q = 1; q <= last && rc == COCE_OK; ++q) {
        coce_journal_event ev;
        rc = coce_journal_get(e->o.journal, q, &ev, err);
        if (rc != COCE_OK || ev.kind != COCE_JOURNAL_FILL || ev.side <= 0 ||
            !is_option(ev.asset_id))
            continue;
        size_t u = opt_underlying(e, ev.asset_id);
        coce_instrument in;
        if (u == SIZE_MAX || e->sst[u].period < 0 || ev.time_ms < start[u] ||
            coce_instrument_parse_name(coce__engine_sym(e, ev.asset_id), &in,
                                       NULL) != COCE_OK)
            continue;
        double usd = base_usd(e, ev.time_ms);
        double cost = (ev.qty * ev.price + (ev.fee > 0 ? ev.fee : 0.0)) *
                      (usd > 0 ? usd : 0.0);
        coce_sleeve_state *st = &e->sst[u];
        st->spent_kind[in.option_type == COCE_OPT_PUT] += cost;
        st->period_spend += cost;
        if (st->period_spend > st->max_period_spend_usd)
            st->max_period_spend_usd = st->period_spend;
    }
    for (size_t u = 0; u < e->sl.n_u && rc == COCE_OK; ++u)
        if (e->sst[u].period >= 0)
            coce_log(COCE_LOG_INFO, "options", "sleeve_budget_restored",
                     "{s:s, s:I, s:f, s:f}", "underlying", e->sl.u[u].name,
                     "period", (json_int_t)e->sst[u].period, "spent_usd",
                     e->sst[u].period_spend, "budget_usd",
                     e->sst[u].budget_usd);
    return rc;
}

/* A resumed book's options: their ids and names, the held ones in the
 * sleeve's state, and the current period's spend (sleeve_restore_budget). */
static int sleeve_restore(coce_engine *e, coce_err *err)
{
    const coce_book *b = e->book;
    for (size_t i = 0; i < b->n_symbols; ++i) {
        coce_asset_id id = b->symbols[i].asset;
        if (!is_option(id))
            continue;
        size_t k = id - COCE_ENGINE_OPTION_BASE;
        if (coce__engine_grow((void **)&e->opt, &e->cap_opt, k + 1,
                              sizeof *e->opt) != COCE_OK)
            return coce_err_set(err, COCE_ENOMEM, "engine: out of memory");
        if (k >= e->n_opt) {
            memset(e->opt + e->n_opt, 0, (k + 1 - e->n_opt) * sizeof *e->opt);
            e->n_opt = k + 1;
        }
        opt_inst *o = &e->opt[k];
        (void)snprintf(o->name, sizeof o->name, "%s", b->symbols[i].symbol);
        o->u = SIZE_MAX;
        for (size_t u = 0; u < e->sl.n_u; ++u) {
            size_t len = strlen(e->sl.u[u].name);
            if (strncmp(o->name, e->sl.u[u].name, len) == 0 &&
                o->name[len] == '-')
                o->u = u;
        }
    }
    /* samples the previous run has seen are not decided again */
    for (size_t u = 0; u < e->sl.n_u && b->last_processed_ms > 0; ++u)
        while (e->snext[u] < e->sl.u[u].n &&
               e->sl.u[u].t_ms[e->snext[u]] <= b->last_processed_ms)
            ++e->snext[u];
    for (size_t i = 0; i < coce_book_position_count(b); ++i) {
        const coce_position *p = coce_book_position_at(b, i);
        if (!is_option(p->asset))
            continue;
        opt_inst *o = &e->opt[p->asset - COCE_ENGINE_OPTION_BASE];
        o->mark_base = p->avg_price; /* until the next sample */
        coce_instrument in;
        coce_err perr;
        if (o->u == SIZE_MAX ||
            coce_instrument_parse_name(o->name, &in, &perr) != COCE_OK)
            return coce_err_set(err, COCE_ESTATE,
                                "state: option position '%s' is not an "
                                "option of the sleeve's underlyings",
                                o->name);
        coce_sleeve_state *st = &e->sst[o->u];
        if (st->np >= COCE_SLEEVE_MAX_POS)
            return coce_err_set(err, COCE_ESTATE,
                                "state: more than %d options held",
                                COCE_SLEEVE_MAX_POS);
        coce_sleeve_pos *sp = &st->pos[st->np++];
        sp->type = in.option_type;
        sp->strike = in.strike;
        sp->expiry_ms = in.expiry_ms;
        sp->amount = p->qty;
        sp->abandoned = 0;
    }
    return b->last_processed_ms > 0 ? sleeve_restore_budget(e, err) : COCE_OK;
}

/* End of a run: the in-loop results' final marks (the back-test's final
 * value), then, for a back-test, the options closed at the model mid. */
int coce__engine_sleeve_finish(coce_engine *e, int64_t now, coce_err *err)
{
    for (size_t u = 0; u < e->sl.n_u; ++u) {
        coce_sleeve_result *r = &e->srep.res[u];
        r->final_value_coin = 0;
        r->final_value_usd = 0;
        r->n_open = e->sst[u].np;
        r->max_period_spend_usd = e->sst[u].max_period_spend_usd;
    }
    for (size_t i = 0; i < coce_book_position_count(e->book); ++i) {
        const coce_position *p = coce_book_position_at(e->book, i);
        if (!is_option(p->asset))
            continue;
        const opt_inst *o = &e->opt[p->asset - COCE_ENGINE_OPTION_BASE];
        if (o->u >= e->sl.n_u)
            continue;
        coce_sleeve_result *r = &e->srep.res[o->u];
        r->final_value_coin += p->qty * o->mark_coin;
        r->final_value_usd += p->qty * o->mark_coin * o->spot_usd;
    }
    for (size_t u = 0; u < e->sl.n_u; ++u) {
        coce_sleeve_result *r = &e->srep.res[u];
        r->pnl_coin = r->proceeds_coin + r->final_value_coin -
                      r->premium_coin - r->fees_coin;
        r->pnl_usd = r->proceeds_usd + r->final_value_usd - r->premium_usd -
                     r->fees_usd;
    }
    e->srep.premium_at_risk_base = coce__engine_sleeve_value_base(e);
    for (size_t i = 0; e->o.flatten_at_end &&
                       i < coce_book_position_count(e->book);
         ++i) {
        const coce_position *p = coce_book_position_at(e->book, i);
        if (!is_option(p->asset))
            continue;
        coce_fill f;
        memset(&f, 0, sizeof f);
        (void)snprintf(f.client_id, sizeof f.client_id, "coce-end-%llu",
                       (unsigned long long)++e->order_seq);
        f.asset = p->asset;
        f.side = COCE_SIDE_SELL;
        f.qty = p->qty;
        f.price = e->opt[p->asset - COCE_ENGINE_OPTION_BASE].mark_base;
        f.time_ms = now;
        e->sleeve_flow_base += f.qty * f.price;
        int rc = coce_book_apply_fill(e->book, &f, NULL, err);
        if (rc != COCE_OK)
            return rc;
        --i;
    }
    return COCE_OK;
}

/* ---- halts and the engine's setup ---------------------------------------- */

/* An option buy on Deribit: the cancel is journalled and the order stays in
 * the book (and blocks its kind) until the venue's answer to a query by
 * client id closes it, so that an execution racing the cancel still lands
 * once. A cancel that fails is asked again at the next halt check. */
int coce__engine_cancel_option(coce_engine *e, coce_open_order *o, int64_t now,
                               coce_err *err)
{
    if (o->status == COCE_ORDER_CANCEL_REQUESTED)
        return COCE_OK;
    coce_err xerr;
    coce_err_clear(&xerr);
    char id[COCE_CLIENT_ID_MAX];
    memcpy(id, o->client_id, sizeof id);
    int rc = e->ox.cancel(e->ox.impl, id, now, &xerr);
    if (rc != COCE_OK) {
        coce_log(COCE_LOG_WARN, "engine", "option_cancel_failed",
                 "{s:s, s:s}", "client_id", id, "why", xerr.msg);
        return COCE_OK; /* settled by client id at the next bar close */
    }
    (void)coce_book_order_update(e->book, id, COCE_ORDER_CANCEL_REQUESTED,
                                 o->filled);
    return coce__engine_journal_event(e, COCE_JOURNAL_CANCEL_REQ, id, now,
                                      "halt", err);
}
int coce__engine_sleeve_setup(coce_engine *e, const coce_engine_sleeve_opts *so,
                              coce_err *err)
{
    e->o.sleeve = NULL;
    if (so == NULL)
        return COCE_OK;
    if (e->o.feed_trade == NULL && so->deribit == NULL)
        return coce_err_set(err, COCE_ECONFIG,
                            "options sleeve: with a live spot venue the "
                            "sleeve's orders need the Deribit venue "
                            "(options.live; docs/options.md)");
    if (so->n_u == 0 || so->n_u > COCE_ENGINE_SLEEVE_MAX)
        return coce_err_set(err, COCE_EINVAL,
                            "options sleeve: %zu underlyings (1 to %d)",
                            so->n_u, COCE_ENGINE_SLEEVE_MAX);
    for (size_t u = 0; u < so->n_u; ++u) {
        int streamed = so->u[u].t_ms == NULL && so->u[u].n == 0;
        if (!streamed && (so->u[u].t_ms == NULL || so->u[u].px == NULL))
            return coce_err_set(err, COCE_EINVAL,
                                "options sleeve: %s: no price series",
                                so->u[u].name);
        e->ser_on[u] = streamed;
    }
    e->sl = *so;
    e->ser_on[COCE_ENGINE_SLEEVE_MAX] = so->base_streamed != 0;
    if (so->base_streamed) {
        e->sl.base_t_ms = NULL;
        e->sl.base_px = NULL;
        e->sl.base_n = 0;
    }
    if (so->deribit != NULL) {
        e->ox_on = 1;
        e->ox = coce_deribit_exchange(so->deribit);
    }
    e->sleeve_on = 1;
    e->srep.n_u = so->n_u;
    for (size_t u = 0; u < so->n_u; ++u) {
        coce_sleeve_state_init(&e->sst[u]);
        memcpy(e->srep.names[u], so->u[u].name, sizeof e->srep.names[u]);
        e->srep.res[u].first_trade = SIZE_MAX;
    }
    int rc = sleeve_restore(e, err);
    if (rc == COCE_OK && e->ox_on)
        rc = opt_venue_restore(e, err);
    return rc;
}

const coce_engine_sleeve_report *coce_engine_sleeve(const coce_engine *e)
{
    if (!e->sleeve_on)
        return NULL;
    coce_engine_sleeve_report *r = (coce_engine_sleeve_report *)&e->srep;
    r->day_ms = e->sday_ms;
    r->day_pnl_base = e->sday_pnl;
    r->n_days = e->n_sday;
    r->premium_at_risk_base = coce__engine_sleeve_value_base(e);
    r->pnl_base = e->sleeve_flow_base + r->premium_at_risk_base;
    return r;
}
