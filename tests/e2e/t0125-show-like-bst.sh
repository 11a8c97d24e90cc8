#!/bin/sh
# t0125 — `rill show --bst-keys` prints what bst 1.6.8 prints, byte for byte: keys and states,
# format specs, %{env}, %{config}, %{public} and %{vars} (YAML as bst's emitter writes it; for
# %{vars} the sorted entries, as bst's own order changes from run to run), and the newlines that
# end the report stripped as bst strips them. The expectations are bst's output, recorded by
# tests/e2e/projects/keys/record-show.sh from show-formats.txt.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
K="$TOP/tests/e2e/projects/keys"
n=0
while IFS= read -r line; do
	[ -n "$line" ] || continue
	case "$line" in \#*) continue ;; esac
	n=$((n + 1))
	deps=${line%% *}
	fmt=$(printf '%s' "${line#* }" | sed 's/\\n/\n/g')
	"$RILL" -C "$K" show --bst-keys --deps "$deps" --format "$fmt" all.bst >"$TMP/out.$n" 2>"$TMP/err.$n"
	rc=$?
	label=$(printf '%s' "${line#* }" | sed 's/\\n/ NL /g' | cut -c1-44)
	case "$fmt" in
	*%\{vars\}*) python3 "$TOP/tests/compat/vars-entries.py" <"$TMP/out.$n" >"$TMP/norm.$n" && mv "$TMP/norm.$n" "$TMP/out.$n" ;;
	esac
	if [ "$rc" -eq 0 ] && cmp -s "$K/expected-show/$n.txt" "$TMP/out.$n"; then
		pass "format $n ($label) prints as bst does"
	else
		fail "format $n ($label) prints as bst does" "rc $rc $(cat "$TMP/err.$n")
$(diff "$K/expected-show/$n.txt" "$TMP/out.$n" | head -10)"
	fi
done <"$K/show-formats.txt"
finish
