/* In-process fake API server for the HTTP client tests (libmicrohttpd on
 * 127.0.0.1, ephemeral port, one thread per connection). Header-only so that
 * every test executable that needs it can include it. */
#ifndef COCE_TESTS_MOCK_API_H
#define COCE_TESTS_MOCK_API_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct mock_reply {
    int status;
    char *body;              /* malloc'ed by the route (freed by the server) */
    const char *headers[8];  /* "Name: value" */
    int drop;                /* close the connection without a reply */
    int delay_ms;            /* sleep before replying */
} mock_reply;

struct mock_api;
/* n: 1-based index of this request. */
typedef void (*mock_route)(struct mock_api *m, struct MHD_Connection *conn,
                           const char *path, int n, mock_reply *out);

typedef struct mock_api {
    struct MHD_Daemon *d;
    unsigned short port;
    char base[64];
    pthread_mutex_t mu;
    int requests;
    mock_route route;
    void *ctx;
    char last_headers[4096]; /* "name: value\n" lines of the last request */
    char last_query[4096];   /* "k=v&k=v" of the last request */
    char last_path[512];
} mock_api;

static inline char *mock_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

static inline char *mock_read_fixture(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p != NULL) {
        size_t got = fread(p, 1, (size_t)n, f);
        p[got] = '\0';
    }
    fclose(f);
    return p;
}

static inline const char *mock_arg(struct MHD_Connection *c, const char *k)
{
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, k);
}

static inline enum MHD_Result mock_collect(void *cls, enum MHD_ValueKind kind,
                                           const char *key, const char *value)
{
    char *dst = cls;
    size_t len = strlen(dst);
    size_t cap = 4096;
    if (kind == MHD_HEADER_KIND)
        snprintf(dst + len, cap - len, "%s: %s\n", key,
                 value != NULL ? value : "");
    else
        snprintf(dst + len, cap - len, "%s%s=%s", len > 0 ? "&" : "", key,
                 value != NULL ? value : "");
    return MHD_YES;
}

static inline enum MHD_Result
mock_handler(void *cls, struct MHD_Connection *conn, const char *url,
             const char *method, const char *version, const char *upload,
             size_t *upload_size, void **state)
{
    (void)method;
    (void)version;
    (void)upload;
    (void)upload_size;
    static int first;
    if (*state == NULL) {
        *state = &first;
        return MHD_YES;
    }
    mock_api *m = cls;
    pthread_mutex_lock(&m->mu);
    int n = ++m->requests;
    m->last_headers[0] = '\0';
    m->last_query[0] = '\0';
    snprintf(m->last_path, sizeof m->last_path, "%s", url);
    MHD_get_connection_values(conn, MHD_HEADER_KIND, mock_collect,
                              m->last_headers);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, mock_collect,
                              m->last_query);
    mock_reply r;
    memset(&r, 0, sizeof r);
    r.status = 200;
    m->route(m, conn, url, n, &r);
    pthread_mutex_unlock(&m->mu);
    if (r.delay_ms > 0) {
        struct timespec ts = {r.delay_ms / 1000,
                              (long)(r.delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (r.drop) {
        free(r.body);
        return MHD_NO;
    }
    const char *b = r.body != NULL ? r.body : "";
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(b), (void *)b, MHD_RESPMEM_MUST_COPY);
    free(r.body);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    for (int i = 0; i < 8 && r.headers[i] != NULL; ++i) {
        char name[128];
        const char *colon = strchr(r.headers[i], ':');
        size_t nl = (size_t)(colon - r.headers[i]);
        memcpy(name, r.headers[i], nl);
        name[nl] = '\0';
        const char *v = colon + 1;
        while (*v == ' ')
            ++v;
        MHD_add_response_header(resp, name, v);
    }
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)r.status, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* Starts the server; returns 0 on success. */
static inline int mock_start(mock_api *m, mock_route route, void *ctx)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
    m->route = route;
    m->ctx = ctx;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    m->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
                                MHD_USE_INTERNAL_POLLING_THREAD,
                            0, NULL, NULL, mock_handler, m,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
                            MHD_OPTION_END);
    if (m->d == NULL)
        return -1;
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(m->d, MHD_DAEMON_INFO_BIND_PORT);
    if (info == NULL)
        return -1;
    m->port = info->port;
    snprintf(m->base, sizeof m->base, "http://127.0.0.1:%u",
             (unsigned)m->port);
    return 0;
}

static inline void mock_stop(mock_api *m)
{
    if (m->d != NULL)
        MHD_stop_daemon(m->d);
    m->d = NULL;
    pthread_mutex_destroy(&m->mu);
}

static inline int mock_count(mock_api *m)
{
    pthread_mutex_lock(&m->mu);
    int n = m->requests;
    pthread_mutex_unlock(&m->mu);
    return n;
}

#endif
