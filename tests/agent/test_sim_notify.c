/* The simulation's notifications: with SLACK_WEBHOOK_URL set, orders above
 * notify.slack_min_trade_notional and the kill-switch halt reach a webhook
 * on 127.0.0.1 (captured here), and the webhook URL — a secret — never
 * appears in the run's log. */
#include "testutil.h"

#include "agent/cli.h"
#include "utils/log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct capture {
    pthread_mutex_t mu;
    char *bodies; /* all bodies, newline separated */
    size_t len;
    int requests;
} capture;

typedef struct upload {
    char *buf;
    size_t len;
} upload;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *size, void **state)
{
    (void)url;
    (void)method;
    (void)version;
    capture *cap = cls;
    upload *u = *state;
    if (u == NULL) {
        *state = calloc(1, sizeof *u);
        return *state != NULL ? MHD_YES : MHD_NO;
    }
    if (*size > 0) {
        char *nb = realloc(u->buf, u->len + *size + 1);
        if (nb == NULL)
            return MHD_NO;
        u->buf = nb;
        memcpy(u->buf + u->len, data, *size);
        u->len += *size;
        u->buf[u->len] = '\0';
        *size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&cap->mu);
    char *nb = realloc(cap->bodies, cap->len + u->len + 2);
    if (nb != NULL) {
        cap->bodies = nb;
        memcpy(cap->bodies + cap->len, u->buf ? u->buf : "", u->len);
        cap->len += u->len;
        cap->bodies[cap->len++] = '\n';
        cap->bodies[cap->len] = '\0';
    }
    ++cap->requests;
    pthread_mutex_unlock(&cap->mu);
    static const char ok[] = "ok";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(2, (void *)ok, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static void on_done(void *cls, struct MHD_Connection *c, void **state,
                    enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)c;
    (void)code;
    upload *u = *state;
    if (u != NULL) {
        free(u->buf);
        free(u);
    }
    *state = NULL;
}

static void test_halt_and_orders_reach_the_webhook(void **state)
{
    (void)state;
    capture cap = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0};
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
        NULL, NULL, on_request, &cap, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
        MHD_OPTION_END);
    assert_non_null(d);
    unsigned port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/services/T0/B0/webhooksecret123", port);
    setenv("SLACK_WEBHOOK_URL", url, 1);

    char tmp[256], mkt[512], out[512], cfg[512];
    assert_non_null(coce_test_tmpdir(tmp, sizeof tmp));
    snprintf(mkt, sizeof mkt, "%s/mkt", tmp);
    snprintf(out, sizeof out, "%s/report", tmp);
    snprintf(cfg, sizeof cfg, "%s/c.yaml", tmp);
    assert_int_equal(coce_test_write_file(cfg,
                                          "model:\n  train_days: 3\n"
                                          "features:\n  window_chunks: 200\n"
                                          "killswitch:\n  min_trades: 2\n"
                                          "  sharpe_min: 50\n"
                                          "notify:\n  slack_min_trade_notional: 0\n"),
                     0);
    coce_log_set_stderr_level(COCE_LOG_OFF);
    char *synth[] = {"coce", "synth", "--assets", "6", "--days", "12",
                     "--pumps", "24", "--out", mkt, NULL};
    assert_int_equal(coce_cli_main(10, synth), 0);
    char *run[] = {"coce", "--mode", "sim", "--config", cfg, "--data", mkt,
                   "--out", out, NULL};
    assert_int_equal(coce_cli_main(9, run), 0);
    unsetenv("SLACK_WEBHOOK_URL");
    MHD_stop_daemon(d);

    assert_true(cap.requests > 1);
    assert_non_null(cap.bodies);
    assert_non_null(strstr(cap.bodies, "halted by the meta kill-switch"));
    assert_non_null(strstr(cap.bodies, " buys "));
    /* the payload is Slack's JSON with a text field */
    assert_non_null(strstr(cap.bodies, "\"text\""));
    char path[700];
    snprintf(path, sizeof path, "%s/logs.jsonl", out);
    char *logs = coce_test_read_file(path, NULL);
    assert_non_null(logs);
    assert_null(strstr(logs, "webhooksecret123"));
    free(logs);
    free(cap.bodies);
    coce_test_rmtree(tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_halt_and_orders_reach_the_webhook),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
