/* SIGTERM stops a running simulation cleanly: exit 0, positions closed,
 * report written with "interrupted": true. Runs the real binary. */
#include "testutil.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void test_sigterm_stops_cleanly(void **state)
{
    (void)state;
    char tmp[256], mkt[512], out[512], logs[600], cmd[1200];
    assert_non_null(coce_test_tmpdir(tmp, sizeof tmp));
    snprintf(mkt, sizeof mkt, "%s/mkt", tmp);
    snprintf(out, sizeof out, "%s/report", tmp);
    snprintf(logs, sizeof logs, "%s/logs.jsonl", out);
    snprintf(cmd, sizeof cmd, "'%s' synth --assets 20 --days 14 --out '%s' >/dev/null",
             coce_test_bin(), mkt);
    assert_int_equal(system(cmd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (freopen("/dev/null", "w", stdout) == NULL)
            _exit(127);
        execl(coce_test_bin(), "coce", "--mode", "sim", "--data", mkt, "--out",
              out, (char *)NULL);
        _exit(127);
    }
    /* wait until the loop is running (its first daily rebalance is logged) */
    int running = 0;
    for (int i = 0; i < 6000 && !running; ++i) {
        char *text = coce_test_read_file(logs, NULL);
        running = text != NULL && strstr(text, "\"rebalance\"") != NULL;
        free(text);
        if (!running) {
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
        }
    }
    assert_true(running);
    assert_int_equal(kill(pid, SIGTERM), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    char path[700];
    snprintf(path, sizeof path, "%s/summary.json", out);
    json_t *s = json_load_file(path, 0, NULL);
    assert_non_null(s);
    assert_true(json_is_true(json_object_get(s, "interrupted")));
    /* it stopped early: the last event is well before the market's end */
    json_int_t first = json_integer_value(json_object_get(s, "first_ms"));
    json_int_t last = json_integer_value(json_object_get(s, "last_ms"));
    assert_true(last - first < (json_int_t)14 * 86400000 - 3600000);
    json_decref(s);
    snprintf(path, sizeof path, "%s/state.json", out);
    assert_true(access(path, R_OK) == 0);
    coce_test_rmtree(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigterm_stops_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
