/*
 * wire — the kiosk's side of the protocol's JSON (sync/PROTOCOL.md): the
 * push body made from outbox records, and every reply of the hub checked
 * field by field before anything of it reaches the database. A reply that
 * is not exactly what the protocol says is refused whole, with a sentence.
 */
#ifndef TINGZI_WIRE_H
#define TINGZI_WIRE_H

#include "app/store/store.h"

#include <stddef.h>
#include <stdint.h>

#define WIRE_PROTOCOL     1
#define WIRE_MAX_REPLY    (32u << 20) /* bytes of a reply body, decompressed */
#define WIRE_TOKEN_MAX    160
#define WIRE_VENUE_ID_MAX STORE_ID_MAX

/* One outbox record to push (see store_outbox_rec). */
typedef struct wire_rec {
	char kind[16];
	char id[STORE_ID_MAX];
	char *body; /* JSON text, owned by the caller; NULL for a check-in given by its fields */
	int cols;   /* a check-in's fields below are set */
	char member[STORE_ID_MAX], event[STORE_ID_MAX], key[48], method[16], boot[48];
	int64_t wall_ms, mono_ms, seq, visit;
	int expired;
	int join_qr;
} wire_rec;

/* Fill w from an outbox row (a check-in by its fields, others by a copy of
 * their body). 0, or -1 when out of memory. Free with wire_rec_clear(). */
int wire_rec_from(wire_rec *w, const store_outbox_rec *rec);
void wire_rec_clear(wire_rec *w);

/*
 * The push request body for n records (check-ins by column, the rest as
 * records). Returns malloc'd JSON text, or NULL with a sentence in why when
 * an outbox body is damaged (its id in why).
 */
char *wire_push_body(const char *device_id, int64_t device_time_ms, const wire_rec *recs, size_t n, char *why,
		     size_t len);
/*
 * The same for as many of recs[0..n) as one batch holds: a batch names at
 * most 64 distinct events and 16 distinct boots among its check-ins, and
 * closes before the first record that would need one more. *used says how
 * many records the body carries (at least 1 when n > 0); the rest go in the
 * next batch, so a queue always drains. wire_push_body() is this with all n
 * required to fit (NULL and a sentence when they do not).
 */
char *wire_push_body_fit(const char *device_id, int64_t device_time_ms, const wire_rec *recs, size_t n,
			 size_t *used, char *why, size_t len);

/*
 * Put device_time_ms in a body made by wire_push_body_fit() (in place): 0,
 * or -1 when the new time has another number of digits than the one there
 * (then the body is left as it was).
 */
int wire_push_restamp(char *body, int64_t device_time_ms);
/* The bytes of such a body up to the end of its device_time_ms, all that restamping changes (0: none). */
size_t wire_push_time_end(const char *body);

/*
 * The push reply: *acks (malloc'd, *n entries) and the hub's clock offset.
 * With "others": "ok" the reply lists only what was not plainly stored, and
 * every other record of sent[0..nsent) is acknowledged ok.
 * Returns 0, or -1 with a sentence in why.
 */
int wire_push_reply(const char *text, size_t len, const wire_rec *sent, size_t nsent, store_ack **acks, size_t *n,
		    int64_t *offset_ms, char *why, size_t whylen);

/* A pull page, checked and rewritten as the canonical items store_pull_* take. */
typedef struct wire_page {
	char *items; /* malloc'd JSON array text */
	size_t count;
	int64_t next;
	int more;
	int reset;
} wire_page;

int wire_pull_reply(const char *text, size_t len, store_set set, int64_t since, wire_page *page, char *why,
		    size_t whylen);
void wire_page_free(wire_page *page);
/*
 * A guess at a pull reply's "next" and "more" without parsing it: the values
 * of the last keys of those names in the text. 0 when both were found. Only
 * a hint to ask for the next page early; wire_pull_reply() says what they
 * are, and a guess it does not confirm is thrown away.
 */
int wire_pull_peek(const char *text, size_t len, int64_t *next, int *more);

/* The enrolment request body (malloc'd). */
char *wire_enroll_body(const char *code, const char *device_id, const char *name, const char *public_key_hex);

typedef struct wire_enrolled {
	char device_id[STORE_ID_MAX];
	char token[WIRE_TOKEN_MAX];
	char venue_id[WIRE_VENUE_ID_MAX];
	char venue_name[STORE_TITLE_MAX];
	int64_t server_time_ms;
} wire_enrolled;

int wire_enroll_reply(const char *text, size_t len, wire_enrolled *out, char *why, size_t whylen);

/* The "error" and "message" of an error reply, when it has them ("" otherwise). */
void wire_error_reply(const char *text, size_t len, char *code, size_t codelen, char *msg, size_t msglen);

/* 1 when s is exactly 32 lowercase hex digits. */
int wire_is_id(const char *s);

#endif
