/* libFuzzer: the trade reader (mapped plain path, and the gzip path when the
 * input starts with the gzip magic), strict and skipping, plus the number
 * parser against strtod. */
#include "fuzz_common.h"

#include "data_ingest/trades.h"

#include <errno.h>
#include <math.h>

static void read_file(const char *path, int skip)
{
    coce_symbols *sy = NULL;
    if (coce_symbols_new(&sy) != COCE_OK)
        return;
    coce_trade_reader_opts o = {skip, skip};
    coce_trade_reader *r = NULL;
    coce_err err;
    if (coce_trade_reader_open(&r, path, sy, &o, &err) == COCE_OK) {
        coce_trade t[7];
        size_t n = 0;
        while (coce_trade_reader_next(r, t, 7, &n, &err) == COCE_OK)
            for (size_t i = 0; i < n; ++i)
                if (!(t[i].price > 0.0) || !(t[i].qty > 0.0))
                    abort();
        (void)coce_trade_reader_symbol(r);
        coce_trade_reader_free(r);
    }
    coce_symbols_free(sy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    char path[512];
    if (fuzz_file(data, size, "ADX_2019-07-05_17.00.csv", path,
                  sizeof path) != NULL) {
        read_file(path, 0);
        read_file(path, 1);
        (void)remove(path);
    }
    /* the fast number parser must agree with strtod bit for bit */
    if (size < 64) {
        char s[65];
        memcpy(s, data, size);
        s[size] = '\0';
        double a = 0.0;
        int ra = coce__parse_double((const char *)data, size, &a);
        char *end = NULL;
        errno = 0;
        double b = strtod(s, &end);
        int rb = size > 0 && end == s + size && errno != ERANGE && isfinite(b);
        if (ra != rb || (ra && memcmp(&a, &b, sizeof a) != 0))
            abort();
        int64_t ms = 0;
        (void)coce_trade_parse_time((const char *)data, size, &ms);
    }
    return 0;
}
