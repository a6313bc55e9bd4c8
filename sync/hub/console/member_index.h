/*
 * member_index — the console's member search: the kiosk's own index
 * (sync/roster/roster.h), one per venue, kept in memory between requests.
 *
 * An index is built from the store's members_each (the roster id is the
 * member's rid) and kept with the venue's HUB_SET_MEMBERS sequence it was
 * built at. Every look-up asks the store for that sequence (one small query)
 * and rebuilds when it has moved, so an edit, a merge, an import or a
 * kiosk's push is seen at the next search. At most MEMBER_INDEX_VENUES
 * venues are kept; the one used least recently makes room.
 *
 * Not thread-safe: the console runs one page at a time under the store's
 * lock, which is the only lock this needs.
 */
#ifndef TINGZI_HUB_MEMBER_INDEX_H
#define TINGZI_HUB_MEMBER_INDEX_H

#include "sync/hub/hub_store.h"
#include "sync/roster/roster.h"

#include <stddef.h>
#include <stdint.h>

#define MEMBER_INDEX_VENUES 8  /* venues kept at once */
#define MEMBER_INDEX_RECENT 50 /* the most recently changed members, for a page without a search */

typedef struct member_index {
	const roster *r;
	size_t count;                        /* current members of the venue */
	int64_t recent[MEMBER_INDEX_RECENT]; /* rids, the most recently updated first */
	size_t nrecent;
	int64_t seq; /* the venue's members sequence the index was built at */
} member_index;

/*
 * The venue's index, current as of now. HUB_OK with *out filled in (valid
 * until the next call to member_index_get or member_index_free_all), or a
 * store error (the store's errmsg says why), or HUB_ERR when out of memory.
 */
hub_err member_index_get(hub_store *st, const char *venue_id, member_index *out);

/* What a search found: rids in the order to show, and how many match in all. */
typedef enum member_match {
	MEMBER_MATCH_NONE,
	MEMBER_MATCH_CODE,
	MEMBER_MATCH_PHONE,
	MEMBER_MATCH_NAME
} member_match;

typedef struct member_found {
	const roster_entry *e[64];
	size_t n;     /* kept in e[] */
	size_t total; /* that match (>= n) */
	member_match by;
} member_found;

/*
 * Search as the kiosk does: an exact member code first; then, for a query of
 * 4 or more digits (spaces, dashes, dots and brackets ignored, one leading +),
 * the members whose phone ends with them; otherwise names by pinyin,
 * initials or Latin letters. At most max (<= 64) kept, in the kiosk's order.
 */
void member_index_search(const member_index *ix, const char *query, size_t max, member_found *out);

/* Drop every index (at shutdown). */
void member_index_free_all(void);

#endif
