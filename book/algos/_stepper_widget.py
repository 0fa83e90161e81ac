"""The live ipywidgets view of a :class:`algos.stepper.StepThrough` (private).

Kept apart from :mod:`algos.stepper` so that the website player and the figures do not need
ipywidgets, and so the widget wiring reads on its own: the two pictures are ``widgets.Image``
whose PNG bytes are replaced in place (no flicker, no figure objects in the notebook). Rows wrap
(``flex_flow="row wrap"``) and widths are in em, so in a narrow notebook (JupyterLab's default
layout on a 1024 x 768 projector) the controls move to a second line instead of being cut to
"Previous ..."; the pictures stack under the controls.

"Play" is driven by the kernel: a task on the kernel's event loop moves the slider one half-step
every ``play_interval_ms`` and waits for each picture before the next. Every change of the
half-step (Play, the buttons, the slider, a refit) is then made in one place, in the order the
kernel handles it. As in the website's player, everything the reader does except "Play" itself
stops playing at once ("Pause", "Reset", "Next step", "Previous step", moving the slider, any
refit control): no tick can still be on its way. (A browser-side ``ipywidgets.Play`` kept
ticking until the kernel's "stop" reached it, and the half-steps it had already sent moved the
slider after a "Reset".)
"""

from __future__ import annotations

import asyncio
from html import escape

import ipywidgets as widgets

_EXPLICIT = "explicit"
_INIT_LABELS = {
    "k-means++": "k-means++",
    "random": "random",
    "kmeans": "k-means result",
    _EXPLICIT: "given start",
}


class _ReaderSlider(widgets.IntSlider):
    """An ``IntSlider`` that calls ``on_reader_move()`` each time the reader moves it.

    ``set_state`` receives the browser's updates only (the kernel's own changes do not pass
    here), and it is called even when the reader lets go on the half-step the slider already has:
    Play may have just moved it there, and the reader still means "stop here".
    """

    on_reader_move = None

    def set_state(self, sync_data):
        if "value" in sync_data and self.on_reader_move is not None:
            self.on_reader_move()
        super().set_state(sync_data)


class _Controls:
    """Holds the widgets and keeps them in step with the StepThrough."""

    def __init__(self, player):
        self.player = player
        self._busy = False  # set while we change widget values ourselves
        self._playing = None  # the asyncio.Task that plays, while it plays
        n = len(player)

        def button(description, tooltip):
            # never narrower than its label: the row wraps instead of cutting "Previous step"
            return widgets.Button(description=description, tooltip=tooltip,
                                  layout=widgets.Layout(width="auto", flex="0 0 auto"))

        self.prev = button("Previous step", "Go back one half-step")
        self.next = button("Next step", "Go forward one half-step")
        self.reset = button("Reset", "Back to the start")
        # reads "Pause" while playing: the button says what pressing it does
        self.play_toggle = widgets.ToggleButton(description="Play", value=False,
                                                tooltip="Play the half-steps one after another",
                                                layout=widgets.Layout(width="auto",
                                                                      flex="0 0 auto"))
        # numbered from 1 like the caption ("Half-step 2 of 21"); the frame index is value - 1
        self.slider = _ReaderSlider(value=1, min=1, max=n, step=1,
                                    description="Half-step", continuous_update=False,
                                    readout=True, style={"description_width": "initial"},
                                    layout=widgets.Layout(flex="1 1 18em", min_width="14em",
                                                          max_width="32em", width="auto"))
        self.slider.on_reader_move = self._stop_playing
        self.play_toggle.observe(self._on_play_toggle, names="value")

        # HTML, not Label: a long sentence wraps instead of ending in "..."
        self.title = widgets.HTML()
        self.next_text = widgets.HTML()
        self.objective = widgets.HTML()
        self.detail = widgets.HTML()
        picture = widgets.Layout(max_width="100%", height="auto", flex="0 1 auto")
        self.image = widgets.Image(format="png", layout=picture)
        self.curve = widgets.Image(format="png", layout=picture)
        self.status = widgets.HTML()

        # refit controls
        def control(kind, width, **kwargs):
            # widths in em: they grow with the font; the label takes what it needs
            return kind(style={"description_width": "initial"},
                        layout=widgets.Layout(width=width, flex="0 0 auto"), **kwargs)

        self.k = control(widgets.BoundedIntText, "7em", value=int(player.fit_kwargs.get("k", 2)),
                         min=1, max=max(1, min(len(player.data), 12)), description="k")
        self.init = control(widgets.Dropdown, "14em", description="init")
        seed = player.fit_kwargs.get("seed")
        self.seed = control(widgets.IntText, "9em", value=seed if isinstance(seed, int) else 0,
                            description="seed")
        refit_row = [self.k, self.init, self.seed]
        self.metric = None
        if player.method not in ("gmm1d", "gmm"):
            self.metric = control(widgets.Dropdown, "9em", options=["l2", "l1"],
                                  value=player.metric, description="metric")
            refit_row.append(self.metric)
        self.covariance_type = None
        if player.method == "gmm":  # d-dimensional mixtures: the form of the covariances
            self.covariance_type = control(
                widgets.Dropdown, "14em", options=["full", "diag", "spherical", "tied"],
                value=player.fit_kwargs.get("covariance_type", "full"),
                description="covariance")
            refit_row.append(self.covariance_type)
        self.dataset = None
        if player._datasets:
            self.dataset = control(widgets.Dropdown, "20em", description="dataset")
            refit_row.append(self.dataset)
        self._sync_refit_controls()

        self.prev.on_click(lambda _: self.go(self.index - 1))
        self.next.on_click(lambda _: self.go(self.index + 1))
        self.reset.on_click(lambda _: self.go(0))
        self.slider.observe(lambda change: self.show(change["new"] - 1), names="value")
        for w in refit_row:
            w.observe(self._on_refit_control, names="value")

        wrap = widgets.Layout(flex_flow="row wrap", align_items="center", width="100%")
        self.box = widgets.VBox([
            # the controls first: when the notebook is narrow (JupyterLab with its file
            # browser on a 1024 x 768 projector) the pictures stack, and the buttons stay in
            # view with the first picture
            widgets.HBox([self.prev, self.next, self.play_toggle, self.reset, self.slider],
                         layout=wrap),
            self.title,
            # the two pictures side by side, one under the other when the notebook is narrow
            widgets.HBox([self.image, self.curve], layout=wrap),
            self.next_text,
            self.objective,
            self.detail,
            widgets.HTML("<b>Re-run the fit</b> (changes restart from the first half-step):"),
            widgets.HBox(refit_row, layout=wrap),
            self.status,
        ], layout=widgets.Layout(width="100%", max_width="100%"))
        self.show(0)

    # -------------------------------------------------------------- stepping

    @property
    def index(self):
        """The half-step shown (0-based index into the history)."""
        return self.slider.value - 1

    def go(self, i):
        self._stop_playing()
        i = max(0, min(len(self.player) - 1, int(i)))
        if i == self.index:
            self.show(i)
        else:
            self.slider.value = i + 1  # the observer redraws

    def show(self, i):
        p = self.player
        i = max(0, min(len(p) - 1, int(i)))
        texts = p.frame_texts(i)
        self.image.value = p.png(i, panel="state")
        self.curve.value = p.png(i, panel="objective")
        self.title.value = f"<b>{escape(texts['position'])}: {escape(texts['title'])}</b>"
        self.next_text.value = escape(texts["next"])
        self.objective.value = escape(texts["objective"])
        self.detail.value = escape(texts["detail"])
        self.prev.disabled = i == 0
        self.next.disabled = i == len(p) - 1

    # -------------------------------------------------------------- playing

    def _stop_playing(self):
        """Every change the reader makes, except "Play" itself, stops playing first."""
        self.play_toggle.value = False  # its observer cancels the playing task

    def _on_play_toggle(self, change):
        playing = bool(change["new"])
        self.play_toggle.description = "Pause" if playing else "Play"
        self.play_toggle.tooltip = ("Stop at this half-step" if playing
                                    else "Play the half-steps one after another")
        task, self._playing = self._playing, None
        if task is not None:
            task.cancel()  # it is waiting between two half-steps: it shows none after this
        if playing:
            try:
                loop = asyncio.get_running_loop()  # the kernel's, while it handles the click
            except RuntimeError:
                return  # no event loop (a script, not a kernel): no frontend to play to
            self._playing = loop.create_task(self._play())

    async def _play(self):
        """Show the next half-step every ``play_interval_ms`` until the last, then stop.

        Pressed at the last half-step, it starts again from the first, as the website's player
        does. Runs on the kernel's event loop, between the messages the kernel handles.
        """
        try:
            if self.index == len(self.player) - 1:
                self.slider.value = 1
            while self.index < len(self.player) - 1:
                await asyncio.sleep(self.player.play_interval_ms / 1000)
                self.slider.value += 1  # the observer redraws before the next wait
        finally:
            if self._playing is asyncio.current_task():  # not stopped by a button
                self._playing = None
                self.play_toggle.value = False  # reads "Play" again

    # -------------------------------------------------------------- refitting

    def _sync_refit_controls(self):
        p = self.player
        self._busy = True
        try:
            choices = p.init_choices()
            self.init.options = [(_INIT_LABELS.get(c, c), c) for c in choices]
            init = p.fit_kwargs.get("init", choices[0])
            self.init.value = init if isinstance(init, str) and init in choices else (
                _EXPLICIT if _EXPLICIT in choices and not isinstance(init, str) else choices[0])
            self.k.value = int(p.fit_kwargs.get("k", self.k.value))
            if self.metric is not None:
                self.metric.value = p.metric
            if self.covariance_type is not None:
                self.covariance_type.value = p.fit_kwargs.get("covariance_type", "full")
            if self.dataset is not None:
                self.dataset.options = p.dataset_names()
                self.dataset.value = p.current_dataset()
        finally:
            self._busy = False

    def _on_refit_control(self, change):
        if self._busy:
            return
        self._stop_playing()  # also when the fit below fails and the history stays
        p = self.player
        original_data, original_init, original_k = p._original
        init = self.init.value
        k = int(self.k.value)
        dataset = self.dataset.value if self.dataset is not None else None
        if change["owner"] is self.init and init == _EXPLICIT:
            # the given start only fits the given data and its k
            k = int(original_k)
            dataset = p.dataset_names()[0] if dataset is not None else None
            for name in p.dataset_names():
                if p._datasets.get(name) is original_data:
                    dataset = name
        elif init == _EXPLICIT and (k != original_k or change["owner"] is self.dataset):
            init = p.init_choices()[0]  # a new k or data set needs a generated start
        changes = {"k": k, "seed": int(self.seed.value),
                   "init": original_init if init == _EXPLICIT else init}
        if self.metric is not None:
            changes["metric"] = self.metric.value
        if self.covariance_type is not None:
            changes["covariance_type"] = self.covariance_type.value
        if dataset is not None:
            changes["dataset"] = dataset
        try:
            p.refit(**changes)
        except (ValueError, TypeError) as err:
            self.status.value = escape(f"Could not re-run the fit: {err}")
            self._sync_refit_controls()
            return
        self.status.value = ""

    def refresh(self):
        """Called by StepThrough.refit: a new history, shown from its first half-step."""
        n = len(self.player)
        self._sync_refit_controls()
        self._stop_playing()
        self.slider.max = n
        if self.slider.value == 1:
            self.show(0)
        else:
            self.slider.value = 1


def build_widget(player):
    """Return ``(box, controls)``: the VBox to display and the object that drives it."""
    controls = _Controls(player)
    return controls.box, controls
