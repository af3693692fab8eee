/** The dashboard's one stylesheet (served hashed and gzipped by assets.ts). Light and dark follow the system. */
export const UI_CSS = `
:root{--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--panel:#f6f8fa;--accent:#0550ae;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--run:#0969da;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#30363d;--panel:#161b22;--accent:#4493f8;--ok:#3fb950;--bad:#f85149;--warn:#d29922;--run:#58a6ff}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--fg)}
a{color:var(--accent)}
a:focus-visible,button:focus-visible,summary:focus-visible,input:focus-visible,select:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
header{display:flex;gap:1rem;align-items:center;padding:.5rem 1rem;border-bottom:1px solid var(--line);background:var(--panel);flex-wrap:wrap}
header .brand{font-weight:700;margin-right:1rem}
nav a{margin-right:.8rem;text-decoration:none}
nav a[aria-current=page]{font-weight:700;text-decoration:underline}
header .who{margin-left:auto;color:var(--muted)}
main{padding:1rem;max-width:1400px}
h1{font-size:1.3rem;margin:.2rem 0 1rem}
h2{font-size:1.05rem;margin:1.2rem 0 .5rem}
table{border-collapse:collapse;width:100%;margin-bottom:1rem}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600}
.cards{display:flex;flex-wrap:wrap;gap:.7rem;margin-bottom:1rem}
.card{border:1px solid var(--line);border-radius:6px;padding:.5rem .8rem;min-width:8rem;background:var(--panel)}
.card b{display:block;font-size:1.3rem}
.muted{color:var(--muted)}
.warn{border-left:4px solid var(--warn);padding:.4rem .7rem;background:var(--panel);margin:.4rem 0}
.err{color:var(--bad)}
.s-succeeded,.s-Success,.s-running-ok{color:var(--ok)}
.s-failed,.s-dead,.s-Failed,.s-lost{color:var(--bad)}
.s-running,.s-Running{color:var(--run)}
.s-Partial,.s-Expired,.s-Skipped,.s-cancelled{color:var(--warn)}
form.inline{display:inline}
button,.button{font:inherit;padding:.2rem .6rem;border:1px solid var(--line);border-radius:5px;background:var(--panel);color:var(--fg);cursor:pointer}
button.danger{color:var(--bad)}
a.button{text-decoration:none;display:inline-block;margin:.1rem 0}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.s-queued,.s-starting,.s-partial{color:var(--warn)}.s-stopped,.s-offline{color:var(--muted)}.s-online,.s-idle{color:var(--ok)}
input,select{font:inherit;padding:.2rem .4rem;border:1px solid var(--line);border-radius:4px;background:var(--bg);color:var(--fg)}
.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end;margin-bottom:.8rem}
.filters label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted)}
pre{background:var(--panel);border:1px solid var(--line);padding:.5rem;overflow:auto;max-height:20rem;white-space:pre-wrap}
.bar{display:flex;height:.8rem;width:10rem;border:1px solid var(--line);border-radius:3px;overflow:hidden}
.bar span{display:block;height:100%}
.bar .b-ok{background:var(--ok)}.bar .b-bad{background:var(--bad)}.bar .b-warn{background:var(--warn)}.bar .b-run{background:var(--run)}
.signin{max-width:24rem;margin:4rem auto;border:1px solid var(--line);border-radius:8px;padding:1.5rem;background:var(--panel)}
.signin input{width:100%;margin:.3rem 0 .8rem}
.pager{margin:.5rem 0}
.live-dot{display:inline-block;width:.55rem;height:.55rem;border-radius:50%;background:var(--muted);margin-right:.3rem}
.live-dot.on{background:var(--ok)}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:var(--bg);padding:.3rem}
svg.chart{width:100%;max-width:36rem;height:6rem;border:1px solid var(--line);background:var(--panel)}
svg.chart polyline{fill:none;stroke:var(--accent);stroke-width:1.5}
svg.chart polyline.bad{stroke:var(--bad)}
.ok{border-left:4px solid var(--ok);padding:.4rem .7rem;background:var(--panel);margin:.4rem 0}
a.button{text-decoration:none;display:inline-block}
textarea{font:13px/1.4 ui-monospace,monospace;padding:.3rem .4rem;border:1px solid var(--line);border-radius:4px;background:var(--bg);color:var(--fg);width:100%}
textarea:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
.jobform{max-width:60rem}
.jobform fieldset{border:1px solid var(--line);border-radius:6px;margin:0 0 .8rem;padding:.5rem .8rem}
.jobform .field{display:grid;grid-template-columns:12rem 1fr;gap:.2rem .8rem;align-items:start;margin:.4rem 0}
.jobform .field input[type=text]{width:100%}
.jobform .hint,.jobform .problem{grid-column:2;font-size:.85rem}
.jobform .problem{color:var(--bad);margin:0}
.jobform [aria-invalid=true]{border-color:var(--bad)}
`;
