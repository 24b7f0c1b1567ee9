#include "testutil.h"
#include "utils/config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int load(coce_config *cfg, const char *yaml, coce_err *err)
{
    coce_config_defaults(cfg);
    return coce_config_load_string(cfg, yaml, "t.yaml", err);
}

/* base.yaml must list exactly the built-in defaults: loading it over the
 * defaults changes nothing, and every schema key appears in it. */
static void test_base_yaml_matches_defaults(void **state)
{
    (void)state;
    char path[4096];
    coce_test_path(path, sizeof path, "config/base.yaml");
    coce_config defaults, loaded;
    coce_config_defaults(&defaults);
    coce_config_defaults(&loaded);
    coce_err err;
    int rc = coce_config_load_file(&loaded, path, &err);
    if (rc != COCE_OK)
        fail_msg("%s", err.msg);
    char *a = NULL, *b = NULL;
    assert_int_equal(coce_config_to_json(&defaults, &a), COCE_OK);
    assert_int_equal(coce_config_to_json(&loaded, &b), COCE_OK);
    assert_string_equal(a, b);
    free(a);
    free(b);
    char *text = coce_test_read_file(path, NULL);
    assert_non_null(text);
    for (size_t i = 0; i < coce_config_key_count(); ++i) {
        const char *key = coce_config_key(i);
        const char *leaf = strrchr(key, '.') + 1;
        char needle[128];
        snprintf(needle, sizeof needle, "  %s:", leaf);
        if (strstr(text, needle) == NULL)
            fail_msg("base.yaml lacks %s", key);
    }
    assert_null(coce_config_key(coce_config_key_count()));
    free(text);
    assert_int_equal(coce_config_validate(&loaded, &err), COCE_OK);
}

static void test_override_values(void **state)
{
    (void)state;
    coce_config cfg;
    coce_err err;
    int rc = load(&cfg,
                  "strategy:\n  take_profit: 0.2\n  score_scaling: yes\n"
                  "model:\n  path: models/x.json\n  train_days: 3\n"
                  "universe:\n  exclude: [USDT, WBTC]\n"
                  "run:\n  base_currency: USDT\n",
                  &err);
    if (rc != COCE_OK)
        fail_msg("%s", err.msg);
    assert_close(cfg.strategy.take_profit, 0.2, 0, 0);
    assert_int_equal(cfg.strategy.score_scaling, 1);
    assert_string_equal(cfg.model.path, "models/x.json");
    assert_int_equal(cfg.model.train_days, 3);
    assert_int_equal(cfg.universe.exclude.n, 2);
    assert_string_equal(cfg.universe.exclude.items[1], "WBTC");
    assert_string_equal(cfg.run.base_currency, "USDT");
    /* untouched keys keep defaults */
    assert_close(cfg.killswitch.sharpe_min, 1.2, 0, 0);
    /* an empty document changes nothing */
    assert_int_equal(coce_config_load_string(&cfg, "", "e", &err), COCE_OK);
    assert_int_equal(coce_config_load_string(&cfg, "# c\n", "e", &err),
                     COCE_OK);
    assert_int_equal(load(&cfg, "universe:\n  exclude:\n", &err), COCE_OK);
    assert_int_equal(cfg.universe.exclude.n, 0);
}

static void expect_error(const char *yaml, const char *where, const char *what)
{
    coce_config cfg;
    coce_err err;
    coce_err_clear(&err);
    int rc = load(&cfg, yaml, &err);
    assert_int_equal(rc, COCE_ECONFIG);
    if (strstr(err.msg, where) == NULL || strstr(err.msg, what) == NULL)
        fail_msg("message '%s' lacks '%s' or '%s'", err.msg, where, what);
}

static void test_errors_name_file_line_column_key(void **state)
{
    (void)state;
    expect_error("strategy:\n  take_proft: 0.2\n", "t.yaml:2:3: strategy.take_proft",
                 "unknown key");
    expect_error("nosuch:\n  a: 1\n", "t.yaml:1:1: nosuch", "unknown key");
    expect_error("strategy:\n  take_profit: lots\n",
                 "t.yaml:2:16: strategy.take_profit", "expected a number");
    expect_error("strategy:\n  take_profit: -1\n", "strategy.take_profit",
                 "out of range");
    expect_error("sim:\n  assets: 2.5\n", "t.yaml:2:11: sim.assets",
                 "expected an integer");
    expect_error("sim:\n  assets: 1\n", "sim.assets", "out of range");
    expect_error("live:\n  enabled: maybe\n", "live.enabled",
                 "expected true or false");
    expect_error("run:\n  base_currency: DOGE\n", "run.base_currency",
                 "is not one of BTC|ETH|USDT");
    expect_error("strategy: 3\n", "strategy", "unknown key");
    expect_error("strategy:\n  take_profit: [1, 2]\n", "strategy.take_profit",
                 "expected a single value");
    expect_error("universe:\n  exclude: USDT\n", "universe.exclude",
                 "expected a list");
    expect_error("universe:\n  exclude: [[a]]\n", "universe.exclude",
                 "list items must be scalars");
    expect_error("universe:\n  exclude: [ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJ]\n",
                 "universe.exclude", "longer than");
    expect_error("exchange:\n  api_key: abc\n", "t.yaml:2:3: exchange.api_key",
                 "secrets are not allowed");
    expect_error("notify:\n  SLACK_WEBHOOK_URL: x\n", "notify.SLACK_WEBHOOK_URL",
                 "secrets are not allowed");
    expect_error("- a\n- b\n", "t.yaml:1:1", "expected a mapping");
    expect_error("a: [\n", "t.yaml:", "invalid YAML");
    expect_error("? [a]\n: 1\n", "(top)", "keys must be plain names");
    char longtext[600];
    memset(longtext, 'x', sizeof longtext - 1);
    longtext[sizeof longtext - 1] = '\0';
    char yaml[700];
    snprintf(yaml, sizeof yaml, "model:\n  path: %s\n", longtext);
    expect_error(yaml, "model.path", "longer than");
    /* too many list items */
    char list[1024] = "universe:\n  exclude: [";
    for (int i = 0; i < 40; ++i) {
        char item[8];
        snprintf(item, sizeof item, "%sA%d", i ? "," : "", i);
        strcat(list, item);
    }
    strcat(list, "]\n");
    expect_error(list, "universe.exclude", "more than");
}

static void test_validate_cross_fields(void **state)
{
    (void)state;
    coce_config cfg;
    coce_err err;
    struct {
        const char *yaml;
        const char *key;
    } cases[] = {
        {"guardrails:\n  drawdown_soft: 0.3\n  drawdown_hard: 0.2\n",
         "guardrails.drawdown_soft"},
        {"guardrails:\n  corr_short_bars: 200\n", "guardrails.corr_short_bars"},
        {"options:\n  delta_min: 0.2\n", "options.delta_min"},
        {"options:\n  min_days: 90\n", "options.min_days"},
        {"universe:\n  min_market_cap_usd: 1e12\n", "universe.min_market_cap_usd"},
        {"cluster:\n  min_bars: 500\n", "cluster.min_bars"},
        {"sim:\n  assets: 3\n  sectors: 5\n", "sim.sectors"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        assert_int_equal(load(&cfg, cases[i].yaml, &err), COCE_OK);
        assert_int_equal(coce_config_validate(&cfg, &err), COCE_ECONFIG);
        if (strstr(err.msg, cases[i].key) == NULL)
            fail_msg("'%s' lacks %s", err.msg, cases[i].key);
    }
}

static void test_file_errors(void **state)
{
    (void)state;
    coce_config cfg;
    coce_config_defaults(&cfg);
    coce_err err;
    assert_int_equal(coce_config_load_file(&cfg, "/nonexistent/x.yaml", &err),
                     COCE_ECONFIG);
    assert_non_null(strstr(err.msg, "/nonexistent/x.yaml"));
    char dir[256], path[300];
    assert_non_null(coce_test_tmpdir(dir, sizeof dir));
    snprintf(path, sizeof path, "%s/c.yaml", dir);
    assert_int_equal(coce_test_write_file(path, "hrp:\n  turnover_cap: 0.25\n"), 0);
    assert_int_equal(coce_config_load_file(&cfg, path, &err), COCE_OK);
    assert_close(cfg.hrp.turnover_cap, 0.25, 0, 0);
    FILE *f = fopen(path, "wb");
    fwrite("a: 1\n\0b", 1, 7, f);
    fclose(f);
    assert_int_equal(coce_config_load_file(&cfg, path, &err), COCE_ECONFIG);
    assert_non_null(strstr(err.msg, "NUL"));
    coce_test_rmtree(dir);
    assert_int_equal(coce_config_load_string(NULL, "", "x", &err), COCE_EINVAL);
    assert_int_equal(coce_config_load_string(&cfg, "", NULL, &err), COCE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base_yaml_matches_defaults),
        cmocka_unit_test(test_override_values),
        cmocka_unit_test(test_errors_name_file_line_column_key),
        cmocka_unit_test(test_validate_cross_fields),
        cmocka_unit_test(test_file_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
