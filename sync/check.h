/*
 * check — the checks every outside input goes through, in both programs:
 * text fields (a kiosk's reply from the hub, a push to the hub, a command
 * line), digits, hex ids and calendar days. Each answers 1 (good) or 0.
 */
#ifndef TINGZI_CHECK_H
#define TINGZI_CHECK_H

#include <stddef.h>

/*
 * 1 when s is text of 1 to max bytes (0 to max when may_be_empty), valid
 * UTF-8 and without control characters (below 0x20, and DEL).
 */
int check_text(const char *s, size_t max, int may_be_empty);
/* A phone number, as every part of tingzi takes it: 5 to 20 digits, nothing else. */
#define CHECK_PHONE_MIN 5
#define CHECK_PHONE_MAX 20
int check_phone(const char *s);
/* 1 when s is 1 to max ASCII digits. */
int check_digits(const char *s, size_t max);
/* 1 when s is exactly n lowercase hex digits (an id of 32 is 128 bits). */
int check_hex(const char *s, size_t n);
/* 1 when s is "" or a real calendar day YYYY-MM-DD from 1970 on (no 2026-02-31). */
int check_day(const char *s);

#endif
