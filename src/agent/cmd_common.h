/* Internal helpers shared by the `coce` subcommands (src/agent/cmd_*.c):
 * one way to build a command's configuration, so that every command reads
 * the same files in the same order as `coce --mode` (src/agent/cli.c). */
#ifndef COCE_AGENT_CMD_COMMON_H
#define COCE_AGENT_CMD_COMMON_H

#include "utils/config.h"
#include "utils/error.h"

/* Fills *cfg with coce_config_defaults, then the base file when it exists
 * ($COCE_BASE_CONFIG, else config/base.yaml relative to the working
 * directory), then user_file (NULL: none), then coce_config_validate.
 * A later file overrides the keys it sets. Returns COCE_OK or the first
 * failing step's status with err naming the file, line and key. */
int coce__cmd_load_config(coce_config *cfg, const char *user_file,
                          coce_err *err);

#endif
