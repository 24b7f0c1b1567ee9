/* Asset interning: symbols ("ADX") become small dense ids (0, 1, 2, ...) once,
 * so that strings never travel through the hot path (see utils/types.h).
 *
 * A table is not thread-safe for writers; concurrent readers of a table that
 * is no longer being interned into are fine. */
#ifndef COCE_UTILS_SYMBOLS_H
#define COCE_UTILS_SYMBOLS_H

#include "utils/types.h"

#include <stddef.h>

/* Longest symbol accepted, excluding the NUL. */
#define COCE_SYMBOL_MAX 31

typedef struct coce_symbols coce_symbols;

int coce_symbols_new(coce_symbols **out);
/* NULL is a no-op. */
void coce_symbols_free(coce_symbols *s);

/* Same name -> same id; a new name gets the next id (0, 1, 2, ...). The name
 * is stored as given (case-sensitive); COCE_EINVAL for an empty name or one
 * longer than COCE_SYMBOL_MAX. */
int coce_symbols_intern(coce_symbols *s, const char *symbol,
                        coce_asset_id *out);
/* COCE_ENOTFOUND when the name was never interned. */
int coce_symbols_find(const coce_symbols *s, const char *symbol,
                      coce_asset_id *out);
/* The interned name of id; NULL if id is out of range. */
const char *coce_symbols_name(const coce_symbols *s, coce_asset_id id);
size_t coce_symbols_count(const coce_symbols *s);

/* Base asset of a trading pair, upper-cased: "ADX/BTC", "ADX-BTC", "ADXBTC",
 * "adx_btc" -> "ADX". Without a separator a known quote suffix (USDT BUSD
 * USDC TUSD BTC ETH BNB USD EUR) is stripped, unless the whole string is a
 * quote ("TUSD" stays "TUSD"); a bare base ("ADX") is returned as is. A bare
 * base that happens to end in a quote ("WBTC") cannot be told from a pair and
 * is cut ("W"): pass such names with a separator.
 * COCE_EINVAL for an empty base or a character other than [A-Za-z0-9./_-];
 * COCE_ERANGE if out_len is too small. */
int coce_symbol_base(const char *pair, char *out, size_t out_len);

#endif
