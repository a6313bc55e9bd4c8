/*
 * hub_import — a kiosk's signed batch file (.tzb, `tingzi export`) taken in
 * by `tingzi-hub import`: the sneakernet way home for a venue with no
 * network at all.
 *
 * The file is "tzb1", a header line (device, venue, creation time and the
 * push body, JSON) and the Ed25519 signature of both lines by the device's
 * key, in hex. It is read at its own size (at most TZB_MAX), its signature
 * checked against the enrolled device's public key, and its push stored as
 * the device's push would be, with the device's clock offset as it was at
 * its last push. A changed file, or one of a revoked or unknown device, is
 * refused whole; a file imported twice stores nothing new.
 */
#include "sync/hub/hub_import.h"

#include "sync/check.h"
#include "sync/clock.h"
#include "sync/hub/hub_push.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int hub_import_tzb(hub_store *st, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "tingzi-hub: cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	/* as large as the file says it is, up to TZB_MAX; a file that grows
	 * while read is cut there and refused by its signature */
	struct stat sb;
	size_t want = fstat(fileno(f), &sb) == 0 && sb.st_size >= 0 ? (size_t)sb.st_size : TZB_MAX + 1;
	if (want > TZB_MAX)
		want = TZB_MAX + 1;
	char *data = malloc(want + 1);
	size_t len = data ? fread(data, 1, want, f) : 0;
	fclose(f);
	int rc = 1;
	json_t *j = NULL;
	hub_batch b = {0};
	if (!data)
		goto out;
	if (len > TZB_MAX) {
		fprintf(stderr, "tingzi-hub: %s is larger than %u MiB\n", path, TZB_MAX >> 20);
		goto out;
	}
	data[len] = '\0';
	char *nl1 = memchr(data, '\n', len);
	char *nl2 = nl1 ? memchr(nl1 + 1, '\n', len - (size_t)(nl1 + 1 - data)) : NULL;
	if (len < 5 || memcmp(data, "tzb1\n", 5) != 0 || !nl2 || (size_t)(nl2 + 1 - data) + 128 > len) {
		fprintf(stderr, "tingzi-hub: %s is not a tingzi batch file (tzb1)\n", path);
		goto out;
	}
	size_t signed_len = (size_t)(nl2 + 1 - data);
	char sig_hex[129];
	memcpy(sig_hex, nl2 + 1, 128);
	sig_hex[128] = '\0';
	json_error_t je;
	j = json_loadb(nl1 + 1, (size_t)(nl2 - nl1 - 1), JSON_REJECT_DUPLICATES, &je);
	const char *dev_id = json_string_value(json_object_get(j, "device_id"));
	const char *venue = json_string_value(json_object_get(j, "venue"));
	json_t *push = json_object_get(j, "push");
	if (!json_is_object(j) || !check_hex(dev_id, 32) || !check_hex(venue, 32) ||
	    !json_is_object(push)) {
		fprintf(stderr, "tingzi-hub: %s: the header line is malformed\n", path);
		goto out;
	}
	hub_device dev;
	hub_err e = st->ops->device_get(st, dev_id, &dev);
	if (e != HUB_OK || dev.revoked_ms) {
		fprintf(stderr, "tingzi-hub: %s comes from device %s, which is %s; nothing imported\n", path,
			dev_id, e == HUB_OK ? "revoked" : "not enrolled here");
		goto out;
	}
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
	size_t n1 = 0, n2 = 0;
	if (sodium_hex2bin(pk, sizeof pk, dev.public_key, strlen(dev.public_key), NULL, &n1, NULL) != 0 ||
	    n1 != sizeof pk || sodium_hex2bin(sig, sizeof sig, sig_hex, 128, NULL, &n2, NULL) != 0 ||
	    n2 != sizeof sig ||
	    crypto_sign_verify_detached(sig, (const unsigned char *)data, signed_len, pk) != 0) {
		fprintf(stderr,
			"tingzi-hub: %s: the signature does not verify (the file was changed, or is not "
			"from device %s); nothing imported\n",
			path, dev_id);
		goto out;
	}
	hub_venue v;
	if (strcmp(venue, dev.venue_id) != 0 || st->ops->venue_get(st, venue, &v) != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s names venue %s, not the device's; nothing imported\n", path,
			venue);
		goto out;
	}
	char *body = json_dumps(push, JSON_COMPACT);
	int status;
	char code[32], msg[300];
	int bad =
	    !body || hub_push_parse(body, strlen(body), &b, &status, code, sizeof code, msg, sizeof msg) != 0;
	free(body);
	if (bad || strcmp(hub_push_device(&b), dev.id) != 0) {
		fprintf(stderr, "tingzi-hub: %s: %s; nothing imported\n", path,
			bad ? msg : "the batch is of another device");
		goto out;
	}
	/* the file was written days ago, maybe: the device's clock is as it was at its last push */
	hub_push_stats stats;
	e = st->ops->push(st, &v, dev.id, dev.offset_ms, clock_wall_ms(), &b, &stats);
	if (e != HUB_OK) {
		fprintf(stderr, "tingzi-hub: %s: %s; nothing imported\n", path, hub_store_errmsg(st));
		goto out;
	}
	printf("%s: %zu check-ins and %zu records: %zu new, %zu already here, %zu rejected\n", path,
	       b.ncheckins, b.nrecords, stats.ok, stats.duplicate, stats.rejected);
	for (size_t i = 0; i < b.ncheckins + b.nrecords; i++)
		if (b.results[i].status == HUB_RES_REJECTED)
			fprintf(stderr, "  rejected %s: %s\n", b.results[i].id, b.results[i].reason);
	rc = 0;
out:
	hub_batch_free(&b);
	json_decref(j);
	free(data);
	return rc;
}
