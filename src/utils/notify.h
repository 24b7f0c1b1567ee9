/* Notifications: Slack (incoming webhook) and Sentry (error events), sent
 * off the trading path.
 *
 * A notifier owns a bounded queue drained by one worker thread (pthreads)
 * that does the HTTP through libcurl. The caller only copies its text and
 * takes a mutex: enqueueing is O(1) and never waits on the network, so a
 * slow or dead endpoint never blocks the engine. When the queue is full the
 * OLDEST message is dropped (the newest news matters most) and counted; the
 * worker logs the drop count through coce_log. Each message is sent with a
 * timeout and, on a timeout, a connection error, HTTP 5xx, 408 or 429,
 * retried a bounded number of times with exponential backoff; other 4xx are
 * final failures (retrying cannot help).
 *
 * Protocols:
 * - Slack incoming webhook: POST of a JSON body {"text", "blocks"} with
 *   Content-Type: application/json to the webhook URL (Slack API,
 *   "Sending messages using incoming webhooks",
 *   https://api.slack.com/messaging/webhooks; "text" is the notification
 *   fallback when "blocks" are present, Block Kit section block).
 * - Sentry: an envelope POSTed to {BASE_URI}/api/{PROJECT_ID}/envelope/ with
 *   X-Sentry-Auth: Sentry sentry_version=7, sentry_key=..,
 *   sentry_client=coce/<version>[, sentry_secret=..] and the DSN
 *   '{PROTOCOL}://{PUBLIC_KEY}:{SECRET_KEY}@{HOST}{PATH}/{PROJECT_ID}'
 *   (secret optional) (Sentry developer docs, "Authentication",
 *   https://develop.sentry.dev/sdk/foundations/transport/authentication/).
 *   The envelope is newline-delimited: envelope header line, item header
 *   line {"type":"event","length":N}, the event payload (JSON) (Sentry
 *   developer docs, "Envelopes" and "Envelope Items",
 *   https://develop.sentry.dev/sdk/envelopes/).
 *
 * Secrets: the webhook URL and the DSN (and its keys) are registered with
 * coce_log_add_secret and never appear in a log line or an error message.
 *
 * Thread-safety: every coce_notify_* call on one notifier may come from any
 * thread, except coce_notify_free (once, after the other calls). The pure
 * formatters and the DSN parser are reentrant. */
#ifndef COCE_UTILS_NOTIFY_H
#define COCE_UTILS_NOTIFY_H

#include "utils/error.h"

#include <stddef.h>
#include <stdint.h>

struct coce_config;
struct coce_secrets;

/* ---- Sentry DSN ---------------------------------------------------------- */

#define COCE_DSN_PART_MAX 256

typedef struct coce_sentry_dsn {
    char scheme[16];                    /* "http" or "https" */
    char public_key[COCE_DSN_PART_MAX]; /* non-empty */
    char secret_key[COCE_DSN_PART_MAX]; /* "" when absent (modern DSNs) */
    char host[COCE_DSN_PART_MAX];       /* host[:port], non-empty */
    char path[COCE_DSN_PART_MAX];       /* "" or "/prefix" (no trailing /) */
    char project_id[COCE_DSN_PART_MAX]; /* non-empty, a string (Sentry) */
} coce_sentry_dsn;

/* Parses a DSN. COCE_EINVAL with a message naming the missing or bad part
 * ("SENTRY_DSN: no project id"), never the DSN or a key. */
int coce_sentry_dsn_parse(const char *dsn, coce_sentry_dsn *out, coce_err *err);

/* "{PROTOCOL}://{HOST}{PATH}/api/{PROJECT_ID}/envelope/". COCE_ERANGE when
 * it does not fit in len. */
int coce_sentry_envelope_url(const coce_sentry_dsn *dsn, char *buf, size_t len);

/* The X-Sentry-Auth value (without the header name): "Sentry
 * sentry_version=7, sentry_key=K, sentry_client=CLIENT" plus ",
 * sentry_secret=S" when the DSN has a secret. COCE_ERANGE when too long. */
int coce_sentry_auth_header(const coce_sentry_dsn *dsn, const char *client,
                            char *buf, size_t len);

/* ---- Pure formatters ----------------------------------------------------- */

typedef enum coce_notify_level {
    COCE_NOTIFY_DEBUG = 0,
    COCE_NOTIFY_INFO = 1,
    COCE_NOTIFY_WARNING = 2,
    COCE_NOTIFY_ERROR = 3,
    COCE_NOTIFY_FATAL = 4
} coce_notify_level;

/* Sentry's level names: "debug", "info", "warning", "error", "fatal"; NULL
 * out of range. */
const char *coce_notify_level_name(coce_notify_level level);

/* Longest text of a Slack section block (Block Kit limit, 3000 characters);
 * longer text is cut (on a UTF-8 boundary) in the block and kept whole in
 * the "text" fallback. */
#define COCE_SLACK_SECTION_MAX 3000

/* The Slack webhook body (malloc'ed, NUL-terminated, *out_len bytes):
 * {"text": T, "blocks": [{"type": "section", "text": {"type": "mrkdwn",
 * "text": T'}}]} where T is `text` with &, <, > escaped as Slack requires
 * (&amp; &lt; &gt;) and T' its first COCE_SLACK_SECTION_MAX characters.
 * COCE_EINVAL on NULL or invalid UTF-8, COCE_ENOMEM. */
int coce_notify_slack_payload(const char *text, char **out, size_t *out_len);

typedef struct coce_sentry_event {
    const char *event_id; /* 32 lowercase hex digits (UUID v4, no dashes) */
    int64_t time_ms;      /* event time, ms since the epoch (UTC) */
    coce_notify_level level;
    const char *message; /* UTF-8 */
    const char *module;  /* Sentry "logger"; may be NULL */
    const char *release; /* may be NULL; "coce@<version>" by convention */
    const char
        *environment; /* may be NULL ("production" is Sentry's default) */
} coce_sentry_event;

/* The envelope (malloc'ed, *out_len bytes, also NUL-terminated):
 *   {"event_id":ID,"sent_at":RFC3339}\n
 *   {"type":"event","length":N,"content_type":"application/json"}\n
 *   {"event_id":ID,"timestamp":RFC3339,"platform":"c","level":..,
 *    "logger":..,"message":{"formatted":..},"release":..,"environment":..,
 *    "sdk":{"name":"coce","version":..}}\n
 * with N the payload's byte length. sent_at_ms is the sending time.
 * COCE_EINVAL on a bad event id, level, NULL message or invalid UTF-8. */
int coce_notify_sentry_envelope(const coce_sentry_event *ev, int64_t sent_at_ms,
                                char **out, size_t *out_len);

/* ---- The notifier -------------------------------------------------------- */

typedef struct coce_notify_opts {
    const char *slack_webhook_url; /* NULL or "" = Slack disabled */
    const char *sentry_dsn;        /* NULL or "" = Sentry disabled */
    size_t queue_size;             /* notify.queue_size (256), >= 1 */
    int64_t timeout_ms;            /* notify.timeout_ms (3000): whole request */
    unsigned retries;              /* notify.retries (3): extra attempts */
    int64_t backoff_ms;            /* first retry delay (250), doubled */
    int64_t backoff_max_ms;        /* cap of one delay (5000) */
    int64_t shutdown_ms;           /* coce_notify_free's drain bound (2000) */
    const char *release;           /* Sentry release; NULL = "coce@VERSION" */
    const char *environment;       /* Sentry environment; NULL = none */
    uint64_t seed;                 /* event ids; 0 = from clock and pid */
} coce_notify_opts;

void coce_notify_opts_default(coce_notify_opts *opts);

/* Defaults, then the notify.* keys of cfg and the two secrets of s (the
 * pointers point into s, which must outlive the coce_notify_new call). */
void coce_notify_opts_from_config(coce_notify_opts *opts,
                                  const struct coce_config *cfg,
                                  const struct coce_secrets *s);

typedef struct coce_notifier coce_notifier;

/* Starts the worker. A bad DSN or option is COCE_EINVAL naming the option
 * (never its value); COCE_ENOMEM; COCE_EIO when the thread or libcurl cannot
 * start. With neither endpoint set the notifier accepts and discards. */
int coce_notify_new(const coce_notify_opts *opts, coce_notifier **out,
                    coce_err *err);

/* 1 when Slack / Sentry is configured. */
int coce_notify_slack_enabled(const coce_notifier *n);
int coce_notify_sentry_enabled(const coce_notifier *n);

/* Queues a Slack message. O(1): copies the text and returns; never waits
 * on the network. COCE_OK (and nothing queued) when Slack is disabled;
 * COCE_EINVAL on NULL; COCE_ENOMEM. */
int coce_notify_slack(coce_notifier *n, const char *text);

/* Queues a Sentry event (time = now). Same contract as coce_notify_slack.
 * module may be NULL. */
int coce_notify_sentry_event(coce_notifier *n, coce_notify_level level,
                             const char *message, const char *module);

/* Waits until the queue is empty and nothing is in flight, at most
 * timeout_ms. COCE_OK, or COCE_ETIMEOUT. */
int coce_notify_flush(coce_notifier *n, int64_t timeout_ms);

typedef struct coce_notify_stats {
    uint64_t queued;  /* accepted by coce_notify_slack/_sentry_event */
    uint64_t sent;    /* answered 2xx */
    uint64_t failed;  /* gave up (retries exhausted or a final 4xx) */
    uint64_t dropped; /* oldest dropped from a full queue, or at shutdown */
    uint64_t retried; /* extra attempts made */
    size_t pending;   /* in the queue now (not counting one in flight) */
} coce_notify_stats;

void coce_notify_stats_get(coce_notifier *n, coce_notify_stats *out);

/* Drains the queue for at most opts.shutdown_ms, then aborts the transfer
 * in flight, stops the worker and frees. Messages still queued are counted
 * as dropped (and logged). NULL is a no-op. */
void coce_notify_free(coce_notifier *n);

#endif
