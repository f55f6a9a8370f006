"""The review site's one style sheet (written as ``style.css``): readable on a phone, no web fonts, no script.

The answer bubble is the only pure white on a page (``BUBBLE``): the browser test finds it by that colour.
"""

from __future__ import annotations

BUBBLE = (255, 255, 255)

CSS = """\
:root {
  --page: #eef0f3; --card: #f8f9fb; --ink: #1c2230; --muted: #596273; --line: #d5dae1;
  --wallpaper: #cfdcc4; --bubble: #ffffff; --key: #8aa48080; --link: #1f5fb0;
  --reviewed: #1d7a3c; --draft: #8a5a00; --machine: #6a4aa0; --outdated: #b3261e; --missing: #7a7f89;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0; background: var(--page); color: var(--ink);
  font: 16px/1.5 system-ui, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
}
a { color: var(--link); }
main, .top, .bottom { max-width: 90rem; margin: 0 auto; padding: 0 1rem; }
.top { padding-top: .75rem; }
h1 { font-size: 1.5rem; line-height: 1.25; margin: .25rem 0 .5rem; }
h1 small { color: var(--muted); font-size: .9rem; font-weight: normal; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1rem 0 .25rem; }
p, ul, ol { margin: .4rem 0; }
code { font-size: .9em; overflow-wrap: anywhere; }
.muted, .meta { color: var(--muted); }
.meta { margin: 0 0 .5rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: .6rem; padding: .75rem 1rem; }
nav.jump a, .chips a { margin-right: .6rem; white-space: nowrap; }
.chips { display: flex; flex-wrap: wrap; gap: .35rem; margin: .5rem 0 1rem; }
.chips a { margin: 0; text-decoration: none; border: 1px solid var(--line); border-radius: 1rem;
  padding: .1rem .6rem; background: var(--card); }

.badge { display: inline-block; border-radius: .3rem; padding: 0 .4rem; font-size: .85rem; font-weight: 600;
  color: #fafafa; white-space: nowrap; }
.s-reviewed { background: var(--reviewed); }
.s-draft { background: var(--draft); }
.s-machine { background: var(--machine); }
.s-outdated { background: var(--outdated); }
.s-missing { background: var(--missing); }

.scroll { overflow-x: auto; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; background: var(--card); font-size: .9rem; }
th, td { border: 1px solid var(--line); padding: .25rem .45rem; text-align: left; vertical-align: top; }
th { background: #e4e8ed; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.cell { text-align: center; padding: .15rem; }
td.cell a { text-decoration: none; }

/* A topic's languages side by side; stacked on a narrow screen. Following a link to one language (#ar) shows it
   beside the German text it was translated from; "All languages" shows them all again. */
.langs { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 23rem), 1fr));
  align-items: start; }
.langs:has(> section:target) > section:not(:target):not(.source) { display: none; }
.lang { background: var(--card); border: 1px solid var(--line); border-radius: .6rem; overflow: hidden; }
.lang > header { padding: .5rem .75rem; }
.lang h2 { margin: 0 0 .25rem; font-size: 1.1rem; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0 .75rem; margin: 0; font-size: .9rem; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
.warn { color: var(--outdated); font-weight: 600; }

/* Telegram, roughly: a wallpaper, the bot's message in a white bubble, its buttons under it. */
.chat { background: var(--wallpaper); padding: .75rem; }
.bubble { background: var(--bubble); color: #000; border-radius: .9rem .9rem .9rem .25rem;
  padding: .45rem .75rem; width: fit-content; max-width: min(100%, 34rem); white-space: pre-wrap;
  overflow-wrap: anywhere; box-shadow: 0 1px 1px #0002; line-height: 1.4; }
.bubble[dir="rtl"] { border-radius: .9rem .9rem .25rem .9rem; }
.bubble + .bubble { margin-top: .4rem; }
.keyboard { max-width: min(100%, 34rem); margin-top: .3rem; }
.keyboard .row { display: flex; gap: .25rem; margin-top: .25rem; }
.keyboard .key { flex: 1; text-align: center; background: var(--key); color: #fafafa; border-radius: .5rem;
  padding: .3rem .4rem; font-size: .85rem; font-weight: 600; overflow-wrap: anywhere; }
.chat details { margin-top: .6rem; }
.chat summary { cursor: pointer; color: #234; font-size: .9rem; }
.chat details .bubble { margin-top: .4rem; }
.none { padding: .75rem; color: var(--muted); }

ol.gaps > li { margin-bottom: .75rem; }
ul.texts { padding-left: 1.2rem; }
ul.texts li { unicode-bidi: isolate; }
footer { color: var(--muted); font-size: .85rem; margin: 2rem 0 1rem; }

@media (max-width: 40rem) {
  body { font-size: 15px; }
  main, .top, .bottom { padding: 0 .5rem; }
  .chat { padding: .5rem; }
}
"""
