/* CoinGecko API v3 client: market snapshots (universe selection by market
 * cap) and historical chart ranges.
 *
 * Reference: https://docs.coingecko.com/reference/coins-markets and
 * https://docs.coingecko.com/reference/coins-id-market-chart-range; keys:
 * https://docs.coingecko.com/reference/authentication (Pro: base
 * https://pro-api.coingecko.com/api/v3, header x-cg-pro-api-key) and
 * https://docs.coingecko.com/demo/reference/authentication (Demo/public:
 * base https://api.coingecko.com/api/v3, header x-cg-demo-api-key). The key
 * travels in the header (never the query string) and is a secret. */
#ifndef COCE_DATA_INGEST_COINGECKO_H
#define COCE_DATA_INGEST_COINGECKO_H

#include "data_ingest/http.h"
#include "utils/error.h"

#include <stddef.h>
#include <stdint.h>

#define COCE_COINGECKO_URL "https://api.coingecko.com/api/v3"
#define COCE_COINGECKO_PRO_URL "https://pro-api.coingecko.com/api/v3"
#define COCE_COINGECKO_MAX_PER_PAGE 250

typedef struct coce_coingecko_opts {
    const char *base_url; /* NULL: the Demo or Pro URL by `pro` */
    const char *api_key;  /* NULL or "": no key header */
    int pro;              /* 1: x-cg-pro-api-key, else x-cg-demo-api-key */
} coce_coingecko_opts;

/* One row of /coins/markets. Numbers the API gives as null are NaN. */
typedef struct coce_coin_market {
    char id[96];
    char symbol[32]; /* upper-cased */
    char name[128];
    double current_price;
    double market_cap;
    int64_t market_cap_rank; /* 0 when null */
    double total_volume;
    double circulating_supply;
    int64_t last_updated_ms; /* INT64_MIN when absent */
} coce_coin_market;

/* GET /coins/markets?vs_currency=..&order=market_cap_desc&per_page=..&page=N
 * for N = 1, 2, ... until a page holds fewer than per_page rows or
 * max_pages (0 = no limit) pages were read. per_page 1..250. *out is
 * malloc'ed (free()). COCE_EPARSE as "coingecko /coins/markets: page 2:
 * item 3: field 'market_cap': expected a number"; HTTP errors from
 * coce_http_get. */
int coce_coingecko_markets(coce_http_client *http,
                           const coce_coingecko_opts *o,
                           const char *vs_currency, size_t per_page,
                           size_t max_pages, coce_coin_market **out,
                           size_t *n, coce_err *err);

/* Parses one page (exposed for tests and cached files). */
int coce_coingecko_parse_markets(const char *json, size_t len, size_t page,
                                 coce_coin_market **out, size_t *n,
                                 coce_err *err);

/* /coins/{id}/market_chart/range: series aligned on the price times; a
 * market cap or volume missing at a time is NaN. */
typedef struct coce_market_chart {
    size_t n;
    int64_t *time_ms;
    double *price;
    double *market_cap;
    double *volume;
} coce_market_chart;

/* from_s/to_s: UNIX seconds. */
int coce_coingecko_market_chart_range(coce_http_client *http,
                                      const coce_coingecko_opts *o,
                                      const char *coin_id,
                                      const char *vs_currency, int64_t from_s,
                                      int64_t to_s, coce_market_chart *out,
                                      coce_err *err);

int coce_coingecko_parse_market_chart(const char *json, size_t len,
                                      coce_market_chart *out, coce_err *err);

/* Frees and zeroes; NULL is a no-op. */
void coce_market_chart_destroy(coce_market_chart *c);

#endif
