/* Live feed of Binance aggregate trades by fromId polling. The rules
 * (exactly once per pair, the time-order merge and its latency, errors,
 * rate limits) are in live_feed.h and docs/live_feed.md.
 *
 * The merge is a watermark merge in the sense of "The Dataflow Model"
 * (Akidau et al., VLDB 2015, section 3.3): a pair's watermark is the time
 * up to which its trades are known complete; the stream is released up to
 * the minimum watermark, with a bounded hold as the heuristic that keeps a
 * stalled input from stalling the whole stream. */
#include "data_ingest/live_feed.h"

#include "data_ingest/binance_trades.h"
#include "utils/log.h"

#include <jansson.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* C11 7.14.1.1: only lock-free atomics may be touched in a signal handler. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2,
               "coce_live_feed_stop needs a lock-free atomic int");

#define MODULE "live_feed"
#define SLICE_MS 100 /* longest uninterrupted wait, so that stop() is prompt */
#define MAX_PAIRS 1024
#define MAX_ASSET 20

typedef struct pending {
    coce_trade t;
    int64_t id;
    uint32_t pair;
} pending;

typedef struct pair {
    char symbol[COCE_LIVE_FEED_SYMBOL_MAX + 1];
    coce_asset_id asset;
    int64_t last_id;    /* last fetched and kept; -1 = none (window mode) */
    int64_t emitted_id; /* last returned by next(); -1 = none */
    int64_t cursor_ms;  /* window start while last_id < 0 */
    int64_t last_t;     /* time of the last kept trade */
    int64_t wm;         /* watermark: trades at or before it are all fetched */
    int64_t ok_at;      /* clock of the last successful poll (or of start) */
    int fail_streak;
} pair;

typedef struct agg_vec {
    coce_agg_trade *p;
    size_t n, cap;
} agg_vec;

struct coce_live_feed {
    coce_live_feed_opts o;
    char base_url[512];
    pair *pairs;
    size_t n_pairs;
    coce_http_client *http;

    pending *heap;
    size_t heap_n, heap_cap;
    agg_vec stage;

    int64_t last_emit_t;
    int emitted_any;

    size_t turn;      /* next pair to poll */
    int round_behind; /* a pair of this round was not caught up */
    int64_t next_req_at;
    int64_t retry_after_ms; /* Retry-After of the last answer, 0 = none */
    long last_status;
    int report_pending;
    char report[COCE_ERR_MSG_MAX + 128];

    atomic_int stopped;
    coce_live_feed_stats st;
};

/* ---- time ----------------------------------------------------------------- */

static int64_t now_ms(const coce_live_feed *f)
{
    if (f->o.clock_fn != NULL)
        return f->o.clock_fn(f->o.time_ctx);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void raw_sleep(const coce_live_feed *f, int64_t ms)
{
    if (f->o.sleep_fn != NULL) {
        f->o.sleep_fn(f->o.time_ctx, ms);
        return;
    }
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int is_stopped(coce_live_feed *f)
{
    return atomic_load(&f->stopped) != 0;
}

/* Waits in slices so that a stop() during a long wait (backoff, a
 * Retry-After of minutes, a weight pause) ends it within one slice. */
static void feed_sleep(coce_live_feed *f, int64_t ms)
{
    while (ms > 0 && !is_stopped(f)) {
        int64_t s = ms < SLICE_MS ? ms : SLICE_MS;
        raw_sleep(f, s);
        ms -= s;
    }
}

static void http_sleep(void *ctx, int64_t ms)
{
    feed_sleep(ctx, ms);
}

static int64_t max64(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* ---- the release heap, ordered by (time, pair, id) ------------------------ */

static int before(const pending *a, const pending *b)
{
    if (a->t.time_ms != b->t.time_ms)
        return a->t.time_ms < b->t.time_ms;
    if (a->pair != b->pair)
        return a->pair < b->pair;
    return a->id < b->id;
}

static int heap_push(coce_live_feed *f, const pending *x)
{
    if (f->heap_n == f->heap_cap) {
        size_t cap = f->heap_cap != 0 ? f->heap_cap * 2 : 1024;
        pending *p = realloc(f->heap, cap * sizeof *p);
        if (p == NULL)
            return COCE_ENOMEM;
        f->heap = p;
        f->heap_cap = cap;
    }
    size_t i = f->heap_n++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!before(x, &f->heap[up]))
            break;
        f->heap[i] = f->heap[up];
        i = up;
    }
    f->heap[i] = *x;
    return COCE_OK;
}

static pending heap_pop(coce_live_feed *f)
{
    pending top = f->heap[0];
    pending last = f->heap[--f->heap_n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= f->heap_n)
            break;
        if (c + 1 < f->heap_n && before(&f->heap[c + 1], &f->heap[c]))
            ++c;
        if (!before(&f->heap[c], &last))
            break;
        f->heap[i] = f->heap[c];
        i = c;
    }
    if (f->heap_n > 0)
        f->heap[i] = last;
    return top;
}

/* The release bound: the smallest watermark of the pairs, leaving out
 * those failing for max_hold_ms or longer since their last success (see
 * "Merge rule"); INT64_MIN when all are left out. *wake: when the next
 * failing pair drops out of the minimum. */
static int64_t release_bound(const coce_live_feed *f, int64_t now,
                             int64_t *wake)
{
    int64_t m = INT64_MAX;
    int any = 0;
    *wake = INT64_MAX;
    for (size_t i = 0; i < f->n_pairs; ++i) {
        const pair *p = &f->pairs[i];
        int64_t stale_at = p->ok_at + f->o.max_hold_ms;
        if (p->fail_streak > 0) {
            if (stale_at <= now)
                continue;
            if (stale_at < *wake)
                *wake = stale_at;
        }
        any = 1;
        if (p->wm < m)
            m = p->wm;
    }
    return any ? m : INT64_MIN;
}

static int release(coce_live_feed *f, int64_t now, coce_trade *out,
                   int64_t *wake)
{
    *wake = INT64_MAX;
    if (f->heap_n == 0)
        return 0;
    if (f->heap[0].t.time_ms > release_bound(f, now, wake))
        return 0;
    pending top = heap_pop(f);
    coce_trade t = top.t;
    if (f->emitted_any && t.time_ms < f->last_emit_t) {
        /* Emitted once, never back in time: see "Merge rule". */
        coce_log(COCE_LOG_WARN, MODULE, "late_trade", "{s:s, s:I, s:I, s:I}",
                 "symbol", f->pairs[top.pair].symbol, "id",
                 (json_int_t)top.id, "time_ms", (json_int_t)t.time_ms,
                 "emitted_as_ms", (json_int_t)f->last_emit_t);
        t.time_ms = f->last_emit_t;
        f->st.late++;
    }
    f->last_emit_t = t.time_ms;
    f->emitted_any = 1;
    f->pairs[top.pair].emitted_id = top.id;
    f->st.emitted++;
    *out = t;
    return 1;
}

/* ---- requests ------------------------------------------------------------- */

static int stage_push(agg_vec *v, const coce_agg_trade *t)
{
    if (v->n == v->cap) {
        size_t cap = v->cap != 0 ? v->cap * 2 : 1024;
        coce_agg_trade *p = realloc(v->p, cap * sizeof *p);
        if (p == NULL)
            return COCE_ENOMEM;
        v->p = p;
        v->cap = cap;
    }
    v->p[v->n++] = *t;
    return COCE_OK;
}

static int by_id(const void *a, const void *b)
{
    int64_t x = ((const coce_agg_trade *)a)->id;
    int64_t y = ((const coce_agg_trade *)b)->id;
    return (x > y) - (x < y);
}

/* Binance's weight window is the calendar minute: pause until it ends. */
static void check_weight(coce_live_feed *f, const coce_http_response *r)
{
    char v[32];
    if (f->o.weight_pause_at <= 0 ||
        coce_http_response_header(r, "X-MBX-USED-WEIGHT-1M", v, sizeof v) !=
            COCE_OK)
        return;
    long long used = strtoll(v, NULL, 10);
    if (used < f->o.weight_pause_at)
        return;
    int64_t now = now_ms(f);
    int64_t until = now - (now % 60000) + 60000;
    f->next_req_at = max64(f->next_req_at, until);
    f->st.weight_pauses++;
    coce_log(COCE_LOG_INFO, MODULE, "weight_pause", "{s:I, s:I}", "used",
             (json_int_t)used, "wait_ms", (json_int_t)(until - now));
}

static void read_retry_after(coce_live_feed *f, const coce_http_response *r)
{
    char v[64];
    f->retry_after_ms = 0;
    if (coce_http_response_header(r, "Retry-After", v, sizeof v) != COCE_OK)
        return;
    char *end = NULL;
    long long s = strtoll(v, &end, 10);
    if (end != v && *end == '\0' && s > 0 && s < 86400)
        f->retry_after_ms = (int64_t)s * 1000;
}

/* One GET of /api/v3/aggTrades; the page sorted by id in *items. */
static int request(coce_live_feed *f, const pair *p, int64_t from_id,
                   int64_t start_ms, int64_t end_ms, size_t limit,
                   coce_agg_trade **items, size_t *n, coce_err *err)
{
    *items = NULL;
    *n = 0;
    char url[700];
    int w;
    if (from_id >= 0)
        w = snprintf(url, sizeof url,
                     "%s/api/v3/aggTrades?symbol=%s&fromId=%" PRId64
                     "&limit=%zu",
                     f->base_url, p->symbol, from_id, limit);
    else
        w = snprintf(url, sizeof url,
                     "%s/api/v3/aggTrades?symbol=%s&startTime=%" PRId64
                     "&endTime=%" PRId64 "&limit=%zu",
                     f->base_url, p->symbol, start_ms, end_ms, limit);
    if (w < 0 || (size_t)w >= sizeof url)
        return coce_err_set(err, COCE_EINVAL, "live feed: URL too long");
    coce_http_response r;
    f->st.requests++;
    int rc = coce_http_get(f->http, url, NULL, 0, &r, err);
    f->last_status = r.status;
    read_retry_after(f, &r);
    check_weight(f, &r);
    if (rc == COCE_OK)
        rc = coce_binance_parse_agg_trades(r.body, r.body_len, items, n, err);
    coce_http_response_destroy(&r);
    if (rc == COCE_OK && *n > 1)
        qsort(*items, *n, sizeof **items, by_id);
    return rc;
}

/* Fills the hole (*cur, upto) with range requests; see "Exactly once". */
static int fill_hole(coce_live_feed *f, const pair *p, int64_t *cur,
                     int64_t upto, coce_err *err)
{
    int tries = 0;
    while (*cur + 1 < upto) {
        int64_t hole = upto - *cur - 1;
        size_t lim = hole < (int64_t)f->o.limit ? (size_t)hole : f->o.limit;
        coce_agg_trade *g = NULL;
        size_t gn = 0;
        f->st.gap_fills++;
        int rc = request(f, p, *cur + 1, INT64_MIN, INT64_MIN, lim, &g, &gn,
                         err);
        if (rc != COCE_OK)
            return rc;
        int64_t next_avail = upto;
        int progressed = 0;
        for (size_t i = 0; i < gn && rc == COCE_OK; ++i) {
            if (g[i].id <= *cur) {
                f->st.duplicates++;
                continue;
            }
            if (g[i].id >= upto)
                break;
            if (g[i].id != *cur + 1) {
                next_avail = g[i].id;
                break;
            }
            rc = stage_push(&f->stage, &g[i]);
            *cur = g[i].id;
            progressed = 1;
        }
        free(g);
        if (rc != COCE_OK)
            return coce_err_set(err, rc, "live feed: out of memory");
        if (progressed) {
            tries = 0;
            continue;
        }
        if (++tries >= f->o.gap_retries) {
            int64_t missing = next_avail - *cur - 1;
            int64_t first = *cur + 1;
            coce_log(COCE_LOG_WARN, MODULE, "ids_missing",
                     "{s:s, s:I, s:I, s:i}", "symbol", p->symbol, "first_id",
                     (json_int_t)first, "count", (json_int_t)missing,
                     "range_requests", tries);
            f->st.ids_missing += (size_t)missing;
            *cur = next_avail - 1;
            tries = 0;
        }
    }
    return COCE_OK;
}

/* Keeps the page's new trades in id order into f->stage, filling holes. */
static int stage_page(coce_live_feed *f, const pair *p,
                      const coce_agg_trade *items, size_t n, coce_err *err)
{
    int64_t cur = p->last_id;
    f->stage.n = 0;
    for (size_t i = 0; i < n; ++i) {
        if (items[i].id <= cur) {
            f->st.duplicates++;
            continue;
        }
        if (cur >= 0 && items[i].id > cur + 1) {
            int rc = fill_hole(f, p, &cur, items[i].id, err);
            if (rc != COCE_OK)
                return rc;
        }
        if (stage_push(&f->stage, &items[i]) != COCE_OK)
            return coce_err_set(err, COCE_ENOMEM, "live feed: out of memory");
        cur = items[i].id;
    }
    return COCE_OK;
}

static int commit_stage(coce_live_feed *f, uint32_t idx)
{
    pair *p = &f->pairs[idx];
    if (f->stage.n == 0)
        return COCE_OK;
    for (size_t i = 0; i < f->stage.n; ++i) {
        const coce_agg_trade *a = &f->stage.p[i];
        pending x = {.t = {.time_ms = a->time_ms,
                           .price = a->price,
                           .qty = a->qty,
                           .asset = p->asset,
                           .side = (int8_t)(a->buyer_maker ? COCE_SIDE_SELL
                                                           : COCE_SIDE_BUY)},
                     .id = a->id,
                     .pair = idx};
        if (heap_push(f, &x) != COCE_OK)
            return COCE_ENOMEM;
        p->last_id = a->id;
        p->last_t = max64(p->last_t, a->time_ms);
    }
    return COCE_OK;
}

/* One turn of pair idx: one page (and the range requests of its holes).
 * *caught_up: the pair has no more trades to fetch right now. */
static int poll_pair(coce_live_feed *f, uint32_t idx, int64_t sent_at,
                     int *caught_up, coce_err *err)
{
    pair *p = &f->pairs[idx];
    int window = p->last_id < 0;
    int64_t ws = p->cursor_ms;
    int64_t we = ws + COCE_BINANCE_WINDOW_MS - 1;
    coce_agg_trade *items = NULL;
    size_t n = 0;
    int rc = request(f, p, window ? -1 : p->last_id + 1, ws, we, f->o.limit,
                     &items, &n, err);
    if (rc == COCE_OK)
        rc = stage_page(f, p, items, n, err);
    free(items);
    if (rc == COCE_OK && commit_stage(f, idx) != COCE_OK)
        rc = coce_err_set(err, COCE_ENOMEM, "live feed: out of memory");
    if (rc != COCE_OK)
        return rc;
    int full = n >= f->o.limit;
    int progressed = f->stage.n > 0;
    int64_t seen = sent_at - f->o.lateness_ms; /* published by now */
    if (progressed)
        p->wm = max64(p->wm, p->last_t);
    if (window && !progressed) {
        /* A quiet window: nothing in [ws, min(we, seen)]. */
        *caught_up = we >= seen;
        p->wm = max64(p->wm, we < seen ? we : seen);
        if (we < seen)
            p->cursor_ms = we + 1;
    } else if (window) {
        *caught_up = !full && we >= seen;
        if (!full)
            p->wm = max64(p->wm, we < seen ? we : seen);
    } else {
        /* A full page of nothing new is a broken answer: do not spin. */
        *caught_up = !full || !progressed;
        if (!full)
            p->wm = max64(p->wm, seen);
    }
    p->ok_at = now_ms(f);
    return COCE_OK;
}

static int transient(int rc, long status)
{
    switch (rc) {
    case COCE_ENET:
    case COCE_ETIMEOUT:
    case COCE_ERATELIMIT:
    case COCE_EPARSE:
        return 1;
    case COCE_EHTTP:
        return status >= 500 || status == 0;
    default:
        return 0;
    }
}

static int64_t backoff(const coce_live_feed *f, int streak)
{
    int64_t w = f->o.backoff_base_ms;
    for (int i = 1; i < streak && w < f->o.backoff_max_ms; ++i)
        w *= 2;
    return w < f->o.backoff_max_ms ? w : f->o.backoff_max_ms;
}

static int poll_turn(coce_live_feed *f, int64_t now, coce_err *err)
{
    uint32_t idx = (uint32_t)f->turn;
    pair *p = &f->pairs[idx];
    int caught_up = 0;
    coce_err e;
    coce_err_clear(&e);
    int rc = poll_pair(f, idx, now, &caught_up, &e);
    if (rc != COCE_OK && !transient(rc, f->last_status))
        return coce_err_set(err, rc, "live feed: %s: %s", p->symbol, e.msg);
    if (rc == COCE_OK) {
        p->fail_streak = 0;
        if (!caught_up)
            f->round_behind = 1;
    } else {
        f->st.failures++;
        p->fail_streak++;
        int64_t wait = max64(backoff(f, p->fail_streak), f->retry_after_ms);
        f->next_req_at = max64(f->next_req_at, now_ms(f) + wait);
        f->round_behind = 1;
        coce_log(COCE_LOG_WARN, MODULE, "poll_failed", "{s:s, s:i, s:I, s:s}",
                 "symbol", p->symbol, "streak", p->fail_streak, "wait_ms",
                 (json_int_t)wait, "error", e.msg);
        if (p->fail_streak % f->o.max_failures == 0) {
            f->report_pending = 1;
            snprintf(f->report, sizeof f->report,
                     "live feed: %s: %d failed requests in a row, still "
                     "retrying; last: %s",
                     p->symbol, p->fail_streak, e.msg);
        }
    }
    if (++f->turn == f->n_pairs) {
        f->turn = 0;
        if (!f->round_behind)
            f->next_req_at = max64(f->next_req_at, now_ms(f) + f->o.poll_ms);
        f->round_behind = 0;
    }
    return COCE_OK;
}

/* ---- public --------------------------------------------------------------- */

void coce_live_feed_opts_default(coce_live_feed_opts *o)
{
    memset(o, 0, sizeof *o);
    o->base_url = COCE_BINANCE_API_URL;
    o->quote = "BTC";
    o->limit = COCE_BINANCE_MAX_LIMIT;
    o->poll_ms = 2000;
    o->start_minutes_back = 5;
    o->lateness_ms = 2000;
    o->max_hold_ms = 30000;
    o->idle_timeout_ms = 1000;
    o->max_failures = 10;
    o->backoff_base_ms = 1000;
    o->backoff_max_ms = 60000;
    o->gap_retries = 3;
    o->weight_pause_at = 5000;
}

static int upper_asset(const char *in, char *out, size_t len)
{
    size_t n = in != NULL ? strlen(in) : 0;
    if (n == 0 || n > MAX_ASSET || n >= len)
        return COCE_EINVAL;
    for (size_t i = 0; i < n; ++i) {
        if (!isalnum((unsigned char)in[i]))
            return COCE_EINVAL;
        out[i] = (char)toupper((unsigned char)in[i]);
    }
    out[n] = '\0';
    return COCE_OK;
}

static int check_opts(const coce_live_feed_opts *o, coce_err *err)
{
    const char *bad = NULL;
    if (o->bases == NULL || o->n_bases == 0 || o->n_bases > MAX_PAIRS)
        bad = "bases: 1..1024 base assets";
    else if (o->limit == 0 || o->limit > COCE_BINANCE_MAX_LIMIT)
        bad = "limit: 1..1000";
    else if (o->poll_ms < 0 || o->lateness_ms < 0 || o->max_hold_ms <= 0 ||
             o->idle_timeout_ms <= 0)
        bad = "poll_ms, lateness_ms >= 0; max_hold_ms, idle_timeout_ms > 0";
    else if (o->start_ms <= 0 &&
             (o->start_minutes_back < 0 || o->start_minutes_back > 10080))
        bad = "start_minutes_back: 0..10080";
    else if (o->max_failures < 1 || o->gap_retries < 1)
        bad = "max_failures, gap_retries: >= 1";
    else if (o->backoff_base_ms < 0 || o->backoff_max_ms < o->backoff_base_ms)
        bad = "backoff: 0 <= backoff_base_ms <= backoff_max_ms";
    else if (o->n_resume > 0 && o->resume == NULL)
        bad = "resume: NULL with n_resume > 0";
    else if (o->base_url != NULL && strlen(o->base_url) >= 512)
        bad = "base_url: too long";
    if (bad != NULL)
        return coce_err_set(err, COCE_EINVAL, "live feed: option %s", bad);
    return COCE_OK;
}

static int init_pairs(coce_live_feed *f, coce_symbols *symbols, coce_err *err)
{
    const coce_live_feed_opts *o = &f->o;
    char quote[MAX_ASSET + 1];
    if (upper_asset(o->quote != NULL ? o->quote : "BTC", quote,
                    sizeof quote) != COCE_OK)
        return coce_err_set(err, COCE_EINVAL,
                            "live feed: option quote: 1..20 letters/digits");
    int64_t created = now_ms(f);
    int64_t start = o->start_ms > 0 ? o->start_ms
                                    : created - o->start_minutes_back * 60000;
    for (size_t i = 0; i < o->n_bases; ++i) {
        pair *p = &f->pairs[i];
        char base[MAX_ASSET + 1];
        if (upper_asset(o->bases[i], base, sizeof base) != COCE_OK)
            return coce_err_set(err, COCE_EINVAL,
                                "live feed: option bases[%zu] '%s': 1..20 "
                                "letters/digits",
                                i, o->bases[i] != NULL ? o->bases[i] : "");
        snprintf(p->symbol, sizeof p->symbol, "%s%s", base, quote);
        for (size_t j = 0; j < i; ++j)
            if (strcmp(f->pairs[j].symbol, p->symbol) == 0)
                return coce_err_set(err, COCE_EINVAL,
                                    "live feed: option bases[%zu]: %s twice",
                                    i, base);
        if (coce_symbols_intern(symbols, base, &p->asset) != COCE_OK)
            return coce_err_set(err, COCE_ENOMEM, "live feed: out of memory");
        p->last_id = -1;
        p->emitted_id = -1;
        p->cursor_ms = start;
        p->ok_at = created;
        p->last_t = INT64_MIN;
        p->wm = start - 1;
        for (size_t k = 0; k < o->n_resume; ++k) {
            if (strcmp(o->resume[k].symbol, p->symbol) == 0 &&
                o->resume[k].last_id >= 0) {
                p->last_id = o->resume[k].last_id;
                p->emitted_id = p->last_id;
                /* Nothing is known of its times until its first page. */
                p->wm = INT64_MIN;
            }
        }
    }
    return COCE_OK;
}

int coce_live_feed_new(const coce_live_feed_opts *opts, coce_symbols *symbols,
                       coce_live_feed **out, coce_err *err)
{
    *out = NULL;
    if (opts == NULL || symbols == NULL)
        return coce_err_set(err, COCE_EINVAL,
                            "live feed: options and symbols are required");
    int rc = check_opts(opts, err);
    if (rc != COCE_OK)
        return rc;
    coce_live_feed *f = calloc(1, sizeof *f);
    if (f == NULL)
        return coce_err_set(err, COCE_ENOMEM, "live feed: out of memory");
    f->o = *opts;
    atomic_init(&f->stopped, 0);
    snprintf(f->base_url, sizeof f->base_url, "%s",
             opts->base_url != NULL && opts->base_url[0] != '\0'
                 ? opts->base_url
                 : COCE_BINANCE_API_URL);
    /* Trailing '/' would make "//api/v3/..." */
    size_t bl = strlen(f->base_url);
    while (bl > 0 && f->base_url[bl - 1] == '/')
        f->base_url[--bl] = '\0';
    f->n_pairs = opts->n_bases;
    f->pairs = calloc(f->n_pairs, sizeof *f->pairs);
    if (f->pairs == NULL) {
        free(f);
        return coce_err_set(err, COCE_ENOMEM, "live feed: out of memory");
    }
    rc = init_pairs(f, symbols, err);
    if (rc == COCE_OK) {
        coce_http_opts h;
        if (opts->http != NULL) {
            h = *opts->http;
        } else {
            coce_http_opts_default(&h);
            h.timeout_ms = 10000;
            h.max_retries = 2;
        }
        h.cache_dir = NULL; /* a cached page would be a stale page */
        h.sleep_fn = http_sleep;
        h.sleep_ctx = f;
        rc = coce_http_client_new(&f->http, &h, err);
    }
    if (rc != COCE_OK) {
        coce_live_feed_free(f);
        return rc;
    }
    f->o.bases = NULL; /* not kept: the caller's arrays may go */
    f->o.resume = NULL;
    f->o.http = NULL;
    f->next_req_at = INT64_MIN;
    *out = f;
    return COCE_OK;
}

int coce_live_feed_next(coce_live_feed *f, coce_trade *out, coce_err *err)
{
    int64_t deadline = now_ms(f) + f->o.idle_timeout_ms;
    for (;;) {
        if (is_stopped(f))
            return coce_err_set(err, COCE_EEOF, "live feed: stopped");
        int64_t now = now_ms(f);
        int64_t wake = INT64_MAX;
        if (release(f, now, out, &wake))
            return COCE_OK;
        if (f->report_pending) {
            f->report_pending = 0;
            return coce_err_set(err, COCE_ENET, "%s", f->report);
        }
        if (now >= deadline)
            return coce_err_set(err, COCE_ETIMEOUT,
                                "live feed: no trade within %" PRId64 " ms",
                                f->o.idle_timeout_ms);
        if (now < f->next_req_at) {
            int64_t until = f->next_req_at < deadline ? f->next_req_at
                                                       : deadline;
            if (wake < until)
                until = wake;
            feed_sleep(f, until > now ? until - now : 1);
            continue;
        }
        int rc = poll_turn(f, now, err);
        if (rc != COCE_OK)
            return rc;
    }
}

void coce_live_feed_stop(coce_live_feed *f)
{
    if (f != NULL)
        atomic_store(&f->stopped, 1);
}

void coce_live_feed_last_ids(const coce_live_feed *f,
                             coce_live_feed_cursor *out, size_t cap,
                             size_t *n)
{
    for (size_t i = 0; i < f->n_pairs && i < cap; ++i) {
        snprintf(out[i].symbol, sizeof out[i].symbol, "%s",
                 f->pairs[i].symbol);
        out[i].last_id = f->pairs[i].emitted_id;
    }
    *n = f->n_pairs;
}

void coce_live_feed_stats_get(const coce_live_feed *f,
                              coce_live_feed_stats *out)
{
    *out = f->st;
}

void coce_live_feed_free(coce_live_feed *f)
{
    if (f == NULL)
        return;
    coce_http_client_free(f->http);
    free(f->pairs);
    free(f->heap);
    free(f->stage.p);
    free(f);
}
