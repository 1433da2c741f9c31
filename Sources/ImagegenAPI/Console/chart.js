// Small SVG charts drawn with DOM calls: bars for spend per day, lines for queue depths.
const svgNS = 'http://www.w3.org/2000/svg';

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(svgNS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

const width = 600, height = 160, margin = 24;

export function barChart(container, bars, label) {
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label });
  const top = Math.max(1, ...bars.map((bar) => bar.value));
  const step = (width - margin) / Math.max(1, bars.length);
  bars.forEach((bar, index) => {
    const barHeight = (bar.value / top) * (height - 2 * margin);
    const rect = svg('rect', {
      x: margin + index * step + 1, y: height - margin - barHeight, width: Math.max(1, step - 2), height: barHeight, class: 'bar',
    });
    rect.append(svg('title', {}, `${bar.label}: ${bar.title}`));
    chart.append(rect);
  });
  chart.append(svg('text', { x: margin, y: 14, class: 'axis' }, `max ${bars.length ? bars.reduce((a, b) => (a.value >= b.value ? a : b)).title : 0}`));
  if (bars.length) {
    chart.append(svg('text', { x: margin, y: height - 6, class: 'axis' }, bars[0].label));
    chart.append(svg('text', { x: width - 4, y: height - 6, class: 'axis', 'text-anchor': 'end' }, bars[bars.length - 1].label));
  }
  container.replaceChildren(chart);
}

// series: [{name, values: [numbers]}], all the same length, oldest first.
export function lineChart(container, series, label) {
  const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label });
  const length = Math.max(0, ...series.map((line) => line.values.length));
  const top = Math.max(1, ...series.flatMap((line) => line.values));
  const x = (index) => margin + (length <= 1 ? 0 : (index / (length - 1)) * (width - 2 * margin));
  const y = (value) => height - margin - (value / top) * (height - 2 * margin);
  series.forEach((line, number) => {
    if (line.values.length) {
      const points = line.values.map((value, index) => `${x(index).toFixed(1)},${y(value).toFixed(1)}`).join(' ');
      chart.append(svg('polyline', { points, class: `line line-${number}` }));
    }
    chart.append(svg('text', { x: margin + number * 110, y: 14, class: `legend line-${number}` }, line.name));
  });
  chart.append(svg('text', { x: width - 4, y: 14, class: 'axis', 'text-anchor': 'end' }, `max ${top}`));
  if (!length) chart.append(svg('text', { x: width / 2, y: height / 2, class: 'axis', 'text-anchor': 'middle' }, 'no samples yet'));
  container.replaceChildren(chart);
}
