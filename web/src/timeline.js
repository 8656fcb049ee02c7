// The connection timeline: a device's sessions as bars, each end
// coloured and labelled by the disconnect's reason and result code.
import { h, svg, fmtTime, fmtDuration, reasonColour, table } from './dom.js';

// sessions turns Connections rows (oldest first) into sessions and
// refused attempts.
export function sessions(rows, since, until) {
  const out = [], refused = [];
  let open = null;
  for (const r of rows) {
    const t = new Date(r.time).getTime();
    if (r.operationName === 'deviceConnect' && r.level !== 'Error') {
      if (open) out.push({ ...open, end: t, reason: 'session_taken_over', code: '', implied: true });
      open = { start: t };
    } else if (r.operationName === 'deviceDisconnect') {
      out.push({ start: open ? open.start : since, end: t, reason: r.reason, code: r.resultType, description: r.resultDescription, clipped: !open });
      open = null;
    } else if (r.level === 'Error') {
      refused.push({ time: t, reason: r.reason, code: r.resultType, operation: r.operationName, description: r.resultDescription });
    }
  }
  if (open) out.push({ start: open.start, end: until, ongoing: true });
  return { sessions: out, refused };
}

export function timelineView(rows, sinceISO, untilISO) {
  let since = new Date(sinceISO).getTime();
  const until = new Date(untilISO).getTime();
  // Zoom in on the history there is: from a little before the first row.
  if (rows.length) {
    const first = new Date(rows[0].time).getTime();
    since = Math.max(since, first - Math.max(60000, (until - first) * 0.05));
  }
  const { sessions: ss, refused } = sessions(rows, since, until);
  const H = 120, top = 30, barH = 26;
  const g = svg('svg', { class: 'timeline', role: 'img', height: H,
    'aria-label': `${ss.length} sessions and ${refused.length} refused attempts between ${fmtTime(since / 1000)} and ${fmtTime(untilISO)}` });
  // draw lays the timeline out for a width in pixels, so that text keeps
  // its size on any screen.
  const draw = W => {
    g.replaceChildren();
    g.setAttribute('viewBox', `0 0 ${W} ${H}`);
    const x = t => ((t - since) / (until - since)) * W;
    g.append(svg('rect', { x: 0, y: top, width: W, height: barH, class: 'tl-track' }));
    let lastLabel = -Infinity;
    for (const s of ss) {
      const x0 = Math.max(0, x(s.start)), x1 = Math.max(x0 + 2, x(s.end));
      g.append(svg('rect', { x: x0, y: top, width: x1 - x0, height: barH, class: 'tl-session' + (s.ongoing ? ' ongoing' : '') },
        svg('title', {}, `${fmtTime(s.start / 1000)} – ${s.ongoing ? 'now' : fmtTime(s.end / 1000)} (${fmtDuration(s.end - s.start)})` + (s.reason ? `: ${s.reason} ${s.code || ''}` : ''))));
      if (s.ongoing) continue;
      const c = reasonColour(s.reason);
      // Label the end with its code where there is room.
      if (x1 - lastLabel > 60) {
        g.append(svg('text', { x: Math.min(W - 24, Math.max(24, x1)), y: top - 10, 'text-anchor': 'middle', class: 'tl-label', fill: c }, s.code || s.reason || ''));
        lastLabel = x1;
      }
      g.append(svg('rect', { x: Math.min(W - 4, x1 - 2), y: top - 6, width: 4, height: barH + 12, fill: c, class: 'tl-end' },
        svg('title', {}, `${fmtTime(s.end / 1000)}: ${s.reason || 'disconnect'} ${s.code || ''}`)));
    }
    for (const f of refused) {
      const cx = x(f.time);
      g.append(svg('path', { d: `M${cx - 5},${top + barH + 18} l5,-9 l5,9 z`, fill: reasonColour(f.reason), class: 'tl-refused' },
        svg('title', {}, `${fmtTime(f.time / 1000)}: refused, ${f.reason || ''} ${f.code || ''}`)));
    }
    const ticks = W < 500 ? 2 : 4;
    for (let i = 0; i <= ticks; i++) {
      const t = since + ((until - since) * i) / ticks;
      g.append(svg('text', { x: Math.min(W - 2, Math.max(2, x(t))), y: H - 4, 'text-anchor': i === 0 ? 'start' : i === ticks ? 'end' : 'middle', class: 'tl-tick' },
        new Date(t).toLocaleString(undefined, { month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit' })));
    }
  };
  draw(1000);
  const ro = new ResizeObserver(() => { const w = g.clientWidth || g.getBoundingClientRect().width; if (w > 0) draw(Math.round(w)); });
  ro.observe(g);
  const ends = ss.filter(s => !s.ongoing).map(s => ({ ...s, kind: 'disconnect' }))
    .concat(refused.map(f => ({ end: f.time, reason: f.reason, code: f.code, kind: 'refused ' + f.operation, description: f.description })))
    .sort((a, b) => b.end - a.end);
  const legend = [...new Set(ends.map(e => e.reason).filter(Boolean))].map(r =>
    h('li', {}, h('span', { class: 'swatch', 'data-reason': r }, ''), r.replaceAll('_', ' ')));
  const view = h('div', { class: 'timeline-box' }, g, legend.length ? h('ul', { class: 'legend', 'aria-label': 'Reasons' }, legend) : null);
  view.querySelectorAll('.swatch').forEach(s => { s.style.background = reasonColour(s.dataset.reason); });
  const list = table([
    { key: 'end', label: 'When', render: e => fmtTime(e.end / 1000) },
    { key: 'kind', label: 'Event' },
    { key: 'reason', label: 'Reason', render: e => e.reason ? labelled(e.reason) : '' },
    { key: 'code', label: 'Code' },
    { key: 'start', label: 'Session length', render: e => e.start ? fmtDuration(e.end - e.start) + (e.clipped ? '+' : '') : '' },
    { key: 'description', label: 'Description' }], ends.slice(0, 100), { class: 'disconnects', empty: 'No disconnects in this range.' });
  return { view, list, sessions: ss, refused, stop: () => ro.disconnect() };
}

function labelled(reason) {
  const s = h('span', { class: 'reason-label' }, reason);
  s.style.borderLeftColor = reasonColour(reason);
  return s;
}
