/**
 * Charts as self-contained SVG (no scripts, no external fonts): line charts (axes with ticks, one polyline and
 * markers per series, optional error bars, a legend) and forest plots of differences with their intervals.
 * Enough for the paper's figures; nothing here knows about safety.
 */
export interface Series {
  name: string;
  /** `lo`/`hi`: an interval around y, drawn as an error bar (left out where either is missing or infinite). */
  points: { x: number; y: number; lo?: number; hi?: number }[];
  /** Default: the palette by position. */
  color?: string;
  /** SVG stroke-dasharray; default solid. */
  dash?: string;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** Start the y axis at 0 (default true; false zooms in on the data, for loss curves). */
  yFromZero?: boolean;
}

/** Dash patterns that stay apart at 2 px: solid, dashed, dotted, dash-dot. */
export const DASHES = [undefined, '6 4', '2 3', '8 3 2 3'];

export const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

/** About five round tick values spanning [lo, hi]; whole numbers only if `integer` (epochs, counts). */
export function niceTicks(lo: number, hi: number, count = 5, integer = false): number[] {
  if (!(hi > lo)) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= d;
    hi += d;
  }
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(
    integer ? 1 : 0,
    [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!,
  );
  // From the multiple at or below lo to the one at or above hi, so every point lies inside the axes.
  const ticks: number[] = [];
  const first = Math.floor(lo / step + 1e-9),
    last = Math.ceil(hi / step - 1e-9);
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

/** A point's interval when it has a finite one. */
const barOf = (p: { lo?: number; hi?: number }): [number, number] | null =>
  Number.isFinite(p.lo) && Number.isFinite(p.hi) ? [p.lo!, p.hi!] : null;

/** The opening tag, a white background and the title: the start of every chart. */
function svgOpen(W: number, H: number, title: string): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
      `font-family="sans-serif" font-size="12" role="img" aria-label="${escapeXml(title)}">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
  ];
}

const f1 = (v: number) => v.toFixed(1);
const fmt = (v: number) =>
  Math.abs(v) >= 1000 || Number.isInteger(v) ? String(Math.round(v)) : String(Number(v.toPrecision(3)));

export function lineChart(series: readonly Series[], options: ChartOptions): string {
  const W = options.width ?? 560,
    H = options.height ?? 340;
  const m = { left: 64, right: 16, top: 36, bottom: 72 };
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p.x),
    ys = all.flatMap((p) => [p.y, ...(barOf(p) ?? [])]);
  const xTicks = niceTicks(
    xs.length ? Math.min(...xs) : 0,
    xs.length ? Math.max(...xs) : 1,
    5,
    xs.length > 0 && xs.every(Number.isInteger),
  );
  const yTicks = niceTicks(
    ys.length ? Math.min(options.yFromZero === false ? Infinity : 0, ...ys) : 0,
    ys.length ? Math.max(...ys) : 1,
  );
  const [x0, x1] = [xTicks[0], xTicks.at(-1)!],
    [y0, y1] = [yTicks[0], yTicks.at(-1)!];
  const px = (x: number) => m.left + ((x - x0) / (x1 - x0 || 1)) * (W - m.left - m.right);
  const py = (y: number) => H - m.bottom - ((y - y0) / (y1 - y0 || 1)) * (H - m.top - m.bottom);
  const out = svgOpen(W, H, options.title);
  for (const t of yTicks)
    out.push(
      `<line x1="${m.left}" x2="${W - m.right}" y1="${py(t)}" y2="${py(t)}" stroke="#ddd"/>` +
        `<text x="${m.left - 6}" y="${py(t) + 4}" text-anchor="end">${fmt(t)}</text>`,
    );
  for (const t of xTicks)
    out.push(
      `<line x1="${px(t)}" x2="${px(t)}" y1="${H - m.bottom}" y2="${H - m.bottom + 4}" stroke="#333"/>` +
        `<text x="${px(t)}" y="${H - m.bottom + 18}" text-anchor="middle">${fmt(t)}</text>`,
    );
  out.push(
    `<line x1="${m.left}" x2="${W - m.right}" y1="${H - m.bottom}" y2="${H - m.bottom}" stroke="#333"/>` +
      `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${H - m.bottom}" stroke="#333"/>`,
  );
  out.push(
    `<text x="${(m.left + W - m.right) / 2}" y="${H - m.bottom + 36}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
  );
  out.push(
    `<text transform="translate(16 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const color = s.color ?? COLORS[i % COLORS.length];
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    if (pts.length > 1)
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} ` +
          `points="${pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}"/>`,
      );
    for (const p of pts) {
      const bar = barOf(p);
      const [cx, cy] = [px(p.x), py(p.y)];
      if (bar) {
        // A thin vertical line with 6 px caps at both ends, under the marker.
        const [lo, hi] = bar.map(py);
        out.push(
          `<path class="error-bar" d="M${f1(cx)},${f1(lo)}V${f1(hi)}` +
            `M${f1(cx - 3)},${f1(lo)}h6M${f1(cx - 3)},${f1(hi)}h6" stroke="${color}" stroke-width="1" fill="none"/>`,
        );
      }
      const range = bar ? ` [${fmt(bar[0])}, ${fmt(bar[1])}]` : '';
      out.push(
        `<circle cx="${f1(cx)}" cy="${f1(cy)}" r="3" fill="${color}">` +
          `<title>${escapeXml(`${s.name}: (${fmt(p.x)}, ${fmt(p.y)})${range}`)}</title></circle>`,
      );
    }
    const lx = m.left + (i % 4) * 130,
      ly = H - 14 - Math.floor(i / 4) * 14;
    out.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="2"` +
        `${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>` +
        `<text x="${lx + 22}" y="${ly}">${escapeXml(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}

export interface ForestRow {
  label: string;
  diff: number;
  lo: number;
  hi: number;
  /** False where the interval contains 0: drawn hollow and grey, and marked "undecided". */
  decided: boolean;
  /** Shown at the right of the row (a p-value, say). */
  note?: string;
}

/**
 * A forest plot: one row per difference, a dot at the estimate and a horizontal bar for its interval, against a
 * vertical line at 0. Labels go left of the plot, notes (and "undecided") right of it.
 */
export function forestPlot(
  rows: readonly ForestRow[],
  options: { title: string; xLabel: string; width?: number },
): string {
  const notes = rows.map((r) => [r.note, r.decided ? '' : 'undecided'].filter(Boolean).join(', '));
  // About 6.5 px per character at 12 px sans-serif: room for the longest label and note, and 320 px for the plot.
  const textWidth = (texts: string[]) => 16 + 6.5 * Math.max(0, ...texts.map((t) => t.length));
  const m = { left: textWidth(rows.map((r) => r.label)), right: textWidth(notes) };
  const W = options.width ?? Math.max(560, Math.ceil(m.left + m.right + 320)),
    rowH = 22,
    top = 36,
    bottom = top + rows.length * rowH,
    H = bottom + 48;
  const bars = rows.map(barOf);
  const values = rows.flatMap((r, i) => [r.diff, ...(bars[i] ?? [])]);
  const ticks = niceTicks(Math.min(0, ...values), Math.max(0, ...values));
  const [x0, x1] = [ticks[0], ticks.at(-1)!];
  const px = (x: number) => m.left + ((x - x0) / (x1 - x0 || 1)) * (W - m.left - m.right);
  const out = svgOpen(W, H, options.title);
  for (const t of ticks)
    out.push(
      `<line x1="${f1(px(t))}" x2="${f1(px(t))}" y1="${top}" y2="${bottom}" stroke="#eee"/>` +
        `<text x="${f1(px(t))}" y="${bottom + 18}" text-anchor="middle">${fmt(t)}</text>`,
    );
  out.push(
    `<line x1="${m.left}" x2="${W - m.right}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`,
    `<line class="zero" x1="${f1(px(0))}" x2="${f1(px(0))}" y1="${top}" y2="${bottom}" stroke="#333"/>`,
    `<text x="${(m.left + W - m.right) / 2}" y="${bottom + 36}" text-anchor="middle">` +
      `${escapeXml(options.xLabel)}</text>`,
  );
  rows.forEach((r, i) => {
    const y = top + (i + 0.5) * rowH,
      color = r.decided ? COLORS[0] : '#999',
      bar = bars[i];
    out.push(
      `<text x="${f1(m.left - 8)}" y="${f1(y + 4)}" text-anchor="end"${r.decided ? '' : ' fill="#777"'}>` +
        `${escapeXml(r.label)}</text>`,
    );
    if (bar)
      out.push(
        `<line class="ci" x1="${f1(px(bar[0]))}" x2="${f1(px(bar[1]))}" y1="${f1(y)}" y2="${f1(y)}" ` +
          `stroke="${color}" stroke-width="2"/>`,
      );
    const range = bar ? ` [${fmt(bar[0])}, ${fmt(bar[1])}]` : '';
    out.push(
      `<circle cx="${f1(px(r.diff))}" cy="${f1(y)}" r="4" fill="${r.decided ? color : 'white'}" stroke="${color}" ` +
        `stroke-width="1.5"><title>${escapeXml(`${r.label}: ${fmt(r.diff)}${range}`)}</title></circle>`,
    );
    if (notes[i])
      out.push(`<text x="${f1(W - m.right + 8)}" y="${f1(y + 4)}" fill="#777">${escapeXml(notes[i])}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
