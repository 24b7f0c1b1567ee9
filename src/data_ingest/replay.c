#include "data_ingest/replay.h"

#include <stdlib.h>

#define BLOCK 4096

typedef struct stream {
    coce_trade_reader *reader;
    coce_trade *buf;
    size_t n, pos;
} stream;

struct coce_replay {
    stream *streams;
    size_t n_streams;
    size_t *heap; /* indices of streams with a current trade */
    size_t heap_len;
};

static int64_t head_time(const coce_replay *r, size_t s)
{
    const stream *st = &r->streams[s];
    return st->buf[st->pos].time_ms;
}

static int less(const coce_replay *r, size_t a, size_t b)
{
    int64_t ta = head_time(r, a), tb = head_time(r, b);
    return ta < tb || (ta == tb && a < b);
}

static void sift_down(coce_replay *r, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < r->heap_len && less(r, r->heap[l], r->heap[m]))
            m = l;
        if (l + 1 < r->heap_len && less(r, r->heap[l + 1], r->heap[m]))
            m = l + 1;
        if (m == i)
            return;
        size_t t = r->heap[i];
        r->heap[i] = r->heap[m];
        r->heap[m] = t;
        i = m;
    }
}

/* Makes sure stream s has a current trade; 1 if it has, 0 at its end. */
static int refill(stream *st, int *rc, coce_err *err)
{
    if (st->pos < st->n)
        return 1;
    st->pos = 0;
    *rc = coce_trade_reader_next(st->reader, st->buf, BLOCK, &st->n, err);
    if (*rc == COCE_EEOF) {
        *rc = COCE_OK;
        st->n = 0;
        return 0;
    }
    return *rc == COCE_OK && st->n > 0;
}

void coce_replay_free(coce_replay *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_streams; ++i) {
        coce_trade_reader_free(r->streams[i].reader);
        free(r->streams[i].buf);
    }
    free(r->streams);
    free(r->heap);
    free(r);
}

int coce_replay_open(coce_replay **out, char *const *paths, size_t n_paths,
                     coce_symbols *symbols, const coce_trade_reader_opts *opts,
                     coce_err *err)
{
    if (out == NULL || (paths == NULL && n_paths > 0) || symbols == NULL)
        return coce_err_set(err, COCE_EINVAL, "replay: bad arguments");
    *out = NULL;
    coce_replay *r = calloc(1, sizeof *r);
    if (r == NULL)
        return coce_err_set(err, COCE_ENOMEM, "replay: out of memory");
    r->streams = calloc(n_paths > 0 ? n_paths : 1, sizeof *r->streams);
    r->heap = calloc(n_paths > 0 ? n_paths : 1, sizeof *r->heap);
    if (r->streams == NULL || r->heap == NULL) {
        coce_replay_free(r);
        return coce_err_set(err, COCE_ENOMEM, "replay: out of memory");
    }
    for (size_t i = 0; i < n_paths; ++i) {
        stream *st = &r->streams[i];
        r->n_streams = i + 1;
        st->buf = malloc(BLOCK * sizeof *st->buf);
        if (st->buf == NULL) {
            coce_replay_free(r);
            return coce_err_set(err, COCE_ENOMEM, "replay: out of memory");
        }
        int rc = coce_trade_reader_open(&st->reader, paths[i], symbols, opts,
                                        err);
        if (rc == COCE_OK && refill(st, &rc, err))
            r->heap[r->heap_len++] = i;
        if (rc != COCE_OK) {
            coce_replay_free(r);
            return rc;
        }
    }
    for (size_t i = r->heap_len / 2; i-- > 0;)
        sift_down(r, i);
    *out = r;
    return COCE_OK;
}

int coce_replay_next(coce_replay *r, coce_trade *out, coce_err *err)
{
    if (r == NULL || out == NULL)
        return coce_err_set(err, COCE_EINVAL, "replay: bad arguments");
    if (r->heap_len == 0)
        return COCE_EEOF;
    size_t s = r->heap[0];
    stream *st = &r->streams[s];
    *out = st->buf[st->pos++];
    int rc = COCE_OK;
    if (!refill(st, &rc, err)) {
        if (rc != COCE_OK)
            return rc;
        r->heap[0] = r->heap[--r->heap_len];
    }
    sift_down(r, 0);
    return COCE_OK;
}

size_t coce_replay_skipped(const coce_replay *r)
{
    size_t total = 0;
    for (size_t i = 0; r != NULL && i < r->n_streams; ++i)
        total += coce_trade_reader_skipped(r->streams[i].reader);
    return total;
}
