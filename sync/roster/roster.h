/*
 * roster — the in-memory member index the kiosk searches on every keystroke.
 *
 * Built once from the store (roster_add() for each member, then
 * roster_finish()), then read-only. Lookups by member code, by the last digits
 * of a phone, and by name: Latin letters match a Chinese name by full pinyin
 * and by initials, from the start of the name ("zhangsan", "zhangs", "zs" all
 * find 张三 and 張三), through every reading of polyphonic characters; Latin
 * names match case-insensitively, ignoring spaces. Every lookup is a binary
 * search in sorted arrays: no scan of the whole roster per keystroke.
 *
 * "Name order" is alphabetical by the name's pinyin (first readings: 张三 sorts
 * as "zhangsan"; Latin names lowercased, spaces ignored), then by the name's
 * bytes, then by id.
 *
 * Strings are copied into the roster (each cut to 255 bytes); entries stay
 * valid until roster_free(). After roster_finish() the roster is read-only
 * and may be searched from several threads.
 */
#ifndef TINGZI_ROSTER_H
#define TINGZI_ROSTER_H

#include <stddef.h>
#include <stdint.h>

typedef struct roster roster;

typedef struct roster_entry {
	int64_t id;        /* store member id */
	const char *name;  /* UTF-8 */
	const char *phone; /* digits, may be "" */
	const char *code;  /* may be "" */
} roster_entry;

roster *roster_new(void);    /* NULL when out of memory */
void roster_free(roster *r); /* roster_free(NULL) does nothing */

/* Copy one member in. Returns 0, or -1 when out of memory. Not valid after
 * roster_finish(). */
int roster_add(roster *r, int64_t id, const char *name, const char *phone, const char *code);
/* Build the indexes. Returns 0, or -1 when out of memory (the members stay
 * and roster_finish() may be called again). Lookups before it find nothing. */
int roster_finish(roster *r);
size_t roster_count(const roster *r);

/* The member with exactly this code, or NULL. */
const roster_entry *roster_find_code(const roster *r, const char *code);

/*
 * Members whose phone ends with digits (only '0'-'9', at least 4 of them;
 * anything else matches nothing). Stores the first max matches in name order
 * in out and returns the total number that match (which may exceed max).
 * Separators in stored phones ("0755-8888-5678") are ignored.
 */
size_t roster_find_phone(const roster *r, const char *digits, const roster_entry **out, size_t max);

/*
 * Members whose name matches query (see above). Stores up to max entries in
 * out, each member once, in name order, and returns the number stored.
 * When more than max match, those kept are the ones whose matching spelling
 * sorts first ("zs" exactly before "zsh..."), not the first in name order.
 * An empty query (or one of spaces and punctuation) matches nothing.
 */
size_t roster_search_name(const roster *r, const char *query, const roster_entry **out, size_t max);

/* Mask a phone for members' eyes: "13812345678" -> "138****5678". Phones
 * shorter than 11 keep only the last 4 digits visible ("****4321"), phones of
 * 4 or fewer show none. Writes at most len bytes, NUL included. */
void roster_mask_phone(const char *phone, char *buf, size_t len);

#endif
