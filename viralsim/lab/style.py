"""The lab page's HTML shell and stylesheet (inline: the page loads nothing from outside this machine)."""

from __future__ import annotations

__all__ = ["INDEX"]

_CSS = """
:root { --ink: #111827; --muted: #6b7280; --line: #e5e7eb; --accent: #e4405f; --bg: #f8fafc; }
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: var(--ink);
       background: var(--bg); font-size: 14px; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 12px; padding: 10px 18px; background: white;
         border-bottom: 1px solid var(--line); }
header h1 { font-size: 18px; margin: 0 12px 0 0; }
header h1 span { color: var(--accent); }
header > div { flex: 0 0 auto; }
header .dash-dropdown-wrapper { width: 230px; }
header .dash-input-container { width: 320px; }
button { padding: 6px 14px; border-radius: 6px; border: 1px solid #d1d5db; background: white; cursor: pointer;
         font: inherit; }
button.primary { background: var(--accent); border-color: var(--accent); color: white; font-weight: 600; }
button:hover { filter: brightness(0.96); }
.desc { color: var(--muted); flex-basis: 100%; margin: 0; }
.msg { color: #b91c1c; flex-basis: 100%; margin: 0; }
.msg:empty { display: none; }
main { display: grid; grid-template-columns: 370px 1fr; gap: 14px; padding: 14px 18px; }
aside { background: white; border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; align-self: start; }
.params { border-top: 1px solid var(--line); margin-top: 10px; padding-top: 12px; }
.param { margin-bottom: 12px; }
.param label { display: block; font-weight: 600; font-size: 13px; margin-bottom: 2px; }
.param .help code { color: #374151; font-size: 11px; }
.param .help { color: var(--muted); font-size: 11.5px; margin: 3px 0 0; line-height: 1.3; cursor: help; }
.radio label { display: inline-flex; gap: 4px; margin-right: 12px; font-weight: 400; }
.actions { display: flex; gap: 10px; }
.actions .field { flex: 1; min-width: 0; }
.actions .field label { font-weight: 600; font-size: 13px; display: block; }
.buttons { display: flex; gap: 8px; margin-top: 10px; }
.buttons button { flex: 1; }
#status { color: var(--muted); font-size: 12px; margin-top: 8px; }
.pace { margin-top: 10px; }
.pace label { font-weight: 600; font-size: 13px; }
.pace .radio label { font-weight: 400; }
button:disabled { opacity: 0.45; cursor: default; }
.sides { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
.side { background: white; border: 1px solid var(--line); border-radius: 10px; padding: 10px 12px; min-width: 0; }
.side h2 { font-size: 15px; margin: 2px 0 8px; }
.side h2 small { color: var(--muted); font-weight: 400; }
.numbers { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px; margin-bottom: 6px; }
.num { background: var(--bg); border-radius: 8px; padding: 6px 8px; }
.num .v { font-size: 18px; font-weight: 700; }
.num .l { color: var(--muted); font-size: 11.5px; }
.num .iv { font-size: 11px; font-weight: 400; color: #374151; }
.num.wide { grid-column: span 3; }
.num.wide .v { font-size: 13px; font-weight: 600; }
.push { grid-column: 1 / -1; }
.push .msg { margin-left: 10px; }
@media (max-width: 1100px) { .sides { grid-template-columns: 1fr; } main { grid-template-columns: 1fr; } }
"""

#: Dash's page template with the stylesheet inline.
INDEX = f"""<!DOCTYPE html>
<html lang="en">
<head>
{{%metas%}}
<title>{{%title%}}</title>
{{%css%}}
<style>{_CSS}</style>
</head>
<body>
{{%app_entry%}}
<footer>{{%config%}}{{%scripts%}}{{%renderer%}}</footer>
</body>
</html>"""
