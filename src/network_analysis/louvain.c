/* Correlation graph, modularity and the Louvain method; see louvain.h. */
#include "network_analysis/louvain.h"

#include "utils/error.h"
#include "utils/rng.h"

#include <math.h>
#include <string.h>

int coce_corr_graph(const double *corr, size_t k, double *w)
{
    if (corr == NULL || w == NULL || k == 0)
        return COCE_EINVAL;
    for (size_t i = 0; i < k; ++i)
        for (size_t j = 0; j < k; ++j) {
            double r = corr[i * k + j];
            /* !(r > 0) also maps NaN to "no edge" */
            w[i * k + j] = (i == j || !(r > 0.0)) ? 0.0 : r;
        }
    return COCE_OK;
}

void coce_louvain_opts_default(coce_louvain_opts *o)
{
    if (o == NULL)
        return;
    o->resolution = 1.0;
    o->seed = 0;
    o->max_passes = 0;
}

double coce_modularity(const double *w, size_t k, const size_t *membership,
                       double resolution)
{
    if (w == NULL || membership == NULL || k == 0)
        return 0.0;
    double two_m = 0.0;
    for (size_t i = 0; i < k; ++i)
        for (size_t j = 0; j < k; ++j)
            if (i != j)
                two_m += w[i * k + j];
    if (two_m <= 0.0)
        return 0.0;
    /* Q = (1/2m) sum_c [in_c - gamma K_c^2 / 2m] (in_c: weight inside c,
     * both directions; K_c: total degree of c). Without scratch memory,
     * each community is found at its first member and its rows are
     * scanned once: O(k^2) overall. */
    double q = 0.0;
    for (size_t i = 0; i < k; ++i) {
        size_t c = membership[i];
        int first = 1;
        for (size_t j = 0; j < i && first; ++j)
            first = membership[j] != c;
        if (!first)
            continue;
        double in_c = 0.0, deg_c = 0.0;
        for (size_t j = i; j < k; ++j) {
            if (membership[j] != c)
                continue;
            const double *row = w + j * k;
            for (size_t l = 0; l < k; ++l) {
                if (l == j)
                    continue;
                deg_c += row[l];
                if (membership[l] == c)
                    in_c += row[l];
            }
        }
        q += in_c - resolution * deg_c * deg_c / two_m;
    }
    return q / two_m;
}

size_t coce__relabel(size_t *membership, size_t k, size_t *map)
{
    for (size_t i = 0; i < k; ++i)
        map[i] = (size_t)-1;
    size_t n = 0;
    for (size_t i = 0; i < k; ++i) {
        size_t c = membership[i];
        if (map[c] == (size_t)-1)
            map[c] = n++;
        membership[i] = map[c];
    }
    return n;
}

/* Workspace layout (all arrays of length k unless said):
 *   a      k*k doubles: the current level's graph, leading dimension k,
 *          aggregated in place;
 *   deg, tot, nw, tmp  doubles; comm, order, nlist, map  size_t. */
typedef struct lv_work {
    double *a, *deg, *tot, *nw, *tmp;
    size_t *comm, *order, *nlist, *map;
} lv_work;

size_t coce_louvain_work_size(size_t k)
{
    return (k * k + 4 * k) * sizeof(double) + 4 * k * sizeof(size_t);
}

static lv_work lv_split(void *work, size_t k)
{
    lv_work v;
    double *d = (double *)work;
    v.a = d;
    v.deg = d + k * k;
    v.tot = v.deg + k;
    v.nw = v.tot + k;
    v.tmp = v.nw + k;
    /* size_t arrays after the doubles (8-byte aligned on every ABI we
     * target since they follow whole doubles) */
    size_t *s =
        (size_t *)((unsigned char *)work + (k * k + 4 * k) * sizeof(double));
    v.comm = s;
    v.order = s + k;
    v.nlist = s + 2 * k;
    v.map = s + 3 * k;
    return v;
}

/* Phase 1 on the n-node graph v->a (ld k): local moves until a sweep moves
 * no node (Blondel et al. 2008, sec. 2, first phase). The gain of moving
 * isolated node i into community c is, up to a positive factor,
 * k_{i,c} - gamma * tot_c * k_i / 2m. Returns the number of moves. */
static size_t lv_local_moves(lv_work *v, size_t n, size_t ld, double two_m,
                             double gamma, coce_rng *rng)
{
    for (size_t i = 0; i < n; ++i) {
        v->comm[i] = i;
        v->tot[i] = v->deg[i];
        v->nw[i] = 0.0;
        v->order[i] = i;
    }
    /* Fisher-Yates with the seeded generator: the random order of the
     * paper, reproducible */
    for (size_t i = n; i > 1; --i) {
        size_t j = (size_t)coce_rng_below(rng, i);
        size_t t = v->order[i - 1];
        v->order[i - 1] = v->order[j];
        v->order[j] = t;
    }
    size_t moves = 0;
    /* A sweep cap guards against float ties cycling forever; each sweep
     * that moves a node strictly raises modularity, so it is never hit in
     * practice. */
    for (size_t sweep = 0; sweep < 1000; ++sweep) {
        size_t moved = 0;
        for (size_t oi = 0; oi < n; ++oi) {
            size_t i = v->order[oi];
            size_t ci = v->comm[i];
            const double *row = v->a + i * ld;
            size_t nn = 0;
            v->nlist[nn++] = ci;
            for (size_t j = 0; j < n; ++j) {
                double wij = row[j];
                if (wij == 0.0 || j == i)
                    continue; /* sparse-aware: skip non-edges */
                size_t cj = v->comm[j];
                if (v->nw[cj] == 0.0 && cj != ci)
                    v->nlist[nn++] = cj;
                v->nw[cj] += wij;
            }
            double ki = v->deg[i];
            v->tot[ci] -= ki;
            double scale = gamma * ki / two_m;
            size_t best = ci;
            double best_gain = v->nw[ci] - scale * v->tot[ci];
            for (size_t q = 1; q < nn; ++q) {
                size_t c = v->nlist[q];
                double gain = v->nw[c] - scale * v->tot[c];
                if (gain > best_gain) {
                    best_gain = gain;
                    best = c;
                }
            }
            v->tot[best] += ki;
            if (best != ci) {
                v->comm[i] = best;
                ++moved;
            }
            for (size_t q = 0; q < nn; ++q)
                v->nw[v->nlist[q]] = 0.0;
        }
        moves += moved;
        if (moved == 0)
            break;
    }
    return moves;
}

/* Phase 2: replaces the n-node graph by its c-community quotient in place
 * (rows and columns summed per community; internal weight lands on the
 * diagonal as a self-loop). Community labels are first-appearance ordered,
 * so community c's first member is >= c and row c has been read before it
 * is overwritten. */
static void lv_aggregate(lv_work *v, size_t n, size_t c, size_t ld)
{
    for (size_t i = 0; i < n; ++i) {
        double *row = v->a + i * ld;
        for (size_t q = 0; q < c; ++q)
            v->tmp[q] = 0.0;
        for (size_t j = 0; j < n; ++j)
            if (row[j] != 0.0)
                v->tmp[v->comm[j]] += row[j];
        size_t ci = v->comm[i];
        double *dst = v->a + ci * ld;
        /* first member of ci: the map slot is still unset */
        if (v->map[ci] == (size_t)-1) {
            memcpy(dst, v->tmp, c * sizeof(double));
            v->map[ci] = i;
        } else {
            for (size_t q = 0; q < c; ++q)
                dst[q] += v->tmp[q];
        }
    }
}

int coce_louvain(const double *w, size_t k, const coce_louvain_opts *opts,
                 size_t *membership, size_t *n_communities, double *modularity,
                 void *work)
{
    coce_louvain_opts o;
    coce_louvain_opts_default(&o);
    if (opts != NULL)
        o = *opts;
    if (w == NULL || membership == NULL || work == NULL || k == 0 ||
        !(o.resolution > 0.0) || !isfinite(o.resolution))
        return COCE_EINVAL;
    lv_work v = lv_split(work, k);
    double two_m = 0.0;
    for (size_t i = 0; i < k; ++i) {
        for (size_t j = 0; j < k; ++j) {
            double x = w[i * k + j], y = w[j * k + i];
            if (!isfinite(x) || x < 0.0 ||
                fabs(x - y) > 1e-9 * (fabs(x) + fabs(y)))
                return COCE_EINVAL;
            v.a[i * k + j] = i == j ? 0.0 : 0.5 * (x + y);
            two_m += v.a[i * k + j];
        }
        membership[i] = i;
    }
    if (two_m > 0.0) {
        coce_rng rng;
        coce_rng_init(&rng, o.seed);
        size_t n = k;
        for (size_t pass = 0; o.max_passes == 0 || pass < o.max_passes;
             ++pass) {
            for (size_t i = 0; i < n; ++i) {
                double d = 0.0;
                for (size_t j = 0; j < n; ++j)
                    d += v.a[i * k + j];
                v.deg[i] = d;
            }
            if (lv_local_moves(&v, n, k, two_m, o.resolution, &rng) == 0)
                break;
            size_t c = coce__relabel(v.comm, n, v.map);
            for (size_t i = 0; i < k; ++i)
                membership[i] = v.comm[membership[i]];
            for (size_t q = 0; q < c; ++q)
                v.map[q] = (size_t)-1;
            lv_aggregate(&v, n, c, k);
            n = c;
        }
    }
    size_t nc = coce__relabel(membership, k, v.map);
    if (n_communities != NULL)
        *n_communities = nc;
    if (modularity != NULL)
        *modularity = coce_modularity(w, k, membership, o.resolution);
    return COCE_OK;
}
