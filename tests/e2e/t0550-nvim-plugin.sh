#!/bin/sh
# t0550 — the Neovim plugin in examples/editor/nvim, run in a real headless nvim on projects
# built by a real `rill build`: the rill://status buffer (states, counts, failed first), the
# statusline, <CR>/L/]f/[f, :RillFailed's quickfix list, restarts, a project with no build, errors
# reported once (rill missing, exit 2), a build followed live while it runs, and a dead backend.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"

PLUGIN="$TOP/examples/editor/nvim"
if ! command -v nvim >/dev/null 2>&1; then
	fail "nvim is installed" "nvim not found: install neovim (apt-get install neovim; make check installs it)"
	finish
	exit
fi

# wait_job ELEMENT: until a job for ELEMENT runs in $P (10 s at most).
wait_job() {
	_i=0
	until "$RILL" -C "$P" status --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if any(j["element"] == sys.argv[1] and j["result"] == "running" for j in d["jobs"]) else 1)' "$1"; do
		_i=$((_i + 1))
		[ $_i -lt 200 ] || { fail "a job for $1 started" "$(cat "$TMP/build.err" 2>/dev/null)"; return 1; }
		sleep 0.05
	done
}

# nvim_case CASE: runs $TMP/t.lua's CASE in `nvim --headless -u NONE` with the plugin on the
# runtimepath; turns the "ok<TAB>what" / "FAIL<TAB>what<TAB>why" lines it writes into pass/fail.
nvim_case() {
	: >"$TMP/results"
	T_CASE=$1 RESULTS="$TMP/results" timeout 60 nvim --headless -u NONE -i NONE -n \
		--cmd "set rtp^=$PLUGIN" -c 'runtime plugin/rill.lua' -c "luafile $TMP/t.lua" \
		</dev/null >"$TMP/nvim.out" 2>&1
	_rc=$?
	_tab=$(printf '\t')
	while IFS="$_tab" read -r _res _what _why; do
		case $_res in
		ok) pass "$_what" ;;
		FAIL) fail "$_what" "$(printf '%s' "$_why" | sed 's/\\n/\n/g')" ;;
		esac
	done <"$TMP/results"
	grep -q "^done$1" "$TMP/results" ||
		fail "nvim ran the whole $1 case" "exit $_rc; $(head -c 2000 "$TMP/nvim.out")"
}

cat >"$TMP/t.lua" <<'EOF'
local api = vim.api
local r = require('rill')
local out = assert(io.open(os.getenv('RESULTS'), 'a'))
local function clean(s) return (tostring(s):gsub('[\t\n]', '\\n')) end
local function check(what, cond, why)
	out:write((cond and 'ok' or 'FAIL') .. '\t' .. what .. '\t' .. (cond and '' or clean(why or '')) .. '\n')
	out:flush()
end
local function env(n) return vim.fn.resolve(os.getenv(n)) end
local function keys(k) api.nvim_feedkeys(api.nvim_replace_termcodes(k, true, false, true), 'x', false) end
local function lines() return api.nvim_buf_get_lines(vim.fn.bufnr('rill://status'), 0, -1, false) end
local function has_line(l) return vim.tbl_contains(lines(), l) end
local function ended() return vim.wait(15000, function() return r.state() and r.state().ended end, 10) end
local notes = {}
vim.notify = function(msg, level) notes[#notes + 1] = { msg = msg, level = level } end
local function status_bufs()
	local n = 0
	for _, b in ipairs(api.nvim_list_bufs()) do
		if api.nvim_buf_get_name(b) == 'rill://status' then n = n + 1 end
	end
	return n
end
vim.g.rill_command = os.getenv('RILL')

local cases = {}

function cases.main()
	local P = env('P')
	-- a failed build, found from the current file
	vim.cmd('edit ' .. P .. '/elements/good.bst')
	vim.cmd('RillStatus')
	check('the stream of a finished build ends', ended(), vim.inspect(r.state()))
	local st = r.state()
	check('the project is found upwards from the current file', st.project_dir == P, st.project_dir)
	check('the status buffer is shown in the current window', api.nvim_buf_get_name(0) == 'rill://status',
		api.nvim_buf_get_name(0))
	local l = lines()
	check('header: session state, counts of the total, running jobs',
		l[1] == 'rill build all.bst: failed (exit 1) | cached 2, building 0, failed 1 of 4 | 0 jobs running', l[1])
	check('the failed element comes first', l[3] == 'failed        bad.bst', table.concat(l, '\n'))
	check('one STATE NAME line per element', #l == 6 and has_line('cached        good.bst')
		and has_line('cached        base.bst') and has_line('skipped       all.bst'), table.concat(l, '\n'))
	check('statusline() after a failed build', r.statusline() == 'rill: 4/4 failed 1 [failed]', r.statusline())
	check('no notification for a failed build', #notes == 0, vim.inspect(notes))

	api.nvim_win_set_cursor(0, { 1, 0 })
	keys(']f')
	check(']f goes to the failed element', vim.fn.line('.') == 3, vim.fn.line('.'))
	api.nvim_win_set_cursor(0, { 6, 0 })
	keys('[f')
	check('[f goes back to the failed element', vim.fn.line('.') == 3, vim.fn.line('.'))

	local status_win = api.nvim_get_current_win()
	keys('<CR>')
	check("<CR> opens the failed element's .bst", api.nvim_buf_get_name(0) == P .. '/elements/bad.bst',
		api.nvim_buf_get_name(0))
	check('<CR> opens it in the other window', api.nvim_win_is_valid(status_win) and
		api.nvim_get_current_win() ~= status_win and #api.nvim_tabpage_list_wins(0) == 2,
		#api.nvim_tabpage_list_wins(0))
	api.nvim_set_current_win(status_win)
	api.nvim_win_set_cursor(0, { 3, 0 })
	keys('L')
	check("L opens the failed job's log in a split", api.nvim_buf_get_name(0) == os.getenv('BADLOG')
		and #api.nvim_tabpage_list_wins(0) == 3, api.nvim_buf_get_name(0) .. ' ' .. os.getenv('BADLOG'))
	check('the log is read-only', vim.bo.readonly)
	check('the log has the failing output', vim.fn.search('about to fail', 'nw') > 0)

	vim.cmd('RillFailed')
	local qf = vim.fn.getqflist()
	check(':RillFailed puts the failed element into the quickfix list', #qf == 1
		and vim.fn.bufname(qf[1].bufnr) ~= '' and vim.fn.fnamemodify(vim.fn.bufname(qf[1].bufnr), ':p') == P .. '/elements/bad.bst',
		vim.inspect(qf))
	check("the quickfix text is the failed job's last line", qf[1] and qf[1].text == 'failed: ' .. os.getenv('BADLINE'),
		qf[1] and qf[1].text)
	local qfwin = vim.fn.getqflist({ winid = 0 }).winid
	check(':RillFailed opens the quickfix window', qfwin ~= 0)
	api.nvim_set_current_win(qfwin)
	api.nvim_set_current_win(status_win)
	api.nvim_win_set_cursor(0, { 3, 0 })
	keys('<CR>')
	check('<CR> does not open the .bst in the quickfix window', api.nvim_get_current_win() ~= qfwin
		and api.nvim_buf_get_name(0) == P .. '/elements/bad.bst' and vim.bo[api.nvim_win_get_buf(qfwin)].buftype == 'quickfix',
		api.nvim_buf_get_name(0))

	-- :RillStatus again: the same buffer, the state read anew
	local first = r.state()
	local b = vim.fn.bufnr('rill://status')
	vim.cmd('RillStatus ' .. P)
	check('a restart follows anew', r.state() ~= first and ended(), vim.inspect(r.state()))
	check('a restart reuses the one status buffer', status_bufs() == 1 and vim.fn.bufnr('rill://status') == b,
		status_bufs())
	check('a restart shows the same state', vim.deep_equal(lines(), l), table.concat(lines(), '\n'))

	-- setup{cmd} wins over g:rill_command
	vim.g.rill_command = os.getenv('TMP') .. '/nowhere/rill'
	r.setup({ cmd = { os.getenv('RILL') } })
	vim.cmd('RillStatus ' .. P .. '/elements')
	check("setup{cmd=...} is the rill command, -C a subdirectory works", ended() and r.state().exit == 1
		and #notes == 0, vim.inspect(notes))
	vim.cmd('RillStop')
	check(':RillStop empties the statusline', r.statusline() == '', r.statusline())

	-- a project where no build has run: snapshot + end, exit 3
	vim.cmd('RillStatus ' .. os.getenv('EMPTY'))
	check('no build: the stream ends with exit 3', ended() and r.state().exit == 3 and r.state().status == 'none')
	check('no build: the header says so', lines()[1] == 'rill: no build has run in this project', lines()[1])
	check('no build: statusline()', r.statusline() == 'rill: no build', r.statusline())
	check('no build: no notification', #notes == 0, vim.inspect(notes))

	-- errors: reported once
	r.setup({ cmd = os.getenv('TMP') .. '/nowhere/rill' })
	vim.cmd('RillStatus ' .. P)
	check('rill missing: one error notification naming it', #notes == 1 and notes[1].level == vim.log.levels.ERROR
		and notes[1].msg:find('nowhere/rill', 1, true) ~= nil, vim.inspect(notes))
	check('rill missing: no status followed, empty statusline', r.state() == nil and r.statusline() == '',
		r.statusline())
	notes = {}
	r.setup({ cmd = os.getenv('RILL') })
	vim.cmd('RillStatus ' .. os.getenv('NOPROJ'))
	vim.wait(15000, function() return r.state() and r.state().ended and #notes > 0 end, 10)
	vim.wait(200)
	check('exit 2: one error notification with rill\'s message', #notes == 1 and notes[1].level == vim.log.levels.ERROR
		and notes[1].msg:find('no project.conf found', 1, true) ~= nil, vim.inspect(notes))
	check('exit 2: the buffer shows the error', lines()[1]:find('^rill: error: ') ~= nil, lines()[1])
	check('exit 2: empty statusline', r.statusline() == '', r.statusline())
	notes = {}
	r.setup({ cmd = os.getenv('TMP') .. '/garbage-rill' })
	vim.cmd('RillStatus ' .. P)
	vim.wait(15000, function() return r.state() and r.state().ended end, 10)
	vim.wait(200)
	check('lines that are not JSON, then exit 2: one notification', #notes == 1, vim.inspect(notes))
	check('a message of several lines fits the header line', lines()[1]:find('^rill: ') ~= nil, lines()[1])
	r.setup({ cmd = os.getenv('RILL') })
	notes = {}
	vim.cmd('enew')
	vim.cmd('cd ' .. os.getenv('NOPROJ'))
	vim.cmd('RillStatus')
	check('no project.conf upwards: one notification', #notes == 1 and notes[1].msg:find('no project.conf in', 1, true) ~= nil,
		vim.inspect(notes))

	-- .bst paths: element-path default ".", quoted with a comment, junction elements
	check('element of a junction: the junction\'s .bst', r.element_file(P, 'sub.bst:deep/x.bst') == P .. '/elements/sub.bst',
		r.element_file(P, 'sub.bst:deep/x.bst'))
	local flat = env('FLAT')
	check('element-path defaults to "."', r.element_file(flat, 'a/b.bst') == flat .. '/a/b.bst', r.element_file(flat, 'a/b.bst'))
	check('element-path quoted, with a comment', r.element_path(env('QUOTED')) == 'els', r.element_path(env('QUOTED')))

	-- the help file: tags build without errors
	local ok, err = pcall(vim.cmd, 'helptags ' .. os.getenv('TMP') .. '/doc')
	local tags = ok and table.concat(vim.fn.readfile(os.getenv('TMP') .. '/doc/tags'), '\n') or ''
	check(':helptags on doc/rill.txt', ok and tags:find(':RillStatus\trill.txt', 1, true) and tags:find('rill.statusline()', 1, true),
		tostring(err) .. tags)
end

function cases.live()
	local P = env('P')
	vim.cmd('RillStatus ' .. P)
	local seen = vim.wait(10000, function() return has_line('building      slow.bst') end, 10)
	check('a running build: the buffer shows building live', seen and not r.state().ended,
		table.concat(lines(), '\n'))
	check('a running build: header', lines()[1] == 'rill build slow.bst: running | cached 1, building 1, failed 0 of 2 | 1 job running',
		lines()[1])
	check('a running build: statusline()', r.statusline() == 'rill: 1/2 building 1', r.statusline())
	-- a restart while the build runs: stale output of the old follow must not mix in
	vim.cmd('RillStatus ' .. P)
	seen = vim.wait(10000, function() return r.state().snapshot end, 10)
	check('a restart during the build gets the running state', seen and has_line('building      slow.bst')
		and not r.state().ended, table.concat(lines(), '\n'))
	check('the build ends: stream ended', ended(), vim.inspect(r.state()))
	check('the build ends: the element is cached', has_line('cached        slow.bst'), table.concat(lines(), '\n'))
	check('the build ends: header', lines()[1] == 'rill build slow.bst: success (exit 0) | cached 2, building 0, failed 0 of 2 | 0 jobs running',
		lines()[1])
	check('the build ends: statusline()', r.statusline() == 'rill: 2/2 [ok]', r.statusline())
	check('the live case: no notification', #notes == 0, vim.inspect(notes))
end

function cases.dead()
	vim.cmd('RillStatus ' .. env('P'))
	check('a dead backend: the stream ends', ended() and r.state().status == 'dead' and r.state().exit == 1,
		vim.inspect(r.state()))
	check('a dead backend: the header says what was running', lines()[1]:find(
		': backend DIED (was running: doomed.bst) (exit 1) | cached 1, building 1, failed 0 of 2 | 0 jobs running', 1, true) ~= nil,
		lines()[1])
	check('a dead backend: statusline()', r.statusline() == 'rill: 1/2 building 1 [backend died]', r.statusline())
	api.nvim_win_set_cursor(0, { vim.fn.index(lines(), 'building      doomed.bst') + 1, 0 })
	keys('L')
	check('a dead backend: L opens the log of the job that was running', api.nvim_buf_get_name(0) == os.getenv('DOOMEDLOG'),
		api.nvim_buf_get_name(0))
end

local ok, err = xpcall(cases[os.getenv('T_CASE')], debug.traceback)
if not ok then check('the ' .. os.getenv('T_CASE') .. ' case ran without a Lua error', false, err) end
out:write('done' .. os.getenv('T_CASE') .. '\n')
out:close()
vim.cmd('qall!')
EOF

# ---- a finished build: one element fails, one succeeds ------------------------------------------
busybox_project empty
EMPTY=$P
busybox_project bb
element good.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  install-commands:
  - mkdir -p %{install-root}/etc && echo good >%{install-root}/etc/good
EOF2
element bad.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  build-commands:
  - echo "about to fail"
  - exit 7
EOF2
element all.bst <<'EOF2'
kind: stack
depends:
- good.bst
- bad.bst
EOF2
run_rill build --on-error continue all.bst
[ "$RC" -eq 1 ] && pass "the build with a failing element fails" || fail "the build fails" "rc=$RC $ERR"
"$RILL" -C "$P" status --json >"$TMP/bb.json"
BADLOG=$(python3 -c 'import json,sys; print([j for j in json.load(open(sys.argv[1]))["jobs"] if j["element"] == "bad.bst"][0]["log_path"])' "$TMP/bb.json")
BADLINE=$(python3 -c 'import json,sys; print([j for j in json.load(open(sys.argv[1]))["jobs"] if j["element"] == "bad.bst"][0]["last_line"])' "$TMP/bb.json")
new_project flat </dev/null
printf 'name: flat\n' >"$P/project.conf"
FLAT=$P
new_project quoted </dev/null
printf 'name: quoted\nelement-path: "els"  # the elements\n' >"$P/project.conf"
QUOTED=$P
mkdir -p "$TMP/noproject" "$TMP/doc"
# a broken rill: output that is not JSON, a message of two lines, exit 2
printf '#!/bin/sh\nfor i in 1 2 3 4 5; do echo "not json $i"; done\necho "first line" >&2\necho "second line" >&2\nexit 2\n' >"$TMP/garbage-rill"
chmod +x "$TMP/garbage-rill"
cp "$PLUGIN/doc/rill.txt" "$TMP/doc/"
P=$TMP/bb
export RILL P TMP EMPTY FLAT QUOTED BADLOG BADLINE NOPROJ="$TMP/noproject"
nvim_case main

# ---- a build followed while it runs --------------------------------------------------------------
busybox_project live
element slow.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  build-commands:
  - echo "working"
  - sleep 2
EOF2
"$RILL" -C "$P" build slow.bst >/dev/null 2>"$TMP/build.err" &
build=$!
wait_job slow.bst
export P
nvim_case live
wait $build
rc=$?
[ "$rc" -eq 0 ] && pass "the live build succeeded" || fail "the live build succeeded" "rc=$rc $(cat "$TMP/build.err")"

# ---- the backend killed during a build ---------------------------------------------------------
element doomed.bst <<'EOF2'
kind: manual
build-depends:
- base.bst
config:
  build-commands:
  - sleep 6
EOF2
"$RILL" -C "$P" build doomed.bst >/dev/null 2>"$TMP/build.err" &
build=$!
wait_job doomed.bst
"$RILL" -C "$P" status --json >"$TMP/doomed.json"
backend=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["session"]["backend_pid"])' "$TMP/doomed.json")
job=$(python3 -c 'import json, sys; print([j["pid"] for j in json.load(open(sys.argv[1]))["jobs"] if j["result"] == "running"][0])' "$TMP/doomed.json")
DOOMEDLOG=$(python3 -c 'import json, sys; print([j["log_path"] for j in json.load(open(sys.argv[1]))["jobs"] if j["result"] == "running"][0])' "$TMP/doomed.json")
export DOOMEDLOG
[ "$(cat /proc/"$backend"/comm 2>/dev/null)" = rill-backend ] && kill -9 "$backend"
wait $build
nvim_case dead
# the orphaned job (its own process group) goes with its sandbox
kill -9 -"$job" 2>/dev/null

finish
