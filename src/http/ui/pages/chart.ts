/** Charts as server-rendered inline SVG (no chart library, no script): a polyline per series. */
import { html } from 'hono/html';
import type { Html } from '../layout.js';

const W = 360;
const H = 60;

/** SVG polyline points for values scaled to the box, max at the top. Pure. */
export function polylinePoints(values: readonly number[], max: number): string {
  if (values.length === 0) return '';
  const step = values.length > 1 ? W / (values.length - 1) : 0;
  const top = max > 0 ? max : 1;
  return values.map((v, i) => `${(i * step).toFixed(1)},${(H - (Math.max(0, v) / top) * (H - 2) - 1).toFixed(1)}`).join(' ');
}

export function chart(title: string, series: Array<{ values: number[]; bad?: boolean; label: string }>, unit: string): Html {
  const max = Math.max(0, ...series.flatMap((s) => s.values));
  const summary = series.map((s) => `${s.label}: last ${s.values.at(-1) ?? 0}${unit}, peak ${Math.max(0, ...s.values)}${unit}`).join('; ');
  return html`<figure><svg class="chart" viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-label="${title}. ${summary}">
${series.map((s) => html`<polyline${s.bad ? html` class="bad"` : ''} points="${polylinePoints(s.values, max)}"></polyline>`)}
</svg><figcaption class="muted">${title} (last hour; ${summary})</figcaption></figure>`;
}
