#!/usr/bin/env bash
# Fonts that are not there: with no font at all the kiosk refuses to start
# and says what to install; with no Chinese font it starts, logs it, and
# draws with what it has.
set -uo pipefail
TINGZI=$1
WORK=$(mktemp -d /tmp/tingzi-fonts.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy
failures=0
passes=0
ok() { passes=$((passes + 1)); }
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }

conf() { # conf DIR: a fontconfig configuration that knows only the fonts in DIR
	cat <<XML
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>$1</dir><cachedir>$WORK/cache</cachedir></fontconfig>
XML
}

mkdir -p "$WORK/none" "$WORK/latin"
conf "$WORK/none" >"$WORK/none.conf"
FONTCONFIG_FILE=$WORK/none.conf timeout 10 "$TINGZI" --db "$WORK/t.db" --windowed >"$WORK/out" 2>"$WORK/err"
rc=$?
[ $rc -eq 1 ] && ok || bad "no fonts: exit $rc, expected 1"
grep -q "no usable font found (install fonts-noto-cjk)" "$WORK/err" && ok || bad "no fonts: no clear message"

latin=$(fc-match -f '%{file}' 'DejaVu Sans:lang=en')
if fc-query -f '%{lang}\n' "$latin" | grep -q 'zh'; then
	echo "SKIP: no Latin-only font to test with"
else
	ln -s "$latin" "$WORK/latin/"
	conf "$WORK/latin" >"$WORK/latin.conf"
	FONTCONFIG_FILE=$WORK/latin.conf timeout 3 "$TINGZI" --db "$WORK/t.db" --windowed 2>"$WORK/err"
	grep -q '"event":"font.cjk_missing"' "$WORK/err" && ok || bad "no CJK font: not logged"
	grep -q '"event":"kiosk.first_frame"' "$WORK/err" && ok || bad "no CJK font: the kiosk did not draw"
fi
echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
