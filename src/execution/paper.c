/* Paper exchange; model and sources in paper.h. */
#include "execution/paper.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Asset ids are small interned integers; a larger one is a caller bug and
 * would make the direct-indexed asset table huge. */
#define PAPER_MAX_ASSET ((coce_asset_id)1 << 20)

typedef struct paper_order {
    coce_order_state st;
    double remaining; /* base units still to fill; exactly 0 when filled */
} paper_order;

typedef struct paper_asset {
    int known;
    double adv_notional; /* 0: unset */
    double sigma_daily;
    double position;
    coce_instrument_rules rules;
} paper_asset;

struct coce_paper {
    coce_paper_opts opts;
    double cash;
    int64_t last_trade_ms;
    int have_trade;
    paper_order *orders; /* every accepted order, placement order */
    size_t n_orders, cap_orders;
    size_t *working; /* indices of non-terminal orders, placement order */
    size_t n_working, cap_working;
    size_t *index; /* open addressing by client id: order index + 1, 0 empty */
    size_t cap_index;    /* power of two, load <= 1/2 */
    paper_asset *assets; /* indexed by asset id */
    size_t n_assets;
};

void coce_paper_opts_default(coce_paper_opts *opts)
{
    if (!opts)
        return;
    opts->maker_fee_bps = 10.0;
    opts->taker_fee_bps = 10.0;
    opts->impact_coef = 1.0;
    opts->participation = 0.1;
    opts->latency_ms = 100;
    opts->initial_cash = 0.0;
}

int coce_paper_new(const coce_paper_opts *opts, coce_paper **out, coce_err *err)
{
    if (!out)
        return coce_err_set(err, COCE_EINVAL, "paper: out is NULL");
    *out = NULL;
    coce_paper_opts o;
    coce_paper_opts_default(&o);
    if (opts)
        o = *opts;
    if (!isfinite(o.maker_fee_bps) || !isfinite(o.taker_fee_bps))
        return coce_err_set(err, COCE_EINVAL,
                            "paper: maker_fee_bps/taker_fee_bps not finite");
    if (!(o.impact_coef >= 0.0) || !isfinite(o.impact_coef))
        return coce_err_set(err, COCE_EINVAL,
                            "paper: impact_coef must be finite and >= 0");
    if (!(o.participation > 0.0 && o.participation <= 1.0))
        return coce_err_set(err, COCE_EINVAL,
                            "paper: participation must be in (0, 1]");
    if (o.latency_ms < 0)
        return coce_err_set(err, COCE_EINVAL, "paper: latency_ms must be >= 0");
    if (!isfinite(o.initial_cash))
        return coce_err_set(err, COCE_EINVAL, "paper: initial_cash not finite");
    coce_paper *p = calloc(1, sizeof *p);
    if (!p)
        return coce_err_set(err, COCE_ENOMEM, "paper: out of memory");
    p->opts = o;
    p->cash = o.initial_cash;
    *out = p;
    return COCE_OK;
}

void coce_paper_free(coce_paper *p)
{
    if (!p)
        return;
    free(p->orders);
    free(p->working);
    free(p->index);
    free(p->assets);
    free(p);
}

/* FNV-1a, 64-bit (Fowler, Noll & Vo). */
static uint64_t hash_id(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; ++s) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static int valid_client_id(const char *id)
{
    return id && id[0] && strnlen(id, COCE_CLIENT_ID_MAX) < COCE_CLIENT_ID_MAX;
}

static paper_order *find_order(const coce_paper *p, const char *id)
{
    if (!p->cap_index)
        return NULL;
    const size_t mask = p->cap_index - 1;
    for (size_t i = (size_t)hash_id(id) & mask;; i = (i + 1) & mask) {
        const size_t slot = p->index[i];
        if (!slot)
            return NULL;
        paper_order *o = &p->orders[slot - 1];
        if (strcmp(o->st.intent.client_id, id) == 0)
            return o;
    }
}

static void index_insert(size_t *index, size_t cap, const char *id, size_t slot)
{
    const size_t mask = cap - 1;
    size_t i = (size_t)hash_id(id) & mask;
    while (index[i])
        i = (i + 1) & mask;
    index[i] = slot;
}

static int grow(void **buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return COCE_OK;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap < need)
        ncap *= 2;
    void *nb = realloc(*buf, ncap * elem);
    if (!nb)
        return COCE_ENOMEM;
    *buf = nb;
    *cap = ncap;
    return COCE_OK;
}

/* Makes room for one more order in every table. */
static int reserve_order(coce_paper *p)
{
    if (grow((void **)&p->orders, &p->cap_orders, p->n_orders + 1,
             sizeof *p->orders) ||
        grow((void **)&p->working, &p->cap_working, p->n_working + 1,
             sizeof *p->working))
        return COCE_ENOMEM;
    if (2 * (p->n_orders + 1) <= p->cap_index)
        return COCE_OK;
    const size_t ncap = p->cap_index ? 2 * p->cap_index : 64;
    size_t *ni = calloc(ncap, sizeof *ni);
    if (!ni)
        return COCE_ENOMEM;
    for (size_t k = 0; k < p->n_orders; ++k)
        index_insert(ni, ncap, p->orders[k].st.intent.client_id, k + 1);
    free(p->index);
    p->index = ni;
    p->cap_index = ncap;
    return COCE_OK;
}

static paper_asset *asset_get(coce_paper *p, coce_asset_id asset, int create)
{
    if (asset >= PAPER_MAX_ASSET)
        return NULL;
    if ((size_t)asset >= p->n_assets) {
        if (!create)
            return NULL;
        const size_t n = (size_t)asset + 1;
        paper_asset *na = realloc(p->assets, n * sizeof *na);
        if (!na)
            return NULL;
        memset(na + p->n_assets, 0, (n - p->n_assets) * sizeof *na);
        p->assets = na;
        p->n_assets = n;
    }
    paper_asset *a = &p->assets[asset];
    if (!a->known && !create)
        return NULL;
    if (!a->known) {
        a->known = 1;
        a->rules.asset = asset;
    }
    return a;
}

int coce_paper_set_liquidity(coce_paper *p, coce_asset_id asset,
                             double adv_notional, double sigma_daily,
                             coce_err *err)
{
    if (!p || !(adv_notional > 0.0) || !isfinite(adv_notional) ||
        !(sigma_daily >= 0.0) || !isfinite(sigma_daily))
        return coce_err_set(err, COCE_EINVAL,
                            "paper: asset %u: adv_notional must be > 0 and "
                            "sigma_daily >= 0",
                            (unsigned)asset);
    paper_asset *a = asset_get(p, asset, 1);
    if (!a)
        return coce_err_set(err, COCE_EINVAL, "paper: asset id %u too large",
                            (unsigned)asset);
    a->adv_notional = adv_notional;
    a->sigma_daily = sigma_daily;
    return COCE_OK;
}

int coce_paper_set_rules(coce_paper *p, const coce_instrument_rules *rules,
                         coce_err *err)
{
    if (!p || !rules || !(rules->tick_size >= 0.0) ||
        !(rules->lot_size >= 0.0) || !(rules->min_qty >= 0.0) ||
        !(rules->min_notional >= 0.0))
        return coce_err_set(err, COCE_EINVAL,
                            "paper: rules: sizes must be >= 0");
    paper_asset *a = asset_get(p, rules->asset, 1);
    if (!a)
        return coce_err_set(err, COCE_EINVAL, "paper: asset id %u too large",
                            (unsigned)rules->asset);
    a->rules = *rules;
    return COCE_OK;
}

static int check_intent(const coce_order_intent *in, coce_err *err)
{
    if (!valid_client_id(in->client_id))
        return coce_err_set(err, COCE_EINVAL,
                            "paper: client_id empty or not terminated");
    if (in->side != COCE_SIDE_BUY && in->side != COCE_SIDE_SELL)
        return coce_err_set(err, COCE_EINVAL, "paper: order %s: bad side %d",
                            in->client_id, (int)in->side);
    if (!(in->qty > 0.0) || !isfinite(in->qty))
        return coce_err_set(err, COCE_EINVAL,
                            "paper: order %s: qty must be > 0", in->client_id);
    if (in->type == COCE_ORDER_LIMIT) {
        if (!(in->limit_price > 0.0) || !isfinite(in->limit_price))
            return coce_err_set(err, COCE_EINVAL,
                                "paper: order %s: limit_price must be > 0",
                                in->client_id);
    } else if (in->type != COCE_ORDER_MARKET) {
        return coce_err_set(err, COCE_EINVAL, "paper: order %s: bad type %d",
                            in->client_id, (int)in->type);
    }
    return COCE_OK;
}

int coce_paper_place(coce_paper *p, const coce_order_intent *intent,
                     int64_t now_ms, coce_err *err)
{
    if (!p || !intent)
        return coce_err_set(err, COCE_EINVAL, "paper: place: NULL argument");
    int rc = check_intent(intent, err);
    if (rc)
        return rc;
    const char *id = intent->client_id;
    if (find_order(p, id))
        return coce_err_set(err, COCE_EEXIST,
                            "paper: client_id '%s' already used", id);
    if (p->have_trade && now_ms < p->last_trade_ms)
        return coce_err_set(err, COCE_EORDER,
                            "paper: order %s placed at %lld, before the last "
                            "trade at %lld",
                            id, (long long)now_ms, (long long)p->last_trade_ms);
    paper_asset *a = asset_get(p, intent->asset, 1);
    if (!a)
        return coce_err_set(err, COCE_EINVAL,
                            "paper: order %s: asset id %u too large", id,
                            (unsigned)intent->asset);
    if (intent->qty < a->rules.min_qty ||
        (intent->type == COCE_ORDER_LIMIT &&
         intent->qty * intent->limit_price < a->rules.min_notional))
        return coce_err_set(err, COCE_EEXCHANGE,
                            "paper: order %s: below min_qty %g / "
                            "min_notional %g",
                            id, a->rules.min_qty, a->rules.min_notional);
    if (intent->type == COCE_ORDER_MARKET && !(a->adv_notional > 0.0))
        return coce_err_set(err, COCE_EDATA,
                            "paper: order %s: no ADV/sigma for asset %u "
                            "(coce_paper_set_liquidity)",
                            id, (unsigned)intent->asset);
    if (reserve_order(p))
        return coce_err_set(err, COCE_ENOMEM, "paper: out of memory");
    paper_order *o = &p->orders[p->n_orders];
    memset(o, 0, sizeof *o);
    o->st.intent = *intent;
    o->st.status = COCE_EXEC_PENDING;
    o->st.placed_ms = now_ms;
    o->st.active_ms = now_ms + p->opts.latency_ms;
    o->st.updated_ms = now_ms;
    o->remaining = intent->qty;
    index_insert(p->index, p->cap_index, id, p->n_orders + 1);
    p->working[p->n_working++] = p->n_orders++;
    return COCE_OK;
}

static void drop_terminal_working(coce_paper *p)
{
    size_t w = 0;
    for (size_t i = 0; i < p->n_working; ++i)
        if (!coce_exec_status_terminal(p->orders[p->working[i]].st.status))
            p->working[w++] = p->working[i];
    p->n_working = w;
}

int coce_paper_cancel(coce_paper *p, const char *client_id, int64_t now_ms,
                      coce_err *err)
{
    if (!p || !valid_client_id(client_id))
        return coce_err_set(err, COCE_EINVAL, "paper: cancel: bad argument");
    paper_order *o = find_order(p, client_id);
    if (!o)
        return coce_err_set(err, COCE_ENOTFOUND,
                            "paper: cancel: unknown client_id '%s'", client_id);
    if (coce_exec_status_terminal(o->st.status))
        return coce_err_set(err, COCE_EEXCHANGE,
                            "paper: cancel: order '%s' already %s", client_id,
                            coce_exec_status_name(o->st.status));
    o->st.status = COCE_EXEC_CANCELED;
    o->st.updated_ms = now_ms;
    drop_terminal_working(p);
    return COCE_OK;
}

int coce_paper_query(const coce_paper *p, const char *client_id,
                     coce_order_state *out, coce_err *err)
{
    if (!p || !out || !valid_client_id(client_id))
        return coce_err_set(err, COCE_EINVAL, "paper: query: bad argument");
    const paper_order *o = find_order(p, client_id);
    if (!o)
        return coce_err_set(err, COCE_ENOTFOUND,
                            "paper: query: unknown client_id '%s'", client_id);
    *out = o->st;
    return COCE_OK;
}

/* Fill rule of paper.h for one order against trade t; 0 when it does not
 * trade (inactive, other asset, limit not traded through). */
static int can_fill(const paper_order *o, const coce_trade *t)
{
    const coce_order_intent *in = &o->st.intent;
    if (in->asset != t->asset || t->time_ms <= o->st.active_ms)
        return 0;
    if (in->type == COCE_ORDER_MARKET)
        return 1;
    return in->side == COCE_SIDE_BUY ? t->price < in->limit_price
                                     : t->price > in->limit_price;
}

int coce_paper_on_trade(coce_paper *p, const coce_trade *t, coce_fill *fills,
                        size_t cap, size_t *n_fills)
{
    if (!p || !t || !n_fills || (cap && !fills) || !(t->price > 0.0) ||
        !isfinite(t->price) || !(t->qty >= 0.0) || !isfinite(t->qty))
        return COCE_EINVAL;
    *n_fills = 0;
    if (p->have_trade && t->time_ms < p->last_trade_ms)
        return COCE_EORDER;
    size_t need = 0;
    for (size_t i = 0; i < p->n_working; ++i)
        need += can_fill(&p->orders[p->working[i]], t) != 0;
    if (need > cap) {
        *n_fills = need;
        return COCE_ERANGE;
    }
    p->have_trade = 1;
    p->last_trade_ms = t->time_ms;
    double budget = p->opts.participation * t->qty;
    size_t n = 0;
    for (size_t i = 0; i < p->n_working; ++i) {
        paper_order *o = &p->orders[p->working[i]];
        if (o->st.status == COCE_EXEC_PENDING && t->time_ms > o->st.active_ms)
            o->st.status = COCE_EXEC_OPEN;
        if (!(budget > 0.0) || !can_fill(o, t))
            continue;
        const coce_order_intent *in = &o->st.intent;
        const double q = fmin(o->remaining, budget);
        double price, fee_bps;
        if (in->type == COCE_ORDER_MARKET) {
            const paper_asset *a = &p->assets[in->asset];
            const double notional = in->qty * t->price;
            const double impact = p->opts.impact_coef * a->sigma_daily *
                                  sqrt(notional / a->adv_notional);
            price = t->price * (1.0 + in->side * fmin(impact, 1.0));
            fee_bps = p->opts.taker_fee_bps;
        } else {
            price = in->limit_price;
            fee_bps = p->opts.maker_fee_bps;
        }
        const double fee = fee_bps * 1e-4 * q * price;
        budget -= q;
        o->remaining -= q;
        const double filled = o->st.filled_qty + q;
        o->st.avg_price =
            (o->st.avg_price * o->st.filled_qty + price * q) / filled;
        o->st.filled_qty = filled;
        o->st.fees += fee;
        o->st.updated_ms = t->time_ms;
        o->st.status =
            o->remaining > 0.0 ? COCE_EXEC_PARTIAL : COCE_EXEC_FILLED;
        p->assets[in->asset].position += in->side * q;
        p->cash -= in->side * q * price + fee;

        coce_fill *f = &fills[n++];
        memset(f, 0, sizeof *f);
        memcpy(f->client_id, in->client_id, sizeof f->client_id);
        f->asset = in->asset;
        f->side = in->side;
        f->qty = q;
        f->price = price;
        f->fee = fee;
        f->time_ms = t->time_ms;
    }
    *n_fills = n;
    drop_terminal_working(p);
    return COCE_OK;
}

int coce_paper_position(const coce_paper *p, coce_asset_id asset,
                        double *position, double *cash)
{
    if (!p || !position || !cash)
        return COCE_EINVAL;
    *cash = p->cash;
    *position = (size_t)asset < p->n_assets ? p->assets[asset].position : 0.0;
    return COCE_OK;
}

/* ---- vtable view ------------------------------------------------------ */

static int vt_place(void *impl, const coce_order_intent *intent, int64_t now_ms,
                    coce_fill *fills, size_t cap, size_t *n_fills,
                    coce_err *err)
{
    (void)fills;
    (void)cap;
    if (n_fills)
        *n_fills = 0;
    return coce_paper_place(impl, intent, now_ms, err);
}

static int vt_cancel(void *impl, const char *client_id, int64_t now_ms,
                     coce_err *err)
{
    return coce_paper_cancel(impl, client_id, now_ms, err);
}

static int vt_query(void *impl, const char *client_id, coce_order_state *out,
                    coce_err *err)
{
    return coce_paper_query(impl, client_id, out, err);
}

static int vt_open_orders(void *impl, coce_order_state *out, size_t cap,
                          size_t *n, coce_err *err)
{
    const coce_paper *p = impl;
    if (!p || !n || (cap && !out))
        return coce_err_set(err, COCE_EINVAL, "paper: open_orders: NULL");
    *n = p->n_working;
    for (size_t i = 0; i < p->n_working && i < cap; ++i)
        out[i] = p->orders[p->working[i]].st;
    if (p->n_working > cap)
        return coce_err_set(err, COCE_ERANGE,
                            "paper: open_orders: %zu orders, room for %zu",
                            p->n_working, cap);
    return COCE_OK;
}

static int vt_balances(void *impl, coce_balance *out, size_t cap, size_t *n,
                       coce_err *err)
{
    const coce_paper *p = impl;
    if (!p || !n || (cap && !out))
        return coce_err_set(err, COCE_EINVAL, "paper: balances: NULL");
    size_t k = 0;
    if (cap) {
        out[0].asset = COCE_ASSET_QUOTE;
        out[0].total = p->cash;
        out[0].locked = 0.0;
    }
    ++k;
    for (size_t a = 0; a < p->n_assets; ++a) {
        if (!p->assets[a].known)
            continue;
        if (k < cap) {
            out[k].asset = (coce_asset_id)a;
            out[k].total = p->assets[a].position;
            out[k].locked = 0.0;
        }
        ++k;
    }
    *n = k;
    if (k > cap)
        return coce_err_set(err, COCE_ERANGE,
                            "paper: balances: %zu entries, room for %zu", k,
                            cap);
    return COCE_OK;
}

static int vt_rules(void *impl, coce_asset_id asset, coce_instrument_rules *out,
                    coce_err *err)
{
    coce_paper *p = impl;
    if (!p || !out)
        return coce_err_set(err, COCE_EINVAL, "paper: instrument_rules: NULL");
    const paper_asset *a = asset_get(p, asset, 0);
    memset(out, 0, sizeof *out);
    out->asset = asset;
    if (a)
        *out = a->rules;
    return COCE_OK;
}

/* The signature is the vtable's. */
// cppcheck-suppress constParameter
static int vt_poll_fills(void *impl, coce_fill *fills, size_t cap,
                         size_t *n_fills, coce_err *err)
{
    (void)fills;
    (void)cap;
    if (!impl || !n_fills)
        return coce_err_set(err, COCE_EINVAL, "paper: poll_fills: NULL");
    *n_fills = 0;
    return COCE_OK;
}

coce_exchange coce_paper_exchange(coce_paper *p)
{
    coce_exchange ex = {
        .name = "paper",
        .impl = p,
        .place = vt_place,
        .cancel = vt_cancel,
        .query_by_client_id = vt_query,
        .open_orders = vt_open_orders,
        .balances = vt_balances,
        .instrument_rules = vt_rules,
        .poll_fills = vt_poll_fills,
    };
    return ex;
}
