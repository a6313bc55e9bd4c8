/*
 * hub_pass_cli — tingzi-hub's commands for member passes: key-file new,
 * venues rotate-key, venues signup, passes issue, passes revoke. Each runs
 * as a row of hub_main.c's command table.
 */
#ifndef TINGZI_HUB_PASS_CLI_H
#define TINGZI_HUB_PASS_CLI_H

#include "sync/args.h"
#include "sync/hub/hub_store.h"

/* --key-file as given anywhere on the command line (NULL: $TINGZI_HUB_KEY_FILE). */
extern const char *hub_cli_key_file;

extern const char hub_usage_key_file[], hub_usage_rotate[], hub_usage_signup[], hub_usage_passes[];
extern const args_opt hub_signup_opts[], hub_passes_issue_opts[], hub_passes_revoke_opts[];

/* key-file new PATH: needs no store (st is NULL). */
int hub_cmd_key_file_new(hub_store *st, const args *o, const char *usage);
int hub_cmd_venues_rotate_key(hub_store *st, const args *o, const char *usage);
int hub_cmd_venues_signup(hub_store *st, const args *o, const char *usage);
int hub_cmd_passes_issue(hub_store *st, const args *o, const char *usage);
int hub_cmd_passes_revoke(hub_store *st, const args *o, const char *usage);

/* The key-encryption key for serve: 0 with kek filled and *have 1, 0 with *have 0 when no key file is
 * named, or -1 after saying why. */
int hub_cli_kek(unsigned char kek[32], int *have);

#endif
