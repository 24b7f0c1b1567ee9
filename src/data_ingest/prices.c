#include "data_ingest/prices.h"

#include "data_ingest/trades.h"
#include "utils/fsutil.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void coce_price_table_destroy(coce_price_table *t)
{
    if (t == NULL)
        return;
    if (t->assets != NULL)
        for (size_t j = 0; j < t->n_assets; ++j)
            free(t->assets[j]);
    free(t->assets);
    free(t->time_ms);
    free(t->prices);
    memset(t, 0, sizeof *t);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        ++s;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Splits in place at commas; stores at most max fields, returns the count. */
static size_t split(char *line, char **f, size_t max)
{
    size_t n = 0;
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
    return s;
}

static int load_header(const char *path, char *line, coce_price_table *t,
                       char ***fields, char **time_name, coce_err *err)
{
    if (strncmp(line, "\xEF\xBB\xBF", 3) == 0)
        line += 3;
    /* Cut at commas: the fields become consecutive strings. */
    size_t n = 1;
    for (char *c = strchr(line, ','); c != NULL; c = strchr(c + 1, ',')) {
        *c = '\0';
        ++n;
    }
    char **f = calloc(n + 1, sizeof *f);
    if (f == NULL)
        return coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
    *fields = f;
    char *p = line;
    for (size_t i = 0; i < n; ++i) {
        size_t len = strlen(p); /* before trim() cuts trailing blanks */
        f[i] = trim(p);
        p += len + 1;
    }
    if (n < 2)
        return coce_err_set(err, COCE_EPARSE,
                            "%s:1: header needs a time column and at least "
                            "one asset",
                            path);
    *time_name = f[0];
    t->assets = calloc(n - 1, sizeof *t->assets);
    if (t->assets == NULL)
        return coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
    for (size_t j = 0; j + 1 < n; ++j) {
        const char *name = f[j + 1];
        if (name[0] == '\0')
            return coce_err_set(err, COCE_EPARSE,
                                "%s:1: column %zu: empty asset name", path,
                                j + 2);
        for (size_t k = 0; k < j; ++k)
            if (strcmp(t->assets[k], name) == 0)
                return coce_err_set(err, COCE_EPARSE,
                                    "%s:1: column '%s': duplicate asset",
                                    path, name);
        size_t len = strlen(name);
        t->assets[j] = malloc(len + 1);
        if (t->assets[j] == NULL)
            return coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
        memcpy(t->assets[j], name, len + 1);
        t->n_assets = j + 1;
    }
    return COCE_OK;
}

static int load_row(const char *path, size_t lineno, char **f, size_t nf,
                    const char *time_name, coce_price_table *t, coce_err *err)
{
    size_t r = t->n_rows;
    if (nf != t->n_assets + 1)
        return coce_err_set(err, COCE_EPARSE,
                            "%s:%zu: ragged row: expected %zu columns, got "
                            "%zu",
                            path, lineno, t->n_assets + 1, nf);
    int64_t ms = 0;
    if (coce_trade_parse_time(f[0], strlen(f[0]), &ms) != COCE_OK)
        return coce_err_set(err, COCE_EPARSE,
                            "%s:%zu: column '%s': not a time '%.40s'", path,
                            lineno, time_name, f[0]);
    if (r > 0 && ms <= t->time_ms[r - 1])
        return coce_err_set(err, COCE_EPARSE,
                            "%s:%zu: column '%s': time does not increase "
                            "(%lld after %lld)",
                            path, lineno, time_name, (long long)ms,
                            (long long)t->time_ms[r - 1]);
    t->time_ms[r] = ms;
    double *row = t->prices + r * t->n_assets;
    for (size_t j = 0; j < t->n_assets; ++j) {
        const char *s = f[j + 1];
        if (s[0] == '\0') {
            row[j] = NAN;
            continue;
        }
        char *end = NULL;
        errno = 0;
        double v = strtod(s, &end);
        if (*end != '\0' || errno == ERANGE || !isfinite(v))
            return coce_err_set(err, COCE_EPARSE,
                                "%s:%zu: column '%s': not a number '%.40s'",
                                path, lineno, t->assets[j], s);
        if (v <= 0.0)
            return coce_err_set(err, COCE_EPARSE,
                                "%s:%zu: column '%s': non-positive price %s",
                                path, lineno, t->assets[j], s);
        row[j] = v;
    }
    t->n_rows = r + 1;
    return COCE_OK;
}

int coce_price_table_load(const char *path, coce_price_table *out,
                          coce_err *err)
{
    if (path == NULL || out == NULL)
        return coce_err_set(err, COCE_EINVAL,
                            "coce_price_table_load: NULL argument");
    memset(out, 0, sizeof *out);
    char *text = NULL;
    size_t len = 0;
    int rc = coce_fs_read_all(path, &text, &len, err);
    if (rc != COCE_OK)
        return rc;
    size_t max_rows = 1;
    for (size_t i = 0; i < len; ++i)
        max_rows += text[i] == '\n';
    coce_price_table t;
    memset(&t, 0, sizeof t);
    char **f = NULL;
    char *time_name = NULL;
    char *cursor = text;
    char *line = take_line(&cursor);
    if (line == NULL) {
        free(text);
        return coce_err_set(err, COCE_EPARSE, "%s: empty file (no header)",
                            path);
    }
    rc = load_header(path, line, &t, &f, &time_name, err);
    if (rc == COCE_OK) {
        /* n_assets >= 1 here; the max() keeps malloc(0) out of sight */
        size_t width = t.n_assets > 0 ? t.n_assets : 1;
        t.time_ms = malloc(max_rows * sizeof *t.time_ms);
        t.prices = malloc(max_rows * width * sizeof *t.prices);
        if (t.time_ms == NULL || t.prices == NULL)
            rc = coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
    }
    size_t lineno = 1;
    /* (the pointer tests only restate rc == COCE_OK for the analyzer) */
    while (rc == COCE_OK && f != NULL && t.time_ms != NULL &&
           t.prices != NULL && (line = take_line(&cursor)) != NULL) {
        ++lineno;
        if (trim(line)[0] == '\0')
            continue;
        size_t nf = split(line, f, t.n_assets + 1);
        rc = load_row(path, lineno, f, nf, time_name, &t, err);
    }
    free(f);
    free(text);
    if (rc != COCE_OK) {
        coce_price_table_destroy(&t);
        return rc;
    }
    *out = t;
    return COCE_OK;
}

typedef struct strbuf {
    char *s;
    size_t n, cap;
    int oom;
} strbuf;

static void sb_printf(strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sb_printf(strbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)k + 1;
        char *s = realloc(b->s, cap);
        if (s == NULL) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

static int check_table(const char *path, const coce_price_table *t,
                       coce_err *err)
{
    if (t->n_assets == 0 || t->assets == NULL ||
        (t->n_rows > 0 && (t->time_ms == NULL || t->prices == NULL)))
        return coce_err_set(err, COCE_EINVAL, "%s: empty or malformed table",
                            path);
    for (size_t j = 0; j < t->n_assets; ++j)
        if (t->assets[j] == NULL || t->assets[j][0] == '\0' ||
            strpbrk(t->assets[j], ",\r\n") != NULL)
            return coce_err_set(err, COCE_EINVAL,
                                "%s: asset %zu: empty name or one with a "
                                "comma or line break",
                                path, j);
    for (size_t r = 0; r < t->n_rows; ++r) {
        if (r > 0 && t->time_ms[r] <= t->time_ms[r - 1])
            return coce_err_set(err, COCE_EINVAL,
                                "%s: row %zu: time does not increase", path,
                                r);
        for (size_t j = 0; j < t->n_assets; ++j) {
            double v = t->prices[r * t->n_assets + j];
            if (!isnan(v) && (!isfinite(v) || v <= 0.0))
                return coce_err_set(err, COCE_EINVAL,
                                    "%s: row %zu, asset '%s': price %g is "
                                    "not positive and finite",
                                    path, r, t->assets[j], v);
        }
    }
    return COCE_OK;
}

int coce_price_table_save(const char *path, const coce_price_table *t,
                          coce_err *err)
{
    if (path == NULL || t == NULL)
        return coce_err_set(err, COCE_EINVAL,
                            "coce_price_table_save: NULL argument");
    int rc = check_table(path, t, err);
    if (rc != COCE_OK)
        return rc;
    strbuf b = {NULL, 0, 0, 0};
    b.cap = 64 + t->n_rows * (t->n_assets + 1) * 24;
    b.s = malloc(b.cap);
    if (b.s == NULL)
        return coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
    sb_printf(&b, "time_ms");
    for (size_t j = 0; j < t->n_assets; ++j)
        sb_printf(&b, ",%s", t->assets[j]);
    sb_printf(&b, "\n");
    for (size_t r = 0; r < t->n_rows; ++r) {
        sb_printf(&b, "%lld", (long long)t->time_ms[r]);
        for (size_t j = 0; j < t->n_assets; ++j) {
            double v = t->prices[r * t->n_assets + j];
            if (isnan(v))
                sb_printf(&b, ",");
            else
                sb_printf(&b, ",%.17g", v);
        }
        sb_printf(&b, "\n");
    }
    if (b.oom)
        rc = coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
    else
        rc = coce_fs_write_atomic(path, b.s, b.n, err);
    free(b.s);
    return rc;
}
