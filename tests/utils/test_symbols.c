#include "testutil.h"
#include "utils/error.h"
#include "utils/symbols.h"

#include <stdio.h>
#include <string.h>

static void test_intern_find_name(void **state)
{
    (void)state;
    coce_symbols *s = NULL;
    assert_int_equal(coce_symbols_new(&s), COCE_OK);
    assert_int_equal(coce_symbols_count(s), 0);
    coce_asset_id id = 99;
    assert_int_equal(coce_symbols_find(s, "ADX", &id), COCE_ENOTFOUND);
    assert_int_equal(coce_symbols_intern(s, "ADX", &id), COCE_OK);
    assert_int_equal(id, 0);
    assert_int_equal(coce_symbols_intern(s, "BTC", &id), COCE_OK);
    assert_int_equal(id, 1);
    assert_int_equal(coce_symbols_intern(s, "ADX", &id), COCE_OK);
    assert_int_equal(id, 0);
    assert_int_equal(coce_symbols_intern(s, "adx", &id), COCE_OK);
    assert_int_equal(id, 2); /* case-sensitive on purpose */
    assert_int_equal(coce_symbols_count(s), 3);
    assert_int_equal(coce_symbols_find(s, "BTC", &id), COCE_OK);
    assert_int_equal(id, 1);
    assert_int_equal(coce_symbols_find(s, "BTC", NULL), COCE_OK);
    assert_int_equal(coce_symbols_intern(s, "NEW", NULL), COCE_OK);
    assert_string_equal(coce_symbols_name(s, 0), "ADX");
    assert_string_equal(coce_symbols_name(s, 1), "BTC");
    assert_string_equal(coce_symbols_name(s, 3), "NEW");
    assert_null(coce_symbols_name(s, 4));
    assert_null(coce_symbols_name(NULL, 0));
    assert_int_equal(coce_symbols_count(NULL), 0);
    coce_symbols_free(s);
    coce_symbols_free(NULL);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    coce_symbols *s = NULL;
    assert_int_equal(coce_symbols_new(NULL), COCE_EINVAL);
    assert_int_equal(coce_symbols_new(&s), COCE_OK);
    coce_asset_id id = 0;
    char big[COCE_SYMBOL_MAX + 2];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(coce_symbols_intern(s, "", &id), COCE_EINVAL);
    assert_int_equal(coce_symbols_intern(s, NULL, &id), COCE_EINVAL);
    assert_int_equal(coce_symbols_intern(s, big, &id), COCE_EINVAL);
    assert_int_equal(coce_symbols_intern(NULL, "A", &id), COCE_EINVAL);
    assert_int_equal(coce_symbols_find(NULL, "A", &id), COCE_EINVAL);
    assert_int_equal(coce_symbols_find(s, "", &id), COCE_EINVAL);
    big[COCE_SYMBOL_MAX] = '\0'; /* exactly the maximum is fine */
    assert_int_equal(coce_symbols_intern(s, big, &id), COCE_OK);
    assert_string_equal(coce_symbols_name(s, id), big);
    coce_symbols_free(s);
}

/* Many names force the hash table to grow several times; every id must
 * survive each rehash. */
static void test_many_symbols_grow(void **state)
{
    (void)state;
    coce_symbols *s = NULL;
    assert_int_equal(coce_symbols_new(&s), COCE_OK);
    char name[16];
    for (unsigned i = 0; i < 5000; ++i) {
        (void)snprintf(name, sizeof name, "S%u", i);
        coce_asset_id id = 0;
        assert_int_equal(coce_symbols_intern(s, name, &id), COCE_OK);
        assert_int_equal(id, i);
    }
    assert_int_equal(coce_symbols_count(s), 5000);
    for (unsigned i = 0; i < 5000; i += 7) {
        (void)snprintf(name, sizeof name, "S%u", i);
        coce_asset_id id = 0;
        assert_int_equal(coce_symbols_find(s, name, &id), COCE_OK);
        assert_int_equal(id, i);
        assert_string_equal(coce_symbols_name(s, id), name);
    }
    assert_int_equal(coce_symbols_find(s, "S5000", NULL), COCE_ENOTFOUND);
    coce_symbols_free(s);
}

static void check_base(const char *pair, const char *want)
{
    char out[32];
    int rc = coce_symbol_base(pair, out, sizeof out);
    if (rc != COCE_OK)
        fail_msg("coce_symbol_base(%s) = %d", pair, rc);
    assert_string_equal(out, want);
}

static void test_symbol_base(void **state)
{
    (void)state;
    check_base("ADX/BTC", "ADX");
    check_base("ADX-BTC", "ADX");
    check_base("ADXBTC", "ADX");
    check_base("adx_btc", "ADX");
    check_base("ADX", "ADX");
    check_base("adx", "ADX");
    check_base("ADX.csv", "ADX");
    check_base("BTCUSDT", "BTC");
    check_base("ETHBUSD", "ETH");
    check_base("SOLUSDC", "SOL");
    check_base("XRPTUSD", "XRP");
    check_base("ETHBTC", "ETH");
    check_base("BATETH", "BAT");
    check_base("ADABNB", "ADA");
    check_base("BTCUSD", "BTC");
    check_base("BTCEUR", "BTC");
    check_base("USDCUSDT", "USDC");
    /* A quote alone is a base, not an empty pair. */
    check_base("TUSD", "TUSD");
    check_base("BTC", "BTC");
    check_base("usdt", "USDT");
    check_base("1INCH/BTC", "1INCH");

    char out[8];
    assert_int_equal(coce_symbol_base("", out, sizeof out), COCE_EINVAL);
    assert_int_equal(coce_symbol_base("/BTC", out, sizeof out), COCE_EINVAL);
    assert_int_equal(coce_symbol_base("A B", out, sizeof out), COCE_EINVAL);
    assert_int_equal(coce_symbol_base(NULL, out, sizeof out), COCE_EINVAL);
    assert_int_equal(coce_symbol_base("ADX", NULL, 4), COCE_EINVAL);
    assert_int_equal(coce_symbol_base("ADX", out, 0), COCE_EINVAL);
    assert_int_equal(coce_symbol_base("ADX/BTC", out, 3), COCE_ERANGE);
    assert_int_equal(coce_symbol_base("ADX/BTC", out, 4), COCE_OK);
    assert_string_equal(out, "ADX");
    char longname[64];
    memset(longname, 'A', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    char big[64];
    assert_int_equal(coce_symbol_base(longname, big, sizeof big), COCE_ERANGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intern_find_name),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_many_symbols_grow),
        cmocka_unit_test(test_symbol_base),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
