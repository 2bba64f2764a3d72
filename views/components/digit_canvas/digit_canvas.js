// Draw's canvas: white ink on black, drawn with a mouse, a pen or a finger (pointer events, so touch
// works the same as a mouse).
//
// Its size: the drawing lives in data.size × data.size coordinates (the pointer's position is scaled
// by size / displayed width), while the CSS decides how large it shows: data.size CSS pixels beside the
// reading, the column's width on a phone (digit_canvas.css). The backing store is the displayed width
// × devicePixelRatio, re-made from the strokes whenever that width changes (fit), so the ink stays
// sharp; the stroke width is in drawing coordinates, so it means the same thickness at any size.
//
// Live reading: while the pen moves, a small copy of the picture (data.small CSS pixels square) is sent
// at most every data.every_ms, and only when the server has answered the previous one (data.answered
// is the number of the last frame it read): a slow answer never queues stale pictures, the newest one
// goes out as soon as the answer arrives. When the pen lifts, the full-size picture (size × size
// pixels: the backing store's extra pixels — a phone's 2–3 per CSS pixel, a larger display — are
// averaged away before it travels) is sent at once, marked final. With data.live false only that
// final picture is sent (the pen-up-only mode).
//
// The pen-up picture is read by the same quick run as a live one; the rest of the page (the sections
// below the reading) follows only once that reading is on screen: when the run that read it mounts
// the canvas with data.settle, the canvas sends the trigger "shown" (the frame's number) and the
// server then runs the whole page. (Asking for the whole page from the quick run itself would throw
// its reading away: a full run drops what the quick run had not yet sent, so the reading would wait
// for the whole page to be run and drawn.)
//
// Streamlit calls the default export again on every run, usually with the same parentElement; the
// drawing lives in a WeakMap entry for that element, so a rerun keeps it. Clear asks for a fresh canvas
// by sending a new `instance`; data.restore (a PNG data URL) redraws the last drawing on a fresh
// canvas, e.g. after a page switch.

const mounts = new WeakMap();
const ANSWER_TIMEOUT_MS = 2000; // an answer that never comes must not stop live reading for good
let frames = 0; // numbers every frame this page sends, across canvases

// Where the pointer is, in the drawing's own coordinates (0..size whatever the displayed width).
function point(mount, event) {
  const box = mount.canvas.getBoundingClientRect();
  const scale = box.width > 0 ? mount.size / box.width : 1;
  return [(event.clientX - box.left) * scale, (event.clientY - box.top) * scale];
}

function dot(pen, [x, y], width) {
  pen.fillStyle = "#fff";
  pen.beginPath();
  pen.arc(x, y, width / 2, 0, 2 * Math.PI);
  pen.fill();
}

function line(pen, from, to, width) {
  pen.strokeStyle = "#fff";
  pen.lineWidth = width;
  pen.lineCap = "round";
  pen.lineJoin = "round";
  pen.beginPath();
  pen.moveTo(from[0], from[1]);
  pen.lineTo(to[0], to[1]);
  pen.stroke();
}

// The backing store follows the displayed width (× devicePixelRatio), so the ink stays sharp however
// large CSS shows the canvas; the drawing is replayed from its strokes, in the size × size coordinates.
function fit(mount) {
  const shown = mount.canvas.getBoundingClientRect().width;
  if (!(shown > 0)) return; // not laid out yet: the ResizeObserver calls again
  const pixels = Math.max(1, Math.round(shown * (window.devicePixelRatio || 1)));
  if (pixels === mount.canvas.width && pixels === mount.canvas.height) return;
  mount.canvas.width = pixels; // also resets the context: transform, styles, contents
  mount.canvas.height = pixels;
  const { pen, size } = mount;
  pen.setTransform(pixels / size, 0, 0, pixels / size, 0, 0);
  pen.fillStyle = "#000";
  pen.fillRect(0, 0, size, size);
  if (mount.base) pen.drawImage(mount.base, 0, 0, size, size);
  for (const { width, points } of mount.paths) {
    dot(pen, points[0], width);
    for (let i = 1; i < points.length; i += 1) line(pen, points[i - 1], points[i], width);
  }
}

function create(parentElement, data) {
  const size = data.size;
  const ratio = window.devicePixelRatio || 1;
  const canvas = document.createElement("canvas");
  canvas.className = "dlp-digit-canvas";
  canvas.width = Math.round(size * ratio);
  canvas.height = Math.round(size * ratio);
  canvas.style.setProperty("--dlp-canvas-size", `${size}px`); // its width on a wide screen (the CSS)
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", "Drawing area: draw one digit");
  parentElement.appendChild(canvas);
  const pen = canvas.getContext("2d");
  pen.scale(ratio, ratio);
  pen.fillStyle = "#000";
  pen.fillRect(0, 0, size, size);
  const mount = {
    canvas, pen, size, instance: data.instance, last: null, pointer: null, strokes: 0,
    frame: 0, sentAt: 0, dirty: false, timer: null, data, setStateValue: null, shown: null,
    base: null, paths: [], resized: null,
  };
  if (data.restore) {
    const picture = new Image();
    picture.onload = () => {
      if (mount.strokes !== 0 || mount.pointer !== null) return;
      mount.base = picture;
      pen.drawImage(picture, 0, 0, size, size);
    };
    picture.src = data.restore;
  }
  fit(mount);
  if (window.ResizeObserver) {
    mount.resized = new ResizeObserver(() => fit(mount));
    mount.resized.observe(canvas);
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (mount.pointer !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    mount.pointer = event.pointerId;
    canvas.setPointerCapture(event.pointerId);
    mount.last = point(mount, event);
    mount.paths.push({ width: mount.data.stroke, points: [mount.last] });
    dot(pen, mount.last, mount.data.stroke);
    mount.dirty = true;
    sendLive(mount);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (event.pointerId !== mount.pointer) return;
    event.preventDefault();
    const path = mount.paths[mount.paths.length - 1];
    const moves = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const move of moves.length ? moves : [event]) {
      const next = point(mount, move);
      line(pen, mount.last, next, path.width);
      path.points.push(next);
      mount.last = next;
    }
    mount.dirty = true;
    sendLive(mount);
  });
  const lift = (event) => {
    if (event.pointerId !== mount.pointer) return;
    mount.pointer = null;
    mount.last = null;
    mount.strokes += 1;
    send(mount, true);
  };
  canvas.addEventListener("pointerup", lift);
  canvas.addEventListener("pointercancel", lift);
  return mount;
}

function send(mount, final) {
  clearTimeout(mount.timer);
  mount.timer = null;
  mount.dirty = false;
  const side = final ? mount.size : mount.data.small || mount.size;
  const copy = document.createElement("canvas");
  copy.width = side;
  copy.height = side;
  const copier = copy.getContext("2d");
  copier.imageSmoothingQuality = "high"; // a backing store several times larger is averaged, not sampled
  copier.drawImage(mount.canvas, 0, 0, side, side);
  frames += 1;
  mount.frame = frames;
  mount.sentAt = performance.now();
  mount.setStateValue("drawing", { png: copy.toDataURL("image/png"), strokes: mount.strokes, frame: frames, final });
}

function sendLive(mount) {
  if (!mount.data.live || mount.pointer === null || !mount.dirty || mount.timer !== null) return;
  const now = performance.now();
  const waiting = mount.frame > (mount.data.answered || 0) && now - mount.sentAt < ANSWER_TIMEOUT_MS;
  if (waiting) return; // the answer's arrival calls sendLive again
  const wait = (mount.data.every_ms || 100) - (now - mount.sentAt);
  if (wait > 0) {
    mount.timer = setTimeout(() => { mount.timer = null; sendLive(mount); }, wait);
    return;
  }
  send(mount, false);
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (!data) return;
  let mount = mounts.get(parentElement);
  if (!mount || mount.size !== data.size || mount.instance !== data.instance) {
    if (mount) {
      if (mount.resized) mount.resized.disconnect();
      mount.canvas.remove();
    }
    mount = create(parentElement, data);
    mounts.set(parentElement, mount);
  }
  mount.data = data;
  mount.setStateValue = setStateValue;
  if (data.settle && data.answered === mount.frame && mount.pointer === null && mount.shown !== mount.frame) {
    // The reading of the pen-up picture is on screen (it came in this run, before the canvas): now
    // the rest of the page. Once per picture; a new stroke meanwhile has its own.
    mount.shown = mount.frame;
    component.setTriggerValue("shown", mount.frame);
  }
  sendLive(mount); // the server has answered: send the newest picture if the pen is still moving
}
