/* Meta kill-switch; rule and sources in killswitch.h. */
#include "risk_guardrails/killswitch.h"

#include "utils/error.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void coce_killswitch_cfg_default(coce_killswitch_cfg *cfg)
{
    if (!cfg)
        return;
    cfg->sharpe_min = 1.2;
    cfg->hit_rate_min = 0.6;
    cfg->window_days = 7;
    cfg->min_trades = 5;
    cfg->annualisation = 365.0;
}

/* Annualised Sharpe of x[0..n), n >= 2, two-pass mean and variance. */
static double sharpe_of(const double *x, size_t n, double annualisation)
{
    double mean = 0.0;
    for (size_t i = 0; i < n; ++i)
        mean += x[i];
    mean /= (double)n;
    double ss = 0.0;
    for (size_t i = 0; i < n; ++i)
        ss += (x[i] - mean) * (x[i] - mean);
    const double sd = sqrt(ss / (double)(n - 1));
    if (sd == 0.0) {
        if (mean > 0.0)
            return INFINITY;
        return mean < 0.0 ? -INFINITY : 0.0;
    }
    return mean / sd * sqrt(annualisation);
}

int coce_killswitch_evaluate(const coce_killswitch_cfg *cfg,
                             const double *daily_returns, size_t n_days,
                             const double *closed_trade_pnl, size_t n_trades,
                             coce_killswitch_verdict *out)
{
    if (!cfg || !out || cfg->window_days < 2 || !(cfg->annualisation > 0.0) ||
        !isfinite(cfg->annualisation) || isnan(cfg->sharpe_min) ||
        isnan(cfg->hit_rate_min) || (n_days > 0 && !daily_returns) ||
        (n_trades > 0 && !closed_trade_pnl))
        return COCE_EINVAL;
    const size_t w = n_days < cfg->window_days ? n_days : cfg->window_days;
    const double *win = w ? daily_returns + (n_days - w) : NULL;
    for (size_t i = 0; i < w; ++i)
        if (!isfinite(win[i]))
            return COCE_EINVAL;
    size_t hits = 0;
    for (size_t i = 0; i < n_trades; ++i) {
        if (!isfinite(closed_trade_pnl[i]))
            return COCE_EINVAL;
        hits += closed_trade_pnl[i] > 0.0;
    }
    memset(out, 0, sizeof *out);
    out->days = n_days;
    out->trades = n_trades;
    out->hit_rate = n_trades ? (double)hits / (double)n_trades : 0.0;
    const int full = n_days >= cfg->window_days;
    if (full)
        out->sharpe = sharpe_of(win, w, cfg->annualisation);
    if (!full || n_trades < cfg->min_trades) {
        snprintf(out->reason, sizeof out->reason,
                 "not judged: %zu/%zu days, %zu/%zu trades", n_days,
                 cfg->window_days, n_trades, cfg->min_trades);
        return COCE_OK;
    }
    out->judged = 1;
    const int low_sharpe = out->sharpe < cfg->sharpe_min;
    /* Without trades (min_trades = 0) the hit rate is undefined. */
    const int low_hit = n_trades > 0 && out->hit_rate < cfg->hit_rate_min;
    out->halt = low_sharpe || low_hit;
    if (low_sharpe && low_hit)
        snprintf(out->reason, sizeof out->reason,
                 "sharpe %.4g < %.4g; hit_rate %.4g < %.4g", out->sharpe,
                 cfg->sharpe_min, out->hit_rate, cfg->hit_rate_min);
    else if (low_sharpe)
        snprintf(out->reason, sizeof out->reason, "sharpe %.4g < %.4g",
                 out->sharpe, cfg->sharpe_min);
    else if (low_hit)
        snprintf(out->reason, sizeof out->reason, "hit_rate %.4g < %.4g",
                 out->hit_rate, cfg->hit_rate_min);
    else
        snprintf(out->reason, sizeof out->reason, "ok");
    return COCE_OK;
}

typedef struct jbuf {
    char *buf;
    size_t len;
    size_t pos;
    int overflow;
} jbuf;

static void jb_printf(jbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void jb_printf(jbuf *b, const char *fmt, ...)
{
    if (b->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    const int w = vsnprintf(b->buf + b->pos, b->len - b->pos, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= b->len - b->pos) {
        b->overflow = 1;
        return;
    }
    b->pos += (size_t)w;
}

static void jb_number(jbuf *b, double x)
{
    if (isfinite(x))
        jb_printf(b, "%.17g", x);
    else
        jb_printf(b, "null");
}

int coce_killswitch_event_json(const coce_killswitch_verdict *v,
                               int64_t time_ms, char *buf, size_t len)
{
    if (!v || !buf || len == 0)
        return COCE_EINVAL;
    jbuf b = {buf, len, 0, 0};
    buf[0] = '\0';
    jb_printf(&b,
              "{\"time_ms\":%" PRId64 ",\"event\":\"killswitch\","
              "\"judged\":%s,\"halt\":%s,\"sharpe\":",
              time_ms, v->judged ? "true" : "false",
              v->halt ? "true" : "false");
    jb_number(&b, v->sharpe);
    jb_printf(&b, ",\"hit_rate\":");
    jb_number(&b, v->hit_rate);
    jb_printf(&b, ",\"trades\":%zu,\"days\":%zu,\"reason\":\"", v->trades,
              v->days);
    for (size_t i = 0; i < sizeof v->reason && v->reason[i]; ++i) {
        const unsigned char c = (unsigned char)v->reason[i];
        if (c == '"' || c == '\\')
            jb_printf(&b, "\\%c", c);
        else if (c < 0x20)
            jb_printf(&b, "\\u%04x", (unsigned)c);
        else
            jb_printf(&b, "%c", c);
    }
    jb_printf(&b, "\"}");
    return b.overflow ? COCE_ERANGE : COCE_OK;
}
