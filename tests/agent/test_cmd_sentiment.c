/* `coce sentiment`: called as a function with stdout (and stdin) redirected
 * to files; values checked against the reference's README outputs. */
#include "agent/cmd_sentiment.h"
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[512];
static char g_lexdir[1024];

static int setup(void **state)
{
    (void)state;
    coce_test_tmpdir(g_dir, sizeof g_dir);
    coce_test_path(g_lexdir, sizeof g_lexdir, "data/sentiment");
    unsetenv("COCE_DATA_DIR");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    coce_test_rmtree(g_dir);
    return 0;
}

/* Runs the command with stdout to out_path and stdin from in_path (or
 * unchanged when NULL); returns its exit code. */
static int run(int argc, char **argv, const char *in_path,
               const char *out_path)
{
    fflush(stdout);
    int saved_out = dup(1);
    int saved_in = -1;
    int fd = strcmp(out_path, "/dev/full") == 0
                 ? open(out_path, O_WRONLY)
                 : open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0 && saved_out >= 0);
    dup2(fd, 1);
    close(fd);
    if (in_path) {
        saved_in = dup(0);
        int fi = open(in_path, O_RDONLY);
        assert_true(fi >= 0);
        dup2(fi, 0);
        close(fi);
        clearerr(stdin);
    }
    int rc = coce_cmd_sentiment(argc, argv);
    fflush(stdout);
    dup2(saved_out, 1);
    close(saved_out);
    if (saved_in >= 0) {
        dup2(saved_in, 0);
        close(saved_in);
        clearerr(stdin);
    }
    return rc;
}

static char *out_of(const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    char *t = coce_test_read_file(p, NULL);
    assert_non_null(t);
    return t;
}

static void test_file_formats(void **state)
{
    (void)state;
    char in[1024];
    char out[1024];
    snprintf(in, sizeof in, "%s/in.txt", g_dir);
    snprintf(out, sizeof out, "%s/out.tsv", g_dir);
    assert_int_equal(
        coce_test_write_file(in, "The book was good.\n"
                                 "t7\t1.2\tVADER is VERY SMART, handsome, "
                                 "and FUNNY!!!\r\n"
                                 "\n"
                                 "Today SUX!"),
        0);
    char *argv[] = {"sentiment", in, "--lexicon-dir", g_lexdir, NULL};
    assert_int_equal(run(4, argv, NULL, out), 0);
    char *t = out_of("out.tsv");
    assert_string_equal(t, "1\t0.000\t0.508\t0.492\t0.4404\n"
                           "t7\t0.000\t0.233\t0.767\t0.9342\n"
                           "3\t0.000\t0.000\t0.000\t0.0000\n"
                           "4\t0.779\t0.221\t0.000\t-0.5461\n");
    free(t);
}

static void test_stdin_env_and_addon(void **state)
{
    (void)state;
    char in[1024];
    char out[1024];
    char data[1024];
    snprintf(in, sizeof in, "%s/in2.txt", g_dir);
    snprintf(out, sizeof out, "%s/out2.tsv", g_dir);
    assert_int_equal(coce_test_write_file(in, "a\thodl\n"), 0);
    coce_test_path(data, sizeof data, "data");
    setenv("COCE_DATA_DIR", data, 1);
    char *argv[] = {"sentiment", NULL};
    assert_int_equal(run(1, argv, in, out), 0);
    char *t = out_of("out2.tsv");
    assert_string_equal(t, "a\t0.000\t1.000\t0.000\t0.0000\n");
    free(t);
    char *argv2[] = {"sentiment", "-", "--addon", NULL};
    assert_int_equal(run(3, argv2, in, out), 0);
    t = out_of("out2.tsv");
    assert_non_null(strstr(t, "a\t0.000\t0.000\t1.000\t0."));
    free(t);
    /* a custom add-on file */
    char add[1024];
    snprintf(add, sizeof add, "%s/add.tsv", g_dir);
    assert_int_equal(coce_test_write_file(add, "hodl\t-2\n"), 0);
    char *argv3[] = {"sentiment", "--addon-file", add, NULL};
    assert_int_equal(run(3, argv3, in, out), 0);
    t = out_of("out2.tsv");
    assert_non_null(strstr(t, "a\t1.000\t0.000\t0.000\t-0."));
    free(t);
    unsetenv("COCE_DATA_DIR");
}

static void test_errors(void **state)
{
    (void)state;
    char out[1024];
    char bad[1024];
    snprintf(out, sizeof out, "%s/out3.tsv", g_dir);
    snprintf(bad, sizeof bad, "%s/bad.tsv", g_dir);
    char *a1[] = {"sentiment", "--lexicon-dir", "/nonexistent", NULL};
    assert_int_equal(run(3, a1, NULL, out), 2);
    char *a2[] = {"sentiment", "--bogus", NULL};
    assert_int_equal(run(2, a2, NULL, out), 2);
    char *a3[] = {"sentiment", "x", "y", NULL};
    assert_int_equal(run(3, a3, NULL, out), 2);
    char *a4[] = {"sentiment", "/nonexistent/in.txt", "--lexicon-dir",
                  g_lexdir, NULL};
    assert_int_equal(run(4, a4, NULL, out), 1);
    assert_int_equal(coce_test_write_file(bad, "moon\tnope\n"), 0);
    char *a5[] = {"sentiment", "--lexicon-dir", g_lexdir, "--addon-file",
                  bad, NULL};
    assert_int_equal(run(5, a5, NULL, out), 2);
    char *a6[] = {"sentiment", "--lexicon-dir", g_lexdir, "--addon-file",
                  bad, "--addon", NULL};
    assert_int_equal(run(6, a6, NULL, out), 2);
    char *a7[] = {"sentiment", "--help", NULL};
    assert_int_equal(run(2, a7, NULL, out), 0);
    char *t = out_of("out3.tsv");
    assert_non_null(strstr(t, "usage: coce sentiment"));
    free(t);
    /* over-long directory names */
    char longdir[5000];
    memset(longdir, 'x', sizeof longdir - 1);
    longdir[sizeof longdir - 1] = '\0';
    char *a9[] = {"sentiment", "--lexicon-dir", longdir, NULL};
    assert_int_equal(run(3, a9, NULL, out), 2);
    setenv("COCE_DATA_DIR", longdir, 1);
    char *a10[] = {"sentiment", NULL};
    assert_int_equal(run(1, a10, NULL, out), 2);
    unsetenv("COCE_DATA_DIR");
    /* a directory as input: read error */
    char *a11[] = {"sentiment", g_dir, "--lexicon-dir", g_lexdir, NULL};
    assert_int_equal(run(4, a11, NULL, out), 1);
    /* stdout that cannot be written */
    char in[1024];
    snprintf(in, sizeof in, "%s/in4.txt", g_dir);
    assert_int_equal(coce_test_write_file(in, "good\n"), 0);
    char *a12[] = {"sentiment", in, "--lexicon-dir", g_lexdir, NULL};
    assert_int_equal(run(4, a12, NULL, "/dev/full"), 1);
    clearerr(stdout);
    /* relative default data/sentiment from another working directory */
    char cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(g_dir), 0);
    char *a8[] = {"sentiment", NULL};
    int rc = run(1, a8, NULL, out);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(rc, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_formats),
        cmocka_unit_test(test_stdin_env_and_addon),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
