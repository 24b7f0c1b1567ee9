/* `coce --mode sim` (and `--mode paper --data DIR`): a back-test is a
 * replay. Chooses the market (the
 * bundled generated one, or --data DIR), replays it through the engine
 * with the paper exchange, and writes reports/<run-id>/: summary.json,
 * manifest.json, state.json, fills.csv, trades.csv, alerts.csv,
 * equity.csv, logs.jsonl, meta_events.jsonl (when the kill-switch fires)
 * and model.json (the last model used). */
#ifndef COCE_AGENT_SIM_H
#define COCE_AGENT_SIM_H

#include "utils/config.h"
#include "utils/error.h"

#include <stdint.h>
#include <stdio.h>

typedef struct coce_sim_args {
    const coce_config *cfg;
    const char *config_file; /* user's override file or NULL */
    const char *out_dir;     /* report dir; NULL = reports/<run-id> */
    int convex_sleeve;
    /* Paper mode on a recorded feed: state, journal and model persist in
     * run.data_dir (locked), the run resumes from state.json after the
     * last processed trade, and positions are kept at the end. */
    int paper;
    /* Slack / Sentry notifier (may be NULL); failures are reported too. */
    struct coce_notifier *notifier;
} coce_sim_args;

typedef struct coce_sim_result {
    char run_id[96];
    char report_dir[1024];
    char market[1024];
    int64_t first_ms, trading_ms, last_ms;
    size_t assets, trades_in, skipped_rows;
    double initial_equity, final_equity, pnl, total_return;
    double sharpe, max_drawdown, hit_rate, fees;
    size_t round_trips, fills, alerts, events, events_alerted, false_alerts;
    double coin_days, false_alerts_per_coin_day;
    size_t rebalances, model_fits, halts;
    size_t cuts_drawdown, cuts_var, cuts_corr, cuts_adv;
    int halted;
    int interrupted;
    char halt_reason[128];
    /* --sleeve convex */
    int sleeve;
    size_t sleeve_buys, sleeve_worst_days;
    double sleeve_premium_usd, sleeve_pnl_usd, sleeve_pnl_base;
    double sleeve_worst_days_base;
} coce_sim_result;

int coce_sim_run(const coce_sim_args *args, coce_sim_result *out,
                 coce_err *err);

/* Async-signal-safe: asks a running simulation to stop after the current
 * event; it then closes its positions and writes its report as usual, with
 * "interrupted": true in the summary. */
void coce_sim_request_stop(void);

void coce_sim_print_summary(const coce_sim_result *r, FILE *out);

/* Alerts match an event when they fall within [event - before, event +
 * after] of its announced time (issue 4's window: 180 s before to 120 s
 * after). */
#define COCE_SIM_MATCH_BEFORE_MS 180000
#define COCE_SIM_MATCH_AFTER_MS 120000

#endif
