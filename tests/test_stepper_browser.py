"""The kernel-free step-through player in a real browser (headless Chromium).

The page is made here from ``StepThrough.to_html()`` (what the website shows), so these tests
run before the book is built. It holds three players, as a chapter page may, and is opened
both from ``file://`` (a USB stick) and from a local web server with every outside request
blocked. The checks themselves live in ``player_checks.py`` so the built-site tests reuse them.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import StaticServer, open_offline_page
from player_checks import check_every_player, check_text_size, player_state, wait_until_ready

from algos import stepper

X4 = np.array([[0.0, -6.0], [4.0, 4.0], [0.0, 0.0], [-5.0, 2.0]])
X_EM = np.array([-1.0, 0.0, 4.0, 5.0, 6.0])


def blobs(n=300, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [4.0, 4.0], [0.0, 5.0], [5.0, 0.0]])
    return rng.normal(size=(n, 2)) + centres[np.arange(n) % 4]


@pytest.fixture(scope="module")
def players():
    """Three players: K-means on blobs, K-medoids on the seed's 4 points, the seed's EM."""
    return [
        stepper.step_through("kmeans", blobs(), k=4, init="random", seed=3),
        stepper.step_through("kmedoids", X4, k=2, init=X4[[3, 0]], metric="l1",
                             medoids_from="all"),
        stepper.step_through("gmm1d", X_EM, k=2, init=([0.5, 0.5], [6.0, 7.0], [1.0, 2.0]),
                             max_iter=10, tol=0),
    ]


@pytest.fixture(scope="module")
def player_page(players, tmp_path_factory):
    """A standalone HTML page holding the three players; returns (path, [html sizes])."""
    parts = [p.to_html() for p in players]
    page = (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<title>Step-through players</title></head><body><main>\n"
        "<h1>Step-through players</h1>\n" + "\n<hr>\n".join(parts) + "\n</main></body></html>\n"
    )
    path = tmp_path_factory.mktemp("player") / "players.html"
    path.write_text(page, encoding="utf-8")
    return path, [len(p.encode()) for p in parts]


def test_page_size_stays_small(player_page):
    path, sizes = player_page
    total = path.stat().st_size
    print(f"player sizes (bytes): {sizes}; page: {total}")
    assert total < 5_000_000, f"a page with three players is {total} bytes (limit 5 MB)"
    assert max(sizes) < 1_500_000, f"one player is {max(sizes)} bytes: frames are too large"


def test_players_work_from_file_url(browser_context, player_page, players, screenshot_dir):
    path, _ = player_page
    page = browser_context.new_page()
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(path.as_uri())
        results = check_every_player(page, expect_at_least=3)
        page.screenshot(path=str(screenshot_dir / "stepper_players_file.png"), full_page=True)
    finally:
        page.close()
    outside = [u for u in requests if not u.startswith(("file:", "data:"))]
    assert outside == [], f"the player loaded something from outside the page: {outside}"
    assert errors == [], f"JavaScript errors: {errors}"
    assert [r["frames"] for r in results] == [len(p) for p in players]


def test_players_work_offline_over_http(browser_context, player_page, players, screenshot_dir):
    path, _ = player_page
    with StaticServer(path.parent) as url:
        page = open_offline_page(browser_context)
        try:
            page.goto(url + path.name)
            results = check_every_player(page, expect_at_least=3)
            first = page.locator("div.algos-player").first
            first.get_by_role("button", name="Next step", exact=True).click()
            first.get_by_role("button", name="Next step", exact=True).click()
            first.screenshot(path=str(screenshot_dir / "stepper_player_kmeans.png"))
        finally:
            page.close()
    assert page.outside_requests == [], page.outside_requests
    assert page.console_errors == [], page.console_errors
    # every frame the player embeds is a different picture
    assert [r["frames"] for r in results] == [len(p) for p in players]
    assert all(len(r["srcs"]) >= 3 or r["frames"] < 3 for r in results)


def test_reset_while_playing_returns_to_the_start(browser_context, player_page, players):
    """Issue 12's race, in the website player: "Reset" during "Play" lands on the first
    half-step and stays there (the player's timer is stopped before the first frame shows);
    moving the slider while playing stops on the half-step chosen."""
    path, _ = player_page
    em = players[2]
    assert len(em) > 6
    page = browser_context.new_page()
    try:
        page.goto(path.as_uri())
        root = page.locator("div.algos-player").nth(2)
        wait_until_ready(root)
        start = player_state(root)
        root.get_by_role("button", name="Play", exact=True).click()
        page.wait_for_function("el => +el.getAttribute('data-frame') >= 2",
                               arg=root.element_handle(), timeout=15_000)
        assert player_state(root)["play_label"] == "Pause"
        root.get_by_role("button", name="Reset", exact=True).click()
        reset = player_state(root)
        page.wait_for_timeout(3 * em.play_interval_ms)  # three ticks, had Play kept running
        after = player_state(root)
        # as in the live widget, moving the slider while playing stops on the half-step chosen
        root.get_by_role("button", name="Play", exact=True).click()
        page.wait_for_function("el => +el.getAttribute('data-frame') >= 2",
                               arg=root.element_handle(), timeout=15_000)
        root.locator("input[type='range']").evaluate(
            "s => { s.value = '1'; s.dispatchEvent(new Event('input', {bubbles: true})); }")
        page.wait_for_timeout(3 * em.play_interval_ms)
        slid = player_state(root)
    finally:
        page.close()
    for state in (reset, after):
        assert state["frame"] == "0" and state["slider"] == "0", state
        assert state["src"] == start["src"] and state["caption"] == start["caption"]
        assert state["playing"] == "false" and state["play_label"] == "Play", state
    assert slid["frame"] == "1" and slid["slider"] == "1", slid
    assert slid["playing"] == "false" and slid["play_label"] == "Play", slid


def test_long_history_shows_first_and_last_frames(browser_context, tmp_path):
    x = np.concatenate([np.linspace(-3, 3, 40), np.linspace(5, 9, 40)])
    player = stepper.step_through("gmm1d", x, k=2, init=([0.5, 0.5], [-1.0, 0.0], [1.0, 1.0]),
                                  max_iter=30, tol=0)
    player.max_html_frames = 12
    assert len(player) == 61
    path = tmp_path / "long.html"
    path.write_text("<!doctype html><meta charset='utf-8'><title>long</title>"
                    + player.to_html(), encoding="utf-8")
    page = browser_context.new_page()
    try:
        page.goto(path.as_uri())
        root = page.locator("div.algos-player")
        result = check_every_player(page)[0]
        assert result["frames"] == 12
        root.get_by_role("slider").focus()
        page.keyboard.press("End")
        last = player_state(root)
        assert last["frame"] == "11" and last["caption"] == player.title(60)
        assert root.locator("output").inner_text() == "Half-step 61 of 61"
        assert "the last two of 61" in root.inner_text()
    finally:
        page.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_picture_text_stays_legible_on_a_laptop_and_a_phone(browser_context, player_page,
                                                             screenshot_dir, width):
    """In a column as wide as the book's (688 px at 1280, 358 px on a 390 px phone) no text
    of a frame is below 12 CSS px: side by side on a laptop, one above the other on a phone,
    each picture shown at its design width."""
    path, _ = player_page
    column = 688 if width == 1280 else 358
    page = browser_context.new_page()
    try:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(path.as_uri())
        page.add_style_tag(content=f"main {{ max-width: {column}px; margin: 0 auto; padding: 0; }}")
        players = page.locator("div.algos-player")
        for n in range(players.count()):
            player = players.nth(n)
            wait_until_ready(player)
            sizes = check_text_size(player)
            assert all(s["shown"] >= s["design"] - 0.5 for s in sizes), sizes  # not shrunk
            state, curve = (player.locator(f"img.algos-player-{c}").bounding_box()
                            for c in ("state", "curve"))
            side_by_side = abs(state["y"] - curve["y"]) < 1
            assert side_by_side == (width == 1280), (width, state, curve)
        players.first.screenshot(path=str(screenshot_dir / f"stepper_player_{width}.png"))
    finally:
        page.close()


def test_print_shows_a_frame_without_dead_controls(browser_context, player_page):
    path, _ = player_page
    page = browser_context.new_page()
    try:
        page.goto(path.as_uri())
        player = page.locator("div.algos-player").first
        wait_until_ready(player)
        player.get_by_role("button", name="Next step", exact=True).click()
        page.emulate_media(media="print")
        assert not player.locator(".algos-player-controls").is_visible()
        for part in ("img.algos-player-state", "img.algos-player-curve", "figcaption",
                     ".algos-player-next"):
            assert player.locator(part).is_visible(), part
        assert player_state(player)["frame"] == "1"  # the frame the reader was looking at
        page.emulate_media(media="screen")
        assert player.locator(".algos-player-controls").is_visible()
    finally:
        page.close()
