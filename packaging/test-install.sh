#!/usr/bin/env bash
# Install the packages built by deb.sh into a clean Debian 12 root made with
# debootstrap, and check what an administrator would: both programs run, the
# system users own their data directories (0750), the configuration is in
# /etc/tingzi, the man pages are there and systemd accepts the units. Then the
# root boots with systemd (systemd-nspawn): tingzi-hub.service serves a kiosk's
# sync; tingzi-kiosk.service starts cage and the kiosk (cage's headless
# backend: there is no display), becomes active on the kiosk's READY=1, shows
# the home screen (grim), and is restarted by the watchdog when the kiosk hangs.
# Last, purge removes the data.
#
#   bash packaging/test-install.sh [--keep]    (root; about 5 minutes, ~600 MB)
#
# The base root is cached as /var/tmp/tingzi-bookworm-base.tar (delete it to
# start from the mirror again). --keep leaves the root in /var/tmp for a look.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "test-install.sh: run as root (debootstrap and chroot need it)" >&2; exit 2; }
keep=0
[ "${1:-}" = --keep ] && keep=1

bash packaging/deps.sh only debootstrap systemd systemd-container curl jq imagemagick
# The Debian mirror this machine's apt is configured with (its bookworm/main
# index), unless TINGZI_MIRROR names another.
mirror=${TINGZI_MIRROR:-$(apt-cache policy | awk '$3 == "bookworm/main" && $5 == "Packages" { print $2; exit }')}
[ -n "$mirror" ] || { echo "test-install.sh: apt has no bookworm/main source; set TINGZI_MIRROR" >&2; exit 2; }
echo "== building the packages =="
bash packaging/deb.sh >/tmp/tingzi-deb-build.log 2>&1 || { tail -n 30 /tmp/tingzi-deb-build.log; exit 1; }
ver=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
arch=$(dpkg --print-architecture)
debs=(build-deb/tingzi_"$ver"_"$arch".deb build-deb/tingzi-hub_"$ver"_"$arch".deb)

root=$(mktemp -d /var/tmp/tingzi-root.XXXXXX)
mounted=()
cleanup() {
	for m in "${mounted[@]}"; do umount -R -l "$m" 2>/dev/null || true; done
	[ -n "${nspawn:-}" ] && kill "$nspawn" 2>/dev/null && wait "$nspawn" 2>/dev/null
	if [ "$keep" = 1 ]; then echo "the root is kept in $root"; else rm -rf --one-file-system "$root"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
in_root() { chroot "$root" "$@"; }

base=/var/tmp/tingzi-bookworm-base.tar
if [ ! -s "$base" ]; then
	echo "== debootstrap bookworm (minbase) from $mirror =="
	debootstrap --variant=minbase bookworm "$root" "$mirror" >/tmp/tingzi-debootstrap.log 2>&1 ||
		{ tail -n 20 /tmp/tingzi-debootstrap.log; fail "debootstrap"; }
	tar -C "$root" -cf "$base.tmp" . && mv "$base.tmp" "$base"
else
	echo "== clean root from $base =="
	tar -C "$root" -xf "$base"
fi
chmod 0755 "$root" # it is /, for the system users too (mktemp and tar made it 0700)
mount -t proc proc "$root/proc" && mounted+=("$root/proc")
mount --rbind /dev "$root/dev" && mounted+=("$root/dev")
cp /etc/resolv.conf "$root/etc/resolv.conf"
# a machine with systemd, as the packages will meet it
echo "deb $mirror bookworm main" >"$root/etc/apt/sources.list"
# no daemons start inside the chroot
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod +x "$root/usr/sbin/policy-rc.d"
mkdir -p "$root/tmp/debs" && cp "${debs[@]}" "$root/tmp/debs/"

echo "== apt-get install ${debs[*]##*/} =="
in_root apt-get update -qq >/dev/null 2>&1
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd man-db >/tmp/tingzi-apt.log 2>&1
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	/tmp/debs/tingzi_"$ver"_"$arch".deb /tmp/debs/tingzi-hub_"$ver"_"$arch".deb >/tmp/tingzi-apt.log 2>&1 ||
	{ tail -n 30 /tmp/tingzi-apt.log; fail "apt-get install"; }

echo "== what is installed =="
in_root tingzi --version || fail "tingzi --version"
in_root tingzi-hub --version || fail "tingzi-hub --version"
in_root dpkg-query -W -f='${Package} ${Version}\n' cage fonts-noto-cjk libcurl4 || fail "runtime dependencies"
for d in tingzi:/var/lib/tingzi tingzi-hub:/var/lib/tingzi-hub; do
	u=${d%%:*} dir=${d#*:}
	got=$(in_root stat -c '%U:%G %a' "$dir")
	[ "$got" = "$u:$u 750" ] || fail "$dir is '$got', want '$u:$u 750'"
	echo "$dir $got"
	in_root getent passwd "$u" | grep -q ":/usr/sbin/nologin$" || fail "$u is not a system user without a shell"
done
for f in /etc/tingzi/kiosk.env /etc/tingzi/hub.env; do
	grep -qx "$f" "$root"/var/lib/dpkg/info/tingzi*.conffiles || fail "$f is not a conffile"
done
in_root man -w tingzi >/dev/null || fail "man: no page tingzi(1)"
in_root man -w 8 tingzi-hub >/dev/null || fail "man: no page tingzi-hub(8)"
in_root env MANWIDTH=80 man tingzi >/tmp/tingzi-man.txt 2>/dev/null
grep -q "members import" /tmp/tingzi-man.txt || fail "tingzi(1) does not list the commands"
[ -s "$root/usr/share/locale/zh_CN/LC_MESSAGES/tingzi.mo" ] || fail "no zh_CN translation"
[ -s "$root/usr/share/locale/zh_TW/LC_MESSAGES/tingzi-hub.mo" ] || fail "no zh_TW translation of the console"
[ -s "$root/usr/share/tingzi/console/console.css" ] || fail "the console's stylesheet is not installed"

echo "== systemd-analyze verify =="
systemd-analyze verify --man=no --root="$root" tingzi-kiosk.service tingzi-hub.service 2>&1 | tee /tmp/tingzi-verify.log
if grep -q '[^[:space:]]' /tmp/tingzi-verify.log; then fail "systemd-analyze verify had something to say"; fi
[ -L "$root/etc/systemd/system/multi-user.target.wants/tingzi-hub.service" ] || fail "tingzi-hub.service is not enabled"
[ -e "$root/etc/systemd/system/graphical.target.wants/tingzi-kiosk.service" ] && fail "tingzi-kiosk.service is enabled at install"

echo "== booted with systemd (systemd-nspawn): the services as they run on a machine =="
port=$((20000 + RANDOM % 20000))
sed -i "s/^TINGZI_HUB_LISTEN=.*/TINGZI_HUB_LISTEN=127.0.0.1:$port/" "$root/etc/tingzi/hub.env"
in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq grim >>/tmp/tingzi-apt.log 2>&1 || fail "apt-get install grim"
rm -f "$root/usr/sbin/policy-rc.d"
# what this machine lacks: a display (cage's headless backend instead) and tty1;
# a short watchdog, so that a hang is seen in seconds
mkdir -p "$root/etc/systemd/system/tingzi-kiosk.service.d"
cat >"$root/etc/systemd/system/tingzi-kiosk.service.d/test.conf" <<'CONF'
[Service]
TTYPath=
StandardInput=null
Environment=WLR_BACKENDS=headless WLR_RENDERER=pixman WLR_LIBINPUT_NO_DEVICES=1 SDL_AUDIODRIVER=dummy TINGZI_LOG_LAYOUT=1
WatchdogSec=5
ExecStart=
ExecStart=/usr/bin/cage -d -r -r -- /usr/bin/tingzi
CONF
for m in "${mounted[@]}"; do umount -R -l "$m"; done
mounted=()
systemd-nspawn -q --register=no --keep-unit -D "$root" -b --console=pipe >/tmp/tingzi-nspawn.log 2>&1 &
nspawn=$!
for _ in $(seq 100); do init=$(pgrep -P "$nspawn" -x systemd || true); [ -n "$init" ] && break; sleep 0.1; done
[ -n "$init" ] || { tail -n 20 /tmp/tingzi-nspawn.log; fail "systemd-nspawn did not boot the root"; }
sd() { nsenter -t "$init" -a "$@"; }
# in_journal UNIT REGEX: the unit's journal has a line matching REGEX (read
# whole first: grep -q would end the pipe early and pipefail would count it)
in_journal() {
	sd journalctl -u "$1" --no-pager -o cat >/tmp/tingzi-journal.txt
	grep -qE "$2" /tmp/tingzi-journal.txt
}
for _ in $(seq 300); do sd test -S /run/systemd/private 2>/dev/null && break; sleep 0.1; done
state=$(sd systemctl is-system-running --wait || true)
echo "the system is $state"
sd systemctl is-active --quiet tingzi-hub || { sd journalctl -u tingzi-hub --no-pager | tail; fail "tingzi-hub.service is not running"; }
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://127.0.0.1:$port/v1/health" || fail "tingzi-hub.service does not answer on 127.0.0.1:$port"
echo
hub_admin() { sd runuser -u tingzi-hub -- tingzi-hub --db /var/lib/tingzi-hub/hub.db "$@"; }
as_kiosk() { sd runuser -u tingzi -- tingzi --db /var/lib/tingzi/tingzi.db "$@"; }
venue=$(hub_admin venues add "Teahouse" --tz Asia/Shanghai)
code=$(hub_admin devices enroll-code "$venue")
as_kiosk demo >/dev/null || fail "tingzi demo"
as_kiosk enroll "http://127.0.0.1:$port" "$code" || fail "tingzi enroll"
as_kiosk checkin --code TZ1001 --format json || fail "tingzi checkin"
as_kiosk sync --once || fail "tingzi sync --once"
n=$(hub_admin checkins export --venue "$venue" | tail -n +2 | wc -l)
[ "$n" = 1 ] || fail "the hub holds $n check-ins, want 1"
echo "tingzi-hub.service holds $n check-in from the installed kiosk"
[ "$(sd stat -c '%U %a' /var/lib/tingzi-hub/hub.db)" = "tingzi-hub 600" ] || fail "hub.db is not the hub user's alone"
in_journal tingzi-hub "POST /v1/venues/$venue/push 200" || fail "the hub's requests are not in the journal"
link=$(hub_admin users add owner@example.org --role owner --public-url "http://127.0.0.1:$port")
curl -fsS "$link" | grep -q 'name="password2"' || fail "the installed console does not serve its set-up page ($link)"
curl -fsS "http://127.0.0.1:$port/static/console.css" | grep -q -- '--accent' || fail "the installed console has no stylesheet"
echo "the installed console serves $link"

echo "-- tingzi-kiosk.service: cage, READY=1, the watchdog --"
sd systemctl start tingzi-kiosk || { sd journalctl -u tingzi-kiosk --no-pager | tail -n 20; fail "tingzi-kiosk.service did not start"; }
# Type=notify: start returns once the kiosk, cage's child, has said READY=1
in_journal tingzi-kiosk '"kiosk.first_frame"' || fail "no first frame in the journal"
sleep 1
sd runuser -u tingzi -- env XDG_RUNTIME_DIR=/run/tingzi-kiosk WAYLAND_DISPLAY=wayland-0 grim /var/tmp/kiosk.png ||
	fail "grim could not read cage's output"
mkdir -p build-deb && cp "$root/var/tmp/kiosk.png" build-deb/kiosk-under-systemd.png
b=$(sd journalctl -u tingzi-kiosk --no-pager -o cat | grep '"event":"layout"' | tail -n 1 |
	jq -c '.buttons[] | select(.act == "checkin")')
[ -n "$b" ] || fail "no check-in button in the kiosk's layout"
px=$(convert build-deb/kiosk-under-systemd.png -crop "1x1+$(($(jq .x <<<"$b") + 6))+$(($(jq .y <<<"$b") + 6))" -depth 8 txt:- |
	grep -o '#[0-9A-F]\{6\}' | head -n 1)
[ "$px" = "#C24E2F" ] || fail "the check-in button is $px on the screenshot"
echo "the home screen is on cage's output (build-deb/kiosk-under-systemd.png)"
# the hardened service can still reach the hub and write its database
for _ in $(seq 40); do
	in_journal tingzi-kiosk '"event":"sync.status","online":true' && break
	sleep 0.5
done
in_journal tingzi-kiosk '"event":"sync.status","online":true' ||
	fail "the kiosk service never reached the hub"
kiosk_pid=$(sd sh -c 'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = tingzi ] && echo ${p#/proc/}; done; true' | head -n 1)
[ -n "$kiosk_pid" ] || fail "no tingzi process under the service"
sd sh -c "kill -STOP $kiosk_pid" # the kiosk hangs
# WatchdogSec=5: the last ping is at most 2.5 s old; then RestartSec=2
for _ in $(seq 40); do
	in_journal tingzi-kiosk "Watchdog timeout|result 'watchdog'" &&
		[ "$(sd systemctl show -p NRestarts --value tingzi-kiosk)" -ge 1 ] &&
		sd systemctl is-active --quiet tingzi-kiosk && break
	sleep 0.5
done
in_journal tingzi-kiosk "Watchdog timeout|result 'watchdog'" || {
	sd journalctl -u tingzi-kiosk --no-pager -n 15 | grep -v '"layout"'
	fail "the watchdog did not fire on a hung kiosk (pid $kiosk_pid stopped)"
}
[ "$(sd systemctl show -p NRestarts --value tingzi-kiosk)" -ge 1 ] || fail "the hung kiosk was not restarted"
sd systemctl is-active --quiet tingzi-kiosk || fail "the restarted kiosk is not active"
echo "a hung kiosk (SIGSTOP) was killed by the watchdog and started again"
sd journalctl -u tingzi-kiosk --no-pager | grep -E "Watchdog timeout|result 'watchdog'|Scheduled restart|Started" | tail -n 3
sd systemctl poweroff >/dev/null 2>&1 || true
wait "$nspawn" 2>/dev/null || true
nspawn=
mount -t proc proc "$root/proc" && mounted+=("$root/proc")
mount --rbind /dev "$root/dev" && mounted+=("$root/dev")

echo "== purge =="
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq tingzi tingzi-hub >/dev/null
for p in /var/lib/tingzi /var/lib/tingzi-hub /etc/tingzi /usr/bin/tingzi /usr/bin/tingzi-hub; do
	[ -e "$root$p" ] && fail "$p is still there after purge"
done
echo "purge removed the programs, /etc/tingzi and both data directories"
echo "test-install.sh: all checks passed"
