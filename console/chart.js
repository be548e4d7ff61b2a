// A webhook's last 24 hours: attempts per hour, stacked by the state each left the delivery in,
// with hour labels, a scale and the p50 / p99 duration.

import { h, svg } from './dom.js';
import { hourOf } from './time.js';

export function chart(stats) {
  const left = 40, top = 8, plotWidth = 720, plotHeight = 150, bottom = 22;
  const bar = plotWidth / 24;
  const most = Math.max(1, ...stats.hours.map((x) => x.delivered + x.pending + x.failed));
  const y = (count) => top + plotHeight - (count / most) * plotHeight;
  // The scale: 0, half and the busiest hour, with faint guide lines.
  const scale = [...new Set([0, Math.round(most / 2), most])].map((count) => svg('g', {},
    svg('line', { x1: left, x2: left + plotWidth, y1: y(count), y2: y(count), class: 'guide' }),
    svg('text', { x: left - 6, y: y(count) + 4, class: 'scale', 'text-anchor': 'end' }, String(count))));
  const bars = stats.hours.map((hour, i) => {
    const x = left + i * bar;
    const time = hourOf(hour.start);
    let base = top + plotHeight;
    const parts = ['delivered', 'pending', 'failed'].filter((s) => hour[s] > 0).map((status) => {
      const height = (hour[status] / most) * plotHeight;
      base -= height;
      return svg('rect', { x: x + 2, y: base, width: bar - 4, height, class: `bar ${status}` });
    });
    const label = i % 3 === 0
      ? svg('text', { x: x + bar / 2, y: top + plotHeight + 16, class: 'hour', 'text-anchor': 'middle' }, time)
      : null;
    return svg('g', {},
      svg('title', {}, `${time}: ${hour.delivered} delivered, ${hour.pending} pending, ${hour.failed} failed`),
      ...parts, ...(label ? [label] : []));
  });
  const total = stats.hours.reduce((n, x) => n + x.delivered + x.pending + x.failed, 0);
  return h('figure', { class: 'chart' },
    svg('svg', { viewBox: `0 0 ${left + plotWidth} ${top + plotHeight + bottom}`, role: 'img', 'aria-label': `Attempts per hour, last 24 hours: ${total} in all, at most ${most} in one hour` },
      ...scale, ...bars),
    h('figcaption', {},
      'Attempts per hour, last 24 hours, by the delivery\'s state after each attempt: ',
      h('span', { class: 'key delivered' }, 'delivered'), ' ',
      h('span', { class: 'key pending' }, 'pending (a retry is scheduled)'), ' ',
      h('span', { class: 'key failed' }, 'failed (every retry spent)'), ' · ',
      h('span', { id: 'durations' }, stats.attempts
        ? `duration p50 ${stats.durationP50Ms} ms, p99 ${stats.durationP99Ms} ms`
        : 'no attempts yet')));
}
