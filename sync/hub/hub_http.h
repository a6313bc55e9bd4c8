/*
 * hub_http — tingzi-hub's HTTP server (see sync/PROTOCOL.md).
 */
#ifndef TINGZI_HUB_HTTP_H
#define TINGZI_HUB_HTTP_H

#include "sync/hub/hub_store.h"

#define HUB_MAX_BODY (8u << 20) /* bytes, as sent and after inflating */

/*
 * A /v1/enroll body read into dev (id, name, public_key; the rest zero) and
 * its enrolment code hashed into code_hash. 0, or -1 with an error code
 * (bad_json, bad_field) and a sentence in msg.
 */
int hub_enroll_parse(const char *body, size_t len, hub_device *dev, unsigned char code_hash[HUB_HASH_LEN],
		     const char **code, char *msg, size_t msglen);
/*
 * A pull's query arguments as given (NULL when absent): since (default 0)
 * and limit (default 1000, at most 5000). 0, or -1 with an error code
 * (bad_field, bad_limit) and a sentence.
 */
int hub_pull_query(const char *since_s, const char *limit_s, int64_t *since, int *limit, const char **code,
		   const char **msg);

/*
 * Serve on listen ("ADDRESS:PORT" or "PORT") until SIGINT or SIGTERM.
 * public_url: the address kiosks and phones reach the hub by, for live codes
 * (NULL: http:// and the request's Host). Returns the exit status.
 * tls_cert and tls_key: PEM files to serve HTTPS with (GnuTLS), or NULL.
 */
int hub_serve(hub_store *st, const char *listen, const char *public_url, size_t max_body, const char *tls_cert,
	      const char *tls_key);

#endif
