/* CoinGecko API v3 client (see coingecko.h for the documentation URLs). */
#include "data_ingest/coingecko.h"

#include "data_ingest/trades.h"

#include <jansson.h>

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EP_MARKETS "coingecko /coins/markets"
#define EP_CHART "coingecko /coins/{id}/market_chart/range"

static const char *base_of(const coce_coingecko_opts *o)
{
    if (o != NULL && o->base_url != NULL && o->base_url[0] != '\0')
        return o->base_url;
    return (o != NULL && o->pro) ? COCE_COINGECKO_PRO_URL : COCE_COINGECKO_URL;
}

static int get(coce_http_client *http, const coce_coingecko_opts *o,
               const char *url, coce_http_response *r, coce_err *err)
{
    coce_http_header h[2];
    size_t nh = 0;
    h[nh++] = (coce_http_header){"Accept", "application/json", 0};
    if (o != NULL && o->api_key != NULL && o->api_key[0] != '\0')
        h[nh++] = (coce_http_header){
            o->pro ? "x-cg-pro-api-key" : "x-cg-demo-api-key", o->api_key, 1};
    return coce_http_get(http, url, h, nh, r, err);
}

/* number or null (NaN); anything else is an error. */
static int num_or_null(json_t *item, const char *key, double *out)
{
    json_t *v = json_object_get(item, key);
    if (v == NULL || json_is_null(v)) {
        *out = NAN;
        return COCE_OK;
    }
    if (!json_is_number(v))
        return COCE_EPARSE;
    *out = json_number_value(v);
    return COCE_OK;
}

static int str_field(json_t *item, const char *key, char *out, size_t len)
{
    json_t *v = json_object_get(item, key);
    if (!json_is_string(v) || json_string_length(v) >= len)
        return COCE_EPARSE;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return COCE_OK;
}

static int parse_item(json_t *item, coce_coin_market *m, const char **field,
                      const char **want)
{
    *want = "a string";
    if (str_field(item, "id", m->id, sizeof m->id) != COCE_OK)
        return *field = "id", COCE_EPARSE;
    if (str_field(item, "symbol", m->symbol, sizeof m->symbol) != COCE_OK)
        return *field = "symbol", COCE_EPARSE;
    if (str_field(item, "name", m->name, sizeof m->name) != COCE_OK)
        return *field = "name", COCE_EPARSE;
    for (char *p = m->symbol; *p != '\0'; ++p)
        *p = (char)toupper((unsigned char)*p);
    *want = "a number";
    if (num_or_null(item, "current_price", &m->current_price) != COCE_OK)
        return *field = "current_price", COCE_EPARSE;
    if (num_or_null(item, "market_cap", &m->market_cap) != COCE_OK)
        return *field = "market_cap", COCE_EPARSE;
    if (num_or_null(item, "total_volume", &m->total_volume) != COCE_OK)
        return *field = "total_volume", COCE_EPARSE;
    if (num_or_null(item, "circulating_supply", &m->circulating_supply) !=
        COCE_OK)
        return *field = "circulating_supply", COCE_EPARSE;
    json_t *rank = json_object_get(item, "market_cap_rank");
    m->market_cap_rank = 0;
    if (json_is_integer(rank))
        m->market_cap_rank = (int64_t)json_integer_value(rank);
    else if (rank != NULL && !json_is_null(rank))
        return *field = "market_cap_rank", *want = "an integer", COCE_EPARSE;
    json_t *lu = json_object_get(item, "last_updated");
    m->last_updated_ms = INT64_MIN;
    if (json_is_string(lu)) {
        if (coce_trade_parse_time(json_string_value(lu), json_string_length(lu),
                                  &m->last_updated_ms) != COCE_OK)
            return *field = "last_updated", *want = "an ISO 8601 time",
                   COCE_EPARSE;
    } else if (lu != NULL && !json_is_null(lu)) {
        return *field = "last_updated", *want = "an ISO 8601 time",
               COCE_EPARSE;
    }
    return COCE_OK;
}

int coce_coingecko_parse_markets(const char *json, size_t len, size_t page,
                                 coce_coin_market **out, size_t *n,
                                 coce_err *err)
{
    *out = NULL;
    *n = 0;
    json_error_t je;
    json_t *root = json_loadb(json != NULL ? json : "", len, 0, &je);
    if (root == NULL)
        return coce_err_set(err, COCE_EPARSE,
                            EP_MARKETS ": page %zu: invalid JSON at line %d "
                                       "column %d: %s",
                            page, je.line, je.column, je.text);
    if (!json_is_array(root)) {
        json_decref(root);
        return coce_err_set(err, COCE_EPARSE,
                            EP_MARKETS ": page %zu: expected an array", page);
    }
    size_t count = json_array_size(root);
    coce_coin_market *m = count > 0 ? calloc(count, sizeof *m) : NULL;
    if (count > 0 && m == NULL) {
        json_decref(root);
        return coce_err_set(err, COCE_ENOMEM, EP_MARKETS ": out of memory");
    }
    for (size_t i = 0; i < count; ++i) {
        json_t *item = json_array_get(root, i);
        const char *field = NULL, *want = NULL;
        if (!json_is_object(item)) {
            field = NULL;
        } else if (parse_item(item, &m[i], &field, &want) == COCE_OK) {
            continue;
        }
        free(m);
        json_decref(root);
        if (field == NULL)
            return coce_err_set(err, COCE_EPARSE,
                                EP_MARKETS ": page %zu: item %zu: expected an "
                                           "object",
                                page, i);
        return coce_err_set(err, COCE_EPARSE,
                            EP_MARKETS ": page %zu: item %zu: field '%s': "
                                       "expected %s",
                            page, i, field, want);
    }
    json_decref(root);
    *out = m;
    *n = count;
    return COCE_OK;
}

int coce_coingecko_markets(coce_http_client *http,
                           const coce_coingecko_opts *o,
                           const char *vs_currency, size_t per_page,
                           size_t max_pages, coce_coin_market **out,
                           size_t *n, coce_err *err)
{
    *out = NULL;
    *n = 0;
    if (per_page == 0 || per_page > COCE_COINGECKO_MAX_PER_PAGE)
        return coce_err_set(err, COCE_EINVAL,
                            EP_MARKETS ": per_page %zu: must be 1..250",
                            per_page);
    char vs[32];
    if (vs_currency == NULL || vs_currency[0] == '\0' ||
        coce_http_escape(vs_currency, vs, sizeof vs) != COCE_OK)
        return coce_err_set(err, COCE_EINVAL, EP_MARKETS ": bad vs_currency");
    coce_coin_market *all = NULL;
    size_t total = 0;
    int rc = COCE_OK;
    for (size_t page = 1; max_pages == 0 || page <= max_pages; ++page) {
        char url[1024];
        snprintf(url, sizeof url,
                 "%s/coins/markets?vs_currency=%s&order=market_cap_desc"
                 "&per_page=%zu&page=%zu",
                 base_of(o), vs, per_page, page);
        coce_http_response r;
        coce_coin_market *m = NULL;
        size_t k = 0;
        rc = get(http, o, url, &r, err);
        if (rc == COCE_OK)
            rc = coce_coingecko_parse_markets(r.body, r.body_len, page, &m, &k,
                                              err);
        coce_http_response_destroy(&r);
        if (rc != COCE_OK)
            break;
        if (k > 0) {
            coce_coin_market *grown = realloc(all, (total + k) * sizeof *all);
            if (grown == NULL) {
                free(m);
                rc = coce_err_set(err, COCE_ENOMEM, EP_MARKETS ": out of memory");
                break;
            }
            all = grown;
            memcpy(all + total, m, k * sizeof *m);
            total += k;
        }
        free(m);
        if (k < per_page)
            break; /* a short page is the last one */
    }
    if (rc != COCE_OK) {
        free(all);
        return rc;
    }
    *out = all;
    *n = total;
    return COCE_OK;
}

void coce_market_chart_destroy(coce_market_chart *c)
{
    if (c == NULL)
        return;
    free(c->time_ms);
    free(c->price);
    free(c->market_cap);
    free(c->volume);
    memset(c, 0, sizeof *c);
}

/* [[ms, value], ...]: 1 if item i is a valid pair. */
static int pair_at(json_t *arr, size_t i, int64_t *t, double *v)
{
    json_t *p = json_array_get(arr, i);
    if (!json_is_array(p) || json_array_size(p) != 2 ||
        !json_is_number(json_array_get(p, 0)))
        return 0;
    json_t *val = json_array_get(p, 1);
    if (json_is_null(val))
        *v = NAN;
    else if (json_is_number(val))
        *v = json_number_value(val);
    else
        return 0;
    *t = (int64_t)llround(json_number_value(json_array_get(p, 0)));
    return 1;
}

/* Fills dst[i] with the value of `arr` at time[i] (merge on sorted times). */
static int align(json_t *arr, const char *name, const int64_t *time, size_t n,
                 double *dst, coce_err *err)
{
    size_t m = json_array_size(arr), j = 0;
    int64_t tj = 0;
    double vj = NAN;
    for (size_t i = 0; i < n; ++i)
        dst[i] = NAN;
    if (arr != NULL && !json_is_array(arr))
        return coce_err_set(err, COCE_EPARSE,
                            EP_CHART ": field '%s': expected an array", name);
    for (size_t i = 0; i < n; ++i) {
        while (j < m) {
            if (!pair_at(arr, j, &tj, &vj))
                return coce_err_set(err, COCE_EPARSE,
                                    EP_CHART ": %s[%zu]: expected [ms, number]",
                                    name, j);
            if (tj >= time[i])
                break;
            ++j;
        }
        if (j < m && tj == time[i])
            dst[i] = vj;
    }
    return COCE_OK;
}

int coce_coingecko_parse_market_chart(const char *json, size_t len,
                                      coce_market_chart *out, coce_err *err)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_loadb(json != NULL ? json : "", len, 0, &je);
    if (root == NULL)
        return coce_err_set(err, COCE_EPARSE,
                            EP_CHART ": invalid JSON at line %d column %d: %s",
                            je.line, je.column, je.text);
    json_t *prices = json_object_get(root, "prices");
    if (!json_is_array(prices)) {
        json_decref(root);
        return coce_err_set(err, COCE_EPARSE,
                            EP_CHART ": field 'prices': expected an array");
    }
    size_t n = json_array_size(prices);
    size_t alloc = n > 0 ? n : 1;
    out->time_ms = calloc(alloc, sizeof *out->time_ms);
    out->price = calloc(alloc, sizeof *out->price);
    out->market_cap = calloc(alloc, sizeof *out->market_cap);
    out->volume = calloc(alloc, sizeof *out->volume);
    int rc = COCE_OK;
    if (out->time_ms == NULL || out->price == NULL || out->market_cap == NULL ||
        out->volume == NULL) {
        coce_err_set(err, COCE_ENOMEM, EP_CHART ": out of memory");
        rc = COCE_ENOMEM;
    }
    for (size_t i = 0; rc == COCE_OK && i < n; ++i) {
        if (!pair_at(prices, i, &out->time_ms[i], &out->price[i]))
            rc = coce_err_set(err, COCE_EPARSE,
                              EP_CHART ": prices[%zu]: expected [ms, number]",
                              i);
        else if (i > 0 && out->time_ms[i] <= out->time_ms[i - 1])
            rc = coce_err_set(err, COCE_EPARSE,
                              EP_CHART ": prices[%zu]: time goes backwards", i);
    }
    if (rc == COCE_OK)
        rc = align(json_object_get(root, "market_caps"), "market_caps",
                   out->time_ms, n, out->market_cap, err);
    if (rc == COCE_OK)
        rc = align(json_object_get(root, "total_volumes"), "total_volumes",
                   out->time_ms, n, out->volume, err);
    json_decref(root);
    if (rc != COCE_OK) {
        coce_market_chart_destroy(out);
        return rc;
    }
    out->n = n;
    return COCE_OK;
}

int coce_coingecko_market_chart_range(coce_http_client *http,
                                      const coce_coingecko_opts *o,
                                      const char *coin_id,
                                      const char *vs_currency, int64_t from_s,
                                      int64_t to_s, coce_market_chart *out,
                                      coce_err *err)
{
    memset(out, 0, sizeof *out);
    char id[128], vs[32];
    if (coin_id == NULL || coin_id[0] == '\0' ||
        coce_http_escape(coin_id, id, sizeof id) != COCE_OK ||
        vs_currency == NULL || vs_currency[0] == '\0' ||
        coce_http_escape(vs_currency, vs, sizeof vs) != COCE_OK)
        return coce_err_set(err, COCE_EINVAL, EP_CHART ": bad coin id or "
                                                       "vs_currency");
    if (to_s < from_s)
        return coce_err_set(err, COCE_EINVAL,
                            EP_CHART ": to %" PRId64 " before from %" PRId64,
                            to_s, from_s);
    char url[1024];
    snprintf(url, sizeof url,
             "%s/coins/%s/market_chart/range?vs_currency=%s&from=%" PRId64
             "&to=%" PRId64,
             base_of(o), id, vs, from_s, to_s);
    coce_http_response r;
    int rc = get(http, o, url, &r, err);
    if (rc == COCE_OK)
        rc = coce_coingecko_parse_market_chart(r.body, r.body_len, out, err);
    coce_http_response_destroy(&r);
    return rc;
}
