(function () {
  // Kernel-free step-through player: swaps pre-rendered frames. __ID__ is replaced per player,
  // so several players on one page never share state.
  var root = document.getElementById("__ID__");
  if (!root || root.getAttribute("data-ready") === "1") { return; }
  root.setAttribute("data-ready", "1");
  var frames = JSON.parse(root.querySelector("script[type='application/json']").textContent);
  var img = root.querySelector("img");
  var caption = root.querySelector("figcaption");
  var nextText = root.querySelector(".algos-player-next");
  var objective = root.querySelector(".algos-player-objective");
  var slider = root.querySelector("input[type='range']");
  var position = root.querySelector("output");
  var buttons = {};
  Array.prototype.forEach.call(root.querySelectorAll("button[data-act]"), function (b) {
    buttons[b.getAttribute("data-act")] = b;
  });
  // frame 0's picture is only in the <img> (it shows without JavaScript); keep it here
  frames[0].src = frames[0].src || img.getAttribute("src");
  var current = 0;
  var timer = null;
  var last = frames.length - 1;

  function show(i) {
    i = Math.max(0, Math.min(last, i));
    current = i;
    var f = frames[i];
    img.src = f.src;
    img.alt = f.alt;
    caption.textContent = f.title;
    nextText.textContent = f.next;
    objective.textContent = f.objective;
    position.textContent = f.position;
    slider.value = String(i);
    slider.setAttribute("aria-valuetext", f.position + ": " + f.title);
    root.setAttribute("data-frame", String(i));
    buttons.prev.disabled = i === 0;
    buttons.next.disabled = i === last;
  }

  function stop() {
    if (timer !== null) { window.clearInterval(timer); timer = null; }
    buttons.play.setAttribute("aria-pressed", "false");
  }

  function play() {
    if (current === last) { show(0); }
    buttons.play.setAttribute("aria-pressed", "true");
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
  show(0);
})();
