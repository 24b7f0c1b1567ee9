/* The one logger: JSON lines (timestamp, level, module, event, fields) to a
 * file, and a short human line on stderr for warnings and errors.
 *
 * Library code logs only through coce_log(). Registered secrets are replaced
 * by "[REDACTED]" in every line before it is written. Thread-safe. */
#ifndef COCE_UTILS_LOG_H
#define COCE_UTILS_LOG_H

#include <stdint.h>

typedef enum coce_log_level {
    COCE_LOG_DEBUG = 0,
    COCE_LOG_INFO = 1,
    COCE_LOG_WARN = 2,
    COCE_LOG_ERROR = 3,
    COCE_LOG_OFF = 4
} coce_log_level;

/* Opens (appends to) a JSONL file; NULL closes any open file. Creates the
 * parent directory if needed. */
int coce_log_open(const char *path);
void coce_log_close(void);

/* Lines below `level` are dropped (default INFO). */
void coce_log_set_level(coce_log_level level);
coce_log_level coce_log_get_level(void);
/* Human lines on stderr at or above `level` (default WARN; OFF disables). */
void coce_log_set_stderr_level(coce_log_level level);

/* "debug", "info", "warn"/"warning", "error", "off" (any case). */
int coce_log_level_parse(const char *text, coce_log_level *out);
const char *coce_log_level_name(coce_log_level level);

/* Secrets (API keys, tokens, webhook URLs) never reach a log line. */
void coce_log_add_secret(const char *secret);
void coce_log_clear_secrets(void);

/* Simulated time: when set (not INT64_MIN), each line also carries
 * "sim_ms" so that a back-test's log reads in market time. */
void coce_log_set_sim_time(int64_t sim_ms);

/* Counts of lines written at each level since start (for summaries). */
uint64_t coce_log_count(coce_log_level level);

/* Writes one line. `fields_fmt` is a jansson json_pack() format for an
 * object, e.g. "{s:s, s:f}", followed by its arguments; NULL for none. */
void coce_log(coce_log_level level, const char *module, const char *event,
              const char *fields_fmt, ...);

#endif
