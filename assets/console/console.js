/*
 * tingzi console — the one script. Pages work without it; with it, an
 * event's page follows its count while the event runs: every 5 s it asks
 * data-live for {count, changed} and reloads when either moved.
 */
(function () {
	"use strict";
	var live = document.querySelector("[data-live]");
	if (!live || !window.fetch)
		return;
	var url = live.getAttribute("data-live");
	var changed = live.getAttribute("data-changed");
	var count = live.getAttribute("data-count");
	function tick() {
		fetch(url, { credentials: "same-origin", cache: "no-store" })
			.then(function (r) { return r.ok ? r.json() : null; })
			.then(function (j) {
				if (!j)
					return;
				if (String(j.count) !== count || String(j.changed) !== changed) {
					window.location.reload();
					return;
				}
				setTimeout(tick, 5000);
			})
			.catch(function () { setTimeout(tick, 15000); });
	}
	setTimeout(tick, 5000);
	var hint = document.querySelector(".live-hint");
	if (hint)
		hint.hidden = true;
})();
