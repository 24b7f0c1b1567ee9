/* `coce report --dir DIR`: options, exit codes and the page it writes (the
 * page's content is tested in test_report.c). */
#include "agent/cmd_report.h"
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct fx {
    char dir[512];
    char html[600];
} fx;

static void put(const char *dir, const char *name, const char *text)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(coce_test_write_file(path, text), 0);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    coce_test_tmpdir(f->dir, sizeof f->dir);
    snprintf(f->html, sizeof f->html, "%s/report.html", f->dir);
    put(f->dir, "summary.json",
        "{\"run_id\": \"cmd-test\", \"market\": \"nowhere\"}");
    put(f->dir, "equity.csv",
        "time_ms,equity\n1546300800000,1\n1546387200000,1.01\n"
        "1546473600000,1.02\n");
    put(f->dir, "alerts.csv",
        "symbol,timestamp,chunk_start,score,entered,note\n"
        "AAA,1546387200000,1546387200000,0.99,1,\n");
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

#define RUN(...)                                                               \
    ({                                                                         \
        char *argv_[] = {"report", __VA_ARGS__, NULL};                         \
        coce_cmd_report((int)(sizeof argv_ / sizeof argv_[0]) - 1, argv_);     \
    })

static void test_writes_page(void **state)
{
    fx *f = *state;
    assert_int_equal(RUN("--dir", f->dir), 0);
    char *html = coce_test_read_file(f->html, NULL);
    assert_non_null(html);
    assert_non_null(strstr(html, "<h1>cmd-test</h1>"));
    assert_non_null(strstr(html, "market directory nowhere not found"));
    free(html);
    /* options reach the page */
    char market[600];
    snprintf(market, sizeof market, "%s/market", f->dir);
    assert_int_equal(mkdir(market, 0755), 0);
    assert_int_equal(RUN("--dir", f->dir, "--market", market,
                         "--alert-assets", "2", "--alerts-per-asset", "5",
                         "--window-minutes", "10"),
                     0);
    html = coce_test_read_file(f->html, NULL);
    assert_non_null(strstr(html, "up to 5 alerts each"));
    assert_non_null(strstr(html, "10 minutes of trades on each side"));
    assert_non_null(strstr(html, "no trades in the market files"));
    free(html);
    assert_int_equal(RUN("--help"), 0);
}

static void test_usage(void **state)
{
    fx *f = *state;
    assert_int_equal(RUN("--market", "x"), 2);     /* no --dir */
    assert_int_equal(RUN("--bogus"), 2);
    assert_int_equal(RUN("--dir"), 2);             /* missing value */
    assert_int_equal(RUN("--dir", f->dir, "extra"), 2);
    assert_int_equal(RUN("--dir", f->dir, "--alert-assets", "0"), 2);
    assert_int_equal(RUN("--dir", f->dir, "--alerts-per-asset", "1x"), 2);
    assert_int_equal(RUN("--dir", f->dir, "--window-minutes", "99999999"), 2);
    struct stat st;
    assert_int_equal(stat(f->html, &st), -1); /* nothing written */
}

static void test_bad_data_and_runtime(void **state)
{
    fx *f = *state;
    char missing[600];
    snprintf(missing, sizeof missing, "%s/none", f->dir);
    assert_int_equal(RUN("--dir", missing), 3);
    put(f->dir, "equity.csv", "time_ms,equity\n1,oops\n");
    assert_int_equal(RUN("--dir", f->dir), 3);
    put(f->dir, "equity.csv", "time_ms,equity\n1,1\n");
    /* report.html is a directory: the page cannot be renamed into place */
    assert_int_equal(mkdir(f->html, 0755), 0);
    assert_int_equal(RUN("--dir", f->dir), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_writes_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_data_and_runtime, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
