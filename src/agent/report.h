/* The back-test report: one self-contained HTML page (inline CSS and SVG, no
 * script, no font or image from anywhere, a Content-Security-Policy that
 * forbids every fetch) built from the files a simulation leaves in its
 * report directory (src/agent/sim.h):
 *
 *   summary.json, equity.csv             required
 *   fills.csv, trades.csv, alerts.csv,   optional: a missing file leaves its
 *   logs.jsonl, meta_events.jsonl        section with a note
 *   the market's trade files             optional (summary.json "market",
 *                                        its trades/ subdirectory if any)
 *
 * The page shows: the figures (CAGR, Sharpe, Sortino, max drawdown, hit
 * rate, turnover, fees; definitions in docs/report.md and on the page), the
 * equity and drawdown curves, exposure per consensus cluster over time (per
 * asset when the log has no "clusters" events), the cluster graph of the
 * last rebalance, price charts around the pump alerts of the assets with
 * most alerts, and the guardrail cuts and kill-switch events (a timeline and
 * a table).
 *
 * Cluster membership comes from log events "clusters" whose fields are
 * {SYMBOL: cluster number, ...} (one per rebalance, at its sim_ms).
 *
 * Every text that comes from the data is HTML-escaped. The same inputs give
 * the same bytes (no clock, no locale: numbers are formatted in the C
 * locale). The page is written atomically to REPORT_DIR/report.html. */
#ifndef COCE_AGENT_REPORT_H
#define COCE_AGENT_REPORT_H

#include "utils/error.h"

#include <stddef.h>
#include <stdint.h>

typedef struct coce_report_opts {
    /* Market directory holding the trade files; NULL = summary.json
     * "market" (tried as given, then relative to REPORT_DIR/../..). */
    const char *market_dir;
    size_t alert_assets;     /* assets with most alerts charted (4) */
    size_t alerts_per_asset; /* alerts charted per asset, earliest first (3) */
    int64_t alert_window_ms; /* price shown on each side of an alert (30 min) */
    size_t max_event_rows;   /* rows of the guardrail/kill-switch table (200) */
} coce_report_opts;

void coce_report_opts_default(coce_report_opts *opts);

/* Writes REPORT_DIR/report.html. opts NULL = defaults. Errors:
 * COCE_ENOTFOUND (summary.json or equity.csv missing), COCE_EPARSE (a report
 * file is malformed: "fills.csv:12: column 'qty': not a number"),
 * COCE_EINVAL (bad argument), COCE_ENOMEM, COCE_EIO (cannot write). Market
 * trade files that are missing or unreadable do not fail the report: their
 * charts say so. Malformed lines of logs.jsonl and meta_events.jsonl (a run
 * killed mid-line) are skipped and counted on the page. */
int coce_report_write_html_opts(const char *report_dir,
                                const coce_report_opts *opts, coce_err *err);

/* coce_report_write_html_opts with the defaults. */
int coce_report_write_html(const char *report_dir, coce_err *err);

#endif
