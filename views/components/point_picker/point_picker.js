// The Playground's map for your own points: the server's picture of the output map, and a click or
// a tap on it sends where it landed, in the data's coordinates (a trigger: one page run per point).
// Pointer events, so mouse, pen and finger behave alike; a finger that pans the page instead of
// tapping gets pointercancel, not pointerup, and adds nothing.

const mounts = new WeakMap();

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  if (!data) return;
  let mount = mounts.get(parentElement);
  if (!mount) {
    const image = document.createElement("img");
    image.className = "dlp-point-picker";
    image.alt = "The output map: click or tap to add a point";
    image.draggable = false;
    parentElement.appendChild(image);
    mount = { image, data: null, setTriggerValue: null };
    image.addEventListener("pointerup", (event) => {
      const box = image.getBoundingClientRect();
      const u = (event.clientX - box.left) / box.width, v = (event.clientY - box.top) / box.height;
      if (!(u >= 0 && u <= 1 && v >= 0 && v <= 1)) return;
      const domain = mount.data.domain;
      mount.setTriggerValue("picked", { x: (2 * u - 1) * domain, y: (1 - 2 * v) * domain });
    });
    mounts.set(parentElement, mount);
  }
  mount.data = data;
  mount.setTriggerValue = setTriggerValue;
  if (mount.image.getAttribute("src") !== data.src) mount.image.setAttribute("src", data.src);
  mount.image.style.width = `${data.size}px`;
  mount.image.style.height = `${data.size}px`;
}
