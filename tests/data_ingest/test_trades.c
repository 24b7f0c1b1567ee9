/* Tests of the streaming trade reader/writer (src/data_ingest/trades.h).
 * Fixtures are written into a fresh tmpdir by each test (plain text, gzip
 * through zlib, a gzip stream cut in half); the real-data test reads one of
 * ../shared/data/pump_trades and skips when ../shared is absent. */
#include "testutil.h"
#include "data_ingest/trades.h"
#include "utils/log.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define HDR_A "symbol,timestamp,datetime,side,price,amount,btc_volume\n"
#define HDR_B "timestamp,price,qty,side\n"

static char g_dir[512];

static int setup(void **state)
{
    (void)state;
    return coce_test_tmpdir(g_dir, sizeof g_dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    coce_test_rmtree(g_dir);
    return 0;
}

static const char *tmp_path(char *buf, size_t len, const char *name)
{
    (void)snprintf(buf, len, "%s/%s", g_dir, name);
    return buf;
}

static void write_gz(const char *path, const char *text)
{
    gzFile gz = gzopen(path, "wb");
    assert_non_null(gz);
    size_t n = strlen(text);
    assert_int_equal(gzwrite(gz, text, (unsigned)n), (int)n);
    assert_int_equal(gzclose(gz), Z_OK);
}

/* A complete gzip member of `text` in memory (RFC 1952 via windowBits 31). */
static size_t gzip_bytes(const char *text, unsigned char *out, size_t cap)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 31, 8,
                                  Z_DEFAULT_STRATEGY),
                     Z_OK);
    zs.next_in = (unsigned char *)(uintptr_t)text;
    zs.avail_in = (unsigned)strlen(text);
    zs.next_out = out;
    zs.avail_out = (unsigned)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t n = zs.total_out;
    deflateEnd(&zs);
    return n;
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* Reads a whole file with chunks of `cap`; returns the final status (EEOF on
 * success) and the trades in a malloc'ed array. */
static int read_all(const char *path, coce_symbols *sy,
                    const coce_trade_reader_opts *opts, size_t cap,
                    coce_trade **out, size_t *n, coce_err *err)
{
    coce_trade_reader *r = NULL;
    *out = NULL;
    *n = 0;
    int rc = coce_trade_reader_open(&r, path, sy, opts, err);
    if (rc != COCE_OK)
        return rc;
    coce_trade *buf = malloc(cap * sizeof *buf);
    size_t total = 0, tcap = 0;
    coce_trade *all = NULL;
    assert_non_null(buf);
    for (;;) {
        size_t got = 0;
        rc = coce_trade_reader_next(r, buf, cap, &got, err);
        assert_true(got <= cap);
        if (got > 0) {
            if (total + got > tcap) {
                tcap = (total + got) * 2;
                all = realloc(all, tcap * sizeof *all);
                assert_non_null(all);
            }
            memcpy(all + total, buf, got * sizeof *buf);
            total += got;
        }
        if (rc != COCE_OK)
            break;
        assert_true(got > 0);
    }
    if (rc == COCE_EEOF)
        assert_int_equal(coce_trade_reader_rows(r), total);
    free(buf);
    coce_trade_reader_free(r);
    *out = all;
    *n = total;
    return rc;
}

static void test_format_a_plain(void **state)
{
    (void)state;
    char path[600];
    tmp_path(path, sizeof path, "anything.csv");
    assert_int_equal(
        coce_test_write_file(path, HDR_A
                             "ADX/BTC,1561309495124,2019-06-23T17:04:55.124Z,"
                             "buy,1.348e-05,81.0,0.00109188\n"
                             "ADX/BTC,1561309495124,2019-06-23T17:04:55.124Z,"
                             "sell,1.349e-05,318.0,0.00428982\n"
                             "ADX/BTC,1561309500000,2019-06-23T17:05:00.000Z,"
                             "buy,2e-05,1,2e-05\n"),
        0);
    coce_symbols *sy = NULL;
    assert_int_equal(coce_symbols_new(&sy), COCE_OK);
    assert_int_equal(coce_symbols_intern(sy, "BTC", NULL), COCE_OK);
    coce_trade_reader *r = NULL;
    coce_err err;
    assert_int_equal(coce_trade_reader_open(&r, path, sy, NULL, &err),
                     COCE_OK);
    assert_null(coce_trade_reader_symbol(r)); /* not read yet */
    coce_trade t[8];
    size_t n = 0;
    assert_int_equal(coce_trade_reader_next(r, t, 8, &n, &err), COCE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(coce_trade_reader_symbol(r), "ADX");
    assert_int_equal(t[0].time_ms, 1561309495124LL);
    assert_true(t[0].price == 1.348e-05);
    assert_true(t[0].qty == 81.0);
    assert_int_equal(t[0].side, COCE_SIDE_BUY);
    assert_int_equal(t[0].asset, 1); /* BTC was 0 */
    assert_int_equal(t[1].side, COCE_SIDE_SELL);
    assert_true(t[1].price == 1.349e-05);
    assert_int_equal(t[2].time_ms, 1561309500000LL);
    assert_true(t[2].price == 2e-05);
    assert_int_equal(coce_trade_reader_rows(r), 3);
    assert_int_equal(coce_trade_reader_skipped(r), 0);
    assert_int_equal(coce_trade_reader_next(r, t, 8, &n, &err), COCE_EEOF);
    assert_int_equal(n, 0);
    assert_int_equal(coce_trade_reader_next(r, t, 8, &n, &err), COCE_EEOF);
    coce_trade_reader_free(r);
    coce_trade_reader_free(NULL);
    coce_symbols_free(sy);
}

/* Format (b) has no symbol column: the asset comes from the file name. */
static void test_format_b_symbol_from_name(void **state)
{
    (void)state;
    const char *names[] = {"XRP_2020-01-02_03.04.csv", "SOL.csv",
                           "DOGE 2021-01-28_20.00 pump.csv", "ethbtc.csv"};
    const char *want[] = {"XRP", "SOL", "DOGE", "ETH"};
    coce_symbols *sy = NULL;
    assert_int_equal(coce_symbols_new(&sy), COCE_OK);
    for (size_t i = 0; i < 4; ++i) {
        char path[600];
        tmp_path(path, sizeof path, names[i]);
        assert_int_equal(coce_test_write_file(path, HDR_B "1000,2.5,3,buy\n"
                                                          "1001,2.25,0.5,SELL\n"),
                         0);
        coce_trade_reader *r = NULL;
        coce_err err;
        assert_int_equal(coce_trade_reader_open(&r, path, sy, NULL, &err),
                         COCE_OK);
        assert_string_equal(coce_trade_reader_symbol(r), want[i]);
        coce_trade t[4];
        size_t n = 0;
        assert_int_equal(coce_trade_reader_next(r, t, 4, &n, &err), COCE_OK);
        assert_int_equal(n, 2);
        assert_int_equal(t[0].time_ms, 1000);
        assert_true(t[0].price == 2.5);
        assert_true(t[0].qty == 3.0);
        assert_int_equal(t[1].side, COCE_SIDE_SELL);
        coce_asset_id id = 99;
        assert_int_equal(coce_symbols_find(sy, want[i], &id), COCE_OK);
        assert_int_equal(t[0].asset, id);
        assert_int_equal(t[0].asset, i);
        coce_trade_reader_free(r);
    }
    coce_symbols_free(sy);
}

static void assert_same_trades(const coce_trade *a, const coce_trade *b,
                               size_t n);

static void test_crlf_blank_lines_no_final_newline(void **state)
{
    (void)state;
    char path[600];
    tmp_path(path, sizeof path, "ADA.csv");
    assert_int_equal(coce_test_write_file(path,
                                          "\xEF\xBB\xBF"
                                          "Timestamp, Price ,Qty,Side\r\n"
                                          "1,1.5,2,buy\r\n"
                                          "\r\n"
                                          "2, 1.75 ,3,sell\r\n"
                                          "\n"
                                          "3,2,4,buy"),
                     0);
    coce_symbols *sy = NULL;
    assert_int_equal(coce_symbols_new(&sy), COCE_OK);
    coce_trade *t = NULL;
    size_t n = 0;
    coce_err err;
    assert_int_equal(read_all(path, sy, NULL, 16, &t, &n, &err), COCE_EEOF);
    assert_int_equal(n, 3);
    assert_int_equal(t[1].time_ms, 2);
    assert_true(t[1].price == 1.75);
    assert_int_equal(t[2].time_ms, 3);
    assert_true(t[2].qty == 4.0);
    /* the same bytes gzip'd read the same through the one code path */
    char gz[600];
    tmp_path(gz, sizeof gz, "ADA.csv.gz");
    char *text = coce_test_read_file(path, NULL);
    assert_non_null(text);
    write_gz(gz, text);
    free(text);
    coce_trade *t2 = NULL;
    size_t n2 = 0;
    assert_int_equal(read_all(gz, sy, NULL, 2, &t2, &n2, &err), COCE_EEOF);
    assert_int_equal(n2, 3);
    assert_same_trades(t2, t, 3);
    free(t2);
    free(t);
    coce_symbols_free(sy);
}

/* Deterministic synthetic tape with repeated milliseconds (rush orders). */
static void make_tape(coce_trade *t, size_t n)
{
    int64_t ms = 1561309495124LL;
    for (size_t i = 0; i < n; ++i) {
        ms += (int64_t)((i * 7919) % 5); /* 0..4 ms steps: many ties */
        t[i].time_ms = ms;
        t[i].price = 1e-5 * (1.0 + 0.001 * (double)(i % 97)) / 3.0;
        t[i].qty = 0.1 + (double)(i % 13) * 1.7;
        t[i].side = (i % 3 == 0) ? COCE_SIDE_SELL : COCE_SIDE_BUY;
        t[i].asset = 0;
    }
}

static void write_tape(const char *path, const coce_trade *t, size_t n)
{
    coce_trade_writer *w = NULL;
    coce_err err;
    assert_int_equal(coce_trade_writer_open(&w, path, "ADX/BTC", &err),
                     COCE_OK);
    for (size_t i = 0; i < n; ++i)
        assert_int_equal(coce_trade_writer_write(w, &t[i], &err), COCE_OK);
    assert_int_equal(coce_trade_writer_close(w, &err), COCE_OK);
}

static void assert_same_trades(const coce_trade *a, const coce_trade *b,
                               size_t n)
{
    for (size_t i = 0; i < n; ++i) {
        assert_int_equal(a[i].time_ms, b[i].time_ms);
        assert_true(a[i].price == b[i].price); /* exact, not close */
        assert_true(a[i].qty == b[i].qty);
        assert_int_equal(a[i].side, b[i].side);
        assert_int_equal(a[i].asset, b[i].asset);
    }
}

/* Writer -> reader is exact, plain and gzip give the same trades, and every
 * chunk size gives the same sequence. */
static void test_roundtrip_and_chunking(void **state)
{
    (void)state;
    enum { N = 2500 };
    coce_trade *tape = malloc(N * sizeof *tape);
    assert_non_null(tape);
    make_tape(tape, N);
    /* awkward doubles: not representable in 15 digits */
    tape[5].price = 0.1 + 0.2;
    tape[6].price = nextafter(1.348e-05, 1.0);
    tape[7].qty = 1.0 / 3.0;
    tape[8].price = 1e-300;
    char plain[600], gz[600];
    tmp_path(plain, sizeof plain, "tape.csv");
    tmp_path(gz, sizeof gz, "tape.csv.gz");
    write_tape(plain, tape, N);
    write_tape(gz, tape, N);
    /* the .gz really is gzip, the .csv really is text */
    FILE *f = fopen(gz, "rb");
    assert_non_null(f);
    assert_int_equal(fgetc(f), 0x1f);
    assert_int_equal(fgetc(f), 0x8b);
    fclose(f);
    char *text = coce_test_read_file(plain, NULL);
    assert_non_null(text);
    assert_memory_equal(text, HDR_A, strlen(HDR_A));
    /* first row: datetime column, btc_volume = price * amount */
    const char *row = text + strlen(HDR_A);
    const char *lead = "ADX/BTC,1561309495124,2019-06-23T17:04:55.124Z,sell,";
    assert_memory_equal(row, lead, strlen(lead));
    char first[256];
    size_t rl = (size_t)(strchr(row, '\n') - row);
    assert_true(rl < sizeof first);
    memcpy(first, row, rl);
    first[rl] = '\0';
    double vol = strtod(strrchr(first, ',') + 1, NULL);
    assert_true(vol == tape[0].price * tape[0].qty);
    free(text);

    const size_t caps[] = {1, 7, 1000};
    const char *paths[] = {plain, gz};
    for (size_t k = 0; k < 2; ++k) {
        for (size_t c = 0; c < 3; ++c) {
            coce_symbols *sy = NULL;
            assert_int_equal(coce_symbols_new(&sy), COCE_OK);
            coce_trade *got = NULL;
            size_t n = 0;
            coce_err err;
            assert_int_equal(
                read_all(paths[k], sy, NULL, caps[c], &got, &n, &err),
                COCE_EEOF);
            assert_int_equal(n, N);
            assert_same_trades(got, tape, N);
            free(got);
            coce_symbols_free(sy);
        }
    }
    free(tape);
}

typedef struct bad_case {
    const char *body; /* after HDR_A */
    const char *msg;  /* expected after "FILE:" */
    size_t good;      /* good trades before the bad row */
} bad_case;

#define ROW_OK1 "ADX/BTC,1000,x,buy,1.5,2,3\n"
#define ROW_OK2 "ADX/BTC,2000,x,sell,1.5,2,3\n"

static const bad_case BAD[] = {
    {ROW_OK1 "ADX/BTC,2000,x,buy,abc,2,3\n",
     "3: column 'price': not a number 'abc'", 1},
    {ROW_OK1 "ADX/BTC,2000,x,buy,,2,3\n", "3: column 'price': not a number",
     1},
    {ROW_OK1 ROW_OK2 "ADX/BTC,3000,x,buy,-1.5,2,3\n",
     "4: column 'price': negative price", 2},
    {"ADX/BTC,3000,x,buy,0,2,3\n", "2: column 'price': zero price", 0},
    {ROW_OK1 "ADX/BTC,3000,x,buy,1,0,3\n", "3: column 'amount': zero quantity",
     1},
    {ROW_OK1 "ADX/BTC,3000,x,buy,1,-2,3\n",
     "3: column 'amount': negative quantity", 1},
    {ROW_OK1 "ADX/BTC,3000,x,buy,1,inf,3\n",
     "3: column 'amount': not a number", 1},
    {ROW_OK1 "ADX/BTC,3000,x,buy,1,1e999,3\n",
     "3: column 'amount': not a number", 1},
    {ROW_OK2 ROW_OK1, "3: column 'timestamp': timestamp goes backwards from "
                      "2000 to 1000",
     1},
    {ROW_OK1 "ADX/BTC,3000,x,buy,1,2\n",
     "3: wrong number of columns (expected 7, got 6)", 1},
    {ROW_OK1 "ADX/BTC,3000,x,buy,1,2,3,4\n",
     "3: wrong number of columns (expected 7, got 8)", 1},
    {ROW_OK1 "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z,a,b,c,d,e,"
             "f,g,h,i,j\n",
     "3: wrong number of columns (expected 7, got 36)", 1},
    {ROW_OK1 "ADX/BTC,3000,x,hold,1,2,3\n", "3: column 'side': unknown side",
     1},
    {ROW_OK1 "ADX/BTC,12:00,x,buy,1,2,3\n", "3: column 'timestamp': not a time",
     1},
    {ROW_OK1 "A B/BTC,3000,x,buy,1,2,3\n", "3: column 'symbol': not a symbol",
     1},
};

static void test_bad_rows_strict(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; ++i) {
        char path[600], body[1024], want[700];
        tmp_path(path, sizeof path, "bad.csv");
        (void)snprintf(body, sizeof body, "%s%s", HDR_A, BAD[i].body);
        assert_int_equal(coce_test_write_file(path, body), 0);
        coce_symbols *sy = NULL;
        assert_int_equal(coce_symbols_new(&sy), COCE_OK);
        coce_trade_reader *r = NULL;
        coce_err err;
        assert_int_equal(coce_trade_reader_open(&r, path, sy, NULL, &err),
                         COCE_OK);
        coce_trade t[16];
        size_t n = 99;
        int rc = coce_trade_reader_next(r, t, 16, &n, &err);
        (void)snprintf(want, sizeof want, "%s:%s", path, BAD[i].msg);
        if (rc != COCE_EPARSE || strstr(err.msg, want) != err.msg)
            fail_msg("case %zu: rc %d msg '%s', want '%s'", i, rc, err.msg,
                     want);
        assert_int_equal(n, BAD[i].good);
        /* the error is sticky */
        assert_int_equal(coce_trade_reader_next(r, t, 16, &n, &err),
                         COCE_EPARSE);
        assert_int_equal(n, 0);
        assert_non_null(strstr(err.msg, BAD[i].msg));
        coce_trade_reader_free(r);
        coce_symbols_free(sy);
    }
}

static void test_bad_rows_skipped(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; ++i) {
        char path[600], body[1024];
        tmp_path(path, sizeof path, "bad.csv");
        (void)snprintf(body, sizeof body, "%s%s%s", HDR_A, BAD[i].body,
                       "ADX/BTC,9000,x,buy,7,8,56\n");
        assert_int_equal(coce_test_write_file(path, body), 0);
        coce_symbols *sy = NULL;
        assert_int_equal(coce_symbols_new(&sy), COCE_OK);
        coce_trade_reader_opts opts = {1, 0};
        coce_trade_reader *r = NULL;
        coce_err err;
        assert_int_equal(coce_trade_reader_open(&r, path, sy, &opts, &err),
                         COCE_OK);
        coce_trade t[16];
        size_t n = 0, total = 0;
        int rc;
        while ((rc = coce_trade_reader_next(r, t, 1, &n, &err)) == COCE_OK)
            total += n;
        assert_int_equal(rc, COCE_EEOF);
        /* every good row arrives; the last one is after the bad row */
        size_t lines = 0;
        for (const char *p = BAD[i].body; *p != '\0'; ++p)
            lines += *p == '\n';
        assert_int_equal(coce_trade_reader_skipped(r), 1);
        assert_int_equal(total, lines - 1 + 1);
        assert_int_equal(coce_trade_reader_rows(r), total);
        assert_int_equal(t[0].time_ms, 9000);
        coce_trade_reader_free(r);
        coce_symbols_free(sy);
    }
}

static void test_allow_unsorted(void **state)
{
    (void)state;
    char path[600];
    tmp_path(path, sizeof path, "BTC.csv");
    assert_int_equal(coce_test_write_file(path, HDR_B "5,1,1,buy\n"
                                                      "3,1,1,buy\n"
                                                      "4,1,1,buy\n"),
                     0);
    coce_symbols *sy = NULL;
    assert_int_equal(coce_symbols_new(&sy), COCE_OK);
    coce_trade_reader_opts opts = {0, 1};
    coce_trade *t = NULL;
    size_t n = 0;
    coce_err err;
    assert_int_equal(read_all(path, sy, &opts, 2, &t, &n, &err), COCE_EEOF);
    assert_int_equal(n, 3);
    assert_int_equal(t[1].time_ms, 3);
    free(t);
    /* skipping a backward row keeps the last good time as the reference */
    opts.allow_unsorted = 0;
    opts.skip_bad_rows = 1;
    assert_int_equal(read_all(path, sy, &opts, 2, &t, &n, &err), COCE_EEOF);
    assert_int_equal(n, 1);
    free(t);
    coce_symbols_free(sy);
}

static void test_gzip_truncated_and_corrupt(void **state)
{
    (void)state;
    /* long enough that the cut falls well inside the deflate data */
    char *text = malloc(200000);
    assert_non_null(text);
    size_t len = (size_t)snprintf(text, 200000, "%s", HDR_A);
    for (int i = 0; i < 2000; ++i)
        len += (size_t)snprintf(text + len, 200000 - len,
                                "ADX/BTC,%d,x,buy,%d.5,%d,3\n", 1000 + i,
                                i % 50 + 1, i % 7 + 1);
    unsigned char *z = malloc(200000);
    assert_non_null(z);
    size_t zn = gzip_bytes(text, z, 200000);
    char path[600];
    tmp_path(path, sizeof path, "cut.csv.gz");
    coce_symbols *sy = NULL;
    assert_int_equal(coce_symbols_new(&sy), COCE_OK);
    coce_trade_reader_opts skip = {1, 0};
    for (int opt = 0; opt < 2; ++opt) {
        write_bytes(path, z, zn / 2);
        coce_trade *t = NULL;
        size_t n = 0;
        coce_err err;
        int rc = read_all(path, sy, opt ? &skip : NULL, 100, &t, &n, &err);
        assert_int_equal(rc, COCE_EPARSE);
        assert_non_null(strstr(err.msg, "truncated gzip"));
        assert_ptr_equal(strstr(err.msg, path), err.msg);
        assert_true(n > 0 && n < 2000);
        free(t);
    }
    /* the whole stream reads fine */
    write_bytes(path, z, zn);
    coce_trade *t = NULL;
    size_t n = 0;
    coce_err err;
    assert_int_equal(read_all(path, sy, NULL, 100, &t, &n, &err), COCE_EEOF);
    assert_int_equal(n, 2000);
    free(t);
    /* cut just after the gzip header: truncated before any line */
    write_bytes(path, z, 12);
    coce_trade_reader *r = NULL;
    assert_int_equal(coce_trade_reader_open(&r, path, sy, NULL, &err),
                     COCE_EPARSE);
    assert_non_null(strstr(err.msg, ":1: truncated gzip"));
    /* corrupt deflate data after a valid header */
    memset(z + 10, 0xff, 64);
    write_bytes(path, z, zn);
    assert_int_equal(read_all(path, sy, NULL, 100, &t, &n, &err),
                     COCE_EPARSE);
    assert_non_null(strstr(err.msg, "corrupt gzip"));
    free(t);
    free(z);
    free(text);
    coce_symbols_free(sy);
}

static void test_open_errors(void **state)
{
    (void)state;
    coce_symbols *sy = NULL;
    assert_int_equal(coce_symbols_new(&sy), COCE_OK);
    coce_trade_reader *r = NULL;
    coce_err err;
    char path[600];
    tmp_path(path, sizeof path, "missing.csv");
    assert_int_equal(coce_trade_reader_open(&r, path, sy, NULL, &err),
                     COCE_EIO);
    assert_non_null(strstr(err.msg, "missing.csv: cannot open"));
    assert_null(r);

    tmp_path(path, sizeof path, "empty.csv");
    assert_int_equal(coce_test_write_file(path, ""), 0);
    assert_int_equal(coce_trade_reader_open(&r, path, sy, NULL, &err),
                     COCE_EPARSE);
    assert_non_null(strstr(err.msg, "empty file"));

    tmp_path(path, sizeof path, "hdr.csv");
    assert_int_equal(coce_test_write_file(path, "a,b,c\n1,2,3\n"), 0);
    assert_int_equal(coce_trade_reader_open(&r, path, sy, NULL, &err),
                     COCE_EPARSE);
    assert_non_null(strstr(err.msg, "hdr.csv:1: unknown header 'a,b,c'"));

    char many[200] = "timestamp,price,qty,side";
    for (int i = 0; i < 30; ++i)
        strcat(many, ",x");
    assert_int_equal(coce_test_write_file(path, many), 0);
    assert_int_equal(coce_trade_reader_open(&r, path, sy, NULL, &err),
                     COCE_EPARSE);
    assert_non_null(strstr(err.msg, "more than 32 columns"));

    /* no symbol column and nothing usable in the name */
    tmp_path(path, sizeof path, "_2019.csv");
    assert_int_equal(coce_test_write_file(path, HDR_B "1,1,1,buy\n"), 0);
    assert_int_equal(coce_trade_reader_open(&r, path, sy, NULL, &err),
                     COCE_EPARSE);
    assert_non_null(strstr(err.msg, "no symbol column"));

    /* header only: EEOF at once */
    tmp_path(path, sizeof path, "ONLY.csv");
    assert_int_equal(coce_test_write_file(path, HDR_B), 0);
    assert_int_equal(coce_trade_reader_open(&r, path, sy, NULL, &err),
                     COCE_OK);
    coce_trade t[2];
    size_t n = 5;
    assert_int_equal(coce_trade_reader_next(r, t, 2, &n, &err), COCE_EEOF);
    assert_int_equal(n, 0);
    assert_int_equal(coce_trade_reader_next(r, t, 0, &n, &err), COCE_EINVAL);
    assert_int_equal(coce_trade_reader_next(r, NULL, 2, &n, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_trade_reader_next(NULL, t, 2, &n, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_trade_reader_next(r, t, 2, NULL, &err),
                     COCE_EINVAL);
    coce_trade_reader_free(r);
    assert_int_equal(coce_trade_reader_open(NULL, path, sy, NULL, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_trade_reader_open(&r, path, NULL, NULL, &err),
                     COCE_EINVAL);
    assert_int_equal(coce_trade_reader_rows(NULL), 0);
    assert_int_equal(coce_trade_reader_skipped(NULL), 0);
    assert_null(coce_trade_reader_symbol(NULL));

    /* a line longer than the reader's buffer */
    tmp_path(path, sizeof path, "LONG.csv");
    size_t big = 300 * 1024;
    char *text = malloc(big + 64);
    assert_non_null(text);
    strcpy(text, HDR_B "1,");
    size_t k = strlen(text);
    memset(text + k, '1', big);
    strcpy(text + k + big, ",1,buy\n");
    assert_int_equal(coce_test_write_file(path, text), 0);
    free(text);
    coce_trade *all = NULL;
    assert_int_equal(read_all(path, sy, NULL, 4, &all, &n, &err), COCE_EPARSE);
    assert_non_null(strstr(err.msg, "LONG.csv:2: line longer than"));
    free(all);
    coce_symbols_free(sy);
}

static void test_filename_parse(void **state)
{
    (void)state;
    char sym[32];
    int64_t ms = 0;
    assert_int_equal(coce_trade_filename_parse(
                         "/x/y/ADX_2019-07-05_17.00.csv.gz", sym, sizeof sym,
                         &ms),
                     COCE_OK);
    assert_string_equal(sym, "ADX");
    assert_int_equal(ms, 1562346000000LL); /* python datetime(2019,7,5,17) */
    assert_int_equal(coce_trade_filename_parse("DOGE 2021-01-28_20.00 x.csv",
                                               sym, sizeof sym, &ms),
                     COCE_OK);
    assert_string_equal(sym, "DOGE");
    assert_int_equal(ms, 1611864000000LL);
    assert_int_equal(coce_trade_filename_parse("ADX_2019-07-05_17.00", sym,
                                               sizeof sym, &ms),
                     COCE_OK);
    /* not the pattern: stem before '_' or '.', INT64_MIN */
    assert_int_equal(
        coce_trade_filename_parse("SOL.csv", sym, sizeof sym, &ms),
        COCE_EPARSE);
    assert_string_equal(sym, "SOL");
    assert_true(ms == INT64_MIN);
    assert_int_equal(coce_trade_filename_parse("dir/nebl_trades.csv.gz", sym,
                                               sizeof sym, &ms),
                     COCE_EPARSE);
    assert_string_equal(sym, "NEBL");
    assert_int_equal(coce_trade_filename_parse("ADX_2019-13-05_17.00.csv", sym,
                                               sizeof sym, &ms),
                     COCE_EPARSE); /* month 13 */
    assert_string_equal(sym, "ADX");
    assert_int_equal(coce_trade_filename_parse("ADX_2019-02-29_17.00.csv", sym,
                                               sizeof sym, &ms),
                     COCE_EPARSE); /* not a leap year */
    assert_int_equal(coce_trade_filename_parse("ADX_2019-07-05_24.00.csv", sym,
                                               sizeof sym, &ms),
                     COCE_EPARSE);
    assert_int_equal(coce_trade_filename_parse("ADX_2019-07-05-17.00.csv", sym,
                                               sizeof sym, &ms),
                     COCE_EPARSE);
    assert_int_equal(
        coce_trade_filename_parse("_2019-07-05_17.00.csv", sym, sizeof sym,
                                  &ms),
        COCE_EPARSE);
    assert_string_equal(sym, "");
    /* a stem that is not a symbol is copied as is */
    assert_int_equal(coce_trade_filename_parse("a+b.csv", sym, sizeof sym,
                                               &ms),
                     COCE_EPARSE);
    assert_string_equal(sym, "a+b");
    char small[3];
    assert_int_equal(coce_trade_filename_parse("ADX_2019-07-05_17.00.csv",
                                               small, sizeof small, &ms),
                     COCE_ERANGE);
    assert_int_equal(
        coce_trade_filename_parse("a+bc.csv", small, sizeof small, &ms),
        COCE_ERANGE);
    assert_int_equal(coce_trade_filename_parse(
                         "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGH.csv", sym,
                         sizeof sym, &ms),
                     COCE_EPARSE);
    assert_int_equal(coce_trade_filename_parse(NULL, sym, sizeof sym, &ms),
                     COCE_EINVAL);
}

static void check_time(const char *text, int64_t want)
{
    int64_t ms = 0;
    int rc = coce_trade_parse_time(text, strlen(text), &ms);
    if (rc != COCE_OK || ms != want)
        fail_msg("parse_time(%s) = %d, %lld; want %lld", text, rc,
                 (long long)ms, (long long)want);
}

static void test_parse_format_time(void **state)
{
    (void)state;
    /* expected values: Python datetime(..., tzinfo=utc).timestamp() * 1000 */
    check_time("1561309495124", 1561309495124LL);
    check_time("-5", -5);
    check_time("2019-06-23T17:04:55.124Z", 1561309495124LL);
    check_time("2019-06-23 17:04:55.124", 1561309495124LL);
    check_time("2019-06-23T17:04:55.1249Z", 1561309495124LL);
    check_time("2019-06-23T17:04:55.1Z", 1561309495100LL);
    check_time("2019-07-05 17:00", 1562346000000LL);
    check_time("2019-07-05 17:00:00", 1562346000000LL);
    check_time(" 2019-07-05T17:00:00Z ", 1562346000000LL);
    check_time("2020-02-29 23:59:59", 1583020799000LL);
    check_time("1970-01-01", 0);
    check_time("1900-03-01", -2203891200000LL);
    const char *bad[] = {"",           "-",          "x",
                         "2019-7-5",   "2019-07-05X", "2019-02-29",
                         "2019-07-05 1", "2019-07-05 17:00:0",
                         "2019-07-05 17:00:00.", "2019-07-05 17:61",
                         "1234567890123456789", "2019/07/05"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        int64_t ms = 0;
        if (coce_trade_parse_time(bad[i], strlen(bad[i]), &ms) != COCE_EPARSE)
            fail_msg("parse_time(%s) accepted", bad[i]);
    }
    assert_int_equal(coce_trade_parse_time(NULL, 0, NULL), COCE_EINVAL);
    char buf[32];
    assert_int_equal(coce_trade_format_time(1561309495124LL, buf, sizeof buf),
                     COCE_OK);
    assert_string_equal(buf, "2019-06-23T17:04:55.124Z");
    assert_int_equal(coce_trade_format_time(-1, buf, sizeof buf), COCE_OK);
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
    assert_int_equal(coce_trade_format_time(0, buf, 10), COCE_EINVAL);
    assert_int_equal(coce_trade_format_time(INT64_MAX / 2, buf, sizeof buf),
                     COCE_ERANGE);
}

static void test_dir_list(void **state)
{
    (void)state;
    char path[600], sub[600];
    const char *files[] = {"b.csv.gz", "a.csv", "c.txt", ".hidden.csv",
                           "d.csv.bak", "B.csv"};
    for (size_t i = 0; i < 6; ++i) {
        tmp_path(path, sizeof path, files[i]);
        assert_int_equal(coce_test_write_file(path, "x"), 0);
    }
    tmp_path(sub, sizeof sub, "sub");
    assert_int_equal(mkdir(sub, 0700), 0);
    char **paths = NULL;
    size_t n = 0;
    coce_err err;
    assert_int_equal(coce_trade_dir_list(g_dir, &paths, &n, &err), COCE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(paths[0], tmp_path(path, sizeof path, "B.csv"));
    assert_string_equal(paths[1], tmp_path(path, sizeof path, "a.csv"));
    assert_string_equal(paths[2], tmp_path(path, sizeof path, "b.csv.gz"));
    coce_trade_dir_list_free(paths, n);
    /* a trailing slash does not double */
    char slashed[600];
    (void)snprintf(slashed, sizeof slashed, "%s/", g_dir);
    assert_int_equal(coce_trade_dir_list(slashed, &paths, &n, &err), COCE_OK);
    assert_string_equal(paths[0], tmp_path(path, sizeof path, "B.csv"));
    coce_trade_dir_list_free(paths, n);
    assert_int_equal(coce_trade_dir_list(sub, &paths, &n, &err), COCE_OK);
    assert_int_equal(n, 0);
    coce_trade_dir_list_free(paths, n);
    tmp_path(path, sizeof path, "nope");
    assert_int_equal(coce_trade_dir_list(path, &paths, &n, &err), COCE_EIO);
    assert_non_null(strstr(err.msg, "nope: cannot open directory"));
    assert_int_equal(coce_trade_dir_list(NULL, &paths, &n, &err), COCE_EINVAL);
    coce_trade_dir_list_free(NULL, 0);
}

static void test_writer_errors(void **state)
{
    (void)state;
    coce_trade_writer *w = NULL;
    coce_err err;
    char path[600];
    tmp_path(path, sizeof path, "w.csv");
    assert_int_equal(coce_trade_writer_open(&w, path, "A,B", &err),
                     COCE_EINVAL);
    assert_int_equal(coce_trade_writer_open(&w, path, "", &err), COCE_EINVAL);
    assert_int_equal(coce_trade_writer_open(NULL, path, "A", &err),
                     COCE_EINVAL);
    assert_int_equal(
        coce_trade_writer_open(&w, "/nonexistent-dir/x.csv", "ADX/BTC", &err),
        COCE_EIO);
    assert_non_null(strstr(err.msg, "cannot create"));
    assert_int_equal(coce_trade_writer_open(&w, path, "ADX/BTC", &err),
                     COCE_OK);
    coce_trade t = {1000, 1.0, 2.0, 0, COCE_SIDE_BUY};
    coce_trade bad = t;
    bad.price = -1.0;
    assert_int_equal(coce_trade_writer_write(w, &bad, &err), COCE_EINVAL);
    bad = t;
    bad.qty = NAN;
    assert_int_equal(coce_trade_writer_write(w, &bad, &err), COCE_EINVAL);
    bad = t;
    bad.side = 0;
    assert_int_equal(coce_trade_writer_write(w, &bad, &err), COCE_EINVAL);
    bad = t;
    bad.time_ms = INT64_MAX / 2;
    assert_int_equal(coce_trade_writer_write(w, &bad, &err), COCE_ERANGE);
    assert_int_equal(coce_trade_writer_write(w, NULL, &err), COCE_EINVAL);
    assert_int_equal(coce_trade_writer_write(w, &t, &err), COCE_OK);
    /* nothing visible until close */
    assert_false(coce_test_read_file(path, NULL) != NULL);
    assert_int_equal(coce_trade_writer_close(w, &err), COCE_OK);
    char *text = coce_test_read_file(path, NULL);
    assert_non_null(text);
    assert_string_equal(text, HDR_A "ADX/BTC,1000,1970-01-01T00:00:01.000Z,"
                                    "buy,1,2,2\n");
    free(text);
    assert_int_equal(coce_trade_writer_close(NULL, &err), COCE_OK);
}

/* One real file of ../shared/data/pump_trades. Expected values were taken
 * independently with the shell:
 *   zcat ADX_2019-07-05_17.00.csv.gz | wc -l          -> 48870 (48869 rows)
 *   zcat ... | sed -n 2p   -> ADX/BTC,1561309495124,...,buy,1.348e-05,81.0,..
 *   zcat ... | tail -1     -> ADX/BTC,1562953898148,...,sell,1.008e-05,166.0,..
 *   zcat ... | awk -F, 'NR>1 && $4=="buy"' | wc -l    -> 23701 buys */
static void test_real_pump_file(void **state)
{
    (void)state;
    char path[1024];
    if (coce_test_shared_path(path, sizeof path,
                              "data/pump_trades/ADX_2019-07-05_17.00.csv.gz") ==
        NULL)
        skip();
    coce_symbols *sy = NULL;
    assert_int_equal(coce_symbols_new(&sy), COCE_OK);
    coce_trade *t = NULL;
    size_t n = 0;
    coce_err err;
    assert_int_equal(read_all(path, sy, NULL, 4096, &t, &n, &err), COCE_EEOF);
    assert_int_equal(n, 48869);
    assert_int_equal(t[0].time_ms, 1561309495124LL);
    assert_true(t[0].price == 1.348e-05);
    assert_true(t[0].qty == 81.0);
    assert_int_equal(t[0].side, COCE_SIDE_BUY);
    assert_int_equal(t[n - 1].time_ms, 1562953898148LL);
    assert_true(t[n - 1].price == 1.008e-05);
    assert_true(t[n - 1].qty == 166.0);
    assert_int_equal(t[n - 1].side, COCE_SIDE_SELL);
    size_t buys = 0;
    for (size_t i = 0; i < n; ++i)
        buys += t[i].side == COCE_SIDE_BUY;
    assert_int_equal(buys, 23701);
    assert_string_equal(coce_symbols_name(sy, t[0].asset), "ADX");
    free(t);

    /* the smallest file: BNT_2019-09-09_20.00 (10471 lines with header) */
    assert_non_null(coce_test_shared_path(
        path, sizeof path, "data/pump_trades/BNT_2019-09-09_20.00.csv.gz"));
    assert_int_equal(read_all(path, sy, NULL, 7, &t, &n, &err), COCE_EEOF);
    assert_int_equal(n, 10470);
    assert_int_equal(t[0].time_ms, 1567022467788LL);
    assert_true(t[0].price == 3.645e-05);
    assert_int_equal(t[n - 1].time_ms, 1568665460979LL);
    assert_true(t[n - 1].qty == 159.0);
    assert_string_equal(coce_symbols_name(sy, t[0].asset), "BNT");
    free(t);

    char dir[1024];
    assert_non_null(coce_test_shared_path(dir, sizeof dir, "data/pump_trades"));
    char **paths = NULL;
    assert_int_equal(coce_trade_dir_list(dir, &paths, &n, &err), COCE_OK);
    assert_int_equal(n, 81); /* README: 81 pumps; LICENSE is not listed */
    assert_non_null(strstr(paths[0], "/ADX_2019-07-05_17.00.csv.gz"));
    coce_trade_dir_list_free(paths, n);
    coce_symbols_free(sy);
}

/* ---- fast number parsing: must equal strtod bit for bit ---------------- */

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    /* splitmix64 (Steele, Lea, Flood 2014): deterministic test strings. */
    uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* What the old strtod-only reader accepted and produced. */
static int ref_double(const char *s, size_t len, double *out)
{
    char tmp[512];
    assert_true(len < sizeof tmp);
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    if (len == 0)
        return 0;
    char *end = NULL;
    errno = 0;
    double v = strtod(tmp, &end);
    if (end != tmp + len || errno == ERANGE || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

static void check_same(const char *s, size_t len)
{
    double a = 12345.0, b = 12345.0;
    int ra = coce__parse_double(s, len, &a);
    int rb = ref_double(s, len, &b);
    if (ra != rb || (ra && memcmp(&a, &b, sizeof a) != 0))
        fail_msg("'%.*s': fast %d %.17g, strtod %d %.17g", (int)len, s, ra, a,
                 rb, b);
}

static size_t rand_number(char *out)
{
    size_t k = 0;
    if (rnd() % 4 == 0)
        out[k++] = rnd() % 2 ? '-' : '+';
    size_t ni = rnd() % 12, nf = rnd() % 4 == 0 ? 0 : rnd() % 22;
    if (rnd() % 8 == 0)
        ni = 16 + rnd() % 10; /* past 19 significant digits */
    for (size_t i = 0; i < ni; ++i)
        out[k++] = (char)('0' + rnd() % 10);
    if (nf > 0 || rnd() % 3 == 0) {
        out[k++] = '.';
        for (size_t i = 0; i < nf; ++i)
            out[k++] = (char)('0' + (rnd() % 3 == 0 ? 0 : rnd() % 10));
    }
    if (rnd() % 3 == 0) {
        out[k++] = rnd() % 2 ? 'e' : 'E';
        if (rnd() % 2)
            out[k++] = rnd() % 2 ? '-' : '+';
        int e = (int)(rnd() % (rnd() % 4 == 0 ? 400 : 40));
        k += (size_t)sprintf(out + k, "%d", e);
    }
    return k;
}

static void test_parse_double_matches_strtod(void **state)
{
    (void)state;
    static const char *const FIXED[] = {
        "0", "-0", "+0", "0.0", "-0.0", ".5", "5.", ".", "-", "+", "e5",
        "1e", "1e+", "1e-5", "1E22", "1e23", "9007199254740993",
        "9007199254740992", "123456789012345678901234", "1.348e-05", "81.0",
        "0.00109188", "1e308", "1e309", "1e-400", "2.2250738585072011e-308",
        "4.9e-324", "inf", "nan", "0x1p3", "1.5x", "1..5", "1e5.5", "--1",
        " 1", "1 ", "00000000000000000000000001.5", "1e-22", "1e-23",
        "123456789e22", "9007199254740991e15", "1e37", "1e38",
        "0.000000000000000000000000000000000000000001",
        "179769313486231570000000000000000000000000000000000000000000000000"
        "00000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000"
        "0000000000000000000000000000000000000000000000000.5",
        NULL};
    for (const char *const *s = FIXED; *s != NULL; ++s)
        check_same(*s, strlen(*s));
    double v = 0.0;
    assert_int_equal(coce__parse_double("", 0, &v), 0);
    assert_int_equal(coce__parse_double(NULL, 1, &v), 0);
    assert_int_equal(coce__parse_double("1.5junk", 3, &v), 1);
    assert_true(v == 1.5);
    char buf[128];
    for (int i = 0; i < 200000; ++i) {
        size_t k = rand_number(buf);
        check_same(buf, k);
    }
    /* random bytes from a small alphabet: garbage must be refused alike */
    static const char ALPHA[] = "0123456789.eE+-x ";
    for (int i = 0; i < 100000; ++i) {
        size_t k = 1 + rnd() % 12;
        for (size_t j = 0; j < k; ++j)
            buf[j] = ALPHA[rnd() % (sizeof ALPHA - 1)];
        check_same(buf, k);
    }
    /* exact doubles printed at 17 digits come back identical */
    for (int i = 0; i < 50000; ++i) {
        uint64_t bits = rnd() & 0x7FEFFFFFFFFFFFFFull;
        double d = 0.0;
        memcpy(&d, &bits, sizeof d);
        int k = snprintf(buf, sizeof buf, "%.*g", (int)(1 + rnd() % 17), d);
        check_same(buf, (size_t)k);
    }
}

/* A text near the reader's fast number form (digits[.digits][(e|E)[+-]d[d]],
 * at most 16 bytes) or just outside it: extra points, signs, letters,
 * three exponent digits, empty parts. */
static size_t rand_near_fast(char *out)
{
    static const char ODD[] = ".eE+-x 0";
    size_t k = 0;
    size_t ni = rnd() % 9, nf = rnd() % 3 == 0 ? 0 : rnd() % 10;
    for (size_t i = 0; i < ni; ++i)
        out[k++] = (char)('0' + rnd() % 10);
    if (nf > 0 || rnd() % 4 == 0) {
        out[k++] = '.';
        for (size_t i = 0; i < nf; ++i)
            out[k++] = (char)('0' + (rnd() % 3 == 0 ? 0 : rnd() % 10));
    }
    if (rnd() % 2 == 0) {
        out[k++] = rnd() % 2 ? 'e' : 'E';
        unsigned r = (unsigned)(rnd() % 4);
        if (r < 3)
            out[k++] = r == 0 ? '-' : r == 1 ? '+' : '-';
        size_t ed = rnd() % 8 == 0 ? 3 : 1 + rnd() % 2;
        if (rnd() % 16 == 0)
            ed = 0;
        for (size_t i = 0; i < ed; ++i)
            out[k++] = (char)('0' + rnd() % 10);
    }
    if (rnd() % 6 == 0 && k > 0) /* one byte replaced by an odd one */
        out[rnd() % k] = ODD[rnd() % (sizeof ODD - 1)];
    if (k > 18)
        k = 18;
    return k;
}

int coce__trade_force_kernel(int k);

/* Every kernel's number path (through coce__parse_double, which takes the
 * fast path of the forced kernel first) returns bit for bit what strtod
 * returns, or refuses what strtod refuses, on 60 000 texts each near the
 * fast form, and on every exponent and length edge listed. */
static void test_number_kernels_match_strtod(void **state)
{
    (void)state;
    static const char *const EDGE[] = {
        "1e-22", "1e22", "1e-23", "1e23", "9007199254740992",
        "9007199254740993", "9999999999999999", "0.000000000000001",
        "1234567890123456", "123456789012345.", ".123456789012345",
        "1.2e-9", "1.2e+9", "1.2e9", "1.2e-99", "1.2e999", "1e", "1e-",
        "1e+", "e1", ".e1", "1.e1", "1.5e-05", "3.5E+01", "0e-5", "0.0",
        "00", "1.", ".1", "1-", "1+5", "1e--5", "1e5e5", "1.2.3", "12345678.123456e", 
        "1234567812345678", "0.00109188", "81.0", "1.348e-05", "5.e-05",
        ".5e-05", "1e-05", "e-05", ".e-05", "1.5e-0x", "1.5x-05", "1.5e*05",
        "1.5e-5", "1.5e+22", "1.5e-22", "9.9e-99", "12345678901.e-05",
        "1234567890123.5e-05", NULL};
    char buf[64];
    for (int kern = 1; kern <= 3; ++kern) {
        if (!coce__trade_force_kernel(kern))
            continue;
        for (const char *const *s = EDGE; *s != NULL; ++s)
            check_same(*s, strlen(*s));
        g_rng = 0x1234567ull + (uint64_t)kern;
        for (int i = 0; i < 60000; ++i) {
            size_t k = rand_near_fast(buf);
            check_same(buf, k);
        }
    }
    coce__trade_force_kernel(0);
}

/* The mapped (plain) and streamed (gzip) paths give the same trades and the
 * same error, whatever the file is called. */
static void test_mmap_and_gzip_agree(void **state)
{
    (void)state;
    size_t rows = 5000;
    size_t cap = 200 + rows * 80;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t k = (size_t)snprintf(text, cap, "%s", HDR_A);
    for (size_t i = 0; i < rows; ++i)
        k += (size_t)snprintf(text + k, cap - k,
                              "%s,%lld,x, %s ,%.*g,%.*g,1\r\n",
                              i % 100 < 50 ? "ADX/BTC" : "ADX-BTC",
                              1561309495124LL + (long long)(i * 37),
                              i % 3 ? "buy" : "SELL", (int)(1 + i % 17),
                              1e-5 * (1.0 + (double)i / 7.0),
                              (int)(1 + i % 9), 3.0 + (double)i * 0.1);
    char plain[600], gz[600], plain_named_gz[600], gz_named_plain[600];
    tmp_path(plain, sizeof plain, "P.csv");
    tmp_path(gz, sizeof gz, "G.csv.gz");
    tmp_path(plain_named_gz, sizeof plain_named_gz, "Q.csv.gz");
    tmp_path(gz_named_plain, sizeof gz_named_plain, "H.csv");
    assert_int_equal(coce_test_write_file(plain, text), 0);
    assert_int_equal(coce_test_write_file(plain_named_gz, text), 0);
    write_gz(gz, text);
    write_gz(gz_named_plain, text);
    coce_symbols *sy = NULL;
    assert_int_equal(coce_symbols_new(&sy), COCE_OK);
    coce_trade *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    coce_err err;
    assert_int_equal(read_all(plain, sy, NULL, 333, &a, &na, &err), COCE_EEOF);
    assert_int_equal(na, rows);
    const char *files[3] = {gz, plain_named_gz, gz_named_plain};
    for (int f = 0; f < 3; ++f) {
        assert_int_equal(read_all(files[f], sy, NULL, 1000, &b, &nb, &err),
                         COCE_EEOF);
        assert_int_equal(nb, rows);
        for (size_t i = 0; i < rows; ++i) {
            assert_int_equal(a[i].time_ms, b[i].time_ms);
            assert_memory_equal(&a[i].price, &b[i].price, sizeof(double));
            assert_memory_equal(&a[i].qty, &b[i].qty, sizeof(double));
            assert_int_equal(a[i].asset, b[i].asset);
            assert_int_equal(a[i].side, b[i].side);
        }
        free(b);
    }
    for (size_t i = 0; i < rows; ++i) {
        char num[40];
        (void)snprintf(num, sizeof num, "%.*g", (int)(1 + i % 17),
                       1e-5 * (1.0 + (double)i / 7.0));
        assert_true(a[i].price == strtod(num, NULL));
        assert_int_equal(a[i].side, i % 3 ? COCE_SIDE_BUY : COCE_SIDE_SELL);
    }
    free(a);

    /* one bad row in the middle: identical message from both paths */
    char *bad = strstr(text, "1561309495124,");
    assert_non_null(bad);
    bad = strstr(text + k / 2, ",x, ");
    assert_non_null(bad);
    bad = strchr(bad + 4, ',');
    bad[1] = 'Z';
    assert_int_equal(coce_test_write_file(plain, text), 0);
    write_gz(gz, text);
    coce_err e1, e2;
    assert_int_equal(read_all(plain, sy, NULL, 64, &a, &na, &e1), COCE_EPARSE);
    assert_int_equal(read_all(gz, sy, NULL, 64, &b, &nb, &e2), COCE_EPARSE);
    assert_int_equal(na, nb);
    assert_true(na > 0 && na < rows);
    const char *m1 = strstr(e1.msg, ".csv:"), *m2 = strstr(e2.msg, ".csv.gz:");
    assert_non_null(m1);
    assert_non_null(m2);
    assert_string_equal(m1 + 5, m2 + 8);
    assert_non_null(strstr(e1.msg, "column 'price': not a number 'Z"));
    free(a);
    free(b);
    free(text);

    /* a field longer than the fast parser's stack copy */
    char longnum[600];
    char line[900];
    memset(longnum, '0', 300);
    strcpy(longnum + 300, "1.25");
    (void)snprintf(line, sizeof line, HDR_B "5,%s,1,buy\n6,1,%s9,sell\n",
                   longnum, longnum);
    tmp_path(plain, sizeof plain, "LONGNUM.csv");
    assert_int_equal(coce_test_write_file(plain, line), 0);
    assert_int_equal(read_all(plain, sy, NULL, 4, &a, &na, &err), COCE_EEOF);
    assert_int_equal(na, 2);
    assert_true(a[0].price == 1.25);
    assert_true(a[1].qty == 1.259);
    free(a);
    coce_symbols_free(sy);
}


/* Internal switches of trades.c: scan lines with the portable (SWAR/byte)
 * code even where SSE2 is compiled in; force one kernel of the block
 * indexer and number parser (0 auto, 1 portable, 2 SSE2, 3 AVX2; returns 0
 * when this build or CPU lacks it). */
void coce__trade_force_portable(int on);
int coce__trade_force_kernel(int k);

/* A file whose size is an exact multiple of the page size and whose last
 * row has no final newline: the mapping ends where the last number ends, so
 * any read past it faults (and ASan reports it). Both scanners. */
static void test_page_multiple_no_final_newline(void **state)
{
    (void)state;
    long page = sysconf(_SC_PAGESIZE);
    assert_true(page >= 4096);
    coce_symbols *sy = NULL;
    assert_int_equal(coce_symbols_new(&sy), COCE_OK);
    for (int pages = 1; pages <= 3; ++pages) {
        size_t size = (size_t)page * (size_t)pages;
        char *text = malloc(size + 1);
        assert_non_null(text);
        /* the price last, so the file ends on the digits of a number */
        size_t k = (size_t)snprintf(text, size + 1, "%s",
                                    "timestamp,side,qty,price\n");
        size_t rows = 0;
        while (size - k > 60) {
            k += (size_t)snprintf(text + k, size + 1 - k, "%zu,buy,2,1.5\n",
                                  1000 + rows);
            ++rows;
        }
        /* last row: "5000,sell,3,000...02.25" up to the page end */
        k += (size_t)snprintf(text + k, size + 1 - k, "%s", "5000,sell,3,");
        size_t pad = size - k - strlen("2.25");
        memset(text + k, '0', pad);
        k += pad;
        memcpy(text + k, "2.25", 4);
        k += 4;
        assert_int_equal(k, size);
        text[k] = '\0';
        char path[600];
        tmp_path(path, sizeof path, "PAGE.csv");
        write_bytes(path, text, size);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal((size_t)st.st_size, size);
        for (int kernel = 0; kernel <= 3; ++kernel) {
            if (!coce__trade_force_kernel(kernel))
                continue;
            coce_trade *t = NULL;
            size_t n = 0;
            coce_err err;
            coce_trade_reader_opts opts = {0, 1};
            assert_int_equal(read_all(path, sy, &opts, 7, &t, &n, &err),
                             COCE_EEOF);
            assert_int_equal(n, rows + 1);
            assert_int_equal(t[n - 1].time_ms, 5000);
            assert_true(t[n - 1].price == 2.25);
            assert_true(t[n - 1].qty == 3.0);
            assert_int_equal(t[n - 1].side, COCE_SIDE_SELL);
            assert_int_equal(t[0].time_ms, 1000);
            free(t);
        }
        coce__trade_force_kernel(0);
        /* the same file ending in the middle of a row: an error, no read
         * past the end */
        memcpy(text + size - 4, ",,,,", 4);
        write_bytes(path, text, size);
        coce_trade *t = NULL;
        size_t n = 0;
        coce_err err;
        assert_int_equal(read_all(path, sy, NULL, 64, &t, &n, &err),
                         COCE_EPARSE);
        assert_non_null(strstr(err.msg, "wrong number of columns"));
        free(t);
        free(text);
    }
    coce_symbols_free(sy);
}

/* Reads `path` with one scanner; the trades, the final status and message
 * and the skipped count go to the out-parameters. */
static int read_mode(const char *path, coce_symbols *sy, int portable,
                     int skip, coce_trade **t, size_t *n, char *msg,
                     size_t *skipped)
{
    /* portable: 0 = the default kernel, 1 = portable, 2 = SSE2, 3 = AVX2 */
    coce__trade_force_kernel(portable);
    coce_trade_reader_opts opts = {skip, 1};
    coce_err err;
    memset(&err, 0, sizeof err);
    int rc = read_all(path, sy, &opts, 5, t, n, &err);
    (void)snprintf(msg, 512, "%s", rc == COCE_EEOF ? "" : err.msg);
    *skipped = 0;
    if (skip) {
        coce_trade_reader *r = NULL;
        coce_trade buf[64];
        size_t got = 0;
        assert_int_equal(coce_trade_reader_open(&r, path, sy, &opts, &err),
                         COCE_OK);
        while (coce_trade_reader_next(r, buf, 64, &got, &err) == COCE_OK)
            ;
        *skipped = coce_trade_reader_skipped(r);
        coce_trade_reader_free(r);
    }
    coce__trade_force_portable(0);
    return rc;
}

/* Writes text[0..len) to the temporary file `name` and reads it with every
 * kernel the machine has (at least two): each keeps exactly n_good of the
 * `rows` rows, row i with price want[i * stride] and, with stride 2, qty
 * want[2 * i + 1], bit for bit. */
static void check_every_kernel(const char *name, const char *text, size_t len,
                               size_t rows, const double *want, size_t n_good,
                               size_t stride)
{
    char path[600];
    tmp_path(path, sizeof path, name);
    write_bytes(path, text, len);
    coce_symbols *sy = NULL;
    assert_int_equal(coce_symbols_new(&sy), COCE_OK);
    int tried = 0;
    for (int kern = 1; kern <= 3; ++kern) {
        if (!coce__trade_force_kernel(kern))
            continue;
        coce__trade_force_kernel(0);
        ++tried;
        coce_trade *t = NULL;
        size_t n = 0, skipped = 0;
        char msg[512];
        assert_int_equal(read_mode(path, sy, kern, 1, &t, &n, msg, &skipped),
                         COCE_EEOF);
        assert_int_equal(n, n_good);
        assert_int_equal(n + skipped, rows);
        for (size_t i = 0; i < n; ++i) {
            const double *w = &want[i * stride];
            if (memcmp(&t[i].price, &w[0], sizeof(double)) != 0 ||
                (stride == 2 && memcmp(&t[i].qty, &w[1], sizeof(double)) != 0))
                fail_msg("kernel %d row %zu: %.17g %.17g, strtod %.17g %.17g",
                         kern, i, t[i].price, t[i].qty, w[0],
                         stride == 2 ? w[1] : t[i].qty);
        }
        free(t);
    }
    assert_true(tried >= 2);
    coce_symbols_free(sy);
}

/* The SSE2 scanner and the portable one agree on every row of a file whose
 * lines have every length from 1 to 300 bytes, commas at every offset of a
 * 16- and 64-byte block, extra and missing columns, CRLF, blank lines and
 * timestamps of 1 to 19 digits; plain and gzip, strict and skipping. */
static void test_portable_scan_agrees(void **state)
{
    (void)state;
    size_t cap = 400000;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t k = (size_t)snprintf(text, cap, "%s", HDR_A);
    for (int i = 0; i < 1200; ++i) {
        int pad = i % 300; /* spreads the commas over block offsets */
        int digits = 1 + i % 19;
        char ts[32];
        for (int d = 0; d < digits; ++d)
            ts[d] = (char)('1' + (d + i) % 9);
        ts[digits] = '\0';
        if (i % 97 == 5) {
            k += (size_t)snprintf(text + k, cap - k, "\r\n");
            continue;
        }
        k += (size_t)snprintf(
            text + k, cap - k, "%s,%s,%*s,%s,%d.%03de-%d,%d.5,%s%s",
            i % 2 ? "ADX/BTC" : "BNT/ETH", ts, pad, "x",
            i % 3 ? "buy" : "sell", 1 + i % 9, i % 1000, i % 12, 1 + i,
            i % 11 == 0 ? "0.1,extra" : i % 13 == 0 ? "" : "0.1",
            i % 2 ? "\r\n" : "\n");
        assert_true(k < cap - 1000);
    }
    char plain[600], gz[600];
    tmp_path(plain, sizeof plain, "MIX.csv");
    tmp_path(gz, sizeof gz, "MIX.csv.gz");
    assert_int_equal(coce_test_write_file(plain, text), 0);
    write_gz(gz, text);
    coce_symbols *sy = NULL;
    assert_int_equal(coce_symbols_new(&sy), COCE_OK);
    const char *files[2] = {plain, gz};
    for (int f = 0; f < 2; ++f) {
        for (int skip = 0; skip < 2; ++skip) {
            coce_trade *a = NULL, *b = NULL;
            size_t na = 0, nb = 0, sa = 0, sb = 0;
            char ma[512], mb[512];
            int ra = read_mode(files[f], sy, 0, skip, &a, &na, ma, &sa);
            for (int kern = 1; kern <= 3; ++kern) {
            if (!coce__trade_force_kernel(kern))
                continue;
            coce__trade_force_kernel(0);
            int rb = read_mode(files[f], sy, kern, skip, &b, &nb, mb, &sb);
            assert_int_equal(ra, rb);
            assert_string_equal(ma, mb);
            assert_int_equal(na, nb);
            assert_int_equal(sa, sb);
            assert_int_equal(ra, skip ? COCE_EEOF : COCE_EPARSE);
            if (skip ? na < 900 : na != 0)
                fail_msg("file %d skip %d: %zu rows, %zu skipped, '%s'", f,
                         skip, na, sa, ma);
            for (size_t i = 0; i < na; ++i) {
                assert_int_equal(a[i].time_ms, b[i].time_ms);
                assert_memory_equal(&a[i].price, &b[i].price, sizeof(double));
                assert_memory_equal(&a[i].qty, &b[i].qty, sizeof(double));
                assert_int_equal(a[i].asset, b[i].asset);
                assert_int_equal(a[i].side, b[i].side);
            }
            free(b);
            }
            free(a);
        }
    }
    /* row 1 (i = 1): 2 digits "23"; strict mode stops at the first row
     * with an extra column (i = 0: 11 divides 0) -> line 2 */
    coce_trade *a = NULL;
    size_t na = 0, sa = 0;
    char ma[512];
    assert_int_equal(read_mode(plain, sy, 1, 0, &a, &na, ma, &sa),
                     COCE_EPARSE);
    assert_non_null(strstr(ma, "MIX.csv:2: wrong number of columns "
                               "(expected 7, got 8)"));
    free(a);
    /* every good row's time is what the general time parser reads */
    assert_int_equal(read_mode(plain, sy, 0, 1, &a, &na, ma, &sa), COCE_EEOF);
    size_t row = 0;
    for (const char *line = strchr(text, '\n') + 1; *line != '\0';
         line = strchr(line, '\n') + 1) {
        const char *c1 = strchr(line, ',');
        const char *nl = strchr(line, '\n');
        int commas = 0;
        for (const char *p = line; p < nl; ++p)
            commas += *p == ',';
        if (c1 == NULL || c1 > nl || commas != 6)
            continue;
        const char *c2 = strchr(c1 + 1, ',');
        int64_t want = 0;
        if (coce_trade_parse_time(c1 + 1, (size_t)(c2 - c1 - 1), &want) !=
            COCE_OK) {
            assert_int_equal(c2 - c1 - 1, 19); /* too long for int64 ms */
            continue;
        }
        assert_true(row < na);
        assert_int_equal(a[row].time_ms, want);
        ++row;
    }
    assert_int_equal(row, na);
    free(a);
    free(text);
    coce_symbols_free(sy);
}

/* Number texts of every shape (random digits before and after the point,
 * exponents with and without sign, e/E, 16 and 17 digits, 2^53 + 1,
 * 1e22/1e23, and malformed ones), one per row as the price, with a few
 * lines longer than the 16 KiB index block in between: every kernel keeps
 * exactly the rows whose price strtod reads as a positive finite number,
 * with strtod's value bit for bit (strtod is the reference). */
static void test_number_shapes_all_kernels(void **state)
{
    (void)state;
    static const char *const FIXED[] = {
        "0", "0.0", "1.", ".5", ".", "e5", "1e", "1e+", "-1.5", "+1.5",
        "1..5", "1.5.", "12345678901234567",
        "9007199254740993", "9007199254740992", "1e22", "1e23", "1e-22",
        "1e-23", "0.000000000000000000001", "1E5", "1e+05", "1e-5",
        "1.348e-05", "81.0", "0.00020814", "123456789012345.6", "1e100",
        "1e-100", "1.5e", "1.5e-", "1.5ee5", "1.5e5.", "0x10", "inf", "nan",
        "1,5", "1.5e005", "00000000000000001", "1234567890123456"};
    const size_t n_fixed = sizeof FIXED / sizeof FIXED[0];
    const size_t rows = 3000;
    size_t cap = rows * 120 + 4 * 40000;
    char *text = malloc(cap);
    double *want = malloc(rows * sizeof *want);
    assert_non_null(text);
    assert_non_null(want);
    size_t k = (size_t)snprintf(text, cap, "%s", HDR_A);
    size_t n_good = 0;
    uint64_t seed = 12345;
    for (size_t i = 0; i < rows; ++i) {
        char num[64];
        if (i < n_fixed) {
            (void)snprintf(num, sizeof num, "%s", FIXED[i]);
        } else {
            size_t m = 0;
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            uint64_t x = seed >> 11;
            int id = (int)(x % 10), fd = (int)(x / 10 % 11);
            for (int d = 0; d < id; ++d)
                num[m++] = (char)('0' + (x >> (d + 7)) % 10);
            if (fd < 10) {
                num[m++] = '.';
                for (int d = 0; d < fd; ++d)
                    num[m++] = (char)('0' + (x >> (d + 17)) % 10);
            }
            if ((x >> 40) % 3 == 0)
                m += (size_t)snprintf(num + m, sizeof num - m, "%c%s%u",
                                      (x >> 42) % 2 ? 'e' : 'E',
                                      (x >> 43) % 3 == 0   ? "-"
                                      : (x >> 43) % 3 == 1 ? "+"
                                                           : "",
                                      (unsigned)((x >> 45) % 30));
            num[m] = '\0';
        }
        char *end = NULL;
        errno = 0;
        double v = strtod(num, &end);
        if (num[0] != '\0' && *end == '\0' && errno != ERANGE &&
            isfinite(v) && v > 0.0)
            want[n_good++] = v;
        /* a datetime longer than the 16 KiB index block now and then */
        int pad = i % 701 == 350 ? 20000 : 4;
        k += (size_t)snprintf(text + k, cap - k, "ADX/BTC,%zu,%*s,buy,%s,1,1\n",
                              1000 + i, pad, "t", num);
        assert_true(k < cap - 200);
    }
    check_every_kernel("NUMS.csv", text, k, rows, want, n_good, 1);
    free(want);
    free(text);
}

/* Price and quantity are parsed together (one in each half of a 256-bit
 * register with AVX2): every pair of shapes, including a long or malformed
 * price next to a 1..3-byte quantity and exponents in either, gives on
 * every kernel exactly the rows whose two numbers strtod reads as positive
 * finite numbers, with strtod's values bit for bit. */
static void test_price_qty_pairs_all_kernels(void **state)
{
    (void)state;
    static const char *const SHAPES[] = {
        "1",          "7",          "10",         "1.5",        "0.0",
        "81.0",       "1e-05",      "1.348e-05",  "5.e-05",     ".5e-05",
        "1.5E+05",    "3000",       "1e-5",       "1.5e",       "e-05",
        "-1.5",       "1.2.3",      "7.42857142857e-05",        "0.00109188",
        "123456789012345.6",        "1234567890123456",         "9e-22",
        "9e-23",      "1.5e+22",    "2e+23",      "x",          "1,5"};
    const size_t ns = sizeof SHAPES / sizeof SHAPES[0];
    size_t cap = ns * ns * 100 + 200;
    char *text = malloc(cap);
    double *want = malloc(ns * ns * 2 * sizeof *want);
    assert_non_null(text);
    assert_non_null(want);
    size_t k = (size_t)snprintf(text, cap, "%s", HDR_A);
    size_t n_good = 0, rows = 0;
    for (size_t i = 0; i < ns; ++i)
        for (size_t j = 0; j < ns; ++j) {
            double v[2] = {0.0, 0.0};
            int good = 1;
            for (int c = 0; c < 2; ++c) {
                const char *num = SHAPES[c == 0 ? i : j];
                char *end = NULL;
                errno = 0;
                v[c] = strtod(num, &end);
                good &= *end == '\0' && errno != ERANGE && isfinite(v[c]) &&
                        v[c] > 0.0;
            }
            if (good) {
                want[2 * n_good] = v[0];
                want[2 * n_good + 1] = v[1];
                ++n_good;
            }
            /* "1,5" has one column too many: a bad row as well */
            k += (size_t)snprintf(text + k, cap - k,
                                  "ADX/BTC,%zu,t,sell,%s,%s,1\n", 1000 + rows,
                                  SHAPES[i], SHAPES[j]);
            ++rows;
        }
    check_every_kernel("PAIRS.csv", text, k, rows, want, n_good, 2);
    free(want);
    free(text);
}

int main(void)
{
    coce_log_set_stderr_level(COCE_LOG_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_format_a_plain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_format_b_symbol_from_name, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_crlf_blank_lines_no_final_newline,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip_and_chunking, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_rows_strict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_rows_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allow_unsorted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_truncated_and_corrupt, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test(test_filename_parse),
        cmocka_unit_test(test_parse_format_time),
        cmocka_unit_test_setup_teardown(test_dir_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_errors, setup, teardown),
        cmocka_unit_test(test_real_pump_file),
        cmocka_unit_test(test_parse_double_matches_strtod),
        cmocka_unit_test(test_number_kernels_match_strtod),
        cmocka_unit_test_setup_teardown(test_mmap_and_gzip_agree, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_page_multiple_no_final_newline,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_portable_scan_agrees, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_number_shapes_all_kernels, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_price_qty_pairs_all_kernels,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
