/*
 * notify — the systemd service protocol without libsystemd: READY=1 once the
 * first frame is on screen, WATCHDOG=1 at half of $WATCHDOG_USEC while the
 * main loop turns, STOPPING=1 on the way out. A kiosk whose loop hangs stops
 * pinging, and systemd (WatchdogSec=) restarts it. Without $NOTIFY_SOCKET
 * every call does nothing.
 */
#ifndef TINGZI_NOTIFY_H
#define TINGZI_NOTIFY_H

#include <stdint.h>

/* Read $NOTIFY_SOCKET and $WATCHDOG_USEC ($WATCHDOG_PID, when set, must be us or our
 * parent: under cage the service's main process is the compositor). */
void notify_init(void);
/* Send one state line ("READY=1", "STOPPING=1"). */
void notify_send(const char *state);
/* Milliseconds until the next watchdog ping is due, or -1 with no watchdog. */
int64_t notify_watchdog_due_ms(int64_t now_mono_ms);
/* Ping when due (call from the main loop). */
void notify_watchdog(int64_t now_mono_ms);

#endif
