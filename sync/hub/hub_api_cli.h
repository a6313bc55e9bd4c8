/*
 * hub_api_cli — tingzi-hub's commands for the open API: tokens add, tokens
 * list, tokens revoke, api routes. Each runs as a row of hub_main.c's
 * command table.
 */
#ifndef TINGZI_HUB_API_CLI_H
#define TINGZI_HUB_API_CLI_H

#include "sync/args.h"
#include "sync/hub/hub_store.h"

extern const char hub_usage_tokens[], hub_usage_api[];
extern const args_opt hub_tokens_add_opts[], hub_tokens_list_opts[], hub_tokens_revoke_opts[];

int hub_cmd_tokens_add(hub_store *st, const args *o, const char *usage);
int hub_cmd_tokens_list(hub_store *st, const args *o, const char *usage);
int hub_cmd_tokens_revoke(hub_store *st, const args *o, const char *usage);
/* The server's own route table, one a line: METHOD PATH SCOPE. */
int hub_cmd_api_routes(hub_store *st, const args *o, const char *usage);

#endif
