#!/bin/sh
# gen-man.sh RILL OUTDIR — writes a man page per command (rill.1, rill-build.1,
# rill-artifact-checkout.1, ...) from the --help text of the rill binary given, so that the pages
# and --help never disagree: the commands come from `rill --help`, each page holds its command's
# --help verbatim (sections at the lines that end with a colon), with NAME and SEE ALSO added.
# SPDX-License-Identifier: Apache-2.0
set -eu
rill=$1
out=$2
mkdir -p "$out"
version=$("$rill" --version 2>/dev/null | head -1 || echo rill)

# roff-safe text: backslashes doubled, lines starting with . or ' protected
esc() {
	sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
}

# page NAME (e.g. "build" or "artifact checkout"; "" for rill itself) SUMMARY
page() {
	name=$1
	summary=$2
	if [ -n "$name" ]; then
		file="$out/rill-$(printf '%s' "$name" | tr ' ' '-').1"
		title="RILL-$(printf '%s' "$name" | tr ' a-z' '-A-Z')"
		# shellcheck disable=SC2086
		help=$("$rill" $name --help 2>&1) || true
		man_name="rill-$(printf '%s' "$name" | tr ' ' '-')"
	else
		file="$out/rill.1"
		title=RILL
		help=$("$rill" --help 2>&1)
		man_name=rill
	fi
	{
		printf '.TH %s 1 "" "%s" "rill manual"\n' "$title" "$version"
		printf '.SH NAME\n%s \\- %s\n' "$man_name" "$(printf '%s' "$summary" | esc)"
		printf '%s\n' "$help" | awk '
			BEGIN { print ".SH DESCRIPTION"; print ".nf" }
			/^[A-Z][A-Za-z ]*:$/ { print ".fi"; sub(/:$/, ""); print ".SH " toupper($0); print ".nf"; next }
			{ print }
			END { print ".fi" }' | esc_body
		printf '.SH SEE ALSO\n'
		if [ -n "$name" ]; then printf '.BR rill (1)\n'; else printf 'rill-COMMAND(1) for each command\n'; fi
	} >"$file"
}

# the body: escaped, but the roff requests the awk script wrote kept
esc_body() {
	sed -e '/^\.\(SH\|nf\|fi\)/!{s/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/" -e '}'
}

page "" "build BuildStream-format projects"
"$rill" --help | awk '/^Commands:$/ { on = 1; next } on && /^$/ { exit } on' |
while IFS= read -r line; do
	# "  build              Build elements in a pipeline": two or more spaces end the name
	cmd=$(printf '%s\n' "$line" | sed -e 's/^ *//' -e 's/  .*//')
	summary=$(printf '%s\n' "$line" | sed -e 's/^ *//' -e 's/^[^ ]*\( [a-z-]*\)\{0,1\}  *//')
	[ -n "$cmd" ] || continue
	page "$cmd" "$summary"
done
