/* Tests of the synthetic market generator (src/data_ingest/synth.c).
 *
 * No golden numbers here: the generator is a simulation, so the tests check
 * the properties the model promises (docs/synth.md): determinism, the file
 * formats, the planted pump signature, the sector structure and the ground
 * truth, on small markets that run in well under a second under ASan. */
#include "data_ingest/synth.h"
#include "testutil.h"
#include "utils/fsutil.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXF 16

/* ------------------------------------------------------------ parsing */

/* Splits line (modified) at commas; returns the field count. */
static int split(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        f[n++] = p;
        char *c = strchr(p, ',');
        if (c == NULL)
            break;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

typedef struct row {
    long long t;
    double price, amount, vol;
    int buy;
} row;

typedef struct table {
    row *r;
    size_t n;
} table;

/* Parses one trade file with stdio, checking every row's format. */
static table read_trades(const char *dir, const char *sym3)
{
    char path[1024], line[512], pair[16];
    (void)snprintf(path, sizeof path, "%s/trades/%s.csv", dir, sym3);
    (void)snprintf(pair, sizeof pair, "%s/BTC", sym3);
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    table t = {NULL, 0};
    size_t cap = 0;
    assert_non_null(fgets(line, sizeof line, fp));
    assert_string_equal(
        line, "symbol,timestamp,datetime,side,price,amount,btc_volume\n");
    long long prev = -1;
    while (fgets(line, sizeof line, fp) != NULL) {
        size_t len = strlen(line);
        assert_true(len > 0 && line[len - 1] == '\n');
        line[len - 1] = '\0';
        char *f[MAXF];
        assert_int_equal(split(line, f, MAXF), 7);
        assert_string_equal(f[0], pair);
        char *end;
        long long ts = strtoll(f[1], &end, 10);
        assert_true(*end == '\0');
        assert_true(ts >= prev);
        prev = ts;
        /* datetime is the same instant, ISO 8601 with ms and Z. */
        time_t sec = (time_t)(ts / 1000);
        struct tm tm;
        assert_non_null(gmtime_r(&sec, &tm));
        char iso[64];
        (void)snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                       tm.tm_min, tm.tm_sec, (int)(ts % 1000));
        assert_string_equal(f[2], iso);
        assert_true(strcmp(f[3], "buy") == 0 || strcmp(f[3], "sell") == 0);
        if (t.n == cap) {
            cap = cap ? 2 * cap : 4096;
            t.r = realloc(t.r, cap * sizeof *t.r);
            assert_non_null(t.r);
        }
        row *r = &t.r[t.n++];
        r->t = ts;
        r->buy = f[3][0] == 'b';
        r->price = strtod(f[4], &end);
        assert_true(*end == '\0');
        r->amount = strtod(f[5], &end);
        assert_true(*end == '\0');
        r->vol = strtod(f[6], &end);
        assert_true(*end == '\0');
        assert_true(r->price > 0.0);
        assert_true(r->amount > 0.0);
        assert_close(r->vol, r->price * r->amount, 1e-9, 0.0);
    }
    assert_int_equal(fclose(fp), 0);
    return t;
}

/* Reads a CSV into lines (header checked, then dropped). */
static char **read_lines(const char *dir, const char *name, const char *header,
                         size_t *n)
{
    char path[1024];
    (void)snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len = 0;
    char *text = coce_test_read_file(path, &len);
    assert_non_null(text);
    size_t cap = 16, k = 0;
    char **lines = malloc(cap * sizeof *lines);
    assert_non_null(lines);
    char *save = NULL;
    char *l = strtok_r(text, "\n", &save);
    assert_non_null(l);
    assert_string_equal(l, header);
    while ((l = strtok_r(NULL, "\n", &save)) != NULL) {
        if (k == cap) {
            cap *= 2;
            lines = realloc(lines, cap * sizeof *lines);
            assert_non_null(lines);
        }
        lines[k++] = strdup(l);
    }
    free(text);
    *n = k;
    return lines;
}

static void free_lines(char **lines, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        free(lines[i]);
    free(lines);
}

/* ------------------------------------------------------------ fixtures */

static void small_opts(coce_synth_opts *o)
{
    coce_synth_opts_default(o);
    o->n_assets = 4;
    o->days = 2;
    o->n_sectors = 2;
    o->n_pumps = 4;
    o->n_news = 1;
    o->n_whales = 1;
    o->n_listings = 1;
    o->n_market_moves = 1;
    /* Structure tests: every asset and pump at the median of the
     * calibrated spreads (test_synth_calibration covers the spreads). */
    o->activity_sigma = 0.0;
    o->sweep_sigma = 0.0;
    o->pump_burst_sigma = 0.0;
}

static void gen_ok(const coce_synth_opts *o, const char *dir)
{
    coce_err err;
    coce_err_clear(&err);
    int rc = coce_synth_generate(o, dir, &err);
    if (rc != COCE_OK)
        fail_msg("generate: %d %s", rc, err.msg);
}

typedef struct fx {
    char dir[512];
    coce_synth_opts o;
} fx;

static int setup_small(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (f == NULL || coce_test_tmpdir(f->dir, sizeof f->dir) == NULL)
        return -1;
    small_opts(&f->o);
    coce_err err;
    if (coce_synth_generate(&f->o, f->dir, &err) != COCE_OK) {
        fprintf(stderr, "setup_small: %s\n", err.msg);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown_small(void **state)
{
    fx *f = *state;
    if (f == NULL)
        return 0;
    coce_test_rmtree(f->dir);
    free(f);
    return 0;
}

static void sym3(size_t i, char out[4])
{
    char pair[16];
    assert_int_equal(coce_synth_symbol(i, pair, sizeof pair), COCE_OK);
    memcpy(out, pair, 3);
    out[3] = '\0';
}

/* ------------------------------------------------------------ tests */

static int cmp_str8(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void test_defaults_and_symbols(void **state)
{
    (void)state;
    coce_synth_opts o;
    coce_synth_opts_default(&o);
    assert_int_equal(o.n_assets, 30);
    assert_int_equal(o.days, 21);
    assert_int_equal(o.n_sectors, 4);
    assert_int_equal(o.seed, 42);
    assert_true(o.start_ms == 1546300800000LL); /* 2019-01-01T00:00Z */
    assert_true(o.n_pumps == COCE_SYNTH_AUTO);
    assert_int_equal(coce_synth_opts_check(&o, NULL), COCE_OK);

    /* Symbols: 3 capital letters + "/BTC", all distinct, never BTC/ETH. */
    static char seen[COCE_SYNTH_MAX_ASSETS][8];
    for (size_t i = 0; i < COCE_SYNTH_MAX_ASSETS; ++i) {
        char buf[16];
        assert_int_equal(coce_synth_symbol(i, buf, sizeof buf), COCE_OK);
        assert_int_equal(strlen(buf), 7);
        assert_string_equal(buf + 3, "/BTC");
        for (int k = 0; k < 3; ++k)
            assert_true(buf[k] >= 'A' && buf[k] <= 'Z');
        assert_true(strncmp(buf, "BTC", 3) != 0 && strncmp(buf, "ETH", 3) != 0);
        memcpy(seen[i], buf, 8);
    }
    qsort(seen, COCE_SYNTH_MAX_ASSETS, 8, cmp_str8);
    for (size_t i = 1; i < COCE_SYNTH_MAX_ASSETS; ++i)
        assert_true(strcmp(seen[i - 1], seen[i]) != 0);
    char buf[16];
    assert_int_equal(coce_synth_symbol(COCE_SYNTH_MAX_ASSETS, buf, sizeof buf),
                     COCE_ERANGE);
    assert_int_equal(coce_synth_symbol(0, buf, 4), COCE_ERANGE);
}

static void expect_bad(const coce_synth_opts *o, const char *dir, int code,
                       const char *needle)
{
    coce_err err;
    coce_err_clear(&err);
    assert_int_equal(coce_synth_generate(o, dir, &err), code);
    assert_int_equal(err.code, code);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("error '%s' does not name '%s'", err.msg, needle);
}

static void test_bad_options(void **state)
{
    (void)state;
    char dir[512], sub[600];
    assert_non_null(coce_test_tmpdir(dir, sizeof dir));
    (void)snprintf(sub, sizeof sub, "%s/out", dir);
    coce_synth_opts o;

    small_opts(&o);
    o.n_assets = 0;
    expect_bad(&o, sub, COCE_EINVAL, "n_assets");
    small_opts(&o);
    o.n_assets = COCE_SYNTH_MAX_ASSETS + 1;
    expect_bad(&o, sub, COCE_ERANGE, "n_assets");
    small_opts(&o);
    o.days = 0;
    expect_bad(&o, sub, COCE_EINVAL, "days");
    small_opts(&o);
    o.days = COCE_SYNTH_MAX_DAYS + 1;
    expect_bad(&o, sub, COCE_ERANGE, "days");
    small_opts(&o);
    o.n_sectors = 0;
    expect_bad(&o, sub, COCE_EINVAL, "n_sectors");
    small_opts(&o);
    o.n_sectors = 5;
    expect_bad(&o, sub, COCE_EINVAL, "n_sectors");
    small_opts(&o);
    o.start_ms = -1;
    expect_bad(&o, sub, COCE_ERANGE, "start_ms");
    small_opts(&o);
    o.t_nu = 2.0;
    expect_bad(&o, sub, COCE_ERANGE, "t_nu");
    small_opts(&o);
    o.trades_per_day = NAN;
    expect_bad(&o, sub, COCE_ERANGE, "trades_per_day");
    small_opts(&o);
    o.garch_alpha = 0.2;
    o.garch_beta = 0.8;
    expect_bad(&o, sub, COCE_ERANGE, "garch_alpha + garch_beta");
    small_opts(&o);
    o.price_min_btc = 1e-2;
    expect_bad(&o, sub, COCE_ERANGE, "price_min_btc");
    small_opts(&o);
    o.cap_min_usd = 1e9;
    expect_bad(&o, sub, COCE_ERANGE, "cap_min_usd");
    small_opts(&o);
    o.pump_peak_min = 2.0;
    expect_bad(&o, sub, COCE_ERANGE, "pump_peak_min");
    small_opts(&o);
    o.n_pumps = 200000;
    expect_bad(&o, sub, COCE_ERANGE, "events");
    /* Too many pumps for the calendar: a clear error, not a hang. */
    small_opts(&o);
    o.n_pumps = 40;
    expect_bad(&o, sub, COCE_ERANGE, "cannot place 40 pump");
    assert_int_equal(coce_synth_opts_check(NULL, NULL), COCE_EINVAL);

    small_opts(&o);
    expect_bad(&o, NULL, COCE_EINVAL, "output directory");
    expect_bad(&o, "", COCE_EINVAL, "output directory");
    /* Unwritable: below a regular file, or the directory is a file. */
    char file[600], below[700];
    (void)snprintf(file, sizeof file, "%s/plain", dir);
    assert_int_equal(coce_test_write_file(file, "x\n"), 0);
    (void)snprintf(below, sizeof below, "%s/sub", file);
    expect_bad(&o, below, COCE_EIO, "cannot create output directory");
    expect_bad(&o, file, COCE_EIO, "cannot create output directory");
    /* A file cannot be replaced: its temporary name is a directory. */
    char blocker[700];
    (void)snprintf(blocker, sizeof blocker, "%s/sectors.csv.tmp", sub);
    assert_int_equal(coce_fs_mkdir_p(blocker), COCE_OK);
    expect_bad(&o, sub, COCE_EIO, "sectors.csv.tmp");
    coce_test_rmtree(dir);
}

/* Reads manifest.json's "files" object. */
static json_t *manifest_files(const char *dir, json_t **root)
{
    char path[1024];
    (void)snprintf(path, sizeof path, "%s/manifest.json", dir);
    json_error_t je;
    *root = json_load_file(path, 0, &je);
    assert_non_null(*root);
    json_t *files = json_object_get(*root, "files");
    assert_true(json_is_object(files));
    return files;
}

static void test_deterministic(void **state)
{
    fx *f = *state;
    char dir2[512], dir3[512];
    assert_non_null(coce_test_tmpdir(dir2, sizeof dir2));
    assert_non_null(coce_test_tmpdir(dir3, sizeof dir3));
    gen_ok(&f->o, dir2);
    coce_synth_opts other = f->o;
    other.seed = 43;
    gen_ok(&other, dir3);

    json_t *r1, *r2, *r3;
    json_t *f1 = manifest_files(f->dir, &r1);
    json_t *f2 = manifest_files(dir2, &r2);
    json_t *f3 = manifest_files(dir3, &r3);
    /* 4 trade files + 6 tables. */
    assert_int_equal(json_object_size(f1), 10);
    const char *name;
    json_t *v;
    size_t differ = 0;
    json_object_foreach(f1, name, v)
    {
        const char *h1 = json_string_value(v);
        assert_non_null(h1);
        /* The manifest's hash is the file's hash. */
        char path[1024], hex[65];
        (void)snprintf(path, sizeof path, "%s/%s", f->dir, name);
        assert_int_equal(coce_fs_sha256_file(path, hex, NULL), COCE_OK);
        assert_string_equal(hex, h1);
        /* Same seed: byte-identical. */
        (void)snprintf(path, sizeof path, "%s/%s", dir2, name);
        assert_int_equal(coce_fs_sha256_file(path, hex, NULL), COCE_OK);
        assert_string_equal(hex, h1);
        assert_string_equal(json_string_value(json_object_get(f2, name)), h1);
        /* Another seed: the trade files all change. */
        json_t *v3 = json_object_get(f3, name);
        if (v3 == NULL || strcmp(json_string_value(v3), h1) != 0)
            ++differ;
    }
    assert_true(differ >= 8);
    char p1[1024], p2[1024];
    (void)snprintf(p1, sizeof p1, "%s/manifest.json", f->dir);
    (void)snprintf(p2, sizeof p2, "%s/manifest.json", dir2);
    char *m1 = coce_test_read_file(p1, NULL),
         *m2 = coce_test_read_file(p2, NULL);
    assert_string_equal(m1, m2);
    free(m1);
    free(m2);
    /* The manifest records the seed, versions and every parameter. */
    assert_string_equal(json_string_value(json_object_get(r1, "seed")), "42");
    assert_string_equal(json_string_value(json_object_get(r3, "seed")), "43");
    assert_int_equal(json_integer_value(json_object_get(r1, "model_version")),
                     COCE_SYNTH_MODEL_VERSION);
    assert_non_null(json_string_value(json_object_get(r1, "version")));
    json_t *params = json_object_get(r1, "params");
    assert_int_equal(json_integer_value(json_object_get(params, "n_pumps")), 4);
    assert_close(json_real_value(json_object_get(params, "pump_peak_median")),
                 0.18, 0.0, 0.0);
    json_decref(r1);
    json_decref(r2);
    json_decref(r3);
    coce_test_rmtree(dir2);
    coce_test_rmtree(dir3);
}

static void test_trade_files(void **state)
{
    fx *f = *state;
    size_t rush_rows = 0, total = 0;
    for (size_t i = 0; i < f->o.n_assets; ++i) {
        char s[4];
        sym3(i, s);
        table t = read_trades(f->dir, s);
        /* About trades_per_day orders a day, more with the events. */
        assert_true(t.n > 2 * 500 && t.n < 2 * 8000);
        for (size_t k = 1; k < t.n; ++k)
            if (t.r[k].t == t.r[k - 1].t)
                ++rush_rows;
        total += t.n;
        free(t.r);
    }
    /* Rush orders: rows sharing a millisecond, ~10-25 % as in the real
     * files (docs/synth.md). */
    assert_true(rush_rows > total / 20);
    assert_true(rush_rows < total / 2);
}

typedef struct gt {
    char sym[16];
    long long time, onset;
    char kind[16];
} gt;

static gt *read_gt(const char *dir, size_t *n)
{
    size_t nl;
    char **lines = read_lines(dir, "ground_truth.csv",
                              "symbol,time_ms,onset_ms,kind", &nl);
    gt *g = calloc(nl + 1, sizeof *g);
    assert_non_null(g);
    for (size_t k = 0; k < nl; ++k) {
        char *fl[MAXF];
        assert_int_equal(split(lines[k], fl, MAXF), 4);
        (void)snprintf(g[k].sym, sizeof g[k].sym, "%s", fl[0]);
        g[k].time = strtoll(fl[1], NULL, 10);
        g[k].onset = strtoll(fl[2], NULL, 10);
        (void)snprintf(g[k].kind, sizeof g[k].kind, "%s", fl[3]);
    }
    free_lines(lines, nl);
    *n = nl;
    return g;
}

static void test_ground_truth(void **state)
{
    fx *f = *state;
    size_t n;
    gt *g = read_gt(f->dir, &n);
    size_t counts[5] = {0};
    static const char *const kinds[5] = {"pump", "news", "whale", "listing",
                                         "market"};
    long long t0 = f->o.start_ms, t1 = t0 + (long long)f->o.days * 86400000LL;
    for (size_t k = 0; k < n; ++k) {
        if (k > 0)
            assert_true(g[k].time >= g[k - 1].time);
        int found = -1;
        for (int j = 0; j < 5; ++j)
            if (strcmp(g[k].kind, kinds[j]) == 0)
                found = j;
        assert_true(found >= 0);
        counts[found]++;
        assert_true(strlen(g[k].sym) == 7 && strcmp(g[k].sym + 3, "/BTC") == 0);
        assert_true(g[k].onset >= t0 && g[k].onset < t1);
        if (found == 0) {
            /* Announced on a round time; onset in [-120 s, +60 s]. */
            long long min = g[k].time / 60000 % 60;
            assert_int_equal(g[k].time % 60000, 0);
            assert_true(min == 0 || min == 30 || min == 59);
            assert_true(g[k].onset - g[k].time >= -120000 &&
                        g[k].onset - g[k].time <= 60000);
        } else {
            assert_true(g[k].onset == g[k].time);
        }
    }
    assert_int_equal(counts[0], 4);
    assert_int_equal(counts[1], 1);
    assert_int_equal(counts[2], 1);
    assert_int_equal(counts[3], 1);
    assert_int_equal(counts[4], f->o.n_assets); /* one row per asset */
    free(g);
}

static void test_pump_burst(void **state)
{
    fx *f = *state;
    size_t n;
    gt *g = read_gt(f->dir, &n);
    size_t pumps = 0;
    for (size_t k = 0; k < n; ++k) {
        if (strcmp(g[k].kind, "pump") != 0)
            continue;
        ++pumps;
        char s[4];
        memcpy(s, g[k].sym, 3);
        s[3] = '\0';
        table t = read_trades(f->dir, s);
        long long on = g[k].onset;
        size_t n_prev = 0, n_5 = 0, rush_30s = 0, buys_5 = 0;
        double max5 = 0.0, last_prev = 0.0;
        for (size_t q = 0; q < t.n; ++q) {
            const row *r = &t.r[q];
            if (r->t >= on - 3600000 && r->t < on) {
                ++n_prev;
                last_prev = r->price;
            } else if (r->t >= on && r->t < on + 300000) {
                ++n_5;
                buys_5 += (size_t)r->buy;
                max5 = fmax(max5, r->price);
                if (r->t < on + 30000 && r->buy && q > 0 &&
                    t.r[q - 1].t == r->t)
                    ++rush_30s;
            }
        }
        /* Five minutes after onset hold several times the trades of the
         * whole previous hour (real pumps: ~9x, README measurements), the
         * price peaks at least 5 % above the last pre-onset trade, buys
         * dominate and same-ms buy rows pile up in the first 30 s. */
        assert_true(n_prev > 20);
        if (n_5 < 3 * n_prev)
            fail_msg("%s pump: %zu rows in 5 min vs %zu in the hour before", s,
                     n_5, n_prev);
        if (max5 < 1.04 * last_prev)
            fail_msg("%s pump: max %g vs %g before", s, max5, last_prev);
        assert_true(buys_5 * 2 > n_5);
        assert_true(rush_30s >= 20);
        free(t.r);
    }
    assert_int_equal(pumps, 4);
    free(g);
}

static void test_tables(void **state)
{
    fx *f = *state;
    size_t n;
    /* sectors.csv: every asset once, every sector used. */
    char **l = read_lines(f->dir, "sectors.csv", "symbol,sector", &n);
    assert_int_equal(n, f->o.n_assets);
    int used[2] = {0, 0};
    for (size_t k = 0; k < n; ++k) {
        char *fl[MAXF];
        assert_int_equal(split(l[k], fl, MAXF), 2);
        char pair[16];
        assert_int_equal(coce_synth_symbol(k, pair, sizeof pair), COCE_OK);
        assert_string_equal(fl[0], pair);
        long s = strtol(fl[1], NULL, 10);
        assert_true(s >= 0 && s < 2);
        used[s] = 1;
    }
    assert_true(used[0] && used[1]);
    free_lines(l, n);
    /* market_caps.csv: one positive cap per asset per day. */
    l = read_lines(f->dir, "market_caps.csv", "date,symbol,market_cap_usd", &n);
    assert_int_equal(n, f->o.n_assets * f->o.days);
    for (size_t k = 0; k < n; ++k) {
        char *fl[MAXF];
        assert_int_equal(split(l[k], fl, MAXF), 3);
        assert_string_equal(fl[0],
                            k < f->o.n_assets ? "2019-01-01" : "2019-01-02");
        double cap = strtod(fl[2], NULL);
        assert_true(cap > 1e5 && cap < 1e10);
    }
    free_lines(l, n);
    /* btc_usd.csv / eth_usd.csv: hourly, positive, starting at the
     * configured price. */
    static const char *const usd[2] = {"btc_usd.csv", "eth_usd.csv"};
    for (int u = 0; u < 2; ++u) {
        l = read_lines(f->dir, usd[u], "time_ms,price", &n);
        assert_int_equal(n, 24 * f->o.days + 1);
        for (size_t k = 0; k < n; ++k) {
            char *fl[MAXF];
            assert_int_equal(split(l[k], fl, MAXF), 2);
            assert_true(strtoll(fl[0], NULL, 10) ==
                        f->o.start_ms + (long long)k * 3600000LL);
            assert_true(strtod(fl[1], NULL) > 0.0);
            if (k == 0)
                assert_string_equal(fl[1], u == 0 ? "3700.00" : "133.00");
        }
        free_lines(l, n);
    }
}

static void test_posts(void **state)
{
    fx *f = *state;
    size_t n, ng;
    gt *g = read_gt(f->dir, &ng);
    char **l = read_lines(f->dir, "posts.csv", "time_ms,symbol,text", &n);
    /* Base rate: 24 per asset-day, plus the bursts. */
    assert_true(n > 150 && n < 800);
    long long prev = 0;
    size_t bull = 0, bear = 0;
    size_t near_pump = 0;
    for (size_t k = 0; k < n; ++k) {
        char *fl[MAXF];
        assert_int_equal(split(l[k], fl, MAXF), 3);
        long long t = strtoll(fl[0], NULL, 10);
        assert_true(t >= prev);
        prev = t;
        char tag[8];
        (void)snprintf(tag, sizeof tag, "$%.3s", fl[1]);
        assert_non_null(strstr(fl[2], tag)); /* mentions its own symbol */
        bull += strstr(fl[2], "moon") || strstr(fl[2], "bullish") ||
                strstr(fl[2], "pumping");
        bear += strstr(fl[2], "scam") || strstr(fl[2], "rug") ||
                strstr(fl[2], "dump");
        for (size_t q = 0; q < ng; ++q)
            if (strcmp(g[q].kind, "pump") == 0 &&
                strcmp(g[q].sym, fl[1]) == 0 && t >= g[q].onset - 300000 &&
                t < g[q].onset + 600000)
                ++near_pump;
    }
    assert_true(bull > 0 && bear > 0);
    /* 4 pumps x 15 min: the base rate gives ~1 post per window each; the
     * bursts (40 posts, ~60 % in that window) give far more. */
    assert_true(near_pump >= 4 * 10);
    free_lines(l, n);
    free(g);
}

/* Hourly returns of the written trades: within a sector they correlate more
 * than across sectors (the factor structure the clustering must find). */
static void test_sector_structure(void **state)
{
    (void)state;
    char dir[512];
    assert_non_null(coce_test_tmpdir(dir, sizeof dir));
    coce_synth_opts o;
    coce_synth_opts_default(&o);
    o.n_assets = 8;
    o.days = 5;
    o.n_sectors = 2;
    o.trades_per_day = 1000; /* no empty hour in 8 x 120 */
    o.activity_sigma = 0.0;
    o.n_pumps = o.n_news = o.n_whales = o.n_listings = o.n_market_moves = 0;
    o.seed = 7;
    gen_ok(&o, dir);
    enum { NA = 8, NH = 120 };
    static double ret[NA][NH];
    int sector[NA];
    size_t n;
    char **l = read_lines(dir, "sectors.csv", "symbol,sector", &n);
    assert_int_equal(n, NA);
    for (size_t k = 0; k < n; ++k)
        sector[k] = (int)strtol(strchr(l[k], ',') + 1, NULL, 10);
    free_lines(l, n);
    for (size_t i = 0; i < NA; ++i) {
        char s[4];
        sym3(i, s);
        table t = read_trades(dir, s);
        double last[NH + 1];
        for (size_t h = 0; h <= NH; ++h)
            last[h] = NAN;
        for (size_t q = 0; q < t.n; ++q) {
            size_t h = (size_t)((t.r[q].t - o.start_ms) / 3600000);
            assert_true(h < NH);
            last[h] = t.r[q].price;
        }
        for (size_t h = 1; h < NH; ++h) {
            assert_false(isnan(last[h]) || isnan(last[h - 1]));
            ret[i][h] = log(last[h] / last[h - 1]);
        }
        free(t.r);
    }
    double within = 0.0, across = 0.0;
    int nw = 0, nx = 0;
    for (size_t i = 0; i < NA; ++i)
        for (size_t j = i + 1; j < NA; ++j) {
            double mi = 0, mj = 0, sij = 0, sii = 0, sjj = 0;
            for (size_t h = 1; h < NH; ++h) {
                mi += ret[i][h];
                mj += ret[j][h];
            }
            mi /= NH - 1;
            mj /= NH - 1;
            for (size_t h = 1; h < NH; ++h) {
                double a = ret[i][h] - mi, b = ret[j][h] - mj;
                sij += a * b;
                sii += a * a;
                sjj += b * b;
            }
            double c = sij / sqrt(sii * sjj);
            if (sector[i] == sector[j]) {
                within += c;
                ++nw;
            } else {
                across += c;
                ++nx;
            }
        }
    within /= nw;
    across /= nx;
    /* Model: within (b_m^2 + b_s^2)/(b_m^2 + b_s^2 + 1) ~ 2/3, across ~ 1/3
     * at equal factor vols; allow for the trade-level noise. */
    if (!(within > across + 0.15 && across > 0.1))
        fail_msg("within %.3f across %.3f", within, across);
    coce_test_rmtree(dir);
}

/* AUTO counts follow the documented rates. */
static void test_auto_counts(void **state)
{
    (void)state;
    char dir[512];
    assert_non_null(coce_test_tmpdir(dir, sizeof dir));
    coce_synth_opts o;
    coce_synth_opts_default(&o);
    o.n_assets = 7;
    o.days = 2;
    o.n_sectors = 1;
    o.trades_per_day = 100;
    o.posts_per_day = 2;
    gen_ok(&o, dir);
    json_t *root;
    (void)manifest_files(dir, &root);
    json_t *p = json_object_get(root, "params");
    /* 7 assets x 2 days = 2 asset-weeks. */
    assert_int_equal(json_integer_value(json_object_get(p, "n_pumps")), 1);
    assert_int_equal(json_integer_value(json_object_get(p, "n_news")), 1);
    assert_int_equal(json_integer_value(json_object_get(p, "n_whales")), 1);
    assert_int_equal(json_integer_value(json_object_get(p, "n_listings")), 0);
    assert_int_equal(json_integer_value(json_object_get(p, "n_market_moves")),
                     0);
    json_decref(root);
    coce_test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest basic[] = {
        cmocka_unit_test(test_defaults_and_symbols),
        cmocka_unit_test(test_bad_options),
    };
    /* These share one small market generated once by setup_small. */
    const struct CMUnitTest small[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_trade_files),
        cmocka_unit_test(test_ground_truth),
        cmocka_unit_test(test_pump_burst),
        cmocka_unit_test(test_tables),
        cmocka_unit_test(test_posts),
    };
    const struct CMUnitTest markets[] = {
        cmocka_unit_test(test_sector_structure),
        cmocka_unit_test(test_auto_counts),
    };
    int fails = cmocka_run_group_tests_name("synth_basic", basic, NULL, NULL);
    fails += cmocka_run_group_tests_name("synth_small_market", small,
                                         setup_small, teardown_small);
    fails += cmocka_run_group_tests_name("synth_markets", markets, NULL, NULL);
    return fails;
}
