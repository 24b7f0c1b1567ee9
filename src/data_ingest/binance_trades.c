/* Binance aggregate trades: parsing, paging and the resumable per-event
 * download. Sources: see binance_trades.h. */
#include "data_ingest/binance_trades.h"

#include "data_ingest/trades.h"
#include "utils/fsutil.h"
#include "utils/log.h"
#include "utils/types.h"

#include <jansson.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define ENDPOINT "binance /api/v3/aggTrades"

void coce_binance_dl_opts_default(coce_binance_dl_opts *o)
{
    o->base_url = COCE_BINANCE_API_URL;
    o->limit = COCE_BINANCE_MAX_LIMIT;
    o->weight_pause_at = 5000;
}

/* A decimal number given as JSON text ("0.01633102"), as the API sends
 * prices and quantities so that no precision is lost on the way. */
static int decimal_field(json_t *item, const char *key, double *out)
{
    json_t *v = json_object_get(item, key);
    if (!json_is_string(v))
        return COCE_EPARSE;
    const char *s = json_string_value(v);
    char *end = NULL;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0)
        return COCE_EPARSE;
    *out = d;
    return COCE_OK;
}

static int int_field(json_t *item, const char *key, int64_t *out)
{
    json_t *v = json_object_get(item, key);
    if (!json_is_integer(v))
        return COCE_EPARSE;
    *out = (int64_t)json_integer_value(v);
    return COCE_OK;
}

int coce_binance_parse_agg_trades(const char *json, size_t len,
                                  coce_agg_trade **out, size_t *n,
                                  coce_err *err)
{
    *out = NULL;
    *n = 0;
    json_error_t je;
    json_t *root = json_loadb(json != NULL ? json : "", len, 0, &je);
    if (root == NULL)
        return coce_err_set(err, COCE_EPARSE,
                            ENDPOINT ": invalid JSON at line %d column %d: %s",
                            je.line, je.column, je.text);
    if (!json_is_array(root)) {
        json_decref(root);
        return coce_err_set(err, COCE_EPARSE,
                            ENDPOINT ": expected an array of trades");
    }
    size_t count = json_array_size(root);
    if (count == 0) {
        json_decref(root);
        return COCE_OK;
    }
    coce_agg_trade *t = calloc(count, sizeof *t);
    if (t == NULL) {
        json_decref(root);
        return coce_err_set(err, COCE_ENOMEM, ENDPOINT ": out of memory");
    }
    for (size_t i = 0; i < count; ++i) {
        json_t *item = json_array_get(root, i);
        const char *bad = NULL, *want = NULL;
        if (!json_is_object(item)) {
            free(t);
            json_decref(root);
            return coce_err_set(err, COCE_EPARSE,
                                ENDPOINT ": item %zu: expected an object", i);
        }
        if (int_field(item, "a", &t[i].id) != COCE_OK)
            bad = "a", want = "an integer";
        else if (decimal_field(item, "p", &t[i].price) != COCE_OK)
            bad = "p", want = "a decimal string";
        else if (decimal_field(item, "q", &t[i].qty) != COCE_OK)
            bad = "q", want = "a decimal string";
        else if (int_field(item, "f", &t[i].first_id) != COCE_OK)
            bad = "f", want = "an integer";
        else if (int_field(item, "l", &t[i].last_id) != COCE_OK)
            bad = "l", want = "an integer";
        else if (int_field(item, "T", &t[i].time_ms) != COCE_OK)
            bad = "T", want = "an integer";
        else if (!json_is_boolean(json_object_get(item, "m")))
            bad = "m", want = "a boolean";
        if (bad != NULL) {
            free(t);
            json_decref(root);
            return coce_err_set(err, COCE_EPARSE,
                                ENDPOINT ": item %zu: field '%s': expected %s",
                                i, bad, want);
        }
        t[i].buyer_maker = json_is_true(json_object_get(item, "m"));
    }
    json_decref(root);
    *out = t;
    *n = count;
    return COCE_OK;
}

int coce_binance_agg_trades_page(coce_http_client *http, const char *base_url,
                                 const char *symbol, int64_t from_id,
                                 int64_t start_ms, int64_t end_ms,
                                 size_t limit, coce_agg_trade **out,
                                 size_t *n, coce_err *err)
{
    *out = NULL;
    *n = 0;
    if (limit == 0 || limit > COCE_BINANCE_MAX_LIMIT)
        return coce_err_set(err, COCE_EINVAL,
                            ENDPOINT ": limit %zu: must be 1..1000", limit);
    char sym[64];
    if (coce_http_escape(symbol, sym, sizeof sym) != COCE_OK || sym[0] == '\0')
        return coce_err_set(err, COCE_EINVAL, ENDPOINT ": bad symbol");
    char url[1024];
    int w = snprintf(url, sizeof url, "%s/api/v3/aggTrades?symbol=%s&limit=%zu",
                     base_url != NULL ? base_url : COCE_BINANCE_API_URL, sym,
                     limit);
    if (w > 0 && (size_t)w < sizeof url && from_id >= 0)
        w += snprintf(url + w, sizeof url - (size_t)w, "&fromId=%" PRId64,
                      from_id);
    if (w > 0 && (size_t)w < sizeof url && start_ms != INT64_MIN)
        w += snprintf(url + w, sizeof url - (size_t)w, "&startTime=%" PRId64,
                      start_ms);
    if (w > 0 && (size_t)w < sizeof url && end_ms != INT64_MIN)
        w += snprintf(url + w, sizeof url - (size_t)w, "&endTime=%" PRId64,
                      end_ms);
    if (w < 0 || (size_t)w >= sizeof url)
        return coce_err_set(err, COCE_EINVAL, ENDPOINT ": URL too long");
    coce_http_response r;
    int rc = coce_http_get(http, url, NULL, 0, &r, err);
    if (rc == COCE_OK)
        rc = coce_binance_parse_agg_trades(r.body, r.body_len, out, n, err);
    coce_http_response_destroy(&r);
    return rc;
}

/* ---- resumable download ----------------------------------------------- */

typedef struct dl {
    coce_http_client *http;
    coce_binance_dl_opts o;
    char symbol[64];
    int64_t start_ms, end_ms;
    char part[1100], marker[1100];
    FILE *f;
    int64_t last_id;
    long part_bytes;
    size_t rows;
} dl;

static int write_marker(const dl *d, coce_err *err)
{
    json_t *m = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "symbol",
                          d->symbol, "start_ms", (json_int_t)d->start_ms,
                          "end_ms", (json_int_t)d->end_ms, "last_id",
                          (json_int_t)d->last_id, "part_bytes",
                          (json_int_t)d->part_bytes, "rows",
                          (json_int_t)d->rows);
    char *text = m != NULL ? json_dumps(m, JSON_COMPACT) : NULL;
    json_decref(m);
    if (text == NULL)
        return coce_err_set(err, COCE_ENOMEM, "%s: out of memory", d->marker);
    int rc = coce_fs_write_atomic(d->marker, text, strlen(text), err);
    free(text);
    return rc;
}

/* Reads the marker of an earlier, interrupted call with the same request;
 * 1 when the download can continue from it. */
static int read_marker(dl *d)
{
    if (!coce_fs_exists(d->marker) || !coce_fs_exists(d->part))
        return 0;
    json_error_t je;
    json_t *m = json_load_file(d->marker, 0, &je);
    if (m == NULL)
        return 0;
    const char *sym = NULL;
    json_int_t s = 0, e = 0, last = 0, bytes = 0, rows = 0;
    int ok = json_unpack(m, "{s:s, s:I, s:I, s:I, s:I, s:I}", "symbol", &sym,
                         "start_ms", &s, "end_ms", &e, "last_id", &last,
                         "part_bytes", &bytes, "rows", &rows) == 0 &&
             strcmp(sym, d->symbol) == 0 && s == d->start_ms &&
             e == d->end_ms && bytes >= 0;
    json_decref(m);
    if (!ok)
        return 0;
    FILE *f = fopen(d->part, "rb");
    if (f == NULL)
        return 0;
    int seek = fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    /* Rows appended after the last marker are dropped: they will come
     * again from fromId = last_id + 1. */
    if (seek != 0 || size < (long)bytes || truncate(d->part, (off_t)bytes) != 0)
        return 0;
    d->last_id = (int64_t)last;
    d->part_bytes = (long)bytes;
    d->rows = (size_t)rows;
    return 1;
}

static int append_page(dl *d, const coce_agg_trade *t, size_t n, int *past_end,
                       coce_err *err)
{
    *past_end = 0;
    for (size_t i = 0; i < n; ++i) {
        if (t[i].time_ms > d->end_ms) {
            *past_end = 1;
            break;
        }
        if (t[i].time_ms < d->start_ms || t[i].id <= d->last_id)
            continue;
        if (fprintf(d->f, "%" PRId64 ",%" PRId64 ",%.17g,%.17g,%d\n", t[i].id,
                    t[i].time_ms, t[i].price, t[i].qty, t[i].buyer_maker) < 0)
            return coce_err_set(err, COCE_EIO, "%s: write failed", d->part);
        d->last_id = t[i].id;
        d->rows++;
    }
    if (n > 0 && t[n - 1].id > d->last_id && !*past_end)
        d->last_id = t[n - 1].id;
    if (fflush(d->f) != 0 || fsync(fileno(d->f)) != 0)
        return coce_err_set(err, COCE_EIO, "%s: write failed", d->part);
    d->part_bytes = ftell(d->f);
    return write_marker(d, err);
}

/* Binance counts request weight per IP and minute; pausing before the
 * limit avoids 429s and the 418 bans that follow repeated ones. */
static void pace(dl *d, const char *weight)
{
    long long used = strtoll(weight, NULL, 10);
    if (d->o.weight_pause_at <= 0 || used < d->o.weight_pause_at)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int64_t wait = 60000 - ms % 60000;
    coce_log(COCE_LOG_INFO, "binance", "weight_pause", "{s:I, s:I}", "used",
             (json_int_t)used, "wait_ms", (json_int_t)wait);
    coce_http_client_sleep(d->http, wait);
}

static int fetch(dl *d, int64_t from_id, int64_t s, int64_t e,
                 coce_agg_trade **t, size_t *n, coce_err *err)
{
    char sym[64];
    (void)coce_http_escape(d->symbol, sym, sizeof sym);
    char url[1200];
    int w;
    if (from_id >= 0)
        w = snprintf(url, sizeof url,
                     "%s/api/v3/aggTrades?symbol=%s&fromId=%" PRId64
                     "&limit=%zu",
                     d->o.base_url, sym, from_id, d->o.limit);
    else
        w = snprintf(url, sizeof url,
                     "%s/api/v3/aggTrades?symbol=%s&startTime=%" PRId64
                     "&endTime=%" PRId64 "&limit=%zu",
                     d->o.base_url, sym, s, e, d->o.limit);
    if (w < 0 || (size_t)w >= sizeof url)
        return coce_err_set(err, COCE_EINVAL, ENDPOINT ": URL too long");
    coce_http_response r;
    int rc = coce_http_get(d->http, url, NULL, 0, &r, err);
    if (rc == COCE_OK)
        rc = coce_binance_parse_agg_trades(r.body, r.body_len, t, n, err);
    char weight[32];
    if (rc == COCE_OK &&
        coce_http_response_header(&r, "X-MBX-USED-WEIGHT-1M", weight,
                                  sizeof weight) == COCE_OK)
        pace(d, weight);
    coce_http_response_destroy(&r);
    return rc;
}

static int run_pages(dl *d, coce_binance_dl_stats *st, coce_err *err)
{
    int by_id = d->last_id >= 0;
    int64_t win = d->start_ms;
    for (;;) {
        coce_agg_trade *t = NULL;
        size_t n = 0;
        int64_t win_end = win + COCE_BINANCE_WINDOW_MS - 1;
        if (!by_id) {
            if (win > d->end_ms)
                return COCE_OK;
            if (win_end > d->end_ms)
                win_end = d->end_ms;
        }
        int rc = fetch(d, by_id ? d->last_id + 1 : -1, win, win_end, &t, &n,
                       err);
        st->pages++;
        if (rc != COCE_OK)
            return rc;
        if (n == 0) {
            free(t);
            if (by_id)
                return COCE_OK; /* no newer trade exists */
            win = win_end + 1;  /* a quiet hour */
            continue;
        }
        int past_end = 0;
        rc = append_page(d, t, n, &past_end, err);
        free(t);
        if (rc != COCE_OK)
            return rc;
        if (past_end || (by_id && n < d->o.limit))
            return COCE_OK;
        by_id = 1;
    }
}

/* "id,time_ms,price,qty,m" as written by append_page. */
static int parse_part_row(const char *line, coce_agg_trade *a)
{
    char *end = NULL;
    const char *p = line;
    errno = 0;
    a->id = strtoll(p, &end, 10);
    if (end == p || *end != ',')
        return COCE_EPARSE;
    p = end + 1;
    a->time_ms = strtoll(p, &end, 10);
    if (end == p || *end != ',')
        return COCE_EPARSE;
    p = end + 1;
    a->price = strtod(p, &end);
    if (end == p || *end != ',')
        return COCE_EPARSE;
    p = end + 1;
    a->qty = strtod(p, &end);
    if (end == p || *end != ',')
        return COCE_EPARSE;
    p = end + 1;
    if ((*p != '0' && *p != '1') || (p[1] != '\n' && p[1] != '\0') ||
        errno != 0)
        return COCE_EPARSE;
    a->buyer_maker = *p == '1';
    return COCE_OK;
}

static int finish(dl *d, const char *path, const char *pair, size_t *rows,
                  coce_err *err)
{
    FILE *f = fopen(d->part, "re");
    if (f == NULL)
        return coce_err_set(err, COCE_EIO, "%s: cannot open", d->part);
    coce_trade_writer *w = NULL;
    int rc = coce_trade_writer_open(&w, path, pair, err);
    char line[256];
    size_t lineno = 0;
    *rows = 0;
    while (rc == COCE_OK && fgets(line, sizeof line, f) != NULL) {
        ++lineno;
        coce_agg_trade a;
        if (parse_part_row(line, &a) != COCE_OK) {
            rc = coce_err_set(err, COCE_EPARSE, "%s:%zu: damaged row", d->part,
                              lineno);
            break;
        }
        coce_trade t = {.time_ms = a.time_ms,
                        .price = a.price,
                        .qty = a.qty,
                        .asset = 0,
                        .side = (int8_t)(a.buyer_maker ? COCE_SIDE_SELL
                                                       : COCE_SIDE_BUY)};
        rc = coce_trade_writer_write(w, &t, err);
        if (rc == COCE_OK)
            ++*rows;
    }
    fclose(f);
    int crc = coce_trade_writer_close(w, rc == COCE_OK ? err : NULL);
    if (rc == COCE_OK)
        rc = crc;
    if (rc == COCE_OK) {
        remove(d->part);
        remove(d->marker);
    }
    return rc;
}

static int valid_asset(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 20)
        return 0;
    for (size_t i = 0; i < n; ++i)
        if (!isalnum((unsigned char)s[i]))
            return 0;
    return 1;
}

int coce_binance_download_trades(coce_http_client *http,
                                 const coce_binance_dl_opts *opts,
                                 const char *base, const char *quote,
                                 int64_t start_ms, int64_t end_ms,
                                 const char *path,
                                 coce_binance_dl_stats *stats, coce_err *err)
{
    coce_binance_dl_stats st_local = {0};
    coce_binance_dl_stats *st = stats != NULL ? stats : &st_local;
    memset(st, 0, sizeof *st);
    st->last_id = -1;
    dl *d = calloc(1, sizeof *d);
    if (d == NULL)
        return coce_err_set(err, COCE_ENOMEM, "binance: out of memory");
    d->http = http;
    if (opts != NULL)
        d->o = *opts;
    else
        coce_binance_dl_opts_default(&d->o);
    if (d->o.base_url == NULL || d->o.base_url[0] == '\0')
        d->o.base_url = COCE_BINANCE_API_URL;
    int rc = COCE_OK;
    if (!valid_asset(base) || !valid_asset(quote))
        rc = coce_err_set(err, COCE_EINVAL,
                          "binance: bad pair '%s/%s' (letters and digits)",
                          base, quote);
    else if (end_ms < start_ms)
        rc = coce_err_set(err, COCE_EINVAL,
                          "binance: end %" PRId64 " before start %" PRId64,
                          end_ms, start_ms);
    else if (d->o.limit == 0 || d->o.limit > COCE_BINANCE_MAX_LIMIT)
        rc = coce_err_set(err, COCE_EINVAL,
                          ENDPOINT ": limit %zu: must be 1..1000", d->o.limit);
    else if (snprintf(d->part, sizeof d->part, "%s.part", path) >=
                 (int)sizeof d->part ||
             snprintf(d->marker, sizeof d->marker, "%s.resume", path) >=
                 (int)sizeof d->marker)
        rc = coce_err_set(err, COCE_EINVAL, "binance: path too long");
    if (rc != COCE_OK) {
        free(d);
        return rc;
    }
    char pair[48];
    snprintf(d->symbol, sizeof d->symbol, "%s%s", base, quote);
    snprintf(pair, sizeof pair, "%s/%s", base, quote);
    for (char *p = d->symbol; *p != '\0'; ++p)
        *p = (char)toupper((unsigned char)*p);
    for (char *p = pair; *p != '\0'; ++p)
        *p = (char)toupper((unsigned char)*p);
    d->start_ms = start_ms;
    d->end_ms = end_ms;
    d->last_id = -1;

    st->resumed = read_marker(d);
    rc = coce_fs_mkdir_parent(path);
    if (rc != COCE_OK)
        rc = coce_err_set(err, rc, "%s: cannot create the directory", path);
    if (rc == COCE_OK) {
        d->f = fopen(d->part, st->resumed ? "ae" : "we");
        if (d->f == NULL)
            rc = coce_err_set(err, COCE_EIO, "%s: cannot open", d->part);
    }
    if (rc == COCE_OK && !st->resumed)
        rc = write_marker(d, err);
    if (rc == COCE_OK) {
        coce_log(COCE_LOG_INFO, "binance", "download_start",
                 "{s:s, s:I, s:I, s:b, s:I}", "symbol", d->symbol, "start_ms",
                 (json_int_t)start_ms, "end_ms", (json_int_t)end_ms, "resumed",
                 st->resumed, "from_id", (json_int_t)d->last_id);
        rc = run_pages(d, st, err);
    }
    if (d->f != NULL && fclose(d->f) != 0 && rc == COCE_OK)
        rc = coce_err_set(err, COCE_EIO, "%s: write failed", d->part);
    st->last_id = d->last_id;
    if (rc == COCE_OK)
        rc = finish(d, path, pair, &st->trades, err);
    if (rc != COCE_OK)
        coce_err_prefix(err, "%s: ", d->symbol);
    free(d);
    return rc;
}

/* ---- public archive ----------------------------------------------------- */

int coce_binance_archive_url(const char *data_url, const char *symbol,
                             int64_t day_ms, int monthly, char *out,
                             size_t len)
{
    if (symbol == NULL || !valid_asset(symbol) || day_ms < 0)
        return COCE_EINVAL;
    time_t t = (time_t)(day_ms / 1000);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        return COCE_EINVAL;
    char date[16];
    if (monthly)
        strftime(date, sizeof date, "%Y-%m", &tm);
    else
        strftime(date, sizeof date, "%Y-%m-%d", &tm);
    int w = snprintf(out, len, "%s/data/spot/%s/aggTrades/%s/%s-aggTrades-%s.zip",
                     data_url != NULL ? data_url : COCE_BINANCE_DATA_URL,
                     monthly ? "monthly" : "daily", symbol, symbol, date);
    if (w < 0 || (size_t)w >= len)
        return COCE_ERANGE;
    return COCE_OK;
}

int coce_binance_archive_parse_row(const char *line, size_t len,
                                   coce_agg_trade *out)
{
    char buf[256];
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        --len;
    if (len == 0 || len >= sizeof buf)
        return COCE_EPARSE;
    memcpy(buf, line, len);
    buf[len] = '\0';
    char *fields[8];
    size_t nf = 0;
    char *p = buf;
    for (;;) {
        if (nf == 8)
            return COCE_EPARSE;
        fields[nf++] = p;
        char *c = strchr(p, ',');
        if (c == NULL)
            break;
        *c = '\0';
        p = c + 1;
    }
    if (nf < 7)
        return COCE_EPARSE;
    char *end = NULL;
    coce_agg_trade t;
    memset(&t, 0, sizeof t);
    long long v[4];
    const int ints[4] = {0, 3, 4, 5};
    for (int i = 0; i < 4; ++i) {
        errno = 0;
        v[i] = strtoll(fields[ints[i]], &end, 10);
        if (end == fields[ints[i]] || *end != '\0' || errno != 0)
            return COCE_EPARSE;
    }
    t.price = strtod(fields[1], &end);
    if (end == fields[1] || *end != '\0')
        return COCE_EPARSE;
    t.qty = strtod(fields[2], &end);
    if (end == fields[2] || *end != '\0')
        return COCE_EPARSE;
    if (strcasecmp(fields[6], "true") == 0)
        t.buyer_maker = 1;
    else if (strcasecmp(fields[6], "false") != 0)
        return COCE_EPARSE;
    t.id = v[0];
    t.first_id = v[1];
    t.last_id = v[2];
    t.time_ms = v[3];
    *out = t;
    return COCE_OK;
}
