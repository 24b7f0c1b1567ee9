/* File replay: the event source of a back-test. Merges any number of
 * time-ordered trade files into one time-ordered stream (k-way merge on a
 * binary heap; ties broken by file order, so a replay is deterministic).
 * Streams: each file holds only a block of trades in memory at a time. */
#ifndef COCE_DATA_INGEST_REPLAY_H
#define COCE_DATA_INGEST_REPLAY_H

#include "data_ingest/trades.h"
#include "utils/error.h"
#include "utils/symbols.h"
#include "utils/types.h"

typedef struct coce_replay coce_replay;

/* Opens every file (the assets are interned into `symbols` as each file's
 * first rows are read). On error nothing is left open. */
int coce_replay_open(coce_replay **out, char *const *paths, size_t n_paths,
                     coce_symbols *symbols, const coce_trade_reader_opts *opts,
                     coce_err *err);

/* The next trade in time order; COCE_EEOF after the last one. */
int coce_replay_next(coce_replay *r, coce_trade *out, coce_err *err);

/* Rows skipped as bad over all files so far (with skip_bad_rows). */
size_t coce_replay_skipped(const coce_replay *r);

void coce_replay_free(coce_replay *r);

#endif
