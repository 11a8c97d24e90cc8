#!/bin/sh
# remote.sh [ELEMENTS] — push and pull throughput of rill and bst 1.6.8 against BuildStream's own
# artifact server (tests/tools/casserver.py, 127.0.0.1), on the same project in bst-key mode, so
# both move the same artifacts. The data is real: each element imports one directory of this
# machine's /usr (Python packages: many small files; shared libraries: fewer, bigger ones).
# Each tool builds the project once (imports only), then: push --deps all into an empty server,
# push again (everything already there), pull --deps all into an empty cache. Prints seconds,
# MB/s and artifacts/s per step and the ratio bst/rill.
# SPDX-License-Identifier: Apache-2.0
set -eu
N=${1:-40}
TOP=$(cd "$(dirname "$0")/.." && pwd)
RILL=$TOP/rill
W=$(mktemp -d /tmp/rill-bench-remote.XXXXXX)
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
command -v bst >/dev/null || { echo "remote.sh needs bst 1.6.8 (apt-get install buildstream)" >&2; exit 2; }

server() { # VAR REPO
	/usr/bin/python3 "$TOP/tests/tools/casserver.py" "$2" >"$W/$1.port" 2>/dev/null &
	PIDS="$PIDS $!"
	i=0
	while [ ! -s "$W/$1.port" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
	eval "$1=$(cat "$W/$1.port")"
}

# the project: N imports of real directories
P=$W/proj
mkdir -p "$P/elements" "$P/files"
printf 'name: rbench\nelement-path: elements\n' >"$P/project.conf"
i=0
for d in $(ls -d /usr/lib/python3/dist-packages/*/ /usr/lib/x86_64-linux-gnu/*/ 2>/dev/null); do
	[ $i -ge "$N" ] && break
	sz=$(du -sk "$d" 2>/dev/null | cut -f1)
	[ "${sz:-0}" -ge 64 ] && [ "${sz:-0}" -le 40000 ] || continue
	mkdir -p "$P/files/e$i"
	cp -a "$d" "$P/files/e$i/" 2>/dev/null || true
	find "$P/files/e$i" ! -type f ! -type d ! -type l -delete 2>/dev/null || true
	printf 'kind: import\nsources:\n- kind: local\n  path: files/e%s\n' "$i" >"$P/elements/e$i.bst"
	i=$((i + 1))
done
{
	printf 'kind: stack\ndepends:\n'
	for f in "$P"/elements/e*.bst; do printf -- '- %s\n' "$(basename "$f")"; done
} >"$P/elements/all.bst"
N=$i
BYTES=$(du -sb "$P/files" | cut -f1)
FILES=$(find "$P/files" -type f | wc -l)
MB=$(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1e6 }')
echo "project: $N import elements, $FILES files, $MB MB (from /usr), artifacts: $((N + 1))"

now() { date +%s.%N; }
step() { # LABEL TOOL-CMD...: prints and records the time in $T
	label=$1
	shift
	t0=$(now)
	"$@" >"$W/step.log" 2>&1 || { echo "$label failed:"; tail -20 "$W/step.log"; exit 1; }
	t1=$(now)
	T=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	printf '  %-34s %7.2f s  %7.1f MB/s  %6.1f artifacts/s\n' "$label" "$T" \
		"$(awk -v b="$BYTES" -v t="$T" 'BEGIN { print b / 1e6 / t }')" \
		"$(awk -v n="$((N + 1))" -v t="$T" 'BEGIN { print n / t }')"
}

export XDG_CONFIG_HOME=$W/config
mkdir -p "$XDG_CONFIG_HOME"
server RS "$W/repo-rill"
server BS "$W/repo-bst"

echo "rill $(cd "$TOP" && git rev-parse --short HEAD 2>/dev/null || echo '?'):"
export XDG_CACHE_HOME=$W/cache-rill
"$RILL" -C "$P" --bst-keys build all.bst >/dev/null 2>&1
step "push --deps all (empty server)" "$RILL" -C "$P" --bst-keys ${RILL_PUSH_ARGS:-} push --deps all --remote "http://127.0.0.1:$RS" all.bst
r_push=$T
step "push again (all there)" "$RILL" -C "$P" --bst-keys ${RILL_PUSH_ARGS:-} push --deps all --remote "http://127.0.0.1:$RS" all.bst
r_again=$T
export XDG_CACHE_HOME=$W/cache-rill2
step "pull --deps all (empty cache)" "$RILL" -C "$P" --bst-keys pull --deps all --remote "http://127.0.0.1:$RS" all.bst
r_pull=$T

[ -n "${RILL_ONLY:-}" ] && { echo "work dir: $W"; exit 0; }
echo "bst $(bst --version 2>/dev/null):"
export XDG_CACHE_HOME=$W/cache-bst
bst -C "$P" --no-colors build all.bst >/dev/null 2>&1
step "push --deps all (empty server)" bst -C "$P" --no-colors push --deps all --remote "http://127.0.0.1:$BS" all.bst
b_push=$T
step "push again (all there)" bst -C "$P" --no-colors push --deps all --remote "http://127.0.0.1:$BS" all.bst
b_again=$T
export XDG_CACHE_HOME=$W/cache-bst2
step "pull --deps all (empty cache)" bst -C "$P" --no-colors pull --deps all --remote "http://127.0.0.1:$BS" all.bst
b_pull=$T

# the two servers hold the same artifacts: the same refs and the same files/ trees
rr=$(cd "$W/repo-rill/cas/refs/heads" && find . -type f | sort | md5sum | cut -c1-8)
br=$(cd "$W/repo-bst/cas/refs/heads" && find . -type f | sort | md5sum | cut -c1-8)
echo "refs on the servers: rill $rr, bst $br ($( [ "$rr" = "$br" ] && echo same || echo DIFFERENT))"
printf 'ratio bst/rill: push %.1fx, push again %.1fx, pull %.1fx\n' \
	"$(awk -v a="$b_push" -v b="$r_push" 'BEGIN { print a / b }')" \
	"$(awk -v a="$b_again" -v b="$r_again" 'BEGIN { print a / b }')" \
	"$(awk -v a="$b_pull" -v b="$r_pull" 'BEGIN { print a / b }')"
