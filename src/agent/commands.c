#include "agent/commands.h"

#include <stddef.h>

/* Add a subcommand here: one line, name, function, one-line summary. */
const coce_command coce_commands[] = {
    {NULL, NULL, NULL},
};
