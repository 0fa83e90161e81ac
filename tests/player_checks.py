"""Browser checks of the kernel-free step-through player (``algos.stepper`` HTML), reusable.

Used by ``tests/test_stepper_browser.py`` on a page made from ``StepThrough.to_html()`` and
meant for the built-site tests too: for every chapter page, call
:func:`check_every_player` on an offline page (see ``open_offline_page`` in conftest.py).

Every check drives the player as a reader does: the buttons by their accessible names
("Previous step", "Next step", "Play" which reads "Pause" while playing, "Reset"), the slider
with the keyboard. :func:`check_text_size` checks that the pictures' text is at least 12 CSS
pixels as shown (at the page's width). A check that
finds nothing to check fails: a page without players is an error, not a pass.
"""

from __future__ import annotations

PLAYER_SELECTOR = "div.algos-player"
BUTTON_NAMES = ("Previous step", "Next step", "Play", "Reset")


def player_state(player):
    """What a reader sees in one player now.

    Parameters
    ----------
    player : playwright.sync_api.Locator
        The player's root ``div.algos-player``.

    Returns
    -------
    dict
        ``frame`` (index shown, from the root's data-frame), ``src`` and ``alt`` of the state
        picture, ``curve_src`` and ``curve_alt`` of the objective picture, ``caption``,
        ``next``, ``objective`` and ``detail`` texts, ``slider`` value, ``natural_width`` of
        the decoded state picture (0 if it failed to decode), ``playing`` (the root's
        data-playing) and ``play_label`` (the Play/Pause button's text).
    """
    return player.evaluate(
        """root => {
            const img = root.querySelector('img.algos-player-state');
            const curve = root.querySelector('img.algos-player-curve');
            return {
                frame: root.getAttribute('data-frame'),
                src: img.getAttribute('src'),
                alt: img.getAttribute('alt'),
                curve_src: curve.getAttribute('src'),
                curve_alt: curve.getAttribute('alt'),
                natural_width: img.naturalWidth,
                caption: root.querySelector('figcaption').textContent,
                next: root.querySelector('.algos-player-next').textContent,
                objective: root.querySelector('.algos-player-objective').textContent,
                detail: root.querySelector('.algos-player-detail').textContent,
                slider: root.querySelector("input[type='range']").value,
                slider_max: root.querySelector("input[type='range']").max,
                playing: root.getAttribute('data-playing'),
                play_label: root.querySelector("button[data-act='play']").textContent,
            };
        }"""
    )


def text_sizes(player):
    """Smallest text of each picture of ``player`` in CSS pixels, as shown now.

    The player's root carries ``data-min-text-px``: its smallest text at the pictures' design
    width (their ``width`` attribute). A picture shown narrower scales its text down.

    Returns
    -------
    list of dict
        One per picture: ``design`` and ``shown`` width, and ``text_px``.
    """
    return player.evaluate(
        """root => {
            const px = parseFloat(root.getAttribute('data-min-text-px'));
            return Array.from(root.querySelectorAll('.algos-player-panels img')).map(img => {
                const design = parseFloat(img.getAttribute('width'));
                const shown = img.clientWidth;  // without the border
                return {design: design, shown: shown, text_px: px * shown / design};
            });
        }"""
    )


def check_text_size(player, minimum=12.0):
    """Assert that no text of the player's pictures is below ``minimum`` CSS pixels as shown.

    Returns
    -------
    list of dict
        :func:`text_sizes`, for further checks.
    """
    sizes = text_sizes(player)
    assert len(sizes) == 2, f"a player shows two pictures, found {len(sizes)}"
    small = [s for s in sizes if not s["text_px"] >= minimum]
    assert not small, f"picture text below {minimum} px as shown: {small}"
    return sizes


def button(player, name):
    """The player's button with accessible name ``name`` (exact match)."""
    return player.get_by_role("button", name=name, exact=True)


def wait_until_ready(player, timeout=10_000):
    """Wait until the player's script has run (it marks the root ``data-ready="1"``)."""
    player.page.wait_for_function(
        "el => el.getAttribute('data-ready') === '1' && el.querySelector('img.algos-player-state').complete",
        arg=player.element_handle(),
        timeout=timeout,
    )


def _wait_for_src_change(player, old_src, action, timeout=5_000):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        player.page.wait_for_function(
            "([el, old]) => el.querySelector('img.algos-player-state').getAttribute('src') !== old",
            arg=[player.element_handle(), old_src],
            timeout=timeout,
        )
    except PlaywrightTimeout:
        raise AssertionError(
            f"{action} did not change the picture within {timeout} ms "
            f"(player {player.get_attribute('id')}, state {player_state(player)})"
        ) from None


def check_player(player, *, play_timeout=15_000):
    """Drive one player through next, previous, slider, play and reset; assert each works.

    Parameters
    ----------
    player : playwright.sync_api.Locator
        The player's root ``div.algos-player``, on a loaded page.
    play_timeout : float
        Milliseconds to wait for "Play" to advance two frames.

    Returns
    -------
    dict
        ``frames`` (number of frames), ``srcs`` (set of distinct picture sources seen) and
        ``states`` (the :func:`player_state` after each action), for further checks.

    Raises
    ------
    AssertionError
        With a message saying which control did not work.
    """
    wait_until_ready(player)
    check_text_size(player)
    for name in BUTTON_NAMES:
        assert button(player, name).count() == 1, f"player has no single button named {name!r}"
    slider = player.get_by_role("slider")
    assert slider.count() == 1, "player has no slider (input type=range)"

    start = player_state(player)
    n_frames = int(start["slider_max"]) + 1
    assert n_frames >= 2, f"a player needs at least 2 frames, this one has {n_frames}"
    assert start["frame"] == "0" and start["natural_width"] > 0, f"bad first frame: {start}"
    assert start["alt"].strip() and start["curve_alt"].strip(), "the first frame has no alt text"
    assert start["play_label"] == "Play" and start["playing"] == "false", start
    states = {"start": start}

    # "Next step" shows another picture, caption and alt text
    button(player, "Next step").click()
    _wait_for_src_change(player, start["src"], "Next step")
    after_next = player_state(player)
    states["next"] = after_next
    assert after_next["frame"] == "1" and after_next["slider"] == "1", after_next
    assert after_next["natural_width"] > 0, "the second frame's picture does not decode"
    assert after_next["caption"] != start["caption"], "the caption did not change on Next step"
    assert after_next["alt"] != start["alt"], "the alt text did not change on Next step"
    assert after_next["curve_src"] != start["curve_src"], "the objective did not change"

    # "Previous step" goes back to the very same picture
    button(player, "Previous step").click()
    _wait_for_src_change(player, after_next["src"], "Previous step")
    back = player_state(player)
    states["previous"] = back
    assert back["frame"] == "0" and back["src"] == start["src"], back

    # the slider, moved with the keyboard as a reader would, changes the picture
    slider.focus()
    player.page.keyboard.press("End")
    _wait_for_src_change(player, start["src"], "The slider (End key)")
    at_end = player_state(player)
    states["slider_end"] = at_end
    assert at_end["frame"] == str(n_frames - 1) and at_end["slider"] == str(n_frames - 1), at_end
    assert at_end["natural_width"] > 0
    player.page.keyboard.press("Home")
    _wait_for_src_change(player, at_end["src"], "The slider (Home key)")
    assert player_state(player)["frame"] == "0"

    # "Play" animates: frames advance by themselves; the button then reads "Pause", and
    # pressing it stops
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    button(player, "Play").click()
    try:
        player.page.wait_for_function(
            "([el, target]) => parseInt(el.getAttribute('data-frame'), 10) >= target",
            arg=[player.element_handle(), min(2, n_frames - 1)],
            timeout=play_timeout,
        )
    except PlaywrightTimeout:
        raise AssertionError(f"Play did not advance the frames: {player_state(player)}") from None
    playing = player_state(player)
    states["playing"] = playing
    if n_frames > 3:
        assert playing["playing"] == "true", "the player does not say it is playing"
        assert playing["play_label"] == "Pause", "the Play button does not read Pause while playing"
        assert button(player, "Play").count() == 0
        button(player, "Pause").click()
        stopped = player_state(player)
        assert stopped["play_label"] == "Play" and stopped["playing"] == "false", stopped
        player.page.wait_for_timeout(1_200)
        assert player_state(player)["frame"] == stopped["frame"], "pressing Pause did not pause"

    # "Reset" returns to the start
    button(player, "Reset").click()
    reset = player_state(player)
    states["reset"] = reset
    assert reset["frame"] == "0" and reset["src"] == start["src"] and reset["playing"] == "false"
    assert reset["play_label"] == "Play"

    srcs = {s["src"] for s in states.values()}
    return {"frames": n_frames, "srcs": srcs, "states": states}


def check_every_player(page, *, expect_at_least=1):
    """Run :func:`check_player` on every player of a loaded page.

    Parameters
    ----------
    page : playwright.sync_api.Page
    expect_at_least : int
        Fail if the page holds fewer players than this.

    Returns
    -------
    list of dict
        One :func:`check_player` result per player, in page order.
    """
    players = page.locator(PLAYER_SELECTOR)
    count = players.count()
    assert count >= expect_at_least, (
        f"{page.url}: expected at least {expect_at_least} step-through player(s), found {count}"
    )
    ids = [players.nth(i).get_attribute("id") for i in range(count)]
    assert len(set(ids)) == count, f"players share element ids: {ids}"
    results = []
    for i in range(count):
        player = players.nth(i)
        player.scroll_into_view_if_needed()
        others_before = [player_state(players.nth(j))["frame"] for j in range(count) if j != i]
        results.append(check_player(player))
        others_after = [player_state(players.nth(j))["frame"] for j in range(count) if j != i]
        assert others_before == others_after, "driving one player moved another one"
    return results
