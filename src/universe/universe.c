#include "universe/universe.h"

#include "data_ingest/trades.h"
#include "utils/fsutil.h"
#include "utils/log.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MS_PER_DAY 86400000LL

/* Fiat-pegged tokens listed on major venues (Binance, Coinbase, Kraken
 * listings 2018-2024): no pump or diversification edge. */
static const char *const STABLECOINS[] = {
    "USDT", "USDC", "BUSD", "TUSD", "DAI",  "PAX",  "USDP", "FDUSD",
    "GUSD", "HUSD", "USDD", "UST",  "USTC", "SUSD", "LUSD", "FRAX",
    "USDJ", "USDK", "USDS", "USDE", "PYUSD", "EURS", "EURT", "AEUR",
    "EURI", "BIDR", "IDRT", "BVND", "USDSB", "XUSD", NULL};

/* Wrapped representations of another chain's asset: they track it. A list,
 * not a W- prefix rule, because WAVES, WAN, WIN, WOO, WRX, WTC, WING, WLD
 * are tokens in their own right. */
static const char *const WRAPPED[] = {
    "WBTC",  "WETH", "WBNB",  "WBETH", "WSTETH", "WTRX", "WMATIC", "WAVAX",
    "WFTM",  "WSOL", "WROSE", "WCRO",  "WXRP",   "WDOGE", "WEETH", "RENBTC",
    "HBTC",  "BTCB", "STETH", "CBETH", "RETH",   "WKAVA", "WONE",   NULL};

/* Real tokens whose name happens to end in UP. */
static const char *const NOT_LEVERAGED[] = {"SYRUP", "SETUP", "GROUP",
                                            "MEMEUP", NULL};

/* Binance leveraged tokens (BTCUP/BTCDOWN, 2020-2024) and FTX/Binance
 * BULL/BEAR tokens (ETHBULL, XRPBEAR, ...). */
static const char *const LEVERAGED_SUFFIX[] = {"DOWN", "BULL", "BEAR", "UP",
                                               NULL};

static int in_list(const char *s, const char *const *list)
{
    for (; *list != NULL; ++list)
        if (strcasecmp(s, *list) == 0)
            return 1;
    return 0;
}

static int is_leveraged(const char *s)
{
    if (strcasecmp(s, "BULL") == 0 || strcasecmp(s, "BEAR") == 0)
        return 1;
    if (in_list(s, NOT_LEVERAGED))
        return 0;
    size_t n = strlen(s);
    for (const char *const *x = LEVERAGED_SUFFIX; *x != NULL; ++x) {
        size_t k = strlen(*x);
        if (n >= k + 2 && strcasecmp(s + n - k, *x) == 0)
            return 1;
    }
    return 0;
}

int coce_universe_builtin_excluded(const char *symbol,
                                   coce_universe_reason *reason)
{
    coce_universe_reason r = COCE_UNIVERSE_OK;
    if (symbol == NULL)
        return 0;
    if (in_list(symbol, STABLECOINS))
        r = COCE_UNIVERSE_STABLECOIN;
    else if (in_list(symbol, WRAPPED))
        r = COCE_UNIVERSE_WRAPPED;
    else if (is_leveraged(symbol))
        r = COCE_UNIVERSE_LEVERAGED;
    if (reason != NULL)
        *reason = r;
    return r != COCE_UNIVERSE_OK;
}

const char *coce_universe_reason_text(coce_universe_reason reason)
{
    switch (reason) {
    case COCE_UNIVERSE_OK:
        return "eligible";
    case COCE_UNIVERSE_EXCLUDED:
        return "in the configured exclude list";
    case COCE_UNIVERSE_STABLECOIN:
        return "stablecoin";
    case COCE_UNIVERSE_WRAPPED:
        return "wrapped token";
    case COCE_UNIVERSE_LEVERAGED:
        return "leveraged token";
    case COCE_UNIVERSE_QUOTE:
        return "wrong quote asset";
    case COCE_UNIVERSE_NOT_LISTED:
        return "not listed yet";
    case COCE_UNIVERSE_TOO_NEW:
        return "listed too recently";
    case COCE_UNIVERSE_CAP_UNKNOWN:
        return "market cap unknown";
    case COCE_UNIVERSE_CAP_LOW:
        return "market cap below minimum";
    case COCE_UNIVERSE_CAP_HIGH:
        return "market cap above maximum";
    case COCE_UNIVERSE_ADV_LOW:
        return "average daily volume below minimum";
    }
    return "unknown reason";
}

static void log_exclusion(const coce_universe_asset *a, coce_universe_reason r,
                          const coce_config *cfg, int64_t decision_ms)
{
    const char *sym = a->symbol, *why = coce_universe_reason_text(r);
    switch (r) {
    case COCE_UNIVERSE_QUOTE:
        coce_log(COCE_LOG_INFO, "universe", "universe_excluded",
                 "{s:s, s:s, s:s, s:s}", "symbol", sym, "reason", why,
                 "quote", a->quote, "wanted", cfg->universe.quote_asset);
        break;
    case COCE_UNIVERSE_NOT_LISTED:
    case COCE_UNIVERSE_TOO_NEW:
        if (a->first_trade_ms == INT64_MIN) {
            coce_log(COCE_LOG_INFO, "universe", "universe_excluded",
                     "{s:s, s:s, s:I}", "symbol", sym, "reason",
                     "listing time unknown", "min_listing_days",
                     (json_int_t)cfg->universe.min_listing_days);
            break;
        }
        coce_log(COCE_LOG_INFO, "universe", "universe_excluded",
                 "{s:s, s:s, s:f, s:I}", "symbol", sym, "reason", why,
                 "listing_days",
                 (double)(decision_ms - a->first_trade_ms) / MS_PER_DAY,
                 "min_listing_days",
                 (json_int_t)cfg->universe.min_listing_days);
        break;
    case COCE_UNIVERSE_CAP_LOW:
    case COCE_UNIVERSE_CAP_HIGH:
        coce_log(COCE_LOG_INFO, "universe", "universe_excluded",
                 "{s:s, s:s, s:f, s:f, s:f}", "symbol", sym, "reason", why,
                 "market_cap_usd", a->market_cap_usd, "min_market_cap_usd",
                 cfg->universe.min_market_cap_usd, "max_market_cap_usd",
                 cfg->universe.max_market_cap_usd);
        break;
    case COCE_UNIVERSE_ADV_LOW:
        if (isnan(a->adv_quote))
            coce_log(COCE_LOG_INFO, "universe", "universe_excluded",
                     "{s:s, s:s, s:f}", "symbol", sym, "reason",
                     "average daily volume unknown", "min_adv_quote",
                     cfg->universe.min_adv_quote);
        else
            coce_log(COCE_LOG_INFO, "universe", "universe_excluded",
                     "{s:s, s:s, s:f, s:f}", "symbol", sym, "reason", why,
                     "adv_quote", a->adv_quote, "min_adv_quote",
                     cfg->universe.min_adv_quote);
        break;
    default:
        coce_log(COCE_LOG_INFO, "universe", "universe_excluded",
                 "{s:s, s:s}", "symbol", sym, "reason", why);
        break;
    }
}

static coce_universe_reason decide(const coce_config *cfg,
                                   const coce_universe_asset *a,
                                   int64_t decision_ms)
{
    const coce_cfg_list *ex = &cfg->universe.exclude;
    for (size_t i = 0; i < ex->n && i < COCE_CFG_LIST_MAX; ++i)
        if (strcasecmp(a->symbol, ex->items[i]) == 0)
            return COCE_UNIVERSE_EXCLUDED;
    coce_universe_reason r = COCE_UNIVERSE_OK;
    if (coce_universe_builtin_excluded(a->symbol, &r))
        return r;
    if (cfg->universe.quote_asset[0] != '\0' &&
        strcasecmp(a->quote, cfg->universe.quote_asset) != 0)
        return COCE_UNIVERSE_QUOTE;
    int64_t min_days = cfg->universe.min_listing_days;
    if (a->first_trade_ms == INT64_MIN) {
        if (min_days > 0)
            return COCE_UNIVERSE_TOO_NEW;
    } else if (a->first_trade_ms > decision_ms) {
        return COCE_UNIVERSE_NOT_LISTED;
    } else if ((decision_ms - a->first_trade_ms) / MS_PER_DAY < min_days) {
        return COCE_UNIVERSE_TOO_NEW;
    }
    double lo = cfg->universe.min_market_cap_usd;
    double hi = cfg->universe.max_market_cap_usd;
    if (isnan(a->market_cap_usd)) {
        if (lo > 0.0 || hi < INFINITY)
            return COCE_UNIVERSE_CAP_UNKNOWN;
    } else if (a->market_cap_usd < lo) {
        return COCE_UNIVERSE_CAP_LOW;
    } else if (a->market_cap_usd > hi) {
        return COCE_UNIVERSE_CAP_HIGH;
    }
    double min_adv = cfg->universe.min_adv_quote;
    if (min_adv > 0.0 && (isnan(a->adv_quote) || a->adv_quote < min_adv))
        return COCE_UNIVERSE_ADV_LOW;
    return COCE_UNIVERSE_OK;
}

int coce_universe_filter(const coce_config *cfg,
                         const coce_universe_asset *assets, size_t n,
                         int64_t decision_ms, coce_universe_decision *out,
                         size_t *n_eligible, coce_err *err)
{
    if (n_eligible != NULL)
        *n_eligible = 0;
    if (cfg == NULL || (n > 0 && (assets == NULL || out == NULL)))
        return coce_err_set(err, COCE_EINVAL,
                            "coce_universe_filter: NULL argument");
    size_t k = 0;
    for (size_t i = 0; i < n; ++i) {
        coce_universe_reason r = decide(cfg, &assets[i], decision_ms);
        out[i].reason = r;
        out[i].eligible = r == COCE_UNIVERSE_OK;
        if (r == COCE_UNIVERSE_OK)
            ++k;
        else
            log_exclusion(&assets[i], r, cfg, decision_ms);
    }
    if (n_eligible != NULL)
        *n_eligible = k;
    return COCE_OK;
}

/* ---- market caps --------------------------------------------------------- */

typedef struct cap_row {
    char symbol[COCE_SYMBOL_MAX + 1];
    int64_t day_ms;
    double cap;
    size_t line;
} cap_row;

static int cmp_row(const void *a, const void *b)
{
    const cap_row *x = a, *y = b;
    int c = strcmp(x->symbol, y->symbol);
    if (c != 0)
        return c;
    return (x->day_ms > y->day_ms) - (x->day_ms < y->day_ms);
}

typedef struct span {
    const char *s;
    size_t n;
} span;

static span trim(span f)
{
    while (f.n > 0 && isspace((unsigned char)*f.s)) {
        ++f.s;
        --f.n;
    }
    while (f.n > 0 && isspace((unsigned char)f.s[f.n - 1]))
        --f.n;
    return f;
}

#define CAP_COLS 3

/* Splits into exactly CAP_COLS trimmed fields; the count found. */
static int split3(const char *line, size_t len, span *f)
{
    int n = 0;
    const char *p = line, *end = line + len;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *fe = comma != NULL ? comma : end;
        if (n < CAP_COLS)
            f[n] = trim((span){p, (size_t)(fe - p)});
        ++n;
        if (comma == NULL)
            return n;
        p = comma + 1;
    }
}

static int span_is(span f, const char *name)
{
    return f.n == strlen(name) && strncasecmp(f.s, name, f.n) == 0;
}

#define SHOW(f) (int)((f).n > 40 ? 40 : (f).n), (f).s

static int parse_cap_row(const char *path, size_t line_no, const span *f,
                         const int *col, cap_row *row, coce_err *err)
{
    span d = f[col[0]], s = f[col[1]], c = f[col[2]];
    int64_t t = 0;
    if (coce_trade_parse_time(d.s, d.n, &t) != COCE_OK)
        return coce_err_set(err, COCE_EPARSE,
                            "%s:%zu: column 'date': not a date '%.*s'", path,
                            line_no, SHOW(d));
    row->day_ms = t - (((t % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY);
    char raw[COCE_SYMBOL_MAX + 1] = "";
    if (s.n > 0 && s.n <= COCE_SYMBOL_MAX) {
        memcpy(raw, s.s, s.n);
        raw[s.n] = '\0';
    }
    if (raw[0] == '\0' || memchr(s.s, '\0', s.n) != NULL ||
        coce_symbol_base(raw, row->symbol, sizeof row->symbol) != COCE_OK)
        return coce_err_set(err, COCE_EPARSE,
                            "%s:%zu: column 'symbol': not a symbol '%.*s'",
                            path, line_no, SHOW(s));
    if (!coce__parse_double(c.s, c.n, &row->cap) || row->cap < 0.0)
        return coce_err_set(err, COCE_EPARSE,
                            "%s:%zu: column 'market_cap_usd': not a "
                            "non-negative number '%.*s'",
                            path, line_no, SHOW(c));
    row->line = line_no;
    return COCE_OK;
}

static int caps_parse(const char *path, const char *text, size_t len,
                      cap_row **rows_out, size_t *n_out, coce_err *err)
{
    size_t pos = 0, line_no = 0, n = 0, cap = 0;
    int col[CAP_COLS] = {-1, -1, -1};
    cap_row *rows = NULL;
    int rc = COCE_OK;
    while (pos < len && rc == COCE_OK) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl != NULL ? (size_t)(nl - line) : len - pos;
        pos += nl != NULL ? ll + 1 : ll;
        ++line_no;
        if (trim((span){line, ll}).n == 0)
            continue;
        span f[CAP_COLS];
        int k = split3(line, ll, f);
        if (col[0] == -1) {
            static const char *const NAMES[CAP_COLS] = {"date", "symbol",
                                                        "market_cap_usd"};
            for (int c = 0; c < CAP_COLS && k == CAP_COLS; ++c)
                for (int j = 0; j < CAP_COLS; ++j)
                    if (span_is(f[j], NAMES[c]))
                        col[c] = j;
            if (k != CAP_COLS || col[0] == -1 || col[1] == -1 || col[2] == -1)
                rc = coce_err_set(err, COCE_EPARSE,
                                  "%s:%zu: unknown header (expected "
                                  "date,symbol,market_cap_usd)",
                                  path, line_no);
            continue;
        }
        if (k != CAP_COLS) {
            rc = coce_err_set(err, COCE_EPARSE,
                              "%s:%zu: wrong number of columns (expected 3, "
                              "got %d)",
                              path, line_no, k);
            break;
        }
        if (n == cap) {
            size_t ncap = cap == 0 ? 1024 : cap * 2;
            cap_row *bigger = realloc(rows, ncap * sizeof *bigger);
            if (bigger == NULL) {
                rc = coce_err_set(err, COCE_ENOMEM, "%s: out of memory",
                                  path);
                break;
            }
            rows = bigger;
            cap = ncap;
        }
        rc = parse_cap_row(path, line_no, f, col, &rows[n], err);
        if (rc == COCE_OK)
            ++n;
    }
    if (rc == COCE_OK && col[0] == -1)
        rc = coce_err_set(err, COCE_EPARSE, "%s: empty file (no header)",
                          path);
    if (rc != COCE_OK) {
        free(rows);
        return rc;
    }
    *rows_out = rows;
    *n_out = n;
    return COCE_OK;
}

int coce_market_caps_load(const char *path, coce_market_caps *out,
                          coce_err *err)
{
    if (path == NULL || out == NULL)
        return coce_err_set(err, COCE_EINVAL,
                            "coce_market_caps_load: NULL argument");
    memset(out, 0, sizeof *out);
    char *text = NULL;
    size_t len = 0;
    int rc = coce_fs_read_all(path, &text, &len, err);
    if (rc != COCE_OK)
        return rc;
    cap_row *rows = NULL;
    size_t n = 0;
    rc = caps_parse(path, text, len, &rows, &n, err);
    free(text);
    if (rc != COCE_OK)
        return rc;
    if (n > 1)
        qsort(rows, n, sizeof *rows, cmp_row);
    for (size_t i = 1; i < n; ++i) {
        if (cmp_row(&rows[i - 1], &rows[i]) == 0) {
            size_t a = rows[i - 1].line, b = rows[i].line;
            rc = coce_err_set(err, COCE_EPARSE,
                              "%s:%zu: column 'date': second cap of %s for "
                              "the same day (first at line %zu)",
                              path, a > b ? a : b, rows[i].symbol,
                              a < b ? a : b);
            free(rows);
            return rc;
        }
    }
    size_t m = n > 0 ? n : 1;
    out->symbol = malloc(m * sizeof *out->symbol);
    out->day_ms = malloc(m * sizeof *out->day_ms);
    out->cap_usd = malloc(m * sizeof *out->cap_usd);
    if (out->symbol == NULL || out->day_ms == NULL || out->cap_usd == NULL) {
        free(rows);
        coce_market_caps_destroy(out);
        return coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
    }
    for (size_t i = 0; i < n; ++i) {
        memcpy(out->symbol[i], rows[i].symbol, sizeof out->symbol[i]);
        out->day_ms[i] = rows[i].day_ms;
        out->cap_usd[i] = rows[i].cap;
    }
    out->n = n;
    free(rows);
    return COCE_OK;
}

int coce_market_caps_asof(const coce_market_caps *mc, const char *symbol,
                          int64_t t_ms, double *cap_usd, int64_t *day_ms)
{
    if (mc == NULL || symbol == NULL || cap_usd == NULL)
        return COCE_EINVAL;
    if (t_ms < INT64_MIN + MS_PER_DAY)
        return COCE_ENOTFOUND;
    char key[COCE_SYMBOL_MAX + 1];
    size_t k = 0;
    for (; k < COCE_SYMBOL_MAX && symbol[k] != '\0'; ++k)
        key[k] = (char)toupper((unsigned char)symbol[k]);
    key[k] = '\0';
    /* first row of the symbol */
    size_t lo = 0, hi = mc->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(mc->symbol[mid], key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t first = lo;
    /* last row of the symbol whose day has ended by t_ms: day + 24 h <= t */
    size_t best = SIZE_MAX;
    hi = mc->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(mc->symbol[mid], key) == 0 &&
            mc->day_ms[mid] <= t_ms - MS_PER_DAY) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (best == SIZE_MAX || best < first)
        return COCE_ENOTFOUND;
    *cap_usd = mc->cap_usd[best];
    if (day_ms != NULL)
        *day_ms = mc->day_ms[best];
    return COCE_OK;
}

void coce_market_caps_fill(const coce_market_caps *mc,
                           coce_universe_asset *assets, size_t n,
                           int64_t t_ms)
{
    if (assets == NULL)
        return;
    for (size_t i = 0; i < n; ++i) {
        double cap = NAN;
        if (mc == NULL ||
            coce_market_caps_asof(mc, assets[i].symbol, t_ms, &cap, NULL) !=
                COCE_OK)
            cap = NAN;
        assets[i].market_cap_usd = cap;
    }
}

void coce_market_caps_destroy(coce_market_caps *mc)
{
    if (mc == NULL)
        return;
    free(mc->symbol);
    free(mc->day_ms);
    free(mc->cap_usd);
    memset(mc, 0, sizeof *mc);
}
