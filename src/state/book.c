#include "state/book.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Doubles the capacity of *arr when full. */
static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return COCE_OK;
    size_t next = *cap == 0 ? 8 : *cap * 2;
    void *p = realloc(*arr, next * elem);
    if (p == NULL)
        return COCE_ENOMEM;
    *arr = p;
    *cap = next;
    return COCE_OK;
}

static int copy_text(char *dst, size_t cap, const char *src)
{
    if (src == NULL)
        src = "";
    size_t len = strlen(src);
    if (len >= cap)
        return COCE_EINVAL;
    memcpy(dst, src, len + 1);
    return COCE_OK;
}

int coce_book_new(double initial_cash, coce_book **out)
{
    if (out == NULL)
        return COCE_EINVAL;
    *out = NULL;
    if (!isfinite(initial_cash) || initial_cash < 0)
        return COCE_EINVAL;
    coce_book *b = calloc(1, sizeof *b);
    if (b == NULL)
        return COCE_ENOMEM;
    b->cash = initial_cash;
    b->peak_equity = initial_cash;
    b->trading_since_ms = INT64_MIN;
    *out = b;
    return COCE_OK;
}

void coce_book_free(coce_book *b)
{
    if (b == NULL)
        return;
    free(b->positions);
    free(b->trades);
    free(b->equity);
    free(b->orders);
    free(b->symbols);
    free(b);
}

/* ---- symbols ---------------------------------------------------------- */

const char *coce_book_symbol(const coce_book *b, coce_asset_id asset)
{
    if (b == NULL)
        return NULL;
    for (size_t i = 0; i < b->n_symbols; ++i)
        if (b->symbols[i].asset == asset)
            return b->symbols[i].symbol;
    return NULL;
}

int coce_book_asset_by_symbol(const coce_book *b, const char *symbol,
                              coce_asset_id *out)
{
    if (b == NULL || symbol == NULL || out == NULL)
        return COCE_EINVAL;
    for (size_t i = 0; i < b->n_symbols; ++i) {
        if (strcmp(b->symbols[i].symbol, symbol) == 0) {
            *out = b->symbols[i].asset;
            return COCE_OK;
        }
    }
    return COCE_ENOTFOUND;
}

/* Checks that (asset, symbol) may be registered; *known tells whether it
 * already is. */
static int check_symbol(const coce_book *b, coce_asset_id asset,
                        const char *symbol, int *known, coce_err *err)
{
    *known = 0;
    const char *have = coce_book_symbol(b, asset);
    if (symbol == NULL) {
        if (have == NULL)
            return coce_err_set(err, COCE_EINVAL,
                                "book: asset %u has no symbol", asset);
        *known = 1;
        return COCE_OK;
    }
    if (symbol[0] == '\0' || strlen(symbol) >= COCE_BOOK_SYMBOL_MAX)
        return coce_err_set(err, COCE_EINVAL,
                            "book: asset %u: symbol empty or too long", asset);
    if (have != NULL) {
        if (strcmp(have, symbol) != 0)
            return coce_err_set(err, COCE_EINVAL,
                                "book: asset %u is '%s', not '%s'", asset, have,
                                symbol);
        *known = 1;
        return COCE_OK;
    }
    coce_asset_id other;
    if (coce_book_asset_by_symbol(b, symbol, &other) == COCE_OK)
        return coce_err_set(err, COCE_EINVAL,
                            "book: symbol '%s' is asset %u, not %u", symbol,
                            other, asset);
    return COCE_OK;
}

int coce_book_set_symbol(coce_book *b, coce_asset_id asset, const char *symbol,
                         coce_err *err)
{
    if (b == NULL || symbol == NULL)
        return coce_err_set(err, COCE_EINVAL, "book: bad arguments");
    int known;
    int rc = check_symbol(b, asset, symbol, &known, err);
    if (rc != COCE_OK || known)
        return rc;
    if (grow((void **)&b->symbols, &b->cap_symbols, b->n_symbols,
             sizeof *b->symbols) != COCE_OK)
        return coce_err_set(err, COCE_ENOMEM, "book: out of memory");
    coce_symbol_entry *e = &b->symbols[b->n_symbols++];
    e->asset = asset;
    (void)copy_text(e->symbol, sizeof e->symbol, symbol);
    return COCE_OK;
}

/* ---- positions and fills ---------------------------------------------- */

static size_t position_index(const coce_book *b, coce_asset_id asset)
{
    for (size_t i = 0; i < b->n_positions; ++i)
        if (b->positions[i].asset == asset)
            return i;
    return (size_t)-1;
}

const coce_position *coce_book_position(const coce_book *b, coce_asset_id asset)
{
    if (b == NULL)
        return NULL;
    size_t i = position_index(b, asset);
    return i == (size_t)-1 ? NULL : &b->positions[i];
}

size_t coce_book_position_count(const coce_book *b)
{
    return b == NULL ? 0 : b->n_positions;
}

const coce_position *coce_book_position_at(const coce_book *b, size_t i)
{
    if (b == NULL || i >= b->n_positions)
        return NULL;
    return &b->positions[i];
}

int coce_book_check_fill(const coce_book *b, const coce_fill *f,
                         const char *symbol, coce_err *err)
{
    if (b == NULL || f == NULL)
        return coce_err_set(err, COCE_EINVAL, "book: bad arguments");
    const char *cid = f->client_id;
    if (memchr(cid, '\0', sizeof f->client_id) == NULL)
        return coce_err_set(err, COCE_EINVAL,
                            "book: fill: client_id not terminated");
    if (f->side != COCE_SIDE_BUY && f->side != COCE_SIDE_SELL)
        return coce_err_set(err, COCE_EINVAL, "book: fill '%s': side %d", cid,
                            (int)f->side);
    if (!isfinite(f->qty) || f->qty <= 0)
        return coce_err_set(err, COCE_EINVAL, "book: fill '%s': qty %g", cid,
                            f->qty);
    /* a sell may be at 0: an option expiring worthless settles at 0 */
    if (!isfinite(f->price) || f->price < 0 ||
        (f->price == 0 && f->side == COCE_SIDE_BUY))
        return coce_err_set(err, COCE_EINVAL, "book: fill '%s': price %g", cid,
                            f->price);
    if (!isfinite(f->fee))
        return coce_err_set(err, COCE_EINVAL, "book: fill '%s': fee %g", cid,
                            f->fee);
    int known;
    int rc = check_symbol(b, f->asset, symbol, &known, err);
    if (rc != COCE_OK)
        return rc;
    if (f->side == COCE_SIDE_SELL) {
        const coce_position *p = coce_book_position(b, f->asset);
        double held = p == NULL ? 0.0 : p->qty;
        if (f->qty > held * (1.0 + COCE_BOOK_QTY_RTOL))
            return coce_err_set(
                err, COCE_EINVAL,
                "book: fill '%s': sell of %.17g %s exceeds "
                "the position %.17g (spot: no shorts)",
                cid, f->qty,
                symbol != NULL ? symbol : coce_book_symbol(b, f->asset), held);
    }
    return COCE_OK;
}

static void fill_open_order(coce_book *b, const coce_fill *f)
{
    if (f->client_id[0] == '\0')
        return;
    coce_open_order *o = coce_book_order_find(b, f->client_id);
    if (o == NULL)
        return;
    o->filled += f->qty;
    if (o->filled >= o->qty * (1.0 - COCE_BOOK_QTY_RTOL))
        (void)coce_book_order_remove(b, f->client_id);
    else
        o->status = COCE_ORDER_PARTIAL;
}

static int apply_buy(coce_book *b, const coce_fill *f, const char *symbol)
{
    size_t i = position_index(b, f->asset);
    if (i == (size_t)-1) {
        if (grow((void **)&b->positions, &b->cap_positions, b->n_positions,
                 sizeof *b->positions) != COCE_OK)
            return COCE_ENOMEM;
        i = b->n_positions++;
        coce_position *p = &b->positions[i];
        memset(p, 0, sizeof *p);
        p->asset = f->asset;
        (void)copy_text(p->symbol, sizeof p->symbol, symbol);
        p->qty = f->qty;
        p->avg_price = f->price;
        p->entry_ms = f->time_ms;
        p->high_price = f->price;
        p->entry_fees = f->fee;
    } else {
        coce_position *p = &b->positions[i];
        double qty = p->qty + f->qty;
        p->avg_price = (p->qty * p->avg_price + f->qty * f->price) / qty;
        p->qty = qty;
        p->entry_fees += f->fee;
        if (f->price > p->high_price)
            p->high_price = f->price;
    }
    b->cash -= f->qty * f->price + f->fee;
    return COCE_OK;
}

static int apply_sell(coce_book *b, const coce_fill *f)
{
    size_t i = position_index(b, f->asset);
    coce_position *p = &b->positions[i];
    int closes = f->qty >= p->qty * (1.0 - COCE_BOOK_QTY_RTOL);
    if (closes && grow((void **)&b->trades, &b->cap_trades, b->n_trades,
                       sizeof *b->trades) != COCE_OK)
        return COCE_ENOMEM;
    double fee_share = closes ? p->entry_fees : p->entry_fees * f->qty / p->qty;
    double pnl = (f->price - p->avg_price) * f->qty - f->fee - fee_share;
    b->cash += f->qty * f->price - f->fee;
    b->realised_pnl += pnl;
    p->entry_fees -= fee_share;
    p->rt_qty += f->qty;
    p->rt_cost += p->avg_price * f->qty;
    p->rt_proceeds += f->price * f->qty;
    p->rt_pnl += pnl;
    if (!closes) {
        p->qty -= f->qty;
        return COCE_OK;
    }
    coce_closed_trade *t = &b->trades[b->n_trades++];
    memset(t, 0, sizeof *t);
    t->asset = p->asset;
    memcpy(t->symbol, p->symbol, sizeof t->symbol);
    t->entry_ms = p->entry_ms;
    t->exit_ms = f->time_ms;
    t->qty = p->rt_qty;
    t->entry_price = p->rt_cost / p->rt_qty;
    t->exit_price = p->rt_proceeds / p->rt_qty;
    t->pnl = p->rt_pnl;
    memmove(p, p + 1, (b->n_positions - i - 1) * sizeof *p);
    b->n_positions--;
    return COCE_OK;
}

int coce_book_apply_fill(coce_book *b, const coce_fill *f, const char *symbol,
                         coce_err *err)
{
    int rc = coce_book_check_fill(b, f, symbol, err);
    if (rc != COCE_OK)
        return rc;
    if (symbol == NULL)
        symbol = coce_book_symbol(b, f->asset);
    /* Reserve the symbol slot first so that no later step can fail after
     * the book has changed. */
    rc = coce_book_set_symbol(b, f->asset, symbol, err);
    if (rc != COCE_OK)
        return rc;
    rc = f->side == COCE_SIDE_BUY ? apply_buy(b, f, symbol) : apply_sell(b, f);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "book: out of memory");
    b->fees_paid += f->fee;
    b->trade_count++;
    fill_open_order(b, f);
    return COCE_OK;
}

/* ---- equity ----------------------------------------------------------- */

static int price_of(const coce_position *p, const double *prices,
                    size_t n_prices, double *out, coce_err *err)
{
    if (prices == NULL || p->asset >= n_prices || !isfinite(prices[p->asset]) ||
        prices[p->asset] <= 0)
        return coce_err_set(err, COCE_EDATA, "book: no price for %s (asset %u)",
                            p->symbol, p->asset);
    *out = prices[p->asset];
    return COCE_OK;
}

int coce_book_equity(const coce_book *b, const double *prices, size_t n_prices,
                     double *out, coce_err *err)
{
    if (b == NULL || out == NULL)
        return coce_err_set(err, COCE_EINVAL, "book: bad arguments");
    double eq = b->cash;
    for (size_t i = 0; i < b->n_positions; ++i) {
        double px = 0.0;
        int rc = price_of(&b->positions[i], prices, n_prices, &px, err);
        if (rc != COCE_OK)
            return rc;
        eq += b->positions[i].qty * px;
    }
    *out = eq;
    return COCE_OK;
}

int coce_book_mark(coce_book *b, const double *prices, size_t n_prices,
                   coce_err *err)
{
    if (b == NULL)
        return coce_err_set(err, COCE_EINVAL, "book: bad arguments");
    /* Check every price first: all or nothing. */
    for (size_t i = 0; i < b->n_positions; ++i) {
        double px = 0.0;
        int rc = price_of(&b->positions[i], prices, n_prices, &px, err);
        if (rc != COCE_OK)
            return rc;
    }
    for (size_t i = 0; i < b->n_positions; ++i) {
        coce_position *p = &b->positions[i];
        if (prices[p->asset] > p->high_price)
            p->high_price = prices[p->asset];
    }
    return COCE_OK;
}

int coce_book_mark_one(coce_book *b, coce_asset_id asset, double price)
{
    if (b == NULL || !isfinite(price) || price <= 0)
        return COCE_EINVAL;
    for (size_t i = 0; i < b->n_positions; ++i) {
        coce_position *p = &b->positions[i];
        if (p->asset == asset && price > p->high_price)
            p->high_price = price;
    }
    return COCE_OK;
}

int coce_book_record_equity(coce_book *b, int64_t time_ms, double equity,
                            coce_err *err)
{
    if (b == NULL || !isfinite(equity))
        return coce_err_set(err, COCE_EINVAL, "book: equity not finite");
    if (b->n_equity > 0 && time_ms < b->equity[b->n_equity - 1].time_ms)
        return coce_err_set(
            err, COCE_EORDER, "book: equity at %lld before last at %lld",
            (long long)time_ms, (long long)b->equity[b->n_equity - 1].time_ms);
    coce_equity_point e = {time_ms, equity};
    if (coce__book_push_equity(b, &e) != COCE_OK)
        return coce_err_set(err, COCE_ENOMEM, "book: out of memory");
    if (equity > b->peak_equity)
        b->peak_equity = equity;
    return COCE_OK;
}

double coce_book_drawdown(const coce_book *b)
{
    if (b == NULL || b->n_equity == 0 || b->peak_equity <= 0)
        return 0.0;
    double last = b->equity[b->n_equity - 1].equity;
    return last >= b->peak_equity ? 0.0
                                  : (b->peak_equity - last) / b->peak_equity;
}

/* ---- open orders ------------------------------------------------------ */

static size_t order_index(const coce_book *b, const char *client_id)
{
    for (size_t i = 0; i < b->n_orders; ++i)
        if (strcmp(b->orders[i].client_id, client_id) == 0)
            return i;
    return (size_t)-1;
}

int coce_book_order_add(coce_book *b, const coce_open_order *o, coce_err *err)
{
    if (b == NULL || o == NULL)
        return coce_err_set(err, COCE_EINVAL, "book: bad arguments");
    if (memchr(o->client_id, '\0', sizeof o->client_id) == NULL ||
        o->client_id[0] == '\0' ||
        memchr(o->exchange_order_id, '\0', sizeof o->exchange_order_id) == NULL)
        return coce_err_set(err, COCE_EINVAL,
                            "book: order: client_id empty or too long");
    if (order_index(b, o->client_id) != (size_t)-1)
        return coce_err_set(err, COCE_EEXIST, "book: order '%s' already open",
                            o->client_id);
    if ((o->side != COCE_SIDE_BUY && o->side != COCE_SIDE_SELL) ||
        !isfinite(o->qty) || o->qty <= 0 || !isfinite(o->filled) ||
        !isfinite(o->limit_price) || coce_order_status_name(o->status) == NULL)
        return coce_err_set(err, COCE_EINVAL, "book: order '%s': bad fields",
                            o->client_id);
    if (grow((void **)&b->orders, &b->cap_orders, b->n_orders,
             sizeof *b->orders) != COCE_OK)
        return coce_err_set(err, COCE_ENOMEM, "book: out of memory");
    b->orders[b->n_orders++] = *o;
    return COCE_OK;
}

coce_open_order *coce_book_order_find(coce_book *b, const char *client_id)
{
    if (b == NULL || client_id == NULL)
        return NULL;
    size_t i = order_index(b, client_id);
    return i == (size_t)-1 ? NULL : &b->orders[i];
}

int coce_book_order_update(coce_book *b, const char *client_id,
                           coce_order_status status, double filled)
{
    if (coce_order_status_name(status) == NULL || !isfinite(filled))
        return COCE_EINVAL;
    coce_open_order *o = coce_book_order_find(b, client_id);
    if (o == NULL)
        return COCE_ENOTFOUND;
    o->status = status;
    o->filled = filled;
    return COCE_OK;
}

int coce_book_order_remove(coce_book *b, const char *client_id)
{
    if (b == NULL || client_id == NULL)
        return COCE_EINVAL;
    size_t i = order_index(b, client_id);
    if (i == (size_t)-1)
        return COCE_ENOTFOUND;
    memmove(&b->orders[i], &b->orders[i + 1],
            (b->n_orders - i - 1) * sizeof *b->orders);
    b->n_orders--;
    return COCE_OK;
}

static const char *const status_names[] = {"pending", "open", "partial",
                                           "cancel_requested", "unknown"};

const char *coce_order_status_name(coce_order_status status)
{
    if ((unsigned)status >= sizeof status_names / sizeof status_names[0])
        return NULL;
    return status_names[status];
}

int coce_order_status_parse(const char *text, coce_order_status *out)
{
    if (text == NULL || out == NULL)
        return COCE_EINVAL;
    for (size_t i = 0; i < sizeof status_names / sizeof status_names[0]; ++i) {
        if (strcmp(text, status_names[i]) == 0) {
            *out = (coce_order_status)i;
            return COCE_OK;
        }
    }
    return COCE_EINVAL;
}

/* ---- text fields and kill-switch ------------------------------------- */

int coce_book_set_run(coce_book *b, const char *run_id, const char *config_hash)
{
    if (b == NULL || run_id == NULL || config_hash == NULL ||
        strlen(run_id) >= sizeof b->run_id ||
        strlen(config_hash) >= sizeof b->config_hash)
        return COCE_EINVAL;
    (void)copy_text(b->run_id, sizeof b->run_id, run_id);
    (void)copy_text(b->config_hash, sizeof b->config_hash, config_hash);
    return COCE_OK;
}

int coce_book_set_model_version(coce_book *b, const char *version)
{
    if (b == NULL)
        return COCE_EINVAL;
    return copy_text(b->model_version, sizeof b->model_version, version);
}

int coce_book_halt(coce_book *b, const char *reason, int64_t time_ms,
                   double sharpe_7d, double hit_rate_7d, double drawdown)
{
    if (b == NULL || reason == NULL || strlen(reason) >= sizeof b->kill.reason)
        return COCE_EINVAL;
    b->kill.halted = 1;
    (void)copy_text(b->kill.reason, sizeof b->kill.reason, reason);
    b->kill.time_ms = time_ms;
    b->kill.sharpe_7d = sharpe_7d;
    b->kill.hit_rate_7d = hit_rate_7d;
    b->kill.drawdown = drawdown;
    return COCE_OK;
}

void coce_book_resume(coce_book *b)
{
    if (b != NULL)
        b->kill.halted = 0;
}

/* ---- internal: loader ------------------------------------------------- */

int coce__book_push_position(coce_book *b, const coce_position *p)
{
    if (grow((void **)&b->positions, &b->cap_positions, b->n_positions,
             sizeof *b->positions) != COCE_OK)
        return COCE_ENOMEM;
    b->positions[b->n_positions++] = *p;
    return COCE_OK;
}

int coce__book_push_trade(coce_book *b, const coce_closed_trade *t)
{
    if (grow((void **)&b->trades, &b->cap_trades, b->n_trades,
             sizeof *b->trades) != COCE_OK)
        return COCE_ENOMEM;
    b->trades[b->n_trades++] = *t;
    return COCE_OK;
}

int coce__book_push_equity(coce_book *b, const coce_equity_point *e)
{
    if (grow((void **)&b->equity, &b->cap_equity, b->n_equity,
             sizeof *b->equity) != COCE_OK)
        return COCE_ENOMEM;
    b->equity[b->n_equity++] = *e;
    return COCE_OK;
}
