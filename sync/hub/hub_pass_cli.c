/*
 * hub_pass_cli — the member-pass commands of tingzi-hub (see hub_pass_cli.h).
 */
#include "sync/hub/hub_pass_cli.h"
#include "sync/check.h"
#include "sync/clock.h"
#include "sync/hub/hub_pass.h"
#include "sync/utf8.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *hub_cli_key_file;

const char hub_usage_key_file[] =
    "Usage: tingzi-hub key-file new PATH\n"
    "\n"
    "Write a new key file: 32 random bytes as 64 hex digits, mode 0600. It seals\n"
    "the venues' pass-signing keys in the database; give it to every command that\n"
    "signs passes and to serve with --key-file PATH (or $TINGZI_HUB_KEY_FILE).\n"
    "An existing file is never overwritten. Keep a copy apart from the database:\n"
    "without it no venue can issue a pass again (passes issued stay valid).\n";

const char hub_usage_rotate[] =
    "Usage: tingzi-hub --key-file PATH venues rotate-key VENUE\n"
    "\n"
    "A new key signs the venue's passes from now on (the first call makes key 1;\n"
    "at most 63). The old keys stay published to kiosks, retired, so passes they\n"
    "signed stay valid until they expire or are revoked.\n";

const char hub_usage_signup[] =
    "Usage: tingzi-hub venues signup VENUE --slug SLUG [--terms TEXT] [--off]\n"
    "\n"
    "The venue's sign-up page for members, /m/SLUG on the hub (SLUG: 3 to 32 of\n"
    "a-z, 0-9 and -, unique). TEXT: the venue's terms, shown on the page, which a\n"
    "member consents to (up to 4000 bytes; default: the terms already set). --off\n"
    "closes the page (it answers that sign-up is closed); without it, the page is\n"
    "open. serve needs --key-file to give passes at sign-up.\n";

const char hub_usage_passes[] =
    "Usage: tingzi-hub --key-file PATH passes issue --venue VENUE --member CODE|UID [--png FILE]\n"
    "       tingzi-hub passes revoke --venue VENUE --member CODE|UID\n"
    "\n"
    "issue: a signed pass for the member (their pass number is given the first\n"
    "time; a member without a code gets the pass's canonical code, TZP and the\n"
    "number, as their code). Prints the pass's text, then a new private address\n"
    "/p/TOKEN where the member sees it again (shown once; the hub keeps only its\n"
    "hash). --png: the pass's QR code as a PNG. A member code a pass cannot carry\n"
    "(more than 15 characters, or other than 0-9 A-Z a-z - _) is refused.\n"
    "revoke: every pass of the member issued until now stops being valid at the\n"
    "kiosks' next pull, and their private addresses stop working. A pass issued\n"
    "after it is valid.\n";

const args_opt hub_signup_opts[] = {{"slug", 1, 0}, {"terms", 1, 0}, {"off", 0, 0}, {0}};
enum { SIGNUP_SLUG, SIGNUP_TERMS, SIGNUP_OFF };
const args_opt hub_passes_issue_opts[] = {{"venue", 1, 0}, {"member", 1, 0}, {"png", 1, 0}, {0}};
const args_opt hub_passes_revoke_opts[] = {{"venue", 1, 0}, {"member", 1, 0}, {0}};
enum { PASS_VENUE, PASS_MEMBER, PASS_PNG };

#define usage_error(usage, ...) args_usage_error("tingzi-hub", usage, __VA_ARGS__)

int hub_cli_kek(unsigned char kek[32], int *have)
{
	const char *path = hub_kek_path(hub_cli_key_file);
	*have = 0;
	if (!path)
		return 0;
	char why[512];
	if (hub_kek_load(path, kek, why, sizeof why) != 0) {
		fprintf(stderr, "tingzi-hub: %s\n", why);
		return -1;
	}
	*have = 1;
	return 0;
}

/* The key file a signing command needs: 0, or -1 after saying why. */
static int need_kek(unsigned char kek[32])
{
	int have = 0;
	if (hub_cli_kek(kek, &have) != 0)
		return -1;
	if (!have) {
		fprintf(stderr, "tingzi-hub: this needs the key file: --key-file PATH or $TINGZI_HUB_KEY_FILE"
				" (tingzi-hub key-file new PATH makes one)\n");
		return -1;
	}
	return 0;
}

static int venue_of(hub_store *st, const char *id, hub_venue *v)
{
	hub_err e = id && check_hex(id, 32) ? st->ops->venue_get(st, id, v) : HUB_NOT_FOUND;
	if (e == HUB_NOT_FOUND)
		fprintf(stderr, "tingzi-hub: no venue %s (tingzi-hub venues list)\n", id ? id : "");
	else if (e != HUB_OK)
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
	return e == HUB_OK;
}

int hub_cmd_key_file_new(hub_store *st, const args *o, const char *usage)
{
	(void)st;
	if (o->nwords != 1)
		return usage_error(usage, "key-file new needs the PATH to write");
	char why[512];
	if (hub_kek_new(o->word[0], why, sizeof why) != 0) {
		fprintf(stderr, "tingzi-hub: %s\n", why);
		return 1;
	}
	fprintf(stderr, "key file %s written (mode 0600); keep a copy apart from the database\n", o->word[0]);
	return 0;
}

int hub_cmd_venues_rotate_key(hub_store *st, const args *o, const char *usage)
{
	hub_venue v;
	unsigned char kek[32];
	if (o->nwords != 1)
		return usage_error(usage, "venues rotate-key needs the VENUE id");
	if (!venue_of(st, o->word[0], &v) || need_kek(kek) != 0)
		return 1;
	unsigned kid = 0;
	int64_t now = clock_wall_ms();
	hub_err e = hub_pass_rotate(st, kek, v.id, now, &kid);
	sodium_memzero(kek, sizeof kek);
	if (e != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	char detail[64];
	snprintf(detail, sizeof detail, "{\"kid\":%u}", kid);
	st->ops->audit_add(st, NULL, v.id, "pass.rotate_key.cli", detail, now);
	printf("%u\n", kid);
	fprintf(stderr, "venue \"%s\" signs passes with key %u now%s\n", v.name, kid,
		kid > 1 ? "; passes of the older keys stay valid" : "");
	return 0;
}

/* A sign-up address: 3 to 32 of a-z, 0-9 and -. */
static int slug_ok(const char *s)
{
	size_t n = strlen(s);
	return n >= 3 && n <= 32 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* Terms: up to 4000 bytes of UTF-8, line breaks and tabs the only control characters. */
static int terms_ok(const char *s)
{
	size_t n = strlen(s);
	if (n > 4000 || !utf8_valid(s, n))
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\r' && *p != '\t') || *p == 0x7f)
			return 0;
	return 1;
}

int hub_cmd_venues_signup(hub_store *st, const args *o, const char *usage)
{
	hub_venue v;
	const char *slug = o->value[SIGNUP_SLUG], *terms = o->value[SIGNUP_TERMS];
	if (o->nwords != 1 || !slug)
		return usage_error(usage, "venues signup needs the VENUE id and --slug SLUG");
	if (!slug_ok(slug))
		return usage_error(usage, "--slug %s: 3 to 32 of a-z, 0-9 and -", slug);
	if (terms && !terms_ok(terms))
		return usage_error(usage, "--terms: up to 4000 bytes of UTF-8 text (line breaks allowed)");
	if (!venue_of(st, o->word[0], &v))
		return 1;
	hub_signup su = {0}, old;
	if (st->ops->pass->signup_get(st, v.id, NULL, &old) == HUB_OK)
		su = old;
	snprintf(su.venue_id, sizeof su.venue_id, "%s", v.id);
	snprintf(su.slug, sizeof su.slug, "%s", slug);
	if (terms)
		snprintf(su.terms, sizeof su.terms, "%s", terms);
	su.enabled = !o->value[SIGNUP_OFF];
	su.updated_ms = clock_wall_ms();
	hub_err e = st->ops->pass->signup_set(st, &su);
	if (e != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	json_t *d = json_pack("{s:s,s:b}", "slug", su.slug, "enabled", su.enabled);
	char *text = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(d);
	st->ops->audit_add(st, NULL, v.id, "pass.signup.cli", text ? text : "{}", su.updated_ms);
	free(text);
	fprintf(stderr, "the sign-up page of \"%s\" is /m/%s, %s%s\n", v.name, su.slug, su.enabled ? "open" : "closed",
		su.terms[0] ? "" : " (no terms set: --terms TEXT)");
	return 0;
}

int hub_cmd_passes_issue(hub_store *st, const args *o, const char *usage)
{
	const char *venue = o->value[PASS_VENUE], *member = o->value[PASS_MEMBER], *png_path = o->value[PASS_PNG];
	hub_venue v;
	unsigned char kek[32];
	if (!venue || !member || o->nwords)
		return usage_error(usage, "passes issue needs --venue VENUE and --member CODE|UID");
	if (!venue_of(st, venue, &v))
		return 1;
	char uid[HUB_ID_MAX], token[HUB_PASS_TOKEN_LEN + 1];
	if (hub_pass_member(st, v.id, member, uid) != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	if (need_kek(kek) != 0)
		return 1;
	hub_pass p;
	int64_t now = clock_wall_ms();
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	hub_err e = hub_pass_issue(st, kek, v.id, uid, now, &p, token);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sodium_memzero(kek, sizeof kek);
	if (e != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	if (png_path) {
		unsigned char *png = NULL;
		size_t len = 0;
		FILE *f = NULL;
		if (hub_pass_png(p.text, HUB_PASS_PNG_MODULE, &png, &len) != 0 || !(f = fopen(png_path, "wb")) ||
		    fwrite(png, 1, len, f) != len || fclose(f) != 0) {
			fprintf(stderr, "tingzi-hub: cannot write %s (the pass was issued: its text is below)\n",
				png_path);
			if (f)
				fclose(f);
			free(png);
			printf("%s\n", p.text);
			return 1;
		}
		free(png);
	}
	json_t *d = json_pack("{s:s,s:I,s:i}", "member", uid, "number", (json_int_t)p.f.number, "kid", (int)p.f.key_id);
	char *text = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(d);
	st->ops->audit_add(st, NULL, v.id, "pass.issue.cli", text ? text : "{}", now);
	free(text);
	printf("%s\n/p/%s\n", p.text, token);
	char expires[11];
	pass_date_from_day(p.f.expires_day, expires);
	fprintf(stderr,
		"pass %u of \"%s\" for %s (code %s%s%s, %s%s), key %u, %zu characters, signed in %.2f ms;"
		" the private address above is shown only now\n",
		(unsigned)p.f.number, v.name, p.f.greeting[0] ? p.f.greeting : "a member", p.f.code,
		p.tier[0] ? ", tier " : "", p.tier, expires[0] ? "until " : "no end", expires, p.f.key_id,
		strlen(p.text), (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	return 0;
}

int hub_cmd_passes_revoke(hub_store *st, const args *o, const char *usage)
{
	const char *venue = o->value[PASS_VENUE], *member = o->value[PASS_MEMBER];
	hub_venue v;
	if (!venue || !member || o->nwords)
		return usage_error(usage, "passes revoke needs --venue VENUE and --member CODE|UID");
	if (!venue_of(st, venue, &v))
		return 1;
	char uid[HUB_ID_MAX];
	if (hub_pass_member(st, v.id, member, uid) != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	hub_pass_state ps;
	int64_t now = clock_wall_ms();
	hub_err e = st->ops->pass->revoke(st, uid, now, &ps);
	if (e != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s\n", hub_store_errmsg(st));
		return 1;
	}
	json_t *d = json_pack("{s:s,s:I}", "member", uid, "number", (json_int_t)ps.number);
	char *text = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(d);
	st->ops->audit_add(st, NULL, v.id, "pass.revoke.cli", text ? text : "{}", now);
	free(text);
	fprintf(stderr, "pass %u revoked (every pass issued until now); kiosks refuse it after their next pull\n",
		(unsigned)ps.number);
	return 0;
}
