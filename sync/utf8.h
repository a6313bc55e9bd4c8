/* utf8 — decoding and checking UTF-8 text from outside (CSV, scanners, the database). */
#ifndef TINGZI_UTF8_H
#define TINGZI_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decode one code point from s (at most len bytes). Returns the bytes consumed
 * (>= 1), or 0 when len is 0. Invalid or overlong sequences decode as U+FFFD
 * and consume one byte. */
size_t utf8_next(const char *s, size_t len, uint32_t *cp);
/* 1 when s[0..len) is valid UTF-8 without NUL bytes, else 0. */
int utf8_valid(const char *s, size_t len);
/* Number of code points in s. */
size_t utf8_count(const char *s);
/* Byte length of the last code point of s (0 for ""), to erase one character. */
size_t utf8_last_len(const char *s);

#endif
