/* Convexity sleeve: selection, sizing and back-test; see sleeve.h. */
#include "options/sleeve.h"

#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#define DAY_MS 86400000.0
#define YEAR_MS (365.0 * DAY_MS) /* Deribit's year: 365 days (measured) */
#define SLEEVE_MAX_STRIKES 400

void coce_sleeve_rules_default(coce_sleeve_rules *r)
{
    r->calls = 1;
    r->puts = 1;
    r->delta_min = 0.05;
    r->delta_max = 0.15;
    r->min_days = 7.0;
    r->max_days = 60.0;
    r->min_open_interest = 10.0;
    r->max_spread = 0.5;
    r->budget_share = 0.01;
    r->budget_period_days = 30.0;
    r->roll_days = 3.0;
    r->rank = COCE_SLEEVE_RANK_DELTA_MID;
}

int coce_sleeve_rules_from_config(const coce_config *cfg, coce_sleeve_rules *r,
                                  coce_err *err)
{
    if (!cfg || !r)
        return coce_err_set(err, COCE_EINVAL, "sleeve rules: NULL");
    coce_sleeve_rules_default(r);
    const char *k = cfg->options.kind;
    if (strcmp(k, "call") == 0) {
        r->puts = 0;
    } else if (strcmp(k, "put") == 0) {
        r->calls = 0;
    } else if (strcmp(k, "both") != 0) {
        return coce_err_set(err, COCE_ECONFIG,
                            "options.kind: '%s' is not call|put|both", k);
    }
    r->delta_min = cfg->options.delta_min;
    r->delta_max = cfg->options.delta_max;
    r->min_days = (double)cfg->options.min_days;
    r->max_days = (double)cfg->options.max_days;
    r->min_open_interest = cfg->options.min_open_interest;
    r->max_spread = cfg->options.max_spread;
    r->budget_share = cfg->options.budget_share;
    r->roll_days = (double)cfg->options.roll_days;
    r->budget_period_days = cfg->options.budget_period_days;
    r->rank = strcmp(cfg->options.rank, "vega_cost") == 0
                  ? COCE_SLEEVE_RANK_VEGA_COST
                  : COCE_SLEEVE_RANK_DELTA_MID;
    if (!(r->delta_min >= 0.0 && r->delta_min <= r->delta_max &&
          r->delta_max <= 1.0))
        return coce_err_set(err, COCE_ECONFIG,
                            "options.delta_min/delta_max: need 0 <= %g <= %g "
                            "<= 1",
                            r->delta_min, r->delta_max);
    if (!(r->min_days >= 0.0 && r->min_days <= r->max_days))
        return coce_err_set(err, COCE_ECONFIG,
                            "options.min_days/max_days: need 0 <= %g <= %g",
                            r->min_days, r->max_days);
    return COCE_OK;
}

/* Rank value (lower is better); see coce_sleeve_rank. */
static double rank_score(const coce_sleeve_rules *r, double delta,
                         double cost_per_vega)
{
    if (r->rank == COCE_SLEEVE_RANK_VEGA_COST)
        return cost_per_vega;
    double width = r->delta_max - r->delta_min;
    double mid = 0.5 * (r->delta_min + r->delta_max);
    return fabs(fabs(delta) - mid) / (width > 0.0 ? width : 1.0);
}

/* a better than b: lower score, then later expiry, then lower strike. */
static int better(const coce_sleeve_choice *a, const coce_sleeve_choice *b)
{
    if (a->score != b->score)
        return a->score < b->score;
    if (a->expiry_ms != b->expiry_ms)
        return a->expiry_ms > b->expiry_ms;
    return a->strike < b->strike;
}

/* Inserts c into the sorted list out[0..*n) of capacity cap. */
static void keep_best(coce_sleeve_choice *out, size_t cap, size_t *n,
                      const coce_sleeve_choice *c)
{
    size_t pos = *n;
    while (pos > 0 && better(c, &out[pos - 1]))
        pos--;
    if (pos >= cap)
        return;
    size_t last = *n < cap ? *n : cap - 1;
    for (size_t j = last; j > pos; j--)
        out[j] = out[j - 1];
    out[pos] = *c;
    if (*n < cap)
        (*n)++;
}

int coce_sleeve_select(const coce_sleeve_rules *r, const coce_instrument *inst,
                       size_t ni, const coce_ticker *tk, size_t nt,
                       int64_t now_ms, coce_sleeve_choice *out, size_t cap,
                       size_t *n_out, coce_sleeve_rejects *rej, coce_err *err)
{
    coce_sleeve_rejects local;
    if (!rej)
        rej = &local;
    memset(rej, 0, sizeof *rej);
    if (!r || !n_out || (ni && !inst) || (nt && !tk) || (cap && !out))
        return coce_err_set(err, COCE_EINVAL, "sleeve_select: NULL input");
    if (!(r->delta_min <= r->delta_max))
        return coce_err_set(err, COCE_EINVAL,
                            "sleeve_select: delta_min %g > delta_max %g",
                            r->delta_min, r->delta_max);
    *n_out = 0;
    for (size_t i = 0; i < ni; i++) {
        const coce_instrument *in = &inst[i];
        if (in->kind != COCE_INST_OPTION)
            continue;
        rej->seen++;
        if ((in->option_type == COCE_OPT_CALL && !r->calls) ||
            (in->option_type == COCE_OPT_PUT && !r->puts)) {
            rej->kind++;
            continue;
        }
        size_t j = 0;
        while (j < nt && strcmp(tk[j].name, in->name) != 0)
            j++;
        if (j == nt || !(tk[j].best_bid_price > 0.0) ||
            !(tk[j].best_ask_price >= tk[j].best_bid_price) ||
            isnan(tk[j].delta) || !(tk[j].underlying_price > 0.0)) {
            rej->no_quote++;
            continue;
        }
        const coce_ticker *t = &tk[j];
        double days = (double)(in->expiry_ms - now_ms) / DAY_MS;
        if (!(days >= r->min_days && days <= r->max_days)) {
            rej->days++;
            continue;
        }
        double ad = fabs(t->delta);
        if (!(ad >= r->delta_min && ad <= r->delta_max)) {
            rej->delta++;
            continue;
        }
        if (!(t->open_interest >= r->min_open_interest)) {
            rej->open_interest++;
            continue;
        }
        double mid = 0.5 * (t->best_bid_price + t->best_ask_price);
        double spread = (t->best_ask_price - t->best_bid_price) / mid;
        if (!(spread <= r->max_spread)) {
            rej->spread++;
            continue;
        }
        rej->accepted++;
        coce_sleeve_choice c;
        c.inst = i;
        c.ticker = j;
        c.type = in->option_type;
        c.strike = in->strike;
        c.expiry_ms = in->expiry_ms;
        c.days = days;
        c.underlying = t->underlying_price;
        c.delta = t->delta;
        c.iv = t->mark_iv / 100.0;
        c.bid = t->best_bid_price;
        c.ask = t->best_ask_price;
        c.mid = mid;
        c.spread = spread;
        c.open_interest = t->open_interest;
        c.vega_usd = t->vega;
        c.cost_per_vega =
            t->vega > 0.0 ? t->best_ask_price * t->underlying_price / t->vega
                          : INFINITY;
        c.score = rank_score(r, t->delta, c.cost_per_vega);
        c.model_ask = NAN;
        c.venue_ask = NAN;
        c.limit = NAN;
        if (cap > 0)
            keep_best(out, cap, n_out, &c);
    }
    return COCE_OK;
}

double coce_sleeve_fee(double price_coin, double fee_rate, double fee_cap)
{
    double capped = fee_cap * price_coin;
    return capped < fee_rate ? capped : fee_rate;
}

int coce_sleeve_size(double budget_coin, double ask_coin, double fee_coin,
                     double min_trade_amount, double *amount)
{
    if (!amount || !(ask_coin > 0.0) || !(min_trade_amount > 0.0) ||
        !(fee_coin >= 0.0))
        return COCE_EINVAL;
    double unit = (ask_coin + fee_coin) * min_trade_amount;
    double lots = budget_coin > 0.0 ? floor(budget_coin / unit) : 0.0;
    /* floor of a quotient can overshoot by an ulp: step back if needed */
    while (lots > 0.0 && lots * unit > budget_coin)
        lots -= 1.0;
    *amount = lots * min_trade_amount;
    return COCE_OK;
}

int coce_sleeve_must_roll(const coce_sleeve_rules *r, int64_t now_ms,
                          int64_t expiry_ms)
{
    return (double)(expiry_ms - now_ms) / DAY_MS <= r->roll_days;
}

int coce_sleeve_check_sell(double held, double sell_amount, coce_err *err)
{
    if (!(sell_amount >= 0.0) || !(held >= 0.0))
        return coce_err_set(err, COCE_EINVAL,
                            "sell %g of %g held: negative amount", sell_amount,
                            held);
    if (sell_amount > held * (1.0 + 1e-9))
        return coce_err_set(err, COCE_ERANGE,
                            "sell %g with %g held would go short (the sleeve "
                            "is long only)",
                            sell_amount, held);
    return COCE_OK;
}

/* ---- back-test ---- */

void coce_sleeve_cfg_default(coce_sleeve_cfg *c)
{
    coce_sleeve_rules_default(&c->rules);
    c->vol_window_days = 30.0;
    c->iv_scale = 1.0;
    c->skew_put = 1.0;
    c->skew_call = 0.5;
    c->vol_floor = 0.1;
    c->vol_cap = 5.0;
    c->strike_step_share = 0.025;
    c->half_spread = 0.05;
    c->tick_coin = 0.0001;
    c->fee_rate = 0.0003;
    c->fee_cap = 0.125;
    c->min_trade_amount = 0.1;
}

double coce_sleeve_surface(const coce_sleeve_cfg *c, double sigma_atm, double F,
                           double K)
{
    double x = log(K / F);
    double a = x < 0.0 ? c->skew_put : c->skew_call;
    double s = sigma_atm * (1.0 + a * fabs(x));
    if (s < c->vol_floor)
        s = c->vol_floor;
    if (s > c->vol_cap)
        s = c->vol_cap;
    return s;
}

/* A "nice" strike step near F * share: 1, 2, 2.5 or 5 times a power of 10
 * (Deribit lists e.g. 1000-wide BTC and 50-wide ETH strikes). */
static double strike_step(double F, double share)
{
    double raw = F * share;
    double p = pow(10.0, floor(log10(raw)));
    static const double nice[] = {1.0, 2.0, 2.5, 5.0, 10.0};
    double best = p;
    for (size_t i = 0; i < 5; i++)
        if (fabs(nice[i] * p - raw) < fabs(best - raw))
            best = nice[i] * p;
    return best;
}

/* First Friday 08:00 UTC strictly after t (Deribit weekly expiries). */
static int64_t next_friday(int64_t t)
{
    int64_t day = t >= 0 ? t / 86400000 : (t - 86399999) / 86400000;
    int64_t wd = (day + 4) % 7; /* 1970-01-01 was a Thursday (4) */
    int64_t e = (day + (5 - wd + 7) % 7) * 86400000 + 8 * 3600000;
    if (e <= t)
        e += 7 * 86400000LL;
    return e;
}

typedef struct model_quote {
    double mid;
    double bid;
    double ask;
    double sigma;
    double delta;
    double vega_usd;
} model_quote;

static double round_tick(double x, double tick, int up)
{
    double q = x / tick;
    double n = nearbyint(q);
    if (fabs(q - n) <= 1e-9)
        return n * tick;
    return (up ? ceil(q) : floor(q)) * tick;
}

static void model_price(const coce_sleeve_cfg *c, coce_opt_type type, double F,
                        double K, double T, double s_atm, model_quote *q)
{
    coce_b76_greeks g;
    q->sigma = coce_sleeve_surface(c, s_atm, F, K);
    if (T <= 0.0)
        (void)coce_b76_greeks_calc(type, F, K, 0.0, q->sigma, 1.0, &g);
    else
        (void)coce_b76_greeks_calc(type, F, K, T, q->sigma, 1.0, &g);
    q->mid = coce_b76_coin(g.price, F);
    q->delta = g.delta;
    q->vega_usd = g.vega / 100.0;
    q->ask = round_tick(q->mid * (1.0 + c->half_spread), c->tick_coin, 1);
    q->bid = round_tick(q->mid * (1.0 - c->half_spread), c->tick_coin, 0);
}

/* Best model option of one type at time t (spot F, ATM vol s_atm) over the
 * Friday expiries in the days band and the strike grid; 0 if none. */
static int model_best(const coce_sleeve_cfg *c, coce_opt_type type, int64_t t,
                      double F, double s_atm, coce_sleeve_choice *best)
{
    const coce_sleeve_rules *r = &c->rules;
    double step = strike_step(F, c->strike_step_share);
    double k0 = type == COCE_OPT_PUT ? floor(F / step) : ceil(F / step);
    int found = 0;
    for (int64_t e = next_friday(t);; e += 7 * 86400000LL) {
        double days = (double)(e - t) / DAY_MS;
        if (days > r->max_days)
            break;
        if (days < r->min_days || days <= r->roll_days)
            continue;
        double T = (double)(e - t) / YEAR_MS;
        for (int k = 0; k < SLEEVE_MAX_STRIKES; k++) {
            double K = type == COCE_OPT_PUT ? (k0 - k) * step : (k0 + k) * step;
            if (K <= 0.0)
                break;
            if (K == F)
                continue; /* at the money: never in a deep-OTM band */
            model_quote q;
            model_price(c, type, F, K, T, s_atm, &q);
            double ad = fabs(q.delta);
            if (ad < r->delta_min)
                break; /* moving away from F only lowers |delta| */
            if (ad > r->delta_max || !(q.mid > 0.0))
                continue;
            double spread = (q.ask - q.bid) / q.mid;
            if (!(spread <= r->max_spread) || !(q.ask > 0.0))
                continue;
            coce_sleeve_choice ch;
            ch.inst = SIZE_MAX;
            ch.ticker = SIZE_MAX;
            ch.type = type;
            ch.strike = K;
            ch.expiry_ms = e;
            ch.days = days;
            ch.underlying = F;
            ch.delta = q.delta;
            ch.iv = q.sigma;
            ch.bid = q.bid;
            ch.ask = q.ask;
            ch.mid = q.mid;
            ch.spread = spread;
            ch.open_interest = NAN;
            ch.vega_usd = q.vega_usd;
            ch.cost_per_vega =
                q.vega_usd > 0.0 ? q.ask * F / q.vega_usd : INFINITY;
            ch.score = rank_score(r, q.delta, ch.cost_per_vega);
            ch.model_ask = q.ask;
            ch.venue_ask = NAN;
            ch.limit = NAN;
            if (!found || better(&ch, best)) {
                *best = ch;
                found = 1;
            }
        }
    }
    return found;
}

static int cfg_ok(const coce_sleeve_cfg *c)
{
    const coce_sleeve_rules *r = &c->rules;
    return r->delta_min >= 0.0 && r->delta_min <= r->delta_max &&
           r->min_days >= 0.0 && r->min_days <= r->max_days &&
           r->max_days <= 3650.0 && r->budget_share >= 0.0 &&
           r->budget_period_days > 0.0 && r->max_spread >= 0.0 &&
           c->vol_window_days > 0.0 && c->iv_scale > 0.0 &&
           c->skew_put >= 0.0 && c->skew_call >= 0.0 && c->vol_floor > 0.0 &&
           c->vol_cap >= c->vol_floor && c->strike_step_share > 0.0 &&
           c->half_spread >= 0.0 && c->half_spread < 1.0 &&
           c->tick_coin > 0.0 && c->fee_rate >= 0.0 && c->fee_cap >= 0.0 &&
           c->min_trade_amount > 0.0;
}

/* The summary named `name` in sum[0..ns), or SIZE_MAX. */
static size_t summary_of(const coce_ticker *sum, size_t ns, const char *name)
{
    for (size_t j = 0; j < ns; j++)
        if (strcmp(sum[j].name, name) == 0)
            return j;
    return SIZE_MAX;
}

/* One listed instrument against the rules: 1 and *c filled when it passes,
 * 0 with the reject counted otherwise. */
static int listed_one(const coce_sleeve_cfg *c, const coce_instrument *in,
                      const coce_ticker *t, int64_t t_ms, double F,
                      double s_atm, coce_sleeve_choice *ch,
                      coce_sleeve_rejects *rej)
{
    const coce_sleeve_rules *r = &c->rules;
    if (!in->is_active) {
        rej->inactive++;
        return 0;
    }
    double days = (double)(in->expiry_ms - t_ms) / DAY_MS;
    if (!(days >= r->min_days && days <= r->max_days && days > r->roll_days)) {
        rej->days++;
        return 0;
    }
    double T = (double)(in->expiry_ms - t_ms) / YEAR_MS;
    double fwd = t && t->underlying_price > 0.0 ? t->underlying_price : F;
    double sigma = t && t->mark_iv > 0.0
                       ? t->mark_iv / 100.0
                       : coce_sleeve_surface(c, s_atm, F, in->strike);
    coce_b76_greeks g;
    if (!(in->strike > 0.0) ||
        coce_b76_greeks_calc(in->option_type, fwd, in->strike, T, sigma, 1.0,
                             &g) != COCE_OK) {
        rej->delta++;
        return 0;
    }
    double ad = fabs(g.delta);
    if (!(ad >= r->delta_min && ad <= r->delta_max)) {
        rej->delta++;
        return 0;
    }
    double oi = t ? t->open_interest : NAN;
    if (!isnan(oi) && !(oi >= r->min_open_interest)) {
        rej->open_interest++;
        return 0;
    }
    double bid = t ? t->best_bid_price : NAN;
    double ask = t && t->best_ask_price > 0.0 ? t->best_ask_price : NAN;
    double spread = NAN;
    if (bid > 0.0 && ask >= bid)
        spread = (ask - bid) / (0.5 * (bid + ask));
    if (!isnan(spread) && !(spread <= r->max_spread)) {
        rej->spread++;
        return 0;
    }
    model_quote q;
    model_price(c, in->option_type, F, in->strike, T, s_atm, &q);
    double limit = 0.0;
    double want = isnan(ask) || q.ask < ask ? q.ask : ask;
    if (coce_instrument_round_price(in, want, COCE_ROUND_DOWN, &limit) !=
            COCE_OK ||
        !(limit > 0.0)) {
        rej->price++;
        return 0;
    }
    memset(ch, 0, sizeof *ch);
    ch->type = in->option_type;
    ch->strike = in->strike;
    ch->expiry_ms = in->expiry_ms;
    ch->days = days;
    ch->underlying = fwd;
    ch->delta = g.delta;
    ch->iv = sigma;
    ch->bid = bid;
    ch->ask = isnan(ask) ? q.ask : ask;
    ch->mid = q.mid;
    ch->spread = spread;
    ch->open_interest = oi;
    ch->vega_usd = g.vega / 100.0;
    ch->cost_per_vega =
        ch->vega_usd > 0.0 ? limit * fwd / ch->vega_usd : INFINITY;
    ch->score = rank_score(r, g.delta, ch->cost_per_vega);
    ch->model_ask = q.ask;
    ch->venue_ask = ask;
    ch->limit = limit;
    return 1;
}

int coce_sleeve_select_listed(const coce_sleeve_cfg *cfg, coce_opt_type type,
                              int64_t t_ms, double F, double sigma_atm,
                              const coce_instrument *inst, size_t ni,
                              const coce_ticker *sum, size_t ns,
                              coce_sleeve_choice *out,
                              coce_sleeve_rejects *rej, coce_err *err)
{
    coce_sleeve_rejects local;
    if (!rej)
        rej = &local;
    memset(rej, 0, sizeof *rej);
    if (!cfg || !out || (ni && !inst) || (ns && !sum))
        return coce_err_set(err, COCE_EINVAL, "sleeve_select_listed: NULL input");
    if (!cfg_ok(cfg) || !(F > 0.0) || !(sigma_atm > 0.0))
        return coce_err_set(err, COCE_EINVAL,
                            "sleeve_select_listed: bad cfg, F %g or "
                            "sigma_atm %g",
                            F, sigma_atm);
    int found = 0;
    for (size_t i = 0; i < ni; i++) {
        const coce_instrument *in = &inst[i];
        if (in->kind != COCE_INST_OPTION)
            continue;
        rej->seen++;
        if (in->option_type != type) {
            rej->kind++;
            continue;
        }
        size_t j = summary_of(sum, ns, in->name);
        coce_sleeve_choice ch;
        if (!listed_one(cfg, in, j == SIZE_MAX ? NULL : &sum[j], t_ms, F,
                        sigma_atm, &ch, rej))
            continue;
        rej->accepted++;
        ch.inst = i;
        ch.ticker = j;
        if (!found || better(&ch, out)) {
            *out = ch;
            found = 1;
        }
    }
    if (!found)
        return coce_err_set(err, COCE_ENOTFOUND,
                            "sleeve_select_listed: none of %zu listed "
                            "options passes the rules",
                            rej->seen);
    return COCE_OK;
}

static void add_event(coce_sleeve_result *res, const coce_sleeve_event *ev)
{
    if (res->events && res->n_events < res->events_cap)
        res->events[res->n_events] = *ev;
    res->n_events++;
}

/* Sum of squared log returns first..i (inclusive). Annualised by the span
 * the returns cover, sum r^2 / span is the zero-mean realised variance
 * (Andersen & Bollerslev 1998, "Answering the skeptics", sec. 2), which
 * suits hourly and daily samples alike. */
static double realised_ss(const double *px, size_t first, size_t i)
{
    double ss = 0.0;
    for (size_t k = first; k <= i; k++) {
        double lr = log(px[k] / px[k - 1]);
        ss += lr * lr;
    }
    return ss;
}

double coce_sleeve_mark(const coce_sleeve_cfg *cfg, const coce_sleeve_pos *p,
                        int64_t t_ms, double F, double sigma_atm)
{
    model_quote q;
    double T = (double)(p->expiry_ms - t_ms) / YEAR_MS;
    model_price(cfg, p->type, F, p->strike, T > 0.0 ? T : 0.0, sigma_atm, &q);
    return q.mid;
}

void coce_sleeve_state_init(coce_sleeve_state *st)
{
    memset(st, 0, sizeof *st);
    st->period = -1;
    st->last_day = INT64_MIN;
    st->first_trade_ms = INT64_MIN;
}

static coce_sleeve_event make_event(int64_t t, int what, const coce_sleeve_pos *p)
{
    coce_sleeve_event ev;
    memset(&ev, 0, sizeof ev);
    ev.t_ms = t;
    ev.what = what;
    ev.type = p->type;
    ev.strike = p->strike;
    ev.expiry_ms = p->expiry_ms;
    ev.amount = p->amount;
    return ev;
}

/* Held options of `work` after the settles and rolls of this step (the
 * view the buy decision takes). */
static void step_settle(coce_sleeve_state *work, int64_t t, double F,
                        coce_sleeve_event *out, size_t *n)
{
    size_t w = 0;
    for (size_t k = 0; k < work->np; k++) {
        const coce_sleeve_pos *p = &work->pos[k];
        if (p->expiry_ms > t) {
            work->pos[w++] = *p;
            continue;
        }
        /* Deribit cash-settles in coin: (S - K)+ / S for a call. */
        double intr = p->type == COCE_OPT_CALL ? F - p->strike : p->strike - F;
        coce_sleeve_event ev = make_event(t, COCE_SLEEVE_SETTLE, p);
        ev.price_coin = intr > 0.0 ? intr / F : 0.0;
        ev.spot = F;
        out[(*n)++] = ev;
    }
    work->np = w;
}

static void step_roll(const coce_sleeve_cfg *c, coce_sleeve_state *work,
                      int64_t t, double F, double s_atm,
                      coce_sleeve_event *out, size_t *n)
{
    size_t w = 0;
    for (size_t k = 0; k < work->np; k++) {
        coce_sleeve_pos *p = &work->pos[k];
        if (p->abandoned ||
            !coce_sleeve_must_roll(&c->rules, t, p->expiry_ms)) {
            work->pos[w++] = *p;
            continue;
        }
        model_quote q;
        double T = (double)(p->expiry_ms - t) / YEAR_MS;
        model_price(c, p->type, F, p->strike, T, s_atm, &q);
        coce_sleeve_event ev = make_event(t, COCE_SLEEVE_ROLL, p);
        ev.spot = F;
        ev.sigma = q.sigma;
        ev.delta = q.delta;
        ev.days = T * 365.0;
        if (!(q.bid > 0.0)) {
            /* No bid: nothing to sell; hold to settlement, free the slot. */
            p->abandoned = 1;
            work->pos[w++] = *p;
        } else {
            /* the whole held amount and never more: long only */
            ev.price_coin = q.bid;
            ev.fee_coin = coce_sleeve_fee(q.bid, c->fee_rate, c->fee_cap);
        }
        out[(*n)++] = ev;
    }
    work->np = w;
}

static void step_buy(const coce_sleeve_cfg *c, const coce_sleeve_state *st,
                     const coce_sleeve_state *work, int64_t t, double F,
                     double s_atm, coce_sleeve_event *out, size_t *n)
{
    const coce_sleeve_rules *r = &c->rules;
    int nk = (r->calls != 0) + (r->puts != 0);
    size_t slots = work->np;
    for (int ty = 0; ty < 2; ty++) {
        coce_opt_type type = (coce_opt_type)ty;
        if ((type == COCE_OPT_CALL && !r->calls) ||
            (type == COCE_OPT_PUT && !r->puts))
            continue;
        int open = 0;
        for (size_t k = 0; k < work->np; k++)
            open |= work->pos[k].type == type && !work->pos[k].abandoned;
        if (open || slots >= COCE_SLEEVE_MAX_POS)
            continue;
        double left = st->budget_usd / nk - st->spent_kind[ty];
        coce_sleeve_choice ch;
        memset(&ch, 0, sizeof ch);
        if (!(left > 0.0) || !model_best(c, type, t, F, s_atm, &ch))
            continue;
        double fee = coce_sleeve_fee(ch.ask, c->fee_rate, c->fee_cap);
        double amount = 0.0;
        (void)coce_sleeve_size(left / F, ch.ask, fee, c->min_trade_amount,
                               &amount);
        if (!(amount > 0.0))
            continue;
        coce_sleeve_event ev;
        memset(&ev, 0, sizeof ev);
        ev.t_ms = t;
        ev.what = COCE_SLEEVE_BUY;
        ev.type = type;
        ev.strike = ch.strike;
        ev.expiry_ms = ch.expiry_ms;
        ev.amount = amount;
        ev.price_coin = ch.ask;
        ev.fee_coin = fee;
        ev.spot = F;
        ev.sigma = ch.iv;
        ev.delta = ch.delta;
        ev.days = ch.days;
        ev.budget_left_usd = left - amount * (ch.ask + fee) * F;
        out[(*n)++] = ev;
        slots++;
    }
}

int coce_sleeve_clock(const coce_sleeve_rules *rules, coce_sleeve_state *st,
                      int64_t t)
{
    if (st->first_trade_ms == INT64_MIN)
        st->first_trade_ms = t;
    int64_t day = t / 86400000;
    if (day == st->last_day)
        return 0;
    st->last_day = day;
    const double period_ms = rules->budget_period_days * DAY_MS;
    int64_t per =
        (int64_t)floor((double)(t - st->first_trade_ms) / period_ms);
    if (per == st->period)
        return 1;
    st->period = per;
    return 2;
}

int coce_sleeve_step(const coce_sleeve_cfg *cfg, coce_sleeve_state *st,
                     const int64_t *t_ms, const double *px, size_t n,
                     double equity_usd, coce_sleeve_event *out, size_t cap,
                     size_t *n_out, coce_err *err)
{
    if (!cfg || !st || !t_ms || !px || !n_out || n == 0 || !out)
        return coce_err_set(err, COCE_EINVAL, "sleeve_step: NULL input");
    *n_out = 0;
    if (cap < COCE_SLEEVE_STEP_MAX)
        return coce_err_set(err, COCE_ERANGE,
                            "sleeve_step: room for %zu intents, need %d", cap,
                            COCE_SLEEVE_STEP_MAX);
    if (!(equity_usd > 0.0) || !isfinite(equity_usd) || !cfg_ok(cfg))
        return coce_err_set(err, COCE_EINVAL,
                            "sleeve_step: equity %g not positive or invalid "
                            "configuration (bands, periods, ticks)",
                            equity_usd);
    const size_t i = n - 1;
    const int64_t t = t_ms[i];
    const double F = px[i];
    if (!(F > 0.0) || !isfinite(F))
        return coce_err_set(err, COCE_EDATA,
                            "sleeve_step: px[%zu]: not positive (%g)", i, F);
    coce_sleeve_state work = *st;
    size_t k = 0;
    step_settle(&work, t, F, out, &k);
    st->sigma_atm = 0.0;
    const int64_t window = (int64_t)llround(cfg->vol_window_days * DAY_MS);
    if (i > 0 && t - t_ms[0] >= window) {
        /* first return inside the window: t_ms[first] > t - window */
        size_t lo = 1, hi = i;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (t_ms[mid] <= t - window)
                lo = mid + 1;
            else
                hi = mid;
        }
        const size_t first = lo;
        double ss = realised_ss(px, first, i);
        st->sigma_atm =
            cfg->iv_scale *
            sqrt(ss / ((double)(t - t_ms[first - 1]) / YEAR_MS));
        int tick = coce_sleeve_clock(&cfg->rules, st, t);
        if (tick != 0) {
            if (tick == 2) {
                st->spent_kind[0] = st->spent_kind[1] = 0.0;
                st->period_spend = 0.0;
                st->budget_usd = cfg->rules.budget_share * equity_usd;
            }
            step_roll(cfg, &work, t, F, st->sigma_atm, out, &k);
            step_buy(cfg, st, &work, t, F, st->sigma_atm, out, &k);
        }
    }
    *n_out = k;
    return COCE_OK;
}

static size_t find_pos(const coce_sleeve_state *st, const coce_sleeve_event *ev)
{
    for (size_t k = 0; k < st->np; k++)
        if (st->pos[k].type == ev->type && st->pos[k].strike == ev->strike &&
            st->pos[k].expiry_ms == ev->expiry_ms)
            return k;
    return SIZE_MAX;
}

int coce_sleeve_apply(coce_sleeve_state *st, const coce_sleeve_event *ev,
                      double amount, coce_err *err)
{
    if (!st || !ev || !(amount > 0.0) || !isfinite(amount))
        return coce_err_set(err, COCE_EINVAL,
                            "sleeve_apply: NULL or amount %g not positive",
                            amount);
    if (ev->what == COCE_SLEEVE_BUY) {
        if (st->np >= COCE_SLEEVE_MAX_POS)
            return coce_err_set(err, COCE_ERANGE,
                                "sleeve_apply: all %d option slots taken",
                                COCE_SLEEVE_MAX_POS);
        coce_sleeve_pos *p = &st->pos[st->np++];
        p->type = ev->type;
        p->strike = ev->strike;
        p->expiry_ms = ev->expiry_ms;
        p->amount = amount;
        p->abandoned = 0;
        double cost = amount * (ev->price_coin + ev->fee_coin) * ev->spot;
        st->spent_kind[ev->type == COCE_OPT_PUT] += cost;
        st->period_spend += cost;
        if (st->period_spend > st->max_period_spend_usd)
            st->max_period_spend_usd = st->period_spend;
        return COCE_OK;
    }
    size_t k = find_pos(st, ev);
    if (k == SIZE_MAX)
        return coce_err_set(err, COCE_ENOTFOUND,
                            "sleeve_apply: %s %g expiring %lld is not held",
                            ev->type == COCE_OPT_CALL ? "call" : "put",
                            ev->strike, (long long)ev->expiry_ms);
    coce_sleeve_pos *p = &st->pos[k];
    if (ev->what == COCE_SLEEVE_ROLL && !(ev->price_coin > 0.0)) {
        p->abandoned = 1;
        return COCE_OK;
    }
    int rc = coce_sleeve_check_sell(p->amount, amount, err);
    if (rc != COCE_OK)
        return rc;
    p->amount -= amount;
    if (ev->what == COCE_SLEEVE_SETTLE ||
        p->amount <= ev->amount * 1e-9) {
        st->pos[k] = st->pos[st->np - 1];
        st->np--;
    }
    return COCE_OK;
}

void coce_sleeve_account(coce_sleeve_result *res, const coce_sleeve_event *ev,
                         double amount)
{
    const double F = ev->spot;
    if (ev->what == COCE_SLEEVE_BUY) {
        res->premium_coin += amount * ev->price_coin;
        res->premium_usd += amount * ev->price_coin * F;
        res->fees_coin += amount * ev->fee_coin;
        res->fees_usd += amount * ev->fee_coin * F;
        res->n_buys++;
        if (res->min_held == 0.0 || amount < res->min_held)
            res->min_held = amount;
    } else if (ev->what == COCE_SLEEVE_ROLL) {
        res->n_rolls++;
        res->proceeds_coin += amount * ev->price_coin;
        res->proceeds_usd += amount * ev->price_coin * F;
        res->fees_coin += amount * ev->fee_coin;
        res->fees_usd += amount * ev->fee_coin * F;
    } else {
        res->proceeds_coin += amount * ev->price_coin;
        res->proceeds_usd += amount * ev->price_coin * F;
        if (ev->price_coin > 0.0)
            res->n_settled_itm++;
        else
            res->n_settled_otm++;
    }
}

int coce_sleeve_option_name(const char *underlying, coce_opt_type type,
                            double strike, int64_t expiry_ms, char *out,
                            size_t cap)
{
    static const char *const mon[12] = {"JAN", "FEB", "MAR", "APR",
                                        "MAY", "JUN", "JUL", "AUG",
                                        "SEP", "OCT", "NOV", "DEC"};
    if (!underlying || !out || !(strike > 0.0) || !isfinite(strike) ||
        expiry_ms < 0)
        return COCE_EINVAL;
    /* civil date from days since 1970-01-01 (Hinnant, "chrono-Compatible
     * Low-Level Date Algorithms", days_from_civil inverse) */
    int64_t z = expiry_ms / 86400000 + 719468;
    int64_t era = z / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    char ks[32];
    (void)snprintf(ks, sizeof ks, "%.10g", strike);
    for (char *c = ks; *c; c++)
        if (*c == '.')
            *c = 'd';
    int w = snprintf(out, cap, "%s-%d%s%02d-%s-%c", underlying, (int)d,
                     mon[m - 1], (int)(y % 100), ks,
                     type == COCE_OPT_CALL ? 'C' : 'P');
    return w < 0 || (size_t)w >= cap ? COCE_ERANGE : COCE_OK;
}

int coce_sleeve_run(const coce_sleeve_cfg *cfg, const int64_t *t_ms,
                    const double *px, size_t n, double equity_usd,
                    coce_sleeve_result *res, coce_err *err)
{
    if (!cfg || !t_ms || !px || !res || n < 2)
        return coce_err_set(err, COCE_EINVAL,
                            "sleeve_run: NULL input or fewer than 2 samples");
    if (!(equity_usd > 0.0) || !isfinite(equity_usd) || !cfg_ok(cfg))
        return coce_err_set(err, COCE_EINVAL,
                            "sleeve_run: equity %g not positive or invalid "
                            "configuration (bands, periods, ticks)",
                            equity_usd);
    for (size_t i = 0; i < n; i++) {
        if (!(px[i] > 0.0) || !isfinite(px[i]))
            return coce_err_set(err, COCE_EDATA,
                                "sleeve_run: px[%zu]: not positive (%g)", i,
                                px[i]);
        if (i > 0 && t_ms[i] <= t_ms[i - 1])
            return coce_err_set(err, COCE_EORDER,
                                "sleeve_run: t[%zu] <= t[%zu]", i, i - 1);
    }
    double *pnl = res->step_pnl_usd;
    double *val = res->step_value_usd;
    coce_sleeve_event *evs = res->events;
    size_t evcap = res->events_cap;
    memset(res, 0, sizeof *res);
    res->step_pnl_usd = pnl;
    res->step_value_usd = val;
    res->events = evs;
    res->events_cap = evcap;
    res->first_trade = n;
    res->budget_usd = cfg->rules.budget_share * equity_usd;

    coce_sleeve_state st;
    coce_sleeve_state_init(&st);
    coce_sleeve_event out[COCE_SLEEVE_STEP_MAX];
    double prev_total = 0.0;
    double value_coin = 0.0;
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        int rc = coce_sleeve_step(cfg, &st, t_ms, px, i + 1, equity_usd, out,
                                  COCE_SLEEVE_STEP_MAX, &k, err);
        if (rc != COCE_OK)
            return rc;
        if (res->first_trade == n && st.first_trade_ms == t_ms[i])
            res->first_trade = i;
        for (size_t e = 0; e < k; e++) {
            /* the back-test fills every intent in full at its price */
            rc = coce_sleeve_apply(&st, &out[e], out[e].amount, err);
            if (rc != COCE_OK)
                return rc;
            coce_sleeve_account(res, &out[e], out[e].amount);
            if (out[e].what == COCE_SLEEVE_BUY)
                out[e].budget_left_usd =
                    st.budget_usd / ((cfg->rules.calls != 0) +
                                     (cfg->rules.puts != 0)) -
                    st.spent_kind[out[e].type == COCE_OPT_PUT];
            add_event(res, &out[e]);
        }
        const double F = px[i];
        value_coin = 0.0;
        for (size_t q = 0; q < st.np; q++)
            value_coin += st.pos[q].amount *
                          coce_sleeve_mark(cfg, &st.pos[q], t_ms[i], F,
                                           st.sigma_atm);
        double value_usd = value_coin * F;
        double total =
            res->proceeds_usd - res->premium_usd - res->fees_usd + value_usd;
        if (pnl)
            pnl[i] = i == 0 ? 0.0 : total - prev_total;
        if (val)
            val[i] = value_usd;
        prev_total = total;
    }
    res->n_open = st.np;
    res->max_period_spend_usd = st.max_period_spend_usd;
    res->final_value_coin = value_coin;
    res->final_value_usd = value_coin * px[n - 1];
    res->pnl_coin = res->proceeds_coin + res->final_value_coin -
                    res->premium_coin - res->fees_coin;
    res->pnl_usd = res->proceeds_usd + res->final_value_usd - res->premium_usd -
                   res->fees_usd;
    return COCE_OK;
}
