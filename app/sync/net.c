/*
 * net — libcurl loaded on demand. See net.h.
 */
#include "app/sync/net.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static net_api api;
static int loaded;
static char failure[256];

static void load(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(failure, sizeof failure, "cannot load libcurl: %s", dlerror());
		return;
	}
	static const struct {
		const char *name;
		size_t offset;
	} fns[] = {
	    {"curl_easy_init", offsetof(net_api, easy_init)},
	    {"curl_easy_setopt", offsetof(net_api, easy_setopt)},
	    {"curl_easy_perform", offsetof(net_api, easy_perform)},
	    {"curl_easy_getinfo", offsetof(net_api, easy_getinfo)},
	    {"curl_easy_cleanup", offsetof(net_api, easy_cleanup)},
	    {"curl_easy_reset", offsetof(net_api, easy_reset)},
	    {"curl_easy_strerror", offsetof(net_api, easy_strerror)},
	    {"curl_slist_append", offsetof(net_api, slist_append)},
	    {"curl_slist_free_all", offsetof(net_api, slist_free_all)},
	};
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
		void *f = dlsym(h, fns[i].name);
		if (!f) {
			snprintf(failure, sizeof failure, "libcurl lacks %s", fns[i].name);
			return; /* h stays open: harmless, and never retried */
		}
		memcpy((char *)&api + fns[i].offset, &f, sizeof f);
	}
	CURLcode (*global_init)(long) = NULL;
	void *g = dlsym(h, "curl_global_init");
	memcpy(&global_init, &g, sizeof g);
	if (!global_init || global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(failure, sizeof failure, "libcurl did not start");
		return;
	}
	loaded = 1;
}

const net_api *net_curl(char *why, size_t len)
{
	pthread_once(&once, load);
	if (!loaded && why && len)
		snprintf(why, len, "%s", failure);
	return loaded ? &api : NULL;
}

int net_loaded(void)
{
	return loaded;
}
