// Static assets, served from the handler so the dashboard needs no build
// step or file access. The script is external (never inline) so the page can
// send a Content-Security-Policy with script-src 'self': even if escaping
// were ever missed, an injected <script> would not run.

export const CSS = `
:root { --fg:#1d2433; --muted:#667085; --line:#e4e7ec; --bg:#f8f9fb; --accent:#3456d1; --ok:#137a3f; --bad:#b42318; --warn:#b54708; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg); }
header { display:flex; gap:24px; align-items:center; padding:10px 24px; background:#111827; color:#fff; }
header a { color:#cbd5e1; text-decoration:none; } header a.on, header a:hover { color:#fff; }
header .brand { font-weight:700; color:#fff; margin-right:12px; }
header .ro { margin-left:auto; font-size:12px; background:#374151; padding:2px 8px; border-radius:10px; }
main { padding:20px 24px; max-width:1400px; }
h1 { font-size:20px; margin:0 0 16px; } h2 { font-size:16px; margin:24px 0 8px; }
table { border-collapse:collapse; width:100%; background:#fff; border:1px solid var(--line); }
th, td { text-align:left; padding:6px 10px; border-bottom:1px solid var(--line); vertical-align:top; }
th { font-weight:600; color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.03em; }
td.num { text-align:right; font-variant-numeric:tabular-nums; }
a { color:var(--accent); }
pre { background:#0f172a; color:#e2e8f0; padding:10px 12px; border-radius:6px; overflow:auto; max-height:420px; font-size:12.5px; white-space:pre-wrap; word-break:break-word; }
code { font-size:12.5px; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; background:#eef2ff; color:#3730a3; }
.s-completed { background:#dcfce7; color:var(--ok); } .s-discarded, .s-cancelled { background:#fee4e2; color:var(--bad); }
.s-executing { background:#dbeafe; color:#1d4ed8; } .s-retryable { background:#fef0c7; color:var(--warn); } .s-paused { background:#fee4e2; color:var(--bad); }
.muted { color:var(--muted); } .error { color:var(--bad); }
.waiting-for { color:#92400e; background:#fffbeb; border-radius:4px; padding:1px 6px; font-size:12px; }
.bar { position:relative; width:160px; height:14px; background:#e5e7eb; border-radius:7px; overflow:hidden; display:inline-block; vertical-align:middle; }
.bar > span { position:absolute; left:0; top:0; bottom:0; background:var(--accent); }
.bar-label { font-size:12px; margin-left:6px; }
form.inline { display:inline; margin:0; }
button { font:inherit; padding:3px 10px; border:1px solid var(--line); background:#fff; border-radius:5px; cursor:pointer; }
button.danger { color:var(--bad); border-color:#fda29b; }
input, select { font:inherit; padding:3px 6px; border:1px solid #d0d5dd; border-radius:5px; }
.filters { display:flex; flex-wrap:wrap; gap:10px; align-items:end; background:#fff; padding:10px; border:1px solid var(--line); margin-bottom:12px; }
.filters label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); gap:2px; }
.notice { background:#ecfdf3; border:1px solid #abefc6; padding:8px 12px; margin-bottom:12px; }
.grid { display:grid; grid-template-columns: 180px 1fr; gap:4px 16px; background:#fff; border:1px solid var(--line); padding:12px; }
.grid dt { color:var(--muted); } .grid dd { margin:0; }
.pager { margin:10px 0; display:flex; gap:12px; align-items:center; }
svg.chart rect.c, .swatch.c { fill:#22c55e; background:#22c55e; } svg.chart rect.f, .swatch.f { fill:#ef4444; background:#ef4444; }
svg.chart text { font-size:11px; fill:var(--muted); } svg.chart text.y { text-anchor:end; } svg.chart text.x { text-anchor:middle; }
svg.chart text.y-title { text-anchor:middle; }
svg.chart line.grid { stroke:#eef0f3; } svg.chart line.axis, svg.chart line.tick { stroke:#98a2b3; }
figure.chart { margin:0; background:#fff; border:1px solid var(--line); padding:8px 10px; display:inline-block; }
.legend { font-size:12px; margin-top:4px; } .swatch { display:inline-block; width:10px; height:10px; border-radius:2px; vertical-align:middle; margin-left:8px; }
.bad-value { background:#fef0c7; color:var(--warn); }
form.inline label { font-size:12px; color:var(--muted); margin-right:4px; }
td.actions form.inline { display:inline-block; white-space:nowrap; margin:1px 0; }
td.actions input[name="for"] { width:52px; } td.actions input[name="concurrency"] { width:64px; }
td.meta { font-family:ui-monospace, monospace; font-size:12px; max-width:280px; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
details summary { cursor:pointer; }
`;

export const SCRIPT = `
(() => {
  // Live updates: re-fetch this page every 2 s and swap the #live region,
  // unless the user is typing inside it or the tab is hidden. A page the
  // server takes long to compute (counts over a million jobs) waits 5x as
  // long as its last fetch took, so an open tab never keeps the database busy.
  const live = document.getElementById("live");
  if (live && live.dataset.live === "on") {
    const tick = async () => {
      let took = 0;
      if (!(document.hidden || live.contains(document.activeElement) && document.activeElement.tagName !== "BODY")) {
        const started = performance.now();
        try {
          const res = await fetch(location.href, { headers: { "x-durable-live": "1" }, credentials: "same-origin" });
          if (res.ok) {
            const doc = new DOMParser().parseFromString(await res.text(), "text/html");
            const next = doc.getElementById("live");
            if (next) live.replaceChildren(...next.childNodes);
          }
        } catch { /* offline for a moment; try again next tick */ }
        took = performance.now() - started;
      }
      setTimeout(tick, Math.max(2000, took * 5));
    };
    setTimeout(tick, 2000);
  }
  document.addEventListener("submit", (event) => {
    const text = event.target.getAttribute("data-confirm");
    if (text && !confirm(text)) event.preventDefault();
  });
})();
`;
