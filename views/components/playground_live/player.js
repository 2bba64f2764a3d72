// The Playground's player (loaded after paint.js): which frame the pictures show, when to ask the
// server for more, and the map's clicks. Streamlit calls the default export once per mount and again
// with new data on the same parentElement; each mount keeps its DOM in a WeakMap.
//
// Asking for frames: the "frames" mount answers each new batch (a new tick) with the trigger "drawn",
// which reruns only the page's frames fragment, so frames come as fast as this browser draws them
// and the server answers. Streamlit sends the widget changes of one moment as one message with one
// fragment id: an ask sent together with a click on a page control would make the click's run a
// fragment run (and log "Multiple different fragmentIds"). So no ask goes out while a pointer is
// pressed or a key is down, nor for a moment after: the click's own message goes out alone. And
// none after a press on a link (the sidebar's pages): an ask that reached the server after the
// switch to another page would be a fragment run of a page no longer shown. Streamlit sends a
// trigger a task after it is set (its widget manager flushes in a setTimeout), but a page switch at
// once: a click on a link in that task would overtake the ask. Streamlit may then run the ask as
// the Playground page (undoing the switch), with every widget's value taken for a change (it forgot
// the page's widgets). So such a click waits for that task and is then played again.

const HOLD_MS = 120;  // after a pointer or key is released, asks wait this long
// Asks at most this often: each batch then carries two or three frames, played back evenly, and the
// server runs the fragment about 13 times a second instead of once per frame (less work, and less
// in the way of another player's clicks).
const ASK_EVERY_MS = 75;
const mounts = new WeakMap();

const player = {
  pictures: new Map(),  // view name → {mount, data}: the pictures on the page now
  latest: null,  // the frame every picture shows now
  curves: new Map(),  // setup → the newest loss curve (a batch carries it in its last frame only)
  queue: [], timer: null, nextAt: 0,  // frames waiting to be shown, and when the next one is due
  spacing: 40, batchGap: 120, lastBatchAt: 0, perBatch: 1,  // playback pacing, learnt from the batches
  pressed: false, heldUntil: 0, leaving: false, sending: false,
  // What arrived and what was shown, for benchmarks and anyone curious in the console.
  stats: (window.__pgLiveStats = { batches: 0, frames: 0, fresh: 0, shown: 0, held: 0 }),

  draw(picture) {
    const { mount, data } = picture, frame = this.latest;
    const current = frame && frame.setup === data.setup ? frame : null;
    // (a new network's pictures wait for its first frame, unless no frames will come: no network)
    if (current || !data.live) VIEWS[data.view](mount, data, current, current && this.curves.get(frame.setup));
    mount.root.dataset.serial = current ? String(current.serial) : "";
  },

  show(frame, carrier) {
    this.latest = frame;
    this.stats.shown++;
    if (frame.curve) this.curves.set(frame.setup, frame.curve);
    for (const picture of this.pictures.values()) this.draw(picture);
    carrier.root.dataset.serial = String(frame.serial);
  },

  // Plays the queued frames back evenly over the time one batch takes to come, one per animation
  // frame at most (a timer would fire for pictures the browser never paints).
  playBack(carrier) {
    this.timer = null;
    if (!this.queue.length) return;
    const now = performance.now();
    if (now >= this.nextAt || this.queue.length > 2 * this.perBatch) {  // (behind by two batches: catch up)
      this.show(this.queue.shift(), carrier);
      this.nextAt = now + this.spacing;
    }
    if (this.queue.length) this.timer = requestAnimationFrame(() => this.playBack(carrier));
  },

  receive(mount, data) {
    const now = performance.now(), batch = data.frames;
    this.stats.batches++; this.stats.frames += batch.length;
    mount.tick = data.tick;
    if (mount.page !== data.page) { mount.page = data.page; this.leaving = false; }  // (a run of the whole page)
    if (!batch.length) return;
    if (this.lastBatchAt) this.batchGap = 0.8 * this.batchGap + 0.2 * Math.min(now - this.lastBatchAt, 1000);
    this.lastBatchAt = now;
    if (!data.playing) {  // paused: the last frame at once, nothing left to play back
      this.queue = []; cancelAnimationFrame(this.timer); this.timer = null;
      this.show(batch[batch.length - 1], mount);
      return;
    }
    const latest = this.latest, newest = this.queue.length ? this.queue[this.queue.length - 1].serial
      : (latest ? latest.serial : -1);
    const fresh = batch.filter((f) => f.serial > newest || f.setup !== (latest && latest.setup));
    this.queue.push(...fresh);
    this.stats.fresh += fresh.length;
    if (this.queue.length > 24) this.queue = this.queue.slice(-24);  // never fall more than a batch or two behind
    this.perBatch = Math.max(1, fresh.length);
    this.spacing = Math.min(80, 0.8 * this.batchGap / this.perBatch);  // (a little less: frames come late)
    if (!this.timer) this.playBack(mount);
    if (mount.asked !== data.tick) {  // each server run sends a new tick: even one without a new frame is answered
      mount.asked = data.tick;
      const serial = batch[batch.length - 1].serial;
      setTimeout(() => this.ask(mount, data.tick, serial), Math.max(0, (mount.askedAt || 0) + ASK_EVERY_MS - now));
    }
  },

  ask(mount, tick, serial) {
    // (a newer batch asks for itself; an unmounted one, or one of a page left behind, never)
    if (mount.disposed || mount.tick !== tick || this.leaving) return;
    const wait = this.pressed ? HOLD_MS : this.heldUntil - performance.now();
    if (wait > 0) {
      this.stats.held++;
      setTimeout(() => this.ask(mount, tick, serial), wait);
      return;
    }
    mount.askedAt = performance.now();
    mount.setTriggerValue("drawn", serial);
    this.sending = true;  // until Streamlit's flush, whose timer was set just now and so runs first
    setTimeout(() => { this.sending = false; }, 0);
  },
};

for (const [type, pressed] of [["pointerdown", true], ["keydown", true], ["pointerup", false],
  ["pointercancel", false], ["keyup", false]]) {
  window.addEventListener(type, (event) => {
    player.pressed = pressed;
    player.heldUntil = performance.now() + HOLD_MS;
    if (pressed && event.target instanceof Element && event.target.closest("a[href]")) player.leaving = true;
  }, true);
}

// A click on a link (another page) while an ask is on its way: after the ask (see the top).
window.addEventListener("click", (event) => {
  const link = player.sending && event.target instanceof Element && event.target.closest("a[href]");
  if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  event.stopImmediatePropagation();
  setTimeout(() => link.click(), 0);
}, true);

// A click or tap on the map adds a point there (when its data says "pick"). Pointer events, so mouse,
// pen and finger behave alike; a finger that pans the page instead gets pointercancel, not pointerup.
function listenForPicks(mount) {
  mount.root.addEventListener("pointerup", (event) => {
    const { data } = mount;
    if (!data || !data.pick || !mount.canvas || event.target !== mount.canvas) return;
    const point = mapPoint(mount.canvas, event, data.domain);
    if (point) mount.setTriggerValue("picked", point);
  });
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
    if (data.view === "output") listenForPicks(mount);
  }
  mount.setTriggerValue = setTriggerValue;
  mount.data = data;
  if (data.view === "frames") {
    player.receive(mount, data);
    return () => { mount.disposed = true; mounts.delete(parentElement); };
  }
  const picture = { mount, data };
  player.pictures.set(data.view, picture);
  player.draw(picture);
  return () => { mounts.delete(parentElement); if (player.pictures.get(data.view) === picture) player.pictures.delete(data.view); };
}
