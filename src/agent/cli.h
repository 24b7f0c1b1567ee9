/* The `coce` command line. */
#ifndef COCE_AGENT_CLI_H
#define COCE_AGENT_CLI_H

/* Runs the command line; returns the process exit code (see --help). */
int coce_cli_main(int argc, char **argv);

#endif
