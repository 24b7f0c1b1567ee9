/* CoinGecko client against a fake API on 127.0.0.1 serving the recorded
 * pages in tests/fixtures/api/coingecko/ (shapes from the docs' examples:
 * https://docs.coingecko.com/reference/coins-markets,
 * https://docs.coingecko.com/reference/coins-id-market-chart-range). */
#include "data_ingest/coingecko.h"
#include "mock_api.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *fixture(const char *name)
{
    char rel[256], p[1024];
    snprintf(rel, sizeof rel, "tests/fixtures/api/coingecko/%s", name);
    coce_test_path(p, sizeof p, rel);
    char *s = mock_read_fixture(p);
    assert_non_null(s);
    return s;
}

static void route(mock_api *m, struct MHD_Connection *c, const char *path,
                  int n, mock_reply *r)
{
    (void)m;
    (void)n;
    const char *page = mock_arg(c, "page");
    if (strcmp(path, "/api/v3/coins/markets") == 0) {
        if (page != NULL && strcmp(page, "1") == 0)
            r->body = fixture("markets_page1.json");
        else if (page != NULL && strcmp(page, "2") == 0)
            r->body = fixture("markets_page2.json");
        else
            r->body = mock_strdup("[]");
    } else if (strcmp(path, "/bad/coins/markets") == 0) {
        r->body = fixture("markets_bad.json");
    } else if (strcmp(path, "/api/v3/coins/bitcoin/market_chart/range") == 0) {
        r->body = fixture("market_chart_range.json");
    } else if (strcmp(path, "/full/coins/markets") == 0) {
        r->body = fixture("markets_page1.json");
    } else {
        r->status = 404;
        r->body = mock_strdup("{\"error\":\"coin not found\"}");
    }
}

static coce_http_client *client(void)
{
    coce_http_opts o;
    coce_http_opts_default(&o);
    o.max_retries = 0;
    o.timeout_ms = 3000;
    coce_http_client *c = NULL;
    assert_int_equal(coce_http_client_new(&c, &o, NULL), COCE_OK);
    return c;
}

static void test_markets_pages_until_short(void **state)
{
    (void)state;
    mock_api m;
    assert_int_equal(mock_start(&m, route, NULL), 0);
    coce_http_client *c = client();
    char base[128];
    snprintf(base, sizeof base, "%s/api/v3", m.base);
    coce_coingecko_opts o = {.base_url = base};
    coce_coin_market *mk = NULL;
    size_t n = 0;
    coce_err err;
    assert_int_equal(coce_coingecko_markets(c, &o, "usd", 3, 0, &mk, &n, &err),
                     COCE_OK);
    /* Page 1 full (3 rows), page 2 short (2 rows): stop, no page 3. */
    assert_int_equal(n, 5);
    assert_int_equal(mock_count(&m), 2);
    assert_string_equal(m.last_query, "vs_currency=usd&order=market_cap_desc&"
                                      "per_page=3&page=2");
    assert_null(strstr(m.last_headers, "x-cg-"));
    assert_string_equal(mk[0].id, "bitcoin");
    assert_string_equal(mk[0].symbol, "BTC");
    assert_string_equal(mk[0].name, "Bitcoin");
    assert_close(mk[0].current_price, 70187, 0, 0);
    assert_close(mk[0].market_cap, 1381651251183.0, 0, 0);
    assert_int_equal(mk[0].market_cap_rank, 1);
    assert_close(mk[0].total_volume, 20154184933.0, 0, 0);
    assert_close(mk[0].circulating_supply, 19675987, 0, 0);
    assert_int_equal(mk[0].last_updated_ms, 1712508571736LL);
    assert_string_equal(mk[2].symbol, "ADX");
    assert_string_equal(mk[3].id, "tiny-coin");
    assert_true(isnan(mk[3].market_cap));
    assert_true(isnan(mk[3].circulating_supply));
    assert_int_equal(mk[3].market_cap_rank, 0);
    assert_int_equal(mk[3].last_updated_ms, INT64_MIN);
    assert_string_equal(mk[4].symbol, "CDT");
    free(mk);

    /* max_pages stops early; a full page then an empty one also ends. */
    assert_int_equal(coce_coingecko_markets(c, &o, "usd", 3, 1, &mk, &n, &err),
                     COCE_OK);
    assert_int_equal(n, 3);
    free(mk);
    assert_int_equal(coce_coingecko_markets(c, &o, "btc", 2, 0, &mk, &n, &err),
                     COCE_OK);
    assert_int_equal(n, 5); /* 3 + 2 rows, then page 3 is [] */
    free(mk);
    coce_http_client_free(c);
    mock_stop(&m);
}

static void test_api_key_headers(void **state)
{
    (void)state;
    mock_api m;
    assert_int_equal(mock_start(&m, route, NULL), 0);
    coce_http_client *c = client();
    char base[128];
    snprintf(base, sizeof base, "%s/api/v3", m.base);
    coce_coingecko_opts o = {.base_url = base, .api_key = "CG-demo-abc"};
    coce_coin_market *mk = NULL;
    size_t n = 0;
    assert_int_equal(coce_coingecko_markets(c, &o, "usd", 250, 1, &mk, &n,
                                            NULL),
                     COCE_OK);
    free(mk);
    assert_non_null(strstr(m.last_headers, "x-cg-demo-api-key: CG-demo-abc"));
    assert_null(strstr(m.last_headers, "x-cg-pro-api-key"));
    /* The key never goes into the URL. */
    assert_null(strstr(m.last_query, "CG-demo-abc"));
    o.pro = 1;
    o.api_key = "CG-pro-xyz";
    assert_int_equal(coce_coingecko_markets(c, &o, "usd", 250, 1, &mk, &n,
                                            NULL),
                     COCE_OK);
    free(mk);
    assert_non_null(strstr(m.last_headers, "x-cg-pro-api-key: CG-pro-xyz"));
    assert_null(strstr(m.last_headers, "x-cg-demo-api-key"));
    o.api_key = "";
    assert_int_equal(coce_coingecko_markets(c, &o, "usd", 250, 1, &mk, &n,
                                            NULL),
                     COCE_OK);
    free(mk);
    assert_null(strstr(m.last_headers, "x-cg-"));
    coce_http_client_free(c);
    mock_stop(&m);
}

static void test_markets_errors(void **state)
{
    (void)state;
    mock_api m;
    assert_int_equal(mock_start(&m, route, NULL), 0);
    coce_http_client *c = client();
    char base[128];
    snprintf(base, sizeof base, "%s/bad", m.base);
    coce_coingecko_opts o = {.base_url = base};
    coce_coin_market *mk = NULL;
    size_t n = 0;
    coce_err err;
    assert_int_equal(coce_coingecko_markets(c, &o, "usd", 5, 0, &mk, &n, &err),
                     COCE_EPARSE);
    assert_string_equal(err.msg, "coingecko /coins/markets: page 1: item 3: "
                                 "field 'market_cap': expected a number");
    assert_null(mk);
    snprintf(base, sizeof base, "%s/nowhere", m.base);
    assert_int_equal(coce_coingecko_markets(c, &o, "usd", 5, 0, &mk, &n, &err),
                     COCE_ENOTFOUND);
    assert_int_equal(coce_coingecko_markets(c, &o, "usd", 251, 0, &mk, &n,
                                            &err),
                     COCE_EINVAL);
    assert_int_equal(coce_coingecko_markets(c, &o, "", 5, 0, &mk, &n, &err),
                     COCE_EINVAL);

    static const struct {
        const char *json;
        const char *msg;
    } bad[] = {
        {"{", "page 7: invalid JSON"},
        {"{\"error\":\"x\"}", "page 7: expected an array"},
        {"[3]", "item 0: expected an object"},
        {"[{\"symbol\":\"a\",\"name\":\"b\"}]", "field 'id': expected a string"},
        {"[{\"id\":\"a\",\"name\":\"b\"}]", "field 'symbol'"},
        {"[{\"id\":\"a\",\"symbol\":\"b\"}]", "field 'name'"},
        {"[{\"id\":\"a\",\"symbol\":\"b\",\"name\":\"c\",\"current_price\":"
         "\"1\"}]",
         "field 'current_price': expected a number"},
        {"[{\"id\":\"a\",\"symbol\":\"b\",\"name\":\"c\",\"total_volume\":[]}]",
         "field 'total_volume'"},
        {"[{\"id\":\"a\",\"symbol\":\"b\",\"name\":\"c\","
         "\"circulating_supply\":true}]",
         "field 'circulating_supply'"},
        {"[{\"id\":\"a\",\"symbol\":\"b\",\"name\":\"c\",\"market_cap_rank\":"
         "1.5}]",
         "field 'market_cap_rank': expected an integer"},
        {"[{\"id\":\"a\",\"symbol\":\"b\",\"name\":\"c\",\"last_updated\":"
         "\"yesterday\"}]",
         "field 'last_updated': expected an ISO 8601 time"},
        {"[{\"id\":\"a\",\"symbol\":\"b\",\"name\":\"c\",\"last_updated\":5}]",
         "field 'last_updated'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        assert_int_equal(coce_coingecko_parse_markets(bad[i].json,
                                                      strlen(bad[i].json), 7,
                                                      &mk, &n, &err),
                         COCE_EPARSE);
        if (strstr(err.msg, bad[i].msg) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, bad[i].msg);
    }
    coce_http_client_free(c);
    mock_stop(&m);
}

static void test_market_chart_range(void **state)
{
    (void)state;
    mock_api m;
    assert_int_equal(mock_start(&m, route, NULL), 0);
    coce_http_client *c = client();
    char base[128];
    snprintf(base, sizeof base, "%s/api/v3", m.base);
    coce_coingecko_opts o = {.base_url = base, .api_key = "k1", .pro = 1};
    coce_market_chart ch;
    coce_err err;
    assert_int_equal(coce_coingecko_market_chart_range(c, &o, "bitcoin", "usd",
                                                       1704067200, 1704078000,
                                                       &ch, &err),
                     COCE_OK);
    assert_string_equal(m.last_query,
                        "vs_currency=usd&from=1704067200&to=1704078000");
    assert_non_null(strstr(m.last_headers, "x-cg-pro-api-key: k1"));
    assert_int_equal(ch.n, 4);
    assert_int_equal(ch.time_ms[0], 1704067241331LL);
    assert_close(ch.price[1], 42493.2764087546, 0, 0);
    assert_close(ch.market_cap[2], 835499399014.932, 0, 0);
    assert_true(isnan(ch.market_cap[3])); /* absent at that time */
    assert_close(ch.volume[0], 14305769170.9498, 0, 0);
    assert_true(isnan(ch.volume[3])); /* null */
    coce_market_chart_destroy(&ch);
    coce_market_chart_destroy(NULL);

    assert_int_equal(coce_coingecko_market_chart_range(c, &o, "nope", "usd", 1,
                                                       2, &ch, &err),
                     COCE_ENOTFOUND);
    assert_int_equal(coce_coingecko_market_chart_range(c, &o, "bitcoin", "usd",
                                                       5, 2, &ch, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_coingecko_market_chart_range(c, &o, "", "usd", 1, 2,
                                                       &ch, &err),
                     COCE_EINVAL);

    static const struct {
        const char *json;
        const char *msg;
    } bad[] = {
        {"[", "invalid JSON"},
        {"{\"market_caps\":[]}", "field 'prices': expected an array"},
        {"{\"prices\":[[1,2,3]]}", "prices[0]: expected [ms, number]"},
        {"{\"prices\":[[1,\"2\"]]}", "prices[0]"},
        {"{\"prices\":[[\"1\",2]]}", "prices[0]"},
        {"{\"prices\":[[2,1],[1,1]]}", "prices[1]: time goes backwards"},
        {"{\"prices\":[[1,1]],\"market_caps\":{}}",
         "field 'market_caps': expected an array"},
        {"{\"prices\":[[1,1],[2,2]],\"total_volumes\":[[1,1],5]}",
         "total_volumes[1]: expected [ms, number]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        assert_int_equal(coce_coingecko_parse_market_chart(
                             bad[i].json, strlen(bad[i].json), &ch, &err),
                         COCE_EPARSE);
        assert_null(ch.time_ms);
        if (strstr(err.msg, bad[i].msg) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, bad[i].msg);
    }
    assert_int_equal(coce_coingecko_parse_market_chart("{\"prices\":[]}", 13,
                                                       &ch, &err),
                     COCE_OK);
    assert_int_equal(ch.n, 0);
    coce_market_chart_destroy(&ch);
    coce_http_client_free(c);
    mock_stop(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_markets_pages_until_short),
        cmocka_unit_test(test_api_key_headers),
        cmocka_unit_test(test_markets_errors),
        cmocka_unit_test(test_market_chart_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
