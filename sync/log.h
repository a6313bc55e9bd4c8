/*
 * log — the structured log: one JSON object per line on stderr for every
 * outcome a person would notice (a screen shown, a check-in recorded, a
 * refusal, an error). Fields never carry a full phone number; pass phones
 * through roster_mask_phone() first.
 */
#ifndef TINGZI_LOG_H
#define TINGZI_LOG_H

#include <jansson.h>

/* Write {"ts":..., "event":event, ...fields} as one line. Takes ownership of
 * fields (may be NULL). Thread-safe. */
void log_event(const char *event, json_t *fields);
/* Silence the log (for benchmarks); 1 = quiet. */
void log_set_quiet(int quiet);

#endif
