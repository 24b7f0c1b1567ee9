/* `coce cluster` and `coce allocate` (docs/portfolio.md).
 *
 * Pipeline: wide close prices -> simple returns (no forward fill) ->
 * eligibility (cluster.min_bars valid returns, non-constant) ->
 * pairwise-complete covariance / correlation as pandas DataFrame.cov() /
 * .corr() -> either consensus clusters on w_ij = max(rho_ij, 0)
 * (Lancichinetti & Fortunato 2012 over Louvain, Blondel et al. 2008) or HRP
 * weights (López de Prado 2016, with PyPortfolioOpt HRPOpt's conventions:
 * clustering on returns.corr(), allocation on returns.cov()), then cluster
 * caps and the turnover limit (portfolio/constraints.h). */
#include "agent/cmd_portfolio.h"

#include "agent/cmd_common.h"
#include "data_ingest/prices.h"
#include "network_analysis/consensus.h"
#include "network_analysis/covariance.h"
#include "network_analysis/louvain.h"
#include "portfolio/constraints.h"
#include "portfolio/hrp.h"
#include "utils/config.h"
#include "utils/error.h"
#include "utils/fsutil.h"

#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_DATA = 3 };

/* Tolerance on the sum of a --prev weights file. */
#define WEIGHT_SUM_TOL 1e-6

static int exit_code_for(int rc)
{
    switch (rc) {
    case COCE_ECONFIG:
    case COCE_EINVAL:
        return EXIT_USAGE;
    case COCE_EPARSE:
    case COCE_EDATA:
    case COCE_ENOTFOUND:
        return EXIT_DATA;
    default:
        return EXIT_RUNTIME;
    }
}

static int fail(const char *cmd, int rc, const coce_err *err)
{
    fprintf(stderr, "coce %s: %s\n", cmd,
            err->msg[0] != '\0' ? err->msg : coce_strerror(rc));
    return exit_code_for(rc);
}

/* Zeroed array of n elements (never a 0-byte request): the buffers below are
 * filled by kernels, and zeroed memory keeps a failed fill harmless. */
static void *zalloc(size_t n, size_t size)
{
    return calloc(n > 0 ? n : 1, size);
}

/* ---- a growing text buffer for the output CSV ---- */

typedef struct strbuf {
    char *s;
    size_t n, cap;
    int oom;
} strbuf;

static void sb_printf(strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_printf(strbuf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        const size_t room = b->cap - b->n;
        const int w =
            vsnprintf(b->s != NULL ? b->s + b->n : NULL, room, fmt, ap);
        va_end(ap);
        if (w < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)w < room) {
            b->n += (size_t)w;
            return;
        }
        const size_t cap = 2 * b->cap + (size_t)w + 256;
        char *s = realloc(b->s, cap);
        if (s == NULL) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

/* Writes the buffer to path (atomically) or to stdout when path is NULL. */
static int sb_emit(const strbuf *b, const char *path, coce_err *err)
{
    if (b->oom)
        return coce_err_set(err, COCE_ENOMEM, "out of memory");
    if (path != NULL)
        return coce_fs_write_atomic(path, b->s != NULL ? b->s : "", b->n, err);
    if (b->n > 0 && fwrite(b->s, 1, b->n, stdout) != b->n)
        return coce_err_set(err, COCE_EIO, "stdout: write failed");
    return fflush(stdout) == 0
               ? COCE_OK
               : coce_err_set(err, COCE_EIO, "stdout: write failed");
}

/* ---- prices -> eligible returns ---- */

typedef struct pf_data {
    coce_price_table px;
    size_t n;    /* return rows */
    size_t m;    /* eligible assets */
    size_t *idx; /* m: eligible asset -> price column */
    double *ret; /* n x m returns of the eligible assets */
    int gaps;    /* ret holds a missing value */
} pf_data;

static void pf_destroy(pf_data *d)
{
    coce_price_table_destroy(&d->px);
    free(d->idx);
    free(d->ret);
    memset(d, 0, sizeof *d);
}

/* Loads the prices, computes simple returns and keeps the assets with at
 * least min_bars valid returns that are not constant; every excluded asset
 * is reported on stderr with its reason (a missing series is never filled
 * with zeros: that would fake a zero-variance, uncorrelated asset). */
static int pf_load(const char *cmd, const char *path, const coce_config *cfg,
                   pf_data *d, coce_err *err)
{
    memset(d, 0, sizeof *d);
    int rc = coce_price_table_load(path, &d->px, err);
    if (rc != COCE_OK)
        return rc;
    const size_t rows = d->px.n_rows, k = d->px.n_assets;
    if (rows < 2)
        return coce_err_set(err, COCE_EDATA,
                            "%s: %zu price row(s); returns need at least 2",
                            path, rows);
    const size_t n = rows - 1;
    double *all = zalloc(n * k, sizeof *all);
    d->idx = zalloc(k, sizeof *d->idx);
    if (all == NULL || d->idx == NULL) {
        free(all);
        return coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
    }
    (void)coce_returns_simple(d->px.prices, rows, k, all);
    const size_t min_bars = (size_t)cfg->cluster.min_bars;
    for (size_t j = 0; j < k; ++j) {
        size_t count = 0;
        double lo = INFINITY, hi = -INFINITY;
        for (size_t t = 0; t < n; ++t) {
            const double r = all[t * k + j];
            if (isfinite(r)) {
                ++count;
                lo = r < lo ? r : lo;
                hi = r > hi ? r : hi;
            }
        }
        if (count < min_bars)
            fprintf(stderr,
                    "coce %s: %s: excluded %s: %zu valid return(s), "
                    "cluster.min_bars is %zu\n",
                    cmd, path, d->px.assets[j], count, min_bars);
        else if (lo == hi)
            fprintf(stderr,
                    "coce %s: %s: excluded %s: constant returns (zero "
                    "variance)\n",
                    cmd, path, d->px.assets[j]);
        else
            d->idx[d->m++] = j;
    }
    if (d->m == 0) {
        free(all);
        return coce_err_set(err, COCE_EDATA,
                            "%s: no asset has cluster.min_bars (%zu) valid "
                            "non-constant returns",
                            path, min_bars);
    }
    d->n = n;
    d->ret = zalloc(n * d->m, sizeof *d->ret);
    if (d->ret == NULL) {
        free(all);
        return coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
    }
    for (size_t t = 0; t < n; ++t)
        for (size_t i = 0; i < d->m; ++i) {
            const double r = all[t * k + d->idx[i]];
            d->ret[t * d->m + i] = r;
            d->gaps |= !isfinite(r);
        }
    free(all);
    return COCE_OK;
}

static const char *pf_name(const pf_data *d, size_t i)
{
    return d->px.assets[d->idx[i]];
}

/* Sample covariance (ddof 1, pairwise complete, min_periods 1 as pandas) of
 * the eligible returns; the blocked fast path when there is no gap. */
static int pf_cov(const pf_data *d, double *cov, coce_err *err)
{
    double *work = zalloc(coce_cov_work_size(d->n, d->m), sizeof *work);
    if (work == NULL)
        return coce_err_set(err, COCE_ENOMEM, "out of memory");
    (void)coce_cov_pairwise(d->ret, d->n, d->m, 1, cov, NULL, work);
    free(work);
    return COCE_OK;
}

/* NaN cells of a covariance/correlation come from pairs with fewer than two
 * common returns (or constant on them): name the pair. */
static int pf_check_finite(const pf_data *d, const double *a, const char *path,
                           const char *what, coce_err *err)
{
    for (size_t i = 0; i < d->m; ++i)
        for (size_t j = i; j < d->m; ++j)
            if (!isfinite(a[i * d->m + j]))
                return coce_err_set(
                    err, COCE_EDATA,
                    "%s: %s of %s and %s is undefined: too few common "
                    "returns or constant on them",
                    path, what, pf_name(d, i), pf_name(d, j));
    return COCE_OK;
}

/* Correlation used for the clustering graph: Ledoit-Wolf when
 * cluster.ledoit_wolf, else pandas' pairwise .corr() (from the covariance
 * when there is no gap: the same numbers up to rounding, much faster). */
static int pf_cluster_corr(const pf_data *d, const coce_config *cfg,
                           double *corr, coce_err *err)
{
    if (cfg->cluster.ledoit_wolf) {
        double *work = zalloc(coce_cov_lw_work_size(d->n, d->m), sizeof *work);
        if (work == NULL)
            return coce_err_set(err, COCE_ENOMEM, "out of memory");
        int rc = coce_cov_ledoit_wolf(d->ret, d->n, d->m, corr, NULL, work);
        free(work);
        if (rc != COCE_OK)
            return coce_err_set(err, rc,
                                "Ledoit-Wolf needs at least 2 rows where "
                                "every eligible asset has a return");
        return coce_corr_from_cov(corr, d->m, corr);
    }
    if (d->gaps)
        return coce_corr_pairwise(d->ret, d->n, d->m, 1, corr, NULL);
    int rc = pf_cov(d, corr, err);
    return rc != COCE_OK ? rc : coce_corr_from_cov(corr, d->m, corr);
}

/* Consensus clusters of the eligible assets on max(corr, 0). corr is
 * overwritten with the graph. */
static int pf_consensus(const pf_data *d, const coce_config *cfg, double *corr,
                        size_t *membership, size_t *n_clusters, double *q,
                        coce_err *err)
{
    (void)coce_corr_graph(corr, d->m, corr);
    coce_consensus_opts o;
    coce_consensus_opts_default(&o);
    o.runs = (size_t)cfg->cluster.consensus_runs;
    o.tau = cfg->cluster.consensus_tau;
    o.resolution = cfg->cluster.resolution;
    o.seed = (uint64_t)cfg->run.seed;
    void *work = zalloc(coce_consensus_work_size(d->m), 1);
    if (work == NULL)
        return coce_err_set(err, COCE_ENOMEM, "out of memory");
    int rc =
        coce_consensus_cluster(corr, d->m, &o, membership, n_clusters, q, work);
    free(work);
    if (rc != COCE_OK)
        return coce_err_set(err, COCE_ECONVERGE,
                            "consensus clustering failed: %s",
                            coce_strerror(rc));
    return COCE_OK;
}

/* ---- small CSV files: asset,weight and asset,cluster ---- */

typedef struct csv_reader {
    char *text, *cursor;
    const char *path;
    size_t lineno;
} csv_reader;

/* Next non-blank line, split at its single comma into name and value
 * (trimmed); 0 at end of file. */
static int csv_next(csv_reader *r, char **name, char **value, coce_err *err,
                    int *rc)
{
    while (r->cursor != NULL && *r->cursor != '\0') {
        char *line = r->cursor;
        char *nl = strchr(line, '\n');
        r->cursor = nl != NULL ? nl + 1 : NULL;
        if (nl != NULL)
            *nl = '\0';
        ++r->lineno;
        line[strcspn(line, "\r")] = '\0';
        if (line[strspn(line, " \t")] == '\0')
            continue;
        char *comma = strchr(line, ',');
        if (comma == NULL || strchr(comma + 1, ',') != NULL) {
            *rc = coce_err_set(err, COCE_EPARSE,
                               "%s:%zu: expected 2 fields 'asset,value'",
                               r->path, r->lineno);
            return 0;
        }
        *comma = '\0';
        char *fields[2] = {line, comma + 1};
        for (int f = 0; f < 2; ++f) {
            char *s = fields[f] + strspn(fields[f], " \t");
            size_t len = strlen(s);
            while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
                s[--len] = '\0';
            fields[f] = s;
        }
        *name = fields[0];
        *value = fields[1];
        return 1;
    }
    return 0;
}

/* Opens path and checks its header `asset,<column>`. */
static int csv_open(csv_reader *r, const char *path, const char *column,
                    coce_err *err)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    size_t len = 0;
    int rc = coce_fs_read_all(path, &r->text, &len, err);
    if (rc != COCE_OK)
        return rc;
    r->cursor = r->text;
    char *name = NULL, *value = NULL;
    rc = COCE_OK;
    if (!csv_next(r, &name, &value, err, &rc))
        return rc != COCE_OK ? rc
                             : coce_err_set(err, COCE_EPARSE,
                                            "%s: empty file (expected header "
                                            "'asset,%s')",
                                            path, column);
    if (strcmp(name, "asset") != 0 || strcmp(value, column) != 0)
        return coce_err_set(err, COCE_EPARSE,
                            "%s:%zu: header must be 'asset,%s'", path,
                            r->lineno, column);
    return COCE_OK;
}

/* Index of name among names[0..n-1], or n. */
static size_t find_name(char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; ++i)
        if (strcmp(names[i], name) == 0)
            return i;
    return n;
}

/* A universe of asset names: the price columns, then assets that only the
 * --prev file names (their target is 0). */
typedef struct universe {
    char **names;
    size_t n, cap;
    size_t n_price; /* names[0..n_price-1] are the price columns */
    size_t *line;   /* line of each name in the --prev file (0: absent) */
    double *prev;
} universe;

static void universe_destroy(universe *u)
{
    for (size_t i = u->n_price; i < u->n; ++i)
        free(u->names[i]);
    free(u->names);
    free(u->line);
    free(u->prev);
    memset(u, 0, sizeof *u);
}

static int universe_init(universe *u, const coce_price_table *px)
{
    memset(u, 0, sizeof *u);
    u->cap = px->n_assets + 16;
    u->names = zalloc(u->cap, sizeof *u->names);
    u->line = zalloc(u->cap, sizeof *u->line);
    u->prev = zalloc(u->cap, sizeof *u->prev);
    if (u->names == NULL || u->line == NULL || u->prev == NULL)
        return COCE_ENOMEM;
    for (size_t i = 0; i < px->n_assets; ++i)
        u->names[i] = px->assets[i];
    u->n = u->n_price = px->n_assets;
    return COCE_OK;
}

static int universe_add(universe *u, const char *name)
{
    if (u->n == u->cap) {
        const size_t cap = 2 * u->cap + 16;
        char **names = realloc(u->names, cap * sizeof *names);
        if (names == NULL)
            return COCE_ENOMEM;
        u->names = names;
        size_t *line = realloc(u->line, cap * sizeof *line);
        if (line == NULL)
            return COCE_ENOMEM;
        u->line = line;
        double *prev = realloc(u->prev, cap * sizeof *prev);
        if (prev == NULL)
            return COCE_ENOMEM;
        u->prev = prev;
        u->cap = cap;
    }
    u->names[u->n] = strdup(name);
    if (u->names[u->n] == NULL)
        return COCE_ENOMEM;
    u->line[u->n] = 0;
    u->prev[u->n] = 0.0;
    u->n++;
    return COCE_OK;
}

/* Parses a finite number filling the whole cell. */
static int parse_number(const char *s, double *out)
{
    char *end = NULL;
    const double v = strtod(s, &end);
    if (end == s || *end != '\0' || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

/* Reads `asset,weight` into u->prev; an asset not among the prices joins
 * the universe with target 0. Weights must be >= 0 and sum to 1 within
 * WEIGHT_SUM_TOL. */
static int read_prev(const char *path, universe *u, coce_err *err)
{
    csv_reader r;
    int rc = csv_open(&r, path, "weight", err);
    char *name = NULL, *value = NULL;
    double sum = 0.0;
    size_t rows = 0;
    while (rc == COCE_OK && csv_next(&r, &name, &value, err, &rc)) {
        double w = 0.0;
        size_t i = find_name(u->names, u->n, name);
        if (name[0] == '\0')
            rc = coce_err_set(err, COCE_EPARSE, "%s:%zu: empty asset name",
                              path, r.lineno);
        else if (!parse_number(value, &w))
            rc = coce_err_set(err, COCE_EPARSE,
                              "%s:%zu: column 'weight': '%s' is not a number",
                              path, r.lineno, value);
        else if (w < 0.0)
            rc = coce_err_set(err, COCE_EPARSE,
                              "%s:%zu: column 'weight': negative weight %s "
                              "for %s (long only)",
                              path, r.lineno, value, name);
        else if (i < u->n && u->line[i] != 0)
            rc = coce_err_set(err, COCE_EPARSE,
                              "%s:%zu: duplicate asset %s (first on line %zu)",
                              path, r.lineno, name, u->line[i]);
        else if (i == u->n && universe_add(u, name) != COCE_OK)
            rc = coce_err_set(err, COCE_ENOMEM, "out of memory");
        if (rc != COCE_OK)
            break;
        u->line[i] = r.lineno;
        u->prev[i] = w;
        sum += w;
        ++rows;
    }
    if (rc == COCE_OK && fabs(sum - 1.0) > WEIGHT_SUM_TOL)
        rc = coce_err_set(err, COCE_EPARSE,
                          "%s:%zu: the %zu weights sum to %.17g, not 1 "
                          "(tolerance %g)",
                          path, r.lineno, rows, sum, WEIGHT_SUM_TOL);
    free(r.text);
    return rc;
}

/* Reads `asset,cluster` for the eligible assets of d into cl (m entries,
 * relabelled 0..n-1 by first appearance; *n_clusters). Every asset named
 * must be a price column; cluster ids are non-negative integers. An
 * eligible asset the file does not name forms its own cluster (reported on
 * stderr); a named asset that was excluded for lack of history is ignored. */
static int read_clusters(const char *cmd, const char *path, const pf_data *d,
                         size_t *cl, size_t *n_clusters, coce_err *err)
{
    const size_t k = d->px.n_assets;
    const size_t none = SIZE_MAX;
    size_t *raw = zalloc(k, sizeof *raw);   /* file id per price column */
    size_t *line = zalloc(k, sizeof *line); /* line per price column */
    if (raw == NULL || line == NULL) {
        free(raw);
        free(line);
        return coce_err_set(err, COCE_ENOMEM, "out of memory");
    }
    csv_reader r;
    int rc = csv_open(&r, path, "cluster", err);
    char *name = NULL, *value = NULL;
    while (rc == COCE_OK && csv_next(&r, &name, &value, err, &rc)) {
        const size_t j = find_name(d->px.assets, k, name);
        double v = 0.0;
        if (j == k)
            rc = coce_err_set(err, COCE_EPARSE,
                              "%s:%zu: unknown asset %s (not a column of the "
                              "price file)",
                              path, r.lineno, name);
        else if (line[j] != 0)
            rc = coce_err_set(err, COCE_EPARSE,
                              "%s:%zu: duplicate asset %s (first on line %zu)",
                              path, r.lineno, name, line[j]);
        else if (!parse_number(value, &v) || v < 0.0 || v != floor(v) ||
                 v >= 1e15)
            rc = coce_err_set(err, COCE_EPARSE,
                              "%s:%zu: column 'cluster': '%s' is not a "
                              "non-negative integer",
                              path, r.lineno, value);
        else {
            line[j] = r.lineno;
            raw[j] = (size_t)v;
        }
    }
    free(r.text);
    if (rc == COCE_OK) {
        /* Relabel by first appearance among the eligible assets; an asset
         * without a cluster gets a fresh label. */
        size_t n = 0;
        for (size_t i = 0; i < d->m; ++i) {
            const size_t j = d->idx[i];
            cl[i] = none;
            if (line[j] == 0) {
                fprintf(stderr,
                        "coce %s: %s: %s has no cluster; it forms its own\n",
                        cmd, path, d->px.assets[j]);
                cl[i] = n++;
                continue;
            }
            for (size_t p = 0; p < i; ++p) {
                const size_t q = d->idx[p];
                if (line[q] != 0 && raw[q] == raw[j]) {
                    cl[i] = cl[p];
                    break;
                }
            }
            if (cl[i] == none)
                cl[i] = n++;
        }
        *n_clusters = n;
    }
    free(raw);
    free(line);
    return rc;
}

/* ---- argument parsing shared by both commands ---- */

typedef struct pf_args {
    const char *prices, *out, *config, *prev, *clusters;
} pf_args;

static int parse_args(int argc, char **argv, int allocate, pf_args *a)
{
    static const struct option opts[] = {
        {"prices", required_argument, NULL, 'p'},
        {"out", required_argument, NULL, 'o'},
        {"config", required_argument, NULL, 'c'},
        {"prev", required_argument, NULL, 'w'},
        {"clusters", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *cmd = allocate ? "allocate" : "cluster";
    const char *use =
        allocate ? "usage: coce allocate --prices FILE [--prev weights.csv] "
                   "[--clusters clusters.csv] [--out weights.csv] "
                   "[--config FILE]\n"
                 : "usage: coce cluster --prices FILE [--out clusters.csv] "
                   "[--config FILE]\n";
    memset(a, 0, sizeof *a);
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            a->prices = optarg;
            break;
        case 'o':
            a->out = optarg;
            break;
        case 'c':
            a->config = optarg;
            break;
        case 'w':
        case 'k':
            if (!allocate) {
                fprintf(stderr, "coce %s: option %s is only for allocate\n%s",
                        cmd, argv[optind - 1], use);
                return EXIT_USAGE;
            }
            if (c == 'w')
                a->prev = optarg;
            else
                a->clusters = optarg;
            break;
        case 'h':
            fputs(use, stdout);
            return -1;
        default:
            fprintf(stderr, "coce %s: bad option '%s'\n%s", cmd,
                    argv[optind - 1], use);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "coce %s: unexpected argument '%s'\n%s", cmd,
                argv[optind], use);
        return EXIT_USAGE;
    }
    if (a->prices == NULL) {
        fprintf(stderr, "coce %s: --prices FILE is required\n%s", cmd, use);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* ---- coce cluster ---- */

int coce_cmd_cluster(int argc, char **argv)
{
    pf_args a;
    int code = parse_args(argc, argv, 0, &a);
    if (code != EXIT_OK)
        return code < 0 ? EXIT_OK : code;
    coce_err err;
    coce_err_clear(&err);
    coce_config cfg;
    int rc = coce__cmd_load_config(&cfg, a.config, &err);
    if (rc != COCE_OK)
        return fail("cluster", rc, &err);
    pf_data d;
    rc = pf_load("cluster", a.prices, &cfg, &d, &err);
    double *corr = NULL;
    size_t *cl = NULL;
    size_t nc = 0;
    double q = 0.0;
    if (rc == COCE_OK) {
        corr = zalloc(d.m * d.m, sizeof *corr);
        cl = zalloc(d.m, sizeof *cl);
        if (corr == NULL || cl == NULL)
            rc = coce_err_set(&err, COCE_ENOMEM, "out of memory");
    }
    if (rc == COCE_OK)
        rc = pf_cluster_corr(&d, &cfg, corr, &err);
    if (rc == COCE_OK)
        rc = pf_consensus(&d, &cfg, corr, cl, &nc, &q, &err);
    if (rc == COCE_OK && cl != NULL) {
        strbuf b = {NULL, 0, 0, 0};
        sb_printf(&b, "asset,cluster\n");
        for (size_t i = 0; i < d.m; ++i)
            sb_printf(&b, "%s,%zu\n", pf_name(&d, i), cl[i]);
        rc = sb_emit(&b, a.out, &err);
        free(b.s);
        FILE *info = a.out != NULL ? stdout : stderr;
        if (rc == COCE_OK)
            fprintf(info,
                    "assets: %zu of %zu\nclusters: %zu\nmodularity: %.17g\n",
                    d.m, d.px.n_assets, nc, q);
    }
    free(corr);
    free(cl);
    pf_destroy(&d);
    return rc == COCE_OK ? EXIT_OK : fail("cluster", rc, &err);
}

/* ---- coce allocate ---- */

/* Per-asset mean of the valid returns (pandas returns.mean(), skipna). */
static void pf_means(const pf_data *d, double *mean)
{
    for (size_t i = 0; i < d->m; ++i) {
        double s = 0.0;
        size_t c = 0;
        for (size_t t = 0; t < d->n; ++t) {
            const double r = d->ret[t * d->m + i];
            if (isfinite(r)) {
                s += r;
                ++c;
            }
        }
        mean[i] = s / (double)c; /* c >= min_bars >= 2 */
    }
}

/* Applies hrp.cluster_cap to w (m weights). A cap that the clusters cannot
 * hold (cap * clusters < 1) is raised to 1/clusters, with a warning. */
static int apply_caps(const char *path, const pf_data *d, const size_t *cl,
                      size_t nc, double cap, double *w, coce_err *err)
{
    if (cap * (double)nc < 1.0) {
        fprintf(stderr,
                "coce allocate: %zu cluster(s) cannot hold the portfolio "
                "under hrp.cluster_cap %g; using 1/%zu\n",
                nc, cap, nc);
        cap = 1.0 / (double)nc;
    }
    double *work = zalloc(2 * nc, sizeof *work);
    if (work == NULL)
        return coce_err_set(err, COCE_ENOMEM, "out of memory");
    int rc = coce_alloc_cluster_caps_err(w, cl, d->m, nc, cap, work, err);
    free(work);
    if (rc != COCE_OK)
        (void)coce_err_prefix(err, "%s: cluster caps: ", path);
    return rc;
}

typedef struct alloc_state {
    pf_data d;
    universe u;
    double *cov, *corr, *w, *target, *final;
    size_t *cl;
} alloc_state;

static void alloc_destroy(alloc_state *s)
{
    universe_destroy(&s->u);
    pf_destroy(&s->d);
    free(s->cov);
    free(s->corr);
    free(s->w);
    free(s->target);
    free(s->final);
    free(s->cl);
}

/* HRP target of the eligible assets (s->w), then the cluster caps. */
static int alloc_target(const pf_args *a, const coce_config *cfg,
                        alloc_state *s, coce_err *err)
{
    pf_data *d = &s->d;
    const size_t m = d->m;
    s->cov = zalloc(m * m, sizeof *s->cov);
    s->corr = zalloc(m * m, sizeof *s->corr);
    s->w = zalloc(m, sizeof *s->w);
    s->cl = zalloc(m, sizeof *s->cl);
    if (s->cov == NULL || s->corr == NULL || s->w == NULL || s->cl == NULL)
        return coce_err_set(err, COCE_ENOMEM, "out of memory");
    int rc = pf_cov(d, s->cov, err);
    if (rc == COCE_OK)
        rc = pf_check_finite(d, s->cov, a->prices, "covariance", err);
    /* HRPOpt clusters on returns.corr(): pairwise-complete standard
     * deviations, which differ from the covariance's when histories differ.
     * Without gaps the cov-derived correlation is the same number. */
    const double *corr = NULL;
    if (rc == COCE_OK && d->gaps) {
        (void)coce_corr_pairwise(d->ret, d->n, m, 1, s->corr, NULL);
        rc = pf_check_finite(d, s->corr, a->prices, "correlation", err);
        corr = s->corr;
    }
    if (rc == COCE_OK) {
        void *work = zalloc(coce_hrp_work_size(m), 1);
        if (work == NULL)
            return coce_err_set(err, COCE_ENOMEM, "out of memory");
        rc = coce_hrp_weights_ex(s->cov, corr, m, s->w, NULL, work, err);
        free(work);
        if (rc != COCE_OK)
            return coce_err_prefix(err, "%s: HRP: ", a->prices);
    }
    if (rc != COCE_OK || cfg->hrp.cluster_cap >= 1.0)
        return rc; /* a cap of 1 constrains nothing: no clustering needed */
    size_t nc = 0;
    if (a->clusters != NULL) {
        rc = read_clusters("allocate", a->clusters, d, s->cl, &nc, err);
    } else {
        double q = 0.0;
        rc = pf_cluster_corr(d, cfg, s->corr, err);
        if (rc == COCE_OK)
            rc = pf_consensus(d, cfg, s->corr, s->cl, &nc, &q, err);
        if (rc == COCE_OK)
            fprintf(stderr,
                    "coce allocate: no --clusters: %zu consensus cluster(s) "
                    "computed (modularity %.6f)\n",
                    nc, q);
    }
    if (rc == COCE_OK)
        rc = apply_caps(a->clusters != NULL ? a->clusters : a->prices, d, s->cl,
                        nc, cfg->hrp.cluster_cap, s->w, err);
    return rc;
}

static int alloc_run(const pf_args *a, const coce_config *cfg, alloc_state *s,
                     coce_err *err)
{
    int rc = pf_load("allocate", a->prices, cfg, &s->d, err);
    if (rc != COCE_OK)
        return rc;
    if (universe_init(&s->u, &s->d.px) != COCE_OK)
        return coce_err_set(err, COCE_ENOMEM, "out of memory");
    if (a->prev != NULL && (rc = read_prev(a->prev, &s->u, err)) != COCE_OK)
        return rc;
    rc = alloc_target(a, cfg, s, err);
    if (rc != COCE_OK)
        return rc;

    universe *u = &s->u;
    const pf_data *d = &s->d;
    s->target = zalloc(u->n, sizeof *s->target);
    s->final = zalloc(u->n, sizeof *s->final);
    if (s->target == NULL || s->final == NULL)
        return coce_err_set(err, COCE_ENOMEM, "out of memory");
    for (size_t i = 0; i < d->m; ++i)
        s->target[d->idx[i]] = s->w[i];
    /* Without --prev this is the first allocation: nothing to limit. */
    const double cap = a->prev != NULL ? cfg->hrp.turnover_cap : 2.0;
    (void)coce_alloc_turnover_limit(s->target, a->prev != NULL ? u->prev : NULL,
                                    u->n, cap, s->final);
    double turnover = 0.0, full = 0.0;
    for (size_t i = 0; i < u->n; ++i) {
        turnover += fabs(s->final[i] - u->prev[i]);
        full += fabs(s->target[i] - u->prev[i]);
    }

    strbuf b = {NULL, 0, 0, 0};
    sb_printf(&b, "asset,weight\n");
    for (size_t i = 0; i < u->n; ++i) {
        /* eligible assets always; others only while still held */
        const int eligible = i < u->n_price && s->target[i] > 0.0;
        if (eligible || s->final[i] > 0.0)
            sb_printf(&b, "%s,%.17g\n", u->names[i], s->final[i]);
    }
    rc = sb_emit(&b, a->out, err);
    free(b.s);
    if (rc != COCE_OK)
        return rc;

    double *mean = zalloc(d->m, sizeof *mean);
    if (mean == NULL)
        return coce_err_set(err, COCE_ENOMEM, "out of memory");
    pf_means(d, mean);
    double ret = NAN, vol = NAN, sharpe = NAN;
    rc = coce_hrp_performance(s->w, mean, s->cov, d->m, cfg->hrp.annualisation,
                              0.0, &ret, &vol, &sharpe);
    free(mean);
    if (rc != COCE_OK)
        return coce_err_set(err, COCE_EDATA,
                            "%s: performance: covariance not positive "
                            "semidefinite",
                            a->prices);
    FILE *info = a->out != NULL ? stdout : stderr;
    fprintf(info, "assets: %zu of %zu\n", d->m, d->px.n_assets);
    if (a->prev != NULL)
        fprintf(info, "turnover: %.17g (cap %g; full move %.17g%s)\n", turnover,
                cfg->hrp.turnover_cap, full,
                full > cfg->hrp.turnover_cap ? ", limited" : "");
    else
        fprintf(info, "turnover: %.17g (from cash, no --prev: not limited)\n",
                turnover);
    fprintf(info,
            "target (in sample, %g periods/year, rf 0): expected annual "
            "return %.6f, annual volatility %.6f, Sharpe %.6f\n",
            cfg->hrp.annualisation, ret, vol, sharpe);
    return COCE_OK;
}

int coce_cmd_allocate(int argc, char **argv)
{
    pf_args a;
    int code = parse_args(argc, argv, 1, &a);
    if (code != EXIT_OK)
        return code < 0 ? EXIT_OK : code;
    coce_err err;
    coce_err_clear(&err);
    coce_config cfg;
    int rc = coce__cmd_load_config(&cfg, a.config, &err);
    if (rc != COCE_OK)
        return fail("allocate", rc, &err);
    alloc_state s;
    memset(&s, 0, sizeof s);
    rc = alloc_run(&a, &cfg, &s, &err);
    alloc_destroy(&s);
    return rc == COCE_OK ? EXIT_OK : fail("allocate", rc, &err);
}
