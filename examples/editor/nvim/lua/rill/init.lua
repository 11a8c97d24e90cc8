-- rill.nvim — follows a rill build from Neovim: `rill status --follow --json` (JSON lines, schema
-- 1, docs/status-table.md) folded into a state shown in the `rill://status` buffer, the statusline
-- and the quickfix list. Needs Neovim 0.7 or later.
-- SPDX-License-Identifier: Apache-2.0
local M = {}

local api = vim.api

local config = { cmd = nil }

local BUFNAME = 'rill://status'
local RENDER_INTERVAL_MS = 50 -- at most this often while records stream in; the end at once

-- The one followed build. `token` tells callbacks of a replaced follow (`:RillStatus` again) that
-- they are stale: jobstop() is asynchronous and the old job may still deliver lines.
local follow = nil
local token = 0

-- JSON null is vim.NIL, which is truthy in Lua: every optional value goes through this.
local function val(v)
	if v == vim.NIL then return nil end
	return v
end

local function notify(f, msg, level)
	-- at most one notification per follow: a broken setup must not spam on every line
	if f then
		if f.notified then return end
		f.notified = true
	end
	vim.notify(msg, level or vim.log.levels.ERROR, { title = 'rill' })
end

local function command()
	local cmd = config.cmd or vim.g.rill_command or 'rill'
	if type(cmd) == 'string' then return { cmd } end
	return vim.deepcopy(cmd)
end

-- setup({cmd = "rill" | {"prog", "arg", ...}}): optional; `g:rill_command` is the Vim way.
function M.setup(opts)
	opts = opts or {}
	if opts.cmd ~= nil then config.cmd = opts.cmd end
end

---------------------------------------------------------------------------------------------------
-- Projects and files

local function strip_slash(p)
	if #p > 1 then p = p:gsub('/+$', '') end
	return p
end

-- The nearest directory from `start` upwards holding a project.conf, or nil.
function M.find_project(start)
	local dir = strip_slash(vim.fn.fnamemodify(start, ':p'))
	while true do
		if vim.fn.filereadable(dir .. '/project.conf') == 1 then return dir end
		local up = vim.fn.fnamemodify(dir, ':h')
		if up == dir then return nil end
		dir = up
	end
end

-- The project's `element-path:` from DIR/project.conf ("." when unset). A plain line scan:
-- element-path is a top-level scalar in every project.conf BuildStream accepts.
function M.element_path(project_dir)
	local ok, lines = pcall(vim.fn.readfile, project_dir .. '/project.conf')
	if not ok then return '.' end
	for _, line in ipairs(lines) do
		local v = line:match('^element%-path%s*:%s*(.-)%s*$')
		if v then
			v = v:gsub('%s+#.*$', '')
			v = v:match('^"(.*)"$') or v:match("^'(.*)'$") or v
			if v ~= '' then return v end
		end
	end
	return '.'
end

-- The .bst file of element NAME in PROJECT_DIR. An element of a junction ("sub.bst:x.bst") is
-- opened as the junction's own .bst: the junctioned project's files may not even be checked out.
function M.element_file(project_dir, name, element_path)
	local first = name:match('^([^:]+)') or name
	local ep = element_path or M.element_path(project_dir)
	local path = ep == '.' and project_dir or (ep:sub(1, 1) == '/' and ep or project_dir .. '/' .. ep)
	return strip_slash(path) .. '/' .. first
end

---------------------------------------------------------------------------------------------------
-- Folding the stream (docs/status-table.md, "JSON output")

local function reset(f, rec)
	f.snapshot = true
	f.status = rec.status
	f.project_dir = val(rec.project_dir) or f.dir
	f.element_path = M.element_path(f.project_dir)
	f.session = val(rec.session)
	f.elements, f.jobs, f.queues, f.failures = {}, {}, {}, {}
	for _, e in ipairs(rec.elements or {}) do f.elements[e.id] = e end
	for _, j in ipairs(rec.jobs or {}) do f.jobs[j.id] = j end
	for _, q in ipairs(rec.queues or {}) do f.queues[q.index] = q end
	f.running_jobs = {}
	f.ended, f.exit = false, nil
end

-- apply(f, rec): one record into the state. Returns true when it ended the stream.
local function apply(f, rec)
	local kind = rec.type
	if kind == 'snapshot' then
		if rec.schema ~= 1 then
			notify(f, ('rill: unknown status JSON schema %s (this plugin reads 1)'):format(tostring(rec.schema)))
			return false
		end
		reset(f, rec)
	elseif not f.snapshot then
		return false -- nothing comes before the snapshot; ignore anything that does
	elseif kind == 'element' then
		f.elements[rec.element.id] = rec.element
	elseif kind == 'job' then
		f.jobs[rec.job.id] = rec.job
	elseif kind == 'queue' then
		f.queues[rec.queue.index] = rec.queue
	elseif kind == 'session' then
		f.session = val(rec.session)
	elseif kind == 'message' then
		local m = rec.message
		if m.type == 'FAILURE' and val(m.element_id) then
			f.failures[m.element_id] = { text = m.text, detail = m.detail }
		end
	elseif kind == 'backend' then
		-- the verdict the snapshot would give now: a backend that stopped (or resumed) heartbeats
		if f.status == 'running' or f.status == 'hung' then
			f.status = rec.backend.responding and 'running' or 'hung'
		end
	elseif kind == 'end' then
		f.status, f.exit = rec.status, rec.exit
		f.session = val(rec.session)
		f.running_jobs = rec.running_jobs or {}
		f.ended = true
		return true
	end
	-- "gap" and record types this plugin does not know change nothing it shows
	return false
end

---------------------------------------------------------------------------------------------------
-- Reading the state

local IN_PROGRESS = { building = true, fetching = true, tracking = true }
local FINISHED = { cached = true, failed = true, skipped = true }

local function counts(f)
	local c = { total = 0, done = 0, cached = 0, building = 0, failed = 0, jobs = 0 }
	for _, e in pairs(f.elements) do
		c.total = c.total + 1
		if FINISHED[e.state] then c.done = c.done + 1 end
		if c[e.state] then c[e.state] = c[e.state] + 1 end
	end
	-- a dead backend's jobs still say "running": nothing runs any more
	if f.status ~= 'dead' then
		for _, j in pairs(f.jobs) do
			if j.result == 'running' then c.jobs = c.jobs + 1 end
		end
	end
	return c
end

-- Failed elements first (by name), then the others in the backend's order (ids are dense, in
-- load order), so the failures are at the top however large the build.
local function sorted_elements(f)
	local list = {}
	for _, e in pairs(f.elements) do list[#list + 1] = e end
	table.sort(list, function(a, b)
		local fa, fb = a.state == 'failed', b.state == 'failed'
		if fa ~= fb then return fa end
		if fa then return a.name < b.name end
		return a.id < b.id
	end)
	return list
end

local VERDICT = {
	success = 'ok', failed = 'failed', terminated = 'terminated', dead = 'backend died',
	hung = 'not responding', replaced = 'replaced by a new build',
}

-- statusline(): "rill: 12/200 building 2 failed 1" while a build runs, "rill: 4/4 failed 1
-- [failed]" after it, "rill: no build" before any; "" when no status is followed.
function M.statusline()
	local f = follow
	if not f or not f.snapshot or f.stopped then return '' end
	if f.status == 'none' then return 'rill: no build' end
	local c = counts(f)
	local s = ('rill: %d/%d'):format(c.done, c.total)
	if c.building > 0 then s = s .. ' building ' .. c.building end
	if c.failed > 0 then s = s .. ' failed ' .. c.failed end
	local verdict = VERDICT[f.status]
	if verdict then s = s .. ' [' .. verdict .. ']' end
	return s
end

local function header(f)
	local ses = f.session
	if f.error then return 'rill: error: ' .. f.error end
	if not f.snapshot then return 'rill: reading the status of ' .. f.dir .. ' ...' end
	if f.status == 'none' then return 'rill: no build has run in this project' end
	local what = 'rill'
	if ses then
		local cmd = (ses.command or '') ~= '' and ses.command or 'build'
		what = ('rill %s %s'):format(cmd, table.concat(ses.targets or {}, ' '))
	end
	local state = f.status
	if f.status == 'running' or f.status == 'hung' then
		state = ses and ses.state or 'running'
		if f.status == 'hung' then state = state .. ', NOT RESPONDING' end
		if ses and ses.suspended then state = state .. ' (suspended)' end
		if ses and ses.quitting then state = state .. ' (quitting)' end
		if ses and ses.awaiting_decision then state = state .. ' (waiting for a decision)' end
	elseif f.status == 'dead' then
		local names = {}
		for _, j in ipairs(f.running_jobs) do names[#names + 1] = j.element end
		state = 'backend DIED' .. (#names > 0 and ' (was running: ' .. table.concat(names, ', ') .. ')' or '')
	end
	if f.ended and f.exit then state = ('%s (exit %d)'):format(state, f.exit) end
	if f.stopped then state = state .. ' (no longer followed: R follows again)' end
	local c = counts(f)
	return ('%s: %s | cached %d, building %d, failed %d of %d | %d %s running'):format(
		vim.trim(what), state, c.cached, c.building, c.failed, c.total, c.jobs, c.jobs == 1 and 'job' or 'jobs')
end

-- The lines of the status buffer, and the element id of each element line.
local function render_lines(f)
	local lines = { header(f), (f.project_dir or f.dir) .. '   <CR> .bst  L log  ]f [f failed  R restart  q close' }
	local ids = {}
	if f.snapshot then
		if f.session and val(f.session.error) and f.session.error ~= '' then
			lines[2] = lines[2] .. '   error: ' .. f.session.error
		end
		for _, e in ipairs(sorted_elements(f)) do
			lines[#lines + 1] = ('%-12s  %s'):format(e.state, e.name)
			ids[#lines] = e.id
		end
	end
	return lines, ids
end

---------------------------------------------------------------------------------------------------
-- The status buffer

local function status_buf()
	for _, b in ipairs(api.nvim_list_bufs()) do
		if api.nvim_buf_get_name(b) == BUFNAME then return b end
	end
	return nil
end

local function render()
	local f = follow
	if not f then return end
	f.render_pending = false
	f.rendered_ms = vim.loop.now()
	local b = status_buf()
	if b and api.nvim_buf_is_loaded(b) then
		local lines, ids = render_lines(f)
		f.line_ids = ids
		for i, l in ipairs(lines) do lines[i] = l:gsub('[\r\n]', ' ') end -- one buffer line each
		vim.bo[b].modifiable = true
		api.nvim_buf_set_lines(b, 0, -1, false, lines)
		vim.bo[b].modifiable = false
		vim.bo[b].modified = false
	end
	vim.cmd('redrawstatus!')
end

-- Render now if the last render is old enough, else once when it is: a build of thousands of
-- elements streams many records a second and each render sorts them all.
local function request_render(now)
	local f = follow
	if now or vim.loop.now() - (f.rendered_ms or 0) >= RENDER_INTERVAL_MS then
		render()
	elseif not f.render_pending then
		f.render_pending = true
		local t = token
		vim.defer_fn(function()
			if t == token and follow and follow.render_pending then render() end
		end, RENDER_INTERVAL_MS)
	end
end

local function element_at(lnum)
	local f = follow
	if not f or not f.line_ids then return nil end
	local id = f.line_ids[lnum or vim.fn.line('.')]
	return id and f.elements[id]
end

-- The window to open a file in from the status window: the previous one if it shows a file
-- (not the quickfix list or help), else another one that does, else a new split.
local function goto_other_window()
	local cur = api.nvim_get_current_win()
	local function usable(w)
		return w ~= 0 and w ~= cur and api.nvim_win_is_valid(w)
			and vim.bo[api.nvim_win_get_buf(w)].buftype == ''
	end
	local prev = vim.fn.win_getid(vim.fn.winnr('#'))
	if not usable(prev) then
		prev = nil
		for _, w in ipairs(api.nvim_tabpage_list_wins(0)) do
			if usable(w) then prev = w break end
		end
	end
	if prev then
		api.nvim_set_current_win(prev)
	else
		vim.cmd('split')
	end
end

function M.open_element()
	local e = element_at()
	if not e then return end
	local path = M.element_file(follow.project_dir, e.name, follow.element_path)
	goto_other_window()
	vim.cmd('edit ' .. vim.fn.fnameescape(path))
end

-- The job whose log `L` opens: the element's failed job, else its running one, else its newest.
local function element_job(f, e)
	local j = f.jobs[val(e.failed_job_id)] or f.jobs[val(e.job_id)]
	if j then return j end
	local best
	for _, j in pairs(f.jobs) do
		if val(j.element_id) == e.id and (not best or j.id > best.id) then best = j end
	end
	return best
end

function M.open_log()
	local e = element_at()
	if not e then return end
	local j = element_job(follow, e)
	if not j or j.log_path == '' then
		vim.notify('rill: no job log for ' .. e.name, vim.log.levels.WARN, { title = 'rill' })
		return
	end
	vim.cmd('sview ' .. vim.fn.fnameescape(j.log_path))
end

-- next_failed(dir): the cursor to the next (1) or previous (-1) failed element, wrapping.
function M.next_failed(dir)
	local f = follow
	if not f or not f.line_ids then return end
	local n, cur = api.nvim_buf_line_count(0), vim.fn.line('.')
	for i = 1, n do
		local l = (cur - 1 + dir * i) % n + 1
		local e = element_at(l)
		if e and e.state == 'failed' then
			api.nvim_win_set_cursor(0, { l, 0 })
			return
		end
	end
	vim.notify('rill: no failed element', vim.log.levels.INFO, { title = 'rill' })
end

local function setup_buffer(b)
	vim.bo[b].buftype = 'nofile'
	vim.bo[b].bufhidden = 'hide'
	vim.bo[b].swapfile = false
	vim.bo[b].modifiable = false
	vim.bo[b].filetype = 'rillstatus'
	local map = function(lhs, fn, desc)
		vim.keymap.set('n', lhs, fn, { buffer = b, silent = true, nowait = true, desc = desc })
	end
	map('<CR>', M.open_element, "open the element's .bst")
	map('L', M.open_log, "open the log of the element's job")
	map(']f', function() M.next_failed(1) end, 'next failed element')
	map('[f', function() M.next_failed(-1) end, 'previous failed element')
	map('R', function() M.start(follow and follow.dir) end, 'follow the project again')
	map('q', function()
		if #api.nvim_tabpage_list_wins(0) > 1 then vim.cmd('close') else vim.cmd('bprevious') end
	end, 'close')
	api.nvim_buf_call(b, function()
		vim.cmd([[
			syntax match rillFailed /^failed\>.*/
			syntax match rillBusy /^\(building\|fetching\|tracking\)\>/
			syntax match rillDone /^cached\>/
			syntax match rillHeader /\%1l.*/
			syntax match rillHelp /\%2l.*/
			highlight default link rillFailed ErrorMsg
			highlight default link rillBusy WarningMsg
			highlight default link rillDone String
			highlight default link rillHeader Title
			highlight default link rillHelp Comment
		]])
	end)
end

local function show_buffer()
	local b = status_buf()
	if not b then
		b = api.nvim_create_buf(true, true)
		api.nvim_buf_set_name(b, BUFNAME)
		setup_buffer(b)
	end
	if vim.fn.bufwinid(b) == -1 then
		vim.cmd('botright split')
		api.nvim_win_set_buf(0, b)
	else
		api.nvim_set_current_win(vim.fn.bufwinid(b))
	end
	return b
end

---------------------------------------------------------------------------------------------------
-- Following

local function on_lines(f, t, data)
	if t ~= token then return end
	-- job output comes in chunks: the first item continues the last partial line, the last one
	-- is the start of the next line ("" when the chunk ended with a newline)
	data[1] = f.partial .. data[1]
	f.partial = table.remove(data)
	local now = false -- the first state and the last one are shown at once, the rest throttled
	for _, line in ipairs(data) do
		if line ~= '' then
			local ok, rec = pcall(vim.json.decode, line)
			if ok and type(rec) == 'table' then
				now = apply(f, rec) or rec.type == 'snapshot' or now
			else
				notify(f, 'rill: cannot read a line of rill status: ' .. line:sub(1, 200))
			end
		end
	end
	request_render(now)
end

local function on_exit(f, t, code)
	if t ~= token then return end
	f.job = nil
	f.ended = true
	if f.exit == nil then f.exit = code end
	-- 0, 1: the build's result; 3: no build has run. Anything else is a failure to read the status.
	if code ~= 0 and code ~= 1 and code ~= 3 then
		local msg = vim.trim(table.concat(f.stderr, '\n'))
		if msg == '' then msg = ('%s status exited with %d'):format(f.cmd[1], code) end
		f.error = msg
		notify(f, msg)
	elseif f.status == 'replaced' then
		-- a new build started in this project before the end of this one was seen: follow it
		vim.schedule(function()
			if t == token then M.start(f.dir, { quiet = true }) end
		end)
	end
	request_render(true)
end

-- start(dir, opts): follow the build of the project at DIR (default: the nearest directory
-- upwards from the current file, or the cwd, with a project.conf), replacing any follow before.
-- opts.quiet: do not show the status buffer.
function M.start(dir, opts)
	opts = opts or {}
	if dir == nil or dir == '' then
		local name = api.nvim_buf_get_name(0)
		local start
		if name == BUFNAME and follow then
			start = follow.dir
		elseif name ~= '' and vim.bo.buftype == '' then
			start = vim.fn.fnamemodify(name, ':p:h')
		else
			start = vim.fn.getcwd()
		end
		dir = M.find_project(start)
		if not dir then
			notify(nil, ('rill: no project.conf in %s or any directory above it'):format(start))
			return
		end
	else
		dir = strip_slash(vim.fn.fnamemodify(vim.fn.expand(dir), ':p'))
	end
	M.stop()
	token = token + 1
	local t = token
	local cmd = command()
	local f = { dir = dir, cmd = cmd, partial = '', stderr = {}, elements = {}, jobs = {} }
	follow = f
	vim.list_extend(cmd, { '-C', dir, 'status', '--follow', '--json' })
	local ok, job = pcall(vim.fn.jobstart, cmd, {
		on_stdout = function(_, data) on_lines(f, t, data) end,
		on_stderr = function(_, data)
			for _, l in ipairs(data) do if l ~= '' then f.stderr[#f.stderr + 1] = l end end
		end,
		on_exit = function(_, code) on_exit(f, t, code) end,
	})
	if not ok or job <= 0 then
		follow = nil
		notify(nil, ("rill: cannot run '%s' (set g:rill_command or require('rill').setup{cmd = ...}): %s"):format(
			cmd[1], ok and 'not executable' or tostring(job):gsub('^Vim:', '')))
		vim.cmd('redrawstatus!')
		return
	end
	f.job = job
	if not opts.quiet then show_buffer() end
	render()
end

-- stop(): stop following (:RillStop). The buffer keeps the last state shown; the statusline
-- empties.
function M.stop()
	if not follow or follow.stopped then return end
	follow.stopped = true
	token = token + 1 -- the old job's remaining callbacks are stale from now on
	if follow.job then
		pcall(vim.fn.jobstop, follow.job)
		follow.job = nil
	end
	render()
end

-- failed(): quickfix items for the failed elements of the state: their .bst files, and the last
-- line of the failed job (else of the failure's detail, else its message).
function M.failed()
	local f = follow
	local items = {}
	if not f or not f.snapshot then return items end
	for _, e in ipairs(sorted_elements(f)) do
		if e.state == 'failed' then
			local why
			local j = f.jobs[val(e.failed_job_id)]
			if j and j.last_line ~= '' then why = j.last_line end
			local fl = f.failures[e.id]
			if not why and fl then
				local lines = vim.tbl_filter(function(l) return vim.trim(l) ~= '' end, vim.split(fl.detail or '', '\n'))
				why = lines[#lines] or fl.text
			end
			items[#items + 1] = {
				filename = M.element_file(f.project_dir, e.name, f.element_path),
				lnum = 1,
				text = 'failed: ' .. (why or e.name),
				type = 'E',
			}
		end
	end
	return items
end

-- quickfix(): :RillFailed — the failed elements into the quickfix list, and open it.
function M.quickfix()
	local items = M.failed()
	vim.fn.setqflist({}, ' ', { title = 'rill: failed elements', items = items })
	if #items == 0 then
		vim.notify(follow and 'rill: no failed element' or 'rill: no status followed (:RillStatus)',
			vim.log.levels.INFO, { title = 'rill' })
		return
	end
	vim.cmd('copen')
end

-- state(): the followed state (read-only use: session, status, elements, jobs by id, ended,
-- exit, error), or nil.
function M.state()
	return follow
end

return M
