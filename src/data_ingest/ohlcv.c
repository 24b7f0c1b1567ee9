#include "data_ingest/ohlcv.h"

#include "data_ingest/trades.h"
#include "utils/fsutil.h"
#include "utils/log.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 64
#define COL_NAME_MAX 32
/* 10^14 ms is the year 5138: a larger integer time is in microseconds. */
#define MICROS_FROM 100000000000000LL

enum { C_OPEN_T, C_OPEN, C_HIGH, C_LOW, C_CLOSE, C_VOL, C_QVOL, C_TRADES,
       C_CLOSE_T, N_FIELDS };

static const char *const FIELD_NAMES[N_FIELDS][6] = {
    {"open_time", "timestamp", "time", "time_ms", "open_ms", "date"},
    {"open", NULL, NULL, NULL, NULL, NULL},
    {"high", NULL, NULL, NULL, NULL, NULL},
    {"low", NULL, NULL, NULL, NULL, NULL},
    {"close", NULL, NULL, NULL, NULL, NULL},
    {"volume", NULL, NULL, NULL, NULL, NULL},
    {"quote_volume", "quote_asset_volume", "quote_av", NULL, NULL, NULL},
    {"trades", "number_of_trades", "count", NULL, NULL, NULL},
    {"close_time", NULL, NULL, NULL, NULL, NULL},
};

/* Binance kline column of each field (0-based). */
static const int BINANCE_COL[N_FIELDS] = {0, 1, 2, 3, 4, 5, 7, 8, 6};
#define BINANCE_COLS 12

typedef struct span {
    const char *s;
    size_t n;
} span;

typedef struct layout {
    int n_cols;
    int col[N_FIELDS]; /* -1 when absent */
    char name[N_FIELDS][COL_NAME_MAX];
} layout;

static span trim(span f)
{
    while (f.n > 0 && isspace((unsigned char)*f.s)) {
        ++f.s;
        --f.n;
    }
    while (f.n > 0 && isspace((unsigned char)f.s[f.n - 1]))
        --f.n;
    return f;
}

/* Splits a line at commas; returns the number of fields (may exceed cap,
 * then only the first cap are stored). */
static int split(const char *line, size_t len, span *f, int cap)
{
    int n = 0;
    const char *p = line, *end = line + len;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *fe = comma != NULL ? comma : end;
        if (n < cap) {
            f[n].s = p;
            f[n].n = (size_t)(fe - p);
        }
        ++n;
        if (comma == NULL)
            return n;
        p = comma + 1;
    }
}

static int is_integer(span f)
{
    size_t i = f.n > 0 && f.s[0] == '-' ? 1 : 0;
    if (i == f.n)
        return 0;
    for (; i < f.n; ++i)
        if (!isdigit((unsigned char)f.s[i]))
            return 0;
    return 1;
}

static int parse_time(span f, int64_t *out)
{
    if (coce_trade_parse_time(f.s, f.n, out) != COCE_OK)
        return 0;
    if (is_integer(f) && (*out >= MICROS_FROM || *out <= -MICROS_FROM))
        *out /= 1000;
    return 1;
}

static int header_layout(const char *line, size_t len, layout *lo,
                         const char *name, size_t line_no, coce_err *err)
{
    span f[MAX_COLS];
    int n = split(line, len, f, MAX_COLS);
    if (n > MAX_COLS)
        return coce_err_set(err, COCE_EPARSE,
                            "%s:%zu: more than %d columns in the header",
                            name, line_no, MAX_COLS);
    lo->n_cols = n;
    for (int k = 0; k < N_FIELDS; ++k)
        lo->col[k] = -1;
    for (int c = 0; c < n; ++c) {
        span t = trim(f[c]);
        char low[COL_NAME_MAX];
        size_t m = 0;
        for (; m < t.n && m + 1 < sizeof low; ++m)
            low[m] = (char)tolower((unsigned char)t.s[m]);
        low[m] = '\0';
        if (m < t.n)
            continue; /* longer than any known name */
        for (int k = 0; k < N_FIELDS; ++k) {
            if (lo->col[k] != -1)
                continue;
            for (int a = 0; a < 6 && FIELD_NAMES[k][a] != NULL; ++a) {
                if (strcmp(low, FIELD_NAMES[k][a]) == 0) {
                    lo->col[k] = c;
                    memcpy(lo->name[k], low, m + 1);
                }
            }
        }
    }
    for (int k = C_OPEN_T; k <= C_VOL; ++k)
        if (lo->col[k] == -1)
            return coce_err_set(err, COCE_EPARSE,
                                "%s:%zu: header '%.*s' has no column '%s' "
                                "(expected open_time,open,high,low,close,"
                                "volume[,quote_volume][,trades])",
                                name, line_no, (int)(len > 200 ? 200 : len),
                                line, FIELD_NAMES[k][0]);
    return COCE_OK;
}

static void binance_layout(layout *lo)
{
    lo->n_cols = BINANCE_COLS;
    for (int k = 0; k < N_FIELDS; ++k) {
        lo->col[k] = BINANCE_COL[k];
        (void)snprintf(lo->name[k], sizeof lo->name[k], "%s",
                       FIELD_NAMES[k][0]);
    }
}

#define SHOW(f) (int)((f).n > 40 ? 40 : (f).n), (f).s

static int num(const layout *lo, const span *f, int k, double *v, char *why,
               size_t why_len)
{
    span s = trim(f[lo->col[k]]);
    if (!coce__parse_double(s.s, s.n, v)) {
        (void)snprintf(why, why_len, "column '%s': not a number '%.*s'",
                       lo->name[k], SHOW(s));
        return 1;
    }
    return 0;
}

/* Row -> bar; 0 good, 1 bad (why filled). */
static int parse_row(const layout *lo, const char *line, size_t len,
                     coce_bar *b, int have_prev, int64_t prev_open, char *why,
                     size_t why_len)
{
    span f[MAX_COLS];
    int n = split(line, len, f, MAX_COLS);
    if (n != lo->n_cols) {
        (void)snprintf(why, why_len,
                       "wrong number of columns (expected %d, got %d)",
                       lo->n_cols, n);
        return 1;
    }
    span t = trim(f[lo->col[C_OPEN_T]]);
    if (!parse_time(t, &b->open_ms)) {
        (void)snprintf(why, why_len, "column '%s': not a time '%.*s'",
                       lo->name[C_OPEN_T], SHOW(t));
        return 1;
    }
    b->close_ms = b->open_ms;
    if (lo->col[C_CLOSE_T] != -1) {
        span c = trim(f[lo->col[C_CLOSE_T]]);
        int64_t ct = 0;
        if (!parse_time(c, &ct)) {
            (void)snprintf(why, why_len, "column '%s': not a time '%.*s'",
                           lo->name[C_CLOSE_T], SHOW(c));
            return 1;
        }
        if (ct < b->open_ms) {
            (void)snprintf(why, why_len,
                           "column '%s': %lld is before open time %lld",
                           lo->name[C_CLOSE_T], (long long)ct,
                           (long long)b->open_ms);
            return 1;
        }
        b->close_ms = ct + 1; /* Binance: last ms inside the bar */
    }
    double *dst[6] = {&b->open, &b->high, &b->low,
                      &b->close, &b->volume, &b->quote_volume};
    b->quote_volume = 0.0;
    for (int k = C_OPEN; k <= C_QVOL; ++k) {
        if (lo->col[k] == -1)
            continue;
        if (num(lo, f, k, dst[k - C_OPEN], why, why_len))
            return 1;
        if (k <= C_CLOSE && *dst[k - C_OPEN] <= 0.0) {
            (void)snprintf(why, why_len, "column '%s': non-positive price %.17g",
                           lo->name[k], *dst[k - C_OPEN]);
            return 1;
        }
        if (k >= C_VOL && *dst[k - C_OPEN] < 0.0) {
            (void)snprintf(why, why_len, "column '%s': negative volume %.17g",
                           lo->name[k], *dst[k - C_OPEN]);
            return 1;
        }
    }
    b->trades = 0;
    if (lo->col[C_TRADES] != -1) {
        span s = trim(f[lo->col[C_TRADES]]);
        uint64_t v = 0;
        size_t i = 0;
        for (; i < s.n && isdigit((unsigned char)s.s[i]) && v <= UINT32_MAX;
             ++i)
            v = v * 10u + (uint64_t)(s.s[i] - '0');
        if (s.n == 0 || i != s.n || v > UINT32_MAX) {
            (void)snprintf(why, why_len,
                           "column '%s': not a trade count '%.*s'",
                           lo->name[C_TRADES], SHOW(s));
            return 1;
        }
        b->trades = (uint32_t)v;
    }
    double hi_oc = b->open > b->close ? b->open : b->close;
    double lo_oc = b->open < b->close ? b->open : b->close;
    if (b->high < hi_oc) {
        (void)snprintf(why, why_len,
                       "column '%s': high %.17g below max(open, close) %.17g",
                       lo->name[C_HIGH], b->high, hi_oc);
        return 1;
    }
    if (b->low > lo_oc) {
        (void)snprintf(why, why_len,
                       "column '%s': low %.17g above min(open, close) %.17g",
                       lo->name[C_LOW], b->low, lo_oc);
        return 1;
    }
    if (have_prev && b->open_ms <= prev_open) {
        (void)snprintf(why, why_len,
                       "column '%s': time does not increase (%lld after "
                       "%lld)",
                       lo->name[C_OPEN_T], (long long)b->open_ms,
                       (long long)prev_open);
        return 1;
    }
    return 0;
}

/* Next line in [*pos, len): without "\n" / "\r\n"; 0 at the end. */
static int next_line(const char *text, size_t len, size_t *pos,
                     const char **line, size_t *n)
{
    if (*pos >= len)
        return 0;
    const char *s = text + *pos;
    const char *nl = memchr(s, '\n', len - *pos);
    size_t k = nl != NULL ? (size_t)(nl - s) : len - *pos;
    *pos += nl != NULL ? k + 1 : k;
    if (k > 0 && s[k - 1] == '\r')
        --k;
    *line = s;
    *n = k;
    return 1;
}

static void fill_close(coce_bar *bars, size_t n, const layout *lo,
                       int64_t interval)
{
    if (lo->col[C_CLOSE_T] != -1)
        return;
    if (interval <= 0) {
        interval = 0;
        for (size_t i = 1; i < n; ++i) {
            int64_t gap = bars[i].open_ms - bars[i - 1].open_ms;
            if (interval == 0 || gap < interval)
                interval = gap;
        }
    }
    for (size_t i = 0; i < n; ++i)
        bars[i].close_ms = bars[i].open_ms + interval;
}

int coce_ohlcv_parse(const char *text, size_t len, const char *name,
                     coce_asset_id asset, const coce_ohlcv_opts *opts,
                     coce_bar **out, size_t *n, size_t *skipped,
                     coce_err *err)
{
    if (out != NULL)
        *out = NULL;
    if (n != NULL)
        *n = 0;
    if (skipped != NULL)
        *skipped = 0;
    if (text == NULL || name == NULL || out == NULL || n == NULL)
        return coce_err_set(err, COCE_EINVAL,
                            "coce_ohlcv_parse: NULL argument");
    coce_ohlcv_opts o = {0, 0};
    if (opts != NULL)
        o = *opts;
    size_t pos = 0;
    const char *line = NULL;
    size_t ll = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) /* UTF-8 BOM */
        pos = 3;
    /* the first non-blank line: header, or a Binance row */
    size_t line_no = 0;
    int got = 0;
    while ((got = next_line(text, len, &pos, &line, &ll)) == 1) {
        ++line_no;
        if (trim((span){line, ll}).n > 0)
            break;
    }
    if (!got)
        return coce_err_set(err, COCE_EPARSE, "%s: empty file", name);
    layout lo = {0};
    span first[1];
    (void)split(line, ll, first, 1);
    first[0] = trim(first[0]);
    int64_t probe = 0;
    int headerless = parse_time(first[0], &probe);
    if (headerless) {
        binance_layout(&lo);
        pos = (size_t)(line - text); /* parse it again as a row */
        --line_no;
    } else {
        int rc = header_layout(line, ll, &lo, name, line_no, err);
        if (rc != COCE_OK)
            return rc;
    }
    size_t cap = 0, count = 0, skip = 0;
    coce_bar *bars = NULL;
    int64_t prev = 0;
    int have_prev = 0;
    while (next_line(text, len, &pos, &line, &ll)) {
        ++line_no;
        if (trim((span){line, ll}).n == 0)
            continue;
        if (count == cap) {
            size_t ncap = cap == 0 ? 256 : cap * 2;
            coce_bar *bigger = realloc(bars, ncap * sizeof *bigger);
            if (bigger == NULL) {
                free(bars);
                return coce_err_set(err, COCE_ENOMEM, "%s: out of memory",
                                    name);
            }
            bars = bigger;
            cap = ncap;
        }
        coce_bar *b = &bars[count];
        memset(b, 0, sizeof *b);
        char why[256];
        if (parse_row(&lo, line, ll, b, have_prev, prev, why, sizeof why)) {
            if (!o.skip_bad_rows) {
                free(bars);
                return coce_err_set(err, COCE_EPARSE, "%s:%zu: %s", name,
                                    line_no, why);
            }
            if (skip == 0)
                coce_log(COCE_LOG_WARN, "data_ingest", "ohlcv_row_skipped",
                         "{s:s, s:I, s:s}", "file", name, "line",
                         (json_int_t)line_no, "error", why);
            ++skip;
            continue;
        }
        b->asset = asset;
        prev = b->open_ms;
        have_prev = 1;
        ++count;
    }
    fill_close(bars, count, &lo, o.interval_ms);
    if (count == 0) {
        free(bars);
        bars = NULL;
    }
    *out = bars;
    *n = count;
    if (skipped != NULL)
        *skipped = skip;
    return COCE_OK;
}

int coce_ohlcv_load(const char *path, coce_asset_id asset,
                    const coce_ohlcv_opts *opts, coce_bar **out, size_t *n,
                    size_t *skipped, coce_err *err)
{
    if (out != NULL)
        *out = NULL;
    if (n != NULL)
        *n = 0;
    if (path == NULL || out == NULL || n == NULL)
        return coce_err_set(err, COCE_EINVAL, "coce_ohlcv_load: NULL argument");
    char *text = NULL;
    size_t len = 0;
    int rc = coce_fs_read_all(path, &text, &len, err);
    if (rc != COCE_OK)
        return rc;
    rc = coce_ohlcv_parse(text, len, path, asset, opts, out, n, skipped, err);
    free(text);
    return rc;
}

void coce_ohlcv_free(coce_bar *bars)
{
    free(bars);
}
