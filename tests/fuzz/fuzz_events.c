/* libFuzzer: the pump event loader (CSV and JSON forms, told apart by
 * content; fed under both a .csv and a .json name), then filter and
 * dedupe on what it returns. */
#include "fuzz_common.h"

#include "data_ingest/events.h"

static void load(const uint8_t *data, size_t size, const char *suffix)
{
    char path[512];
    if (fuzz_file(data, size, suffix, path, sizeof path) == NULL)
        return;
    coce_event *ev = NULL;
    size_t n = 0;
    coce_err err;
    if (coce_events_load(path, &ev, &n, &err) == COCE_OK) {
        (void)coce_events_dedupe(ev, &n, 3600000);
        (void)coce_events_filter_exchange(ev, &n, "binance");
        coce_events_free(ev);
    }
    (void)remove(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    load(data, size, "events.csv");
    load(data, size, "pumps.json");
    return 0;
}
