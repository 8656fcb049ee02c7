// Charts with uPlot. x values are Unix seconds.
import uPlot from 'uplot';
import { h } from './dom.js';

const colours = ['#1f5fad', '#c0392b', '#4c9f70', '#d98c1f', '#8e44ad', '#2c7fb8', '#7f8c8d', '#b03a2e'];

// chart draws a time series chart into a new element and returns it with
// a stop function. kind is 'line' or 'bars'.
export function chart(title, x, series, { kind = 'line', height = 220, stacked = false, range = null } = {}) {
  const box = h('figure', { class: 'chart' }, h('figcaption', {}, title));
  if (!x.length) {
    box.append(h('p', { class: 'empty' }, 'No data in this range.'));
    return { el: box, stop() {} };
  }
  const bars = kind === 'bars' ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined;
  let data = [x, ...series.map(s => s.values)];
  if (stacked) {
    const acc = new Array(x.length).fill(0);
    data = [x, ...series.map(s => s.values.map((v, i) => (acc[i] += v || 0)))];
  }
  const opts = {
    width: 600, height,
    series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: s.colour || colours[i % colours.length],
      fill: kind === 'bars' ? (s.colour || colours[i % colours.length]) + 'cc' : (s.colour || colours[i % colours.length]) + '22',
      width: kind === 'bars' ? 0 : 2, paths: bars, points: { show: false }, spanGaps: false }))],
    axes: [{}, { size: 50 }],
    scales: { x: range ? { time: true, range: () => range } : { time: true } },
    legend: { live: true },
  };
  if (stacked) {
    // Draw the highest (cumulative) band first; the legend shows each
    // series' own value, not the running total.
    opts.series.slice(1).forEach((s, i) => { s.value = (u, v, si, idx) => idx == null ? '--' : String(series[i].values[idx] ?? ''); });
    opts.series = [opts.series[0], ...opts.series.slice(1).reverse()];
    data = [data[0], ...data.slice(1).reverse()];
  }
  const plotEl = h('div', { class: 'plot', role: 'img', 'aria-label': title + ': ' + series.map(s => s.label).join(', ') });
  box.append(plotEl);
  const u = new uPlot(opts, data, plotEl);
  const ro = new ResizeObserver(() => { const w = plotEl.clientWidth; if (w > 0) u.setSize({ width: w, height }); });
  ro.observe(plotEl);
  return { el: box, stop() { ro.disconnect(); u.destroy(); } };
}

// categoryChart draws columns over category labels (not time).
export function categoryChart(title, labels, series, { height = 240 } = {}) {
  const box = h('figure', { class: 'chart' }, h('figcaption', {}, title));
  if (!labels.length) {
    box.append(h('p', { class: 'empty' }, 'No rows.'));
    return { el: box, stop() {} };
  }
  const x = labels.map((_, i) => i);
  const bars = uPlot.paths.bars({ size: [0.7 / Math.max(1, series.length), 60], align: 0 });
  const opts = {
    width: 600, height,
    series: [{ label: 'category', value: (u, v) => v == null ? '' : labels[v] ?? '' },
      ...series.map((s, i) => ({ label: s.label, stroke: colours[i % colours.length], fill: colours[i % colours.length] + 'cc', width: 0, paths: bars, points: { show: false } }))],
    scales: { x: { time: false, range: [-0.5, labels.length - 0.5] } },
    axes: [{ values: (u, ticks) => ticks.map(t => Number.isInteger(t) ? String(labels[t] ?? '').slice(0, 18) : ''), incrs: [1] }, { size: 50 }],
  };
  const plotEl = h('div', { class: 'plot', role: 'img', 'aria-label': title });
  box.append(plotEl);
  const u = new uPlot(opts, [x, ...series.map(s => s.values)], plotEl);
  const ro = new ResizeObserver(() => { const w = plotEl.clientWidth; if (w > 0) u.setSize({ width: w, height }); });
  ro.observe(plotEl);
  return { el: box, stop() { ro.disconnect(); u.destroy(); } };
}
