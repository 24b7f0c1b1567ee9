/* The back-test report page, from a report directory written by hand.
 *
 * Golden figures are recomputed here from the fixture's numbers with the
 * closed forms of docs/report.md; the page must also render in headless
 * Chromium with no console message (the requirement), which is
 * skipped when Chromium is not installed. COCE_TEST_KEEP=1 keeps the
 * temporary directory (to look at the page). */
#include "agent/report.h"
#include "data_ingest/trades.h"
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define D 86400000LL
#define T0 1546300800000LL /* 2019-01-01 */
#define TRADING (T0 + 2 * D)

typedef struct fx {
    char dir[512];
    char rep[600];
    char market[600];
    char html[700];
} fx;

static const double eq_v[8] = {1.0,  1.0,  1.02, 0.99,
                               1.01, 1.03, 1.00, 1.005};

static int64_t eq_t(size_t i)
{
    return i < 7 ? T0 + (int64_t)(i + 1) * D : T0 + 7 * D + 3600000;
}

static void put(const char *dir, const char *name, const char *text)
{
    char path[900];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(coce_test_write_file(path, text), 0);
}

static void write_summary(const char *dir, const char *market)
{
    char s[2000];
    snprintf(s, sizeof s,
             "{\"run_id\": \"fixture <run> & co\", \"market\": \"%s\",\n"
             " \"trading_ms\": %lld, \"assets\": 4, \"halted\": true,\n"
             " \"halt_reason\": \"sharpe 0.5 < 1.2\", \"interrupted\": false,\n"
             " \"sharpe\": 1.5, \"max_drawdown\": 0.03, \"halts\": 2,\n"
             " \"fills\": 6, \"false_alerts_per_coin_day\": 0.0125,\n"
             " \"guardrail_cuts\": {\"drawdown\": 1, \"var\": 1, \"corr\": 1,"
             " \"adv\": 1}}\n",
             market, (long long)TRADING);
    put(dir, "summary.json", s);
}

static void write_equity(const char *dir)
{
    char s[2000];
    size_t n = (size_t)snprintf(s, sizeof s, "time_ms,equity\n");
    for (size_t i = 0; i < 8; ++i)
        n += (size_t)snprintf(s + n, sizeof s - n, "%lld,%.17g\n",
                              (long long)eq_t(i), eq_v[i]);
    put(dir, "equity.csv", s);
}

/* time, symbol, side, qty, price, fee */
static const struct {
    int64_t t;
    const char *sym, *side;
    double qty, price, fee;
} fills[6] = {
    {TRADING + 1000, "AAA", "buy", 10, 0.01, 0.0001},
    {TRADING + 61000, "AAA", "sell", 10, 0.011, 0.00011},
    {T0 + 3 * D + 5000, "A<B&C", "buy", 100, 0.002, 0.0002},
    {T0 + 3 * D + 9000, "A<B&C", "sell", 100, 0.0019, 0.00019},
    {T0 + 4 * D, "BBB", "buy", 5, 0.02, 0.0001},
    {T0 + 4 * D + 500, "BBB", "sell", 5, 0.0204, 0.000102},
};
static const double trade_pnl[3] = {0.00979, -0.01039, 0.001798};

static void write_fills_trades_alerts(const char *dir)
{
    char s[4000];
    size_t n = (size_t)snprintf(
        s, sizeof s, "time_ms,client_id,symbol,side,qty,price,fee,reason\n");
    for (size_t i = 0; i < 6; ++i)
        n += (size_t)snprintf(s + n, sizeof s - n,
                              "%lld,c%zu,%s,%s,%.17g,%.17g,%.17g,entry\n",
                              (long long)fills[i].t, i / 2, fills[i].sym,
                              fills[i].side, fills[i].qty, fills[i].price,
                              fills[i].fee);
    put(dir, "fills.csv", s);
    n = (size_t)snprintf(s, sizeof s,
                         "symbol,entry_ms,exit_ms,qty,entry_price,exit_price,"
                         "pnl\r\n");
    for (size_t i = 0; i < 3; ++i)
        n += (size_t)snprintf(s + n, sizeof s - n, "X,1,2,1,1,1,%.17g\r\n",
                              trade_pnl[i]);
    put(dir, "trades.csv", s);
    snprintf(s, sizeof s,
             "symbol,timestamp,chunk_start,score,entered,note\n"
             "A<B&C,%lld,%lld,0.97,1,\n"
             "\n"
             "A<B&C,%lld,%lld,0.93,0,\"halted, <late> & 'x'\"\n"
             "AAA,%lld,%lld,0.99,1,\n",
             (long long)(T0 + 3 * D + 4000), (long long)(T0 + 3 * D),
             (long long)(T0 + 5 * D), (long long)(T0 + 5 * D),
             (long long)(TRADING + 500), (long long)TRADING);
    put(dir, "alerts.csv", s);
}

static void write_logs(const char *dir)
{
    char s[6000];
    snprintf(
        s, sizeof s,
        "{\"event\":\"start\",\"fields\":{}}\n"
        "{\"event\":\"rebalance\",\"sim_ms\":%lld,\"fields\":{\"eligible\":3,"
        "\"clusters\":2,\"modularity\":0.25,\"turnover\":1.0}}\n"
        "{\"event\":\"clusters\",\"sim_ms\":%lld,\"fields\":{\"AAA\":0,"
        "\"A<B&C\":1,\"BBB\":1}}\n"
        "{\"event\":\"var_cut\",\"sim_ms\":%lld,\"fields\":{\"asset\":"
        "\"A<B&C\",\"var\":0.08,\"floor\":0.05,\"scale\":0.625}}\n"
        "{\"event\":\"entry_decision\",\"sim_ms\":%lld,\"fields\":{\"asset\":"
        "\"A<B&C\",\"score\":0.97,\"requested\":0.2,\"allowed\":0.125,"
        "\"scale_drawdown\":1.0,\"scale_var\":0.625,\"scale_corr\":1.0,"
        "\"adv_cut\":false,\"binding_rule\":\"var\"}}\n"
        "this line is not JSON {\n"
        "{\"event\":\"rebalance\",\"fields\":{\"at_ms\":%lld,\"eligible\":5,"
        "\"clusters\":3,\"modularity\":0.31,\"turnover\":0.4}}\n"
        "{\"event\":\"clusters\",\"sim_ms\":%lld,\"fields\":{\"AAA\":2,"
        "\"A<B&C\":2,\"BBB\":5,\"CCC\":5,\"DDD\":7,\"bad\":\"x\"}}\n"
        "{\"event\":\"corr_spike\",\"sim_ms\":%lld,\"fields\":{\"asset\":"
        "\"BBB\",\"avg_short\":0.7,\"avg_long\":0.2,\"scale\":0.5}}\n"
        "{\"event\":\"entry_decision\",\"sim_ms\":%lld,\"fields\":{\"asset\":"
        "\"BBB\",\"score\":0.9,\"requested\":0.2,\"allowed\":0.05,"
        "\"scale_drawdown\":0.8,\"scale_var\":1.0,\"scale_corr\":0.5,"
        "\"adv_cut\":true,\"binding_rule\":\"adv\"}}\n"
        "{\"event\":\"entry_decision\",\"sim_ms\":%lld,\"fields\":{\"asset\":"
        "\"AAA\",\"scale_drawdown\":1.0,\"scale_var\":1.0,\"scale_corr\":1.0,"
        "\"adv_cut\":false,\"binding_rule\":\"none\"}}\n"
        "{\"event\":\"drawdown_hard_limit\",\"sim_ms\":%lld,\"fields\":{"
        "\"equity\":0.74,\"peak\":1.0,\"drawdown\":0.26}}\n"
        "{\"event\":\"halt\",\"sim_ms\":%lld,\"fields\":{\"reason\":\"from "
        "the log\"}}\n"
        "{\"event\":\"order\",\"sim_ms\":%lld,\"fields\":{\"asset\":\"AAA\"}}"
        "\n{\"event\":\"no_time\",\"fields\":{}}\n[1,2]\n",
        (long long)TRADING, (long long)TRADING, (long long)(T0 + 3 * D),
        (long long)(T0 + 3 * D), (long long)(T0 + 4 * D),
        (long long)(T0 + 4 * D), (long long)(T0 + 4 * D),
        (long long)(T0 + 4 * D), (long long)(T0 + 4 * D),
        (long long)(T0 + 5 * D), (long long)(T0 + 6 * D),
        (long long)(T0 + 6 * D));
    put(dir, "logs.jsonl", s);
    snprintf(s, sizeof s,
             "{\"time_ms\":%lld,\"event\":\"killswitch\",\"judged\":true,"
             "\"halt\":true,\"sharpe\":0.5,\"hit_rate\":0.4,\"trades\":12,"
             "\"reason\":\"sharpe 0.5 < 1.2\"}\n"
             "{\"time_ms\":%lld,\"event\":\"killswitch\",\"halt\":false,"
             "\"sharpe\":2.5,\"hit_rate\":0.7,\"trades\":20}\n"
             "{\"ts\":%lld,\"event\":\"kill_switch_reset\",\"reason\":"
             "\"reviewed <ok>\"}\n"
             "{\"ts\":%lld,\"event\":\"operator_note\"}\n{\"ts\":1}\n",
             (long long)(T0 + 6 * D), (long long)(T0 + 5 * D),
             (long long)(T0 + 6 * D + 3600000),
             (long long)(T0 + 6 * D + 7200000));
    put(dir, "meta_events.jsonl", s);
}

/* AAA's trades around its alert: flat, then a pump at the alert. */
static void write_market(const char *market)
{
    char dir[700], path[800];
    snprintf(dir, sizeof dir, "%s/trades", market);
    assert_int_equal(mkdir(market, 0755), 0);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/AAA.csv", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "symbol,timestamp,datetime,side,price,amount,btc_volume\n");
    for (int i = 0; i < 400; ++i) {
        int64_t t = TRADING - 3000000 + (int64_t)i * 15000;
        double p = t < TRADING + 500 ? 0.01 + 0.0001 * (i % 3)
                                      : 0.013 - 0.00001 * (i - 200);
        char iso[32];
        assert_int_equal(coce_trade_format_time(t, iso, sizeof iso), COCE_OK);
        fprintf(f, "AAA/BTC,%lld,%s,%s,%.6g,%d,%.6g\n", (long long)t, iso,
                i % 2 ? "buy" : "sell", p, 100 + i, p * (100 + i));
    }
    fclose(f);
    /* another asset's file and a file that is not a trade file */
    snprintf(path, sizeof path, "%s/BBB.csv", dir);
    assert_int_equal(coce_test_write_file(path, "timestamp,price,qty,side\n"),
                     0);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    coce_test_tmpdir(f->dir, sizeof f->dir);
    char reports[600];
    snprintf(reports, sizeof reports, "%s/reports", f->dir);
    snprintf(f->rep, sizeof f->rep, "%s/run-1", reports);
    snprintf(f->market, sizeof f->market, "%s/market", f->dir);
    snprintf(f->html, sizeof f->html, "%s/report.html", f->rep);
    assert_int_equal(mkdir(reports, 0755), 0);
    assert_int_equal(mkdir(f->rep, 0755), 0);
    /* relative: found as REPORT_DIR/../../market */
    write_summary(f->rep, "market");
    write_equity(f->rep);
    write_fills_trades_alerts(f->rep);
    write_logs(f->rep);
    write_market(f->market);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    if (getenv("COCE_TEST_KEEP") != NULL)
        fprintf(stderr, "kept %s\n", f->dir);
    else
        coce_test_rmtree(f->dir);
    free(f);
    return 0;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p != NULL;
         p = strstr(p + 1, needle))
        ++n;
    return n;
}

static char *make(const fx *f, const coce_report_opts *o)
{
    coce_err err;
    coce_err_clear(&err);
    int rc = coce_report_write_html_opts(f->rep, o, &err);
    if (rc != COCE_OK)
        fail_msg("report: %s", err.msg);
    char *html = coce_test_read_file(f->html, NULL);
    assert_non_null(html);
    return html;
}

/* The text between `id="ID"` and the next </section>. */
static char *section(const char *html, const char *id)
{
    char key[64];
    snprintf(key, sizeof key, "<section id=\"%s\">", id);
    const char *a = strstr(html, key);
    assert_non_null(a);
    const char *z = strstr(a, "</section>");
    assert_non_null(z);
    return strndup(a, (size_t)(z - a));
}

static double figure(const char *html, const char *id)
{
    char key[64];
    snprintf(key, sizeof key, "<tr id=\"fig-%s\">", id);
    const char *p = strstr(html, key);
    assert_non_null(p);
    p = strstr(p, "data-value=\"");
    assert_non_null(p);
    return strtod(p + strlen("data-value=\""), NULL);
}

static void shown(const char *html, const char *id, const char *text)
{
    char key[64];
    snprintf(key, sizeof key, "<tr id=\"fig-%s\">", id);
    const char *p = strstr(html, key);
    assert_non_null(p);
    const char *end = strstr(p, "</tr>");
    char want[96];
    snprintf(want, sizeof want, "\">%s</td>", text);
    const char *hit = strstr(p, want);
    if (hit == NULL || hit > end)
        fail_msg("figure %s: '%s' not shown", id, text);
}

static void test_figures(void **state)
{
    char *html = make(*state, NULL);
    /* evaluation window: rows 1..7 (row 1 is the first trading day) */
    const double *v = eq_v + 1;
    const size_t n = 7;
    double days = (double)(eq_t(7) - eq_t(1)) / (double)D;
    double cagr = pow(v[n - 1] / v[0], 365.0 / days) - 1.0;
    double r[6], mean = 0, ss = 0, down = 0;
    for (size_t i = 1; i < n; ++i)
        mean += (r[i - 1] = v[i] / v[i - 1] - 1.0) / 6.0;
    for (size_t i = 0; i < 6; ++i) {
        ss += (r[i] - mean) * (r[i] - mean);
        down += r[i] < 0 ? r[i] * r[i] : 0;
    }
    double sharpe = mean / sqrt(ss / 5.0) * sqrt(365.0);
    double sortino = mean / sqrt(down / 6.0) * sqrt(365.0);
    double mdd = 1.0 - 0.99 / 1.02; /* deeper than 1.00 / 1.03 */
    double notional = 0, fees = 0, me = 0;
    for (size_t i = 0; i < 6; ++i) {
        notional += fills[i].qty * fills[i].price;
        fees += fills[i].fee;
    }
    for (size_t i = 0; i < n; ++i)
        me += v[i] / (double)n;
    double turnover = notional / me * 365.0 / days;

    assert_close(figure(html, "total_return"), 0.005, 1e-12, 1e-15);
    assert_close(figure(html, "cagr"), cagr, 1e-12, 0);
    assert_close(figure(html, "sharpe"), sharpe, 1e-12, 0);
    assert_close(figure(html, "sortino"), sortino, 1e-12, 0);
    assert_close(figure(html, "max_drawdown"), mdd, 1e-12, 0);
    assert_close(figure(html, "hit_rate"), 2.0 / 3.0, 1e-15, 0);
    assert_close(figure(html, "turnover"), turnover, 1e-12, 0);
    assert_close(figure(html, "fees"), fees, 1e-12, 0);
    char t[64];
    snprintf(t, sizeof t, "%.2f %%", cagr * 100);
    shown(html, "cagr", t);
    snprintf(t, sizeof t, "%.2f", sharpe);
    shown(html, "sharpe", t);
    snprintf(t, sizeof t, "%.2f", sortino);
    shown(html, "sortino", t);
    shown(html, "max_drawdown", "2.94 %");
    shown(html, "hit_rate", "66.7 %");
    snprintf(t, sizeof t, "%.2f", turnover);
    shown(html, "turnover", t);
    snprintf(t, sizeof t, "%.4g", fees);
    shown(html, "fees", t);
    /* the engine's own figures are quoted, not recomputed */
    assert_non_null(strstr(html, "Sharpe 1.50, max drawdown 3.00 %"));
    free(html);
}

static void test_well_formed_and_escaped(void **state)
{
    char *html = make(*state, NULL);
    assert_true(strncmp(html, "<!DOCTYPE html>\n<html", 21) == 0);
    assert_non_null(strstr(html, "</body></html>\n"));
    size_t svgs = count(html, "<svg ");
    assert_true(svgs >= 7); /* equity, drawdown, exposure, timeline, 2+ alerts,
                               cluster graph */
    assert_int_equal(count(html, "</svg>"), svgs);
    assert_int_equal(count(html, "<section "), count(html, "</section>"));
    assert_int_equal(count(html, "<table>"), count(html, "</table>"));
    assert_int_equal(count(html, "<figure>"), count(html, "</figure>"));
    assert_int_equal(count(html, "<tr"), count(html, "</tr>"));
    /* self-contained: no script, the only URL is the SVG namespace */
    assert_null(strstr(html, "<script"));
    assert_int_equal(count(html, "http"),
                     count(html, "http://www.w3.org/2000/svg") +
                         count(html, "http-equiv"));
    assert_non_null(strstr(html, "Content-Security-Policy"));
    /* data text is escaped everywhere */
    assert_null(strstr(html, "A<B&C"));
    assert_true(count(html, "A&lt;B&amp;C") >= 4);
    assert_null(strstr(html, "<run>"));
    assert_non_null(strstr(html, "fixture &lt;run&gt; &amp; co"));
    assert_non_null(
        strstr(html, "not entered: halted, &lt;late&gt; &amp; &#39;x&#39;"));
    assert_non_null(strstr(html, "reviewed &lt;ok&gt;"));
    assert_non_null(strstr(html, "sharpe 0.5 &lt; 1.2"));
    free(html);
}

static void test_sections(void **state)
{
    char *html = make(*state, NULL);
    /* exposure per cluster, because the log has "clusters" events */
    char *s = section(html, "exposure");
    assert_non_null(strstr(s, "Exposure by consensus cluster"));
    assert_non_null(strstr(s, "cluster 0"));
    assert_non_null(strstr(s, "cluster 1"));
    free(s);
    /* graph of the last snapshot: 3 clusters, the non-integer entry ignored */
    s = section(html, "clusters");
    assert_non_null(strstr(s, "cluster 2 (2)"));
    assert_non_null(strstr(s, "cluster 5 (2)"));
    assert_non_null(strstr(s, "cluster 7 (1)"));
    assert_null(strstr(s, ">bad<"));
    assert_int_equal(count(s, "r=\"4.5\""), 5);
    assert_non_null(strstr(s, "0.310"));
    free(s);
    /* events: one row per rule that cut, meta events instead of log halts */
    s = section(html, "events");
    assert_int_equal(count(s, "<tr><td class=\"t\">"), 9);
    assert_non_null(strstr(s, "VaR cut (1)"));
    assert_non_null(strstr(s, "VaR 0.08 vs 0.05"));
    assert_non_null(strstr(s, "Correlation cut (1)"));
    assert_non_null(strstr(s, "0.7 vs 0.2"));
    assert_non_null(strstr(s, "Drawdown scale-down (1)"));
    assert_non_null(strstr(s, "ADV cap (1)"));
    assert_non_null(strstr(s, "Drawdown hard limit (1)"));
    assert_non_null(strstr(s, "Kill-switch halt (1)"));
    assert_non_null(strstr(s, "Kill-switch check (1)"));
    assert_non_null(strstr(s, "Kill-switch reset (1)"));
    assert_non_null(strstr(s, "Other meta event (1)"));
    assert_null(strstr(s, "from the log"));
    assert_non_null(strstr(s, "drawdown 1, VaR 1, correlation 1, ADV 1"));
    /* sorted by time: the VaR cut (day 3) comes before the halt (day 6) */
    assert_true(strstr(s, "2019-01-04 00:00:00") <
                strstr(s, "2019-01-07 00:00:00"));
    free(s);
    /* alerts: A<B&C has most alerts but no trade file; AAA is charted */
    s = section(html, "alerts");
    assert_non_null(strstr(s, "3 alerts on 2 assets"));
    assert_true(strstr(s, "A&lt;B&amp;C &middot; 2 alerts") <
                strstr(s, "AAA &middot; 1 alert<"));
    assert_int_equal(count(s, "no trades in the market files"), 2);
    assert_non_null(strstr(s, "entered &middot; 240 trades"));
    assert_int_equal(count(s, "fill=\"#2f855a\""), 1); /* AAA's buy */
    assert_int_equal(count(s, ">alert</text>"), 1);
    free(s);
    /* halted band from the hard limit (day 5) to the reset */
    assert_non_null(strstr(html, "rect class=\"halted\""));
    assert_non_null(strstr(html, "2 malformed lines"));
    assert_non_null(strstr(html, "<th>false_alerts_per_coin_day</th><td>"
                                 "0.0125</td>"));
    free(html);
}

static void test_deterministic_and_options(void **state)
{
    fx *f = *state;
    char *a = make(f, NULL);
    char *b = make(f, NULL);
    assert_string_equal(a, b);
    free(b);
    coce_report_opts o;
    coce_report_opts_default(&o);
    o.max_event_rows = 3;
    o.alert_assets = 1;
    o.alerts_per_asset = 1;
    o.alert_window_ms = 600000;
    o.market_dir = f->market;
    b = make(f, &o);
    assert_non_null(strstr(b, "First 3 of 9 events"));
    assert_non_null(strstr(b, "the 1 asset with most alerts"));
    assert_null(strstr(b, "AAA &middot; 1 alert<"));
    assert_int_equal(count(b, "no trades in the market files"), 1);
    free(b);
    o.market_dir = "/nonexistent/market";
    b = make(f, &o);
    assert_non_null(strstr(b, "No price charts: market directory "
                              "/nonexistent/market not found"));
    free(b);
    free(a);
    o.alert_window_ms = 0;
    coce_err err;
    assert_int_equal(coce_report_write_html_opts(f->rep, &o, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_report_write_html(NULL, &err), COCE_EINVAL);
    assert_int_equal(coce_report_write_html("", NULL), COCE_EINVAL);
}

/* Only the two required files: every other section says what is missing. */
static void test_minimal(void **state)
{
    fx *f = *state;
    char dir[700];
    snprintf(dir, sizeof dir, "%s/minimal", f->dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    put(dir, "summary.json", "{\"run_id\": \"m\"}");
    put(dir, "equity.csv", "time_ms,equity\n1546300800000,1\n");
    coce_err err;
    assert_int_equal(coce_report_write_html(dir, &err), COCE_OK);
    char path[800];
    snprintf(path, sizeof path, "%s/report.html", dir);
    char *html = coce_test_read_file(path, NULL);
    assert_non_null(html);
    assert_non_null(strstr(html, "fills.csv is missing"));
    assert_non_null(strstr(html, "alerts.csv is missing"));
    assert_non_null(strstr(html, "logs.jsonl is missing"));
    assert_non_null(strstr(html, "logs.jsonl and meta_events.jsonl are "
                                 "missing"));
    assert_non_null(strstr(html, "No guardrail cut"));
    assert_non_null(strstr(html, "graph cannot be drawn"));
    assert_non_null(strstr(html, "(unknown)"));
    assert_int_equal(count(html, "<svg "), count(html, "</svg>"));
    /* one row: no return, n/a everywhere it is undefined */
    assert_true(isnan(figure(html, "cagr")));
    assert_true(isnan(figure(html, "sharpe")));
    shown(html, "sortino", "n/a");
    shown(html, "hit_rate", "n/a");
    free(html);
    /* empty optional files, a flat equity curve and no halted flag */
    put(dir, "summary.json", "{\"run_id\": \"m\", \"market\": \"\", "
                             "\"interrupted\": true}");
    put(dir, "equity.csv", "time_ms,equity\n1546300800000,1\n"
                           "1546387200000,1\n1546473600000,1.0\n");
    put(dir, "fills.csv", "time_ms,client_id,symbol,side,qty,price,fee,"
                          "reason\n");
    put(dir, "alerts.csv", "symbol,timestamp,chunk_start,score,entered,note\n");
    put(dir, "logs.jsonl", "");
    assert_int_equal(coce_report_write_html(dir, &err), COCE_OK);
    html = coce_test_read_file(path, NULL);
    assert_non_null(strstr(html, "No fills in this run"));
    assert_non_null(strstr(html, "No pump alert in this run"));
    assert_non_null(strstr(html, "No rebalance logged"));
    assert_non_null(strstr(html, "interrupted"));
    assert_true(isnan(figure(html, "sharpe"))); /* zero deviation */
    assert_close(figure(html, "cagr"), 0.0, 0, 1e-15);
    free(html);
}

static void expect_error(const char *dir, const char *file, const char *text,
                         int code, const char *msg)
{
    char bak[800], path[800];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    snprintf(bak, sizeof bak, "%s/%s.bak", dir, file);
    assert_int_equal(rename(path, bak), 0);
    if (text != NULL)
        put(dir, file, text);
    coce_err err;
    coce_err_clear(&err);
    assert_int_equal(coce_report_write_html(dir, &err), code);
    if (strstr(err.msg, msg) == NULL)
        fail_msg("expected '%s' in '%s'", msg, err.msg);
    assert_int_equal(rename(bak, path), 0);
}

static void test_errors(void **state)
{
    fx *f = *state;
    const char *d = f->rep;
    expect_error(d, "equity.csv", NULL, COCE_ENOTFOUND, "equity.csv: missing");
    expect_error(d, "summary.json", NULL, COCE_ENOTFOUND,
                 "summary.json: missing");
    expect_error(d, "summary.json", "{\"run_id\": ", COCE_EPARSE,
                 "summary.json:1:");
    expect_error(d, "summary.json", "[1]", COCE_EPARSE, "not an object");
    expect_error(d, "equity.csv", "", COCE_EPARSE, "equity.csv:1: empty file");
    expect_error(d, "equity.csv", "time_ms,equity\n", COCE_EPARSE,
                 "equity.csv: no rows");
    expect_error(d, "equity.csv", "time,equity\n1,1\n", COCE_EPARSE,
                 "equity.csv:1: missing column 'time_ms'");
    expect_error(d, "equity.csv", "time_ms,equity\n2,1\n1,1\n", COCE_EPARSE,
                 "equity.csv:3: column 'time_ms': goes backwards");
    expect_error(d, "equity.csv", "time_ms,equity\n1,x\n", COCE_EPARSE,
                 "equity.csv:2: column 'equity': not a number");
    expect_error(d, "equity.csv", "time_ms,equity\n1.5,1\n", COCE_EPARSE,
                 "equity.csv:2: column 'time_ms': not an integer");
    expect_error(d, "equity.csv", "time_ms,equity,x\n1,1\n", COCE_EPARSE,
                 "equity.csv:2: expected 3 columns, found 2");
    expect_error(d, "fills.csv",
                 "time_ms,client_id,symbol,side,qty,price,fee,reason\n"
                 "1,c,AAA,buy,1,1,0,entry\n1,c,AAA,buy,q,1,0,entry\n",
                 COCE_EPARSE, "fills.csv:3: column 'qty': not a number");
    expect_error(d, "fills.csv",
                 "time_ms,client_id,symbol,side,qty,price,fee,reason\n"
                 "1,c,AAA,hold,1,1,0,entry\n",
                 COCE_EPARSE, "fills.csv:2: column 'side'");
    expect_error(d, "fills.csv",
                 "time_ms,client_id,symbol,side,qty,price,fee,reason\n"
                 "1,c,,buy,1,1,0,entry\n",
                 COCE_EPARSE, "fills.csv:2: column 'symbol': bad symbol");
    expect_error(d, "trades.csv", "symbol,pnl\nX,?\n", COCE_EPARSE,
                 "trades.csv:2: column 'pnl'");
    expect_error(d, "alerts.csv", "symbol,timestamp,score,entered\n",
                 COCE_EPARSE, "alerts.csv:1: missing column 'note'");
    expect_error(d, "alerts.csv",
                 "symbol,timestamp,score,entered,note\nAAA,1,1,yes,\n",
                 COCE_EPARSE, "alerts.csv:2: column 'entered'");
}

static const char *chromium(void)
{
    static const char *const cand[] = {"/usr/bin/chromium",
                                       "/usr/bin/chromium-browser"};
    const char *env = getenv("COCE_CHROMIUM");
    if (env != NULL && access(env, X_OK) == 0)
        return env;
    for (size_t i = 0; i < 2; ++i)
        if (access(cand[i], X_OK) == 0)
            return cand[i];
    return NULL;
}

/* Runs Chromium headless on the page; returns its stderr (malloc'ed). */
static char *run_chromium(const fx *f, const char *bin, const char *what,
                          const char *out)
{
    char cmd[4000], err[800];
    snprintf(err, sizeof err, "%s/chromium.err", f->dir);
    snprintf(cmd, sizeof cmd,
             "timeout 60 %s --headless --no-sandbox --disable-gpu "
             "--disable-quic --no-first-run --disable-background-networking "
             "--disable-component-update --disable-sync --hide-scrollbars "
             "--user-data-dir=%s/chromium-profile --enable-logging=stderr "
             "--v=0 --window-size=1200,2400 %s 'file://%s' > %s 2> %s",
             bin, f->dir, what, f->html, out, err);
    int rc = system(cmd);
    char *text = coce_test_read_file(err, NULL);
    if (rc != 0)
        fail_msg("chromium failed (%d): %s", rc, text ? text : "");
    return text;
}

/* The requirement: the page renders in headless Chromium with no
 * console message (no script error, no resource blocked by the CSP). */
static void test_chromium_renders(void **state)
{
    const char *bin = chromium();
    if (bin == NULL) {
        print_message("chromium is not installed: skipped\n");
        skip();
    }
    fx *f = *state;
    char *html = make(f, NULL);
    char dom[800], png[800], what[900];
    snprintf(dom, sizeof dom, "%s/dom.html", f->dir);
    char *log = run_chromium(f, bin, "--dump-dom", dom);
    assert_non_null(log);
    if (strstr(log, ":CONSOLE") != NULL || strstr(log, "Uncaught") != NULL)
        fail_msg("console messages:\n%s", log);
    free(log);
    char *d = coce_test_read_file(dom, NULL);
    assert_non_null(d);
    assert_non_null(strstr(d, "<section id=\"figures\">"));
    assert_int_equal(count(d, "</svg>"), count(html, "</svg>"));
    free(d);
    snprintf(png, sizeof png, "%s/report.png", f->dir);
    snprintf(what, sizeof what, "--screenshot=%s", png);
    log = run_chromium(f, bin, what, "/dev/null");
    assert_null(strstr(log, ":CONSOLE"));
    free(log);
    size_t len = 0;
    char *img = coce_test_read_file(png, &len);
    assert_non_null(img);
    assert_true(len > 10000);
    assert_memory_equal(img, "\x89PNG", 4);
    free(img);
    free(html);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_figures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_well_formed_and_escaped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_sections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deterministic_and_options, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_minimal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chromium_renders, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
