/* `coce reset-kill-switch`; behaviour and exit codes in cmd_killswitch.h. */
#include "agent/cmd_killswitch.h"

#include "agent/cmd_common.h"
#include "state/book.h"
#include "state/lock.h"
#include "state/state_file.h"
#include "utils/config.h"
#include "utils/error.h"
#include "utils/fsutil.h"
#include "utils/log.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CMD "reset-kill-switch"

enum {
    EXIT_OK = 0,
    EXIT_RUNTIME = 1,
    EXIT_USAGE = 2,
    EXIT_DATA = 3,
    EXIT_REFUSED = 5
};

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: coce " CMD " --reason TEXT [--data DIR] [--config FILE]\n"
        "\n"
        "Clears a kill-switch halt recorded in DIR/state.json (default\n"
        "run.data_dir) and appends a kill_switch_reset line with the\n"
        "reason and the halt's figures to <run.logs_dir>/meta_events.jsonl.\n"
        "Refused while an engine holds DIR's lock.\n");
}

static json_t *jreal(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static int64_t now_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Appends one line and fsyncs: the reset's record survives a crash. */
static int append_line(const char *path, const char *line)
{
    if (coce_fs_mkdir_parent(path) != COCE_OK)
        return COCE_EIO;
    FILE *f = fopen(path, "ae");
    if (f == NULL)
        return COCE_EIO;
    int ok = fputs(line, f) >= 0 && fputc('\n', f) != EOF && fflush(f) == 0 &&
             fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    return ok ? COCE_OK : COCE_EIO;
}

static char *event_line(const coce_kill_switch *prev, const char *reason,
                        int64_t ts)
{
    json_t *root = json_pack(
        "{s:I, s:s, s:s, s:{s:s, s:I, s:o, s:o, s:o}}", "ts", (json_int_t)ts,
        "event", "kill_switch_reset", "reason", reason, "previous", "reason",
        prev->reason, "time_ms", (json_int_t)prev->time_ms, "sharpe_7d",
        jreal(prev->sharpe_7d), "hit_rate_7d", jreal(prev->hit_rate_7d),
        "drawdown", jreal(prev->drawdown));
    if (root == NULL)
        return NULL;
    char *s = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(root);
    return s;
}

static int fail(int code, const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "coce " CMD ": ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return code;
}

static int exit_for_load(int rc)
{
    return rc == COCE_ENOTFOUND || rc == COCE_ESTATE || rc == COCE_EPARSE
               ? EXIT_DATA
               : EXIT_RUNTIME;
}

int coce_cmd_reset_kill_switch(int argc, char **argv)
{
    static const struct option opts[] = {
        {"reason", required_argument, NULL, 'r'},
        {"data", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *reason = NULL, *data = NULL, *config_file = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            reason = optarg;
            break;
        case 'd':
            data = optarg;
            break;
        case 'c':
            config_file = optarg;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default:
            fprintf(stderr,
                    "coce " CMD ": unknown option or missing value "
                    "'%s'\n",
                    argv[optind - 1]);
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind < argc)
        return fail(EXIT_USAGE, "unexpected argument '%s'%s", argv[optind], "");
    size_t rlen = reason != NULL ? strlen(reason) : 0;
    if (rlen == 0 || strspn(reason, " \t\r\n") == rlen)
        return fail(EXIT_USAGE,
                    "--reason TEXT is required: say why trading may resume%s%s",
                    "", "");

    coce_config cfg;
    coce_err err;
    coce_err_clear(&err);
    int rc = coce__cmd_load_config(&cfg, config_file, &err);
    if (rc != COCE_OK)
        return fail(EXIT_USAGE, "%s%s",
                    err.msg[0] ? err.msg : coce_strerror(rc), "");
    if (data == NULL)
        data = cfg.run.data_dir;

    coce_lock *lock = NULL;
    rc = coce_lock_acquire(data, &lock, &err);
    if (rc != COCE_OK)
        return fail(rc == COCE_ELOCKED ? EXIT_REFUSED : EXIT_RUNTIME, "%s%s",
                    err.msg[0] ? err.msg : coce_strerror(rc),
                    rc == COCE_ELOCKED ? " (stop the engine first)" : "");

    char state_path[1024], meta_path[1024];
    (void)snprintf(state_path, sizeof state_path, "%s/state.json", data);
    (void)snprintf(meta_path, sizeof meta_path, "%s/meta_events.jsonl",
                   cfg.run.logs_dir);
    coce_book *book = NULL;
    rc = coce_state_load(state_path, &book, &err);
    if (rc != COCE_OK) {
        coce_lock_release(lock);
        return fail(exit_for_load(rc), "%s%s",
                    err.msg[0] ? err.msg : coce_strerror(rc),
                    rc == COCE_ENOTFOUND ? " (no state to reset)" : "");
    }
    if (!book->kill.halted) {
        printf("kill-switch is not halted in %s: nothing to do\n", state_path);
        coce_book_free(book);
        coce_lock_release(lock);
        return EXIT_OK;
    }
    const coce_kill_switch prev = book->kill;
    const int64_t ts = now_ms();
    char *line = event_line(&prev, reason, ts);
    if (line == NULL) {
        coce_book_free(book);
        coce_lock_release(lock);
        return fail(EXIT_USAGE, "--reason: not valid UTF-8 text%s%s", "", "");
    }
    coce_book_resume(book);
    rc = coce_state_save(book, state_path, &err);
    coce_book_free(book);
    int code = EXIT_OK;
    if (rc != COCE_OK) {
        code = fail(EXIT_RUNTIME, "%s%s (still halted)",
                    err.msg[0] ? err.msg : coce_strerror(rc), "");
    } else if (append_line(meta_path, line) != COCE_OK) {
        code = fail(EXIT_RUNTIME,
                    "%s: cannot append the reset event%s; the kill-switch "
                    "WAS reset in state.json",
                    meta_path, "");
    } else {
        coce_log(COCE_LOG_WARN, "killswitch", "reset", "{s:s, s:s, s:s, s:I}",
                 "reason", reason, "previous_reason", prev.reason, "state",
                 state_path, "previous_time_ms", (json_int_t)prev.time_ms);
        printf("kill-switch reset in %s (was halted: %s); event appended to "
               "%s\n",
               state_path, prev.reason, meta_path);
    }
    free(line);
    coce_lock_release(lock);
    return code;
}
