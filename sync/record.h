/*
 * record — the records both programs speak of, and their limits: a member as
 * the CSV format and the kiosk's database hold it, a group link, and what an
 * import did with a row. The kiosk's store (app/store/store.h) and the hub
 * (sync/hub/hub_store.h) keep them in their own tables; the names keep the
 * store_ prefix they were born with.
 */
#ifndef TINGZI_RECORD_H
#define TINGZI_RECORD_H

#include <stdint.h>

/* Size limits for text fields, in bytes including the terminating NUL. */
#define STORE_NAME_MAX   128
#define STORE_PHONE_MAX  24
#define STORE_CODE_MAX   64
#define STORE_TIER_MAX   32
#define STORE_DATE_MAX   11 /* YYYY-MM-DD */
#define STORE_TITLE_MAX  160
#define STORE_ID_MAX     33 /* 128-bit id as 32 lowercase hex digits */
#define STORE_METHOD_MAX 16

typedef struct store_member {
	int64_t id;
	char name[STORE_NAME_MAX];
	char phone[STORE_PHONE_MAX];  /* digits only, may be empty */
	char code[STORE_CODE_MAX];    /* member code as scanned, may be empty */
	char tier[STORE_TIER_MAX];    /* may be empty */
	char expires[STORE_DATE_MAX]; /* YYYY-MM-DD or empty */
	int provisional;              /* registered as a walk-in at the kiosk */
	char uid[STORE_ID_MAX];       /* the member's id on the wire (read only) */
} store_member;

/* What an import did with a row. */
enum { STORE_IMPORT_ADDED = 0, STORE_IMPORT_UPDATED = 1, STORE_IMPORT_UNCHANGED = 2 }; /* *updated */

/* ---- group links ---- */
#define STORE_URL_MAX      1025 /* at most 1024 bytes */
#define STORE_PLATFORM_MAX 16

typedef struct store_link {
	int64_t id;
	char platform[STORE_PLATFORM_MAX]; /* wechat, line, telegram, discord, url */
	char label[STORE_TITLE_MAX];
	char url[STORE_URL_MAX];
	int64_t expires_ms;           /* Unix ms; 0: does not expire */
	int64_t member_cap;           /* 0: no cap */
	int64_t event_id;             /* 0: the whole venue */
	int is_default;               /* the venue default link */
	char live_url[STORE_URL_MAX]; /* the hub's /j/SLUG address for it, or "" */
} store_link;

#endif
