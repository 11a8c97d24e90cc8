#!/bin/sh
# ui-cost.sh — what showing the build costs: the same generated build (N `manual` elements on a
# busybox sysroot) run (a) with no frontend, (b) with the plain frontend writing to a file,
# (c) with the tty frontend on a pseudo-terminal read at 20 KB/s; then the same for bst 1.6.8.
# Usage: bench/ui-cost.sh [N] (default 800); environment variables: see bench/README.md.
# SPDX-License-Identifier: Apache-2.0
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-800}
bst_n=${BST_N:-200}
runs=${RUNS:-3}
bst_runs=${BST_RUNS:-1}
builders=${BUILDERS:-4}
rate=${RATE:-20000}
rill_timeout=${TIMEOUT:-900}
bst_timeout=${BST_TIMEOUT:-900}
ptydrain="$top/bench/ptydrain"

case "$n$bst_n$runs$bst_runs$builders$rate$rill_timeout$bst_timeout" in
*[!0-9]*)
	echo "usage: bench/ui-cost.sh [N]   (N, BST_N, RUNS, BST_RUNS, BUILDERS, RATE, TIMEOUT, BST_TIMEOUT: numbers)" >&2
	exit 2 ;;
esac
[ "$runs" -ge 1 ] && [ "$builders" -ge 1 ] && [ "$rate" -ge 1 ] || {
	echo "ui-cost: RUNS, BUILDERS and RATE must be at least 1" >&2
	exit 2
}
for f in rill rill-backend bench/ptydrain; do
	if [ ! -x "$top/$f" ]; then
		echo "ui-cost: $top/$f is missing: run 'make bench' first" >&2
		exit 2
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/rill-bench-ui.XXXXXX")
trap '[ -n "$KEEP" ] || rm -rf "$work"' EXIT
export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME"

calc() { echo "scale=6; $1" | bc -l | sed 's/^\(-\{0,1\}\)\./\10./'; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
fresh_cache() { rm -rf "$work/cache"; export XDG_CACHE_HOME="$work/cache"; }
# A field of ptydrain's report line ("ptydrain: status S exit_s E ...").
field() { sed -n "s/.* $1 \([^ ]*\).*/\1/p" "$work/report"; }

# measure NAME TIMEOUT [-n] COMMAND...: runs COMMAND under ptydrain (on a pty read at $rate
# bytes/s, or with -n without one); the report is in $work/report, the terminal output in
# $work/NAME.pty. Returns COMMAND's exit status (124 or 137 when it timed out).
measure() {
	name=$1 limit=$2
	shift 2
	rm -f "$work/report"
	status=0
	if [ "$1" = -n ]; then
		shift
		timeout -k 30 "$limit" "$ptydrain" -n -R "$work/report" "$@" || status=$?
	else
		timeout -k 30 "$limit" "$ptydrain" -r "$rate" -o "$work/$name.pty" -R "$work/report" "$@" || status=$?
	fi
	[ -s "$work/report" ] || echo "ptydrain: status $status exit_s $limit drained_s $limit bytes 0 bytes_at_exit 0 cpu_s -1 children_cpu_s -1 start_real 0 exit_real 0" >"$work/report"
	return "$status"
}

failed() {
	echo "ui-cost: $1 failed (exit status $2); last lines of its output:" >&2
	tail -20 "$3" >&2
	exit 1
}

# The session's own times from the status table: sets build_s (session start to its final
# state), startup_s (launch to session start), tail_s (final state to the command's exit).
session_times() {
	set -- $("$top/rill" -C "$proj" status --json | python3 -c '
import json, sys
s = json.load(sys.stdin)["session"]
print(s["state"], s["start_ns"] / 1e9, s["end_ns"] / 1e9)')
	[ "$1" = success ] || { echo "ui-cost: the session ended in state '$1'" >&2; exit 1; }
	build_s=$(calc "$3 - $2")
	startup_s=$(calc "$2 - $(field start_real)")
	tail_s=$(calc "$(field exit_real) - $3")
}

# The status directory rill uses for a project (frontends/status-reader.c rill_status_dir).
status_dir() {
	python3 -c '
import os, sys
real = os.path.realpath(sys.argv[1])
h = 14695981039346656037
for b in real.encode():
    h = ((h ^ b) * 1099511628211) % 2**64
print("%s/rill/status/%s-%016x" % (os.environ["XDG_CACHE_HOME"], os.path.basename(real) or "root", h))' "$1"
}

# The backend under another process name: tests that kill every process named rill-backend
# (pkill -x) on a shared machine must not take the benchmark's down. rill finds it through
# RILL_BACKEND; the backend finds its plugins from /proc/self/exe, the real path.
mkdir -p "$work/bin"
ln -s "$top/rill-backend" "$work/bin/rill-bench-be"
export RILL_BACKEND="$work/bin/rill-bench-be"

echo "machine: $(nproc) cores, $(uptime | sed 's/^ *//')"
echo "settings: builders $builders; pty 120x40, TERM=xterm-256color, read at $rate bytes/s; every run from an empty cache"

# ---- rill --------------------------------------------------------------------------------
proj="$work/p$n"
python3 "$top/bench/gen-project.py" "$n" "$proj" --sysroot -q

# (a) the backend started as rill starts it (frontends/rill.c run_pipeline): its own session,
# stdin from /dev/null, stdout and stderr to backend.log in the status directory.
rill_a() {
	sdir=$(status_dir "$proj")
	mkdir -p "$sdir"
	sid=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')
	measure a "$rill_timeout" -n "$RILL_BACKEND" -C "$proj" build --status-dir "$sdir" --session "$sid" \
		--builders "$builders" target.bst </dev/null >"$sdir/backend.log" 2>&1 ||
		failed "rill-backend build" "$?" "$sdir/backend.log"
	bytes=0 fe_cpu=- be_cpu=$(calc "$(field cpu_s) + $(field children_cpu_s)")
}
rill_b() {
	measure b "$rill_timeout" -n "$top/rill" -C "$proj" build --builders "$builders" --frontend plain target.bst \
		</dev/null >"$work/b.out" 2>&1 || failed "rill build --frontend plain" "$?" "$work/b.out"
	bytes=$(wc -c <"$work/b.out") fe_cpu=$(field cpu_s) be_cpu=$(field children_cpu_s)
}
rill_c() {
	measure c "$rill_timeout" "$top/rill" -C "$proj" build --builders "$builders" target.bst ||
		failed "rill build on a pty" "$?" "$work/c.pty"
	grep -q 'Pipeline Summary' "$work/c.pty" || failed "rill build on a pty (no summary shown)" 0 "$work/c.pty"
	grep -q "$(printf '\033')\[" "$work/c.pty" || failed "rill build on a pty (not the tty frontend)" 0 "$work/c.pty"
	bytes=$(field bytes) fe_cpu=$(field cpu_s) be_cpu=$(field children_cpu_s)
}

echo
echo "rill: $n elements (+ base, target), $runs runs of each after an untimed warm-up (a); order a b c in each round"
echo "  wall: launch to exit; build: the session's start to its final state (status table); tail: final state to"
echo "  the command's exit (backend teardown, and the frontend's last frame and summary); fe cpu: the frontend"
echo "  process's own CPU time; be cpu: the backend's and its jobs'"
printf '  %-3s %-4s %8s %8s %7s %7s %8s %8s %9s  %s\n' run mode wall build startup tail "fe cpu" "be cpu" bytes "load"
fresh_cache
rill_a
for mode in a b c; do
	eval "w_$mode= b_$mode= t_$mode= f_$mode= y_$mode= d_$mode="
done
i=1
while [ "$i" -le "$runs" ]; do
	for mode in a b c; do
		fresh_cache
		rill_$mode
		session_times
		wall=$(field exit_s)
		printf '  %-3s %-4s %8.2f %8.2f %7.3f %7.3f %8s %8.1f %9s  %s\n' "$i" "($mode)" "$wall" "$build_s" \
			"$startup_s" "$tail_s" "$fe_cpu" "$be_cpu" "$bytes" "$(load)"
		[ "$mode" != c ] || [ "$(field drained_s)" = "$wall" ] ||
			printf '  %-3s %-4s %8.2f   all output shown (drained) at this time\n' "" "" "$(field drained_s)"
		eval "w_$mode=\"\$w_$mode $wall\" b_$mode=\"\$b_$mode $build_s\" t_$mode=\"\$t_$mode $tail_s\""
		eval "f_$mode=\"\$f_$mode $fe_cpu\" y_$mode=\"\$y_$mode $bytes\" d_$mode=\"\$d_$mode $(field drained_s)\""
	done
	i=$((i + 1))
done
med() { eval "echo \"\$$1\"" | median; }
ma=$(med w_a)
echo "  medians:"
printf '  (a) no frontend (rill-backend alone)                wall %7.2f s  build %7.2f s  tail %6.3f s\n' \
	"$ma" "$(med b_a)" "$(med t_a)"
for mode in b c; do
	if [ $mode = b ]; then
		what="(b) rill build --frontend plain 2>file      "
	else
		what="(c) rill build, tty frontend, pty at $rate B/s"
	fi
	m=$(med w_$mode) r=$(calc "$(med w_$mode) / $ma")
	printf '  %s wall %7.2f s  build %7.2f s  tail %6.3f s  fe cpu %5.2f s  %s bytes\n' "$what" "$m" \
		"$(med b_$mode)" "$(med t_$mode)" "$(med f_$mode)" "$(med y_$mode)"
	# what the frontend can cost the build, whatever the other load: its own CPU time (taken
	# from the build's cores at worst one for one) plus how much later than (a) it returns
	late=$(calc "$(med t_$mode) - $(med t_a)")
	[ "$(calc "$late < 0")" = 0 ] || late=0
	bound=$(calc "1 + ($(med f_$mode) + $late) / $ma")
	goal=met
	[ "$(calc "$r <= 1.01")" = 1 ] || goal="NOT MET"
	printf '      (%s)/(a) = %.4f: goal <= 1.01 %s;  frontend CPU + late return, over (a): %.4f\n' \
		"$mode" "$r" "$goal" "$bound"
done
printf '  (c): all output shown at %.2f s (median)\n' "$(med d_c)"

# ---- bst 1.6.8 ---------------------------------------------------------------------------
if [ -n "$SKIP_BST" ] || ! command -v bst >/dev/null; then
	echo
	echo "bst not measured (install the Debian package buildstream, or unset SKIP_BST)"
	exit 0
fi
proj="$work/p$bst_n"
[ -d "$proj" ] || python3 "$top/bench/gen-project.py" "$bst_n" "$proj" --sysroot -q
echo
echo "$(bst --version 2>/dev/null | sed 's/^/bst /'): $bst_n elements (+ base, target), $bst_runs run(s) of each, timeout $bst_timeout s each"
echo "  (a) for bst: output to /dev/null. bst cannot build without its frontend; this is the closest."
echo "  cpu: bst's main process (scheduler and UI); jobs: its job processes"
printf '  %-3s %-4s %8s %8s %8s %9s %8s  %s\n' run mode wall cpu jobs bytes drained load
for mode in a b c; do
	eval "w_$mode= f_$mode= y_$mode="
done
bst_args="--builders $builders -C $proj build target.bst"
i=1
while [ "$i" -le "$bst_runs" ]; do
	for mode in a b c; do
		fresh_cache
		note=
		status=0
		case $mode in
		a) measure a "$bst_timeout" -n bst $bst_args </dev/null >/dev/null 2>&1 || status=$? ;;
		b) measure b "$bst_timeout" -n bst $bst_args </dev/null >"$work/bst-b.out" 2>&1 || status=$? ;;
		c) measure c "$bst_timeout" bst $bst_args || status=$? ;;
		esac
		case $status in
		0) ;;
		124|137) note="  TIMED OUT after $bst_timeout s: at least this long" ;;
		*) failed "bst build ($mode)" "$status" "$work/bst-b.out" ;;
		esac
		bytes=$(field bytes)
		[ $mode != b ] || bytes=$(wc -c <"$work/bst-b.out")
		printf '  %-3s %-4s %8.2f %8.2f %8.2f %9s %8.2f  %s%s\n' "$i" "($mode)" "$(field exit_s)" "$(field cpu_s)" \
			"$(field children_cpu_s)" "$bytes" "$(field drained_s)" "$(load)" "$note"
		eval "w_$mode=\"\$w_$mode $(field exit_s)\" y_$mode=\"\$y_$mode $bytes\""
	done
	i=$((i + 1))
done
ma=$(med w_a)
printf '  (a) bst build >/dev/null 2>&1            wall %7.2f s\n' "$ma"
printf '  (b) bst build 2>file                     wall %7.2f s  %s bytes   (b)/(a) = %.4f\n' "$(med w_b)" \
	"$(med y_b)" "$(calc "$(med w_b) / $ma")"
printf '  (c) bst build, pty at %s B/s          wall %7.2f s  %s bytes   (c)/(a) = %.4f\n' "$rate" "$(med w_c)" \
	"$(med y_c)" "$(calc "$(med w_c) / $ma")"
echo "machine at the end: $(uptime | sed 's/^ *//')"
