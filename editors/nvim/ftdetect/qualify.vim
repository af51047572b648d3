" Qualify policies: *.qual
autocmd BufRead,BufNewFile *.qual set filetype=qualify
