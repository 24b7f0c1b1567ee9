/* The libmicrohttpd plumbing shared by the fake venues (fake_binance.c,
 * fake_deribit.c): a daemon on an ephemeral port of 127.0.0.1 with one
 * thread per connection, the request (URI and body) gathered across
 * libmicrohttpd's calls, and a JSON answer with an optional Retry-After.
 *
 * Not part of the library: fake_common.c is #included by each fake's .c
 * (tests/CMakeLists.txt builds only test_*.c), once per test program. */
#ifndef COCE_TESTS_FAKE_COMMON_H
#define COCE_TESTS_FAKE_COMMON_H

#include <microhttpd.h>

#include <stddef.h>
#include <stdint.h>

/* One request; the connection's con_cls. */
typedef struct coce_fake_req {
    char *uri;  /* as sent, query string included */
    char *body; /* NUL-terminated, "" when none */
    size_t len, cap;
    int started;
} coce_fake_req;

/* Starts handler(cls, ...) on 127.0.0.1:<free port>; url gets
 * "http://127.0.0.1:PORT". NULL on failure. */
struct MHD_Daemon *coce_fake_listen(MHD_AccessHandlerCallback handler,
                                    void *cls, char *url, size_t url_len);

/* In the access handler, first: 1 while the request is still arriving
 * (return MHD_YES), 0 once *con_cls holds all of it. */
int coce_fake_req_collect(void **con_cls, const char *upload,
                          size_t *upload_size);

/* Queues status with body (malloc'd, taken) as application/json, with
 * Retry-After: retry_after when >= 0 and the extra header pairs
 * (name, value, ..., NULL). */
enum MHD_Result coce_fake_send(struct MHD_Connection *c, unsigned status,
                               char *body, int retry_after,
                               const char *const *extra);

int64_t coce_fake_now_ms(void);
void coce_fake_sleep_ms(int ms);

#endif
