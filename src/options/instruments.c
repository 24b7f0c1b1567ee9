/* Deribit instruments and tickers; see instruments.h for the sources. */
#include "options/instruments.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms", days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int month_index(const char *s)
{
    static const char months[] = "JANFEBMARAPRMAYJUNJULAUGSEPOCTNOVDEC";
    for (int i = 0; i < 12; i++)
        if (strncmp(s, months + 3 * i, 3) == 0)
            return i + 1;
    return 0;
}

/* "24SEP21" -> 2021-09-24 08:00 UTC (Deribit: every expiry at 08:00). */
static int parse_date(const char *s, size_t len, int64_t *ms)
{
    if (len < 6 || len > 7)
        return -1;
    size_t nd = len - 5;
    int day = 0;
    for (size_t i = 0; i < nd; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        day = day * 10 + (s[i] - '0');
    }
    int mon = month_index(s + nd);
    if (s[nd + 3] < '0' || s[nd + 3] > '9' || s[nd + 4] < '0' ||
        s[nd + 4] > '9')
        return -1;
    int yy = (s[nd + 3] - '0') * 10 + (s[nd + 4] - '0');
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (yy % 4) == 0; /* 2000-2099: every 4th year */
    if (mon == 0 || day < 1 || day > mdays[mon - 1] ||
        (mon == 2 && day == 29 && !leap))
        return -1;
    *ms = (days_from_civil(2000 + yy, mon, day) * 24 + 8) * 3600000LL;
    return 0;
}

/* "40000", "0d625" (Deribit writes a decimal point as 'd'). */
static int parse_strike(const char *s, size_t len, double *out)
{
    char buf[32];
    if (len == 0 || len >= sizeof buf)
        return -1;
    int dots = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == 'd' && i > 0 && i + 1 < len && dots++ == 0)
            c = '.';
        else if (c < '0' || c > '9')
            return -1;
        buf[i] = c;
    }
    buf[len] = '\0';
    *out = strtod(buf, NULL);
    return *out > 0.0 ? 0 : -1;
}

int coce_instrument_parse_name(const char *name, coce_instrument *out,
                               coce_err *err)
{
    if (!name || !out)
        return coce_err_set(err, COCE_EINVAL, "instrument name: NULL");
    memset(out, 0, sizeof *out);
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen >= COCE_INST_NAME_MAX)
        return coce_err_set(err, COCE_EPARSE,
                            "instrument name '%.80s': empty or too long", name);
    memcpy(out->name, name, nlen + 1);
    const char *tok[5];
    size_t tlen[5];
    size_t nt = 0;
    const char *p = name;
    for (;;) {
        const char *dash = strchr(p, '-');
        if (nt == 5)
            return coce_err_set(err, COCE_EPARSE,
                                "instrument name '%s': too many fields", name);
        tok[nt] = p;
        tlen[nt] = dash ? (size_t)(dash - p) : strlen(p);
        nt++;
        if (!dash)
            break;
        p = dash + 1;
    }
    if (tlen[0] == 0 || tlen[0] >= COCE_INST_CCY_MAX)
        return coce_err_set(err, COCE_EPARSE,
                            "instrument name '%s': bad currency field", name);
    memcpy(out->currency, tok[0], tlen[0]);
    out->currency[tlen[0]] = '\0';
    if (nt == 2 && tlen[1] == 9 && strncmp(tok[1], "PERPETUAL", 9) == 0) {
        out->kind = COCE_INST_PERPETUAL;
        return COCE_OK;
    }
    if (nt < 2 || parse_date(tok[1], tlen[1], &out->expiry_ms) != 0)
        return coce_err_set(err, COCE_EPARSE,
                            "instrument name '%s': field 2: not a date "
                            "DMMMYY",
                            name);
    if (nt == 2) {
        out->kind = COCE_INST_FUTURE;
        return COCE_OK;
    }
    if (nt != 4)
        return coce_err_set(err, COCE_EPARSE,
                            "instrument name '%s': expected "
                            "CCY-DMMMYY-STRIKE-C|P",
                            name);
    if (parse_strike(tok[2], tlen[2], &out->strike) != 0)
        return coce_err_set(err, COCE_EPARSE,
                            "instrument name '%s': field 3: bad strike", name);
    if (tlen[3] != 1 || (tok[3][0] != 'C' && tok[3][0] != 'P'))
        return coce_err_set(err, COCE_EPARSE,
                            "instrument name '%s': field 4: not C or P", name);
    out->kind = COCE_INST_OPTION;
    out->option_type = tok[3][0] == 'C' ? COCE_OPT_CALL : COCE_OPT_PUT;
    return COCE_OK;
}

static int get_num(const json_t *obj, const char *key, double *v)
{
    const json_t *x = json_object_get(obj, key);
    if (!json_is_number(x))
        return -1;
    *v = json_number_value(x);
    return 0;
}

static int parse_steps(const json_t *steps, coce_instrument *in)
{
    size_t i;
    const json_t *st;
    if (!json_is_array(steps) || json_array_size(steps) > COCE_INST_STEPS_MAX)
        return -1;
    json_array_foreach(steps, i, st)
    {
        if (get_num(st, "above_price", &in->step_above[i]) != 0 ||
            get_num(st, "tick_size", &in->step_tick[i]) != 0 ||
            !(in->step_tick[i] > 0.0))
            return -1;
        /* insertion sort by threshold: the list is short */
        for (size_t j = i; j > 0 && in->step_above[j] < in->step_above[j - 1];
             j--) {
            double a = in->step_above[j];
            double t = in->step_tick[j];
            in->step_above[j] = in->step_above[j - 1];
            in->step_tick[j] = in->step_tick[j - 1];
            in->step_above[j - 1] = a;
            in->step_tick[j - 1] = t;
        }
    }
    in->n_steps = json_array_size(steps);
    return 0;
}

static int parse_one(const json_t *o, size_t idx, coce_instrument *in,
                     coce_err *err)
{
    memset(in, 0, sizeof *in);
    const char *name = json_string_value(json_object_get(o, "instrument_name"));
    if (!name || strlen(name) >= COCE_INST_NAME_MAX)
        return coce_err_set(err, COCE_EPARSE,
                            "[%zu].instrument_name: missing or too long", idx);
    memcpy(in->name, name, strlen(name) + 1);
    const char *dash = strchr(name, '-');
    size_t cl = dash ? (size_t)(dash - name) : strlen(name);
    if (cl >= COCE_INST_CCY_MAX)
        cl = COCE_INST_CCY_MAX - 1;
    memcpy(in->currency, name, cl);
    in->currency[cl] = '\0';
    const char *kind = json_string_value(json_object_get(o, "kind"));
    if (!kind)
        return coce_err_set(err, COCE_EPARSE, "[%zu].kind: missing (%s)", idx,
                            name);
    double v = 0.0;
    static const char *const numf[] = {"tick_size", "contract_size",
                                       "min_trade_amount",
                                       "expiration_timestamp"};
    double *dst[] = {&in->tick_size, &in->contract_size, &in->min_trade_amount,
                     &v};
    for (size_t k = 0; k < 4; k++)
        if (get_num(o, numf[k], dst[k]) != 0)
            return coce_err_set(err, COCE_EPARSE,
                                "[%zu].%s: missing or not a number (%s)", idx,
                                numf[k], name);
    in->expiry_ms = (int64_t)llround(v);
    in->is_active = json_is_true(json_object_get(o, "is_active"));
    const json_t *steps = json_object_get(o, "tick_size_steps");
    if (steps && !json_is_null(steps) && parse_steps(steps, in) != 0)
        return coce_err_set(err, COCE_EPARSE,
                            "[%zu].tick_size_steps: not a list of at most %d "
                            "{above_price, tick_size} (%s)",
                            idx, COCE_INST_STEPS_MAX, name);
    const char *sp = json_string_value(json_object_get(o, "settlement_period"));
    if (strcmp(kind, "option") == 0) {
        in->kind = COCE_INST_OPTION;
        if (get_num(o, "strike", &in->strike) != 0 || !(in->strike > 0.0))
            return coce_err_set(err, COCE_EPARSE,
                                "[%zu].strike: missing or not positive (%s)",
                                idx, name);
        const char *ot = json_string_value(json_object_get(o, "option_type"));
        if (ot && strcmp(ot, "call") == 0)
            in->option_type = COCE_OPT_CALL;
        else if (ot && strcmp(ot, "put") == 0)
            in->option_type = COCE_OPT_PUT;
        else
            return coce_err_set(err, COCE_EPARSE,
                                "[%zu].option_type: not call or put (%s)", idx,
                                name);
    } else if (strcmp(kind, "future") == 0) {
        in->kind = sp && strcmp(sp, "perpetual") == 0 ? COCE_INST_PERPETUAL
                                                      : COCE_INST_FUTURE;
    } else {
        in->kind = COCE_INST_OTHER;
    }
    if (!(in->tick_size > 0.0))
        return coce_err_set(err, COCE_EPARSE,
                            "[%zu].tick_size: not positive (%s)", idx, name);
    return COCE_OK;
}

int coce_instruments_parse(const char *json, size_t len, coce_instrument *out,
                           size_t cap, size_t *n, coce_err *err)
{
    if (!json || !n || (cap > 0 && !out))
        return coce_err_set(err, COCE_EINVAL, "get_instruments: NULL input");
    *n = 0;
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    if (!root)
        return coce_err_set(err, COCE_EPARSE,
                            "get_instruments: line %d column %d: %s", je.line,
                            je.column, je.text);
    const json_t *arr =
        json_is_array(root) ? root : json_object_get(root, "result");
    int rc = COCE_OK;
    if (!json_is_array(arr)) {
        rc = coce_err_set(err, COCE_EPARSE, "get_instruments: no result array");
    } else {
        size_t i;
        const json_t *o;
        json_array_foreach(arr, i, o)
        {
            if (i >= cap)
                continue;
            rc = parse_one(o, i, &out[i], err);
            if (rc != COCE_OK)
                break;
        }
        if (rc == COCE_OK) {
            *n = json_array_size(arr);
            if (*n > cap)
                rc = coce_err_set(err, COCE_ERANGE,
                                  "get_instruments: %zu instruments, room "
                                  "for %zu",
                                  *n, cap);
        }
    }
    json_decref(root);
    return rc;
}

double coce_instrument_tick_at(const coce_instrument *in, double price)
{
    double tick = in->tick_size;
    for (size_t i = 0; i < in->n_steps; i++)
        if (price >= in->step_above[i])
            tick = in->step_tick[i];
    return tick;
}

static double round_on(double price, double tick, coce_round_mode mode)
{
    double q = price / tick;
    double near = nearbyint(q);
    if (fabs(q - near) <= 1e-9)
        return near * tick;
    if (mode == COCE_ROUND_DOWN)
        return floor(q) * tick;
    if (mode == COCE_ROUND_UP)
        return ceil(q) * tick;
    return near * tick;
}

int coce_instrument_round_price(const coce_instrument *in, double price,
                                coce_round_mode mode, double *out)
{
    if (!in || !out || !(in->tick_size > 0.0) || !(price >= 0.0) ||
        !isfinite(price))
        return COCE_EINVAL;
    double tick = coce_instrument_tick_at(in, price);
    double r = round_on(price, tick, mode);
    double t2 = coce_instrument_tick_at(in, r);
    /* Rounding down across a threshold lands on the finer grid, rounding up
     * or to nearest on the coarser one: re-round on the grid in force. */
    if (t2 != tick)
        r = round_on(r, t2, mode == COCE_ROUND_NEAREST ? COCE_ROUND_UP : mode);
    *out = r;
    return COCE_OK;
}

double coce_premium_coin_to_usd(double coin, double underlying_usd)
{
    return coin * underlying_usd;
}

double coce_premium_usd_to_coin(double usd, double underlying_usd)
{
    return usd / underlying_usd;
}

static double num_or_nan(const json_t *o, const char *key)
{
    double v;
    return get_num(o, key, &v) == 0 ? v : NAN;
}

int coce_ticker_parse(const char *json, size_t len, coce_ticker *out,
                      coce_err *err)
{
    if (!json || !out)
        return coce_err_set(err, COCE_EINVAL, "ticker: NULL input");
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    if (!root)
        return coce_err_set(err, COCE_EPARSE, "ticker: line %d column %d: %s",
                            je.line, je.column, je.text);
    const json_t *d = root;
    const json_t *params = json_object_get(root, "params");
    int rc = COCE_OK;
    if (params) {
        const char *ch = json_string_value(json_object_get(params, "channel"));
        if (!ch || strncmp(ch, "ticker.", 7) != 0)
            rc = COCE_ENOTFOUND;
        d = json_object_get(params, "data");
    } else if (json_object_get(root, "result")) {
        d = json_object_get(root, "result");
        if (!json_is_object(d)) /* e.g. the subscribe answer: a list */
            rc = COCE_ENOTFOUND;
    } else if (json_object_get(root, "jsonrpc")) {
        rc = COCE_ENOTFOUND;
    }
    if (rc == COCE_ENOTFOUND) {
        json_decref(root);
        return coce_err_set(err, rc, "ticker: message holds no ticker");
    }
    const char *name = json_string_value(json_object_get(d, "instrument_name"));
    double ts = 0.0;
    memset(out, 0, sizeof *out);
    const char *miss = NULL;
    if (!name || strlen(name) >= COCE_INST_NAME_MAX)
        miss = "instrument_name missing or too long";
    else if (get_num(d, "timestamp", &ts) != 0)
        miss = "timestamp missing";
    else if (get_num(d, "mark_price", &out->mark_price) != 0)
        miss = "mark_price missing";
    if (miss || !name) {
        rc = coce_err_set(err, COCE_EPARSE, "ticker %s: %s", name ? name : "?",
                          miss ? miss : "no name");
        json_decref(root);
        return rc;
    }
    memcpy(out->name, name, strlen(name) + 1);
    out->timestamp_ms = (int64_t)llround(ts);
    out->underlying_price = num_or_nan(d, "underlying_price");
    out->index_price = num_or_nan(d, "index_price");
    out->mark_iv = num_or_nan(d, "mark_iv");
    out->bid_iv = num_or_nan(d, "bid_iv");
    out->ask_iv = num_or_nan(d, "ask_iv");
    out->best_bid_price = num_or_nan(d, "best_bid_price");
    out->best_ask_price = num_or_nan(d, "best_ask_price");
    out->best_bid_amount = num_or_nan(d, "best_bid_amount");
    out->best_ask_amount = num_or_nan(d, "best_ask_amount");
    out->open_interest = num_or_nan(d, "open_interest");
    const json_t *g = json_object_get(d, "greeks");
    out->delta = num_or_nan(g, "delta");
    out->gamma = num_or_nan(g, "gamma");
    out->vega = num_or_nan(g, "vega");
    out->theta = num_or_nan(g, "theta");
    json_decref(root);
    return rc;
}

size_t coce_instrument_find(const coce_instrument *in, size_t n,
                            const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(in[i].name, name) == 0)
            return i;
    return n;
}

/* One entry of public/get_book_summary_by_currency (Deribit API v2:
 * instrument_name, bid_price, ask_price (null on an empty side), mark_price,
 * mark_iv (percent), open_interest, underlying_price, creation_timestamp). */
static int summary_one(const json_t *o, size_t idx, coce_ticker *t,
                       coce_err *err)
{
    const char *name = json_string_value(json_object_get(o, "instrument_name"));
    if (!name || strlen(name) >= COCE_INST_NAME_MAX)
        return coce_err_set(err, COCE_EPARSE,
                            "book_summary[%zu].instrument_name: missing or "
                            "too long",
                            idx);
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, strlen(name) + 1);
    double ts = num_or_nan(o, "creation_timestamp");
    t->timestamp_ms = isfinite(ts) ? (int64_t)llround(ts) : 0;
    t->underlying_price = num_or_nan(o, "underlying_price");
    t->index_price = num_or_nan(o, "estimated_delivery_price");
    t->mark_price = num_or_nan(o, "mark_price");
    t->mark_iv = num_or_nan(o, "mark_iv");
    t->bid_iv = NAN;
    t->ask_iv = NAN;
    /* an empty side comes as null: 0 as in a ticker */
    t->best_bid_price = num_or_nan(o, "bid_price");
    t->best_ask_price = num_or_nan(o, "ask_price");
    if (isnan(t->best_bid_price))
        t->best_bid_price = 0.0;
    if (isnan(t->best_ask_price))
        t->best_ask_price = 0.0;
    t->best_bid_amount = NAN;
    t->best_ask_amount = NAN;
    t->open_interest = num_or_nan(o, "open_interest");
    t->delta = NAN;
    t->gamma = NAN;
    t->vega = NAN;
    t->theta = NAN;
    return COCE_OK;
}

int coce_book_summary_parse(const char *json, size_t len, coce_ticker *out,
                            size_t cap, size_t *n, coce_err *err)
{
    if (!json || !n || (cap > 0 && !out))
        return coce_err_set(err, COCE_EINVAL, "book_summary: NULL input");
    *n = 0;
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    if (!root)
        return coce_err_set(err, COCE_EPARSE,
                            "book_summary: line %d column %d: %s", je.line,
                            je.column, je.text);
    const json_t *arr =
        json_is_array(root) ? root : json_object_get(root, "result");
    int rc = COCE_OK;
    if (!json_is_array(arr)) {
        rc = coce_err_set(err, COCE_EPARSE, "book_summary: no result array");
    } else {
        size_t i;
        const json_t *o;
        json_array_foreach(arr, i, o)
        {
            if (i >= cap)
                break;
            rc = summary_one(o, i, &out[i], err);
            if (rc != COCE_OK)
                break;
        }
        if (rc == COCE_OK) {
            *n = json_array_size(arr);
            if (*n > cap)
                rc = coce_err_set(err, COCE_ERANGE,
                                  "book_summary: %zu entries, room for %zu",
                                  *n, cap);
        }
    }
    json_decref(root);
    return rc;
}
