/* The write-ahead journal (data/journal.db): every order intent is recorded
 * durably BEFORE it is sent, and every later event of its lifecycle after
 * it happens, so that a restart can tell what may be live at the exchange
 * and which fills the snapshot has not seen (../shared/DESIGN.md, "intents
 * -> journal (fsync) -> exchange").
 *
 * Storage: SQLite in WAL mode with synchronous=FULL. The SQLite docs
 * (https://www.sqlite.org/pragma.html#pragma_synchronous) say of WAL mode
 * with FULL: "an additional sync operation of the WAL file happens after
 * each transaction commit. The extra WAL sync following each transaction
 * helps ensure that transactions are durable across a power loss" (NORMAL
 * would only guarantee consistency, not durability). So each append below
 * is durable when it returns.
 *
 * The events table is append-only: triggers refuse UPDATE and DELETE, so
 * nothing journalled is ever lost. Not thread-safe: one handle, one thread.
 */
#ifndef COCE_STATE_JOURNAL_H
#define COCE_STATE_JOURNAL_H

#include "state/book.h"
#include "utils/error.h"
#include "utils/types.h"

#include <stddef.h>
#include <stdint.h>

#define COCE_JOURNAL_VERSION 1
#define COCE_JOURNAL_NOTE_MAX 256

typedef struct coce_journal coce_journal;

typedef enum coce_journal_kind {
    COCE_JOURNAL_INTENT = 0,     /* decided, not yet sent */
    COCE_JOURNAL_SENT = 1,       /* request written to the exchange */
    COCE_JOURNAL_ACK = 2,        /* exchange accepted (exchange_order_id) */
    COCE_JOURNAL_FILL = 3,       /* one (partial) execution */
    COCE_JOURNAL_CANCEL_REQ = 4, /* cancel sent */
    COCE_JOURNAL_CANCELED = 5,   /* terminal */
    COCE_JOURNAL_REJECTED = 6,   /* terminal */
    COCE_JOURNAL_UNKNOWN = 7,    /* outcome unknown (timeout, crash) */
    COCE_JOURNAL_DONE = 8        /* terminal: reconciled / closed by hand */
} coce_journal_kind;

/* One row. Unused numeric fields are 0, unused strings "". */
typedef struct coce_journal_event {
    int64_t seq; /* set by the journal */
    int64_t time_ms;
    coce_journal_kind kind;
    char client_id[COCE_CLIENT_ID_MAX];
    char asset[COCE_BOOK_SYMBOL_MAX];
    coce_asset_id asset_id;
    int8_t side;
    coce_order_type type;
    coce_order_reason reason;
    double qty;   /* intent: ordered qty; fill: executed qty */
    double price; /* intent: limit (0 = market); fill: execution price */
    double fee;   /* fill only */
    char exchange_order_id[COCE_EXCHANGE_ID_MAX];
    char note[COCE_JOURNAL_NOTE_MAX];
} coce_journal_event;

/* Where a non-terminal order stands. */
typedef enum coce_journal_state {
    COCE_JSTATE_INTENT = 0,     /* intent only: never confirmed sent */
    COCE_JSTATE_SENT,           /* sent: outcome unknown */
    COCE_JSTATE_ACKED,          /* acknowledged: open at the exchange */
    COCE_JSTATE_PARTIAL,        /* partly filled, rest open */
    COCE_JSTATE_CANCEL_PENDING, /* cancel requested, not confirmed */
    COCE_JSTATE_UNKNOWN         /* outcome unknown */
} coce_journal_state;

typedef struct coce_journal_pending_entry {
    coce_order_intent intent;
    char asset[COCE_BOOK_SYMBOL_MAX];
    coce_journal_state state;
    double filled; /* sum of journalled fills */
    char exchange_order_id[COCE_EXCHANGE_ID_MAX];
    int64_t intent_seq;
    int64_t last_seq;
    int64_t last_time_ms;
} coce_journal_pending_entry;

/* "intent", "sent", ..., "done"; NULL if out of range. parse: COCE_EINVAL. */
const char *coce_journal_kind_name(coce_journal_kind kind);
int coce_journal_kind_parse(const char *text, coce_journal_kind *out);
/* Human text of a state, e.g. "intent only: never confirmed sent". */
const char *coce_journal_state_text(coce_journal_state state);

/* Opens or creates the journal at `path` (its directory must exist).
 * A file that is not a COCE journal (corrupt, foreign, newer version) is
 * COCE_ESTATE with a message naming the file; it is not modified. */
int coce_journal_open(const char *path, coce_journal **out, coce_err *err);
void coce_journal_close(coce_journal *j);

/* Durability (default on: synchronous=FULL). A back-test turns it off
 * (synchronous=OFF): the same journal, the same code path, without an fsync
 * per order, since a simulation never resumes after a crash. */
int coce_journal_set_durable(coce_journal *j, int durable, coce_err *err);

/* A fresh client order id "coce-<run>-<n>", unique across restarts: n comes
 * from a durable counter in the journal. `run` is reduced to [A-Za-z0-9_]
 * and shortened so the id fits Binance's 36-character limit
 * (newClientOrderId, ^[.A-Z:/a-z0-9_-]{1,36}$). */
int coce_journal_next_client_id(coce_journal *j, const char *run,
                                char out[COCE_CLIENT_ID_MAX], coce_err *err);

/* Records an intent BEFORE it is sent; durable when it returns. The client
 * id must be new (COCE_EEXIST otherwise). *seq_out (may be NULL) gets the
 * row's seq. */
int coce_journal_append_intent(coce_journal *j, const coce_order_intent *intent,
                               const char *asset_symbol, int64_t *seq_out,
                               coce_err *err);
/* Records any later event (ev->kind != INTENT) of a journalled intent
 * (COCE_ENOTFOUND when the client id has no intent). Fields that are 0/""
 * in ev are taken from the intent where it makes sense (asset, side). */
int coce_journal_append(coce_journal *j, const coce_journal_event *ev,
                        int64_t *seq_out, coce_err *err);
/* Journals a fill, then applies it to the book and advances
 * b->journal_seq: the book never holds a fill the journal lacks. The fill
 * is checked against the book first, so a rejected fill is not journalled.
 */
int coce_journal_record_fill(coce_journal *j, coce_book *b,
                             const coce_fill *fill, const char *asset_symbol,
                             coce_err *err);

/* Every intent whose lifecycle has not reached a terminal state (fully
 * filled, canceled, rejected, done), in intent order, with its last known
 * state. *out is malloc'ed (free()); NULL when *n == 0. */
int coce_journal_pending(coce_journal *j, coce_journal_pending_entry **out,
                         size_t *n, coce_err *err);

/* Applies to `b` every journalled fill with seq > max(after_seq,
 * b->journal_seq), in seq order, and advances b->journal_seq as it goes:
 * replaying twice is the same as once. Stops at the first fill the book
 * rejects (message names the seq). *applied (may be NULL) counts fills. */
int coce_journal_replay(coce_journal *j, coce_book *b, int64_t after_seq,
                        size_t *applied, coce_err *err);

/* Reads one event by seq (COCE_ENOTFOUND when absent); for tests/tools. */
int coce_journal_get(coce_journal *j, int64_t seq, coce_journal_event *out,
                     coce_err *err);
/* Highest seq so far (0 when empty). */
int coce_journal_last_seq(coce_journal *j, int64_t *out, coce_err *err);

#endif
