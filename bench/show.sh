#!/usr/bin/env bash
# show.sh — times `rill show` against `bst show` (BuildStream 1.6.8), --deps all, on projects
# made by gen-project.py; reports wall time, peak RSS, bst/rill and whether both list the same names.
# SPDX-License-Identifier: Apache-2.0
#
# Usage: bench/show.sh [PROJECT...]      (default: 1000 60000 debian debian-rich debian:300 wide:1000)
#   N          gen-project.py's layered project of N elements (target.bst)
#   debian     gen-debian.py's project of Debian's whole archive from apt's lists (all.bst):
#              each package an element with its dependencies (--lean)
#   debian:K   the same limited to the first K packages and what they depend on
#   debian-rich, debian-rich:K   the same with a description, variables and commands per element
#   wide:N     gen-wide.py's N elements with dependency lists up to 400 wide (target.bst)
# Environment:
#   RILL=path      rill binary (default: <top>/rill)
#   BST=cmd        bst command (default: bst)
#   TOOLS="rill bst"  which tools to measure (e.g. TOOLS=bst for bst only)
#   BST_MAX=5000   skip bst above this N (bst 1.6.8 grows superlinearly: ~50 s, ~480 MB at 5,000)
#   BST_FRESH=0    reuse a cached bst figure for the same project instead of measuring bst in this run
#   RUNS=3         timed runs per tool, after one untimed warm-up run
#   SEED=1         generator seed
#   TIMEOUT=900    seconds before a single run is killed
#   OUT=dir        where projects are generated (default: bench/out)
# Exit status: 0 all good; 1 rill failed, or a name-set or order mismatch; 2 usage error or rill missing.
set -eu

BENCH=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$BENCH")
RILL=${RILL:-$TOP/rill}
BST=${BST:-bst}
TOOLS=${TOOLS:-rill bst}
BST_MAX=${BST_MAX:-5000}
# Extra arguments for rill show, e.g. RILL_SHOW_ARGS=--bst-keys to compute BuildStream-identical keys.
RILL_SHOW_ARGS=${RILL_SHOW_ARGS:-}
BST_FRESH=${BST_FRESH:-1}
RUNS=${RUNS:-3}
SEED=${SEED:-1}
TIMEOUT=${TIMEOUT:-900}
OUT=${OUT:-$BENCH/out}
FORMAT='%{name} %{key}'

die() { echo "show.sh: error: $*" >&2; exit 2; }
log() { echo "show.sh: $*" >&2; }
isint() { case "$1" in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac; }

[ $# -gt 0 ] || set -- 1000 60000 debian debian-rich debian:300 wide:1000
for n in "$@"; do
	case "$n" in
	debian | debian:* | debian-rich | debian-rich:* | wide:*)
		v=${n#*:}; [ "$v" = "$n" ] || isint "$v" || die "'$n': expected a number after ':'" ;;
	*) isint "$n" || die "PROJECT must be N, debian[-rich][:K] or wide:N, got '$n'" ;;
	esac
done
for v in BST_MAX RUNS SEED TIMEOUT; do
	isint "${!v}" || die "$v must be a non-negative integer, got '${!v}'"
done
[ "$RUNS" -ge 1 ] || die "RUNS must be at least 1"
command -v python3 >/dev/null || die "python3 is needed for gen-project.py"

want_rill=0 want_bst=0
for t in $TOOLS; do
	case "$t" in
	rill) want_rill=1 ;;
	bst) want_bst=1 ;;
	*) die "TOOLS may only name rill and bst, got '$t'" ;;
	esac
done
if [ "$want_rill" = 1 ]; then
	if [ ! -e "$RILL" ]; then
		die "rill binary not found at $RILL — build it with 'make' in $TOP, set RILL=path, or run TOOLS=bst $0 to measure bst alone"
	fi
	[ -x "$RILL" ] || die "rill at $RILL is not executable"
fi
BST_VERSION=""
if [ "$want_bst" = 1 ]; then
	command -v "$BST" >/dev/null || die "bst not found ('$BST'); install BuildStream 1.6.8 or run TOOLS=rill $0"
	BST_VERSION=$("$BST" --version 2>/dev/null) || die "'$BST --version' failed"
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/rill-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
# Each tool gets a throw-away XDG cache/config/data so the user's own setup plays no part
# (the warm-up run pays any first-run cost, e.g. bst creating its artifact cache).
mkdir -p "$TMP"/xdg-{rill,bst}/{cache,config,data}
# with_xdg TOOL CMD... : runs CMD with TOOL's private XDG directories.
with_xdg() {
	local d=$TMP/xdg-$1
	shift
	XDG_CACHE_HOME=$d/cache XDG_CONFIG_HOME=$d/config XDG_DATA_HOME=$d/data "$@"
}

status=0
rows=()      # table rows
summary=()   # ratio / check lines

# ms_to_s MS -> seconds with 3 decimals
ms_to_s() { awk -v m="$1" 'BEGIN { printf "%.3f", m / 1000 }'; }
kb_to_mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

# row N TOOL MIN_MS MED_MS KB NOTE : one table row.
row() {
	printf '%10s  %-4s  %8s  %8s  %7s  %4s  %s' "$1" "$2" "$(ms_to_s "$3")" "$(ms_to_s "$4")" \
		"$(kb_to_mb "$5")" "$RUNS" "$6" | sed 's/ *$//'
}
# showcmd ARGS... : the command line, with arguments that need it in single quotes.
showcmd() {
	local a out=""
	for a in "$@"; do
		case "$a" in *[!A-Za-z0-9_./=:-]* | '') a="'$a'" ;; esac
		out="$out${out:+ }$a"
	done
	echo "$out"
}

# run_once TOOL OUTFILE ERRFILE CMD... : runs CMD once (runone.py: posix_spawn, wait4); sets
# RUN_MS, RUN_KB, RUN_RC.
run_once() {
	local tool=$1 out=$2 err=$3 res
	shift 3
	set +e
	res=$(with_xdg "$tool" python3 "$BENCH/runone.py" "$TIMEOUT" "$out" "$err" "$@")
	RUN_RC=$?
	set -e
	if [ "$RUN_RC" = 0 ]; then
		read -r RUN_MS RUN_KB RUN_RC <<<"$res"
	else
		RUN_MS=0 RUN_KB=0
	fi
	isint "$RUN_KB" || RUN_KB=0
}

# measure TOOL N OUTFILE CMD... : one warm-up run (its stdout kept in OUTFILE), then RUNS timed
# runs. Sets M_MIN_MS, M_MED_MS, M_MAX_KB; returns non-zero (after saying why) if a run fails.
measure() {
	local tool=$1 n=$2 keep=$3 i times=()
	shift 3
	log "$lab: $tool warm-up run"
	run_once "$tool" "$keep" "$TMP/err" "$@"
	if [ "$RUN_RC" != 0 ]; then
		if [ "$RUN_RC" = 124 ]; then
			log "$lab: $tool TIMED OUT after ${TIMEOUT}s: $(showcmd "$@")"
		else
			log "$lab: $tool FAILED (exit status $RUN_RC): $(showcmd "$@")"
		fi
		log "---- last lines of its stderr ----"
		tail -n 15 "$TMP/err" | sed 's/^/    /' >&2
		return 1
	fi
	M_MAX_KB=0
	for ((i = 1; i <= RUNS; i++)); do
		run_once "$tool" "$TMP/run.out" "$TMP/err" "$@"
		if [ "$RUN_RC" != 0 ]; then
			log "$lab: $tool FAILED on timed run $i (exit status $RUN_RC): $(showcmd "$@")"
			tail -n 15 "$TMP/err" | sed 's/^/    /' >&2
			return 1
		fi
		log "$lab: $tool run $i: $(ms_to_s "$RUN_MS") s, $(kb_to_mb "$RUN_KB") MB"
		times+=("$RUN_MS")
		[ "$RUN_KB" -gt "$M_MAX_KB" ] && M_MAX_KB=$RUN_KB
	done
	mapfile -t times < <(printf '%s\n' "${times[@]}" | sort -n)
	M_MIN_MS=${times[0]}
	M_MED_MS=${times[$(( (${#times[@]} - 1) / 2 ))]}
	return 0
}

# names FILE -> sorted first column
names() { awk 'NF { print $1 }' "$1" | LC_ALL=C sort; }

# compare_names LABEL_A FILE_A LABEL_B FILE_B N : appends a check line; loud on mismatch.
compare_names() {
	local la=$1 fa=$2 lb=$3 fb=$4 n=$5 ca cb
	names "$fa" >"$TMP/na"
	names "$fb" >"$TMP/nb"
	ca=$(wc -l <"$TMP/na")
	cb=$(wc -l <"$TMP/nb")
	if cmp -s "$TMP/na" "$TMP/nb"; then
		summary+=("$lab: names OK: $la and $lb list the same $ca elements")
		return 0
	fi
	status=1
	summary+=("$lab: *** NAME MISMATCH *** $la lists $ca names ($(sort -u "$TMP/na" | wc -l) distinct), $lb lists $cb ($(sort -u "$TMP/nb" | wc -l) distinct)")
	local only
	only=$(LC_ALL=C comm -23 "$TMP/na" "$TMP/nb" | head -n 5 | tr '\n' ' ')
	[ -z "$only" ] || summary+=("    only in $la (first 5): $only")
	only=$(LC_ALL=C comm -13 "$TMP/na" "$TMP/nb" | head -n 5 | tr '\n' ' ')
	[ -z "$only" ] || summary+=("    only in $lb (first 5): $only")
	return 1
}

# same_keys RILL_OUT BST_OUT N : informational — how many elements got the same key from both.
same_keys() {
	local same total
	total=$(awk 'NF' "$2" | wc -l)
	same=$(LC_ALL=C join <(awk 'NF { print $1, $2 }' "$1" | LC_ALL=C sort) \
		<(awk 'NF { print $1, $2 }' "$2" | LC_ALL=C sort) | awk '$2 == $3' | wc -l)
	summary+=("$lab: keys (info): $same of $total elements have the same %{key} in rill and bst (the same with RILL_SHOW_ARGS=--bst-keys)")
}

# same_order RILL_OUT BST_OUT : appends a check line: both list the elements in the same order.
same_order() {
	if cmp -s <(awk 'NF { print $1 }' "$1") <(awk 'NF { print $1 }' "$2"); then
		summary+=("$lab: order OK: rill lists the elements in bst's order")
	else
		status=1
		summary+=("$lab: *** ORDER MISMATCH *** $(diff <(awk 'NF { print $1 }' "$1") <(awk 'NF { print $1 }' "$2") | grep -c '^[<>]') lines differ from bst's order")
	fi
}

for n in "$@"; do
	mkdir -p "$OUT"
	target=target.bst
	case "$n" in
	debian*)
		lab=$n proj=$OUT/${n/:/-} target=all.bst
		lim=${n#debian}
		lim=${lim#-rich}
		lim=${lim#:}
		lean=--lean
		case "$n" in debian-rich*) lean= ;; esac
		python3 "$BENCH/gen-debian.py" auto "$proj" ${lim:+--limit "$lim" --closure} $lean --if-changed -q ;;
	wide:*)
		lab=$n proj=$OUT/wide-${n#wide:}-$SEED
		python3 "$BENCH/gen-wide.py" "${n#wide:}" "$proj" --seed "$SEED" --if-changed -q ;;
	*)
		lab="N=$n" proj=$OUT/$n
		python3 "$BENCH/gen-project.py" "$n" "$proj" --seed "$SEED" --if-changed ;;
	esac
	stamp=$(cat "$proj/.bench-gen")
	# The element files themselves are the expected answer.
	(cd "$proj/elements" && find . -name '*.bst' -type f | sed 's|^\./||') >"$TMP/expected.out"
	nexp=$(wc -l <"$TMP/expected.out")
	size=$nexp

	rill_ok=0 rill_min=0 rill_kb=0
	if [ "$want_rill" = 1 ]; then
		if measure rill "$n" "$TMP/rill.out" "$RILL" -C "$proj" show $RILL_SHOW_ARGS --deps all --format "$FORMAT" "$target"; then
			rill_ok=1 rill_min=$M_MIN_MS rill_kb=$M_MAX_KB
			rows+=("$(row "$n" rill "$M_MIN_MS" "$M_MED_MS" "$M_MAX_KB" "")")
			compare_names rill "$TMP/rill.out" "element files" "$TMP/expected.out" "$n" || true
		else
			status=1
			rows+=("$(printf '%10s  %-4s  %s' "$n" rill "FAILED (see messages above)")")
			if [ "$RUN_RC" = 124 ]; then
				summary+=("$lab: *** rill FAILED *** (timed out after ${TIMEOUT}s)")
			else
				summary+=("$lab: *** rill FAILED *** (exit status $RUN_RC)")
			fi
		fi
	fi

	bst_ok=0 bst_min=0 bst_kb=0
	if [ "$want_bst" = 1 ]; then
		cache=$proj/.bst-result
		note=""
		if [ "$size" -gt "$BST_MAX" ]; then
			rows+=("$(printf '%10s  %-4s  %s' "$n" bst "skipped: $size elements > BST_MAX=$BST_MAX")")
			summary+=("$lab: bst skipped: $size elements > BST_MAX=$BST_MAX (bst $BST_VERSION grows superlinearly, ~50 s and ~480 MB at 5,000 elements; BST_MAX=$size to force)")
		elif [ "$BST_FRESH" != 1 ] && [ -f "$cache" ] && [ -f "$proj/.bst-show.out" ] &&
			[ "$(sed -n 1p "$cache")" = "$stamp" ] && [ "$(sed -n 2p "$cache")" = "$BST_VERSION $RUNS" ]; then
			read -r bst_min bst_med bst_kb when < <(sed -n 3p "$cache")
			cp "$proj/.bst-show.out" "$TMP/bst.out"
			bst_ok=1 note="cached $when"
			log "$lab: bst figures reused from $cache, measured $when (BST_FRESH=0 reused it; the default measures bst in the same run)"
		elif measure bst "$n" "$TMP/bst.out" "$BST" -C "$proj" show --deps all --format "$FORMAT" "$target"; then
			bst_ok=1 bst_min=$M_MIN_MS bst_med=$M_MED_MS bst_kb=$M_MAX_KB
			printf '%s\n%s\n%s %s %s %s\n' "$stamp" "$BST_VERSION $RUNS" "$bst_min" "$bst_med" "$bst_kb" \
				"$(date -u +%Y-%m-%dT%H:%MZ)" >"$cache"
			cp "$TMP/bst.out" "$proj/.bst-show.out"
		else
			rows+=("$(printf '%10s  %-4s  %s' "$n" bst "FAILED (see messages above)")")
			summary+=("$lab: bst FAILED (exit status $RUN_RC) — no comparison")
		fi
		if [ "$bst_ok" = 1 ]; then
			rows+=("$(row "$n" bst "$bst_min" "$bst_med" "$bst_kb" "$note")")
			compare_names bst "$TMP/bst.out" "element files" "$TMP/expected.out" "$n" || true
		fi
	fi

	parts=()
	[ "$rill_ok" = 0 ] || parts+=("rill $(ms_to_s "$rill_min") s / $(kb_to_mb "$rill_kb") MB")
	[ "$bst_ok" = 0 ] || parts+=("bst $(ms_to_s "$bst_min") s / $(kb_to_mb "$bst_kb") MB")
	if [ "$rill_ok" = 1 ] && [ "$bst_ok" = 1 ]; then
		parts+=("bst/rill = $(awk -v b="$bst_min" -v r="$rill_min" 'BEGIN { printf "%.0fx", b / (r > 0 ? r : 1) }')")
	fi
	if [ "${#parts[@]}" -gt 0 ]; then
		line=$(IFS=,; echo "${parts[*]}")
		summary+=("$lab: ${line//,/, }")
	fi
	if [ "$rill_ok" = 1 ] && [ "$bst_ok" = 1 ]; then
		compare_names rill "$TMP/rill.out" bst "$TMP/bst.out" "$n" && same_order "$TMP/rill.out" "$TMP/bst.out" &&
			same_keys "$TMP/rill.out" "$TMP/bst.out" "$n"
	fi
	# The project's goals (see bench/README.md).
	if [ "$rill_ok" = 1 ] && [ "$bst_ok" = 1 ] && [ "$size" -ge 1000 ]; then
		awk -v b="$bst_min" -v r="$rill_min" -v n="$lab" 'BEGIN { x = b / (r > 0 ? r : 1);
			printf "%s: goal >= 100x faster than bst: %s (%.0fx)\n", n, (x >= 100 ? "met" : "NOT MET"), x }' >"$TMP/goal"
		summary+=("$(cat "$TMP/goal")")
	fi
	if [ "$rill_ok" = 1 ] && { [ "$n" = debian ] || [ "$n" = debian-rich ]; }; then
		if [ "$rill_min" -le 1000 ] && [ "$rill_kb" -le $((300 * 1024)) ]; then g=met
		elif [ "$rill_min" -le 2000 ] && [ "$rill_kb" -le $((300 * 1024)) ]; then g="met at worst (<= 2 s)"
		else g="NOT MET"; fi
		summary+=("$lab: goal <= 1 s (at worst 2 s) and <= 300 MB: $g")
	elif [ "$rill_ok" = 1 ] && [ "$size" -ge 60000 ]; then
		if [ "$rill_min" -lt 2000 ] && [ "$rill_kb" -lt $((500 * 1024)) ]; then g=met; else g="NOT MET"; fi
		summary+=("$lab: goal < 2 s and < 500 MB: $g")
	fi
	log "$lab: done ($nexp element files)"
done

echo
printf '%10s  %-4s  %8s  %8s  %7s  %4s  %s\n' N tool "min s" "median s" "peak MB" runs note
printf '%s\n' "${rows[@]}"
echo
printf '%s\n' "${summary[@]}"
echo "(wall time: best of RUNS after a warm-up; peak RSS: the highest of those runs; MB = MiB)"
[ "$status" = 0 ] || echo "show.sh: *** FAILED: see the lines marked *** above ***" >&2
exit "$status"
