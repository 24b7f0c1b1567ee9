#include "agent/commands.h"

#include "agent/cmd_download.h"
#include "agent/cmd_killswitch.h"
#include "agent/cmd_portfolio.h"
#include "agent/cmd_sentiment.h"

#include <stddef.h>

/* Add a subcommand here: one line, name, function, one-line summary. */
const coce_command coce_commands[] = {
    {"cluster", coce_cmd_cluster,
     "consensus (Louvain) clusters of a wide price CSV -> asset,cluster"},
    {"allocate", coce_cmd_allocate,
     "HRP weights with cluster caps and turnover limit -> asset,weight"},
    {"sentiment", coce_cmd_sentiment,
     "VADER sentiment scores of text lines (id, neg, neu, pos, compound)"},
    {"download-trades", coce_cmd_download_trades,
     "download Binance trades around each pump event (resumable)"},
    {"reset-kill-switch", coce_cmd_reset_kill_switch,
     "clear a kill-switch halt in DATA/state.json (--reason TEXT required)"},
    {NULL, NULL, NULL},
};
