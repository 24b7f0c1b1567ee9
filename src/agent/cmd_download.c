/* `coce download-trades`: the paper's downloader (La Morgia et al., ICCCN
 * 2020: every trade from 12 days before to 7 days after each pump), done
 * against Binance's public aggTrades endpoint. */
#include "agent/cmd_download.h"

#include "agent/cmd_common.h"
#include "data_ingest/binance_trades.h"
#include "data_ingest/events.h"
#include "data_ingest/http.h"
#include "utils/config.h"
#include "utils/error.h"
#include "utils/fsutil.h"
#include "utils/log.h"

#include <getopt.h>
#include <jansson.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_DATA = 3 };

#define CMD "coce download-trades"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: coce download-trades --events FILE --out DIR\n"
            "         [--exchange binance] [--before 12d] [--after 7d]\n"
            "         [--quote BTC] [--base-url URL] [--cache-dir DIR]\n"
            "         [--retries N] [--timeout-ms N] [--backoff-ms N]\n"
            "         [--page-limit N] [--dedupe-minutes M] [--config FILE]\n"
            "\n"
            "Downloads Binance aggregate trades from --before until --after\n"
            "each event (durations: 12d, 36h, 90m, 30s) into\n"
            "DIR/SYMBOL_YYYY-MM-DD_HH.MM.csv.gz. Complete files are skipped;\n"
            "interrupted ones continue where they stopped.\n"
            "--base-url defaults to %s (public market data).\n",
            COCE_BINANCE_API_URL);
}

/* "12d", "36h", "90m", "30s" -> ms. */
static int parse_duration(const char *text, int64_t *out)
{
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (end == text || v < 0 || end[0] == '\0' || end[1] != '\0')
        return COCE_EINVAL;
    int64_t unit;
    switch (end[0]) {
    case 'd':
        unit = 86400000;
        break;
    case 'h':
        unit = 3600000;
        break;
    case 'm':
        unit = 60000;
        break;
    case 's':
        unit = 1000;
        break;
    default:
        return COCE_EINVAL;
    }
    if (v > INT64_MAX / unit / 4)
        return COCE_EINVAL;
    *out = (int64_t)v * unit;
    return COCE_OK;
}

static int parse_count(const char *text, long long lo, long long hi,
                       long long *out)
{
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || v < lo || v > hi)
        return COCE_EINVAL;
    *out = v;
    return COCE_OK;
}

typedef struct args {
    const char *events, *out, *exchange, *quote, *base_url, *cache_dir;
    const char *config;
    int64_t before_ms, after_ms;
    long long retries, timeout_ms, backoff_ms, page_limit, dedupe_min;
} args;

static int parse_args(int argc, char **argv, args *a)
{
    static const struct option opts[] = {
        {"events", required_argument, NULL, 'e'},
        {"out", required_argument, NULL, 'o'},
        {"exchange", required_argument, NULL, 'x'},
        {"before", required_argument, NULL, 'b'},
        {"after", required_argument, NULL, 'a'},
        {"quote", required_argument, NULL, 'q'},
        {"base-url", required_argument, NULL, 'u'},
        {"cache-dir", required_argument, NULL, 'C'},
        {"retries", required_argument, NULL, 'r'},
        {"timeout-ms", required_argument, NULL, 't'},
        {"backoff-ms", required_argument, NULL, 'k'},
        {"page-limit", required_argument, NULL, 'l'},
        {"dedupe-minutes", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int rc = COCE_OK;
        const char *what = NULL;
        switch (c) {
        case 'e':
            a->events = optarg;
            break;
        case 'o':
            a->out = optarg;
            break;
        case 'x':
            a->exchange = optarg;
            break;
        case 'q':
            a->quote = optarg;
            break;
        case 'u':
            a->base_url = optarg;
            break;
        case 'C':
            a->cache_dir = optarg;
            break;
        case 'c':
            a->config = optarg;
            break;
        case 'b':
            rc = parse_duration(optarg, &a->before_ms);
            what = "--before: expected a duration like 12d, 36h, 90m";
            break;
        case 'a':
            rc = parse_duration(optarg, &a->after_ms);
            what = "--after: expected a duration like 7d, 36h, 90m";
            break;
        case 'r':
            rc = parse_count(optarg, 0, 20, &a->retries);
            what = "--retries: expected 0..20";
            break;
        case 't':
            rc = parse_count(optarg, 1, 3600000, &a->timeout_ms);
            what = "--timeout-ms: expected 1..3600000";
            break;
        case 'k':
            rc = parse_count(optarg, 0, 600000, &a->backoff_ms);
            what = "--backoff-ms: expected 0..600000";
            break;
        case 'l':
            rc = parse_count(optarg, 1, COCE_BINANCE_MAX_LIMIT, &a->page_limit);
            what = "--page-limit: expected 1..1000";
            break;
        case 'd':
            rc = parse_count(optarg, 0, 1440, &a->dedupe_min);
            what = "--dedupe-minutes: expected 0..1440";
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return -1;
        }
        if (rc != COCE_OK) {
            fprintf(stderr, CMD ": %s, got '%s'\n", what, optarg);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, CMD ": unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    if (a->events == NULL || a->out == NULL) {
        fprintf(stderr, CMD ": --events FILE and --out DIR are required\n");
        return -1;
    }
    if (strcmp(a->exchange, "binance") != 0) {
        fprintf(stderr, CMD ": --exchange %s: only 'binance' is supported\n",
                a->exchange);
        return -1;
    }
    return 0;
}

static int event_path(const char *dir, const coce_event *ev, char *out,
                      size_t len)
{
    /* Event lists hold times after 2009; whole minutes name the file. */
    time_t t = (time_t)(ev->time_ms / 1000);
    struct tm tm;
    char stamp[32] = "";
    if (gmtime_r(&t, &tm) != NULL)
        strftime(stamp, sizeof stamp, "%Y-%m-%d_%H.%M", &tm);
    int w = snprintf(out, len, "%s/%s_%s.csv.gz", dir, ev->symbol, stamp);
    return (w < 0 || (size_t)w >= len) ? COCE_ERANGE : COCE_OK;
}

static int download_all(const args *a, const coce_config *cfg,
                        coce_event *ev, size_t n)
{
    coce_http_opts ho;
    coce_http_opts_default(&ho);
    ho.timeout_ms = a->timeout_ms > 0 ? a->timeout_ms : cfg->exchange.timeout_ms;
    ho.max_retries = (int)a->retries;
    ho.backoff_base_ms = a->backoff_ms;
    ho.seed = (uint64_t)cfg->run.seed;
    ho.cache_dir = a->cache_dir;
    coce_http_client *http = NULL;
    coce_err err;
    coce_err_clear(&err);
    if (coce_http_client_new(&http, &ho, &err) != COCE_OK) {
        fprintf(stderr, CMD ": %s\n", err.msg);
        return EXIT_RUNTIME;
    }
    coce_binance_dl_opts bo;
    coce_binance_dl_opts_default(&bo);
    if (a->base_url != NULL)
        bo.base_url = a->base_url;
    bo.limit = (size_t)a->page_limit;
    size_t done = 0, skipped = 0, failed = 0, trades = 0;
    for (size_t i = 0; i < n; ++i) {
        char path[1024], marker[1100];
        if (event_path(a->out, &ev[i], path, sizeof path) != COCE_OK) {
            fprintf(stderr, CMD ": %s: output path too long\n", ev[i].symbol);
            ++failed;
            continue;
        }
        snprintf(marker, sizeof marker, "%s.resume", path);
        if (coce_fs_exists(path) && !coce_fs_exists(marker)) {
            ++skipped;
            continue;
        }
        coce_binance_dl_stats st;
        coce_err_clear(&err);
        int rc = coce_binance_download_trades(
            http, &bo, ev[i].symbol, a->quote, ev[i].time_ms - a->before_ms,
            ev[i].time_ms + a->after_ms, path, &st, &err);
        if (rc != COCE_OK) {
            fprintf(stderr, CMD ": %s: %s\n", path, err.msg);
            ++failed;
            continue;
        }
        printf("%s: %zu trades%s\n", path, st.trades,
               st.resumed ? " (resumed)" : "");
        ++done;
        trades += st.trades;
    }
    printf("download-trades: %zu events: %zu downloaded (%zu trades), %zu "
           "already complete, %zu failed\n",
           n, done, trades, skipped, failed);
    coce_log(COCE_LOG_INFO, "download", "summary",
             "{s:I, s:I, s:I, s:I, s:I}", "events", (json_int_t)n,
             "downloaded", (json_int_t)done, "skipped", (json_int_t)skipped,
             "failed", (json_int_t)failed, "http_requests",
             (json_int_t)coce_http_client_requests(http));
    coce_http_client_free(http);
    return failed == 0 ? EXIT_OK : EXIT_RUNTIME;
}

int coce_cmd_download_trades(int argc, char **argv)
{
    args a = {.exchange = "binance",
              .quote = "BTC",
              .before_ms = 12LL * 86400000,
              .after_ms = 7LL * 86400000,
              .retries = 5,
              .backoff_ms = 500,
              .page_limit = COCE_BINANCE_MAX_LIMIT,
              .dedupe_min = 10};
    int prc = parse_args(argc, argv, &a);
    if (prc != 0)
        return prc > 0 ? EXIT_OK : EXIT_USAGE;
    coce_config cfg;
    coce_err err;
    coce_err_clear(&err);
    if (coce__cmd_load_config(&cfg, a.config, &err) != COCE_OK) {
        fprintf(stderr, CMD ": %s\n", err.msg);
        return EXIT_USAGE;
    }
    coce_event *ev = NULL;
    size_t n = 0;
    int rc = coce_events_load(a.events, &ev, &n, &err);
    if (rc != COCE_OK) {
        fprintf(stderr, CMD ": %s\n",
                err.msg[0] != '\0' ? err.msg : coce_strerror(rc));
        return rc == COCE_EIO ? EXIT_RUNTIME : EXIT_DATA;
    }
    coce_events_filter_exchange(ev, &n, a.exchange);
    coce_events_dedupe(ev, &n, (int64_t)a.dedupe_min * 60000);
    int code = download_all(&a, &cfg, ev, n);
    coce_events_free(ev);
    return code;
}
