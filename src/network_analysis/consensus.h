/* Consensus clustering of a weighted graph by repeated Louvain runs. */
#ifndef COCE_NETWORK_ANALYSIS_CONSENSUS_H
#define COCE_NETWORK_ANALYSIS_CONSENSUS_H

#include <stddef.h>
#include <stdint.h>

typedef struct coce_consensus_opts {
    size_t runs;       /* R >= 1 Louvain runs per round */
    double tau;        /* co-assignment threshold in [0, 1] */
    double resolution; /* Louvain resolution gamma > 0 */
    uint64_t seed;     /* run r of round q uses seed + q*runs + r */
    size_t max_rounds; /* >= 1 */
} coce_consensus_opts;

/* runs 20, tau 0.5, resolution 1, seed 0, max_rounds 10. */
void coce_consensus_opts_default(coce_consensus_opts *o);

/* Bytes of workspace for k nodes: the consensus matrix, packed co-assignment
 * counts, two memberships and a Louvain workspace. */
size_t coce_consensus_work_size(size_t k);

/* Lancichinetti & Fortunato, "Consensus clustering in complex networks",
 * Sci. Rep. 2 (2012) 336, section "Method" (steps 1-4): run Louvain R times
 * on the graph (round 0: w), form D_ij = fraction of runs placing i and j
 * together, set entries below tau to 0 (diagonal 0), and repeat the R runs
 * on D until all R runs agree (D only 0 or 1) or max_rounds rounds ran. The
 * final partition is the connected components of the last thresholded D
 * (equal to the agreed partition when the runs agree); when max_rounds
 * stopped the loop it is still well defined.
 *
 * membership (k) is relabelled 0..n-1 by first appearance; n_clusters and
 * modularity_on_w (modularity of the final partition on the ORIGINAL w with
 * opts->resolution) may be NULL. opts NULL = defaults. work:
 * coce_consensus_work_size(k) bytes, aligned for double. COCE_EINVAL for
 * invalid w (see coce_louvain), runs == 0, max_rounds == 0, tau outside
 * [0, 1] or NULL pointers. */
int coce_consensus_cluster(const double *w, size_t k,
                           const coce_consensus_opts *opts, size_t *membership,
                           size_t *n_clusters, double *modularity_on_w,
                           void *work);

#endif
