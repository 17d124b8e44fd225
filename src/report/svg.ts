/**
 * Line charts as self-contained SVG (no scripts, no external fonts): axes with ticks, one polyline and
 * markers per series, a legend. Enough for the paper's figures; nothing here knows about safety.
 */
export interface Series {
  name: string;
  points: { x: number; y: number }[];
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

const fmt = (v: number) =>
  Math.abs(v) >= 1000 || Number.isInteger(v) ? String(Math.round(v)) : String(Number(v.toPrecision(3)));

export function lineChart(series: readonly Series[], options: ChartOptions): string {
  const W = options.width ?? 560,
    H = options.height ?? 340;
  const m = { left: 64, right: 16, top: 36, bottom: 72 };
  const all = series.flatMap((s) => s.points);
  const xs = all.map((p) => p.x),
    ys = all.map((p) => p.y);
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
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
      `font-family="sans-serif" font-size="12" role="img" aria-label="${escapeXml(options.title)}">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(options.title)}</text>`,
  ];
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
    for (const p of pts)
      out.push(
        `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${color}">` +
          `<title>${escapeXml(`${s.name}: (${fmt(p.x)}, ${fmt(p.y)})`)}</title></circle>`,
      );
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
