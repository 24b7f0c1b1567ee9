#!/usr/bin/python3
"""Golden values for tests/network_analysis/test_louvain.c (and a benchmark).

Run with Debian's interpreter from the repository root:
    /usr/bin/python3 tests/reference/louvain_ref.py
Writes tests/fixtures/network/lv_*.txt (matrix text format of
covariance_ref.py: "<rows> <cols>" then rows of "%.17g").

  lv_mod_w.txt        30 x 30 weighted graph: max(corr, 0), zero diagonal,
                      of a seeded factor model (a few weights are zeroed)
  lv_mod_parts.txt    4 x 30 partitions (labels as doubles)
  lv_mod_q.txt        4 x 2: networkx.community.modularity(G, parts,
                      weight="weight", resolution=1.0 and 0.5)
  lv_500_returns.txt  60 x 500 returns ("%.8g") of a seeded factor model:
                      a market factor and 10 sectors of 50 assets (sector
                      loadings drawn per asset, so sectors are fuzzy)
  lv_500_igraph_q.txt 1 x 6: best modularity of 5 python-igraph
                      community_multilevel runs (random.seed(s), s = 0..4) on
                      the graph max(corrcoef(returns), 0) with zero diagonal,
                      computed from the values as written, then the 5 values

Benchmark (the C side writes the graph):
    /usr/bin/python3 tests/reference/louvain_ref.py --bench GRAPH.bin
GRAPH.bin is k*k little-endian float64 weights, row-major, no header
(k = sqrt(size / 8)), symmetric with zero diagonal. Prints one JSON line:
{"k": k, "runs": 5, "best_seconds": t, "best_modularity": q}.
"""
import json
import os
import random
import sys
import time

import igraph as ig
import networkx as nx
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "fixtures", "network")


def write(name, m, fmt="%.17g"):
    m = np.atleast_2d(np.asarray(m, dtype=float))
    with open(os.path.join(OUT, name), "w") as f:
        f.write("%d %d\n" % m.shape)
        for row in m:
            f.write(" ".join(fmt % v for v in row))
            f.write("\n")


def read(name):
    with open(os.path.join(OUT, name)) as f:
        r, c = map(int, f.readline().split())
        return np.array([float(v) for v in f.read().split()]).reshape(r, c)


def corr_graph(x):
    w = np.corrcoef(x, rowvar=False)
    w = 0.5 * (w + w.T)  # corrcoef is symmetric only to rounding
    w = np.where(np.isnan(w), 0.0, np.maximum(w, 0.0))
    np.fill_diagonal(w, 0.0)
    return w


def igraph_best(w, seeds):
    g = ig.Graph.Weighted_Adjacency(w.tolist(), mode="undirected",
                                    attr="weight", loops=False)
    qs = []
    for s in seeds:
        random.seed(s)
        part = g.community_multilevel(weights="weight")
        qs.append(g.modularity(part.membership, weights="weight"))
    return qs


def fixtures():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(7)

    # --- modularity vs networkx ---
    k = 30
    x = rng.standard_normal((80, 3)) @ rng.standard_normal((3, k)) \
        + 1.5 * rng.standard_normal((80, k))
    w = corr_graph(x)
    w[0, 5] = w[5, 0] = 0.0
    write("lv_mod_w.txt", w)
    parts = [rng.integers(0, 5, k), np.zeros(k, int), np.arange(k),
             np.arange(k) // 10]
    g = nx.from_numpy_array(w)
    q = []
    for p in parts:
        comms = [set(np.flatnonzero(p == c)) for c in np.unique(p)]
        q.append([nx.community.modularity(g, comms, weight="weight",
                                          resolution=r) for r in (1.0, 0.5)])
    write("lv_mod_parts.txt", np.array(parts, dtype=float))
    write("lv_mod_q.txt", q)

    # --- 500 assets, igraph multilevel ---
    n, k, sectors = 60, 500, 10
    market = rng.standard_normal(n)
    fac = rng.standard_normal((n, sectors))
    sector = np.repeat(np.arange(sectors), k // sectors)
    load = rng.uniform(0.3, 1.0, k)
    ret = 0.01 * (0.4 * market[:, None] + load[None, :] * fac[:, sector]
                  + rng.standard_normal((n, k)))
    write("lv_500_returns.txt", ret, fmt="%.8g")
    ret = read("lv_500_returns.txt")   # the values the C test will read
    qs = igraph_best(corr_graph(ret), range(5))
    write("lv_500_igraph_q.txt", [[max(qs)] + qs])


def bench(path):
    w = np.fromfile(path, dtype="<f8")
    k = int(round(np.sqrt(w.size)))
    w = w.reshape(k, k)
    g = ig.Graph.Weighted_Adjacency(w.tolist(), mode="undirected",
                                    attr="weight", loops=False)
    best_t, best_q = float("inf"), -1.0
    for s in range(5):
        random.seed(s)
        t0 = time.perf_counter()
        part = g.community_multilevel(weights="weight")
        best_t = min(best_t, time.perf_counter() - t0)
        best_q = max(best_q, g.modularity(part.membership, weights="weight"))
    print(json.dumps({"k": k, "runs": 5, "best_seconds": best_t,
                      "best_modularity": best_q}))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--bench":
        bench(sys.argv[2])
    elif len(sys.argv) == 1:
        fixtures()
    else:
        sys.exit("usage: louvain_ref.py [--bench GRAPH.bin]")
