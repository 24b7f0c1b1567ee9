/* Readers shared by tests/alpha/test_features.c and
 * test_features_conformance.c: the paper's trade files (plain or gzip'd) and
 * the published onset rows of ../shared/data/pump_onsets/. Included by test
 * files only (tests/CMakeLists.txt builds each test_*.c on its own), after
 * testutil.h (cmocka asserts). */
#ifndef COCE_TESTS_ALPHA_FEATURES_TEST_IO_H
#define COCE_TESTS_ALPHA_FEATURES_TEST_IO_H

#include "alpha/features.h"
#include "utils/types.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>


typedef struct trades_buf {
    coce_trade *t;
    size_t n, cap;
} trades_buf;

/* Splits a CSV line in place; returns the number of fields. */
static size_t split_csv(char *line, char **fld, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (n < max) {
        fld[n++] = p;
        char *c = strchr(p, ',');
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    char *nl = strpbrk(fld[n - 1], "\r\n");
    if (nl)
        *nl = '\0';
    return n;
}

/* The paper's downloader format, plain or gzip'd (gzopen reads both):
 * symbol,timestamp,datetime,side,price,amount,btc_volume */
static int load_trades(const char *path, trades_buf *b)
{
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return -1;
    char line[512];
    char *fld[8];
    memset(b, 0, sizeof *b);
    int header = 1;
    while (gzgets(gz, line, sizeof line)) {
        if (header) {
            header = 0;
            continue;
        }
        if (split_csv(line, fld, 8) < 7)
            continue;
        if (b->n == b->cap) {
            b->cap = b->cap ? 2 * b->cap : 4096;
            b->t = realloc(b->t, b->cap * sizeof *b->t);
            assert_non_null(b->t);
        }
        coce_trade *t = &b->t[b->n++];
        memset(t, 0, sizeof *t);
        t->time_ms = strtoll(fld[1], NULL, 10);
        t->side = strcmp(fld[3], "buy") == 0 ? COCE_SIDE_BUY : COCE_SIDE_SELL;
        t->price = strtod(fld[4], NULL);
        t->qty = strtod(fld[5], NULL);
    }
    gzclose(gz);
    return 0;
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD HH:MM:SS" or "YYYY-MM-DD_HH.MM" -> ms */
static int64_t parse_utc(const char *s)
{
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    if (sscanf(s, "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &se) < 5 &&
        sscanf(s, "%d-%d-%d_%d.%d", &y, &mo, &d, &h, &mi) < 5)
        return INT64_MIN;
    return ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 +
           (int64_t)se * 1000;
}

typedef struct onset {
    char symbol[16];
    int64_t date;
    double v[COCE_FEATURES_PUBLISHED];
} onset;

static onset *load_onsets(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    char line[1024];
    char *fld[20];
    size_t cap = 512;
    onset *o = calloc(cap, sizeof *o);
    assert_non_null(o);
    *n = 0;
    assert_non_null(fgets(line, sizeof line, fp));
    while (fgets(line, sizeof line, fp) && *n < cap) {
        if (split_csv(line, fld, 20) < 16)
            continue;
        onset *r = &o[(*n)++];
        r->date = parse_utc(fld[0]);
        for (size_t k = 0; k < COCE_FEATURES_PUBLISHED; ++k)
            r->v[k] = strtod(fld[2 + k], NULL);
        snprintf(r->symbol, sizeof r->symbol, "%s", fld[14]);
    }
    fclose(fp);
    return o;
}

/* The published rows were written with float_format='%.3f'
 * (features.py:build_features_multi): round ours the same way. */
static double round3(double x)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.3f", x);
    return strtod(buf, NULL);
}

#endif
