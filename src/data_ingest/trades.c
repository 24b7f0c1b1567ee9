/* MAP_POPULATE (Linux) is outside POSIX. */
#define _DEFAULT_SOURCE
#include "data_ingest/trades.h"

#include "utils/log.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
/* AVX2 is not in the x86-64 baseline: its kernel is compiled for it alone
 * (target attribute) and chosen at run time. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TRADES_AVX2 1
#define TARGET_AVX2 __attribute__((target("avx2,bmi,bmi2,popcnt")))
#else
#define TRADES_AVX2 0
#endif

/* Longest line accepted; a real row is under 100 bytes. */
#define LINE_BUF_CAP (256u * 1024u)
#define MAX_COLS 32
#define COL_NAME_MAX 32
/* Largest file whose mapping is pre-faulted (MAP_POPULATE). */
#define POPULATE_MAX ((size_t)1 << 30)
/* Bytes indexed at once: positions fit in 16 bits (0xFFFF is the sentinel)
 * and the block stays in L1/L2 between the index and the parse pass. */
#define BLOCK ((size_t)16 * 1024)
/* Entries of each position array: one per byte at most, the leading 0 and
 * the sentinels after the last separator, and the slots the flatteners
 * write past the count. */
#define IDX_CAP (BLOCK + MAX_COLS + 66)
#define IDX_END 0xFFFFu

enum { COL_NONE = -1 };
/* Kernels of the block indexer and number parser (see "structural
 * index"); K_AUTO = the best the CPU has. Tests force one. */
enum { K_AUTO = 0, K_PORTABLE = 1, K_SSE2 = 2, K_AVX2 = 3 };
static int g_force_kernel;

/* Two sources behind one line interface: a plain file is mapped whole and
 * parsed where it lies (no copy, no write); a gzip file streams through
 * zlib into buf. */
struct coce_trade_reader {
    gzFile gz;               /* gzip source, or NULL */
    const char *map;         /* plain source: the mapped file, or NULL */
    void *map_addr;          /* the same, for munmap */
    size_t map_len;
    char *path;
    coce_symbols *symbols;
    coce_trade_reader_opts opts;
    char *buf; /* LINE_BUF_CAP + 1 bytes: gzip lines; strtod scratch */
    size_t pos, end;
    int eof;
    int portable; /* scan lines without SSE2 (tests) */
    int kernel;   /* K_PORTABLE, K_SSE2 or K_AVX2, fixed at open */
    /* Structural index of the current block (see index_block): offset + 1
     * from blk of each of its separators (',' or '\n'; idx_sep[0] = 0 for
     * the line end before the block, IDX_END after the last) and the offset
     * of each newline. */
    uint16_t *idx_sep, *idx_nl;
    const char *blk;
    size_t blk_avail; /* bytes readable from blk (mapping or filled buffer) */
    size_t blk_rows, blk_next;
    size_t blk_sep; /* index in idx_sep of the line end before the next row */
    size_t line; /* number of the line most recently taken (header = 1) */
    int n_cols;
    int c_sym, c_time, c_price, c_qty, c_side;
    int fmt_a; /* the 7 columns of format (a) in their usual order */
    char col_name[MAX_COLS][COL_NAME_MAX];
    char file_symbol[COCE_SYMBOL_MAX + 1];
    int have_symbol;
    coce_asset_id file_asset;
    char last_pair[COCE_SYMBOL_MAX + 1]; /* cache: symbol column rarely changes */
    char last_pad[16]; /* its first 16 bytes, zero-padded (fast_row) */
    size_t last_pair_len;
    coce_asset_id last_asset;
    int have_last;
    int64_t prev_time;
    int have_prev;
    size_t rows, skipped;
    int failed;
    int fail_code;
    char fail_msg[COCE_ERR_MSG_MAX];
};

/* ---- time ------------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date: H. Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms", days_from_civil. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The inverse, civil_from_days, same source. */
static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, int64_t m)
{
    static const int DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return DAYS[m - 1] + (m == 2 && leap);
}

/* n digits at s -> *v; 0 if any is not a digit. */
static int digits(const char *s, size_t n, int64_t *v)
{
    int64_t x = 0;
    for (size_t i = 0; i < n; ++i) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return 1;
}

static int civil_ms(int64_t y, int64_t mo, int64_t d, int64_t h, int64_t mi,
                    int64_t s, int64_t ms, int64_t *out)
{
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || s > 59)
        return COCE_EPARSE;
    *out = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000 +
           s * 1000 + ms;
    return COCE_OK;
}

int coce_trade_parse_time(const char *text, size_t len, int64_t *out_ms)
{
    if (text == NULL || out_ms == NULL)
        return COCE_EINVAL;
    while (len > 0 && isspace((unsigned char)*text)) {
        ++text;
        --len;
    }
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        --len;
    if (len == 0)
        return COCE_EPARSE;
    size_t i = text[0] == '-' ? 1 : 0;
    size_t n_digits = 0;
    while (i + n_digits < len && isdigit((unsigned char)text[i + n_digits]))
        ++n_digits;
    if (i + n_digits == len) { /* an integer: already ms */
        if (n_digits == 0 || n_digits > 18)
            return COCE_EPARSE;
        int64_t v = 0;
        (void)digits(text + i, n_digits, &v);
        *out_ms = i == 1 ? -v : v;
        return COCE_OK;
    }
    int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, ms = 0;
    if (len < 10 || !digits(text, 4, &y) || text[4] != '-' ||
        !digits(text + 5, 2, &mo) || text[7] != '-' ||
        !digits(text + 8, 2, &d))
        return COCE_EPARSE;
    i = 10;
    if (i < len && (text[i] == ' ' || text[i] == 'T')) {
        if (len < i + 6 || !digits(text + i + 1, 2, &h) ||
            text[i + 3] != ':' || !digits(text + i + 4, 2, &mi))
            return COCE_EPARSE;
        i += 6;
        if (i < len && text[i] == ':') {
            if (len < i + 3 || !digits(text + i + 1, 2, &s))
                return COCE_EPARSE;
            i += 3;
            if (i < len && text[i] == '.') {
                size_t k = 0;
                ++i;
                for (; i < len && isdigit((unsigned char)text[i]); ++i, ++k)
                    if (k < 3)
                        ms = ms * 10 + (text[i] - '0');
                if (k == 0)
                    return COCE_EPARSE;
                for (; k < 3; ++k)
                    ms *= 10;
            }
        }
    }
    if (i < len && text[i] == 'Z')
        ++i;
    if (i != len)
        return COCE_EPARSE;
    return civil_ms(y, mo, d, h, mi, s, ms, out_ms);
}

int coce_trade_format_time(int64_t ms, char *buf, size_t len)
{
    if (buf == NULL || len < 25)
        return COCE_EINVAL;
    int64_t days = ms / 86400000;
    int64_t rem = ms % 86400000;
    if (rem < 0) {
        rem += 86400000;
        days -= 1;
    }
    int64_t y = 0, m = 0, d = 0;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999)
        return COCE_ERANGE;
    (void)snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y,
                   (int)m, (int)d, (int)(rem / 3600000),
                   (int)(rem / 60000 % 60), (int)(rem / 1000 % 60),
                   (int)(rem % 1000));
    return COCE_OK;
}

/* ---- file names --------------------------------------------------------- */

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

int coce_trade_filename_parse(const char *path, char *symbol,
                              size_t symbol_len, int64_t *event_ms)
{
    if (path == NULL || symbol == NULL || symbol_len == 0 || event_ms == NULL)
        return COCE_EINVAL;
    *event_ms = INT64_MIN;
    symbol[0] = '\0';
    const char *name = base_name(path);
    size_t stem = strcspn(name, "_ .");
    char raw[COCE_SYMBOL_MAX + 1];
    if (stem > COCE_SYMBOL_MAX)
        return COCE_EPARSE;
    memcpy(raw, name, stem);
    raw[stem] = '\0';
    if (stem > 0) {
        int rc = coce_symbol_base(raw, symbol, symbol_len);
        if (rc == COCE_EINVAL) {
            if (stem + 1 > symbol_len)
                return COCE_ERANGE;
            memcpy(symbol, raw, stem + 1);
        } else if (rc != COCE_OK) {
            return rc;
        }
    }
    /* STEM{_| }YYYY-MM-DD_HH.MM then anything */
    const char *p = name + stem;
    int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0;
    if (stem == 0 || (*p != '_' && *p != ' ') || strlen(p) < 17 ||
        !digits(p + 1, 4, &y) || p[5] != '-' || !digits(p + 6, 2, &mo) ||
        p[8] != '-' || !digits(p + 9, 2, &d) || p[11] != '_' ||
        !digits(p + 12, 2, &h) || p[14] != '.' || !digits(p + 15, 2, &mi))
        return COCE_EPARSE;
    int64_t ms = 0;
    if (civil_ms(y, mo, d, h, mi, 0, 0, &ms) != COCE_OK)
        return COCE_EPARSE;
    *event_ms = ms;
    return COCE_OK;
}

/* ---- word tricks --------------------------------------------------- */

#if defined(__GNUC__) && defined(__BYTE_ORDER__) &&                          \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define TRADES_SWAR 1
#else
#define TRADES_SWAR 0
#endif

#if TRADES_SWAR
#define ONES 0x0101010101010101ull

/* 0x80 in each byte of w equal to the byte b, 0 elsewhere, exactly (no
 * false flag above a match, unlike the cheaper borrow form): H. S. Warren,
 * "Hacker's Delight", 2nd ed., sec. 6-1, "Find First 0-Byte". */
static inline uint64_t swar_eq(uint64_t w, unsigned char b)
{
    const uint64_t low7 = ONES * 0x7Fu;
    uint64_t x = w ^ (ONES * b);
    return ~(((x & low7) + low7) | x | low7);
}

/* Digit tests and the three multiply-shift steps below: D. Lemire, "Number
 * Parsing at a Gigabyte per Second", Software: Practice and Experience
 * 51(8), 2021, sec. 5 (is_made_of_eight_digits_fast,
 * parse_eight_digits_unrolled). Byte 0 of a word is the first character. */

/* Value of the 8 digit values (0..9, one per byte, most significant in
 * byte 0) of d. */
static inline uint64_t swar_value8(uint64_t d)
{
    d = (d * 10) + (d >> 8);
    return (((d & 0x000000FF000000FFull) * (100 + (1000000ull << 32))) +
            (((d >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32)))) >>
           32;
}

/* How many of the bytes of w, from byte 0, are decimal digits (0..8). A
 * byte is a digit iff its high nibble is 3 both as is and plus 6; carries
 * only start at non-digits, so the count is exact. */
static inline unsigned lead_digits(uint64_t w)
{
    const uint64_t hi = ONES * 0xF0u, low7 = ONES * 0x7Fu;
    uint64_t x = ((w & hi) ^ (ONES * 0x30u)) |
                 (((w + ONES * 0x06u) & hi) ^ (ONES * 0x30u));
    uint64_t m = (x | ((x & low7) + low7)) & (ONES * 0x80u);
    return m == 0 ? 8u : (unsigned)__builtin_ctzll(m) >> 3;
}

/* The 8 bytes at s as 8 decimal digits -> 1 and their value, else 0. */
static inline int eight_digits(const char *s, uint64_t *out)
{
    uint64_t w = 0;
    memcpy(&w, s, 8);
    if (lead_digits(w) != 8)
        return 0;
    *out = swar_value8(w - ONES * '0');
    return 1;
}
#endif

static const uint64_t POW10U[9] = {1,      10,      100,      1000,     10000,
                                   100000, 1000000, 10000000, 100000000};

/* ---- numbers ------------------------------------------------------------ */

/* 10^0..10^22 are exact in binary64 (5^22 < 2^53). */
static const double POW10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
                                 1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
                                 1e18, 1e19, 1e20, 1e21, 1e22};

#define TWO_53 9007199254740992ull

#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define NOINLINE
#define ALWAYS_INLINE inline
#endif

/* Significand of more than 19 digits: leading zeros are skipped, and past
 * 19 significant digits w would no longer be exact (the caller gives up).
 * Returns 0 then; else 1 with w, e10 (-digits after the point), *i past the
 * digits and *n_digits, the count of digits read. */
static int long_significand(const char *s, size_t len, size_t *i, uint64_t *w,
                            int64_t *e10, size_t *n_digits)
{
    size_t k = *i;
    uint64_t x = 0;
    int nd = 0;
    int64_t e = 0;
    size_t count = 0;
    for (; k < len && (unsigned)(s[k] - '0') < 10u; ++k, ++count) {
        unsigned d = (unsigned)(s[k] - '0');
        if (x == 0 && d == 0)
            continue;
        if (nd == 19)
            return 0;
        x = x * 10u + d;
        ++nd;
    }
    if (k < len && s[k] == '.') {
        for (++k; k < len && (unsigned)(s[k] - '0') < 10u; ++k, ++count) {
            unsigned d = (unsigned)(s[k] - '0');
            --e;
            if (x == 0 && d == 0)
                continue;
            if (nd == 19)
                return 0;
            x = x * 10u + d;
            ++nd;
        }
    }
    *i = k;
    *w = x;
    *e10 = e;
    *n_digits = count;
    return 1;
}

/* Clinger's fast path (W. D. Clinger, "How to Read Floating Point Numbers
 * Accurately", PLDI 1990, sec. 4; also Gay 1990): when the decimal
 * significand w is an integer <= 2^53 and 10^|e| <= 10^22, both w and 10^|e|
 * are exact doubles and one correctly rounded IEEE multiplication or
 * division gives the correctly rounded value, i.e. exactly what strtod
 * returns (round to nearest). Returns 1 with *out set, or 0 when the text
 * is not of the plain form [+-]digits[.digits][(e|E)[+-]digits] or outside
 * the fast range; the caller then asks strtod. Up to 19 digits in all (every
 * price and amount of a trade file) w is read without a check per digit:
 * 10^19 - 1 < 2^64, and leading zeros add nothing to w. */
static inline int fast_double(const char *s, size_t len, double *out,
                              int *sign)
{
    size_t i = 0;
    int neg = 0;
    if (len > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    const size_t d0 = i;
    uint64_t w = 0;
    for (; i < len && (unsigned)(s[i] - '0') < 10u; ++i)
        w = w * 10u + (unsigned)(s[i] - '0');
    size_t n_digits = i - d0;
    int64_t e10 = 0;
    if (i < len && s[i] == '.') {
        const size_t f0 = ++i;
        for (; i < len && (unsigned)(s[i] - '0') < 10u; ++i)
            w = w * 10u + (unsigned)(s[i] - '0');
        e10 = -(int64_t)(i - f0);
        n_digits += i - f0;
    }
    if (n_digits > 19) {
        i = d0;
        if (!long_significand(s, len, &i, &w, &e10, &n_digits))
            return 0;
    }
    if (n_digits == 0)
        return 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        int eneg = 0;
        if (i < len && (s[i] == '-' || s[i] == '+')) {
            eneg = s[i] == '-';
            ++i;
        }
        int64_t x = 0;
        size_t k = 0;
        for (; i < len && (unsigned)(s[i] - '0') < 10u; ++i, ++k) {
            if (x > 100000)
                return 0;
            x = x * 10 + (s[i] - '0');
        }
        if (k == 0)
            return 0;
        e10 += eneg ? -x : x;
    }
    if (i != len)
        return 0;
    double v = 0.0;
    if (w == 0) {
        v = 0.0;
        *sign = 0;
    } else if (w > TWO_53) {
        return 0;
    } else if (e10 >= 0 && e10 <= 22) {
        v = (double)w * POW10[e10];
    } else if (e10 < 0 && e10 >= -22) {
        v = (double)w / POW10[-e10];
    } else if (e10 > 22 && e10 <= 22 + 15) {
        /* Move the excess exponent into w while w stays exact. */
        for (int64_t k = 22; k < e10; ++k) {
            w *= 10u;
            if (w > TWO_53)
                return 0;
        }
        v = (double)w * POW10[22];
    } else {
        return 0;
    }
    if (w != 0)
        *sign = neg ? -1 : 1;
    *out = neg ? -v : v;
    return 1;
}

#if defined(__SSE2__) && TRADES_SWAR && defined(__SIZEOF_INT128__)
#define TRADES_NUM16 1
typedef unsigned __int128 u128;

/* The bytes below byte k (0..16) of a 128-bit word. */
static inline u128 low_bytes(unsigned k)
{
    return k == 0 ? 0 : ~(u128)0 >> (8 * (16 - k));
}

/* 10^0..10^22 again, padded to 32 entries so that an index masked with 31
 * is always inside the table (the value is discarded when out of range). */
static const double POW10P[32] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,
                                  1e7,  1e8,  1e9,  1e10, 1e11, 1e12, 1e13,
                                  1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
                                  1e21, 1e22, 1,    1,    1,    1,    1,
                                  1,    1,    1,    1};

/* The shape of the n bytes at s (16 readable): see num_classify. */
typedef struct num_shape {
    unsigned epos; /* position of the 'e' (n if none) */
    unsigned p;    /* position of the point (epos if none) */
    unsigned nd;   /* significand digits */
    int e10;       /* decimal exponent of the significand's last digit */
    unsigned ok;   /* 1 = of the form below */
} num_shape;

/* Classifies the usual price or amount (1.348e-05, 81.0, 0.00020814, 3000)
 * at once, with no loop and no branch: the text must be
 * digits[.digits][(e|E)[+-]d[d]], n <= 16, with at least one significand
 * digit. Three SSE2 compares give the digit and point bitmaps; the first
 * byte that is neither ends the significand and must be the 'e'; then an
 * optional sign and one or two digits to the end. Every condition is
 * computed as 0/1 and and-ed, so that the caller has one branch per row
 * (the shapes of a file's prices change from row to row). */
static ALWAYS_INLINE num_shape num_classify(const char *s, size_t len,
                                            __m128i v)
{
    const unsigned n = len > 16 ? 16u : (unsigned)len;
    const unsigned lim = 1u << n;
    const unsigned all = lim - 1u;
    const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    const unsigned md = (unsigned)_mm_movemask_epi8(
        _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
    const unsigned mdot =
        (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.')));
    num_shape h;
    const unsigned other = ~(md | mdot) & all;
    h.epos = (unsigned)__builtin_ctz(other | lim);
    const unsigned dots = mdot & ((1u << h.epos) - 1u);
    const unsigned has_dot = dots != 0;
    const unsigned has_e = h.epos < n;
    h.p = (unsigned)__builtin_ctz(dots | (1u << h.epos));
    h.nd = h.epos - has_dot;
    /* exponent: s[epos] is 'e'/'E', then [+-], then 1 or 2 digits */
    const unsigned c0 = (unsigned char)s[h.epos & 15];
    const unsigned c1 = (unsigned char)s[(h.epos + 1) & 15];
    const unsigned minus = c1 == '-';
    const unsigned x0 = h.epos + 1 + (minus | (c1 == '+')); /* 1st digit */
    const unsigned ed = n - x0; /* wraps when there is none */
    const unsigned xd = all & (0u - (1u << (x0 & 31)));
    const int last = s[(n - 1) & 15] - '0';
    const int prev = s[(n - 2) & 15] - '0';
    int ev = (ed == 2 ? prev * 10 + last : last) & -(int)has_e;
    /* without a point p == epos: no fraction digits */
    h.e10 = (minus ? -ev : ev) - (int)(h.epos - h.p - has_dot);
    h.ok = (len <= 16) & ((dots & (dots - 1u)) == 0) & (h.nd >= 1) &
           ((has_e ^ 1u) | (((c0 | 0x20u) == 'e') & (ed - 1u <= 1u) &
                            ((md & xd) == xd)));
    return h;
}

/* Clinger's fast path on the significand w and exponent of h: 1 with *out
 * and *sign (0 for a zero value) when h is of the form and w <= 2^53,
 * |e10| <= 22. The value is computed in every case (index masked into the
 * padded table) and only the flag says whether it is the answer. */
static ALWAYS_INLINE int num_finish(num_shape h, uint64_t w, double *out,
                                    int *sign)
{
    const unsigned ok = h.ok & (w <= TWO_53) &
                        ((unsigned)(h.e10 + 22) <= 44u);
    const double dw = (double)w;
    const unsigned ae = (unsigned)(h.e10 < 0 ? -h.e10 : h.e10) & 31u;
    *out = h.e10 < 0 ? dw / POW10P[ae] : dw * POW10P[ae];
    *sign = w != 0;
    return (int)ok;
}

/* num_classify + num_finish with the SSE2 baseline: the significand's
 * digits, the point squeezed out, are right-aligned in a 128-bit word and
 * converted 8 at a time (Lemire 2021, as above). 0 = not of the form (or out
 * of the fast range): the caller takes the general path, which decides. The
 * sign is never negative here; *sign is 0 for a zero value. The result is
 * bit for bit strtod's (Clinger). */
static ALWAYS_INLINE int num16(const char *s, size_t n, double *out, int *sign)
{
    const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
    num_shape h = num_classify(s, n, v);
    const __m128i d = _mm_sub_epi8(v, _mm_set1_epi8('0'));
    uint64_t dlo = (uint64_t)_mm_cvtsi128_si64(d);
    uint64_t dhi = (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(d, d));
    u128 x = (((u128)dhi << 64) | dlo) & low_bytes(h.epos & 31);
    /* squeeze out the point (p == epos: no point, nothing moves) */
    x = (x & low_bytes(h.p & 31)) | ((x >> 8) & ~low_bytes(h.p & 31));
    x <<= 8 * ((16 - h.nd) & 15);
    uint64_t w = swar_value8((uint64_t)x) * 100000000u +
                 swar_value8((uint64_t)(x >> 64));
    return num_finish(h, w, out, sign);
}

#if TRADES_AVX2
/* Up to 16 digit values right-aligned in x (leading bytes 0) -> their
 * value: three multiply-adds make two 8-digit halves (Lemire 2021, sec. 7,
 * SIMD parse of 16 digits; W. Mula, "SIMD-ized faster parse of integers",
 * 2014). */
static inline TARGET_AVX2 uint64_t value16_avx2(__m128i x)
{
    __m128i t = _mm_maddubs_epi16(
        x, _mm_setr_epi8(10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10,
                         1));
    t = _mm_madd_epi16(t, _mm_setr_epi16(100, 1, 100, 1, 100, 1, 100, 1));
    t = _mm_packus_epi32(t, t);
    t = _mm_madd_epi16(t,
                       _mm_setr_epi16(10000, 1, 10000, 1, 10000, 1, 10000, 1));
    return (uint64_t)(uint32_t)_mm_cvtsi128_si32(t) * 100000000u +
           (uint32_t)_mm_extract_epi32(t, 1);
}

/* Byte shuffles that right-align the significand digits of a number whose
 * significand occupies bytes [0, se) with its point at byte p (p == se: no
 * point): output byte j of row se * 17 + p takes digit k = j - (16 - nd),
 * nd = the digit count, from byte k (k + 1 past the point), or is zeroed
 * (0x80) for k < 0. A table load replaces the per-number broadcasts and
 * compares that built the same indices (W. Mula and D. Lemire, "Faster
 * Base64 Encoding and Decoding Using AVX2 Instructions", ACM TOW 2018, use
 * pshufb tables the same way). Rows with p > se are never used. */
#define SH_ND(se, p) ((se) - ((p) < (se)))
#define SH_K(se, p, j) ((j) - 16 + SH_ND(se, p))
#define SH_B(se, p, j)                                                         \
    (unsigned char)(SH_K(se, p, j) < 0                                         \
                        ? 0x80                                                 \
                        : SH_K(se, p, j) + (SH_K(se, p, j) >= (p)))
#define SH_ROW(se, p)                                                          \
    {SH_B(se, p, 0),  SH_B(se, p, 1),  SH_B(se, p, 2),  SH_B(se, p, 3),        \
     SH_B(se, p, 4),  SH_B(se, p, 5),  SH_B(se, p, 6),  SH_B(se, p, 7),        \
     SH_B(se, p, 8),  SH_B(se, p, 9),  SH_B(se, p, 10), SH_B(se, p, 11),       \
     SH_B(se, p, 12), SH_B(se, p, 13), SH_B(se, p, 14), SH_B(se, p, 15)}
#define SH_SE(se)                                                              \
    SH_ROW(se, 0), SH_ROW(se, 1), SH_ROW(se, 2), SH_ROW(se, 3),                \
        SH_ROW(se, 4), SH_ROW(se, 5), SH_ROW(se, 6), SH_ROW(se, 7),            \
        SH_ROW(se, 8), SH_ROW(se, 9), SH_ROW(se, 10), SH_ROW(se, 11),          \
        SH_ROW(se, 12), SH_ROW(se, 13), SH_ROW(se, 14), SH_ROW(se, 15),        \
        SH_ROW(se, 16)
static const unsigned char SHUF[17 * 17][16] = {
    SH_SE(0),  SH_SE(1),  SH_SE(2),  SH_SE(3),  SH_SE(4),  SH_SE(5),
    SH_SE(6),  SH_SE(7),  SH_SE(8),  SH_SE(9),  SH_SE(10), SH_SE(11),
    SH_SE(12), SH_SE(13), SH_SE(14), SH_SE(15), SH_SE(16)};
#undef SH_SE
#undef SH_ROW
#undef SH_B
#undef SH_K
#undef SH_ND

/* Clinger's fast path as two table lookups and no branch: v = w * MUL[i] /
 * DIV[i], i = e10 + 22; for e10 >= 0 the division by 1 is exact, for e10 <
 * 0 the multiplication by 1 is, so the one rounding is that of the exact
 * product or quotient of two exact doubles (Clinger 1990, sec. 4). Padded
 * to 64 so that an index masked with 63 stays inside. */
#define P10S(x)                                                                \
    x##e0, x##e1, x##e2, x##e3, x##e4, x##e5, x##e6, x##e7, x##e8, x##e9,      \
        x##e10, x##e11, x##e12, x##e13, x##e14, x##e15, x##e16, x##e17,        \
        x##e18, x##e19, x##e20, x##e21, x##e22
#define ONES8 1, 1, 1, 1, 1, 1, 1, 1
static const double CL_MUL[64] = {ONES8, ONES8, 1, 1, 1, 1, 1, 1,
                                  P10S(1), ONES8, ONES8, 1, 1, 1};
static const double CL_DIV[64] = {1e22, 1e21, 1e20, 1e19, 1e18, 1e17, 1e16,
                                  1e15, 1e14, 1e13, 1e12, 1e11, 1e10, 1e9,
                                  1e8,  1e7,  1e6,  1e5,  1e4,  1e3,  1e2,
                                  1e1,  1,    ONES8, ONES8, ONES8, ONES8,
                                  ONES8, 1};
#undef ONES8
#undef P10S

/* Byte constants of the AVX2 number kernel, loaded from memory: built in
 * registers (move + broadcast) they cost the compiler two instructions each
 * per row. */
typedef struct num_consts {
    __m256i zero_ch, nine, dot, minus, plus, lower, e, m10, m100, m10k, e8;
} num_consts;

static inline TARGET_AVX2 num_consts num_consts_load(void)
{
    static const unsigned char B[7][32] __attribute__((aligned(32))) = {
#define R32(c) {c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c,                 \
                c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c}
        R32('0'), R32(9), R32('.'), R32('-'), R32('+'), R32(0x20), R32('e')
#undef R32
    };
    num_consts k;
    /* the empty asm hides the values, so that the compiler keeps them in
     * registers instead of rebuilding them */
#define OPAQUE(v) __asm__("" : "+x"(v))
    k.zero_ch = _mm256_load_si256((const __m256i *)(const void *)B[0]);
    k.nine = _mm256_load_si256((const __m256i *)(const void *)B[1]);
    k.dot = _mm256_load_si256((const __m256i *)(const void *)B[2]);
    k.minus = _mm256_load_si256((const __m256i *)(const void *)B[3]);
    k.plus = _mm256_load_si256((const __m256i *)(const void *)B[4]);
    k.lower = _mm256_load_si256((const __m256i *)(const void *)B[5]);
    k.e = _mm256_load_si256((const __m256i *)(const void *)B[6]);
    k.m10 = _mm256_set1_epi16(0x010A);     /* 10, 1 */
    k.m100 = _mm256_set1_epi32(0x00010064); /* 100, 1 */
    k.m10k = _mm256_set1_epi32(0x00012710); /* 10^4, 1 */
    k.e8 = _mm256_set1_epi64x(100000000);
    OPAQUE(k.zero_ch);
    OPAQUE(k.nine);
    OPAQUE(k.dot);
    OPAQUE(k.minus);
    OPAQUE(k.plus);
    OPAQUE(k.lower);
    OPAQUE(k.e);
#undef OPAQUE
    return k;
}

/* The shape of one number from its byte-class bitmaps (bit i = byte i; 16
 * bytes readable at s): the usual price or amount, digits[.digits]
 * optionally followed by exactly e[+-]dd or E[+-]dd (what printf's %e/%g,
 * Python's repr and numpy write), at most 16 bytes, with at least one
 * significand digit. Every condition is computed as 0/1 (no branch). tail:
 * bit i set when bytes i-3..i are e, sign, digit, digit. Other exponent
 * spellings (e5, e+005) are not of the form: the general path reads them. */
typedef struct num_form {
    unsigned bad; /* not 0: not of the form (or longer than 16 bytes) */
    unsigned idx; /* row of SHUF */
    int e10;      /* decimal exponent of the last significand digit */
} num_form;

/* Each condition is a value that is not 0 when it fails, and they are
 * or-ed (one test per row at the end instead of a compare, set and and per
 * condition). */
static ALWAYS_INLINE TARGET_AVX2 num_form num_form_of(const char *s,
                                                      size_t len, unsigned md,
                                                      unsigned mdot,
                                                      unsigned tail,
                                                      unsigned mminus)
{
    num_form f;
    const unsigned n = len < 16 ? (unsigned)len : 16u;
    /* bit n - 1 of tail (none for n = 0: the shift is by 31 of a 16-bit
     * mask); it implies n >= 4, so that the reads below stay in the 16
     * bytes */
    const unsigned has_e = (tail >> ((n - 1u) & 31u)) & 1u;
    const unsigned se = n - 4 * has_e;
    /* the non-digits of the significand, which must be one point at most */
    const unsigned rest = _bzhi_u32(~md, se);
    const unsigned has_dot = rest != 0;
    const unsigned p = _tzcnt_u32(rest | (1u << (se & 31u)));
    /* the two exponent digits (read at 0 when there are none) */
    uint16_t ex = 0;
    memcpy(&ex, s + ((n - 2) & (0u - has_e)), 2);
    const unsigned y = (unsigned)ex - 0x3030u;
    const int ev = (int)(((y & 0xFFu) * 10u + (y >> 8)) & (0u - has_e));
    const int minus = (int)((mminus >> ((n - 3u) & 31u)) & has_e);
    f.e10 = ((ev ^ -minus) + minus) - (int)(se - p - has_dot);
    f.idx = se * 17u + p;
    /* no digit at all shows as w == 0 (see num_value) */
    f.bad = (rest & ~mdot) | _blsr_u32(rest) | (unsigned)((len - 1u) >> 4);
    return f;
}

/* Clinger's fast path on w and f (see CL_MUL); not 0 when it does not apply
 * or the value is 0 (w == 0, including no digit at all): w - 1 < 2^53
 * covers both. */
static ALWAYS_INLINE unsigned num_value(num_form f, uint64_t w, double *out)
{
    const unsigned i = (unsigned)(f.e10 + 22);
    *out = (double)(int64_t)w * CL_MUL[i & 63] / CL_DIV[i & 63];
    return f.bad | (unsigned)((w - 1u) >> 53) | (unsigned)(i > 44u);
}

/* Two numbers at once, one in each 128-bit lane of a 256-bit register (16
 * bytes readable at a and at b): byte classes by 6 compares and 4
 * movemasks for both, the digits right-aligned by one table shuffle per
 * lane, converted by three multiply-adds and one 32x32->64 multiply for
 * both (Lemire 2021, sec. 7; Mula 2014, both as above). Returns 0 when both
 * are of num_form_of's form, in Clinger's range and not zero: then *va and
 * *vb are bit for bit strtod's values. */
static inline TARGET_AVX2 unsigned num2_avx2(const num_consts *k,
                                             const char *a, size_t na,
                                             const char *b, size_t nb,
                                             double *va, double *vb)
{
    const __m256i v = _mm256_inserti128_si256(
        _mm256_castsi128_si256(
            _mm_loadu_si128((const __m128i *)(const void *)a)),
        _mm_loadu_si128((const __m128i *)(const void *)b), 1);
    const __m256i d = _mm256_sub_epi8(v, k->zero_ch);
    const unsigned md = (unsigned)_mm256_movemask_epi8(
        _mm256_cmpeq_epi8(_mm256_min_epu8(d, k->nine), d));
    const unsigned mdot =
        (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, k->dot));
    const __m256i minus = _mm256_cmpeq_epi8(v, k->minus);
    const unsigned mminus = (unsigned)_mm256_movemask_epi8(minus);
    const unsigned msign = (unsigned)_mm256_movemask_epi8(
        _mm256_or_si256(minus, _mm256_cmpeq_epi8(v, k->plus)));
    const unsigned me = (unsigned)_mm256_movemask_epi8(
        _mm256_cmpeq_epi8(_mm256_or_si256(v, k->lower), k->e));
    /* bits 0..2 of each lane would take bytes of the other lane (or
     * none): a pattern cannot end there */
    const unsigned tail =
        (me << 3) & (msign << 2) & (md << 1) & md & 0xFFF8FFF8u;
    const num_form fa = num_form_of(a, na, md & 0xFFFFu, mdot & 0xFFFFu,
                                    tail & 0xFFFFu, mminus & 0xFFFFu);
    const num_form fb = num_form_of(b, nb, md >> 16, mdot >> 16, tail >> 16,
                                    mminus >> 16);
    const __m256i idx = _mm256_inserti128_si256(
        _mm256_castsi128_si256(
            _mm_loadu_si128((const __m128i *)(const void *)SHUF[fa.idx])),
        _mm_loadu_si128((const __m128i *)(const void *)SHUF[fb.idx]), 1);
    __m256i t = _mm256_shuffle_epi8(d, idx);
    t = _mm256_maddubs_epi16(t, k->m10);
    t = _mm256_madd_epi16(t, k->m100);
    t = _mm256_packus_epi32(t, t);
    t = _mm256_madd_epi16(t, k->m10k);
    /* per lane: u32 0 = the high 8 digits, u32 1 = the low 8 */
    t = _mm256_add_epi64(_mm256_mul_epu32(t, k->e8), _mm256_srli_epi64(t, 32));
    const uint64_t wa = (uint64_t)_mm256_extract_epi64(t, 0);
    const uint64_t wb = (uint64_t)_mm256_extract_epi64(t, 2);
    return num_value(fa, wa, va) | num_value(fb, wb, vb);
}

/* 1..16 decimal digits at s (16 readable) -> *v; not 0 when s is not of
 * that form. No branch. */
static inline TARGET_AVX2 unsigned int16_avx2_bad(const char *s, size_t len,
                                                  int64_t *v)
{
    const unsigned n = len > 16 ? 16u : (unsigned)len;
    const __m128i d = _mm_sub_epi8(
        _mm_loadu_si128((const __m128i *)(const void *)s), _mm_set1_epi8('0'));
    const unsigned md = (unsigned)_mm_movemask_epi8(
        _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d));
    /* right-aligned by the table row of n digits without a point */
    const __m128i k =
        _mm_loadu_si128((const __m128i *)(const void *)SHUF[n * 18u]);
    *v = (int64_t)value16_avx2(_mm_shuffle_epi8(d, k));
    return _bzhi_u32(~md, n) | (unsigned)((len - 1u) >> 4);
}

#endif
#endif

/* The rest through strtod on a NUL-terminated copy; kept out of line so the
 * fast path needs no stack copy. */
static NOINLINE int slow_double(const char *s, size_t len, double *out)
{
    char small[128];
    char *tmp = small;
    if (len >= sizeof small) {
        tmp = malloc(len + 1);
        if (tmp == NULL)
            return 0;
    }
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *end = NULL;
    errno = 0;
    double v = strtod(tmp, &end);
    int ok = end == tmp + len && errno != ERANGE && isfinite(v);
    if (tmp != small)
        free(tmp);
    if (ok)
        *out = v;
    return ok;
}

static int pick_kernel(void);

#if TRADES_AVX2
/* num2_avx2 on one number, behind a call (it cannot be inlined into
 * baseline code): the same text in both lanes. A zero is refused here (the
 * reader wants positive numbers): the portable fast path then reads it. */
static TARGET_AVX2 NOINLINE int num_avx2_call(const char *s, size_t n,
                                              double *out)
{
    double other = 0.0;
    const num_consts k = num_consts_load();
    return num2_avx2(&k, s, n, s, n, out, &other) == 0;
}
#endif

int coce__parse_double(const char *s, size_t len, double *out)
{
    if (s == NULL || out == NULL || len == 0)
        return 0;
    int sign = 0;
#if TRADES_NUM16
    /* the reader's fast number path of the current kernel, on a padded
     * copy (fuzzed and tested against strtod through here); the value is
     * only stored when the path says it is the answer */
    const int kern = pick_kernel();
    if (len <= 16 && kern != K_PORTABLE) {
        char pad[16];
        memset(pad, 0, sizeof pad);
        memcpy(pad, s, len);
        double v = 0.0;
#if TRADES_AVX2
        int ok = kern == K_AVX2 ? num_avx2_call(pad, len, &v)
                                : num16(pad, len, &v, &sign);
#else
        int ok = num16(pad, len, &v, &sign);
#endif
        if (ok) {
            *out = v;
            return 1;
        }
    }
#endif
    if (fast_double(s, len, out, &sign))
        return 1;
    return slow_double(s, len, out);
}

/* coce__parse_double, and the sign of the value (-1, 0 or 1; -0.0 is 0):
 * the reader's positivity test then need not wait for the division. */
static inline int parse_signed(const char *s, size_t len, double *out,
                               int *sign)
{
    if (len == 0)
        return 0;
    if (fast_double(s, len, out, sign))
        return 1;
    if (!slow_double(s, len, out))
        return 0;
    *sign = *out > 0.0 ? 1 : *out < 0.0 ? -1 : 0;
    return 1;
}

/* ---- reader ------------------------------------------------------------- */

static void lower_trim(const char *s, size_t len, char *out, size_t out_len)
{
    while (len > 0 && isspace((unsigned char)*s)) {
        ++s;
        --len;
    }
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        --len;
    size_t n = 0;
    for (; n < len && n + 1 < out_len; ++n)
        out[n] = (char)tolower((unsigned char)s[n]);
    out[n] = '\0';
}


/* ---- line scanning -------------------------------------------------------
 * One pass per line finds its '\n' and every ',' before it together, 16
 * bytes at a time with SSE2 (baseline on x86-64), else 8 at a time in a
 * 64-bit word (SWAR), else byte by byte. No load ever starts or ends outside
 * [p, end): the tail shorter than a block goes to the next narrower loop, so
 * a mapping that ends exactly at a page boundary is never read past. */


/* Kernels: the block indexer and the number parser come in a portable
 * version (SWAR or bytes; the old scalar number path), an SSE2 one (the
 * x86-64 baseline) and an AVX2 one chosen at run time. Tests force each
 * (coce__trade_force_kernel) so that all of them see the same inputs; the
 * choice is read once per reader, at open. */

static int have_kernel(int k)
{
    if (k == K_PORTABLE)
        return 1;
#if defined(__SSE2__)
    if (k == K_SSE2)
        return 1;
#endif
#if TRADES_AVX2
    if (k == K_AVX2) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") &&
               __builtin_cpu_supports("bmi") &&
               __builtin_cpu_supports("bmi2") &&
               __builtin_cpu_supports("popcnt");
    }
#endif
    return 0;
}

static int pick_kernel(void)
{
    if (g_force_kernel != K_AUTO)
        return g_force_kernel;
    return have_kernel(K_AVX2) ? K_AVX2
           : have_kernel(K_SSE2) ? K_SSE2
                                 : K_PORTABLE;
}

/* 0 = the best the CPU has, 1 portable, 2 SSE2, 3 AVX2. Returns 1 if the
 * kernel is available (and now forced), 0 if not (nothing changes). */
int coce__trade_force_kernel(int k);
int coce__trade_force_kernel(int k)
{
    if (k != K_AUTO && (k < K_PORTABLE || k > K_AVX2 || !have_kernel(k)))
        return 0;
    g_force_kernel = k;
    return 1;
}

void coce__trade_force_portable(int on);
void coce__trade_force_portable(int on)
{
    g_force_kernel = on != 0 ? K_PORTABLE : K_AUTO;
}

/* The first MAX_COLS commas of a line; n_commas counts all of them. */
typedef struct line_scan {
    const char *comma[MAX_COLS];
    int n_commas;
} line_scan;

#if defined(__SSE2__) || TRADES_SWAR
/* Adds the commas flagged in m (bit i << shift flags base[i]) after the k
 * already in comma[]; returns the new count. */
static inline int add_commas(const char **comma, int k, const char *base,
                             uint64_t m, int shift)
{
    while (m != 0) {
        if (k < MAX_COLS)
            comma[k] = base + ((unsigned)__builtin_ctzll(m) >> shift);
        ++k;
        m &= m - 1;
    }
    return k;
}
#endif


#if defined(__SSE2__)
static inline uint64_t eq_mask16(__m128i v, __m128i c, int at)
{
    return (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, c)) << at;
}
#endif

/* Commas of the line starting at p (into ls) and its '\n', or NULL when
 * there is no '\n' in [p, end). */
static const char *scan_line(const char *p, const char *end, int portable,
                             line_scan *ls)
{
    const char *q = p;
    int k = 0;
#if defined(__SSE2__)
    if (!portable) {
        const __m128i vc = _mm_set1_epi8(',');
        const __m128i vn = _mm_set1_epi8('\n');
        /* 64 bytes per step: a row of ~80 bytes takes two steps, and the
         * bits of a step are walked as one word. */
        for (; end - q >= 64; q += 64) {
            const __m128i *v = (const __m128i *)(const void *)q;
            __m128i v0 = _mm_loadu_si128(v), v1 = _mm_loadu_si128(v + 1);
            __m128i v2 = _mm_loadu_si128(v + 2), v3 = _mm_loadu_si128(v + 3);
            uint64_t mc = eq_mask16(v0, vc, 0) | eq_mask16(v1, vc, 16) |
                          eq_mask16(v2, vc, 32) | eq_mask16(v3, vc, 48);
            uint64_t mn = eq_mask16(v0, vn, 0) | eq_mask16(v1, vn, 16) |
                          eq_mask16(v2, vn, 32) | eq_mask16(v3, vn, 48);
            if (mn != 0) {
                ls->n_commas =
                    add_commas(ls->comma, k, q, mc & ((mn & (0u - mn)) - 1u),
                               0);
                return q + __builtin_ctzll(mn);
            }
            k = add_commas(ls->comma, k, q, mc, 0);
        }
        for (; end - q >= 16; q += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
            uint64_t mc = eq_mask16(v, vc, 0);
            uint64_t mn = eq_mask16(v, vn, 0);
            if (mn != 0) {
                ls->n_commas =
                    add_commas(ls->comma, k, q, mc & ((mn & (0u - mn)) - 1u),
                               0);
                return q + __builtin_ctzll(mn);
            }
            k = add_commas(ls->comma, k, q, mc, 0);
        }
    }
#else
    (void)portable;
#endif
#if TRADES_SWAR
    for (; end - q >= 8; q += 8) {
        uint64_t w = 0;
        memcpy(&w, q, 8);
        uint64_t mc = swar_eq(w, ',');
        uint64_t mn = swar_eq(w, '\n');
        if (mn != 0) {
            ls->n_commas =
                add_commas(ls->comma, k, q, mc & ((mn & (0u - mn)) - 1u), 3);
            return q + ((unsigned)__builtin_ctzll(mn) >> 3);
        }
        k = add_commas(ls->comma, k, q, mc, 3);
    }
#endif
    for (; q < end; ++q) {
        if (*q == '\n') {
            ls->n_commas = k;
            return q;
        }
        if (*q == ',') {
            if (k < MAX_COLS)
                ls->comma[k] = q;
            ++k;
        }
    }
    ls->n_commas = k;
    return NULL;
}

/* ---- structural index ----------------------------------------------------
 * A block of up to BLOCK bytes is indexed at once: bitmaps of its ',' and
 * '\n' for each 64 bytes (one compare and movemask per 16 or 32 bytes), then
 * the bits are turned into arrays of positions ("flattened"). Rows are then
 * cut from the arrays: a row's field count is checked by two comparisons,
 * and its fields are found without looking at its bytes again. After
 * G. Langdale and D. Lemire, "Parsing Gigabytes of JSON per Second", VLDB
 * Journal 28(6), 2019, sec. 3.1 (stage 1: bitmaps) and sec. 3.2 (flattening
 * with a fixed number of unconditional writes per word), as applied to CSV
 * by G. Langdale's simdcsv (github.com/geofflangdale/simdcsv) and C. Ge et
 * al., "Speculative Distributed CSV Data Parsing for Big Data Analytics",
 * SIGMOD 2019. Quoted fields do not occur in trade files and are not
 * handled, as before. */

/* Trailing zeros of a non-zero word; bit 63 makes a zero word defined (its
 * slot is then past the count and overwritten later). */
static inline unsigned ctz63(uint64_t bits)
{
    return (unsigned)__builtin_ctzll(bits | (1ull << 63));
}

/* One position (+ off) of the lowest set bit, then that bit cleared. With
 * BMI (AVX2 kernel) tzcnt of 0 is defined (64): no guard bit needed. */
#define FLAT1(o, i, off, bits)                                                 \
    do {                                                                       \
        (o)[i] = (uint16_t)((off) + TZ64(bits));                               \
        (bits) &= (bits) - 1;                                                  \
    } while (0)
#define TZ64(x) ctz63(x)

/* Positions (+ off) of the set bits of `bits` at o; returns o + count. The
 * first 8 are written whether set or not (unrolled: a row of ~80 bytes has
 * about 6 separators per 64 bytes), so the usual word costs no branch on
 * its count; the slots past the count are overwritten later. */
static inline uint16_t *flatten8(uint16_t *o, unsigned off, uint64_t bits)
{
    const int cnt = __builtin_popcountll(bits);
    FLAT1(o, 0, off, bits);
    FLAT1(o, 1, off, bits);
    FLAT1(o, 2, off, bits);
    FLAT1(o, 3, off, bits);
    FLAT1(o, 4, off, bits);
    FLAT1(o, 5, off, bits);
    FLAT1(o, 6, off, bits);
    FLAT1(o, 7, off, bits);
    for (int i = 8; bits != 0; ++i)
        FLAT1(o, i, off, bits);
    return o + cnt;
}

/* The same with 2 unconditional writes (newlines: about one per row). */
static inline uint16_t *flatten2(uint16_t *o, unsigned off, uint64_t bits)
{
    const int cnt = __builtin_popcountll(bits);
    FLAT1(o, 0, off, bits);
    FLAT1(o, 1, off, bits);
    for (int i = 2; bits != 0; ++i)
        FLAT1(o, i, off, bits);
    return o + cnt;
}

#if TRADES_AVX2
/* flatten8 and flatten2 with BMI's tzcnt, defined (64) for a zero word. */
#undef TZ64
#define TZ64(x) ((unsigned)__builtin_ia32_tzcnt_u64(x))
static inline TARGET_AVX2 uint16_t *flatten8_bmi(uint16_t *o, unsigned off,
                                                 uint64_t bits)
{
    const int cnt = __builtin_popcountll(bits);
    FLAT1(o, 0, off, bits);
    FLAT1(o, 1, off, bits);
    FLAT1(o, 2, off, bits);
    FLAT1(o, 3, off, bits);
    FLAT1(o, 4, off, bits);
    FLAT1(o, 5, off, bits);
    FLAT1(o, 6, off, bits);
    FLAT1(o, 7, off, bits);
    for (int i = 8; bits != 0; ++i)
        FLAT1(o, i, off, bits);
    return o + cnt;
}

static inline TARGET_AVX2 uint16_t *flatten2_bmi(uint16_t *o, unsigned off,
                                                 uint64_t bits)
{
    const int cnt = __builtin_popcountll(bits);
    FLAT1(o, 0, off, bits);
    FLAT1(o, 1, off, bits);
    for (int i = 2; bits != 0; ++i)
        FLAT1(o, i, off, bits);
    return o + cnt;
}
#undef TZ64
#define TZ64(x) ctz63(x)
#endif

/* Output of the indexer: sep gets the position + 1 of every ',' and '\n'
 * (the start of the field after it), nl the position of every '\n'. */
typedef struct idx_out {
    uint16_t *sep, *nl;
} idx_out;

/* The same loop for every kernel: whole 64-byte steps in place, then the
 * tail copied into a zeroed 64-byte buffer (no load past [p, p + n)). */
#define INDEX_LOOP(MASKS, F8, F2)                                              \
    do {                                                                       \
        size_t off = 0;                                                        \
        uint64_t mc = 0, mn = 0;                                               \
        for (; off + 64 <= n; off += 64) {                                     \
            MASKS(p + off, &mc, &mn);                                          \
            o->sep = F8(o->sep, (unsigned)off + 1u, mc | mn);                  \
            o->nl = F2(o->nl, (unsigned)off, mn);                              \
        }                                                                      \
        if (off < n) {                                                         \
            char tail[64];                                                     \
            memset(tail, 0, sizeof tail);                                      \
            memcpy(tail, p + off, n - off);                                    \
            MASKS(tail, &mc, &mn);                                             \
            o->sep = F8(o->sep, (unsigned)off + 1u, mc | mn);                  \
            o->nl = F2(o->nl, (unsigned)off, mn);                              \
        }                                                                      \
    } while (0)

/* Bitmaps of ',' and '\n' in the 64 bytes at q (bit i = byte i). */
static inline void masks_portable(const char *q, uint64_t *mc, uint64_t *mn)
{
#if TRADES_SWAR
    uint64_t c = 0, l = 0;
    for (int k = 0; k < 8; ++k) {
        uint64_t w = 0;
        memcpy(&w, q + 8 * k, 8);
        /* the high bit of each byte to bit i of a byte: all partial
         * products land on distinct bits, so there is no carry */
        const uint64_t gather = 0x0102040810204080ull;
        c |= (((swar_eq(w, ',') >> 7) * gather) >> 56) << (8 * k);
        l |= (((swar_eq(w, '\n') >> 7) * gather) >> 56) << (8 * k);
    }
    *mc = c;
    *mn = l;
#else
    uint64_t c = 0, l = 0;
    for (int i = 0; i < 64; ++i) {
        c |= (uint64_t)(q[i] == ',') << i;
        l |= (uint64_t)(q[i] == '\n') << i;
    }
    *mc = c;
    *mn = l;
#endif
}

static void index_portable(const char *p, size_t n, idx_out *o)
{
    INDEX_LOOP(masks_portable, flatten8, flatten2);
}

#if defined(__SSE2__)
static inline void masks_sse2(const char *q, uint64_t *mc, uint64_t *mn)
{
    const __m128i vc = _mm_set1_epi8(',');
    const __m128i vn = _mm_set1_epi8('\n');
    const __m128i *v = (const __m128i *)(const void *)q;
    __m128i v0 = _mm_loadu_si128(v), v1 = _mm_loadu_si128(v + 1);
    __m128i v2 = _mm_loadu_si128(v + 2), v3 = _mm_loadu_si128(v + 3);
    *mc = eq_mask16(v0, vc, 0) | eq_mask16(v1, vc, 16) |
          eq_mask16(v2, vc, 32) | eq_mask16(v3, vc, 48);
    *mn = eq_mask16(v0, vn, 0) | eq_mask16(v1, vn, 16) |
          eq_mask16(v2, vn, 32) | eq_mask16(v3, vn, 48);
}

static void index_sse2(const char *p, size_t n, idx_out *o)
{
    INDEX_LOOP(masks_sse2, flatten8, flatten2);
}
#endif

#if TRADES_AVX2
static inline TARGET_AVX2 void masks_avx2(const char *q, uint64_t *mc,
                                          uint64_t *mn)
{
    const __m256i vc = _mm256_set1_epi8(',');
    const __m256i vn = _mm256_set1_epi8('\n');
    const __m256i *v = (const __m256i *)(const void *)q;
    __m256i lo = _mm256_loadu_si256(v), hi = _mm256_loadu_si256(v + 1);
    *mc = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, vc)) |
          (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, vc))
              << 32;
    *mn = (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, vn)) |
          (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, vn))
              << 32;
}

static TARGET_AVX2 void index_avx2(const char *p, size_t n, idx_out *o)
{
    INDEX_LOOP(masks_avx2, flatten8_bmi, flatten2_bmi);
}
#endif

/* Indexes the n <= BLOCK bytes at p into the reader's arrays (separators
 * from idx_sep[1]; idx_sep[0] = 0 stands for the newline before the
 * block); returns the number of newlines, and the separators' in *n_sep. */
static size_t index_block(const coce_trade_reader *r, const char *p, size_t n,
                          size_t *n_sep)
{
    idx_out o = {r->idx_sep + 1, r->idx_nl};
#if TRADES_AVX2
    if (r->kernel == K_AVX2)
        index_avx2(p, n, &o);
    else
#endif
#if defined(__SSE2__)
        if (r->kernel == K_SSE2)
        index_sse2(p, n, &o);
    else
#endif
        index_portable(p, n, &o);
    *n_sep = (size_t)(o.sep - (r->idx_sep + 1));
    return (size_t)(o.nl - r->idx_nl);
}

/* Counts the line [start, start + n) and drops a '\r' before its '\n'. */
static int take_line(coce_trade_reader *r, const char *start, size_t n,
                     const char **line, size_t *len)
{
    r->line++;
    if (n > 0 && start[n - 1] == '\r')
        --n;
    *line = start;
    *len = n;
    return 1;
}

/* Next line of the mapped file, in place (no copy, nothing written). */
static int next_row_map(coce_trade_reader *r, const char **line, size_t *len,
                        line_scan *ls, coce_err *err)
{
    if (r->pos >= r->map_len)
        return 0;
    const char *start = r->map + r->pos;
    const char *end = r->map + r->map_len;
    const char *nl = scan_line(start, end, r->portable, ls);
    size_t n = (size_t)((nl != NULL ? nl : end) - start);
    /* Same limit as the streaming path, whose buffer must hold a line. */
    if (n >= LINE_BUF_CAP)
        return coce_err_set(err, COCE_EPARSE,
                            "%s:%zu: line longer than %u bytes", r->path,
                            r->line + 1, LINE_BUF_CAP);
    r->pos += nl != NULL ? n + 1 : n;
    return take_line(r, start, n, line, len);
}

/* Takes the next line (without '\n' or "\r\n") and its commas.
 * Returns 1 with a line, 0 at the end, or a negative status with err set. */
static int next_row(coce_trade_reader *r, const char **line, size_t *len,
                    line_scan *ls, coce_err *err)
{
    if (r->map != NULL)
        return next_row_map(r, line, len, ls, err);
    if (r->buf == NULL) /* open allocates it with the gzip stream */
        return 0;
    for (;;) {
        char *start = r->buf + r->pos;
        const char *nl = scan_line(start, r->buf + r->end, r->portable, ls);
        size_t n = 0;
        if (nl != NULL) {
            n = (size_t)(nl - start);
            r->pos += n + 1;
        } else if (r->eof) {
            if (r->end == r->pos)
                return 0;
            n = r->end - r->pos;
            r->pos = r->end;
        } else {
            if (r->pos > 0) {
                memmove(r->buf, start, r->end - r->pos);
                r->end -= r->pos;
                r->pos = 0;
            }
            if (r->end == LINE_BUF_CAP)
                return coce_err_set(err, COCE_EPARSE,
                                    "%s:%zu: line longer than %u bytes",
                                    r->path, r->line + 1, LINE_BUF_CAP);
            int got = gzread(r->gz, r->buf + r->end,
                             (unsigned)(LINE_BUF_CAP - r->end));
            int errnum = Z_OK;
            const char *zmsg = gzerror(r->gz, &errnum);
            if (got < 0 || (got == 0 && errnum != Z_OK)) {
                if (errnum == Z_BUF_ERROR)
                    return coce_err_set(err, COCE_EPARSE,
                                        "%s:%zu: truncated gzip stream",
                                        r->path, r->line + 1);
                if (errnum == Z_ERRNO)
                    return coce_err_set(err, COCE_EIO, "%s:%zu: read: %s",
                                        r->path, r->line + 1,
                                        strerror(errno));
                return coce_err_set(err, COCE_EPARSE,
                                    "%s:%zu: corrupt gzip stream: %s",
                                    r->path, r->line + 1, zmsg);
            }
            if (got == 0)
                r->eof = 1;
            r->end += (size_t)got;
            continue;
        }
        return take_line(r, start, n, line, len);
    }
}

static int find_col(const coce_trade_reader *r, const char *const *names)
{
    for (int c = 0; c < r->n_cols; ++c)
        for (const char *const *n = names; *n != NULL; ++n)
            if (strcmp(r->col_name[c], *n) == 0)
                return c;
    return COL_NONE;
}

static int parse_header(coce_trade_reader *r, const char *line, size_t len,
                        coce_err *err)
{
    if (len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) { /* UTF-8 BOM */
        line += 3;
        len -= 3;
    }
    r->n_cols = 0;
    size_t a = 0;
    for (size_t i = 0; i <= len; ++i) {
        if (i < len && line[i] != ',')
            continue;
        if (r->n_cols == MAX_COLS)
            return coce_err_set(err, COCE_EPARSE,
                                "%s:1: more than %d columns in the header",
                                r->path, MAX_COLS);
        lower_trim(line + a, i - a, r->col_name[r->n_cols], COL_NAME_MAX);
        r->n_cols++;
        a = i + 1;
    }
    static const char *const SYM[] = {"symbol", "pair", NULL};
    static const char *const TIME[] = {"timestamp", "time_ms", "time", NULL};
    static const char *const PRICE[] = {"price", NULL};
    static const char *const QTY[] = {"amount", "qty", "quantity", NULL};
    static const char *const SIDE[] = {"side", NULL};
    r->c_sym = find_col(r, SYM);
    r->c_time = find_col(r, TIME);
    r->c_price = find_col(r, PRICE);
    r->c_qty = find_col(r, QTY);
    r->c_side = find_col(r, SIDE);
    r->fmt_a = r->n_cols == 7 && r->c_sym == 0 && r->c_time == 1 &&
               r->c_side == 3 && r->c_price == 4 && r->c_qty == 5;
    if (r->c_time == COL_NONE || r->c_price == COL_NONE ||
        r->c_qty == COL_NONE || r->c_side == COL_NONE)
        return coce_err_set(err, COCE_EPARSE,
                            "%s:1: unknown header '%.*s' (expected "
                            "symbol,timestamp,datetime,side,price,amount,"
                            "btc_volume or timestamp,price,qty,side)",
                            r->path, (int)(len > 200 ? 200 : len), line);
    return COCE_OK;
}

void coce_trade_reader_free(coce_trade_reader *r)
{
    if (r == NULL)
        return;
    if (r->gz != NULL)
        (void)gzclose(r->gz);
    if (r->map != NULL)
        (void)munmap(r->map_addr, r->map_len);
    free(r->buf);
    free(r->idx_sep);
    free(r->idx_nl);
    free(r->path);
    free(r);
}

static int reader_file_symbol(coce_trade_reader *r, coce_err *err)
{
    int64_t ms = 0;
    int rc = coce_trade_filename_parse(r->path, r->file_symbol,
                                       sizeof r->file_symbol, &ms);
    if ((rc != COCE_OK && rc != COCE_EPARSE) || r->file_symbol[0] == '\0')
        return coce_err_set(err, COCE_EPARSE,
                            "%s: no symbol column and no symbol in the file "
                            "name",
                            r->path);
    rc = coce_symbols_intern(r->symbols, r->file_symbol, &r->file_asset);
    if (rc != COCE_OK)
        return coce_err_set(err, rc, "%s: symbol '%s': %s", r->path,
                            r->file_symbol, coce_strerror(rc));
    r->have_symbol = 1;
    return COCE_OK;
}

/* A non-empty regular file that does not start with the gzip magic
 * (RFC 1952, 2.3.1) is mapped whole; 1 if it was. Anything else (gzip,
 * pipes, a failed mmap) takes the zlib stream. */
static int try_map(coce_trade_reader *r, int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0)
        return 0;
    unsigned char magic[2] = {0, 0};
    if (pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
        return 0;
    size_t n = (size_t)st.st_size;
    int flags = MAP_PRIVATE;
#ifdef MAP_POPULATE
    /* Page tables filled in one call instead of a fault per 16 pages (about
     * 4 % of the time on a cached file, see docs/ingest.md); not for files
     * that may not fit in memory. */
    if (n <= POPULATE_MAX)
        flags |= MAP_POPULATE;
#endif
    void *p = mmap(NULL, n, PROT_READ, flags, fd, 0);
    if (p == MAP_FAILED)
        return 0;
    (void)posix_madvise(p, n, POSIX_MADV_SEQUENTIAL);
    r->map = p;
    r->map_addr = p;
    r->map_len = n;
    return 1;
}

int coce_trade_reader_open(coce_trade_reader **out, const char *path,
                           coce_symbols *symbols,
                           const coce_trade_reader_opts *opts, coce_err *err)
{
    if (out == NULL || path == NULL || symbols == NULL)
        return coce_err_set(err, COCE_EINVAL,
                            "coce_trade_reader_open: NULL argument");
    *out = NULL;
    coce_trade_reader *r = calloc(1, sizeof *r);
    if (r == NULL)
        return coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
    size_t plen = strlen(path);
    r->path = malloc(plen + 1);
    if (r->path == NULL) {
        coce_trade_reader_free(r);
        return coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
    }
    memcpy(r->path, path, plen + 1);
    r->symbols = symbols;
    r->kernel = pick_kernel();
    r->portable = r->kernel == K_PORTABLE;
    if (opts != NULL)
        r->opts = *opts;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        coce_trade_reader_free(r);
        return coce_err_set(err, COCE_EIO, "%s: cannot open: %s", path,
                            strerror(e));
    }
    if (try_map(r, fd)) {
        (void)close(fd);
    } else {
        /* zeroed: the static analyser cannot see gzread fill it */
        r->buf = calloc(1, LINE_BUF_CAP + 1);
        r->gz = r->buf != NULL ? gzdopen(fd, "rb") : NULL;
        if (r->gz == NULL) {
            (void)close(fd);
            coce_trade_reader_free(r);
            return coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
        }
        (void)gzbuffer(r->gz, 128u * 1024u);
    }
    r->idx_sep = malloc(IDX_CAP * sizeof *r->idx_sep);
    r->idx_nl = malloc(IDX_CAP * sizeof *r->idx_nl);
    if (r->idx_sep == NULL || r->idx_nl == NULL) {
        coce_trade_reader_free(r);
        return coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
    }
    const char *line = NULL;
    size_t len = 0;
    line_scan ls;
    int rc = next_row(r, &line, &len, &ls, err);
    if (rc == 0)
        rc = coce_err_set(err, COCE_EPARSE, "%s: empty file (no header line)",
                          path);
    if (rc == 1)
        rc = parse_header(r, line, len, err);
    if (rc == COCE_OK && r->c_sym == COL_NONE)
        rc = reader_file_symbol(r, err);
    if (rc != COCE_OK) {
        coce_trade_reader_free(r);
        return rc;
    }
    *out = r;
    return COCE_OK;
}

typedef struct span {
    const char *s;
    size_t n;
} span;

/* isspace() of the C locale, without the locale table lookup. */
static inline int is_space(char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

static inline span trim_span(span f)
{
    /* Every C-locale space is <= ' ': one test per end in the usual case. */
    if (f.n > 0 && (unsigned char)f.s[0] > ' ' &&
        (unsigned char)f.s[f.n - 1] > ' ')
        return f;
    while (f.n > 0 && is_space(*f.s)) {
        ++f.s;
        --f.n;
    }
    while (f.n > 0 && is_space(f.s[f.n - 1]))
        --f.n;
    return f;
}

/* Field k of a line of n fields whose commas are in ls. */
static inline span field_at(const char *line, size_t len, const line_scan *ls,
                            int n, int k)
{
    const char *s = k == 0 ? line : ls->comma[k - 1] + 1;
    const char *e = k == n - 1 ? line + len : ls->comma[k];
    span f = {s, (size_t)(e - s)};
    return f;
}

/* At most 40 bytes of a field for a message. */
#define SHOW(f) (int)((f).n > 40 ? 40 : (f).n), (f).s


static int parse_time_field(span f, int64_t *out)
{
    /* The usual case, 13 digits of ms, without the general parser: the
     * digits before the last 8 one by one, those 8 in one word. */
#if TRADES_SWAR
    /* 9..16 digits: the first 8 in one word, the last n - 8 from a word
     * ending at the field's end with its first 16 - n bytes zeroed. */
    if (f.n >= 9 && f.n <= 16) {
        uint64_t a = 0, b = 0;
        memcpy(&a, f.s, 8);
        memcpy(&b, f.s + f.n - 8, 8);
        if (lead_digits(a) == 8 && lead_digits(b) == 8) {
            unsigned drop = (unsigned)(16 - f.n) * 8;
            uint64_t lo = swar_value8(((b - ONES * '0') >> drop) << drop);
            *out = (int64_t)(swar_value8(a - ONES * '0') * POW10U[f.n - 8] +
                             lo);
            return COCE_OK;
        }
    }
#endif
    if (f.n > 0 && f.n <= 18) {
        uint64_t v = 0;
        size_t head = f.n;
#if TRADES_SWAR
        uint64_t low = 0;
        if (f.n >= 8 && eight_digits(f.s + f.n - 8, &low))
            head = f.n - 8;
#endif
        size_t i = 0;
        for (; i < head && (unsigned)(f.s[i] - '0') < 10u; ++i)
            v = v * 10 + (unsigned)(f.s[i] - '0');
        if (i == head) {
#if TRADES_SWAR
            if (head != f.n)
                v = v * 100000000u + low;
#endif
            *out = (int64_t)v;
            return COCE_OK;
        }
    }
    return coce_trade_parse_time(f.s, f.n, out);
}

/* buy/BUY/Buy and sell/SELL/Sell: the length and first byte pick the one
 * candidate spelling group, then the rest is compared exactly. */
static int side_of(span f)
{
    if (f.n == 3 && (f.s[0] | 0x20) == 'b')
        return memcmp(f.s, "buy", 3) == 0 || memcmp(f.s, "BUY", 3) == 0 ||
                       memcmp(f.s, "Buy", 3) == 0
                   ? COCE_SIDE_BUY
                   : 0;
    if (f.n == 4 && (f.s[0] | 0x20) == 's')
        return memcmp(f.s, "sell", 4) == 0 || memcmp(f.s, "SELL", 4) == 0 ||
                       memcmp(f.s, "Sell", 4) == 0
                   ? COCE_SIDE_SELL
                   : 0;
    return 0;
}

static int row_asset(coce_trade_reader *r, span pair, coce_trade *t,
                     char *why, size_t why_len)
{
    if (r->have_last && pair.n == r->last_pair_len &&
        memcmp(pair.s, r->last_pair, pair.n) == 0) {
        t->asset = r->last_asset;
        return COCE_OK;
    }
    char raw[COCE_SYMBOL_MAX + 1];
    char base[COCE_SYMBOL_MAX + 1];
    if (pair.n <= COCE_SYMBOL_MAX) {
        memcpy(raw, pair.s, pair.n);
        raw[pair.n] = '\0';
    }
    if (pair.n > COCE_SYMBOL_MAX || memchr(pair.s, '\0', pair.n) != NULL ||
        coce_symbol_base(raw, base, sizeof base) != COCE_OK) {
        (void)snprintf(why, why_len, "column '%s': not a symbol '%.*s'",
                       r->col_name[r->c_sym], SHOW(pair));
        return 1;
    }
    int rc = coce_symbols_intern(r->symbols, base, &r->last_asset);
    if (rc != COCE_OK)
        return rc;
    memcpy(r->last_pair, raw, pair.n + 1);
    memset(r->last_pad, 0, sizeof r->last_pad);
    memcpy(r->last_pad, raw, pair.n < 16 ? pair.n : 16);
    r->last_pair_len = pair.n;
    r->have_last = 1;
    if (!r->have_symbol) {
        memcpy(r->file_symbol, base, sizeof base);
        r->have_symbol = 1;
    }
    t->asset = r->last_asset;
    return COCE_OK;
}

/* Row -> trade, reading the line where it lies; the commas come from the
 * same pass that found the line's end. Columns other than the symbol, time,
 * price, quantity and side (the datetime text and btc_volume of format a)
 * are counted but not read. Returns COCE_OK, 1 for a bad row (why filled)
 * or a negative status for a failure that is not the row's fault. */
static int parse_row(coce_trade_reader *r, const char *line, size_t len,
                     const line_scan *ls, coce_trade *t, char *why,
                     size_t why_len)
{
    int n = ls->n_commas + 1;
    if (n != r->n_cols) {
        (void)snprintf(why, why_len,
                       "wrong number of columns (expected %d, got %d)",
                       r->n_cols, n);
        return 1;
    }
    span tf = trim_span(field_at(line, len, ls, n, r->c_time));
    if (parse_time_field(tf, &t->time_ms) != COCE_OK) {
        (void)snprintf(why, why_len, "column '%s': not a time '%.*s'",
                       r->col_name[r->c_time], SHOW(tf));
        return 1;
    }
    const int cols[2] = {r->c_price, r->c_qty};
    double *vals[2] = {&t->price, &t->qty};
    static const char *const WHAT[2] = {"price", "quantity"};
    for (int k = 0; k < 2; ++k) {
        span s = trim_span(field_at(line, len, ls, n, cols[k]));
        const char *name = r->col_name[cols[k]];
        int sign = 0;
        if (!parse_signed(s.s, s.n, vals[k], &sign)) {
            (void)snprintf(why, why_len, "column '%s': not a number '%.*s'",
                           name, SHOW(s));
            return 1;
        }
        if (sign <= 0) {
            (void)snprintf(why, why_len, "column '%s': %s %s %.*s", name,
                           sign < 0 ? "negative" : "zero", WHAT[k], SHOW(s));
            return 1;
        }
    }
    span side = trim_span(field_at(line, len, ls, n, r->c_side));
    int sd = side_of(side);
    if (sd == 0) {
        (void)snprintf(why, why_len,
                       "column '%s': unknown side '%.*s' (expected buy or "
                       "sell)",
                       r->col_name[r->c_side], SHOW(side));
        return 1;
    }
    t->side = (int8_t)sd;
    if (r->c_sym == COL_NONE) {
        t->asset = r->file_asset;
    } else {
        int rc = row_asset(r, trim_span(field_at(line, len, ls, n, r->c_sym)),
                           t, why, why_len);
        if (rc != COCE_OK)
            return rc;
    }
    if (r->have_prev && t->time_ms < r->prev_time && !r->opts.allow_unsorted) {
        (void)snprintf(why, why_len,
                       "column '%s': timestamp goes backwards from %lld to "
                       "%lld",
                       r->col_name[r->c_time], (long long)r->prev_time,
                       (long long)t->time_ms);
        return 1;
    }
    return COCE_OK;
}

static int reader_fail(coce_trade_reader *r, int code, const coce_err *detail,
                       coce_err *err)
{
    r->failed = 1;
    r->fail_code = code;
    (void)snprintf(r->fail_msg, sizeof r->fail_msg, "%s",
                   detail != NULL ? detail->msg : coce_strerror(code));
    return coce_err_set(err, code, "%s", r->fail_msg);
}

/* ---- rows from the structural index ------------------------------------ */

/* Indexes the next block at r->pos (mapping or filled gzip buffer) and moves
 * r->pos past its last complete line. 0 when the block holds no newline
 * (end of data, a last line without '\n', a line longer than the block, or
 * a gzip buffer to refill): the line-by-line path then takes one line. */
static int build_block(coce_trade_reader *r)
{
    const char *base = NULL;
    size_t avail = 0;
    if (r->map != NULL) {
        base = r->map + r->pos;
        avail = r->map_len - r->pos;
    } else if (r->buf != NULL) {
        base = r->buf + r->pos;
        avail = r->end - r->pos;
    }
    if (avail == 0 || r->idx_sep == NULL)
        return 0;
    size_t n_sep = 0;
    size_t rows = index_block(r, base, avail < BLOCK ? avail : BLOCK, &n_sep);
    if (rows == 0)
        return 0;
    r->idx_sep[0] = 0;
    for (size_t i = 0; i <= MAX_COLS; ++i)
        r->idx_sep[n_sep + 1 + i] = (uint16_t)IDX_END;
    r->blk = base;
    r->blk_avail = avail;
    r->blk_rows = rows;
    r->blk_next = 0;
    r->blk_sep = 0;
    r->pos += (size_t)r->idx_nl[rows - 1] + 1;
    return 1;
}

/* Field k of a row whose separators are sp[0] (the line end before it,
 * as offset + 1 = the row's first byte) .. sp[nc] (its '\n'): from sp[k]
 * to the separator at sp[k + 1] - 1; the last field (last = 1) loses a
 * '\r' (cr = 1). No branch: k and last are per-file constants. */
static ALWAYS_INLINE span sep_field(const char *b, const uint16_t *sp, int k,
                                    unsigned last, unsigned cr)
{
    const size_t s = sp[k];
    const size_t e = (size_t)sp[k + 1] - 1u - (last & cr);
    span f = {b + s, e - s};
    return f;
}

/* The time, price, quantity and side of a row in the usual form; 0/1. */
#if TRADES_SWAR
/* 9..16 digits: the first 8 in one word, the last n - 8 from a word
 * ending at the field's end with its first 16 - n bytes zeroed (Lemire
 * 2021, as above). */
static ALWAYS_INLINE int time_swar(span tf, int64_t *out)
{
    if (tf.n < 9 || tf.n > 16)
        return 0;
    uint64_t a = 0, z = 0;
    memcpy(&a, tf.s, 8);
    memcpy(&z, tf.s + tf.n - 8, 8);
    unsigned drop = (unsigned)(16 - tf.n) * 8;
    *out = (int64_t)(swar_value8(a - ONES * '0') * POW10U[tf.n - 8] +
                     swar_value8(((z - ONES * '0') >> drop) << drop));
    const unsigned da = lead_digits(a), dz = lead_digits(z);
    return (da == 8) & (dz == 8);
}
#endif

/* What fast_row needs of the reader, copied into a local for each block
 * so that the stores into the trade buffer (int8_t side: a character type,
 * which may alias anything) do not force reloads from the reader. */
typedef struct row_ctx {
    /* vectors first (no padding between the fields) */
#if TRADES_AVX2
    num_consts nk; /* set by fast_run_avx2 */
    __m128i keep;  /* the first last_pair_len bytes (at most 16) */
#endif
#if defined(__SSE2__)
    __m128i want; /* last_pad */
#endif
    size_t last_pair_len;
    const char *last_pair;
#if TRADES_AVX2
    size_t keep_len; /* last_pair_len, or SIZE_MAX: no fast match */
#endif
    int n_cols, c_time, c_price, c_qty, c_side, c_sym;
    int have_last;
    coce_asset_id file_asset, last_asset;
} row_ctx;

static row_ctx row_ctx_of(const coce_trade_reader *r)
{
    row_ctx x;
    memset(&x, 0, sizeof x);
    x.n_cols = r->n_cols;
    x.c_time = r->c_time;
    x.c_price = r->c_price;
    x.c_qty = r->c_qty;
    x.c_side = r->c_side;
    x.c_sym = r->c_sym;
    x.have_last = r->have_last;
    x.last_pair_len = r->last_pair_len;
    x.file_asset = r->file_asset;
    x.last_asset = r->last_asset;
    x.last_pair = r->last_pair;
#if defined(__SSE2__)
    x.want = _mm_loadu_si128((const __m128i *)(const void *)r->last_pad);
#endif
#if TRADES_AVX2
    {
        static const unsigned char KEEP16[32] = {
            255, 255, 255, 255, 255, 255, 255, 255,
            255, 255, 255, 255, 255, 255, 255, 255};
        const size_t kl = r->last_pair_len > 16 ? 16 : r->last_pair_len;
        x.keep = _mm_loadu_si128(
            (const __m128i *)(const void *)(KEEP16 + 16 - kl));
        x.keep_len = r->have_last && r->last_pair_len <= 16
                         ? r->last_pair_len
                         : SIZE_MAX;
    }
#endif
    return x;
}

/* The one usual form of a row, with nothing to check twice: the row has
 * exactly n_cols fields (checked by the caller), a plain 9..16-digit time,
 * both numbers of num_classify's form and positive, "buy" or "sell", the symbol of the previous row (or none),
 * time >= lo (INT64_MIN when unsorted input is allowed or for the first
 * row). 16 bytes past every field start are readable. Everything is
 * computed and and-ed into one flag, so the caller has one branch per row;
 * 1 with *t filled, 0 = anything else: the caller hands the row to
 * parse_row, which decides (and words the error). fmt_a (a constant) =
 * the columns of format (a) in its usual order, so that the field offsets
 * are constants. The SSE2 and portable kernels; AVX2 has fast_row_avx2. */
static ALWAYS_INLINE int fast_row(const row_ctx *x, const char *b,
                                  const uint16_t *sp, unsigned cr,
                                  coce_trade *t, int64_t lo, int kern, int fmt_a)
{
    /* format (a): symbol,timestamp,datetime,side,price,amount,btc_volume */
    const int l = fmt_a ? 6 : x->n_cols - 1;
    const int c_time = fmt_a ? 1 : x->c_time;
    const int c_price = fmt_a ? 4 : x->c_price;
    const int c_qty = fmt_a ? 5 : x->c_qty;
    const int c_side = fmt_a ? 3 : x->c_side;
    const int c_sym = fmt_a ? 0 : x->c_sym;
    const span tf = sep_field(b, sp, c_time, (unsigned)(c_time == l), cr);
    const span pf = sep_field(b, sp, c_price, (unsigned)(c_price == l), cr);
    const span qf = sep_field(b, sp, c_qty, (unsigned)(c_qty == l), cr);
    const span sf = sep_field(b, sp, c_side, (unsigned)(c_side == l), cr);
    int ok = 0;
    int ps = 0, qs = 0;
    {
#if TRADES_SWAR
        ok = time_swar(tf, &t->time_ms);
#else
        ok = parse_time_field(tf, &t->time_ms) == COCE_OK;
#endif
#if TRADES_NUM16
        if (kern != K_PORTABLE) {
            ok &= num16(pf.s, pf.n, &t->price, &ps);
            ok &= num16(qf.s, qf.n, &t->qty, &qs);
        } else
#endif
            ok = ok && fast_double(pf.s, pf.n, &t->price, &ps) &&
                 fast_double(qf.s, qf.n, &t->qty, &qs);
    }
    ok &= (ps > 0) & (qs > 0) & (t->time_ms >= lo);
#if TRADES_SWAR
    /* the 4 bytes as one word: "buy" and its next byte, or "sell" */
    uint32_t w = 0;
    memcpy(&w, sf.s, 4);
    const int buy = (sf.n == 3) & ((w & 0xFFFFFFu) == 0x797562u);
    const int sell = (sf.n == 4) & (w == 0x6C6C6573u);
#else
    const int buy = sf.n == 3 && memcmp(sf.s, "buy", 3) == 0;
    const int sell = sf.n == 4 && memcmp(sf.s, "sell", 4) == 0;
#endif
    t->side = (int8_t)(buy ? COCE_SIDE_BUY : COCE_SIDE_SELL);
    ok &= buy | sell;
    if (c_sym == COL_NONE) {
        t->asset = x->file_asset;
        return ok;
    }
    const span yf = sep_field(b, sp, c_sym, (unsigned)(c_sym == l), cr);
    t->asset = x->last_asset;
    ok &= x->have_last & (yf.n == x->last_pair_len);
#if defined(__SSE2__)
    if (kern != K_PORTABLE) {
        /* the field's first bytes (16 readable) against the previous
         * row's, zero-padded, in one compare; no call to memcmp */
        static const unsigned char KEEP[32] = {
            255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
            255, 255, 255, 255, 255};
        const size_t yn = yf.n > 16 ? 16 : yf.n;
        __m128i keep = _mm_loadu_si128(
            (const __m128i *)(const void *)(KEEP + 16 - yn));
        __m128i got = _mm_and_si128(
            _mm_loadu_si128((const __m128i *)(const void *)yf.s), keep);
        __m128i want = x->want;
        return ok & (yf.n <= 16) &
               (_mm_movemask_epi8(_mm_cmpeq_epi8(got, want)) == 0xFFFF);
    }
#endif
    return ok && memcmp(yf.s, x->last_pair, yf.n) == 0;
}

#if TRADES_AVX2
/* fast_row for the AVX2 kernel, same contract: every check is a value that
 * is not 0 when it fails, or-ed into one (fewer instructions per row than a
 * compare, set and and for each). The symbol test uses the mask precomputed
 * for the previous row's symbol length (row_ctx.keep). */
static inline TARGET_AVX2 int fast_row_avx2(const row_ctx *x, const char *b,
                                            const uint16_t *sp, unsigned cr,
                                            coce_trade *t, int64_t lo,
                                            int fmt_a)
{
    const int l = fmt_a ? 6 : x->n_cols - 1;
    const int c_time = fmt_a ? 1 : x->c_time;
    const int c_price = fmt_a ? 4 : x->c_price;
    const int c_qty = fmt_a ? 5 : x->c_qty;
    const int c_side = fmt_a ? 3 : x->c_side;
    const int c_sym = fmt_a ? 0 : x->c_sym;
    const span tf = sep_field(b, sp, c_time, (unsigned)(c_time == l), cr);
    const span pf = sep_field(b, sp, c_price, (unsigned)(c_price == l), cr);
    const span qf = sep_field(b, sp, c_qty, (unsigned)(c_qty == l), cr);
    const span sf = sep_field(b, sp, c_side, (unsigned)(c_side == l), cr);
    int64_t time = 0;
    uint64_t bad = int16_avx2_bad(tf.s, tf.n, &time);
    bad |= num2_avx2(&x->nk, pf.s, pf.n, qf.s, qf.n, &t->price, &t->qty);
    t->time_ms = time;
    bad |= (uint64_t)(time < lo);
    /* "buy" and its next byte, or "sell", as one word; n must be 3 or 4 */
    uint32_t w = 0;
    memcpy(&w, sf.s, 4);
    const int is3 = sf.n == 3;
    bad |= (uint64_t)((w & (is3 ? 0xFFFFFFu : 0xFFFFFFFFu)) ^
                      (is3 ? 0x797562u : 0x6C6C6573u)) |
           (uint64_t)((sf.n - 3u) >> 1);
    t->side = (int8_t)(7 - 2 * (int)sf.n); /* 3 -> buy (1), 4 -> sell (-1) */
    if (c_sym == COL_NONE) {
        t->asset = x->file_asset;
        return bad == 0;
    }
    const span yf = sep_field(b, sp, c_sym, (unsigned)(c_sym == l), cr);
    t->asset = x->last_asset;
    /* keep_len is the previous symbol's length, or SIZE_MAX when there is
     * none or it is longer than 16 bytes */
    const __m128i got = _mm_and_si128(
        _mm_loadu_si128((const __m128i *)(const void *)yf.s), x->keep);
    bad |= (uint64_t)(yf.n ^ x->keep_len) |
           (uint64_t)((unsigned)_mm_movemask_epi8(
                          _mm_cmpeq_epi8(got, x->want)) ^
                      0xFFFFu);
    return bad == 0;
}
#endif

/* A good row (1), a blank or skipped one (0), or a failure (negative, the
 * reader has failed and err is set): the common end of both paths. */
static int finish_row(coce_trade_reader *r, int rc, const char *why,
                      coce_err *err)
{
    if (rc < 0)
        return reader_fail(r, rc, NULL, err);
    if (rc == 1) {
        if (!r->opts.skip_bad_rows) {
            coce_err detail;
            coce_err_set(&detail, COCE_EPARSE, "%s:%zu: %s", r->path, r->line,
                         why);
            return reader_fail(r, COCE_EPARSE, &detail, err);
        }
        if (r->skipped == 0)
            coce_log(COCE_LOG_WARN, "data_ingest", "trade_row_skipped",
                     "{s:s, s:I, s:s}", "file", r->path, "line",
                     (json_int_t)r->line, "error", why);
        r->skipped++;
        return 0;
    }
    return 1;
}

/* Where a run of fast rows stands: the next row j, the index si in idx_sep
 * of the line end before it, the next slot k of the buffer, and the time a
 * row may not go below. */
typedef struct run_pos {
    size_t j, si, k;
    int64_t lo;
} run_pos;

/* Takes rows of the current block while they are of fast_row's usual form,
 * and stops at the first that is not (or at the end of the block or the
 * buffer). Row j ends at the newline nl[j]; its separators start at
 * idx_sep[si] (the line end before it). It has exactly n_cols fields iff
 * its n_cols-th separator is that newline: separators are in order and the
 * one before the row is the previous newline, so one comparison checks the
 * field count (the separator array of simdcsv, Langdale, and Ge et al.
 * 2019). Kept apart from the rest of block_rows (and not inlined into it)
 * so that the loop's state stays in registers: with the general row parser
 * in the same function the compiler spilled it to the stack every row. */
static ALWAYS_INLINE void fast_run(const row_ctx *cx, const char *b,
                                   const uint16_t *nl, const uint16_t *sep,
                                   size_t n_rows, size_t avail,
                                   coce_trade *buf, size_t cap, int unsorted,
                                   run_pos *pos, int kern, int fmt_a)
{
    row_ctx x = *cx;
#if TRADES_AVX2
    if (kern == K_AVX2)
        x.nk = num_consts_load();
#endif
    const size_t nc = fmt_a ? 7u : (size_t)x.n_cols;
    size_t j = pos->j, si = pos->si, k = pos->k;
    int64_t lo = pos->lo;
    for (; j < n_rows && k < cap; ++j) {
        const size_t e = nl[j];
        const uint16_t *sp = sep + si;
        /* the next block's bytes, about one row's worth per row, so that
         * indexing it does not wait for memory (a prefetch never faults) */
        __builtin_prefetch(b + BLOCK + sp[0] + 64);
        /* n_cols fields (then e >= 3: b[e - 1] is inside the row), and
         * wide loads safe */
        if (!(sp[nc] == e + 1 && e + 16 <= avail))
            break;
#if TRADES_AVX2
        if (kern == K_AVX2) {
            if (!fast_row_avx2(&x, b, sp, b[e - 1] == '\r', &buf[k], lo,
                               fmt_a))
                break;
        } else
#endif
            if (!fast_row(&x, b, sp, b[e - 1] == '\r', &buf[k], lo, kern,
                          fmt_a))
            break;
        if (!unsorted)
            lo = buf[k].time_ms;
        ++k;
        si += nc;
    }
    pos->j = j;
    pos->si = si;
    pos->k = k;
    pos->lo = lo;
}

static NOINLINE void fast_run_base(const row_ctx *cx, const char *b,
                                   const uint16_t *nl, const uint16_t *sep,
                                   size_t n_rows, size_t avail,
                                   coce_trade *buf, size_t cap, int unsorted,
                                   run_pos *pos, int kern)
{
    if (kern == K_PORTABLE)
        fast_run(cx, b, nl, sep, n_rows, avail, buf, cap, unsorted, pos,
                 K_PORTABLE, 0);
    else
        fast_run(cx, b, nl, sep, n_rows, avail, buf, cap, unsorted, pos,
                 K_SSE2, 0);
}

#if TRADES_AVX2
/* flatten: inlines the AVX2 number and time kernels, which always_inline
 * cannot name from the baseline-target fast_row; fmt_a (the usual column
 * order of format a) gets its own copy with constant field numbers. */
static TARGET_AVX2 NOINLINE __attribute__((flatten)) void
fast_run_avx2(const row_ctx *cx, const char *b, const uint16_t *nl,
              const uint16_t *sep, size_t n_rows, size_t avail,
              coce_trade *buf, size_t cap, int unsorted, run_pos *pos,
              int fmt_a)
{
    if (fmt_a)
        fast_run(cx, b, nl, sep, n_rows, avail, buf, cap, unsorted, pos,
                 K_AVX2, 1);
    else
        fast_run(cx, b, nl, sep, n_rows, avail, buf, cap, unsorted, pos,
                 K_AVX2, 0);
}
#endif

/* Rows of the current block into buf[*n..cap): runs of fast rows
 * (fast_run), and each other row through the general parser. COCE_OK, or a
 * negative status (the reader has failed, err set). */
static int block_rows(coce_trade_reader *r, coce_trade *buf, size_t cap,
                      size_t *n, coce_err *err)
{
    row_ctx cx = row_ctx_of(r);
    const char *b = r->blk;
    const uint16_t *nl = r->idx_nl;
    const uint16_t *sep = r->idx_sep;
    const size_t avail = r->blk_avail;
    const size_t n_rows = r->blk_rows;
    const int unsorted = r->opts.allow_unsorted;
    const int kern = r->kernel;
    run_pos pos = {r->blk_next, r->blk_sep, *n,
                   r->have_prev && !unsorted ? r->prev_time : INT64_MIN};
    int rc = COCE_OK;
    for (;;) {
        const size_t k0 = pos.k, j0 = pos.j;
#if TRADES_AVX2
        if (kern == K_AVX2)
            fast_run_avx2(&cx, b, nl, sep, n_rows, avail, buf, cap, unsorted,
                          &pos, r->fmt_a);
        else
#endif
            fast_run_base(&cx, b, nl, sep, n_rows, avail, buf, cap,
                          unsorted, &pos, kern);
        if (pos.k > k0) {
            r->rows += pos.k - k0;
            r->prev_time = buf[pos.k - 1].time_ms;
            r->have_prev = 1;
        }
        r->line += pos.j - j0;
        if (pos.j >= n_rows || pos.k >= cap)
            break;
        /* the row at pos.j is not of the usual form */
        const size_t j = pos.j++;
        const size_t e = nl[j];
        const size_t start = sep[pos.si];
        r->line++;
        line_scan ls;
        int commas = 0;
        size_t x = pos.si + 1;
        for (; sep[x] <= e; ++x, ++commas)
            if (commas < MAX_COLS)
                ls.comma[commas] = b + sep[x] - 1;
        pos.si = x; /* sep[x] == e + 1: this row's newline */
        ls.n_commas = commas;
        size_t end = e;
        if (e > start && b[e - 1] == '\r')
            --end;
        const size_t len = end - start;
        if (len == 0)
            continue;
        char why[256];
        int got = finish_row(r,
                             parse_row(r, b + start, len, &ls, &buf[pos.k],
                                       why, sizeof why),
                             why, err);
        if (got < 0) {
            rc = got;
            break;
        }
        if (got == 1) {
            r->prev_time = buf[pos.k].time_ms;
            r->have_prev = 1;
            r->rows++;
            pos.lo = unsorted ? INT64_MIN : r->prev_time;
            pos.k++;
        }
        cx = row_ctx_of(r); /* the symbol may have changed */
    }
    r->blk_next = pos.j;
    r->blk_sep = pos.si;
    *n = pos.k;
    return rc;
}

int coce_trade_reader_next(coce_trade_reader *r, coce_trade *buf, size_t cap,
                           size_t *n_out, coce_err *err)
{
    if (n_out != NULL)
        *n_out = 0;
    if (r == NULL || buf == NULL || cap == 0 || n_out == NULL)
        return coce_err_set(err, COCE_EINVAL,
                            "coce_trade_reader_next: NULL argument or cap 0");
    if (r->failed)
        return coce_err_set(err, r->fail_code, "%s", r->fail_msg);
    size_t n = 0;
    while (n < cap) {
        if (r->blk_next < r->blk_rows || build_block(r)) {
            int rc = block_rows(r, buf, cap, &n, err);
            if (rc < 0) {
                *n_out = n;
                return rc;
            }
            continue;
        }
        /* line by line: the header, the end of the data, long lines, and
         * lines across a refill of the gzip buffer */
        const char *line = NULL;
        size_t len = 0;
        coce_err detail;
        line_scan ls;
        int rc = next_row(r, &line, &len, &ls, &detail);
        if (rc == 0)
            break;
        if (rc < 0) {
            *n_out = n;
            return reader_fail(r, rc, &detail, err);
        }
        if (len == 0)
            continue;
        char why[256];
        rc = finish_row(r, parse_row(r, line, len, &ls, &buf[n], why,
                                     sizeof why),
                        why, err);
        if (rc < 0) {
            *n_out = n;
            return rc;
        }
        if (rc == 1) {
            r->prev_time = buf[n].time_ms;
            r->have_prev = 1;
            r->rows++;
            n++;
        }
    }
    *n_out = n;
    return n > 0 ? COCE_OK : COCE_EEOF;
}

size_t coce_trade_reader_skipped(const coce_trade_reader *r)
{
    return r == NULL ? 0 : r->skipped;
}

size_t coce_trade_reader_rows(const coce_trade_reader *r)
{
    return r == NULL ? 0 : r->rows;
}

const char *coce_trade_reader_symbol(const coce_trade_reader *r)
{
    return r != NULL && r->have_symbol ? r->file_symbol : NULL;
}

/* ---- directory listing ------------------------------------------------ */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void coce_trade_dir_list_free(char **paths, size_t n)
{
    if (paths == NULL)
        return;
    for (size_t i = 0; i < n; ++i)
        free(paths[i]);
    free(paths);
}

int coce_trade_dir_list(const char *dir, char ***paths, size_t *n,
                        coce_err *err)
{
    if (dir == NULL || paths == NULL || n == NULL)
        return coce_err_set(err, COCE_EINVAL,
                            "coce_trade_dir_list: NULL argument");
    *paths = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return coce_err_set(err, COCE_EIO, "%s: cannot open directory: %s",
                            dir, strerror(errno));
    char **list = NULL;
    size_t count = 0, cap = 0;
    size_t dlen = strlen(dir);
    int sep = dlen > 0 && dir[dlen - 1] != '/';
    int rc = COCE_OK;
    const struct dirent *e = NULL;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        if (name[0] == '.' ||
            !(ends_with(name, ".csv") || ends_with(name, ".csv.gz")))
            continue;
        if (count == cap) {
            size_t ncap = cap == 0 ? 16 : cap * 2;
            char **bigger = realloc(list, ncap * sizeof *bigger);
            if (bigger == NULL) {
                rc = COCE_ENOMEM;
                break;
            }
            list = bigger;
            cap = ncap;
        }
        size_t len = dlen + (size_t)sep + strlen(name) + 1;
        list[count] = malloc(len);
        if (list[count] == NULL) {
            rc = COCE_ENOMEM;
            break;
        }
        (void)snprintf(list[count], len, "%s%s%s", dir, sep ? "/" : "", name);
        count++;
    }
    (void)closedir(d);
    if (rc != COCE_OK) {
        coce_trade_dir_list_free(list, count);
        return coce_err_set(err, rc, "%s: out of memory", dir);
    }
    /* Same directory prefix everywhere, so full paths sort as names do. */
    if (count > 1)
        qsort(list, count, sizeof *list, cmp_str);
    *paths = list;
    *n = count;
    return COCE_OK;
}

/* ---- writer ------------------------------------------------------------- */

struct coce_trade_writer {
    gzFile gz;
    char *path;
    char *tmp;
    char pair[COCE_SYMBOL_MAX + 1];
    int failed;
};

/* Shortest of %.15g..%.17g that strtod reads back exactly; %.17g always
 * does for a binary64 (IEEE 754-2008, 5.12.2). */
static void format_double(double v, char *out, size_t len)
{
    for (int prec = 15; prec <= 17; ++prec) {
        (void)snprintf(out, len, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

static void writer_discard(coce_trade_writer *w)
{
    if (w->gz != NULL)
        (void)gzclose(w->gz);
    w->gz = NULL;
    if (w->tmp != NULL)
        (void)remove(w->tmp);
    free(w->tmp);
    free(w->path);
    free(w);
}

int coce_trade_writer_open(coce_trade_writer **out, const char *path,
                           const char *pair, coce_err *err)
{
    if (out == NULL || path == NULL || pair == NULL)
        return coce_err_set(err, COCE_EINVAL,
                            "coce_trade_writer_open: NULL argument");
    *out = NULL;
    size_t plen = strlen(pair);
    if (plen == 0 || plen > COCE_SYMBOL_MAX || strpbrk(pair, ",\"\r\n") != NULL)
        return coce_err_set(err, COCE_EINVAL, "%s: invalid pair '%.40s'", path,
                            pair);
    coce_trade_writer *w = calloc(1, sizeof *w);
    if (w == NULL)
        return coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
    size_t len = strlen(path);
    w->path = malloc(len + 1);
    w->tmp = malloc(len + 5);
    if (w->path == NULL || w->tmp == NULL) {
        free(w->tmp);
        w->tmp = NULL;
        writer_discard(w);
        return coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
    }
    memcpy(w->path, path, len + 1);
    (void)snprintf(w->tmp, len + 5, "%s.tmp", path);
    memcpy(w->pair, pair, plen + 1);
    /* "T" = transparent: plain text through the same gzwrite path. */
    w->gz = gzopen(w->tmp, ends_with(path, ".gz") ? "wb6" : "wbT");
    if (w->gz == NULL) {
        int e = errno;
        free(w->tmp);
        w->tmp = NULL;
        writer_discard(w);
        return coce_err_set(err, COCE_EIO, "%s: cannot create: %s", path,
                            strerror(e));
    }
    if (gzputs(w->gz, "symbol,timestamp,datetime,side,price,amount,"
                      "btc_volume\n") < 0) {
        writer_discard(w);
        return coce_err_set(err, COCE_EIO, "%s: write failed", path);
    }
    *out = w;
    return COCE_OK;
}

int coce_trade_writer_write(coce_trade_writer *w, const coce_trade *t,
                            coce_err *err)
{
    if (w == NULL || t == NULL)
        return coce_err_set(err, COCE_EINVAL,
                            "coce_trade_writer_write: NULL argument");
    if (w->failed)
        return coce_err_set(err, COCE_EIO, "%s: an earlier write failed",
                            w->path);
    if (!isfinite(t->price) || t->price <= 0.0 || !isfinite(t->qty) ||
        t->qty <= 0.0 ||
        (t->side != COCE_SIDE_BUY && t->side != COCE_SIDE_SELL))
        return coce_err_set(err, COCE_EINVAL,
                            "%s: trade at %lld: price %g, qty %g, side %d: "
                            "price and qty must be positive, side buy or sell",
                            w->path, (long long)t->time_ms, t->price, t->qty,
                            (int)t->side);
    char when[32], price[32], qty[32], vol[32];
    if (coce_trade_format_time(t->time_ms, when, sizeof when) != COCE_OK)
        return coce_err_set(err, COCE_ERANGE, "%s: time %lld out of range",
                            w->path, (long long)t->time_ms);
    format_double(t->price, price, sizeof price);
    format_double(t->qty, qty, sizeof qty);
    format_double(t->price * t->qty, vol, sizeof vol);
    char line[256];
    int n = snprintf(line, sizeof line, "%s,%lld,%s,%s,%s,%s,%s\n", w->pair,
                     (long long)t->time_ms, when,
                     t->side == COCE_SIDE_BUY ? "buy" : "sell", price, qty,
                     vol);
    if (n <= 0 || (size_t)n >= sizeof line ||
        gzwrite(w->gz, line, (unsigned)n) != n) {
        w->failed = 1;
        return coce_err_set(err, COCE_EIO, "%s: write failed", w->path);
    }
    return COCE_OK;
}

int coce_trade_writer_close(coce_trade_writer *w, coce_err *err)
{
    if (w == NULL)
        return COCE_OK;
    int zrc = gzclose(w->gz);
    w->gz = NULL;
    if (w->failed || zrc != Z_OK) {
        int rc = coce_err_set(err, COCE_EIO, "%s: write failed", w->path);
        writer_discard(w);
        return rc;
    }
    if (rename(w->tmp, w->path) != 0) {
        int rc = coce_err_set(err, COCE_EIO, "%s: rename: %s", w->path,
                              strerror(errno));
        writer_discard(w);
        return rc;
    }
    free(w->tmp);
    w->tmp = NULL;
    writer_discard(w);
    return COCE_OK;
}
