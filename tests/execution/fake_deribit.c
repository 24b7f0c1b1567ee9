/* Fake Deribit JSON-RPC venue for tests; see fake_deribit.h. Answer shapes
 * follow the Deribit API v2.1.1 method pages (public/auth, private/buy,
 * private/get_order_state_by_label, ...) and "RPC Error Codes". */
#include "fake_deribit.h"

#include "fake_common.c"

#include <jansson.h>
#include <microhttpd.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FD_MAX_INST 16
#define FD_MAX_FAULTS 16
#define FD_MAX_TOKENS 64

typedef struct fd_inst {
    coce_fake_db_instrument spec;
    char name[64];
    double position;
} fd_inst;

typedef struct fd_fault {
    char method[64];
    int any;
    coce_fake_db_fault fault;
    int count, param;
} fd_fault;

typedef struct fd_token {
    char access[48], refresh[48];
    int64_t expires_ms;
} fd_token;

struct coce_fake_deribit {
    struct MHD_Daemon *d;
    pthread_mutex_t mu;
    char client_id[128], secret[128];
    char url[64];
    int ttl_s;
    fd_inst inst[FD_MAX_INST];
    size_t n_inst;
    double balance, available;
    fd_fault faults[FD_MAX_FAULTS];
    size_t n_faults;
    fd_token tokens[FD_MAX_TOKENS];
    size_t n_tokens;
    int64_t token_seq;
    coce_fake_db_order *orders;
    size_t n_orders, cap_orders;
    char (*hits)[64];
    size_t n_hits, cap_hits;
    int grants_cc, grants_refresh, auth_failures;
    int64_t next_order;
    char last_body[4096];
};

typedef struct fd_answer {
    unsigned status;
    json_t *result; /* or */
    int err_code;
    char err_msg[96];
    char err_reason[96];
    int retry_after;
} fd_answer;

static void fd_error(fd_answer *a, int code, const char *msg,
                     const char *reason)
{
    a->status = code == 10028 ? 429 : 400;
    a->err_code = code;
    snprintf(a->err_msg, sizeof a->err_msg, "%s", msg);
    snprintf(a->err_reason, sizeof a->err_reason, "%s", reason ? reason : "");
}

static void fd_ok(fd_answer *a, json_t *result)
{
    a->status = 200;
    a->result = result;
}

static fd_inst *fd_inst_named(coce_fake_deribit *f, const char *name)
{
    for (size_t i = 0; i < f->n_inst; i++)
        if (strcmp(f->inst[i].name, name) == 0)
            return &f->inst[i];
    return NULL;
}

static int fd_on_grid(double v, double step)
{
    if (!(step > 0))
        return 1;
    double q = v / step;
    return fabs(q - nearbyint(q)) < 1e-6;
}

static const char *fd_ccy(const char *name, char out[16])
{
    const char *dash = strchr(name, '-');
    size_t n = dash ? (size_t)(dash - name) : strlen(name);
    const char *us = memchr(name, '_', n);
    const char *s = us ? us + 1 : name;
    snprintf(out, 16, "%.*s", (int)(name + n - s), s);
    return out;
}

static json_t *fd_order_json(const coce_fake_db_order *o)
{
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:s, s:s, s:I, s:I, s:s, s:b,"
        " s:b, s:b}",
        "order_id", o->order_id, "label", o->label, "instrument_name",
        o->instrument, "direction", o->side > 0 ? "buy" : "sell", "amount",
        o->amount, "filled_amount", o->filled, "average_price",
        o->filled > 0 ? o->filled_value / o->filled : 0.0, "order_state",
        o->state, "order_type", o->market ? "market" : "limit",
        "creation_timestamp", (json_int_t)o->created_ms,
        "last_update_timestamp", (json_int_t)o->updated_ms, "time_in_force",
        "good_til_cancelled", "api", 1, "post_only", 0, "reduce_only",
        o->side < 0);
    if (o->market)
        json_object_set_new(j, "price", json_string("market_price"));
    else
        json_object_set_new(j, "price", json_real(o->price));
    return j;
}

static coce_fake_db_order *fd_new_order(coce_fake_deribit *f)
{
    if (f->n_orders == f->cap_orders) {
        f->cap_orders = f->cap_orders ? 2 * f->cap_orders : 16;
        f->orders = realloc(f->orders, f->cap_orders * sizeof *f->orders);
    }
    coce_fake_db_order *o = &f->orders[f->n_orders++];
    memset(o, 0, sizeof *o);
    snprintf(o->order_id, sizeof o->order_id, "%lld",
             (long long)f->next_order++);
    o->created_ms = o->updated_ms = coce_fake_now_ms();
    return o;
}

static void fd_apply_fill(fd_inst *in, coce_fake_db_order *o, double amount,
                          double price)
{
    o->filled += amount;
    o->filled_value += amount * price;
    o->updated_ms = coce_fake_now_ms();
    in->position += o->side * amount;
    snprintf(o->state, sizeof o->state, "%s",
             o->filled >= o->amount - 1e-12 ? "filled" : "open");
}

static void fd_order(coce_fake_deribit *f, const json_t *p, int side,
                     fd_answer *a)
{
    const char *name = json_string_value(json_object_get(p, "instrument_name"));
    fd_inst *in = name ? fd_inst_named(f, name) : NULL;
    if (!in) {
        fd_error(a, 10020, "invalid_or_unsupported_instrument", NULL);
        return;
    }
    const json_t *vu = json_object_get(p, "valid_until");
    if (json_is_integer(vu) && json_integer_value(vu) < coce_fake_now_ms()) {
        fd_error(a, 13888, "timed_out", NULL);
        return;
    }
    double amount = json_number_value(json_object_get(p, "amount"));
    const char *type = json_string_value(json_object_get(p, "type"));
    int market = type && strcmp(type, "market") == 0;
    double price = json_number_value(json_object_get(p, "price"));
    if (!(amount >= in->spec.min_amount - 1e-12) ||
        !fd_on_grid(amount, in->spec.min_amount)) {
        fd_error(a, 10021, "invalid_amount", NULL);
        return;
    }
    if (!market) {
        double tick = in->spec.step_above > 0 && price >= in->spec.step_above
                          ? in->spec.step_tick
                          : in->spec.tick;
        if (!(price > 0) || !fd_on_grid(price, tick)) {
            fd_error(a, 10043, "price_wrong_tick", NULL);
            return;
        }
    }
    if (side < 0 && json_is_true(json_object_get(p, "reduce_only")) &&
        amount > in->position + 1e-12) {
        fd_error(a, 11030, "other_reject", "reduce_only");
        return;
    }
    coce_fake_db_order *o = fd_new_order(f);
    const char *label = json_string_value(json_object_get(p, "label"));
    snprintf(o->label, sizeof o->label, "%s", label ? label : "");
    snprintf(o->instrument, sizeof o->instrument, "%s", name);
    o->side = side;
    o->market = market;
    o->amount = amount;
    o->price = market ? 0.0 : price;
    snprintf(o->state, sizeof o->state, "open");
    json_t *trades = json_array();
    if (market) {
        /* Two trades, to exercise the list. */
        double parts[2] = {amount / 2, amount - amount / 2};
        for (int i = 0; i < 2; i++) {
            fd_apply_fill(in, o, parts[i], in->spec.price);
            json_array_append_new(
                trades,
                json_pack("{s:s, s:s, s:s, s:f, s:f, s:f, s:s, s:I, s:s,"
                          " s:s, s:s}",
                          "trade_id", "T1", "order_id", o->order_id,
                          "instrument_name", name, "amount", parts[i], "price",
                          in->spec.price, "fee", 0.0003 * parts[i],
                          "fee_currency", "BTC", "timestamp",
                          (json_int_t)coce_fake_now_ms(), "direction",
                          side > 0 ? "buy" : "sell", "liquidity", "T", "label",
                          o->label));
        }
    }
    fd_ok(a,
          json_pack("{s:o, s:o}", "order", fd_order_json(o), "trades", trades));
}

static int fd_token_ok(coce_fake_deribit *f, struct MHD_Connection *c)
{
    const char *h =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncmp(h, "Bearer ", 7) != 0)
        return 0;
    for (size_t i = 0; i < f->n_tokens; i++)
        if (strcmp(f->tokens[i].access, h + 7) == 0)
            return f->tokens[i].expires_ms > coce_fake_now_ms();
    return 0;
}

static void fd_issue(coce_fake_deribit *f, fd_answer *a)
{
    if (f->n_tokens == FD_MAX_TOKENS)
        f->n_tokens = 0;
    fd_token *t = &f->tokens[f->n_tokens++];
    f->token_seq++;
    snprintf(t->access, sizeof t->access, "acc.%lld.%lld",
             (long long)f->token_seq, (long long)coce_fake_now_ms());
    snprintf(t->refresh, sizeof t->refresh, "ref.%lld.%lld",
             (long long)f->token_seq, (long long)coce_fake_now_ms());
    t->expires_ms = coce_fake_now_ms() + (int64_t)f->ttl_s * 1000;
    fd_ok(a, json_pack("{s:s, s:i, s:s, s:s, s:s, s:[]}", "access_token",
                       t->access, "expires_in", f->ttl_s, "refresh_token",
                       t->refresh, "scope", "connection mainaccount",
                       "token_type", "bearer", "enabled_features"));
}

/* The contract fields of a Deribit option name, as the real venue lists
 * them: UNDERLYING-DMMMYY-STRIKE-C|P, expiring at 08:00 UTC. Names that do
 * not parse keep the fake's old constants (a call at 80000 on 27 Jun 2025). */
static int fd_name_put(const char *name)
{
    size_t n = strlen(name);
    return n >= 2 && name[n - 2] == '-' && name[n - 1] == 'P';
}

static double fd_name_strike(const char *name)
{
    const char *a = strchr(name, '-');
    const char *b = a != NULL ? strchr(a + 1, '-') : NULL;
    return b != NULL ? strtod(b + 1, NULL) : 80000.0;
}

/* Days since 1970-01-01 of a civil date (H. Hinnant, "chrono-Compatible
 * Low-Level Date Algorithms", days_from_civil). */
static int64_t fd_days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int64_t fd_name_expiry_ms(const char *name)
{
    static const char months[] = "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC";
    const char *a = strchr(name, '-');
    int day = 0, year = 0;
    char mon[4] = {0};
    if (a == NULL || sscanf(a + 1, "%2d%3[A-Z]%2d", &day, mon, &year) != 3)
        return 1750982400000LL;
    const char *m = strstr(months, mon);
    if (m == NULL || (m - months) % 3 != 0)
        return 1750982400000LL;
    int64_t days = fd_days_from_civil(2000 + year, (m - months) / 3 + 1, day);
    return days * 86400000LL + 8 * 3600000LL;
}

static void fd_route(coce_fake_deribit *f, struct MHD_Connection *c,
                     const char *method, const json_t *p, fd_answer *a)
{
    if (strcmp(method, "public/auth") == 0) {
        const char *grant = json_string_value(json_object_get(p, "grant_type"));
        if (grant && strcmp(grant, "client_credentials") == 0) {
            const char *id = json_string_value(json_object_get(p, "client_id"));
            const char *sec =
                json_string_value(json_object_get(p, "client_secret"));
            if (!id || !sec || strcmp(id, f->client_id) != 0 ||
                strcmp(sec, f->secret) != 0) {
                fd_error(a, 13004, "invalid_credentials", NULL);
                return;
            }
            f->grants_cc++;
            fd_issue(f, a);
            return;
        }
        if (grant && strcmp(grant, "refresh_token") == 0) {
            const char *rt =
                json_string_value(json_object_get(p, "refresh_token"));
            for (size_t i = 0; rt && i < f->n_tokens; i++)
                if (strcmp(f->tokens[i].refresh, rt) == 0) {
                    f->tokens[i].refresh[0] = '\0'; /* single use */
                    f->grants_refresh++;
                    fd_issue(f, a);
                    return;
                }
            fd_error(a, 13009, "unauthorized", "invalid refresh token");
            return;
        }
        fd_error(a, -32602, "Invalid params", "grant_type");
        return;
    }
    if (strncmp(method, "private/", 8) == 0 && !fd_token_ok(f, c)) {
        f->auth_failures++;
        fd_error(a, 13009, "unauthorized", "invalid_token");
        return;
    }
    const char *name = json_string_value(json_object_get(p, "instrument_name"));
    const char *ccy = json_string_value(json_object_get(p, "currency"));
    char buf[16];
    if (strcmp(method, "public/get_instruments") == 0) {
        json_t *arr = json_array();
        for (size_t i = 0; i < f->n_inst; i++) {
            const fd_inst *in = &f->inst[i];
            if (ccy && strcmp(ccy, fd_ccy(in->name, buf)) != 0)
                continue;
            json_t *steps = json_array();
            if (in->spec.step_above > 0)
                json_array_append_new(
                    steps,
                    json_pack("{s:f, s:f}", "above_price", in->spec.step_above,
                              "tick_size", in->spec.step_tick));
            json_array_append_new(
                arr,
                json_pack("{s:s, s:s, s:s, s:f, s:o, s:f, s:i, s:b, s:s,"
                          " s:f, s:s, s:I}",
                          "instrument_name", in->name, "kind", "option",
                          "base_currency", fd_ccy(in->name, buf), "tick_size",
                          in->spec.tick, "tick_size_steps", steps,
                          "min_trade_amount", in->spec.min_amount,
                          "contract_size", 1, "is_active", !in->spec.inactive,
                          "option_type", fd_name_put(in->name) ? "put" : "call",
                          "strike", fd_name_strike(in->name),
                          "settlement_period", "month", "expiration_timestamp",
                          (json_int_t)fd_name_expiry_ms(in->name)));
        }
        fd_ok(a, arr);
        return;
    }
    if (strcmp(method, "public/ticker") == 0 ||
        strcmp(method, "public/get_order_book") == 0) {
        fd_inst *in = name ? fd_inst_named(f, name) : NULL;
        if (!in) {
            fd_error(a, 13020, "not_found", NULL);
            return;
        }
        double px = in->spec.price;
        json_t *j = json_pack(
            "{s:s, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f,"
            " s:s, s:{s:f, s:f, s:f, s:f, s:f}}",
            "instrument_name", in->name, "timestamp",
            (json_int_t)coce_fake_now_ms(), "underlying_price", 60000.0,
            "index_price", 60010.0, "mark_price", px, "mark_iv", 55.0, "bid_iv",
            54.0, "ask_iv", 56.0, "best_bid_price", px - in->spec.tick,
            "best_ask_price", px + in->spec.tick, "best_bid_amount", 3.0,
            "best_ask_amount", 4.0, "state", "open", "greeks", "delta", 0.1,
            "gamma", 0.0001, "vega", 5.0, "theta", -3.0, "rho", 0.5);
        json_object_set_new(j, "open_interest", json_real(120.0));
        if (strcmp(method, "public/get_order_book") == 0) {
            json_object_set_new(j, "bids",
                                json_pack("[[f, f], [f, f]]",
                                          px - in->spec.tick, 3.0,
                                          px - 2 * in->spec.tick, 5.0));
            json_object_set_new(j, "asks",
                                json_pack("[[f, f]]", px + in->spec.tick, 4.0));
        }
        fd_ok(a, j);
        return;
    }
    if (strcmp(method, "public/get_book_summary_by_currency") == 0) {
        json_t *arr = json_array();
        for (size_t i = 0; i < f->n_inst; i++) {
            const fd_inst *in = &f->inst[i];
            if (ccy && strcmp(ccy, fd_ccy(in->name, buf)) != 0)
                continue;
            json_array_append_new(
                arr, json_pack("{s:s, s:f, s:f, s:f, s:f, s:s, s:s}",
                               "instrument_name", in->name, "mark_price",
                               in->spec.price, "bid_price",
                               in->spec.price - in->spec.tick, "ask_price",
                               in->spec.price + in->spec.tick, "open_interest",
                               120.0, "base_currency", fd_ccy(in->name, buf),
                               "quote_currency", fd_ccy(in->name, buf)));
        }
        fd_ok(a, arr);
        return;
    }
    if (strcmp(method, "private/buy") == 0 ||
        strcmp(method, "private/sell") == 0) {
        fd_order(f, p, method[8] == 'b' ? 1 : -1, a);
        return;
    }
    if (strcmp(method, "private/cancel") == 0) {
        const char *oid = json_string_value(json_object_get(p, "order_id"));
        for (size_t i = 0; oid && i < f->n_orders; i++) {
            coce_fake_db_order *o = &f->orders[i];
            if (strcmp(o->order_id, oid) != 0)
                continue;
            if (strcmp(o->state, "open") != 0) {
                fd_error(a, 11044, "not_open_order", NULL);
                return;
            }
            snprintf(o->state, sizeof o->state, "cancelled");
            o->updated_ms = coce_fake_now_ms();
            fd_ok(a, fd_order_json(o));
            return;
        }
        fd_error(a, 10004, "order_not_found", NULL);
        return;
    }
    if (strcmp(method, "private/get_order_state_by_label") == 0) {
        const char *label = json_string_value(json_object_get(p, "label"));
        json_t *arr = json_array();
        for (size_t i = 0; label && i < f->n_orders; i++)
            if (strcmp(f->orders[i].label, label) == 0 &&
                strcmp(fd_ccy(f->orders[i].instrument, buf), ccy ? ccy : "") ==
                    0)
                json_array_append_new(arr, fd_order_json(&f->orders[i]));
        fd_ok(a, arr);
        return;
    }
    if (strcmp(method, "private/get_open_orders_by_currency") == 0) {
        json_t *arr = json_array();
        for (size_t i = 0; i < f->n_orders; i++)
            if (strcmp(f->orders[i].state, "open") == 0 &&
                strcmp(fd_ccy(f->orders[i].instrument, buf), ccy ? ccy : "") ==
                    0)
                json_array_append_new(arr, fd_order_json(&f->orders[i]));
        fd_ok(a, arr);
        return;
    }
    if (strcmp(method, "private/get_positions") == 0) {
        json_t *arr = json_array();
        for (size_t i = 0; i < f->n_inst; i++)
            if (f->inst[i].position != 0.0 &&
                strcmp(fd_ccy(f->inst[i].name, buf), ccy ? ccy : "") == 0)
                json_array_append_new(
                    arr, json_pack("{s:s, s:s, s:f, s:s, s:f, s:f}",
                                   "instrument_name", f->inst[i].name, "kind",
                                   "option", "size", f->inst[i].position,
                                   "direction",
                                   f->inst[i].position > 0 ? "buy" : "sell",
                                   "average_price", f->inst[i].spec.price,
                                   "mark_price", f->inst[i].spec.price));
        fd_ok(a, arr);
        return;
    }
    if (strcmp(method, "private/get_account_summary") == 0) {
        fd_ok(a,
              json_pack("{s:s, s:f, s:f, s:f, s:f}", "currency", ccy ? ccy : "",
                        "balance", f->balance, "available_funds", f->available,
                        "equity", f->balance, "initial_margin",
                        f->balance - f->available));
        return;
    }
    fd_error(a, -32601, "Method not found", NULL);
}

/* ---- MHD glue ---------------------------------------------------------- */

static int fd_take_fault(coce_fake_deribit *f, const char *method, int *param)
{
    for (size_t i = 0; i < f->n_faults; i++) {
        fd_fault *x = &f->faults[i];
        if (x->count <= 0 || (!x->any && strcmp(x->method, method) != 0))
            continue;
        x->count--;
        *param = x->param;
        return (int)x->fault;
    }
    return 0;
}

static enum MHD_Result fd_handler(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    coce_fake_deribit *f = cls;
    if (coce_fake_req_collect(con_cls, upload, upload_size))
        return MHD_YES;
    const coce_fake_req *r = *con_cls;
    int64_t us_in = coce_fake_now_ms() * 1000;
    const char *rpc = strncmp(url, "/api/v2/", 8) == 0 ? url + 8 : "";
    json_error_t je;
    json_t *req = r->body && strcmp(method, "POST") == 0
                      ? json_loads(r->body, 0, &je)
                      : NULL;
    json_t *id = json_object_get(req, "id");
    json_int_t idv = json_is_integer(id) ? json_integer_value(id) : 0;
    const char *m = json_string_value(json_object_get(req, "method"));
    fd_answer a;
    memset(&a, 0, sizeof a);
    a.retry_after = -1;
    int param = 0, fault = 0;
    pthread_mutex_lock(&f->mu);
    if (f->n_hits == f->cap_hits) {
        f->cap_hits = f->cap_hits ? 2 * f->cap_hits : 64;
        f->hits = realloc(f->hits, f->cap_hits * sizeof *f->hits);
    }
    snprintf(f->hits[f->n_hits++], 64, "%s", rpc);
    snprintf(f->last_body, sizeof f->last_body, "%s", r->body ? r->body : "");
    fault = fd_take_fault(f, rpc, &param);
    pthread_mutex_unlock(&f->mu);
    if (fault == COCE_FAKE_DB_SLOW)
        coce_fake_sleep_ms(param);
    int execute = 1;
    if (!req || !m || strcmp(m, rpc) != 0) {
        fd_error(&a, -32700, "Parse error", "method");
        execute = 0;
    } else if (fault == COCE_FAKE_DB_429) {
        fd_error(&a, 10028, "too_many_requests", NULL);
        a.retry_after = param;
        execute = 0;
    } else if (fault == COCE_FAKE_DB_ERROR) {
        fd_error(&a, param, "injected", NULL);
        execute = 0;
    } else if (fault == COCE_FAKE_DB_5XX && !param) {
        execute = 0;
    }
    if (execute) {
        pthread_mutex_lock(&f->mu);
        fd_route(f, c, m, json_object_get(req, "params"), &a);
        pthread_mutex_unlock(&f->mu);
    }
    json_decref(req);
    if (fault == COCE_FAKE_DB_DROP) {
        json_decref(a.result);
        return MHD_NO; /* executed, never answered */
    }
    if (fault == COCE_FAKE_DB_5XX) {
        json_decref(a.result);
        return coce_fake_send(
            c, 503, strdup("<html>503 Service Unavailable</html>"), -1, NULL);
    }
    json_t *env = json_pack("{s:s, s:I, s:I, s:I, s:I, s:b}", "jsonrpc", "2.0",
                            "id", idv, "usIn", (json_int_t)us_in, "usOut",
                            (json_int_t)(coce_fake_now_ms() * 1000), "usDiff",
                            (json_int_t)(coce_fake_now_ms() * 1000 - us_in),
                            "testnet", 1);
    if (a.result)
        json_object_set_new(env, "result", a.result);
    else if (a.err_reason[0])
        json_object_set_new(env, "error",
                            json_pack("{s:i, s:s, s:{s:s}}", "code", a.err_code,
                                      "message", a.err_msg, "data", "reason",
                                      a.err_reason));
    else
        json_object_set_new(
            env, "error",
            json_pack("{s:i, s:s}", "code", a.err_code, "message", a.err_msg));
    char *body = json_dumps(env, JSON_COMPACT);
    json_decref(env);
    if (fault == COCE_FAKE_DB_MALFORMED)
        body[strlen(body) / 2] = '\0';
    return coce_fake_send(c, a.status, body, a.retry_after, NULL);
}

int coce_fake_deribit_start(const char *client_id, const char *secret,
                            int token_ttl_s, coce_fake_deribit **out)
{
    coce_fake_deribit *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    pthread_mutex_init(&f->mu, NULL);
    snprintf(f->client_id, sizeof f->client_id, "%s", client_id);
    snprintf(f->secret, sizeof f->secret, "%s", secret);
    f->ttl_s = token_ttl_s;
    f->next_order = 1000;
    f->d = coce_fake_listen(fd_handler, f, f->url, sizeof f->url);
    if (!f->d) {
        pthread_mutex_destroy(&f->mu);
        free(f);
        return -1;
    }
    *out = f;
    return 0;
}

void coce_fake_deribit_stop(coce_fake_deribit *f)
{
    if (!f)
        return;
    MHD_stop_daemon(f->d);
    pthread_mutex_destroy(&f->mu);
    free(f->orders);
    free(f->hits);
    free(f);
}

const char *coce_fake_deribit_url(const coce_fake_deribit *f)
{
    return f->url;
}

int coce_fake_deribit_add_instrument(coce_fake_deribit *f,
                                     const coce_fake_db_instrument *in)
{
    pthread_mutex_lock(&f->mu);
    int rc = -1;
    if (f->n_inst < FD_MAX_INST) {
        fd_inst *d = &f->inst[f->n_inst++];
        memset(d, 0, sizeof *d);
        d->spec = *in;
        snprintf(d->name, sizeof d->name, "%s", in->name);
        d->spec.name = d->name;
        rc = 0;
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

void coce_fake_deribit_set_position(coce_fake_deribit *f, const char *name,
                                    double size)
{
    pthread_mutex_lock(&f->mu);
    fd_inst *in = fd_inst_named(f, name);
    if (in)
        in->position = size;
    pthread_mutex_unlock(&f->mu);
}

double coce_fake_deribit_position(coce_fake_deribit *f, const char *name)
{
    pthread_mutex_lock(&f->mu);
    fd_inst *in = fd_inst_named(f, name);
    double v = in ? in->position : 0.0;
    pthread_mutex_unlock(&f->mu);
    return v;
}

void coce_fake_deribit_set_account(coce_fake_deribit *f, double balance,
                                   double available)
{
    pthread_mutex_lock(&f->mu);
    f->balance = balance;
    f->available = available;
    pthread_mutex_unlock(&f->mu);
}

void coce_fake_deribit_revoke_tokens(coce_fake_deribit *f)
{
    pthread_mutex_lock(&f->mu);
    for (size_t i = 0; i < f->n_tokens; i++)
        f->tokens[i].expires_ms = 0;
    pthread_mutex_unlock(&f->mu);
}

void coce_fake_deribit_fault(coce_fake_deribit *f, const char *method,
                             coce_fake_db_fault fault, int count, int param)
{
    pthread_mutex_lock(&f->mu);
    if (f->n_faults < FD_MAX_FAULTS) {
        fd_fault *x = &f->faults[f->n_faults++];
        memset(x, 0, sizeof *x);
        x->any = method == NULL;
        snprintf(x->method, sizeof x->method, "%s", method ? method : "");
        x->fault = fault;
        x->count = count;
        x->param = param;
    }
    pthread_mutex_unlock(&f->mu);
}

int coce_fake_deribit_fill(coce_fake_deribit *f, const char *label,
                           double amount, double price)
{
    pthread_mutex_lock(&f->mu);
    int rc = -1;
    for (size_t i = 0; i < f->n_orders; i++) {
        coce_fake_db_order *o = &f->orders[i];
        if (strcmp(o->label, label) != 0)
            continue;
        fd_inst *in = fd_inst_named(f, o->instrument);
        if (in && strcmp(o->state, "open") == 0 &&
            o->filled + amount <= o->amount + 1e-12) {
            fd_apply_fill(in, o, amount, price);
            rc = 0;
        }
        break;
    }
    pthread_mutex_unlock(&f->mu);
    return rc;
}

int coce_fake_deribit_inject(coce_fake_deribit *f, const char *label,
                             const char *instrument, int side, double amount,
                             double price)
{
    pthread_mutex_lock(&f->mu);
    coce_fake_db_order *o = fd_new_order(f);
    snprintf(o->label, sizeof o->label, "%s", label);
    snprintf(o->instrument, sizeof o->instrument, "%s", instrument);
    o->side = side;
    o->amount = amount;
    o->price = price;
    snprintf(o->state, sizeof o->state, "open");
    pthread_mutex_unlock(&f->mu);
    return 0;
}

int coce_fake_deribit_find(coce_fake_deribit *f, const char *label,
                           coce_fake_db_order *out)
{
    pthread_mutex_lock(&f->mu);
    int n = 0;
    for (size_t i = 0; i < f->n_orders; i++)
        if (strcmp(f->orders[i].label, label) == 0) {
            if (out && n == 0)
                *out = f->orders[i];
            n++;
        }
    pthread_mutex_unlock(&f->mu);
    return n;
}

size_t coce_fake_deribit_order_count(coce_fake_deribit *f)
{
    pthread_mutex_lock(&f->mu);
    size_t n = f->n_orders;
    pthread_mutex_unlock(&f->mu);
    return n;
}

int coce_fake_deribit_requests(coce_fake_deribit *f, const char *method)
{
    pthread_mutex_lock(&f->mu);
    int n = 0;
    for (size_t i = 0; i < f->n_hits; i++)
        if (!method || strcmp(f->hits[i], method) == 0)
            n++;
    pthread_mutex_unlock(&f->mu);
    return n;
}

int coce_fake_deribit_grants(coce_fake_deribit *f, const char *grant_type)
{
    pthread_mutex_lock(&f->mu);
    int n = strcmp(grant_type, "refresh_token") == 0 ? f->grants_refresh
                                                     : f->grants_cc;
    pthread_mutex_unlock(&f->mu);
    return n;
}

int coce_fake_deribit_auth_failures(coce_fake_deribit *f)
{
    pthread_mutex_lock(&f->mu);
    int n = f->auth_failures;
    pthread_mutex_unlock(&f->mu);
    return n;
}

void coce_fake_deribit_last_body(coce_fake_deribit *f, char *buf, size_t cap)
{
    pthread_mutex_lock(&f->mu);
    snprintf(buf, cap, "%s", f->last_body);
    pthread_mutex_unlock(&f->mu);
}
