#include "utils/types.h"

const char *coce_order_reason_name(coce_order_reason reason)
{
    switch (reason) {
    case COCE_REASON_ENTRY:
        return "entry";
    case COCE_REASON_TAKE_PROFIT:
        return "take_profit";
    case COCE_REASON_TRAILING_STOP:
        return "trailing_stop";
    case COCE_REASON_HARD_STOP:
        return "hard_stop";
    case COCE_REASON_MAX_HOLD:
        return "max_hold";
    case COCE_REASON_REBALANCE:
        return "rebalance";
    case COCE_REASON_RISK_CUT:
        return "risk_cut";
    case COCE_REASON_FLATTEN:
        return "flatten";
    }
    return "unknown";
}
