/*
 * x11_close WINDOW_ID — ask a window to close, as a window manager does for
 * Alt+F4 or the close button: a WM_DELETE_WINDOW client message. For the
 * lockdown test, which has no window manager under Xvfb.
 */
#include <X11/Xlib.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: x11_close WINDOW_ID\n");
		return 2;
	}
	Display *d = XOpenDisplay(NULL);
	if (!d) {
		fprintf(stderr, "x11_close: cannot open the display\n");
		return 1;
	}
	Window w = (Window)strtoul(argv[1], NULL, 0);
	XEvent ev = {0};
	ev.xclient.type = ClientMessage;
	ev.xclient.window = w;
	ev.xclient.message_type = XInternAtom(d, "WM_PROTOCOLS", False);
	ev.xclient.format = 32;
	ev.xclient.data.l[0] = (long)XInternAtom(d, "WM_DELETE_WINDOW", False);
	ev.xclient.data.l[1] = CurrentTime;
	int ok = XSendEvent(d, w, False, NoEventMask, &ev) != 0;
	XSync(d, False);
	XCloseDisplay(d);
	return ok ? 0 : 1;
}
