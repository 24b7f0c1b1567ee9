/* data/state.json: the atomic snapshot of the book.
 *
 * Schema (version 1), one JSON object:
 *   {"schema": "coce.state", "version": 1, "run_id", "config_hash",
 *    "model_version", "last_processed_ms", "journal_seq", "cash",
 *    "realised_pnl", "fees_paid", "trade_count", "peak_equity",
 *    "kill_switch": {...}, "symbols": [...], "positions": [...],
 *    "open_orders": [...], "trades": [...], "equity_history": [...]}
 * Doubles are written with 17 significant digits so that a save/load round
 * trip is exact (IEEE 754-2008 §5.12.2: 17 digits identify a binary64);
 * a non-finite double (e.g. an undefined Sharpe) is written as null and
 * read back as NaN. Integers are JSON integers; ids are strings.
 *
 * Asset ids are saved with their symbols; a later run that interns symbols
 * differently must remap (coce_book_asset_by_symbol gives the saved id). */
#ifndef COCE_STATE_STATE_FILE_H
#define COCE_STATE_STATE_FILE_H

#include "state/book.h"
#include "utils/error.h"

#define COCE_STATE_SCHEMA "coce.state"
#define COCE_STATE_VERSION 1

/* Writes the book to `path` atomically (coce_fs_write_atomic: temporary
 * file, fsync, rename, fsync of the directory): after a crash the file is
 * either the old snapshot or the new one. On failure the old file is left
 * untouched. */
int coce_state_save(const coce_book *b, const char *path, coce_err *err);

/* Reads a snapshot into a new book (*out, free with coce_book_free).
 * Missing file: COCE_ENOTFOUND. Corrupt, truncated, wrong schema or
 * version, or a bad field: COCE_ESTATE with a message naming the file and
 * the JSON line/column or the field. The file is never modified. */
int coce_state_load(const char *path, coce_book **out, coce_err *err);

#endif
