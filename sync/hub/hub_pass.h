/*
 * hub_pass — how the hub makes member passes (the token is sync/pass.h's):
 * the key file, venues' signing keys sealed under it, issuing a pass,
 * revoking, private addresses, and the pass as a QR code.
 *
 * Keys at rest: each venue's Ed25519 secret is kept in the store sealed
 * with XChaCha20-Poly1305 (libsodium's crypto_aead_xchacha20poly1305_ietf)
 * under a 32-byte key-encryption key read from a key file (--key-file or
 * $TINGZI_HUB_KEY_FILE), with the venue's id and the key's id as additional
 * data: a copy of the database signs nothing, and a sealed secret moved to
 * another venue's row (or another key id) does not open. The key file is
 * 64 hex digits and a newline, mode 0600; `tingzi-hub key-file new PATH`
 * writes one and never overwrites.
 *
 * Private addresses: /p/TOKEN, TOKEN 32 characters of base32 (160 random
 * bits); the store keeps only SHA-256(TOKEN).
 */
#ifndef TINGZI_HUB_PASS_H
#define TINGZI_HUB_PASS_H

#include "sync/hub/hub_store.h"
#include "sync/pass.h"

#include <stddef.h>
#include <stdint.h>

#define HUB_KEK_BYTES	     32
#define HUB_PASS_TOKEN_LEN   32 /* characters of a private address's token */
#define HUB_PASS_PNG_MODULE  8	/* pixels a module of a pass's PNG */

/* The key file's path: opt, else $TINGZI_HUB_KEY_FILE, else NULL. */
const char *hub_kek_path(const char *opt);
/* Read the key-encryption key: 0, or -1 with why (missing, malformed, readable by others). */
int hub_kek_load(const char *path, unsigned char kek[HUB_KEK_BYTES], char *why, size_t len);
/* Write a new key file (mode 0600, never over an existing file): 0, or -1 with why. */
int hub_kek_new(const char *path, char *why, size_t len);

/* Seal a secret for (venue_id, kid) into k->sealed; open it again. 0, or -1 (does not open). */
int hub_pass_seal(const unsigned char kek[HUB_KEK_BYTES], const char *venue_id, unsigned kid,
		  const unsigned char secret[PASS_SECRET_BYTES], hub_pass_key *k);
int hub_pass_unseal(const unsigned char kek[HUB_KEK_BYTES], const char *venue_id, const hub_pass_key *k,
		    unsigned char secret[PASS_SECRET_BYTES]);

/* A new signing key for the venue (the next key id; the first is 1): HUB_OK with *kid, or an error
 * with the store's errmsg. Old keys stay published, retired. */
hub_err hub_pass_rotate(hub_store *st, const unsigned char kek[HUB_KEK_BYTES], const char *venue_id, int64_t now_ms,
			unsigned *kid);

/*
 * The code a pass carries for a member with code member_code ("" none) and
 * pass number: the canonical code (pass_canonical_code()) when they have none or theirs is
 * it (*canonical 1), else their own code when a pass can write it (1 to 15
 * characters of 0-9 A-Z a-z - _). 0, or -1 with a sentence in why.
 */
int hub_pass_code(const char *member_code, uint32_t number, char out[24], int *canonical, char *why, size_t len);

/* A hub_pass_request's sign: ctx is the key-encryption key (HUB_KEK_BYTES). */
int hub_pass_sign(void *ctx, const char *venue_id, const hub_pass_key *key, const pass_fields *f,
		  char text[PASS_TEXT_MAX + 1], char *why, size_t len);

/* A new private address: its token (NUL-terminated) and the hash the store keeps. */
void hub_pass_token_new(char token[HUB_PASS_TOKEN_LEN + 1], unsigned char hash[HUB_HASH_LEN]);
/* The hash of a token as typed in an address: 0, or -1 when it is not one (wrong length or characters). */
int hub_pass_token_hash(const char *token, size_t n, unsigned char hash[HUB_HASH_LEN]);

/*
 * Issue a pass for a member (with a new private address when token is not
 * NULL): HUB_OK with *out, or an error with the store's errmsg.
 */
hub_err hub_pass_issue(hub_store *st, const unsigned char kek[HUB_KEK_BYTES], const char *venue_id,
		       const char *member_uid, int64_t now_ms, hub_pass *out, char token[HUB_PASS_TOKEN_LEN + 1]);

/* The member a CLI or a form names: a uid (32 hex digits) of the venue, or a member code there. */
hub_err hub_pass_member(hub_store *st, const char *venue_id, const char *code_or_uid, char uid[HUB_ID_MAX]);

/* The pass's QR code as a PNG (QR alphanumeric mode, level M): *png malloc'd. 0, or -1. */
int hub_pass_png(const char *text, int module_px, unsigned char **png, size_t *len);

#endif
