#include "data_ingest/events.h"

#include "data_ingest/trades.h"
#include "utils/fsutil.h"
#include "utils/symbols.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EV_MAX_COLS 64
#define EV_COL_MAX 32

void coce_events_free(coce_event *ev)
{
    free(ev);
}

typedef struct ev_list {
    coce_event *v;
    size_t n, cap;
} ev_list;

static coce_event *ev_push(ev_list *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap == 0 ? 256 : l->cap * 2;
        coce_event *v = realloc(l->v, cap * sizeof *v);
        if (v == NULL)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    coce_event *e = &l->v[l->n++];
    memset(e, 0, sizeof *e);
    e->onset_ms = INT64_MIN;
    return e;
}

/* "ADX-BTC" -> "ADX"; a bare symbol is only upper-cased, so that a coin
 * whose name ends like a quote ("WBTC") is kept whole. */
static int event_symbol(const char *s, char out[24])
{
    if (strpbrk(s, "/-_") != NULL)
        return coce_symbol_base(s, out, 24);
    size_t n = strlen(s);
    if (n == 0 || n >= 24)
        return COCE_EINVAL;
    for (size_t i = 0; i <= n; ++i) {
        char c = (char)toupper((unsigned char)s[i]);
        if (i < n && !isalnum((unsigned char)c))
            return COCE_EINVAL;
        out[i] = c;
    }
    return COCE_OK;
}

static int copy_exchange(const char *s, char out[24])
{
    size_t n = strlen(s);
    if (n >= 24)
        return COCE_EINVAL;
    memcpy(out, s, n + 1);
    return COCE_OK;
}

/* ---- JSON --------------------------------------------------------------- */

static int load_json(const char *path, const char *text, size_t len,
                     ev_list *l, coce_err *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (root == NULL)
        return coce_err_set(err, COCE_EPARSE, "%s:%d: invalid JSON: %s", path,
                            jerr.line, jerr.text);
    int rc = COCE_OK;
    if (!json_is_array(root)) {
        rc = coce_err_set(err, COCE_EPARSE,
                          "%s: expected a JSON array of events", path);
        json_decref(root);
        return rc;
    }
    size_t i = 0;
    json_t *item = NULL;
    json_array_foreach(root, i, item)
    {
        const json_t *sym = json_object_get(item, "symbol");
        const json_t *when = json_object_get(item, "time");
        const json_t *exch = json_object_get(item, "exchange");
        coce_event *e = ev_push(l);
        if (e == NULL) {
            rc = coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
            break;
        }
        if (!json_is_string(sym) ||
            event_symbol(json_string_value(sym), e->symbol) != COCE_OK) {
            rc = coce_err_set(err, COCE_EPARSE,
                              "%s: event %zu: field 'symbol': missing or not "
                              "a symbol",
                              path, i);
            break;
        }
        int trc = COCE_EPARSE;
        if (json_is_integer(when)) {
            e->time_ms = (int64_t)json_integer_value(when);
            trc = COCE_OK;
        } else if (json_is_string(when)) {
            trc = coce_trade_parse_time(json_string_value(when),
                                        json_string_length(when), &e->time_ms);
        }
        if (trc != COCE_OK) {
            rc = coce_err_set(err, COCE_EPARSE,
                              "%s: event %zu: field 'time': missing or not a "
                              "time",
                              path, i);
            break;
        }
        if (exch != NULL &&
            (!json_is_string(exch) ||
             copy_exchange(json_string_value(exch), e->exchange) != COCE_OK)) {
            rc = coce_err_set(err, COCE_EPARSE,
                              "%s: event %zu: field 'exchange': not a short "
                              "string",
                              path, i);
            break;
        }
    }
    json_decref(root);
    return rc;
}

/* ---- CSV ---------------------------------------------------------------- */

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        ++s;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Splits a NUL-terminated line at commas in place; returns the number of
 * fields (may exceed max, then only max are stored). */
static int split(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        if (n < max)
            f[n] = trim(p);
        ++n;
        if (comma == NULL)
            return n;
        p = comma + 1;
    }
}

/* Next line of a NUL-terminated buffer, CR stripped, NUL-terminated in
 * place; NULL at the end. */
static char *take_line(char **cursor)
{
    char *s = *cursor;
    if (*s == '\0')
        return NULL;
    char *nl = strchr(s, '\n');
    if (nl != NULL) {
        *nl = '\0';
        *cursor = nl + 1;
    } else {
        *cursor = s + strlen(s);
    }
    size_t n = strlen(s);
    if (n > 0 && s[n - 1] == '\r')
        s[n - 1] = '\0';
    return s;
}

enum ev_format { EV_TELEGRAM, EV_ONSET, EV_TRUTH };

/* csv_row's answer for a row that is valid but not an event. */
#define EV_SKIP_ROW 1

typedef struct ev_cols {
    enum ev_format format;
    int n;
    int sym, date, hour, exch, time, onset, kind;
    char name[EV_MAX_COLS][EV_COL_MAX];
} ev_cols;

static int col_of(const ev_cols *c, const char *name)
{
    for (int i = 0; i < c->n && i < EV_MAX_COLS; ++i)
        if (strcmp(c->name[i], name) == 0)
            return i;
    return -1;
}

static int csv_header(const char *path, char *line, ev_cols *c, coce_err *err)
{
    if (strncmp(line, "\xEF\xBB\xBF", 3) == 0)
        line += 3;
    char *f[EV_MAX_COLS];
    c->n = split(line, f, EV_MAX_COLS);
    if (c->n > EV_MAX_COLS)
        return coce_err_set(err, COCE_EPARSE, "%s:1: more than %d columns",
                            path, EV_MAX_COLS);
    for (int i = 0; i < c->n; ++i) {
        size_t k = 0;
        for (; f[i][k] != '\0' && k + 1 < EV_COL_MAX; ++k)
            c->name[i][k] = (char)tolower((unsigned char)f[i][k]);
        c->name[i][k] = '\0';
    }
    c->sym = col_of(c, "symbol");
    c->date = col_of(c, "date");
    c->hour = col_of(c, "hour");
    c->exch = col_of(c, "exchange");
    c->time = col_of(c, "time_ms");
    c->onset = col_of(c, "onset_ms");
    c->kind = col_of(c, "kind");
    if (c->sym >= 0 && c->time >= 0)
        c->format = EV_TRUTH;
    else if (c->sym >= 0 && c->date >= 0 && c->hour >= 0)
        c->format = EV_TELEGRAM;
    else if (c->sym >= 0 && c->date >= 0)
        c->format = EV_ONSET;
    else
        return coce_err_set(err, COCE_EPARSE,
                            "%s:1: unknown header (expected "
                            "symbol,group,date,hour,exchange or "
                            "date,...,symbol or symbol,time_ms[,onset_ms])",
                            path);
    return COCE_OK;
}

static int csv_time(const char *path, size_t line, const char *col,
                    const char *text, int64_t *out, coce_err *err)
{
    if (coce_trade_parse_time(text, strlen(text), out) != COCE_OK)
        return coce_err_set(err, COCE_EPARSE,
                            "%s:%zu: column '%s': not a time '%.40s'", path,
                            line, col, text);
    return COCE_OK;
}

static int csv_row(const char *path, size_t lineno, char *line,
                   const ev_cols *c, coce_event *e, coce_err *err)
{
    char *f[EV_MAX_COLS];
    int n = split(line, f, EV_MAX_COLS);
    if (n != c->n)
        return coce_err_set(err, COCE_EPARSE,
                            "%s:%zu: wrong number of columns (expected %d, "
                            "got %d)",
                            path, lineno, c->n, n);
    if (event_symbol(f[c->sym], e->symbol) != COCE_OK)
        return coce_err_set(err, COCE_EPARSE,
                            "%s:%zu: column 'symbol': not a symbol '%.40s'",
                            path, lineno, f[c->sym]);
    if (c->exch >= 0 && copy_exchange(f[c->exch], e->exchange) != COCE_OK)
        return coce_err_set(err, COCE_EPARSE,
                            "%s:%zu: column 'exchange': longer than 23 "
                            "characters",
                            path, lineno);
    int rc = COCE_OK;
    switch (c->format) {
    case EV_TELEGRAM: {
        char when[64];
        (void)snprintf(when, sizeof when, "%.20s %.20s", f[c->date],
                       f[c->hour]);
        rc = csv_time(path, lineno, "date' and 'hour", when, &e->time_ms,
                      err);
        break;
    }
    case EV_ONSET:
        rc = csv_time(path, lineno, "date", f[c->date], &e->time_ms, err);
        e->onset_ms = e->time_ms;
        if (c->exch < 0)
            (void)copy_exchange("binance", e->exchange);
        break;
    case EV_TRUTH:
        /* A generated market's ground truth also lists look-alikes (news,
         * whale, listing, market moves): only pumps are events. */
        if (c->kind >= 0 && strcmp(trim(f[c->kind]), "pump") != 0)
            return EV_SKIP_ROW;
        rc = csv_time(path, lineno, "time_ms", f[c->time], &e->time_ms, err);
        if (rc == COCE_OK && c->onset >= 0 && f[c->onset][0] != '\0')
            rc = csv_time(path, lineno, "onset_ms", f[c->onset], &e->onset_ms,
                          err);
        break;
    }
    return rc;
}

static int load_csv(const char *path, char *text, ev_list *l, coce_err *err)
{
    char *cursor = text;
    char *line = take_line(&cursor);
    if (line == NULL)
        return coce_err_set(err, COCE_EPARSE, "%s: empty file (no header)",
                            path);
    ev_cols cols;
    memset(&cols, 0, sizeof cols);
    int rc = csv_header(path, line, &cols, err);
    size_t lineno = 1;
    while (rc == COCE_OK && (line = take_line(&cursor)) != NULL) {
        ++lineno;
        if (trim(line)[0] == '\0')
            continue;
        coce_event *e = ev_push(l);
        if (e == NULL)
            return coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
        rc = csv_row(path, lineno, line, &cols, e, err);
        if (rc == EV_SKIP_ROW) {
            --l->n;
            rc = COCE_OK;
        }
    }
    return rc;
}

int coce_events_load(const char *path, coce_event **out, size_t *n,
                     coce_err *err)
{
    if (path == NULL || out == NULL || n == NULL)
        return coce_err_set(err, COCE_EINVAL, "coce_events_load: NULL argument");
    *out = NULL;
    *n = 0;
    char *text = NULL;
    size_t len = 0;
    int rc = coce_fs_read_all(path, &text, &len, err);
    if (rc != COCE_OK)
        return rc;
    const char *p = text;
    while (isspace((unsigned char)*p))
        ++p;
    ev_list l = {NULL, 0, 0};
    if (*p == '[' || *p == '{')
        rc = load_json(path, text, len, &l, err);
    else
        rc = load_csv(path, text, &l, err);
    free(text);
    if (rc != COCE_OK) {
        free(l.v);
        return rc;
    }
    *out = l.v;
    *n = l.n;
    return COCE_OK;
}

/* ---- filtering ------------------------------------------------------------ */

static int exchange_matches(const char *have, const char *want)
{
    size_t i = 0;
    for (; want[i] != '\0'; ++i)
        if (tolower((unsigned char)have[i]) != tolower((unsigned char)want[i]))
            return 0;
    return have[i] == '\0' || have[i] == '_';
}

int coce_events_filter_exchange(coce_event *ev, size_t *n,
                                const char *exchange)
{
    if (n == NULL || exchange == NULL || (ev == NULL && *n > 0))
        return COCE_EINVAL;
    size_t k = 0;
    for (size_t i = 0; i < *n; ++i)
        if (exchange_matches(ev[i].exchange, exchange))
            ev[k++] = ev[i];
    *n = k;
    return COCE_OK;
}

static int cmp_event(const void *a, const void *b)
{
    const coce_event *x = a, *y = b;
    int c = strcmp(x->symbol, y->symbol);
    if (c != 0)
        return c;
    if (x->time_ms != y->time_ms)
        return x->time_ms < y->time_ms ? -1 : 1;
    c = strcmp(x->exchange, y->exchange);
    if (c != 0)
        return c;
    if (x->onset_ms != y->onset_ms)
        return x->onset_ms < y->onset_ms ? -1 : 1;
    return 0;
}

int coce_events_dedupe(coce_event *ev, size_t *n, int64_t window_ms)
{
    if (n == NULL || window_ms < 0 || (ev == NULL && *n > 0))
        return COCE_EINVAL;
    if (*n == 0)
        return COCE_OK;
    qsort(ev, *n, sizeof *ev, cmp_event);
    size_t k = 0; /* ev[k - 1] is the first event of the current run */
    for (size_t i = 0; i < *n; ++i) {
        if (k > 0 && strcmp(ev[i].symbol, ev[k - 1].symbol) == 0 &&
            ev[i].time_ms - ev[k - 1].time_ms <= window_ms) {
            if (ev[k - 1].onset_ms == INT64_MIN)
                ev[k - 1].onset_ms = ev[i].onset_ms;
            continue;
        }
        ev[k++] = ev[i];
    }
    *n = k;
    return COCE_OK;
}
