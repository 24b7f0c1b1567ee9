/* libFuzzer: configuration YAML (coce_config_load_string) then the
 * cross-field validation. */
#include "fuzz_common.h"

#include "utils/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    char *text = malloc(size + 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    static coce_config cfg;
    coce_config_defaults(&cfg);
    coce_err err;
    if (coce_config_load_string(&cfg, text, "fuzz.yaml", &err) == COCE_OK)
        (void)coce_config_validate(&cfg, &err);
    free(text);
    return 0;
}
