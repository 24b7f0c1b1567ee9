/* The pump-model subcommands of `coce` (issue 4; docs/pump_model.md):
 *
 *   coce features --trades FILE|DIR --events EVENTS [--events MORE] --chunk 25s
 *                 --out features.csv [--window N] [--extras] [--exchange X]
 *                 [--posts posts.csv --sentiment-columns all|LIST
 *                  [--lexicon-dir DIR]]   (docs/pump_model_sentiment.md)
 *   coce train    --features F --out model.json [--C 1.0] [--chunk 25s]
 *                 [--window N] [--threshold-folds 5] [--prepare logratio|clip]
 *   coce predict  --model M --features F --out P
 *   coce eval     --model M --features F [--events E]... [--folds 5]
 *                 [--seed S] [--baseline] [--no-kfold] [--time-split FRAC]
 *   coce detect   --model M --trades FILE|DIR [--out alerts.csv]
 *                 [--pause-minutes 30] [--window N]
 *   coce retrain  --features F [--model models/pump_25s.json]
 *                 [--archive DIR] [--date YYYY-MM-DD] [--C C]
 *
 * Each takes argv[0] = its name and returns the exit code: 0 ok, 1 runtime
 * error, 2 usage, 3 bad input data. Results go to stdout, errors to stderr
 * as "coce NAME: what". */
#ifndef COCE_AGENT_CMD_MODEL_H
#define COCE_AGENT_CMD_MODEL_H

int coce_cmd_features(int argc, char **argv);
int coce_cmd_train(int argc, char **argv);
int coce_cmd_predict(int argc, char **argv);
int coce_cmd_eval(int argc, char **argv);
int coce_cmd_detect(int argc, char **argv);
int coce_cmd_retrain(int argc, char **argv);

#endif
