#include "state/journal.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 'COCE' in the SQLite header's application_id field, so that a foreign
 * database is recognised as such (https://www.sqlite.org/fileformat.html,
 * section 1.3.14 "Application ID"). */
#define JOURNAL_APP_ID 0x434F4345

#define PATH_MAX_LEN 4096

struct coce_journal {
    sqlite3 *db;
    char path[PATH_MAX_LEN];
};

static const char *const kind_names[] = {"intent",   "sent",       "ack",
                                         "fill",     "cancel_req", "canceled",
                                         "rejected", "unknown",    "done"};
#define N_KINDS (sizeof kind_names / sizeof kind_names[0])

static const char *const state_texts[] = {
    "intent only: never confirmed sent",
    "sent: outcome unknown",
    "acknowledged: open at the exchange",
    "partly filled: rest open at the exchange",
    "cancel requested: not confirmed",
    "outcome unknown"};

const char *coce_journal_kind_name(coce_journal_kind kind)
{
    return (unsigned)kind < N_KINDS ? kind_names[kind] : NULL;
}

int coce_journal_kind_parse(const char *text, coce_journal_kind *out)
{
    if (text == NULL || out == NULL)
        return COCE_EINVAL;
    for (size_t i = 0; i < N_KINDS; ++i) {
        if (strcmp(text, kind_names[i]) == 0) {
            *out = (coce_journal_kind)i;
            return COCE_OK;
        }
    }
    return COCE_EINVAL;
}

const char *coce_journal_state_text(coce_journal_state state)
{
    if ((unsigned)state >= sizeof state_texts / sizeof state_texts[0])
        return "invalid state";
    return state_texts[state];
}

/* A corrupt or foreign file is a state problem, the rest is I/O. */
static int db_fail(const coce_journal *j, int rc, const char *what,
                   coce_err *err)
{
    int prim = rc & 0xff;
    int code = (prim == SQLITE_CORRUPT || prim == SQLITE_NOTADB) ? COCE_ESTATE
                                                                 : COCE_EIO;
    return coce_err_set(err, code, "%s: journal %s: %s", j->path, what,
                        sqlite3_errmsg(j->db));
}

static void copy_col(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    (void)snprintf(dst, cap, "%s", t != NULL ? (const char *)t : "");
}

/* Runs one statement that returns a single integer (or none: *out = 0). */
static int query_int(coce_journal *j, const char *sql, int64_t *out,
                     coce_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(j->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        if (rc == SQLITE_ROW || rc == SQLITE_DONE)
            rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_OK ? COCE_OK : db_fail(j, rc, sql, err);
}

static int exec_sql(coce_journal *j, const char *sql, coce_err *err)
{
    int rc = sqlite3_exec(j->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? COCE_OK : db_fail(j, rc, "setup", err);
}

static const char schema_sql[] =
    "BEGIN IMMEDIATE;"
    "CREATE TABLE events("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " time_ms INTEGER NOT NULL,"
    " kind TEXT NOT NULL CHECK (kind IN ('intent','sent','ack','fill',"
    "  'cancel_req','canceled','rejected','unknown','done')),"
    " client_id TEXT NOT NULL,"
    " asset TEXT, asset_id INTEGER, side INTEGER, order_type INTEGER,"
    " reason INTEGER, qty REAL, price REAL, fee REAL,"
    " exchange_order_id TEXT, note TEXT);"
    "CREATE UNIQUE INDEX events_one_intent ON events(client_id)"
    " WHERE kind = 'intent';"
    "CREATE INDEX events_by_client ON events(client_id, seq);"
    "CREATE INDEX events_by_kind ON events(kind, seq);"
    /* Append-only: what is journalled is never changed or deleted. */
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
    " BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;"
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
    " BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;"
    "CREATE TABLE counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
    "INSERT INTO counters VALUES ('client_id', 0);"
    "PRAGMA application_id = 1129268037;"
    "PRAGMA user_version = 1;"
    "COMMIT;";

/* Checks an existing file before anything writes to it. */
static int check_existing(coce_journal *j, int *fresh, coce_err *err)
{
    int64_t app = 0, version = 0, tables = 0;
    int rc = query_int(j, "PRAGMA application_id", &app, err);
    if (rc == COCE_OK)
        rc = query_int(j, "SELECT count(*) FROM sqlite_master", &tables, err);
    if (rc == COCE_OK)
        rc = query_int(j, "PRAGMA user_version", &version, err);
    if (rc != COCE_OK)
        return coce_err_set(err, COCE_ESTATE,
                            "%s: unreadable journal "
                            "(corrupt, truncated or not SQLite): %s",
                            j->path, sqlite3_errmsg(j->db));
    *fresh = app == 0 && tables == 0;
    if (*fresh)
        return COCE_OK;
    if (app != JOURNAL_APP_ID)
        return coce_err_set(err, COCE_ESTATE,
                            "%s: not a COCE journal (application_id %lld)",
                            j->path, (long long)app);
    if (version != COCE_JOURNAL_VERSION)
        return coce_err_set(err, COCE_ESTATE,
                            "%s: journal version %lld is not supported "
                            "(this build reads version %d)",
                            j->path, (long long)version, COCE_JOURNAL_VERSION);
    sqlite3_stmt *st = NULL;
    rc = sqlite3_prepare_v2(j->db, "PRAGMA quick_check", -1, &st, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    char verdict[256] = "";
    if (rc == SQLITE_ROW)
        copy_col(verdict, sizeof verdict, st, 0);
    sqlite3_finalize(st);
    for (char *c = strchr(verdict, '\n'); c != NULL; c = strchr(c, '\n'))
        *c = ' ';
    if (rc != SQLITE_ROW || strcmp(verdict, "ok") != 0)
        return coce_err_set(err, COCE_ESTATE, "%s: journal is corrupt: %s",
                            j->path,
                            rc == SQLITE_ROW ? verdict : sqlite3_errmsg(j->db));
    return COCE_OK;
}

int coce_journal_open(const char *path, coce_journal **out, coce_err *err)
{
    if (path == NULL || out == NULL || strlen(path) >= PATH_MAX_LEN)
        return coce_err_set(err, COCE_EINVAL, "journal: bad arguments");
    *out = NULL;
    coce_journal *j = calloc(1, sizeof *j);
    if (j == NULL)
        return coce_err_set(err, COCE_ENOMEM, "%s: out of memory", path);
    memcpy(j->path, path, strlen(path) + 1);
    int rc = sqlite3_open_v2(path, &j->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        rc = coce_err_set(err, COCE_EIO, "%s: cannot open journal: %s", path,
                          j->db != NULL ? sqlite3_errmsg(j->db)
                                        : sqlite3_errstr(rc));
        coce_journal_close(j);
        return rc;
    }
    sqlite3_extended_result_codes(j->db, 1);
    (void)sqlite3_busy_timeout(j->db, 2000);
    int fresh = 0;
    int64_t wal = 0;
    rc = check_existing(j, &fresh, err);
    if (rc == COCE_OK)
        rc = exec_sql(j,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                      " PRAGMA foreign_keys=ON;",
                      err);
    if (rc == COCE_OK)
        rc = query_int(j,
                       "SELECT journal_mode = 'wal' FROM"
                       " pragma_journal_mode",
                       &wal, err);
    if (rc == COCE_OK && wal != 1)
        rc = coce_err_set(err, COCE_EIO, "%s: cannot enable WAL mode", path);
    if (rc == COCE_OK && fresh)
        rc = exec_sql(j, schema_sql, err);
    if (rc != COCE_OK) {
        coce_journal_close(j);
        return rc;
    }
    *out = j;
    return COCE_OK;
}

int coce_journal_set_durable(coce_journal *j, int durable, coce_err *err)
{
    if (j == NULL)
        return coce_err_set(err, COCE_EINVAL, "journal: bad arguments");
    const char *sql = durable ? "PRAGMA synchronous=FULL;"
                              : "PRAGMA synchronous=OFF;";
    if (sqlite3_exec(j->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return coce_err_set(err, COCE_EIO, "%s: %s", j->path,
                            sqlite3_errmsg(j->db));
    return COCE_OK;
}

void coce_journal_close(coce_journal *j)
{
    if (j == NULL)
        return;
    (void)sqlite3_close_v2(j->db);
    free(j);
}

int coce_journal_last_seq(coce_journal *j, int64_t *out, coce_err *err)
{
    if (j == NULL || out == NULL)
        return coce_err_set(err, COCE_EINVAL, "journal: bad arguments");
    return query_int(j, "SELECT coalesce(max(seq), 0) FROM events", out, err);
}

int coce_journal_next_client_id(coce_journal *j, const char *run,
                                char out[COCE_CLIENT_ID_MAX], coce_err *err)
{
    if (j == NULL || out == NULL)
        return coce_err_set(err, COCE_EINVAL, "journal: bad arguments");
    int64_t n = 0;
    int rc = query_int(j,
                       "UPDATE counters SET value = value + 1"
                       " WHERE name = 'client_id' RETURNING value",
                       &n, err);
    if (rc != COCE_OK)
        return rc;
    char num[24];
    int nlen = snprintf(num, sizeof num, "%lld", (long long)n);
    /* 36 = Binance's limit: "coce-" + run + "-" + num. */
    int room = 36 - 6 - nlen;
    char tag[32];
    int k = 0;
    for (const char *p = run != NULL ? run : ""; *p != '\0' && k < room; ++p) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '_';
        tag[k++] = ok ? c : '_';
    }
    tag[k] = '\0';
    char id[64];
    int len = snprintf(id, sizeof id, "coce-%s-%s", tag, num);
    memcpy(out, id, (size_t)len + 1); /* len <= 36 by construction */
    return COCE_OK;
}

/* ---- appends ---------------------------------------------------------- */

static int insert_event(coce_journal *j, const coce_journal_event *ev,
                        int64_t *seq_out, coce_err *err)
{
    static const char sql[] =
        "INSERT INTO events(time_ms, kind, client_id, asset, asset_id, side,"
        " order_type, reason, qty, price, fee, exchange_order_id, note)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(j->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, ev->time_ms);
        sqlite3_bind_text(st, 2, kind_names[ev->kind], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, ev->client_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, ev->asset, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, ev->asset_id);
        sqlite3_bind_int(st, 6, ev->side);
        sqlite3_bind_int(st, 7, (int)ev->type);
        sqlite3_bind_int(st, 8, (int)ev->reason);
        sqlite3_bind_double(st, 9, ev->qty);
        sqlite3_bind_double(st, 10, ev->price);
        sqlite3_bind_double(st, 11, ev->fee);
        sqlite3_bind_text(st, 12, ev->exchange_order_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 13, ev->note, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT_UNIQUE)
        return coce_err_set(err, COCE_EEXIST,
                            "%s: intent '%s' is already journalled", j->path,
                            ev->client_id);
    if (rc != SQLITE_DONE)
        return db_fail(j, rc, "append", err);
    if (seq_out != NULL)
        *seq_out = sqlite3_last_insert_rowid(j->db);
    return COCE_OK;
}

static int terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

int coce_journal_append_intent(coce_journal *j, const coce_order_intent *in,
                               const char *asset_symbol, int64_t *seq_out,
                               coce_err *err)
{
    if (j == NULL || in == NULL || asset_symbol == NULL)
        return coce_err_set(err, COCE_EINVAL, "journal: bad arguments");
    if (!terminated(in->client_id, sizeof in->client_id) ||
        in->client_id[0] == '\0' || asset_symbol[0] == '\0' ||
        strlen(asset_symbol) >= COCE_BOOK_SYMBOL_MAX ||
        (in->side != COCE_SIDE_BUY && in->side != COCE_SIDE_SELL) ||
        !isfinite(in->qty) || in->qty <= 0 || !isfinite(in->limit_price) ||
        in->limit_price < 0)
        return coce_err_set(err, COCE_EINVAL,
                            "journal: intent '%.*s': bad fields",
                            (int)sizeof in->client_id, in->client_id);
    coce_journal_event ev;
    memset(&ev, 0, sizeof ev);
    ev.time_ms = in->time_ms;
    ev.kind = COCE_JOURNAL_INTENT;
    memcpy(ev.client_id, in->client_id, sizeof ev.client_id);
    memcpy(ev.asset, asset_symbol, strlen(asset_symbol) + 1);
    ev.asset_id = in->asset;
    ev.side = in->side;
    ev.type = in->type;
    ev.reason = in->reason;
    ev.qty = in->qty;
    ev.price = in->limit_price;
    (void)snprintf(ev.note, sizeof ev.note, "%s",
                   coce_order_reason_name(in->reason));
    return insert_event(j, &ev, seq_out, err);
}

/* The intent row of client_id: asset, asset id and side. */
static int find_intent(coce_journal *j, const char *client_id,
                       coce_journal_event *ev, coce_err *err)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(j->db,
                                "SELECT asset, asset_id, side FROM events"
                                " WHERE client_id = ?1 AND kind = 'intent'",
                                -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, client_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW) {
        if (ev->asset[0] == '\0')
            copy_col(ev->asset, sizeof ev->asset, st, 0);
        if (ev->asset_id == 0)
            ev->asset_id = (coce_asset_id)sqlite3_column_int64(st, 1);
        if (ev->side == 0)
            ev->side = (int8_t)sqlite3_column_int(st, 2);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return coce_err_set(err, COCE_ENOTFOUND,
                            "%s: no journalled intent '%s'", j->path,
                            client_id);
    return rc == SQLITE_ROW ? COCE_OK : db_fail(j, rc, "lookup", err);
}

int coce_journal_append(coce_journal *j, const coce_journal_event *ev,
                        int64_t *seq_out, coce_err *err)
{
    if (j == NULL || ev == NULL)
        return coce_err_set(err, COCE_EINVAL, "journal: bad arguments");
    if (ev->kind == COCE_JOURNAL_INTENT ||
        coce_journal_kind_name(ev->kind) == NULL ||
        !terminated(ev->client_id, sizeof ev->client_id) ||
        !terminated(ev->asset, sizeof ev->asset) ||
        !terminated(ev->exchange_order_id, sizeof ev->exchange_order_id) ||
        !terminated(ev->note, sizeof ev->note))
        return coce_err_set(err, COCE_EINVAL,
                            "journal: event: bad kind or unterminated text "
                            "(intents go through append_intent)");
    if (ev->kind == COCE_JOURNAL_FILL &&
        (!isfinite(ev->qty) || ev->qty <= 0 || !isfinite(ev->price) ||
         ev->price <= 0 || !isfinite(ev->fee)))
        return coce_err_set(err, COCE_EINVAL,
                            "journal: fill '%s': bad qty, price or fee",
                            ev->client_id);
    if (!isfinite(ev->qty) || !isfinite(ev->price) || !isfinite(ev->fee))
        return coce_err_set(err, COCE_EINVAL,
                            "journal: event '%s': number not finite",
                            ev->client_id);
    coce_journal_event row = *ev;
    int rc = find_intent(j, ev->client_id, &row, err);
    if (rc != COCE_OK)
        return rc;
    return insert_event(j, &row, seq_out, err);
}

int coce_journal_record_fill(coce_journal *j, coce_book *b, const coce_fill *f,
                             const char *asset_symbol, coce_err *err)
{
    if (j == NULL || b == NULL || f == NULL)
        return coce_err_set(err, COCE_EINVAL, "journal: bad arguments");
    int rc = coce_book_check_fill(b, f, asset_symbol, err);
    if (rc != COCE_OK)
        return rc;
    coce_journal_event ev;
    memset(&ev, 0, sizeof ev);
    ev.time_ms = f->time_ms;
    ev.kind = COCE_JOURNAL_FILL;
    memcpy(ev.client_id, f->client_id, sizeof ev.client_id);
    const char *sym =
        asset_symbol != NULL ? asset_symbol : coce_book_symbol(b, f->asset);
    memcpy(ev.asset, sym, strlen(sym) + 1);
    ev.asset_id = f->asset;
    ev.side = f->side;
    ev.qty = f->qty;
    ev.price = f->price;
    ev.fee = f->fee;
    int64_t seq = 0;
    rc = coce_journal_append(j, &ev, &seq, err);
    if (rc != COCE_OK)
        return rc;
    rc = coce_book_apply_fill(b, f, asset_symbol, err);
    if (rc == COCE_OK)
        b->journal_seq = seq;
    return rc;
}

/* ---- reading ---------------------------------------------------------- */

#define EVENT_COLUMNS                                                          \
    "seq, time_ms, kind, client_id, asset, asset_id, side, order_type,"        \
    " reason, qty, price, fee, exchange_order_id, note"

static void read_event(sqlite3_stmt *st, coce_journal_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->seq = sqlite3_column_int64(st, 0);
    ev->time_ms = sqlite3_column_int64(st, 1);
    coce_journal_kind kind = COCE_JOURNAL_UNKNOWN;
    (void)coce_journal_kind_parse((const char *)sqlite3_column_text(st, 2),
                                  &kind);
    ev->kind = kind;
    copy_col(ev->client_id, sizeof ev->client_id, st, 3);
    copy_col(ev->asset, sizeof ev->asset, st, 4);
    ev->asset_id = (coce_asset_id)sqlite3_column_int64(st, 5);
    ev->side = (int8_t)sqlite3_column_int(st, 6);
    ev->type = (coce_order_type)sqlite3_column_int(st, 7);
    ev->reason = (coce_order_reason)sqlite3_column_int(st, 8);
    ev->qty = sqlite3_column_double(st, 9);
    ev->price = sqlite3_column_double(st, 10);
    ev->fee = sqlite3_column_double(st, 11);
    copy_col(ev->exchange_order_id, sizeof ev->exchange_order_id, st, 12);
    copy_col(ev->note, sizeof ev->note, st, 13);
}

int coce_journal_get(coce_journal *j, int64_t seq, coce_journal_event *out,
                     coce_err *err)
{
    if (j == NULL || out == NULL)
        return coce_err_set(err, COCE_EINVAL, "journal: bad arguments");
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(
        j->db, "SELECT " EVENT_COLUMNS " FROM events WHERE seq = ?1", -1, &st,
        NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, seq);
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_ROW)
        read_event(st, out);
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE)
        return coce_err_set(err, COCE_ENOTFOUND, "%s: no event %lld", j->path,
                            (long long)seq);
    return rc == SQLITE_ROW ? COCE_OK : db_fail(j, rc, "read", err);
}

/* Folds one event into the pending record of its order; returns 1 when
 * the order reached a terminal state. */
static int fold_event(coce_journal_pending_entry *p,
                      const coce_journal_event *ev)
{
    p->last_seq = ev->seq;
    p->last_time_ms = ev->time_ms;
    if (ev->exchange_order_id[0] != '\0')
        (void)snprintf(p->exchange_order_id, sizeof p->exchange_order_id, "%s",
                       ev->exchange_order_id);
    switch (ev->kind) {
    case COCE_JOURNAL_SENT:
        p->state = COCE_JSTATE_SENT;
        return 0;
    case COCE_JOURNAL_ACK:
        p->state = COCE_JSTATE_ACKED;
        return 0;
    case COCE_JOURNAL_FILL:
        p->filled += ev->qty;
        p->state = COCE_JSTATE_PARTIAL;
        return p->filled >= p->intent.qty * (1.0 - COCE_BOOK_QTY_RTOL);
    case COCE_JOURNAL_CANCEL_REQ:
        p->state = COCE_JSTATE_CANCEL_PENDING;
        return 0;
    case COCE_JOURNAL_UNKNOWN:
        p->state = COCE_JSTATE_UNKNOWN;
        return 0;
    case COCE_JOURNAL_INTENT:
        return 0;
    default: /* canceled, rejected, done */
        return 1;
    }
}

static void start_pending(coce_journal_pending_entry *p,
                          const coce_journal_event *ev)
{
    memset(p, 0, sizeof *p);
    memcpy(p->intent.client_id, ev->client_id, sizeof p->intent.client_id);
    p->intent.asset = ev->asset_id;
    p->intent.side = ev->side;
    p->intent.type = ev->type;
    p->intent.qty = ev->qty;
    p->intent.limit_price = ev->price;
    p->intent.reason = ev->reason;
    p->intent.time_ms = ev->time_ms;
    memcpy(p->asset, ev->asset, sizeof p->asset);
    p->state = COCE_JSTATE_INTENT;
    p->intent_seq = ev->seq;
    p->last_seq = ev->seq;
    p->last_time_ms = ev->time_ms;
}

static int by_intent_seq(const void *a, const void *b)
{
    const coce_journal_pending_entry *x = a, *y = b;
    return (x->intent_seq > y->intent_seq) - (x->intent_seq < y->intent_seq);
}

static int keep_pending(coce_journal_pending_entry **arr, size_t *len,
                        size_t *cap, const coce_journal_pending_entry *cur)
{
    if (*len == *cap) {
        size_t next = *cap == 0 ? 16 : *cap * 2;
        coce_journal_pending_entry *p = realloc(*arr, next * sizeof *p);
        if (p == NULL)
            return SQLITE_NOMEM;
        *arr = p;
        *cap = next;
    }
    (*arr)[(*len)++] = *cur;
    return SQLITE_OK;
}

int coce_journal_pending(coce_journal *j, coce_journal_pending_entry **out,
                         size_t *n, coce_err *err)
{
    if (j == NULL || out == NULL || n == NULL)
        return coce_err_set(err, COCE_EINVAL, "journal: bad arguments");
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(j->db,
                                "SELECT " EVENT_COLUMNS " FROM events"
                                " ORDER BY client_id, seq",
                                -1, &st, NULL);
    coce_journal_pending_entry *arr = NULL, cur;
    memset(&cur, 0, sizeof cur);
    size_t len = 0, cap = 0;
    int open = 0, done = 0;
    while (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            break;
        coce_journal_event ev;
        read_event(st, &ev);
        rc = SQLITE_OK;
        if (open && strcmp(ev.client_id, cur.intent.client_id) != 0) {
            if (!done)
                rc = keep_pending(&arr, &len, &cap, &cur);
            open = 0;
        }
        if (!open) {
            /* Appends require an intent first, so a group starts with it. */
            start_pending(&cur, &ev);
            open = 1;
            done = 0;
        } else if (fold_event(&cur, &ev)) {
            done = 1;
        }
    }
    if (rc == SQLITE_DONE && open && !done &&
        keep_pending(&arr, &len, &cap, &cur) != SQLITE_OK)
        rc = SQLITE_NOMEM;
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(arr);
        return db_fail(j, rc, "pending scan", err);
    }
    if (len > 1)
        qsort(arr, len, sizeof *arr, by_intent_seq);
    *out = arr;
    *n = len;
    return COCE_OK;
}

int coce_journal_replay(coce_journal *j, coce_book *b, int64_t after_seq,
                        size_t *applied, coce_err *err)
{
    if (applied != NULL)
        *applied = 0;
    if (j == NULL || b == NULL)
        return coce_err_set(err, COCE_EINVAL, "journal: bad arguments");
    int64_t from = after_seq > b->journal_seq ? after_seq : b->journal_seq;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(j->db,
                                "SELECT " EVENT_COLUMNS " FROM events"
                                " WHERE kind = 'fill' AND seq > ?1"
                                " ORDER BY seq",
                                -1, &st, NULL);
    if (rc == SQLITE_OK)
        sqlite3_bind_int64(st, 1, from);
    int crc = COCE_OK;
    while (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            break;
        coce_journal_event ev;
        read_event(st, &ev);
        coce_fill f;
        memset(&f, 0, sizeof f);
        memcpy(f.client_id, ev.client_id, sizeof f.client_id);
        /* A later run may intern symbols differently: the symbol wins. */
        f.asset = ev.asset_id;
        (void)coce_book_asset_by_symbol(b, ev.asset, &f.asset);
        f.side = ev.side;
        f.qty = ev.qty;
        f.price = ev.price;
        f.fee = ev.fee;
        f.time_ms = ev.time_ms;
        crc = coce_book_apply_fill(b, &f, ev.asset, err);
        if (crc != COCE_OK) {
            (void)coce_err_prefix(err, "%s: replay of seq %lld: ", j->path,
                                  (long long)ev.seq);
            break;
        }
        b->journal_seq = ev.seq;
        if (applied != NULL)
            ++*applied;
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (crc != COCE_OK)
        return crc;
    return rc == SQLITE_DONE ? COCE_OK : db_fail(j, rc, "replay", err);
}
