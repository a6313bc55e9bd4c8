/*
 * pass — the signed member pass: a token a member carries as a QR code, that
 * a kiosk checks with no network at all.
 *
 * What it says: the key that signed it (a small number per venue), a tag of
 * the venue, when it was issued, until when the membership runs, the
 * member's pass number (per venue), their tier (an index into the venue's
 * tier list, which kiosks pull with the keys), their member code, and a short
 * greeting name (a given name, never the full name). No phone number.
 *
 * How it is built (format 1):
 *  - The fields are packed as bits (widths below), padded with zero bits to a
 *    whole byte: 9 to 17 bytes.
 *  - The Ed25519 signature (64 bytes) is made over "TZP1", the venue's whole
 *    16-byte uid and those field bytes: a pass of one venue never verifies at
 *    another, whatever its tag says.
 *  - signature || fields is read as one big-endian number and written in base
 *    44 with the QR alphanumeric characters but the space (0-9 A-Z $ % * + - .
 *    / :), most significant digit first, in exactly as many digits as that
 *    byte count needs: 107 to 119 characters. A QR code stores these 5.5 bits
 *    a character; a space is left out because scanners and keyboards trim it.
 *    Member codes are at most 63 bytes, so a scan of 100 or more of these
 *    characters is a pass and nothing else.
 *
 * Field bits, most significant bit first:
 *   format 2 (= 1) | key id 6 (1..63) | venue tag 8 (pass_venue_tag())
 *   | issued 25 (minutes since 2024-01-01 UTC) | expires 15 (days since
 *   2024-01-01 plus one; 0 = no end) | number: length 5, then that many bits
 *   | tier 4 (0 = none) | code: 1 bit, 0 = the canonical code ("TZP" and the
 *   number in decimal), 1 = length 4 (1..15) and 6 bits a character from
 *   0-9 A-Z a-z - _ | greeting: length 4 (0..15 bytes), then UTF-8 bytes.
 *
 * What fits: with the canonical code, a greeting of 6 to 7 bytes (two
 * Chinese characters) for numbers up to a million. A code written out costs
 * 4 + 6 bits a character: 7 characters fit up to number 8191, 6 up to about
 * a million, 5 always; a longer one is PASS_E_TOO_LONG, and the greeting
 * gives way first.
 */
#ifndef TINGZI_PASS_H
#define TINGZI_PASS_H

#include <stddef.h>
#include <stdint.h>

#define PASS_TEXT_MAX      120 /* characters of a pass, the whole QR payload */
#define PASS_TEXT_MIN      100 /* fewer characters are never a pass */
#define PASS_FIELDS_MAX    17  /* bytes of fields that fit PASS_TEXT_MAX */
#define PASS_SIG_BYTES     64
#define PASS_PUBLIC_BYTES  32
#define PASS_SECRET_BYTES  64
#define PASS_VENUE_BYTES   16
#define PASS_KEY_MAX       63
#define PASS_TIER_MAX      15
#define PASS_CODE_MAX      15  /* characters of a code written out in the pass */
#define PASS_GREETING_MAX  15  /* bytes; what fits is less when the code is written out */
#define PASS_EPOCH_S       1704067200LL /* 2024-01-01T00:00:00Z */

typedef struct pass_fields {
	unsigned key_id;       /* 1..PASS_KEY_MAX */
	unsigned venue_tag;    /* pass_venue_tag() of the venue's uid */
	uint32_t issued_min;   /* minutes since PASS_EPOCH_S */
	uint32_t expires_day;  /* days since 2024-01-01 plus one; 0: no end */
	uint32_t number;       /* the member's pass number in the venue, >= 1 */
	unsigned tier;         /* 0 none, else 1..PASS_TIER_MAX into the venue's list */
	char code[24];         /* "TZP<number>" when canonical, else as written */
	char greeting[PASS_GREETING_MAX + 1];
} pass_fields;

enum pass_err {
	PASS_OK = 0,
	PASS_E_FORMAT = -1,    /* not a pass: wrong characters or length, bad fields */
	PASS_E_FIELD = -2,     /* encoding: a field out of its range */
	PASS_E_TOO_LONG = -3,  /* encoding: code and greeting do not fit */
	PASS_E_SIGNATURE = -4, /* decoded, but the signature does not verify */
};

/* 1 when s[0..n) could be a pass (length and characters), else 0: the cheap
 * test a kiosk makes on every scan before anything else. */
int pass_looks_like(const char *s, size_t n);

/* The canonical member code of a pass number: "TZP" and the number (a prefix
 * of its own: the demo venue's codes are TZ and four digits). */
void pass_canonical_code(uint32_t number, char out[24]);

/* A greeting from a full name, never the whole of it: the first word of a
 * name with spaces ("Alice Smith" -> "Alice"); the given name of a name in
 * Chinese characters (the surname is its first character: "王小明" -> "小明",
 * "王明" -> "明"); a one-word name of letters gives its first letter and a dot
 * ("Alice" -> "A."). At most max bytes, cut at a whole character; "" when
 * nothing fits or the name gives nothing. */
void pass_greeting(const char *name, char *out, size_t max);

/* Encode and sign. f->code that equals the canonical code is written as the
 * one bit; f->greeting is cut (at a whole character) to what still fits, and
 * dropped if need be (a word of letters that does not fit whole becomes its
 * initial and a dot): the code never is. Returns the length written into out
 * (NUL-terminated), or PASS_E_FIELD / PASS_E_TOO_LONG. */
int pass_encode(const pass_fields *f, const uint8_t venue_uid[PASS_VENUE_BYTES],
                const uint8_t secret[PASS_SECRET_BYTES], char out[PASS_TEXT_MAX + 1]);

/* Read a pass without checking its signature: the fields (f), and what the
 * signature covers, for pass_check(). Returns PASS_OK or PASS_E_FORMAT. */
typedef struct pass_read {
	pass_fields f;
	uint8_t sig[PASS_SIG_BYTES];
	uint8_t fields[PASS_FIELDS_MAX];
	size_t fields_len;
} pass_read;
int pass_decode(const char *s, size_t n, pass_read *out);

/* Check the signature of a decoded pass against a venue uid and public key:
 * PASS_OK or PASS_E_SIGNATURE. */
int pass_check(const pass_read *r, const uint8_t venue_uid[PASS_VENUE_BYTES],
               const uint8_t public_key[PASS_PUBLIC_BYTES]);

/* A new key pair (libsodium's crypto_sign_keypair). */
void pass_keypair(uint8_t public_key[PASS_PUBLIC_BYTES], uint8_t secret[PASS_SECRET_BYTES]);

/* Unix seconds <-> the pass's units. */
uint32_t pass_minutes(int64_t unix_s);
int64_t pass_minutes_unix(uint32_t min);
/* "YYYY-MM-DD" (or "" for no end) <-> expires_day; -1 on a bad date. */
int64_t pass_day_from_date(const char *ymd);
void pass_date_from_day(uint32_t day, char out[11]);

/* The venue's tag: the first byte of a BLAKE2b hash of its uid (uids made
 * in one run share their first digits, so the uid's own first byte would not
 * tell venues apart). It tells a kiosk "another venue's pass" from "a key I
 * do not know"; the signature, over the whole uid, is what decides. */
unsigned pass_venue_tag(const uint8_t venue_uid[PASS_VENUE_BYTES]);

/* A 32-hex uid into its 16 bytes: 0, or -1 when it is not 32 hex digits. */
int pass_uid_bytes(const char *hex, uint8_t out[PASS_VENUE_BYTES]);

#endif
