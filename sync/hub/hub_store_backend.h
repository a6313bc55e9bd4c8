/*
 * hub_store_backend — what the two backends (hub_store_sqlite*.c and
 * hub_store_pg*.c) share beyond the interface: a member's row as they read
 * it, and the rules they both apply to it, written once. Not for the
 * server's or the console's code.
 */
#ifndef TINGZI_HUB_STORE_BACKEND_H
#define TINGZI_HUB_STORE_BACKEND_H

#include "sync/hub/hub_store.h"

/* A member's row as a backend reads it. */
typedef struct hub_mrow {
	int64_t rid;
	char uid[HUB_ID_MAX], venue[HUB_ID_MAX], merged[HUB_ID_MAX];
	char origin[HUB_ID_MAX]; /* the device that sent it ("" for the hub's own); read by uid only */
	int deleted;
	char name[STORE_NAME_MAX], phone[STORE_PHONE_MAX], code[STORE_CODE_MAX], tier[STORE_TIER_MAX];
	char expires[16];
} hub_mrow;

typedef enum hub_import_step {
	HUB_IMPORT_ADD,	      /* a new member */
	HUB_IMPORT_UPDATE,    /* *found gets the row's values (phone and code: *phone, *code) */
	HUB_IMPORT_UNCHANGED, /* *found has them already */
	HUB_IMPORT_REFUSED,   /* the row names two members, or a phone of another: why says so */
} hub_import_step;

/*
 * A members CSV row m against the venue's current members with its code
 * (by_code, or NULL) and its phone (by_phone, or NULL): which member it is
 * (*found) and what the import does with it. A row without a phone or code
 * keeps the member's.
 */
hub_import_step hub_import_decide(const store_member *m, const hub_mrow *by_code, const hub_mrow *by_phone,
				  const hub_mrow **found, const char **phone, const char **code, char *why, size_t len);

#endif
