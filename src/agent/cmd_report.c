/* `coce report`; behaviour and exit codes in cmd_report.h. */
#include "agent/cmd_report.h"

#include "agent/report.h"
#include "utils/error.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CMD "report"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_DATA = 3 };

static void usage(FILE *out)
{
    fprintf(out,
            "usage: coce " CMD " --dir REPORT_DIR [--market DIR] "
            "[--alert-assets N]\n"
            "                   [--alerts-per-asset N] [--window-minutes N]\n"
            "\n"
            "Writes REPORT_DIR/report.html, a self-contained page (equity,\n"
            "drawdown, exposure by cluster, cluster graph, pump alerts on\n"
            "price charts, guardrail and kill-switch events, figures) from\n"
            "the files of a simulation's report directory.\n"
            "  --market DIR          trade files to chart (default: the\n"
            "                        market named in summary.json)\n"
            "  --alert-assets N      assets with most alerts charted (4)\n"
            "  --alerts-per-asset N  alerts charted per asset (3)\n"
            "  --window-minutes N    minutes shown on each side of an alert "
            "(30)\n");
}

/* A whole number in [1, max]; 0 on anything else. */
static long long parse_count(const char *s, long long max)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
        return 0;
    return v;
}

int coce_cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"market", required_argument, NULL, 'm'},
        {"alert-assets", required_argument, NULL, 'a'},
        {"alerts-per-asset", required_argument, NULL, 'p'},
        {"window-minutes", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    coce_report_opts ro;
    coce_report_opts_default(&ro);
    const char *dir = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        long long v = 1;
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 'm':
            ro.market_dir = optarg;
            break;
        case 'a':
            v = parse_count(optarg, 100);
            ro.alert_assets = (size_t)v;
            break;
        case 'p':
            v = parse_count(optarg, 100);
            ro.alerts_per_asset = (size_t)v;
            break;
        case 'w':
            v = parse_count(optarg, 7 * 24 * 60);
            ro.alert_window_ms = (int64_t)v * 60000;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default:
            fprintf(stderr,
                    "coce " CMD ": unknown option or missing value '%s'\n",
                    argv[optind - 1]);
            usage(stderr);
            return EXIT_USAGE;
        }
        if (v == 0) {
            fprintf(stderr,
                    "coce " CMD ": %s: '%s' is not a whole number in range\n",
                    argv[optind - 1], optarg);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "coce " CMD ": unexpected argument '%s'\n",
                argv[optind]);
        return EXIT_USAGE;
    }
    if (dir == NULL) {
        fprintf(stderr, "coce " CMD ": --dir REPORT_DIR is required\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    coce_err err;
    coce_err_clear(&err);
    int rc = coce_report_write_html_opts(dir, &ro, &err);
    if (rc != COCE_OK) {
        fprintf(stderr, "coce " CMD ": %s\n",
                err.msg[0] != '\0' ? err.msg : coce_strerror(rc));
        return rc == COCE_ENOTFOUND || rc == COCE_EPARSE ? EXIT_DATA
                                                         : EXIT_RUNTIME;
    }
    printf("%s/report.html\n", dir);
    return EXIT_OK;
}
