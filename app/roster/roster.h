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
 * Strings are copied into the roster; entries stay valid until roster_free().
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

roster *roster_new(void);      /* NULL when out of memory */
void roster_free(roster *r);   /* roster_free(NULL) does nothing */

/* Copy one member in. Returns 0, or -1 when out of memory. Not valid after
 * roster_finish(). */
int roster_add(roster *r, int64_t id, const char *name, const char *phone, const char *code);
/* Build the indexes. Returns 0, or -1 when out of memory. */
int roster_finish(roster *r);
size_t roster_count(const roster *r);

/* The member with exactly this code, or NULL. */
const roster_entry *roster_find_code(const roster *r, const char *code);

/*
 * Members whose phone ends with digits (at least 4 digits). Stores up to max
 * entries in out, in name order, and returns the total number that match
 * (which may exceed max).
 */
size_t roster_find_phone(const roster *r, const char *digits, const roster_entry **out, size_t max);

/*
 * Members whose name matches query (see above). Stores up to max entries in
 * out, each member once, in name order, and returns the number stored.
 * An empty query matches nothing.
 */
size_t roster_search_name(const roster *r, const char *query, const roster_entry **out, size_t max);

/* Mask a phone for members' eyes: "13812345678" -> "138****5678". Short
 * phones keep only the last 4 digits visible. Writes at most len bytes. */
void roster_mask_phone(const char *phone, char *buf, size_t len);

#endif
