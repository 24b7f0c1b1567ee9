/* `coce features --posts` on a tiny generated market (coce synth: trades,
 * posts with a burst around each planted pump): the published columns are
 * unchanged and first, the sentiment columns follow and equal an independent
 * recomputation (VADER scores of posts.csv -> the batch sentiment columns at
 * each chunk close); a model with sentiment columns refuses a feature file
 * without them and back; `coce eval --time-split`; usage and data errors. */
#include "agent/cmd_model.h"
#include "cmd_model_fixture.h"
#include "alpha/sentiment.h"
#include "alpha/sentiment_features.h"
#include "data_ingest/synth.h"
#include "testutil.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char lexdir[1024];

static int setup(void **state)
{
    (void)state;
    assert_non_null(coce_test_tmpdir(dir, sizeof dir));
    assert_non_null(coce_test_path(lexdir, sizeof lexdir, "data/sentiment"));
    coce_synth_opts o;
    coce_synth_opts_default(&o);
    o.n_assets = 3;
    o.days = 4;
    o.seed = 11;
    o.n_pumps = 6;
    o.n_sectors = 2;
    coce_err err;
    int rc = coce_synth_generate(&o, p("m"), &err);
    if (rc != COCE_OK)
        fprintf(stderr, "synth: %s\n", err.msg);
    assert_int_equal(rc, COCE_OK);
    /* pumps only, as Binance events */
    char *gt = coce_test_read_file(p("m/ground_truth.csv"), NULL);
    assert_non_null(gt);
    FILE *f = fopen(p("pumps.csv"), "w");
    assert_non_null(f);
    fprintf(f, "symbol,time_ms,onset_ms,exchange\n");
    char *save = NULL;
    for (char *l = strtok_r(gt, "\n", &save); l != NULL;
         l = strtok_r(NULL, "\n", &save)) {
        char sym[32], kind[32];
        long long t = 0, on = 0;
        if (sscanf(l, "%31[^,],%lld,%lld,%31s", sym, &t, &on, kind) == 4 &&
            strcmp(kind, "pump") == 0)
            fprintf(f, "%s,%lld,%lld,binance\n", sym, t, on);
    }
    fclose(f);
    free(gt);
    return 0;
}

/* The CSV as rows of fields (in place); returns the number of lines. */
static size_t split_csv(char *text, char ***lines)
{
    size_t n = 0, cap = 1024;
    *lines = malloc(cap * sizeof **lines);
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l != NULL;
         l = strtok_r(NULL, "\n", &save)) {
        if (n == cap) {
            cap *= 2;
            *lines = realloc(*lines, cap * sizeof **lines);
        }
        (*lines)[n++] = l;
    }
    return n;
}

/* Field i (0-based) of a CSV line into buf. */
static const char *field(const char *line, size_t i, char *buf, size_t len)
{
    for (; i > 0; --i) {
        line = strchr(line, ',');
        assert_non_null(line);
        ++line;
    }
    size_t k = strcspn(line, ",");
    assert_true(k < len);
    memcpy(buf, line, k);
    buf[k] = '\0';
    return buf;
}

/* Recomputes the sentiment columns of every row of `sym` in F from
 * posts.csv with the scorer and the batch function, and compares them
 * bit for bit (%.17g round-trips). Returns the rows checked. */
static size_t check_symbol(char **rows, size_t n_rows, const char *sym,
                           const coce_sentiment_features_cfg *cfg)
{
    char lex[1200], emo[1200], add[1200];
    snprintf(lex, sizeof lex, "%s/vader_lexicon.txt", lexdir);
    snprintf(emo, sizeof emo, "%s/emoji_utf8_lexicon.txt", lexdir);
    snprintf(add, sizeof add, "%s/crypto_lexicon.tsv", lexdir);
    coce_sentiment *sc = NULL;
    assert_int_equal(coce_sentiment_new(lex, emo, add, &sc, NULL), COCE_OK);
    char *text = coce_test_read_file(p("m/posts.csv"), NULL);
    assert_non_null(text);
    char **pl = NULL;
    size_t np = split_csv(text, &pl);
    int64_t *t = malloc(np * sizeof *t);
    double *c = malloc(np * sizeof *c);
    size_t k = 0;
    char want[32];
    snprintf(want, sizeof want, "%s/BTC", sym);
    for (size_t i = 1; i < np; ++i) {
        char buf[64];
        if (strcmp(field(pl[i], 1, buf, sizeof buf), want) != 0)
            continue;
        const char *body = strchr(strchr(pl[i], ',') + 1, ',') + 1;
        coce_sentiment_scores s;
        assert_int_equal(coce_sentiment_score(sc, body, strlen(body), &s),
                         COCE_OK);
        t[k] = strtoll(pl[i], NULL, 10);
        c[k++] = s.compound;
    }
    assert_true(k > 0);
    size_t d = coce_sentiment_features_count(cfg);
    int64_t *q = malloc(n_rows * sizeof *q);
    size_t *row_of = malloc(n_rows * sizeof *row_of);
    size_t nq = 0;
    for (size_t i = 1; i < n_rows; ++i) {
        char buf[64];
        if (strcmp(field(rows[i], 0, buf, sizeof buf), sym) != 0)
            continue;
        q[nq] = strtoll(field(rows[i], 1, buf, sizeof buf), NULL, 10) + 25000;
        row_of[nq++] = i;
    }
    double *v = malloc((nq > 0 ? nq : 1) * d * sizeof *v);
    assert_int_equal(coce_sentiment_features_batch(cfg, t, c, k, q, nq, v,
                                                   NULL),
                     COCE_OK);
    size_t nonzero = 0;
    for (size_t r = 0; r < nq; ++r)
        for (size_t j = 0; j < d; ++j) {
            char buf[64];
            double got = strtod(field(rows[row_of[r]], 14 + j, buf,
                                      sizeof buf),
                                NULL);
            assert_true(got == v[r * d + j]);
            nonzero += got != 0.0;
        }
    assert_true(nonzero > 0);
    free(v);
    free(q);
    free(row_of);
    free(t);
    free(c);
    free(pl);
    free(text);
    coce_sentiment_free(sc);
    return nq;
}

static void test_features_with_posts(void **state)
{
    (void)state;
    assert_int_equal(run(coce_cmd_features, "features", "--trades",
                         p("m/trades"), "--events", p("pumps.csv"), "--chunk",
                         "25s", "--window", "40", "--out", p("f_none.csv"),
                         NULL),
                     0);
    assert_int_equal(run(coce_cmd_features, "features", "--trades",
                         p("m/trades"), "--events", p("pumps.csv"), "--chunk",
                         "25s", "--window", "40", "--posts", p("m/posts.csv"),
                         "--lexicon-dir", lexdir, "--sentiment-columns", "all",
                         "--out", p("f_all.csv"), NULL),
                     0);
    char *a = coce_test_read_file(p("f_none.csv"), NULL);
    char *b = coce_test_read_file(p("f_all.csv"), NULL);
    assert_non_null(a);
    assert_non_null(b);
    const char *hdr12 =
        "symbol,chunk_start,std_rush_order,avg_rush_order,std_trades,"
        "std_volume,avg_volume,std_price,avg_price,avg_price_max,hour_sin,"
        "hour_cos,minute_sin,minute_cos,";
    assert_memory_equal(b, hdr12, strlen(hdr12));
    assert_memory_equal(b + strlen(hdr12),
                        "sent_mentions,sent_mention_ratio,sent_compound_delta,"
                        "sent_compound_vel,label\n",
                        strlen("sent_mentions,sent_mention_ratio,sent_compound_"
                               "delta,sent_compound_vel,label\n"));
    char **ra = NULL, **rb = NULL;
    size_t na = split_csv(a, &ra), nb = split_csv(b, &rb);
    assert_int_equal(na, nb);
    assert_true(na > 100);
    /* the existing columns are unchanged, row by row */
    for (size_t i = 1; i < na; ++i) {
        size_t pre = (size_t)(strrchr(ra[i], ',') - ra[i]); /* before label */
        assert_memory_equal(ra[i], rb[i], pre);
        size_t fa = 0, fb = 0; /* 4 more fields */
        for (const char *c = ra[i]; (c = strchr(c, ',')) != NULL; ++c)
            ++fa;
        for (const char *c = rb[i]; (c = strchr(c, ',')) != NULL; ++c)
            ++fb;
        assert_int_equal(fb, fa + 4);
        assert_string_equal(strrchr(ra[i], ','), strrchr(rb[i], ','));
    }
    coce_sentiment_features_cfg cfg;
    coce_sentiment_features_cfg_default(&cfg, 25000);
    cfg.columns = COCE_SF_ALL;
    size_t checked = 0;
    char s0[16], s1[16]; /* "BAZ/BTC" -> "BAZ" */
    assert_int_equal(coce_synth_symbol(0, s0, sizeof s0), COCE_OK);
    assert_int_equal(coce_synth_symbol(1, s1, sizeof s1), COCE_OK);
    s0[3] = s1[3] = '\0';
    checked += check_symbol(rb, nb, s0, &cfg);
    checked += check_symbol(rb, nb, s1, &cfg);
    assert_true(checked > 50);
    free(ra);
    free(rb);
    free(a);
    free(b);
    /* the recommended set is empty (no column gained): --posts alone is a
     * usage error naming the option */
    assert_int_equal(COCE_SF_DEFAULT_COLUMNS, 0u);
    assert_int_equal(run(coce_cmd_features, "features", "--trades",
                         p("m/trades"), "--events", p("pumps.csv"), "--window",
                         "40", "--posts", p("m/posts.csv"), "--lexicon-dir",
                         lexdir, "--out", p("f_def.csv"), NULL),
                     2);
    /* one column */
    assert_int_equal(run(coce_cmd_features, "features", "--trades",
                         p("m/trades"), "--events", p("pumps.csv"), "--window",
                         "40", "--posts", p("m/posts.csv"), "--lexicon-dir",
                         lexdir, "--sentiment-columns", "sent_compound_delta",
                         "--out", p("f_def.csv"), NULL),
                     0);
    char *d = coce_test_read_file(p("f_def.csv"), NULL);
    assert_non_null(d);
    char *nl = strchr(d, '\n');
    *nl = '\0';
    char want[512];
    snprintf(want, sizeof want, "%ssent_compound_delta,label", hdr12);
    assert_string_equal(d, want);
    free(d);
}

static void test_models_refuse_other_sets(void **state)
{
    (void)state;
    /* needs test_features_with_posts' files */
    assert_int_equal(run(coce_cmd_train, "train", "--features", p("f_all.csv"),
                         "--out", p("m_all.json"), NULL),
                     0);
    assert_int_equal(run(coce_cmd_train, "train", "--features",
                         p("f_none.csv"), "--out", p("m_none.json"), NULL),
                     0);
    assert_int_equal(run(coce_cmd_predict, "predict", "--model",
                         p("m_all.json"), "--features", p("f_all.csv"),
                         "--out", p("pred.csv"), NULL),
                     0);
    /* sentiment model, published-only features: refused (exit 3) */
    assert_int_equal(run(coce_cmd_predict, "predict", "--model",
                         p("m_all.json"), "--features", p("f_none.csv"),
                         "--out", p("pred2.csv"), NULL),
                     3);
    assert_int_equal(run(coce_cmd_eval, "eval", "--model", p("m_none.json"),
                         "--features", p("f_all.csv"), "--no-kfold", NULL),
                     3);
    assert_int_equal(run(coce_cmd_eval, "eval", "--model", p("m_none.json"),
                         "--features", p("f_def.csv"), "--no-kfold", NULL),
                     3);
    /* a time-ordered split on the sentiment features */
    assert_int_equal(run(coce_cmd_eval, "eval", "--model", p("m_all.json"),
                         "--features", p("f_all.csv"), "--events",
                         p("pumps.csv"), "--no-kfold", "--time-split", "0.5",
                         NULL),
                     0);
    assert_int_equal(run(coce_cmd_eval, "eval", "--model", p("m_all.json"),
                         "--features", p("f_all.csv"), "--time-split", "1.5",
                         NULL),
                     2);
    /* detect streams trades only: a sentiment model is refused */
    assert_int_equal(run(coce_cmd_detect, "detect", "--model", p("m_all.json"),
                         "--trades", p("m/trades"), "--out", p("al.csv"),
                         NULL),
                     3);
}

static void test_errors(void **state)
{
    (void)state;
    assert_int_equal(run(coce_cmd_features, "features", "--trades",
                         p("m/trades"), "--events", p("pumps.csv"), "--posts",
                         p("m/posts.csv"), "--sentiment-columns", "bogus",
                         "--out", p("f_err.csv"), NULL),
                     2);
    assert_int_equal(run(coce_cmd_features, "features", "--trades",
                         p("m/trades"), "--events", p("pumps.csv"), "--posts",
                         p("m/posts.csv"), "--sentiment-columns", "",
                         "--out", p("f_err.csv"), NULL),
                     2);
    /* 15 min is no multiple of 7 s */
    assert_int_equal(run(coce_cmd_features, "features", "--trades",
                         p("m/trades"), "--events", p("pumps.csv"), "--chunk",
                         "7s", "--posts", p("m/posts.csv"), "--sentiment-columns", "all", "--out",
                         p("f_err.csv"), NULL),
                     2);
    assert_int_equal(run(coce_cmd_features, "features", "--trades",
                         p("m/trades"), "--events", p("pumps.csv"), "--posts",
                         p("nothere.csv"), "--lexicon-dir", lexdir, "--sentiment-columns", "all", "--out",
                         p("f_err.csv"), NULL),
                     3);
    assert_int_equal(run(coce_cmd_features, "features", "--trades",
                         p("m/trades"), "--events", p("pumps.csv"), "--posts",
                         p("m/posts.csv"), "--lexicon-dir", p("nolex"),
                         "--sentiment-columns", "all", "--out", p("f_err.csv"), NULL),
                     1);
    const char *bad[] = {
        "when,symbol,text\n1,AAA/BTC,hello\n", /* header */
        "time_ms,symbol,text\nx,AAA/BTC,hello\n",  /* time */
        "time_ms,symbol,text\n12,AAA/BTC\n",       /* fields */
        "time_ms,symbol,text\n12,/BTC,hi\n",       /* symbol */
        "",                                        /* empty */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        assert_int_equal(coce_test_write_file(p("bad_posts.csv"), bad[i]), 0);
        assert_int_equal(run(coce_cmd_features, "features", "--trades",
                             p("m/trades"), "--events", p("pumps.csv"),
                             "--posts", p("bad_posts.csv"), "--lexicon-dir",
                             lexdir, "--sentiment-columns", "all", "--out", p("f_err.csv"), NULL),
                         3);
    }
    /* posts of other symbols only, CR line ends, blank lines, lower case:
     * every column 0 */
    assert_int_equal(coce_test_write_file(p("other.csv"),
                                          "time_ms,symbol,text\r\n"
                                          "\r\n"
                                          "1000, zzz-btc ,moon moon\r\n"),
                     0);
    assert_int_equal(run(coce_cmd_features, "features", "--trades",
                         p("m/trades"), "--events", p("pumps.csv"), "--window",
                         "40", "--posts", p("other.csv"), "--lexicon-dir",
                         lexdir, "--sentiment-columns",
                         "sent_mentions,sent_compound_vel", "--out",
                         p("f_other.csv"), NULL),
                     0);
    char *o = coce_test_read_file(p("f_other.csv"), NULL);
    assert_non_null(o);
    assert_non_null(strstr(o, "minute_cos,sent_mentions,sent_compound_vel,"
                              "label\n"));
    assert_null(strstr(o, ",0.69314718055994529,"));
    free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_with_posts),
        cmocka_unit_test(test_models_refuse_other_sets),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
