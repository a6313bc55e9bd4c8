/*
 * log — JSON lines through jansson, one fputs per line under a lock so lines
 * from the UI thread and workers never interleave.
 */
#include "sync/log.h"

#include "sync/clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_quiet;

void log_set_quiet(int quiet)
{
	log_quiet = quiet;
}

void log_event(const char *event, json_t *fields)
{
	if (log_quiet) {
		json_decref(fields);
		return;
	}
	json_t *o = json_object();
	char ts[64];
	int64_t ms = clock_wall_ms();
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "event", json_string(event));
	if (fields) {
		json_object_update(o, fields);
		/* "ts" and "event" are the log's own: a field cannot replace them. */
		json_object_set_new(o, "ts", json_string(ts));
		json_object_set_new(o, "event", json_string(event));
	}
	json_decref(fields);
	char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!line)
		return;
	pthread_mutex_lock(&log_lock);
	fputs(line, stderr);
	fputc('\n', stderr);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
	free(line);
}
