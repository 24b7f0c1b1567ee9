/* The command line: exit codes of --help, --version, bad arguments, the
 * refusals of paper/live, validate-config, synth and a small sim. */
#include "testutil.h"

#include "agent/cli.h"
#include "utils/fsutil.h"
#include "utils/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmp[256];

static int setup(void **state)
{
    (void)state;
    char base[1024];
    setenv("COCE_BASE_CONFIG", coce_test_path(base, sizeof base, "config/base.yaml"), 1);
    coce_log_set_stderr_level(COCE_LOG_OFF);
    return coce_test_tmpdir(tmp, sizeof tmp) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    coce_log_close();
    coce_test_rmtree(tmp);
    return 0;
}

#define RUN(...)                                                               \
    ({                                                                         \
        char *argv_[] = {"coce", __VA_ARGS__, NULL};                           \
        coce_cli_main((int)(sizeof argv_ / sizeof argv_[0]) - 1, argv_);       \
    })

static void test_help_version_usage(void **state)
{
    (void)state;
    assert_int_equal(RUN("--help"), 0);
    assert_int_equal(RUN("--version"), 0);
    assert_int_equal(RUN("--mode", "backtest"), 2);
    assert_int_equal(RUN("--bogus"), 2);
    assert_int_equal(RUN("--mode", "sim", "extra"), 2);
    assert_int_equal(RUN("--sleeve", "concave"), 2);
    /* on a live feed the sleeve needs options.live and Deribit keys */
    unsetenv("DERIBIT_CLIENT_ID");
    unsetenv("DERIBIT_CLIENT_SECRET");
    assert_int_equal(RUN("--mode", "live", "--sleeve", "convex"), 5);
    assert_int_equal(RUN("--mode", "paper", "--sleeve", "convex"), 5);
    assert_int_equal(RUN("synth", "--help"), 0);
    assert_int_equal(RUN("synth"), 2);
    assert_int_equal(RUN("synth", "--assets", "x", "--out", tmp), 2);
    assert_int_equal(RUN("synth", "--days", "-3", "--out", tmp), 2);
    assert_int_equal(RUN("synth", "--seed", "y", "--out", tmp), 2);
    assert_int_equal(RUN("synth", "--pumps", "z", "--out", tmp), 2);
    assert_int_equal(RUN("synth", "--nope"), 2);
}

static void test_live_and_paper_refusals(void **state)
{
    (void)state;
    unsetenv("EXCHANGE_API_KEY");
    unsetenv("EXCHANGE_API_SECRET");
    assert_int_equal(RUN("--mode", "live"), 5);
    char cfg[512];
    snprintf(cfg, sizeof cfg, "%s/live.yaml", tmp);
    assert_int_equal(coce_test_write_file(cfg, "live:\n  enabled: true\n"), 0);
    assert_int_equal(RUN("--mode", "live", "--config", cfg), 5);
    setenv("EXCHANGE_API_KEY", "test-key-123456", 1);
    setenv("EXCHANGE_API_SECRET", "test-secret-654321", 1);
    /* enabled and keyed, but no symbol to follow (feed.symbols empty):
     * nothing to trade, said clearly */
    assert_int_equal(RUN("--mode", "live", "--config", cfg), 4);
    unsetenv("EXCHANGE_API_KEY");
    unsetenv("EXCHANGE_API_SECRET");
    assert_int_equal(RUN("--mode", "paper"), 4);
}

/* The exit code of `coce --mode paper --sleeve convex --config cfg`, cfg
 * first rewritten as "run: data_dir: <data>" followed by the YAML `rest`
 * (rest NULL: cfg as it is). */
static int run_sleeve(char *cfg, const char *data, const char *rest)
{
    if (rest != NULL) {
        char yaml[2048];
        snprintf(yaml, sizeof yaml, "run:\n  data_dir: %s\n%s", data, rest);
        assert_int_equal(coce_test_write_file(cfg, yaml), 0);
    }
    return RUN("--mode", "paper", "--sleeve", "convex", "--config", cfg);
}

/* --sleeve convex on a live feed: refused until options.live and both
 * Deribit credentials are there, then checked by the runner before the
 * data directory is touched. */
static void test_sleeve_live_refusals(void **state)
{
    (void)state;
    unsetenv("DERIBIT_CLIENT_ID");
    unsetenv("DERIBIT_CLIENT_SECRET");
    char cfg[512], data[600];
    snprintf(cfg, sizeof cfg, "%s/sleeve.yaml", tmp);
    snprintf(data, sizeof data, "%s/sleeve-data", tmp);
    assert_int_equal(run_sleeve(cfg, data, "options:\n  live: true\n"), 5);
    setenv("DERIBIT_CLIENT_ID", "test-deribit-id", 1);
    assert_int_equal(run_sleeve(cfg, data, NULL), 5);
    setenv("DERIBIT_CLIENT_SECRET", "test-deribit-secret-42", 1);
    /* enabled and keyed; no symbol to follow: not available */
    assert_int_equal(run_sleeve(cfg, data, NULL), 4);
    /* a BTC-quoted feed has no USD price of the underlyings */
    assert_int_equal(run_sleeve(cfg, data,
                                "options:\n  live: true\n"
                                "feed:\n  symbols: [ADX]\n  quote: BTC\n"),
                     2);
    /* a BTC book without BTC among the underlyings */
    assert_int_equal(run_sleeve(cfg, data,
                                "  base_currency: BTC\n"
                                "options:\n  live: true\n  underlyings: ETH\n"
                                "feed:\n  symbols: [ADX]\n  quote: USDT\n"),
                     2);
    /* a base currency the sleeve cannot price; no BTC/ETH underlying */
    assert_int_equal(run_sleeve(cfg, data,
                                "  base_currency: EUR\n"
                                "options:\n  live: true\n"
                                "feed:\n  symbols: [ADX]\n  quote: USDT\n"),
                     2);
    assert_int_equal(run_sleeve(cfg, data,
                                "  base_currency: USDT\n"
                                "options:\n  live: true\n  underlyings: SOL\n"
                                "feed:\n  symbols: [ADX]\n  quote: USDT\n"),
                     2);
    assert_false(coce_fs_exists(data)); /* nothing touched */
    /* options.live needs an http(s) deribit.base_url */
    assert_int_equal(
        coce_test_write_file(
            cfg, "options:\n  live: true\nderibit:\n  base_url: ftp://x\n"),
        0);
    assert_int_equal(RUN("validate-config", cfg), 2);
    unsetenv("DERIBIT_CLIENT_ID");
    unsetenv("DERIBIT_CLIENT_SECRET");
}

static void test_validate_config(void **state)
{
    (void)state;
    char good[512], bad[512], cross[512];
    snprintf(good, sizeof good, "%s/good.yaml", tmp);
    snprintf(bad, sizeof bad, "%s/bad.yaml", tmp);
    snprintf(cross, sizeof cross, "%s/cross.yaml", tmp);
    assert_int_equal(coce_test_write_file(good, "hrp:\n  turnover_cap: 0.3\n"), 0);
    assert_int_equal(coce_test_write_file(bad, "hrp:\n  turnover_cap: high\n"), 0);
    assert_int_equal(coce_test_write_file(cross, "guardrails:\n  drawdown_soft: 0.5\n  drawdown_hard: 0.4\n"), 0);
    assert_int_equal(RUN("validate-config", good), 0);
    assert_int_equal(RUN("validate-config"), 0);
    assert_int_equal(RUN("validate-config", bad), 2);
    assert_int_equal(RUN("validate-config", cross), 2);
    assert_int_equal(RUN("validate-config", "/nonexistent.yaml"), 2);
    assert_int_equal(RUN("--mode", "sim", "--config", bad), 2);
    /* a secret in YAML is refused */
    assert_int_equal(coce_test_write_file(bad, "exchange:\n  api_secret: abc\n"), 0);
    assert_int_equal(RUN("validate-config", bad), 2);
    /* a broken .env is reported */
    char cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(tmp), 0);
    assert_int_equal(coce_test_write_file(".env", "not a pair\n"), 0);
    int rc = RUN("--mode", "sim");
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, 3);
}

static void test_synth_and_small_sim(void **state)
{
    (void)state;
    char mkt[512], out[512], cfg[512], yaml[1024];
    snprintf(mkt, sizeof mkt, "%s/mkt", tmp);
    snprintf(out, sizeof out, "%s/report", tmp);
    snprintf(cfg, sizeof cfg, "%s/sim.yaml", tmp);
    assert_int_equal(RUN("synth", "--assets", "4", "--days", "3", "--seed", "7",
                         "--pumps", "3", "--out", mkt),
                     0);
    snprintf(yaml, sizeof yaml,
             "model:\n  train_days: 2\nfeatures:\n  window_chunks: 100\n"
             "cluster:\n  window_bars: 24\n  min_bars: 12\n"
             "guardrails:\n  corr_short_bars: 6\n  corr_long_bars: 24\n");
    assert_int_equal(coce_test_write_file(cfg, yaml), 0);
    assert_int_equal(RUN("--mode", "sim", "--config", cfg, "--data", mkt,
                         "--out", out, "--skip-bad-rows"),
                     0);
    char path[1024];
    snprintf(path, sizeof path, "%s/summary.json", out);
    char *text = coce_test_read_file(path, NULL);
    assert_non_null(text);
    free(text);
    /* the same report directory is never reused */
    assert_int_equal(RUN("--mode", "sim", "--config", cfg, "--data", mkt,
                         "--out", out),
                     1);
    /* the convexity sleeve back-tests on the market's BTC/USD and ETH/USD
     * series and reports its figures */
    char out2[512];
    snprintf(out2, sizeof out2, "%s/report-sleeve", tmp);
    assert_int_equal(RUN("--mode", "sim", "--sleeve", "convex", "--config", cfg,
                         "--data", mkt, "--out", out2),
                     0);
    snprintf(path, sizeof path, "%s/sleeve.json", out2);
    text = coce_test_read_file(path, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"spot_worst_days\""));
    free(text);
    /* an empty data directory is bad input */
    char empty[512];
    snprintf(empty, sizeof empty, "%s/empty", tmp);
    snprintf(yaml, sizeof yaml, "mkdir -p '%s'", empty);
    assert_int_equal(system(yaml), 0);
    snprintf(out, sizeof out, "%s/report2", tmp);
    assert_int_equal(RUN("--mode", "sim", "--data", empty, "--out", out), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help_version_usage),
        cmocka_unit_test(test_live_and_paper_refusals),
        cmocka_unit_test(test_sleeve_live_refusals),
        cmocka_unit_test(test_validate_config),
        cmocka_unit_test(test_synth_and_small_sim),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
