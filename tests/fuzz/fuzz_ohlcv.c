/* libFuzzer: the OHLCV bar parser, strict and skipping; every bar it
 * returns must satisfy the documented checks. */
#include "fuzz_common.h"

#include "data_ingest/ohlcv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    for (int skip = 0; skip < 2; ++skip) {
        coce_ohlcv_opts o = {skip, 0};
        coce_bar *b = NULL;
        size_t n = 0, sk = 0;
        coce_err err;
        if (coce_ohlcv_parse((const char *)data, size, "fuzz.csv", 1, &o, &b,
                             &n, &sk, &err) == COCE_OK) {
            for (size_t i = 0; i < n; ++i) {
                const coce_bar *x = &b[i];
                if (x->high < x->open || x->high < x->close ||
                    x->low > x->open || x->low > x->close ||
                    x->volume < 0.0 || x->quote_volume < 0.0 ||
                    (i > 0 && x->open_ms <= b[i - 1].open_ms))
                    abort();
            }
            coce_ohlcv_free(b);
        }
    }
    return 0;
}
