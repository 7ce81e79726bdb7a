// The dashboard's chart: arrivals (bars) and waiting tickets (line) per 15-minute bucket, drawn as inline SVG.
const NS = "http://www.w3.org/2000/svg";

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Draws `buckets` ([{at, arrivals, waiting}], oldest first) into `container`. */
export function draw(container, buckets) {
  const width = 640, height = 200, left = 34, right = 8, top = 12, bottom = 26;
  const plotW = width - left - right, plotH = height - top - bottom;
  const peak = Math.max(1, ...buckets.map((b) => Math.max(b.arrivals, b.waiting)));
  const scale = niceCeiling(peak);
  const step = plotW / Math.max(1, buckets.length);
  const y = (value) => top + plotH - (value / scale) * plotH;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart-svg",
                             "aria-label": `Arrivals and waiting tickets per 15 minutes; peak ${peak}` });
  chart.append(svg("title", {}, "Arrivals and waiting tickets per 15 minutes"));
  for (const fraction of [0, 0.5, 1]) {
    const value = Math.round(scale * fraction), at = y(value);
    chart.append(svg("line", { x1: left, x2: width - right, y1: at, y2: at, class: "grid" }),
                 svg("text", { x: left - 6, y: at + 4, "text-anchor": "end", class: "axis" }, String(value)));
  }
  buckets.forEach((bucket, i) => {
    const x = left + i * step;
    const bar = svg("rect", { x: x + step * 0.15, y: y(bucket.arrivals), width: step * 0.7, height: Math.max(0, top + plotH - y(bucket.arrivals)), class: "bar" });
    bar.append(svg("title", {}, `${new Date(bucket.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}: ${bucket.arrivals} arrived, ${bucket.waiting} waiting`));
    chart.append(bar);
    const date = new Date(bucket.at);
    if (date.getMinutes() === 0) {
      chart.append(svg("text", { x: x + step / 2, y: height - 8, "text-anchor": "middle", class: "axis" },
                       date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })));
    }
  });
  const points = buckets.map((b, i) => `${left + i * step + step / 2},${y(b.waiting)}`).join(" ");
  if (buckets.length) chart.append(svg("polyline", { points, class: "waiting-line" }));
  const legend = svg("g", { class: "legend", transform: `translate(${left + 6}, ${top + 2})` });
  legend.append(svg("rect", { x: 0, y: 0, width: 10, height: 10, class: "bar" }), svg("text", { x: 14, y: 9, class: "axis" }, "arrivals"),
                svg("line", { x1: 78, x2: 92, y1: 5, y2: 5, class: "waiting-line" }), svg("text", { x: 96, y: 9, class: "axis" }, "waiting"));
  chart.append(legend);
  container.replaceChildren(chart);
}

function niceCeiling(value) {
  for (const candidate of [2, 4, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000]) if (value <= candidate) return candidate;
  return Math.ceil(value / 1000) * 1000;
}
