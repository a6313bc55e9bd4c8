/*
 * hub_store_api — what the store keeps and answers for the open API
 * (/api/v1/, sync/hub/hub_api.c): its tokens, and the few reads and writes
 * the other operations do not already give. Part of hub_store.h's
 * interface (hub_store_ops.api); hub_store_sqlite_api.c and
 * hub_store_pg_api.c fill it.
 *
 * A token is kept as the SHA-256 of its text, with the device id its
 * check-ins are stored under: an API check-in goes through the same push as
 * a kiosk's (hub_store_ops.push) under that device id, so it is kept once
 * by id and counted like any other. The device id is no row of devices, so
 * the Kiosks page and `devices list` never show a token.
 */
#ifndef TINGZI_HUB_STORE_API_H
#define TINGZI_HUB_STORE_API_H

#include <stdint.h>

/* hub_store.h includes this after its hub_err, hub_member and hub_checkin_row. */

#define HUB_API_NAME_MAX 65 /* a token's name: 1 to 64 bytes */

typedef struct hub_api_token {
	char id[33], venue_id[33], device_id[33];
	char name[HUB_API_NAME_MAX];
	char created_by[33]; /* a console user's id, or "" (the command line) */
	int write;	     /* scope: 1 write (and read), 0 read */
	unsigned char hash[32];
	int64_t created_ms, revoked_ms, last_used_ms; /* 0: never */
} hub_api_token;

/* A member as the API creates or changes it: every field given (name 1..127 bytes; "" for none). */
typedef struct hub_api_member {
	const char *venue_id, *uid; /* uid: the member's (an update), or a new member's chosen uid, or NULL */
	const char *name, *phone, *code, *tier, *expires;
} hub_api_member;

/* A check-in by id, as the API compares a retried one. */
typedef struct hub_api_checkin {
	char id[33], venue_id[33], device_id[33], member_sent[33], member_uid[33], event_uid[33];
	char method[16], day[11], duplicate_of[33]; /* event_uid, duplicate_of "" for none */
	int64_t wall_ms, corrected_ms;
	int reversed;
} hub_api_checkin;

/* Which check-ins a page reads: the venue's, after a row number, optionally of one event and a period. */
typedef struct hub_api_checkins_query {
	const char *venue_id;
	const char *event_uid; /* NULL: any */
	int64_t from_ms, to_ms; /* corrected time in [from_ms, to_ms); 0: open at that end */
	int64_t after;		/* the cursor: rows numbered after it */
	int limit;
} hub_api_checkins_query;

typedef struct hub_api_ops {
	/* t whole (hash, device_id and id made by the caller). HUB_EXISTS: the venue has a token of that name. */
	hub_err (*token_add)(hub_store *st, const hub_api_token *t);
	/* By the hash of its text, revoked or not (the caller says which answer a revoked one gets). */
	hub_err (*token_by_hash)(hub_store *st, const unsigned char hash[32], hub_api_token *out);
	/* A venue's token by id or by name. */
	hub_err (*token_get)(hub_store *st, const char *venue_id, const char *id_or_name, hub_api_token *out);
	/* A venue's tokens (NULL: every venue's), newest first, revoked ones too. */
	hub_err (*tokens_each)(hub_store *st, const char *venue_id, int (*fn)(const hub_api_token *t, void *ctx),
			       void *ctx);
	/* From now on the token opens nothing. HUB_NOT_FOUND: no such token, or revoked already. */
	hub_err (*token_revoke)(hub_store *st, const char *id, int64_t now_ms);
	/* When the token was last used (written at most about once a minute by the caller). */
	hub_err (*token_used)(hub_store *st, const char *id, int64_t now_ms);

	/*
	 * The venue's current members, in the order they were added, after row number after (0: from the
	 * first); with query, only those whose name holds it, whose code is it, or whose phone ends with it.
	 * fn gets each (visits not filled in); at most limit.
	 */
	hub_err (*members_page)(hub_store *st, const char *venue_id, const char *query, int64_t after, int limit,
				int (*fn)(const hub_member *m, void *ctx), void *ctx);
	/* A new member (m->uid chosen, or NULL: one is made into uid). HUB_EXISTS with *taken "uid", "phone" or
	 * "code": a member holds it (for "uid", whatever their venue). */
	hub_err (*member_add)(hub_store *st, const hub_api_member *m, int64_t now_ms, char uid[33],
			      const char **taken);
	/* m->uid's name, phone, code, tier and expiry become m's (a current member; HUB_INVALID if merged or
	 * deleted). HUB_EXISTS with *taken "phone" or "code". Kiosks pull the change. */
	hub_err (*member_edit)(hub_store *st, const hub_api_member *m, int64_t now_ms, const char **taken);

	/* One check-in by its id, whatever its venue. */
	hub_err (*checkin_get)(hub_store *st, const char *id, hub_api_checkin *out);
	/*
	 * Check-ins of q, by row number, at most q->limit; fn gets each with its row number (the next
	 * cursor). A row is read only once every row numbered before it is committed or never will be: a
	 * cursor never passes a check-in that commits late (PostgreSQL numbers rows before they commit).
	 */
	hub_err (*checkins_page)(hub_store *st, const hub_api_checkins_query *q,
				 int (*fn)(const hub_checkin_row *r, int64_t rn, void *ctx), void *ctx);
} hub_api_ops;

/* The backends' tables. */
extern const hub_api_ops hsq_api_ops, hpg_api_ops;

#endif
