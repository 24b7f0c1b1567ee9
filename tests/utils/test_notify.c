/* Notifications against a libmicrohttpd server on 127.0.0.1 that checks
 * the wire format (method, path, headers, body), and simulates slow, failing
 * and silent endpoints. */
#include "testutil.h"
#include "utils/config.h"
#include "utils/env.h"
#include "utils/log.h"
#include "utils/notify.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- test server --------------------------------------------------------- */

typedef enum { SRV_OK, SRV_FAIL_ONCE, SRV_ALWAYS_500, SRV_400 } srv_mode;

#define MAX_REQ 64

typedef struct req {
    char method[16];
    char url[256];
    char ctype[128];
    char auth[512];
    char *body;
    size_t body_len;
} req;

typedef struct srv {
    struct MHD_Daemon *d;
    unsigned port;
    srv_mode mode;
    int delay_ms;
    atomic_int stopping;
    pthread_mutex_t mu;
    int n; /* requests received (recorded on arrival) */
    req r[MAX_REQ];
} srv;

typedef struct conn {
    char *buf;
    size_t len;
} conn;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void copy_hdr(char *dst, size_t cap, const char *v)
{
    snprintf(dst, cap, "%s", v != NULL ? v : "");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
                               const char *url, const char *method,
                               const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)version;
    srv *s = cls;
    conn *k = *con_cls;
    if (k == NULL) {
        k = calloc(1, sizeof *k);
        *con_cls = k;
        return MHD_YES;
    }
    if (*upload_size > 0) {
        char *nb = realloc(k->buf, k->len + *upload_size + 1);
        if (nb == NULL)
            return MHD_NO;
        k->buf = nb;
        memcpy(k->buf + k->len, upload, *upload_size);
        k->len += *upload_size;
        k->buf[k->len] = '\0';
        *upload_size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&s->mu);
    int idx = s->n++;
    if (idx < MAX_REQ) {
        req *r = &s->r[idx];
        copy_hdr(r->method, sizeof r->method, method);
        copy_hdr(r->url, sizeof r->url, url);
        copy_hdr(
            r->ctype, sizeof r->ctype,
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"));
        copy_hdr(
            r->auth, sizeof r->auth,
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Sentry-Auth"));
        r->body = k->buf != NULL ? strdup(k->buf) : strdup("");
        r->body_len = k->len;
    }
    srv_mode mode = s->mode;
    int delay = s->delay_ms;
    pthread_mutex_unlock(&s->mu);
    for (int waited = 0; waited < delay && !atomic_load(&s->stopping);
         waited += 10)
        sleep_ms(10);
    unsigned status = MHD_HTTP_OK;
    if (mode == SRV_ALWAYS_500 || (mode == SRV_FAIL_ONCE && idx == 0))
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    else if (mode == SRV_400)
        status = MHD_HTTP_BAD_REQUEST;
    static const char ok[] = "ok";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(2, (void *)ok, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    conn *k = *con_cls;
    if (k != NULL) {
        free(k->buf);
        free(k);
    }
    *con_cls = NULL;
}

static srv *srv_start(srv_mode mode, int delay_ms)
{
    srv *s = calloc(1, sizeof *s);
    assert_non_null(s);
    s->mode = mode;
    s->delay_ms = delay_ms;
    pthread_mutex_init(&s->mu, NULL);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
        NULL, NULL, handler, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
    assert_non_null(s->d);
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    s->port = info->port;
    assert_true(s->port > 0);
    return s;
}

static int srv_count(srv *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void srv_stop(srv *s)
{
    atomic_store(&s->stopping, 1);
    MHD_stop_daemon(s->d);
    for (int i = 0; i < s->n && i < MAX_REQ; ++i)
        free(s->r[i].body);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static coce_notify_opts fast_opts(void)
{
    coce_notify_opts o;
    coce_notify_opts_default(&o);
    o.timeout_ms = 2000;
    o.backoff_ms = 10;
    o.backoff_max_ms = 20;
    o.shutdown_ms = 2000;
    o.seed = 7;
    return o;
}

static void slack_url(char *buf, size_t len, unsigned port)
{
    snprintf(buf, len, "http://127.0.0.1:%u/services/T0/B0/SLACKTOKENXYZ",
             port);
}

/* ---- DSN ----------------------------------------------------------------- */

static void test_dsn_parse_ok(void **state)
{
    (void)state;
    coce_sentry_dsn d;
    coce_err err;
    assert_int_equal(coce_sentry_dsn_parse(
                         "https://abc123@o1.ingest.sentry.io/4505", &d, &err),
                     COCE_OK);
    assert_string_equal(d.scheme, "https");
    assert_string_equal(d.public_key, "abc123");
    assert_string_equal(d.secret_key, "");
    assert_string_equal(d.host, "o1.ingest.sentry.io");
    assert_string_equal(d.path, "");
    assert_string_equal(d.project_id, "4505");
    char buf[512];
    assert_int_equal(coce_sentry_envelope_url(&d, buf, sizeof buf), COCE_OK);
    assert_string_equal(buf, "https://o1.ingest.sentry.io/api/4505/envelope/");
    assert_int_equal(coce_sentry_auth_header(&d, "coce/1.0", buf, sizeof buf),
                     COCE_OK);
    assert_string_equal(buf, "Sentry sentry_version=7, sentry_key=abc123, "
                             "sentry_client=coce/1.0");
    assert_int_equal(coce_sentry_envelope_url(&d, buf, 10), COCE_ERANGE);
    assert_int_equal(coce_sentry_auth_header(&d, "c", buf, 10), COCE_ERANGE);
    assert_int_equal(coce_sentry_auth_header(NULL, "c", buf, 10), COCE_EINVAL);
    assert_int_equal(coce_sentry_envelope_url(NULL, buf, 10), COCE_EINVAL);

    /* Legacy DSN with secret, port and path prefix (self-hosted). */
    assert_int_equal(coce_sentry_dsn_parse(
                         "http://pub:sec@localhost:9000/sentry/x/42", &d, &err),
                     COCE_OK);
    assert_string_equal(d.scheme, "http");
    assert_string_equal(d.public_key, "pub");
    assert_string_equal(d.secret_key, "sec");
    assert_string_equal(d.host, "localhost:9000");
    assert_string_equal(d.path, "/sentry/x");
    assert_string_equal(d.project_id, "42");
    assert_int_equal(coce_sentry_envelope_url(&d, buf, sizeof buf), COCE_OK);
    assert_string_equal(buf, "http://localhost:9000/sentry/x/api/42/envelope/");
    assert_int_equal(coce_sentry_auth_header(&d, "coce/1", buf, sizeof buf),
                     COCE_OK);
    assert_string_equal(buf, "Sentry sentry_version=7, sentry_key=pub, "
                             "sentry_client=coce/1, sentry_secret=sec");
    /* IPv6 literal host */
    assert_int_equal(coce_sentry_dsn_parse("https://k@[::1]:8080/7", &d, &err),
                     COCE_OK);
    assert_string_equal(d.host, "[::1]:8080");
    assert_string_equal(d.project_id, "7");
}

static void test_dsn_parse_errors(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "SECRETKEY9@host/1",              /* no scheme */
        "ftp://SECRETKEY9@host/1",        /* scheme */
        "https://host/1",                 /* no key */
        "https://@host/1",                /* empty key */
        "https://SECRETKEY9:@host/1",     /* empty secret */
        "https://SECRETKEY9@/1",          /* empty host */
        "https://SECRETKEY9@",            /* empty host */
        "https://SECRETKEY9@host",        /* no project */
        "https://SECRETKEY9@host/",       /* empty project */
        "https://SECRETKEY9@host/1?x=1",  /* query */
        "https://SECRETKEY9@host/a//1",   /* empty segment */
        "https://SECRETKEY9@h@x/1",       /* two @ */
        "https://SECRETKEY9 @host/1",     /* whitespace */
        "https://SECRETKEY9@host/p.1",    /* bad project id */
        "https:/SECRETKEY9@host/1",       /* malformed scheme */
        "https://host/path@SECRETKEY9/1", /* @ after the first / */
    };
    coce_sentry_dsn d;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        coce_err err;
        coce_err_clear(&err);
        int rc = coce_sentry_dsn_parse(bad[i], &d, &err);
        if (rc != COCE_EINVAL)
            fail_msg("accepted bad DSN #%zu", i);
        assert_true(strncmp(err.msg, "SENTRY_DSN: ", 12) == 0);
        assert_null(strstr(err.msg, "SECRETKEY9"));
    }
    assert_int_equal(coce_sentry_dsn_parse(NULL, &d, NULL), COCE_EINVAL);
    /* Over-long parts */
    char big[1200];
    char key[400];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    snprintf(big, sizeof big, "https://%s@h/1", key);
    assert_int_equal(coce_sentry_dsn_parse(big, &d, NULL), COCE_EINVAL);
    snprintf(big, sizeof big, "https://k:%s@h/1", key);
    assert_int_equal(coce_sentry_dsn_parse(big, &d, NULL), COCE_EINVAL);
    snprintf(big, sizeof big, "https://k@%s/1", key);
    assert_int_equal(coce_sentry_dsn_parse(big, &d, NULL), COCE_EINVAL);
    snprintf(big, sizeof big, "https://k@h/%s/1", key);
    assert_int_equal(coce_sentry_dsn_parse(big, &d, NULL), COCE_EINVAL);
    snprintf(big, sizeof big, "https://k@h/%s", key);
    assert_int_equal(coce_sentry_dsn_parse(big, &d, NULL), COCE_EINVAL);
}

/* ---- formatters ---------------------------------------------------------- */

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; ++s)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void test_slack_payload(void **state)
{
    (void)state;
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(
        coce_notify_slack_payload("halt: <BTC> & \"ETH\"\nline 2", &out, &len),
        COCE_OK);
    assert_int_equal(len, strlen(out));
    json_error_t je;
    json_t *root = json_loads(out, 0, &je);
    assert_non_null(root);
    const char *want = "halt: &lt;BTC&gt; &amp; \"ETH\"\nline 2";
    assert_string_equal(json_string_value(json_object_get(root, "text")), want);
    json_t *blocks = json_object_get(root, "blocks");
    assert_true(json_is_array(blocks));
    assert_int_equal(json_array_size(blocks), 1);
    json_t *b = json_array_get(blocks, 0);
    assert_string_equal(json_string_value(json_object_get(b, "type")),
                        "section");
    json_t *t = json_object_get(b, "text");
    assert_string_equal(json_string_value(json_object_get(t, "type")),
                        "mrkdwn");
    assert_string_equal(json_string_value(json_object_get(t, "text")), want);
    json_decref(root);
    free(out);

    /* A long multi-byte text: the block is cut at 3000 characters on a
     * character boundary, the fallback keeps everything. */
    size_t n = 3100;
    char *big = malloc(2 * n + 1);
    for (size_t i = 0; i < n; ++i)
        memcpy(big + 2 * i, "\xc3\xa9", 2); /* é */
    big[2 * n] = '\0';
    assert_int_equal(coce_notify_slack_payload(big, &out, NULL), COCE_OK);
    root = json_loads(out, 0, &je);
    assert_non_null(root);
    assert_int_equal(
        utf8_chars(json_string_value(json_object_get(root, "text"))), n);
    t = json_object_get(json_array_get(json_object_get(root, "blocks"), 0),
                        "text");
    const char *bt = json_string_value(json_object_get(t, "text"));
    assert_int_equal(utf8_chars(bt), COCE_SLACK_SECTION_MAX);
    assert_int_equal(strlen(bt), 2 * COCE_SLACK_SECTION_MAX);
    json_decref(root);
    free(out);
    free(big);

    assert_int_equal(coce_notify_slack_payload("bad \xff utf8", &out, &len),
                     COCE_EINVAL);
    assert_null(out);
    assert_int_equal(coce_notify_slack_payload(NULL, &out, &len), COCE_EINVAL);
}

/* Splits an envelope into its three lines and checks the framing. */
static void parse_envelope(const char *env, size_t len, json_t **head,
                           json_t **item, json_t **payload)
{
    assert_true(len > 0 && env[len - 1] == '\n');
    const char *nl1 = memchr(env, '\n', len);
    assert_non_null(nl1);
    const char *nl2 = memchr(nl1 + 1, '\n', len - (size_t)(nl1 + 1 - env));
    assert_non_null(nl2);
    json_error_t je;
    *head = json_loadb(env, (size_t)(nl1 - env), 0, &je);
    *item = json_loadb(nl1 + 1, (size_t)(nl2 - nl1 - 1), 0, &je);
    assert_non_null(*head);
    assert_non_null(*item);
    size_t plen = (size_t)json_integer_value(json_object_get(*item, "length"));
    /* payload = exactly `length` bytes followed by the final newline */
    assert_int_equal((size_t)(nl2 + 1 - env) + plen + 1, len);
    *payload = json_loadb(nl2 + 1, plen, 0, &je);
    assert_non_null(*payload);
}

static void test_sentry_envelope(void **state)
{
    (void)state;
    const char *id = "0123456789abcdef4123896789abcdef";
    coce_sentry_event ev = {id,
                            1700000000123LL,
                            COCE_NOTIFY_ERROR,
                            "engine: journal \"fsync\" failed\nline",
                            "agent",
                            "coce@0.1.0",
                            "paper"};
    char *out = NULL;
    size_t len = 0;
    assert_int_equal(
        coce_notify_sentry_envelope(&ev, 1700000000456LL, &out, &len), COCE_OK);
    assert_int_equal(strlen(out), len);
    json_t *h, *it, *p;
    parse_envelope(out, len, &h, &it, &p);
    assert_string_equal(json_string_value(json_object_get(h, "event_id")), id);
    assert_string_equal(json_string_value(json_object_get(h, "sent_at")),
                        "2023-11-14T22:13:20.456Z");
    assert_string_equal(json_string_value(json_object_get(it, "type")),
                        "event");
    assert_string_equal(json_string_value(json_object_get(p, "event_id")), id);
    assert_string_equal(json_string_value(json_object_get(p, "timestamp")),
                        "2023-11-14T22:13:20.123Z");
    assert_string_equal(json_string_value(json_object_get(p, "level")),
                        "error");
    assert_string_equal(json_string_value(json_object_get(p, "platform")), "c");
    assert_string_equal(json_string_value(json_object_get(p, "logger")),
                        "agent");
    assert_string_equal(json_string_value(json_object_get(p, "release")),
                        "coce@0.1.0");
    assert_string_equal(json_string_value(json_object_get(p, "environment")),
                        "paper");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(p, "message"), "formatted")),
                        ev.message);
    json_decref(h);
    json_decref(it);
    json_decref(p);
    free(out);

    /* Optional fields absent */
    ev.module = NULL;
    ev.release = NULL;
    ev.environment = "";
    ev.level = COCE_NOTIFY_FATAL;
    assert_int_equal(coce_notify_sentry_envelope(&ev, 0, &out, &len), COCE_OK);
    parse_envelope(out, len, &h, &it, &p);
    assert_null(json_object_get(p, "logger"));
    assert_null(json_object_get(p, "release"));
    assert_null(json_object_get(p, "environment"));
    assert_string_equal(json_string_value(json_object_get(p, "level")),
                        "fatal");
    assert_string_equal(json_string_value(json_object_get(h, "sent_at")),
                        "1970-01-01T00:00:00.000Z");
    json_decref(h);
    json_decref(it);
    json_decref(p);
    free(out);

    /* Bad inputs */
    ev.event_id = "0123";
    assert_int_equal(coce_notify_sentry_envelope(&ev, 0, &out, &len),
                     COCE_EINVAL);
    ev.event_id = "0123456789ABCDEF0123456789abcdef"; /* uppercase */
    assert_int_equal(coce_notify_sentry_envelope(&ev, 0, &out, &len),
                     COCE_EINVAL);
    ev.event_id = id;
    ev.level = (coce_notify_level)9;
    assert_int_equal(coce_notify_sentry_envelope(&ev, 0, &out, &len),
                     COCE_EINVAL);
    ev.level = COCE_NOTIFY_INFO;
    ev.message = "bad \xfe";
    assert_int_equal(coce_notify_sentry_envelope(&ev, 0, &out, &len),
                     COCE_EINVAL);
    ev.message = "ok";
    ev.module = "bad \xfe";
    assert_int_equal(coce_notify_sentry_envelope(&ev, 0, &out, &len),
                     COCE_EINVAL);
    assert_int_equal(coce_notify_sentry_envelope(NULL, 0, &out, &len),
                     COCE_EINVAL);
    assert_string_equal(coce_notify_level_name(COCE_NOTIFY_WARNING), "warning");
    assert_string_equal(coce_notify_level_name(COCE_NOTIFY_DEBUG), "debug");
    assert_null(coce_notify_level_name((coce_notify_level)-1));
}

/* ---- options ------------------------------------------------------------- */

static void test_options(void **state)
{
    (void)state;
    coce_notifier *n = NULL;
    coce_err err;
    coce_notify_opts o = fast_opts();
    /* Neither endpoint: accepts and discards. */
    assert_int_equal(coce_notify_new(&o, &n, &err), COCE_OK);
    assert_false(coce_notify_slack_enabled(n));
    assert_false(coce_notify_sentry_enabled(n));
    assert_int_equal(coce_notify_slack(n, "x"), COCE_OK);
    assert_int_equal(coce_notify_sentry_event(n, COCE_NOTIFY_ERROR, "x", NULL),
                     COCE_OK);
    assert_int_equal(coce_notify_slack(n, NULL), COCE_EINVAL);
    assert_int_equal(
        coce_notify_sentry_event(n, (coce_notify_level)7, "x", NULL),
        COCE_EINVAL);
    coce_notify_stats st;
    coce_notify_stats_get(n, &st);
    assert_int_equal(st.queued, 0);
    assert_int_equal(coce_notify_flush(n, 100), COCE_OK);
    coce_notify_free(n);
    coce_notify_free(NULL);
    coce_notify_stats_get(NULL, &st);
    assert_int_equal(st.sent, 0);
    assert_int_equal(coce_notify_flush(NULL, 1), COCE_EINVAL);
    assert_int_equal(coce_notify_slack(NULL, "x"), COCE_EINVAL);

    o.queue_size = 0;
    assert_int_equal(coce_notify_new(&o, &n, &err), COCE_EINVAL);
    o = fast_opts();
    o.timeout_ms = 0;
    assert_int_equal(coce_notify_new(&o, &n, &err), COCE_EINVAL);
    o = fast_opts();
    o.backoff_ms = -1;
    assert_int_equal(coce_notify_new(&o, &n, &err), COCE_EINVAL);
    o = fast_opts();
    o.slack_webhook_url = "ftp://hooks.example/SLACKTOKENXYZ";
    assert_int_equal(coce_notify_new(&o, &n, &err), COCE_EINVAL);
    assert_null(strstr(err.msg, "SLACKTOKENXYZ"));
    o = fast_opts();
    o.sentry_dsn = "https://SECRETKEY9@host/";
    assert_int_equal(coce_notify_new(&o, &n, &err), COCE_EINVAL);
    assert_null(strstr(err.msg, "SECRETKEY9"));
    o = fast_opts();
    char longrel[300];
    memset(longrel, 'r', sizeof longrel - 1);
    longrel[sizeof longrel - 1] = '\0';
    o.release = longrel;
    assert_int_equal(coce_notify_new(&o, &n, &err), COCE_EINVAL);
    assert_int_equal(coce_notify_new(NULL, &n, &err), COCE_EINVAL);

    coce_config cfg;
    coce_config_defaults(&cfg);
    cfg.notify.queue_size = 5;
    cfg.notify.timeout_ms = 1234;
    cfg.notify.retries = 1;
    coce_secrets s;
    memset(&s, 0, sizeof s);
    snprintf(s.slack_webhook_url, sizeof s.slack_webhook_url,
             "https://hooks.slack.com/services/T/B/X");
    coce_notify_opts_from_config(&o, &cfg, &s);
    assert_int_equal(o.queue_size, 5);
    assert_int_equal(o.timeout_ms, 1234);
    assert_int_equal(o.retries, 1);
    assert_ptr_equal(o.slack_webhook_url, s.slack_webhook_url);
    assert_ptr_equal(o.sentry_dsn, s.sentry_dsn);
    coce_notify_opts_from_config(&o, NULL, NULL);
    assert_int_equal(o.queue_size, 256);
    assert_int_equal(o.timeout_ms, 3000);
    assert_int_equal(o.retries, 3);
    coce_notify_opts_from_config(NULL, NULL, NULL);
    coce_notify_opts_default(NULL);
}

/* ---- sending ------------------------------------------------------------- */

static void test_slack_send(void **state)
{
    (void)state;
    srv *s = srv_start(SRV_OK, 0);
    char url[256];
    slack_url(url, sizeof url, s->port);
    coce_notify_opts o = fast_opts();
    o.slack_webhook_url = url;
    coce_notifier *n = NULL;
    coce_err err;
    assert_int_equal(coce_notify_new(&o, &n, &err), COCE_OK);
    assert_true(coce_notify_slack_enabled(n));
    assert_false(coce_notify_sentry_enabled(n));
    assert_int_equal(coce_notify_slack(n, "trade BTC 1"), COCE_OK);
    assert_int_equal(coce_notify_slack(n, "trade ETH 2"), COCE_OK);
    assert_int_equal(coce_notify_slack(n, "halt <now>"), COCE_OK);
    assert_int_equal(coce_notify_flush(n, 5000), COCE_OK);
    coce_notify_stats st;
    coce_notify_stats_get(n, &st);
    assert_int_equal(st.queued, 3);
    assert_int_equal(st.sent, 3);
    assert_int_equal(st.failed, 0);
    assert_int_equal(st.retried, 0);
    assert_int_equal(st.pending, 0);
    coce_notify_free(n);
    assert_int_equal(srv_count(s), 3);
    const char *want[] = {"trade BTC 1", "trade ETH 2", "halt &lt;now&gt;"};
    for (int i = 0; i < 3; ++i) {
        req *r = &s->r[i];
        assert_string_equal(r->method, "POST");
        assert_string_equal(r->url, "/services/T0/B0/SLACKTOKENXYZ");
        assert_string_equal(r->ctype, "application/json");
        assert_string_equal(r->auth, "");
        json_error_t je;
        json_t *root = json_loadb(r->body, r->body_len, 0, &je);
        assert_non_null(root);
        assert_string_equal(json_string_value(json_object_get(root, "text")),
                            want[i]);
        assert_true(json_is_array(json_object_get(root, "blocks")));
        json_decref(root);
    }
    srv_stop(s);
}

/* "k1=v1, k2=v2" after "Sentry ": value of key, or NULL. */
static const char *auth_field(const char *auth, const char *key, char *buf,
                              size_t len)
{
    char pat[64];
    snprintf(pat, sizeof pat, "%s=", key);
    const char *p = auth;
    while ((p = strstr(p, pat)) != NULL) {
        if (p == auth || p[-1] == ' ' || p[-1] == ',') {
            p += strlen(pat);
            size_t k = strcspn(p, ", ");
            snprintf(buf, len, "%.*s", (int)k, p);
            return buf;
        }
        ++p;
    }
    return NULL;
}

static void test_sentry_send(void **state)
{
    (void)state;
    srv *s = srv_start(SRV_OK, 0);
    char dsn[256];
    snprintf(dsn, sizeof dsn, "http://PUBKEY77:SECKEY88@127.0.0.1:%u/42",
             s->port);
    coce_notify_opts o = fast_opts();
    o.sentry_dsn = dsn;
    o.environment = "paper";
    coce_notifier *n = NULL;
    coce_err err;
    assert_int_equal(coce_notify_new(&o, &n, &err), COCE_OK);
    assert_true(coce_notify_sentry_enabled(n));
    assert_int_equal(coce_notify_sentry_event(n, COCE_NOTIFY_ERROR,
                                              "journal failed", "state"),
                     COCE_OK);
    assert_int_equal(
        coce_notify_sentry_event(n, COCE_NOTIFY_FATAL, "crash", NULL), COCE_OK);
    assert_int_equal(coce_notify_flush(n, 5000), COCE_OK);
    coce_notify_stats st;
    coce_notify_stats_get(n, &st);
    assert_int_equal(st.sent, 2);
    coce_notify_free(n);
    assert_int_equal(srv_count(s), 2);
    char ids[2][40];
    for (int i = 0; i < 2; ++i) {
        req *r = &s->r[i];
        assert_string_equal(r->method, "POST");
        assert_string_equal(r->url, "/api/42/envelope/");
        assert_string_equal(r->ctype, "application/x-sentry-envelope");
        assert_true(strncmp(r->auth, "Sentry ", 7) == 0);
        char v[128];
        assert_non_null(auth_field(r->auth, "sentry_version", v, sizeof v));
        assert_string_equal(v, "7");
        assert_non_null(auth_field(r->auth, "sentry_key", v, sizeof v));
        assert_string_equal(v, "PUBKEY77");
        assert_non_null(auth_field(r->auth, "sentry_secret", v, sizeof v));
        assert_string_equal(v, "SECKEY88");
        assert_non_null(auth_field(r->auth, "sentry_client", v, sizeof v));
        assert_string_equal(v, "coce/" COCE_VERSION);
        json_t *h, *it, *p;
        parse_envelope(r->body, r->body_len, &h, &it, &p);
        const char *id = json_string_value(json_object_get(h, "event_id"));
        assert_non_null(id);
        assert_int_equal(strlen(id), 32);
        assert_int_equal(id[12], '4'); /* UUID v4 */
        assert_non_null(strchr("89ab", id[16]));
        snprintf(ids[i], sizeof ids[i], "%s", id);
        assert_string_equal(json_string_value(json_object_get(p, "event_id")),
                            id);
        assert_string_equal(json_string_value(json_object_get(p, "level")),
                            i == 0 ? "error" : "fatal");
        assert_string_equal(json_string_value(json_object_get(
                                json_object_get(p, "message"), "formatted")),
                            i == 0 ? "journal failed" : "crash");
        assert_string_equal(
            json_string_value(json_object_get(p, "environment")), "paper");
        assert_string_equal(json_string_value(json_object_get(p, "release")),
                            "coce@" COCE_VERSION);
        json_decref(h);
        json_decref(it);
        json_decref(p);
    }
    assert_string_not_equal(ids[0], ids[1]);
    srv_stop(s);
}

static void run_failing(srv_mode mode, unsigned retries, int want_requests,
                        uint64_t want_sent, uint64_t want_failed,
                        uint64_t want_retried)
{
    srv *s = srv_start(mode, 0);
    char url[256];
    slack_url(url, sizeof url, s->port);
    coce_notify_opts o = fast_opts();
    o.slack_webhook_url = url;
    o.retries = retries;
    coce_notifier *n = NULL;
    assert_int_equal(coce_notify_new(&o, &n, NULL), COCE_OK);
    assert_int_equal(coce_notify_slack(n, "x"), COCE_OK);
    assert_int_equal(coce_notify_flush(n, 5000), COCE_OK);
    coce_notify_stats st;
    coce_notify_stats_get(n, &st);
    assert_int_equal(st.sent, want_sent);
    assert_int_equal(st.failed, want_failed);
    assert_int_equal(st.retried, want_retried);
    coce_notify_free(n);
    assert_int_equal(srv_count(s), want_requests);
    srv_stop(s);
}

static void test_retry_then_ok(void **state)
{
    (void)state;
    run_failing(SRV_FAIL_ONCE, 3, 2, 1, 0, 1);
}

static void test_always_500(void **state)
{
    (void)state;
    run_failing(SRV_ALWAYS_500, 2, 3, 0, 1, 2);
}

static void test_400_not_retried(void **state)
{
    (void)state;
    run_failing(SRV_400, 3, 1, 0, 1, 0);
}

static void test_slow_answer_times_out(void **state)
{
    (void)state;
    srv *s = srv_start(SRV_OK, 1500);
    char url[256];
    slack_url(url, sizeof url, s->port);
    coce_notify_opts o = fast_opts();
    o.slack_webhook_url = url;
    o.timeout_ms = 150;
    o.retries = 1;
    coce_notifier *n = NULL;
    assert_int_equal(coce_notify_new(&o, &n, NULL), COCE_OK);
    int64_t t0 = now_ms();
    assert_int_equal(coce_notify_slack(n, "slow"), COCE_OK);
    assert_int_equal(coce_notify_flush(n, 5000), COCE_OK);
    /* two attempts of 150 ms + 10 ms backoff, far below the 1.5 s answer */
    assert_true(now_ms() - t0 < 1400);
    coce_notify_stats st;
    coce_notify_stats_get(n, &st);
    assert_int_equal(st.sent, 0);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.retried, 1);
    coce_notify_free(n);
    assert_int_equal(srv_count(s), 2);
    srv_stop(s);
}

/* A socket that listens but never accepts: the kernel completes the TCP
 * handshake, nobody ever reads or answers. */
static void test_never_answered(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 1), 0);
    socklen_t sl = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    char dsn[256];
    snprintf(dsn, sizeof dsn, "http://k@127.0.0.1:%u/1", ntohs(sa.sin_port));
    coce_notify_opts o = fast_opts();
    o.sentry_dsn = dsn;
    o.timeout_ms = 150;
    o.retries = 2;
    coce_notifier *n = NULL;
    assert_int_equal(coce_notify_new(&o, &n, NULL), COCE_OK);
    assert_int_equal(
        coce_notify_sentry_event(n, COCE_NOTIFY_ERROR, "lost", "t"), COCE_OK);
    assert_int_equal(coce_notify_flush(n, 5000), COCE_OK);
    coce_notify_stats st;
    coce_notify_stats_get(n, &st);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.retried, 2);
    coce_notify_free(n);
    close(fd);

    /* Nothing listening at all (connection refused): also bounded. */
    o.retries = 1;
    snprintf(dsn, sizeof dsn, "http://k@127.0.0.1:%u/1", ntohs(sa.sin_port));
    assert_int_equal(coce_notify_new(&o, &n, NULL), COCE_OK);
    assert_int_equal(
        coce_notify_sentry_event(n, COCE_NOTIFY_ERROR, "lost", "t"), COCE_OK);
    assert_int_equal(coce_notify_flush(n, 5000), COCE_OK);
    coce_notify_stats_get(n, &st);
    assert_int_equal(st.failed, 1);
    coce_notify_free(n);
}

/* The caller never waits on the network: 1000 enqueues to an endpoint that
 * takes 5 s to answer. Measured ~1 ms even under ASan; the 50 ms bound is
 * generous so that the test never flakes on a loaded machine, yet a single
 * network wait (>= 5 s) or a per-message connect would blow it. */
static void test_enqueue_never_blocks(void **state)
{
    (void)state;
    srv *s = srv_start(SRV_OK, 5000);
    char url[256];
    slack_url(url, sizeof url, s->port);
    coce_notify_opts o = fast_opts();
    o.slack_webhook_url = url;
    o.queue_size = 16;
    o.timeout_ms = 10000;
    o.shutdown_ms = 100;
    coce_notifier *n = NULL;
    assert_int_equal(coce_notify_new(&o, &n, NULL), COCE_OK);
    assert_int_equal(coce_notify_slack(n, "first"), COCE_OK);
    for (int i = 0; i < 200 && srv_count(s) == 0; ++i)
        sleep_ms(5); /* the worker is now stuck in the slow request */
    int64_t t0 = now_ms();
    for (int i = 0; i < 1000; ++i)
        assert_int_equal(coce_notify_slack(n, "queued while the server sleeps"),
                         COCE_OK);
    int64_t dt = now_ms() - t0;
    if (dt >= 50)
        fail_msg("1000 enqueues took %lld ms", (long long)dt);
    coce_notify_stats st;
    coce_notify_stats_get(n, &st);
    assert_int_equal(st.queued, 1001);
    assert_int_equal(st.pending, 16);
    assert_true(st.dropped >= 1000 - 16);
    assert_int_equal(coce_notify_flush(n, 20), COCE_ETIMEOUT);
    /* free: bounded drain (100 ms), then the transfer in flight is aborted */
    t0 = now_ms();
    coce_notify_free(n);
    assert_true(now_ms() - t0 < 2000);
    srv_stop(s);
}

static void test_full_queue_drops_oldest(void **state)
{
    (void)state;
    char dir[512], logpath[600];
    coce_test_tmpdir(dir, sizeof dir);
    snprintf(logpath, sizeof logpath, "%s/log.jsonl", dir);
    assert_int_equal(coce_log_open(logpath), COCE_OK);
    srv *s = srv_start(SRV_OK, 300);
    char url[256];
    slack_url(url, sizeof url, s->port);
    coce_notify_opts o = fast_opts();
    o.slack_webhook_url = url;
    o.queue_size = 2;
    coce_notifier *n = NULL;
    assert_int_equal(coce_notify_new(&o, &n, NULL), COCE_OK);
    assert_int_equal(coce_notify_slack(n, "m1"), COCE_OK);
    for (int i = 0; i < 400 && srv_count(s) == 0; ++i)
        sleep_ms(5);
    assert_int_equal(srv_count(s), 1); /* m1 in flight, queue empty */
    const char *later[] = {"m2", "m3", "m4", "m5"};
    for (int i = 0; i < 4; ++i)
        assert_int_equal(coce_notify_slack(n, later[i]), COCE_OK);
    coce_notify_stats st;
    coce_notify_stats_get(n, &st);
    assert_int_equal(st.dropped, 2);
    assert_int_equal(st.pending, 2);
    assert_int_equal(coce_notify_flush(n, 5000), COCE_OK);
    coce_notify_stats_get(n, &st);
    assert_int_equal(st.sent, 3);
    coce_notify_free(n);
    coce_log_close();
    assert_int_equal(srv_count(s), 3);
    const char *want[] = {"m1", "m4", "m5"};
    for (int i = 0; i < 3; ++i) {
        json_t *root = json_loadb(s->r[i].body, s->r[i].body_len, 0, NULL);
        assert_non_null(root);
        assert_string_equal(json_string_value(json_object_get(root, "text")),
                            want[i]);
        json_decref(root);
    }
    srv_stop(s);
    char *log = coce_test_read_file(logpath, NULL);
    assert_non_null(log);
    const char *d = strstr(log, "\"dropped\"");
    assert_non_null(d);
    assert_non_null(strstr(log, "\"dropped\": 2") != NULL
                        ? strstr(log, "\"dropped\": 2")
                        : strstr(log, "\"dropped\":2"));
    free(log);
    coce_test_rmtree(dir);
}

/* The webhook URL, the DSN and its keys never reach a log line. */
static void test_secrets_not_logged(void **state)
{
    (void)state;
    char dir[512], logpath[600];
    coce_test_tmpdir(dir, sizeof dir);
    snprintf(logpath, sizeof logpath, "%s/log.jsonl", dir);
    assert_int_equal(coce_log_open(logpath), COCE_OK);
    coce_log_set_level(COCE_LOG_DEBUG);
    srv *s = srv_start(SRV_ALWAYS_500, 0);
    char url[256], dsn[256];
    slack_url(url, sizeof url, s->port);
    snprintf(dsn, sizeof dsn, "http://PUBKEY77:SECKEY88@127.0.0.1:%u/42",
             s->port);
    coce_notify_opts o = fast_opts();
    o.slack_webhook_url = url;
    o.sentry_dsn = dsn;
    o.retries = 1;
    coce_notifier *n = NULL;
    assert_int_equal(coce_notify_new(&o, &n, NULL), COCE_OK);
    assert_int_equal(coce_notify_slack(n, "a"), COCE_OK);
    assert_int_equal(coce_notify_sentry_event(n, COCE_NOTIFY_ERROR, "b", NULL),
                     COCE_OK);
    assert_int_equal(coce_notify_flush(n, 5000), COCE_OK);
    /* a careless caller logging the URL is redacted too */
    coce_log(COCE_LOG_WARN, "test", "careless", "{s:s}", "url", url);
    coce_notify_free(n);
    coce_log_close();
    coce_log_set_level(COCE_LOG_INFO);
    srv_stop(s);
    char *log = coce_test_read_file(logpath, NULL);
    assert_non_null(log);
    assert_non_null(strstr(log, "send_error"));
    assert_null(strstr(log, "SLACKTOKENXYZ"));
    assert_null(strstr(log, "PUBKEY77"));
    assert_null(strstr(log, "SECKEY88"));
    free(log);
    coce_test_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dsn_parse_ok),
        cmocka_unit_test(test_dsn_parse_errors),
        cmocka_unit_test(test_slack_payload),
        cmocka_unit_test(test_sentry_envelope),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_slack_send),
        cmocka_unit_test(test_sentry_send),
        cmocka_unit_test(test_retry_then_ok),
        cmocka_unit_test(test_always_500),
        cmocka_unit_test(test_400_not_retried),
        cmocka_unit_test(test_slow_answer_times_out),
        cmocka_unit_test(test_never_answered),
        cmocka_unit_test(test_enqueue_never_blocks),
        cmocka_unit_test(test_full_queue_drops_oldest),
        cmocka_unit_test(test_secrets_not_logged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
