-- rill.nvim's commands: :RillStatus [DIR], :RillFailed, :RillStop (the code is in lua/rill/).
-- SPDX-License-Identifier: Apache-2.0
if vim.g.loaded_rill then return end
vim.g.loaded_rill = true
if vim.fn.has('nvim-0.7') == 0 then
	vim.notify('rill.nvim needs Neovim 0.7 or later', vim.log.levels.ERROR)
	return
end

local cmd = vim.api.nvim_create_user_command
cmd('RillStatus', function(o) require('rill').start(o.args) end,
	{ nargs = '?', complete = 'dir', desc = 'follow the rill build of a project' })
cmd('RillFailed', function() require('rill').quickfix() end,
	{ nargs = 0, desc = 'the failed elements of the rill build into the quickfix list' })
cmd('RillStop', function() require('rill').stop() end,
	{ nargs = 0, desc = 'stop following the rill build' })
vim.api.nvim_create_autocmd('VimLeavePre', {
	desc = 'stop following the rill build',
	callback = function()
		if package.loaded.rill then package.loaded.rill.stop() end
	end,
})
