// The Playground's live pictures, drawn in the browser from compact frames (core/playground/live_training.py):
// one module, mounted once per picture ("epoch", "network", "output", "curve"). Streamlit calls the
// default export again with new data for every frame, on the same parentElement, so each mount keeps
// its DOM in a WeakMap and only updates it. The "output" mount asks for the next frame (a trigger,
// which reruns only the Playground's fragment) once it has drawn one: frames come as fast as this
// browser draws them and the server answers, and a slow browser is never sent frames it would drop.

const ORANGE = [245, 147, 34], WHITE = [232, 234, 235], BLUE = [8, 119, 189];
const CLASS_COLOURS = ["#f59322", "#0877bd", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
const SVG = "http://www.w3.org/2000/svg";
const mounts = new WeakMap();

// Byte b (0..254, 127 = 0) → the orange-white-blue scale, as views/playground/page.py colours_for.
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
const RGB = CLASS_COLOURS.map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));

function decode(b64) {
  const raw = atob(b64), bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

// One neuron's picture (grid × grid bytes starting at offset) into an ImageData.
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

// ---- the output map -------------------------------------------------------------------------------
function drawOutput(mount, data) {
  const { frame, grid, points } = data;
  if (!mount.canvas) {
    mount.figure = el("figure", { "data-output-map": "1", class: "pg-output" }, mount.root);
    mount.canvas = el("canvas", { width: 340, height: 340, "aria-label": "output map" }, mount.figure);
    mount.caption = el("figcaption", {}, mount.figure);
    mount.small = el("canvas", { width: grid, height: grid });
  }
  mount.caption.textContent = data.caption;
  const last = frame.outputs[frame.outputs.length - 1];
  if (!last) return;
  const small = mount.small.getContext("2d"), image = small.createImageData(grid, grid);
  const bytes = decode(last);
  if (data.classes > 2) paintClasses(image, bytes, data.classes);
  else paintSigned(image, bytes, 0, data.discretize ? LUTS.discrete : LUTS.plain);
  small.putImageData(image, 0, 0);
  const ctx = mount.canvas.getContext("2d"), size = mount.canvas.width;
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(mount.small, 0, 0, size, size);
  if (mount.pointsFrom !== points.xy + points.labels + points.test) {  // new data: decode once
    mount.pointsFrom = points.xy + points.labels + points.test;
    const labels = decode(points.labels);
    mount.xy = decode(points.xy); mount.test = decode(points.test);
    mount.colours = Array.from(labels, (b) => data.classes > 2 ? CLASS_COLOURS[b % CLASS_COLOURS.length]
      : `rgb(${LUTS.plain[b * 3]}, ${LUTS.plain[b * 3 + 1]}, ${LUTS.plain[b * 3 + 2]})`);
  }
  for (let i = 0; i < mount.colours.length; i++) {
    if (mount.test[i] && !data.showTest) continue;
    // Coordinates as bytes: 0..255 across the domain, y from the top.
    const x = (mount.xy[2 * i] + 0.5) / 256 * size, y = (mount.xy[2 * i + 1] + 0.5) / 256 * size;
    ctx.beginPath(); ctx.arc(x, y, 3.5, 0, 2 * Math.PI);
    ctx.fillStyle = mount.colours[i]; ctx.fill();
    ctx.strokeStyle = mount.test[i] ? "black" : "white"; ctx.lineWidth = 1; ctx.stroke();
  }
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
    const layer = [];
    for (let i = 0; i < sizes[l]; i++) {
      const row = [];
      for (let j = 0; j < sizes[l + 1]; j++) {
        row.push(el("line", { x1: xs[l] + node / 2, y1: yOf(sizes[l], i), x2: xs[l + 1] - node / 2,
          y2: yOf(sizes[l + 1], j), opacity: 0.75 }, svg, SVG));
      }
      layer.push(row);
    }
    mount.links.push(layer);
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

function drawNetwork(mount, data) {
  if (mount.structure !== JSON.stringify([data.sizes, data.labels, data.classes])) buildNetwork(mount, data);
  const { frame, grid } = data, n = grid * grid;
  const layers = [data.inputs, ...frame.outputs];
  layers.forEach((b64, l) => {
    if (!b64) return;
    const bytes = decode(b64), canvases = mount.neurons[l];
    canvases.forEach((canvas, j) => {
      const ctx = canvas.getContext("2d"), image = ctx.createImageData(grid, grid);
      const output = l === layers.length - 1;
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

// ---- the loss curve ---------------------------------------------------------------------------------
function drawCurve(mount, data) {
  const curve = data.curve || [];
  const width = 300, height = 140, left = 40, bottom = 20;
  if (!mount.svg) {
    mount.svg = el("svg", { viewBox: `0 0 ${width} ${height}`, class: "pg-curve", role: "img",
      "aria-label": "training and test loss by epoch" }, mount.root, SVG);
    el("line", { x1: left, y1: height - bottom, x2: width - 8, y2: height - bottom, stroke: "#bbb" }, mount.svg, SVG);
    el("line", { x1: left, y1: 8, x2: left, y2: height - bottom, stroke: "#bbb" }, mount.svg, SVG);
    mount.top = el("text", { x: left - 4, y: 14, "text-anchor": "end" }, mount.svg, SVG);
    el("text", { x: left - 4, y: height - bottom, "text-anchor": "end" }, mount.svg, SVG).textContent = "0";
    mount.first = el("text", { x: left, y: height - 6 }, mount.svg, SVG);
    mount.last = el("text", { x: width - 8, y: height - 6, "text-anchor": "end" }, mount.svg, SVG);
    const mid = (height - bottom) / 2;
    el("text", { x: left - 30, y: mid, transform: `rotate(-90 ${left - 30} ${mid})`, "text-anchor": "middle" },
      mount.svg, SVG).textContent = "loss";
    mount.lines = [["training", "#555"], ["test", "#0877bd"]].map(([name, colour], index) => {
      el("text", { x: width - 8 - 60 * (1 - index), y: 20, "text-anchor": "end", fill: colour }, mount.svg, SVG)
        .textContent = `— ${name}`;
      return el("polyline", { fill: "none", stroke: colour, "stroke-width": 2 }, mount.svg, SVG);
    });
  }
  if (!curve.length) return;
  let top = 0;
  for (const [, a, b] of curve) top = Math.max(top, a ?? 0, b ?? 0);
  top = top > 0 ? top : 1;
  const first = curve[0][0], span = Math.max(curve[curve.length - 1][0] - first, 1);
  const x = (e) => (left + (e - first) / span * (width - left - 8)).toFixed(1);
  const y = (v) => (8 + (1 - Math.min(Math.max(v, 0), top) / top) * (height - bottom - 8)).toFixed(1);
  mount.lines.forEach((line, k) => line.setAttribute("points", curve.filter((p) => p[k + 1] !== null)
    .map((p) => `${x(p[0])},${y(p[k + 1])}`).join(" ")));
  mount.top.textContent = Number(top.toPrecision(3)).toString();
  mount.first.textContent = `epoch ${first.toLocaleString("en")}`;
  mount.last.textContent = curve[curve.length - 1][0].toLocaleString("en");
}

function drawEpoch(mount, data) {
  if (!mount.value) {
    const box = el("div", { class: "pg-epoch", "data-testid": "pg-live-epoch" }, mount.root);
    el("div", { class: "pg-epoch-label" }, box).textContent = "Epoch";
    mount.value = el("div", { class: "pg-epoch-value" }, box);
  }
  mount.value.textContent = data.frame.epoch.toLocaleString("en");
}

function drawLoss(mount, data) {
  const [train, test] = data.frame.loss;
  mount.root.classList.add("pg-loss");
  mount.root.innerHTML = test === null || train === null ? "Loss is not a number — training diverged."
    : `Test loss <b>${test.toFixed(3)}</b> · Training loss <b>${train.toFixed(3)}</b>`;
}

const VIEWS = { output: drawOutput, network: drawNetwork, curve: drawCurve, epoch: drawEpoch, loss: drawLoss };
const pictures = new Map();  // view name → {mount, data}: the pictures on the page now
let latest = null;  // the frame every picture shows now
const curves = new Map();  // setup → the newest loss curve (a batch carries it in its last frame only)
let queue = [], timer = null, spacing = 40, lastBatchAt = 0, batchGap = 120, perBatch = 1;

function draw(picture) {
  // (a frame of another network, e.g. one layer fewer, waits for this network's first frame)
  if (latest && latest.setup === picture.data.setup) {
    VIEWS[picture.data.view](picture.mount, { ...picture.data, frame: latest, curve: curves.get(latest.setup) });
  }
  picture.mount.root.dataset.serial = latest ? String(latest.serial) : "";
}

function show(frame, carrier) {
  latest = frame;
  stats.shown++;
  if (frame.curve) curves.set(frame.setup, frame.curve);
  for (const picture of pictures.values()) draw(picture);
  carrier.root.dataset.serial = String(frame.serial);
}

// Plays the queued frames back evenly over the time one batch takes to come, one per animation
// frame at most (a timer would fire for pictures the browser never paints).
let nextAt = 0;
function playBack(carrier) {
  timer = null;
  if (!queue.length) return;
  const now = performance.now();
  if (now >= nextAt || queue.length > 2 * perBatch) {  // (behind by two batches: catch up)
    show(queue.shift(), carrier);
    nextAt = now + spacing;
  }
  if (queue.length) timer = requestAnimationFrame(() => playBack(carrier));
}

// What arrived and what was shown, for benchmarks and for anyone curious in the console.
const stats = window.__pgLiveStats = { batches: 0, frames: 0, fresh: 0, shown: 0 };

function receive(mount, data) {
  const now = performance.now(), batch = data.frames;
  stats.batches++; stats.frames += batch.length;
  if (lastBatchAt) batchGap = 0.8 * batchGap + 0.2 * Math.min(now - lastBatchAt, 1000);
  lastBatchAt = now;
  if (!data.playing) {  // paused: the last frame at once, nothing left to play back
    queue = []; cancelAnimationFrame(timer); timer = null;
    show(batch[batch.length - 1], mount);
    return;
  }
  const newest = queue.length ? queue[queue.length - 1].serial : (latest ? latest.serial : -1);
  const fresh = batch.filter((f) => f.serial > newest || f.setup !== (latest && latest.setup));
  queue.push(...fresh);
  stats.fresh += fresh.length;
  if (queue.length > 24) queue = queue.slice(-24);  // never fall more than a batch or two behind
  perBatch = Math.max(1, fresh.length);
  spacing = Math.min(80, 0.8 * batchGap / perBatch);  // (a little less: frames come late, never early)
  if (!timer) playBack(mount);
  if (mount.asked !== data.tick) {
    // Ask for the next batch while this one plays. Each server run sends a new tick, so even a
    // run that found no new frame leads to the next ask.
    mount.asked = data.tick;
    setTimeout(() => mount.setTriggerValue("drawn", batch[batch.length - 1].serial), 0);
  }
}

// Two kinds of mount: the pictures themselves (mounted with the page, with what does not change
// from frame to frame), and one invisible "frames" mount, the only element the fragment sends per
// run, which plays its batch of frames into every picture and asks for the next batch.
export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!data) return;
  let mount = mounts.get(parentElement);
  if (!mount) {
    mount = { root: el("div", { class: data.view === "frames" ? "pg-frames" : "pg-live" }, parentElement) };
    mounts.set(parentElement, mount);
  }
  if (data.view !== "frames") {
    const picture = { mount, data };
    pictures.set(data.view, picture);
    draw(picture);
    return () => { mounts.delete(parentElement); if (pictures.get(data.view) === picture) pictures.delete(data.view); };
  }
  mount.setTriggerValue = setTriggerValue;
  receive(mount, data);
  return () => mounts.delete(parentElement);
}
