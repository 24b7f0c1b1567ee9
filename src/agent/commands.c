#include "agent/commands.h"

#include "agent/cmd_download.h"
#include "agent/cmd_killswitch.h"
#include "agent/cmd_model.h"
#include "agent/cmd_portfolio.h"
#include "agent/cmd_report.h"
#include "agent/cmd_sentiment.h"

#include <stddef.h>

/* Add a subcommand here: one line, name, function, one-line summary. */
const coce_command coce_commands[] = {
    {"features", coce_cmd_features,
     "pump features of trade files, labelled from event lists"},
    {"train", coce_cmd_train,
     "fit the L2 logistic pump model (threshold: best out-of-fold F1)"},
    {"predict", coce_cmd_predict,
     "score a features CSV -> symbol,chunk_start,score,alert"},
    {"eval", coce_cmd_eval,
     "evaluate a model: stratified k-fold, leave-one-year-out, pump-level"},
    {"detect", coce_cmd_detect,
     "stream trade files through the detector and write alerts"},
    {"retrain", coce_cmd_retrain,
     "retrain from a features CSV, archiving the previous model"},
    {"cluster", coce_cmd_cluster,
     "consensus (Louvain) clusters of a wide price CSV -> asset,cluster"},
    {"allocate", coce_cmd_allocate,
     "HRP weights with cluster caps and turnover limit -> asset,weight"},
    {"sentiment", coce_cmd_sentiment,
     "VADER sentiment scores of text lines (id, neg, neu, pos, compound)"},
    {"download-trades", coce_cmd_download_trades,
     "download Binance trades around each pump event (resumable)"},
    {"report", coce_cmd_report,
     "write report.html (equity, drawdown, exposure by cluster, cluster "
     "graph, pump alerts, guardrail events, figures) for a run directory"},
    {"reset-kill-switch", coce_cmd_reset_kill_switch,
     "clear a kill-switch halt in DATA/state.json (--reason TEXT required)"},
    {NULL, NULL, NULL},
};
