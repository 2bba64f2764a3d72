"""A small client for Streamlit's websocket protocol: a browser session without the browser.

It speaks to ``ws://HOST:PORT/_stcore/stream`` the way Streamlit's frontend does, so a load
benchmark can run many sessions on the server's machine at almost no CPU cost of its own:

- connects with the subprotocols the frontend sends (``streamlit`` then the XSRF token, for
  which the frontend sends ``PLACEHOLDER_AUTH_TOKEN`` when it has none; the server only checks
  the token before reading an ``st.user`` login cookie, so no cookie is needed here);
- sends ``BackMsg.rerun_script`` with the query string, the page (by URL path name first, then by
  the ``page_script_hash`` of the ``navigation`` message, as the frontend does with ``st.navigation``:
  ``new_session`` can carry the main script's hash before the page is known),
  the whole set of widget states it holds, and the ForwardMsg hashes it has cached;
- keeps the page as the frontend does: elements and blocks by delta path, stale elements dropped
  when a run (or a fragment run) finishes, inactive widget states dropped after a full run,
  one-shot triggers sent once;
- keeps the frontend's ForwardMsg cache (``metadata.cacheable`` messages by hash, expired after
  ``max_cached_message_age`` runs) and resolves ``ref_hash`` messages from it;
- runs the frontend's auto-rerun timers: on ``auto_rerun`` it sends a fragment rerun
  (``fragment_id``, ``is_auto_rerun``) every ``interval`` seconds until a full run starts or
  ``stop_auto_rerun`` names the fragment, whether or not the previous run has finished;
- sends a components-v2 component's ``setTriggerValue(event, value)`` as the frontend does
  (:meth:`Page.trigger`; what the component's JavaScript would decide to send is the caller's).

It also downloads the media files (``/media/…``) of the ``st.image`` elements it receives, as a
browser does (in the background, untimed). What a browser does and this client does not: load the
HTML, the scripts and the components' JavaScript, render, and send the default values of widgets it
never touched (the server falls back to the same defaults). A ``Page`` lives on one asyncio loop.
"""
from __future__ import annotations

import asyncio
import base64
import io
import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from websockets.asyncio.client import connect

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.runtime.state.session_state import STREAMLIT_INTERNAL_KEY_PREFIX

SUBPROTOCOLS = ["streamlit", "PLACEHOLDER_AUTH_TOKEN"]  # what the frontend sends without an XSRF cookie
FINISHED = ForwardMsg.FINISHED_SUCCESSFULLY
FRAGMENT_FINISHED = ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY
EARLY_FOR_RERUN = ForwardMsg.FINISHED_EARLY_FOR_RERUN


class ProtocolError(RuntimeError):
    """The server said something a browser would show as a failure, or did not answer in time."""


@dataclass
class Node:
    """One element or block on the page, at its delta path."""
    path: tuple[int, ...]
    element: object | None  # streamlit.proto.Element_pb2.Element, or None for a block
    block: object | None
    run_id: str
    fragment_id: str

    @property
    def kind(self) -> str:
        if self.element is not None:
            return self.element.WhichOneof("type") or ""
        return "block:" + (self.block.WhichOneof("type") or "")

    @property
    def proto(self):
        """The element's own message (``Metric``, ``Button``, …) or the block."""
        return getattr(self.element, self.kind) if self.element is not None else self.block

    @property
    def label(self) -> str:
        return getattr(self.proto, "label", "")

    @property
    def widget_id(self) -> str:
        return getattr(self.proto, "id", "") if self.element is not None else ""


@dataclass
class _Cached:
    msg: bytes
    run_count: int
    fragment_id: str


@dataclass
class Event:
    kind: str  # "start" or "finish"
    run_id: str
    fragment_ids: tuple[str, ...]
    status: int | None = None
    at: float = field(default_factory=time.perf_counter)


class Page:
    """One session of the app, as a browser tab holds it.

    ``async with Page(url, "draw", "limit=3000") as page:`` connects and asks for the page;
    ``await page.wait_idle()`` waits for that first run.
    """

    def __init__(self, url: str, page: str = "", query: str = "", timeout: float = 30.0,
                 fetch_media: bool = True, cookie: str = "", authorization: str = ""):
        parts = urlsplit(url)
        self.cookie = cookie  # sent with every request, as a browser does (a proxy's sticky-session cookie)
        self.authorization = authorization  # an Authorization header for every request (a proxy's login)
        self.host, self.port = parts.hostname, parts.port or 80
        self.fetch_media = fetch_media
        self.media_fetched, self.media_failed = 0, 0
        self._fetches: set[asyncio.Task] = set()
        self.http_url = url.rstrip("/")
        self.ws_url = f"ws://{parts.netloc}/_stcore/stream"
        self.page_name, self.query = page, query
        self.timeout = timeout
        self.nodes: dict[tuple[int, ...], Node] = {}
        self.widget_states: dict[str, WidgetState] = {}
        self.widget_fragments: dict[str, str] = {}  # widget id -> fragment it was drawn in
        self.events: list[Event] = []
        self.errors: list[str] = []  # exceptions shown, compile errors, unknown pages, cache misses
        self.messages = 0
        self.cache_hits = 0  # ref_hash messages resolved from the cache
        self.session_id = ""
        self.page_script_hash = ""
        self.run_id = ""
        self.running = False
        self.max_cached_message_age = 2
        self._cache: dict[str, _Cached] = {}
        self._run_count = 0
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}
        self._changed = asyncio.Condition()
        self._socket = None
        self._reader: asyncio.Task | None = None
        self._closed_reason: str | None = None
        self.on_element = None  # optional callback(node) for every element received

    # ---- connection ----------------------------------------------------------------
    async def __aenter__(self) -> "Page":
        await self.open()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def open(self) -> None:
        self._socket = await connect(self.ws_url, subprotocols=SUBPROTOCOLS, max_size=None,
                                     open_timeout=self.timeout,
                                     additional_headers=self._headers() or None)
        self._reader = asyncio.create_task(self._read(), name="streamlit-client-read")
        await self.rerun()

    def _headers(self) -> dict[str, str]:
        return {name: value for name, value in (("Cookie", self.cookie), ("Authorization", self.authorization)) if value}

    async def close(self) -> None:
        for _, timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in list(self._fetches):
            task.cancel()
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass

    async def _read(self) -> None:
        try:
            async for data in self._socket:
                msg = ForwardMsg()
                msg.ParseFromString(data)
                self._handle(msg, data)
                async with self._changed:
                    self._changed.notify_all()
        except Exception as error:  # the connection is gone: every waiter must learn it
            self._closed_reason = f"{type(error).__name__}: {error}"
        else:
            self._closed_reason = "the server closed the connection"
        async with self._changed:
            self._changed.notify_all()

    # ---- incoming -------------------------------------------------------------------
    def _handle(self, msg: ForwardMsg, data: bytes) -> None:
        self.messages += 1
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            cached = self._cache.get(msg.ref_hash)
            if cached is None:
                self.errors.append(f"cached ForwardMsg miss {msg.ref_hash}")
                return
            cached.run_count = self._run_count
            self.cache_hits += 1
            full = ForwardMsg()
            full.ParseFromString(cached.msg)
            full.metadata.CopyFrom(msg.metadata)
            msg, kind = full, full.WhichOneof("type")
        elif msg.metadata.cacheable and msg.hash:
            if msg.hash in self._cache:
                self._cache[msg.hash].run_count = self._run_count
            else:
                fragment = msg.delta.fragment_id if kind == "delta" else ""
                self._cache[msg.hash] = _Cached(data, self._run_count, fragment)

        if kind == "new_session":
            self._new_session(msg)
        elif kind == "delta":
            self._delta(msg)
        elif kind == "script_finished":
            self._script_finished(msg)
        elif kind == "session_status_changed":
            self.running = msg.session_status_changed.script_is_running
        elif kind == "navigation":  # st.navigation names the page this run shows
            self.page_script_hash = msg.navigation.page_script_hash
        elif kind == "page_info_changed":
            self.query = msg.page_info_changed.query_string
        elif kind == "auto_rerun":
            self._auto_rerun(msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fragment_id in msg.stop_auto_rerun.fragment_ids:
                self._stop_timer(fragment_id)
        elif kind == "session_event":
            event = msg.session_event
            if event.WhichOneof("type") == "script_compilation_exception":
                self.errors.append("compile error: " + event.script_compilation_exception.message[:200])
        elif kind == "page_not_found":
            self.errors.append(f"page not found: {msg.page_not_found.page_name!r}")

    def _new_session(self, msg: ForwardMsg) -> None:
        session = msg.new_session
        self.session_id = session.initialize.session_id or self.session_id
        self.page_script_hash = session.page_script_hash
        self.max_cached_message_age = session.config.max_cached_message_age or self.max_cached_message_age
        run = msg.metadata.run
        self.run_id = run.script_run_id
        self.running = True
        if not run.fragment_ids:  # a full run: the frontend stops every auto-rerun timer
            for fragment_id in list(self._timers):
                self._stop_timer(fragment_id)
        self.events.append(Event("start", run.script_run_id, tuple(run.fragment_ids)))

    def _delta(self, msg: ForwardMsg) -> None:
        delta = msg.delta
        path = tuple(msg.metadata.delta_path)
        run_id = msg.metadata.run.script_run_id or self.run_id
        kind = delta.WhichOneof("type")
        if kind == "new_element":
            element = delta.new_element
            old = self.nodes.get(path)
            if old is not None and old.block is not None:
                self._drop_under(path)
            node = Node(path, element, None, run_id, delta.fragment_id)
            self.nodes[path] = node
            if node.kind == "exception":
                self.errors.append(f"exception shown: {element.exception.type}: {element.exception.message[:160]}")
            if node.widget_id:
                self.widget_fragments[node.widget_id] = delta.fragment_id
            if self.on_element is not None:
                self.on_element(node)
            if node.kind == "imgs" and self.fetch_media:
                for image in element.imgs.imgs:
                    if image.url.startswith("/"):  # a media file the browser would now download
                        task = asyncio.get_running_loop().create_task(self._fetch(image.url))
                        self._fetches.add(task)
                        task.add_done_callback(self._fetches.discard)
        elif kind == "add_block":
            old = self.nodes.get(path)
            if old is not None and old.element is not None:
                self._drop_under(path)
            self.nodes[path] = Node(path, None, delta.add_block, run_id, delta.fragment_id)

    async def _fetch(self, path: str) -> None:
        """GET a media file as the browser does after an ``st.image`` arrives (not timed)."""
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), self.timeout)
            try:
                headers = "".join(f"{name}: {value}\r\n" for name, value in self._headers().items())
                writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{headers}"
                             "Connection: close\r\n\r\n".encode("ascii"))
                await writer.drain()
                response = await asyncio.wait_for(reader.read(), self.timeout)
            finally:
                writer.close()
            ok = response.split(b" ", 2)[1:2] == [b"200"]
        except (OSError, TimeoutError, IndexError):
            ok = False
        self.media_fetched += ok
        self.media_failed += not ok

    def _drop_under(self, path: tuple[int, ...]) -> None:
        for other in [p for p in self.nodes if len(p) > len(path) and p[:len(path)] == path]:
            del self.nodes[other]

    def _script_finished(self, msg: ForwardMsg) -> None:
        status = msg.script_finished
        run = msg.metadata.run
        run_id = run.script_run_id or self.run_id
        fragments = tuple(run.fragment_ids)
        if status in (FINISHED, FRAGMENT_FINISHED):
            # Clear what this run did not redraw: the whole page after a full run, the
            # fragments' own elements after a fragment run.
            stale = [p for p, n in self.nodes.items() if n.run_id != run_id
                     and (status == FINISHED or (n.fragment_id and n.fragment_id in fragments))]
            for path in stale:
                self.nodes.pop(path, None)
            if status == FINISHED:
                active = {n.widget_id for n in self.nodes.values() if n.widget_id}
                for widget_id in [w for w in self.widget_states if w not in active]:
                    del self.widget_states[widget_id]
        if status != EARLY_FOR_RERUN:
            self._run_count += 1
            for digest, entry in list(self._cache.items()):
                if fragments and (not entry.fragment_id or entry.fragment_id not in fragments):
                    continue
                if self._run_count - entry.run_count > self.max_cached_message_age:
                    del self._cache[digest]
        self.events.append(Event("finish", run_id, fragments, status))

    # ---- auto-rerun (fragments with run_every) ------------------------------------------
    def _auto_rerun(self, fragment_id: str, interval: float) -> None:
        if not fragment_id or (fragment_id in self._timers and self._timers[fragment_id][0] == interval):
            return
        self._stop_timer(fragment_id)

        async def tick() -> None:
            while not self._closed_reason:
                await asyncio.sleep(interval)
                try:
                    await self.rerun(fragment_id=fragment_id, auto=True)
                except Exception:  # the connection is gone; whoever waits on the page learns it
                    return

        self._timers[fragment_id] = (interval, asyncio.create_task(tick(), name=f"auto-rerun {fragment_id}"))

    def _stop_timer(self, fragment_id: str) -> None:
        entry = self._timers.pop(fragment_id, None)
        if entry is not None:
            entry[1].cancel()

    @property
    def auto_reruns(self) -> list[str]:
        return list(self._timers)

    # ---- outgoing -------------------------------------------------------------------
    async def rerun(self, fragment_id: str = "", auto: bool = False) -> None:
        """Send the rerun the frontend sends: every widget state held, then forget the triggers."""
        if self._closed_reason:
            raise ProtocolError(f"connection lost: {self._closed_reason}")
        back = BackMsg()
        state = back.rerun_script
        state.query_string = self.query
        state.widget_states.widgets.extend(self.widget_states.values())
        state.page_script_hash = self.page_script_hash
        if not self.page_script_hash:
            state.page_name = self.page_name  # the first run: the page by its URL path
        state.fragment_id = fragment_id
        state.is_auto_rerun = auto
        state.cached_message_hashes.extend(self._cache)
        info = state.context_info
        info.timezone, info.timezone_offset, info.locale = "UTC", 0, "en-US"
        info.url = f"{self.http_url}/{self.page_name}" + (f"?{self.query}" if self.query else "")
        info.is_embedded, info.color_scheme = False, "light"
        for widget_id in [w for w, s in self.widget_states.items()
                          if s.WhichOneof("value") in ("trigger_value", "json_trigger_value")]:
            del self.widget_states[widget_id]
        await self._socket.send(back.SerializeToString())

    def set_state(self, widget_id: str, **value) -> None:
        """Hold a widget's value, e.g. ``set_state(id, int_value=3)`` or ``json_value='{…}'``."""
        state = WidgetState(id=widget_id, **value)
        self.widget_states[widget_id] = state

    async def set_value(self, widget_id: str, **value) -> int:
        """Change a widget's value and send the rerun; returns the mark for ``wait_run``."""
        self.set_state(widget_id, **value)
        mark = len(self.events)
        await self.rerun(fragment_id=self.widget_fragments.get(widget_id, ""))
        return mark

    async def trigger(self, component: Node, event: str, value=None) -> int:
        """Send what a components-v2 component's ``setTriggerValue(event, value)`` sends: the
        payload joins the JSON list of the component's one trigger widget (``<prefix>_<id>__events``)
        and the rerun goes to the fragment the component is in. Returns the mark for ``wait_run``."""
        widget_id = f"{STREAMLIT_INTERNAL_KEY_PREFIX}_{component.widget_id}__events"
        held = self.widget_states.get(widget_id)  # (triggers not yet sent ride along, as in the frontend)
        payloads = json.loads(held.json_trigger_value) if held is not None else []
        self.set_state(widget_id, json_trigger_value=json.dumps([*payloads, {"event": event, "value": value}]))
        mark = len(self.events)
        await self.rerun(fragment_id=component.fragment_id)
        return mark

    async def click(self, label: str, kind: str = "button") -> int:
        """Press a button by its label; returns the mark for ``wait_run``."""
        return await self.set_value(self.widget(label, kind).widget_id, trigger_value=True)

    # ---- reading the page -------------------------------------------------------------
    def elements(self, kind: str | None = None) -> list[Node]:
        """Elements in page order (by delta path), optionally of one kind (``"metric"``, …)."""
        nodes = sorted(self.nodes.values(), key=lambda n: n.path)
        return [n for n in nodes if n.element is not None and (kind is None or n.kind == kind)]

    def find(self, label: str | None = None, kind: str | None = None, key: str | None = None) -> list[Node]:
        return [n for n in self.elements(kind)
                if (label is None or n.label == label) and (key is None or n.widget_id.endswith(f"-{key}"))]

    def widget(self, label: str | None = None, kind: str | None = None, key: str | None = None) -> Node:
        found = self.find(label, kind, key)
        if not found:
            raise ProtocolError(f"no {kind or 'widget'} {label or key!r} on the page")
        return found[-1]

    def metric(self, label: str) -> str | None:
        """The body text of the ``st.metric`` with this label, or None if there is none."""
        found = self.find(label, "metric")
        return found[-1].proto.body if found else None

    def texts(self, kind: str = "code") -> list[str]:
        """The text of every ``st.code`` (or ``markdown``/``heading``: their body)."""
        attribute = {"code": "code_text"}.get(kind, "body")
        return [getattr(n.proto, attribute) for n in self.elements(kind)]

    # ---- waiting ----------------------------------------------------------------------
    async def wait_for(self, predicate, timeout: float | None = None, what: str = "the page") -> float:
        """Wait until ``predicate()`` holds after a message; returns when (perf_counter)."""
        async def until() -> None:
            async with self._changed:
                while not predicate():
                    if self._closed_reason:
                        raise ProtocolError(f"connection lost while waiting for {what}: {self._closed_reason}")
                    await self._changed.wait()

        try:
            await asyncio.wait_for(until(), timeout or self.timeout)
        except TimeoutError:
            raise ProtocolError(f"no answer in {timeout or self.timeout:.0f} s: waited for {what}") from None
        return time.perf_counter()

    def finished_since(self, mark: int, fragment: bool = False) -> Event | None:
        """The run started after ``mark`` once it has finished: the last full run to start (an
        ``st.rerun`` replaces the run that called it), or with ``fragment`` the last fragment run."""
        started = None
        for event in self.events[mark:]:
            if event.kind == "start" and bool(event.fragment_ids) == fragment:
                started = event.run_id
            elif (event.kind == "finish" and event.run_id == started
                  and event.status == (FRAGMENT_FINISHED if fragment else FINISHED)):
                return event
        return None

    async def wait_run(self, mark: int, timeout: float | None = None, fragment: bool = False) -> Event:
        """Wait for the run asked for after ``mark`` (and any ``st.rerun`` it led to) to finish."""
        await self.wait_for(lambda: self.finished_since(mark, fragment) is not None, timeout,
                            "the run to finish")
        return self.finished_since(mark, fragment)

    async def wait_idle(self, timeout: float | None = None) -> Event:
        return await self.wait_run(0, timeout)


# ---- drawing ----------------------------------------------------------------------------
def draw_png(strokes, size: int = 280, width: int = 22) -> bytes:
    """White strokes (canvas-relative points) on a black, opaque canvas, as a PNG."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (size, size), (0, 0, 0, 255))
    pen = ImageDraw.Draw(image)
    for points in strokes:
        xy = [(x * size, y * size) for x, y in points]
        pen.line(xy, fill=(255, 255, 255, 255), width=width, joint="curve")
        for x, y in (xy[0], xy[-1]):  # round caps, as the canvas's pen draws them
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=(255, 255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def canvas_state(strokes, size: int = 280, width: int = 22) -> str:
    """The JSON state Draw's canvas (views/components/digit_canvas) sends when the pen lifts:
    ``setStateValue("drawing", {png: <PNG data URL>, strokes: <strokes so far>})``."""
    data = "data:image/png;base64," + base64.b64encode(draw_png(strokes, size, width)).decode("ascii")
    return json.dumps({"drawing": {"png": data, "strokes": len(strokes)}})


def component_data(node: Node):
    """The JSON data a components-v2 element (``bidi_component``) was mounted with, or None."""
    proto = node.proto
    kind = proto.WhichOneof("data")
    text = proto.json if kind == "json" else proto.mixed.json if kind == "mixed" else ""
    return json.loads(text) if text else None


def canvas_node(page: Page) -> Node:
    """The page's (last) digit canvas."""
    found = [n for n in page.elements("bidi_component") if "digit_canvas" in n.proto.component_name]
    if not found:
        raise ProtocolError("no digit canvas on the page")
    return found[-1]


def canvas_id(page: Page) -> str:
    """The widget id of the page's (last) digit canvas."""
    return canvas_node(page).widget_id


async def settle_canvas(page: Page) -> None:
    """What the canvas's JavaScript does once the reading of a pen-up picture is on screen: when the
    run that read it mounted the canvas with ``settle``, send the trigger ``shown`` (the picture's
    number) and wait for the run of the whole page it leads to."""
    canvas = canvas_node(page)
    data = component_data(canvas) or {}
    if data.get("settle"):
        await page.wait_run(await page.trigger(canvas, "shown", data.get("answered")))
