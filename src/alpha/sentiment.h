/* Lexicon-and-rules sentiment scorer of the VADER kind: Hutto & Gilbert,
 * "VADER: A Parsimonious Rule-based Model for Sentiment Analysis of Social
 * Media Text", ICWSM 2014 (section 3, the five heuristics), reproducing the
 * rules of the reference implementation (cjhutto/vaderSentiment,
 * vaderSentiment/vaderSentiment.py, SentimentIntensityAnalyzer
 * .polarity_scores) including its quirks; see docs/sentiment.md.
 *
 * Thread-safety: a handle is immutable after coce_sentiment_new except for
 * its own scratch workspace, which coce_sentiment_score uses. So calls of
 * coce_sentiment_score on one handle must not run concurrently. Threads may
 * share one handle through coce_sentiment_score_ws, each with its own
 * workspace. Neither call allocates, except that a workspace grows (once)
 * when a text is longer than every earlier one it has seen.
 *
 * Input is any byte string of explicit length (NUL bytes included): valid
 * UTF-8 is read as code points; each byte of an invalid sequence counts as
 * one uncased, non-space character (never a crash). */
#ifndef COCE_ALPHA_SENTIMENT_H
#define COCE_ALPHA_SENTIMENT_H

#include "utils/error.h"

#include <stddef.h>

typedef struct coce_sentiment coce_sentiment;
typedef struct coce_sentiment_ws coce_sentiment_ws;

/* The reference's polarity_scores, NOT rounded (the reference rounds neg,
 * neu, pos to 3 decimals and compound to 4: coce_sentiment_round). neg + neu
 * + pos == 1 up to rounding (all 0 for a text without tokens); compound in
 * [-1, 1]. */
typedef struct coce_sentiment_scores {
    double neg, neu, pos, compound;
} coce_sentiment_scores;

/* Loads the VADER lexicon (`word<TAB>valence[<TAB>...]`), the emoji lexicon
 * (`emoji<TAB>description`) and, when addon_path is not NULL, an add-on
 * lexicon (`term<TAB>valence[<TAB>source...]`, '#' comments and blank lines
 * allowed; terms matched case-insensitively; an add-on entry overrides the
 * VADER entry; a term that is one non-ASCII code point, e.g. an emoji, is
 * scored as its own token instead of being replaced by its description).
 * COCE_EIO for an unreadable file, COCE_EPARSE naming file:line:field for a
 * malformed line, COCE_ENOMEM. *out is NULL on error. */
int coce_sentiment_new(const char *lexicon_path, const char *emoji_path,
                       const char *addon_path, coce_sentiment **out,
                       coce_err *err);
/* NULL is a no-op. */
void coce_sentiment_free(coce_sentiment *s);

/* Number of lexicon words (VADER plus add-on, duplicates counted once). */
size_t coce_sentiment_lexicon_size(const coce_sentiment *s);

/* Scores text[0..len) using the handle's workspace (see thread-safety
 * above). text may be NULL when len == 0. COCE_EINVAL on NULL s/out,
 * COCE_ENOMEM when the workspace cannot grow (out is then zeroed). */
int coce_sentiment_score(const coce_sentiment *s, const char *text,
                         size_t len, coce_sentiment_scores *out);

/* A caller-owned workspace, so that several threads can share one handle. */
int coce_sentiment_ws_new(coce_sentiment_ws **out);
void coce_sentiment_ws_free(coce_sentiment_ws *ws);
int coce_sentiment_score_ws(const coce_sentiment *s, const char *text,
                            size_t len, coce_sentiment_ws *ws,
                            coce_sentiment_scores *out);

/* Python's round(x, digits) for 0 <= digits <= 15: the exact binary value
 * rounded to the nearest decimal, ties to even. */
double coce_sentiment_round(double x, int digits);

#endif
