#!/usr/bin/env bash
# Install the packages built by deb.sh into a clean Debian 12 root made with
# debootstrap, and check what an administrator would: both programs run, the
# system users own their data directories (0750), the configuration is in
# /etc/tingzi, systemd accepts the units, the hub serves as its own user and
# the kiosk records a check-in as its own, and purge removes the data.
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
mirror=${TINGZI_MIRROR:-http://deb.debian.org/debian}

bash packaging/deps.sh only debootstrap systemd curl
echo "== building the packages =="
bash packaging/deb.sh >/tmp/tingzi-deb-build.log 2>&1 || { tail -n 30 /tmp/tingzi-deb-build.log; exit 1; }
ver=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
arch=$(dpkg --print-architecture)
debs=(build-deb/tingzi_"$ver"_"$arch".deb build-deb/tingzi-hub_"$ver"_"$arch".deb)

root=$(mktemp -d /var/tmp/tingzi-root.XXXXXX)
mounted=()
cleanup() {
	for m in "${mounted[@]}"; do umount -R -l "$m" 2>/dev/null || true; done
	[ -n "${hubpid:-}" ] && kill "$hubpid" 2>/dev/null
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
in_root env MANWIDTH=80 man tingzi 2>/dev/null | grep -q "members import" || fail "tingzi(1) does not list the commands"
[ -s "$root/usr/share/locale/zh_CN/LC_MESSAGES/tingzi.mo" ] || fail "no zh_CN translation"

echo "== systemd-analyze verify =="
systemd-analyze verify --man=no --root="$root" tingzi-kiosk.service tingzi-hub.service 2>&1 | tee /tmp/tingzi-verify.log
grep -v "^$" /tmp/tingzi-verify.log | grep -q . && fail "systemd-analyze verify had something to say"
[ -L "$root/etc/systemd/system/multi-user.target.wants/tingzi-hub.service" ] || fail "tingzi-hub.service is not enabled"
[ -e "$root/etc/systemd/system/graphical.target.wants/tingzi-kiosk.service" ] && fail "tingzi-kiosk.service is enabled at install"

echo "== the hub, as user tingzi-hub =="
port=$((20000 + RANDOM % 20000))
chroot --userspec=tingzi-hub:tingzi-hub "$root" env HOME=/var/lib/tingzi-hub \
	tingzi-hub --db /var/lib/tingzi-hub/hub.db serve --listen 127.0.0.1:$port >/tmp/tingzi-hub-root.log 2>&1 &
hubpid=$!
for _ in $(seq 50); do curl -fsS "http://127.0.0.1:$port/v1/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fsS "http://127.0.0.1:$port/v1/health" || fail "the installed hub does not answer"
echo
venue=$(chroot --userspec=tingzi-hub:tingzi-hub "$root" tingzi-hub --db /var/lib/tingzi-hub/hub.db venues add "Teahouse" --tz Asia/Shanghai)
code=$(chroot --userspec=tingzi-hub:tingzi-hub "$root" tingzi-hub --db /var/lib/tingzi-hub/hub.db devices enroll-code "$venue")

echo "== the kiosk's commands, as user tingzi =="
as_kiosk() { chroot --userspec=tingzi:tingzi "$root" env HOME=/var/lib/tingzi TINGZI_DB=/var/lib/tingzi/tingzi.db "$@"; }
as_kiosk tingzi demo >/dev/null || fail "tingzi demo"
as_kiosk tingzi enroll "http://127.0.0.1:$port" "$code" || fail "tingzi enroll"
code1=$(as_kiosk tingzi members list | awk 'NR==1 {print $4}')
as_kiosk tingzi checkin --code "$code1" --format json || fail "tingzi checkin"
as_kiosk tingzi sync --once || fail "tingzi sync --once"
n=$(chroot --userspec=tingzi-hub:tingzi-hub "$root" tingzi-hub --db /var/lib/tingzi-hub/hub.db checkins export --venue "$venue" | tail -n +2 | wc -l)
[ "$n" = 1 ] || fail "the hub holds $n check-ins, want 1"
echo "the hub holds $n check-in from the installed kiosk"
[ "$(in_root stat -c %U /var/lib/tingzi/tingzi.db)" = tingzi ] || fail "tingzi.db is not the kiosk user's"
kill "$hubpid"; wait "$hubpid" 2>/dev/null || true; hubpid=

echo "== purge =="
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq tingzi tingzi-hub >/dev/null
for p in /var/lib/tingzi /var/lib/tingzi-hub /etc/tingzi /usr/bin/tingzi /usr/bin/tingzi-hub; do
	[ -e "$root$p" ] && fail "$p is still there after purge"
done
echo "purge removed the programs, /etc/tingzi and both data directories"
echo "test-install.sh: all checks passed"
