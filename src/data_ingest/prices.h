/* Wide close-price tables: `<time column>,ASSET1,ASSET2,...`, one row per
 * time, a blank cell where an asset has no price (e.g. before its listing).
 * Time cells are ms integers or ISO text ("YYYY-MM-DD", "YYYY-MM-DD
 * HH:MM:SS", with 'T' and/or 'Z'; see coce_trade_parse_time). */
#ifndef COCE_DATA_INGEST_PRICES_H
#define COCE_DATA_INGEST_PRICES_H

#include "utils/error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct coce_price_table {
    size_t n_rows, n_assets;
    int64_t *time_ms; /* n_rows, strictly increasing */
    char **assets;    /* n_assets names */
    double *prices;   /* row-major n_rows x n_assets, NAN where missing */
} coce_price_table;

/* Fills *out (caller-owned; release with coce_price_table_destroy). Errors:
 * COCE_ENOTFOUND / COCE_EIO; COCE_EPARSE "FILE:LINE: column 'X': not a number / non-positive
 * price / not a time / time does not increase", ragged rows, empty or
 * duplicate asset names, no header. On error *out is left empty. */
int coce_price_table_load(const char *path, coce_price_table *out,
                          coce_err *err);

/* Writes "time_ms,ASSET...": ms times, %.17g prices, blank for NAN;
 * atomically (coce_fs_write_atomic). */
int coce_price_table_save(const char *path, const coce_price_table *t,
                          coce_err *err);

/* Frees the arrays and zeroes *t; NULL is a no-op. */
void coce_price_table_destroy(coce_price_table *t);

#endif
