/* libFuzzer: the wide close-price table loader (needs a path). */
#include "fuzz_common.h"

#include "data_ingest/prices.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    char path[512];
    if (fuzz_file(data, size, "prices.csv", path, sizeof path) == NULL)
        return 0;
    coce_price_table t;
    memset(&t, 0, sizeof t);
    coce_err err;
    if (coce_price_table_load(path, &t, &err) == COCE_OK)
        coce_price_table_destroy(&t);
    (void)remove(path);
    return 0;
}
