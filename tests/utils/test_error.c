#include "testutil.h"
#include "utils/error.h"
#include "utils/types.h"

#include <string.h>

static void test_every_code_has_text_and_name(void **state)
{
    (void)state;
    assert_string_equal(coce_strerror(COCE_OK), "success");
    assert_string_equal(coce_err_name(COCE_OK), "COCE_OK");
    for (int code = -1; code >= COCE_EDATA; --code) {
        assert_string_not_equal(coce_strerror(code), "unknown error");
        assert_string_not_equal(coce_err_name(code), "COCE_E?");
    }
    assert_string_equal(coce_strerror(12345), "unknown error");
    assert_string_equal(coce_err_name(12345), "COCE_E?");
    assert_string_equal(coce_err_name(COCE_EPARSE), "COCE_EPARSE");
}

static void test_err_set_prefix_and_null(void **state)
{
    (void)state;
    coce_err err;
    coce_err_clear(&err);
    assert_int_equal(err.code, COCE_OK);
    assert_int_equal(coce_err_set(&err, COCE_EPARSE, "line %d: bad", 7),
                     COCE_EPARSE);
    assert_string_equal(err.msg, "line 7: bad");
    assert_int_equal(coce_err_prefix(&err, "%s:", "a.csv"), COCE_EPARSE);
    assert_string_equal(err.msg, "a.csv:line 7: bad");
    /* NULL detail is allowed everywhere. */
    assert_int_equal(coce_err_set(NULL, COCE_EIO, "x"), COCE_EIO);
    assert_int_equal(coce_err_prefix(NULL, "x"), COCE_OK);
    coce_err_clear(NULL);
    /* Long messages are truncated, never overflow. */
    char big[2 * COCE_ERR_MSG_MAX];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    coce_err_set(&err, COCE_EIO, "%s", big);
    assert_int_equal(strlen(err.msg), COCE_ERR_MSG_MAX - 1);
}

static void test_reason_names(void **state)
{
    (void)state;
    assert_string_equal(coce_order_reason_name(COCE_REASON_ENTRY), "entry");
    assert_string_equal(coce_order_reason_name(COCE_REASON_FLATTEN), "flatten");
    assert_string_equal(coce_order_reason_name(COCE_REASON_TAKE_PROFIT), "take_profit");
    assert_string_equal(coce_order_reason_name(COCE_REASON_TRAILING_STOP), "trailing_stop");
    assert_string_equal(coce_order_reason_name(COCE_REASON_HARD_STOP), "hard_stop");
    assert_string_equal(coce_order_reason_name(COCE_REASON_MAX_HOLD), "max_hold");
    assert_string_equal(coce_order_reason_name(COCE_REASON_REBALANCE), "rebalance");
    assert_string_equal(coce_order_reason_name(COCE_REASON_RISK_CUT), "risk_cut");
    assert_string_equal(coce_order_reason_name((coce_order_reason)99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_code_has_text_and_name),
        cmocka_unit_test(test_err_set_prefix_and_null),
        cmocka_unit_test(test_reason_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
