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
/* Words that the rules compare tokens with. Each gets a small id stored in
 * its hash-table entry, so a rule compares two integers per token instead
 * of strings (the word ids are set once per token, at look-up). */
enum {
    W_NONE,
    W_NO, W_OR, W_NOR, W_SO, W_THIS, W_NEVER, W_WITHOUT, W_DOUBT, W_LEAST,
    W_AT, W_VERY, W_BUT, W_KIND, W_OF, W_SORT, W_JUST, W_ENOUGH, W_THE,
    W_SHIT, W_BOMB, W_BAD, W_ASS, W_BUS, W_STOP, W_YEAH, W_RIGHT, W_KISS,
    W_DEATH, W_TO, W_DIE, W_FOR, W_BEATING, W_HEART, W_BROKEN,
    W_COUNT
};

static const char *const wid_names[W_COUNT] = {
    "",     "no",    "or",      "nor",   "so",      "this",  "never",
    "without", "doubt", "least", "at",  "very",    "but",   "kind",
    "of",   "sort",  "just",    "enough", "the",    "shit",  "bomb",
    "bad",  "ass",   "bus",     "stop",  "yeah",    "right", "kiss",
    "death", "to",   "die",     "for",   "beating", "heart", "broken",
};

/* A phrase as one integer: word ids in bits 0-7, 8-15, 16-23 and the
 * length in bits 24-31, so a sequence is matched by one comparison. */
#define PHRASE2(a, b) ((uint32_t)(a) | (uint32_t)(b) << 8 | 2u << 24)
#define PHRASE3(a, b, c)                                                   \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | 3u << 24)

typedef struct phrase {
    uint32_t key;
    double v;
} phrase;

/* The two-word keys of BOOSTER_DICT: a single token never equals them, they
 * act only through the n-gram step of _special_idioms_check. */
static const phrase booster_bigrams[] = {
    {PHRASE2(W_JUST, W_ENOUGH), B_DECR},
    {PHRASE2(W_KIND, W_OF), B_DECR},
    {PHRASE2(W_SORT, W_OF), B_DECR},
};

/* SPECIAL_CASES without "badass": a one-word key can never equal the
 * two- or three-word sequences the reference looks up (dead entry). */
static const phrase special_cases[] = {
    {PHRASE2(W_THE, W_SHIT), 3.0},
    {PHRASE2(W_THE, W_BOMB), 3.0},
    {PHRASE2(W_BAD, W_ASS), 1.5},
    {PHRASE2(W_BUS, W_STOP), 0.0},
    {PHRASE2(W_YEAH, W_RIGHT), -2.0},
    {PHRASE3(W_KISS, W_OF, W_DEATH), -1.5},
    {PHRASE3(W_TO, W_DIE, W_FOR), 3.0},
    {PHRASE2(W_BEATING, W_HEART), 3.1},
    {PHRASE2(W_BROKEN, W_HEART), -2.9},
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

/* Entry flags; a token carries its entry's flags plus F_NT and F_UPPER.
 * F_IDIOM marks words of SPECIAL_CASES and the booster bigrams, so that
 * _special_idioms_check can skip a window without any of them. */
enum {
    F_LEX = 1,
    F_BOOST = 2,
    F_NEG = 4,
    F_IDIOM = 8,
    F_NT = 16,   /* token contains "n't" */
    F_UPPER = 32 /* str.isupper() of the token */
};

/* A word of the lexicon, BOOSTER_DICT, NEGATE or the rule words. The
 * first 16 bytes of the key are kept inline (zero padded), so a key of at
 * most 16 bytes (all but 25 of VADER's 7 500) compares in two words; the
 * whole key is in the arena. */
typedef struct entry {
    uint64_t q[2];
    double lex, boost;
    size_t off, len;
    uint16_t wid;
    uint16_t flags;
} entry;

typedef struct emoji {
    uint32_t cp;
    size_t seq; /* file order: the last definition wins, as in a dict */
    size_t off, len;
    int pad;                /* add-on emoji: kept as a token of its own */
} emoji;

typedef struct arena {
    char *p;
    size_t len, cap;
} arena;

typedef struct tok {
    double lex, boost;
    uint16_t wid;
    uint16_t flags;
} tok;

struct coce_sentiment_ws {
    char *text, *lower;
    size_t text_cap, lower_cap;
    tok *toks;
    double *sent;
    size_t tok_cap;
};

/* Byte classes (bcls): ASCII bytes are classified by table, only bytes
 * >= 0x80 are decoded as UTF-8. */
enum {
    B_SPACE = 1,   /* Python whitespace */
    B_PUNCT = 2,   /* string.punctuation */
    B_UPPER = 4,   /* A-Z */
    B_LOWER = 8,   /* a-z */
    B_HIGH = 16,   /* >= 0x80 */
    B_EMO = 32,    /* an ASCII code point of the emoji lexicon */
    B_BANG = 64,   /* '!' */
    B_QM = 128,    /* '?' */
    B_APOS = 256,  /* '\'' (for "n't") */
    B_MARK = 512   /* maybe one of the three above (ascii_run) */
};

struct coce_sentiment {
    arena keys;
    entry *ents;    /* dense, in insertion order */
    size_t ents_n, ents_cap;
    uint64_t *slot; /* open addressing: hash tag << 32 | (entry index + 1) */
    size_t slot_cap, lex_n;
    emoji *emo;
    size_t emo_n;
    arena desc;
    int16_t ascii_emo[128]; /* index into emo for ASCII code points, or -1 */
    uint32_t bcls[256]; /* class bits; bits 24..31: the lower-case byte */
    int ascii_emo_any; /* some ASCII code point is an emoji key */
    /* two-word phrases by word ids: 1 + index into special_cases ([0])
     * or booster_bigrams ([1]), 0 for none */
    unsigned char pair[2][W_COUNT][W_COUNT];
    coce_sentiment_ws *ws; /* the handle's own scratch (mutable cache) */
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

/* Word-at-a-time hash of a key whose first 16 bytes are k[0..2) (zero
 * padded) and whose whole text is w[0..n) (read only beyond 16 bytes): one
 * multiply per 8 bytes, then a xor-shift-multiply finaliser in the manner
 * of MurmurHash3's fmix64 (Appleby), so that both the low bits (slot) and
 * the high bits (tag) depend on every byte. Load and look-up compute it on
 * the same machine, so byte order does not matter. */
static inline uint64_t key_hash(const uint64_t k[2], const char *w,
                                size_t n)
{
    const uint64_t m = 0x9E3779B97F4A7C15ULL;
    uint64_t h = (k[0] * m) ^ (k[1] * 0xC2B2AE3D27D4EB4FULL) ^ (uint64_t)n;
    for (size_t i = 16; i < n; i += 8) {
        uint64_t c = 0;
        memcpy(&c, w + i, n - i < 8 ? n - i : 8);
        h = ((h ^ (h >> 29)) * m) ^ c;
    }
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ULL;
    h ^= h >> 32;
    return h;
}

/* The first 16 bytes of w[0..n), zero padded. */
static void key_head(const char *w, size_t n, uint64_t k[2])
{
    k[0] = 0;
    k[1] = 0;
    if (n)
        memcpy(k, w, n < 16 ? n : 16);
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

#define TAG_MASK 0xFFFFFFFF00000000ULL

/* The entry of key w[0..n) (head k, hash h), or the sentinel ents[0] (all
 * zero, never equal to a key) when absent. Written to branch little: at a
 * load factor of at most 1/4 nearly every look-up, hit or miss, ends at
 * its first slot, and an empty slot reads the sentinel. */
static inline const entry *tab_find(const coce_sentiment *s, const char *w,
                                    size_t n, const uint64_t k[2], uint64_t h)
{
    size_t mask = s->slot_cap - 1;
    uint64_t tag = h & TAG_MASK;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        uint64_t v = s->slot[i];
        const entry *e = &s->ents[v & 0xFFFFFFFFu];
        int hit = ((v & TAG_MASK) == tag) & (e->len == n) &
                  (e->q[0] == k[0]) & (e->q[1] == k[1]);
        int done = hit | (int)(v == 0);
        if (!done)
            continue; /* another key in this slot: rare */
        if ((int)(n > 16) & hit)
            hit = memcmp(s->keys.p + e->off + 16, w + 16, n - 16) == 0;
        if (hit | (int)(v == 0))
            return hit ? e : s->ents;
    }
}

/* Slots for a load factor of at most 1/4 (linear probing: Knuth, TAOCP
 * vol. 3, section 6.4); the first call also makes the sentinel entry. */
static int slots_grow(coce_sentiment *s)
{
    if (!s->ents) {
        s->ents = calloc(1024, sizeof *s->ents);
        if (!s->ents)
            return COCE_ENOMEM;
        s->ents_cap = 1024;
        s->ents[0].len = SIZE_MAX;
    }
    size_t cap = s->slot_cap ? s->slot_cap * 2 : 4096;
    uint64_t *t = calloc(cap, sizeof *t);
    if (!t)
        return COCE_ENOMEM;
    for (size_t i = 0; i < s->slot_cap; ++i) {
        uint64_t v = s->slot[i];
        if (!v)
            continue;
        const entry *e = &s->ents[v & 0xFFFFFFFFu];
        uint64_t h = key_hash(e->q, s->keys.p + e->off, e->len);
        size_t j = (size_t)h & (cap - 1);
        while (t[j])
            j = (j + 1) & (cap - 1);
        t[j] = v;
    }
    free(s->slot);
    s->slot = t;
    s->slot_cap = cap;
    return COCE_OK;
}

/* The entry of word w, inserted (all zero) if absent; NULL without
 * memory. Entries are numbered from 1 (0 is the sentinel). */
static entry *tab_get(coce_sentiment *s, const char *w, size_t n)
{
    if ((s->ents_n + 1) * 4 > s->slot_cap && slots_grow(s))
        return NULL;
    uint64_t k[2];
    key_head(w, n, k);
    uint64_t h = key_hash(k, w, n);
    const entry *f = tab_find(s, w, n, k, h);
    if (f != s->ents)
        return &s->ents[f - s->ents];
    if (s->ents_n + 1 == s->ents_cap) {
        size_t cap = s->ents_cap * 2;
        entry *p = cap < 0xFFFFFFFFu ? realloc(s->ents, cap * sizeof *p)
                                     : NULL;
        if (!p)
            return NULL;
        s->ents = p;
        s->ents_cap = cap;
    }
    entry *e = &s->ents[++s->ents_n];
    memset(e, 0, sizeof *e);
    if (arena_put(&s->keys, w, n, &e->off)) {
        --s->ents_n;
        return NULL;
    }
    e->q[0] = k[0];
    e->q[1] = k[1];
    e->len = n;
    size_t mask = s->slot_cap - 1;
    size_t i = (size_t)h & mask;
    while (s->slot[i])
        i = (i + 1) & mask;
    s->slot[i] = (h & TAG_MASK) | (uint64_t)s->ents_n;
    return e;
}

/* Inserts or updates word w: sets the given flag and value (a later
 * lexicon line overrides an earlier one, as the reference's dict does). */
static int tab_set(coce_sentiment *s, const char *w, size_t n, unsigned flag,
                   double v)
{
    entry *e = tab_get(s, w, n);
    if (!e)
        return COCE_ENOMEM;
    if (flag == F_LEX && !(e->flags & F_LEX))
        ++s->lex_n;
    e->flags |= (uint16_t)flag;
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

/* Grows the workspace for a text of text_len bytes (copy: the text is
 * rewritten into ws->text by the emoji pass). */
static int ws_reserve(coce_sentiment_ws *ws, size_t text_len, int copy)
{
    size_t need = text_len + 1;
    if (copy && need > ws->text_cap) {
        size_t cap = (need < 256 ? 256 : need) * 3 / 2;
        char *t = realloc(ws->text, cap);
        if (!t)
            return COCE_ENOMEM;
        ws->text = t;
        ws->text_cap = cap;
    }
    /* a lowered token is at most 1.5 times as long as the token; 16
     * spare bytes, zeroed, let a key head be read as two words */
    if (2 * need + 16 > ws->lower_cap) {
        size_t cap = (need < 256 ? 256 : need) * 3 + 16;
        char *l = realloc(ws->lower, cap);
        if (!l)
            return COCE_ENOMEM;
        memset(l, 0, cap);
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
    free(s->ents);
    free(s->slot);
    free(s->emo);
    free(s->desc.p);
    coce_sentiment_ws_free(s->ws);
    free(s);
}

size_t coce_sentiment_lexicon_size(const coce_sentiment *s)
{
    return s ? s->lex_n : 0;
}

/* The rule words get their ids (and F_IDIOM when a phrase uses them). */
static int add_rule_words(coce_sentiment *s)
{
    unsigned char idiom[W_COUNT] = {0};
    for (size_t p = 0; p < sizeof special_cases / sizeof special_cases[0];
         ++p)
        for (unsigned j = 0; j < 3; ++j)
            idiom[(special_cases[p].key >> (8 * j)) & 0xFFu] = 1;
    for (size_t p = 0; p < sizeof booster_bigrams / sizeof booster_bigrams[0];
         ++p)
        for (unsigned j = 0; j < 3; ++j)
            idiom[(booster_bigrams[p].key >> (8 * j)) & 0xFFu] = 1;
    for (size_t p = 0; p < sizeof special_cases / sizeof special_cases[0];
         ++p) {
        uint32_t key = special_cases[p].key;
        if (key >> 24 == 2)
            s->pair[0][key & 0xFFu][(key >> 8) & 0xFFu] =
                (unsigned char)(p + 1);
    }
    for (size_t p = 0; p < sizeof booster_bigrams / sizeof booster_bigrams[0];
         ++p) {
        uint32_t key = booster_bigrams[p].key;
        s->pair[1][key & 0xFFu][(key >> 8) & 0xFFu] = (unsigned char)(p + 1);
    }
    for (unsigned w = 1; w < W_COUNT; ++w) {
        entry *e = tab_get(s, wid_names[w], strlen(wid_names[w]));
        if (!e)
            return COCE_ENOMEM;
        e->wid = (uint16_t)w;
        if (idiom[w])
            e->flags |= F_IDIOM;
    }
    return COCE_OK;
}

/* Byte classes: Python's whitespace and string.punctuation on ASCII,
 * case, the characters counted by the rules, and the bytes that need the
 * emoji pass. */
static void init_bcls(coce_sentiment *s)
{
    s->ascii_emo_any = 0;
    for (unsigned c = 0; c < 256; ++c) {
        uint32_t b = 0;
        if (c >= 0x80) {
            b = B_HIGH;
        } else {
            if (is_space(c))
                b |= B_SPACE;
            if (is_punct((unsigned char)c))
                b |= B_PUNCT;
            if (c >= 'A' && c <= 'Z')
                b |= B_UPPER;
            if (c >= 'a' && c <= 'z')
                b |= B_LOWER;
            if (c == '!')
                b |= B_BANG;
            if (c == '?')
                b |= B_QM;
            if (c == '\'')
                b |= B_APOS;
            if (s->ascii_emo[c] >= 0) {
                b |= B_EMO;
                s->ascii_emo_any = 1;
            }
        }
        uint32_t low = (c >= 'A' && c <= 'Z') ? c + 32 : c;
        s->bcls[c] = b | (low << 24);
    }
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
    int rc = slots_grow(s);
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
        init_bcls(s);
        rc = add_rule_words(s);
        if (!rc)
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
 * length is computed. */
static size_t replace_emoji(const coce_sentiment *s, const char *in, size_t n,
                            char *out)
{
    const unsigned char *u = (const unsigned char *)in;
    size_t o = 0;
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
            prev_space = cp == ' ';
        }
        i += k;
    }
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


static int has_nt(const char *w, size_t n)
{
    for (size_t j = 0; j + 3 <= n; ++j)
        if (w[j] == 'n' && w[j + 1] == '\'' && w[j + 2] == 't')
            return 1;
    return 0;
}

/* The first 16 bytes of p[0..n), zero padded, read as two words: p must
 * have 16 readable bytes (ws->lower has 16 spare ones). Same value as
 * key_head. */
/* Masks keeping the first n bytes of a word, n = 0..8 (little-endian) */
static const uint64_t head_mask[9] = {
    0x0ULL,
    0xFFULL,
    0xFFFFULL,
    0xFFFFFFULL,
    0xFFFFFFFFULL,
    0xFFFFFFFFFFULL,
    0xFFFFFFFFFFFFULL,
    0xFFFFFFFFFFFFFFULL,
    0xFFFFFFFFFFFFFFFFULL,
};

static void key_load(const char *p, size_t n, uint64_t k[2])
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* the first n bytes are the low-order ones: mask without branches */
    memcpy(k, p, 16);
    size_t r = n < 16 ? n : 16;
    k[0] &= head_mask[r < 8 ? r : 8];
    k[1] &= head_mask[r > 8 ? r - 8 : 0];
#else
    key_head(p, n, k);
#endif
}

/* Looks the lower-case token lw[0..n) (head k) up once and stores in *t
 * everything the rules need to know about it. */
static void tok_set(const coce_sentiment *s, tok *t, const char *lw, size_t n,
                    const uint64_t k[2], unsigned extra)
{
    const entry *e = tab_find(s, lw, n, k, key_hash(k, lw, n));
    t->flags = (uint16_t)(e->flags | extra);
    t->wid = e->wid;
    t->lex = e->lex;
    t->boost = e->boost;
}

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Bytes of x equal to zero, as high bits (exact up to the first such byte;
 * a borrow can only mark bytes after it: Hacker's Delight, 6-1). */
static uint64_t zero_bytes(uint64_t x)
{
    return (x - ONES) & ~x & HIGHS;
}

/* The ASCII part of a token, 8 bytes at a time (SWAR): from u[i], stops at
 * the first byte outside 0x21-0x7F (a space, a control character or a
 * byte >= 0x80), or where fewer than 8 bytes are left. Lower-cases into
 * low[i..) (8 bytes at a time, so low must have 7 spare bytes) and ORs
 * B_UPPER, B_LOWER and B_MARK (maybe '!', '?' or '\'') of the bytes passed
 * into *acc. Returns where it stopped. Little-endian only (elsewhere it passes
 * nothing and the byte loop does the work). */
static size_t ascii_run(const unsigned char *u, size_t i, size_t m,
                        char *low, uint32_t *acc)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t c = *acc;
    while (i + 8 <= m) {
        uint64_t x;
        memcpy(&x, u + i, 8);
        /* bytes < 0x21 or >= 0x80 end the run */
        uint64_t stop = (((x - 0x21 * ONES) & ~x) | x) & HIGHS;
        size_t nb = stop ? (size_t)__builtin_ctzll(stop) / 8 : 8;
        uint64_t keep = nb == 8 ? ~0ULL : ~(~0ULL << (8 * nb));
        /* bytes are < 0x80 from here on (in the kept part): the sums do
         * not carry between bytes */
        uint64_t y = x & 0x7F7F7F7F7F7F7F7FULL;
        uint64_t up = (y + 0x3F * ONES) & ~(y + 0x25 * ONES) & HIGHS;
        uint64_t lo = (y + 0x1F * ONES) & ~(y + 0x05 * ONES) & HIGHS;
        uint64_t lw = y | (up >> 2);
        memcpy(low + i, &lw, 8);
        up &= keep;
        lo &= keep;
        c |= (up ? B_UPPER : 0u) | (lo ? B_LOWER : 0u);
        /* '!', '\'' and '?' (with '#', '%', ')', '+', '-', '/', ';', '='
         * and odd digits): the bytes b with (b & ~0x1E) == 0x21; the
         * caller counts exactly when this says maybe */
        uint64_t mk = (y & ~(0x1E * ONES)) ^ (0x21 * ONES);
        c |= (zero_bytes(mk) & keep) ? B_MARK : 0u;
        i += nb;
        if (nb < 8)
            break;
    }
    *acc = c;
#else
    (void)u;
    (void)m;
    (void)low;
    (void)acc;
#endif
    return i;
}

/* string.punctuation stripped from both ends of u[*sa..b): moves *sa,
 * returns the new end. */
static size_t strip_punct(const uint32_t *cls, const unsigned char *u,
                          size_t *sa, size_t b)
{
    size_t a = *sa;
    while (a < b && (cls[u[a]] & B_PUNCT))
        ++a;
    while (b > a && (cls[u[b - 1]] & B_PUNCT))
        --b;
    *sa = a;
    return b;
}

/* SentiText._words_and_emoticons: str.split(), then
 * _strip_punc_if_word (strip string.punctuation at both ends unless that
 * leaves two code points or fewer: emoticons such as ":)" survive), and
 * each token looked up once. One pass over the bytes: an ASCII byte is
 * classified by table and lower-cased into ws->lower on the way (a token
 * of ASCII bytes needs no other pass; str.lower and str.isupper are byte
 * maps there), only bytes >= 0x80 are decoded. Also counts the ALL-CAPS
 * tokens, the '!' and '?' (all of them are inside tokens) and finds the
 * first "but". */
static size_t tokenize(const coce_sentiment *s, coce_sentiment_ws *ws,
                       const char *text, size_t m, size_t cnt[4])
{
    const unsigned char *u = (const unsigned char *)text;
    const uint32_t *cls = s->bcls;
    char *low = ws->lower;
    size_t nt = 0;
    size_t caps = 0;
    size_t bi = SIZE_MAX;
    size_t nb = 0;
    size_t nq = 0;
    size_t i = 0;
    for (;;) {
        while (i < m && (cls[u[i]] & B_SPACE))
            ++i;
        if (i >= m)
            break;
        if (u[i] >= 0x80) {
            uint32_t cp;
            size_t k = utf8_next(u, i, m, &cp);
            if (is_space(cp)) {
                i += k;
                continue;
            }
        }
        size_t a = i;
        uint32_t acc = 0;
        for (;;) {
            i = ascii_run(u, i, m, low - a, &acc);
            if (i >= m)
                break;
            uint32_t b = cls[u[i]];
            if (b & (B_SPACE | B_HIGH))
                break;
            /* a control character that is not a space */
            acc |= b;
            low[i - a] = (char)(b >> 24);
            ++i;
        }
        int hi = 0;
        while (i < m && (cls[u[i]] & B_HIGH)) {
            /* the rest of a token with a non-ASCII byte */
            uint32_t cp;
            size_t k = utf8_next(u, i, m, &cp);
            if (is_space(cp))
                break;
            hi = 1;
            i += k;
            while (i < m && !(cls[u[i]] & (B_SPACE | B_HIGH)))
                acc |= cls[u[i++]];
        }
        if (acc & (B_BANG | B_QM | B_APOS | B_MARK)) {
            for (size_t j = a; j < i; ++j)
                acc |= cls[u[j]] & (B_BANG | B_QM | B_APOS);
            for (size_t j = a; (acc & (B_BANG | B_QM)) && j < i; ++j) {
                nb += u[j] == '!';
                nq += u[j] == '?';
            }
        }
        size_t sa = a;
        size_t sb = strip_punct(cls, u, &sa, i);
        /* at most 2 code points: at most 2 bytes, or (non-ASCII) at most
         * 8 bytes and counted */
        size_t sn = sb - sa;
        int revert = sn <= 2;
        if (hi && !revert && sn <= 8)
            revert = count_cps(text + sa, sn) <= 2;
        if (revert) {
            sa = a;
            sb = i;
        }
        const char *lw = low + (sa - a);
        size_t n = sb - sa;
        unsigned extra = 0;
        if (hi) {
            /* several-byte code points: lower_word decodes them */
            int up;
            n = lower_word(text + sa, n, low, &up);
            lw = low;
            if (up)
                extra |= F_UPPER;
            if (has_nt(lw, n))
                extra |= F_NT;
        } else {
            /* punctuation has no case: acc may include stripped bytes */
            if ((acc & (B_UPPER | B_LOWER)) == B_UPPER)
                extra |= F_UPPER; /* str.isupper() */
            if ((acc & B_APOS) && has_nt(lw, n))
                extra |= F_NT;
        }
        uint64_t k[2];
        key_load(lw, n, k);
        tok *t = &ws->toks[nt];
        tok_set(s, t, lw, n, k, extra);
        caps += (t->flags & F_UPPER) != 0;
        if (t->wid == W_BUT && bi == SIZE_MAX)
            bi = nt;
        ++nt;
    }
    cnt[0] = caps;
    cnt[1] = bi;
    cnt[2] = nb;
    cnt[3] = nq;
    return nt;
}

static int is_w(const tok *t, size_t i, unsigned wid)
{
    return t[i].wid == wid;
}

static int in_lex(const tok *t, size_t i)
{
    return (t[i].flags & F_LEX) != 0;
}

/* negated() on one word: a NEGATE word or any word containing "n't". The
 * "least" rule inside negated() is commented out in the reference. */
static int negated(const tok *t, size_t i)
{
    return (t[i].flags & (F_NEG | F_NT)) != 0;
}

/* scalar_inc_dec */
static double scalar_inc_dec(const tok *t, size_t i, double valence,
                             int cap_diff)
{
    double scalar = 0.0;
    if (t[i].flags & F_BOOST) {
        scalar = t[i].boost;
        if (valence < 0)
            scalar *= -1;
        if ((t[i].flags & F_UPPER) && cap_diff) {
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
static double negation_check(const tok *t, double valence, size_t start,
                             size_t i)
{
    if (start == 0) {
        if (negated(t, i - 1))
            valence = valence * N_SCALAR;
    } else if (start == 1) {
        if (is_w(t, i - 2, W_NEVER) &&
            (is_w(t, i - 1, W_SO) || is_w(t, i - 1, W_THIS)))
            valence = valence * 1.25;
        else if (is_w(t, i - 2, W_WITHOUT) && is_w(t, i - 1, W_DOUBT))
            ; /* "without doubt" is not a negation */
        else if (negated(t, i - 2))
            valence = valence * N_SCALAR;
    } else {
        if ((is_w(t, i - 3, W_NEVER) &&
             (is_w(t, i - 2, W_SO) || is_w(t, i - 2, W_THIS))) ||
            (is_w(t, i - 1, W_SO) || is_w(t, i - 1, W_THIS)))
            valence = valence * 1.25;
        else if (is_w(t, i - 3, W_WITHOUT) &&
                 (is_w(t, i - 2, W_DOUBT) || is_w(t, i - 1, W_DOUBT)))
            ;
        else if (negated(t, i - 3))
            valence = valence * N_SCALAR;
    }
    return valence;
}

/* Is the word sequence idx[0..k) (k = 2 or 3) one of the phrases? Two
 * words: one look-up in the handle's table of word-id pairs; three: the
 * few three-word phrases. */
static int phrase_find(const coce_sentiment *s, const tok *t, int bigram,
                       const size_t *idx, size_t k, double *v)
{
    if (k == 2) {
        unsigned p = s->pair[bigram][t[idx[0]].wid][t[idx[1]].wid];
        if (p)
            *v = bigram ? booster_bigrams[p - 1].v : special_cases[p - 1].v;
        return p != 0;
    }
    if (bigram)
        return 0; /* all booster n-grams have two words */
    uint32_t key = (uint32_t)t[idx[0]].wid | (uint32_t)t[idx[1]].wid << 8 |
                   (uint32_t)t[idx[2]].wid << 16 | 3u << 24;
    for (size_t p = 0; p < sizeof special_cases / sizeof special_cases[0];
         ++p) {
        if (special_cases[p].key == key) {
            *v = special_cases[p].v;
            return 1;
        }
    }
    return 0;
}

/* _special_idioms_check (called only for i >= 3, as in the reference). */
static double special_idioms(const coce_sentiment *s, const tok *t,
                             double valence, size_t i, size_t n)
{
    /* every phrase word is flagged F_IDIOM: a window [i-3, i+2] without
     * one cannot match anything */
    size_t last = i + 2 < n ? i + 2 : n - 1;
    unsigned any = 0;
    for (size_t j = i - 3; j <= last; ++j)
        any |= t[j].flags;
    if (!(any & F_IDIOM))
        return valence;
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
        if (phrase_find(s, t, 0, seqs[q], lens[q], &v)) {
            valence = v;
            break;
        }
    }
    if (n - 1 > i) {
        const size_t zeroone[] = {i, i + 1};
        if (phrase_find(s, t, 0, zeroone, 2, &v))
            valence = v;
    }
    if (n - 1 > i + 1) {
        const size_t zeroonetwo[] = {i, i + 1, i + 2};
        if (phrase_find(s, t, 0, zeroonetwo, 3, &v))
            valence = v;
    }
    /* booster bigrams ("kind of"): added unsigned, as in the reference */
    const size_t *grams[] = {threetwoone, threetwo, twoone};
    const size_t glens[] = {3, 2, 2};
    for (size_t q = 0; q < 3; ++q)
        if (phrase_find(s, t, 1, grams[q], glens[q], &v))
            valence = valence + v;
    return valence;
}

/* _least_check */
static double least_check(const tok *t, double valence, size_t i)
{
    if (i > 1 && !in_lex(t, i - 1) && is_w(t, i - 1, W_LEAST)) {
        if (!is_w(t, i - 2, W_AT) && !is_w(t, i - 2, W_VERY))
            valence = valence * N_SCALAR;
    } else if (i > 0 && !in_lex(t, i - 1) && is_w(t, i - 1, W_LEAST)) {
        valence = valence * N_SCALAR;
    }
    return valence;
}

/* sentiment_valence for a lexicon word at i */
static double word_valence(const coce_sentiment *s, const tok *t, size_t i,
                           size_t n, int cap_diff)
{
    double valence = t[i].lex;
    if (is_w(t, i, W_NO) && i != n - 1 && in_lex(t, i + 1))
        valence = 0.0; /* "no" negates the next word instead */
    if ((i > 0 && is_w(t, i - 1, W_NO)) || (i > 1 && is_w(t, i - 2, W_NO)) ||
        (i > 2 && is_w(t, i - 3, W_NO) &&
         (is_w(t, i - 1, W_OR) || is_w(t, i - 1, W_NOR))))
        valence = t[i].lex * N_SCALAR;
    if ((t[i].flags & F_UPPER) && cap_diff) {
        if (valence > 0)
            valence += C_INCR;
        else
            valence -= C_INCR;
    }
    for (size_t start = 0; start < 3; ++start) {
        if (i > start && !in_lex(t, i - (start + 1))) {
            double sc = scalar_inc_dec(t, i - (start + 1), valence, cap_diff);
            if (start == 1 && sc != 0)
                sc = sc * 0.95;
            if (start == 2 && sc != 0)
                sc = sc * 0.9;
            valence = valence + sc;
            valence = negation_check(t, valence, start, i);
            if (start == 2)
                valence = special_idioms(s, t, valence, i, n);
        }
    }
    return least_check(t, valence, i);
}

/* _but_check from the first "but" at bi, including its use of
 * list.index(): each value is looked up by equality, so a repeated value
 * scales its FIRST occurrence (possibly several times) rather than its own
 * position. Quadratic in the number of tokens in the worst case, as the
 * reference. */
static void but_check(double *sent, size_t n, size_t bi)
{
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
    /* Texts without a byte >= 0x80 or an ASCII emoji key (most posts) are
     * unchanged by the emoji pass: they are tokenized in place. */
    const unsigned char *u = (const unsigned char *)text;
    int slow = 0;
    if (s->ascii_emo_any) {
        for (size_t i = 0; i < len && !slow; ++i)
            slow = (s->bcls[u[i]] & (B_HIGH | B_EMO)) != 0;
    } else {
        uint64_t acc = 0;
        size_t i = 0;
        for (; i + 8 <= len; i += 8) {
            uint64_t w;
            memcpy(&w, u + i, 8);
            acc |= w;
        }
        for (; i < len; ++i)
            acc |= u[i];
        slow = (acc & 0x8080808080808080ULL) != 0;
    }
    size_t m = len;
    int rc;
    if (slow) {
        m = replace_emoji(s, text, len, NULL);
        rc = ws_reserve(ws, m, 1);
        if (rc)
            return rc;
        replace_emoji(s, text, len, ws->text);
        ws->text[m] = '\0';
        text = ws->text;
    } else {
        rc = ws_reserve(ws, len, 0);
        if (rc)
            return rc;
    }
    /* caps, first "but", '!' and '?' (after the emoji pass: "ON! arrow") */
    size_t cnt[4];
    size_t n = tokenize(s, ws, text, m, cnt);
    if (n == 0)
        return COCE_OK;
    size_t ncaps = cnt[0];
    size_t bi = cnt[1];
    size_t bangs = cnt[2];
    size_t qmarks = cnt[3];

    /* allcap_differential: some, not all, tokens are ALL CAPS */
    int cap_diff = ncaps > 0 && ncaps < n;

    const tok *t = ws->toks;
    double *sent = ws->sent;
    for (size_t i = 0; i < n; ++i) {
        if ((t[i].flags & (F_LEX | F_BOOST)) != F_LEX ||
            (is_w(t, i, W_KIND) && i < n - 1 && is_w(t, i + 1, W_OF)))
            sent[i] = 0.0;
        else
            sent[i] = word_valence(s, t, i, n, cap_diff);
    }
    if (bi != SIZE_MAX)
        but_check(sent, n, bi);

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
