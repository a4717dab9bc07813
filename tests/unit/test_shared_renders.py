"""The admin table's shared renders: served only at the same generation, for a second at most."""

from __future__ import annotations

from portal.operations.shared_renders import SharedRenders


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_render_is_shared_until_a_change_or_its_time_is_up():
    clock = Clock()
    renders = SharedRenders(seconds=1.0, clock=clock)
    assert renders.get(3, "size=50&refresh=1") is None
    renders.put(3, "size=50&refresh=1", "<tbody>a</tbody>")
    assert renders.get(3, "size=50&refresh=1") == "<tbody>a</tbody>"
    assert renders.get(3, "size=25&refresh=1") is None  # another view
    assert renders.get(4, "size=50&refresh=1") is None  # a change since: stale at once
    clock.now += 1.5
    assert renders.get(3, "size=50&refresh=1") is None  # usage and activity moved on
    assert renders.hits == 1


def test_the_number_of_views_kept_is_bounded():
    clock = Clock()
    renders = SharedRenders(seconds=1.0, most=4, clock=clock)
    for i in range(10):
        renders.put(1, f"page={i}", str(i))
        assert len(renders._entries) <= 4
    assert renders.get(1, "page=9") == "9"
