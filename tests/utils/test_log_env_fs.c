#include "testutil.h"
#include "utils/env.h"
#include "utils/fsutil.h"
#include "utils/log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[256];

static int setup(void **state)
{
    (void)state;
    return coce_test_tmpdir(tmp, sizeof tmp) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    coce_log_close();
    coce_log_clear_secrets();
    coce_test_rmtree(tmp);
    return 0;
}

static void test_log_lines_are_json_and_redacted(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/logs/sub/run.jsonl", tmp);
    assert_int_equal(coce_log_open(path), COCE_OK);
    coce_log_set_level(COCE_LOG_INFO);
    coce_log_set_stderr_level(COCE_LOG_OFF);
    coce_log_add_secret("supersecretvalue123");
    coce_log_add_secret("ab"); /* too short to be a secret: ignored */
    coce_log_add_secret(NULL);
    uint64_t before = coce_log_count(COCE_LOG_INFO);
    coce_log(COCE_LOG_DEBUG, "t", "dropped", NULL);
    coce_log(COCE_LOG_INFO, "t", "hello", "{s:s, s:f, s:i}", "url",
             "https://x/supersecretvalue123/y", "x", 1.5, "n", 3);
    coce_log_set_sim_time(1234);
    coce_log(COCE_LOG_WARN, "t", "warned", NULL);
    coce_log_set_sim_time(INT64_MIN);
    coce_log(COCE_LOG_OFF, "t", "never", NULL);
    assert_int_equal(coce_log_count(COCE_LOG_INFO), before + 1);
    assert_int_equal(coce_log_count(COCE_LOG_OFF), 0);
    coce_log_close();

    char *text = coce_test_read_file(path, NULL);
    assert_non_null(text);
    assert_null(strstr(text, "supersecretvalue123"));
    assert_non_null(strstr(text, "[REDACTED]"));
    assert_null(strstr(text, "dropped"));
    assert_null(strstr(text, "never"));
    size_t lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t jerr;
        json_t *obj = json_loads(line, 0, &jerr);
        assert_non_null(obj);
        assert_non_null(json_object_get(obj, "ts"));
        assert_non_null(json_object_get(obj, "level"));
        assert_string_equal(json_string_value(json_object_get(obj, "module")), "t");
        if (lines == 1)
            assert_int_equal(json_integer_value(json_object_get(obj, "sim_ms")), 1234);
        json_decref(obj);
        ++lines;
    }
    assert_int_equal(lines, 2);
    free(text);
    /* an unwritable log path is an error, not a crash */
    assert_int_not_equal(coce_log_open("/proc/nonexistent/x.jsonl"), COCE_OK);
}

static void test_log_levels(void **state)
{
    (void)state;
    coce_log_level lv;
    assert_int_equal(coce_log_level_parse("DEBUG", &lv), COCE_OK);
    assert_int_equal(lv, COCE_LOG_DEBUG);
    assert_int_equal(coce_log_level_parse("warning", &lv), COCE_OK);
    assert_int_equal(lv, COCE_LOG_WARN);
    assert_int_equal(coce_log_level_parse("off", &lv), COCE_OK);
    assert_int_equal(lv, COCE_LOG_OFF);
    assert_int_equal(coce_log_level_parse("loud", &lv), COCE_EINVAL);
    assert_int_equal(coce_log_level_parse(NULL, &lv), COCE_EINVAL);
    assert_string_equal(coce_log_level_name(COCE_LOG_ERROR), "error");
    assert_string_equal(coce_log_level_name((coce_log_level)9), "?");
    coce_log_set_level(COCE_LOG_WARN);
    assert_int_equal(coce_log_get_level(), COCE_LOG_WARN);
    coce_log_set_level(COCE_LOG_INFO);
    /* stderr line (no file open) */
    coce_log_set_stderr_level(COCE_LOG_ERROR);
    coce_log(COCE_LOG_ERROR, "t", "to_stderr", "{s:s}", "k", "v");
    coce_log(COCE_LOG_ERROR, NULL, NULL, NULL);
    coce_log_set_stderr_level(COCE_LOG_WARN);
}

static void test_dotenv_and_secrets(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/.env", tmp);
    unsetenv("COCE_T_A");
    unsetenv("EXCHANGE_API_KEY");
    unsetenv("EXCHANGE_API_SECRET");
    setenv("COCE_T_B", "already", 1);
    assert_int_equal(coce_test_write_file(path,
                                          "# comment\n\nCOCE_T_A=\"quoted value\"\n"
                                          "export COCE_T_B=new\n"
                                          "EXCHANGE_API_KEY=key-abcdef\n"
                                          "EXCHANGE_API_SECRET='sec-123456'\n"),
                     0);
    coce_err err;
    assert_int_equal(coce_env_load_dotenv(path, &err), COCE_OK);
    assert_string_equal(getenv("COCE_T_A"), "quoted value");
    assert_string_equal(getenv("COCE_T_B"), "already"); /* env wins */
    coce_secrets s;
    coce_secrets_load(&s);
    assert_true(coce_secrets_have_exchange(&s));
    assert_string_equal(s.exchange_api_secret, "sec-123456");
    unsetenv("DERIBIT_CLIENT_ID");
    assert_false(coce_secrets_have_deribit(&s));
    coce_secrets_wipe(&s);
    assert_false(coce_secrets_have_exchange(&s));

    assert_int_equal(coce_env_load_dotenv("/nonexistent/.env", &err), COCE_OK);
    assert_int_equal(coce_test_write_file(path, "OK=1\nnot a pair\n"), 0);
    assert_int_equal(coce_env_load_dotenv(path, &err), COCE_EPARSE);
    assert_non_null(strstr(err.msg, ".env:2:"));
    assert_int_equal(coce_test_write_file(path, "1BAD=hunter2secret\n"), 0);
    assert_int_equal(coce_env_load_dotenv(path, &err), COCE_EPARSE);
    assert_non_null(strstr(err.msg, "invalid variable name"));
    assert_null(strstr(err.msg, "hunter2secret")); /* never the value */
    unsetenv("EXCHANGE_API_KEY");
    unsetenv("EXCHANGE_API_SECRET");
}

static void test_atomic_write_read_hash(void **state)
{
    (void)state;
    char path[512], deep[512];
    snprintf(path, sizeof path, "%s/a/b/state.json", tmp);
    coce_err err;
    assert_int_equal(coce_fs_mkdir_parent(path), COCE_OK);
    assert_int_equal(coce_fs_write_atomic(path, "abc", 3, &err), COCE_OK);
    assert_int_equal(coce_fs_write_atomic(path, "hello", 5, &err), COCE_OK);
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(coce_fs_read_all(path, &buf, &len, &err), COCE_OK);
    assert_int_equal(len, 5);
    assert_string_equal(buf, "hello");
    free(buf);
    assert_true(coce_fs_exists(path));
    assert_false(coce_fs_exists(NULL));
    /* sha256("hello") — the standard test value */
    char hex[65];
    assert_int_equal(coce_fs_sha256_file(path, hex, &err), COCE_OK);
    assert_string_equal(hex, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    coce_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(coce_fs_sha256_file("/nonexistent", hex, &err), COCE_EIO);
    /* failure leaves the old file untouched */
    snprintf(deep, sizeof deep, "%s/missing/dir/x.json", tmp);
    assert_int_equal(coce_fs_write_atomic(deep, "x", 1, &err), COCE_EIO);
    assert_int_equal(coce_fs_write_atomic(NULL, "x", 1, &err), COCE_EINVAL);
    assert_int_equal(coce_fs_read_all("/nonexistent/x", &buf, &len, &err),
                     COCE_ENOTFOUND);
    assert_int_equal(coce_fs_read_all(NULL, &buf, &len, &err), COCE_EINVAL);
    assert_int_equal(coce_fs_mkdir_p(""), COCE_EINVAL);
    assert_int_equal(coce_fs_mkdir_p(NULL), COCE_EINVAL);
    assert_int_equal(coce_fs_mkdir_parent(NULL), COCE_EINVAL);
    assert_int_equal(coce_fs_mkdir_parent("plainname"), COCE_OK);
    assert_int_equal(coce_fs_mkdir_p("/proc/nope/x"), COCE_EIO);
    /* an existing regular file is not a directory */
    assert_int_equal(coce_fs_mkdir_p(path), COCE_EIO);
    /* a large file crosses the read buffer growth */
    size_t big = 300000;
    char *data = malloc(big);
    memset(data, 'z', big);
    assert_int_equal(coce_fs_write_atomic(path, data, big, &err), COCE_OK);
    assert_int_equal(coce_fs_read_all(path, &buf, &len, NULL), COCE_OK);
    assert_int_equal(len, big);
    free(buf);
    free(data);
    /* relative path: directory fsync of "." */
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(tmp), 0);
    assert_int_equal(coce_fs_write_atomic("rel.txt", "r", 1, &err), COCE_OK);
    assert_int_equal(chdir(cwd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_log_lines_are_json_and_redacted, setup, teardown),
        cmocka_unit_test(test_log_levels),
        cmocka_unit_test_setup_teardown(test_dotenv_and_secrets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic_write_read_hash, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
