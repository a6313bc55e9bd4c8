/*
 * hub_store — everything tingzi-hub keeps, behind one interface.
 *
 * The server and the admin commands speak only through the operations
 * below, in terms of C values: no SQL, no SQLite types and no SQLite JSON
 * functions cross this line. Two backends fill in a hub_store_ops:
 * hub_store_sqlite*.c, one SQLite file in WAL mode (the default, for one
 * organizer's venues), and hub_store_pg*.c, a PostgreSQL database several
 * hub processes share.
 *
 * Every operation that changes data is one transaction: it happens whole or
 * not at all. Operations return HUB_OK or a negative hub_err; the sentence
 * for a person is in hub_store_errmsg().
 *
 * A store is used by one thread at a time: a server holds a pool of them
 * (hub_pool.h): one for SQLite, one per connection for PostgreSQL.
 */
#ifndef TINGZI_HUB_STORE_H
#define TINGZI_HUB_STORE_H

#include "sync/hub/hub_store_dash.h"
#include "sync/members_csv.h"
#include "sync/pass.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
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
	HUB_DOWN = -7,          /* the database server cannot be reached (PostgreSQL): try again later */
} hub_err;

/* webhooks' part of the interface, which speaks of hub_err */
#include "sync/hub/hub_store_webhook.h"

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


/* ---- the organizer console (sync/hub/console/) ---- */

#define HUB_EMAIL_MAX 255
#define HUB_PWHASH_MAX 128 /* crypto_pwhash_STRBYTES */

typedef enum hub_role { HUB_ROLE_NONE = 0, HUB_ROLE_STAFF = 1, HUB_ROLE_ORGANIZER = 2, HUB_ROLE_OWNER = 3 } hub_role;

const char *hub_role_name(hub_role r); /* "owner", "organizer", "staff" */
int hub_role_parse(const char *name, hub_role *out);

typedef struct hub_user {
	char id[HUB_ID_MAX];
	char email[HUB_EMAIL_MAX + 1]; /* lowercased */
	hub_role role;
	char pwhash[HUB_PWHASH_MAX]; /* Argon2id string; "" until set up */
	unsigned char setup_hash[HUB_HASH_LEN]; /* SHA-256 of the one-time set-up token */
	int64_t setup_expires_ms;		/* 0: no set-up token */
	int64_t created_ms, disabled_ms, password_ms; /* 0: never */
} hub_user;

/* A console session: only the SHA-256 of its id is kept. */
typedef struct hub_session {
	unsigned char hash[HUB_HASH_LEN];
	char user_id[HUB_ID_MAX];
	int64_t created_ms, seen_ms;
} hub_session;

/* One change made in the console, as kept. */
typedef struct hub_audit_row {
	int64_t at_ms;
	const char *user_email, *venue_id, *action, *detail; /* venue_id "" for none; detail JSON text */
} hub_audit_row;

/* A member as the console shows it. */
typedef struct hub_member {
	int64_t rid; /* the store's row number: stable, small (the search index's key) */
	char uid[HUB_ID_MAX], venue_id[HUB_ID_MAX], merged_into[HUB_ID_MAX];
	char name[STORE_NAME_MAX], phone[STORE_PHONE_MAX], code[STORE_CODE_MAX], tier[STORE_TIER_MAX];
	char expires[16]; /* YYYY-MM-DD or "" */
	int provisional, deleted;
	int64_t created_ms, updated_ms;
	int64_t visits;        /* attendances (not reversed, not duplicates) */
	int64_t last_visit_ms; /* 0: never */
} hub_member;

typedef struct hub_event {
	char uid[HUB_ID_MAX], venue_id[HUB_ID_MAX];
	char title[STORE_TITLE_MAX];
	int64_t start_ms, end_ms, created_ms;
	int cancelled;
	int64_t attendance; /* check-ins counted (not reversed, not duplicates) */
} hub_event;

typedef struct hub_event_tally {
	int64_t counted;		/* not reversed, not duplicates */
	int64_t rows, reversed, duplicates; /* every check-in of the event, and of them undone and duplicates */
} hub_event_tally;

typedef struct hub_link {
	char uid[HUB_ID_MAX], venue_id[HUB_ID_MAX], event_uid[HUB_ID_MAX];
	char platform[16], label[STORE_TITLE_MAX], url[HUB_URL_MAX], slug[HUB_SLUG_MAX];
	int64_t expires_ms, cap, redirects, created_ms; /* expires_ms, cap 0: none */
	int is_default, removed;
} hub_link;

/* What a kiosk said of its queue at its last push (X-Tingzi-Queue). */
typedef struct hub_queue_state {
	int64_t pending, dead, at_ms; /* at_ms 0: never said */
} hub_queue_state;

typedef struct hub_store hub_store;

/* ---- member passes (sync/pass.h is the token; sync/hub/hub_pass.h makes them) ---- */

#define HUB_SEALED_MAX 128  /* bytes of a sealed signing secret: nonce, ciphertext and tag */
#define HUB_TERMS_MAX  4096 /* bytes of a venue's sign-up terms */

/* One of a venue's signing keys. The secret is kept sealed (hub_pass.c): the store never sees it. */
typedef struct hub_pass_key {
	unsigned kid; /* 1..PASS_KEY_MAX */
	unsigned char public_key[PASS_PUBLIC_BYTES];
	unsigned char sealed[HUB_SEALED_MAX];
	size_t sealed_len;
	int64_t created_ms, retired_ms; /* retired_ms 0: the key that signs */
} hub_pass_key;

/* A venue's sign-up page (/m/SLUG). */
typedef struct hub_signup {
	char venue_id[HUB_ID_MAX];
	char slug[HUB_SLUG_MAX]; /* [a-z0-9-], 3 to 32 */
	int enabled;
	char terms[HUB_TERMS_MAX];
	int64_t updated_ms;
} hub_signup;

/* A pass as issued: its fields, its text and the tier's name. */
typedef struct hub_pass {
	char venue_id[HUB_ID_MAX], member_uid[HUB_ID_MAX];
	pass_fields f;
	char text[PASS_TEXT_MAX + 1];
	char tier[STORE_TIER_MAX]; /* the member's tier ("" none), whether or not the pass could carry it */
	char expires[16];	   /* the member's expiry, YYYY-MM-DD or "" */
	int64_t issued_ms;
} hub_pass;

/* A member's pass number and what became of their passes. */
typedef struct hub_pass_state {
	uint32_t number;	     /* 0: never had a pass */
	uint32_t last_issued_min;    /* the newest pass's issued minute */
	uint32_t revoked_before_min; /* passes issued at or before it are revoked (0: none) */
	int64_t addresses;	     /* private addresses that still work */
} hub_pass_state;

/*
 * What to issue a pass for: an existing member (member_uid), or a new member
 * signing up (member_uid NULL; name and phone, checked already). The store
 * gives the member a pass number the first time, the tier its index, the
 * issued minute (after any revocation), writes the canonical code (pass_canonical_code())
 * as the member's code when they have none (a kiosk that meets the pass
 * pushes the member with that code, and the hub merges it into this one),
 * and calls sign, inside its transaction, with the venue's signing key.
 */
typedef struct hub_pass_request {
	const char *venue_id;
	const char *member_uid;
	const char *name, *phone;
	const unsigned char *address_hash; /* SHA-256 of a new private address's token, or NULL */
	int64_t now_ms;
	/* f complete: writes the pass's text; 0, or -1 with why (nothing is kept). */
	int (*sign)(void *ctx, const char *venue_id, const hub_pass_key *key, const pass_fields *f,
		    char text[PASS_TEXT_MAX + 1], char *why, size_t len);
	void *ctx;
} hub_pass_request;

/*
 * The passes' operations, a table of their own (hub_store_ops.pass). Errors
 * as the rest: HUB_NOT_FOUND for no such venue, member, key or address;
 * errmsg says what a person can do.
 */
typedef struct hub_pass_ops {
	/* The venue's keys, newest first. */
	hub_err (*keys_each)(hub_store *st, const char *venue_id, int (*fn)(const hub_pass_key *k, void *ctx),
			     void *ctx);
	/* k becomes the signing key (k->kid: the venue's last plus one) and every other one is retired.
	 * HUB_EXISTS: that kid is taken (a rotation came first); HUB_INVALID: kid past PASS_KEY_MAX. */
	hub_err (*key_add)(hub_store *st, const char *venue_id, const hub_pass_key *k, int64_t now_ms);
	/* Issue (see hub_pass_request). HUB_NOT_FOUND: no such member, or the venue has no key (errmsg
	 * says to rotate); HUB_EXISTS: a sign-up's phone is a member's already (nothing is said of whom);
	 * HUB_INVALID: the member's code cannot be written in a pass, or they were merged or deleted. */
	hub_err (*issue)(hub_store *st, const hub_pass_request *rq, hub_pass *out);
	/* Every pass of the member issued until now (or their last pass, if later) is revoked, and every
	 * private address of theirs stops working. HUB_NOT_FOUND: they never had a pass. */
	hub_err (*revoke)(hub_store *st, const char *member_uid, int64_t now_ms, hub_pass_state *out);
	hub_err (*state)(hub_store *st, const char *member_uid, hub_pass_state *out);
	/* The pass a private address shows: HUB_NOT_FOUND when unknown or revoked. */
	hub_err (*address_get)(hub_store *st, const unsigned char hash[HUB_HASH_LEN], hub_pass *out);
	/* A venue's current member by code: their uid. */
	hub_err (*member_by_code)(hub_store *st, const char *venue_id, const char *code, char uid[HUB_ID_MAX]);
	/* HUB_EXISTS: another venue has the slug. */
	hub_err (*signup_set)(hub_store *st, const hub_signup *s);
	/* By venue (slug NULL) or by slug (venue_id NULL). */
	hub_err (*signup_get)(hub_store *st, const char *venue_id, const char *slug, hub_signup *out);
	/* The data set "passes" (sync/PROTOCOL.md), paged by its own sequence as the others are. */
	hub_err (*pull)(hub_store *st, const char *venue_id, int64_t since, int limit, hub_page *out);
} hub_pass_ops;

/* the open API's part of the interface (hub_store_ops.api) */
#include "sync/hub/hub_store_api.h"

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
	/* HUB_EXISTS: another venue uses the slug (as its live code or under one of its links). */
	hub_err (*link_add)(hub_store *st, const hub_link_new *l, int64_t now_ms, char uid[HUB_ID_MAX]);
	/* The URL a live code leads to now, counting the redirect: HUB_NOT_FOUND
	 * for an unknown slug, HUB_INVALID when none of its links is valid. */
	/* ref: the member code a personal invite carries (?ref=CODE), or NULL; each redirect, each
	 * miss and each ref is counted per day for the dashboard. */
	hub_err (*live)(hub_store *st, const char *slug, const char *ref, int64_t now_ms, char url[HUB_URL_MAX]);
	hub_err (*checkins_each)(hub_store *st, const char *venue_id, int (*fn)(const hub_checkin_row *r, void *ctx),
				 void *ctx);
	/* The venue's reversal and audit records, in the order received. */
	hub_err (*records_each)(hub_store *st, const char *venue_id, int (*fn)(const hub_record_row *r, void *ctx),
				void *ctx);

	/* ---- the console ---- */
	/* Accounts. venue_id NULL: none (an owner sees every venue). HUB_EXISTS: the email is taken. */
	hub_err (*user_add)(hub_store *st, const char *email, hub_role role, const char *venue_id,
			    const unsigned char setup_hash[HUB_HASH_LEN], int64_t setup_expires_ms, int64_t now_ms,
			    hub_user *out);
	/* By id or by email (case-insensitive). */
	hub_err (*user_get)(hub_store *st, const char *id_or_email, hub_user *out);
	hub_err (*users_each)(hub_store *st, int (*fn)(const hub_user *u, void *ctx), void *ctx);
	/* The venues a user may see (an owner: every venue, whatever this lists). */
	hub_err (*user_venues_each)(hub_store *st, const char *user_id, int (*fn)(const char *venue_id, void *ctx),
				    void *ctx);
	hub_err (*user_venue_add)(hub_store *st, const char *user_id, const char *venue_id);
	/* 1 when the user may see the venue (their role aside), 0 not, or a negative hub_err. */
	int (*user_may)(hub_store *st, const hub_user *u, const char *venue_id);
	/* A new one-time set-up token (users reset): every session of the user ends. */
	hub_err (*user_set_setup)(hub_store *st, const char *user_id, const unsigned char setup_hash[HUB_HASH_LEN],
				  int64_t expires_ms, int64_t now_ms);
	/* The user whose unexpired set-up token hashes to setup_hash. */
	hub_err (*user_by_setup)(hub_store *st, const unsigned char setup_hash[HUB_HASH_LEN], int64_t now_ms,
				 hub_user *out);
	/* Set the password (an Argon2id string): the set-up token is used up and every session ends. */
	hub_err (*user_set_password)(hub_store *st, const char *user_id, const char *pwhash, int64_t now_ms);
	/* Disable (or enable again with disabled 0): disabling ends every session. */
	hub_err (*user_disable)(hub_store *st, const char *user_id, int disabled, int64_t now_ms);

	/* Failed logins, kept in the store: key names what is counted ("a:EMAIL|ADDRESS", "ip:ADDRESS"). */
	hub_err (*login_failed)(hub_store *st, const char *key, int64_t now_ms);
	/* How many failures of key since since_ms. */
	hub_err (*login_failures)(hub_store *st, const char *key, int64_t since_ms, int64_t *count);
	hub_err (*login_clear)(hub_store *st, const char *key);

	/* Also deletes sessions not seen for 30 days (ended long before, by being idle). */
	hub_err (*session_add)(hub_store *st, const hub_session *s);
	/* The session and its user, when the session was seen after idle_after_ms
	 * and its user is not disabled: seen_ms becomes now_ms. HUB_NOT_FOUND otherwise. */
	hub_err (*session_get)(hub_store *st, const unsigned char hash[HUB_HASH_LEN], int64_t idle_after_ms,
			       int64_t now_ms, hub_session *out, hub_user *user);
	hub_err (*session_end)(hub_store *st, const unsigned char hash[HUB_HASH_LEN]);
	hub_err (*sessions_end_user)(hub_store *st, const char *user_id);

	/* The console's audit log. venue_id NULL: a change to no venue (accounts). */
	hub_err (*audit_add)(hub_store *st, const char *user_id, const char *venue_id, const char *action,
			     const char *detail_json, int64_t now_ms);
	/* Newest first, at most limit; venue_id NULL: every entry. */
	hub_err (*audit_each)(hub_store *st, const char *venue_id, int limit,
			      int (*fn)(const hub_audit_row *r, void *ctx), void *ctx);

	/* A data set's last sequence number in a venue (0: nothing yet): what a cached index is checked against. */
	hub_err (*set_seq)(hub_store *st, const char *venue_id, hub_set set, int64_t *out);
	/* The venue's current members (not deleted, not merged), in no set order, visits not filled in. */
	hub_err (*members_each)(hub_store *st, const char *venue_id, int (*fn)(const hub_member *m, void *ctx),
				void *ctx);
	/* One member by uid (merged and deleted ones too), with visits and last visit. */
	hub_err (*member_get)(hub_store *st, const char *uid, hub_member *out);
	hub_err (*member_by_rid)(hub_store *st, int64_t rid, hub_member *out);
	/* Tier, expiry ("" or YYYY-MM-DD) and code ("" for none). HUB_EXISTS: another member has the code. */
	hub_err (*member_update)(hub_store *st, const char *uid, const char *tier, const char *expires,
				 const char *code, int64_t now_ms);
	/* The hub's merge rule: gone becomes merged into keep; its check-ins count for keep (a second
	 * attendance of the same event or drop-in day becomes a duplicate); keep takes gone's phone and
	 * code where it has none. Both must be current members of one venue (HUB_INVALID otherwise). */
	hub_err (*member_merge)(hub_store *st, const char *keep_uid, const char *gone_uid, int64_t now_ms);
	/* A member's check-ins, newest first (reversed and duplicates too). */
	hub_err (*member_checkins_each)(hub_store *st, const char *uid, int (*fn)(const hub_checkin_row *r, void *ctx),
					void *ctx);

	/* Events of a venue, newest start first, cancelled too, with attendance counted. */
	hub_err (*events_each)(hub_store *st, const char *venue_id, int (*fn)(const hub_event *e, void *ctx),
			       void *ctx);
	hub_err (*event_get)(hub_store *st, const char *uid, hub_event *out);
	hub_err (*event_update)(hub_store *st, const char *uid, const char *title, int64_t start_ms, int64_t end_ms,
				int64_t now_ms);
	/* Cancelled: kiosks drop it at their next pull; its check-ins stay. */
	hub_err (*event_cancel)(hub_store *st, const char *uid, int64_t now_ms);
	/* The event's check-ins in the order made (reversed and duplicates too). */
	hub_err (*event_checkins_each)(hub_store *st, const char *uid, int (*fn)(const hub_checkin_row *r, void *ctx),
				       void *ctx);
	/* An event's check-ins counted from the index alone (what a page polling it every few seconds asks). */
	hub_err (*event_count)(hub_store *st, const char *uid, hub_event_tally *out);

	/* Links of a venue, newest first, removed ones too. */
	hub_err (*links_each)(hub_store *st, const char *venue_id, int (*fn)(const hub_link *l, void *ctx), void *ctx);
	hub_err (*link_get)(hub_store *st, const char *uid, hub_link *out);
	/* Expire now (expires_ms = now_ms) or remove; kiosks see it at their next pull. */
	hub_err (*link_expire)(hub_store *st, const char *uid, int64_t now_ms);
	hub_err (*link_remove)(hub_store *st, const char *uid, int64_t now_ms);

	/* What a kiosk said of its queue at a push. */
	hub_err (*device_queue_set)(hub_store *st, const char *device_id, const hub_queue_state *q);
	hub_err (*device_queue_get)(hub_store *st, const char *device_id, hub_queue_state *out);
	/* Records of a device the hub refused (kept by the kiosk as dead letters): how many. */
	hub_err (*device_rejected)(hub_store *st, const char *device_id, int64_t *count);

	/* ---- the dashboard (hub_store_dash.h) ---- */
	/* Bring what the dashboard reads up to date with every change since the last call: a venue's, or
	 * every venue's (NULL). Cheap when nothing changed. */
	hub_err (*dash_refresh)(hub_store *st, const char *venue_id);
	/* out->weeks is malloc'd: free() it. */
	hub_err (*dash_attendance)(hub_store *st, const hub_period *p, hub_dash_attendance *out);
	/* The events that started in the period, newest first. */
	hub_err (*dash_events)(hub_store *st, const hub_period *p, int (*fn)(const hub_dash_event *e, void *ctx),
			       void *ctx);
	hub_err (*dash_funnel)(hub_store *st, const hub_period *p, hub_dash_funnel *out);
	/* Free with hub_dash_cohorts_free(). */
	hub_err (*dash_cohorts)(hub_store *st, const hub_period *p, hub_dash_cohorts *out);
	/* The members behind a number (see hub_dash_list for arg and n): drifting ones by last visit, newest
	 * first, the others by name; at most limit (0: all) given to fn, how many in all in *total. */
	hub_err (*dash_members)(hub_store *st, const hub_period *p, hub_dash_list list, const char *arg, int64_t n,
				int limit, int64_t *total, int (*fn)(const hub_dash_member *m, void *ctx), void *ctx);
	/* Members who brought others, most in the period first (ties by name); at most limit. */
	hub_err (*dash_referrers)(hub_store *st, const hub_period *p, int limit,
				  int (*fn)(const hub_dash_referrer *r, void *ctx), void *ctx);
	/* Everyone brought by member_uid, and whom they brought, depth first, down to max_depth. */
	hub_err (*dash_referral_tree)(hub_store *st, const char *member_uid, int max_depth,
				      int (*fn)(const hub_dash_referral *r, void *ctx), void *ctx);
	/* Who brought member_uid: fn is called once (r->referrer_uid, r->day, r->via) when someone did, not at
	 * all when nobody did. */
	hub_err (*referral_of)(hub_store *st, const char *member_uid, int (*fn)(const hub_dash_referral *r, void *ctx),
			       void *ctx);
	/* Live codes' redirects per slug and day in the period, oldest day first. */
	hub_err (*dash_redirects)(hub_store *st, const hub_period *p, int (*fn)(const hub_dash_redirects *r, void *ctx),
				  void *ctx);
	/* Links that reached their cap, or expired in the period while their live code still led to them. */
	hub_err (*dash_links)(hub_store *st, const hub_period *p, int (*fn)(const hub_dash_link *l, void *ctx),
			      void *ctx);
	hub_err (*dash_groups)(hub_store *st, const hub_period *p, hub_dash_groups *out);
	/* Current members by tier (most first), and memberships ending soon or ended while still coming. */
	hub_err (*dash_tiers)(hub_store *st, const hub_period *p, int (*fn)(const hub_dash_tier *t, void *ctx),
			      void *ctx, hub_dash_tiers *out);
	/* member was brought by referrer (both current members of one venue): credited once (a second
	 * referral of the same member is HUB_EXISTS), never to themselves (HUB_INVALID). via: "signup",
	 * "console". at_ms: when it counts (the first visit or the sign-up). */
	hub_err (*referral_add)(hub_store *st, const char *member_uid, const char *referrer_uid, const char *via,
				int64_t at_ms);

	/* ---- member passes ---- */
	const hub_pass_ops *pass;
	/* ---- webhooks (hub_store_webhook.h) ---- */
	const hub_webhook_ops *webhook;
	/* ---- the open API (hub_store_api.h) ---- */
	const hub_api_ops *api;
} hub_store_ops;

struct hub_store {
	const hub_store_ops *ops;
	char errmsg[256];
};

/*
 * Open the store named by where: a PostgreSQL connection string
 * (postgresql://... or postgres://..., or libpq's key=value form with a
 * dbname=), or a SQLite file (a path, or sqlite:PATH).
 */
hub_store *hub_store_open(const char *where, char *why, size_t len);
hub_store *hub_store_sqlite_open(const char *path, char *why, size_t len);
hub_store *hub_store_pg_open(const char *conninfo, char *why, size_t len);
/* 1 when where names a PostgreSQL database. */
int hub_store_is_pg(const char *where);
/*
 * A SQLite hub's data into to, a PostgreSQL store with no rows yet: all or
 * nothing, every table counted on both sides. A line per table to progress
 * (may be NULL). 0, or -1 with why.
 */
int hub_store_pg_migrate(const char *sqlite_path, hub_store *to, FILE *progress, char *why, size_t len);

static inline const char *hub_store_errmsg(const hub_store *st)
{
	return st->errmsg;
}

void hub_dash_cohorts_free(hub_dash_cohorts *c);

const char *hub_set_name(hub_set set);
int hub_set_parse(const char *name, hub_set *out);

#endif
