/* Correlation graphs, weighted modularity and Louvain community detection.
 *
 * Graphs are dense symmetric k x k row-major weight matrices with
 * non-negative finite weights. The diagonal of an input graph is ignored
 * (treated as 0: no self-loops); a zero weight means "no edge". */
#ifndef COCE_NETWORK_ANALYSIS_LOUVAIN_H
#define COCE_NETWORK_ANALYSIS_LOUVAIN_H

#include <stddef.h>
#include <stdint.h>

/* w_ij = max(rho_ij, 0) for i != j, 0 on the diagonal. A NaN correlation
 * (e.g. a constant or unlisted asset) becomes 0: no evidence of
 * co-movement, so no edge. corr and w may alias (same pointer). */
int coce_corr_graph(const double *corr, size_t k, double *w);

typedef struct coce_louvain_opts {
    double resolution; /* gamma > 0; 1 is Newman-Girvan modularity */
    uint64_t seed;     /* node-order shuffle seed */
    size_t max_passes; /* phase-1 + phase-2 passes; 0 = until no gain */
} coce_louvain_opts;

/* resolution 1, seed 0, max_passes 0 (unbounded). */
void coce_louvain_opts_default(coce_louvain_opts *o);

/* Weighted Newman-Girvan modularity with resolution gamma:
 *   Q = (1/2m) sum_ij [w_ij - gamma k_i k_j / 2m] delta(c_i, c_j),
 * k_i = sum_j w_ij, 2m = sum_ij w_ij (diagonal ignored), as
 * networkx.community.modularity(G, comms, weight, resolution) and igraph.
 * Communities are compared by label equality (any size_t labels). A graph
 * without edges (2m == 0) has modularity 0. */
double coce_modularity(const double *w, size_t k, const size_t *membership,
                       double resolution);

/* Bytes of workspace coce_louvain needs for k nodes (a k x k copy that is
 * aggregated in place plus per-node arrays). */
size_t coce_louvain_work_size(size_t k);

/* Louvain method: Blondel, Guillaume, Lambiotte & Lefebvre, "Fast
 * unfolding of communities in large networks", J. Stat. Mech. (2008)
 * P10008, sec. 2: phase 1 moves single nodes (in a random order drawn once
 * per level from opts->seed) to the neighbouring community of largest
 * modularity gain until a sweep moves nobody; phase 2 aggregates each
 * community into one node (self-loop = internal weight); repeat until a
 * phase 1 moves nobody or max_passes. Deterministic for a seed. Ties keep
 * the node where it is, else go to the community met first.
 *
 * membership (k) is relabelled 0..n-1 in order of first appearance;
 * n_communities and modularity (on w, with opts->resolution) may be NULL.
 * A graph with no edges leaves every node alone with modularity 0.
 * opts NULL = defaults. work: coce_louvain_work_size(k) bytes, suitably
 * aligned for double (e.g. from malloc). No allocation.
 * COCE_EINVAL: NULL w/membership/work, k == 0, a negative or non-finite
 * weight, an asymmetric matrix, or resolution <= 0. */
int coce_louvain(const double *w, size_t k, const coce_louvain_opts *opts,
                 size_t *membership, size_t *n_communities, double *modularity,
                 void *work);

/* Relabels membership (k) in place to 0..n-1 by first appearance and
 * returns n. Uses `map` (k entries) as scratch; labels must be < k. */
size_t coce__relabel(size_t *membership, size_t k, size_t *map);

#endif
