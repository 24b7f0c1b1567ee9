#include "agent/cmd_sentiment.h"

#include "alpha/sentiment.h"
#include "utils/error.h"
#include "utils/fsutil.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

static void usage(FILE *out)
{
    fprintf(out,
            "usage: coce sentiment [FILE] [--addon] [--addon-file F]\n"
            "                      [--lexicon-dir DIR]\n"
            "Scores each line (id<TAB>...<TAB>text, or plain text with the\n"
            "line number as id) with VADER; writes\n"
            "id<TAB>neg<TAB>neu<TAB>pos<TAB>compound. Reads stdin without "
            "FILE.\n"
            "Lexicons: --lexicon-dir, else $COCE_DATA_DIR/sentiment, else\n"
            "data/sentiment. --addon: also crypto_lexicon.tsv there.\n");
}

static int join(char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Scores one line in place (CR stripped) and prints its output line. */
static int score_line(const coce_sentiment *s, char *line, size_t len,
                      size_t lineno)
{
    if (len && line[len - 1] == '\r')
        line[--len] = '\0';
    const char *first_tab = memchr(line, '\t', len);
    const char *text = line;
    size_t tlen = len;
    char idbuf[32];
    const char *id = idbuf;
    int idlen;
    if (first_tab) {
        const char *last_tab = line + len - 1;
        while (*last_tab != '\t')
            --last_tab; /* stops at first_tab at the latest */
        text = last_tab + 1;
        tlen = len - (size_t)(text - line);
        id = line;
        idlen = (int)(first_tab - line);
    } else {
        idlen = snprintf(idbuf, sizeof idbuf, "%zu", lineno);
    }
    coce_sentiment_scores r;
    int rc = coce_sentiment_score(s, text, tlen, &r);
    if (rc)
        return rc;
    printf("%.*s\t%.3f\t%.3f\t%.3f\t%.4f\n", idlen, id,
           coce_sentiment_round(r.neg, 3), coce_sentiment_round(r.neu, 3),
           coce_sentiment_round(r.pos, 3),
           coce_sentiment_round(r.compound, 4));
    return COCE_OK;
}

int coce_cmd_sentiment(int argc, char **argv)
{
    static const struct option opts[] = {
        {"addon", no_argument, NULL, 'a'},
        {"addon-file", required_argument, NULL, 'f'},
        {"lexicon-dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int addon = 0;
    const char *addon_file = NULL;
    const char *dir = NULL;
    int c;
    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            addon = 1;
            break;
        case 'f':
            addon_file = optarg;
            break;
        case 'd':
            dir = optarg;
            break;
        case 'h':
            usage(stdout);
            return EXIT_OK;
        default:
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "coce sentiment: unexpected argument '%s'\n",
                argv[optind + 1]);
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *path = optind < argc ? argv[optind] : NULL;
    if (path && strcmp(path, "-") == 0)
        path = NULL;

    char envdir[4096];
    if (!dir) {
        const char *data = getenv("COCE_DATA_DIR");
        if (data && *data) {
            if (join(envdir, sizeof envdir, data, "sentiment")) {
                fprintf(stderr, "coce sentiment: COCE_DATA_DIR too long\n");
                return EXIT_USAGE;
            }
            dir = envdir;
        } else {
            dir = "data/sentiment";
        }
    }
    char lex[4096];
    char emo[4096];
    char add[4096];
    if (join(lex, sizeof lex, dir, "vader_lexicon.txt") ||
        join(emo, sizeof emo, dir, "emoji_utf8_lexicon.txt") ||
        join(add, sizeof add, dir, "crypto_lexicon.tsv")) {
        fprintf(stderr, "coce sentiment: lexicon directory name too long\n");
        return EXIT_USAGE;
    }
    const char *need[] = {lex, emo, addon ? add : NULL, addon_file};
    for (size_t i = 0; i < 4; ++i) {
        if (need[i] && !coce_fs_exists(need[i])) {
            fprintf(stderr,
                    "coce sentiment: %s: not found (run from the repository "
                    "root, set COCE_DATA_DIR to its data/ directory, or pass "
                    "--lexicon-dir)\n",
                    need[i]);
            return EXIT_USAGE;
        }
    }
    if (addon && addon_file) {
        fprintf(stderr, "coce sentiment: --addon and --addon-file exclude "
                        "each other\n");
        return EXIT_USAGE;
    }
    coce_err err;
    coce_err_clear(&err);
    coce_sentiment *s = NULL;
    int rc = coce_sentiment_new(lex, emo, addon ? add : addon_file, &s, &err);
    if (rc) {
        fprintf(stderr, "coce sentiment: %s\n", err.msg);
        return rc == COCE_ENOMEM ? EXIT_RUNTIME : EXIT_USAGE;
    }
    FILE *in = stdin;
    if (path) {
        in = fopen(path, "rb");
        if (!in) {
            fprintf(stderr, "coce sentiment: %s: cannot open\n", path);
            coce_sentiment_free(s);
            return EXIT_RUNTIME;
        }
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    size_t lineno = 0;
    int status = EXIT_OK;
    while ((n = getline(&line, &cap, in)) >= 0) {
        ++lineno;
        size_t len = (size_t)n;
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        if (score_line(s, line, len, lineno)) {
            fprintf(stderr, "coce sentiment: %s:%zu: out of memory\n",
                    path ? path : "stdin", lineno);
            status = EXIT_RUNTIME;
            break;
        }
    }
    if (status == EXIT_OK && ferror(in)) {
        fprintf(stderr, "coce sentiment: %s: read error\n",
                path ? path : "stdin");
        status = EXIT_RUNTIME;
    }
    free(line);
    if (path)
        fclose(in);
    coce_sentiment_free(s);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "coce sentiment: write error on stdout\n");
        status = EXIT_RUNTIME;
    }
    return status;
}
