/* Internal (coce__xhttp_*): the HTTP plumbing shared by the live exchange
 * adapters (binance.c, deribit.c): one request on a reused libcurl easy
 * handle with the answer's body and chosen integer headers captured, the
 * rule that tells a request that never left this host (COCE_ENET, "not
 * sent") from one whose outcome is unknown (COCE_EUNKNOWN), and the clock,
 * back-off and rate-limit wait around it. Each adapter keeps its own
 * retries, venue error codes and messages. */
#ifndef COCE_EXECUTION_HTTP_CALL_H
#define COCE_EXECUTION_HTTP_CALL_H

#include "utils/error.h"

#include <curl/curl.h>
#include <stdint.h>

/* How many response headers one request may capture. */
#define COCE__XHTTP_CAPTURE_MAX 4

typedef struct coce__xhttp_req {
    const char *method; /* "GET", "POST", "DELETE", ...; only POST has a body */
    const char *url;    /* complete, query included */
    const char *const *headers; /* extra "Name: value" lines, NULL-ended;
                                   NULL: none */
    const char *body;           /* POST body; NULL: empty */
    int64_t timeout_ms;         /* connect and whole exchange, > 0 */
    /* A new connection, closed afterwards. libcurl silently resends a
     * request whose reused connection died before any answer; for an order
     * that is a second order. A fresh connection is never retried. */
    int fresh;
    /* Names of integer headers to capture (case-insensitive, RFC 9110 5.1),
     * NULL-ended, at most COCE__XHTTP_CAPTURE_MAX; NULL: none. */
    const char *const *capture;
} coce__xhttp_req;

typedef struct coce__xhttp_resp {
    CURLcode curl; /* CURLE_OK: an HTTP answer arrived */
    long status;   /* HTTP status; 0 when none */
    char *body;    /* NUL-terminated answer; NULL when empty */
    size_t body_len;
    int64_t captured[COCE__XHTTP_CAPTURE_MAX]; /* req.capture[i]; -1 absent */
} coce__xhttp_resp;

/* One exchange on c (reset first, so nothing leaks from the previous one).
 * Always fills *r; release it with coce__xhttp_resp_free. */
void coce__xhttp_perform(CURL *c, const coce__xhttp_req *req,
                         coce__xhttp_resp *r);

void coce__xhttp_resp_free(coce__xhttp_resp *r);

/* Non-zero when transport failure c happened before the request could
 * leave this host (no connection, bad URL): the venue never saw it. Every
 * other failure may come after the venue read it. */
int coce__xhttp_not_sent(CURLcode c);

/* The status of a failed exchange (r->curl != CURLE_OK), set in err as
 * "<venue>: <what>: <curl text> ...": COCE_ENET "(not sent)" when it never
 * left this host; else, for a request that must not be repeated
 * (safe == 0), COCE_EUNKNOWN asking to query by `lookup` (e.g. "client id")
 * before anything else; else COCE_ETIMEOUT for a timeout, COCE_ENET. */
int coce__xhttp_failure(const coce__xhttp_resp *r, int safe, const char *venue,
                        const char *what, const char *lookup, coce_err *err);

/* Wall clock, ms since the epoch. */
int64_t coce__xhttp_now_ms(void);

/* Sleeps ms (nothing when <= 0), resumed after signals. */
void coce__xhttp_sleep_ms(int64_t ms);

/* Sleeps before retry number `attempt` (>= 1): base_ms doubled per earlier
 * retry, the doubling capped at 2^20. */
void coce__xhttp_backoff(int64_t base_ms, int attempt);

/* A rate-limit window ends at blocked_until_ms: a safe request waits out a
 * rest of at most max_wait_ms here. Returns the ms the request must still
 * be refused for (0: go ahead), so that a 429 is never answered with more
 * traffic. */
int64_t coce__xhttp_wait_block(int64_t blocked_until_ms, int safe,
                               int64_t max_wait_ms);

/* Extends the window *blocked_until_ms to at least now + wait_ms. */
void coce__xhttp_block(int64_t *blocked_until_ms, int64_t now_ms,
                       int64_t wait_ms);

#endif
