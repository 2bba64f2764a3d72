// A click on a point of a Plotly chart elsewhere on the page, sent to Python (a trigger: one page run
// per click). Streamlit's own selection events come from Plotly's 2-D box, lasso and point selection;
// a 3-D scene (scatter3d) has none of those, but it does emit "plotly_click" for the point under the
// pointer. This component draws nothing: it finds the chart inside the container whose class is
// data.container (st.container(key=...) gives "st-key-<key>") and listens to its clicks. The chart is
// redrawn (and sometimes replaced) on reruns, so it looks again every half second.

const listeners = new Map(); // container class -> { send, chart }

function pointIndex(event) {
  const point = event && event.points && event.points[0];
  if (!point) return null;
  const data = Array.isArray(point.customdata) ? point.customdata[0] : point.customdata;
  const index = Number(data);
  return Number.isInteger(index) && index >= 0 ? index : null;
}

function attach(container) {
  const entry = listeners.get(container);
  if (!entry) return;
  const chart = document.querySelector(`.${container} .js-plotly-plot`);
  if (!chart || typeof chart.on !== "function" || chart === entry.chart) return;
  entry.chart = chart;
  chart.on("plotly_click", (event) => {
    const index = pointIndex(event);
    if (index !== null) listeners.get(container).send("picked", { index });
  });
}

setInterval(() => listeners.forEach((_, container) => attach(container)), 500);

export default function (component) {
  const { data, setTriggerValue } = component;
  if (!data || !/^[A-Za-z0-9_-]+$/.test(data.container)) return;
  const entry = listeners.get(data.container) || { chart: null };
  entry.send = setTriggerValue;
  listeners.set(data.container, entry);
  attach(data.container);
}
