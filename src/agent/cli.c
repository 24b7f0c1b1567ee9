/* The `coce` command line: parses arguments (getopt_long), loads and
 * validates the configuration, and dispatches to a mode or a subcommand.
 * Exit codes are documented in usage(). */
#include "agent/cli.h"

#include "agent/cmd_common.h"
#include "agent/commands.h"
#include "agent/live.h"
#include "agent/sim.h"
#include "data_ingest/synth.h"
#include "utils/config.h"
#include "utils/env.h"
#include "utils/error.h"
#include "utils/log.h"
#include "utils/notify.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    EXIT_OK = 0,
    EXIT_RUNTIME = 1,
    EXIT_USAGE = 2,
    EXIT_DATA = 3,
    EXIT_UNAVAILABLE = 4,
    EXIT_REFUSED = 5
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: coce --mode sim|paper|live [--config FILE] [--data DIR]\n"
            "            [--sleeve convex] [--out DIR] [--skip-bad-rows]\n"
            "       coce validate-config [FILE]\n"
            "       coce synth [--assets N] [--days D] [--seed S] --out DIR\n"
            "       coce COMMAND [ARGS] (below; COMMAND --help for details)\n"
            "       coce --help | --version\n"
            "\n"
            "Modes:\n"
            "  sim     replay trade files through the engine with a paper\n"
            "          exchange; without --data, generate (or reuse) the\n"
            "          default market (config sim.*) and replay it. Writes\n"
            "          reports/<run-id>/ (summary.json, manifest.json, logs).\n"
            "  paper   paper exchange with persistent state in run.data_dir\n"
            "          (locked; resumes from state.json, the journal and the\n"
            "          feed cursors) on the live Binance trades of\n"
            "          feed.symbols; with --data DIR, on a recorded feed\n"
            "  live    real orders on exchange.base_url (Binance spot), the\n"
            "          same loop; refused unless live.enabled is true in\n"
            "          the config and the exchange keys are set. Unfinished\n"
            "          orders are reconciled by client id at start\n"
            "          (docs/live.md). SIGTERM/SIGINT stop cleanly.\n"
            "  --sleeve convex  the options sleeve: back-tested in sim and\n"
            "          paper --data; on a live feed (paper, live) its orders\n"
            "          go to Deribit (deribit.base_url), refused unless\n"
            "          options.live is true and DERIBIT_CLIENT_ID and\n"
            "          DERIBIT_CLIENT_SECRET are set (docs/options.md).\n"
            "\n"
            "Commands:\n"
            "  validate-config  check a configuration file (exit 0 or 2)\n"
            "  synth            generate a seeded market of trade files\n");
    for (const coce_command *c = coce_commands; c->name != NULL; ++c)
        fprintf(out, "  %-16s %s\n", c->name, c->summary);
    fprintf(out,
            "\n"
            "Configuration: config/base.yaml (if present) then --config FILE.\n"
            "Secrets come from the environment or .env (see .env.example).\n"
            "LOG_LEVEL=debug|info|warn|error overrides run.log_level.\n"
            "\n"
            "Exit codes:\n"
            "  0  success\n"
            "  1  runtime error (I/O, numerical failure)\n"
            "  2  usage or configuration error (file:line:column: key: why)\n"
            "  3  bad input data (file:line: why)\n"
            "  4  mode not available\n"
            "  5  refused (live trading or the live sleeve not enabled, or\n"
            "     keys missing; data directory locked by another engine)\n");
}

static void on_stop_signal(int sig)
{
    (void)sig;
    coce_sim_request_stop();
    coce_live_request_stop();
}

/* SIGTERM and SIGINT stop the engine cleanly: no new events, positions
 * closed, report and state written. */
static void install_stop_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGTERM, &sa, NULL);
    (void)sigaction(SIGINT, &sa, NULL);
}

static int exit_code_for(int rc)
{
    switch (rc) {
    case COCE_OK:
        return EXIT_OK;
    case COCE_ECONFIG:
    case COCE_EINVAL:
        return EXIT_USAGE;
    case COCE_EPARSE:
    case COCE_EORDER:
    case COCE_EDATA:
    case COCE_ENOTFOUND:
    case COCE_EMISMATCH:
        return EXIT_DATA;
    case COCE_ENOTSUP:
        return EXIT_UNAVAILABLE;
    case COCE_ELOCKED:
    case COCE_ESECRET:
        return EXIT_REFUSED;
    default:
        return EXIT_RUNTIME;
    }
}

static int report(int rc, const coce_err *err)
{
    if (rc != COCE_OK)
        fprintf(stderr, "coce: %s\n",
                err->msg[0] != '\0' ? err->msg : coce_strerror(rc));
    return exit_code_for(rc);
}

static void setup_logging(const coce_config *cfg)
{
    coce_log_level level = COCE_LOG_INFO;
    (void)coce_log_level_parse(cfg->run.log_level, &level);
    const char *env = getenv("LOG_LEVEL");
    if (env != NULL && env[0] != '\0')
        (void)coce_log_level_parse(env, &level);
    coce_log_set_level(level);
    coce_log_set_stderr_level(COCE_LOG_WARN);
}

static int cmd_validate(int argc, char **argv)
{
    const char *file = argc > 1 ? argv[1] : NULL;
    coce_config cfg;
    coce_err err;
    coce_err_clear(&err);
    int rc = coce__cmd_load_config(&cfg, file, &err);
    if (rc == COCE_OK)
        printf("%s: valid\n", file != NULL ? file : "config/base.yaml");
    return report(rc, &err);
}

static int parse_size(const char *text, const char *what, size_t *out)
{
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || v < 0) {
        fprintf(stderr, "coce: %s: expected a non-negative integer, got '%s'\n",
                what, text);
        return COCE_EINVAL;
    }
    *out = (size_t)v;
    return COCE_OK;
}

static int cmd_synth(int argc, char **argv)
{
    static const struct option opts[] = {
        {"assets", required_argument, NULL, 'a'},
        {"days", required_argument, NULL, 'd'},
        {"seed", required_argument, NULL, 's'},
        {"pumps", required_argument, NULL, 'p'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    coce_synth_opts so;
    coce_synth_opts_default(&so);
    const char *out = NULL;
    size_t value = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            if (parse_size(optarg, "--assets", &so.n_assets) != COCE_OK)
                return EXIT_USAGE;
            break;
        case 'd':
            if (parse_size(optarg, "--days", &so.days) != COCE_OK)
                return EXIT_USAGE;
            break;
        case 's':
            if (parse_size(optarg, "--seed", &value) != COCE_OK)
                return EXIT_USAGE;
            so.seed = value;
            break;
        case 'p':
            if (parse_size(optarg, "--pumps", &so.n_pumps) != COCE_OK)
                return EXIT_USAGE;
            break;
        case 'o':
            out = optarg;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (out == NULL) {
        fprintf(stderr, "coce synth: --out DIR is required\n");
        return EXIT_USAGE;
    }
    coce_err err;
    coce_err_clear(&err);
    int rc = coce_synth_generate(&so, out, &err);
    if (rc == COCE_OK)
        printf("synth: %zu assets x %zu days (seed %llu) written to %s\n",
               so.n_assets, so.days, (unsigned long long)so.seed, out);
    return report(rc, &err);
}

/* --mode live, and --mode paper on the live feed (agent/live.h). */
static int run_live(const coce_config *cfg, int live, int sleeve,
                    coce_secrets *secrets, coce_notifier *notifier)
{
    coce_live_args la;
    memset(&la, 0, sizeof la);
    la.cfg = cfg;
    la.live = live;
    la.api_key = secrets->exchange_api_key;
    la.api_secret = secrets->exchange_api_secret;
    la.sleeve = sleeve;
    la.deribit_client_id = secrets->deribit_client_id;
    la.deribit_client_secret = secrets->deribit_client_secret;
    la.notifier = notifier;
    coce_live_result r;
    coce_err err;
    coce_err_clear(&err);
    install_stop_handlers();
    int rc = coce_live_run(&la, &r, &err);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    coce_secrets_wipe(secrets);
    if (rc == COCE_OK)
        printf("%s run stopped%s: %zu trades, %zu entries, %zu exits, %zu "
               "fills; at start %zu unfinished orders (%zu adopted, %zu "
               "abandoned); %zu orders still open; state in %s\n",
               live ? "live" : "paper",
               r.interrupted ? " by a signal" : "", r.trades, r.entries,
               r.exits, r.fills, r.pending_at_start, r.adopted,
               r.abandoned + r.abandoned_at_start, r.open_orders,
               cfg->run.data_dir);
    if (rc == COCE_OK && sleeve)
        printf("sleeve on Deribit: %zu samples, %zu option orders, %zu "
               "fills, %zu refused\n",
               r.sleeve_samples, r.sleeve_intents, r.sleeve_fills,
               r.sleeve_refused);
    coce_notify_free(notifier);
    coce_log_close();
    return report(rc, &err);
}

int coce_cli_main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "validate-config") == 0)
        return cmd_validate(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "synth") == 0)
        return cmd_synth(argc - 1, argv + 1);
    for (const coce_command *c = coce_commands; argc > 1 && c->name != NULL;
         ++c)
        if (strcmp(argv[1], c->name) == 0)
            return c->run(argc - 1, argv + 1);

    static const struct option opts[] = {
        {"mode", required_argument, NULL, 'm'},
        {"config", required_argument, NULL, 'c'},
        {"data", required_argument, NULL, 'd'},
        {"sleeve", required_argument, NULL, 's'},
        {"out", required_argument, NULL, 'o'},
        {"skip-bad-rows", no_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    const char *mode = NULL, *config_file = NULL, *data_dir = NULL;
    const char *sleeve = NULL, *out_dir = NULL;
    int skip_bad = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            mode = optarg;
            break;
        case 'c':
            config_file = optarg;
            break;
        case 'd':
            data_dir = optarg;
            break;
        case 's':
            sleeve = optarg;
            break;
        case 'o':
            out_dir = optarg;
            break;
        case 'k':
            skip_bad = 1;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        case 'V':
            printf("coce %s\n", COCE_VERSION);
            return EXIT_OK;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "coce: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }
    if (mode == NULL)
        mode = "sim";
    if (strcmp(mode, "sim") != 0 && strcmp(mode, "paper") != 0 &&
        strcmp(mode, "live") != 0) {
        fprintf(stderr, "coce: --mode: '%s' is not one of sim|paper|live\n",
                mode);
        return EXIT_USAGE;
    }
    if (sleeve != NULL && strcmp(sleeve, "convex") != 0) {
        fprintf(stderr, "coce: --sleeve: '%s' is not 'convex'\n", sleeve);
        return EXIT_USAGE;
    }
    /* On a live feed the sleeve's orders go to Deribit (checked below,
     * once the configuration and the secrets are known). */
    int live_feed = strcmp(mode, "live") == 0 ||
                    (strcmp(mode, "paper") == 0 && data_dir == NULL);

    coce_err err;
    coce_err_clear(&err);
    int rc = coce_env_load_dotenv(".env", &err);
    if (rc != COCE_OK)
        return report(rc, &err);
    coce_secrets secrets;
    coce_secrets_load(&secrets);
    coce_config cfg;
    rc = coce__cmd_load_config(&cfg, config_file, &err);
    if (rc != COCE_OK) {
        coce_secrets_wipe(&secrets);
        return report(rc, &err);
    }
    setup_logging(&cfg);
    if (skip_bad)
        cfg.data.skip_bad_rows = 1;
    if (data_dir != NULL)
        (void)snprintf(cfg.data.trades_dir, sizeof cfg.data.trades_dir, "%s",
                       data_dir);

    int live = strcmp(mode, "live") == 0;
    if (live && (!cfg.live.enabled || !coce_secrets_have_exchange(&secrets))) {
        fprintf(stderr,
                "coce: live trading refused: it needs live.enabled: true "
                "in the configuration%s and EXCHANGE_API_KEY and "
                "EXCHANGE_API_SECRET in the environment%s\n",
                cfg.live.enabled ? " (set)" : " (not set)",
                coce_secrets_have_exchange(&secrets) ? " (set)"
                                                     : " (not set)");
        coce_secrets_wipe(&secrets);
        return EXIT_REFUSED;
    }
    if (sleeve != NULL && live_feed &&
        (!cfg.options.live || !coce_secrets_have_deribit(&secrets))) {
        fprintf(stderr,
                "coce: --sleeve convex on a live feed refused: its orders go "
                "to Deribit and need options.live: true in the "
                "configuration%s and DERIBIT_CLIENT_ID and "
                "DERIBIT_CLIENT_SECRET in the environment%s\n",
                cfg.options.live ? " (set)" : " (not set)",
                coce_secrets_have_deribit(&secrets) ? " (set)" : " (not set)");
        coce_secrets_wipe(&secrets);
        return EXIT_REFUSED;
    }
    int paper = strcmp(mode, "paper") == 0;
    /* Slack / Sentry when their secrets are set (a queue drained by a
     * worker thread; see utils/notify.h). */
    coce_notify_opts nopts;
    coce_notify_opts_from_config(&nopts, &cfg, &secrets);
    coce_notifier *notifier = NULL;
    rc = coce_notify_new(&nopts, &notifier, &err);
    if (rc != COCE_OK) {
        coce_secrets_wipe(&secrets);
        return report(rc, &err);
    }
    if (live || (paper && data_dir == NULL))
        return run_live(&cfg, live, sleeve != NULL, &secrets, notifier);
    coce_secrets_wipe(&secrets);

    coce_sim_args args;
    memset(&args, 0, sizeof args);
    args.cfg = &cfg;
    args.config_file = config_file;
    args.out_dir = out_dir;
    args.convex_sleeve = sleeve != NULL;
    args.paper = paper;
    args.notifier = notifier;
    coce_sim_result result;
    install_stop_handlers();
    rc = coce_sim_run(&args, &result, &err);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    if (rc == COCE_OK)
        coce_sim_print_summary(&result, stdout);
    coce_notify_free(notifier); /* bounded drain of what is queued */
    coce_log_close();
    return report(rc, &err);
}
