#!/bin/sh
# core/'s subsystems include only their own headers and those of the layers below them
# (docs/architecture.md): base, status, format, plugin, graph and cache side by side, build,
# sched, cli. The includes upwards that remain to be untangled are listed here; a new one
# fails, and so does one of these once it is gone (then take it off the list).
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
KNOWN="plugin/plugin.c>build plugin/plugin.c>graph plugin/pluginctx.h>graph"
level() {
	case "$1" in
	base) echo 0 ;; status) echo 1 ;; format) echo 2 ;; plugin) echo 3 ;;
	graph | cache) echo 4 ;; build) echo 5 ;; sched) echo 6 ;; cli) echo 7 ;; *) echo 99 ;;
	esac
}
cd "$TOP/core" || exit 1
bad="" seen="" folders=0
for f in */*.c */*.h; do
	from=${f%%/*}
	for inc in $(sed -n 's/^#include "\([a-z]*\)\/[a-z0-9-]*\.h".*/\1/p' "$f" | sort -u); do
		[ "$inc" = "$from" ] && continue
		lf=$(level "$from") li=$(level "$inc")
		if [ "$li" -ge "$lf" ]; then
			case " $KNOWN " in
			*" $f>$inc "*) seen="$seen $f>$inc" ;;
			*) bad="$bad $f includes $inc/;" ;;
			esac
		fi
	done
done
for d in */; do [ -f "$d/README.md" ] && folders=$((folders + 1)); done
[ -z "$bad" ] && pass "no include goes up a layer but the known ones" || fail "no include goes up a layer but the known ones" "$bad"
gone=""
for k in $KNOWN; do case "$seen " in *" $k "*) ;; *) gone="$gone $k" ;; esac; done
[ -z "$gone" ] && pass "the known upward includes are all still there (else: off the list)" ||
	fail "the known upward includes are all still there (else: off the list)" "gone:$gone"
[ "$(ls -d */ | wc -l)" -ge 4 ] && [ "$folders" -eq "$(ls -d */ | wc -l)" ] &&
	pass "every subsystem folder says what it owns (README.md)" || fail "every subsystem folder says what it owns (README.md)" "$folders"
big=$(wc -l */*.c */*.h | awk '$2 != "total" && $1 > 1500 { print $2 }' | tr '\n' ' ')
[ -z "$big" ] && pass "no file over 1,500 lines" || fail "no file over 1,500 lines" "$big"
ls ./*.c ./*.h >/dev/null 2>&1 && fail "no C file left at the top of core/" "$(ls ./*.c ./*.h)" || pass "no C file left at the top of core/"
finish
