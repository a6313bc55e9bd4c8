/*
 * hub_http — tingzi-hub's HTTP server (see sync/PROTOCOL.md).
 */
#ifndef TINGZI_HUB_HTTP_H
#define TINGZI_HUB_HTTP_H

#include "sync/hub/hub_store.h"

#define HUB_MAX_BODY (8u << 20) /* bytes, as sent and after inflating */

/*
 * Serve on listen ("ADDRESS:PORT" or "PORT") until SIGINT or SIGTERM.
 * public_url: the address kiosks and phones reach the hub by, for live codes
 * (NULL: http:// and the request's Host). Returns the exit status.
 * tls_cert and tls_key: PEM files to serve HTTPS with (GnuTLS), or NULL.
 */
int hub_serve(hub_store *st, const char *listen, const char *public_url, size_t max_body, const char *tls_cert,
	      const char *tls_key);

#endif
