#include "utils/symbols.h"

#include "utils/error.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Open addressing with linear probing; slots hold id + 1 (0 = empty) and the
 * table is kept at most half full. */
struct coce_symbols {
    char **names;
    size_t n, cap;
    uint32_t *slots;
    size_t n_slots; /* power of two */
};

/* FNV-1a, 64-bit (Fowler, Noll, Vo; IETF draft-eastlake-fnv). */
static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s != '\0'; ++s) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

int coce_symbols_new(coce_symbols **out)
{
    if (out == NULL)
        return COCE_EINVAL;
    *out = NULL;
    coce_symbols *s = calloc(1, sizeof *s);
    if (s == NULL)
        return COCE_ENOMEM;
    s->n_slots = 64;
    s->slots = calloc(s->n_slots, sizeof *s->slots);
    if (s->slots == NULL) {
        free(s);
        return COCE_ENOMEM;
    }
    *out = s;
    return COCE_OK;
}

void coce_symbols_free(coce_symbols *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; ++i)
        free(s->names[i]);
    free(s->names);
    free(s->slots);
    free(s);
}

/* Slot of `symbol`, or of the empty slot where it would go. */
static size_t probe(const coce_symbols *s, const char *symbol)
{
    size_t mask = s->n_slots - 1;
    size_t i = (size_t)hash_str(symbol) & mask;
    while (s->slots[i] != 0 &&
           strcmp(s->names[s->slots[i] - 1], symbol) != 0)
        i = (i + 1) & mask;
    return i;
}

static int grow_slots(coce_symbols *s)
{
    size_t n_slots = s->n_slots * 2;
    uint32_t *slots = calloc(n_slots, sizeof *slots);
    if (slots == NULL)
        return COCE_ENOMEM;
    free(s->slots);
    s->slots = slots;
    s->n_slots = n_slots;
    for (size_t id = 0; id < s->n; ++id)
        s->slots[probe(s, s->names[id])] = (uint32_t)(id + 1);
    return COCE_OK;
}

static int valid_name(const char *symbol)
{
    if (symbol == NULL)
        return 0;
    size_t len = strlen(symbol);
    return len > 0 && len <= COCE_SYMBOL_MAX;
}

int coce_symbols_find(const coce_symbols *s, const char *symbol,
                      coce_asset_id *out)
{
    if (s == NULL || !valid_name(symbol))
        return COCE_EINVAL;
    size_t i = probe(s, symbol);
    if (s->slots[i] == 0)
        return COCE_ENOTFOUND;
    if (out != NULL)
        *out = s->slots[i] - 1;
    return COCE_OK;
}

int coce_symbols_intern(coce_symbols *s, const char *symbol,
                        coce_asset_id *out)
{
    if (s == NULL || !valid_name(symbol))
        return COCE_EINVAL;
    size_t i = probe(s, symbol);
    if (s->slots[i] != 0) {
        if (out != NULL)
            *out = s->slots[i] - 1;
        return COCE_OK;
    }
    if (s->n >= UINT32_MAX - 1)
        return COCE_ERANGE;
    if (s->n == s->cap) {
        size_t cap = s->cap == 0 ? 16 : s->cap * 2;
        char **names = realloc(s->names, cap * sizeof *names);
        if (names == NULL)
            return COCE_ENOMEM;
        s->names = names;
        s->cap = cap;
    }
    size_t len = strlen(symbol);
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return COCE_ENOMEM;
    memcpy(copy, symbol, len + 1);
    s->names[s->n] = copy;
    s->slots[i] = (uint32_t)(s->n + 1);
    coce_asset_id id = (coce_asset_id)s->n;
    s->n++;
    if (2 * s->n > s->n_slots && grow_slots(s) != COCE_OK) {
        /* Keep the table consistent: undo the insertion. */
        s->n--;
        s->slots[probe(s, copy)] = 0;
        free(copy);
        return COCE_ENOMEM;
    }
    if (out != NULL)
        *out = id;
    return COCE_OK;
}

const char *coce_symbols_name(const coce_symbols *s, coce_asset_id id)
{
    if (s == NULL || (size_t)id >= s->n)
        return NULL;
    return s->names[id];
}

size_t coce_symbols_count(const coce_symbols *s)
{
    return s == NULL ? 0 : s->n;
}

/* Longest first, so that "USDT" wins over "USD". */
static const char *const QUOTES[] = {"USDT", "BUSD", "USDC", "TUSD", "BTC",
                                     "ETH",  "BNB",  "USD",  "EUR"};

int coce_symbol_base(const char *pair, char *out, size_t out_len)
{
    if (pair == NULL || out == NULL || out_len == 0)
        return COCE_EINVAL;
    char up[COCE_SYMBOL_MAX + 1];
    size_t len = 0;
    for (const char *p = pair; *p != '\0'; ++p) {
        char c = *p;
        if (c == '/' || c == '-' || c == '_' || c == '.')
            break;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return COCE_EINVAL;
        if (len >= COCE_SYMBOL_MAX)
            return COCE_ERANGE;
        up[len++] = c;
    }
    if (len == 0)
        return COCE_EINVAL;
    up[len] = '\0';
    if (pair[len] == '\0') {
        int is_quote = 0;
        for (size_t q = 0; q < sizeof QUOTES / sizeof QUOTES[0]; ++q)
            if (strcmp(up, QUOTES[q]) == 0)
                is_quote = 1;
        for (size_t q = 0; !is_quote && q < sizeof QUOTES / sizeof QUOTES[0];
             ++q) {
            size_t ql = strlen(QUOTES[q]);
            if (len > ql && strcmp(up + len - ql, QUOTES[q]) == 0) {
                len -= ql;
                up[len] = '\0';
                break;
            }
        }
    }
    if (len + 1 > out_len)
        return COCE_ERANGE;
    memcpy(out, up, len + 1);
    return COCE_OK;
}
