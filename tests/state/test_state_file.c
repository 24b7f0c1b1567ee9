/* data/state.json: exact round trip, clear errors on bad files, and the
 * file is never changed by a failed load or a failed save. */
#define _DEFAULT_SOURCE
#include "state/state_file.h"
#include "testutil.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static coce_fill mkfill(const char *cid, coce_asset_id asset, int side,
                        double qty, double price, double fee, int64_t t)
{
    coce_fill f;
    memset(&f, 0, sizeof f);
    (void)snprintf(f.client_id, sizeof f.client_id, "%s", cid);
    f.asset = asset;
    f.side = (int8_t)side;
    f.qty = qty;
    f.price = price;
    f.fee = fee;
    f.time_ms = t;
    return f;
}

/* A book that uses every field, with doubles that need 17 digits. */
static coce_book *rich_book(void)
{
    coce_book *b = NULL;
    assert_int_equal(coce_book_new(10000.0 / 3.0, &b), COCE_OK);
    coce_fill f = mkfill("c1", 4, COCE_SIDE_BUY, 0.1 + 0.2, 1.0 / 7.0,
                         1e-7 / 3.0, 1600000000123LL);
    assert_int_equal(coce_book_apply_fill(b, &f, "PEPEUSDT", NULL), COCE_OK);
    f = mkfill("c2", 4, COCE_SIDE_SELL, 0.1, 2.0 / 7.0, 1e-8, 1600000000999LL);
    assert_int_equal(coce_book_apply_fill(b, &f, NULL, NULL), COCE_OK);
    f = mkfill("c3", 9, COCE_SIDE_BUY, 3, 0.000123456789012345, 0, 5);
    assert_int_equal(coce_book_apply_fill(b, &f, "DOGEBTC", NULL), COCE_OK);
    f = mkfill("c4", 9, COCE_SIDE_SELL, 3, 0.000223456789012345, 1e-9, 6);
    assert_int_equal(coce_book_apply_fill(b, &f, NULL, NULL), COCE_OK);
    assert_int_equal(
        coce_book_set_symbol(b, 4000000000u, "BTC-25MAR22-50000-C", NULL),
        COCE_OK);
    coce_open_order o;
    memset(&o, 0, sizeof o);
    (void)snprintf(o.client_id, sizeof o.client_id, "coce-run-17");
    (void)snprintf(o.exchange_order_id, sizeof o.exchange_order_id, "8389765");
    o.asset = 4;
    o.side = COCE_SIDE_SELL;
    o.type = COCE_ORDER_LIMIT;
    o.reason = COCE_REASON_TRAILING_STOP;
    o.qty = 0.2;
    o.filled = 0.05;
    o.limit_price = 0.3333333333333333;
    o.status = COCE_ORDER_PARTIAL;
    o.time_ms = -5;
    assert_int_equal(coce_book_order_add(b, &o, NULL), COCE_OK);
    assert_int_equal(
        coce_book_record_equity(b, 86400000, 3333.3333333333335, NULL),
        COCE_OK);
    assert_int_equal(
        coce_book_record_equity(b, 172800000, 3400.0000000000005, NULL),
        COCE_OK);
    assert_int_equal(coce_book_halt(b, "7d sharpe \"low\"\n", 1700000000000LL,
                                    NAN, 0.25, 1e-300),
                     COCE_OK);
    assert_int_equal(coce_book_set_run(b, "20240101-abc", "deadbeef"), COCE_OK);
    assert_int_equal(coce_book_set_model_version(b, "pump-2024.1"), COCE_OK);
    b->last_processed_ms = INT64_MAX;
    b->journal_seq = 42;
    return b;
}

static int same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

static void assert_books_equal(const coce_book *a, const coce_book *b)
{
    assert_true(same_double(a->cash, b->cash));
    assert_true(same_double(a->realised_pnl, b->realised_pnl));
    assert_true(same_double(a->fees_paid, b->fees_paid));
    assert_true(same_double(a->peak_equity, b->peak_equity));
    assert_int_equal(a->trade_count, b->trade_count);
    assert_true(a->last_processed_ms == b->last_processed_ms);
    assert_true(a->journal_seq == b->journal_seq);
    assert_string_equal(a->model_version, b->model_version);
    assert_string_equal(a->run_id, b->run_id);
    assert_string_equal(a->config_hash, b->config_hash);
    assert_int_equal(a->kill.halted, b->kill.halted);
    assert_string_equal(a->kill.reason, b->kill.reason);
    assert_true(a->kill.time_ms == b->kill.time_ms);
    assert_true(same_double(a->kill.sharpe_7d, b->kill.sharpe_7d));
    assert_true(same_double(a->kill.hit_rate_7d, b->kill.hit_rate_7d));
    assert_true(same_double(a->kill.drawdown, b->kill.drawdown));
    assert_int_equal(a->n_symbols, b->n_symbols);
    for (size_t i = 0; i < a->n_symbols; ++i) {
        assert_int_equal(a->symbols[i].asset, b->symbols[i].asset);
        assert_string_equal(a->symbols[i].symbol, b->symbols[i].symbol);
    }
    assert_int_equal(a->n_positions, b->n_positions);
    for (size_t i = 0; i < a->n_positions; ++i) {
        const coce_position *p = &a->positions[i], *q = &b->positions[i];
        assert_int_equal(p->asset, q->asset);
        assert_string_equal(p->symbol, q->symbol);
        assert_true(p->entry_ms == q->entry_ms);
        const double *x[] = {&p->qty,         &p->avg_price, &p->high_price,
                             &p->entry_fees,  &p->rt_qty,    &p->rt_cost,
                             &p->rt_proceeds, &p->rt_pnl};
        const double *y[] = {&q->qty,         &q->avg_price, &q->high_price,
                             &q->entry_fees,  &q->rt_qty,    &q->rt_cost,
                             &q->rt_proceeds, &q->rt_pnl};
        for (size_t k = 0; k < sizeof x / sizeof x[0]; ++k)
            assert_true(same_double(*x[k], *y[k]));
    }
    assert_int_equal(a->n_orders, b->n_orders);
    for (size_t i = 0; i < a->n_orders; ++i) {
        const coce_open_order *p = &a->orders[i], *q = &b->orders[i];
        assert_string_equal(p->client_id, q->client_id);
        assert_string_equal(p->exchange_order_id, q->exchange_order_id);
        assert_int_equal(p->asset, q->asset);
        assert_int_equal(p->side, q->side);
        assert_int_equal(p->type, q->type);
        assert_int_equal(p->reason, q->reason);
        assert_int_equal(p->status, q->status);
        assert_true(p->time_ms == q->time_ms);
        assert_true(same_double(p->qty, q->qty));
        assert_true(same_double(p->filled, q->filled));
        assert_true(same_double(p->limit_price, q->limit_price));
    }
    assert_int_equal(a->n_trades, b->n_trades);
    for (size_t i = 0; i < a->n_trades; ++i) {
        const coce_closed_trade *p = &a->trades[i], *q = &b->trades[i];
        assert_int_equal(p->asset, q->asset);
        assert_string_equal(p->symbol, q->symbol);
        assert_true(p->entry_ms == q->entry_ms && p->exit_ms == q->exit_ms);
        assert_true(same_double(p->qty, q->qty));
        assert_true(same_double(p->entry_price, q->entry_price));
        assert_true(same_double(p->exit_price, q->exit_price));
        assert_true(same_double(p->pnl, q->pnl));
    }
    assert_int_equal(a->n_equity, b->n_equity);
    for (size_t i = 0; i < a->n_equity; ++i) {
        assert_true(a->equity[i].time_ms == b->equity[i].time_ms);
        assert_true(same_double(a->equity[i].equity, b->equity[i].equity));
    }
}

static void test_round_trip_exact(void **state)
{
    (void)state;
    char dir[256], p1[512], p2[512];
    assert_non_null(coce_test_tmpdir(dir, sizeof dir));
    (void)snprintf(p1, sizeof p1, "%s/state.json", dir);
    (void)snprintf(p2, sizeof p2, "%s/again.json", dir);
    coce_book *b = rich_book();
    coce_err err;
    assert_int_equal(coce_state_save(b, p1, &err), COCE_OK);
    coce_book *c = NULL;
    assert_int_equal(coce_state_load(p1, &c, &err), COCE_OK);
    assert_books_equal(b, c);
    /* Saving the loaded book gives the same bytes. */
    assert_int_equal(coce_state_save(c, p2, &err), COCE_OK);
    size_t n1 = 0, n2 = 0;
    char *t1 = coce_test_read_file(p1, &n1), *t2 = coce_test_read_file(p2, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(t1, t2, n1);
    assert_non_null(strstr(t1, "\"schema\": \"coce.state\""));
    assert_non_null(strstr(t1, "\"version\": 1"));
    assert_non_null(strstr(t1, "\"sharpe_7d\": null"));
    assert_non_null(strstr(t1, "\"journal_seq\": 42"));
    assert_non_null(strstr(t1, "\"client_id\": \"coce-run-17\""));
    /* Overwriting an existing snapshot works and leaves no temporary. */
    assert_int_equal(coce_state_save(b, p2, &err), COCE_OK);
    char cmd[600];
    (void)snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 2", dir);
    assert_int_equal(system(cmd), 0);
    free(t1);
    free(t2);
    coce_book_free(c);

    /* An empty book round-trips too. */
    coce_book *e = NULL;
    assert_int_equal(coce_book_new(0, &e), COCE_OK);
    assert_int_equal(coce_state_save(e, p1, &err), COCE_OK);
    assert_int_equal(coce_state_load(p1, &c, &err), COCE_OK);
    assert_books_equal(e, c);
    coce_book_free(c);
    coce_book_free(e);
    coce_book_free(b);
    coce_test_rmtree(dir);
}

static void test_missing_and_bad_args(void **state)
{
    (void)state;
    coce_err err;
    coce_book *b = NULL;
    assert_int_equal(coce_state_load("/nonexistent/coce/state.json", &b, &err),
                     COCE_ENOTFOUND);
    assert_null(b);
    assert_int_equal(coce_state_load(NULL, &b, &err), COCE_EINVAL);
    assert_int_equal(coce_state_save(NULL, "x", &err), COCE_EINVAL);
    assert_int_equal(coce_book_new(0, &b), COCE_OK);
    assert_int_equal(coce_state_save(b, "/nonexistent/coce/state.json", &err),
                     COCE_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/coce/state.json"));
    coce_book_free(b);
}

/* Writes `text`, loads it, expects COCE_ESTATE with `needle` in the
 * message, and checks the file's bytes are unchanged. */
static void expect_bad(const char *dir, const char *text, const char *needle)
{
    char path[512];
    (void)snprintf(path, sizeof path, "%s/bad.json", dir);
    assert_int_equal(coce_test_write_file(path, text), 0);
    coce_err err;
    coce_err_clear(&err);
    coce_book *b = NULL;
    int rc = coce_state_load(path, &b, &err);
    if (rc != COCE_ESTATE || strstr(err.msg, needle) == NULL ||
        strstr(err.msg, path) == NULL)
        fail_msg("rc %d, message '%s', wanted '%s'", rc, err.msg, needle);
    assert_null(b);
    size_t len = 0;
    char *after = coce_test_read_file(path, &len);
    assert_int_equal(len, strlen(text));
    assert_memory_equal(after, text, len);
    free(after);
}

/* Replaces the first `from` in `base` by `to`. */
static char *mutate(const char *base, const char *from, const char *to)
{
    const char *at = strstr(base, from);
    if (at == NULL)
        fail_msg("'%s' not in the snapshot", from);
    size_t pre = (size_t)(at - base), flen = strlen(from), tlen = strlen(to);
    char *out = malloc(strlen(base) - flen + tlen + 1);
    memcpy(out, base, pre);
    memcpy(out + pre, to, tlen);
    strcpy(out + pre + tlen, at + flen);
    return out;
}

static void test_corrupt_files_reported_and_kept(void **state)
{
    (void)state;
    char dir[256], good[512];
    assert_non_null(coce_test_tmpdir(dir, sizeof dir));
    (void)snprintf(good, sizeof good, "%s/state.json", dir);
    coce_book *b = rich_book();
    assert_int_equal(coce_state_save(b, good, NULL), COCE_OK);
    coce_book_free(b);
    size_t len = 0;
    char *base = coce_test_read_file(good, &len);

    /* Truncated in the middle: JSON error with line and column. */
    char *cut = strdup(base);
    cut[len / 2] = '\0';
    expect_bad(dir, cut, "corrupt or truncated");
    free(cut);
    expect_bad(dir, "", "corrupt or truncated");
    expect_bad(dir, "{\"schema\": \"coce.state\",\n \"version\": }", ":2:");
    expect_bad(dir, "{} trailing", "corrupt");
    expect_bad(dir, "[1, 2]", "expected an object");
    expect_bad(dir, "{\"schema\": \"coce.state\", \"schema\": \"x\"}",
               "duplicate");

    static const struct {
        const char *from, *to, *needle;
    } cases[] = {
        {"\"coce.state\"", "\"other.state\"", "field 'schema'"},
        {"\"schema\"", "\"schemata\"", "field 'schema': missing"},
        {"\"version\": 1", "\"version\": 2", "version': 2 is not supported"},
        {"\"version\": 1", "\"version\": \"1\"", "field 'version'"},
        {"\"cash\": ", "\"cash\": \"x\", \"c\": ",
         "field 'cash': expected a number"},
        {"\"journal_seq\": 42", "\"journal_seq\": 4.5",
         "field 'journal_seq': expected an integer"},
        {"\"trade_count\": 4", "\"trade_count\": -4",
         "trade_count': integer out of range"},
        {"\"run_id\": \"20240101-abc\"", "\"run_id\": 5",
         "field 'run_id': expected a string"},
        {"\"model_version\": \"pump-2024.1\"",
         "\"model_version\": "
         "\"0123456789012345678901234567890123456789012345678901234567890123456"
         "789012345678901234567890123456789012345678901234567890123456789\"",
         "model_version': string too long"},
        {"\"kill_switch\": {", "\"kill_switch\": 3, \"k\": {",
         "field 'kill_switch': expected an object"},
        {"\"halted\": true", "\"halted\": 1", "field 'kill_switch.halted'"},
        {"\"sharpe_7d\": null", "\"sharpe_7d\": [], \"s\": null",
         "kill_switch.sharpe_7d"},
        {"\"symbols\": [", "\"symbols\": {}, \"s\": [",
         "field 'symbols': expected an array"},
        {"\"symbols\": [", "\"symbols\": [7, ",
         "field 'symbols[0]': expected an object"},
        {"\"symbol\": \"DOGEBTC\"", "\"symbol\": \"PEPEUSDT\"",
         "field 'symbols[1].symbol'"},
        {"\"asset_id\": 4,", "\"asset_id\": -1,",
         "symbols[0].asset_id': integer out of range"},
        {"\"positions\": [", "\"positions\": [{\"asset_id\": 1}, ",
         "positions[0].symbol': missing"},
        {"\"qty\": 0.20000000000000004", "\"qty\": -1",
         "qty': not a positive number"},
        {"\"open_orders\": [", "\"open_orders\": [7, ",
         "field 'open_orders[0]'"},
        {"\"status\": \"partial\"", "\"status\": \"gone\"",
         "open_orders[0].status': unknown order status"},
        {"\"side\": -1", "\"side\": 2",
         "open_orders[0].side': integer out of range"},
        {"\"client_id\": \"coce-run-17\"", "\"client_id\": \"\"",
         "open_orders[0].client_id"},
        {"\"trades\": [", "\"trades\": [{}, ", "trades[0].asset_id': missing"},
        {"\"equity_history\": [", "\"equity_history\": [{\"time_ms\": 1}, ",
         "equity_history[0].equity': missing"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        char *text = mutate(base, cases[i].from, cases[i].to);
        expect_bad(dir, text, cases[i].needle);
        free(text);
    }
    /* A duplicate position (same asset twice). */
    const char *pos = strstr(base, "\"positions\": [");
    assert_non_null(pos);
    const char *open_brace = strchr(pos, '{');
    const char *close_brace = strchr(open_brace, '}');
    size_t plen = (size_t)(close_brace - open_brace) + 1;
    char *dup_text = malloc(len + plen + 4);
    size_t pre = (size_t)(open_brace - base);
    memcpy(dup_text, base, pre);
    memcpy(dup_text + pre, open_brace, plen);
    memcpy(dup_text + pre + plen, ", ", 2);
    strcpy(dup_text + pre + plen + 2, open_brace);
    expect_bad(dir, dup_text, "duplicate position");
    free(dup_text);

    /* The good file still loads. */
    b = NULL;
    assert_int_equal(coce_state_load(good, &b, NULL), COCE_OK);
    coce_book_free(b);
    free(base);
    coce_test_rmtree(dir);
}

/* A save that fails half-way (file size limit: write() gets EFBIG) leaves
 * the old snapshot byte for byte and no temporary file. Runs in a child so
 * that the limit does not leak; works as root, unlike a read-only dir. */
static void test_failed_save_keeps_old_file(void **state)
{
    (void)state;
    char dir[256], path[512];
    assert_non_null(coce_test_tmpdir(dir, sizeof dir));
    (void)snprintf(path, sizeof path, "%s/state.json", dir);
    coce_book *b = NULL;
    assert_int_equal(coce_book_new(1, &b), COCE_OK);
    assert_int_equal(coce_state_save(b, path, NULL), COCE_OK);
    size_t old_len = 0;
    char *old = coce_test_read_file(path, &old_len);
    coce_book *big = rich_book();
    for (int i = 0; i < 200; ++i)
        assert_int_equal(coce_book_record_equity(big, 200000000 + i, i, NULL),
                         COCE_OK);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        (void)signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {512, 512};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(2);
        coce_err err;
        int rc = coce_state_save(big, path, &err);
        _exit(rc == COCE_EIO && strstr(err.msg, "write failed") != NULL ? 0
                                                                        : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    size_t new_len = 0;
    char *now = coce_test_read_file(path, &new_len);
    assert_int_equal(new_len, old_len);
    assert_memory_equal(now, old, old_len);
    char cmd[600];
    (void)snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", dir);
    assert_int_equal(system(cmd), 0);
    free(old);
    free(now);
    coce_book_free(big);
    coce_book_free(b);
    coce_test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_exact),
        cmocka_unit_test(test_missing_and_bad_args),
        cmocka_unit_test(test_corrupt_files_reported_and_kept),
        cmocka_unit_test(test_failed_save_keeps_old_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
