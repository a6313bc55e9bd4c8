/*
 * hub_pass — the hub's side of member passes (see hub_pass.h): keys sealed
 * under the key file, rotation, the code rule, signing, private addresses.
 */
#include "sync/hub/hub_pass.h"
#include "sync/check.h"
#include "sync/hub/console/qr_out.h"
#include "sync/hub/hub_util.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES

_Static_assert(NONCE_BYTES + PASS_SECRET_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES <= HUB_SEALED_MAX,
	       "a sealed secret fits");

/* ---- the key file ---- */

const char *hub_kek_path(const char *opt)
{
	if (opt && opt[0])
		return opt;
	const char *env = getenv("TINGZI_HUB_KEY_FILE");
	return env && env[0] ? env : NULL;
}

int hub_kek_load(const char *path, unsigned char kek[HUB_KEK_BYTES], char *why, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, len, "cannot read the key file %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat sb;
	char text[2 * HUB_KEK_BYTES + 3];
	ssize_t n = -1;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && !(sb.st_mode & 077))
		n = read(fd, text, sizeof text - 1);
	close(fd);
	if (n < 0) {
		snprintf(why, len, "the key file %s must be a file only its owner can read (chmod 600)", path);
		return -1;
	}
	text[n] = '\0';
	size_t got = 0;
	text[strcspn(text, "\r\n")] = '\0';
	if (strlen(text) != 2 * HUB_KEK_BYTES ||
	    sodium_hex2bin(kek, HUB_KEK_BYTES, text, strlen(text), NULL, &got, NULL) != 0 || got != HUB_KEK_BYTES) {
		sodium_memzero(text, sizeof text);
		snprintf(why, len, "%s is not a tingzi-hub key file (64 hex digits; tingzi-hub key-file new PATH)",
			 path);
		return -1;
	}
	sodium_memzero(text, sizeof text);
	return 0;
}

int hub_kek_new(const char *path, char *why, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(why, len, errno == EEXIST ? "%s exists already; it is left as it is" : "cannot write %s: %s",
			 path, strerror(errno));
		return -1;
	}
	unsigned char kek[HUB_KEK_BYTES];
	char text[2 * HUB_KEK_BYTES + 2];
	randombytes_buf(kek, sizeof kek);
	sodium_bin2hex(text, sizeof text, kek, sizeof kek);
	strcat(text, "\n");
	size_t n = strlen(text);
	int ok = fchmod(fd, 0600) == 0 && write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
	sodium_memzero(kek, sizeof kek);
	sodium_memzero(text, sizeof text);
	if (close(fd) != 0 || !ok) {
		snprintf(why, len, "cannot write %s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

/* ---- sealed secrets ---- */

/* The additional data: the venue's id (32 hex digits) and the key's id. */
static size_t ad_of(const char *venue_id, unsigned kid, unsigned char ad[HUB_ID_LEN + 1])
{
	memset(ad, 0, HUB_ID_LEN + 1);
	memcpy(ad, venue_id, strnlen(venue_id, HUB_ID_LEN));
	ad[HUB_ID_LEN] = (unsigned char)kid;
	return HUB_ID_LEN + 1;
}

int hub_pass_seal(const unsigned char kek[HUB_KEK_BYTES], const char *venue_id, unsigned kid,
		  const unsigned char secret[PASS_SECRET_BYTES], hub_pass_key *k)
{
	unsigned char ad[HUB_ID_LEN + 1];
	size_t adlen = ad_of(venue_id, kid, ad);
	unsigned long long clen = 0;
	randombytes_buf(k->sealed, NONCE_BYTES);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(k->sealed + NONCE_BYTES, &clen, secret, PASS_SECRET_BYTES, ad,
						       adlen, NULL, k->sealed, kek) != 0)
		return -1;
	k->sealed_len = NONCE_BYTES + (size_t)clen;
	return 0;
}

int hub_pass_unseal(const unsigned char kek[HUB_KEK_BYTES], const char *venue_id, const hub_pass_key *k,
		    unsigned char secret[PASS_SECRET_BYTES])
{
	unsigned char ad[HUB_ID_LEN + 1];
	size_t adlen = ad_of(venue_id, k->kid, ad);
	unsigned long long mlen = 0;
	if (k->sealed_len != NONCE_BYTES + PASS_SECRET_BYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES)
		return -1;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(secret, &mlen, NULL, k->sealed + NONCE_BYTES,
						       k->sealed_len - NONCE_BYTES, ad, adlen, k->sealed, kek) != 0 ||
	    mlen != PASS_SECRET_BYTES)
		return -1;
	return 0;
}

/* ---- keys ---- */

static int last_kid(const hub_pass_key *k, void *ctx)
{
	unsigned *max = ctx;
	if (k->kid > *max)
		*max = k->kid;
	return 0;
}

hub_err hub_pass_rotate(hub_store *st, const unsigned char kek[HUB_KEK_BYTES], const char *venue_id, int64_t now_ms,
			unsigned *kid)
{
	hub_err e = HUB_EXISTS;
	/* two rotations at once: the second finds its key id taken, and takes the next */
	for (int attempt = 0; attempt < 3 && e == HUB_EXISTS; attempt++) {
		unsigned max = 0;
		if ((e = st->ops->pass->keys_each(st, venue_id, last_kid, &max)) != HUB_OK)
			return e;
		if (max >= PASS_KEY_MAX) {
			snprintf(st->errmsg, sizeof st->errmsg,
				 "venue %s has used all %d key ids; a pass cannot name another key", venue_id,
				 PASS_KEY_MAX);
			return HUB_INVALID;
		}
		hub_pass_key k = {.kid = max + 1, .created_ms = now_ms};
		unsigned char secret[PASS_SECRET_BYTES];
		pass_keypair(k.public_key, secret);
		int sealed = hub_pass_seal(kek, venue_id, k.kid, secret, &k);
		sodium_memzero(secret, sizeof secret);
		if (sealed != 0) {
			snprintf(st->errmsg, sizeof st->errmsg, "cannot seal the new key");
			return HUB_ERR;
		}
		e = st->ops->pass->key_add(st, venue_id, &k, now_ms);
		if (e == HUB_OK)
			*kid = k.kid;
	}
	return e;
}

/* ---- issuing ---- */

int hub_pass_code(const char *member_code, uint32_t number, char out[24], int *canonical, char *why, size_t len)
{
	char canon[24];
	pass_canonical_code(number, canon);
	*canonical = !member_code || !member_code[0] || strcmp(member_code, canon) == 0;
	if (*canonical) {
		snprintf(out, 24, "%s", canon);
		return 0;
	}
	size_t n = strlen(member_code);
	if (n > PASS_CODE_MAX ||
	    strspn(member_code, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_") != n) {
		snprintf(why, len, "member code %s cannot be written in a pass (1 to %d characters of 0-9, A-Z, a-z,"
			 " - and _)", member_code, PASS_CODE_MAX);
		return -1;
	}
	snprintf(out, 24, "%s", member_code);
	return 0;
}

int hub_pass_sign(void *ctx, const char *venue_id, const hub_pass_key *key, const pass_fields *f,
		  char text[PASS_TEXT_MAX + 1], char *why, size_t len)
{
	const unsigned char *kek = ctx;
	unsigned char secret[PASS_SECRET_BYTES];
	uint8_t uid[PASS_VENUE_BYTES];
	if (pass_uid_bytes(venue_id, uid) != 0) {
		snprintf(why, len, "venue %s has no uid a pass can carry", venue_id);
		return -1;
	}
	if (!kek || hub_pass_unseal(kek, venue_id, key, secret) != 0) {
		snprintf(why, len, "the signing key of venue %s does not open with this key file (is it the one the"
			 " key was made with?)", venue_id);
		return -1;
	}
	int n = pass_encode(f, uid, secret, text);
	sodium_memzero(secret, sizeof secret);
	if (n < 0) {
		snprintf(why, len, "the pass cannot be written (%s)",
			 n == PASS_E_TOO_LONG ? "its code and greeting do not fit" : "a field is out of its range");
		return -1;
	}
	return 0;
}

/* RFC 4648 base32, lowercase: letters and digits that survive any URL and most eyes */
static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

void hub_pass_token_new(char token[HUB_PASS_TOKEN_LEN + 1], unsigned char hash[HUB_HASH_LEN])
{
	unsigned char raw[HUB_PASS_TOKEN_LEN * 5 / 8];
	randombytes_buf(raw, sizeof raw);
	for (size_t i = 0; i < HUB_PASS_TOKEN_LEN; i++) {
		size_t bit = i * 5;
		unsigned v = (unsigned)raw[bit / 8] << 8 | (bit / 8 + 1 < sizeof raw ? raw[bit / 8 + 1] : 0);
		token[i] = b32[(v >> (11 - bit % 8)) & 31];
	}
	token[HUB_PASS_TOKEN_LEN] = '\0';
	sodium_memzero(raw, sizeof raw);
	hub_sha256(token, HUB_PASS_TOKEN_LEN, hash);
}

int hub_pass_token_hash(const char *token, size_t n, unsigned char hash[HUB_HASH_LEN])
{
	if (n != HUB_PASS_TOKEN_LEN)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!memchr(b32, token[i], sizeof b32 - 1))
			return -1;
	hub_sha256(token, n, hash);
	return 0;
}

hub_err hub_pass_issue(hub_store *st, const unsigned char kek[HUB_KEK_BYTES], const char *venue_id,
		       const char *member_uid, int64_t now_ms, hub_pass *out, char token[HUB_PASS_TOKEN_LEN + 1])
{
	unsigned char hash[HUB_HASH_LEN];
	if (token)
		hub_pass_token_new(token, hash);
	hub_pass_request rq = {.venue_id = venue_id,
			       .member_uid = member_uid,
			       .address_hash = token ? hash : NULL,
			       .now_ms = now_ms,
			       .sign = hub_pass_sign,
			       .ctx = (void *)kek};
	return st->ops->pass->issue(st, &rq, out);
}

hub_err hub_pass_member(hub_store *st, const char *venue_id, const char *code_or_uid, char uid[HUB_ID_MAX])
{
	if (check_hex(code_or_uid, 32)) {
		hub_member m;
		hub_err e = st->ops->member_get(st, code_or_uid, &m);
		if (e == HUB_OK && strcmp(m.venue_id, venue_id) != 0)
			e = HUB_NOT_FOUND;
		if (e == HUB_NOT_FOUND)
			snprintf(st->errmsg, sizeof st->errmsg, "no member %s at this venue", code_or_uid);
		if (e == HUB_OK)
			snprintf(uid, HUB_ID_MAX, "%s", m.uid);
		return e;
	}
	hub_err e = st->ops->pass->member_by_code(st, venue_id, code_or_uid, uid);
	if (e == HUB_NOT_FOUND)
		snprintf(st->errmsg, sizeof st->errmsg, "no member with code %s at this venue", code_or_uid);
	return e;
}

int hub_pass_png(const char *text, int module_px, unsigned char **png, size_t *len)
{
	return qr_png_an(text, module_px, QR_OUT_QUIET, png, len);
}
