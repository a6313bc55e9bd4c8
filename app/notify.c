/*
 * notify — see notify.h. The protocol is one datagram per message to the
 * unix socket named by $NOTIFY_SOCKET ("@" starts an abstract name).
 */
#include "app/notify.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static struct sockaddr_un addr;
static socklen_t addr_len;
static int64_t interval_ms; /* half of WATCHDOG_USEC */
static int64_t last_ping_ms = -1;

void notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	addr_len = 0;
	if (path && (path[0] == '/' || path[0] == '@') && strlen(path) < sizeof addr.sun_path) {
		memset(&addr, 0, sizeof addr);
		addr.sun_family = AF_UNIX;
		memcpy(addr.sun_path, path, strlen(path));
		if (path[0] == '@')
			addr.sun_path[0] = '\0';
		addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	}
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	long long us = usec ? atoll(usec) : 0;
	/* under cage (tingzi-kiosk.service) the service's main process is cage, our parent */
	int ours = !pid || atoll(pid) == (long long)getpid() || atoll(pid) == (long long)getppid();
	interval_ms = addr_len && ours && us > 0 ? us / 2000 : 0;
	if (interval_ms == 0 && us > 0 && ours)
		interval_ms = 1;
}

void notify_send(const char *state)
{
	if (!addr_len)
		return;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	(void)sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, addr_len);
	close(fd);
}

int64_t notify_watchdog_due_ms(int64_t now)
{
	if (!interval_ms)
		return -1;
	if (last_ping_ms < 0)
		return 0;
	int64_t d = last_ping_ms + interval_ms - now;
	return d < 0 ? 0 : d;
}

void notify_watchdog(int64_t now)
{
	if (interval_ms && (last_ping_ms < 0 || now - last_ping_ms >= interval_ms)) {
		notify_send("WATCHDOG=1");
		last_ping_ms = now;
	}
}
