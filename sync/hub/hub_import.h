/*
 * hub_import — `tingzi-hub import FILE.tzb`; see hub_import.c.
 */
#ifndef TINGZI_HUB_IMPORT_H
#define TINGZI_HUB_IMPORT_H

#include "sync/hub/hub_store.h"

#define TZB_MAX (16u << 20) /* bytes of a .tzb file */

/* Import the batch file at path into st. Returns the exit status: 0, or 1 with why on stderr. */
int hub_import_tzb(hub_store *st, const char *path);

#endif
