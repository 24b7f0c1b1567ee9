/* A progress bar with rate and ETA for long runs (issue 10).
 *
 * It draws on `out` only when `out` is a terminal (isatty(fileno(out))), and
 * writes nothing at all otherwise, so that redirected output and logs stay
 * clean. Redraws are throttled to at most ten per second on a monotonic
 * clock, so calling coce_progress_update() once per event costs a clock read.
 *
 * The caller owns `out`; the bar writes only to it (library code never
 * prints on its own: the stream is the caller's choice, usually stderr).
 *
 *   coce_progress *p = coce_progress_new(stderr, n_trades, "sim");
 *   for (...) coce_progress_update(p, done);
 *   coce_progress_finish(p);
 *   coce_progress_free(p);
 *
 * Every function accepts p == NULL and then does nothing, so an allocation
 * failure in coce_progress_new() only means "no bar". Not thread-safe: one
 * handle per thread. */
#ifndef COCE_UTILS_PROGRESS_H
#define COCE_UTILS_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct coce_progress coce_progress;

/* Minimum seconds between two redraws (ten per second at most). */
#define COCE_PROGRESS_MIN_INTERVAL_S 0.1

/* A bar over `total_units` units (<= 0: unknown total, then a counter with
 * rate and elapsed time is drawn instead). `label` (may be NULL) is copied,
 * truncated to 31 bytes. Draws the first frame at once when `out` is a
 * terminal. Returns NULL only when out of memory. */
coce_progress *coce_progress_new(FILE *out, int64_t total_units,
                                 const char *label);

/* Records `done_units` (absolute, not an increment) and redraws when at
 * least COCE_PROGRESS_MIN_INTERVAL_S passed since the last redraw. */
void coce_progress_update(coce_progress *p, int64_t done_units);

/* The same with an explicit time: seconds since coce_progress_new() on the
 * monotonic clock (for tests and for callers that already read the clock).
 * A time earlier than the latest one seen (or NaN) counts as that one. */
void coce_progress_update_at(coce_progress *p, int64_t done_units,
                             double elapsed_s);

/* Draws the final frame (whatever was last recorded) and ends the line.
 * Later updates draw nothing. Idempotent. */
void coce_progress_finish(coce_progress *p);

/* Releases the handle; NULL is a no-op. Does not close `out`. */
void coce_progress_free(coce_progress *p);

/* 1 when the handle draws (its stream is a terminal), else 0. */
int coce_progress_active(const coce_progress *p);

/* Pure formatter of one frame (no label, no control characters):
 *   "[#########---------------]  37.5%  1.23k/s  ETA 0:01:05"
 * or, when total <= 0,
 *   "12345  1.23k/s  0:00:10"
 * done is clamped to [0, total]. The rate is done / elapsed_s ("--/s" when
 * elapsed_s <= 0 or done == 0); the ETA (remaining / rate) is "--:--:--"
 * when the rate is unknown and is capped at 99:59:59. Writes at most len
 * bytes including the NUL. Returns COCE_OK, COCE_EINVAL (buf NULL or
 * len 0) or COCE_ERANGE (truncated; buf still NUL-terminated). */
int coce_progress_format(char *buf, size_t len, int64_t done, int64_t total,
                         double elapsed_s);

#endif
