(function () {
  // Kernel-free step-through player: swaps pre-rendered frames. __ID__ is replaced per player,
  // so several players on one page never share state.
  var root = document.getElementById("__ID__");
  if (!root || root.getAttribute("data-ready") === "1") { return; }
  root.setAttribute("data-ready", "1");
  var frames = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  var state = root.querySelector("img.algos-player-state");
  var curve = root.querySelector("img.algos-player-curve");
  var caption = root.querySelector("figcaption");
  var texts = {
    next: root.querySelector(".algos-player-next"),
    objective: root.querySelector(".algos-player-objective"),
    detail: root.querySelector(".algos-player-detail")
  };
  var slider = root.querySelector("input[type='range']");
  var position = root.querySelector("output");
  var buttons = {};
  Array.prototype.forEach.call(root.querySelectorAll("button[data-act]"), function (b) {
    buttons[b.getAttribute("data-act")] = b;
  });
  // frame 0's pictures are only in the <img>s (they show without JavaScript); keep them here
  frames[0].src_state = frames[0].src_state || state.getAttribute("src");
  frames[0].src_objective = frames[0].src_objective || curve.getAttribute("src");
  var current = 0;
  var timer = null;
  var last = frames.length - 1;

  function show(i) {
    i = Math.max(0, Math.min(last, i));
    current = i;
    var f = frames[i];
    state.src = f.src_state;
    state.alt = f.alt;
    curve.src = f.src_objective;
    curve.alt = f.objective_alt;
    caption.textContent = f.title;
    texts.next.textContent = f.next;
    texts.objective.textContent = f.objective;
    texts.detail.textContent = f.detail;
    position.textContent = f.position;
    slider.value = String(i);
    slider.setAttribute("aria-valuetext", f.position + ": " + f.title);
    root.setAttribute("data-frame", String(i));
    buttons.prev.disabled = i === 0;
    buttons.next.disabled = i === last;
  }

  // "Play" reads "Pause" while playing: the button's name says what pressing it does
  function stop() {
    if (timer !== null) { window.clearInterval(timer); timer = null; }
    buttons.play.textContent = "Play";
    buttons.play.title = "Play the half-steps one after another";
    root.setAttribute("data-playing", "false");
  }

  function play() {
    if (current === last) { show(0); }
    buttons.play.textContent = "Pause";
    buttons.play.title = "Stop at this half-step";
    root.setAttribute("data-playing", "true");
    timer = window.setInterval(function () {
      if (current >= last) { stop(); return; }
      show(current + 1);
    }, __INTERVAL__);
  }

  buttons.prev.addEventListener("click", function () { stop(); show(current - 1); });
  buttons.next.addEventListener("click", function () { stop(); show(current + 1); });
  buttons.reset.addEventListener("click", function () { stop(); show(0); });
  buttons.play.addEventListener("click", function () {
    if (timer !== null) { stop(); } else { play(); }
  });
  slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10)); });
  root.addEventListener("keydown", function (e) {
    if (e.target === slider) { return; }  // the slider handles its own arrow keys
    if (e.key === "ArrowRight") { stop(); show(current + 1); e.preventDefault(); }
    if (e.key === "ArrowLeft") { stop(); show(current - 1); e.preventDefault(); }
  });
  stop();
  show(0);
})();
