/* The pump-model subcommands end to end on small generated trade files with
 * planted pumps (rush orders: many buy fills sharing one millisecond, with
 * the price stepping up, as La Morgia et al. 2020 describe a pump's start):
 * features -> train -> predict -> eval -> detect -> retrain, and the usage
 * and data errors with their exit codes. */
#include "agent/cmd_model.h"
#include "cmd_model_fixture.h"
#include "alpha/pump_model.h"
#include "data_ingest/trades.h"
#include "testutil.h"
#include "utils/fsutil.h"
#include "utils/rng.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define HOUR INT64_C(3600000)
#define N_PUMPS 5
#define EXIT_NOT_FOUND 3 /* EXIT_DATA of cmd_model.c */

static int64_t pump_time(int64_t t0, int k) { return t0 + (2 * k + 2) * HOUR; }

static void gen_file(const char *name, const char *pair, int64_t t0,
                     uint64_t seed)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/trades/%s", dir, name);
    coce_trade_writer *w = NULL;
    assert_int_equal(coce_trade_writer_open(&w, path, pair, NULL), COCE_OK);
    coce_rng r;
    coce_rng_init(&r, seed);
    double px = 1e-4;
    int64_t ms = t0;
    int k = 0;
    while (ms < t0 + 12 * HOUR) {
        coce_trade t = {0};
        int64_t next = ms + 500 + (int64_t)(coce_rng_uniform(&r) * 3000.0);
        if (k < N_PUMPS && next >= pump_time(t0, k)) {
            int64_t at = pump_time(t0, k++);
            for (int g = 0; g < 8; ++g) {
                px *= 1.01;
                for (int f = 0; f < 6; ++f) {
                    t.time_ms = at + 2000 * g;
                    t.price = px;
                    t.qty = 50;
                    t.side = COCE_SIDE_BUY;
                    assert_int_equal(coce_trade_writer_write(w, &t, NULL),
                                     COCE_OK);
                }
            }
            next = at + 20000;
            px /= 1.08;
        }
        ms = next;
        px *= 1.0 + 0.001 * coce_rng_normal(&r);
        t.time_ms = ms;
        t.price = px;
        t.qty = 1 + 5 * coce_rng_uniform(&r);
        t.side = coce_rng_uniform(&r) < 0.5 ? COCE_SIDE_BUY : COCE_SIDE_SELL;
        /* an occasional small rush order outside pumps */
        int rep = coce_rng_uniform(&r) < 0.03 ? 2 : 1;
        for (int j = 0; j < rep; ++j)
            assert_int_equal(coce_trade_writer_write(w, &t, NULL), COCE_OK);
    }
    assert_int_equal(coce_trade_writer_close(w, NULL), COCE_OK);
}

static const int64_t T2018 = 1527811200000; /* 2018-06-01 00:00 UTC */
static const int64_t T2019 = 1559347200000; /* 2019-06-01 00:00 UTC */

static int setup(void **state)
{
    (void)state;
    assert_non_null(coce_test_tmpdir(dir, sizeof dir));
    char d[1024];
    snprintf(d, sizeof d, "%s/trades", dir);
    assert_int_equal(mkdir(d, 0755), 0);
    gen_file("AAA_2018-06-01_06.00.csv.gz", "AAA/BTC", T2018, 1);
    gen_file("BBB_2019-06-01_06.00.csv.gz", "BBB/BTC", T2019, 2);
    /* events: ground-truth CSV; one event far outside every file */
    char text[4096];
    size_t len = (size_t)snprintf(text, sizeof text,
                                  "symbol,time_ms,onset_ms,exchange\n");
    for (int k = 0; k < N_PUMPS; ++k) {
        len += (size_t)snprintf(text + len, sizeof text - len,
                                "AAA,%lld,,binance\nBBB,%lld,%lld,binance\n",
                                (long long)pump_time(T2018, k),
                                (long long)pump_time(T2019, k),
                                (long long)pump_time(T2019, k));
    }
    (void)snprintf(text + len, sizeof text - len, "CCC,1000,,binance\n");
    assert_int_equal(coce_test_write_file(p("events.csv"), text), 0);
    return 0;
}

static size_t count_lines(const char *path, const char *needle)
{
    char *text = coce_test_read_file(path, NULL);
    assert_non_null(text);
    size_t n = 0;
    for (char *c = text; (c = strchr(c, '\n')) != NULL; ++c)
        ++n;
    if (needle != NULL) {
        n = 0;
        for (char *c = text; (c = strstr(c, needle)) != NULL; ++c)
            ++n;
    }
    free(text);
    return n;
}

static void test_pipeline(void **state)
{
    (void)state;
    assert_int_equal(run(coce_cmd_features, "features", "--trades",
                         p("trades"), "--events", p("events.csv"), "--chunk",
                         "5s", "--window", "30", "--out", p("f.csv"), NULL),
                     0);
    char *text = coce_test_read_file(p("f.csv"), NULL);
    assert_non_null(text);
    assert_true(strncmp(text,
                        "symbol,chunk_start,std_rush_order,avg_rush_order,"
                        "std_trades,std_volume,avg_volume,std_price,"
                        "avg_price,avg_price_max,hour_sin,hour_cos,"
                        "minute_sin,minute_cos,label\n",
                        150) == 0);
    free(text);
    assert_int_equal(count_lines(p("f.csv"), ",1\n"), 2 * N_PUMPS);
    assert_true(count_lines(p("f.csv"), ",2\n") > 2 * N_PUMPS);
    /* train */
    assert_int_equal(run(coce_cmd_train, "train", "--features", p("f.csv"),
                         "--out", p("m.json"), "--C", "0.5",
                         "--threshold-folds", "2", NULL),
                     0);
    coce_pump_model m;
    assert_int_equal(coce_pump_model_load(p("m.json"), &m, NULL), COCE_OK);
    assert_int_equal(m.n_features, 12);
    assert_int_equal(m.chunk_ms, 5000);
    assert_close(m.C, 0.5, 0, 0);
    assert_non_null(strstr(m.notes, "prepare=logratio window=700"));
    assert_non_null(strstr(m.notes, "out-of-fold"));
    /* predict */
    assert_int_equal(run(coce_cmd_predict, "predict", "--model", p("m.json"),
                         "--features", p("f.csv"), "--out", p("p.csv"), NULL),
                     0);
    assert_int_equal(count_lines(p("p.csv"), NULL),
                     count_lines(p("f.csv"), NULL));
    /* eval: every protocol, model and baseline */
    assert_int_equal(run(coce_cmd_eval, "eval", "--model", p("m.json"),
                         "--features", p("f.csv"), "--events", p("events.csv"),
                         "--folds", "2", "--threshold-folds", "2", "--seed",
                         "3", NULL),
                     0);
    assert_int_equal(run(coce_cmd_eval, "eval", "--model", p("m.json"),
                         "--features", p("f.csv"), "--baseline", "--folds",
                         "2", "--pause-minutes", "10", NULL),
                     0);
    assert_int_equal(run(coce_cmd_eval, "eval", "--model", p("m.json"),
                         "--features", p("f.csv"), "--no-kfold",
                         "--threshold-folds", "0", NULL),
                     0);
    /* 5 positives per class-year cannot make 6 folds */
    assert_int_equal(run(coce_cmd_eval, "eval", "--model", p("m.json"),
                         "--features", p("f.csv"), "--folds", "20", NULL),
                     3);
}

/* detect: the trades through the detector with the model trained on the
 * window the features used (a model trained with --window 30). */
static void test_detect_and_retrain(void **state)
{
    (void)state;
    assert_int_equal(run(coce_cmd_train, "train", "--features", p("f.csv"),
                         "--out", p("m30.json"), "--window", "30", "--chunk",
                         "5s", NULL),
                     0);
    assert_int_equal(run(coce_cmd_detect, "detect", "--model", p("m30.json"),
                         "--trades", p("trades"), "--out", p("alerts.csv"),
                         NULL),
                     0);
    char *text = coce_test_read_file(p("alerts.csv"), NULL);
    assert_non_null(text);
    assert_true(strncmp(text, "symbol,timestamp,chunk_start,score\n", 35) ==
                0);
    /* every planted pump alerted within a minute of its start, and
     * nothing else (10 data rows) */
    assert_int_equal(count_lines(p("alerts.csv"), NULL), 1 + 2 * N_PUMPS);
    for (int k = 0; k < 2 * N_PUMPS; ++k) {
        int64_t at = pump_time(k < N_PUMPS ? T2018 : T2019, k % N_PUMPS);
        int found = 0;
        for (char *line = strchr(text, '\n'); line != NULL && line[1];
             line = strchr(line + 1, '\n')) {
            long long ts = 0, cs = 0;
            char sym[8];
            assert_int_equal(sscanf(line + 1, "%3[A-Z],%lld,%lld", sym, &ts,
                                    &cs),
                             3);
            found += strcmp(sym, k < N_PUMPS ? "AAA" : "BBB") == 0 &&
                     ts >= at && ts <= at + 60000 && cs <= ts;
        }
        assert_int_equal(found, 1);
    }
    free(text);
    /* one file, to stdout */
    assert_int_equal(run(coce_cmd_detect, "detect", "--model", p("m30.json"),
                         "--trades", p("trades/AAA_2018-06-01_06.00.csv.gz"),
                         "--pause-minutes", "0", NULL),
                     0);
    /* retrain keeps the previous version */
    char d[1024];
    snprintf(d, sizeof d, "%s/models", dir);
    assert_int_equal(mkdir(d, 0755), 0);
    char *buf = coce_test_read_file(p("m30.json"), NULL);
    assert_int_equal(coce_test_write_file(p("models/pump_5s.json"), buf), 0);
    free(buf);
    for (int i = 0; i < 2; ++i)
        assert_int_equal(run(coce_cmd_retrain, "retrain", "--features",
                             p("f.csv"), "--model", p("models/pump_5s.json"),
                             "--date", "2020-01-31", NULL),
                         0);
    assert_true(coce_fs_exists(p("models/archive/pump_5s-2020-01-31.json")));
    assert_true(
        coce_fs_exists(p("models/archive/pump_5s-2020-01-31.2.json")));
    coce_pump_model m;
    assert_int_equal(coce_pump_model_load(p("models/pump_5s.json"), &m, NULL),
                     COCE_OK);
    assert_non_null(strstr(m.notes, "window=30"));
    /* a fresh model with no previous one, archive dir given */
    assert_int_equal(run(coce_cmd_retrain, "retrain", "--features", p("f.csv"),
                         "--model", p("fresh.json"), "--archive",
                         p("arch"), "--C", "2", NULL),
                     0);
    assert_true(coce_fs_exists(p("fresh.json")));
}

/* The pump-level operating point: the threshold at a false-alert target
 * per coin-day, out-of-fold by file, with the figures in the notes; eval and
 * retrain repeat the procedure the notes state. */
static void test_fa_target(void **state)
{
    (void)state;
    /* onsets of the table itself (no event list), 2 file folds */
    assert_int_equal(run(coce_cmd_train, "train", "--features", p("f.csv"),
                         "--out", p("fa.json"), "--target-fa-per-coin-day",
                         "0.5", "--threshold-folds", "2", "--pos-after", "1",
                         NULL),
                     0);
    coce_pump_model m;
    assert_int_equal(coce_pump_model_load(p("fa.json"), &m, NULL), COCE_OK);
    assert_non_null(strstr(m.notes, "fa_target=0.5 pos_after=1"));
    assert_non_null(strstr(m.notes, "oof FA<=0.5/cd (2 file folds)"));
    /* planted pumps are clear: every one is alerted out-of-fold, and the
     * measured rate respects the target */
    const char *s = strstr(m.notes, "pumps ");
    assert_non_null(s);
    unsigned a = 0, b = 0;
    double fa = -1;
    assert_int_equal(sscanf(s, "pumps %u/%u, FA %lf", &a, &b, &fa), 3);
    assert_int_equal(b, 2 * N_PUMPS);
    assert_int_equal(a, 2 * N_PUMPS);
    assert_true(fa >= 0 && fa <= 0.5);
    /* an announced-time event list, training on 2018 files only */
    assert_int_equal(run(coce_cmd_train, "train", "--features", p("f.csv"),
                         "--out", p("fa18.json"), "--target-fa-per-coin-day",
                         "0.5", "--events", p("events.csv"), "--max-year",
                         "2019", "--threshold-folds", "2", NULL),
                     0);
    assert_int_equal(coce_pump_model_load(p("fa18.json"), &m, NULL), COCE_OK);
    assert_non_null(strstr(m.notes, "pumps 10/10"));
    /* 2018 alone is one file: no out-of-fold split is possible */
    assert_int_equal(run(coce_cmd_train, "train", "--features", p("f.csv"),
                         "--out", p("fa18.json"), "--target-fa-per-coin-day",
                         "0.5", "--max-year", "2018", NULL),
                     EXIT_NOT_FOUND);
    /* the planted pumps separate perfectly: even a near-zero target keeps
     * every pump (one false alert would already be ~1 per coin-day) */
    assert_int_equal(run(coce_cmd_train, "train", "--features", p("f.csv"),
                         "--out", p("fa0.json"), "--target-fa-per-coin-day",
                         "1e-9", "--threshold-folds", "2", NULL),
                     0);
    assert_int_equal(coce_pump_model_load(p("fa0.json"), &m, NULL), COCE_OK);
    assert_non_null(strstr(m.notes, "pumps 10/10, FA 0.0000/cd"));
    assert_true(m.threshold > 0 && m.threshold < 0.5);
    /* eval repeats the procedure (with and without an event list) */
    assert_int_equal(run(coce_cmd_eval, "eval", "--model", p("fa.json"),
                         "--features", p("f.csv"), "--events", p("events.csv"),
                         "--folds", "2", "--threshold-folds", "2", NULL),
                     0);
    assert_int_equal(run(coce_cmd_eval, "eval", "--model", p("fa.json"),
                         "--features", p("f.csv"), "--baseline", "--folds",
                         "2", "--threshold-folds", "2", NULL),
                     0);
    /* retrain keeps it */
    assert_int_equal(run(coce_cmd_retrain, "retrain", "--features", p("f.csv"),
                         "--model", p("fa.json"), "--archive", p("arch2"),
                         NULL),
                     0);
    assert_int_equal(coce_pump_model_load(p("fa.json"), &m, NULL), COCE_OK);
    assert_non_null(strstr(m.notes, "fa_target=0.5 pos_after=1"));
    /* usage errors */
    assert_int_equal(run(coce_cmd_train, "train", "--features", p("f.csv"),
                         "--out", p("x.json"), "--target-fa-per-coin-day",
                         "0", NULL),
                     2);
    assert_int_equal(run(coce_cmd_train, "train", "--features", p("f.csv"),
                         "--out", p("x.json"), "--pos-after", "101", NULL),
                     2);
    assert_int_equal(run(coce_cmd_train, "train", "--features", p("f.csv"),
                         "--out", p("x.json"), "--max-year", "12", NULL),
                     2);
    /* a missing event list: bad input */
    assert_int_equal(run(coce_cmd_train, "train", "--features", p("f.csv"),
                         "--out", p("x.json"), "--target-fa-per-coin-day",
                         "0.1", "--events", p("nope.csv"), NULL),
                     EXIT_NOT_FOUND);
}

static void test_errors(void **state)
{
    (void)state;
    /* usage */
    assert_int_equal(run(coce_cmd_features, "features", NULL), 2);
    assert_int_equal(run(coce_cmd_features, "features", "--bogus", NULL), 2);
    assert_int_equal(run(coce_cmd_features, "features", "--chunk", "x", NULL),
                     2);
    assert_int_equal(run(coce_cmd_features, "features", "--window", "1",
                         NULL),
                     2);
    assert_int_equal(run(coce_cmd_features, "features", "--help", NULL), 0);
    assert_int_equal(run(coce_cmd_train, "train", NULL), 2);
    assert_int_equal(run(coce_cmd_train, "train", "--C", "-1", NULL), 2);
    assert_int_equal(run(coce_cmd_train, "train", "--chunk", "5h", NULL), 2);
    assert_int_equal(run(coce_cmd_train, "train", "--window", "x", NULL), 2);
    assert_int_equal(run(coce_cmd_train, "train", "--threshold-folds", "-",
                         NULL),
                     2);
    assert_int_equal(run(coce_cmd_train, "train", "--prepare", "x", NULL), 2);
    assert_int_equal(run(coce_cmd_train, "train", "--x", NULL), 2);
    assert_int_equal(run(coce_cmd_train, "train", "--help", NULL), 0);
    assert_int_equal(run(coce_cmd_predict, "predict", NULL), 2);
    assert_int_equal(run(coce_cmd_predict, "predict", "--x", NULL), 2);
    assert_int_equal(run(coce_cmd_predict, "predict", "--help", NULL), 0);
    assert_int_equal(run(coce_cmd_eval, "eval", NULL), 2);
    assert_int_equal(run(coce_cmd_eval, "eval", "--folds", "1", NULL), 2);
    assert_int_equal(run(coce_cmd_eval, "eval", "--seed", "x", NULL), 2);
    assert_int_equal(run(coce_cmd_eval, "eval", "--threshold-folds", "x",
                         NULL),
                     2);
    assert_int_equal(run(coce_cmd_eval, "eval", "--pause-minutes", "x", NULL),
                     2);
    assert_int_equal(run(coce_cmd_eval, "eval", "--x", NULL), 2);
    assert_int_equal(run(coce_cmd_eval, "eval", "--help", NULL), 0);
    assert_int_equal(run(coce_cmd_detect, "detect", NULL), 2);
    assert_int_equal(run(coce_cmd_detect, "detect", "--pause-minutes", "x",
                         NULL),
                     2);
    assert_int_equal(run(coce_cmd_detect, "detect", "--x", NULL), 2);
    assert_int_equal(run(coce_cmd_detect, "detect", "--help", NULL), 0);
    assert_int_equal(run(coce_cmd_retrain, "retrain", NULL), 2);
    assert_int_equal(run(coce_cmd_retrain, "retrain", "--date", "2020", NULL),
                     2);
    assert_int_equal(run(coce_cmd_retrain, "retrain", "--C", "0", NULL), 2);
    assert_int_equal(run(coce_cmd_retrain, "retrain", "--x", NULL), 2);
    assert_int_equal(run(coce_cmd_retrain, "retrain", "--help", NULL), 0);
    /* data */
    assert_int_equal(run(coce_cmd_features, "features", "--trades",
                         p("trades"), "--events", p("nope.csv"), "--out",
                         p("g.csv"), NULL),
                     3);
    assert_int_equal(run(coce_cmd_features, "features", "--trades",
                         p("events.csv"), "--events", p("events.csv"),
                         "--out", p("g.csv"), NULL),
                     3);
    assert_int_equal(run(coce_cmd_features, "features", "--trades",
                         p("trades"), "--events", p("events.csv"), "--out",
                         p("no/such/dir/g.csv"), NULL),
                     1);
    assert_int_equal(run(coce_cmd_train, "train", "--features", p("nope.csv"),
                         "--out", p("x.json"), NULL),
                     3);
    const char *bad[] = {
        "", "a,b\n", "symbol,chunk_start,x,label\nA,1,2\n",
        "symbol,chunk_start,x,label\nA,q,2,0\n",
        "symbol,chunk_start,x,label\nA,1,z,0\n",
        "symbol,chunk_start,x,label\nA,1,2,7\n",
        "symbol,chunk_start,x,label\n,1,2,0\n",
        "symbol,chunk_start,x,label\n\nA,5,1,0\nA,10,2,0\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        assert_int_equal(coce_test_write_file(p("bad.csv"), bad[i]), 0);
        assert_int_equal(run(coce_cmd_train, "train", "--features",
                             p("bad.csv"), "--out", p("x.json"), NULL),
                         3);
    }
    /* model vs features with another feature set */
    assert_int_equal(run(coce_cmd_features, "features", "--trades",
                         p("trades/AAA_2018-06-01_06.00.csv.gz"), "--events",
                         p("events.csv"), "--chunk", "5s", "--window", "30",
                         "--extras", "--exchange", "", "--out", p("fx.csv"),
                         NULL),
                     0);
    assert_int_equal(run(coce_cmd_predict, "predict", "--model", p("m.json"),
                         "--features", p("fx.csv"), "--out", p("px.csv"),
                         NULL),
                     3);
    assert_int_equal(run(coce_cmd_eval, "eval", "--model", p("m.json"),
                         "--features", p("fx.csv"), NULL),
                     3);
    assert_int_equal(run(coce_cmd_predict, "predict", "--model", p("nope"),
                         "--features", p("fx.csv"), "--out", p("px.csv"),
                         NULL),
                     3);
    assert_int_equal(run(coce_cmd_predict, "predict", "--model", p("m.json"),
                         "--features", p("nope"), "--out", p("px.csv"), NULL),
                     3);
    assert_int_equal(run(coce_cmd_predict, "predict", "--model", p("m.json"),
                         "--features", p("f.csv"), "--out", p("no/dir/p"),
                         NULL),
                     1);
    assert_int_equal(run(coce_cmd_eval, "eval", "--model", p("nope"),
                         "--features", p("f.csv"), NULL),
                     3);
    assert_int_equal(run(coce_cmd_eval, "eval", "--model", p("m.json"),
                         "--features", p("nope"), NULL),
                     3);
    assert_int_equal(run(coce_cmd_eval, "eval", "--model", p("m.json"),
                         "--features", p("f.csv"), "--events", p("nope"),
                         NULL),
                     3);
    assert_int_equal(run(coce_cmd_detect, "detect", "--model", p("nope"),
                         "--trades", p("trades"), NULL),
                     3);
    assert_int_equal(run(coce_cmd_detect, "detect", "--model", p("m.json"),
                         "--trades", p("nope"), NULL),
                     1);
    assert_int_equal(run(coce_cmd_detect, "detect", "--model", p("m.json"),
                         "--trades", p("events.csv"), NULL),
                     3);
    assert_int_equal(run(coce_cmd_detect, "detect", "--model", p("m.json"),
                         "--trades", p("trades"), "--out", p("no/dir/a"),
                         NULL),
                     1);
    /* a detector refuses a model of another feature set */
    assert_int_equal(run(coce_cmd_train, "train", "--features", p("fx.csv"),
                         "--out", p("mclip.json"), "--prepare", "clip",
                         "--threshold-folds", "0", NULL),
                     0);
    assert_int_equal(run(coce_cmd_detect, "detect", "--model", p("mclip.json"),
                         "--trades", p("trades"), NULL),
                     3);
    assert_int_equal(run(coce_cmd_retrain, "retrain", "--features", p("f.csv"),
                         "--model", p("bad.csv"), NULL),
                     3);
    assert_int_equal(run(coce_cmd_retrain, "retrain", "--features",
                         p("nope.csv"), "--model", p("y.json"), NULL),
                     3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipeline),
        cmocka_unit_test(test_detect_and_retrain),
        cmocka_unit_test(test_fa_target),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
