/* Consensus clustering (Lancichinetti & Fortunato 2012); see consensus.h. */
#include "network_analysis/consensus.h"

#include "network_analysis/louvain.h"
#include "utils/error.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

void coce_consensus_opts_default(coce_consensus_opts *o)
{
    if (o == NULL)
        return;
    o->runs = 20;
    o->tau = 0.5;
    o->resolution = 1.0;
    o->seed = 0;
    o->max_rounds = 10;
}

/* Layout: d (k*k doubles), the Louvain workspace, then counts (k(k-1)/2
 * uint32 co-assignment counts, strictly lower triangle packed by rows) and
 * two memberships (size_t). */
static size_t tri_len(size_t k)
{
    return k * (k - 1) / 2;
}

size_t coce_consensus_work_size(size_t k)
{
    return k * k * sizeof(double) + coce_louvain_work_size(k) +
           2 * k * sizeof(size_t) + tri_len(k) * sizeof(uint32_t);
}

/* Connected components of the graph d (> 0 entries are edges): depth-first
 * search with an explicit stack (no recursion, no allocation), O(k^2) on
 * the dense matrix. Components are numbered from their smallest node, i.e.
 * in order of first appearance. Returns their number. */
static size_t components(const double *d, size_t k, size_t *comp, size_t *stack)
{
    for (size_t i = 0; i < k; ++i)
        comp[i] = (size_t)-1;
    size_t nc = 0;
    for (size_t s = 0; s < k; ++s) {
        if (comp[s] != (size_t)-1)
            continue;
        size_t top = 0;
        comp[s] = nc;
        stack[top++] = s;
        while (top > 0) {
            size_t i = stack[--top];
            for (size_t j = 0; j < k; ++j)
                if (d[i * k + j] > 0.0 && comp[j] == (size_t)-1) {
                    comp[j] = nc;
                    stack[top++] = j;
                }
        }
        ++nc;
    }
    return nc;
}

int coce_consensus_cluster(const double *w, size_t k,
                           const coce_consensus_opts *opts, size_t *membership,
                           size_t *n_clusters, double *modularity_on_w,
                           void *work)
{
    coce_consensus_opts o;
    coce_consensus_opts_default(&o);
    if (opts != NULL)
        o = *opts;
    if (w == NULL || membership == NULL || work == NULL || k == 0 ||
        o.runs == 0 || o.runs > UINT32_MAX || o.max_rounds == 0 ||
        !(o.tau >= 0.0 && o.tau <= 1.0))
        return COCE_EINVAL;
    unsigned char *base = (unsigned char *)work;
    double *d = (double *)work;
    void *lwork = base + k * k * sizeof(double);
    size_t *part =
        (size_t *)(base + k * k * sizeof(double) + coce_louvain_work_size(k));
    size_t *aux = part + k;
    uint32_t *cnt = (uint32_t *)(aux + k);

    coce_louvain_opts lo;
    coce_louvain_opts_default(&lo);
    lo.resolution = o.resolution;
    const double *g = w;
    for (size_t round = 0; round < o.max_rounds; ++round) {
        memset(cnt, 0, tri_len(k) * sizeof(uint32_t));
        for (size_t r = 0; r < o.runs; ++r) {
            lo.seed = o.seed + (uint64_t)(round * o.runs + r);
            int rc = coce_louvain(g, k, &lo, part, NULL, NULL, lwork);
            if (rc != COCE_OK)
                return rc;
            for (size_t i = 1; i < k; ++i) {
                uint32_t *row = cnt + tri_len(i);
                for (size_t j = 0; j < i; ++j)
                    row[j] += part[i] == part[j];
            }
        }
        /* D = counts / R, thresholded at tau (step 2 of "Method") */
        int agreed = 1;
        double inv = 1.0 / (double)o.runs;
        for (size_t i = 0; i < k; ++i) {
            d[i * k + i] = 0.0;
            for (size_t j = 0; j < i; ++j) {
                uint32_t c = cnt[tri_len(i) + j];
                if (c != 0 && c != o.runs)
                    agreed = 0;
                double v = (double)c * inv;
                if (v < o.tau)
                    v = 0.0;
                d[i * k + j] = d[j * k + i] = v;
            }
        }
        g = d;
        if (agreed)
            break;
    }
    size_t nc = components(d, k, membership, aux);
    if (n_clusters != NULL)
        *n_clusters = nc;
    if (modularity_on_w != NULL)
        *modularity_on_w = coce_modularity(w, k, membership, o.resolution);
    return COCE_OK;
}
