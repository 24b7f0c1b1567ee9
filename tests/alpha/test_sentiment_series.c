/* Per-asset sentiment series: hand-computed bars, no look-ahead, batch ==
 * streaming under every chunking (with clock ticks between chunks), sparse
 * mode, errors. */
#include "alpha/sentiment_series.h"
#include "testutil.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W 300000 /* 5 min */

typedef struct sink {
    coce_sentiment_bar b[4096];
    size_t n;
} sink;

static void collect(const coce_sentiment_bar *bar, void *ctx)
{
    sink *s = ctx;
    if (s->n < sizeof s->b / sizeof s->b[0])
        s->b[s->n] = *bar;
    s->n++;
}

static coce_post post(int64_t t, coce_asset_id a, double c)
{
    coce_post p;
    memset(&p, 0, sizeof p);
    p.time_ms = t;
    p.asset = a;
    p.compound = c;
    return p;
}

static void same_double(double a, double b)
{
    if (isnan(a) || isnan(b))
        assert_true(isnan(a) && isnan(b));
    else
        assert_true(a == b);
}

static void same_bars(const sink *x, const sink *y)
{
    assert_int_equal(x->n, y->n);
    for (size_t i = 0; i < x->n; ++i) {
        const coce_sentiment_bar *a = &x->b[i];
        const coce_sentiment_bar *b = &y->b[i];
        assert_true(a->open_ms == b->open_ms && a->close_ms == b->close_ms);
        assert_int_equal(a->asset, b->asset);
        assert_int_equal(a->mentions, b->mentions);
        same_double(a->mean_compound, b->mean_compound);
        same_double(a->mention_delta, b->mention_delta);
        same_double(a->mention_ratio, b->mention_ratio);
        same_double(a->compound_delta, b->compound_delta);
        same_double(a->compound_vs_trailing, b->compound_vs_trailing);
    }
}

static coce_sentiment_series_cfg cfg_of(size_t trailing, int sparse)
{
    coce_sentiment_series_cfg c = {W, 0, trailing, 8, sparse};
    return c;
}

static void test_hand_values(void **state)
{
    (void)state;
    /* asset 1: window 0: 0.5, 0.1; window 1: none; window 2: -0.4, 0.2,
     * 0.5; asset 2: one post in window 1 (0.3). T = 2. */
    const coce_post posts[] = {
        post(1000, 1, 0.5),      post(2000, 1, 0.1),
        post(W + 10, 2, 0.3),    post(2 * W, 1, -0.4),
        post(2 * W + 5, 1, 0.2), post(3 * W - 1, 1, 0.5),
    };
    coce_sentiment_series_cfg cfg = cfg_of(2, 0);
    sink *s = calloc(1, sizeof *s);
    assert_non_null(s);
    assert_int_equal(coce_sentiment_series_batch(&cfg, posts, 6, 3 * W,
                                                 collect, s, NULL),
                     COCE_OK);
    /* w0: a1; w1: a1, a2; w2: a1, a2 */
    assert_int_equal(s->n, 5);
    const coce_sentiment_bar *b = &s->b[0];
    assert_true(b->open_ms == 0 && b->close_ms == W && b->asset == 1);
    assert_int_equal(b->mentions, 2);
    assert_close(b->mean_compound, 0.3, 0, 1e-15);
    assert_close(b->mention_delta, 2, 0, 0);
    assert_true(isnan(b->mention_ratio)); /* no trailing mention */
    assert_true(isnan(b->compound_delta));
    assert_true(isnan(b->compound_vs_trailing));
    b = &s->b[1]; /* a1, w1: empty */
    assert_true(b->asset == 1 && b->open_ms == W && b->mentions == 0);
    assert_true(isnan(b->mean_compound));
    assert_close(b->mention_delta, -2, 0, 0);
    assert_close(b->mention_ratio, 0.0, 0, 0); /* 0 / ((0 + 2) / 2) */
    b = &s->b[2]; /* a2, w1 */
    assert_true(b->asset == 2 && b->mentions == 1);
    assert_close(b->mean_compound, 0.3, 0, 1e-15);
    b = &s->b[3]; /* a1, w2: 3 mentions, mean 0.1 */
    assert_true(b->asset == 1 && b->open_ms == 2 * W && b->mentions == 3);
    assert_close(b->mean_compound, 0.1, 0, 1e-15);
    assert_close(b->mention_delta, 3, 0, 0);
    assert_close(b->mention_ratio, 3.0 / ((2.0 + 0.0) / 2.0), 0, 1e-15);
    assert_true(isnan(b->compound_delta)); /* w1 empty */
    assert_close(b->compound_vs_trailing, 0.1 - 0.3, 0, 1e-15);
    b = &s->b[4]; /* a2, w2: empty */
    assert_true(b->asset == 2 && b->mentions == 0);
    assert_close(b->mention_ratio, 0.0, 0, 0);
    free(s);
}

/* A window's bar appears only once its close time has been seen, and it
 * does not depend on anything after it. */
static void test_no_lookahead(void **state)
{
    (void)state;
    coce_sentiment_series_cfg cfg = cfg_of(3, 0);
    coce_sentiment_series *ss = NULL;
    assert_int_equal(coce_sentiment_series_new(&cfg, &ss, NULL), COCE_OK);
    sink *s = calloc(1, sizeof *s);
    assert_non_null(s);
    coce_post p = post(10, 0, 0.7);
    assert_int_equal(coce_sentiment_series_push(ss, &p, 1, collect, s, NULL),
                     COCE_OK);
    assert_int_equal(
        coce_sentiment_series_advance(ss, W - 1, collect, s, NULL), COCE_OK);
    assert_int_equal(s->n, 0); /* window still open */
    assert_int_equal(coce_sentiment_series_advance(ss, W, collect, s, NULL),
                     COCE_OK);
    assert_int_equal(s->n, 1);
    assert_true(s->b[0].close_ms == W);
    assert_close(s->b[0].mean_compound, 0.7, 0, 0);
    /* a later, very different post leaves the emitted bar alone */
    p = post(W + 1, 0, -1.0);
    assert_int_equal(coce_sentiment_series_push(ss, &p, 1, collect, s, NULL),
                     COCE_OK);
    assert_int_equal(s->n, 1);
    assert_close(s->b[0].mean_compound, 0.7, 0, 0);
    coce_sentiment_series_free(ss);
    free(s);
}

static size_t make_posts(coce_post *p, size_t n, uint64_t seed)
{
    uint64_t x = seed;
    int64_t t = -7 * W / 2; /* negative times: floor division */
    for (size_t i = 0; i < n; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* bursts and gaps (some longer than the trailing length) */
        int64_t gap = (x % 10 == 0) ? (int64_t)(x % (9 * W)) : (int64_t)(x % 40000);
        if (x % 7 == 0)
            gap = 0; /* equal times */
        t += gap;
        p[i] = post(t, (coce_asset_id)((x >> 8) % 5),
                    ((double)((x >> 20) % 2001) - 1000.0) / 1000.0);
    }
    return n;
}

static void run_chunked(const coce_sentiment_series_cfg *cfg,
                        const coce_post *p, size_t n, int64_t end,
                        uint64_t seed, sink *out)
{
    coce_sentiment_series *ss = NULL;
    assert_int_equal(coce_sentiment_series_new(cfg, &ss, NULL), COCE_OK);
    uint64_t x = seed;
    size_t i = 0;
    while (i < n) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t len = seed == 0 ? 1 : (size_t)(x % 23);
        if (len > n - i)
            len = n - i;
        assert_int_equal(
            coce_sentiment_series_push(ss, p + i, len, collect, out, NULL),
            COCE_OK);
        i += len;
        /* a clock tick between the last post and the next one */
        if (i > 0 && i < n && (x & 1)) {
            int64_t lo = p[i - 1].time_ms;
            int64_t now = lo + (p[i].time_ms - lo) / 2;
            assert_int_equal(coce_sentiment_series_advance(ss, now, collect,
                                                           out, NULL),
                             COCE_OK);
        }
    }
    assert_int_equal(
        coce_sentiment_series_advance(ss, end, collect, out, NULL), COCE_OK);
    coce_sentiment_series_free(ss);
}

static void test_batch_equals_streaming(void **state)
{
    (void)state;
    enum { N = 400 };
    coce_post *p = calloc(N, sizeof *p);
    sink *batch = calloc(1, sizeof *batch);
    sink *stream = calloc(1, sizeof *stream);
    assert_non_null(p);
    assert_non_null(batch);
    assert_non_null(stream);
    for (int sparse = 0; sparse <= 1; ++sparse) {
        for (uint64_t dataseed = 1; dataseed <= 3; ++dataseed) {
            make_posts(p, N, 0x9E3779B97F4A7C15ULL * dataseed);
            coce_sentiment_series_cfg cfg = cfg_of(4, sparse);
            int64_t end = p[N - 1].time_ms + 3 * W;
            batch->n = 0;
            assert_int_equal(coce_sentiment_series_batch(&cfg, p, N, end,
                                                         collect, batch,
                                                         NULL),
                             COCE_OK);
            assert_true(batch->n > 0 && batch->n < 4096);
            size_t total = 0;
            for (size_t i = 0; i < batch->n; ++i)
                total += batch->b[i].mentions;
            assert_int_equal(total, N);
            for (uint64_t chunkseed = 0; chunkseed < 25; ++chunkseed) {
                stream->n = 0;
                run_chunked(&cfg, p, N, end, chunkseed, stream);
                same_bars(batch, stream);
            }
            /* bars come in window order, then asset order */
            for (size_t i = 1; i < batch->n; ++i) {
                const coce_sentiment_bar *a = &batch->b[i - 1];
                const coce_sentiment_bar *b = &batch->b[i];
                assert_true(a->open_ms < b->open_ms ||
                            (a->open_ms == b->open_ms && a->asset < b->asset));
                if (sparse)
                    assert_true(b->mentions > 0);
            }
        }
    }
    free(stream);
    free(batch);
    free(p);
}

static void test_errors(void **state)
{
    (void)state;
    coce_sentiment_series *ss = NULL;
    coce_err err;
    coce_sentiment_series_cfg cfg = cfg_of(2, 0);
    assert_int_equal(coce_sentiment_series_new(NULL, &ss, &err), COCE_EINVAL);
    assert_int_equal(coce_sentiment_series_new(&cfg, NULL, &err),
                     COCE_EINVAL);
    cfg.window_ms = 0;
    assert_int_equal(coce_sentiment_series_new(&cfg, &ss, &err), COCE_EINVAL);
    assert_non_null(strstr(err.msg, "window_ms"));
    cfg = cfg_of(0, 0);
    assert_int_equal(coce_sentiment_series_new(&cfg, &ss, &err), COCE_EINVAL);
    cfg = cfg_of(2, 0);
    cfg.max_assets = 0;
    assert_int_equal(coce_sentiment_series_new(&cfg, &ss, &err), COCE_EINVAL);
    cfg = cfg_of(2, 0);
    assert_int_equal(coce_sentiment_series_new(&cfg, &ss, &err), COCE_OK);
    coce_post p[2] = {post(5000, 1, 0.1), post(4000, 1, 0.1)};
    assert_int_equal(coce_sentiment_series_push(ss, p, 2, NULL, NULL, &err),
                     COCE_EORDER);
    assert_int_equal(coce_sentiment_series_advance(ss, 100, NULL, NULL, &err),
                     COCE_EORDER);
    p[0] = post(6000, 9, 0.1);
    assert_int_equal(coce_sentiment_series_push(ss, p, 1, NULL, NULL, &err),
                     COCE_ERANGE);
    p[0] = post(6000, 1, NAN);
    assert_int_equal(coce_sentiment_series_push(ss, p, 1, NULL, NULL, &err),
                     COCE_EINVAL);
    p[0] = post(INT64_MAX, 1, 0.0);
    assert_int_equal(coce_sentiment_series_push(ss, p, 1, NULL, NULL, &err),
                     COCE_ERANGE);
    assert_int_equal(
        coce_sentiment_series_advance(ss, INT64_MAX, NULL, NULL, &err),
        COCE_ERANGE);
    assert_int_equal(coce_sentiment_series_push(NULL, p, 1, NULL, NULL, &err),
                     COCE_EINVAL);
    assert_int_equal(
        coce_sentiment_series_push(ss, NULL, 1, NULL, NULL, &err),
        COCE_EINVAL);
    assert_int_equal(coce_sentiment_series_advance(NULL, 0, NULL, NULL, &err),
                     COCE_EINVAL);
    /* NULL callback: state still advances */
    assert_int_equal(
        coce_sentiment_series_advance(ss, 10 * W, NULL, NULL, &err), COCE_OK);
    coce_sentiment_series_free(ss);
    coce_sentiment_series_free(NULL);
    /* advance before any post: nothing to emit */
    assert_int_equal(coce_sentiment_series_new(&cfg, &ss, &err), COCE_OK);
    sink *s = calloc(1, sizeof *s);
    assert_non_null(s);
    assert_int_equal(coce_sentiment_series_advance(ss, 5 * W, collect, s,
                                                   &err),
                     COCE_OK);
    assert_int_equal(s->n, 0);
    coce_sentiment_series_free(ss);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_values),
        cmocka_unit_test(test_no_lookahead),
        cmocka_unit_test(test_batch_equals_streaming),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
