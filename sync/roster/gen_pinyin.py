#!/usr/bin/env python3
"""Generate sync/roster/pinyin_table.c from the Unicode Unihan database.

Reads Unihan_Readings.txt(.bz2) (Debian package unicode-data installs it as
/usr/share/unicode/Unihan_Readings.txt.bz2) and writes the toneless Mandarin
readings of every Han character that has one, for sync/roster/pinyin.c.

Readings come from four fields: kMandarin, kHanyuPinyin, kXHC1983 and
kTGHZ2013. Tones are stripped and "ü" is written "v" (lǜ -> lv); readings
that differ only by tone collapse into one. Order: kMandarin's readings first
(its zh-CN value, then its zh-TW value), then the other readings by the number
of sources that list them, ties by first appearance (kXHC1983, kTGHZ2013,
kHanyuPinyin, in their own order). At most PINYIN_MAX_READINGS are kept.

The table is compact:
  pinyin_syllable[][7]  the distinct toneless syllables, sorted;
  pinyin_pool[]         uint16 syllable indexes; each distinct reading list
                        (many characters share one, e.g. just "yi") is stored
                        once;
  pinyin_list[]         uint16 start of each reading list in pinyin_pool; the
                        list ends where the next one starts;
  pinyin_cp[]           sorted uint32 code points;
  pinyin_cp_list[]      uint16 reading list of each code point.

Usage: sync/roster/gen_pinyin.py [UNIHAN_READINGS] [OUTPUT]
Run it again (and commit the output) when the Unihan data is updated; the
build does not run Python.
"""

import bz2
import collections
import os
import re
import sys
import unicodedata

DEFAULT_INPUT = "/usr/share/unicode/Unihan_Readings.txt.bz2"
DEFAULT_OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "app", "roster",
                              "pinyin_table.c")
MAX_READINGS = 8  # PINYIN_MAX_READINGS in sync/roster/pinyin.h
SYLLABLE_MAX = 6  # "zhuang": the char[][7] rows hold 6 letters and a NUL
FIELDS = ("kMandarin", "kXHC1983", "kTGHZ2013", "kHanyuPinyin")
OTHER_SOURCES = ("kXHC1983", "kTGHZ2013", "kHanyuPinyin")
SYLLABLE_RE = re.compile(r"^[a-z]+$")


def toneless(reading):
    """'lǜ' -> 'lv', 'zhāng' -> 'zhang', 'ê̄' -> 'e', 'ḿ' -> 'm'."""
    decomposed = unicodedata.normalize("NFD", reading.strip().lower())
    decomposed = decomposed.replace("u\u0308", "v")
    out = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    if not SYLLABLE_RE.match(out) or len(out) > SYLLABLE_MAX:
        raise ValueError("unexpected reading %r -> %r" % (reading, out))
    return out


def field_readings(field, value):
    """The readings a field lists, in order, with tones."""
    if field == "kMandarin":
        return value.split()
    readings = []
    for entry in value.split():
        # "1092.070*,1092.071:sóng" or "10508.050:wèi,yù,yùn"
        _, _, listed = entry.partition(":")
        readings.extend(r for r in listed.split(",") if r)
    return readings


def read_unihan(path):
    """({code point: {field: [toneless readings in order]}}, Unicode version)"""
    opener = bz2.open if path.endswith(".bz2") else open
    chars = collections.defaultdict(dict)
    version = "unknown"
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith("# Unicode version:"):
                version = line.split(":", 1)[1].strip()
            if not line.startswith("U+"):
                continue
            cp_text, field, value = line.rstrip("\n").split("\t", 2)
            if field not in FIELDS:
                continue
            cp = int(cp_text[2:], 16)
            chars[cp][field] = [toneless(r) for r in field_readings(field, value)]
    return chars, version


def order_readings(fields):
    """kMandarin first, then by number of sources, then by first appearance."""
    ordered = []
    for r in fields.get("kMandarin", []):
        if r not in ordered:
            ordered.append(r)
    count = collections.Counter()
    first = {}
    position = 0
    for source in OTHER_SOURCES:
        for r in fields.get(source, []):
            first.setdefault(r, position)
            position += 1
        count.update(set(fields.get(source, [])))
    rest = sorted((r for r in first if r not in ordered), key=lambda r: (-count[r], first[r]))
    return (ordered + rest)[:MAX_READINGS]


def c_rows(items, per_line, indent="\t"):
    lines = []
    for i in range(0, len(items), per_line):
        lines.append(indent + ", ".join(items[i:i + per_line]) + ",")
    return "\n".join(lines)


def generate(chars, source_name, version):
    readings = {cp: order_readings(fields) for cp, fields in chars.items()}
    readings = {cp: r for cp, r in readings.items() if r}
    syllables = sorted({s for r in readings.values() for s in r})
    index = {s: i for i, s in enumerate(syllables)}

    lists = {}   # tuple of syllable indexes -> list number
    pool = []
    starts = []
    cps = sorted(readings)
    cp_list = []
    for cp in cps:
        key = tuple(index[s] for s in readings[cp])
        if key not in lists:
            lists[key] = len(starts)
            starts.append(len(pool))
            pool.extend(key)
        cp_list.append(lists[key])
    starts.append(len(pool))
    if len(pool) > 0xFFFF or len(starts) > 0xFFFF or len(syllables) > 0xFFFF:
        raise SystemExit("table too large for uint16 indexes")

    out = []
    out.append("/*\n"
               " * pinyin_table.c — GENERATED FILE, DO NOT EDIT BY HAND.\n"
               " *\n"
               " * Generated by sync/roster/gen_pinyin.py from %s\n"
               " * (Unicode %s Unihan database: kMandarin, kHanyuPinyin, kXHC1983, kTGHZ2013).\n"
               " * Change the generator and run it again instead.\n"
               " *\n"
               " * %d code points, %d distinct reading lists, %d syllables.\n"
               " * Read only through sync/roster/pinyin.c, which declares these arrays; see the\n * layout in the generator's docstring.\n"
               " */\n" % (source_name, version, len(cps), len(starts) - 1, len(syllables)))
    out.append("#include <stddef.h>\n#include <stdint.h>\n")
    out.append("const size_t pinyin_syllable_count = %d;" % len(syllables))
    out.append("const char pinyin_syllable[][7] = {")
    out.append(c_rows(['"%s"' % s for s in syllables], 10))
    out.append("};\n")
    out.append("const size_t pinyin_list_count = %d;" % (len(starts) - 1))
    out.append("/* pinyin_list[n] .. pinyin_list[n + 1]: reading list n in pinyin_pool */")
    out.append("const uint16_t pinyin_list[] = {")
    out.append(c_rows([str(s) for s in starts], 16))
    out.append("};\n")
    out.append("const uint16_t pinyin_pool[] = {")
    out.append(c_rows([str(s) for s in pool], 20))
    out.append("};\n")
    out.append("const size_t pinyin_cp_count = %d;" % len(cps))
    out.append("const uint32_t pinyin_cp[] = {")
    out.append(c_rows(["0x%X" % cp for cp in cps], 12))
    out.append("};\n")
    out.append("const uint16_t pinyin_cp_list[] = {")
    out.append(c_rows([str(n) for n in cp_list], 16))
    out.append("};")
    return "\n".join(out) + "\n", (len(cps), len(starts) - 1, len(pool), len(syllables))


def main(argv):
    src = argv[1] if len(argv) > 1 else DEFAULT_INPUT
    dst = argv[2] if len(argv) > 2 else DEFAULT_OUTPUT
    chars, version = read_unihan(src)
    text, stats = generate(chars, os.path.basename(src), version)
    tmp = dst + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, dst)
    print("%s: %d code points, %d reading lists, %d pool entries, %d syllables, %d bytes"
          % (os.path.normpath(dst), *stats, len(text.encode("utf-8"))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
