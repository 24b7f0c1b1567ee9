/* Back-test report page: what it shows in report.h, the definitions of the
 * figures in docs/report.md. */
#include "agent/report.h"

#include "data_ingest/trades.h"
#include "utils/fsutil.h"
#include "utils/symbols.h"
#include "utils/types.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define DAY_MS 86400000LL
#define HOUR_MS 3600000LL
#define ANN 365.0
#define PI 3.14159265358979323846
#define MAX_GROUPS 10 /* colours in the exposure chart: 9 named + "other" */
#define PRICE_BUCKETS 120
#define NO_CLUSTER (-1)

static const char *const palette[MAX_GROUPS] = {
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

/* ---- string builder ------------------------------------------------------- */

typedef struct sb {
    char *p;
    size_t n, cap;
    int oom;
} sb;

static void sb_reserve(sb *b, size_t extra)
{
    if (b->oom || b->n + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap > 0 ? b->cap : 65536;
    while (cap < b->n + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL) {
        b->oom = 1;
        return;
    }
    b->p = p;
    b->cap = cap;
}

static void sb_put(sb *b, const char *s, size_t len)
{
    sb_reserve(b, len);
    if (b->oom)
        return;
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
}

static void sb_puts(sb *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void sb_printf(sb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sb_printf(sb *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)k < sizeof tmp) {
        sb_put(b, tmp, (size_t)k);
        return;
    }
    sb_reserve(b, (size_t)k);
    if (b->oom)
        return;
    va_start(ap, fmt);
    (void)vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

/* Text from the data goes through here: it may hold any of <&>"'. */
static void sb_esc(sb *b, const char *s)
{
    for (; *s != '\0'; ++s) {
        switch (*s) {
        case '&':
            sb_puts(b, "&amp;");
            break;
        case '<':
            sb_puts(b, "&lt;");
            break;
        case '>':
            sb_puts(b, "&gt;");
            break;
        case '"':
            sb_puts(b, "&quot;");
            break;
        case '\'':
            sb_puts(b, "&#39;");
            break;
        default:
            sb_put(b, s, 1);
        }
    }
}

/* ---- formatting ------------------------------------------------------------ */

static void fmt_time(int64_t ms, char *buf, size_t len)
{
    time_t s = (time_t)(ms / 1000 - (ms % 1000 < 0));
    struct tm tm;
    if (gmtime_r(&s, &tm) == NULL) {
        (void)snprintf(buf, len, "-");
        return;
    }
    /* strftime: bounded fields, no truncation guesswork */
    if (strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        (void)snprintf(buf, len, "-");
}

static void fmt_pct(char *buf, size_t len, double x, int dec)
{
    if (isfinite(x))
        (void)snprintf(buf, len, "%.*f %%", dec, x * 100.0);
    else
        (void)snprintf(buf, len, "n/a");
}

static void fmt_num(char *buf, size_t len, double x, int dec)
{
    if (isfinite(x))
        (void)snprintf(buf, len, "%.*f", dec, x);
    else
        (void)snprintf(buf, len, "n/a");
}

static void fmt_sig(char *buf, size_t len, double x)
{
    if (isfinite(x))
        (void)snprintf(buf, len, "%.4g", x);
    else
        (void)snprintf(buf, len, "n/a");
}

/* ---- data ------------------------------------------------------------------ */

typedef struct fill {
    int64_t t;
    size_t seq;
    coce_asset_id asset;
    int side;
    double qty, price, fee;
} fill;

typedef struct alert {
    int64_t t;
    coce_asset_id asset;
    double score;
    int entered;
    char note[160];
} alert;

enum ev_kind {
    EV_DD,
    EV_VAR,
    EV_CORR,
    EV_ADV,
    EV_HARD,
    EV_HALT,
    EV_CHECK,
    EV_RESET,
    EV_META,
    EV_KINDS
};

static const char *const ev_label[EV_KINDS] = {
    "Drawdown scale-down", "VaR cut",          "Correlation cut",
    "ADV cap",             "Drawdown hard limit", "Kill-switch halt",
    "Kill-switch check",   "Kill-switch reset", "Other meta event"};
static const char *const ev_color[EV_KINDS] = {
    "#f28e2b", "#b07aa1", "#4e79a7", "#76b7b2", "#c53030",
    "#e15759", "#9c755f", "#59a14f", "#7b8794"};

typedef struct event {
    int64_t t;
    size_t seq;
    int kind;
    char asset[COCE_SYMBOL_MAX + 1];
    char detail[256];
} event;

typedef struct rebal {
    int64_t t;
    double eligible, clusters, modularity, turnover;
} rebal;

typedef struct snapshot {
    int64_t t;
    size_t off, n; /* members[off .. off+n) */
} snapshot;

typedef struct member {
    coce_asset_id asset;
    long long cluster;
} member;

/* The last var_cut / corr_spike line: its figures go into the next entry
 * decision cut by that rule for the same asset at the same time. */
typedef struct pending_detail {
    int64_t t;
    char asset[COCE_SYMBOL_MAX + 1];
    char text[128];
} pending_detail;

typedef struct rep {
    const char *dir;
    coce_report_opts o;
    coce_symbols *syms;
    json_t *summary;
    int64_t *eq_t;
    double *eq_v;
    size_t n_eq;
    fill *fills;
    size_t n_fills;
    int have_fills;
    double *trade_pnl;
    size_t n_trades;
    int have_trades;
    alert *alerts;
    size_t n_alerts;
    int have_alerts;
    event *events;
    size_t n_events, cap_events;
    rebal *rebals;
    size_t n_rebals, cap_rebals;
    snapshot *snaps;
    size_t n_snaps, cap_snaps;
    member *members;
    size_t n_members, cap_members;
    int have_logs, have_meta;
    size_t bad_log_lines;
    pending_detail pend_var, pend_corr;
    int64_t t0, t1; /* the time axis of every chart over the whole run */
} rep;

typedef struct figures {
    size_t start; /* first equity row of the evaluation window */
    double initial, final, days, total_return, cagr, sharpe, sortino;
    double max_drawdown, hit_rate, notional, mean_equity, turnover, fees;
    size_t n_returns, wins;
} figures;

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return COCE_OK;
    size_t c = *cap > 0 ? *cap : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (q == NULL)
        return COCE_ENOMEM;
    *p = q;
    *cap = c;
    return COCE_OK;
}

/* ---- CSV ------------------------------------------------------------------- */

#define CSV_MAXF 16

typedef struct csv {
    const char *name;
    char *buf;
    size_t len, pos, line;
    size_t ncols; /* header columns: the last one takes the rest of a row */
    size_t nf;
    char *f[CSV_MAXF];
    char *head[CSV_MAXF];
} csv;

/* Splits the next non-blank line in place (RFC 4180 quotes accepted) into at
 * most `maxf` fields. 1 when a record was read, 0 at the end. */
static int csv_next(csv *c, size_t maxf)
{
    for (;;) {
        if (c->pos >= c->len)
            return 0;
        char *s = c->buf + c->pos;
        char *nl = memchr(s, '\n', c->len - c->pos);
        size_t l = nl != NULL ? (size_t)(nl - s) : c->len - c->pos;
        c->pos += l + (nl != NULL);
        ++c->line;
        if (l > 0 && s[l - 1] == '\r')
            --l;
        s[l] = '\0';
        if (l == 0)
            continue;
        c->nf = 0;
        char *p = s;
        for (;;) {
            if (c->nf + 1 == maxf && *p != '"') {
                c->f[c->nf++] = p;
                break;
            }
            char *start = p;
            if (*p == '"') {
                char *w = p;
                ++p;
                while (*p != '\0') {
                    if (*p == '"' && p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                    } else if (*p == '"') {
                        ++p;
                        break;
                    } else {
                        *w++ = *p++;
                    }
                }
                char *comma = strchr(p, ',');
                *w = '\0';
                c->f[c->nf++] = start;
                if (comma == NULL || c->nf == maxf)
                    break;
                p = comma + 1;
                continue;
            }
            char *comma = strchr(p, ',');
            c->f[c->nf++] = start;
            if (comma == NULL)
                break;
            *comma = '\0';
            p = comma + 1;
            if (c->nf == maxf)
                break;
        }
        return 1;
    }
}

/* ENOTFOUND (no error text) when the file does not exist. */
static int csv_open(csv *c, const char *dir, const char *name, coce_err *err)
{
    memset(c, 0, sizeof *c);
    c->name = name;
    char path[1200];
    (void)snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!coce_fs_exists(path))
        return COCE_ENOTFOUND;
    int rc = coce_fs_read_all(path, &c->buf, &c->len, err);
    if (rc != COCE_OK)
        return rc;
    if (!csv_next(c, CSV_MAXF))
        return coce_err_set(err, COCE_EPARSE, "%s:1: empty file, no header",
                            name);
    c->ncols = c->nf;
    memcpy(c->head, c->f, sizeof c->head);
    return COCE_OK;
}

static int csv_cols(const csv *c, const char *const *names, size_t n,
                    size_t *idx, coce_err *err)
{
    for (size_t i = 0; i < n; ++i) {
        size_t j = 0;
        while (j < c->ncols && strcmp(c->head[j], names[i]) != 0)
            ++j;
        if (j == c->ncols)
            return coce_err_set(err, COCE_EPARSE,
                                "%s:1: missing column '%s'", c->name,
                                names[i]);
        idx[i] = j;
    }
    return COCE_OK;
}

static int csv_row(csv *c, coce_err *err, int *got)
{
    *got = csv_next(c, c->ncols);
    if (*got && c->nf != c->ncols)
        return coce_err_set(err, COCE_EPARSE,
                            "%s:%zu: expected %zu columns, found %zu", c->name,
                            c->line, c->ncols, c->nf);
    return COCE_OK;
}

static int csv_f64(const csv *c, size_t col, double *out, coce_err *err)
{
    char *end = NULL;
    const char *s = c->f[col];
    double x = strtod(s, &end);
    if (*s == '\0' || end == NULL || *end != '\0' || !isfinite(x))
        return coce_err_set(err, COCE_EPARSE,
                            "%s:%zu: column '%s': not a number: '%.40s'",
                            c->name, c->line, c->head[col], s);
    *out = x;
    return COCE_OK;
}

static int csv_i64(const csv *c, size_t col, int64_t *out, coce_err *err)
{
    char *end = NULL;
    const char *s = c->f[col];
    long long x = strtoll(s, &end, 10);
    if (*s == '\0' || end == NULL || *end != '\0')
        return coce_err_set(err, COCE_EPARSE,
                            "%s:%zu: column '%s': not an integer: '%.40s'",
                            c->name, c->line, c->head[col], s);
    *out = (int64_t)x;
    return COCE_OK;
}

static int csv_sym(rep *r, const csv *c, size_t col, coce_asset_id *out,
                   coce_err *err)
{
    if (coce_symbols_intern(r->syms, c->f[col], out) != COCE_OK)
        return coce_err_set(err, COCE_EPARSE,
                            "%s:%zu: column '%s': bad symbol '%.40s'", c->name,
                            c->line, c->head[col], c->f[col]);
    return COCE_OK;
}

/* ---- loading --------------------------------------------------------------- */

static int load_summary(rep *r, coce_err *err)
{
    char path[1200];
    (void)snprintf(path, sizeof path, "%s/summary.json", r->dir);
    if (!coce_fs_exists(path))
        return coce_err_set(err, COCE_ENOTFOUND, "%s: missing", path);
    json_error_t je;
    r->summary = json_load_file(path, 0, &je);
    if (r->summary == NULL || !json_is_object(r->summary))
        return coce_err_set(err, COCE_EPARSE, "summary.json:%d: %s", je.line,
                            r->summary == NULL ? je.text : "not an object");
    return COCE_OK;
}

static double jnum(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int64_t jtime(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : INT64_MIN;
}

static int load_equity(rep *r, coce_err *err)
{
    csv c;
    int rc = csv_open(&c, r->dir, "equity.csv", err);
    if (rc == COCE_ENOTFOUND)
        rc = coce_err_set(err, COCE_ENOTFOUND, "%s/equity.csv: missing",
                          r->dir);
    static const char *const names[] = {"time_ms", "equity"};
    size_t idx[2] = {0}, cap = 0, cap2 = 0;
    if (rc == COCE_OK)
        rc = csv_cols(&c, names, 2, idx, err);
    int got = 1;
    while (rc == COCE_OK && (rc = csv_row(&c, err, &got)) == COCE_OK && got) {
        int64_t t = 0;
        double v = 0;
        if ((rc = csv_i64(&c, idx[0], &t, err)) != COCE_OK ||
            (rc = csv_f64(&c, idx[1], &v, err)) != COCE_OK)
            break;
        if (r->n_eq > 0 && t < r->eq_t[r->n_eq - 1]) {
            rc = coce_err_set(err, COCE_EPARSE,
                              "equity.csv:%zu: column 'time_ms': goes "
                              "backwards",
                              c.line);
            break;
        }
        if (grow((void **)&r->eq_t, &cap, r->n_eq + 1, sizeof *r->eq_t) !=
                COCE_OK ||
            grow((void **)&r->eq_v, &cap2, r->n_eq + 1, sizeof *r->eq_v) !=
                COCE_OK) {
            rc = coce_err_set(err, COCE_ENOMEM, "equity.csv: out of memory");
            break;
        }
        r->eq_t[r->n_eq] = t;
        r->eq_v[r->n_eq++] = v;
    }
    if (rc == COCE_OK && r->n_eq == 0)
        rc = coce_err_set(err, COCE_EPARSE, "equity.csv: no rows");
    free(c.buf);
    return rc;
}

static int load_fills(rep *r, coce_err *err)
{
    csv c;
    int rc = csv_open(&c, r->dir, "fills.csv", err);
    if (rc == COCE_ENOTFOUND)
        return COCE_OK;
    r->have_fills = rc == COCE_OK;
    static const char *const names[] = {"time_ms", "symbol", "side",
                                        "qty",     "price",  "fee"};
    size_t idx[6] = {0}, cap = 0;
    if (rc == COCE_OK)
        rc = csv_cols(&c, names, 6, idx, err);
    int got = 1;
    while (rc == COCE_OK && (rc = csv_row(&c, err, &got)) == COCE_OK && got) {
        fill x;
        memset(&x, 0, sizeof x);
        if ((rc = csv_i64(&c, idx[0], &x.t, err)) != COCE_OK ||
            (rc = csv_sym(r, &c, idx[1], &x.asset, err)) != COCE_OK ||
            (rc = csv_f64(&c, idx[3], &x.qty, err)) != COCE_OK ||
            (rc = csv_f64(&c, idx[4], &x.price, err)) != COCE_OK ||
            (rc = csv_f64(&c, idx[5], &x.fee, err)) != COCE_OK)
            break;
        const char *side = c.f[idx[2]];
        if (strcmp(side, "buy") != 0 && strcmp(side, "sell") != 0) {
            rc = coce_err_set(err, COCE_EPARSE,
                              "fills.csv:%zu: column 'side': '%.20s' is not "
                              "buy or sell",
                              c.line, side);
            break;
        }
        x.side = side[0] == 'b' ? 1 : -1;
        x.seq = r->n_fills;
        if (grow((void **)&r->fills, &cap, r->n_fills + 1, sizeof *r->fills) !=
            COCE_OK) {
            rc = coce_err_set(err, COCE_ENOMEM, "fills.csv: out of memory");
            break;
        }
        r->fills[r->n_fills++] = x;
    }
    free(c.buf);
    return rc;
}

static int load_trades(rep *r, coce_err *err)
{
    csv c;
    int rc = csv_open(&c, r->dir, "trades.csv", err);
    if (rc == COCE_ENOTFOUND)
        return COCE_OK;
    r->have_trades = rc == COCE_OK;
    static const char *const names[] = {"pnl"};
    size_t idx[1] = {0}, cap = 0;
    if (rc == COCE_OK)
        rc = csv_cols(&c, names, 1, idx, err);
    int got = 1;
    while (rc == COCE_OK && (rc = csv_row(&c, err, &got)) == COCE_OK && got) {
        double pnl = 0;
        if ((rc = csv_f64(&c, idx[0], &pnl, err)) != COCE_OK)
            break;
        if (grow((void **)&r->trade_pnl, &cap, r->n_trades + 1,
                 sizeof *r->trade_pnl) != COCE_OK) {
            rc = coce_err_set(err, COCE_ENOMEM, "trades.csv: out of memory");
            break;
        }
        r->trade_pnl[r->n_trades++] = pnl;
    }
    free(c.buf);
    return rc;
}

static int load_alerts(rep *r, coce_err *err)
{
    csv c;
    int rc = csv_open(&c, r->dir, "alerts.csv", err);
    if (rc == COCE_ENOTFOUND)
        return COCE_OK;
    r->have_alerts = rc == COCE_OK;
    static const char *const names[] = {"symbol", "timestamp", "score",
                                        "entered", "note"};
    size_t idx[5] = {0}, cap = 0;
    if (rc == COCE_OK)
        rc = csv_cols(&c, names, 5, idx, err);
    int got = 1;
    while (rc == COCE_OK && (rc = csv_row(&c, err, &got)) == COCE_OK && got) {
        alert a;
        memset(&a, 0, sizeof a);
        int64_t entered = 0;
        if ((rc = csv_sym(r, &c, idx[0], &a.asset, err)) != COCE_OK ||
            (rc = csv_i64(&c, idx[1], &a.t, err)) != COCE_OK ||
            (rc = csv_f64(&c, idx[2], &a.score, err)) != COCE_OK ||
            (rc = csv_i64(&c, idx[3], &entered, err)) != COCE_OK)
            break;
        a.entered = entered != 0;
        (void)snprintf(a.note, sizeof a.note, "%s", c.f[idx[4]]);
        if (grow((void **)&r->alerts, &cap, r->n_alerts + 1,
                 sizeof *r->alerts) != COCE_OK) {
            rc = coce_err_set(err, COCE_ENOMEM, "alerts.csv: out of memory");
            break;
        }
        r->alerts[r->n_alerts++] = a;
    }
    free(c.buf);
    return rc;
}

static int add_event(rep *r, int64_t t, int kind, const char *asset,
                     const char *detail)
{
    if (grow((void **)&r->events, &r->cap_events, r->n_events + 1,
             sizeof *r->events) != COCE_OK)
        return COCE_ENOMEM;
    event *e = &r->events[r->n_events];
    e->t = t;
    e->seq = r->n_events++;
    e->kind = kind;
    (void)snprintf(e->asset, sizeof e->asset, "%s", asset != NULL ? asset : "");
    (void)snprintf(e->detail, sizeof e->detail, "%s", detail);
    return COCE_OK;
}

static const char *pending_text(const pending_detail *p, int64_t t,
                                const char *asset)
{
    return p->t == t && strcmp(p->asset, asset) == 0 ? p->text : "";
}

/* One entry decision can be cut by several rules: one event for each. */
static int log_entry_decision(rep *r, int64_t t, const json_t *f)
{
    const char *asset = jstr(f, "asset");
    if (asset == NULL)
        asset = "";
    double req = jnum(f, "requested"), allowed = jnum(f, "allowed");
    const double scale[3] = {jnum(f, "scale_drawdown"), jnum(f, "scale_var"),
                             jnum(f, "scale_corr")};
    static const char *const what[3] = {"drawdown scale", "VaR scale",
                                        "correlation scale"};
    const char *binding = jstr(f, "binding_rule");
    int rc = COCE_OK;
    char d[256];
    for (int k = 0; k < 3 && rc == COCE_OK; ++k) {
        if (!(scale[k] < 1.0))
            continue;
        const char *extra = k == 1   ? pending_text(&r->pend_var, t, asset)
                            : k == 2 ? pending_text(&r->pend_corr, t, asset)
                                     : "";
        (void)snprintf(d, sizeof d,
                       "%s %.3g; requested %.4g, allowed %.4g%s%s%s%s", what[k],
                       scale[k], req, allowed, binding != NULL ? "; binding: " : "",
                       binding != NULL ? binding : "", extra[0] ? "; " : "",
                       extra);
        rc = add_event(r, t, EV_DD + k, asset, d);
    }
    if (rc == COCE_OK && json_is_true(json_object_get(f, "adv_cut"))) {
        (void)snprintf(d, sizeof d,
                       "capped by the ADV limit; requested %.4g, allowed %.4g",
                       req, allowed);
        rc = add_event(r, t, EV_ADV, asset, d);
    }
    return rc;
}

static void log_pending(pending_detail *p, int64_t t, const json_t *f,
                        const char *a, const char *b, const char *label)
{
    const char *asset = jstr(f, "asset");
    p->t = t;
    (void)snprintf(p->asset, sizeof p->asset, "%s",
                   asset != NULL ? asset : "");
    (void)snprintf(p->text, sizeof p->text, "%s %.4g vs %.4g", label,
                   jnum(f, a), jnum(f, b));
}

static int log_clusters(rep *r, int64_t t, const json_t *f)
{
    if (grow((void **)&r->snaps, &r->cap_snaps, r->n_snaps + 1,
             sizeof *r->snaps) != COCE_OK)
        return COCE_ENOMEM;
    snapshot *s = &r->snaps[r->n_snaps++];
    s->t = t;
    s->off = r->n_members;
    s->n = 0;
    const char *key;
    const json_t *v;
    json_object_foreach ((json_t *)f, key, v) {
        coce_asset_id id;
        if (!json_is_integer(v) || coce_symbols_intern(r->syms, key, &id) !=
                                       COCE_OK)
            continue;
        if (grow((void **)&r->members, &r->cap_members, r->n_members + 1,
                 sizeof *r->members) != COCE_OK)
            return COCE_ENOMEM;
        r->members[r->n_members].asset = id;
        r->members[r->n_members++].cluster = (long long)json_integer_value(v);
        ++s->n;
    }
    return COCE_OK;
}

static int log_line(rep *r, const json_t *j)
{
    const char *ev = jstr(j, "event");
    const json_t *f = json_object_get(j, "fields");
    int64_t t = jtime(j, "sim_ms");
    if (ev == NULL || !json_is_object(f))
        return COCE_OK;
    if (t == INT64_MIN)
        t = jtime(f, "at_ms");
    if (t == INT64_MIN)
        return COCE_OK;
    char d[256];
    if (strcmp(ev, "rebalance") == 0) {
        if (grow((void **)&r->rebals, &r->cap_rebals, r->n_rebals + 1,
                 sizeof *r->rebals) != COCE_OK)
            return COCE_ENOMEM;
        rebal *b = &r->rebals[r->n_rebals++];
        b->t = t;
        b->eligible = jnum(f, "eligible");
        b->clusters = jnum(f, "clusters");
        b->modularity = jnum(f, "modularity");
        b->turnover = jnum(f, "turnover");
        return COCE_OK;
    }
    if (strcmp(ev, "clusters") == 0)
        return log_clusters(r, t, f);
    if (strcmp(ev, "entry_decision") == 0)
        return log_entry_decision(r, t, f);
    if (strcmp(ev, "var_cut") == 0) {
        log_pending(&r->pend_var, t, f, "var", "floor", "VaR");
        return COCE_OK;
    }
    if (strcmp(ev, "corr_spike") == 0) {
        log_pending(&r->pend_corr, t, f, "avg_short", "avg_long",
                    "mean correlation short vs long");
        return COCE_OK;
    }
    if (strcmp(ev, "drawdown_hard_limit") == 0) {
        (void)snprintf(d, sizeof d,
                       "drawdown %.2f %% (equity %.6g, peak %.6g): flattened "
                       "and halted",
                       jnum(f, "drawdown") * 100.0, jnum(f, "equity"),
                       jnum(f, "peak"));
        return add_event(r, t, EV_HARD, NULL, d);
    }
    if (strcmp(ev, "halt") == 0 && !r->have_meta) {
        const char *why = jstr(f, "reason");
        (void)snprintf(d, sizeof d, "%s", why != NULL ? why : "halt");
        return add_event(r, t, EV_HALT, NULL, d);
    }
    return COCE_OK;
}

static int meta_line(rep *r, const json_t *j)
{
    const char *ev = jstr(j, "event");
    int64_t t = jtime(j, "time_ms");
    if (t == INT64_MIN)
        t = jtime(j, "ts");
    if (ev == NULL || t == INT64_MIN)
        return COCE_OK;
    const char *why = jstr(j, "reason");
    char d[256];
    if (strcmp(ev, "killswitch") == 0) {
        int halt = json_is_true(json_object_get(j, "halt"));
        (void)snprintf(d, sizeof d, "%s%s7-day Sharpe %.3g, hit rate %.3g, %.0f "
                       "trades",
                       why != NULL ? why : "", why != NULL ? "; " : "",
                       jnum(j, "sharpe"), jnum(j, "hit_rate"),
                       jnum(j, "trades"));
        return add_event(r, t, halt ? EV_HALT : EV_CHECK, NULL, d);
    }
    if (strcmp(ev, "kill_switch_reset") == 0) {
        (void)snprintf(d, sizeof d, "reset by an operator: %s",
                       why != NULL ? why : "(no reason)");
        return add_event(r, t, EV_RESET, NULL, d);
    }
    (void)snprintf(d, sizeof d, "%s%s%s", ev, why != NULL ? ": " : "",
                   why != NULL ? why : "");
    return add_event(r, t, EV_META, NULL, d);
}

/* A run killed mid-write leaves half a line: such lines are skipped and
 * counted rather than failing the whole report. */
static int load_jsonl(rep *r, const char *name, int meta, int *have,
                      coce_err *err)
{
    char path[1200];
    (void)snprintf(path, sizeof path, "%s/%s", r->dir, name);
    if (!coce_fs_exists(path))
        return COCE_OK;
    char *buf = NULL;
    size_t len = 0;
    int rc = coce_fs_read_all(path, &buf, &len, err);
    if (rc != COCE_OK)
        return rc;
    *have = 1;
    size_t pos = 0;
    while (rc == COCE_OK && pos < len) {
        char *s = buf + pos;
        char *nl = memchr(s, '\n', len - pos);
        size_t l = nl != NULL ? (size_t)(nl - s) : len - pos;
        pos += l + (nl != NULL);
        if (l == 0)
            continue;
        json_t *j = json_loadb(s, l, 0, NULL);
        if (!json_is_object(j))
            ++r->bad_log_lines;
        else
            rc = meta ? meta_line(r, j) : log_line(r, j);
        json_decref(j);
    }
    free(buf);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "%s: out of memory", name);
    return COCE_OK;
}

static int cmp_event(const void *a, const void *b)
{
    const event *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_fill(const void *a, const void *b)
{
    const fill *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void time_axis(rep *r)
{
    r->t0 = r->eq_t[0];
    r->t1 = r->eq_t[r->n_eq - 1];
    if (r->n_fills > 0) {
        r->t0 = r->fills[0].t < r->t0 ? r->fills[0].t : r->t0;
        r->t1 = r->fills[r->n_fills - 1].t > r->t1 ? r->fills[r->n_fills - 1].t
                                                  : r->t1;
    }
    for (size_t i = 0; i < r->n_events; ++i) {
        r->t0 = r->events[i].t < r->t0 ? r->events[i].t : r->t0;
        r->t1 = r->events[i].t > r->t1 ? r->events[i].t : r->t1;
    }
    if (r->t1 <= r->t0)
        r->t1 = r->t0 + DAY_MS;
}

/* ---- figures --------------------------------------------------------------- */

/* The evaluation window starts at the last daily close at or before the
 * first trading day (summary.json trading_ms), as the engine's own Sharpe
 * does: the warm-up days before it hold no position. */
static void compute_figures(const rep *r, figures *g)
{
    memset(g, 0, sizeof *g);
    int64_t trading = jtime(r->summary, "trading_ms");
    for (size_t i = 0; trading != INT64_MIN && i < r->n_eq; ++i)
        if (r->eq_t[i] <= trading)
            g->start = i;
    size_t s = g->start, n = r->n_eq;
    g->initial = r->eq_v[s];
    g->final = r->eq_v[n - 1];
    g->days = (double)(r->eq_t[n - 1] - r->eq_t[s]) / (double)DAY_MS;
    g->total_return = g->initial > 0 ? g->final / g->initial - 1.0 : NAN;
    g->cagr = g->days > 0 && g->initial > 0 && g->final >= 0
                  ? pow(g->final / g->initial, ANN / g->days) - 1.0
                  : NAN;
    /* daily simple returns; two-pass mean and deviations */
    double sum = 0;
    for (size_t i = s + 1; i < n; ++i)
        if (r->eq_v[i - 1] > 0) {
            sum += r->eq_v[i] / r->eq_v[i - 1] - 1.0;
            ++g->n_returns;
        }
    double mean = g->n_returns > 0 ? sum / (double)g->n_returns : NAN;
    double ss = 0, down = 0;
    for (size_t i = s + 1; i < n; ++i)
        if (r->eq_v[i - 1] > 0) {
            double x = r->eq_v[i] / r->eq_v[i - 1] - 1.0;
            ss += (x - mean) * (x - mean);
            down += x < 0 ? x * x : 0.0;
        }
    double sd = g->n_returns >= 2 ? sqrt(ss / (double)(g->n_returns - 1)) : 0;
    g->sharpe = sd > 0 ? mean / sd * sqrt(ANN) : NAN;
    /* Sortino & van der Meer (1991), "Downside risk", J. Portfolio Mgmt
     * 17(4): downside deviation below a target (here 0) over all periods. */
    double dd = g->n_returns > 0 ? sqrt(down / (double)g->n_returns) : 0;
    g->sortino = dd > 0 ? mean / dd * sqrt(ANN) : NAN;
    double peak = r->eq_v[0];
    for (size_t i = 0; i < n; ++i) {
        peak = r->eq_v[i] > peak ? r->eq_v[i] : peak;
        if (peak > 0 && (peak - r->eq_v[i]) / peak > g->max_drawdown)
            g->max_drawdown = (peak - r->eq_v[i]) / peak;
    }
    for (size_t i = 0; i < r->n_trades; ++i)
        g->wins += r->trade_pnl[i] > 0;
    g->hit_rate =
        r->n_trades > 0 ? (double)g->wins / (double)r->n_trades : NAN;
    for (size_t i = 0; i < r->n_fills; ++i) {
        g->notional += fabs(r->fills[i].qty * r->fills[i].price);
        g->fees += r->fills[i].fee;
    }
    double se = 0;
    for (size_t i = s; i < n; ++i)
        se += r->eq_v[i];
    g->mean_equity = se / (double)(n - s);
    g->turnover = g->days > 0 && g->mean_equity > 0
                      ? g->notional / g->mean_equity * ANN / g->days
                      : NAN;
}

/* ---- SVG primitives -------------------------------------------------------- */

typedef struct plot {
    double x, y, w, h;   /* plot area in SVG units */
    double t0, t1;       /* x range (ms) */
    double v0, v1;       /* y range */
} plot;

static double px(const plot *p, double t)
{
    return p->x + (t - p->t0) / (p->t1 - p->t0) * p->w;
}

static double py(const plot *p, double v)
{
    return p->y + p->h - (v - p->v0) / (p->v1 - p->v0) * p->h;
}

static double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

static double nice_step(double range, int max_ticks)
{
    double raw = range / max_ticks;
    double mag = pow(10.0, floor(log10(raw)));
    double nrm = raw / mag;
    return (nrm <= 1 ? 1 : nrm <= 2 ? 2 : nrm <= 5 ? 5 : 10) * mag;
}

enum vfmt { VF_NUM, VF_PCT };

static void fmt_tick(char *buf, size_t len, double v, double step, int f)
{
    double unit = f == VF_PCT ? 100.0 : 1.0;
    int dec = (int)ceil(-log10(step * unit) - 1e-9);
    dec = dec < 0 ? 0 : dec > 10 ? 10 : dec;
    double x = v * unit;
    if (fabs(x) < step * unit * 1e-6)
        x = 0;
    (void)snprintf(buf, len, f == VF_PCT ? "%.*f%%" : "%.*f", dec, x);
}

static void axis_y(sb *b, const plot *p, int f, int max_ticks)
{
    double step = nice_step(p->v1 - p->v0, max_ticks);
    sb_puts(b, "<g class=\"grid\">");
    double first = ceil(p->v0 / step - 1e-9);
    long n = (long)floor(p->v1 / step + 1e-9 - first);
    for (long i = 0; i <= n; ++i) {
        double v = (first + (double)i) * step;
        char lab[48];
        fmt_tick(lab, sizeof lab, v, step, f);
        double y = py(p, v);
        sb_printf(b,
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                  "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                  p->x, y, p->x + p->w, y, p->x - 6, y + 3.5, lab);
    }
    sb_puts(b, "</g>");
}

static const char *const month[12] = {"Jan", "Feb", "Mar", "Apr",
                                      "May", "Jun", "Jul", "Aug",
                                      "Sep", "Oct", "Nov", "Dec"};

static void axis_t(sb *b, const plot *p, int max_ticks)
{
    static const int64_t steps[] = {
        60000LL,      300000LL,     600000LL,     900000LL,    1800000LL,
        HOUR_MS,      2 * HOUR_MS,  3 * HOUR_MS,  6 * HOUR_MS, 12 * HOUR_MS,
        DAY_MS,       2 * DAY_MS,   7 * DAY_MS,   14 * DAY_MS, 28 * DAY_MS,
        91 * DAY_MS,  182 * DAY_MS, 364 * DAY_MS};
    size_t k = 0;
    while (k + 1 < sizeof steps / sizeof steps[0] &&
           (p->t1 - p->t0) / (double)steps[k] > max_ticks)
        ++k;
    int64_t step = steps[k];
    int64_t t = (int64_t)ceil(p->t0 / (double)step) * step;
    sb_printf(b, "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                 "y2=\"%.1f\"/>",
              p->x, p->y + p->h, p->x + p->w, p->y + p->h);
    for (; (double)t <= p->t1; t += step) {
        time_t s = (time_t)(t / 1000);
        struct tm tm;
        if (gmtime_r(&s, &tm) == NULL)
            continue;
        char lab[32];
        if (step >= DAY_MS)
            (void)snprintf(lab, sizeof lab, "%s %d", month[tm.tm_mon],
                           tm.tm_mday);
        else
            (void)snprintf(lab, sizeof lab, "%02d:%02d", tm.tm_hour,
                           tm.tm_min);
        double x = px(p, (double)t);
        sb_printf(b,
                  "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                  "y2=\"%.1f\"/><text x=\"%.1f\" y=\"%.1f\" "
                  "text-anchor=\"middle\">%s</text>",
                  x, p->y + p->h, x, p->y + p->h + 4, x, p->y + p->h + 16,
                  lab);
    }
}

static void svg_open(sb *b, double w, double h, const char *label)
{
    sb_printf(b,
              "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f "
              "%.0f\" role=\"img\" aria-label=\"",
              w, h);
    sb_esc(b, label);
    sb_puts(b, "\">");
}

/* Halted stretches: from each halt to the next reset (or the end). */
static void halted_bands(sb *b, const rep *r, const plot *p)
{
    int64_t from = INT64_MIN;
    for (size_t i = 0; i <= r->n_events; ++i) {
        int end = i == r->n_events;
        int kind = end ? EV_RESET : r->events[i].kind;
        int64_t t = end ? (int64_t)p->t1 : r->events[i].t;
        if ((kind == EV_HALT || kind == EV_HARD) && from == INT64_MIN)
            from = t;
        if (from != INT64_MIN && kind == EV_RESET) {
            double to = (double)t;
            double x0 = px(p, (double)from);
            sb_printf(b,
                      "<rect class=\"halted\" x=\"%.1f\" y=\"%.1f\" "
                      "width=\"%.1f\" height=\"%.1f\"/>",
                      x0, p->y, px(p, to) - x0, p->h);
            from = INT64_MIN;
        }
    }
}

static void vmarker(sb *b, const plot *p, int64_t t, const char *cls,
                    const char *label)
{
    double x = px(p, (double)t);
    sb_printf(b,
              "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
              "y2=\"%.1f\"/><text class=\"mark\" x=\"%.1f\" y=\"%.1f\">",
              cls, x, p->y, x, p->y + p->h, x + 4, p->y + 11);
    sb_esc(b, label);
    sb_puts(b, "</text>");
}

/* ---- page sections --------------------------------------------------------- */

static const char css[] =
    ":root{--fg:#1f2933;--muted:#616e7c;--line:#d9e2ec;--panel:#f5f7fa;"
    "--accent:#2f6fb2}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:#edf1f5;color:var(--fg);font:14px/1.45 "
    "system-ui,-apple-system,\"Segoe UI\",Roboto,\"DejaVu Sans\",Arial,"
    "sans-serif}"
    "main{max-width:1100px;margin:0 auto;padding:20px 24px 40px}"
    "header h1{font-size:22px;margin:4px 0 2px}"
    ".sub{color:var(--muted);font-size:13px}"
    "section{background:#fff;border:1px solid var(--line);border-radius:8px;"
    "padding:14px 18px;margin:14px 0}"
    "h2{font-size:16px;margin:0 0 6px}"
    "h3{font-size:14px;margin:12px 0 4px}"
    ".kpis{display:grid;grid-template-columns:repeat(4,1fr);gap:10px;"
    "margin:14px 0}"
    ".kpi{background:#fff;border:1px solid var(--line);border-radius:8px;"
    "padding:10px 14px}"
    ".kpi .l{color:var(--muted);font-size:11px;text-transform:uppercase;"
    "letter-spacing:.05em}"
    ".kpi .v{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}"
    ".pos{color:#2f855a}.neg{color:#c53030}"
    "table{border-collapse:collapse;width:100%;font-size:13px}"
    "th,td{text-align:left;padding:4px 8px;border-bottom:1px solid "
    "var(--line);vertical-align:top}"
    "th{font-weight:600;color:#3e4c59}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums;"
    "white-space:nowrap}"
    "td.def{color:var(--muted);font-size:12px}"
    "td.t{white-space:nowrap;font-variant-numeric:tabular-nums}"
    ".note{color:var(--muted);font-size:12px;margin:6px 0}"
    "svg{display:block;width:100%;height:auto}"
    "svg text{font-size:11px;fill:#52606d}"
    "svg text.mark{font-size:10px;fill:#7b2e2e}"
    "svg text.title{font-size:12px;font-weight:600;fill:#1f2933}"
    ".grid line{stroke:#e4e7eb}"
    "line.axis,line.tick{stroke:#9aa5b1}"
    "line.start{stroke:#2f6fb2;stroke-dasharray:4 3}"
    "line.halt{stroke:#c53030;stroke-dasharray:4 3}"
    "rect.halted{fill:#c53030;opacity:.07}"
    ".legend{font-size:12px;margin:4px 0 0}"
    ".legend span{display:inline-block;margin:0 14px 2px 0}"
    ".legend i{display:inline-block;width:10px;height:10px;margin-right:5px;"
    "border-radius:2px;vertical-align:-1px}"
    ".multiples{display:grid;grid-template-columns:repeat(3,1fr);gap:10px}"
    "figure{margin:0;border:1px solid var(--line);border-radius:6px;"
    "padding:4px}"
    "figcaption{font-size:12px;color:var(--muted);padding:0 4px 2px}"
    ".two{display:grid;grid-template-columns:3fr 2fr;gap:16px;"
    "align-items:start}"
    "footer{color:var(--muted);font-size:12px;margin-top:18px}";

static void kpi(sb *b, const char *label, const char *value, double sign)
{
    sb_printf(b, "<div class=\"kpi\"><div class=\"l\">%s</div><div "
                 "class=\"v%s\">%s</div></div>",
              label,
              isfinite(sign) && sign > 0   ? " pos"
              : isfinite(sign) && sign < 0 ? " neg"
                                           : "",
              value);
}

static void sec_head(sb *b, const rep *r, const figures *g)
{
    const char *run = jstr(r->summary, "run_id");
    const char *market = jstr(r->summary, "market");
    sb_puts(b, "<header><div class=\"sub\">COCE back-test report</div><h1>");
    sb_esc(b, run != NULL ? run : "(unnamed run)");
    sb_puts(b, "</h1><div class=\"sub\">");
    char a[32], z[32], tr[32];
    fmt_time(r->eq_t[0], a, sizeof a);
    fmt_time(r->eq_t[r->n_eq - 1], z, sizeof z);
    fmt_time(r->eq_t[g->start], tr, sizeof tr);
    sb_printf(b, "Equity %s to %s UTC &middot; evaluated from %s &middot; ",
              a, z, tr);
    sb_puts(b, "market ");
    sb_esc(b, market != NULL ? market : "(unknown)");
    double assets = jnum(r->summary, "assets");
    if (isfinite(assets))
        sb_printf(b, " (%.0f assets)", assets);
    if (json_is_true(json_object_get(r->summary, "halted"))) {
        const char *why = jstr(r->summary, "halt_reason");
        sb_puts(b, " &middot; <b class=\"neg\">halted by the kill-switch");
        if (why != NULL) {
            sb_puts(b, ": ");
            sb_esc(b, why);
        }
        sb_puts(b, "</b>");
    }
    if (json_is_true(json_object_get(r->summary, "interrupted")))
        sb_puts(b, " &middot; <b class=\"neg\">interrupted</b>");
    sb_puts(b, "</div></header>\n<div class=\"kpis\">");
    char v[64];
    fmt_pct(v, sizeof v, g->total_return, 2);
    kpi(b, "Total return", v, g->total_return);
    fmt_pct(v, sizeof v, g->cagr, 1);
    kpi(b, "CAGR", v, g->cagr);
    fmt_num(v, sizeof v, g->sharpe, 2);
    kpi(b, "Sharpe", v, g->sharpe);
    fmt_num(v, sizeof v, g->sortino, 2);
    kpi(b, "Sortino", v, g->sortino);
    fmt_pct(v, sizeof v, g->max_drawdown, 2);
    kpi(b, "Max drawdown", v, g->max_drawdown > 0 ? -1.0 : NAN);
    fmt_pct(v, sizeof v, g->hit_rate, 1);
    kpi(b, "Hit rate", v, NAN);
    if (isfinite(g->turnover))
        (void)snprintf(v, sizeof v, "%.1f&times;", g->turnover);
    else
        (void)snprintf(v, sizeof v, "n/a");
    kpi(b, "Turnover / year", v, NAN);
    fmt_sig(v, sizeof v, g->fees);
    kpi(b, "Fees", v, NAN);
    sb_puts(b, "</div>\n");
}

static void sec_equity(sb *b, const rep *r)
{
    sb_puts(b, "<section id=\"equity\"><h2>Equity</h2>");
    double lo = r->eq_v[0], hi = r->eq_v[0];
    for (size_t i = 0; i < r->n_eq; ++i) {
        lo = r->eq_v[i] < lo ? r->eq_v[i] : lo;
        hi = r->eq_v[i] > hi ? r->eq_v[i] : hi;
    }
    double pad = (hi - lo) * 0.08;
    if (!(pad > 0))
        pad = fabs(hi) * 0.005 + 1e-9;
    plot p = {64, 12, 880, 220, (double)r->t0, (double)r->t1, lo - pad,
              hi + pad};
    svg_open(b, 960, 260, "Equity curve");
    halted_bands(b, r, &p);
    axis_y(b, &p, VF_NUM, 6);
    axis_t(b, &p, 10);
    int64_t trading = jtime(r->summary, "trading_ms");
    if (trading != INT64_MIN && trading > r->t0 && trading < r->t1)
        vmarker(b, &p, trading, "start", "trading starts");
    for (size_t i = 0; i < r->n_events; ++i)
        if (r->events[i].kind == EV_HALT || r->events[i].kind == EV_HARD)
            vmarker(b, &p, r->events[i].t, "halt", "halt");
    sb_printf(b, "<path fill=\"#2f6fb2\" fill-opacity=\".08\" d=\"M%.1f %.1f",
              px(&p, (double)r->eq_t[0]), p.y + p.h);
    for (size_t i = 0; i < r->n_eq; ++i)
        sb_printf(b, "L%.1f %.1f", px(&p, (double)r->eq_t[i]),
                  py(&p, r->eq_v[i]));
    sb_printf(b, "L%.1f %.1fZ\"/>", px(&p, (double)r->eq_t[r->n_eq - 1]),
              p.y + p.h);
    sb_puts(b, "<path fill=\"none\" stroke=\"#2f6fb2\" stroke-width=\"2\" "
               "stroke-linejoin=\"round\" d=\"");
    for (size_t i = 0; i < r->n_eq; ++i)
        sb_printf(b, "%s%.1f %.1f", i == 0 ? "M" : "L",
                  px(&p, (double)r->eq_t[i]), py(&p, r->eq_v[i]));
    sb_puts(b, "\"/>");
    if (r->n_eq <= 120)
        for (size_t i = 0; i < r->n_eq; ++i)
            sb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" "
                         "fill=\"#2f6fb2\"/>",
                      px(&p, (double)r->eq_t[i]), py(&p, r->eq_v[i]));
    sb_puts(b, "</svg><p class=\"note\">Equity at each daily close (UTC) and "
               "at the end of the run. Shaded: halted by the kill-switch."
               "</p></section>\n");
}

static void sec_drawdown(sb *b, const rep *r, const figures *g)
{
    sb_puts(b, "<section id=\"drawdown\"><h2>Drawdown</h2>");
    double lo = -(g->max_drawdown > 0 ? g->max_drawdown * 1.15 : 0.001);
    plot p = {64, 12, 880, 150, (double)r->t0, (double)r->t1, lo, 0};
    svg_open(b, 960, 190, "Drawdown curve");
    halted_bands(b, r, &p);
    axis_y(b, &p, VF_PCT, 4);
    axis_t(b, &p, 10);
    sb_printf(b, "<path fill=\"#c53030\" fill-opacity=\".18\" "
                 "stroke=\"#c53030\" stroke-width=\"1.5\" d=\"M%.1f %.1f",
              px(&p, (double)r->eq_t[0]), py(&p, 0));
    double peak = r->eq_v[0];
    for (size_t i = 0; i < r->n_eq; ++i) {
        peak = r->eq_v[i] > peak ? r->eq_v[i] : peak;
        double dd = peak > 0 ? r->eq_v[i] / peak - 1.0 : 0.0;
        sb_printf(b, "L%.1f %.1f", px(&p, (double)r->eq_t[i]), py(&p, dd));
    }
    sb_printf(b, "L%.1f %.1fZ\"/></svg>", px(&p, (double)r->eq_t[r->n_eq - 1]),
              py(&p, 0));
    char v[32];
    fmt_pct(v, sizeof v, g->max_drawdown, 2);
    sb_printf(b, "<p class=\"note\">Equity over its running peak, minus one, "
                 "at each daily close. Deepest: %s.</p></section>\n",
              v);
}

/* Group of an asset at time t: its cluster at the last "clusters" snapshot
 * at or before t (the first snapshot before any), else itself. */
typedef struct grouping {
    int by_cluster;
    size_t n_groups;     /* clusters (sorted ids) + 1 unclustered, or assets */
    long long *ids;      /* cluster ids, ascending */
    int *of;             /* [snap * n_assets + asset] -> group */
} grouping;

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static int make_grouping(const rep *r, size_t n_assets, grouping *gr)
{
    memset(gr, 0, sizeof *gr);
    if (r->n_snaps == 0 || r->n_members == 0) {
        gr->n_groups = n_assets;
        return COCE_OK;
    }
    gr->by_cluster = 1;
    gr->ids = malloc(r->n_members * sizeof *gr->ids);
    gr->of = malloc(r->n_snaps * n_assets * sizeof *gr->of + 1);
    if (gr->ids == NULL || gr->of == NULL)
        return COCE_ENOMEM;
    for (size_t i = 0; i < r->n_members; ++i)
        gr->ids[i] = r->members[i].cluster;
    qsort(gr->ids, r->n_members, sizeof *gr->ids, cmp_ll);
    size_t k = 0;
    for (size_t i = 0; i < r->n_members; ++i)
        if (k == 0 || gr->ids[i] != gr->ids[k - 1])
            gr->ids[k++] = gr->ids[i];
    gr->n_groups = k + 1; /* last: assets in no cluster */
    for (size_t s = 0; s < r->n_snaps; ++s) {
        for (size_t a = 0; a < n_assets; ++a)
            gr->of[s * n_assets + a] = (int)k;
        for (size_t m = 0; m < r->snaps[s].n; ++m) {
            const member *mb = &r->members[r->snaps[s].off + m];
            const long long *hit = bsearch(&mb->cluster, gr->ids, k,
                                           sizeof *gr->ids, cmp_ll);
            if (hit != NULL && mb->asset < n_assets)
                gr->of[s * n_assets + mb->asset] = (int)(hit - gr->ids);
        }
    }
    return COCE_OK;
}

static size_t snap_at(const rep *r, int64_t t, size_t from)
{
    size_t s = from;
    while (s + 1 < r->n_snaps && r->snaps[s + 1].t <= t)
        ++s;
    return s;
}

static double equity_at(const rep *r, int64_t t)
{
    double e = r->eq_v[0];
    for (size_t i = 0; i < r->n_eq && r->eq_t[i] <= t; ++i)
        e = r->eq_v[i];
    return e;
}

/* Peak gross exposure of each group within each bin, positions marked at
 * their last fill price; positions last minutes, so a mean would vanish. */
static int exposure_bins(const rep *r, const grouping *gr, size_t n_assets,
                         size_t nb, int64_t bin, double *peak)
{
    double *pos = calloc(n_assets + 1, sizeof *pos);
    double *mark = calloc(n_assets + 1, sizeof *mark);
    double *cur = calloc(gr->n_groups + 1, sizeof *cur);
    int rc = pos != NULL && mark != NULL && cur != NULL ? COCE_OK : COCE_ENOMEM;
    size_t f = 0, snap = 0;
    for (size_t k = 0; rc == COCE_OK && k < nb; ++k) {
        int64_t end = r->t0 + (int64_t)(k + 1) * bin;
        memcpy(&peak[k * gr->n_groups], cur, gr->n_groups * sizeof *cur);
        while (f < r->n_fills && (r->fills[f].t < end || k + 1 == nb)) {
            const fill *x = &r->fills[f++];
            pos[x->asset] += x->side * x->qty;
            mark[x->asset] = x->price;
            snap = gr->by_cluster ? snap_at(r, x->t, snap) : 0;
            memset(cur, 0, gr->n_groups * sizeof *cur);
            for (size_t a = 0; a < n_assets; ++a) {
                if (pos[a] == 0)
                    continue;
                size_t g = gr->by_cluster ? (size_t)gr->of[snap * n_assets + a]
                                          : a;
                cur[g] += fabs(pos[a]) * mark[a];
            }
            for (size_t g = 0; g < gr->n_groups; ++g)
                if (cur[g] > peak[k * gr->n_groups + g])
                    peak[k * gr->n_groups + g] = cur[g];
        }
        double eq = equity_at(r, r->t0 + (int64_t)k * bin);
        for (size_t g = 0; g < gr->n_groups; ++g)
            peak[k * gr->n_groups + g] /= eq > 0 ? eq : 1.0;
    }
    free(pos);
    free(mark);
    free(cur);
    return rc;
}

typedef struct ranked {
    double total;
    size_t g;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->total != y->total)
        return x->total > y->total ? -1 : 1;
    return x->g < y->g ? -1 : x->g > y->g;
}

static void group_name(char *buf, size_t len, const rep *r, const grouping *gr,
                       size_t g)
{
    if (!gr->by_cluster)
        (void)snprintf(buf, len, "%s", coce_symbols_name(r->syms, g));
    else if (g + 1 == gr->n_groups)
        (void)snprintf(buf, len, "no cluster");
    else
        (void)snprintf(buf, len, "cluster %lld", gr->ids[g]);
}

static int sec_exposure(sb *b, const rep *r)
{
    sb_puts(b, "<section id=\"exposure\"><h2>Exposure by ");
    size_t n_assets = coce_symbols_count(r->syms);
    grouping gr;
    int rc = make_grouping(r, n_assets, &gr);
    sb_puts(b, gr.by_cluster ? "consensus cluster" : "asset");
    sb_puts(b, "</h2>");
    if (rc == COCE_OK && r->n_fills == 0) {
        sb_puts(b, r->have_fills ? "<p class=\"note\">No fills in this run."
                                   "</p>"
                                 : "<p class=\"note\">fills.csv is missing."
                                   "</p>");
        sb_puts(b, "</section>\n");
        free(gr.ids);
        free(gr.of);
        return COCE_OK;
    }
    static const int64_t bins[] = {300000LL,    900000LL,   1800000LL,
                                   HOUR_MS,     2 * HOUR_MS, 4 * HOUR_MS,
                                   6 * HOUR_MS, 12 * HOUR_MS, DAY_MS,
                                   2 * DAY_MS,  7 * DAY_MS,  28 * DAY_MS};
    size_t kb = 0;
    while (kb + 1 < sizeof bins / sizeof bins[0] &&
           (r->t1 - r->t0) / bins[kb] >= 150)
        ++kb;
    int64_t bin = bins[kb];
    size_t nb = (size_t)((r->t1 - r->t0) / bin) + 1;
    double *peak = NULL;
    ranked *rank = NULL;
    if (rc == COCE_OK) {
        peak = calloc(nb * gr.n_groups + 1, sizeof *peak);
        rank = calloc(gr.n_groups + 1, sizeof *rank);
        rc = peak != NULL && rank != NULL ? COCE_OK : COCE_ENOMEM;
    }
    if (rc == COCE_OK)
        rc = exposure_bins(r, &gr, n_assets, nb, bin, peak);
    if (rc != COCE_OK) {
        free(peak);
        free(rank);
        free(gr.ids);
        free(gr.of);
        return rc;
    }
    for (size_t g = 0; g < gr.n_groups; ++g) {
        rank[g].g = g;
        for (size_t k = 0; k < nb; ++k)
            rank[g].total += peak[k * gr.n_groups + g];
    }
    qsort(rank, gr.n_groups, sizeof *rank, cmp_ranked);
    size_t shown = 0;
    while (shown < gr.n_groups && shown < MAX_GROUPS && rank[shown].total > 0)
        ++shown;
    int other = shown == MAX_GROUPS && gr.n_groups > MAX_GROUPS &&
                rank[MAX_GROUPS].total > 0;
    if (other)
        shown = MAX_GROUPS - 1;
    double top = 0;
    for (size_t k = 0; k < nb; ++k) {
        double s = 0;
        for (size_t g = 0; g < gr.n_groups; ++g)
            s += peak[k * gr.n_groups + g];
        top = s > top ? s : top;
    }
    plot p = {64, 12, 880, 200, (double)r->t0, (double)r->t1, 0,
              top > 0 ? top * 1.1 : 0.01};
    svg_open(b, 960, 240, "Exposure over time");
    halted_bands(b, r, &p);
    axis_y(b, &p, VF_PCT, 5);
    axis_t(b, &p, 10);
    double bw = p.w * (double)bin / (p.t1 - p.t0);
    for (size_t k = 0; k < nb; ++k) {
        double base = 0, x = px(&p, (double)(r->t0 + (int64_t)k * bin));
        for (size_t j = 0; j < shown + (size_t)other; ++j) {
            double v = 0;
            if (j < shown)
                v = peak[k * gr.n_groups + rank[j].g];
            else
                for (size_t m = shown; m < gr.n_groups; ++m)
                    v += peak[k * gr.n_groups + rank[m].g];
            if (!(v > 0))
                continue;
            double y1 = py(&p, base), y0 = py(&p, base + v);
            double w = bw > 1.6 ? bw - 0.6 : bw;
            w = x + w > p.x + p.w ? p.x + p.w - x : w;
            sb_printf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
                         "height=\"%.2f\" fill=\"%s\"/>",
                      x, y0, w > 0.8 ? w : 0.8, y1 - y0 > 0.6 ? y1 - y0 : 0.6,
                      palette[j]);
            base += v;
        }
    }
    sb_puts(b, "</svg><div class=\"legend\">");
    for (size_t j = 0; j < shown + (size_t)other; ++j) {
        char name[64];
        if (j < shown)
            group_name(name, sizeof name, r, &gr, rank[j].g);
        else
            (void)snprintf(name, sizeof name, "other (%zu)",
                           gr.n_groups - shown);
        sb_printf(b, "<span><i style=\"background:%s\"></i>", palette[j]);
        sb_esc(b, name);
        sb_puts(b, "</span>");
    }
    sb_puts(b, "</div>");
    char bl[32];
    if (bin >= DAY_MS)
        (void)snprintf(bl, sizeof bl, "%lld-day", (long long)(bin / DAY_MS));
    else if (bin >= HOUR_MS)
        (void)snprintf(bl, sizeof bl, "%lld-hour", (long long)(bin / HOUR_MS));
    else
        (void)snprintf(bl, sizeof bl, "%lld-minute", (long long)(bin / 60000));
    sb_printf(b,
              "<p class=\"note\">Peak gross exposure (|position| &times; last "
              "fill price, over equity) of each group within each %s bin, "
              "stacked. ",
              bl);
    sb_puts(b, gr.by_cluster
                   ? "Clusters as logged at each rebalance; their numbers are "
                     "not matched from one rebalance to the next.</p>"
                   : "Per asset: this run's log has no &quot;clusters&quot; "
                     "events, so cluster membership is unknown.</p>");
    sb_puts(b, "</section>\n");
    free(peak);
    free(rank);
    free(gr.ids);
    free(gr.of);
    return COCE_OK;
}

typedef struct node {
    long long cluster;
    const char *name;
} node;

static int cmp_node(const void *a, const void *b)
{
    const node *x = a, *y = b;
    if (x->cluster != y->cluster)
        return x->cluster < y->cluster ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Deterministic layout: cluster centres on a circle, each cluster's members
 * on a smaller circle around its centre, in symbol order. */
static int cluster_graph(sb *b, const rep *r)
{
    const snapshot *s = &r->snaps[r->n_snaps - 1];
    node *nd = calloc(s->n + 1, sizeof *nd);
    if (nd == NULL)
        return COCE_ENOMEM;
    for (size_t i = 0; i < s->n; ++i) {
        nd[i].cluster = r->members[s->off + i].cluster;
        nd[i].name = coce_symbols_name(r->syms, r->members[s->off + i].asset);
    }
    qsort(nd, s->n, sizeof *nd, cmp_node);
    size_t k = 0, biggest = 0;
    for (size_t i = 0, m = 0; i < s->n; ++i) {
        int fresh = i == 0 || nd[i].cluster != nd[i - 1].cluster;
        k += fresh;
        m = fresh ? 1 : m + 1;
        biggest = m > biggest ? m : biggest;
    }
    /* member circles ~26 units apart; cluster hulls apart from each other */
    double rmax = clampd((double)biggest * 26.0 / (2 * PI), 14, 110);
    double big = k > 1 ? (rmax + 40) / sin(PI / (double)k) : 0;
    double half = big + rmax + 58;
    half = half < 180 ? 180 : half;
    double cx = half, cy = half;
    int labels = s->n <= 120;
    sb_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 "
                 "%.0f %.0f\" role=\"img\" aria-label=\"Consensus cluster "
                 "graph\" style=\"max-width:%.0fpx;margin:auto\">",
              2 * half, 2 * half, 2 * half * 1.25);
    size_t i = 0, c = 0;
    while (i < s->n) {
        size_t j = i;
        while (j < s->n && nd[j].cluster == nd[i].cluster)
            ++j;
        size_t m = j - i;
        double ang = 2 * PI * (double)c / (double)(k > 0 ? k : 1) - PI / 2;
        double ox = cx + big * cos(ang), oy = cy + big * sin(ang);
        double rad = clampd((double)m * 26.0 / (2 * PI), 14, 110);
        const char *col = palette[c % MAX_GROUPS];
        sb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" "
                     "fill-opacity=\".08\" stroke=\"%s\" stroke-opacity=\".4\"/>",
                  ox, oy, rad + 24, col, col);
        for (size_t q = 0; q < m; ++q) {
            double a = 2 * PI * (double)q / (double)m - PI / 2;
            double x = ox + rad * cos(a), y = oy + rad * sin(a);
            sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                         "y2=\"%.1f\" stroke=\"%s\" stroke-opacity=\".35\"/>"
                         "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" "
                         "fill=\"%s\"><title>",
                      ox, oy, x, y, col, x, y, col);
            sb_esc(b, nd[i + q].name);
            sb_puts(b, "</title></circle>");
            if (labels) {
                double lx = ox + (rad + 9) * cos(a), ly = oy + (rad + 9) * sin(a);
                sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" "
                             "font-size=\"9\">",
                          lx, ly + 3,
                          cos(a) > 0.3    ? "start"
                          : cos(a) < -0.3 ? "end"
                                          : "middle");
                sb_esc(b, nd[i + q].name);
                sb_puts(b, "</text>");
            }
        }
        double ly = k > 1 && sin(ang) < -0.1 ? oy - rad - 30 : oy + rad + 38;
        sb_printf(b, "<text class=\"title\" x=\"%.1f\" y=\"%.1f\" "
                     "text-anchor=\"middle\">cluster %lld (%zu)</text>",
                  ox, ly, nd[i].cluster, m);
        i = j;
        ++c;
    }
    sb_puts(b, "</svg>");
    free(nd);
    return COCE_OK;
}

static int sec_clusters(sb *b, const rep *r)
{
    sb_puts(b, "<section id=\"clusters\"><h2>Consensus clusters at the last "
               "rebalance</h2>");
    int rc = COCE_OK;
    int graph = r->n_snaps > 0 && r->snaps[r->n_snaps - 1].n > 0;
    sb_puts(b, graph ? "<div class=\"two\"><div>" : "<div><div>");
    if (graph) {
        char t[32];
        fmt_time(r->snaps[r->n_snaps - 1].t, t, sizeof t);
        rc = cluster_graph(b, r);
        sb_printf(b, "<p class=\"note\">Membership logged at %s UTC. Nodes "
                     "grouped by cluster, in symbol order.</p>",
                  t);
    } else {
        sb_puts(b, "<p class=\"note\">This run's log has no &quot;clusters"
                   "&quot; event (asset &rarr; cluster at each rebalance), so "
                   "the graph cannot be drawn; the rebalances' figures are "
                   "listed instead.</p>");
    }
    sb_puts(b, "</div><div><h3>Rebalances</h3>");
    if (r->n_rebals == 0) {
        sb_puts(b, r->have_logs ? "<p class=\"note\">No rebalance logged.</p>"
                                : "<p class=\"note\">logs.jsonl is missing."
                                  "</p>");
    } else {
        sb_puts(b, "<table><tr><th>time (UTC)</th><th>assets</th>"
                   "<th>clusters</th><th>modularity</th><th>turnover</th>"
                   "</tr>");
        size_t from = r->n_rebals > 12 ? r->n_rebals - 12 : 0;
        for (size_t i = from; i < r->n_rebals; ++i) {
            const rebal *x = &r->rebals[i];
            char t[32], e[24], c[24], q[24], u[24];
            fmt_time(x->t, t, sizeof t);
            fmt_num(e, sizeof e, x->eligible, 0);
            fmt_num(c, sizeof c, x->clusters, 0);
            fmt_num(q, sizeof q, x->modularity, 3);
            fmt_num(u, sizeof u, x->turnover, 3);
            sb_printf(b, "<tr><td class=\"t\">%.16s</td><td class=\"n\">%s</td><td "
                         "class=\"n\">%s</td><td class=\"n\">%s</td><td "
                         "class=\"n\">%s</td></tr>",
                      t, e, c, q, u);
        }
        sb_puts(b, "</table>");
        if (from > 0)
            sb_printf(b, "<p class=\"note\">The last 12 of %zu rebalances."
                         "</p>",
                      r->n_rebals);
    }
    sb_puts(b, "</div></div></section>\n");
    return rc;
}

/* ---- pump alerts on price charts -------------------------------------------- */

typedef struct bucket {
    double lo, hi, vol;
    int64_t tlo, thi;
    size_t n;
} bucket;

typedef struct window {
    const alert *a;
    int64_t from, to;
    size_t trades;
    bucket bk[PRICE_BUCKETS];
} window;

typedef struct market {
    char dir[1200];
    int found;
    char **paths;
    size_t n_paths;
    char (*syms)[COCE_SYMBOL_MAX + 1];
    char problem[COCE_ERR_MSG_MAX];
} market;

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void market_open(const rep *r, market *m)
{
    memset(m, 0, sizeof *m);
    const char *given = r->o.market_dir != NULL ? r->o.market_dir
                                                : jstr(r->summary, "market");
    if (given == NULL || given[0] == '\0') {
        (void)snprintf(m->problem, sizeof m->problem,
                       "summary.json names no market");
        return;
    }
    (void)snprintf(m->dir, sizeof m->dir, "%s", given);
    if (!is_dir(m->dir) && given[0] != '/')
        (void)snprintf(m->dir, sizeof m->dir, "%s/../../%s", r->dir, given);
    if (!is_dir(m->dir)) {
        (void)snprintf(m->problem, sizeof m->problem,
                       "market directory %.400s not found", given);
        return;
    }
    char sub[1300];
    (void)snprintf(sub, sizeof sub, "%s/trades", m->dir);
    coce_err e;
    coce_err_clear(&e);
    if (coce_trade_dir_list(is_dir(sub) ? sub : m->dir, &m->paths, &m->n_paths,
                            &e) != COCE_OK) {
        (void)snprintf(m->problem, sizeof m->problem, "%s", e.msg);
        return;
    }
    m->syms = calloc(m->n_paths + 1, sizeof *m->syms);
    if (m->syms == NULL) {
        (void)snprintf(m->problem, sizeof m->problem, "out of memory");
        return;
    }
    for (size_t i = 0; i < m->n_paths; ++i) {
        int64_t ev;
        if (coce_trade_filename_parse(m->paths[i], m->syms[i],
                                      sizeof m->syms[i], &ev) == COCE_ERANGE)
            m->syms[i][0] = '\0';
    }
    m->found = 1;
}

static void market_close(market *m)
{
    coce_trade_dir_list_free(m->paths, m->n_paths);
    free(m->syms);
}

static void bucket_add(window *w, const coce_trade *t)
{
    size_t k = (size_t)((t->time_ms - w->from) * PRICE_BUCKETS /
                        (w->to - w->from + 1));
    bucket *b = &w->bk[k];
    if (b->n == 0 || t->price < b->lo) {
        b->lo = t->price;
        b->tlo = t->time_ms;
    }
    if (b->n == 0 || t->price > b->hi) {
        b->hi = t->price;
        b->thi = t->time_ms;
    }
    b->vol += t->price * t->qty;
    ++b->n;
    ++w->trades;
}

/* Reads every trade file of `symbol` once and buckets the trades that fall
 * in a window; returns the first reading problem (for the page) or "". */
static void market_scan(const market *m, const char *symbol, window *w,
                        size_t n_w, char *problem, size_t plen)
{
    problem[0] = '\0';
    coce_trade buf[4096];
    for (size_t i = 0; i < m->n_paths; ++i) {
        if (strcmp(m->syms[i], symbol) != 0)
            continue;
        coce_symbols *ss = NULL;
        coce_trade_reader *tr = NULL;
        coce_trade_reader_opts ro = {1, 1};
        coce_err e;
        coce_err_clear(&e);
        int rc = coce_symbols_new(&ss);
        if (rc == COCE_OK)
            rc = coce_trade_reader_open(&tr, m->paths[i], ss, &ro, &e);
        size_t n = 0;
        while (rc == COCE_OK &&
               (rc = coce_trade_reader_next(tr, buf, 4096, &n, &e)) ==
                   COCE_OK)
            for (size_t j = 0; j < n; ++j)
                for (size_t k = 0; k < n_w; ++k)
                    if (buf[j].time_ms >= w[k].from &&
                        buf[j].time_ms <= w[k].to)
                        bucket_add(&w[k], &buf[j]);
        if (rc != COCE_EEOF && problem[0] == '\0')
            (void)snprintf(problem, plen, "%s", e.msg[0] ? e.msg
                                                         : coce_strerror(rc));
        coce_trade_reader_free(tr);
        coce_symbols_free(ss);
    }
}

static void price_chart(sb *b, const rep *r, const window *w,
                        const char *symbol)
{
    double lo = INFINITY, hi = -INFINITY, vmax = 0;
    for (size_t k = 0; k < PRICE_BUCKETS; ++k)
        if (w->bk[k].n > 0) {
            lo = w->bk[k].lo < lo ? w->bk[k].lo : lo;
            hi = w->bk[k].hi > hi ? w->bk[k].hi : hi;
            vmax = w->bk[k].vol > vmax ? w->bk[k].vol : vmax;
        }
    const coce_asset_id id = w->a->asset;
    for (size_t i = 0; i < r->n_fills; ++i)
        if (r->fills[i].asset == id && r->fills[i].t >= w->from &&
            r->fills[i].t <= w->to) {
            lo = r->fills[i].price < lo ? r->fills[i].price : lo;
            hi = r->fills[i].price > hi ? r->fills[i].price : hi;
        }
    char t[32];
    fmt_time(w->a->t, t, sizeof t);
    sb_puts(b, "<figure>");
    svg_open(b, 330, 200, "Price around a pump alert");
    sb_puts(b, "<text class=\"title\" x=\"8\" y=\"14\">");
    sb_esc(b, symbol);
    sb_printf(b, " &middot; %s</text><text x=\"322\" y=\"14\" "
                 "text-anchor=\"end\">score %.3f</text>",
              t + 5, w->a->score);
    if (w->trades == 0) {
        sb_puts(b, "<text x=\"165\" y=\"100\" text-anchor=\"middle\">no "
                   "trades in the market files for this window</text></svg>");
    } else {
        double pad = (hi - lo) * 0.08;
        pad = pad > 0 ? pad : hi * 0.01;
        plot p = {58, 24, 250, 140, (double)w->from, (double)w->to, lo - pad,
                  hi + pad};
        axis_y(b, &p, VF_NUM, 4);
        axis_t(b, &p, 4);
        for (size_t k = 0; k < PRICE_BUCKETS && vmax > 0; ++k)
            if (w->bk[k].n > 0) {
                double x = p.x + p.w * (double)k / PRICE_BUCKETS;
                double h = 28.0 * w->bk[k].vol / vmax;
                sb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" "
                             "height=\"%.1f\" fill=\"#9aa5b1\" "
                             "fill-opacity=\".45\"/>",
                          x, p.y + p.h - h, p.w / PRICE_BUCKETS, h);
            }
        sb_puts(b, "<path fill=\"none\" stroke=\"#2f6fb2\" "
                   "stroke-width=\"1.3\" stroke-linejoin=\"round\" d=\"");
        int first = 1;
        for (size_t k = 0; k < PRICE_BUCKETS; ++k) {
            const bucket *q = &w->bk[k];
            if (q->n == 0)
                continue;
            int lo_first = q->tlo <= q->thi;
            double ta = (double)(lo_first ? q->tlo : q->thi);
            double tb = (double)(lo_first ? q->thi : q->tlo);
            sb_printf(b, "%s%.1f %.1fL%.1f %.1f", first ? "M" : "L",
                      px(&p, ta), py(&p, lo_first ? q->lo : q->hi), px(&p, tb),
                      py(&p, lo_first ? q->hi : q->lo));
            first = 0;
        }
        sb_puts(b, "\"/>");
        double ax = px(&p, (double)w->a->t);
        sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                     "stroke=\"#c53030\" stroke-width=\"1.2\" "
                     "stroke-dasharray=\"3 2\"/><text class=\"mark\" "
                     "x=\"%.1f\" y=\"%.1f\">alert</text>",
                  ax, p.y, ax, p.y + p.h, ax + 3, p.y + 9);
        for (size_t i = 0; i < r->n_fills; ++i) {
            const fill *x = &r->fills[i];
            if (x->asset != id || x->t < w->from || x->t > w->to)
                continue;
            double fx = px(&p, (double)x->t), fy = py(&p, x->price);
            if (x->side > 0)
                sb_printf(b, "<path d=\"M%.1f %.1fl4 7h-8z\" "
                             "fill=\"#2f855a\"/>",
                          fx, fy - 2);
            else
                sb_printf(b, "<path d=\"M%.1f %.1fl4 -7h-8z\" "
                             "fill=\"#c53030\"/>",
                          fx, fy + 2);
        }
        sb_puts(b, "</svg>");
    }
    sb_puts(b, "<figcaption>");
    if (w->a->entered)
        sb_puts(b, "entered");
    else {
        sb_puts(b, "not entered");
        if (w->a->note[0] != '\0') {
            sb_puts(b, ": ");
            sb_esc(b, w->a->note);
        }
    }
    sb_printf(b, " &middot; %zu trades</figcaption></figure>", w->trades);
}

typedef struct acount {
    size_t n;
    coce_asset_id asset;
    const char *name;
} acount;

static int cmp_acount(const void *a, const void *b)
{
    const acount *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int sec_alerts(sb *b, const rep *r)
{
    sb_puts(b, "<section id=\"alerts\"><h2>Pump alerts on price charts</h2>");
    if (r->n_alerts == 0) {
        sb_puts(b, r->have_alerts ? "<p class=\"note\">No pump alert in this "
                                    "run.</p></section>\n"
                                  : "<p class=\"note\">alerts.csv is missing."
                                    "</p></section>\n");
        return COCE_OK;
    }
    size_t n_assets = coce_symbols_count(r->syms);
    acount *cnt = calloc(n_assets + 1, sizeof *cnt);
    window *w = calloc(r->o.alerts_per_asset + 1, sizeof *w);
    if (cnt == NULL || w == NULL) {
        free(cnt);
        free(w);
        return COCE_ENOMEM;
    }
    for (size_t a = 0; a < n_assets; ++a) {
        cnt[a].asset = (coce_asset_id)a;
        cnt[a].name = coce_symbols_name(r->syms, (coce_asset_id)a);
    }
    for (size_t i = 0; i < r->n_alerts; ++i)
        ++cnt[r->alerts[i].asset].n;
    qsort(cnt, n_assets, sizeof *cnt, cmp_acount);
    market m;
    market_open(r, &m);
    size_t n_show = 0, n_with = 0;
    for (size_t a = 0; a < n_assets; ++a)
        n_with += cnt[a].n > 0;
    while (n_show < n_assets && n_show < r->o.alert_assets && cnt[n_show].n > 0)
        ++n_show;
    sb_printf(b, "<p class=\"note\">%zu alerts on %zu assets. Below: the %zu "
                 "asset%s with most alerts, up to %zu alerts each (earliest "
                 "first), %lld minutes of trades on each side, in %d time "
                 "buckets (lowest and highest price of each). Grey bars: "
                 "traded value. Triangles: this run's fills (green buy, red "
                 "sell).</p>",
              r->n_alerts, n_with, n_show,
              n_show == 1 ? "" : "s", r->o.alerts_per_asset,
              (long long)(r->o.alert_window_ms / 60000), PRICE_BUCKETS);
    if (!m.found) {
        sb_puts(b, "<p class=\"note\">No price charts: ");
        sb_esc(b, m.problem);
        sb_puts(b, ".</p>");
    }
    for (size_t s = 0; s < n_show && m.found; ++s) {
        size_t n_w = 0;
        memset(w, 0, (r->o.alerts_per_asset + 1) * sizeof *w);
        for (size_t i = 0; i < r->n_alerts && n_w < r->o.alerts_per_asset; ++i)
            if (r->alerts[i].asset == cnt[s].asset) {
                w[n_w].a = &r->alerts[i];
                w[n_w].from = r->alerts[i].t - r->o.alert_window_ms;
                w[n_w++].to = r->alerts[i].t + r->o.alert_window_ms;
            }
        char problem[COCE_ERR_MSG_MAX];
        market_scan(&m, cnt[s].name, w, n_w, problem, sizeof problem);
        sb_puts(b, "<h3>");
        sb_esc(b, cnt[s].name);
        sb_printf(b, " &middot; %zu alert%s</h3>", cnt[s].n,
                  cnt[s].n == 1 ? "" : "s");
        if (problem[0] != '\0') {
            sb_puts(b, "<p class=\"note\">Reading the trade files: ");
            sb_esc(b, problem);
            sb_puts(b, "</p>");
        }
        sb_puts(b, "<div class=\"multiples\">");
        for (size_t k = 0; k < n_w; ++k)
            price_chart(b, r, &w[k], cnt[s].name);
        sb_puts(b, "</div>");
    }
    sb_puts(b, "</section>\n");
    market_close(&m);
    free(cnt);
    free(w);
    return COCE_OK;
}

/* ---- guardrails and kill-switch ---------------------------------------------- */

static void sec_events(sb *b, const rep *r)
{
    sb_puts(b, "<section id=\"events\"><h2>Guardrail cuts and kill-switch "
               "events</h2>");
    size_t count[EV_KINDS] = {0};
    for (size_t i = 0; i < r->n_events; ++i)
        ++count[r->events[i].kind];
    const json_t *cuts = json_object_get(r->summary, "guardrail_cuts");
    if (json_is_object(cuts))
        sb_printf(b, "<p class=\"note\">summary.json counts entry cuts: "
                     "drawdown %.0f, VaR %.0f, correlation %.0f, ADV %.0f; "
                     "halts %.0f.</p>",
                  jnum(cuts, "drawdown"), jnum(cuts, "var"), jnum(cuts, "corr"),
                  jnum(cuts, "adv"), jnum(r->summary, "halts"));
    if (!r->have_logs && !r->have_meta)
        sb_puts(b, "<p class=\"note\">logs.jsonl and meta_events.jsonl are "
                   "missing.</p>");
    if (r->n_events == 0) {
        sb_puts(b, "<p class=\"note\">No guardrail cut and no kill-switch "
                   "event in this run.</p></section>\n");
        return;
    }
    size_t lanes = 0;
    for (int k = 0; k < EV_KINDS; ++k)
        lanes += count[k] > 0;
    double lane_h = 24;
    plot p = {150, 8, 794, lane_h * (double)lanes, (double)r->t0,
              (double)r->t1, 0, 1};
    svg_open(b, 960, p.h + 34, "Timeline of guardrail and kill-switch events");
    halted_bands(b, r, &p);
    axis_t(b, &p, 10);
    size_t lane = 0;
    for (int k = 0; k < EV_KINDS; ++k) {
        if (count[k] == 0)
            continue;
        double y = p.y + lane_h * ((double)lane + 0.5);
        sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                     "stroke=\"#e4e7eb\"/><text x=\"%.1f\" y=\"%.1f\" "
                     "text-anchor=\"end\">%s (%zu)</text>",
                  p.x, y, p.x + p.w, y, p.x - 8, y + 4, ev_label[k], count[k]);
        for (size_t i = 0; i < r->n_events; ++i)
            if (r->events[i].kind == k)
                sb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"3\" "
                             "height=\"14\" rx=\"1\" fill=\"%s\" "
                             "fill-opacity=\".8\"/>",
                          px(&p, (double)r->events[i].t) - 1.5, y - 7,
                          ev_color[k]);
        ++lane;
    }
    sb_puts(b, "</svg>");
    sb_puts(b, "<table><tr><th>time (UTC)</th><th>event</th><th>asset</th>"
               "<th>detail</th></tr>");
    size_t rows = r->n_events < r->o.max_event_rows ? r->n_events
                                                     : r->o.max_event_rows;
    for (size_t i = 0; i < rows; ++i) {
        const event *e = &r->events[i];
        char t[32];
        fmt_time(e->t, t, sizeof t);
        sb_printf(b, "<tr><td class=\"t\">%s</td><td><i style=\"display:"
                     "inline-block;width:8px;height:8px;border-radius:2px;"
                     "margin-right:6px;background:%s\"></i>%s</td><td>",
                  t, ev_color[e->kind], ev_label[e->kind]);
        sb_esc(b, e->asset);
        sb_puts(b, "</td><td>");
        sb_esc(b, e->detail);
        sb_puts(b, "</td></tr>");
    }
    sb_puts(b, "</table>");
    if (r->n_events > r->o.max_event_rows)
        sb_printf(b, "<p class=\"note\">First %zu of %zu events; the rest "
                     "are in logs.jsonl.</p>",
                  rows, r->n_events);
    sb_puts(b, "</section>\n");
}

/* ---- figures table ------------------------------------------------------------ */

static void fig_row(sb *b, const char *id, const char *name, double value,
                    const char *shown, const char *def)
{
    sb_printf(b, "<tr id=\"fig-%s\"><th>%s</th><td class=\"n\" "
                 "data-value=\"%.17g\">%s</td><td class=\"def\">%s</td></tr>",
              id, name, isfinite(value) ? value : NAN, shown, def);
}

static void sec_figures(sb *b, const rep *r, const figures *g)
{
    sb_puts(b, "<section id=\"figures\"><h2>Figures</h2><table>"
               "<tr><th>figure</th><th>value</th><th>definition</th></tr>");
    char v[64], d[400];
    fmt_pct(v, sizeof v, g->total_return, 2);
    (void)snprintf(d, sizeof d,
                   "final / initial equity &minus; 1 over the evaluation "
                   "window (%.6g &rarr; %.6g)",
                   g->initial, g->final);
    fig_row(b, "total_return", "Total return", g->total_return, v, d);
    fmt_pct(v, sizeof v, g->cagr, 2);
    (void)snprintf(d, sizeof d,
                   "(final / initial)<sup>365 / days</sup> &minus; 1, days = "
                   "%.2f from the first trading day's close to the last row "
                   "of equity.csv",
                   g->days);
    fig_row(b, "cagr", "CAGR", g->cagr, v, d);
    fmt_num(v, sizeof v, g->sharpe, 2);
    (void)snprintf(d, sizeof d,
                   "mean / standard deviation (n&minus;1) of the %zu daily "
                   "returns &times; &radic;365",
                   g->n_returns);
    fig_row(b, "sharpe", "Sharpe", g->sharpe, v, d);
    fmt_num(v, sizeof v, g->sortino, 2);
    fig_row(b, "sortino", "Sortino", g->sortino, v,
            "mean daily return / downside deviation &times; &radic;365; "
            "downside deviation = &radic;(&Sigma; min(r, 0)&sup2; / n), target "
            "0 (Sortino &amp; van der Meer 1991); n/a without a losing day");
    fmt_pct(v, sizeof v, g->max_drawdown, 2);
    fig_row(b, "max_drawdown", "Max drawdown", g->max_drawdown, v,
            "largest fall of equity from its running peak, at daily closes");
    fmt_pct(v, sizeof v, g->hit_rate, 1);
    (void)snprintf(d, sizeof d, "%zu of %zu round trips closed with a profit",
                   g->wins, r->n_trades);
    fig_row(b, "hit_rate", "Hit rate", g->hit_rate, v, d);
    fmt_num(v, sizeof v, g->turnover, 2);
    (void)snprintf(d, sizeof d,
                   "&Sigma; |qty &times; price| over the %zu fills (%.6g) / "
                   "mean equity (%.6g) &times; 365 / days: equity traded per "
                   "year",
                   r->n_fills, g->notional, g->mean_equity);
    fig_row(b, "turnover", "Turnover (annualised)", g->turnover, v, d);
    fmt_sig(v, sizeof v, g->fees);
    (void)snprintf(d, sizeof d,
                   "&Sigma; fee over the fills, in quote currency (%.3f %% of "
                   "initial equity)",
                   g->initial > 0 ? g->fees / g->initial * 100.0 : NAN);
    fig_row(b, "fees", "Fees", g->fees, v, d);
    sb_puts(b, "</table>");
    double es = jnum(r->summary, "sharpe"), em = jnum(r->summary,
                                                       "max_drawdown");
    if (isfinite(es) || isfinite(em)) {
        char s1[32], s2[32];
        fmt_num(s1, sizeof s1, es, 2);
        fmt_pct(s2, sizeof s2, em, 2);
        sb_printf(b, "<p class=\"note\">As the engine reported them "
                     "(summary.json): Sharpe %s, max drawdown %s (from every "
                     "equity mark, not only daily closes).</p>",
                  s1, s2);
    }
    sb_puts(b, "</section>\n");
}

static void run_row(sb *b, const char *name, const char *value)
{
    sb_printf(b, "<tr><th>%s</th><td>", name);
    sb_esc(b, value);
    sb_puts(b, "</td></tr>");
}

static void sec_run(sb *b, const rep *r)
{
    sb_puts(b, "<section id=\"run\"><h2>Run</h2><table>");
    static const char *const keys[] = {
        "run_id",     "market",      "period_start", "trading_start",
        "period_end", "assets",      "fills",        "round_trips",
        "alerts",     "events",      "events_alerted", "false_alerts",
        "false_alerts_per_coin_day", "rebalances",   "model_fits",
        "halts",      "halt_reason", "interrupted"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; ++i) {
        const json_t *v = json_object_get(r->summary, keys[i]);
        char buf[64];
        if (json_is_string(v))
            run_row(b, keys[i], json_string_value(v));
        else if (json_is_integer(v)) {
            (void)snprintf(buf, sizeof buf, "%lld",
                           (long long)json_integer_value(v));
            run_row(b, keys[i], buf);
        } else if (json_is_real(v)) {
            (void)snprintf(buf, sizeof buf, "%.4g", json_real_value(v));
            run_row(b, keys[i], buf);
        } else if (json_is_boolean(v))
            run_row(b, keys[i], json_is_true(v) ? "yes" : "no");
    }
    sb_puts(b, "</table>");
    if (r->bad_log_lines > 0)
        sb_printf(b, "<p class=\"note\">%zu malformed lines of logs.jsonl / "
                     "meta_events.jsonl were skipped.</p>",
                  r->bad_log_lines);
    sb_puts(b, "</section>\n");
}

/* ---- driver -------------------------------------------------------------------- */

static int render(sb *b, rep *r)
{
    figures g;
    compute_figures(r, &g);
    const char *run = jstr(r->summary, "run_id");
    sb_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
               "charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" "
               "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
               "<meta name=\"viewport\" content=\"width=device-width, "
               "initial-scale=1\"><title>COCE report ");
    sb_esc(b, run != NULL ? run : "");
    sb_printf(b, "</title><style>%s</style></head>\n<body><main>\n", css);
    sec_head(b, r, &g);
    sec_equity(b, r);
    sec_drawdown(b, r, &g);
    int rc = sec_exposure(b, r);
    if (rc == COCE_OK) {
        sec_events(b, r);
        rc = sec_alerts(b, r);
    }
    if (rc == COCE_OK)
        rc = sec_clusters(b, r);
    if (rc == COCE_OK) {
        sec_figures(b, r, &g);
        sec_run(b, r);
        sb_puts(b, "<footer>Made by <code>coce report</code> from the files "
                   "of this directory. Sortino: F. A. Sortino and R. van der "
                   "Meer, &ldquo;Downside risk&rdquo;, Journal of Portfolio "
                   "Management 17(4), 1991, pp. 27&ndash;31. Times are UTC."
                   "</footer>\n</main></body></html>\n");
    }
    return rc;
}

void coce_report_opts_default(coce_report_opts *opts)
{
    opts->market_dir = NULL;
    opts->alert_assets = 4;
    opts->alerts_per_asset = 3;
    opts->alert_window_ms = 30 * 60000LL;
    opts->max_event_rows = 200;
}

static void rep_free(rep *r)
{
    coce_symbols_free(r->syms);
    json_decref(r->summary);
    free(r->eq_t);
    free(r->eq_v);
    free(r->fills);
    free(r->trade_pnl);
    free(r->alerts);
    free(r->events);
    free(r->rebals);
    free(r->snaps);
    free(r->members);
}

int coce_report_write_html_opts(const char *report_dir,
                                const coce_report_opts *opts, coce_err *err)
{
    if (report_dir == NULL || report_dir[0] == '\0')
        return coce_err_set(err, COCE_EINVAL, "report: no directory given");
    rep r;
    memset(&r, 0, sizeof r);
    r.dir = report_dir;
    coce_report_opts_default(&r.o);
    if (opts != NULL)
        r.o = *opts;
    if (r.o.alert_window_ms <= 0 || r.o.alerts_per_asset == 0)
        return coce_err_set(err, COCE_EINVAL,
                            "report: alert window and alerts per asset must "
                            "be positive");
    int rc = coce_symbols_new(&r.syms);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "report: out of memory");
    char meta[1200];
    (void)snprintf(meta, sizeof meta, "%s/meta_events.jsonl", report_dir);
    r.have_meta = coce_fs_exists(meta);
    if ((rc = load_summary(&r, err)) == COCE_OK &&
        (rc = load_equity(&r, err)) == COCE_OK &&
        (rc = load_fills(&r, err)) == COCE_OK &&
        (rc = load_trades(&r, err)) == COCE_OK &&
        (rc = load_alerts(&r, err)) == COCE_OK &&
        (rc = load_jsonl(&r, "logs.jsonl", 0, &r.have_logs, err)) == COCE_OK)
        rc = load_jsonl(&r, "meta_events.jsonl", 1, &r.have_meta, err);
    if (rc == COCE_OK) {
        if (r.n_events > 1)
            qsort(r.events, r.n_events, sizeof *r.events, cmp_event);
        if (r.n_fills > 1)
            qsort(r.fills, r.n_fills, sizeof *r.fills, cmp_fill);
        time_axis(&r);
        sb b = {NULL, 0, 0, 0};
        rc = render(&b, &r);
        if (rc == COCE_OK && b.oom)
            rc = COCE_ENOMEM;
        if (rc != COCE_OK) {
            coce_err_set(err, rc, "report: %s", coce_strerror(rc));
        } else {
            char path[1200];
            (void)snprintf(path, sizeof path, "%s/report.html", report_dir);
            rc = coce_fs_write_atomic(path, b.p, b.n, err);
        }
        free(b.p);
    }
    rep_free(&r);
    return rc;
}

int coce_report_write_html(const char *report_dir, coce_err *err)
{
    return coce_report_write_html_opts(report_dir, NULL, err);
}
