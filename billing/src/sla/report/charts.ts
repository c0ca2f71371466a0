// SVG charts for the SLA report, as strings (no scripts, no external resources). Values are numbers
// we computed; labels pass through escapeXml.
import type { SlaMonth } from '../types.js';

export function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

const W = 700;
const H = 150;
const PAD = { left: 46, right: 10, top: 10, bottom: 24 };
const innerW = W - PAD.left - PAD.right;
const innerH = H - PAD.top - PAD.bottom;
const f = (n: number): string => n.toFixed(1);

/** A round step (1, 2, 2.5 or 5 × 10^k) that cuts `span` into about `parts` pieces. */
export function niceStep(span: number, parts = 4): number {
  const raw = Math.max(span, 1e-9) / parts;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].find((m) => m * magnitude >= raw - 1e-12) ?? 10;
  return step * magnitude;
}

/** Tick values from `from` to `to` in steps of `step`, as exact as decimals allow. */
function ticksBetween(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let k = 0; from + k * step <= to + step * 1e-6; k++) out.push(Number((from + k * step).toFixed(6)));
  return out;
}

function frame(
  yTicks: Array<[number, string]>,
  xLabels: Array<[number, string]>,
  body: string,
  accent: string,
): string {
  const ticks = yTicks
    .map(
      ([y, label]) =>
        `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${f(y)}" y2="${f(y)}" stroke="#e3e7ee"/><text x="${PAD.left - 4}" y="${f(y + 3)}" text-anchor="end" font-size="9" fill="#5b6776">${escapeXml(label)}</text>`,
    )
    .join('');
  const xs = xLabels
    .map(
      ([x, label]) =>
        `<text x="${f(x)}" y="${H - 8}" text-anchor="middle" font-size="9" fill="#5b6776">${escapeXml(label)}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" style="color:${escapeXml(accent)}">${ticks}${xs}${body}<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${PAD.top + innerH}" stroke="#9aa5b4"/></svg>`;
}

/** Daily availability bars on a scale from `floor` % to 100 %, with the commitment as a dashed line. */
export function dailyAvailabilityChart(sla: SlaMonth, accent: string): string {
  const values = sla.days.map((d) => d.availabilityPercent);
  const lowest = Math.min(
    sla.commitments.availabilityPercent,
    ...values.filter((v): v is number => v !== null),
  );
  // Round ticks down from 100 % far enough to show the lowest day and the commitment line above the axis.
  const span = Math.max(0.05, (100 - lowest) * 1.25);
  const step = niceStep(span);
  const floor = Math.max(0, Number((100 - Math.ceil(span / step - 1e-9) * step).toFixed(6)));
  const y = (v: number): number => PAD.top + innerH * (1 - (v - floor) / (100 - floor));
  const bw = innerW / sla.days.length;
  const bars = sla.days
    .map((d, i) => {
      const v = d.availabilityPercent;
      const x = PAD.left + i * bw + bw * 0.15;
      if (v === null)
        return `<rect x="${f(x)}" y="${f(PAD.top)}" width="${f(bw * 0.7)}" height="${f(innerH)}" fill="#eef0f4"/><text x="${f(x + bw * 0.35)}" y="${f(PAD.top + innerH / 2)}" text-anchor="middle" font-size="7" fill="#5b6776" transform="rotate(-90 ${f(x + bw * 0.35)} ${f(PAD.top + innerH / 2)})">no data</text>`;
      const color = v + 1e-9 < sla.commitments.availabilityPercent ? '#c0392b' : accent;
      return `<rect x="${f(x)}" y="${f(y(v))}" width="${f(bw * 0.7)}" height="${f(PAD.top + innerH - y(v))}" fill="${color}"><title>${escapeXml(`${d.date}: ${v.toFixed(3)} %`)}</title></rect>`;
    })
    .join('');
  const target = `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${f(y(sla.commitments.availabilityPercent))}" y2="${f(y(sla.commitments.availabilityPercent))}" stroke="#c0392b" stroke-dasharray="4 3"/>`;
  const ticks: Array<[number, string]> = ticksBetween(floor, 100, step).map((v) => [y(v), `${v}%`]);
  const labels: Array<[number, string]> = sla.days
    .map((d, i): [number, string] => [PAD.left + (i + 0.5) * bw, String(Number(d.date.slice(8)))])
    .filter((_, i) => i % 2 === 0);
  return frame(ticks, labels, bars + target, accent);
}

function lineChart(
  points: Array<number | null>,
  target: number | null,
  unit: string,
  accent: string,
  dayCount: number,
): string {
  const present = points.filter((v): v is number => v !== null);
  let highest = target ?? 0;
  for (const v of present) highest = Math.max(highest, v);
  const step = niceStep(Math.max(highest * 1.1, unit === '%' ? 0.5 : 5));
  const max = Math.ceil((Math.max(highest * 1.1, unit === '%' ? 0.5 : 5) - 1e-9) / step) * step;
  const x = (i: number): number => PAD.left + (innerW * i) / Math.max(1, points.length - 1);
  const y = (v: number): number => PAD.top + innerH * (1 - v / max);
  // Points on the same pixel row as the ones before and after add nothing to a flat run: left out, the
  // path is several times shorter for a steady link and Chromium prints it faster.
  let d = '';
  let pen = false;
  let held = ''; // the last point of a flat run, drawn when the run ends
  let lastY = '';
  points.forEach((v, i) => {
    if (v === null) {
      d += held;
      held = '';
      pen = false;
      return;
    }
    const px = f(x(i));
    const py = f(y(v));
    if (pen && py === lastY) {
      held = `L${px} ${py}`;
      return;
    }
    d += `${held}${pen ? 'L' : 'M'}${px} ${py}`;
    held = '';
    lastY = py;
    pen = true;
  });
  d += held;
  const line = present.length
    ? `<path d="${d}" fill="none" stroke="${escapeXml(accent)}" stroke-width="1.2"/>`
    : `<text x="${f(PAD.left + innerW / 2)}" y="${f(PAD.top + innerH / 2)}" text-anchor="middle" font-size="11" fill="#5b6776">No measurements in this period</text>`;
  const tline =
    target === null
      ? ''
      : `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${f(y(target))}" y2="${f(y(target))}" stroke="#c0392b" stroke-dasharray="4 3"/>`;
  const ticks: Array<[number, string]> = ticksBetween(0, max, step).map((v) => [y(v), `${v} ${unit}`]);
  const perDay = points.length / dayCount;
  const labels: Array<[number, string]> = Array.from({ length: dayCount }, (_, i): [number, string] => [
    x(i * perDay),
    String(i + 1),
  ]).filter((_, i) => i % 3 === 0);
  return frame(ticks, labels, tline + line, accent);
}

export function latencyChart(sla: SlaMonth, accent: string): string {
  return lineChart(
    sla.hourly.map((h) => h.latencyMs),
    sla.commitments.latencyMs,
    'ms',
    accent,
    sla.days.length,
  );
}

export function lossChart(sla: SlaMonth, accent: string): string {
  return lineChart(sla.hourlyUpLossPercent, sla.commitments.lossPercent, '%', accent, sla.days.length);
}
