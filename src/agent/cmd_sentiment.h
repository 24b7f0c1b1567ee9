/* `coce sentiment [FILE] [--addon] [--addon-file F] [--lexicon-dir DIR]`:
 * VADER sentiment scores of text lines (src/alpha/sentiment.h).
 *
 * Input (FILE, or stdin without FILE or with "-"): one post per line; a
 * trailing CR is dropped. A line with tabs is `id<TAB>...<TAB>text` (first
 * field the id, last field the text, so `id<TAB>rating<TAB>text` works); a
 * line without tabs is the text itself and its id is the line number (from
 * 1). Output on stdout, one line per input line:
 *   id<TAB>neg<TAB>neu<TAB>pos<TAB>compound
 * with neg/neu/pos at 3 decimals and compound at 4, as the reference rounds.
 *
 * Lexicons: DIR/vader_lexicon.txt and DIR/emoji_utf8_lexicon.txt where DIR
 * is --lexicon-dir, else $COCE_DATA_DIR/sentiment (COCE_DATA_DIR = the
 * repository's data/ directory), else data/sentiment under the working
 * directory. --addon adds DIR/crypto_lexicon.tsv; --addon-file F adds F.
 *
 * Exit codes: 0 ok; 1 runtime (I/O); 2 usage, or a lexicon missing or
 * malformed (the message names the file and line). */
#ifndef COCE_AGENT_CMD_SENTIMENT_H
#define COCE_AGENT_CMD_SENTIMENT_H

/* argv[0] = "sentiment". */
int coce_cmd_sentiment(int argc, char **argv);

#endif
