/* Fake Binance spot REST venue for tests; see fake_binance.h. The request
 * and answer shapes follow the Binance spot API documentation
 * (github.com/binance/binance-spot-api-docs, rest-api.md, filters.md,
 * errors.md). */
#include "fake_binance.h"

#include "fake_common.c"

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FB_MAX_SYMBOLS 16
#define FB_MAX_BALANCES 16
#define FB_MAX_FAULTS 16

typedef struct fb_symbol {
    char symbol[32], base[16], quote[16], status[16];
    char min_price[32], max_price[32], tick[32];
    char min_qty[32], max_qty[32], step[32];
    char min_notional[32], max_notional[32], commission[16];
    int has_notional, apply_min_to_market, legacy;
    double price;
} fb_symbol;

typedef struct fb_fault {
    char method[16], path[64];
    int any_method, any_path;
    coce_fake_bn_fault fault;
    int count, param;
} fb_fault;

typedef struct fb_hit {
    char method[16], path[64];
} fb_hit;

struct coce_fake_binance {
    struct MHD_Daemon *d;
    pthread_mutex_t mu;
    char key[256], secret[256];
    char url[64];
    int64_t offset_ms;
    int64_t weight; /* -1: count requests */
    int64_t requests_total;
    fb_symbol syms[FB_MAX_SYMBOLS];
    size_t n_syms;
    struct {
        char asset[16];
        double free_, locked;
    } bal[FB_MAX_BALANCES];
    size_t n_bal;
    fb_fault faults[FB_MAX_FAULTS];
    size_t n_faults;
    coce_fake_bn_order *orders;
    size_t n_orders, cap_orders;
    fb_hit *hits;
    size_t n_hits, cap_hits;
    int auth_failures;
    int64_t next_id;
};

/* ---- parameters ------------------------------------------------------- */

static int fb_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Value of `name` in an a=b&c=d string (URL-decoded into out); 1 if found. */
static int fb_param_in(const char *s, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = s;
    while (p && *p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t k = 0;
            for (size_t i = nl + 1; i < len && k + 1 < cap; i++) {
                if (p[i] == '%' && i + 2 < len + 1 &&
                    fb_hexval(p[i + 1]) >= 0 && fb_hexval(p[i + 2]) >= 0) {
                    out[k++] =
                        (char)(fb_hexval(p[i + 1]) * 16 + fb_hexval(p[i + 2]));
                    i += 2;
                } else if (p[i] == '+') {
                    out[k++] = ' ';
                } else {
                    out[k++] = p[i];
                }
            }
            out[k] = '\0';
            return 1;
        }
        p = amp ? amp + 1 : NULL;
    }
    return 0;
}

static int fb_param(const char *query, const char *body, const char *name,
                    char *out, size_t cap)
{
    /* rest-api.md: a parameter in both places takes the query string's. */
    return fb_param_in(query, name, out, cap) ||
           fb_param_in(body, name, out, cap);
}

/* Copies s without its "signature=..." parameter. */
static void fb_strip_signature(const char *s, char *out, size_t cap)
{
    const char *sig = strstr(s, "signature=");
    if (!sig || (sig != s && sig[-1] != '&')) {
        snprintf(out, cap, "%s", s);
        return;
    }
    const char *end = strchr(sig, '&');
    size_t head = (size_t)(sig - s);
    if (head > 0 && !end)
        head--; /* drop the '&' before a trailing signature */
    snprintf(out, cap, "%.*s%s", (int)head, s, end ? end + 1 : "");
}

/* ---- answers ----------------------------------------------------------- */

typedef struct fb_answer {
    unsigned status;
    char *body; /* malloc'd */
    int retry_after;
    int order_counts;
    int drop;
} fb_answer;

static void fb_json(fb_answer *a, unsigned status, json_t *j)
{
    a->status = status;
    a->body = json_dumps(j, JSON_COMPACT);
    json_decref(j);
}

static void fb_error(fb_answer *a, unsigned status, int code, const char *msg)
{
    /* rest-api.md, Error Codes: {"code": -1121, "msg": "Invalid symbol."} */
    fb_json(a, status, json_pack("{s:i, s:s}", "code", code, "msg", msg));
}

static fb_symbol *fb_sym(coce_fake_binance *f, const char *symbol)
{
    for (size_t i = 0; i < f->n_syms; i++)
        if (strcmp(f->syms[i].symbol, symbol) == 0)
            return &f->syms[i];
    return NULL;
}

static coce_fake_bn_order *fb_order(coce_fake_binance *f, const char *id)
{
    for (size_t i = 0; i < f->n_orders; i++)
        if (strcmp(f->orders[i].client_id, id) == 0)
            return &f->orders[i];
    return NULL;
}

static json_t *fb_symbol_json(const fb_symbol *s)
{
    json_t *filters = json_pack(
        "[{s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}]", "filterType",
        "PRICE_FILTER", "minPrice", s->min_price, "maxPrice", s->max_price,
        "tickSize", s->tick, "filterType", "LOT_SIZE", "minQty", s->min_qty,
        "maxQty", s->max_qty, "stepSize", s->step);
    if (s->has_notional && s->legacy)
        json_array_append_new(
            filters,
            json_pack("{s:s, s:s, s:b, s:i}", "filterType", "MIN_NOTIONAL",
                      "minNotional", s->min_notional, "applyToMarket",
                      s->apply_min_to_market, "avgPriceMins", 5));
    else if (s->has_notional)
        json_array_append_new(
            filters, json_pack("{s:s, s:s, s:b, s:s, s:b, s:i}", "filterType",
                               "NOTIONAL", "minNotional", s->min_notional,
                               "applyMinToMarket", s->apply_min_to_market,
                               "maxNotional", s->max_notional,
                               "applyMaxToMarket", 0, "avgPriceMins", 5));
    return json_pack("{s:s, s:s, s:s, s:s, s:o}", "symbol", s->symbol, "status",
                     s->status, "baseAsset", s->base, "quoteAsset", s->quote,
                     "filters", filters);
}

static json_t *fb_order_json(const coce_fake_bn_order *o)
{
    char qty[32], price[32], exec[32], quote[32];
    snprintf(qty, sizeof qty, "%.8f", o->qty);
    snprintf(price, sizeof price, "%.8f", o->market ? 0.0 : o->price);
    snprintf(exec, sizeof exec, "%.8f", o->executed);
    snprintf(quote, sizeof quote, "%.8f", o->cum_quote);
    return json_pack(
        "{s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
        " s:s, s:I, s:I, s:b}",
        "symbol", o->symbol, "orderId", (json_int_t)o->order_id, "orderListId",
        (json_int_t)-1, "clientOrderId", o->client_id, "price", price,
        "origQty", qty, "executedQty", exec, "cummulativeQuoteQty", quote,
        "status", o->status, "timeInForce", "GTC", "type",
        o->market ? "MARKET" : "LIMIT", "side", o->side > 0 ? "BUY" : "SELL",
        "time", (json_int_t)o->time_ms, "updateTime", (json_int_t)o->update_ms,
        "isWorking", !o->market);
}

/* Steps of `value` on `step` from `base` (filters.md: (v - min) % step). */
static int fb_on_grid(double value, double step)
{
    if (!(step > 0))
        return 1;
    double q = value / step;
    return fabs(q - nearbyint(q)) < 1e-6;
}

static void fb_new_order(coce_fake_binance *f, const char *q, const char *b,
                         fb_answer *a)
{
    char symbol[32], side[8], type[16], qty[32], price[32], id[64], tif[8];
    if (!fb_param(q, b, "symbol", symbol, sizeof symbol) ||
        !fb_param(q, b, "side", side, sizeof side) ||
        !fb_param(q, b, "type", type, sizeof type) ||
        !fb_param(q, b, "quantity", qty, sizeof qty)) {
        fb_error(a, 400, -1102, "Mandatory parameter was not sent.");
        return;
    }
    if (!fb_param(q, b, "newClientOrderId", id, sizeof id))
        snprintf(id, sizeof id, "auto%lld", (long long)f->next_id);
    fb_symbol *s = fb_sym(f, symbol);
    if (!s) {
        fb_error(a, 400, -1121, "Invalid symbol.");
        return;
    }
    int market = strcmp(type, "MARKET") == 0;
    if (!market && (!fb_param(q, b, "price", price, sizeof price) ||
                    !fb_param(q, b, "timeInForce", tif, sizeof tif))) {
        fb_error(a, 400, -1102, "Mandatory parameter was not sent.");
        return;
    }
    double qv = strtod(qty, NULL);
    double pv = market ? s->price : strtod(price, NULL);
    if (qv < strtod(s->min_qty, NULL) || qv > strtod(s->max_qty, NULL) ||
        !fb_on_grid(qv, strtod(s->step, NULL))) {
        fb_error(a, 400, -1013, "Filter failure: LOT_SIZE");
        return;
    }
    double max_price = strtod(s->max_price, NULL); /* 0: disabled */
    if (!market &&
        (pv < strtod(s->min_price, NULL) || (max_price > 0 && pv > max_price) ||
         !fb_on_grid(pv, strtod(s->tick, NULL)))) {
        fb_error(a, 400, -1013, "Filter failure: PRICE_FILTER");
        return;
    }
    if (s->has_notional && (!market || s->apply_min_to_market) &&
        (qv * pv < strtod(s->min_notional, NULL) ||
         (!market && qv * pv > strtod(s->max_notional, NULL)))) {
        fb_error(a, 400, -1013,
                 s->legacy ? "Filter failure: MIN_NOTIONAL"
                           : "Filter failure: NOTIONAL");
        return;
    }
    if (fb_order(f, id)) {
        fb_error(a, 400, -2010, "Duplicate order sent.");
        return;
    }
    if (f->n_orders == f->cap_orders) {
        f->cap_orders = f->cap_orders ? 2 * f->cap_orders : 16;
        f->orders = realloc(f->orders, f->cap_orders * sizeof *f->orders);
    }
    coce_fake_bn_order *o = &f->orders[f->n_orders++];
    memset(o, 0, sizeof *o);
    snprintf(o->client_id, sizeof o->client_id, "%s", id);
    snprintf(o->symbol, sizeof o->symbol, "%s", symbol);
    o->side = strcmp(side, "SELL") == 0 ? -1 : 1;
    o->market = market;
    o->qty = qv;
    o->price = pv;
    o->order_id = f->next_id++;
    o->time_ms = o->update_ms = coce_fake_now_ms() + f->offset_ms;
    json_t *fills = json_array();
    if (market) {
        /* Two fills, to exercise the FULL response's list. */
        double q1 = qv / 2;
        double parts[2] = {q1, qv - q1};
        for (int i = 0; i < 2; i++) {
            char pq[32], pp[32], fee[32];
            snprintf(pq, sizeof pq, "%.8f", parts[i]);
            snprintf(pp, sizeof pp, "%.8f", s->price);
            const char *fa = s->commission[0] ? s->commission : s->quote;
            if (strcmp(fa, s->quote) == 0)
                snprintf(fee, sizeof fee, "%.8f", parts[i] * s->price * 0.001);
            else if (strcmp(fa, s->base) == 0)
                snprintf(fee, sizeof fee, "%.8f", parts[i] * 0.001);
            else
                snprintf(fee, sizeof fee, "%.8f", 0.0001);
            json_array_append_new(
                fills,
                json_pack("{s:s, s:s, s:s, s:s, s:I}", "price", pp, "qty", pq,
                          "commission", fee, "commissionAsset", fa, "tradeId",
                          (json_int_t)(o->order_id * 10 + i)));
        }
        o->executed = qv;
        o->cum_quote = qv * s->price;
        snprintf(o->status, sizeof o->status, "FILLED");
    } else {
        snprintf(o->status, sizeof o->status, "NEW");
    }
    json_t *j = fb_order_json(o);
    json_object_set_new(j, "transactTime", json_integer(o->time_ms));
    json_object_set_new(j, "fills", fills);
    a->order_counts = 1;
    fb_json(a, 200, j);
}

/* Signed-endpoint checks in the documented order: key, timing, signature. */
static int fb_check_signed(coce_fake_binance *f, struct MHD_Connection *c,
                           const char *q, const char *b, fb_answer *a)
{
    const char *key =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-MBX-APIKEY");
    if (!key || !*key) {
        f->auth_failures++;
        fb_error(a, 401, -2014, "API-key format invalid.");
        return 0;
    }
    if (strcmp(key, f->key) != 0) {
        f->auth_failures++;
        fb_error(a, 401, -2015,
                 "Invalid API-key, IP, or permissions for action.");
        return 0;
    }
    char ts[32], rw[32] = "5000", sig[80];
    if (!fb_param(q, b, "timestamp", ts, sizeof ts) ||
        !fb_param(q, b, "signature", sig, sizeof sig)) {
        fb_error(a, 400, -1102, "Mandatory parameter was not sent.");
        return 0;
    }
    fb_param(q, b, "recvWindow", rw, sizeof rw);
    int64_t t = strtoll(ts, NULL, 10), window = strtoll(rw, NULL, 10);
    int64_t server = coce_fake_now_ms() + f->offset_ms;
    /* rest-api.md, Timing security. */
    if (!(t < server + 1000 && server - t <= window)) {
        f->auth_failures++;
        fb_error(a, 400, -1021,
                 "Timestamp for this request is outside of the recvWindow.");
        return 0;
    }
    size_t cap = strlen(q) + strlen(b) + 1;
    char *qs = malloc(cap), *bs = malloc(cap), *total = malloc(cap);
    fb_strip_signature(q, qs, cap);
    fb_strip_signature(b, bs, cap);
    /* totalParams = query string concatenated with the request body. */
    snprintf(total, cap, "%s%s", qs, bs);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    HMAC(EVP_sha256(), f->secret, (int)strlen(f->secret),
         (const unsigned char *)total, strlen(total), md, &md_len);
    char hex[65];
    for (unsigned i = 0; i < md_len && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    free(qs);
    free(bs);
    free(total);
    if (strcasecmp(hex, sig) != 0) {
        f->auth_failures++;
        fb_error(a, 400, -1022, "Signature for this request is not valid.");
        return 0;
    }
    return 1;
}

static void fb_route(coce_fake_binance *f, struct MHD_Connection *c,
                     const char *method, const char *path, const char *q,
                     const char *b, fb_answer *a)
{
    int get = strcmp(method, "GET") == 0;
    if (get && strcmp(path, "/api/v3/time") == 0) {
        fb_json(a, 200,
                json_pack("{s:I}", "serverTime",
                          (json_int_t)(coce_fake_now_ms() + f->offset_ms)));
        return;
    }
    if (get && strcmp(path, "/api/v3/exchangeInfo") == 0) {
        char symbol[32];
        int one = fb_param(q, b, "symbol", symbol, sizeof symbol);
        json_t *arr = json_array();
        for (size_t i = 0; i < f->n_syms; i++)
            if (!one || strcmp(symbol, f->syms[i].symbol) == 0)
                json_array_append_new(arr, fb_symbol_json(&f->syms[i]));
        if (one && json_array_size(arr) == 0) {
            json_decref(arr);
            fb_error(a, 400, -1121, "Invalid symbol.");
            return;
        }
        fb_json(a, 200,
                json_pack("{s:s, s:I, s:[], s:[], s:o}", "timezone", "UTC",
                          "serverTime",
                          (json_int_t)(coce_fake_now_ms() + f->offset_ms),
                          "rateLimits", "exchangeFilters", "symbols", arr));
        return;
    }
    if (get && strcmp(path, "/api/v3/avgPrice") == 0) {
        char symbol[32], price[32];
        fb_symbol *s = fb_param(q, b, "symbol", symbol, sizeof symbol)
                           ? fb_sym(f, symbol)
                           : NULL;
        if (!s) {
            fb_error(a, 400, -1121, "Invalid symbol.");
            return;
        }
        snprintf(price, sizeof price, "%.8f", s->price);
        fb_json(a, 200, json_pack("{s:i, s:s}", "mins", 5, "price", price));
        return;
    }
    int order = strcmp(path, "/api/v3/order") == 0;
    int open = get && strcmp(path, "/api/v3/openOrders") == 0;
    int account = get && strcmp(path, "/api/v3/account") == 0;
    if (!order && !open && !account) {
        fb_error(a, 404, -1000, "Unknown endpoint.");
        return;
    }
    if (!fb_check_signed(f, c, q, b, a))
        return;
    if (order && strcmp(method, "POST") == 0) {
        fb_new_order(f, q, b, a);
        return;
    }
    if (open) {
        char symbol[32];
        int one = fb_param(q, b, "symbol", symbol, sizeof symbol);
        json_t *arr = json_array();
        for (size_t i = 0; i < f->n_orders; i++) {
            const coce_fake_bn_order *o = &f->orders[i];
            if ((strcmp(o->status, "NEW") == 0 ||
                 strcmp(o->status, "PARTIALLY_FILLED") == 0) &&
                (!one || strcmp(o->symbol, symbol) == 0))
                json_array_append_new(arr, fb_order_json(o));
        }
        fb_json(a, 200, arr);
        return;
    }
    if (account) {
        json_t *arr = json_array();
        for (size_t i = 0; i < f->n_bal; i++) {
            char fr[32], lk[32];
            snprintf(fr, sizeof fr, "%.8f", f->bal[i].free_);
            snprintf(lk, sizeof lk, "%.8f", f->bal[i].locked);
            json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "asset",
                                                 f->bal[i].asset, "free", fr,
                                                 "locked", lk));
        }
        fb_json(a, 200,
                json_pack("{s:i, s:i, s:b, s:s, s:o}", "makerCommission", 10,
                          "takerCommission", 10, "canTrade", 1, "accountType",
                          "SPOT", "balances", arr));
        return;
    }
    char symbol[32], id[64];
    if (!fb_param(q, b, "symbol", symbol, sizeof symbol) ||
        !fb_param(q, b, "origClientOrderId", id, sizeof id)) {
        fb_error(a, 400, -1102, "Mandatory parameter was not sent.");
        return;
    }
    coce_fake_bn_order *o = fb_order(f, id);
    if (o && strcmp(o->symbol, symbol) != 0)
        o = NULL;
    if (get) {
        if (!o)
            fb_error(a, 400, -2013, "Order does not exist.");
        else
            fb_json(a, 200, fb_order_json(o));
        return;
    }
    if (strcmp(method, "DELETE") == 0) {
        if (!o || (strcmp(o->status, "NEW") != 0 &&
                   strcmp(o->status, "PARTIALLY_FILLED") != 0)) {
            fb_error(a, 400, -2011, "Unknown order sent.");
            return;
        }
        snprintf(o->status, sizeof o->status, "CANCELED");
        o->update_ms = coce_fake_now_ms() + f->offset_ms;
        json_t *j = fb_order_json(o);
        json_object_set_new(j, "origClientOrderId", json_string(o->client_id));
        fb_json(a, 200, j);
        return;
    }
    fb_error(a, 405, -1000, "Method not allowed.");
}

/* ---- MHD glue ---------------------------------------------------------- */

static int fb_take_fault(coce_fake_binance *f, const char *method,
                         const char *path, int *param)
{
    for (size_t i = 0; i < f->n_faults; i++) {
        fb_fault *x = &f->faults[i];
        if (x->count <= 0)
            continue;
        if (!x->any_method && strcmp(x->method, method) != 0)
            continue;
        if (!x->any_path && strcmp(x->path, path) != 0)
            continue;
        x->count--;
        *param = x->param;
        return (int)x->fault;
    }
    return 0;
}

static enum MHD_Result fb_handler(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    coce_fake_binance *f = cls;
    if (coce_fake_req_collect(con_cls, upload, upload_size))
        return MHD_YES;
    const coce_fake_req *r = *con_cls;
    const char *qm = strchr(r->uri, '?');
    const char *query = qm ? qm + 1 : "";
    fb_answer a;
    memset(&a, 0, sizeof a);
    a.retry_after = -1;
    int param = 0;
    pthread_mutex_lock(&f->mu);
    f->requests_total++;
    if (f->n_hits == f->cap_hits) {
        f->cap_hits = f->cap_hits ? 2 * f->cap_hits : 64;
        f->hits = realloc(f->hits, f->cap_hits * sizeof *f->hits);
    }
    snprintf(f->hits[f->n_hits].method, sizeof f->hits[0].method, "%s", method);
    snprintf(f->hits[f->n_hits].path, sizeof f->hits[0].path, "%s", url);
    f->n_hits++;
    int fault = fb_take_fault(f, method, url, &param);
    int64_t weight = f->weight >= 0 ? f->weight : f->requests_total;
    pthread_mutex_unlock(&f->mu);

    if (fault == COCE_FAKE_BN_SLOW)
        coce_fake_sleep_ms(param);
    if (fault == COCE_FAKE_BN_429 || fault == COCE_FAKE_BN_418) {
        fb_error(&a, fault == COCE_FAKE_BN_429 ? 429 : 418, -1003,
                 "Too much request weight used.");
        a.retry_after = param;
    } else if (fault == COCE_FAKE_BN_ERROR && (param == 0 || param == 1)) {
        a.status = param == 0 ? 403 : 404;
        a.body = strdup("<html><body>blocked</body></html>");
    } else if (fault == COCE_FAKE_BN_ERROR) {
        fb_error(&a, 400, param, "injected");
    } else if (fault == COCE_FAKE_BN_5XX && !param) {
        fb_error(&a, 503, -1001,
                 "Internal error; unable to process your request.");
    } else {
        pthread_mutex_lock(&f->mu);
        fb_route(f, c, method, url, query, r->body, &a);
        pthread_mutex_unlock(&f->mu);
        if (fault == COCE_FAKE_BN_DROP) {
            free(a.body);
            return MHD_NO; /* accepted, never answered */
        }
        if (fault == COCE_FAKE_BN_5XX) {
            free(a.body);
            fb_error(&a, 503, -1001,
                     "Internal error; unable to process your request.");
        }
        if (fault == COCE_FAKE_BN_MALFORMED) {
            size_t n = strlen(a.body);
            a.body[n / 2] = '\0';
        }
    }
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)weight);
    const char *extra[] = {"x-mbx-used-weight-1m",
                           num,
                           a.order_counts ? "X-MBX-ORDER-COUNT-10S" : NULL,
                           "1",
                           "X-MBX-ORDER-COUNT-1D",
                           "7",
                           NULL};
    return coce_fake_send(c, a.status, a.body, a.retry_after, extra);
}

int coce_fake_binance_start(const char *api_key, const char *secret,
                            coce_fake_binance **out)
{
    coce_fake_binance *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    pthread_mutex_init(&f->mu, NULL);
    snprintf(f->key, sizeof f->key, "%s", api_key);
    snprintf(f->secret, sizeof f->secret, "%s", secret);
    f->weight = -1;
    f->next_id = 1;
    f->d = coce_fake_listen(fb_handler, f, f->url, sizeof f->url);
    if (!f->d) {
        pthread_mutex_destroy(&f->mu);
        free(f);
        return -1;
    }
    *out = f;
    return 0;
}

void coce_fake_binance_stop(coce_fake_binance *f)
{
    if (!f)
        return;
    MHD_stop_daemon(f->d);
    pthread_mutex_destroy(&f->mu);
    free(f->orders);
    free(f->hits);
    free(f);
}

const char *coce_fake_binance_url(const coce_fake_binance *f)
{
    return f->url;
}

int coce_fake_binance_add_symbol(coce_fake_binance *f,
                                 const coce_fake_bn_symbol *s)
{
    pthread_mutex_lock(&f->mu);
    if (f->n_syms == FB_MAX_SYMBOLS) {
        pthread_mutex_unlock(&f->mu);
        return -1;
    }
    fb_symbol *d = &f->syms[f->n_syms++];
    memset(d, 0, sizeof *d);
    snprintf(d->symbol, sizeof d->symbol, "%s", s->symbol);
    snprintf(d->base, sizeof d->base, "%s", s->base);
    snprintf(d->quote, sizeof d->quote, "%s", s->quote);
    snprintf(d->status, sizeof d->status, "%s",
             s->status ? s->status : "TRADING");
    snprintf(d->min_price, sizeof d->min_price, "%s", s->min_price);
    snprintf(d->max_price, sizeof d->max_price, "%s", s->max_price);
    snprintf(d->tick, sizeof d->tick, "%s", s->tick);
    snprintf(d->min_qty, sizeof d->min_qty, "%s", s->min_qty);
    snprintf(d->max_qty, sizeof d->max_qty, "%s", s->max_qty);
    snprintf(d->step, sizeof d->step, "%s", s->step);
    d->has_notional = s->min_notional != NULL;
    snprintf(d->min_notional, sizeof d->min_notional, "%s",
             s->min_notional ? s->min_notional : "0");
    snprintf(d->max_notional, sizeof d->max_notional, "%s",
             s->max_notional ? s->max_notional : "9000000000.00000000");
    snprintf(d->commission, sizeof d->commission, "%s",
             s->commission_asset ? s->commission_asset : "");
    d->apply_min_to_market = s->apply_min_to_market;
    d->legacy = s->legacy_min_notional;
    d->price = s->price;
    pthread_mutex_unlock(&f->mu);
    return 0;
}

void coce_fake_binance_set_balance(coce_fake_binance *f, const char *asset,
                                   double free_, double locked)
{
    pthread_mutex_lock(&f->mu);
    if (f->n_bal < FB_MAX_BALANCES) {
        snprintf(f->bal[f->n_bal].asset, sizeof f->bal[0].asset, "%s", asset);
        f->bal[f->n_bal].free_ = free_;
        f->bal[f->n_bal].locked = locked;
        f->n_bal++;
    }
    pthread_mutex_unlock(&f->mu);
}

void coce_fake_binance_set_time_offset(coce_fake_binance *f, int64_t offset_ms)
{
    pthread_mutex_lock(&f->mu);
    f->offset_ms = offset_ms;
    pthread_mutex_unlock(&f->mu);
}

void coce_fake_binance_set_weight(coce_fake_binance *f, int64_t weight)
{
    pthread_mutex_lock(&f->mu);
    f->weight = weight;
    pthread_mutex_unlock(&f->mu);
}

void coce_fake_binance_fault(coce_fake_binance *f, const char *method,
                             const char *path, coce_fake_bn_fault fault,
                             int count, int param)
{
    pthread_mutex_lock(&f->mu);
    if (f->n_faults < FB_MAX_FAULTS) {
        fb_fault *x = &f->faults[f->n_faults++];
        memset(x, 0, sizeof *x);
        x->any_method = method == NULL;
        x->any_path = path == NULL;
        snprintf(x->method, sizeof x->method, "%s", method ? method : "");
        snprintf(x->path, sizeof x->path, "%s", path ? path : "");
        x->fault = fault;
        x->count = count;
        x->param = param;
    }
    pthread_mutex_unlock(&f->mu);
}

int coce_fake_binance_fill(coce_fake_binance *f, const char *client_id,
                           double qty, double price)
{
    pthread_mutex_lock(&f->mu);
    coce_fake_bn_order *o = fb_order(f, client_id);
    int rc = -1;
    if (o && o->executed + qty <= o->qty + 1e-12) {
        o->executed += qty;
        o->cum_quote += qty * price;
        o->update_ms = coce_fake_now_ms() + f->offset_ms;
        snprintf(o->status, sizeof o->status, "%s",
                 o->executed >= o->qty - 1e-12 ? "FILLED" : "PARTIALLY_FILLED");
        rc = 0;
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

int coce_fake_binance_set_status(coce_fake_binance *f, const char *client_id,
                                 const char *status)
{
    pthread_mutex_lock(&f->mu);
    coce_fake_bn_order *o = fb_order(f, client_id);
    if (o)
        snprintf(o->status, sizeof o->status, "%s", status);
    pthread_mutex_unlock(&f->mu);
    return o ? 0 : -1;
}

int coce_fake_binance_find(coce_fake_binance *f, const char *client_id,
                           coce_fake_bn_order *out)
{
    pthread_mutex_lock(&f->mu);
    int n = 0;
    for (size_t i = 0; i < f->n_orders; i++)
        if (strcmp(f->orders[i].client_id, client_id) == 0) {
            if (out && n == 0)
                *out = f->orders[i];
            n++;
        }
    pthread_mutex_unlock(&f->mu);
    return n;
}

size_t coce_fake_binance_order_count(coce_fake_binance *f)
{
    pthread_mutex_lock(&f->mu);
    size_t n = f->n_orders;
    pthread_mutex_unlock(&f->mu);
    return n;
}

int coce_fake_binance_requests(coce_fake_binance *f, const char *method,
                               const char *path)
{
    pthread_mutex_lock(&f->mu);
    int n = 0;
    for (size_t i = 0; i < f->n_hits; i++)
        if ((!method || strcmp(f->hits[i].method, method) == 0) &&
            (!path || strcmp(f->hits[i].path, path) == 0))
            n++;
    pthread_mutex_unlock(&f->mu);
    return n;
}

int coce_fake_binance_auth_failures(coce_fake_binance *f)
{
    pthread_mutex_lock(&f->mu);
    int n = f->auth_failures;
    pthread_mutex_unlock(&f->mu);
    return n;
}
