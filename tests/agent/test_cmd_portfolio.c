/* `coce cluster` and `coce allocate`, called as functions.
 *
 * Golden values: tests/fixtures/portfolio_cli/, written by
 * tests/reference/hrp_bench_ref.py --fixtures (pandas pairwise-complete
 * cov/corr, scipy single linkage, HRP bisection as PyPortfolioOpt; water-
 * filling caps; turnover move; networkx modularity of the true sectors) and,
 * when ../shared is present, PyPortfolioOpt's own weights_hrp.csv. */
#include "agent/cmd_portfolio.h"
#include "testutil.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmp[512];

typedef struct run_out {
    int code;
    char *out, *err; /* captured stdout / stderr */
} run_out;

static void run_free(run_out *r)
{
    free(r->out);
    free(r->err);
}

/* Runs fn with argv (NULL-terminated), capturing stdout and stderr. */
static run_out run(int (*fn)(int, char **), const char *const *args)
{
    char *argv[32];
    int argc = 0;
    while (args[argc] != NULL) {
        argv[argc] = (char *)args[argc];
        ++argc;
    }
    argv[argc] = NULL;
    char po[600], pe[600];
    (void)snprintf(po, sizeof po, "%s/stdout.txt", tmp);
    (void)snprintf(pe, sizeof pe, "%s/stderr.txt", tmp);
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    int fo = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(so >= 0 && se >= 0 && fo >= 0 && fe >= 0);
    dup2(fo, 1);
    dup2(fe, 2);
    close(fo);
    close(fe);
    run_out r;
    r.code = fn(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    r.out = coce_test_read_file(po, NULL);
    r.err = coce_test_read_file(pe, NULL);
    assert_non_null(r.out);
    assert_non_null(r.err);
    return r;
}

static void expect_fail(int (*fn)(int, char **), const char *const *args,
                        int code, const char *msg);

static const char *fixture(char *buf, size_t len, const char *name)
{
    char rel[256];
    (void)snprintf(rel, sizeof rel, "tests/fixtures/portfolio_cli/%s", name);
    return coce_test_path(buf, len, rel);
}

static const char *tmpfile_with(char *buf, size_t len, const char *name,
                                const char *text)
{
    (void)snprintf(buf, len, "%s/%s", tmp, name);
    if (text != NULL)
        assert_int_equal(coce_test_write_file(buf, text), 0);
    return buf;
}

/* asset,value CSV -> parallel arrays (header skipped). */
typedef struct table {
    size_t n;
    char name[64][32];
    double v[64];
} table;

static void parse_table(const char *text, table *t)
{
    memset(t, 0, sizeof *t);
    const char *p = strchr(text, '\n');
    assert_non_null(p);
    ++p;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        const char *nl = strchr(p, '\n');
        assert_non_null(comma);
        assert_non_null(nl);
        assert_true(t->n < 64);
        (void)snprintf(t->name[t->n], sizeof t->name[t->n], "%.*s",
                       (int)(comma - p), p);
        t->v[t->n] = strtod(comma + 1, NULL);
        t->n++;
        p = nl + 1;
    }
}

static void load_table(const char *path, table *t)
{
    char *text = coce_test_read_file(path, NULL);
    assert_non_null(text);
    parse_table(text, t);
    free(text);
}

static double lookup(const table *t, const char *name)
{
    for (size_t i = 0; i < t->n; ++i)
        if (strcmp(t->name[i], name) == 0)
            return t->v[i];
    fail_msg("asset %s missing", name);
    return NAN;
}

/* Same assets, in the same order, values within rtol. */
static void assert_tables_close(const table *got, const table *want,
                                double rtol)
{
    assert_int_equal(got->n, want->n);
    for (size_t i = 0; i < want->n; ++i) {
        assert_string_equal(got->name[i], want->name[i]);
        assert_close(got->v[i], want->v[i], rtol, 1e-15);
    }
}

/* Value after "key " in expect.txt (index-th number). */
static double expect(const char *key, int index)
{
    char path[1024];
    char *text =
        coce_test_read_file(fixture(path, sizeof path, "expect.txt"), NULL);
    assert_non_null(text);
    char *line = strstr(text, key);
    assert_non_null(line);
    char *p = line + strlen(key);
    double v = NAN;
    for (int i = 0; i <= index; ++i)
        v = strtod(p, &p);
    free(text);
    return v;
}

/* Number following `label` in text. */
static double number_after(const char *text, const char *label)
{
    const char *p = strstr(text, label);
    if (p == NULL)
        fail_msg("'%s' not in output:\n%s", label, text);
    return strtod(p + strlen(label), NULL);
}

static int setup(void **state)
{
    (void)state;
    assert_non_null(coce_test_tmpdir(tmp, sizeof tmp));
    /* the tests run in the build tree: no config/base.yaml there, but be
     * explicit so that a base file never changes the golden values */
    setenv("COCE_BASE_CONFIG", "/nonexistent/base.yaml", 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    coce_test_rmtree(tmp);
    return 0;
}

/* ---- cluster ---- */

static void check_sectors(const table *t)
{
    /* 13 eligible assets; LATE and FLAT excluded */
    assert_int_equal(t->n, 13);
    for (size_t i = 0; i < t->n; ++i) {
        assert_true(strcmp(t->name[i], "LATE") != 0);
        assert_true(strcmp(t->name[i], "FLAT") != 0);
    }
    const char *sec[3][5] = {{"S0_0", "S0_1", "S0_2", "S0_3", NULL},
                             {"GAPPY", "S1_0", "S1_1", "S1_2", "S1_3"},
                             {"S2_0", "S2_1", "S2_2", "S2_3", NULL}};
    double id[3];
    for (int s = 0; s < 3; ++s) {
        id[s] = lookup(t, sec[s][0]);
        for (int i = 1; i < 5 && sec[s][i] != NULL; ++i)
            assert_true(lookup(t, sec[s][i]) == id[s]);
    }
    assert_true(id[0] != id[1] && id[1] != id[2] && id[0] != id[2]);
}

static void test_cluster_sectors(void **state)
{
    (void)state;
    char prices[1024], out[1024];
    fixture(prices, sizeof prices, "prices.csv");
    tmpfile_with(out, sizeof out, "clusters.csv", NULL);
    const char *args[] = {"cluster", "--prices", prices, "--out", out, NULL};
    run_out r = run(coce_cmd_cluster, args);
    assert_int_equal(r.code, 0);
    table t;
    load_table(out, &t);
    check_sectors(&t);
    /* the sector partition's modularity on max(corr, 0), networkx */
    assert_close(number_after(r.out, "modularity: "), expect("modularity", 0),
                 1e-9, 0.0);
    assert_close(number_after(r.out, "clusters: "), 3.0, 0.0, 0.0);
    assert_non_null(strstr(r.err, "excluded LATE: 29 valid return(s)"));
    assert_non_null(strstr(r.err, "excluded FLAT: constant"));
    run_free(&r);
}

static void test_cluster_stdout_ms(void **state)
{
    (void)state;
    char prices[1024];
    fixture(prices, sizeof prices, "prices_ms.csv");
    const char *args[] = {"cluster", "--prices", prices, NULL};
    run_out r = run(coce_cmd_cluster, args);
    assert_int_equal(r.code, 0);
    assert_true(strncmp(r.out, "asset,cluster\n", 14) == 0);
    table t;
    parse_table(r.out, &t);
    check_sectors(&t);
    assert_close(number_after(r.err, "modularity: "), expect("modularity", 0),
                 1e-9, 0.0);
    run_free(&r);
}

static void test_cluster_ledoit_wolf(void **state)
{
    (void)state;
    char prices[1024], cfg[1024];
    fixture(prices, sizeof prices, "prices.csv");
    tmpfile_with(cfg, sizeof cfg, "lw.yaml",
                 "cluster:\n  ledoit_wolf: true\n  consensus_runs: 5\n");
    const char *args[] = {"cluster", "--prices", prices, "--config", cfg, NULL};
    run_out r = run(coce_cmd_cluster, args);
    assert_int_equal(r.code, 0);
    table t;
    parse_table(r.out, &t);
    check_sectors(&t);
    run_free(&r);
}

/* ---- allocate ---- */

static void allocate_against(const char *cfg_text, const char *clusters,
                             const char *prev, const char *want_csv,
                             const char *perf_key, run_out *keep)
{
    char prices[1024], cfg[1024], out[1024], want[1024], cl[1024], pv[1024];
    fixture(prices, sizeof prices, "prices.csv");
    tmpfile_with(cfg, sizeof cfg, "alloc.yaml", cfg_text);
    tmpfile_with(out, sizeof out, "weights.csv", NULL);
    const char *args[16] = {"allocate", "--prices", prices, "--out",
                            out,        "--config", cfg};
    int n = 7;
    if (clusters != NULL) {
        args[n++] = "--clusters";
        args[n++] = fixture(cl, sizeof cl, clusters);
    }
    if (prev != NULL) {
        args[n++] = "--prev";
        args[n++] = fixture(pv, sizeof pv, prev);
    }
    args[n] = NULL;
    run_out r = run(coce_cmd_allocate, args);
    if (r.code != 0)
        fail_msg("exit %d: %s", r.code, r.err);
    table got, exp;
    load_table(out, &got);
    load_table(fixture(want, sizeof want, want_csv), &exp);
    assert_tables_close(&got, &exp, 1e-9);
    if (perf_key != NULL) {
        assert_close(number_after(r.out, "expected annual return "),
                     expect(perf_key, 0), 1e-5, 1e-6);
        assert_close(number_after(r.out, "annual volatility "),
                     expect(perf_key, 1), 1e-5, 1e-6);
        assert_close(number_after(r.out, "Sharpe "), expect(perf_key, 2), 1e-5,
                     1e-6);
    }
    if (keep != NULL)
        *keep = r;
    else
        run_free(&r);
}

static void test_allocate_hrp(void **state)
{
    (void)state;
    allocate_against("hrp:\n  cluster_cap: 1.0\n", NULL, NULL, "hrp.csv",
                     "hrp_perf", NULL);
}

static void test_allocate_caps(void **state)
{
    (void)state;
    allocate_against("hrp:\n  cluster_cap: 0.35\n", "sectors.csv", NULL,
                     "capped.csv", "capped_perf", NULL);
}

static void test_allocate_turnover(void **state)
{
    (void)state;
    run_out r;
    allocate_against("hrp:\n  cluster_cap: 0.35\n  turnover_cap: 0.5\n",
                     "sectors.csv", "prev.csv", "turnover.csv", NULL, &r);
    assert_close(number_after(r.out, "turnover: "), expect("turnover", 0),
                 1e-12, 0.0);
    assert_non_null(strstr(r.out, "limited"));
    run_free(&r);
}

/* No --clusters: consensus clusters are computed (the three sectors), and
 * the default cap 0.5 does not bind on them, so the weights are HRP's. */
static void test_allocate_computed_clusters(void **state)
{
    (void)state;
    run_out r;
    allocate_against("run:\n  seed: 3\n", NULL, NULL, "hrp.csv", "hrp_perf",
                     &r);
    assert_non_null(strstr(r.err, "3 consensus cluster(s) computed"));
    run_free(&r);
}

/* All assets in one cluster: cap 0.35 is infeasible, raised to 1 (warned);
 * an asset missing from the file forms its own cluster (warned). */
static void test_allocate_infeasible_caps(void **state)
{
    (void)state;
    char prices[1024], cfg[1024], cl[1024];
    fixture(prices, sizeof prices, "prices.csv");
    tmpfile_with(cfg, sizeof cfg, "cap.yaml", "hrp:\n  cluster_cap: 0.35\n");
    tmpfile_with(cl, sizeof cl, "one.csv",
                 "asset,cluster\nS0_0,1\nS0_1,1\nGAPPY,1\nS0_2,1\nS0_3,1\n"
                 "LATE,4\nS1_0,1\nS1_1,1\nS1_2,1\nS1_3,1\nS2_0,1\nS2_1,1\n"
                 "S2_2,1\n\n");
    const char *args[] = {"allocate", "--prices", prices, "--clusters",
                          cl,         "--config", cfg,    NULL};
    run_out r = run(coce_cmd_allocate, args);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.err, "S2_3 has no cluster; it forms its own"));
    assert_non_null(strstr(r.err, "cannot hold the portfolio"));
    table got;
    parse_table(r.out, &got);
    double sum = 0.0;
    for (size_t i = 0; i < got.n; ++i)
        sum += got.v[i];
    assert_close(sum, 1.0, 1e-12, 0.0);
    /* S2_3 alone holds exactly half (cap 1/2) */
    assert_close(lookup(&got, "S2_3"), 0.5, 1e-12, 0.0);
    run_free(&r);
}

/* No gap: the blocked covariance path, HRP's cov-derived correlation and
 * clustering on it. */
static void test_allocate_gap_free(void **state)
{
    (void)state;
    char prices[1024], cfg[1024], out[1024], want[1024];
    fixture(prices, sizeof prices, "prices_full.csv");
    tmpfile_with(cfg, sizeof cfg, "full.yaml", "hrp:\n  cluster_cap: 1.0\n");
    tmpfile_with(out, sizeof out, "full_w.csv", NULL);
    const char *a1[] = {"allocate", "--prices", prices, "--config",
                        cfg,        "--out",    out,    NULL};
    run_out r = run(coce_cmd_allocate, a1);
    assert_int_equal(r.code, 0);
    run_free(&r);
    table got, exp;
    load_table(out, &got);
    load_table(fixture(want, sizeof want, "hrp_full.csv"), &exp);
    assert_tables_close(&got, &exp, 1e-9);
    const char *a2[] = {"cluster", "--prices", prices, NULL};
    r = run(coce_cmd_cluster, a2);
    assert_int_equal(r.code, 0);
    assert_close(number_after(r.err, "clusters: "), 3.0, 0.0, 0.0);
    run_free(&r);
}

/* A --prev book of 20 assets that are not priced: all get target 0 and
 * move a quarter of the way (turnover cap 0.5 of a full move of 2). */
static void test_allocate_prev_unpriced(void **state)
{
    (void)state;
    char prices[1024], pv[1024], cfg[1024];
    fixture(prices, sizeof prices, "prices_full.csv");
    char text[1024] = "asset,weight\n";
    for (int i = 0; i < 20; ++i) {
        char row[32];
        (void)snprintf(row, sizeof row, " OLD%d , 0.05 \n", i);
        strcat(text, row);
    }
    tmpfile_with(pv, sizeof pv, "prev20.csv", text);
    tmpfile_with(cfg, sizeof cfg, "p20.yaml",
                 "hrp:\n  cluster_cap: 1.0\n  turnover_cap: 0.5\n");
    const char *args[] = {"allocate", "--prices", prices, "--prev",
                          pv,         "--config", cfg,    NULL};
    run_out r = run(coce_cmd_allocate, args);
    assert_int_equal(r.code, 0);
    table got;
    parse_table(r.out, &got);
    assert_int_equal(got.n, 32);
    assert_close(lookup(&got, "OLD0"), 0.0375, 1e-12, 0.0);
    assert_close(lookup(&got, "OLD19"), 0.0375, 1e-12, 0.0);
    assert_close(number_after(r.err, "turnover: "), 0.5, 1e-12, 0.0);
    run_free(&r);
}

/* config/base.yaml comes from $COCE_BASE_CONFIG; an invalid one fails. */
static void test_base_config(void **state)
{
    (void)state;
    char prices[1024], base[1024];
    fixture(prices, sizeof prices, "prices_full.csv");
    tmpfile_with(base, sizeof base, "base.yaml",
                 "cluster:\n  consensus_runs: 0\n");
    setenv("COCE_BASE_CONFIG", base, 1);
    const char *args[] = {"cluster", "--prices", prices, NULL};
    expect_fail(coce_cmd_cluster, args, 2, "cluster.consensus_runs");
    tmpfile_with(base, sizeof base, "base.yaml",
                 "cluster:\n  consensus_runs: 3\n");
    run_out r = run(coce_cmd_cluster, args);
    assert_int_equal(r.code, 0);
    run_free(&r);
    /* unset: config/base.yaml relative to the working directory (the build
     * tree has none) */
    unsetenv("COCE_BASE_CONFIG");
    r = run(coce_cmd_cluster, args);
    assert_int_equal(r.code, 0);
    run_free(&r);
    setenv("COCE_BASE_CONFIG", "/nonexistent/base.yaml", 1);
}

/* PyPortfolioOpt's oracle: HRPOpt(prices.pct_change().dropna(how="all")). */
static void test_allocate_oracle(void **state)
{
    (void)state;
    char prices[1024], want[1024], cfg[1024], out[1024];
    if (coce_test_shared_path(prices, sizeof prices,
                              "data/hrp_oracle/stock_prices.csv") == NULL)
        skip();
    assert_non_null(coce_test_shared_path(want, sizeof want,
                                          "data/hrp_oracle/weights_hrp.csv"));
    tmpfile_with(cfg, sizeof cfg, "oracle.yaml",
                 "hrp:\n  annualisation: 252\n  cluster_cap: 1.0\n");
    tmpfile_with(out, sizeof out, "oracle_w.csv", NULL);
    const char *args[] = {"allocate", "--prices", prices, "--config",
                          cfg,        "--out",    out,    NULL};
    run_out r = run(coce_cmd_allocate, args);
    assert_int_equal(r.code, 0);
    table got, exp;
    load_table(out, &got);
    load_table(want, &exp); /* header ",0", then asset,weight */
    assert_int_equal(got.n, 20);
    assert_int_equal(exp.n, 20);
    for (size_t i = 0; i < exp.n; ++i)
        assert_close(lookup(&got, exp.name[i]), exp.v[i], 1e-9, 0.0);
    /* README: (return, vol) of the oracle weights at 252 periods; the
     * command prints Sharpe at rf 0, so only return and vol compare */
    assert_close(number_after(r.out, "expected annual return "),
                 0.21353402380950973, 1e-5, 0.0);
    assert_close(number_after(r.out, "annual volatility "), 0.17844159743748936,
                 1e-5, 0.0);
    run_free(&r);
}

/* ---- errors ---- */

static void expect_fail(int (*fn)(int, char **), const char *const *args,
                        int code, const char *msg)
{
    run_out r = run(fn, args);
    if (r.code != code || strstr(r.err, msg) == NULL)
        fail_msg("exit %d (want %d), stderr: %s (want '%s')", r.code, code,
                 r.err, msg);
    run_free(&r);
}

static void test_usage(void **state)
{
    (void)state;
    char prices[1024];
    fixture(prices, sizeof prices, "prices.csv");
    const char *a1[] = {"cluster", NULL};
    expect_fail(coce_cmd_cluster, a1, 2, "--prices FILE is required");
    const char *a2[] = {"cluster", "--prices", prices, "extra", NULL};
    expect_fail(coce_cmd_cluster, a2, 2, "unexpected argument 'extra'");
    const char *a3[] = {"allocate", "--bogus", NULL};
    expect_fail(coce_cmd_allocate, a3, 2, "bad option '--bogus'");
    const char *a4[] = {"cluster", "--prices", prices, "--prev", "x", NULL};
    expect_fail(coce_cmd_cluster, a4, 2, "only for allocate");
    const char *a5[] = {
        "cluster", "--prices", prices, "--config", "/nonexistent/c.yaml", NULL};
    expect_fail(coce_cmd_cluster, a5, 2, "c.yaml: cannot open");
    const char *a6[] = {"allocate", "--help", NULL};
    run_out r = run(coce_cmd_allocate, a6);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "usage: coce allocate"));
    run_free(&r);
    const char *a7[] = {"cluster", "--help", NULL};
    r = run(coce_cmd_cluster, a7);
    assert_int_equal(r.code, 0);
    run_free(&r);
    char cfg[1024];
    tmpfile_with(cfg, sizeof cfg, "bad.yaml", "hrp:\n  cluster_cap: 7\n");
    const char *a8[] = {"allocate", "--prices", prices, "--config", cfg, NULL};
    expect_fail(coce_cmd_allocate, a8, 2, "hrp.cluster_cap");
}

static void test_bad_prices(void **state)
{
    (void)state;
    char p[1024];
    const char *a1[] = {"cluster", "--prices", "/nonexistent/p.csv", NULL};
    expect_fail(coce_cmd_cluster, a1, 3, "p.csv");
    tmpfile_with(p, sizeof p, "bad.csv",
                 "date,A,B\n2023-01-01,1,2\n2023-01-02,1,x\n");
    const char *a2[] = {"allocate", "--prices", p, NULL};
    expect_fail(coce_cmd_allocate, a2, 3, "bad.csv:3");
    tmpfile_with(p, sizeof p, "one.csv", "date,A,B\n2023-01-01,1,2\n");
    const char *a3[] = {"cluster", "--prices", p, NULL};
    expect_fail(coce_cmd_cluster, a3, 3, "returns need at least 2");
    tmpfile_with(p, sizeof p, "short.csv",
                 "date,A,B\n2023-01-01,1,2\n2023-01-02,1.5,2.5\n"
                 "2023-01-03,1.2,2.1\n");
    const char *a4[] = {"allocate", "--prices", p, NULL};
    expect_fail(coce_cmd_allocate, a4, 3, "no asset has cluster.min_bars");
}

/* A (rows 0-59) and B (rows 100-199) never overlap: their covariance and
 * correlation are undefined, and Ledoit-Wolf finds no complete row. */
static void test_disjoint_histories(void **state)
{
    (void)state;
    char p[1024], cfg[1024];
    tmpfile_with(p, sizeof p, "disjoint.csv", NULL);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f, "time_ms,A,B\n");
    for (int t = 0; t < 200; ++t) {
        const double a = 10.0 + sin(0.7 * t), b = 20.0 + cos(0.3 * t);
        if (t < 60)
            fprintf(f, "%d,%.10g,\n", 1000 * (t + 1), a);
        else if (t >= 100)
            fprintf(f, "%d,,%.10g\n", 1000 * (t + 1), b);
        else
            fprintf(f, "%d,,\n", 1000 * (t + 1));
    }
    fclose(f);
    const char *a1[] = {"allocate", "--prices", p, NULL};
    expect_fail(coce_cmd_allocate, a1, 3, "covariance of A and B");
    tmpfile_with(cfg, sizeof cfg, "lw.yaml", "cluster:\n  ledoit_wolf: true\n");
    const char *a2[] = {"cluster", "--prices", p, "--config", cfg, NULL};
    expect_fail(coce_cmd_cluster, a2, 3, "Ledoit-Wolf");
    /* without shrinkage, clustering still works: no edge between them */
    const char *a3[] = {"cluster", "--prices", p, NULL};
    run_out r = run(coce_cmd_cluster, a3);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "A,0\nB,1\n"));
    run_free(&r);
}

static void prev_case(const char *text, const char *msg)
{
    char prices[1024], pv[1024];
    fixture(prices, sizeof prices, "prices.csv");
    tmpfile_with(pv, sizeof pv, "prev_bad.csv", text);
    const char *args[] = {"allocate", "--prices", prices, "--prev", pv, NULL};
    expect_fail(coce_cmd_allocate, args, 3, msg);
}

static void test_bad_prev(void **state)
{
    (void)state;
    prev_case("asset,weight\nS0_0,0.5\nS0_1,abc\n",
              "prev_bad.csv:3: column 'weight': 'abc' is not a number");
    prev_case("asset,weight\nS0_0,0.5\nS0_0,0.5\n",
              "prev_bad.csv:3: duplicate asset S0_0 (first on line 2)");
    prev_case("asset,weight\nS0_0,0.5\nS0_1,0.4\n",
              "prev_bad.csv:3: the 2 weights sum to 0.9");
    prev_case("asset,weight\nS0_0,1.5\nS0_1,-0.5\n",
              "prev_bad.csv:3: column 'weight': negative weight");
    prev_case("name,w\nS0_0,1\n", "prev_bad.csv:1: header must be");
    prev_case("", "prev_bad.csv: empty file");
    prev_case("asset,weight\nS0_0,1,2\n", "prev_bad.csv:2: expected 2 fields");
    prev_case("asset,weight\n,1\n", "prev_bad.csv:2: empty asset name");
    prev_case("asset,weight\nS0_0,inf\n", "'inf' is not a number");
    char prices[1024];
    fixture(prices, sizeof prices, "prices.csv");
    const char *args[] = {
        "allocate", "--prices", prices, "--prev", "/nonexistent/prev.csv",
        NULL};
    expect_fail(coce_cmd_allocate, args, 3, "prev.csv");
}

static void clusters_case(const char *text, const char *msg)
{
    char prices[1024], cl[1024];
    fixture(prices, sizeof prices, "prices.csv");
    tmpfile_with(cl, sizeof cl, "cl_bad.csv", text);
    const char *args[] = {"allocate",   "--prices", prices,
                          "--clusters", cl,         NULL};
    expect_fail(coce_cmd_allocate, args, 3, msg);
}

static void test_bad_clusters(void **state)
{
    (void)state;
    clusters_case("asset,cluster\nS0_0,1\nNOPE,2\n",
                  "cl_bad.csv:3: unknown asset NOPE");
    clusters_case("asset,cluster\nS0_0,1\nS0_0,2\n",
                  "cl_bad.csv:3: duplicate asset S0_0 (first on line 2)");
    clusters_case("asset,cluster\nS0_0,1.5\n",
                  "cl_bad.csv:2: column 'cluster': '1.5' is not a "
                  "non-negative integer");
    clusters_case("asset,cluster\nS0_0,-1\n", "cl_bad.csv:2:");
    clusters_case("asset,weight\nS0_0,1\n", "cl_bad.csv:1: header must be");
}

static void test_unwritable_out(void **state)
{
    (void)state;
    char prices[1024];
    fixture(prices, sizeof prices, "prices.csv");
    const char *a1[] = {
        "cluster", "--prices", prices, "--out", "/nonexistent/dir/c.csv", NULL};
    run_out r = run(coce_cmd_cluster, a1);
    assert_int_equal(r.code, 1);
    run_free(&r);
    const char *a2[] = {
        "allocate", "--prices", prices, "--out", "/nonexistent/dir/w.csv",
        NULL};
    r = run(coce_cmd_allocate, a2);
    assert_int_equal(r.code, 1);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cluster_sectors),
        cmocka_unit_test(test_cluster_stdout_ms),
        cmocka_unit_test(test_cluster_ledoit_wolf),
        cmocka_unit_test(test_allocate_hrp),
        cmocka_unit_test(test_allocate_caps),
        cmocka_unit_test(test_allocate_turnover),
        cmocka_unit_test(test_allocate_computed_clusters),
        cmocka_unit_test(test_allocate_infeasible_caps),
        cmocka_unit_test(test_allocate_oracle),
        cmocka_unit_test(test_allocate_gap_free),
        cmocka_unit_test(test_allocate_prev_unpriced),
        cmocka_unit_test(test_base_config),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_bad_prices),
        cmocka_unit_test(test_disjoint_histories),
        cmocka_unit_test(test_bad_prev),
        cmocka_unit_test(test_bad_clusters),
        cmocka_unit_test(test_unwritable_out),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
