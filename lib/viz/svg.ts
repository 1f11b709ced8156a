// Small SVG charts (line, heat map, bar) written as strings: the report's
// figures need axes, ticks, lines and rectangles, not a charting runtime, so
// they cost no dependency and no start-up time and render the same anywhere.

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
const MARGIN = { top: 30, right: 16, bottom: 42, left: 62 };

export const esc = (s: string): string => s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
const fmt = (v: number) => Number(v.toPrecision(6)).toString();

/** Up to about `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten). */
export function linearTicks(lo: number, hi: number, count = 5, integer = false): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  if (integer) step = Math.max(1, Math.round(step));
  // Multiples of the step, rounded to its decimals: no drift from adding steps up.
  const decimals = Math.min(100, Math.max(0, -Math.floor(Math.log10(step))));
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(Number((k * step).toFixed(decimals)));
  return ticks;
}

/** Ticks of a log scale: powers of ten, with 2× and 5× when the range spans few decades. */
export function logTicks(lo: number, hi: number): number[] {
  const first = Math.floor(Math.log10(lo));
  const last = Math.ceil(Math.log10(hi));
  const multiples = last - first <= 2 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let e = first; e <= last; e++) for (const m of multiples) {
    const t = Number((m * 10 ** e).toPrecision(12));
    if (t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) ticks.push(t);
  }
  return ticks.length ? ticks : [lo, hi];
}

function extent(values: number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  if (lo === Infinity) return [0, 1];
  if (lo === hi) return [lo - (Math.abs(lo) || 1) * 0.05, hi + (Math.abs(hi) || 1) * 0.05];
  return [lo, hi];
}

/** Rough width of a label in px at font size 11 (no font metrics in Node). */
const textWidth = (s: string, size = 11) => s.length * size * 0.6;

/** The chart's plot area (width × height, drawn by body) with margins, the title above and an optional legend under it. */
function frame(width: number, height: number, title: string, body: string, legend: readonly { name: string; color: string }[] = []): string {
  const w = Math.ceil(Math.max(width + MARGIN.left + MARGIN.right, MARGIN.left + textWidth(title, 13) * 1.08 + 8));
  // Legend keys left to right, wrapping onto more rows when they do not fit.
  let x = MARGIN.left;
  let row = 0;
  const placed = legend.map((item) => {
    const span = 16 + textWidth(item.name) + 14;
    if (x > MARGIN.left && x + span - 14 > w - 4) {
      x = MARGIN.left;
      row++;
    }
    const at = { item, x, row };
    x += span;
    return at;
  });
  const rows = legend.length ? row + 1 : 0;
  const top = MARGIN.top + rows * 16;
  const h = height + top + MARGIN.bottom;
  const keys = placed.map(({ item, x: kx, row: r }) => `<g transform="translate(${kx.toFixed(1)},${MARGIN.top + r * 16 + 6})"><rect y="-4" width="12" height="3" fill="${item.color}"/><text x="16" y="0">${esc(item.name)}</text></g>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" ${FONT} font-size="11" role="img" aria-label="${esc(title)}">`
    + `<rect width="${w}" height="${h}" fill="white"/>`
    + `<text x="${MARGIN.left}" y="18" font-size="13" font-weight="600">${esc(title)}</text>${keys.join('')}`
    + `<g transform="translate(${MARGIN.left},${top})">${body}</g></svg>`;
}

export interface LineSeries {
  name: string;
  points: readonly (readonly [number, number])[];
  color: string;
  opacity?: number;
  /** Draw a dot at every point (short series, e.g. one per epoch). */
  markers?: boolean;
}

export interface LineChartOptions {
  title: string;
  width: number;
  height: number;
  series: LineSeries[];
  xLabel: string;
  yLabel: string;
  yScale?: 'linear' | 'log';
  /** Tick label of a y value, e.g. a percentage. */
  yFormat?: (v: number) => string;
  xIntegerTicks?: boolean;
}

export function lineChart(o: LineChartOptions): string {
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0]));
  const log = o.yScale === 'log';
  const ys = o.series.flatMap((s) => s.points.map((p) => p[1])).filter((v) => !log || v > 0);
  const [x0, x1] = extent(xs);
  const [y0, y1] = extent(ys);
  const xTicks = linearTicks(x0, x1, 6, o.xIntegerTicks);
  const yTicks = log ? logTicks(y0, y1) : linearTicks(y0, y1, 5);
  const lo = log ? Math.log10(y0) : y0;
  const hi = log ? Math.log10(y1) : y1;
  const sx = (v: number) => ((v - x0) / (x1 - x0 || 1)) * o.width;
  const sy = (v: number) => o.height - (((log ? Math.log10(v) : v) - lo) / (hi - lo || 1)) * o.height;
  const yText = o.yFormat ?? fmt;
  let body = `<g stroke="#e6e6e6">${yTicks.map((t) => `<line x1="0" x2="${o.width}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}"/>`).join('')}</g>`;
  body += `<g fill="#555" text-anchor="end">${yTicks.map((t) => `<text x="-6" y="${(sy(t) + 4).toFixed(1)}">${esc(yText(t))}</text>`).join('')}</g>`;
  body += `<g fill="#555" text-anchor="middle">${xTicks.map((t) => `<text x="${sx(t).toFixed(1)}" y="${o.height + 16}">${esc(fmt(t))}</text>`).join('')}</g>`;
  body += `<path d="M0,0V${o.height}H${o.width}" fill="none" stroke="#888"/>`;
  body += `<text x="${o.width / 2}" y="${o.height + 34}" text-anchor="middle" fill="#333">${esc(o.xLabel)}</text>`;
  body += `<text transform="translate(-50,${o.height / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(o.yLabel)}</text>`;
  for (const s of o.series) {
    const points = s.points.filter((p) => Number.isFinite(p[1]) && (!log || p[1] > 0));
    if (!points.length) continue;
    const d = points.map((p, i) => `${i ? 'L' : 'M'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join('');
    body += `<path class="series" data-name="${esc(s.name)}" d="${d}" fill="none" stroke="${s.color}" stroke-width="1.6" stroke-opacity="${s.opacity ?? 1}"/>`;
    if (s.markers) body += points.map((p) => `<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="2.6" fill="${s.color}"/>`).join('');
  }
  const named = o.series.filter((s) => s.name);
  return frame(o.width, o.height, o.title, body, named.length > 1 ? named : []);
}

/** White to dark blue, for rates in [0, 1]. */
function blues(t: number): string {
  const c = Math.min(1, Math.max(0, t));
  const from = [247, 251, 255];
  const to = [8, 48, 107];
  return `rgb(${from.map((f, i) => Math.round(f + (to[i] - f) * c)).join(',')})`;
}

export interface HeatmapOptions {
  title: string;
  rows: readonly string[];
  columns: readonly string[];
  /** Colour: rates in [0, 1]; text: what each cell shows. */
  rates: readonly (readonly number[])[];
  text: readonly (readonly string[])[];
  xLabel: string;
  yLabel: string;
  cell?: number;
}

export function heatmap(o: HeatmapOptions): string {
  const cell = o.cell ?? 30;
  const width = o.columns.length * cell;
  const height = o.rows.length * cell;
  let body = '';
  o.rows.forEach((_, r) => o.columns.forEach((__, c) => {
    const rate = o.rates[r][c];
    body += `<rect x="${c * cell}" y="${r * cell}" width="${cell}" height="${cell}" fill="${blues(rate)}" stroke="white"/>`;
    body += `<text x="${c * cell + cell / 2}" y="${r * cell + cell / 2 + 3.5}" text-anchor="middle" font-size="9" fill="${rate > 0.5 ? 'white' : 'black'}">${esc(o.text[r][c])}</text>`;
  }));
  body += `<g fill="#555" text-anchor="end">${o.rows.map((name, r) => `<text x="-5" y="${r * cell + cell / 2 + 4}">${esc(name)}</text>`).join('')}</g>`;
  body += `<g fill="#555" text-anchor="middle">${o.columns.map((name, c) => `<text x="${c * cell + cell / 2}" y="${height + 14}">${esc(name)}</text>`).join('')}</g>`;
  body += `<text x="${width / 2}" y="${height + 32}" text-anchor="middle" fill="#333">${esc(o.xLabel)}</text>`;
  body += `<text transform="translate(-50,${height / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(o.yLabel)}</text>`;
  return frame(width, height, o.title, body);
}

export interface BarChartOptions {
  title: string;
  labels: readonly string[];
  /** Values in [0, 1], drawn against a percentage axis. */
  values: readonly number[];
  width: number;
  height: number;
  xLabel: string;
  yLabel: string;
}

export function barChart(o: BarChartOptions): string {
  const band = o.width / Math.max(1, o.labels.length);
  const sy = (v: number) => o.height - Math.min(1, Math.max(0, v)) * o.height;
  const ticks = linearTicks(0, 1, 5);
  let body = `<g stroke="#e6e6e6">${ticks.map((t) => `<line x1="0" x2="${o.width}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}"/>`).join('')}</g>`;
  body += `<g fill="#555" text-anchor="end">${ticks.map((t) => `<text x="-6" y="${(sy(t) + 4).toFixed(1)}">${Math.round(t * 100)}%</text>`).join('')}</g>`;
  body += o.values.map((v, i) => `<rect class="bar" x="${(i * band + band * 0.1).toFixed(1)}" y="${sy(v).toFixed(1)}" width="${(band * 0.8).toFixed(1)}" height="${(o.height - sy(v)).toFixed(1)}" fill="#4c78a8"><title>${esc(`${o.labels[i]}: ${(v * 100).toFixed(2)}%`)}</title></rect>`).join('');
  body += `<g fill="#555" text-anchor="middle">${o.labels.map((name, i) => `<text x="${(i * band + band / 2).toFixed(1)}" y="${o.height + 14}">${esc(name)}</text>`).join('')}</g>`;
  body += `<path d="M0,0V${o.height}H${o.width}" fill="none" stroke="#888"/>`;
  body += `<text x="${o.width / 2}" y="${o.height + 32}" text-anchor="middle" fill="#333">${esc(o.xLabel)}</text>`;
  body += `<text transform="translate(-50,${o.height / 2}) rotate(-90)" text-anchor="middle" fill="#333">${esc(o.yLabel)}</text>`;
  return frame(o.width, o.height, o.title, body);
}
