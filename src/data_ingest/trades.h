/* Trade files: plain .csv and gzip .csv.gz. A plain regular file is
 * memory-mapped and parsed where it lies (posix_madvise sequential); gzip
 * (told by its magic bytes, not the name), pipes and anything that cannot be
 * mapped stream through zlib in 256 KiB blocks. Both paths parse by hand
 * with no allocation per row and give the same trades and the same errors.
 *
 * Formats, told apart by the header line (columns found by name, any order,
 * extra columns ignored):
 *   (a) Binance export / La Morgia et al. downloader (ICCCN 2020):
 *       symbol,timestamp,datetime,side,price,amount,btc_volume
 *       (timestamp in ms; side is the taker's side, "buy"/"sell");
 *   (b) generic: timestamp,price,qty,side.
 * Times are int64 ms since the epoch, UTC. */
#ifndef COCE_DATA_INGEST_TRADES_H
#define COCE_DATA_INGEST_TRADES_H

#include "utils/error.h"
#include "utils/symbols.h"
#include "utils/types.h"

#include <stddef.h>
#include <stdint.h>

typedef struct coce_trade_reader_opts {
    int skip_bad_rows;  /* skip and count bad rows instead of failing */
    int allow_unsorted; /* accept timestamps that go backwards */
} coce_trade_reader_opts;

typedef struct coce_trade_reader coce_trade_reader;

/* Opens `path` and reads its header. The asset of each trade is the interned
 * base asset of the row's symbol column (format a) or, without a symbol
 * column, of the file name (SYMBOL_YYYY-MM-DD_HH.MM.csv[.gz],
 * "SYMBOL YYYY-MM-DD_HH.MM...", SYMBOL.csv). `symbols` must outlive the
 * reader. opts NULL = strict (no skipping, sorted). Errors: COCE_EIO (cannot
 * open), COCE_EPARSE (empty file, unknown header). */
int coce_trade_reader_open(coce_trade_reader **out, const char *path,
                           coce_symbols *symbols,
                           const coce_trade_reader_opts *opts, coce_err *err);

/* Fills up to cap trades into buf. Returns COCE_OK with *n_out > 0, or
 * COCE_EEOF with *n_out == 0 at the end. On a bad row returns COCE_EPARSE
 * with "FILE:LINE: column 'price': not a number ..." (also: non-positive
 * price/qty, unknown side, timestamp goes backwards, wrong number of columns,
 * truncated or corrupt gzip); *n_out then counts the good trades stored in
 * buf before the bad row, and every later call returns the same error. With
 * skip_bad_rows a bad row is skipped and counted instead (the first one is
 * logged at WARN with file and line); a damaged gzip stream is still an
 * error. Equal timestamps are fine; a missing final newline, CRLF line ends
 * and blank lines are fine. */
int coce_trade_reader_next(coce_trade_reader *r, coce_trade *buf, size_t cap,
                           size_t *n_out, coce_err *err);

/* Rows skipped (skip_bad_rows) and good rows returned so far. */
size_t coce_trade_reader_skipped(const coce_trade_reader *r);
size_t coce_trade_reader_rows(const coce_trade_reader *r);
/* Base asset of the file: from the file name at open, or, with a symbol
 * column, from the first row once it has been read (NULL before). */
const char *coce_trade_reader_symbol(const coce_trade_reader *r);
/* NULL is a no-op. */
void coce_trade_reader_free(coce_trade_reader *r);

/* "ADX_2019-07-05_17.00.csv.gz" (or "ADX 2019-07-05_17.00...", any
 * directory) -> symbol "ADX" (base asset, upper-cased) and the ms of
 * 2019-07-05 17:00 UTC. If the name is not of this form: COCE_EPARSE,
 * *event_ms = INT64_MIN and symbol = the stem before the first '_', ' ' or
 * '.' (base asset when that is a valid symbol, else as is). COCE_ERANGE if
 * symbol_len is too small. */
int coce_trade_filename_parse(const char *path, char *symbol,
                              size_t symbol_len, int64_t *event_ms);

/* Time text -> ms since the epoch, UTC: an integer (already ms), or
 * "YYYY-MM-DD", "YYYY-MM-DD HH:MM", "YYYY-MM-DD HH:MM:SS[.fff]" with ' ' or
 * 'T' and an optional trailing 'Z'. `len` bytes of `text` are read (no NUL
 * needed). COCE_EPARSE on anything else, including impossible dates. */
int coce_trade_parse_time(const char *text, size_t len, int64_t *out_ms);

/* ms -> "YYYY-MM-DDTHH:MM:SS.mmmZ" (buf of at least 25 bytes). */
int coce_trade_format_time(int64_t ms, char *buf, size_t len);

/* *.csv and *.csv.gz files in dir (not hidden ones), sorted by name, as
 * malloc'ed full paths "dir/name". An empty directory gives *n == 0. */
int coce_trade_dir_list(const char *dir, char ***paths, size_t *n,
                        coce_err *err);
void coce_trade_dir_list_free(char **paths, size_t n);

/* Writer of format (a), gzip when the path ends in ".gz". It writes to
 * "PATH.tmp" and renames over PATH at close, so a reader never sees half a
 * file. Prices and amounts are written in the shortest form that strtod
 * reads back exactly; btc_volume = price * amount. */
typedef struct coce_trade_writer coce_trade_writer;

/* pair: e.g. "ADX/BTC" (no comma, quote or line break). */
int coce_trade_writer_open(coce_trade_writer **out, const char *path,
                           const char *pair, coce_err *err);
/* COCE_EINVAL for a non-positive or non-finite price or qty or a side other
 * than COCE_SIDE_BUY/COCE_SIDE_SELL; COCE_EIO on a write error. */
int coce_trade_writer_write(coce_trade_writer *w, const coce_trade *t,
                            coce_err *err);
/* Flushes, renames into place and frees; NULL is OK. After a failed write
 * the partial file is removed and the error is returned again. */
int coce_trade_writer_close(coce_trade_writer *w, coce_err *err);

/* Internal (shared with ohlcv.c, exposed for tests): the `len` bytes at s
 * as a finite double, exactly as strtod would read the NUL-terminated copy
 * (Clinger's fast path, strtod for the rest). 1 on success; 0 for an
 * empty text, trailing garbage, overflow/underflow (ERANGE) or inf/nan. */
int coce__parse_double(const char *s, size_t len, double *out);

#endif
