-- Start `qualify lsp` for every Qualify buffer, with Neovim's built-in
-- client (0.7 and later; no plugin needed).
--
--   require("qualify").setup({ cmd = { "qualify", "lsp" }, settings = { sample = "data/leads.csv" } })
local M = {}

local function root_of(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local dir = vim.fn.fnamemodify(name, ":p:h")
  local found = vim.fn.finddir(".git", dir .. ";")
  if found ~= "" then return vim.fn.fnamemodify(found, ":p:h:h") end
  local toml = vim.fn.findfile("qualify.toml", dir .. ";")
  if toml ~= "" then return vim.fn.fnamemodify(toml, ":p:h") end
  return dir
end

function M.setup(opts)
  opts = opts or {}
  local cmd = opts.cmd or { "qualify", "lsp" }
  if vim.fn.executable(cmd[1]) ~= 1 then
    vim.notify("qualify: `" .. cmd[1] .. "` not found; install it or pass cmd = { '/path/to/qualify', 'lsp' }", vim.log.levels.WARN)
    return
  end
  local clients = {}
  vim.api.nvim_create_autocmd("FileType", {
    pattern = "qualify",
    callback = function(args)
      local root = root_of(args.buf)
      local id = clients[root]
      if not id or not vim.lsp.get_client_by_id(id) then
        id = vim.lsp.start_client({
          name = "qualify",
          cmd = cmd,
          root_dir = root,
          init_options = opts.settings or {},
          settings = { qualify = opts.settings or {} },
        })
        clients[root] = id
      end
      if id then vim.lsp.buf_attach_client(args.buf, id) end
    end,
  })
end

return M
