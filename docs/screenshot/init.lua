-- Minimal Neovim config for docs/images/editor-nvim.png (run by take.sh):
--   nvim --clean -u docs/screenshot/init.lua policy.qual
-- Loads editors/nvim as its README says, waits for the language server's
-- diagnostic, puts the cursor on it, opens the diagnostic float and then
-- writes $QUALIFY_SHOT_READY so take.sh knows the screen is ready.
-- Written for Neovim 0.7 (Debian 12).

local bin = os.getenv("QUALIFY_BIN")
local plugin = os.getenv("QUALIFY_NVIM_PLUGIN")
local ready_file = os.getenv("QUALIFY_SHOT_READY")

-- Looks
vim.opt.termguicolors = true
vim.cmd("colorscheme " .. (os.getenv("QUALIFY_SHOT_COLORS") or "slate"))
vim.opt.number = true
vim.opt.numberwidth = 3
vim.opt.signcolumn = "yes"
vim.opt.cursorline = true
vim.opt.wrap = false
vim.opt.showmode = false
vim.opt.ruler = false
vim.opt.shortmess:append("IF")
vim.opt.laststatus = 2
vim.opt.statusline = " %f %m%= qualify lsp · %l:%c "
vim.opt.fillchars = { eob = " " }

-- The plugin, installed as editors/nvim/README.md says.
vim.opt.runtimepath:append(plugin)
vim.cmd("filetype plugin indent on")
vim.cmd("syntax on")
require("qualify").setup({ cmd = { bin, "lsp" }, settings = { asOf = "2026-06-01" } })

-- Diagnostics as virtual text, signs and underline; the float shows the code
-- and the whole message (help line included).
vim.fn.sign_define("DiagnosticSignError", { text = "✘", texthl = "DiagnosticSignError" })
vim.fn.sign_define("DiagnosticSignWarn", { text = "▲", texthl = "DiagnosticSignWarn" })
vim.fn.sign_define("DiagnosticSignInfo", { text = "●", texthl = "DiagnosticSignInfo" })
vim.fn.sign_define("DiagnosticSignHint", { text = "◆", texthl = "DiagnosticSignHint" })
vim.diagnostic.config({
  -- First line only; the float has the help line too.
  virtual_text = { prefix = "■", spacing = 2, format = function(d) return d.message:match("[^\n]*") end },
  signs = true,
  underline = true,
  severity_sort = true,
  float = {
    border = "rounded",
    header = "",
    source = false,
    format = function(d)
      local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
      if code then return string.format("%s  %s", code, d.message) end
      return d.message
    end,
  },
})
-- Small touches on the colorscheme: plain gutter, a quiet cursor line.
vim.cmd([[
  highlight! link FloatBorder DiagnosticError
  highlight! SignColumn guibg=NONE
  highlight! LineNr guibg=NONE guifg=#6c7380
  highlight! CursorLineNr guibg=NONE guifg=#ffd75f gui=bold
  highlight! CursorLine guibg=#343a44
  highlight! NormalFloat guibg=#2a2f38
  highlight! StatusLine guibg=#3a404c guifg=#d7d7d7 gui=NONE
  highlight! DiagnosticError guifg=#ff6b6b
  highlight! DiagnosticVirtualTextError guifg=#ff6b6b guibg=#3a2a2e
  highlight! DiagnosticUnderlineError gui=undercurl guisp=#ff6b6b
]])

-- Once the server's error is in, go to it, centre it and open the float.
local function errors()
  return vim.diagnostic.get(0, { severity = vim.diagnostic.severity.ERROR })
end

local function show()
  local d = errors()[1]
  vim.api.nvim_win_set_cursor(0, { d.lnum + 1, d.col })
  local top = tonumber(os.getenv("QUALIFY_SHOT_TOP") or "")
  if top then
    vim.fn.winrestview({ topline = top })
  else
    vim.cmd("normal! zz")
  end
  -- After the CursorMoved of the jump, or it would close the float at once.
  vim.defer_fn(function()
    vim.diagnostic.open_float(nil, { scope = "cursor", focusable = false })
    vim.cmd("redraw!")
  end, 300)
  if ready_file then
    vim.defer_fn(function()
      -- The page colours for ansi2html.py: Normal's foreground and background.
      local normal = vim.api.nvim_get_hl_by_name("Normal", true)
      local f = io.open(ready_file, "w")
      f:write(string.format("#%06x #%06x\n", normal.foreground or 0xd0d0d0, normal.background or 0x1c1c1c))
      f:close()
    end, 800)
  end
end

local tries = 0
local function poll()
  tries = tries + 1
  if vim.bo.filetype == "qualify" and #errors() > 0 then
    -- Let the second (analysis) publish settle before drawing.
    vim.defer_fn(show, 1500)
  elseif tries < 300 then
    vim.defer_fn(poll, 100)
  end
end
vim.api.nvim_create_autocmd("VimEnter", { callback = function() vim.defer_fn(poll, 100) end })
