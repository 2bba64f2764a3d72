"""The heavy imports leave the cycle collector with less to walk, and no garbage frozen."""
import gc
import weakref

from core.imports import import_heavy


class Node:
    pass


def test_heavy_imports_are_frozen_and_garbage_is_not():
    cycle = Node()
    cycle.itself = cycle
    gone = weakref.ref(cycle)
    del cycle  # garbage that only the cycle collector can free
    frozen_before = gc.get_freeze_count()
    gc.disable()  # (no automatic collection may free it first)
    try:
        import_heavy(("colorsys", "wave"))  # modules no test imports
    finally:
        gc.enable()
    assert gc.get_freeze_count() > frozen_before, "the objects alive after the imports are frozen"
    assert gone() is None, "garbage was collected before the freeze, not kept for good"
    frozen = gc.get_freeze_count()
    import_heavy(("colorsys", "wave"))
    assert gc.get_freeze_count() == frozen, "imported already: nothing new is frozen"
