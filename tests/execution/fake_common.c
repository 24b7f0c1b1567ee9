/* Shared fake-venue plumbing; see fake_common.h. */
#ifndef COCE_TESTS_FAKE_COMMON_C
#define COCE_TESTS_FAKE_COMMON_C

#include "fake_common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

int64_t coce_fake_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void coce_fake_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *fake_uri_cb(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    coce_fake_req *r = calloc(1, sizeof *r);
    r->uri = strdup(uri);
    r->body = calloc(1, 1);
    r->cap = 1;
    return r;
}

static void fake_done_cb(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    coce_fake_req *r = *con_cls;
    if (r) {
        free(r->uri);
        free(r->body);
        free(r);
    }
    *con_cls = NULL;
}

struct MHD_Daemon *coce_fake_listen(MHD_AccessHandlerCallback handler,
                                    void *cls, char *url, size_t url_len)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
        NULL, NULL, handler, cls, MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_URI_LOG_CALLBACK, fake_uri_cb, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, fake_done_cb, NULL, MHD_OPTION_END);
    if (!d)
        return NULL;
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(url, url_len, "http://127.0.0.1:%u", (unsigned)info->port);
    return d;
}

int coce_fake_req_collect(void **con_cls, const char *upload,
                          size_t *upload_size)
{
    coce_fake_req *r = *con_cls;
    if (*upload_size > 0) {
        if (r->len + *upload_size + 1 > r->cap) {
            r->cap = (r->len + *upload_size + 1) * 2;
            r->body = realloc(r->body, r->cap);
        }
        memcpy(r->body + r->len, upload, *upload_size);
        r->len += *upload_size;
        r->body[r->len] = '\0';
        *upload_size = 0;
        return 1;
    }
    if (!r->started) {
        /* First call (headers only): wait for a possible body. */
        r->started = 1;
        return 1;
    }
    return 0;
}

enum MHD_Result coce_fake_send(struct MHD_Connection *c, unsigned status,
                               char *body, int retry_after,
                               const char *const *extra)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    for (size_t i = 0; extra && extra[i] && extra[i + 1]; i += 2)
        MHD_add_response_header(resp, extra[i], extra[i + 1]);
    if (retry_after >= 0) {
        char num[16];
        snprintf(num, sizeof num, "%d", retry_after);
        MHD_add_response_header(resp, "Retry-After", num);
    }
    enum MHD_Result rc = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

#endif
