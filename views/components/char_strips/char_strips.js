// Colour strips aligned under the characters of a text (the Text page's look inside the LSTM).
// data: {chars: [glyph per character], rows: [{label, name, values, low, high}], marks: "0101…"
//        (characters the pattern marks), selection: [start, end] or null, readout: bool,
//        heatmap: {src, units, unit, label} or null (a units × characters picture; a click or
//        a tap on a row picks that unit)}.
// Triggers: "unit" (a row of the heatmap), "span" ([start, end) of characters: drag across them,
// or tap the first and then the last; a finger's drag scrolls the page instead).

const mounts = new WeakMap();
const CELL = 10; // px per character
const LABEL = 34; // px for the row labels

function colour(value, low, high) {
  if (!Number.isFinite(value)) return "#eee";
  const t = Math.min(1, Math.max(0, (value - low) / (high - low)));
  if (low >= 0) { // a gate: white (closed, 0) to deep green (open, 1)
    return `rgb(${Math.round(255 - 228 * t)},${Math.round(255 - 135 * t)},${Math.round(255 - 195 * t)})`;
  }
  const s = 2 * t - 1; // diverging: blue below 0, white at 0, red above
  const fade = Math.round(255 * (1 - Math.abs(s)));
  return s >= 0 ? `rgb(230,${fade},${fade})` : `rgb(${fade},${fade},230)`;
}

function format(value) {
  return Number.isFinite(value) ? value.toFixed(3) : "–";
}

function create(parent) {
  const root = document.createElement("div");
  root.className = "dlp-strips";
  parent.appendChild(root);
  const mount = { root, data: null, setTriggerValue: null, anchor: null, pending: null, pressed: false, width: 0 };
  new ResizeObserver(() => {
    const width = root.clientWidth;
    if (mount.data && Math.abs(width - mount.width) > 4) render(mount);
  }).observe(root);
  return mount;
}

function heatmap(mount, spec) {
  const box = document.createElement("div");
  box.className = "dlp-strips-heatmap";
  const image = document.createElement("img");
  image.src = spec.src;
  image.alt = spec.label || "units × characters";
  image.draggable = false;
  const marker = document.createElement("div");
  marker.className = "dlp-strips-marker";
  const tip = document.createElement("div");
  tip.className = "dlp-strips-tip";
  tip.textContent = `${spec.label} — click or tap a row to pick its unit`;
  const unitAt = (event) => {
    const rect = image.getBoundingClientRect();
    const v = (event.clientY - rect.top) / rect.height;
    return v >= 0 && v <= 1 ? Math.min(spec.units - 1, Math.floor(v * spec.units)) : null;
  };
  image.addEventListener("pointermove", (event) => {
    const unit = unitAt(event);
    if (unit !== null) tip.textContent = `unit ${unit} (click or tap to pick it)`;
  });
  image.addEventListener("pointerleave", () => { tip.textContent = `${spec.label} — click or tap a row to pick its unit`; });
  image.addEventListener("pointerup", (event) => {
    const unit = unitAt(event);
    if (unit !== null) mount.setTriggerValue("unit", unit);
  });
  const frame = document.createElement("div");
  frame.className = "dlp-strips-frame";
  frame.append(image, marker);
  marker.style.top = `${(100 * (spec.unit + 0.5)) / spec.units}%`;
  box.append(tip, frame);
  return box;
}

function readoutText(data, index) {
  const glyph = data.chars[index];
  const parts = data.rows.map((row) => `${row.name} ${format(row.values[index])}`);
  return `after character ${index} ‘${glyph}’: ${parts.join(" · ")}`;
}

function render(mount) {
  const { root, data } = mount;
  mount.width = root.clientWidth;
  root.replaceChildren();
  if (data.heatmap) root.appendChild(heatmap(mount, data.heatmap));
  if (!data.chars.length) return; // the heatmap alone
  const readout = document.createElement("div");
  readout.className = "dlp-strips-readout";
  readout.textContent = data.hint || "Hover over (or tap) a character for its numbers.";
  root.appendChild(readout);
  const perLine = Math.max(8, Math.floor((mount.width - LABEL - 4) / CELL));
  const marks = data.marks || "";
  const [selStart, selEnd] = data.selection || [-1, -1];
  const show = (index) => { readout.textContent = readoutText(data, index); };
  for (let begin = 0; begin < data.chars.length; begin += perLine) {
    const end = Math.min(data.chars.length, begin + perLine);
    const line = document.createElement("div");
    line.className = "dlp-strips-line";
    const text = document.createElement("div");
    text.className = "dlp-strips-row dlp-strips-text";
    text.appendChild(Object.assign(document.createElement("span"), { className: "dlp-strips-label", textContent: "" }));
    for (let i = begin; i < end; i++) {
      const char = document.createElement("span");
      char.className = "dlp-strips-char";
      if (marks[i] === "1") char.classList.add("dlp-marked");
      if (i >= selStart && i < selEnd) char.classList.add("dlp-selected");
      if (i === mount.pending) char.classList.add("dlp-pending");
      char.textContent = data.chars[i];
      char.dataset.index = i;
      text.appendChild(char);
    }
    line.appendChild(text);
    for (const row of data.rows) {
      const strip = document.createElement("div");
      strip.className = "dlp-strips-row";
      strip.appendChild(Object.assign(document.createElement("span"),
        { className: "dlp-strips-label", textContent: row.label, title: row.title || row.label }));
      for (let i = begin; i < end; i++) {
        const cell = document.createElement("span");
        cell.className = "dlp-strips-cell";
        cell.style.background = colour(row.values[i], row.low, row.high);
        cell.title = `${row.title || row.label} = ${format(row.values[i])} after ‘${data.chars[i]}’ (character ${i})`;
        cell.dataset.index = i;
        strip.appendChild(cell);
      }
      line.appendChild(strip);
    }
    root.appendChild(line);
  }
  root.onpointerover = (event) => {
    const index = event.target.dataset && event.target.dataset.index;
    if (index !== undefined) show(Number(index));
  };
  if (!data.selectable) return;
  root.onpointerdown = (event) => {
    if (!event.target.classList.contains("dlp-strips-char")) return;
    mount.anchor = Number(event.target.dataset.index);
    mount.pressed = true;
  };
  root.onpointerup = (event) => {
    const target = event.target;
    if (!mount.pressed || !target.classList.contains("dlp-strips-char")) { mount.pressed = false; return; }
    mount.pressed = false;
    const index = Number(target.dataset.index);
    show(index);
    if (index !== mount.anchor) { // dragged across characters
      mount.pending = null;
      mount.setTriggerValue("span", [Math.min(index, mount.anchor), Math.max(index, mount.anchor) + 1]);
    } else if (mount.pending === null) { // first tap: remember it, wait for the last character
      mount.pending = index;
      target.classList.add("dlp-pending");
      readout.textContent = `Span starts at character ${index} ‘${data.chars[index]}’: now tap its last character.`;
    } else {
      const first = mount.pending;
      mount.pending = null;
      mount.setTriggerValue("span", [Math.min(index, first), Math.max(index, first) + 1]);
    }
  };
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!data) return;
  let mount = mounts.get(parentElement);
  if (!mount) {
    mount = create(parentElement);
    mounts.set(parentElement, mount);
  }
  mount.setTriggerValue = setTriggerValue;
  const signature = JSON.stringify(data);
  if (signature === mount.signature) return;
  mount.signature = signature;
  mount.data = data;
  mount.pending = null;
  render(mount);
}
