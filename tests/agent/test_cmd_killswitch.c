/* `coce reset-kill-switch` on state.json files made with the state API. */
#include "agent/cmd_killswitch.h"
#include "state/book.h"
#include "state/lock.h"
#include "state/state_file.h"
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct fx {
    char dir[512];
    char data[600];
    char logs[600];
    char state[700];
    char meta[700];
    char cfg[700];
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    coce_test_tmpdir(f->dir, sizeof f->dir);
    snprintf(f->data, sizeof f->data, "%s/data", f->dir);
    snprintf(f->logs, sizeof f->logs, "%s/logs", f->dir);
    snprintf(f->state, sizeof f->state, "%s/state.json", f->data);
    snprintf(f->meta, sizeof f->meta, "%s/meta_events.jsonl", f->logs);
    snprintf(f->cfg, sizeof f->cfg, "%s/cfg.yaml", f->dir);
    mkdir(f->data, 0755);
    char yaml[2000];
    snprintf(yaml, sizeof yaml, "run:\n  data_dir: %s\n  logs_dir: %s\n",
             f->data, f->logs);
    assert_int_equal(coce_test_write_file(f->cfg, yaml), 0);
    /* the repository's base.yaml, whatever the working directory */
    char base[1024];
    setenv("COCE_BASE_CONFIG",
           coce_test_path(base, sizeof base, "config/base.yaml"), 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    coce_test_rmtree(f->dir);
    free(f);
    return 0;
}

static void write_state(const fx *f, int halted, double sharpe)
{
    coce_book *b = NULL;
    assert_int_equal(coce_book_new(1.5, &b), COCE_OK);
    assert_int_equal(coce_book_set_run(b, "run-1", "hash"), COCE_OK);
    if (halted)
        assert_int_equal(coce_book_halt(b, "sharpe 0.8 < 1.2", 1700000000000LL,
                                        sharpe, 0.55, 0.07),
                         COCE_OK);
    assert_int_equal(coce_state_save(b, f->state, NULL), COCE_OK);
    coce_book_free(b);
}

static int run(int argc, const char **args)
{
    char *argv[16];
    for (int i = 0; i < argc; ++i)
        argv[i] = (char *)args[i];
    argv[argc] = NULL;
    return coce_cmd_reset_kill_switch(argc, argv);
}

static void test_usage(void **state)
{
    fx *f = *state;
    write_state(f, 1, 0.8);
    const char *a1[] = {"reset-kill-switch", "--config", f->cfg};
    assert_int_equal(run(3, a1), 2);
    const char *a2[] = {"reset-kill-switch", "--reason", "  ", "--config",
                        f->cfg};
    assert_int_equal(run(5, a2), 2);
    const char *a3[] = {"reset-kill-switch", "--bogus"};
    assert_int_equal(run(2, a3), 2);
    const char *a4[] = {"reset-kill-switch", "--reason", "x", "extra"};
    assert_int_equal(run(4, a4), 2);
    const char *a5[] = {"reset-kill-switch", "--help"};
    assert_int_equal(run(2, a5), 0);
    const char *a6[] = {"reset-kill-switch", "--reason"};
    assert_int_equal(run(2, a6), 2);
    /* bad configuration file */
    char bad[700];
    snprintf(bad, sizeof bad, "%s/bad.yaml", f->dir);
    assert_int_equal(coce_test_write_file(bad, "run:\n  nope: 1\n"), 0);
    const char *a7[] = {"reset-kill-switch", "--reason", "x", "--config", bad};
    assert_int_equal(run(5, a7), 2);
    /* nothing was changed by any of these */
    coce_book *b = NULL;
    assert_int_equal(coce_state_load(f->state, &b, NULL), COCE_OK);
    assert_true(b->kill.halted);
    coce_book_free(b);
    assert_null(coce_test_read_file(f->meta, NULL));
}

static void test_reset(void **state)
{
    fx *f = *state;
    write_state(f, 1, 0.8);
    const char *a[] = {"reset-kill-switch", "--reason",
                       "regime change reviewed \"ok\"", "--config", f->cfg};
    assert_int_equal(run(5, a), 0);
    coce_book *b = NULL;
    assert_int_equal(coce_state_load(f->state, &b, NULL), COCE_OK);
    assert_false(b->kill.halted);
    /* the halt's record is kept */
    assert_string_equal(b->kill.reason, "sharpe 0.8 < 1.2");
    assert_close(b->kill.sharpe_7d, 0.8, 0, 0);
    assert_close(b->cash, 1.5, 0, 0);
    assert_string_equal(b->run_id, "run-1");
    coce_book_free(b);

    size_t len = 0;
    char *text = coce_test_read_file(f->meta, &len);
    assert_non_null(text);
    assert_true(len > 0 && text[len - 1] == '\n');
    assert_ptr_equal(strchr(text, '\n') + 1, text + len); /* one line */
    json_error_t je;
    json_t *ev = json_loads(text, 0, &je);
    assert_non_null(ev);
    assert_true(json_integer_value(json_object_get(ev, "ts")) >
                1700000000000LL);
    assert_string_equal(json_string_value(json_object_get(ev, "event")),
                        "kill_switch_reset");
    assert_string_equal(json_string_value(json_object_get(ev, "reason")),
                        "regime change reviewed \"ok\"");
    json_t *p = json_object_get(ev, "previous");
    assert_string_equal(json_string_value(json_object_get(p, "reason")),
                        "sharpe 0.8 < 1.2");
    assert_int_equal(json_integer_value(json_object_get(p, "time_ms")),
                     1700000000000LL);
    assert_close(json_real_value(json_object_get(p, "sharpe_7d")), 0.8, 0, 0);
    assert_close(json_real_value(json_object_get(p, "hit_rate_7d")), 0.55, 0,
                 0);
    assert_close(json_real_value(json_object_get(p, "drawdown")), 0.07, 0, 0);
    json_decref(ev);
    free(text);

    /* A second reset: not halted, nothing written. */
    char *before = coce_test_read_file(f->state, NULL);
    assert_int_equal(run(5, a), 0);
    char *after = coce_test_read_file(f->state, NULL);
    assert_string_equal(before, after);
    free(before);
    free(after);
    text = coce_test_read_file(f->meta, &len);
    assert_ptr_equal(strchr(text, '\n') + 1, text + len); /* still one */
    free(text);
}

/* --data wins over run.data_dir; an undefined Sharpe is written as null;
 * lines are appended. */
static void test_data_flag_and_null(void **state)
{
    fx *f = *state;
    char other[600], ostate[700];
    snprintf(other, sizeof other, "%s/other", f->dir);
    mkdir(other, 0755);
    snprintf(ostate, sizeof ostate, "%s/state.json", other);
    char keep[700];
    snprintf(keep, sizeof keep, "%s", f->state);
    snprintf(f->state, sizeof f->state, "%s", ostate);
    write_state(f, 1, NAN);
    snprintf(f->state, sizeof f->state, "%s", keep);
    write_state(f, 1, 0.8); /* the default dir stays halted */
    mkdir(f->logs, 0755);
    assert_int_equal(coce_test_write_file(f->meta, "{\"old\":1}\n"), 0);
    const char *a[] = {
        "reset-kill-switch", "--data", other, "--reason", "manual",
        "--config",          f->cfg};
    assert_int_equal(run(7, a), 0);
    coce_book *b = NULL;
    assert_int_equal(coce_state_load(ostate, &b, NULL), COCE_OK);
    assert_false(b->kill.halted);
    coce_book_free(b);
    assert_int_equal(coce_state_load(f->state, &b, NULL), COCE_OK);
    assert_true(b->kill.halted);
    coce_book_free(b);
    char *text = coce_test_read_file(f->meta, NULL);
    assert_non_null(text);
    assert_true(strncmp(text, "{\"old\":1}\n", 10) == 0); /* appended */
    const char *last = strrchr(text, '{');
    while (last > text && last[-1] != '\n')
        --last;
    json_t *ev = json_loads(last, 0, NULL);
    assert_non_null(ev);
    assert_true(json_is_null(
        json_object_get(json_object_get(ev, "previous"), "sharpe_7d")));
    json_decref(ev);
    free(text);
}

static void test_missing_and_corrupt_state(void **state)
{
    fx *f = *state;
    const char *a[] = {"reset-kill-switch", "--reason", "x", "--config",
                       f->cfg};
    assert_int_equal(run(5, a), 3);
    assert_int_equal(coce_test_write_file(f->state, "{\"schema\": \"coce"), 0);
    assert_int_equal(run(5, a), 3);
    /* data dir that does not exist: cannot lock */
    char nodir[700];
    snprintf(nodir, sizeof nodir, "%s/nope", f->dir);
    const char *b[] = {"reset-kill-switch", "--reason", "x", "--data", nodir,
                       "--config",          f->cfg};
    assert_int_equal(run(7, b), 1);
}

static void test_locked(void **state)
{
    fx *f = *state;
    write_state(f, 1, 0.8);
    coce_lock *lock = NULL;
    assert_int_equal(coce_lock_acquire(f->data, &lock, NULL), COCE_OK);
    const char *a[] = {"reset-kill-switch", "--reason", "x", "--config",
                       f->cfg};
    assert_int_equal(run(5, a), 5);
    coce_lock_release(lock);
    coce_book *b = NULL;
    assert_int_equal(coce_state_load(f->state, &b, NULL), COCE_OK);
    assert_true(b->kill.halted);
    coce_book_free(b);
    assert_int_equal(run(5, a), 0);
}

/* The event cannot be appended (logs_dir is a file): exit 1, and the
 * message says the state was reset. */
static void test_meta_unwritable(void **state)
{
    fx *f = *state;
    write_state(f, 1, 0.8);
    char file[700], cfg[700], yaml[2000];
    snprintf(file, sizeof file, "%s/afile", f->dir);
    assert_int_equal(coce_test_write_file(file, "x"), 0);
    snprintf(cfg, sizeof cfg, "%s/cfg2.yaml", f->dir);
    snprintf(yaml, sizeof yaml, "run:\n  data_dir: %s\n  logs_dir: %s/sub\n",
             f->data, file);
    assert_int_equal(coce_test_write_file(cfg, yaml), 0);
    const char *a[] = {"reset-kill-switch", "--reason", "x", "--config", cfg};
    assert_int_equal(run(5, a), 1);
    coce_book *b = NULL;
    assert_int_equal(coce_state_load(f->state, &b, NULL), COCE_OK);
    assert_false(b->kill.halted);
    coce_book_free(b);
    /* invalid UTF-8 reason: refused before anything is written */
    write_state(f, 1, 0.8);
    const char *c[] = {"reset-kill-switch", "--reason", "bad \xff", "--config",
                       f->cfg};
    assert_int_equal(run(5, c), 2);
    assert_int_equal(coce_state_load(f->state, &b, NULL), COCE_OK);
    assert_true(b->kill.halted);
    coce_book_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_flag_and_null, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_missing_and_corrupt_state, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_locked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_meta_unwritable, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
