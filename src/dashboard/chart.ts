import { html, type Html } from "./html.js";

// The overview's throughput chart: finished jobs per minute over the last
// hour, completed stacked under failed, with a count axis, time labels every
// ten minutes (UTC, like every other time on the page) and a legend.

export interface MinuteBucket {
  /** Start of the minute, epoch ms. */
  minute: number;
  completed: number;
  failed: number;
}

const W = 640;
const H = 170;
const LEFT = 44;
const RIGHT = 8;
const TOP = 10;
const BOTTOM = 26;
const PLOT_W = W - LEFT - RIGHT;
const PLOT_H = H - TOP - BOTTOM;

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/** A "nice" axis maximum (1, 2 or 5 times a power of ten) at or above the peak. */
function niceMax(peak: number): number {
  if (peak <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(peak));
  return [1, 2, 5, 10].map((m) => m * power).find((v) => v >= peak)!;
}

export function throughputChart(buckets: MinuteBucket[]): Html {
  const max = niceMax(Math.max(0, ...buckets.map((b) => b.completed + b.failed)));
  const step = PLOT_W / Math.max(1, buckets.length);
  const y = (n: number) => TOP + PLOT_H - (n / max) * PLOT_H;
  const ticks = [0, max / 2, max].filter((t, i, all) => Number.isInteger(t) && all.indexOf(t) === i);
  const grid = ticks.map((t) => html`<line class="grid" x1="${LEFT}" x2="${W - RIGHT}" y1="${y(t)}" y2="${y(t)}"></line><text class="y" x="${LEFT - 6}" y="${y(t) + 4}">${t}</text>`);
  const labels = buckets.flatMap((b, i) => (new Date(b.minute).getUTCMinutes() % 10 === 0 ? [html`<line class="tick" x1="${LEFT + i * step}" x2="${LEFT + i * step}" y1="${TOP + PLOT_H}" y2="${TOP + PLOT_H + 4}"></line><text class="x" x="${LEFT + i * step}" y="${H - 8}">${hhmm(b.minute)}</text>`] : []));
  const bars = buckets.map((b, i) => {
    const hc = (b.completed / max) * PLOT_H;
    const hf = (b.failed / max) * PLOT_H;
    const x = LEFT + i * step + 1;
    return html`<g><title>${hhmm(b.minute)} UTC: ${b.completed} completed, ${b.failed} failed</title>
<rect class="c" x="${x}" y="${TOP + PLOT_H - hc}" width="${step - 2}" height="${hc}"></rect><rect class="f" x="${x}" y="${TOP + PLOT_H - hc - hf}" width="${step - 2}" height="${hf}"></rect></g>`;
  });
  return html`<figure class="chart">
<svg class="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="jobs finished per minute over the last hour, completed and failed">
${grid}<line class="axis" x1="${LEFT}" x2="${LEFT}" y1="${TOP}" y2="${TOP + PLOT_H}"></line><line class="axis" x1="${LEFT}" x2="${W - RIGHT}" y1="${TOP + PLOT_H}" y2="${TOP + PLOT_H}"></line>
${labels}${bars}
<text class="y-title" transform="rotate(-90)" x="${-(TOP + PLOT_H / 2)}" y="12">jobs / min</text>
</svg>
<figcaption class="legend"><span class="swatch c"></span> completed <span class="swatch f"></span> failed (discarded or cancelled) <span class="muted">· per minute, UTC</span></figcaption>
</figure>`;
}
