/* Slack and Sentry notifications off the trading path; protocol sources in
 * notify.h. */
#include "utils/notify.h"

#include "utils/config.h"
#include "utils/env.h"
#include "utils/log.h"
#include "utils/rng.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef COCE_VERSION
#define COCE_VERSION "0.0.0"
#endif

/* ---- small helpers ------------------------------------------------------- */

static int64_t mono_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* RFC 3339 UTC with milliseconds, as Sentry's timestamp fields accept. */
static void rfc3339(int64_t ms, char out[32])
{
    int64_t sec = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int64_t frac = ms - sec * 1000;
    time_t t = (time_t)sec;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL) {
        (void)snprintf(out, 32, "1970-01-01T00:00:00.000Z");
        return;
    }
    char date[24];
    (void)strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    (void)snprintf(out, 32, "%s.%03dZ", date, (int)frac);
}

static int copy_part(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        return COCE_ERANGE;
    memcpy(dst, src, len);
    dst[len] = '\0';
    return COCE_OK;
}

/* ---- Sentry DSN ---------------------------------------------------------- */

static int dsn_fail(coce_err *err, const char *what)
{
    return coce_err_set(err, COCE_EINVAL, "SENTRY_DSN: %s", what);
}

static int project_id_ok(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; ++i) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
              (c >= 'A' && c <= 'Z') || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

int coce_sentry_dsn_parse(const char *dsn, coce_sentry_dsn *out, coce_err *err)
{
    if (dsn == NULL || out == NULL)
        return dsn_fail(err, "missing");
    memset(out, 0, sizeof *out);
    if (dsn[0] == '\0')
        return dsn_fail(err, "empty");
    for (const char *p = dsn; *p != '\0'; ++p)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return dsn_fail(err, "contains whitespace or a control character");
    const char *sep = strstr(dsn, "://");
    if (sep == NULL)
        return dsn_fail(err, "no scheme (expected http:// or https://)");
    size_t slen = (size_t)(sep - dsn);
    if (!((slen == 4 && strncmp(dsn, "http", 4) == 0) ||
          (slen == 5 && strncmp(dsn, "https", 5) == 0)))
        return dsn_fail(err, "scheme is not http or https");
    (void)copy_part(out->scheme, sizeof out->scheme, dsn, slen);
    const char *rest = sep + 3;
    const char *slash = strchr(rest, '/');
    const char *at = strchr(rest, '@');
    if (at == NULL || (slash != NULL && at > slash))
        return dsn_fail(err, "no public key (expected KEY@HOST)");
    const char *colon = memchr(rest, ':', (size_t)(at - rest));
    const char *key_end = colon != NULL ? colon : at;
    if (key_end == rest)
        return dsn_fail(err, "empty public key");
    if (copy_part(out->public_key, sizeof out->public_key, rest,
                  (size_t)(key_end - rest)) != COCE_OK)
        return dsn_fail(err, "public key too long");
    if (colon != NULL) {
        if (colon + 1 == at)
            return dsn_fail(err, "empty secret key after ':'");
        if (copy_part(out->secret_key, sizeof out->secret_key, colon + 1,
                      (size_t)(at - colon - 1)) != COCE_OK)
            return dsn_fail(err, "secret key too long");
    }
    const char *host = at + 1;
    if (strchr(host, '@') != NULL)
        return dsn_fail(err, "more than one '@'");
    slash = strchr(host, '/');
    if (slash == host || host[0] == '\0')
        return dsn_fail(err, "empty host");
    if (slash == NULL)
        return dsn_fail(err, "no project id (expected HOST/PROJECT_ID)");
    if (copy_part(out->host, sizeof out->host, host, (size_t)(slash - host)) !=
        COCE_OK)
        return dsn_fail(err, "host too long");
    const char *last = strrchr(slash, '/');
    const char *pid = last + 1;
    if (strchr(pid, '?') != NULL || strchr(pid, '#') != NULL)
        return dsn_fail(err, "unexpected query or fragment");
    if (!project_id_ok(pid, strlen(pid)))
        return dsn_fail(err, "no project id or a bad one (expected "
                             "HOST[/PATH]/PROJECT_ID, letters, digits, - _)");
    if (copy_part(out->project_id, sizeof out->project_id, pid, strlen(pid)) !=
        COCE_OK)
        return dsn_fail(err, "project id too long");
    if (copy_part(out->path, sizeof out->path, slash, (size_t)(last - slash)) !=
        COCE_OK)
        return dsn_fail(err, "path too long");
    if (strstr(out->path, "//") != NULL || (last > slash && last[-1] == '/'))
        return dsn_fail(err, "empty path segment");
    return COCE_OK;
}

int coce_sentry_envelope_url(const coce_sentry_dsn *dsn, char *buf, size_t len)
{
    if (dsn == NULL || buf == NULL || len == 0)
        return COCE_EINVAL;
    int w = snprintf(buf, len, "%s://%s%s/api/%s/envelope/", dsn->scheme,
                     dsn->host, dsn->path, dsn->project_id);
    return w < 0 || (size_t)w >= len ? COCE_ERANGE : COCE_OK;
}

int coce_sentry_auth_header(const coce_sentry_dsn *dsn, const char *client,
                            char *buf, size_t len)
{
    if (dsn == NULL || client == NULL || buf == NULL || len == 0)
        return COCE_EINVAL;
    int w;
    if (dsn->secret_key[0] != '\0')
        w = snprintf(buf, len,
                     "Sentry sentry_version=7, sentry_key=%s, "
                     "sentry_client=%s, sentry_secret=%s",
                     dsn->public_key, client, dsn->secret_key);
    else
        w = snprintf(buf, len,
                     "Sentry sentry_version=7, sentry_key=%s, "
                     "sentry_client=%s",
                     dsn->public_key, client);
    return w < 0 || (size_t)w >= len ? COCE_ERANGE : COCE_OK;
}

/* ---- formatters ---------------------------------------------------------- */

static const char *const level_names[] = {"debug", "info", "warning", "error",
                                          "fatal"};

const char *coce_notify_level_name(coce_notify_level level)
{
    if ((int)level < 0 ||
        (size_t)level >= sizeof level_names / sizeof level_names[0])
        return NULL;
    return level_names[level];
}

/* Slack: "&, <, > are control characters in mrkdwn and must be escaped"
 * (Slack API, "Formatting text for app surfaces", Escaping text). */
static char *slack_escape(const char *text)
{
    size_t n = 0;
    for (const char *p = text; *p != '\0'; ++p)
        n += *p == '&' ? 5 : (*p == '<' || *p == '>') ? 4 : 1;
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    char *q = out;
    for (const char *p = text; *p != '\0'; ++p) {
        const char *rep = *p == '&'   ? "&amp;"
                          : *p == '<' ? "&lt;"
                          : *p == '>' ? "&gt;"
                                      : NULL;
        if (rep != NULL) {
            size_t k = strlen(rep);
            memcpy(q, rep, k);
            q += k;
        } else {
            *q++ = *p;
        }
    }
    *q = '\0';
    return out;
}

/* Byte length of the first `max_chars` UTF-8 characters of s (s valid). */
static size_t utf8_prefix(const char *s, size_t max_chars)
{
    size_t i = 0, chars = 0;
    while (s[i] != '\0' && chars < max_chars) {
        ++i;
        while (((unsigned char)s[i] & 0xC0) == 0x80)
            ++i;
        ++chars;
    }
    return i;
}

static int dump(json_t *root, char **out, size_t *out_len)
{
    if (root == NULL)
        return COCE_EINVAL;
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (s == NULL)
        return COCE_ENOMEM;
    *out = s;
    if (out_len != NULL)
        *out_len = strlen(s);
    return COCE_OK;
}

int coce_notify_slack_payload(const char *text, char **out, size_t *out_len)
{
    if (text == NULL || out == NULL)
        return COCE_EINVAL;
    *out = NULL;
    char *esc = slack_escape(text);
    if (esc == NULL)
        return COCE_ENOMEM;
    json_t *full = json_string(esc); /* NULL on invalid UTF-8 */
    json_t *cut = NULL;
    if (full != NULL)
        cut = json_stringn(esc, utf8_prefix(esc, COCE_SLACK_SECTION_MAX));
    free(esc);
    if (full == NULL || cut == NULL) {
        json_decref(full);
        json_decref(cut);
        return COCE_EINVAL;
    }
    json_t *root =
        json_pack("{s:o, s:[{s:s, s:{s:s, s:o}}]}", "text", full, "blocks",
                  "type", "section", "text", "type", "mrkdwn", "text", cut);
    return dump(root, out, out_len);
}

static int event_id_ok(const char *id)
{
    if (id == NULL || strlen(id) != 32)
        return 0;
    for (size_t i = 0; i < 32; ++i)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return 0;
    return 1;
}

int coce_notify_sentry_envelope(const coce_sentry_event *ev, int64_t sent_at_ms,
                                char **out, size_t *out_len)
{
    if (ev == NULL || out == NULL || out_len == NULL ||
        !event_id_ok(ev->event_id) || ev->message == NULL ||
        coce_notify_level_name(ev->level) == NULL)
        return COCE_EINVAL;
    *out = NULL;
    char ts[32], sent[32];
    rfc3339(ev->time_ms, ts);
    rfc3339(sent_at_ms, sent);
    json_t *msg = json_string(ev->message);
    if (msg == NULL)
        return COCE_EINVAL;
    json_t *payload =
        json_pack("{s:s, s:s, s:s, s:s, s:{s:o}, s:{s:s, s:s}}", "event_id",
                  ev->event_id, "timestamp", ts, "platform", "c", "level",
                  coce_notify_level_name(ev->level), "message", "formatted",
                  msg, "sdk", "name", "coce", "version", COCE_VERSION);
    if (payload == NULL)
        return COCE_ENOMEM;
    struct {
        const char *key, *value;
    } opt[] = {{"logger", ev->module},
               {"release", ev->release},
               {"environment", ev->environment}};
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; ++i) {
        if (opt[i].value == NULL || opt[i].value[0] == '\0')
            continue;
        json_t *v = json_string(opt[i].value);
        if (v == NULL) {
            json_decref(payload);
            return COCE_EINVAL;
        }
        (void)json_object_set_new(payload, opt[i].key, v);
    }
    char *body = NULL;
    size_t body_len = 0;
    int rc = dump(payload, &body, &body_len);
    if (rc != COCE_OK)
        return rc;
    char *head = NULL, *item = NULL;
    size_t head_len = 0, item_len = 0;
    rc =
        dump(json_pack("{s:s, s:s}", "event_id", ev->event_id, "sent_at", sent),
             &head, &head_len);
    if (rc == COCE_OK)
        rc = dump(json_pack("{s:s, s:I, s:s}", "type", "event", "length",
                            (json_int_t)body_len, "content_type",
                            "application/json"),
                  &item, &item_len);
    char *env = NULL;
    size_t total = head_len + item_len + body_len + 3;
    if (rc == COCE_OK && (env = malloc(total + 1)) == NULL)
        rc = COCE_ENOMEM;
    if (rc == COCE_OK) {
        (void)snprintf(env, total + 1, "%s\n%s\n%s\n", head, item, body);
        *out = env;
        *out_len = total;
    }
    free(head);
    free(item);
    free(body);
    return rc;
}

/* ---- the notifier -------------------------------------------------------- */

void coce_notify_opts_default(coce_notify_opts *opts)
{
    if (opts == NULL)
        return;
    memset(opts, 0, sizeof *opts);
    opts->queue_size = 256;
    opts->timeout_ms = 3000;
    opts->retries = 3;
    opts->backoff_ms = 250;
    opts->backoff_max_ms = 5000;
    opts->shutdown_ms = 2000;
}

void coce_notify_opts_from_config(coce_notify_opts *opts,
                                  const struct coce_config *cfg,
                                  const struct coce_secrets *s)
{
    coce_notify_opts_default(opts);
    if (opts == NULL)
        return;
    if (cfg != NULL) {
        if (cfg->notify.queue_size > 0)
            opts->queue_size = (size_t)cfg->notify.queue_size;
        if (cfg->notify.timeout_ms > 0)
            opts->timeout_ms = cfg->notify.timeout_ms;
        if (cfg->notify.retries >= 0)
            opts->retries = (unsigned)cfg->notify.retries;
    }
    if (s != NULL) {
        opts->slack_webhook_url = s->slack_webhook_url;
        opts->sentry_dsn = s->sentry_dsn;
    }
}

enum { KIND_SLACK = 0, KIND_SENTRY = 1 };

typedef struct nmsg {
    int kind;
    coce_notify_level level;
    int64_t time_ms;
    char *text;
    char *module;
} nmsg;

struct coce_notifier {
    coce_notify_opts o;
    char *slack_url;
    int sentry;
    coce_sentry_dsn dsn;
    char sentry_url[4 * COCE_DSN_PART_MAX];
    char auth[4 * COCE_DSN_PART_MAX];
    char release[128];
    char environment[128];

    pthread_mutex_t mu;
    pthread_cond_t cv; /* any change: work queued, item done, stop */
    nmsg *ring;
    size_t cap, head, count;
    int in_flight;
    int stop;
    atomic_int abort;
    coce_notify_stats st;
    uint64_t dropped_logged;
    coce_rng rng;
    CURL *curl;
    pthread_t thread;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_OK;

static void curl_init_once(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void msg_free(nmsg *m)
{
    free(m->text);
    free(m->module);
    m->text = NULL;
    m->module = NULL;
}

/* Logs drops not yet logged; call without the mutex held. */
static void log_drops(coce_notifier *n)
{
    (void)pthread_mutex_lock(&n->mu);
    uint64_t total = n->st.dropped, delta = total - n->dropped_logged;
    n->dropped_logged = total;
    (void)pthread_mutex_unlock(&n->mu);
    if (delta > 0)
        coce_log(COCE_LOG_WARN, "notify", "dropped", "{s:I, s:I}", "dropped",
                 (json_int_t)total, "new", (json_int_t)delta);
}

static size_t discard_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    (void)ptr;
    (void)ud;
    return size * nmemb;
}

static int xfer_abort(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                      curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    const coce_notifier *n = ud;
    return atomic_load(&n->abort) ? 1 : 0;
}

enum { SEND_OK = 0, SEND_RETRY = 1, SEND_FINAL = 2 };

static int post(coce_notifier *n, const char *channel, const char *url,
                const char *content_type, const char *auth, const char *body,
                size_t len)
{
    CURL *c = n->curl;
    curl_easy_reset(c);
    struct curl_slist *h = NULL, *t;
    char line[4 * COCE_DSN_PART_MAX + 32];
    (void)snprintf(line, sizeof line, "Content-Type: %s", content_type);
    h = curl_slist_append(h, line);
    /* no "Expect: 100-continue" round trip before the body */
    if (h != NULL && (t = curl_slist_append(h, "Expect:")) != NULL)
        h = t;
    if (h != NULL && auth != NULL) {
        (void)snprintf(line, sizeof line, "X-Sentry-Auth: %s", auth);
        if ((t = curl_slist_append(h, line)) == NULL) {
            curl_slist_free_all(h);
            h = NULL;
        } else {
            h = t;
        }
    }
    if (h == NULL) {
        coce_log(COCE_LOG_WARN, "notify", "send_error", "{s:s, s:s}", "channel",
                 channel, "error", "out of memory");
        return SEND_RETRY;
    }
    (void)curl_easy_setopt(c, CURLOPT_URL, url);
    (void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    (void)curl_easy_setopt(c, CURLOPT_POST, 1L);
    (void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    (void)curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    (void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    (void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)n->o.timeout_ms);
    (void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)n->o.timeout_ms);
    (void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* worker thread */
    (void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_body);
    (void)curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    (void)curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xfer_abort);
    (void)curl_easy_setopt(c, CURLOPT_XFERINFODATA, n);
    (void)curl_easy_setopt(c, CURLOPT_USERAGENT, "coce/" COCE_VERSION);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(h);
    long status = 0;
    if (rc == CURLE_OK)
        (void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status >= 200 && status < 300)
        return SEND_OK;
    if (rc == CURLE_ABORTED_BY_CALLBACK)
        return SEND_RETRY; /* shutdown: the caller sees the abort flag */
    /* Never the URL: only the channel, the status and curl's generic text. */
    coce_log(COCE_LOG_WARN, "notify", "send_error", "{s:s, s:I, s:s}",
             "channel", channel, "status", (json_int_t)status, "error",
             rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP status");
    if (rc != CURLE_OK)
        return SEND_RETRY; /* timeout, refused, reset: may pass later */
    if (status >= 500 || status == 408 || status == 429)
        return SEND_RETRY;
    return SEND_FINAL;
}

/* Sleeps ms unless the notifier is aborted; 1 when aborted. */
static int backoff_wait(coce_notifier *n, int64_t ms)
{
    int64_t end = mono_ms() + ms;
    while (!atomic_load(&n->abort)) {
        int64_t left = end - mono_ms();
        if (left <= 0)
            return 0;
        struct timespec ts = {0, (long)(left > 20 ? 20 : left) * 1000000L};
        (void)nanosleep(&ts, NULL);
    }
    return 1;
}

static void new_event_id(coce_notifier *n, char out[33])
{
    (void)pthread_mutex_lock(&n->mu);
    uint64_t a = coce_rng_u64(&n->rng), b = coce_rng_u64(&n->rng);
    (void)pthread_mutex_unlock(&n->mu);
    /* UUID version 4, variant 10 (RFC 4122 §4.4). */
    a = (a & ~(uint64_t)0xF000) | 0x4000;
    b = (b & ~((uint64_t)3 << 62)) | ((uint64_t)2 << 62);
    (void)snprintf(out, 33, "%016llx%016llx", (unsigned long long)a,
                   (unsigned long long)b);
}

/* Returns SEND_OK, SEND_FINAL (failed) or -1 (aborted). */
static int deliver(coce_notifier *n, const nmsg *m)
{
    char id[33] = "";
    if (m->kind == KIND_SENTRY)
        new_event_id(n, id);
    for (unsigned attempt = 0;; ++attempt) {
        if (atomic_load(&n->abort))
            return -1;
        char *body = NULL;
        size_t len = 0;
        int rc;
        if (m->kind == KIND_SLACK) {
            rc = coce_notify_slack_payload(m->text, &body, &len);
        } else {
            coce_sentry_event ev = {id,
                                    m->time_ms,
                                    m->level,
                                    m->text,
                                    m->module,
                                    n->release,
                                    n->environment[0] ? n->environment : NULL};
            rc = coce_notify_sentry_envelope(&ev, wall_ms(), &body, &len);
        }
        if (rc != COCE_OK) {
            coce_log(COCE_LOG_WARN, "notify", "format_error", "{s:s, s:s}",
                     "channel", m->kind == KIND_SLACK ? "slack" : "sentry",
                     "error", coce_strerror(rc));
            return SEND_FINAL;
        }
        int r = m->kind == KIND_SLACK
                    ? post(n, "slack", n->slack_url, "application/json", NULL,
                           body, len)
                    : post(n, "sentry", n->sentry_url,
                           "application/x-sentry-envelope", n->auth, body, len);
        free(body);
        if (r != SEND_RETRY)
            return r;
        if (attempt >= n->o.retries)
            return SEND_FINAL;
        if (atomic_load(&n->abort))
            return -1;
        /* Exponential backoff (doubling, capped) before the next attempt. */
        int64_t delay = n->o.backoff_ms;
        for (unsigned k = 0; k < attempt && delay < n->o.backoff_max_ms; ++k)
            delay *= 2;
        if (delay > n->o.backoff_max_ms)
            delay = n->o.backoff_max_ms;
        if (backoff_wait(n, delay))
            return -1;
        (void)pthread_mutex_lock(&n->mu);
        ++n->st.retried;
        (void)pthread_mutex_unlock(&n->mu);
    }
}

static void *worker(void *arg)
{
    coce_notifier *n = arg;
    (void)pthread_mutex_lock(&n->mu);
    for (;;) {
        while (n->count == 0 && !n->stop)
            (void)pthread_cond_wait(&n->cv, &n->mu);
        if (n->count == 0 || atomic_load(&n->abort))
            break;
        nmsg m = n->ring[n->head];
        n->ring[n->head].text = NULL;
        n->ring[n->head].module = NULL;
        n->head = (n->head + 1) % n->cap;
        --n->count;
        n->in_flight = 1;
        (void)pthread_mutex_unlock(&n->mu);
        log_drops(n);
        int r = deliver(n, &m);
        msg_free(&m);
        (void)pthread_mutex_lock(&n->mu);
        n->in_flight = 0;
        if (r == SEND_OK)
            ++n->st.sent;
        else if (r == SEND_FINAL)
            ++n->st.failed;
        else
            ++n->st.dropped;
        (void)pthread_cond_broadcast(&n->cv);
    }
    (void)pthread_cond_broadcast(&n->cv);
    (void)pthread_mutex_unlock(&n->mu);
    return NULL;
}

static int bad_opt(coce_err *err, const char *what)
{
    return coce_err_set(err, COCE_EINVAL, "notify: %s", what);
}

static int is_http_url(const char *u)
{
    return (strncmp(u, "https://", 8) == 0 && u[8] != '\0') ||
           (strncmp(u, "http://", 7) == 0 && u[7] != '\0');
}

static void register_secret(const char *s)
{
    if (s != NULL && s[0] != '\0')
        coce_log_add_secret(s);
}

int coce_notify_new(const coce_notify_opts *opts, coce_notifier **out,
                    coce_err *err)
{
    if (opts == NULL || out == NULL)
        return bad_opt(err, "NULL argument");
    *out = NULL;
    /* Register before any check so that no later line can leak them. */
    register_secret(opts->slack_webhook_url);
    register_secret(opts->sentry_dsn);
    if (opts->queue_size < 1)
        return bad_opt(err, "queue_size must be >= 1");
    if (opts->timeout_ms < 1)
        return bad_opt(err, "timeout_ms must be >= 1");
    if (opts->backoff_ms < 0 || opts->backoff_max_ms < 0 ||
        opts->shutdown_ms < 0)
        return bad_opt(err, "backoff_ms, backoff_max_ms and shutdown_ms "
                            "must be >= 0");
    const int slack =
        opts->slack_webhook_url != NULL && opts->slack_webhook_url[0] != '\0';
    const int sentry = opts->sentry_dsn != NULL && opts->sentry_dsn[0] != '\0';
    if (slack && !is_http_url(opts->slack_webhook_url))
        return bad_opt(err, "SLACK_WEBHOOK_URL: not an http(s) URL");
    coce_notifier *n = calloc(1, sizeof *n);
    if (n == NULL)
        return coce_err_set(err, COCE_ENOMEM, "notify: out of memory");
    n->o = *opts;
    n->o.slack_webhook_url = NULL;
    n->o.sentry_dsn = NULL;
    n->o.release = NULL;
    n->o.environment = NULL;
    int rc = COCE_OK;
    if (sentry) {
        rc = coce_sentry_dsn_parse(opts->sentry_dsn, &n->dsn, err);
        if (rc == COCE_OK) {
            register_secret(n->dsn.public_key);
            register_secret(n->dsn.secret_key);
            if (coce_sentry_envelope_url(&n->dsn, n->sentry_url,
                                         sizeof n->sentry_url) != COCE_OK ||
                coce_sentry_auth_header(&n->dsn, "coce/" COCE_VERSION, n->auth,
                                        sizeof n->auth) != COCE_OK)
                rc = bad_opt(err, "SENTRY_DSN: too long");
        }
        n->sentry = rc == COCE_OK;
    }
    if (rc == COCE_OK && slack &&
        (n->slack_url = strdup(opts->slack_webhook_url)) == NULL)
        rc = coce_err_set(err, COCE_ENOMEM, "notify: out of memory");
    if (rc == COCE_OK) {
        const char *rel =
            opts->release != NULL ? opts->release : "coce@" COCE_VERSION;
        const char *env = opts->environment != NULL ? opts->environment : "";
        if (strlen(rel) >= sizeof n->release ||
            strlen(env) >= sizeof n->environment)
            rc = bad_opt(err, "release or environment too long");
        else {
            (void)snprintf(n->release, sizeof n->release, "%s", rel);
            (void)snprintf(n->environment, sizeof n->environment, "%s", env);
        }
    }
    if (rc == COCE_OK) {
        n->cap = opts->queue_size;
        n->ring = calloc(n->cap, sizeof *n->ring);
        if (n->ring == NULL)
            rc = coce_err_set(err, COCE_ENOMEM, "notify: out of memory");
    }
    if (rc == COCE_OK) {
        (void)pthread_once(&curl_once, curl_init_once);
        if (curl_init_rc != CURLE_OK || (n->curl = curl_easy_init()) == NULL)
            rc = coce_err_set(err, COCE_EIO, "notify: libcurl init failed");
    }
    if (rc != COCE_OK) {
        free(n->ring);
        free(n->slack_url);
        free(n);
        return rc;
    }
    /* Event ids need uniqueness, not reproducibility: seed from the clock
     * and the pid unless a seed is given (tests). */
    uint64_t seed = opts->seed != 0
                        ? opts->seed
                        : (uint64_t)wall_ms() * 1000003u ^ (uint64_t)mono_ms() ^
                              ((uint64_t)getpid() << 32);
    coce_rng_init(&n->rng, seed);
    atomic_init(&n->abort, 0);
    (void)pthread_mutex_init(&n->mu, NULL);
    (void)pthread_cond_init(&n->cv, NULL);
    if (pthread_create(&n->thread, NULL, worker, n) != 0) {
        (void)pthread_cond_destroy(&n->cv);
        (void)pthread_mutex_destroy(&n->mu);
        curl_easy_cleanup(n->curl);
        free(n->ring);
        free(n->slack_url);
        free(n);
        return coce_err_set(err, COCE_EIO, "notify: cannot start the worker");
    }
    *out = n;
    return COCE_OK;
}

int coce_notify_slack_enabled(const coce_notifier *n)
{
    return n != NULL && n->slack_url != NULL;
}

int coce_notify_sentry_enabled(const coce_notifier *n)
{
    return n != NULL && n->sentry;
}

static int enqueue(coce_notifier *n, int kind, coce_notify_level level,
                   const char *text, const char *module)
{
    nmsg m = {kind, level, wall_ms(), strdup(text),
              module != NULL ? strdup(module) : NULL};
    if (m.text == NULL || (module != NULL && m.module == NULL)) {
        msg_free(&m);
        return COCE_ENOMEM;
    }
    (void)pthread_mutex_lock(&n->mu);
    if (n->count == n->cap) {
        /* Full: drop the oldest so that the latest news gets through. */
        msg_free(&n->ring[n->head]);
        n->head = (n->head + 1) % n->cap;
        --n->count;
        ++n->st.dropped;
    }
    n->ring[(n->head + n->count) % n->cap] = m;
    ++n->count;
    ++n->st.queued;
    (void)pthread_cond_broadcast(&n->cv);
    (void)pthread_mutex_unlock(&n->mu);
    return COCE_OK;
}

int coce_notify_slack(coce_notifier *n, const char *text)
{
    if (n == NULL || text == NULL)
        return COCE_EINVAL;
    if (n->slack_url == NULL)
        return COCE_OK;
    return enqueue(n, KIND_SLACK, COCE_NOTIFY_INFO, text, NULL);
}

int coce_notify_sentry_event(coce_notifier *n, coce_notify_level level,
                             const char *message, const char *module)
{
    if (n == NULL || message == NULL || coce_notify_level_name(level) == NULL)
        return COCE_EINVAL;
    if (!n->sentry)
        return COCE_OK;
    return enqueue(n, KIND_SENTRY, level, message, module);
}

int coce_notify_flush(coce_notifier *n, int64_t timeout_ms)
{
    if (n == NULL)
        return COCE_EINVAL;
    int64_t end = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int rc = COCE_OK;
    (void)pthread_mutex_lock(&n->mu);
    while (n->count > 0 || n->in_flight) {
        if (mono_ms() >= end) {
            rc = COCE_ETIMEOUT;
            break;
        }
        /* Short timed waits: the condition uses CLOCK_REALTIME by default
         * and a monotonic bound must not follow wall-clock jumps. */
        struct timespec ts;
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_nsec -= 1000000000L;
            ++ts.tv_sec;
        }
        (void)pthread_cond_timedwait(&n->cv, &n->mu, &ts);
    }
    (void)pthread_mutex_unlock(&n->mu);
    log_drops(n);
    return rc;
}

void coce_notify_stats_get(coce_notifier *n, coce_notify_stats *out)
{
    if (out == NULL)
        return;
    memset(out, 0, sizeof *out);
    if (n == NULL)
        return;
    (void)pthread_mutex_lock(&n->mu);
    *out = n->st;
    out->pending = n->count;
    (void)pthread_mutex_unlock(&n->mu);
}

void coce_notify_free(coce_notifier *n)
{
    if (n == NULL)
        return;
    (void)coce_notify_flush(n, n->o.shutdown_ms);
    (void)pthread_mutex_lock(&n->mu);
    n->stop = 1;
    atomic_store(&n->abort, 1);
    (void)pthread_cond_broadcast(&n->cv);
    (void)pthread_mutex_unlock(&n->mu);
    (void)pthread_join(n->thread, NULL);
    while (n->count > 0) {
        msg_free(&n->ring[n->head]);
        n->head = (n->head + 1) % n->cap;
        --n->count;
        ++n->st.dropped;
    }
    log_drops(n);
    curl_easy_cleanup(n->curl);
    (void)pthread_cond_destroy(&n->cv);
    (void)pthread_mutex_destroy(&n->mu);
    free(n->ring);
    free(n->slack_url);
    free(n);
}
