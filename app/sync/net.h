/*
 * net — libcurl, loaded the first time a request is made.
 *
 * libcurl brings some 25 libraries with it (TLS, Kerberos, LDAP, SSH,
 * HTTP/2, IDN, ...), about 7 MiB resident once mapped and relocated. A
 * kiosk that is not enrolled with a hub never makes a request, so it never
 * maps them: the kiosk is linked without libcurl and opens it with dlopen()
 * when sync first needs it. Only the functions below are used.
 */
#ifndef TINGZI_NET_H
#define TINGZI_NET_H

#include <curl/curl.h>
#include <stddef.h>

typedef struct net_api {
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	CURLcode (*easy_getinfo)(CURL *c, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *c);
	void (*easy_reset)(CURL *c);
	const char *(*easy_strerror)(CURLcode code);
	struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
	void (*slist_free_all)(struct curl_slist *list);
} net_api;

/*
 * libcurl's functions, loading it (and running curl_global_init) on the
 * first call; thread-safe. NULL with a sentence in why when it cannot be
 * loaded.
 */
const net_api *net_curl(char *why, size_t len);
/* 1 once libcurl is loaded in this process (for tests and the memory figures). */
int net_loaded(void);

#endif
