// Draw's feature maps as pictures you can click or tap: a grid of small maps that wraps to the
// width it has (phone or desktop), and a click or a finger's tap on one sends which map and which
// of its cells it landed on (a trigger: one page run per pick). Pointer events, as the Playground's
// point picker: mouse, pen and finger alike; a finger that pans the page instead of tapping gets
// pointercancel, not pointerup, and picks nothing.

const mounts = new WeakMap();

function build(parentElement) {
  const grid = document.createElement("div");
  grid.className = "dlp-map-picker";
  parentElement.appendChild(grid);
  const mount = { grid, tiles: [], data: null, setTriggerValue: null };
  grid.addEventListener("pointerup", (event) => {
    const tile = event.target.closest(".dlp-map-tile");
    if (!tile || !mount.data) return;
    const box = tile.getBoundingClientRect();
    const u = (event.clientX - box.left) / box.width, v = (event.clientY - box.top) / box.height;
    if (!(u >= 0 && u <= 1 && v >= 0 && v <= 1)) return;
    const { rows, cols } = mount.data;
    mount.setTriggerValue("picked", {
      map: Number(tile.dataset.index),
      row: Math.min(rows - 1, Math.floor(v * rows)),
      col: Math.min(cols - 1, Math.floor(u * cols)),
    });
  });
  mounts.set(parentElement, mount);
  return mount;
}

function tileFor(mount, index) {
  while (mount.tiles.length <= index) {
    const tile = document.createElement("div");
    tile.className = "dlp-map-tile";
    tile.dataset.index = String(mount.tiles.length);
    const image = document.createElement("img");
    image.draggable = false;
    const marker = document.createElement("div");
    marker.className = "dlp-map-cell";
    tile.append(image, marker);
    mount.grid.appendChild(tile);
    mount.tiles.push({ tile, image, marker });
  }
  return mount.tiles[index];
}

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!data) return;
  const mount = mounts.get(parentElement) || build(parentElement);
  mount.data = data;
  mount.setTriggerValue = setTriggerValue;
  // As many columns as fit at the tile's size for this screen (a share of its width, within bounds);
  // the tiles then stretch a little to fill the row.
  const side = `clamp(${data.tile_min}px, ${data.tile_vw}vw, ${data.tile_max}px)`;
  mount.grid.style.gridTemplateColumns = data.tiles.length > 1 ? `repeat(auto-fill, minmax(${side}, 1fr))` : side;
  mount.grid.setAttribute("aria-label", data.label);
  data.tiles.forEach((src, index) => {
    const { tile, image, marker } = tileFor(mount, index);
    if (image.getAttribute("src") !== src) image.setAttribute("src", src);
    image.alt = `${data.label}: map ${index}`;
    tile.title = data.titles ? data.titles[index] : `map ${index}`;
    const chosen = index === data.selected;
    tile.classList.toggle("dlp-map-chosen", chosen);
    const cell = chosen && data.cell ? data.cell : null;
    marker.style.display = cell ? "block" : "none";
    if (cell) {
      marker.style.left = `${(100 * cell[1]) / data.cols}%`;
      marker.style.top = `${(100 * cell[0]) / data.rows}%`;
      marker.style.width = `${100 / data.cols}%`;
      marker.style.height = `${100 / data.rows}%`;
    }
  });
  mount.tiles.slice(data.tiles.length).forEach(({ tile }) => tile.remove());
  mount.tiles.length = Math.min(mount.tiles.length, data.tiles.length);
}
