/*
 * hub_store — everything tingzi-hub keeps, behind one interface.
 *
 * The server and the admin commands speak only through the operations
 * below, in terms of C values: no SQL, no SQLite types and no SQLite JSON
 * functions cross this line, so another backend (PostgreSQL) is one more
 * file that fills in a hub_store_ops. hub_store_sqlite.c is the backend
 * used today: one SQLite file in WAL mode.
 *
 * Every operation that changes data is one transaction: it happens whole or
 * not at all. Operations return HUB_OK or a negative hub_err; the sentence
 * for a person is in hub_store_errmsg().
 *
 * A store is used by one thread at a time (the server holds a lock around
 * each call).
 */
#ifndef TINGZI_HUB_STORE_H
#define TINGZI_HUB_STORE_H

#include "sync/members_csv.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define HUB_ID_LEN    32 /* hex digits of an id */
#define HUB_ID_MAX    (HUB_ID_LEN + 1)
#define HUB_NAME_MAX  160
#define HUB_TZ_MAX    64
#define HUB_SLUG_MAX  33
#define HUB_HASH_LEN  32 /* SHA-256 */
#define HUB_URL_MAX   1025

typedef enum hub_err {
	HUB_OK = 0,
	HUB_ERR = -1,           /* the storage failed */
	HUB_BUSY = -2,          /* the storage is busy: try again */
	HUB_NOT_FOUND = -3,     /* no such venue, device, code or slug */
	HUB_EXISTS = -4,        /* already there */
	HUB_INVALID = -5,       /* a value the storage refuses */
	HUB_CODE_INVALID = -6,  /* an enrolment code unknown, used or expired */
} hub_err;

/* A sentence for an error (hub_store_errmsg() has the storage's own words). */
const char *hub_strerror(hub_err e);

typedef struct hub_venue {
	char id[HUB_ID_MAX];
	char name[HUB_NAME_MAX];
	char tz[HUB_TZ_MAX]; /* IANA zone the venue's days are counted in */
	char slug[HUB_SLUG_MAX];
	int64_t created_ms;
} hub_venue;

typedef struct hub_device {
	char id[HUB_ID_MAX];
	char venue_id[HUB_ID_MAX];
	char name[65];
	char public_key[65]; /* Ed25519, hex */
	unsigned char token_hash[HUB_HASH_LEN];
	int64_t enrolled_ms, revoked_ms, last_seen_ms; /* 0: never */
	int64_t offset_ms;                            /* hub time - device time at the last push */
} hub_device;

/* ---- a push, checked (hub_push.c) ---- */

typedef struct hub_checkin {
	const char *id, *member, *event; /* event NULL: a drop-in */
	const char *method, *boot, *kiosk_day;
	int64_t wall_ms, mono_ms, seq, visit, flags;
} hub_checkin;

typedef enum hub_kind { HUB_REC_MEMBER, HUB_REC_EVENT, HUB_REC_REVERSAL, HUB_REC_AUDIT } hub_kind;

typedef struct hub_record {
	hub_kind kind;
	const char *id;
	/* member */
	const char *name, *phone, *code; /* phone, code may be NULL */
	int provisional;
	int64_t created_ms;
	/* event */
	const char *title;
	int64_t start_ms, end_ms;
	/* reversal */
	const char *checkin, *reason;
	/* audit */
	const char *session, *action, *detail; /* detail: JSON text */
	int64_t wall_ms, seq;
} hub_record;

typedef enum hub_status { HUB_RES_NONE, HUB_RES_OK, HUB_RES_DUPLICATE, HUB_RES_REJECTED } hub_status;

typedef struct hub_result {
	const char *id;
	hub_status status;
	const char *reason;            /* with HUB_RES_REJECTED (a static string) */
	char merged_into[HUB_ID_MAX];  /* a member record merged into this hub member */
	int attendance_duplicate;      /* a new check-in of an attendance another already holds */
} hub_result;

typedef struct hub_batch {
	hub_checkin *checkins;
	size_t ncheckins;
	hub_record *records;
	size_t nrecords;
	hub_result *results; /* ncheckins results, then nrecords: filled in by push */
	int64_t device_time_ms;
	json_t *json; /* what the strings point into */
} hub_batch;

typedef struct hub_push_stats {
	size_t ok, duplicate, rejected, attendance_duplicate;
} hub_push_stats;

/* ---- pull ---- */

typedef enum hub_set { HUB_SET_MEMBERS, HUB_SET_EVENTS, HUB_SET_LINKS, HUB_SET_COUNT } hub_set;

typedef struct hub_page {
	json_t *items; /* array, in sequence order */
	int64_t next;
	int more, reset;
} hub_page;

/* ---- admin ---- */

typedef struct hub_link_new {
	const char *venue_id, *platform, *label, *url, *event_uid, *slug; /* event_uid, slug may be NULL */
	int64_t expires_ms, cap;                                          /* 0: none */
	int is_default;
} hub_link_new;

typedef struct hub_checkin_row {
	const char *id, *device_id, *member_uid, *member_name, *event_uid, *event_title, *method, *day;
	const char *duplicate_of; /* NULL: the attendance's own check-in */
	int64_t wall_ms, offset_ms, corrected_ms, received_ms;
	int reversed;
} hub_checkin_row;

/* A reversal or staff audit record as kept (NULL: not sent, or kept before version 2). */
typedef struct hub_record_row {
	const char *id, *kind, *device_id;
	const char *session, *action, *detail; /* audit; detail is JSON text */
	const char *checkin, *reason;          /* reversal */
	int64_t wall_ms, seq, received_ms;     /* seq -1: not kept */
} hub_record_row;

typedef struct hub_store hub_store;

typedef struct hub_store_ops {
	void (*close)(hub_store *st);
	hub_err (*venue_add)(hub_store *st, const char *name, const char *tz, int64_t now_ms, hub_venue *out);
	hub_err (*venue_get)(hub_store *st, const char *id, hub_venue *out);
	hub_err (*venues_each)(hub_store *st, int (*fn)(const hub_venue *v, void *ctx), void *ctx);
	hub_err (*code_add)(hub_store *st, const char *venue_id, const unsigned char hash[HUB_HASH_LEN],
			    int64_t expires_ms, int64_t now_ms);
	/* Use a code: the device joins the code's venue (*venue). */
	hub_err (*enroll)(hub_store *st, const unsigned char code_hash[HUB_HASH_LEN], const hub_device *dev,
			  int64_t now_ms, hub_venue *venue);
	hub_err (*device_get)(hub_store *st, const char *id, hub_device *out);
	hub_err (*devices_each)(hub_store *st, const char *venue_id, int (*fn)(const hub_device *d, void *ctx),
				void *ctx);
	hub_err (*device_revoke)(hub_store *st, const char *id, int64_t now_ms);
	/* Ingest a checked batch for a device of a venue; fills b->results. */
	hub_err (*push)(hub_store *st, const hub_venue *v, const char *device_id, int64_t offset_ms,
			int64_t now_ms, hub_batch *b, hub_push_stats *stats);
	hub_err (*pull)(hub_store *st, const char *venue_id, hub_set set, int64_t since, int limit,
			const char *live_base, hub_page *out);
	/* Members from a CSV: the sink's ctx must be the store; venue set by members_begin. */
	hub_err (*members_begin)(hub_store *st, const char *venue_id);
	int (*members_row)(hub_store *st, const store_member *m, int *how, char *why, size_t len, int64_t now_ms);
	hub_err (*members_commit)(hub_store *st);
	void (*members_rollback)(hub_store *st);
	hub_err (*event_add)(hub_store *st, const char *venue_id, const char *title, int64_t start_ms,
			     int64_t end_ms, int64_t now_ms, char uid[HUB_ID_MAX]);
	hub_err (*link_add)(hub_store *st, const hub_link_new *l, int64_t now_ms, char uid[HUB_ID_MAX]);
	/* The URL a live code leads to now, counting the redirect: HUB_NOT_FOUND
	 * for an unknown slug, HUB_INVALID when none of its links is valid. */
	hub_err (*live)(hub_store *st, const char *slug, int64_t now_ms, char url[HUB_URL_MAX]);
	hub_err (*checkins_each)(hub_store *st, const char *venue_id, int (*fn)(const hub_checkin_row *r, void *ctx),
				 void *ctx);
	/* The venue's reversal and audit records, in the order received. */
	hub_err (*records_each)(hub_store *st, const char *venue_id, int (*fn)(const hub_record_row *r, void *ctx),
				void *ctx);
} hub_store_ops;

struct hub_store {
	const hub_store_ops *ops;
	char errmsg[256];
};

/* Open the store named by where: a file path (SQLite), or sqlite:PATH. */
hub_store *hub_store_open(const char *where, char *why, size_t len);
hub_store *hub_store_sqlite_open(const char *path, char *why, size_t len);

static inline const char *hub_store_errmsg(const hub_store *st)
{
	return st->errmsg;
}

const char *hub_set_name(hub_set set);
int hub_set_parse(const char *name, hub_set *out);

#endif
