#include "state/state_file.h"

#include "utils/fsutil.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- save ------------------------------------------------------------- */

static json_t *jreal(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

/* Collects json_object_set_new failures (it returns -1 on NULL values). */
typedef struct builder {
    int bad;
} builder;

static void put(builder *bd, json_t *obj, const char *key, json_t *val)
{
    if (obj == NULL || json_object_set_new(obj, key, val) != 0)
        bd->bad = 1;
}

static void push(builder *bd, json_t *arr, json_t *val)
{
    if (arr == NULL || json_array_append_new(arr, val) != 0)
        bd->bad = 1;
}

static json_t *position_json(builder *bd, const coce_position *p)
{
    json_t *o = json_object();
    put(bd, o, "asset_id", json_integer(p->asset));
    put(bd, o, "symbol", json_string(p->symbol));
    put(bd, o, "qty", jreal(p->qty));
    put(bd, o, "avg_price", jreal(p->avg_price));
    put(bd, o, "entry_ms", json_integer(p->entry_ms));
    put(bd, o, "high_price", jreal(p->high_price));
    put(bd, o, "entry_fees", jreal(p->entry_fees));
    put(bd, o, "rt_qty", jreal(p->rt_qty));
    put(bd, o, "rt_cost", jreal(p->rt_cost));
    put(bd, o, "rt_proceeds", jreal(p->rt_proceeds));
    put(bd, o, "rt_pnl", jreal(p->rt_pnl));
    return o;
}

static json_t *order_json(builder *bd, const coce_open_order *o)
{
    json_t *j = json_object();
    put(bd, j, "client_id", json_string(o->client_id));
    put(bd, j, "exchange_order_id", json_string(o->exchange_order_id));
    put(bd, j, "asset_id", json_integer(o->asset));
    put(bd, j, "side", json_integer(o->side));
    put(bd, j, "type", json_integer(o->type));
    put(bd, j, "reason", json_integer(o->reason));
    put(bd, j, "qty", jreal(o->qty));
    put(bd, j, "filled", jreal(o->filled));
    put(bd, j, "limit_price", jreal(o->limit_price));
    const char *status = coce_order_status_name(o->status);
    put(bd, j, "status", json_string(status != NULL ? status : "unknown"));
    put(bd, j, "time_ms", json_integer(o->time_ms));
    return j;
}

static json_t *trade_json(builder *bd, const coce_closed_trade *t)
{
    json_t *o = json_object();
    put(bd, o, "asset_id", json_integer(t->asset));
    put(bd, o, "symbol", json_string(t->symbol));
    put(bd, o, "entry_ms", json_integer(t->entry_ms));
    put(bd, o, "exit_ms", json_integer(t->exit_ms));
    put(bd, o, "qty", jreal(t->qty));
    put(bd, o, "entry_price", jreal(t->entry_price));
    put(bd, o, "exit_price", jreal(t->exit_price));
    put(bd, o, "pnl", jreal(t->pnl));
    return o;
}

static json_t *book_json(const coce_book *b, builder *bd)
{
    json_t *root = json_object();
    put(bd, root, "schema", json_string(COCE_STATE_SCHEMA));
    put(bd, root, "version", json_integer(COCE_STATE_VERSION));
    put(bd, root, "run_id", json_string(b->run_id));
    put(bd, root, "config_hash", json_string(b->config_hash));
    put(bd, root, "model_version", json_string(b->model_version));
    put(bd, root, "last_processed_ms", json_integer(b->last_processed_ms));
    put(bd, root, "trading_since_ms",
        b->trading_since_ms == INT64_MIN ? json_null()
                                         : json_integer(b->trading_since_ms));
    put(bd, root, "journal_seq", json_integer(b->journal_seq));
    put(bd, root, "cash", jreal(b->cash));
    put(bd, root, "realised_pnl", jreal(b->realised_pnl));
    put(bd, root, "fees_paid", jreal(b->fees_paid));
    put(bd, root, "trade_count", json_integer((json_int_t)b->trade_count));
    put(bd, root, "peak_equity", jreal(b->peak_equity));

    json_t *ks = json_object();
    put(bd, ks, "halted", json_boolean(b->kill.halted));
    put(bd, ks, "reason", json_string(b->kill.reason));
    put(bd, ks, "time_ms", json_integer(b->kill.time_ms));
    put(bd, ks, "sharpe_7d", jreal(b->kill.sharpe_7d));
    put(bd, ks, "hit_rate_7d", jreal(b->kill.hit_rate_7d));
    put(bd, ks, "drawdown", jreal(b->kill.drawdown));
    put(bd, root, "kill_switch", ks);

    json_t *arr = json_array();
    for (size_t i = 0; i < b->n_symbols; ++i) {
        json_t *o = json_object();
        put(bd, o, "asset_id", json_integer(b->symbols[i].asset));
        put(bd, o, "symbol", json_string(b->symbols[i].symbol));
        push(bd, arr, o);
    }
    put(bd, root, "symbols", arr);

    arr = json_array();
    for (size_t i = 0; i < b->n_positions; ++i)
        push(bd, arr, position_json(bd, &b->positions[i]));
    put(bd, root, "positions", arr);

    arr = json_array();
    for (size_t i = 0; i < b->n_orders; ++i)
        push(bd, arr, order_json(bd, &b->orders[i]));
    put(bd, root, "open_orders", arr);

    arr = json_array();
    for (size_t i = 0; i < b->n_trades; ++i)
        push(bd, arr, trade_json(bd, &b->trades[i]));
    put(bd, root, "trades", arr);

    arr = json_array();
    for (size_t i = 0; i < b->n_equity; ++i) {
        json_t *o = json_object();
        put(bd, o, "time_ms", json_integer(b->equity[i].time_ms));
        put(bd, o, "equity", jreal(b->equity[i].equity));
        push(bd, arr, o);
    }
    put(bd, root, "equity_history", arr);
    return root;
}

int coce_state_save(const coce_book *b, const char *path, coce_err *err)
{
    if (b == NULL || path == NULL)
        return coce_err_set(err, COCE_EINVAL, "state: bad arguments");
    builder bd = {0};
    json_t *root = book_json(b, &bd);
    char *text = NULL;
    if (!bd.bad)
        text = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (text == NULL)
        return coce_err_set(err, COCE_ENOMEM, "%s: cannot encode state", path);
    size_t len = strlen(text);
    /* A final newline keeps the file friendly to text tools. */
    char *buf = realloc(text, len + 2);
    if (buf == NULL) {
        free(text);
        return coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
    }
    buf[len] = '\n';
    buf[len + 1] = '\0';
    int rc = coce_fs_write_atomic(path, buf, len + 1, err);
    free(buf);
    return rc;
}

/* ---- load ------------------------------------------------------------- */

/* Reader context: the first error wins, named by file and field path. */
typedef struct reader {
    const char *path;
    coce_err *err;
    int rc;
} reader;

static int fail(reader *rd, const char *where, const char *key,
                const char *what)
{
    if (rd->rc == COCE_OK)
        rd->rc = coce_err_set(rd->err, COCE_ESTATE, "%s: field '%s%s%s': %s",
                              rd->path, where, where[0] != '\0' ? "." : "", key,
                              what);
    return rd->rc;
}

static json_t *field(reader *rd, json_t *obj, const char *where,
                     const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        (void)fail(rd, where, key, "missing");
    return v;
}

static void get_real(reader *rd, json_t *obj, const char *where,
                     const char *key, double *out)
{
    json_t *v = field(rd, obj, where, key);
    if (v == NULL)
        return;
    if (json_is_null(v))
        *out = NAN;
    else if (json_is_number(v))
        *out = json_number_value(v);
    else
        (void)fail(rd, where, key, "expected a number");
}

static void get_int(reader *rd, json_t *obj, const char *where, const char *key,
                    json_int_t lo, json_int_t hi, json_int_t *out)
{
    json_t *v = field(rd, obj, where, key);
    if (v == NULL)
        return;
    if (!json_is_integer(v))
        (void)fail(rd, where, key, "expected an integer");
    else if (json_integer_value(v) < lo || json_integer_value(v) > hi)
        (void)fail(rd, where, key, "integer out of range");
    else
        *out = json_integer_value(v);
}

static void get_i64(reader *rd, json_t *obj, const char *where, const char *key,
                    int64_t *out)
{
    json_int_t v = 0;
    get_int(rd, obj, where, key, INT64_MIN, INT64_MAX, &v);
    *out = (int64_t)v;
}

static void get_asset(reader *rd, json_t *obj, const char *where,
                      coce_asset_id *out)
{
    json_int_t v = 0;
    get_int(rd, obj, where, "asset_id", 0, UINT32_MAX, &v);
    *out = (coce_asset_id)v;
}

static void get_str(reader *rd, json_t *obj, const char *where, const char *key,
                    char *out, size_t cap)
{
    json_t *v = field(rd, obj, where, key);
    if (v == NULL)
        return;
    if (!json_is_string(v)) {
        (void)fail(rd, where, key, "expected a string");
        return;
    }
    size_t len = json_string_length(v);
    if (len >= cap || strlen(json_string_value(v)) != len) {
        (void)fail(rd, where, key, "string too long or contains NUL");
        return;
    }
    memcpy(out, json_string_value(v), len + 1);
}

static json_t *get_array(reader *rd, json_t *obj, const char *key)
{
    json_t *v = field(rd, obj, "", key);
    if (v != NULL && !json_is_array(v)) {
        (void)fail(rd, "", key, "expected an array");
        return NULL;
    }
    return v;
}

/* Each element of an array must be an object; `where` becomes "key[i]". */
static json_t *element(reader *rd, json_t *arr, const char *key, size_t i,
                       char *where, size_t cap)
{
    (void)snprintf(where, cap, "%s[%zu]", key, i);
    json_t *o = json_array_get(arr, i);
    if (!json_is_object(o)) {
        if (rd->rc == COCE_OK)
            rd->rc = coce_err_set(rd->err, COCE_ESTATE,
                                  "%s: field '%s': expected an object",
                                  rd->path, where);
        return NULL;
    }
    return o;
}

static void load_header(reader *rd, json_t *root, coce_book *b)
{
    char schema[64] = "";
    get_str(rd, root, "", "schema", schema, sizeof schema);
    if (rd->rc != COCE_OK)
        return;
    if (strcmp(schema, COCE_STATE_SCHEMA) != 0) {
        (void)fail(rd, "", "schema", "not \"" COCE_STATE_SCHEMA "\"");
        return;
    }
    json_int_t version = 0;
    get_int(rd, root, "", "version", INT32_MIN, INT32_MAX, &version);
    if (rd->rc == COCE_OK && version != COCE_STATE_VERSION) {
        rd->rc = coce_err_set(rd->err, COCE_ESTATE,
                              "%s: field 'version': %lld is not supported "
                              "(this build reads version %d)",
                              rd->path, (long long)version, COCE_STATE_VERSION);
        return;
    }
    get_str(rd, root, "", "run_id", b->run_id, sizeof b->run_id);
    get_str(rd, root, "", "config_hash", b->config_hash, sizeof b->config_hash);
    get_str(rd, root, "", "model_version", b->model_version,
            sizeof b->model_version);
    get_i64(rd, root, "", "last_processed_ms", &b->last_processed_ms);
    /* null: trading had not started */
    if (json_is_null(json_object_get(root, "trading_since_ms")))
        b->trading_since_ms = INT64_MIN;
    else
        get_i64(rd, root, "", "trading_since_ms", &b->trading_since_ms);
    get_i64(rd, root, "", "journal_seq", &b->journal_seq);
    get_real(rd, root, "", "cash", &b->cash);
    get_real(rd, root, "", "realised_pnl", &b->realised_pnl);
    get_real(rd, root, "", "fees_paid", &b->fees_paid);
    json_int_t count = 0;
    get_int(rd, root, "", "trade_count", 0, INT64_MAX, &count);
    b->trade_count = (uint64_t)count;
    get_real(rd, root, "", "peak_equity", &b->peak_equity);

    json_t *ks = field(rd, root, "", "kill_switch");
    if (ks == NULL)
        return;
    if (!json_is_object(ks)) {
        (void)fail(rd, "", "kill_switch", "expected an object");
        return;
    }
    json_t *halted = field(rd, ks, "kill_switch", "halted");
    if (halted != NULL && !json_is_boolean(halted))
        (void)fail(rd, "kill_switch", "halted", "expected true or false");
    b->kill.halted = json_is_true(halted);
    get_str(rd, ks, "kill_switch", "reason", b->kill.reason,
            sizeof b->kill.reason);
    get_i64(rd, ks, "kill_switch", "time_ms", &b->kill.time_ms);
    get_real(rd, ks, "kill_switch", "sharpe_7d", &b->kill.sharpe_7d);
    get_real(rd, ks, "kill_switch", "hit_rate_7d", &b->kill.hit_rate_7d);
    get_real(rd, ks, "kill_switch", "drawdown", &b->kill.drawdown);
}

static void load_symbols(reader *rd, json_t *root, coce_book *b)
{
    json_t *arr = get_array(rd, root, "symbols");
    char where[64];
    for (size_t i = 0; rd->rc == COCE_OK && i < json_array_size(arr); ++i) {
        json_t *o = element(rd, arr, "symbols", i, where, sizeof where);
        coce_symbol_entry e = {0};
        get_asset(rd, o, where, &e.asset);
        get_str(rd, o, where, "symbol", e.symbol, sizeof e.symbol);
        if (rd->rc != COCE_OK)
            return;
        coce_err sub;
        if (coce_book_set_symbol(b, e.asset, e.symbol, &sub) != COCE_OK)
            (void)fail(rd, where, "symbol", sub.msg);
    }
}

static void load_positions(reader *rd, json_t *root, coce_book *b)
{
    json_t *arr = get_array(rd, root, "positions");
    char where[64];
    for (size_t i = 0; rd->rc == COCE_OK && i < json_array_size(arr); ++i) {
        json_t *o = element(rd, arr, "positions", i, where, sizeof where);
        coce_position p;
        memset(&p, 0, sizeof p);
        get_asset(rd, o, where, &p.asset);
        get_str(rd, o, where, "symbol", p.symbol, sizeof p.symbol);
        get_real(rd, o, where, "qty", &p.qty);
        get_real(rd, o, where, "avg_price", &p.avg_price);
        get_i64(rd, o, where, "entry_ms", &p.entry_ms);
        get_real(rd, o, where, "high_price", &p.high_price);
        get_real(rd, o, where, "entry_fees", &p.entry_fees);
        get_real(rd, o, where, "rt_qty", &p.rt_qty);
        get_real(rd, o, where, "rt_cost", &p.rt_cost);
        get_real(rd, o, where, "rt_proceeds", &p.rt_proceeds);
        get_real(rd, o, where, "rt_pnl", &p.rt_pnl);
        if (rd->rc != COCE_OK)
            return;
        if (!(p.qty > 0) || !isfinite(p.qty))
            (void)fail(rd, where, "qty", "not a positive number");
        else if (coce_book_position(b, p.asset) != NULL)
            (void)fail(rd, where, "asset_id", "duplicate position");
        else if (coce__book_push_position(b, &p) != COCE_OK)
            rd->rc = coce_err_set(rd->err, COCE_ENOMEM, "%s: out of memory",
                                  rd->path);
    }
}

static void load_orders(reader *rd, json_t *root, coce_book *b)
{
    json_t *arr = get_array(rd, root, "open_orders");
    char where[64];
    for (size_t i = 0; rd->rc == COCE_OK && i < json_array_size(arr); ++i) {
        json_t *o = element(rd, arr, "open_orders", i, where, sizeof where);
        coce_open_order ord;
        memset(&ord, 0, sizeof ord);
        json_int_t side = 0, type = 0, reason = 0;
        char status[32] = "";
        get_str(rd, o, where, "client_id", ord.client_id, sizeof ord.client_id);
        get_str(rd, o, where, "exchange_order_id", ord.exchange_order_id,
                sizeof ord.exchange_order_id);
        get_asset(rd, o, where, &ord.asset);
        get_int(rd, o, where, "side", -1, 1, &side);
        get_int(rd, o, where, "type", COCE_ORDER_MARKET, COCE_ORDER_LIMIT,
                &type);
        get_int(rd, o, where, "reason", COCE_REASON_ENTRY, COCE_REASON_FLATTEN,
                &reason);
        get_real(rd, o, where, "qty", &ord.qty);
        get_real(rd, o, where, "filled", &ord.filled);
        get_real(rd, o, where, "limit_price", &ord.limit_price);
        get_str(rd, o, where, "status", status, sizeof status);
        get_i64(rd, o, where, "time_ms", &ord.time_ms);
        if (rd->rc != COCE_OK)
            return;
        ord.side = (int8_t)side;
        ord.type = (coce_order_type)type;
        ord.reason = (coce_order_reason)reason;
        if (coce_order_status_parse(status, &ord.status) != COCE_OK) {
            (void)fail(rd, where, "status", "unknown order status");
            return;
        }
        coce_err sub;
        if (coce_book_order_add(b, &ord, &sub) != COCE_OK)
            (void)fail(rd, where, "client_id", sub.msg);
    }
}

static void load_trades(reader *rd, json_t *root, coce_book *b)
{
    json_t *arr = get_array(rd, root, "trades");
    char where[64];
    for (size_t i = 0; rd->rc == COCE_OK && i < json_array_size(arr); ++i) {
        json_t *o = element(rd, arr, "trades", i, where, sizeof where);
        coce_closed_trade t;
        memset(&t, 0, sizeof t);
        get_asset(rd, o, where, &t.asset);
        get_str(rd, o, where, "symbol", t.symbol, sizeof t.symbol);
        get_i64(rd, o, where, "entry_ms", &t.entry_ms);
        get_i64(rd, o, where, "exit_ms", &t.exit_ms);
        get_real(rd, o, where, "qty", &t.qty);
        get_real(rd, o, where, "entry_price", &t.entry_price);
        get_real(rd, o, where, "exit_price", &t.exit_price);
        get_real(rd, o, where, "pnl", &t.pnl);
        if (rd->rc == COCE_OK && coce__book_push_trade(b, &t) != COCE_OK)
            rd->rc = coce_err_set(rd->err, COCE_ENOMEM, "%s: out of memory",
                                  rd->path);
    }
}

static void load_equity(reader *rd, json_t *root, coce_book *b)
{
    json_t *arr = get_array(rd, root, "equity_history");
    char where[64];
    for (size_t i = 0; rd->rc == COCE_OK && i < json_array_size(arr); ++i) {
        json_t *o = element(rd, arr, "equity_history", i, where, sizeof where);
        coce_equity_point e = {0, 0.0};
        get_i64(rd, o, where, "time_ms", &e.time_ms);
        get_real(rd, o, where, "equity", &e.equity);
        if (rd->rc == COCE_OK && coce__book_push_equity(b, &e) != COCE_OK)
            rd->rc = coce_err_set(rd->err, COCE_ENOMEM, "%s: out of memory",
                                  rd->path);
    }
}

int coce_state_load(const char *path, coce_book **out, coce_err *err)
{
    if (path == NULL || out == NULL)
        return coce_err_set(err, COCE_EINVAL, "state: bad arguments");
    *out = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = coce_fs_read_all(path, &text, &len, err);
    if (rc != COCE_OK)
        return rc;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (root == NULL)
        return coce_err_set(err, COCE_ESTATE,
                            "%s:%d:%d: corrupt or truncated state: %s", path,
                            jerr.line, jerr.column, jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return coce_err_set(err, COCE_ESTATE,
                            "%s: not a state snapshot (expected an object)",
                            path);
    }
    coce_book *b = NULL;
    rc = coce_book_new(0.0, &b);
    if (rc != COCE_OK) {
        json_decref(root);
        return coce_err_set(err, rc, "%s: out of memory", path);
    }
    reader rd = {path, err, COCE_OK};
    load_header(&rd, root, b);
    if (rd.rc == COCE_OK)
        load_symbols(&rd, root, b);
    if (rd.rc == COCE_OK)
        load_positions(&rd, root, b);
    if (rd.rc == COCE_OK)
        load_orders(&rd, root, b);
    if (rd.rc == COCE_OK)
        load_trades(&rd, root, b);
    if (rd.rc == COCE_OK)
        load_equity(&rd, root, b);
    json_decref(root);
    if (rd.rc != COCE_OK) {
        coce_book_free(b);
        return rd.rc;
    }
    *out = b;
    return COCE_OK;
}
