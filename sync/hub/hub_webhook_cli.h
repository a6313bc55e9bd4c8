/*
 * hub_webhook_cli — tingzi-hub's webhooks commands: add, list, remove,
 * enable, deliveries. Each runs as a row of hub_main.c's command table.
 */
#ifndef TINGZI_HUB_WEBHOOK_CLI_H
#define TINGZI_HUB_WEBHOOK_CLI_H

#include "sync/args.h"
#include "sync/hub/hub_store.h"

extern const char hub_usage_webhooks[];
extern const args_opt hub_webhooks_add_opts[], hub_webhooks_list_opts[], hub_webhooks_deliveries_opts[];

int hub_cmd_webhooks_add(hub_store *st, const args *o, const char *usage);
int hub_cmd_webhooks_list(hub_store *st, const args *o, const char *usage);
int hub_cmd_webhooks_remove(hub_store *st, const args *o, const char *usage);
int hub_cmd_webhooks_enable(hub_store *st, const args *o, const char *usage);
int hub_cmd_webhooks_deliveries(hub_store *st, const args *o, const char *usage);

#endif
