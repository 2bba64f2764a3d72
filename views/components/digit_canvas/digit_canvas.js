// Draw's canvas: white ink on black, drawn with a mouse, a pen or a finger (pointer events, so touch
// works the same as a mouse). When the pen lifts, the picture is sent at once, as a PNG of size × size
// CSS pixels: a phone's 2–3 device pixels per CSS pixel are averaged away before it travels, and the
// server's preprocessing reduces it to 28 × 28 anyway. Streamlit calls the default export again on
// every page run, usually with the same parentElement; the drawing lives in a WeakMap entry for that
// element, so a rerun (a new stroke width, say) keeps it. Clear asks for a fresh canvas by sending a
// new `instance`, which replaces the drawing whether or not Streamlit reuses the element.

const mounts = new WeakMap();

function point(canvas, event) {
  const box = canvas.getBoundingClientRect();
  return [event.clientX - box.left, event.clientY - box.top];
}

function create(parentElement, size) {
  const ratio = window.devicePixelRatio || 1;
  const canvas = document.createElement("canvas");
  canvas.className = "dlp-digit-canvas";
  canvas.width = Math.round(size * ratio);
  canvas.height = Math.round(size * ratio);
  canvas.style.width = `${size}px`;
  canvas.style.height = `${size}px`;
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", "Drawing area: draw one digit");
  parentElement.appendChild(canvas);
  const pen = canvas.getContext("2d");
  pen.scale(ratio, ratio);
  pen.fillStyle = "#000";
  pen.fillRect(0, 0, size, size);
  const mount = { canvas, pen, size, last: null, pointer: null, strokes: 0, data: null, setStateValue: null };

  function dot([x, y]) {
    pen.fillStyle = "#fff";
    pen.beginPath();
    pen.arc(x, y, mount.data.stroke / 2, 0, 2 * Math.PI);
    pen.fill();
  }
  function line(from, to) {
    pen.strokeStyle = "#fff";
    pen.lineWidth = mount.data.stroke;
    pen.lineCap = "round";
    pen.lineJoin = "round";
    pen.beginPath();
    pen.moveTo(from[0], from[1]);
    pen.lineTo(to[0], to[1]);
    pen.stroke();
  }
  function send() {
    const small = document.createElement("canvas");
    small.width = size;
    small.height = size;
    small.getContext("2d").drawImage(canvas, 0, 0, size, size);
    mount.strokes += 1;
    mount.setStateValue("drawing", { png: small.toDataURL("image/png"), strokes: mount.strokes });
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (mount.pointer !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    mount.pointer = event.pointerId;
    canvas.setPointerCapture(event.pointerId);
    mount.last = point(canvas, event);
    dot(mount.last);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (event.pointerId !== mount.pointer) return;
    event.preventDefault();
    const moves = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const move of moves.length ? moves : [event]) {
      const next = point(canvas, move);
      line(mount.last, next);
      mount.last = next;
    }
  });
  const lift = (event) => {
    if (event.pointerId !== mount.pointer) return;
    mount.pointer = null;
    mount.last = null;
    send();
  };
  canvas.addEventListener("pointerup", lift);
  canvas.addEventListener("pointercancel", lift);
  return mount;
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  if (!data) return;
  let mount = mounts.get(parentElement);
  if (!mount || mount.size !== data.size || mount.instance !== data.instance) {
    if (mount) mount.canvas.remove();
    mount = create(parentElement, data.size);
    mount.instance = data.instance;
    mounts.set(parentElement, mount);
  }
  mount.data = data;
  mount.setStateValue = setStateValue;
}
