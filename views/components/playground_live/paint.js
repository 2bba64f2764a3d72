// The Playground's pictures, drawn from the data of views/playground/wire.py (its docstring has the
// schema). Pure functions: each takes a mount ({root, ...its own DOM}), the picture's data and the
// frame it shows, and touches nothing else. player.js (loaded after this file) decides which frame
// is shown when.

const ORANGE = [245, 147, 34], WHITE = [232, 234, 235], BLUE = [8, 119, 189];
const CLASS_COLOURS = ["#f59322", "#0877bd", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
const RGB = CLASS_COLOURS.map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));
const SVG = "http://www.w3.org/2000/svg";
const MAP_PIXELS = 340;  // the output map's canvas; CSS fits it to its column

// Signed byte b (0..254, 127 = 0) → the playground's orange-white-blue scale, in two colours if discrete.
function signedLut(discrete) {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let b = 0; b < 256; b++) {
    let v = Math.max(-1, Math.min(1, b / 127 - 1));
    if (discrete) v = Math.sign(v);
    const t = (v + 1) / 2;
    for (let c = 0; c < 3; c++) {
      lut[b * 3 + c] = t < 0.5 ? ORANGE[c] + (WHITE[c] - ORANGE[c]) * Math.min(1, t * 2)
        : WHITE[c] + (BLUE[c] - WHITE[c]) * Math.min(1, Math.max(0, t * 2 - 1));
    }
  }
  return lut;
}
const LUTS = { plain: signedLut(false), discrete: signedLut(true) };

function decode(b64) {
  const raw = atob(b64), bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

// One neuron's picture (grid² signed bytes from offset) into an ImageData.
function paintSigned(image, bytes, offset, lut) {
  const px = image.data, n = px.length / 4;
  for (let i = 0; i < n; i++) {
    const b = bytes[offset + i] * 3, p = i * 4;
    px[p] = lut[b]; px[p + 1] = lut[b + 1]; px[p + 2] = lut[b + 2]; px[p + 3] = 255;
  }
}

// Multiclass probabilities (classes × grid² bytes): the winner's colour, faded to white by doubt.
function paintClasses(image, bytes, classes) {
  const px = image.data, n = px.length / 4;
  for (let i = 0; i < n; i++) {
    let best = 0, winner = 0;
    for (let k = 0; k < classes; k++) if (bytes[k * n + i] > best) { best = bytes[k * n + i]; winner = k; }
    const confidence = best / 255, colour = RGB[winner % RGB.length], p = i * 4;
    for (let c = 0; c < 3; c++) px[p + c] = WHITE[c] * (1 - confidence) + colour[c] * confidence;
    px[p + 3] = 255;
  }
}

function el(tag, attrs = {}, parent = null, ns = null) {
  const node = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (parent) parent.appendChild(node);
  return node;
}

// ---- the output map: the last layer over the grid, and the points -------------------------------
function drawOutput(mount, data, frame) {
  if (!mount.canvas) {
    mount.figure = el("figure", { "data-output-map": "1", class: "pg-output" }, mount.root);
    mount.canvas = el("canvas", { width: MAP_PIXELS, height: MAP_PIXELS, role: "img" }, mount.figure);
    mount.caption = el("figcaption", {}, mount.figure);
    mount.small = el("canvas", { width: data.grid, height: data.grid });
  }
  mount.figure.classList.toggle("pg-pick", !!data.pick);
  mount.canvas.setAttribute("aria-label", data.pick ? "output map: click or tap to add a point" : "output map");
  mount.caption.textContent = data.caption;
  const ctx = mount.canvas.getContext("2d"), size = mount.canvas.width;
  const last = frame && frame.outputs[frame.outputs.length - 1];
  if (last) {
    const small = mount.small.getContext("2d"), image = small.createImageData(data.grid, data.grid);
    const bytes = decode(last);
    if (data.classes > 2) paintClasses(image, bytes, data.classes);
    else paintSigned(image, bytes, 0, data.discretize ? LUTS.discrete : LUTS.plain);
    small.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(mount.small, 0, 0, size, size);
  } else {  // no network yet (too few points of your own): a blank map to add them on
    ctx.fillStyle = `rgb(${WHITE.join(",")})`;
    ctx.fillRect(0, 0, size, size);
  }
  const { points } = data, key = points.xy + points.labels + points.test + data.classes;
  if (mount.pointsFrom !== key) {  // new points: decode once
    mount.pointsFrom = key;
    mount.xy = decode(points.xy); mount.test = decode(points.test);
    mount.colours = Array.from(decode(points.labels), (b) => data.classes > 2 ? CLASS_COLOURS[b % CLASS_COLOURS.length]
      : `rgb(${LUTS.plain[b * 3]}, ${LUTS.plain[b * 3 + 1]}, ${LUTS.plain[b * 3 + 2]})`);
  }
  let drawn = 0;
  for (let i = 0; i < mount.colours.length; i++) {
    if (mount.test[i] && !data.showTest) continue;
    drawn++;
    const x = (mount.xy[2 * i] + 0.5) / 256 * size, y = (mount.xy[2 * i + 1] + 0.5) / 256 * size;
    ctx.beginPath(); ctx.arc(x, y, 3.5, 0, 2 * Math.PI);
    ctx.fillStyle = mount.colours[i]; ctx.fill();
    ctx.strokeStyle = mount.test[i] ? "black" : "white"; ctx.lineWidth = 1; ctx.stroke();
  }
  mount.root.dataset.points = String(drawn);  // (for tests: how many points the map shows)
}

// Where a pointer event landed on the map, in the data's coordinates, or null if outside it.
function mapPoint(canvas, event, domain) {
  const box = canvas.getBoundingClientRect();
  const u = (event.clientX - box.left) / box.width, v = (event.clientY - box.top) / box.height;
  if (!(u >= 0 && u <= 1 && v >= 0 && v <= 1)) return null;
  return { x: (2 * u - 1) * domain, y: (1 - 2 * v) * domain };
}

// ---- the network: neuron pictures and links ---------------------------------------------------------
function buildNetwork(mount, data) {
  mount.root.replaceChildren();
  const { sizes, labels } = data;
  const width = 700, node = 34, gap = 44, tallest = Math.max(...sizes);
  const height = Math.max(220, tallest * gap + 40);
  const xs = sizes.map((_, i) => 50 + (width - 100) * (sizes.length > 1 ? i / (sizes.length - 1) : 0.5));
  const yOf = (count, index) => height / 2 + (index - (count - 1) / 2) * gap;
  const box = el("div", { class: "pg-net", "data-layers": String(sizes.length) }, mount.root);
  box.style.aspectRatio = `${width} / ${height}`;
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, class: "pg-links" }, box, SVG);
  mount.links = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    mount.links.push(Array.from({ length: sizes[l] }, (_, i) => Array.from({ length: sizes[l + 1] }, (_, j) =>
      el("line", { x1: xs[l] + node / 2, y1: yOf(sizes[l], i), x2: xs[l + 1] - node / 2, y2: yOf(sizes[l + 1], j),
        opacity: 0.75 }, svg, SVG))));
  }
  mount.neurons = sizes.map((count, l) => Array.from({ length: count }, (_, j) => {
    const label = l === 0 ? labels[j] : l === sizes.length - 1 ? "output" : `layer ${l}, neuron ${j + 1}`;
    const canvas = el("canvas", { class: "pg-neuron", width: data.grid, height: data.grid, title: label,
      "aria-label": label }, box);
    canvas.style.left = `${(xs[l] - node / 2) / width * 100}%`;
    canvas.style.top = `${(yOf(count, j) - node / 2) / height * 100}%`;
    canvas.style.width = `${node / width * 100}%`;
    if (l === 0) {
      const tag = el("span", { class: "pg-feature" }, box);
      tag.textContent = label;
      tag.style.right = `${100 - (xs[l] - node / 2) / width * 100 + 0.8}%`;
      tag.style.top = `${(yOf(count, j) - node / 2) / height * 100 + 1}%`;
    }
    return canvas;
  }));
  mount.structure = JSON.stringify([sizes, labels, data.classes]);
}

function drawNetwork(mount, data, frame) {
  if (mount.structure !== JSON.stringify([data.sizes, data.labels, data.classes])) buildNetwork(mount, data);
  if (!frame) return;
  const { grid } = data, n = grid * grid;
  const layers = [data.inputs, ...frame.outputs];
  layers.forEach((b64, l) => {
    if (!b64 || !mount.neurons[l]) return;
    const bytes = decode(b64), output = l === layers.length - 1;
    mount.neurons[l].forEach((canvas, j) => {
      const ctx = canvas.getContext("2d"), image = ctx.createImageData(grid, grid);
      if (output && data.classes > 2) paintClasses(image, bytes, data.classes);
      else paintSigned(image, bytes, j * n, output && data.discretize ? LUTS.discrete : LUTS.plain);
      ctx.putImageData(image, 0, 0);
    });
  });
  frame.weights.forEach((kernel, l) => {
    let scale = 1e-6;
    for (const row of kernel) for (const w of row) scale = Math.max(scale, Math.abs(w));
    kernel.forEach((row, i) => row.forEach((w, j) => {
      const line = mount.links[l] && mount.links[l][i] && mount.links[l][i][j];
      if (!line) return;
      line.setAttribute("visibility", w === 0 ? "hidden" : "visible");  // an L1 clamp took it out
      line.setAttribute("stroke", w > 0 ? "#0877bd" : "#f59322");
      line.setAttribute("stroke-width", (0.5 + 5 * Math.min(1, Math.abs(w) / Math.max(scale, 1))).toFixed(2));
    }));
  });
}

// ---- the loss curve: a legend row above the plot, so no curve runs under it -------------------------
function drawCurve(mount, curve) {
  const width = 300, height = 150, left = 40, top = 24, bottom = 20;
  if (!mount.svg) {
    mount.svg = el("svg", { viewBox: `0 0 ${width} ${height}`, class: "pg-curve", role: "img",
      "aria-label": "training and test loss by epoch" }, mount.root, SVG);
    el("line", { x1: left, y1: height - bottom, x2: width - 8, y2: height - bottom, stroke: "#bbb" }, mount.svg, SVG);
    el("line", { x1: left, y1: top, x2: left, y2: height - bottom, stroke: "#bbb" }, mount.svg, SVG);
    mount.top = el("text", { x: left - 4, y: top + 6, "text-anchor": "end" }, mount.svg, SVG);
    el("text", { x: left - 4, y: height - bottom, "text-anchor": "end" }, mount.svg, SVG).textContent = "0";
    mount.first = el("text", { x: left, y: height - 6 }, mount.svg, SVG);
    mount.last = el("text", { x: width - 8, y: height - 6, "text-anchor": "end" }, mount.svg, SVG);
    const mid = (top + height - bottom) / 2;
    el("text", { x: left - 30, y: mid, transform: `rotate(-90 ${left - 30} ${mid})`, "text-anchor": "middle" },
      mount.svg, SVG).textContent = "loss";
    mount.lines = [["training", "#555"], ["test", "#0877bd"]].map(([name, colour], index) => {
      el("text", { x: width - 8 - 60 * (1 - index), y: 12, "text-anchor": "end", fill: colour }, mount.svg, SVG)
        .textContent = `— ${name}`;
      return el("polyline", { fill: "none", stroke: colour, "stroke-width": 2 }, mount.svg, SVG);
    });
  }
  if (!curve || !curve.length) return;
  let highest = 0;
  for (const [, a, b] of curve) highest = Math.max(highest, a ?? 0, b ?? 0);
  highest = highest > 0 ? highest : 1;
  const first = curve[0][0], span = Math.max(curve[curve.length - 1][0] - first, 1);
  const x = (e) => (left + (e - first) / span * (width - left - 8)).toFixed(1);
  const y = (v) => (top + (1 - Math.min(Math.max(v, 0), highest) / highest) * (height - bottom - top)).toFixed(1);
  mount.lines.forEach((line, k) => line.setAttribute("points", curve.filter((p) => p[k + 1] !== null)
    .map((p) => `${x(p[0])},${y(p[k + 1])}`).join(" ")));
  mount.top.textContent = Number(highest.toPrecision(3)).toString();
  mount.first.textContent = `epoch ${first.toLocaleString("en")}`;
  mount.last.textContent = curve[curve.length - 1][0].toLocaleString("en");
}

function drawEpoch(mount, frame) {
  if (!mount.value) {
    const box = el("div", { class: "pg-epoch", "data-testid": "pg-live-epoch" }, mount.root);
    el("div", { class: "pg-epoch-label" }, box).textContent = "Epoch";
    mount.value = el("div", { class: "pg-epoch-value" }, box);
  }
  mount.value.textContent = frame ? frame.epoch.toLocaleString("en") : "0";
}

function drawLoss(mount, frame) {
  mount.root.classList.add("pg-loss");
  if (!frame) return;
  const [train, test] = frame.loss;
  mount.root.innerHTML = test === null || train === null ? "Loss is not a number — training diverged."
    : `Test loss <b>${test.toFixed(3)}</b> · Training loss <b>${train.toFixed(3)}</b>`;
}

// view name → how that picture draws (mount, its data, the frame shown or null, the loss curve)
const VIEWS = {
  output: (mount, data, frame) => drawOutput(mount, data, frame),
  network: (mount, data, frame) => drawNetwork(mount, data, frame),
  curve: (mount, data, frame, curve) => drawCurve(mount, curve),
  epoch: (mount, data, frame) => drawEpoch(mount, frame),
  loss: (mount, data, frame) => drawLoss(mount, frame),
};
