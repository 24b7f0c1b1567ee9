/* Paper mode on a recorded feed persists its state: a run that goes bad
 * halts itself (meta kill-switch), the halt survives a restart (no new
 * entries on the next run), and only `coce reset-kill-switch` lifts it.
 * Also: a second engine on the same data directory is refused (lock), and a
 * restart neither replays old trades nor loses the book. Runs the binary. */
#include "testutil.h"

#include "state/book.h"
#include "state/state_file.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp[256];

static int sh(const char *fmt, const char *a, const char *b)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static size_t count_lines(const char *path)
{
    char *text = coce_test_read_file(path, NULL);
    size_t n = 0;
    for (char *p = text; p != NULL && *p != '\0'; ++p)
        n += *p == '\n';
    free(text);
    return n;
}

static coce_book *load_state(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s/pdata/state.json", tmp);
    coce_book *b = NULL;
    coce_err err;
    if (coce_state_load(path, &b, &err) != COCE_OK)
        fail_msg("%s", err.msg);
    return b;
}

static void test_halt_survives_restart(void **state)
{
    (void)state;
    assert_non_null(coce_test_tmpdir(tmp, sizeof tmp));
    const char *bin = coce_test_bin();
    char cmd[2048];
    /* 16 days; window a = days 0..12 (the halt happens inside it), window
     * b = days 12..16 (after the restart) */
    snprintf(cmd, sizeof cmd,
             "cd '%s' && '%s' synth --assets 6 --days 16 --pumps 30 --out mkt "
             ">/dev/null && mkdir -p a/trades b/trades && "
             "for f in mkt/trades/*.csv; do n=$(basename $f); "
             "awk -F, 'NR==1||$2<1547337600000' $f > a/trades/$n; "
             "awk -F, 'NR==1||$2>=1547337600000' $f > b/trades/$n; done && "
             "cp mkt/ground_truth.csv a/ && cp mkt/ground_truth.csv b/",
             tmp, bin);
    assert_int_equal(system(cmd), 0);
    char cfg[512];
    snprintf(cfg, sizeof cfg, "%s/cfg.yaml", tmp);
    /* a strategy judged bad by construction: the thresholds cannot be met */
    assert_int_equal(coce_test_write_file(cfg,
                                          "run:\n  data_dir: pdata\n  logs_dir: plogs\n"
                                          "  reports_dir: preports\n"
                                          "model:\n  train_days: 3\n"
                                          "features:\n  window_chunks: 200\n"
                                          "killswitch:\n  min_trades: 2\n"
                                          "  hit_rate_min: 0.99\n  sharpe_min: 50\n"),
                     0);
    const char *run = "cd '%s' && '%s' --mode paper --config cfg.yaml --data a >/dev/null 2>&1";
    assert_int_equal(sh(run, tmp, bin), 0);
    coce_book *b = load_state();
    assert_true(b->kill.halted);
    assert_non_null(strstr(b->kill.reason, "< 50"));
    size_t trades_before = b->n_trades;
    int64_t last_before = b->last_processed_ms;
    coce_book_free(b);
    char meta[512];
    snprintf(meta, sizeof meta, "%s/plogs/meta_events.jsonl", tmp);
    assert_int_equal(count_lines(meta), 1);

    /* restart on the next window: still halted, no entry at all */
    run = "cd '%s' && '%s' --mode paper --config cfg.yaml --data b >/dev/null 2>&1";
    assert_int_equal(sh(run, tmp, bin), 0);
    b = load_state();
    assert_true(b->kill.halted);
    assert_true(b->last_processed_ms > last_before);
    assert_int_equal(b->n_trades, trades_before); /* nothing new was opened */
    coce_book_free(b);
    assert_int_equal(count_lines(meta), 1); /* not triggered again */
    /* the second run's alerts were all refused because of the halt */
    snprintf(cmd, sizeof cmd,
             "cd '%s' && r=$(ls -d preports/*/ | sort | tail -1) && "
             "test $(tail -n +2 $r/alerts.csv | wc -l) -gt 0 && "
             "! tail -n +2 $r/alerts.csv | grep -v ',0,halted$' && "
             "! grep -q ',buy,.*,entry$' $r/fills.csv",
             tmp);
    assert_int_equal(system(cmd), 0);

    /* the same window again: every trade was processed before, none is
     * replayed */
    assert_int_equal(sh(run, tmp, bin), 0);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && r=$(ls -d preports/*/ | sort | tail -1) && "
             "grep -q '\"trades_in\": 0' $r/summary.json",
             tmp);
    assert_int_equal(system(cmd), 0);

    /* only reset-kill-switch lifts the halt, with a reason */
    assert_int_equal(sh("cd '%s' && '%s' reset-kill-switch --config cfg.yaml >/dev/null 2>&1", tmp, bin), 2);
    assert_int_equal(sh("cd '%s' && '%s' reset-kill-switch --config cfg.yaml --reason 'reviewed: test' >/dev/null 2>&1", tmp, bin), 0);
    b = load_state();
    assert_false(b->kill.halted);
    coce_book_free(b);
    assert_int_equal(count_lines(meta), 2);
    coce_test_rmtree(tmp);
}

static void test_second_engine_is_refused(void **state)
{
    (void)state;
    assert_non_null(coce_test_tmpdir(tmp, sizeof tmp));
    char dir[512], lockcmd[1024];
    snprintf(dir, sizeof dir, "%s/pdata", tmp);
    snprintf(lockcmd, sizeof lockcmd, "mkdir -p '%s' && cd '%s' && '%s' synth --assets 4 --days 2 --out mkt >/dev/null",
             dir, tmp, coce_test_bin());
    assert_int_equal(system(lockcmd), 0);
    /* hold the lock with flock(1) while a paper run starts */
    snprintf(lockcmd, sizeof lockcmd,
             "cd '%s' && printf 'run:\\n  data_dir: pdata\\n  logs_dir: plogs\\n  reports_dir: preports\\n' > c.yaml && "
             "flock pdata/LOCK sh -c \"'%s' --mode paper --config c.yaml --data mkt >/dev/null 2>&1; echo \\$? > rc\"; cat rc",
             tmp, coce_test_bin());
    FILE *p = popen(lockcmd, "r");
    assert_non_null(p);
    int rc = -1;
    assert_int_equal(fscanf(p, "%d", &rc), 1);
    pclose(p);
    assert_int_equal(rc, 5); /* refused: locked by another process */
    coce_test_rmtree(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_halt_survives_restart),
        cmocka_unit_test(test_second_engine_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
