/* The back-test scripts of sim/ (docs/backtests.md) in tiny configurations
 * (4 assets x 6 days), run through system() with the built binary
 * (COCE_BIN), from a temporary directory: usage and errors, their outputs exist and parse, the
 * walk-forward split keeps each training window before its traded window,
 * the sweep is deterministic whatever --jobs, and the crash scenario
 * multiplies prices exactly by the documented path. */
#include "testutil.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define DAY_MS INT64_C(86400000)
#define HOUR_MS INT64_C(3600000)

static char tmp[PATH_MAX];

/* The scripts run coce in the current directory, where config/base.yaml
 * (if any) applies to every run: a short feature window lets a 3-day
 * training window label its pumps (the default 900 non-empty 25 s chunks
 * take most of a day of a thin 4-asset market). */
static int setup(void **state)
{
    (void)state;
    if (coce_test_tmpdir(tmp, sizeof tmp) == NULL)
        return -1;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/config", tmp);
    if (mkdir(path, 0755) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/config/base.yaml", tmp);
    return coce_test_write_file(path, "features:\n  window_chunks: 120\n");
}

static int teardown(void **state)
{
    (void)state;
    coce_test_rmtree(tmp);
    return 0;
}

/* Runs sim/SCRIPT ARGS from the temp dir with COCE_BIN set; output into
 * <tmp>/SCRIPT.out (shown on failure). Returns the exit status. */
static int run_script(const char *script, const char *args, int show)
{
    char src[PATH_MAX], cmd[4 * PATH_MAX];
    coce_test_path(src, sizeof src, "sim");
    snprintf(cmd, sizeof cmd,
             "cd '%s' && COCE_BIN='%s' sh '%s/%s' %s >'%s/%s.out' 2>&1", tmp,
             coce_test_bin(), src, script, args, tmp, script);
    int rc = system(cmd);
    int status = rc == -1 ? -1 : WEXITSTATUS(rc);
    if (status != 0 && show) {
        char out[PATH_MAX];
        snprintf(out, sizeof out, "%s/%s.out", tmp, script);
        char *text = coce_test_read_file(out, NULL);
        print_message("%s %s: exit %d\n%s\n", script, args, status,
                      text ? text : "");
        free(text);
    }
    return status;
}

static char *read_rel(const char *rel)
{
    char path[2 * PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", tmp, rel);
    char *text = coce_test_read_file(path, NULL);
    if (text == NULL)
        fail_msg("missing: %s", path);
    return text;
}

static json_t *load_json(const char *rel)
{
    char path[2 * PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", tmp, rel);
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (j == NULL)
        fail_msg("%s:%d: %s", path, e.line, e.text);
    return j;
}

static size_t count_lines(const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p; ++p)
        n += *p == '\n';
    return n;
}

/* A CSV: header starting with `first_col`, `rows` data lines, every line
 * with as many commas as the header. */
static void check_csv(const char *rel, const char *first_col, size_t rows)
{
    char *text = read_rel(rel);
    assert_int_equal(strncmp(text, first_col, strlen(first_col)), 0);
    assert_int_equal(count_lines(text), rows + 1);
    size_t commas = 0, line_commas = 0, line = 0;
    for (const char *p = text; *p; ++p) {
        if (*p == ',')
            ++line_commas;
        if (*p == '\n') {
            if (line == 0)
                commas = line_commas;
            else if (line_commas != commas)
                fail_msg("%s:%zu: %zu fields, header has %zu", rel, line + 1,
                         line_commas + 1, commas + 1);
            ++line;
            line_commas = 0;
        }
    }
    free(text);
}

static void test_usage_and_errors(void **state)
{
    (void)state;
    const char *scripts[] = {"walk_forward.sh", "sweep.sh", "stress.sh"};
    for (size_t i = 0; i < 3; ++i) {
        assert_int_equal(run_script(scripts[i], "--help", 1), 0);
        char out[PATH_MAX];
        snprintf(out, sizeof out, "%s.out", scripts[i]);
        char *text = read_rel(out);
        assert_non_null(strstr(text, "usage: sim/"));
        assert_non_null(strstr(text, "COCE_BIN"));
        free(text);
        assert_int_equal(run_script(scripts[i], "--no-such-option", 0), 2);
        assert_int_equal(run_script(scripts[i], "--assets x", 0), 2);
    }
    /* A directory that is not a back-test output is never replaced. */
    char path[2 * PATH_MAX];
    snprintf(path, sizeof path, "%s/precious", tmp);
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && touch '%s/keep'", path, path);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(run_script("sweep.sh", "--out precious", 0), 2);
    snprintf(path, sizeof path, "%s/precious/keep", tmp);
    assert_int_equal(access(path, F_OK), 0);
    /* COCE_BIN must name an executable. */
    snprintf(cmd, sizeof cmd,
             "cd '%s' && COCE_BIN=/nonexistent sh '%s/sim/stress.sh' "
             ">/dev/null 2>&1",
             tmp, coce_test_source_dir());
    int rc = system(cmd);
    assert_int_equal(WEXITSTATUS(rc), 2);
}

static void test_walk_forward(void **state)
{
    (void)state;
    assert_int_equal(run_script("walk_forward.sh",
                                "--assets 4 --days 6 --pumps 12 --seed 7 "
                                "--train-days 3 --test-days 1 --out wf",
                                1),
                     0);
    /* 6 days, 3 + 1 per window, step 1: windows trade days 3, 4, 5. */
    check_csv("wf/windows.csv", "window,train_from,trade_from", 3);
    json_t *s = load_json("wf/summary.json");
    assert_int_equal(json_integer_value(json_object_get(s, "windows")), 3);
    json_int_t traded =
        json_integer_value(json_object_get(s, "windows_traded"));
    assert_true(traded >= 1 && traded <= 3);
    assert_true(json_is_number(json_object_get(s, "oos_return")));
    assert_true(json_is_object(json_object_get(s, "engine_walk_forward")));
    json_decref(s);
    char *eq = read_rel("wf/oos_equity.csv");
    assert_int_equal(strncmp(eq, "time_ms,equity\n", 15), 0);
    free(eq);
    char *md = read_rel("wf/windows.md");
    assert_non_null(strstr(md, "| window |"));
    assert_non_null(strstr(md, "Stitched out-of-sample"));
    free(md);

    /* Window 0: training rows before its end (plus one boundary row per
     * file), traded rows from the warm-up day to the window's end; no
     * round trip entered before the traded window. */
    char *tsv = read_rel("wf/windows.tsv");
    long long k, tf, tt, xf, xt, df;
    assert_int_equal(sscanf(tsv, "%lld\t%lld\t%lld\t%lld\t%lld\t%lld", &k, &tf,
                            &tt, &xf, &xt, &df),
                     6);
    free(tsv);
    assert_int_equal(k, 0);
    assert_int_equal(tt - tf, 3 * DAY_MS);
    assert_int_equal(xf, tt);
    assert_int_equal(xt - xf, DAY_MS);
    assert_int_equal(xf - df, DAY_MS);
    char *csv = read_rel("wf/w0/train/trades/MUP.csv");
    size_t after = 0, rows = 0;
    for (char *line = strchr(csv, '\n'); line && line[1];
         line = strchr(line + 1, '\n')) {
        long long t = strtoll(strchr(line + 1, ',') + 1, NULL, 10);
        assert_true(t >= tf);
        after += t >= tt;
        ++rows;
    }
    assert_true(rows > 100);
    assert_int_equal(after, 1);
    free(csv);
    csv = read_rel("wf/w0/test/trades/MUP.csv");
    for (char *line = strchr(csv, '\n'); line && line[1];
         line = strchr(line + 1, '\n')) {
        long long t = strtoll(strchr(line + 1, ',') + 1, NULL, 10);
        assert_true(t >= df && t < xt);
    }
    free(csv);
    char *table = read_rel("wf/windows.csv");
    /* warmup_trades (10th column) is 0 or empty on every row. */
    for (char *line = strchr(table, '\n'); line && line[1];
         line = strchr(line + 1, '\n')) {
        const char *p = line + 1;
        for (int c = 0; c < 9; ++c)
            p = strchr(p, ',') + 1;
        assert_true(*p == ',' || (*p == '0' && p[1] == ','));
    }
    free(table);
}

static void test_sweep_deterministic(void **state)
{
    (void)state;
    const char *grid = "--assets 4 --days 6 --pumps 12 --seed 7 --train-days 2 "
                       "--take-profit '0.1 0.2' --trailing-stop 0.05 --C 1";
    char args[512];
    snprintf(args, sizeof args, "%s --jobs 2 --out sw", grid);
    assert_int_equal(run_script("sweep.sh", args, 1), 0);
    check_csv("sw/table.csv", "take_profit,trailing_stop,C,return", 2);
    json_t *s = load_json("sw/summary.json");
    json_t *runs = json_object_get(s, "runs");
    assert_int_equal(json_array_size(runs), 2);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(runs, 1), "take_profit")),
        "0.2");
    json_decref(s);
    char *a = read_rel("sw/table.csv");
    /* Same grid, one job at a time, into the same (replaced) directory. */
    snprintf(args, sizeof args, "%s --jobs 1 --out sw", grid);
    assert_int_equal(run_script("sweep.sh", args, 1), 0);
    char *b = read_rel("sw/table.csv");
    assert_string_equal(a, b);
    free(a);
    free(b);
}

static void test_stress(void **state)
{
    (void)state;
    assert_int_equal(run_script("stress.sh",
                                "--assets 4 --days 6 --pumps 12 --seed 7 "
                                "--train-days 2 --crash-day 3 --crash-depth 0.3 "
                                "--drought-day 1 --drought-days 1 --spike-day 4 "
                                "--out st",
                                1),
                     0);
    check_csv("st/table.csv", "scenario,return", 4);
    char *t = read_rel("st/table.csv");
    assert_non_null(strstr(t, "\nbaseline,"));
    assert_non_null(strstr(t, "\ncrash,"));
    assert_non_null(strstr(t, "\ndrought,"));
    assert_non_null(strstr(t, "\nspike,"));
    assert_non_null(strstr(t, "cuts_drawdown,cuts_var,cuts_corr,cuts_adv,halts"));
    free(t);
    json_t *s = load_json("st/summary.json");
    assert_int_equal(json_array_size(json_object_get(s, "runs")), 4);
    json_decref(s);
    json_t *base = load_json("st/runs/baseline/summary.json");
    assert_true(json_is_object(json_object_get(base, "guardrail_cuts")));
    int64_t day0 = json_integer_value(json_object_get(base, "first_ms"));
    day0 -= day0 % DAY_MS;
    json_decref(base);

    /* Crash (day 3): rows before 12:00 untouched; after the day's end every
     * price is (1 - 0.3)^(2/3) times the original. */
    char *orig = read_rel("st/market/trades/MUP.csv");
    char *crash = read_rel("st/scenarios/crash/trades/MUP.csv");
    assert_int_equal(count_lines(orig), count_lines(crash));
    int64_t c0 = day0 + 3 * DAY_MS + 12 * HOUR_MS, c2 = day0 + 4 * DAY_MS;
    double want = pow(0.7, 2.0 / 3.0);
    size_t before = 0, after = 0;
    char *sa = NULL, *sb = NULL;
    char *la = strtok_r(orig, "\n", &sa), *lb = strtok_r(crash, "\n", &sb);
    for (la = strtok_r(NULL, "\n", &sa), lb = strtok_r(NULL, "\n", &sb);
         la != NULL && lb != NULL;
         la = strtok_r(NULL, "\n", &sa), lb = strtok_r(NULL, "\n", &sb)) {
        char sym[16], dt[40], side[8];
        long long ta, tb;
        double pa, qa, pb, qb;
        assert_int_equal(sscanf(la, "%15[^,],%lld,%39[^,],%7[^,],%lf,%lf", sym,
                                &ta, dt, side, &pa, &qa),
                         6);
        assert_int_equal(sscanf(lb, "%15[^,],%lld,%39[^,],%7[^,],%lf,%lf", sym,
                                &tb, dt, side, &pb, &qb),
                         6);
        assert_int_equal(ta, tb);
        assert_true(qa == qb);
        if (ta < c0) {
            assert_string_equal(la, lb);
            ++before;
        } else if (ta >= c2) {
            assert_close(pb / pa, want, 1e-8, 0);
            ++after;
        }
    }
    assert_true(before > 100 && after > 100);
    free(orig);
    free(crash);

    /* Drought (day 1): about one row in ten left that day. */
    char *d = read_rel("st/scenarios/drought/trades/MUP.csv");
    char *o = read_rel("st/market/trades/MUP.csv");
    size_t nd = 0, no = 0;
    int64_t d0 = day0 + DAY_MS, d1 = day0 + 2 * DAY_MS;
    for (char *p = strchr(d, '\n'); p && p[1]; p = strchr(p + 1, '\n')) {
        long long tt = strtoll(strchr(p + 1, ',') + 1, NULL, 10);
        nd += tt >= d0 && tt < d1;
    }
    for (char *p = strchr(o, '\n'); p && p[1]; p = strchr(p + 1, '\n')) {
        long long tt = strtoll(strchr(p + 1, ',') + 1, NULL, 10);
        no += tt >= d0 && tt < d1;
    }
    assert_true(no > 100);
    assert_int_equal(nd, no / 10);
    free(d);
    free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_and_errors),
        cmocka_unit_test(test_walk_forward),
        cmocka_unit_test(test_sweep_deterministic),
        cmocka_unit_test(test_stress),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
