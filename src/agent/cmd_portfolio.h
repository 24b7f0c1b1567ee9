/* `coce cluster` and `coce allocate`: consensus clusters and HRP weights
 * from a wide close-price CSV (docs/portfolio.md).
 *
 * Both take the arguments after `coce` (argv[0] is "cluster" / "allocate"),
 * parse them with getopt_long, load the configuration (config/base.yaml or
 * $COCE_BASE_CONFIG when present, then --config FILE) and return the process
 * exit code: 0 ok, 1 runtime error, 2 usage or configuration error, 3 bad
 * input data. Results go to stdout (or --out FILE, written atomically);
 * errors go to stderr as "coce NAME: file:line: what". */
#ifndef COCE_AGENT_CMD_PORTFOLIO_H
#define COCE_AGENT_CMD_PORTFOLIO_H

/* coce cluster --prices FILE [--out clusters.csv] [--config FILE]
 * Writes `asset,cluster` for every eligible asset and prints
 * `modularity: X` (stderr when the CSV goes to stdout). */
int coce_cmd_cluster(int argc, char **argv);

/* coce allocate --prices FILE [--prev weights.csv] [--clusters clusters.csv]
 *               [--out weights.csv] [--config FILE]
 * HRP target weights, cluster caps (hrp.cluster_cap), turnover limit
 * against --prev (hrp.turnover_cap); writes `asset,weight` (%.17g) and
 * prints the turnover and the in-sample annualised return, volatility and
 * Sharpe ratio (hrp.annualisation periods, rf 0). */
int coce_cmd_allocate(int argc, char **argv);

#endif
