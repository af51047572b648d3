#!/usr/bin/env python3
"""Turn `tmux capture-pane -e -p` output (SGR escapes, 24-bit colour) into a
self-contained HTML page: one <span> per run of equally styled cells, a
monospace font, lines padded to the pane width with the default background.

usage: ansi2html.py WIDTH DEFAULT_FG DEFAULT_BG [CURSOR_X,CURSOR_Y] < capture.txt > screen.html

capture-pane does not include the cursor, so its cell (from tmux
`#{cursor_x},#{cursor_y}`) can be passed to draw it as a block.
"""
import html
import re
import sys

width = int(sys.argv[1])
default_fg, default_bg = sys.argv[2], sys.argv[3]
cursor = tuple(int(v) for v in sys.argv[4].split(",")) if len(sys.argv) > 4 else None
CURSOR_CSS = "color:%s;background:#e6e6e6" % default_bg

BASE16 = [
    "#1c1c1c", "#e06c75", "#98c379", "#e5c07b", "#61afef", "#c678dd", "#56b6c2", "#d0d0d0",
    "#5c6370", "#ff7b86", "#b5e890", "#ffd68a", "#7cc4ff", "#e095f0", "#6fd3df", "#ffffff",
]


def xterm256(n):
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + 10 * (n - 232)
    return "#%02x%02x%02x" % (v, v, v)


class Style:
    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = self.bg = self.ul_color = None
        self.bold = self.italic = self.underline = self.undercurl = self.reverse = self.dim = False

    def key(self):
        return (self.fg, self.bg, self.ul_color, self.bold, self.italic, self.underline,
                self.undercurl, self.reverse, self.dim)

    def css(self):
        fg, bg = self.fg or default_fg, self.bg or default_bg
        if self.reverse:
            fg, bg = bg, fg
        parts = ["color:" + fg]
        if bg != default_bg:
            parts.append("background:" + bg)
        if self.bold:
            parts.append("font-weight:bold")
        if self.italic:
            parts.append("font-style:italic")
        if self.dim:
            parts.append("opacity:.7")
        if self.underline or self.undercurl:
            parts.append("text-decoration:underline" + (" wavy" if self.undercurl else ""))
            parts.append("text-decoration-color:" + (self.ul_color or fg))
            parts.append("text-underline-offset:3px")
        return ";".join(parts)


def color(params, i):
    """Parse 38/48/58 extended colours; return (colour, next index)."""
    if i + 1 < len(params) and params[i + 1] == "2" and i + 4 < len(params):
        r, g, b = (int(x or 0) for x in params[i + 2:i + 5])
        return "#%02x%02x%02x" % (r, g, b), i + 5
    if i + 1 < len(params) and params[i + 1] == "5" and i + 2 < len(params):
        return xterm256(int(params[i + 2] or 0)), i + 3
    return None, i + 1


def apply(style, seq):
    params = seq.replace(":", ";").split(";") if seq else ["0"]
    i = 0
    while i < len(params):
        p = int(params[i] or 0)
        if p == 0:
            style.reset()
        elif p == 1:
            style.bold = True
        elif p == 2:
            style.dim = True
        elif p == 3:
            style.italic = True
        elif p == 4:
            style.underline = True
            # 4:3 is undercurl
            if i + 1 < len(params) and ":" in seq and params[i + 1] in ("3",):
                style.undercurl, style.underline = True, False
                i += 1
        elif p == 7:
            style.reverse = True
        elif p == 22:
            style.bold = style.dim = False
        elif p == 23:
            style.italic = False
        elif p == 24:
            style.underline = style.undercurl = False
        elif p == 27:
            style.reverse = False
        elif 30 <= p <= 37:
            style.fg = BASE16[p - 30]
        elif p == 38:
            style.fg, i = color(params, i)
            continue
        elif p == 39:
            style.fg = None
        elif 40 <= p <= 47:
            style.bg = BASE16[p - 40]
        elif p == 48:
            style.bg, i = color(params, i)
            continue
        elif p == 49:
            style.bg = None
        elif p == 58:
            style.ul_color, i = color(params, i)
            continue
        elif p == 59:
            style.ul_color = None
        elif 90 <= p <= 97:
            style.fg = BASE16[p - 90 + 8]
        elif 100 <= p <= 107:
            style.bg = BASE16[p - 100 + 8]
        i += 1


TOKEN = re.compile(r"\x1b\[([0-9;:]*)m|\x1b\[[0-9;:?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|([^\x1b]+)")


def convert(lines):
    style = Style()
    out = []
    for y, line in enumerate(lines):
        cells = 0
        spans = []
        for m in TOKEN.finditer(line):
            if m.group(2) is not None:
                text = m.group(2)
                css = style.css()
                if cursor and cursor[1] == y and cells <= cursor[0] < cells + len(text):
                    k = cursor[0] - cells
                    before, under, after = text[:k], text[k], text[k + 1:]
                    if before:
                        spans.append('<span style="%s">%s</span>' % (css, html.escape(before)))
                    spans.append('<span style="%s">%s</span>' % (CURSOR_CSS, html.escape(under)))
                    if after:
                        spans.append('<span style="%s">%s</span>' % (css, html.escape(after)))
                else:
                    spans.append('<span style="%s">%s</span>' % (css, html.escape(text)))
                cells += len(text)
            elif m.group(1) is not None:
                apply(style, m.group(1))
        if cells < width:
            spans.append(" " * (width - cells))
        out.append("".join(spans))
        # capture-pane -e starts each line with the styles in effect; do not
        # carry them over the newline.
        style.reset()
    return out


def main():
    raw = sys.stdin.read().rstrip("\n").split("\n")
    # Drop the empty command line (and any blank rows) at the bottom.
    while raw and not re.sub(r"\x1b\[[0-9;:?]*[A-Za-z]", "", raw[-1]).strip():
        raw.pop()
    body = "\n".join(convert(raw))
    sys.stdout.write(f"""<!doctype html>
<html><head><meta charset="utf-8"><style>
html, body {{ margin: 0; padding: 0; background: {default_bg}; }}
pre {{
  margin: 0; padding: 14px 16px;
  display: inline-block;
  font-family: "JetBrains Mono", "DejaVu Sans Mono", monospace;
  font-size: 15px; line-height: 1.25;
  color: {default_fg}; background: {default_bg};
  font-variant-ligatures: none;
}}
</style></head><body><pre id="screen">{body}</pre>
<script>
  // take.sh reads this through --dump-dom to size the screenshot.
  const r = document.getElementById("screen").getBoundingClientRect();
  document.body.setAttribute("data-size", Math.ceil(r.width) + "x" + Math.ceil(r.height));
</script></body></html>
""")


if __name__ == "__main__":
    main()
