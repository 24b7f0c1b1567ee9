/* Shared subcommand helpers; contracts in cmd_common.h. */
#include "agent/cmd_common.h"

#include "utils/fsutil.h"

#include <stdlib.h>

int coce__cmd_load_config(coce_config *cfg, const char *user_file,
                          coce_err *err)
{
    coce_config_defaults(cfg);
    const char *base = getenv("COCE_BASE_CONFIG");
    if (base == NULL)
        base = "config/base.yaml";
    if (coce_fs_exists(base)) {
        int rc = coce_config_load_file(cfg, base, err);
        if (rc != COCE_OK)
            return rc;
    }
    if (user_file != NULL) {
        int rc = coce_config_load_file(cfg, user_file, err);
        if (rc != COCE_OK)
            return rc;
    }
    return coce_config_validate(cfg, err);
}
