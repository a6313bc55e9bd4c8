/*
 * store — the kiosk's local SQLite database.
 *
 * One file holds members, events, check-ins, the outbox and settings. All SQL of
 * the kiosk lives in app/store/store*.c; callers see plain C structs. See store.c for
 * the schema and the durability rules.
 *
 * Promises:
 *  - WAL journal, synchronous=FULL: when a write function returns STORE_OK the
 *    row is on disk and survives power loss.
 *  - A check-in row and its outbox row commit in one transaction, or neither does.
 *  - A file that is not a database, is corrupt, or has a schema newer than this
 *    program is refused with an error; it is never reset or overwritten.
 *
 * A store handle belongs to one thread at a time.
 */
#ifndef TINGZI_STORE_H
#define TINGZI_STORE_H

#include "sync/links.h"
#include "sync/members_csv.h"
#include "sync/record.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store;

typedef enum store_err {
	STORE_OK = 0,
	STORE_ERR_OPEN,      /* the file cannot be opened or created */
	STORE_ERR_NOTADB,    /* the file is not a tingzi database, or is corrupt */
	STORE_ERR_TOO_NEW,   /* the schema is newer than this program */
	STORE_ERR_READONLY,  /* the database or its folder is not writable */
	STORE_ERR_FULL,      /* the disk is full */
	STORE_ERR_IO,        /* an I/O error */
	STORE_ERR_BUSY,      /* another process holds a lock for too long */
	STORE_ERR_NOT_FOUND, /* no such member / event */
	STORE_ERR_EXISTS,    /* a unique value (code, phone) is taken */
	STORE_ERR_INVALID,   /* an argument is out of range */
	STORE_ERR_INTERNAL,  /* anything else; see store_errmsg() */
} store_err;

/* The schema version this program writes (PRAGMA user_version). */
#define STORE_SCHEMA_VERSION 8


enum { STORE_OPEN_CREATE = 1 << 0, STORE_OPEN_READONLY_OK = 1 << 1 };

const char *store_strerror(store_err err);

/*
 * Open (and with STORE_OPEN_CREATE create) the database at path, applying
 * forward migrations. Without STORE_OPEN_READONLY_OK a database that cannot be
 * written is refused with STORE_ERR_READONLY; with it, the store opens and every
 * write fails with STORE_ERR_READONLY. On success the caller must call
 * store_close(). On failure *out is NULL and, when errbuf is not NULL, a
 * sentence naming the file and the reason is written there.
 */
store_err store_open(const char *path, int flags, store **out, char *errbuf, size_t errlen);
void store_close(store *s); /* store_close(NULL) does nothing */

/* The SQLite message of the last failure on this handle (never NULL). */
const char *store_errmsg(const store *s);
int store_is_readonly(const store *s);
/* This device's id (generated when the database is created). */
const char *store_device_id(const store *s);

/*
 * How this handle writes, for the start-up log and for tests: the journal
 * mode ("wal") into mode, and PRAGMA synchronous into *synchronous (2 = FULL).
 */
store_err store_journal_info(store *s, char *mode, size_t len, int *synchronous);
/*
 * Copy what the write-ahead log holds back into the database, as far as no
 * reader stands in the way (a passive checkpoint; it never waits). Never
 * needed for correctness: call it when the kiosk is idle (no check-in on
 * screen), so that check-ins do not meet the automatic checkpoint SQLite
 * runs inside a commit once the log passes 100 pages. Does nothing on a
 * read-only store.
 */
store_err store_checkpoint(store *s);
/*
 * Let the database grow by at most extra_pages more pages on this handle
 * (PRAGMA max_page_count): a write that needs more fails with STORE_ERR_FULL,
 * exactly as on a full disk. For tests of the full-disk path, and for a kiosk
 * that must leave room on a small card. Lasts until store_close().
 */
store_err store_limit_growth(store *s, int64_t extra_pages);

/* ---- settings ---- */
/* Copies the value into buf; STORE_ERR_NOT_FOUND when unset. */
store_err store_setting_get(store *s, const char *key, char *buf, size_t len);
store_err store_setting_set(store *s, const char *key, const char *value);

/* ---- members ---- */

/* Calls fn for every member in id order; stops early if fn returns non-zero. */
store_err store_members_foreach(store *s, int (*fn)(const store_member *m, void *ctx), void *ctx);
store_err store_member_get(store *s, int64_t id, store_member *out);
int64_t store_member_count(store *s);
/*
 * The members' generation: a number that moves whenever a member is added,
 * changed or removed, by this connection or any other (`tingzi members
 * import` in another process, the sync worker's pull). Read it before
 * reading the members for an index; when it has moved since, the index is
 * stale.
 */
store_err store_members_generation(store *s, int64_t *gen);

/*
 * Batch import: store_import_begin() opens a transaction; each
 * store_import_member() inserts, or updates the member with the same code
 * (or, when no member has the row's code, the same phone), and reports which
 * in *updated (STORE_IMPORT_*). m->id and m->provisional are ignored; an
 * imported member is never provisional. Empty phone or code in m keep the
 * member's present one; name, tier and expires are taken as given.
 * STORE_ERR_INVALID for a row without a name, or without a phone and a code,
 * or with a phone that is not 5 to 20 digits, or expires not a real YYYY-MM-DD;
 * STORE_ERR_EXISTS when the phone belongs to another member (store_errmsg()
 * says which). store_import_commit() makes it durable; store_import_rollback()
 * undoes everything since begin. Nothing is visible to other connections
 * before commit. Imported members are not put in the outbox.
 */
store_err store_import_begin(store *s);
store_err store_import_member(store *s, const store_member *m, int *updated);
store_err store_import_commit(store *s);
void store_import_rollback(store *s);

/*
 * Register a walk-in: a provisional member with a phone (digits only) and a
 * name, and its outbox record (kind 'member'), in one transaction. If a
 * member already has that phone, STORE_ERR_EXISTS and *out is that member.
 */
store_err store_member_register(store *s, const char *name, const char *phone, int64_t now_ms,
				store_member *out);

/* ---- events ---- */
typedef struct store_event {
	int64_t id; /* 0 for a drop-in visit (no event running) */
	char title[STORE_TITLE_MAX];
	int64_t start_ms; /* Unix time, milliseconds */
	int64_t end_ms;
} store_event;

store_err store_event_add(store *s, const char *title, int64_t start_ms, int64_t end_ms, int64_t *id_out);
/* The event whose window contains now_ms (the latest started if several);
 * STORE_ERR_NOT_FOUND when none. */
/* The event staff chose (setting current_event) until it ends, else the one running at now_ms. */
store_err store_event_current(store *s, int64_t now_ms, store_event *out);
store_err store_event_get(store *s, int64_t id, store_event *out);
store_err store_events_foreach(store *s, int (*fn)(const store_event *e, void *ctx), void *ctx);

/* ---- check-ins ---- */
typedef struct store_checkin {
	char id[STORE_ID_MAX]; /* client-generated 128-bit id */
	int64_t member_id;
	int64_t event_id;              /* 0 for a drop-in visit */
	char method[STORE_METHOD_MAX]; /* scan, phone, name, walkin, cli */
	int64_t wall_ms;               /* device wall clock */
	int64_t mono_ms;               /* CLOCK_MONOTONIC */
	char boot_id[40];              /* /proc/sys/kernel/random/boot_id */
	int64_t device_seq;
	int visit_no; /* this member's visit count including this one */
	int expired;  /* membership had expired at check-in time */
	int join_qr;  /* the welcome carried the group's join QR (links_welcome_join) */
	int reversed; /* undone by staff: kept, no longer counted */
} store_checkin;

typedef enum store_checkin_status {
	STORE_CHECKIN_RECORDED = 0, /* a new row was committed */
	STORE_CHECKIN_ALREADY,      /* the member was already checked in to this event */
} store_checkin_status;

/*
 * Record that member checked in to event (or, when event is NULL or has id 0,
 * a drop-in visit on now_ms's local date). Writes the check-in and its outbox
 * record in one transaction. Returns STORE_OK with *status RECORDED and *out
 * filled from the new row, or STORE_OK with *status ALREADY and *out filled
 * from the earlier row (nothing written). Any error means nothing was written.
 * today is the local date of now_ms (YYYY-MM-DD), used for membership expiry
 * and drop-in keys.
 */
store_err store_checkin_record(store *s, int64_t member_id, const store_event *event, const char *method,
			       int64_t now_ms, const char *today, store_checkin_status *status,
			       store_checkin *out);
/*
 * The same for a check-in a welcome screen will greet while join_links group
 * links apply (links_applicable() for event at now_ms; 0 when none does, or
 * no screen shows any): the new row's join_qr is links_welcome_join() of its
 * visit number, method and join_links, decided in the same transaction that
 * counts the visit. store_checkin_record() is this with join_links 0.
 */
store_err store_checkin_record_links(store *s, int64_t member_id, const store_event *event, const char *method,
				     int64_t now_ms, const char *today, size_t join_links,
				     store_checkin_status *status, store_checkin *out);

typedef struct store_checkin_row {
	store_checkin c;
	char member_name[STORE_NAME_MAX];
	char member_code[STORE_CODE_MAX];
	char event_title[STORE_TITLE_MAX];
} store_checkin_row;

/* All check-ins, or those of one event when event_id > 0, in time order. */
store_err store_checkins_foreach(store *s, int64_t event_id, int (*fn)(const store_checkin_row *r, void *ctx),
				 void *ctx);
int store_member_visits(store *s, int64_t member_id);
int64_t store_outbox_count(store *s);

/* ---- staff (store_staff.c) ---- */

/*
 * Undo a check-in (a mistaken tap): in one transaction the check-in is
 * marked reversed (it no longer counts, and the member can check in again),
 * a reversal row with its own id is written and queued for the hub, and the
 * action is audited. Nothing is deleted. STORE_ERR_NOT_FOUND when there is
 * no such check-in or it was undone already.
 */
store_err store_checkin_reverse(store *s, const char *checkin_id, const char *reason, const char *session,
				int64_t now_ms, char reversal_id[STORE_ID_MAX]);
/* Audit a staff action (detail: a JSON object, at most 2 KiB), queued for the hub. */
store_err store_audit(store *s, const char *session, const char *action, const char *detail_json, int64_t now_ms);
typedef struct store_audit_row {
	char id[STORE_ID_MAX], session[STORE_ID_MAX], action[32];
	char detail[2048];
	int64_t wall_ms;
} store_audit_row;
store_err store_audit_foreach(store *s, int (*fn)(const store_audit_row *a, void *ctx), void *ctx);
/* Check-ins not undone since since_ms, newest first. */
store_err store_checkins_since(store *s, int64_t since_ms, int (*fn)(const store_checkin_row *r, void *ctx),
			       void *ctx);

/* ---- group links ---- */

/*
 * Add a link (l->id is ignored; the new id goes to *id_out). The caller has
 * validated it (sync/links.c); the schema's CHECKs refuse what slips through
 * with STORE_ERR_INVALID, an unknown event with STORE_ERR_NOT_FOUND. A link
 * added with is_default takes the default from any other, in one transaction.
 */
store_err store_link_add(store *s, const store_link *l, int64_t now_ms, int64_t *id_out);
store_err store_link_get(store *s, int64_t id, store_link *out);
/* STORE_ERR_NOT_FOUND when there is no such link. */
store_err store_link_remove(store *s, int64_t id);
store_err store_link_set_default(store *s, int64_t id, int64_t now_ms);
/* Every link, the default first, then in id order. */
store_err store_links_foreach(store *s, int (*fn)(const store_link *l, void *ctx), void *ctx);

/* ---- sync with tingzi-hub (store_sync.c; see sync/PROTOCOL.md) ---- */

/*
 * Put in the outbox what this kiosk made that the hub has not had yet:
 * members (imported here or registered as walk-ins) and events made here.
 * Members and events always go before check-ins (store_outbox_batch).
 * *added (may be NULL) says how many rows were queued.
 */
store_err store_outbox_enqueue_local(store *s, int64_t now_ms, int64_t *added);

typedef struct store_outbox_rec {
	int64_t seq;
	char kind[16]; /* checkin, member, event, reversal, audit */
	char id[STORE_ID_MAX];
	const char *body; /* JSON; valid until the callback returns */
	/* a check-in's fields, read from body by SQLite (NULL/0 for other kinds), so a
	 * batch of 1000 is not parsed again on the way out */
	const char *member_uid, *event_uid, *attendance_key, *method, *boot_id;
	int64_t wall_ms, mono_ms, device_seq, visit_no;
	int expired;
	int join_qr; /* 0 for a check-in queued before the kiosk recorded it (schema 7) */
} store_outbox_rec;

/*
 * The next batch to push, in the order the hub must apply it: up to max
 * member and event records first, then up to max other records in outbox
 * order (so a reversal never goes before its check-in).
 */
store_err store_outbox_batch(store *s, int max, int (*fn)(const store_outbox_rec *r, void *ctx), void *ctx);

/*
 * For a sneakernet file: up to max rows after seq `after`, members and
 * events only (first = 1) or the rest (first = 0), in outbox order. The rows
 * stay queued; store_outbox_mark_exported() notes when they went out.
 */
store_err store_outbox_export(store *s, int first, int64_t after, int max,
			      int (*fn)(const store_outbox_rec *r, void *ctx), void *ctx);
store_err store_outbox_mark_exported(store *s, int64_t from_seq, int64_t to_seq, int64_t now_ms);

typedef enum store_ack_status { STORE_ACK_OK = 0, STORE_ACK_DUPLICATE, STORE_ACK_REJECTED } store_ack_status;

typedef struct store_ack {
	char id[STORE_ID_MAX];
	store_ack_status status;
	char reason[64];                /* for REJECTED */
	char merged_into[STORE_ID_MAX]; /* a member the hub merged into another, or "" */
} store_ack;

/*
 * The hub's answers for pushed records, in one transaction: every answered
 * record leaves the outbox; a rejected one is kept in the dead-letter table
 * with its reason; an acknowledged member or event is marked uploaded, and a
 * member the hub merged takes the surviving uid. Answers for ids that are not
 * in the outbox (already handled) are ignored. *removed counts outbox rows gone.
 */
store_err store_outbox_ack(store *s, const store_ack *acks, size_t n, int64_t now_ms, int64_t *removed);
int64_t store_dead_letter_count(store *s);

typedef struct store_dead_letter {
	int64_t seq;
	char kind[16];
	char id[STORE_ID_MAX];
	char reason[64];
	int64_t created_ms;
} store_dead_letter;
store_err store_dead_letters_foreach(store *s, int (*fn)(const store_dead_letter *d, void *ctx), void *ctx);

/*
 * One sync at a time on one database, across threads and processes (the
 * kiosk's worker, `tingzi sync`): an advisory lock (flock) on the file
 * "<database>.sync-lock" beside it. Waits up to wait_ms for another holder
 * (checking *cancel, when not NULL, every 50 ms); STORE_ERR_BUSY when it
 * is still held then. Released by store_sync_unlock(), store_close(), or
 * the holder's exit, however it ends. A handle that holds it already gets
 * STORE_OK at once.
 */
store_err store_sync_lock(store *s, int64_t wait_ms, const atomic_int *cancel);
void store_sync_unlock(store *s); /* does nothing when not held */

/* Data sets pulled from the hub. */
typedef enum store_set {
	STORE_SET_MEMBERS = 0,
	STORE_SET_EVENTS,
	STORE_SET_LINKS,
	STORE_SET_PASSES, /* the venue's pass keys, tier names and revocations (store_pass.c) */
	STORE_SET_COUNT
} store_set;
const char *store_set_name(store_set set);

/* The sequence applied last for set (0 when never), and whether a reset is under way. */
store_err store_pull_cursor(store *s, store_set set, int64_t *cursor, int *resetting, int64_t *updated_ms);
/*
 * Apply one page of changes (items: a JSON array of canonical items, as made
 * by app/sync/wire.c) and set the cursor to next, in one transaction.
 */
store_err store_pull_apply(store *s, store_set set, const char *items, int64_t next, int64_t now_ms);
/*
 * A reset: page 0 starts a snapshot (dropping any half-gathered one); each
 * page is kept aside (committed, not yet visible). store_pull_swap() then
 * replaces the set with the gathered snapshot and sets the cursor, in one
 * transaction: hub items absent from the snapshot are retired.
 */
store_err store_pull_stage(store *s, store_set set, int page, const char *items, int64_t now_ms);
store_err store_pull_swap(store *s, store_set set, int64_t next, int64_t now_ms);

/* ---- loading for the kiosk ---- */
/* The links as they stand now, into set (at most LINKS_MAX). */
store_err store_links_load(store *s, link_set *set);
/*
 * Import the members CSV at path into s (members_csv_import_into() with the
 * store as its sink). Returns MEMBERS_CSV_OK, MEMBERS_CSV_REFUSED or
 * MEMBERS_CSV_STORE_ERR, with rep->sink_error the store_err; the caller
 * must call members_csv_report_free(rep) afterwards.
 */
int store_import_csv(store *s, const char *path, members_csv_report *rep);

/* ---- signed passes (store_pass.c) ---- */
/* What a kiosk holds to check passes offline: its venue's public keys (key
 * ids 1..63; retired keys still check the passes they signed), the venue's
 * tier names by index (1..15), and revocations: every pass of member number
 * n issued at or before minute m is void. They come from the hub's `passes`
 * data set. */
store_err store_pass_key(store *s, unsigned kid, unsigned char public_key[32]); /* STORE_ERR_NOT_FOUND */
store_err store_pass_key_set(store *s, unsigned kid, const unsigned char public_key[32], int retired);
/* *revoked 1 when a revocation of number covers issued_min. */
store_err store_pass_revoked(store *s, uint32_t number, uint32_t issued_min, int *revoked);
store_err store_pass_revoke_set(store *s, uint32_t number, uint32_t before_min);
/* The tier's name ("" when the kiosk does not know index idx). */
store_err store_pass_tier(store *s, unsigned idx, char *out, size_t len);
store_err store_pass_tier_set(store *s, unsigned idx, const char *name);
/*
 * The member a valid pass names: the one with its code, or, when the kiosk
 * has none, a new one (provisional, so that it is sent to the hub, which
 * merges it into its member with that code; the next pull brings the hub's
 * own record) named by the pass's greeting, with its tier and expiry, in one
 * transaction with its outbox row. *added 1 for a new member.
 */
store_err store_pass_member(store *s, const char *code, const char *name, const char *tier, const char *expires,
			    int64_t now_ms, store_member *out, int *added);

#endif
