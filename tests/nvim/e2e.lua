-- Neovim as the language client: start `qualify lsp`, wait for the
-- diagnostic of the deliberate error, hover a field, fix the error and wait
-- for the diagnostic to clear, then read the highlighting of a ceiling line.
-- Prints what arrived; exits non-zero on failure.
-- Written for Neovim 0.7 (Debian 12): vim.lsp.start_client + buf_attach_client.

local bin = os.getenv("QUALIFY_BIN")
local function fail(message)
  io.stdout:write("FAIL " .. message .. "\n")
  vim.cmd("cquit 1")
end

-- Installed as editors/nvim/README.md says: on the runtime path, then setup.
vim.opt.runtimepath:append(os.getenv("QUALIFY_NVIM_PLUGIN"))
-- A config file would do this before start-up; this script runs after it,
-- so detection is switched on again to read the new ftdetect/.
vim.cmd("filetype off")
vim.cmd("filetype plugin on")
vim.cmd("syntax on")
require("qualify").setup({ cmd = { bin, "lsp" }, settings = { asOf = "2026-06-01" } })
vim.cmd("edit " .. vim.fn.fnameescape(os.getenv("QUALIFY_POLICY")))
if vim.bo.filetype ~= "qualify" then fail("filetype is '" .. vim.bo.filetype .. "'") end
if not vim.wait(10000, function() return #vim.lsp.buf_get_clients(0) > 0 end, 20) then
  fail("the server did not attach")
end
local client_id = vim.lsp.buf_get_clients(0)[1].id

local function errors()
  return vim.diagnostic.get(0, { severity = vim.diagnostic.severity.ERROR })
end

if not vim.wait(20000, function() return #errors() > 0 end, 20) then
  fail("no diagnostics arrived")
end
for _, d in ipairs(errors()) do
  local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
  io.stdout:write(string.format("diagnostic %s line %d: %s\n", tostring(code), d.lnum + 1, d.message:match("[^\n]*")))
end

-- Hover on a field name (line 7, column 7: `company`).
local params = {
  textDocument = vim.lsp.util.make_text_document_params(),
  position = { line = 6, character = 7 },
}
local replies = vim.lsp.buf_request_sync(0, "textDocument/hover", params, 10000)
local hover
for _, reply in pairs(replies or {}) do
  if reply.result and reply.result.contents then hover = reply.result.contents.value end
end
if not hover then fail("no hover") end
io.stdout:write("hover: " .. hover:match("[^\n]*") .. "\n")

-- Fix the typo in the buffer: the error goes away.
local lines = vim.api.nvim_buf_get_lines(0, 0, -1, false)
for i, line in ipairs(lines) do
  lines[i] = line:gsub("budjet", "budget")
end
vim.api.nvim_buf_set_lines(0, 0, -1, false, lines)
if not vim.wait(20000, function() return #errors() == 0 end, 20) then
  fail("the diagnostic did not clear after the fix")
end
io.stdout:write("cleared after the fix\n")

-- Highlighting of a ceiling (`=> at most STAGE`) and of an obsolete
-- `overrides`, from editors/nvim/syntax: `most` inside a name is not a keyword.
local ceiling = "rule what matters most: demo requested => at most MQL overrides MQL"
vim.api.nvim_buf_set_lines(0, -1, -1, false, { ceiling })
local row = vim.api.nvim_buf_line_count(0)
local function group(word, nth)
  local col = 0
  for _ = 1, nth or 1 do col = ceiling:find(word, col + 1, true) end
  return vim.fn.synIDattr(vim.fn.synID(row, col, 1), "name")
end
io.stdout:write(string.format("syntax: at=%s most=%s name most=%s overrides=%s\n",
  group("at most"), group("most", 2), group("most", 1), group("overrides")))
vim.lsp.stop_client(client_id)
vim.cmd("qall!")
