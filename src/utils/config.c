#include "utils/config.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

typedef enum key_type {
    T_BOOL,
    T_INT,
    T_DOUBLE,
    T_STR,
    T_ENUM,
    T_LIST
} key_type;

typedef struct key_spec {
    const char *path;
    key_type type;
    size_t offset;
    size_t size;      /* bytes of a string field */
    double min, max;  /* inclusive range of numbers */
    const char *dflt; /* default as YAML scalar text ("" for an empty list) */
    const char *enums; /* "a|b|c" for T_ENUM */
} key_spec;

#define OFF(field) offsetof(coce_config, field)
#define SZ(field) sizeof(((coce_config *)0)->field)
#define B(path, field, d) {path, T_BOOL, OFF(field), 0, 0, 1, d, NULL}
#define I(path, field, lo, hi, d) {path, T_INT, OFF(field), 0, lo, hi, d, NULL}
#define D(path, field, lo, hi, d)                                              \
    {path, T_DOUBLE, OFF(field), 0, lo, hi, d, NULL}
#define S(path, field, d) {path, T_STR, OFF(field), SZ(field), 0, 0, d, NULL}
#define E(path, field, d, values)                                              \
    {path, T_ENUM, OFF(field), SZ(field), 0, 0, d, values}
#define L(path, field, d) {path, T_LIST, OFF(field), 0, 0, 0, d, NULL}

static const double BIG = 1e18;

/* The schema. Defaults here and in config/base.yaml must agree (a test
 * loads base.yaml over these defaults and compares). */
static const key_spec schema[] = {
    I("run.seed", run.seed, 0, 9.007199254740992e15, "42"),
    S("run.data_dir", run.data_dir, "data"),
    S("run.reports_dir", run.reports_dir, "reports"),
    S("run.logs_dir", run.logs_dir, "logs"),
    E("run.base_currency", run.base_currency, "BTC", "BTC|ETH|USDT"),
    E("run.log_level", run.log_level, "info", "debug|info|warn|error"),

    S("sim.market_dir", sim.market_dir, "data/sim_market"),
    I("sim.assets", sim.assets, 2, 2000, "30"),
    I("sim.days", sim.days, 2, 3650, "21"),
    I("sim.sectors", sim.sectors, 1, 64, "4"),
    I("sim.pumps", sim.pumps, 0, 100000, "45"),
    I("sim.seed", sim.seed, 0, 9.007199254740992e15, "42"),
    D("sim.trades_per_day", sim.trades_per_day, 10, 1e7, "700"),

    S("data.trades_dir", data.trades_dir, ""),
    S("data.events", data.events, ""),
    B("data.skip_bad_rows", data.skip_bad_rows, "false"),

    D("universe.min_market_cap_usd", universe.min_market_cap_usd, 0, BIG, "0"),
    D("universe.max_market_cap_usd", universe.max_market_cap_usd, 0, BIG,
      "500000000"),
    D("universe.min_adv_quote", universe.min_adv_quote, 0, BIG, "0"),
    I("universe.min_listing_days", universe.min_listing_days, 0, 36500, "0"),
    E("universe.quote_asset", universe.quote_asset, "BTC", "BTC|ETH|USDT|BNB"),
    L("universe.exclude", universe.exclude, ""),

    I("features.chunk_seconds", features.chunk_seconds, 1, 3600, "25"),
    I("features.window_chunks", features.window_chunks, 2, 100000, "900"),
    I("features.price_window_chunks", features.price_window_chunks, 2, 100000,
      "10"),
    B("features.extras", features.extras, "false"),

    S("model.path", model.path, ""),
    I("model.train_days", model.train_days, 1, 3650, "7"),
    D("model.C", model.C, 1e-8, 1e8, "1.0"),
    B("model.balanced", model.balanced, "true"),
    I("model.alert_pause_minutes", model.alert_pause_minutes, 0, 10080, "30"),

    I("cluster.bar_minutes", cluster.bar_minutes, 1, 1440, "60"),
    I("cluster.window_bars", cluster.window_bars, 3, 100000, "168"),
    I("cluster.min_bars", cluster.min_bars, 2, 100000, "48"),
    D("cluster.resolution", cluster.resolution, 0.01, 100, "1.0"),
    I("cluster.consensus_runs", cluster.consensus_runs, 1, 1000, "20"),
    D("cluster.consensus_tau", cluster.consensus_tau, 0, 1, "0.5"),
    B("cluster.ledoit_wolf", cluster.ledoit_wolf, "false"),

    I("hrp.rebalance_hours", hrp.rebalance_hours, 1, 8760, "24"),
    D("hrp.turnover_cap", hrp.turnover_cap, 0, 2, "0.5"),
    D("hrp.cluster_cap", hrp.cluster_cap, 0.01, 1, "0.5"),
    D("hrp.annualisation", hrp.annualisation, 1, 100000, "365"),

    D("strategy.initial_capital", strategy.initial_capital, 1e-9, BIG, "1.0"),
    D("strategy.entry_fraction", strategy.entry_fraction, 0, 1, "1.0"),
    B("strategy.score_scaling", strategy.score_scaling, "false"),
    D("strategy.take_profit", strategy.take_profit, 0.001, 100, "0.15"),
    D("strategy.trailing_stop", strategy.trailing_stop, 0.001, 1, "0.05"),
    D("strategy.hard_stop", strategy.hard_stop, 0.001, 1, "0.08"),
    I("strategy.max_hold_minutes", strategy.max_hold_minutes, 1, 100000, "20"),
    D("strategy.core_share", strategy.core_share, 0, 1, "0"),

    I("guardrails.adv_window_days", guardrails.adv_window_days, 1, 3650, "30"),
    D("guardrails.adv_max_fraction", guardrails.adv_max_fraction, 0, 1, "0.05"),
    D("guardrails.drawdown_soft", guardrails.drawdown_soft, 0, 1, "0.10"),
    D("guardrails.drawdown_hard", guardrails.drawdown_hard, 0, 1, "0.25"),
    D("guardrails.var_confidence", guardrails.var_confidence, 0.5, 0.9999,
      "0.99"),
    I("guardrails.var_window_days", guardrails.var_window_days, 2, 3650, "30"),
    D("guardrails.var_floor", guardrails.var_floor, 0, 1, "0.05"),
    I("guardrails.corr_short_bars", guardrails.corr_short_bars, 2, 100000,
      "24"),
    I("guardrails.corr_long_bars", guardrails.corr_long_bars, 3, 100000, "168"),
    D("guardrails.corr_threshold", guardrails.corr_threshold, 0, 2, "0.3"),
    D("guardrails.corr_cut_scale", guardrails.corr_cut_scale, 0, 1, "0.5"),

    D("killswitch.sharpe_min", killswitch.sharpe_min, -100, 100, "1.2"),
    D("killswitch.hit_rate_min", killswitch.hit_rate_min, 0, 1, "0.6"),
    I("killswitch.window_days", killswitch.window_days, 2, 365, "7"),
    I("killswitch.min_trades", killswitch.min_trades, 1, 100000, "10"),
    B("killswitch.flatten_on_halt", killswitch.flatten_on_halt, "false"),

    E("execution.venue", execution.venue, "paper", "paper|binance|deribit"),
    D("execution.taker_fee_bps", execution.taker_fee_bps, 0, 1000, "10"),
    D("execution.maker_fee_bps", execution.maker_fee_bps, -100, 1000, "10"),
    D("execution.impact_coef", execution.impact_coef, 0, 100, "0.5"),
    I("execution.latency_ms", execution.latency_ms, 0, 600000, "250"),
    D("execution.max_participation", execution.max_participation, 0.001, 1,
      "0.5"),

    B("live.enabled", live.enabled, "false"),

    S("exchange.base_url", exchange.base_url, "https://testnet.binance.vision"),
    I("exchange.recv_window_ms", exchange.recv_window_ms, 1, 60000, "5000"),
    I("exchange.timeout_ms", exchange.timeout_ms, 1, 600000, "10000"),

    S("deribit.base_url", deribit.base_url, "https://test.deribit.com"),
    I("deribit.timeout_ms", deribit.timeout_ms, 1, 600000, "10000"),

    S("feed.binance_url", feed.binance_url, "https://api.binance.com"),
    L("feed.symbols", feed.symbols, ""),
    S("feed.quote", feed.quote, "BTC"),
    I("feed.poll_ms", feed.poll_ms, 100, 600000, "2000"),
    I("feed.start_minutes_back", feed.start_minutes_back, 0, 10080, "5"),
    I("feed.page_limit", feed.page_limit, 1, 1000, "1000"),
    I("feed.lateness_ms", feed.lateness_ms, 0, 60000, "2000"),
    I("feed.max_hold_ms", feed.max_hold_ms, 1000, 600000, "30000"),
    I("feed.idle_timeout_ms", feed.idle_timeout_ms, 100, 60000, "1000"),
    I("feed.max_failures", feed.max_failures, 1, 1000, "10"),
    I("feed.backoff_base_ms", feed.backoff_base_ms, 0, 60000, "1000"),
    I("feed.backoff_max_ms", feed.backoff_max_ms, 0, 900000, "60000"),
    I("feed.weight_pause_at", feed.weight_pause_at, 0, 1000000, "5000"),
    I("feed.snapshot_ms", feed.snapshot_ms, 1000, 86400000, "60000"),
    I("feed.warmup_max_days", feed.warmup_max_days, 0, 30, "7"),

    S("options.underlyings", options.underlyings, "BTC,ETH"),
    E("options.kind", options.kind, "both", "call|put|both"),
    D("options.delta_min", options.delta_min, 0, 1, "0.05"),
    D("options.delta_max", options.delta_max, 0, 1, "0.15"),
    I("options.min_days", options.min_days, 0, 3650, "7"),
    I("options.max_days", options.max_days, 1, 3650, "60"),
    D("options.min_open_interest", options.min_open_interest, 0, BIG, "10"),
    D("options.max_spread", options.max_spread, 0, 10, "0.5"),
    D("options.budget_share", options.budget_share, 0, 1, "0.01"),
    I("options.roll_days", options.roll_days, 0, 3650, "3"),
    D("options.budget_period_days", options.budget_period_days, 1, 365, "7"),
    E("options.rank", options.rank, "delta_mid", "delta_mid|vega_cost"),
    I("options.vol_window_days", options.vol_window_days, 2, 365, "7"),
    B("options.live", options.live, "false"),

    D("notify.slack_min_trade_notional", notify.slack_min_trade_notional, 0,
      BIG, "0.1"),
    I("notify.queue_size", notify.queue_size, 1, 100000, "256"),
    I("notify.timeout_ms", notify.timeout_ms, 1, 600000, "3000"),
    I("notify.retries", notify.retries, 0, 100, "3"),
};

#define N_KEYS (sizeof schema / sizeof schema[0])

/* Words that mark a key as a secret: those belong in the environment. */
static const char *const secret_words[] = {"secret", "api_key", "apikey",
                                           "token",  "password", "bearer",
                                           "dsn",    "webhook"};

size_t coce_config_key_count(void)
{
    return N_KEYS;
}

const char *coce_config_key(size_t i)
{
    return i < N_KEYS ? schema[i].path : NULL;
}

static const key_spec *find_key(const char *path)
{
    for (size_t i = 0; i < N_KEYS; ++i)
        if (strcmp(schema[i].path, path) == 0)
            return &schema[i];
    return NULL;
}

static int is_section(const char *path)
{
    size_t len = strlen(path);
    for (size_t i = 0; i < N_KEYS; ++i)
        if (strncmp(schema[i].path, path, len) == 0 &&
            schema[i].path[len] == '.')
            return 1;
    return 0;
}

static int looks_secret(const char *key)
{
    char lower[128];
    size_t i = 0;
    for (; key[i] != '\0' && i + 1 < sizeof lower; ++i)
        lower[i] = (char)((key[i] >= 'A' && key[i] <= 'Z') ? key[i] + 32
                                                           : key[i]);
    lower[i] = '\0';
    for (size_t w = 0; w < sizeof secret_words / sizeof secret_words[0]; ++w)
        if (strstr(lower, secret_words[w]) != NULL)
            return 1;
    return 0;
}

/* Parses one scalar into the field; on failure writes what is wrong. */
static int set_scalar(coce_config *cfg, const key_spec *k, const char *text,
                      char *why, size_t why_len)
{
    char *base = (char *)cfg + k->offset;
    switch (k->type) {
    case T_BOOL: {
        int v;
        if (strcmp(text, "true") == 0 || strcmp(text, "yes") == 0 ||
            strcmp(text, "on") == 0)
            v = 1;
        else if (strcmp(text, "false") == 0 || strcmp(text, "no") == 0 ||
                 strcmp(text, "off") == 0)
            v = 0;
        else {
            (void)snprintf(why, why_len, "expected true or false, got '%s'",
                           text);
            return COCE_ECONFIG;
        }
        memcpy(base, &v, sizeof v);
        return COCE_OK;
    }
    case T_INT: {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (text[0] == '\0' || end == NULL || *end != '\0' || errno != 0) {
            (void)snprintf(why, why_len, "expected an integer, got '%s'", text);
            return COCE_ECONFIG;
        }
        if ((double)v < k->min || (double)v > k->max) {
            (void)snprintf(why, why_len, "%lld is out of range [%.17g, %.17g]",
                           v, k->min, k->max);
            return COCE_ECONFIG;
        }
        int64_t v64 = v;
        memcpy(base, &v64, sizeof v64);
        return COCE_OK;
    }
    case T_DOUBLE: {
        char *end = NULL;
        errno = 0;
        double v = strtod(text, &end);
        if (text[0] == '\0' || end == NULL || *end != '\0' || errno != 0 ||
            !isfinite(v)) {
            (void)snprintf(why, why_len, "expected a number, got '%s'", text);
            return COCE_ECONFIG;
        }
        if (v < k->min || v > k->max) {
            (void)snprintf(why, why_len, "%.17g is out of range [%.17g, %.17g]",
                           v, k->min, k->max);
            return COCE_ECONFIG;
        }
        memcpy(base, &v, sizeof v);
        return COCE_OK;
    }
    case T_ENUM: {
        const char *p = k->enums;
        size_t len = strlen(text);
        while (p != NULL && *p != '\0') {
            const char *bar = strchr(p, '|');
            size_t n = bar != NULL ? (size_t)(bar - p) : strlen(p);
            if (n == len && strncmp(p, text, n) == 0) {
                (void)snprintf(base, k->size, "%s", text);
                return COCE_OK;
            }
            p = bar != NULL ? bar + 1 : NULL;
        }
        (void)snprintf(why, why_len, "'%s' is not one of %s", text, k->enums);
        return COCE_ECONFIG;
    }
    case T_STR:
        if (strlen(text) >= k->size) {
            (void)snprintf(why, why_len, "longer than %zu characters",
                           k->size - 1);
            return COCE_ECONFIG;
        }
        (void)snprintf(base, k->size, "%s", text);
        return COCE_OK;
    case T_LIST:
        break;
    }
    (void)snprintf(why, why_len, "expected a list");
    return COCE_ECONFIG;
}

static int set_list_item(coce_cfg_list *list, const char *text, char *why,
                         size_t why_len)
{
    if (list->n >= COCE_CFG_LIST_MAX) {
        (void)snprintf(why, why_len, "more than %d items", COCE_CFG_LIST_MAX);
        return COCE_ECONFIG;
    }
    if (strlen(text) >= COCE_CFG_ITEM_MAX) {
        (void)snprintf(why, why_len, "item '%s' longer than %d characters",
                       text, COCE_CFG_ITEM_MAX - 1);
        return COCE_ECONFIG;
    }
    (void)snprintf(list->items[list->n++], COCE_CFG_ITEM_MAX, "%s", text);
    return COCE_OK;
}

void coce_config_defaults(coce_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    char why[256];
    for (size_t i = 0; i < N_KEYS; ++i)
        if (schema[i].type != T_LIST)
            (void)set_scalar(cfg, &schema[i], schema[i].dflt, why, sizeof why);
}

typedef struct walk_ctx {
    coce_config *cfg;
    yaml_document_t *doc;
    const char *name;
    coce_err *err;
} walk_ctx;

static int fail_at(walk_ctx *ctx, const yaml_node_t *node, const char *path,
                   const char *why)
{
    return coce_err_set(ctx->err, COCE_ECONFIG, "%s:%zu:%zu: %s: %s", ctx->name,
                        node->start_mark.line + 1, node->start_mark.column + 1,
                        path, why);
}

static int walk_mapping(walk_ctx *ctx, yaml_node_t *map, const char *prefix);

static int apply_value(walk_ctx *ctx, yaml_node_t *value, const char *path,
                       yaml_node_t *key_node, const char *key)
{
    char why[300];
    if (looks_secret(key))
        return fail_at(ctx, key_node, path,
                       "secrets are not allowed in configuration files; set "
                       "them in the environment or .env (see .env.example)");
    const key_spec *spec = find_key(path);
    if (spec == NULL) {
        if (value->type == YAML_MAPPING_NODE && is_section(path))
            return walk_mapping(ctx, value, path);
        return fail_at(ctx, key_node, path, "unknown key");
    }
    if (spec->type == T_LIST) {
        coce_cfg_list *list =
            (coce_cfg_list *)(void *)((char *)ctx->cfg + spec->offset);
        list->n = 0;
        if (value->type == YAML_SCALAR_NODE && value->data.scalar.length == 0)
            return COCE_OK;
        if (value->type != YAML_SEQUENCE_NODE)
            return fail_at(ctx, value, path, "expected a list");
        for (yaml_node_item_t *it = value->data.sequence.items.start;
             it < value->data.sequence.items.top; ++it) {
            yaml_node_t *item = yaml_document_get_node(ctx->doc, *it);
            if (item == NULL || item->type != YAML_SCALAR_NODE)
                return fail_at(ctx, value, path, "list items must be scalars");
            if (set_list_item(list, (const char *)item->data.scalar.value, why,
                              sizeof why) != COCE_OK)
                return fail_at(ctx, item, path, why);
        }
        return COCE_OK;
    }
    if (value->type != YAML_SCALAR_NODE)
        return fail_at(ctx, value, path, "expected a single value");
    if (set_scalar(ctx->cfg, spec, (const char *)value->data.scalar.value, why,
                   sizeof why) != COCE_OK)
        return fail_at(ctx, value, path, why);
    return COCE_OK;
}

static int walk_mapping(walk_ctx *ctx, yaml_node_t *map, const char *prefix)
{
    for (yaml_node_pair_t *pair = map->data.mapping.pairs.start;
         pair < map->data.mapping.pairs.top; ++pair) {
        yaml_node_t *key = yaml_document_get_node(ctx->doc, pair->key);
        yaml_node_t *value = yaml_document_get_node(ctx->doc, pair->value);
        if (key == NULL || value == NULL)
            continue;
        if (key->type != YAML_SCALAR_NODE)
            return fail_at(ctx, key, prefix[0] ? prefix : "(top)",
                           "keys must be plain names");
        char path[256];
        const char *name = (const char *)key->data.scalar.value;
        int n = prefix[0] != '\0'
                    ? snprintf(path, sizeof path, "%s.%s", prefix, name)
                    : snprintf(path, sizeof path, "%s", name);
        if (n < 0 || (size_t)n >= sizeof path)
            return fail_at(ctx, key, prefix, "key path too long");
        int rc = apply_value(ctx, value, path, key, name);
        if (rc != COCE_OK)
            return rc;
    }
    return COCE_OK;
}

int coce_config_load_string(coce_config *cfg, const char *yaml,
                            const char *name, coce_err *err)
{
    if (cfg == NULL || yaml == NULL)
        return coce_err_set(err, COCE_EINVAL, "config: bad arguments");
    if (name == NULL)
        name = "(config)";
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return coce_err_set(err, COCE_ENOMEM, "%s: yaml parser", name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)yaml,
                                 strlen(yaml));
    yaml_document_t doc;
    if (!yaml_parser_load(&parser, &doc)) {
        int rc = coce_err_set(err, COCE_ECONFIG, "%s:%zu:%zu: invalid YAML: %s",
                              name, parser.problem_mark.line + 1,
                              parser.problem_mark.column + 1,
                              parser.problem ? parser.problem : "?");
        yaml_parser_delete(&parser);
        return rc;
    }
    int rc = COCE_OK;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (root == NULL) {
        rc = COCE_OK; /* an empty file changes nothing */
    } else if (root->type == YAML_SCALAR_NODE &&
               root->data.scalar.length == 0) {
        rc = COCE_OK;
    } else if (root->type != YAML_MAPPING_NODE) {
        rc = coce_err_set(err, COCE_ECONFIG,
                          "%s:%zu:%zu: (top): expected a mapping of sections",
                          name, root->start_mark.line + 1,
                          root->start_mark.column + 1);
    } else {
        walk_ctx ctx = {cfg, &doc, name, err};
        rc = walk_mapping(&ctx, root, "");
    }
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    return rc;
}

int coce_config_load_file(coce_config *cfg, const char *path, coce_err *err)
{
    FILE *f = fopen(path, "rbe");
    if (f == NULL)
        return coce_err_set(err, COCE_ECONFIG, "%s: cannot open: %s", path,
                            strerror(errno));
    size_t cap = 1 << 14, len = 0;
    char *text = malloc(cap);
    while (text != NULL) {
        size_t got = fread(text + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
        if (len + 1 == cap) {
            char *bigger = realloc(text, cap * 2);
            if (bigger == NULL)
                free(text);
            text = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (text == NULL)
        return coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
    text[len] = '\0';
    int rc = COCE_OK;
    if (strlen(text) != len)
        rc = coce_err_set(err, COCE_ECONFIG, "%s: contains a NUL byte", path);
    else
        rc = coce_config_load_string(cfg, text, path, err);
    free(text);
    return rc;
}

int coce_config_validate(const coce_config *cfg, coce_err *err)
{
    if (cfg->guardrails.drawdown_soft >= cfg->guardrails.drawdown_hard)
        return coce_err_set(err, COCE_ECONFIG,
                            "guardrails.drawdown_soft: must be below "
                            "guardrails.drawdown_hard (%.17g >= %.17g)",
                            cfg->guardrails.drawdown_soft,
                            cfg->guardrails.drawdown_hard);
    if (cfg->guardrails.corr_short_bars >= cfg->guardrails.corr_long_bars)
        return coce_err_set(err, COCE_ECONFIG,
                            "guardrails.corr_short_bars: must be below "
                            "guardrails.corr_long_bars");
    if (cfg->options.delta_min >= cfg->options.delta_max)
        return coce_err_set(err, COCE_ECONFIG,
                            "options.delta_min: must be below options.delta_max");
    if (cfg->options.min_days >= cfg->options.max_days)
        return coce_err_set(err, COCE_ECONFIG,
                            "options.min_days: must be below options.max_days");
    if (cfg->options.live &&
        strncmp(cfg->deribit.base_url, "http://", 7) != 0 &&
        strncmp(cfg->deribit.base_url, "https://", 8) != 0)
        return coce_err_set(err, COCE_ECONFIG,
                            "options.live: needs deribit.base_url as an "
                            "http:// or https:// URL (got '%s')",
                            cfg->deribit.base_url);
    if (cfg->universe.min_market_cap_usd > cfg->universe.max_market_cap_usd)
        return coce_err_set(err, COCE_ECONFIG,
                            "universe.min_market_cap_usd: must not exceed "
                            "universe.max_market_cap_usd");
    if (cfg->cluster.min_bars > cfg->cluster.window_bars)
        return coce_err_set(err, COCE_ECONFIG,
                            "cluster.min_bars: must not exceed "
                            "cluster.window_bars");
    if (cfg->sim.sectors > cfg->sim.assets)
        return coce_err_set(err, COCE_ECONFIG,
                            "sim.sectors: must not exceed sim.assets");
    if (cfg->feed.backoff_max_ms < cfg->feed.backoff_base_ms)
        return coce_err_set(err, COCE_ECONFIG,
                            "feed.backoff_max_ms: must not be below "
                            "feed.backoff_base_ms");
    return COCE_OK;
}

int coce_config_to_json(const coce_config *cfg, char **out)
{
    json_t *root = json_object();
    if (root == NULL)
        return COCE_ENOMEM;
    for (size_t i = 0; i < N_KEYS; ++i) {
        const key_spec *k = &schema[i];
        const char *base = (const char *)cfg + k->offset;
        json_t *v = NULL;
        switch (k->type) {
        case T_BOOL: {
            int b;
            memcpy(&b, base, sizeof b);
            v = json_boolean(b);
            break;
        }
        case T_INT: {
            int64_t x;
            memcpy(&x, base, sizeof x);
            v = json_integer(x);
            break;
        }
        case T_DOUBLE: {
            double x;
            memcpy(&x, base, sizeof x);
            v = json_real(x);
            break;
        }
        case T_STR:
        case T_ENUM:
            v = json_string(base);
            break;
        case T_LIST: {
            const coce_cfg_list *list = (const coce_cfg_list *)(const void *)base;
            v = json_array();
            for (size_t j = 0; v != NULL && j < list->n; ++j)
                json_array_append_new(v, json_string(list->items[j]));
            break;
        }
        }
        json_object_set_new(root, k->path, v);
    }
    *out = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS |
                                JSON_REAL_PRECISION(17));
    json_decref(root);
    return *out != NULL ? COCE_OK : COCE_ENOMEM;
}
