/* VADER scoring (Hutto & Gilbert, ICWSM 2014). The rules follow the
 * reference implementation cjhutto/vaderSentiment (vaderSentiment.py,
 * release 3.3.x): function names in comments below are the reference's.
 * Where the reference deviates from the paper (quirks), the reference wins,
 * because the point is to reproduce its scores; docs/sentiment.md lists
 * them. */
#include "alpha/sentiment.h"

#include "utils/error.h"
#include "utils/fsutil.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Empirical constants of the paper, section 3 (as in the reference). */
#define B_INCR 0.293
#define B_DECR (-0.293)
#define C_INCR 0.733
#define N_SCALAR (-0.74)
#define EP_STEP 0.292 /* per '!', at most 4 (_amplify_ep) */
#define QM_STEP 0.18  /* per '?' when 2 or 3 (_amplify_qm) */
#define QM_MAX 0.96   /* 4 or more '?' */
#define NORM_ALPHA 15.0

#define CP_INVALID 0xFFFFFFFFu

/* ---- word lists of the reference (BOOSTER_DICT, NEGATE, SPECIAL_CASES) */

typedef struct word_val {
    const char *w;
    double v;
} word_val;

static const word_val boosters[] = {
    {"absolutely", B_INCR},    {"amazingly", B_INCR},
    {"awfully", B_INCR},       {"completely", B_INCR},
    {"considerable", B_INCR},  {"considerably", B_INCR},
    {"decidedly", B_INCR},     {"deeply", B_INCR},
    {"effing", B_INCR},        {"enormous", B_INCR},
    {"enormously", B_INCR},    {"entirely", B_INCR},
    {"especially", B_INCR},    {"exceptional", B_INCR},
    {"exceptionally", B_INCR}, {"extreme", B_INCR},
    {"extremely", B_INCR},     {"fabulously", B_INCR},
    {"flipping", B_INCR},      {"flippin", B_INCR},
    {"frackin", B_INCR},       {"fracking", B_INCR},
    {"fricking", B_INCR},      {"frickin", B_INCR},
    {"frigging", B_INCR},      {"friggin", B_INCR},
    {"fully", B_INCR},         {"fuckin", B_INCR},
    {"fucking", B_INCR},       {"fuggin", B_INCR},
    {"fugging", B_INCR},       {"greatly", B_INCR},
    {"hella", B_INCR},         {"highly", B_INCR},
    {"hugely", B_INCR},        {"incredible", B_INCR},
    {"incredibly", B_INCR},    {"intensely", B_INCR},
    {"major", B_INCR},         {"majorly", B_INCR},
    {"more", B_INCR},          {"most", B_INCR},
    {"particularly", B_INCR},  {"purely", B_INCR},
    {"quite", B_INCR},         {"really", B_INCR},
    {"remarkably", B_INCR},    {"so", B_INCR},
    {"substantially", B_INCR}, {"thoroughly", B_INCR},
    {"total", B_INCR},         {"totally", B_INCR},
    {"tremendous", B_INCR},    {"tremendously", B_INCR},
    {"uber", B_INCR},          {"unbelievably", B_INCR},
    {"unusually", B_INCR},     {"utter", B_INCR},
    {"utterly", B_INCR},       {"very", B_INCR},
    {"almost", B_DECR},        {"barely", B_DECR},
    {"hardly", B_DECR},        {"kinda", B_DECR},
    {"kindof", B_DECR},        {"kind-of", B_DECR},
    {"less", B_DECR},          {"little", B_DECR},
    {"marginal", B_DECR},      {"marginally", B_DECR},
    {"occasional", B_DECR},    {"occasionally", B_DECR},
    {"partly", B_DECR},        {"scarce", B_DECR},
    {"scarcely", B_DECR},      {"slight", B_DECR},
    {"slightly", B_DECR},      {"somewhat", B_DECR},
    {"sorta", B_DECR},         {"sortof", B_DECR},
    {"sort-of", B_DECR},
};

/* The two-word keys of BOOSTER_DICT: a single token never equals them, they
 * act only through the n-gram step of _special_idioms_check. */
typedef struct phrase {
    const char *w[3];
    size_t n;
    double v;
} phrase;

static const phrase booster_bigrams[] = {
    {{"just", "enough", NULL}, 2, B_DECR},
    {{"kind", "of", NULL}, 2, B_DECR},
    {{"sort", "of", NULL}, 2, B_DECR},
};

/* SPECIAL_CASES without "badass": a one-word key can never equal the
 * two- or three-word sequences the reference looks up (dead entry). */
static const phrase special_cases[] = {
    {{"the", "shit", NULL}, 2, 3.0},
    {{"the", "bomb", NULL}, 2, 3.0},
    {{"bad", "ass", NULL}, 2, 1.5},
    {{"bus", "stop", NULL}, 2, 0.0},
    {{"yeah", "right", NULL}, 2, -2.0},
    {{"kiss", "of", "death"}, 3, -1.5},
    {{"to", "die", "for"}, 3, 3.0},
    {{"beating", "heart", NULL}, 2, 3.1},
    {{"broken", "heart", NULL}, 2, -2.9},
};

static const char *const negate_words[] = {
    "aint",     "arent",    "cannot",   "cant",     "couldnt",  "darent",
    "didnt",    "doesnt",   "ain't",    "aren't",   "can't",    "couldn't",
    "daren't",  "didn't",   "doesn't",  "dont",     "hadnt",    "hasnt",
    "havent",   "isnt",     "mightnt",  "mustnt",   "neither",  "don't",
    "hadn't",   "hasn't",   "haven't",  "isn't",    "mightn't", "mustn't",
    "neednt",   "needn't",  "never",    "none",     "nope",     "nor",
    "not",      "nothing",  "nowhere",  "oughtnt",  "shant",    "shouldnt",
    "uhuh",     "wasnt",    "werent",   "oughtn't", "shan't",   "shouldn't",
    "uh-uh",    "wasn't",   "weren't",  "without",  "wont",     "wouldnt",
    "won't",    "wouldn't", "rarely",   "seldom",   "despite",
};

/* ---- the handle ------------------------------------------------------ */

enum { F_LEX = 1, F_BOOST = 2, F_NEG = 4 };

typedef struct entry {
    size_t off, len; /* key in the arena */
    uint64_t hash;
    double lex, boost;
    unsigned flags; /* 0 = empty slot */
} entry;

typedef struct emoji {
    uint32_t cp;
    size_t seq; /* file order: the last definition wins, as in a dict */
    size_t off, len;
    unsigned bangs, qmarks; /* '!' and '?' in the description */
    int pad;                /* add-on emoji: kept as a token of its own */
} emoji;

typedef struct arena {
    char *p;
    size_t len, cap;
} arena;

typedef struct tok {
    size_t off, len;   /* token (after _strip_punc_if_word) in ws->text */
    size_t loff, llen; /* its lower-case form in ws->lower */
    double lex, boost;
    unsigned flags;
    int upper; /* str.isupper() */
    int nt;    /* contains "n't" */
} tok;

struct coce_sentiment_ws {
    char *text, *lower;
    size_t text_cap, lower_cap;
    tok *toks;
    double *sent;
    size_t tok_cap;
};

struct coce_sentiment {
    arena keys;
    entry *tab;
    size_t tab_cap, tab_n, lex_n;
    emoji *emo;
    size_t emo_n;
    arena desc;
    int16_t ascii_emo[128]; /* index into emo for ASCII code points, or -1 */
    coce_sentiment_ws *ws;  /* the handle's own scratch (mutable cache) */
};

/* ---- UTF-8 and Python's character classes ---------------------------- */

/* Decodes one code point at s[i..n); returns its byte length (>= 1). An
 * invalid sequence yields CP_INVALID for one byte. */
static size_t utf8_next(const unsigned char *s, size_t i, size_t n,
                        uint32_t *cp)
{
    unsigned c = s[i];
    size_t k;
    uint32_t v;
    uint32_t min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        k = 2;
        v = c & 0x1Fu;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        v = c & 0x0Fu;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        v = c & 0x07u;
        min = 0x10000;
    } else {
        *cp = CP_INVALID;
        return 1;
    }
    if (n - i < k) {
        *cp = CP_INVALID;
        return 1;
    }
    for (size_t j = 1; j < k; ++j) {
        unsigned d = s[i + j];
        if ((d & 0xC0u) != 0x80u) {
            *cp = CP_INVALID;
            return 1;
        }
        v = (v << 6) | (d & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
        *cp = CP_INVALID;
        return 1;
    }
    *cp = v;
    return k;
}

static size_t utf8_put(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0u | (cp >> 6));
        out[1] = (char)(0x80u | (cp & 0x3Fu));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0u | (cp >> 12));
        out[1] = (char)(0x80u | ((cp >> 6) & 0x3Fu));
        out[2] = (char)(0x80u | (cp & 0x3Fu));
        return 3;
    }
    out[0] = (char)(0xF0u | (cp >> 18));
    out[1] = (char)(0x80u | ((cp >> 12) & 0x3Fu));
    out[2] = (char)(0x80u | ((cp >> 6) & 0x3Fu));
    out[3] = (char)(0x80u | (cp & 0x3Fu));
    return 4;
}

/* Python's str.split() separators (Py_UNICODE_ISSPACE). */
static int is_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) ||
           c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

/* string.punctuation */
static int is_punct(unsigned char c)
{
    return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) ||
           (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}

enum { CASE_NONE = 0, CASE_UPPER = 1, CASE_LOWER = 2 };

/* Case class and lower-case mapping (Python's str.lower / str.isupper) for
 * the cased scripts a social-media text meets most: ASCII, Latin-1,
 * Latin Extended-A, Greek, basic Cyrillic, fullwidth Latin and the three
 * letter-like signs that lower to Latin/Greek letters. Other code points
 * are taken as uncased (documented limitation). lower[] receives up to two
 * code points; returns their count. */
static int case_of(uint32_t c, uint32_t lower[2], size_t *nlower)
{
    *nlower = 1;
    lower[0] = c;
    if (c < 0x80) {
        if (c >= 'A' && c <= 'Z') {
            lower[0] = c + 32;
            return CASE_UPPER;
        }
        return (c >= 'a' && c <= 'z') ? CASE_LOWER : CASE_NONE;
    }
    if (c < 0x100) {
        if (c == 0xAA || c == 0xB5 || c == 0xBA)
            return CASE_LOWER;
        if (c >= 0xC0 && c <= 0xDE && c != 0xD7) {
            lower[0] = c + 0x20;
            return CASE_UPPER;
        }
        return (c >= 0xDF && c != 0xF7) ? CASE_LOWER : CASE_NONE;
    }
    if (c < 0x180) {
        if (c == 0x130) { /* I with dot lowers to i + combining dot */
            lower[0] = 'i';
            lower[1] = 0x307;
            *nlower = 2;
            return CASE_UPPER;
        }
        if (c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F)
            return CASE_LOWER;
        if (c == 0x178) {
            lower[0] = 0xFF;
            return CASE_UPPER;
        }
        int odd_upper = (c >= 0x139 && c <= 0x148) || c >= 0x179;
        if ((c & 1u) == (odd_upper ? 1u : 0u)) {
            lower[0] = c + 1;
            return CASE_UPPER;
        }
        return CASE_LOWER;
    }
    if (c >= 0x386 && c <= 0x3CE) {
        if (c == 0x386) {
            lower[0] = 0x3AC;
            return CASE_UPPER;
        }
        if (c >= 0x388 && c <= 0x38A) {
            lower[0] = c + 37;
            return CASE_UPPER;
        }
        if (c == 0x38C) {
            lower[0] = 0x3CC;
            return CASE_UPPER;
        }
        if (c == 0x38E || c == 0x38F) {
            lower[0] = c + 63;
            return CASE_UPPER;
        }
        if ((c >= 0x391 && c <= 0x3A1) || (c >= 0x3A3 && c <= 0x3AB)) {
            lower[0] = c + 0x20;
            return CASE_UPPER;
        }
        return (c == 0x390 || c >= 0x3AC) ? CASE_LOWER : CASE_NONE;
    }
    if (c >= 0x400 && c <= 0x45F) {
        if (c < 0x410) {
            lower[0] = c + 0x50;
            return CASE_UPPER;
        }
        if (c < 0x430) {
            lower[0] = c + 0x20;
            return CASE_UPPER;
        }
        return CASE_LOWER;
    }
    if (c == 0x2126 || c == 0x212A || c == 0x212B) {
        lower[0] = c == 0x2126 ? 0x3C9u : (c == 0x212A ? 'k' : 0xE5u);
        return CASE_UPPER;
    }
    if (c >= 0xFF21 && c <= 0xFF3A) {
        lower[0] = c + 0x20;
        return CASE_UPPER;
    }
    if (c >= 0xFF41 && c <= 0xFF5A)
        return CASE_LOWER;
    return CASE_NONE;
}

/* ---- hash table of words --------------------------------------------- */

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; ++i) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int arena_put(arena *a, const char *s, size_t n, size_t *off)
{
    if (a->len + n + 1 > a->cap) {
        size_t cap = a->cap ? a->cap : 4096;
        while (a->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(a->p, cap);
        if (!p)
            return COCE_ENOMEM;
        a->p = p;
        a->cap = cap;
    }
    if (n)
        memcpy(a->p + a->len, s, n);
    a->p[a->len + n] = '\0';
    *off = a->len;
    a->len += n + 1;
    return COCE_OK;
}

static const entry *tab_find(const coce_sentiment *s, const char *w, size_t n,
                             uint64_t h)
{
    size_t mask = s->tab_cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        const entry *e = &s->tab[i];
        if (!e->flags)
            return NULL;
        if (e->hash == h && e->len == n && memcmp(s->keys.p + e->off, w, n) == 0)
            return e;
    }
}

static int tab_grow(coce_sentiment *s)
{
    size_t cap = s->tab_cap ? s->tab_cap * 2 : 1024;
    entry *t = calloc(cap, sizeof *t);
    if (!t)
        return COCE_ENOMEM;
    for (size_t i = 0; i < s->tab_cap; ++i) {
        const entry *e = &s->tab[i];
        if (!e->flags)
            continue;
        size_t j = (size_t)e->hash & (cap - 1);
        while (t[j].flags)
            j = (j + 1) & (cap - 1);
        t[j] = *e;
    }
    free(s->tab);
    s->tab = t;
    s->tab_cap = cap;
    return COCE_OK;
}

/* Inserts or updates word w: sets the given flag and value (a later
 * lexicon line overrides an earlier one, as the reference's dict does). */
static int tab_set(coce_sentiment *s, const char *w, size_t n, unsigned flag,
                   double v)
{
    if ((s->tab_n + 1) * 2 > s->tab_cap) {
        int rc = tab_grow(s);
        if (rc)
            return rc;
    }
    uint64_t h = fnv1a(w, n);
    size_t mask = s->tab_cap - 1;
    size_t i = (size_t)h & mask;
    while (s->tab[i].flags &&
           !(s->tab[i].hash == h && s->tab[i].len == n &&
             memcmp(s->keys.p + s->tab[i].off, w, n) == 0))
        i = (i + 1) & mask;
    entry *e = &s->tab[i];
    if (!e->flags) {
        int rc = arena_put(&s->keys, w, n, &e->off);
        if (rc)
            return rc;
        e->len = n;
        e->hash = h;
        ++s->tab_n;
    }
    if (flag == F_LEX && !(e->flags & F_LEX))
        ++s->lex_n;
    e->flags |= flag;
    if (flag == F_LEX)
        e->lex = v;
    else if (flag == F_BOOST)
        e->boost = v;
    return COCE_OK;
}

/* ---- loading --------------------------------------------------------- */

/* Lower-cases w[0..n) into out (capacity >= 2n: a lowered code point is
 * never more than 1.5 times as long); returns the new length. Sets *upper
 * to Python's str.isupper() of w. */
static size_t lower_word(const char *w, size_t n, char *out, int *upper)
{
    const unsigned char *u = (const unsigned char *)w;
    size_t o = 0;
    int cased = 0;
    int has_lower = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_next(u, i, n, &cp);
        uint32_t low[2];
        size_t nl;
        int c = cp == CP_INVALID ? CASE_NONE : case_of(cp, low, &nl);
        if (c == CASE_NONE || c == CASE_LOWER) {
            memcpy(out + o, w + i, k);
            o += k;
            if (c == CASE_LOWER)
                has_lower = 1;
        } else {
            cased = 1;
            for (size_t j = 0; j < nl; ++j)
                o += utf8_put(low[j], out + o);
        }
        i += k;
    }
    *upper = cased && !has_lower;
    return o;
}

typedef struct loader {
    coce_sentiment *s;
    emoji *emo;
    size_t emo_n, emo_cap;
    size_t seq;
} loader;

static int emo_add(loader *ld, uint32_t cp, const char *d, size_t n, int pad)
{
    if (ld->emo_n == ld->emo_cap) {
        size_t cap = ld->emo_cap ? ld->emo_cap * 2 : 1024;
        emoji *p = realloc(ld->emo, cap * sizeof *p);
        if (!p)
            return COCE_ENOMEM;
        ld->emo = p;
        ld->emo_cap = cap;
    }
    emoji *e = &ld->emo[ld->emo_n];
    memset(e, 0, sizeof *e);
    int rc = arena_put(&ld->s->desc, d, n, &e->off);
    if (rc)
        return rc;
    e->cp = cp;
    e->seq = ld->seq++;
    e->len = n;
    e->pad = pad;
    for (size_t i = 0; i < n; ++i) {
        e->bangs += d[i] == '!';
        e->qmarks += d[i] == '?';
    }
    ++ld->emo_n;
    return COCE_OK;
}

static int emo_cmp(const void *a, const void *b)
{
    const emoji *x = a;
    const emoji *y = b;
    if (x->cp != y->cp)
        return x->cp < y->cp ? -1 : 1;
    return x->seq < y->seq ? -1 : (x->seq > y->seq ? 1 : 0);
}

static int parse_valence(const char *f, size_t n, double *v)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return COCE_EPARSE;
    memcpy(buf, f, n);
    buf[n] = '\0';
    char *end = NULL;
    double x = strtod(buf, &end);
    while (end && (*end == ' ' || *end == '\t'))
        ++end;
    if (!end || end == buf || *end != '\0' || !isfinite(x))
        return COCE_EPARSE;
    *v = x;
    return COCE_OK;
}

enum { KIND_LEX, KIND_EMOJI, KIND_ADDON };

/* One line after Python's line.strip(): the first two tab-separated
 * fields (make_lex_dict / make_emoji_dict). */
static int load_line(loader *ld, int kind, const char *line, size_t n,
                     const char *path, size_t lineno, coce_err *err)
{
    while (n && (is_space((unsigned char)line[n - 1])))
        --n;
    while (n && is_space((unsigned char)*line)) {
        ++line;
        --n;
    }
    if (kind == KIND_ADDON && (n == 0 || line[0] == '#'))
        return COCE_OK;
    const char *tab = memchr(line, '\t', n);
    if (!tab)
        return coce_err_set(err, COCE_EPARSE,
                            "%s:%zu: expected term<TAB>%s", path, lineno,
                            kind == KIND_EMOJI ? "description" : "valence");
    size_t klen = (size_t)(tab - line);
    const char *f2 = tab + 1;
    const char *tab2 = memchr(f2, '\t', n - klen - 1);
    size_t f2len = tab2 ? (size_t)(tab2 - f2) : n - klen - 1;
    if (kind == KIND_EMOJI) {
        uint32_t cp;
        /* The reference replaces emoji one code point at a time, so keys
         * of several code points (skin tones, flags, ZWJ) never match. */
        if (klen == 0 ||
            utf8_next((const unsigned char *)line, 0, klen, &cp) != klen ||
            cp == CP_INVALID)
            return COCE_OK;
        return emo_add(ld, cp, f2, f2len, 0);
    }
    double v;
    if (parse_valence(f2, f2len, &v))
        return coce_err_set(err, COCE_EPARSE,
                            "%s:%zu: field 2 'valence': not a number", path,
                            lineno);
    if (kind == KIND_LEX)
        return tab_set(ld->s, line, klen, F_LEX, v);
    char low[256];
    int up;
    if (klen == 0 || klen > sizeof low / 2)
        return coce_err_set(err, COCE_EPARSE,
                            "%s:%zu: field 1 'term': empty or too long",
                            path, lineno);
    for (size_t i = 0; i < klen;) {
        uint32_t cp;
        i += utf8_next((const unsigned char *)line, i, klen, &cp);
        if (is_space(cp))
            return coce_err_set(err, COCE_EPARSE,
                                "%s:%zu: field 1 'term': contains a space "
                                "(a term is one token)",
                                path, lineno);
    }
    size_t ln = lower_word(line, klen, low, &up);
    uint32_t cp;
    if (utf8_next((const unsigned char *)low, 0, ln, &cp) == ln &&
        cp >= 0x80 && cp != CP_INVALID) {
        int rc = emo_add(ld, cp, low, ln, 1);
        if (rc)
            return rc;
    }
    return tab_set(ld->s, low, ln, F_LEX, v);
}

static int load_file(loader *ld, int kind, const char *path, coce_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = coce_fs_read_all(path, &buf, &len, err);
    if (rc) {
        free(buf);
        return rc == COCE_ENOMEM ? rc : COCE_EIO;
    }
    while (len && buf[len - 1] == '\n')
        --len;
    size_t lineno = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(buf + i, '\n', len - i);
        size_t end = nl ? (size_t)(nl - buf) : len;
        ++lineno;
        /* make_lex_dict skips empty lines; make_emoji_dict does not, but an
         * empty emoji line would make the reference fail to load. */
        if (end > i || kind == KIND_EMOJI) {
            rc = load_line(ld, kind, buf + i, end - i, path, lineno, err);
            if (rc)
                break;
        }
        i = end + 1;
    }
    free(buf);
    return rc;
}

static int ws_reserve(coce_sentiment_ws *ws, size_t text_len)
{
    size_t need = text_len + 1;
    if (need > ws->text_cap) {
        size_t cap = (need < 256 ? 256 : need) * 3 / 2;
        char *t = realloc(ws->text, cap);
        if (!t)
            return COCE_ENOMEM;
        ws->text = t;
        ws->text_cap = cap;
    }
    if (2 * need > ws->lower_cap) {
        size_t cap = 2 * ws->text_cap;
        char *l = realloc(ws->lower, cap);
        if (!l)
            return COCE_ENOMEM;
        ws->lower = l;
        ws->lower_cap = cap;
    }
    size_t ntok = text_len / 2 + 1;
    if (ntok > ws->tok_cap) {
        size_t cap = ntok + ntok / 2;
        tok *t = realloc(ws->toks, cap * sizeof *t);
        if (!t)
            return COCE_ENOMEM;
        ws->toks = t;
        double *d = realloc(ws->sent, cap * sizeof *d);
        if (!d)
            return COCE_ENOMEM;
        ws->sent = d;
        ws->tok_cap = cap;
    }
    return COCE_OK;
}

int coce_sentiment_ws_new(coce_sentiment_ws **out)
{
    if (!out)
        return COCE_EINVAL;
    *out = calloc(1, sizeof **out);
    return *out ? COCE_OK : COCE_ENOMEM;
}

void coce_sentiment_ws_free(coce_sentiment_ws *ws)
{
    if (!ws)
        return;
    free(ws->text);
    free(ws->lower);
    free(ws->toks);
    free(ws->sent);
    free(ws);
}

void coce_sentiment_free(coce_sentiment *s)
{
    if (!s)
        return;
    free(s->keys.p);
    free(s->tab);
    free(s->emo);
    free(s->desc.p);
    coce_sentiment_ws_free(s->ws);
    free(s);
}

size_t coce_sentiment_lexicon_size(const coce_sentiment *s)
{
    return s ? s->lex_n : 0;
}

int coce_sentiment_new(const char *lexicon_path, const char *emoji_path,
                       const char *addon_path, coce_sentiment **out,
                       coce_err *err)
{
    if (!out)
        return coce_err_set(err, COCE_EINVAL, "sentiment: NULL out");
    *out = NULL;
    if (!lexicon_path || !emoji_path)
        return coce_err_set(err, COCE_EINVAL,
                            "sentiment: lexicon and emoji paths required");
    coce_sentiment *s = calloc(1, sizeof *s);
    if (!s)
        return coce_err_set(err, COCE_ENOMEM, "sentiment: out of memory");
    loader ld = {s, NULL, 0, 0, 0};
    int rc = tab_grow(s);
    for (size_t i = 0; !rc && i < sizeof boosters / sizeof boosters[0]; ++i)
        rc = tab_set(s, boosters[i].w, strlen(boosters[i].w), F_BOOST,
                     boosters[i].v);
    for (size_t i = 0;
         !rc && i < sizeof negate_words / sizeof negate_words[0]; ++i)
        rc = tab_set(s, negate_words[i], strlen(negate_words[i]), F_NEG, 0);
    if (!rc)
        rc = load_file(&ld, KIND_LEX, lexicon_path, err);
    if (!rc)
        rc = load_file(&ld, KIND_EMOJI, emoji_path, err);
    if (!rc && addon_path)
        rc = load_file(&ld, KIND_ADDON, addon_path, err);
    if (!rc) {
        qsort(ld.emo, ld.emo_n, sizeof *ld.emo, emo_cmp);
        size_t m = 0;
        for (size_t i = 0; i < ld.emo_n; ++i) {
            if (m && ld.emo[m - 1].cp == ld.emo[i].cp)
                ld.emo[m - 1] = ld.emo[i];
            else
                ld.emo[m++] = ld.emo[i];
        }
        s->emo = ld.emo;
        s->emo_n = m;
        ld.emo = NULL;
        for (size_t i = 0; i < 128; ++i)
            s->ascii_emo[i] = -1;
        for (size_t i = 0; i < m && s->emo[i].cp < 128; ++i)
            s->ascii_emo[s->emo[i].cp] = (int16_t)i;
        rc = coce_sentiment_ws_new(&s->ws);
    }
    free(ld.emo);
    if (rc) {
        if (rc == COCE_ENOMEM)
            coce_err_set(err, rc, "sentiment: out of memory");
        coce_sentiment_free(s);
        return rc;
    }
    *out = s;
    return COCE_OK;
}

/* ---- scoring --------------------------------------------------------- */

static const emoji *emo_find(const coce_sentiment *s, uint32_t cp)
{
    if (cp < 128) {
        int i = s->ascii_emo[cp];
        return i < 0 ? NULL : &s->emo[i];
    }
    size_t lo = 0;
    size_t hi = s->emo_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->emo[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->emo_n && s->emo[lo].cp == cp ? &s->emo[lo] : NULL;
}

/* polarity_scores' emoji pass: every code point found in the emoji lexicon
 * becomes its description, preceded by a space unless one precedes it, and
 * followed by nothing (so "😁x" gives "...eyesx", as in the reference); an
 * add-on emoji is kept and followed by a space. With out == NULL only the
 * length is computed. Counts '!' and '?' of the result (the reference
 * counts them after the replacement: "ON! arrow"). */
static size_t replace_emoji(const coce_sentiment *s, const char *in, size_t n,
                            char *out, size_t *bangs, size_t *qmarks)
{
    const unsigned char *u = (const unsigned char *)in;
    size_t o = 0;
    size_t b = 0;
    size_t q = 0;
    int prev_space = 1;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_next(u, i, n, &cp);
        const emoji *e = cp == CP_INVALID ? NULL : emo_find(s, cp);
        if (e) {
            if (!prev_space) {
                if (out)
                    out[o] = ' ';
                ++o;
            }
            if (out)
                memcpy(out + o, s->desc.p + e->off, e->len);
            o += e->len;
            b += e->bangs;
            q += e->qmarks;
            prev_space = 0;
            if (e->pad) {
                if (out)
                    out[o] = ' ';
                ++o;
                prev_space = 1;
            }
        } else {
            if (out)
                memcpy(out + o, in + i, k);
            o += k;
            b += cp == '!';
            q += cp == '?';
            prev_space = cp == ' ';
        }
        i += k;
    }
    *bangs = b;
    *qmarks = q;
    return o;
}

static size_t count_cps(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; ++c) {
        uint32_t cp;
        i += utf8_next((const unsigned char *)s, i, n, &cp);
    }
    return c;
}

/* SentiText._words_and_emoticons: str.split(), then
 * _strip_punc_if_word (strip string.punctuation at both ends unless that
 * leaves two code points or fewer: emoticons such as ":)" survive). */
static size_t tokenize(const coce_sentiment *s, coce_sentiment_ws *ws,
                       size_t n)
{
    const unsigned char *u = (const unsigned char *)ws->text;
    size_t nt = 0;
    size_t tstart = 0;
    int in_tok = 0;
    for (size_t i = 0; i <= n;) {
        uint32_t cp = ' ';
        size_t k = 1;
        if (i < n)
            k = utf8_next(u, i, n, &cp);
        if (!is_space(cp)) {
            if (!in_tok) {
                tstart = i;
                in_tok = 1;
            }
            i += k;
            continue;
        }
        size_t tend = i;
        i += k;
        if (!in_tok)
            continue;
        in_tok = 0;
        size_t sa = tstart;
        size_t sb = tend;
        while (sa < sb && is_punct(u[sa]))
            ++sa;
        while (sb > sa && is_punct(u[sb - 1]))
            --sb;
        if (count_cps(ws->text + sa, sb - sa) <= 2) {
            sa = tstart;
            sb = tend;
        }
        tok *t = &ws->toks[nt];
        t->off = sa;
        t->len = sb - sa;
        t->loff = nt ? ws->toks[nt - 1].loff + ws->toks[nt - 1].llen : 0;
        t->llen = lower_word(ws->text + sa, sb - sa, ws->lower + t->loff,
                             &t->upper);
        const char *lw = ws->lower + t->loff;
        const entry *e = tab_find(s, lw, t->llen, fnv1a(lw, t->llen));
        t->flags = e ? e->flags : 0;
        t->lex = e ? e->lex : 0.0;
        t->boost = e ? e->boost : 0.0;
        t->nt = 0;
        for (size_t j = 0; j + 3 <= t->llen && !t->nt; ++j)
            t->nt = lw[j] == 'n' && lw[j + 1] == '\'' && lw[j + 2] == 't';
        ++nt;
    }
    return nt;
}

static int weq(const coce_sentiment_ws *ws, size_t i, const char *lit)
{
    const tok *t = &ws->toks[i];
    size_t n = strlen(lit);
    return t->llen == n && memcmp(ws->lower + t->loff, lit, n) == 0;
}

static int in_lex(const coce_sentiment_ws *ws, size_t i)
{
    return (ws->toks[i].flags & F_LEX) != 0;
}

/* negated() on one word: a NEGATE word or any word containing "n't". The
 * "least" rule inside negated() is commented out in the reference. */
static int negated(const coce_sentiment_ws *ws, size_t i)
{
    return (ws->toks[i].flags & F_NEG) || ws->toks[i].nt;
}

/* scalar_inc_dec */
static double scalar_inc_dec(const coce_sentiment_ws *ws, size_t i,
                             double valence, int cap_diff)
{
    const tok *t = &ws->toks[i];
    double scalar = 0.0;
    if (t->flags & F_BOOST) {
        scalar = t->boost;
        if (valence < 0)
            scalar *= -1;
        if (t->upper && cap_diff) {
            if (valence > 0)
                scalar += C_INCR;
            else
                scalar -= C_INCR;
        }
    }
    return scalar;
}

/* _negation_check; the start_i == 2 test keeps the reference's operator
 * precedence: any "so"/"this" just before the word also amplifies. */
static double negation_check(const coce_sentiment_ws *ws, double valence,
                             size_t start, size_t i)
{
    if (start == 0) {
        if (negated(ws, i - 1))
            valence = valence * N_SCALAR;
    } else if (start == 1) {
        if (weq(ws, i - 2, "never") &&
            (weq(ws, i - 1, "so") || weq(ws, i - 1, "this")))
            valence = valence * 1.25;
        else if (weq(ws, i - 2, "without") && weq(ws, i - 1, "doubt"))
            ; /* "without doubt" is not a negation */
        else if (negated(ws, i - 2))
            valence = valence * N_SCALAR;
    } else {
        if ((weq(ws, i - 3, "never") &&
             (weq(ws, i - 2, "so") || weq(ws, i - 2, "this"))) ||
            (weq(ws, i - 1, "so") || weq(ws, i - 1, "this")))
            valence = valence * 1.25;
        else if (weq(ws, i - 3, "without") &&
                 (weq(ws, i - 2, "doubt") || weq(ws, i - 1, "doubt")))
            ;
        else if (negated(ws, i - 3))
            valence = valence * N_SCALAR;
    }
    return valence;
}

/* Is the word sequence idx[0..k) one of the phrases? */
static int phrase_find(const coce_sentiment_ws *ws, const phrase *tab,
                       size_t ntab, const size_t *idx, size_t k, double *v)
{
    for (size_t p = 0; p < ntab; ++p) {
        if (tab[p].n != k)
            continue;
        size_t j = 0;
        while (j < k && weq(ws, idx[j], tab[p].w[j]))
            ++j;
        if (j == k) {
            *v = tab[p].v;
            return 1;
        }
    }
    return 0;
}

#define NSPECIAL (sizeof special_cases / sizeof special_cases[0])
#define NBIGRAM (sizeof booster_bigrams / sizeof booster_bigrams[0])

/* _special_idioms_check (called only for i >= 3, as in the reference). */
static double special_idioms(const coce_sentiment_ws *ws, double valence,
                             size_t i, size_t n)
{
    const size_t onezero[] = {i - 1, i};
    const size_t twoonezero[] = {i - 2, i - 1, i};
    const size_t twoone[] = {i - 2, i - 1};
    const size_t threetwoone[] = {i - 3, i - 2, i - 1};
    const size_t threetwo[] = {i - 3, i - 2};
    const size_t *seqs[] = {onezero, twoonezero, twoone, threetwoone,
                            threetwo};
    const size_t lens[] = {2, 3, 2, 3, 2};
    double v;
    for (size_t q = 0; q < 5; ++q) {
        if (phrase_find(ws, special_cases, NSPECIAL, seqs[q], lens[q], &v)) {
            valence = v;
            break;
        }
    }
    if (n - 1 > i) {
        const size_t zeroone[] = {i, i + 1};
        if (phrase_find(ws, special_cases, NSPECIAL, zeroone, 2, &v))
            valence = v;
    }
    if (n - 1 > i + 1) {
        const size_t zeroonetwo[] = {i, i + 1, i + 2};
        if (phrase_find(ws, special_cases, NSPECIAL, zeroonetwo, 3, &v))
            valence = v;
    }
    /* booster bigrams ("kind of"): added unsigned, as in the reference */
    const size_t *grams[] = {threetwoone, threetwo, twoone};
    const size_t glens[] = {3, 2, 2};
    for (size_t q = 0; q < 3; ++q)
        if (phrase_find(ws, booster_bigrams, NBIGRAM, grams[q], glens[q], &v))
            valence = valence + v;
    return valence;
}

/* _least_check */
static double least_check(const coce_sentiment_ws *ws, double valence,
                          size_t i)
{
    if (i > 1 && !in_lex(ws, i - 1) && weq(ws, i - 1, "least")) {
        if (!weq(ws, i - 2, "at") && !weq(ws, i - 2, "very"))
            valence = valence * N_SCALAR;
    } else if (i > 0 && !in_lex(ws, i - 1) && weq(ws, i - 1, "least")) {
        valence = valence * N_SCALAR;
    }
    return valence;
}

/* sentiment_valence for a lexicon word at i */
static double word_valence(const coce_sentiment_ws *ws, size_t i, size_t n,
                           int cap_diff)
{
    const tok *t = &ws->toks[i];
    double valence = t->lex;
    if (weq(ws, i, "no") && i != n - 1 && in_lex(ws, i + 1))
        valence = 0.0; /* "no" negates the next word instead */
    if ((i > 0 && weq(ws, i - 1, "no")) || (i > 1 && weq(ws, i - 2, "no")) ||
        (i > 2 && weq(ws, i - 3, "no") &&
         (weq(ws, i - 1, "or") || weq(ws, i - 1, "nor"))))
        valence = t->lex * N_SCALAR;
    if (t->upper && cap_diff) {
        if (valence > 0)
            valence += C_INCR;
        else
            valence -= C_INCR;
    }
    for (size_t start = 0; start < 3; ++start) {
        if (i > start && !in_lex(ws, i - (start + 1))) {
            double sc = scalar_inc_dec(ws, i - (start + 1), valence, cap_diff);
            if (start == 1 && sc != 0)
                sc = sc * 0.95;
            if (start == 2 && sc != 0)
                sc = sc * 0.9;
            valence = valence + sc;
            valence = negation_check(ws, valence, start, i);
            if (start == 2)
                valence = special_idioms(ws, valence, i, n);
        }
    }
    return least_check(ws, valence, i);
}

/* _but_check, including its use of list.index(): each value is looked up
 * by equality, so a repeated value scales its FIRST occurrence (possibly
 * several times) rather than its own position. Quadratic in the number of
 * tokens in the worst case, as the reference. */
static void but_check(const coce_sentiment_ws *ws, double *sent, size_t n)
{
    size_t bi = 0;
    while (bi < n && !weq(ws, bi, "but"))
        ++bi;
    if (bi == n)
        return;
    for (size_t k = 0; k < n; ++k) {
        double v = sent[k];
        size_t j = 0;
        while (sent[j] != v)
            ++j;
        if (j < bi)
            sent[j] = v * 0.5;
        else if (j > bi)
            sent[j] = v * 1.5;
    }
}

int coce_sentiment_score_ws(const coce_sentiment *s, const char *text,
                            size_t len, coce_sentiment_ws *ws,
                            coce_sentiment_scores *out)
{
    if (!out)
        return COCE_EINVAL;
    memset(out, 0, sizeof *out);
    if (!s || !ws || (!text && len))
        return COCE_EINVAL;
    if (len == 0)
        return COCE_OK;
    size_t bangs;
    size_t qmarks;
    size_t m = replace_emoji(s, text, len, NULL, &bangs, &qmarks);
    int rc = ws_reserve(ws, m);
    if (rc)
        return rc;
    replace_emoji(s, text, len, ws->text, &bangs, &qmarks);
    ws->text[m] = '\0';
    size_t n = tokenize(s, ws, m);
    if (n == 0)
        return COCE_OK;

    /* allcap_differential: some, not all, tokens are ALL CAPS */
    size_t ncaps = 0;
    for (size_t i = 0; i < n; ++i)
        ncaps += ws->toks[i].upper != 0;
    int cap_diff = ncaps > 0 && ncaps < n;

    double *sent = ws->sent;
    for (size_t i = 0; i < n; ++i) {
        const tok *t = &ws->toks[i];
        if ((t->flags & F_BOOST) ||
            (i < n - 1 && weq(ws, i, "kind") && weq(ws, i + 1, "of")) ||
            !(t->flags & F_LEX))
            sent[i] = 0.0;
        else
            sent[i] = word_valence(ws, i, n, cap_diff);
    }
    but_check(ws, sent, n);

    /* score_valence: punctuation emphasis (_amplify_ep, _amplify_qm) */
    double amp = (double)(bangs > 4 ? 4 : bangs) * EP_STEP;
    if (qmarks > 1)
        amp += qmarks <= 3 ? (double)qmarks * QM_STEP : QM_MAX;
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i)
        sum += sent[i];
    if (sum > 0)
        sum += amp;
    else if (sum < 0)
        sum -= amp;
    /* normalize(): x / sqrt(x^2 + alpha), alpha = 15 */
    double compound = sum / sqrt(sum * sum + NORM_ALPHA);
    if (compound < -1.0)
        compound = -1.0;
    else if (compound > 1.0)
        compound = 1.0;

    /* _sift_sentiment_scores: +1 / -1 compensate for neutral words */
    double pos_sum = 0.0;
    double neg_sum = 0.0;
    size_t neu = 0;
    for (size_t i = 0; i < n; ++i) {
        if (sent[i] > 0)
            pos_sum += sent[i] + 1;
        if (sent[i] < 0)
            neg_sum += sent[i] - 1;
        if (sent[i] == 0)
            ++neu;
    }
    if (pos_sum > fabs(neg_sum))
        pos_sum += amp;
    else if (pos_sum < fabs(neg_sum))
        neg_sum -= amp;
    double total = pos_sum + fabs(neg_sum) + (double)neu;
    out->pos = fabs(pos_sum / total);
    out->neg = fabs(neg_sum / total);
    out->neu = fabs((double)neu / total);
    out->compound = compound;
    return COCE_OK;
}

int coce_sentiment_score(const coce_sentiment *s, const char *text,
                         size_t len, coce_sentiment_scores *out)
{
    if (!s)
        return out ? (memset(out, 0, sizeof *out), COCE_EINVAL)
                   : COCE_EINVAL;
    return coce_sentiment_score_ws(s, text, len, s->ws, out);
}

double coce_sentiment_round(double x, int digits)
{
    char buf[512];
    if (!isfinite(x) || digits < 0 || digits > 15)
        return x;
    snprintf(buf, sizeof buf, "%.*f", digits, x);
    return strtod(buf, NULL);
}
