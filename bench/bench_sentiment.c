/* In-process VADER throughput: scores every text of a tweets file
 * (`id<TAB>rating<TAB>text`, CRLF allowed) `reps` times per run, 5 runs,
 * and prints the median rate in posts per second.
 * usage: bench_sentiment TWEETS LEXICON_DIR [REPS] */
#include "alpha/sentiment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_sentiment TWEETS LEXICON_DIR [REPS]\n");
        return 2;
    }
    int reps = argc > 3 ? atoi(argv[3]) : 20;
    char lex[4096];
    char emo[4096];
    snprintf(lex, sizeof lex, "%s/vader_lexicon.txt", argv[2]);
    snprintf(emo, sizeof emo, "%s/emoji_utf8_lexicon.txt", argv[2]);
    coce_err err;
    coce_sentiment *s = NULL;
    if (coce_sentiment_new(lex, emo, NULL, &s, &err)) {
        fprintf(stderr, "bench_sentiment: %s\n", err.msg);
        return 1;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        fprintf(stderr, "bench_sentiment: %s: cannot open\n", argv[1]);
        coce_sentiment_free(s);
        return 1;
    }
    size_t cap = 8192;
    size_t n = 0;
    char **texts = malloc(cap * sizeof *texts);
    size_t *lens = malloc(cap * sizeof *lens);
    char *line = NULL;
    size_t lcap = 0;
    ssize_t got;
    while (texts && lens && (got = getline(&line, &lcap, f)) >= 0) {
        size_t len = (size_t)got;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            --len;
        char *t = memchr(line, '\t', len);
        t = t ? memchr(t + 1, '\t', len - (size_t)(t + 1 - line)) : NULL;
        if (!t || n == cap)
            continue;
        lens[n] = len - (size_t)(t + 1 - line);
        texts[n] = malloc(lens[n] + 1);
        if (!texts[n])
            break;
        memcpy(texts[n], t + 1, lens[n]);
        ++n;
    }
    free(line);
    fclose(f);
    double rates[5];
    double sink = 0;
    for (int r = 0; r < 5; ++r) {
        double t0 = now_s();
        for (int k = 0; k < reps; ++k)
            for (size_t i = 0; i < n; ++i) {
                coce_sentiment_scores sc;
                coce_sentiment_score(s, texts[i], lens[i], &sc);
                sink += sc.compound;
            }
        rates[r] = (double)n * reps / (now_s() - t0);
    }
    qsort(rates, 5, sizeof rates[0], cmp);
    printf("posts %zu reps %d median %.0f posts/s (min %.0f max %.0f) "
           "checksum %.4f\n",
           n, reps, rates[2], rates[0], rates[4], sink / 5.0);
    for (size_t i = 0; i < n; ++i)
        free(texts[i]);
    free(texts);
    free(lens);
    coce_sentiment_free(s);
    return 0;
}
