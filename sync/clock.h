/*
 * clock — the times a check-in carries, and local-time text for people.
 *
 * Wall time may be wrong on a kiosk with no network; the monotonic time and
 * the boot id let the hub put check-ins of one boot in order anyway.
 */
#ifndef TINGZI_CLOCK_H
#define TINGZI_CLOCK_H

#include <stddef.h>
#include <stdint.h>

int64_t clock_wall_ms(void); /* Unix time in milliseconds */
int64_t clock_mono_ms(void); /* CLOCK_MONOTONIC in milliseconds */
/* This boot's id (from /proc/sys/kernel/random/boot_id, or "unknown"). */
const char *clock_boot_id(void);

/* Local date of ms as YYYY-MM-DD into buf (at least 11 bytes). */
void clock_local_date(int64_t ms, char *buf, size_t len);
/* Local time of ms as HH:MM into buf (at least 6 bytes). */
void clock_local_hhmm(int64_t ms, char *buf, size_t len);
/* Local time of ms as YYYY-MM-DDTHH:MM into buf (at least 17 bytes). */
void clock_local_iso(int64_t ms, char *buf, size_t len);

/*
 * Parse an ISO 8601 local time "YYYY-MM-DDTHH:MM[:SS]" (a space may stand for
 * the T) into Unix milliseconds. Returns 0, or -1 when s is not such a time or
 * names a day or hour that does not exist.
 */
int clock_parse_local(const char *s, int64_t *ms);
/* Check that s is a real date "YYYY-MM-DD". Returns 0 or -1. */
int clock_parse_date(const char *s);

/* Fill out with a new random 128-bit id as 32 lowercase hex digits + NUL
 * (out must hold 33 bytes). Returns 0, or -1 if the system has no randomness. */
int clock_new_id(char *out);

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard Hinnant's algorithms). */
int64_t clock_days_from_civil(int64_t y, unsigned m, unsigned d);
void clock_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* The same day as "YYYY-MM-DD" (a year outside 0..9999 is cut to its last four digits). */
void clock_day_text(int64_t days, char out[11]);

/*
 * A record id made of this process's random 80-bit prefix (20 hex digits,
 * drawn once per run) and the low 48 bits of seq (12 hex digits), 32 in
 * all, like clock_new_id(). Unique as long as seq does not repeat within a
 * run, which the device sequence never does; a database restored from an
 * older copy reuses sequence numbers, but never a run's prefix. Check-ins
 * of one run share the prefix and count up, so a batch of them compresses
 * to a few bytes an id where random ids cost 16. 0, or -1 with no randomness.
 */
int clock_seq_id(int64_t seq, char *out);

#endif
