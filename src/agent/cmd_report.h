/* `coce report --dir REPORT_DIR [--market DIR] [--alert-assets N]
 * [--alerts-per-asset N] [--window-minutes N]`: (re)writes
 * REPORT_DIR/report.html from the files a simulation left there (see
 * agent/report.h for what the page shows). Prints the page's path.
 *
 * Exit codes: 0 written; 1 runtime error (cannot write, out of memory);
 * 2 usage (no --dir, bad option or number); 3 bad input data (summary.json
 * or equity.csv missing, a report file malformed). */
#ifndef COCE_AGENT_CMD_REPORT_H
#define COCE_AGENT_CMD_REPORT_H

/* argv[0] = "report". */
int coce_cmd_report(int argc, char **argv);

#endif
