/* End-to-end test of the simulation: runs `coce --mode sim` in-process on a
 * small generated market and checks its outputs against figures recomputed
 * here, independently, from the report's own files (fills, trades, equity,
 * alerts, ground truth) — and that changing the future does not change past
 * decisions. */
#include "testutil.h"

#include "agent/sim.h"
#include "data_ingest/synth.h"
#include "state/book.h"
#include "state/state_file.h"
#include "utils/config.h"
#include "utils/fsutil.h"
#include "utils/log.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tmp[256];
static char market[512];

static void small_config(coce_config *cfg)
{
    coce_config_defaults(cfg);
    cfg->sim.assets = 6;
    cfg->sim.days = 8;
    cfg->sim.pumps = 14;
    cfg->sim.sectors = 2;
    cfg->model.train_days = 3;
    cfg->features.window_chunks = 200;
    cfg->cluster.window_bars = 48;
    cfg->cluster.min_bars = 24;
    cfg->guardrails.corr_long_bars = 48;
    cfg->guardrails.corr_short_bars = 12;
    cfg->killswitch.min_trades = 3;
    (void)snprintf(cfg->sim.market_dir, sizeof cfg->sim.market_dir, "%s/mkt",
                   tmp);
}

static int setup(void **state)
{
    (void)state;
    if (coce_test_tmpdir(tmp, sizeof tmp) == NULL)
        return -1;
    coce_log_set_stderr_level(COCE_LOG_OFF);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    coce_log_close();
    coce_test_rmtree(tmp);
    return 0;
}

static json_t *load_json(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (j == NULL)
        fail_msg("%s: %s", path, jerr.text);
    return j;
}

static double jnum(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (json_is_null(v))
        return NAN;
    if (!json_is_number(v))
        fail_msg("summary field %s is not a number", key);
    return json_number_value(v);
}

/* Reads a CSV (header skipped) into lines; returns the count. */
static size_t read_rows(const char *dir, const char *name, char ***out)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = coce_test_read_file(path, NULL);
    assert_non_null(text);
    size_t n = 0, cap = 64;
    char **rows = malloc(cap * sizeof *rows);
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save); /* header */
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        if (n == cap)
            rows = realloc(rows, (cap *= 2) * sizeof *rows);
        rows[n++] = strdup(line);
    }
    free(text);
    *out = rows;
    return n;
}

static void free_rows(char **rows, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        free(rows[i]);
    free(rows);
}

static void run_sim(const coce_config *cfg, const char *out, coce_sim_result *r)
{
    coce_sim_args args;
    memset(&args, 0, sizeof args);
    args.cfg = cfg;
    args.out_dir = out;
    coce_err err;
    coce_err_clear(&err);
    int rc = coce_sim_run(&args, r, &err);
    if (rc != COCE_OK)
        fail_msg("sim failed: %s", err.msg);
}

static void test_outputs_recomputed_independently(void **state)
{
    (void)state;
    coce_config cfg;
    small_config(&cfg);
    char out[512];
    snprintf(out, sizeof out, "%s/report", tmp);
    coce_sim_result r;
    run_sim(&cfg, out, &r);
    snprintf(market, sizeof market, "%s", r.market);
    json_t *summary = load_json(out, "summary.json");

    /* 1. Cash from the fills: every position is closed at the end, so the
     * final equity is the cash the fills leave. */
    char **fills;
    size_t nf = read_rows(out, "fills.csv", &fills);
    assert_true(nf > 0);
    double cash = cfg.strategy.initial_capital, fees = 0;
    int64_t last_fill_t = INT64_MIN;
    for (size_t i = 0; i < nf; ++i) {
        long long t;
        char cid[64], sym[32], side[8], reason[32];
        double qty, price, fee;
        assert_int_equal(sscanf(fills[i], "%lld,%63[^,],%31[^,],%7[^,],%lf,%lf,%lf,%31s",
                                &t, cid, sym, side, &qty, &price, &fee, reason),
                         8);
        assert_true(t >= last_fill_t); /* fills in time order */
        last_fill_t = t;
        assert_true(qty > 0 && price > 0 && fee >= 0);
        cash += strcmp(side, "buy") == 0 ? -(qty * price) - fee : qty * price - fee;
        fees += fee;
    }
    free_rows(fills, nf);
    assert_close(jnum(summary, "final_equity"), cash, 1e-9, 1e-12);
    assert_close(jnum(summary, "pnl"), cash - cfg.strategy.initial_capital, 1e-7, 1e-12);
    assert_close(jnum(summary, "fees"), fees, 1e-9, 1e-15);
    assert_int_equal((size_t)jnum(summary, "fills"), nf);

    /* 2. Hit rate and round trips from trades.csv. */
    char **trades;
    size_t nt = read_rows(out, "trades.csv", &trades);
    size_t wins = 0;
    double pnl_sum = 0;
    for (size_t i = 0; i < nt; ++i) {
        const char *last = strrchr(trades[i], ',');
        double pnl = strtod(last + 1, NULL);
        wins += pnl > 0;
        pnl_sum += pnl;
    }
    free_rows(trades, nt);
    assert_true(nt > 0);
    assert_int_equal((size_t)jnum(summary, "round_trips"), nt);
    assert_close(jnum(summary, "hit_rate"), (double)wins / (double)nt, 1e-12, 0);
    /* realised PnL of all round trips = the change in cash */
    assert_close(pnl_sum, cash - cfg.strategy.initial_capital, 1e-7, 1e-12);

    /* 3. Sharpe and max drawdown from equity.csv. */
    char **eq;
    size_t ne = read_rows(out, "equity.csv", &eq);
    double trading_ms = jnum(summary, "trading_ms");
    double prev = cfg.strategy.initial_capital, peak = prev, mdd = 0;
    double rets[4096];
    size_t nr = 0;
    for (size_t i = 0; i < ne; ++i) {
        long long t;
        double e;
        assert_int_equal(sscanf(eq[i], "%lld,%lf", &t, &e), 2);
        if (e > peak)
            peak = e;
        if ((peak - e) / peak > mdd)
            mdd = (peak - e) / peak;
        if ((double)t > trading_ms && nr < 4096)
            rets[nr++] = e / prev - 1;
        prev = e;
    }
    free_rows(eq, ne);
    assert_close(jnum(summary, "max_drawdown"), mdd, 1e-9, 1e-15);
    assert_true(nr >= 2);
    double mean = 0, ss = 0;
    for (size_t i = 0; i < nr; ++i)
        mean += rets[i] / (double)nr;
    for (size_t i = 0; i < nr; ++i)
        ss += (rets[i] - mean) * (rets[i] - mean);
    double sharpe = mean / sqrt(ss / (double)(nr - 1)) * sqrt(365.0);
    assert_close(jnum(summary, "sharpe"), sharpe, 1e-6, 1e-9);

    /* 4. Alerts against the planted pumps (ground truth, kind=pump). */
    char **alerts, **truth;
    size_t na = read_rows(out, "alerts.csv", &alerts);
    size_t ng = read_rows(market, "ground_truth.csv", &truth);
    size_t events = 0, alerted = 0;
    double last_ms = jnum(summary, "last_ms");
    for (size_t i = 0; i < ng; ++i) {
        char sym[32], kind[16];
        long long t, onset;
        assert_int_equal(sscanf(truth[i], "%31[^,],%lld,%lld,%15s", sym, &t, &onset, kind), 4);
        if (strcmp(kind, "pump") != 0 || (double)t < trading_ms || (double)t > last_ms)
            continue;
        char *slash = strchr(sym, '/');
        if (slash)
            *slash = '\0';
        ++events;
        for (size_t j = 0; j < na; ++j) {
            char asym[32];
            long long at;
            assert_int_equal(sscanf(alerts[j], "%31[^,],%lld", asym, &at), 2);
            if (strcmp(asym, sym) == 0 && at >= t - 180000 && at <= t + 120000) {
                ++alerted;
                break;
            }
        }
    }
    free_rows(alerts, na);
    free_rows(truth, ng);
    assert_int_equal((size_t)jnum(summary, "events"), events);
    assert_int_equal((size_t)jnum(summary, "events_alerted"), alerted);
    assert_int_equal((size_t)jnum(summary, "alerts"), na);
    assert_true(events > 0);
    assert_true(alerted > 0); /* the detector finds planted pumps */
    json_decref(summary);

    /* 5. State, manifest and logs. */
    char path[1024];
    snprintf(path, sizeof path, "%s/state.json", out);
    coce_book *b = NULL;
    coce_err err;
    assert_int_equal(coce_state_load(path, &b, &err), COCE_OK);
    assert_close(b->cash, cash, 1e-9, 1e-12);
    assert_int_equal(coce_book_position_count(b), 0);
    coce_book_free(b);

    json_t *man = load_json(out, "manifest.json");
    assert_string_equal(json_string_value(json_object_get(man, "version")), COCE_VERSION);
    assert_true(json_is_object(json_object_get(man, "config")));
    assert_int_equal(json_integer_value(json_object_get(man, "seed")), cfg.run.seed);
    char hex[65];
    snprintf(path, sizeof path, "%s/model.json", out);
    assert_int_equal(coce_fs_sha256_file(path, hex, NULL), COCE_OK);
    assert_string_equal(json_string_value(json_object_get(man, "model_sha256")), hex);
    json_t *data = json_object_get(man, "data_sha256");
    assert_true(json_object_size(data) == (size_t)cfg.sim.assets);
    const char *fname;
    json_t *v;
    json_object_foreach(data, fname, v) {
        snprintf(path, sizeof path, "%s/trades/%s", market, fname);
        assert_int_equal(coce_fs_sha256_file(path, hex, NULL), COCE_OK);
        assert_string_equal(json_string_value(v), hex);
    }
    json_decref(man);

    snprintf(path, sizeof path, "%s/logs.jsonl", out);
    char *logs = coce_test_read_file(path, NULL);
    assert_non_null(logs);
    size_t lines = 0;
    char *save = NULL;
    for (char *line = strtok_r(logs, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_t *o = json_loads(line, 0, NULL);
        if (o == NULL)
            fail_msg("log line is not JSON: %.200s", line);
        assert_non_null(json_object_get(o, "event"));
        json_decref(o);
        ++lines;
    }
    free(logs);
    assert_true(lines > 10);

    /* 6. A run never resumes or overwrites another run's report. */
    coce_sim_args args;
    memset(&args, 0, sizeof args);
    args.cfg = &cfg;
    args.out_dir = out;
    coce_sim_result r2;
    assert_int_equal(coce_sim_run(&args, &r2, &err), COCE_EEXIST);
    assert_non_null(strstr(err.msg, "another run"));
}

/* Copies the market with every trade at or after `cut` replaced by a
 * different future (prices doubled, sides flipped) and returns its dir. */
static void rewrite_future(const char *src, const char *dst, int64_t cut)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", src, dst);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "for f in '%s'/trades/*.csv; do awk -F, -v OFS=, -v cut=%lld "
             "'NR==1 || $2 < cut {print; next} "
             "{ $4 = ($4 == \"buy\") ? \"sell\" : \"buy\"; $5 = $5 * 2; $7 = $5 * $6; print }' "
             "\"$f\" > \"$f.new\" && mv \"$f.new\" \"$f\"; done",
             dst, (long long)cut);
    assert_int_equal(system(cmd), 0);
}

static void test_changing_the_future_keeps_past_decisions(void **state)
{
    (void)state;
    coce_config cfg;
    small_config(&cfg);
    char out_a[512], out_b[512], mkt_b[512];
    snprintf(out_a, sizeof out_a, "%s/ra", tmp);
    coce_sim_result ra, rb;
    run_sim(&cfg, out_a, &ra);
    /* the cut: two thirds into the run, inside the trading period */
    int64_t cut = ra.trading_ms + (ra.last_ms - ra.trading_ms) * 2 / 3;
    snprintf(mkt_b, sizeof mkt_b, "%s/future", tmp);
    rewrite_future(ra.market, mkt_b, cut);
    cfg.data.trades_dir[0] = '\0';
    snprintf(cfg.data.trades_dir, sizeof cfg.data.trades_dir, "%s", mkt_b);
    snprintf(out_b, sizeof out_b, "%s/rb", tmp);
    run_sim(&cfg, out_b, &rb);

    const char *files[] = {"alerts.csv", "fills.csv"};
    for (size_t f = 0; f < 2; ++f) {
        char **a, **b;
        size_t na = read_rows(out_a, files[f], &a);
        size_t nb = read_rows(out_b, files[f], &b);
        size_t before = 0;
        for (size_t i = 0; i < na; ++i) {
            /* alerts: second column is the decision time; fills: first */
            const char *p = a[i];
            if (f == 0)
                p = strchr(p, ',') + 1;
            long long t = strtoll(p, NULL, 10);
            if (t >= cut)
                break;
            if (i >= nb)
                fail_msg("%s: row %zu missing after the future changed", files[f], i);
            /* client ids and everything else identical */
            assert_string_equal(a[i], b[i]);
            ++before;
        }
        assert_true(before > 0);
        /* ...while the changed future did change what came after the cut
         * (otherwise this test could not tell anything). */
        int differs = na != nb;
        for (size_t i = before; !differs && i < na; ++i)
            differs = strcmp(a[i], b[i]) != 0;
        if (f == 1)
            assert_true(differs);
        free_rows(a, na);
        free_rows(b, nb);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outputs_recomputed_independently),
        cmocka_unit_test(test_changing_the_future_keeps_past_decisions),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
