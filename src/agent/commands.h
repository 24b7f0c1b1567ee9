/* Subcommands of `coce` beyond the modes. Each takes the arguments after
 * its name (argv[0] is the subcommand) and returns the process exit code
 * (0 ok, 1 runtime error, 2 usage/config, 3 bad input data). */
#ifndef COCE_AGENT_COMMANDS_H
#define COCE_AGENT_COMMANDS_H

typedef int (*coce_command_fn)(int argc, char **argv);

typedef struct coce_command {
    const char *name;
    coce_command_fn run;
    const char *summary;
} coce_command;

/* The table of subcommands (NULL-terminated), defined in commands.c. */
extern const coce_command coce_commands[];

#endif
