/* Configuration: every parameter of every stage, loaded from YAML (libyaml)
 * over built-in defaults, and validated (validate_cfg) with errors of the
 * form "file:line:column: key.path: what is wrong".
 *
 * config/base.yaml lists every key below with its default and a comment; a
 * test keeps the two in step. Secrets never live here: they come from the
 * environment (utils/env.h), and a secret-looking key in YAML is rejected. */
#ifndef COCE_UTILS_CONFIG_H
#define COCE_UTILS_CONFIG_H

#include "utils/error.h"

#include <stddef.h>
#include <stdint.h>

#define COCE_CFG_STR_MAX 256
#define COCE_CFG_LIST_MAX 32
#define COCE_CFG_ITEM_MAX 32

typedef struct coce_cfg_list {
    size_t n;
    char items[COCE_CFG_LIST_MAX][COCE_CFG_ITEM_MAX];
} coce_cfg_list;

typedef struct coce_config {
    struct {
        int64_t seed;
        char data_dir[COCE_CFG_STR_MAX];
        char reports_dir[COCE_CFG_STR_MAX];
        char logs_dir[COCE_CFG_STR_MAX];
        char base_currency[COCE_CFG_ITEM_MAX];
        char log_level[COCE_CFG_ITEM_MAX];
    } run;
    struct {
        char market_dir[COCE_CFG_STR_MAX];
        int64_t assets;
        int64_t days;
        int64_t sectors;
        int64_t pumps;
        int64_t seed;
        double trades_per_day;
    } sim;
    struct {
        char trades_dir[COCE_CFG_STR_MAX];
        char events[COCE_CFG_STR_MAX];
        int skip_bad_rows;
    } data;
    struct {
        double min_market_cap_usd;
        double max_market_cap_usd;
        double min_adv_quote;
        int64_t min_listing_days;
        char quote_asset[COCE_CFG_ITEM_MAX];
        coce_cfg_list exclude;
    } universe;
    struct {
        int64_t chunk_seconds;
        int64_t window_chunks;
        int64_t price_window_chunks;
        int extras;
    } features;
    struct {
        char path[COCE_CFG_STR_MAX];
        int64_t train_days;
        double C;
        int balanced;
        int64_t alert_pause_minutes;
    } model;
    struct {
        int64_t bar_minutes;
        int64_t window_bars;
        int64_t min_bars;
        double resolution;
        int64_t consensus_runs;
        double consensus_tau;
        int ledoit_wolf;
    } cluster;
    struct {
        int64_t rebalance_hours;
        double turnover_cap;
        double cluster_cap;
        double annualisation;
    } hrp;
    struct {
        double initial_capital;
        double entry_fraction;
        int score_scaling;
        double take_profit;
        double trailing_stop;
        double hard_stop;
        int64_t max_hold_minutes;
        double core_share;
    } strategy;
    struct {
        int64_t adv_window_days;
        double adv_max_fraction;
        double drawdown_soft;
        double drawdown_hard;
        double var_confidence;
        int64_t var_window_days;
        double var_floor;
        int64_t corr_short_bars;
        int64_t corr_long_bars;
        double corr_threshold;
        double corr_cut_scale;
    } guardrails;
    struct {
        double sharpe_min;
        double hit_rate_min;
        int64_t window_days;
        int64_t min_trades;
        int flatten_on_halt;
    } killswitch;
    struct {
        char venue[COCE_CFG_ITEM_MAX];
        double taker_fee_bps;
        double maker_fee_bps;
        double impact_coef;
        int64_t latency_ms;
        double max_participation;
    } execution;
    struct {
        int enabled;
    } live;
    struct {
        char base_url[COCE_CFG_STR_MAX];
        int64_t recv_window_ms;
        int64_t timeout_ms;
    } exchange;
    struct {
        char base_url[COCE_CFG_STR_MAX];
        int64_t timeout_ms;
    } deribit;
    struct {
        char binance_url[COCE_CFG_STR_MAX];
        coce_cfg_list symbols;
        char quote[COCE_CFG_ITEM_MAX];
        int64_t poll_ms;
        int64_t start_minutes_back;
        int64_t page_limit;
        int64_t lateness_ms;
        int64_t max_hold_ms;
        int64_t idle_timeout_ms;
        int64_t max_failures;
        int64_t backoff_base_ms;
        int64_t backoff_max_ms;
        int64_t weight_pause_at;
        int64_t snapshot_ms;
        int64_t warmup_max_days; /* restart history replay cap; 0 = off */
    } feed;
    struct {
        char underlyings[COCE_CFG_STR_MAX];
        char kind[COCE_CFG_ITEM_MAX];
        double delta_min;
        double delta_max;
        int64_t min_days;
        int64_t max_days;
        double min_open_interest;
        double max_spread;
        double budget_share;
        int64_t roll_days;
        double budget_period_days;
        char rank[COCE_CFG_ITEM_MAX];
        int64_t vol_window_days;
        /* paper/live runs: route the sleeve's orders to Deribit */
        int live;
    } options;
    struct {
        double slack_min_trade_notional;
        int64_t queue_size;
        int64_t timeout_ms;
        int64_t retries;
    } notify;
} coce_config;

/* Fills every field with its built-in default (the values in base.yaml). */
void coce_config_defaults(coce_config *cfg);

/* Applies a YAML file over cfg (which holds defaults or an earlier file).
 * Unknown keys, wrong types, out-of-range values and secrets in YAML fail
 * with COCE_ECONFIG and "file:line:column: key.path: what is wrong". */
int coce_config_load_file(coce_config *cfg, const char *path, coce_err *err);

/* Same, from a YAML text held in memory; `name` is used in messages. */
int coce_config_load_string(coce_config *cfg, const char *yaml,
                            const char *name, coce_err *err);

/* Cross-field checks (validate_cfg): e.g. drawdown_soft < drawdown_hard,
 * delta_min < delta_max. */
int coce_config_validate(const coce_config *cfg, coce_err *err);

/* Canonical JSON text of the whole configuration (malloc'ed; for the
 * manifest and its hash). */
int coce_config_to_json(const coce_config *cfg, char **out);

/* Number of schema keys and the dotted path of key i (for tests/docs). */
size_t coce_config_key_count(void);
const char *coce_config_key(size_t i);

#endif
