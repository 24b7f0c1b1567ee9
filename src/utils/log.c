#include "utils/log.h"

#include "utils/error.h"
#include "utils/fsutil.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_SECRETS 32

static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file;
static coce_log_level log_level = COCE_LOG_INFO;
static coce_log_level stderr_level = COCE_LOG_WARN;
static char *secrets[MAX_SECRETS];
static size_t n_secrets;
static int64_t sim_time_ms = INT64_MIN;
static uint64_t line_counts[COCE_LOG_OFF];

static const char *const level_names[] = {"debug", "info", "warn", "error",
                                          "off"};

const char *coce_log_level_name(coce_log_level level)
{
    if ((int)level < 0 || level > COCE_LOG_OFF)
        return "?";
    return level_names[level];
}

int coce_log_level_parse(const char *text, coce_log_level *out)
{
    if (text == NULL || out == NULL)
        return COCE_EINVAL;
    for (int i = 0; i <= (int)COCE_LOG_OFF; ++i) {
        if (strcasecmp(text, level_names[i]) == 0) {
            *out = (coce_log_level)i;
            return COCE_OK;
        }
    }
    if (strcasecmp(text, "warning") == 0) {
        *out = COCE_LOG_WARN;
        return COCE_OK;
    }
    return COCE_EINVAL;
}

int coce_log_open(const char *path)
{
    pthread_mutex_lock(&log_mutex);
    if (log_file != NULL) {
        fclose(log_file);
        log_file = NULL;
    }
    int rc = COCE_OK;
    if (path != NULL) {
        rc = coce_fs_mkdir_parent(path);
        if (rc == COCE_OK) {
            log_file = fopen(path, "ae");
            if (log_file == NULL)
                rc = COCE_EIO;
        }
    }
    pthread_mutex_unlock(&log_mutex);
    return rc;
}

void coce_log_close(void)
{
    (void)coce_log_open(NULL);
}

void coce_log_set_level(coce_log_level level)
{
    log_level = level;
}

coce_log_level coce_log_get_level(void)
{
    return log_level;
}

void coce_log_set_stderr_level(coce_log_level level)
{
    stderr_level = level;
}

void coce_log_add_secret(const char *secret)
{
    /* Very short values would redact ordinary words; they are not secrets
     * worth the name, and ignoring them keeps logs readable. */
    if (secret == NULL || strlen(secret) < 4)
        return;
    pthread_mutex_lock(&log_mutex);
    if (n_secrets < MAX_SECRETS) {
        secrets[n_secrets] = strdup(secret);
        if (secrets[n_secrets] != NULL)
            ++n_secrets;
    }
    pthread_mutex_unlock(&log_mutex);
}

void coce_log_clear_secrets(void)
{
    pthread_mutex_lock(&log_mutex);
    for (size_t i = 0; i < n_secrets; ++i)
        free(secrets[i]);
    n_secrets = 0;
    pthread_mutex_unlock(&log_mutex);
}

void coce_log_set_sim_time(int64_t sim_ms)
{
    sim_time_ms = sim_ms;
}

uint64_t coce_log_count(coce_log_level level)
{
    if ((int)level < 0 || level >= COCE_LOG_OFF)
        return 0;
    return line_counts[level];
}

/* Replaces every registered secret in `text` (in place, same length or
 * shorter is not guaranteed, so a new buffer is returned). */
static char *redact(const char *text)
{
    char *out = strdup(text);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n_secrets; ++i) {
        const char *secret = secrets[i];
        size_t slen = strlen(secret);
        char *hit;
        while ((hit = strstr(out, secret)) != NULL) {
            static const char mask[] = "[REDACTED]";
            size_t head = (size_t)(hit - out);
            size_t tail = strlen(hit + slen);
            char *next = malloc(head + sizeof mask + tail);
            if (next == NULL) {
                free(out);
                return NULL;
            }
            memcpy(next, out, head);
            memcpy(next + head, mask, sizeof mask - 1);
            memcpy(next + head + sizeof mask - 1, hit + slen, tail + 1);
            free(out);
            out = next;
        }
    }
    return out;
}

static void format_utc(char *buf, size_t len)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    (void)snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                   tm.tm_min, tm.tm_sec, (long)(ts.tv_nsec / 1000000L) % 1000);
}

void coce_log(coce_log_level level, const char *module, const char *event,
              const char *fields_fmt, ...)
{
    if (level >= COCE_LOG_OFF || (level < log_level && level < stderr_level))
        return;
    json_t *fields = NULL;
    if (fields_fmt != NULL) {
        va_list ap;
        va_start(ap, fields_fmt);
        json_error_t jerr;
        fields = json_vpack_ex(&jerr, 0, fields_fmt, ap);
        va_end(ap);
    }
    char ts[96];
    format_utc(ts, sizeof ts);
    json_t *line = json_object();
    if (line == NULL) {
        json_decref(fields);
        return;
    }
    json_object_set_new(line, "ts", json_string(ts));
    json_object_set_new(line, "level", json_string(coce_log_level_name(level)));
    json_object_set_new(line, "module", json_string(module ? module : "?"));
    json_object_set_new(line, "event", json_string(event ? event : "?"));
    if (sim_time_ms != INT64_MIN)
        json_object_set_new(line, "sim_ms", json_integer(sim_time_ms));
    if (fields != NULL && json_is_object(fields))
        json_object_set(line, "fields", fields);
    char *text = json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(17));
    char *human = NULL;
    if (level >= stderr_level && fields != NULL)
        human = json_dumps(fields, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(line);
    json_decref(fields);
    if (text == NULL) {
        free(human);
        return;
    }

    pthread_mutex_lock(&log_mutex);
    char *clean = redact(text);
    char *clean_human = human != NULL ? redact(human) : NULL;
    if (clean != NULL) {
        if (log_file != NULL && level >= log_level) {
            fputs(clean, log_file);
            fputc('\n', log_file);
            fflush(log_file);
            ++line_counts[level];
        }
        if (level >= stderr_level)
            fprintf(stderr, "coce: %s: %s %s%s%s\n", coce_log_level_name(level),
                    module ? module : "?", event ? event : "?",
                    clean_human ? " " : "", clean_human ? clean_human : "");
    }
    pthread_mutex_unlock(&log_mutex);
    free(clean);
    free(clean_human);
    free(text);
    free(human);
}
