/* Live explorer: K-means, K-medoids, 1-D and 2-D Gaussian-mixture EM, in the reader's browser.
 *
 * The book's chapters embed their data sets in a <div class="algos-explorer"> (made by
 * book/algos/explorer.py); this script, served once per page by book/_ext/algos_explorer.py,
 * turns each such div into an explorer. It needs nothing but the page: no network, no kernel.
 *
 * Part 1 ports the half-steps of book/algos/kmeans.py, kmedoids.py, gmm1d.py and gmm.py,
 * operation by operation, so the browser gives the same labels, medoids, parameters and
 * objectives as `algos.fit` (tests/test_explorer_parity.py compares them in Chromium):
 *   - ties go to the lowest index, distances are summed coordinate by coordinate, and every
 *     total is added up in numpy's order (pairwise summation), so sums agree to the last bit;
 *   - K-means keeps an empty cluster's centre; K-medoids uses the same candidate rules, costs
 *     and tie tolerance; EM uses the same log-sum-exp, variance floor (1-D), Cholesky-factor
 *     densities and reg_covar (2-D), dead-component rule and stopping rule.
 *   window.algosExplorer.run(spec) runs one fit and returns its history as plain arrays.
 * Part 2 draws a half-step in the book's picture language (algos/plotting.py) on a <canvas>.
 * Part 3 is the explorer itself: controls, buttons, text and pointer/keyboard input.
 *
 * Code: BSD-3-Clause (see the LICENSE file of the book's repository).
 */
(function () {
  "use strict";

  // ===========================================================================================
  // Part 1. The algorithms
  // ===========================================================================================

  var BLOCK = 32768; // algos._distances.BLOCK: EM works on blocks of this many points
  var TIE_RTOL = 1e-12; // algos._distances.TIE_RTOL: medoid costs this close count as tied
  var MAX_ABS = 1e100; // algos._validation.MAX_ABS
  var MIN_SIGMA_FACTOR = 1e-6; // algos.gmm1d.MIN_SIGMA_FACTOR
  var MAD_TO_SD = 1.482602218505602; // algos.gmm1d.MAD_TO_SD: 1 / Phi^-1(3/4)
  var HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
  var METHODS = ["kmeans", "kmedoids", "gmm1d", "gmm"];
  var METRICS = ["l2", "l1"];
  var MEDOIDS_FROM = ["cluster", "all"];
  var DEFAULT_MAX_ITER = { kmeans: 300, kmedoids: 300, gmm1d: 100, gmm: 100 };
  var DEFAULT_TOL = { kmeans: 0, gmm1d: 1e-8, gmm: 1e-8 };

  function ValueError(message) {
    var error = new Error(message);
    error.name = "ValueError";
    return error;
  }

  // ------------------------------------------------------------------ sums as numpy adds them

  // numpy's a.sum() starts from 0 and adds the values by pairwise summation: up to 8 values
  // one by one; up to 128 values in 8 interleaved partial sums; longer runs split in two
  // halves (the first a multiple of 8 long). Adding in the same order gives the same bits.
  function pairwiseSum(a, lo, n) {
    var i, res;
    if (n < 8) {
      res = 0;
      for (i = 0; i < n; i++) { res += a[lo + i]; }
      return res;
    }
    if (n <= 128) {
      var r0 = a[lo], r1 = a[lo + 1], r2 = a[lo + 2], r3 = a[lo + 3];
      var r4 = a[lo + 4], r5 = a[lo + 5], r6 = a[lo + 6], r7 = a[lo + 7];
      for (i = 8; i < n - (n % 8); i += 8) {
        r0 += a[lo + i]; r1 += a[lo + i + 1]; r2 += a[lo + i + 2]; r3 += a[lo + i + 3];
        r4 += a[lo + i + 4]; r5 += a[lo + i + 5]; r6 += a[lo + i + 6]; r7 += a[lo + i + 7];
      }
      res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
      for (; i < n; i++) { res += a[lo + i]; }
      return res;
    }
    var half = Math.floor(n / 2);
    half -= half % 8;
    return pairwiseSum(a, lo, half) + pairwiseSum(a, lo + half, n - half);
  }

  function numpySum(a, lo, n) {
    lo = lo || 0;
    return 0 + pairwiseSum(a, lo, n === undefined ? a.length - lo : n);
  }

  // ------------------------------------------------------------------ input checks

  function checkFinite(v, name) {
    if (typeof v !== "number") { throw new TypeError(name + " must contain numbers only"); }
    if (!isFinite(v)) { throw ValueError(name + " contains NaN or inf"); }
    if (Math.abs(v) > MAX_ABS) {
      throw ValueError(name + " has values beyond +-1e+100: squared distances would overflow");
    }
    return v;
  }

  // An (n, d) array of rows as one row-major Float64Array.
  function readPoints(rows, name) {
    if (!Array.isArray(rows)) { throw new TypeError(name + " must be an array of rows"); }
    if (rows.length === 0) { throw ValueError(name + " is empty"); }
    if (!Array.isArray(rows[0])) {
      throw ValueError(name + " must be 2-D with shape (n_samples, n_features), got a 1-D array");
    }
    var n = rows.length, d = rows[0].length;
    if (d === 0) { throw ValueError(name + " is empty (no columns)"); }
    var X = new Float64Array(n * d);
    for (var i = 0; i < n; i++) {
      if (!Array.isArray(rows[i]) || rows[i].length !== d) {
        throw ValueError(name + " must be rectangular: row " + i + " does not have " + d + " values");
      }
      for (var c = 0; c < d; c++) { X[i * d + c] = checkFinite(rows[i][c], name); }
    }
    return { X: X, n: n, d: d };
  }

  // 1-D data: numbers, or rows of one number (shape (n, 1)).
  function readValues(values, name) {
    if (!Array.isArray(values)) { throw new TypeError(name + " must be an array of numbers"); }
    if (values.length === 0) { throw ValueError(name + " is empty"); }
    var x = new Float64Array(values.length);
    for (var i = 0; i < values.length; i++) {
      var v = values[i];
      if (Array.isArray(v)) {
        if (v.length !== 1) { throw ValueError(name + " must be 1-D with shape (n,)"); }
        v = v[0];
      }
      x[i] = checkFinite(v, name);
    }
    return x;
  }

  function checkInt(value, name, minimum, maximum) {
    if (typeof value !== "number" || !Number.isInteger(value)) {
      throw new TypeError(name + " must be an integer, got " + JSON.stringify(value));
    }
    if (minimum !== undefined && value < minimum) {
      throw ValueError(name + " must be >= " + minimum + ", got " + value);
    }
    if (maximum !== undefined && value > maximum) {
      throw ValueError(name + " must be <= " + maximum + ", got " + value);
    }
    return value;
  }

  function checkK(k, n) {
    if (typeof k !== "number" || !Number.isInteger(k)) {
      throw new TypeError("k must be an integer, got " + JSON.stringify(k));
    }
    if (k < 1) { throw ValueError("k must be at least 1, got " + k); }
    if (k > n) { throw ValueError("k must be at most the number of points (" + n + "), got " + k); }
    return k;
  }

  function checkChoice(value, name, choices) {
    if (choices.indexOf(value) < 0) {
      throw ValueError(name + " must be one of " + choices.join(", ") + ", got " + JSON.stringify(value));
    }
    return value;
  }

  function checkTol(tol) {
    if (typeof tol !== "number" || !isFinite(tol) || tol < 0) {
      throw ValueError("tol must be finite and >= 0, got " + JSON.stringify(tol));
    }
    return tol;
  }

  function sameInts(a, b) {
    if (a.length !== b.length) { return false; }
    for (var i = 0; i < a.length; i++) { if (a[i] !== b[i]) { return false; } }
    return true;
  }

  // ------------------------------------------------------------------ random starts

  // The browser's seeded generator (mulberry32). numpy's default_rng draws other numbers, so a
  // seed here gives a different start than the same seed in Python; explicit starts agree.
  function makeRng(seed) {
    var a = checkInt(seed, "seed", 0, 4294967295) >>> 0;
    return function () {
      a = (a + 0x6D2B79F5) >>> 0;
      var t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function randomInt(rng, n) { return Math.min(n - 1, Math.floor(rng() * n)); }

  // Rows of k starting points, as algos.kmeans._init_indices chooses them, at k distinct
  // positions whenever X has k of them. "random" draws k distinct rows, then replaces each pick
  // whose position repeats an earlier one by a row drawn from the positions not taken yet;
  // "k-means++" draws the first row uniformly and each next one with probability proportional
  // to its squared distance (in the metric) to the nearest row chosen so far (a row at a chosen
  // position weighs 0), or uniformly among the untaken positions when every weight is 0. When
  // the positions run out, K-medoids (distinct = true) refuses; K-means and EM take further rows.
  function startIndices(X, n, d, k, method, rng, metric, distinct) {
    var chosen = [], i, j;
    var free = new Uint8Array(n).fill(1); // rows at positions no pick has taken
    function take(row) {
      for (var r = 0; r < n; r++) { if (free[r] && samePosition(X, r, row, d)) { free[r] = 0; } }
    }
    function freeRows() {
      var out = [];
      for (var r = 0; r < n; r++) { if (free[r]) { out.push(r); } }
      return out;
    }
    if (method === "random") {
      chosen = distinctRows(rng, n, k);
      for (j = 0; j < k; j++) {
        if (!free[chosen[j]]) { // its position repeats an earlier pick: draw another one
          var rows = freeRows();
          if (rows.length) {
            chosen[j] = rows[randomInt(rng, rows.length)];
          } else if (distinct) {
            throw tooFewDistinct(X, n, d, k);
          } else if (chosen.slice(0, j).indexOf(chosen[j]) >= 0) {
            var unused = [];
            for (i = 0; i < n; i++) { if (chosen.slice(0, j).indexOf(i) < 0) { unused.push(i); } }
            chosen[j] = unused[randomInt(rng, unused.length)];
          }
        }
        take(chosen[j]);
      }
      return chosen;
    }
    var taken = new Uint8Array(n), weight = new Float64Array(n), cum = new Float64Array(n);
    chosen.push(randomInt(rng, n));
    taken[chosen[0]] = 1;
    take(chosen[0]);
    for (i = 0; i < n; i++) { weight[i] = squaredDistance(X, i, X, chosen[0], d, metric); }
    for (var c = 1; c < k; c++) {
      var total = 0, lastPositive = -1, idx;
      for (i = 0; i < n; i++) {
        total += weight[i];
        cum[i] = total;
        if (weight[i] > 0) { lastPositive = i; }
      }
      if (total > 0) {
        var u = rng() * total;
        idx = 0;
        while (idx < n && cum[idx] <= u) { idx++; } // first cumulative weight above u
        idx = Math.min(idx, lastPositive);
      } else { // every weight is 0: a row at a position not chosen yet, if there is one
        var candidates = freeRows();
        if (!candidates.length) {
          if (distinct) { throw tooFewDistinct(X, n, d, k); }
          for (i = 0; i < n; i++) { if (!taken[i]) { candidates.push(i); } }
        }
        idx = candidates[randomInt(rng, candidates.length)];
      }
      chosen.push(idx);
      taken[idx] = 1;
      take(idx);
      for (i = 0; i < n; i++) {
        weight[i] = Math.min(weight[i], squaredDistance(X, i, X, idx, d, metric));
      }
    }
    return chosen;
  }

  // k distinct rows of n, drawn uniformly (a partial Fisher-Yates shuffle): numpy's
  // rng.choice(n, size=k, replace=False), with the browser's generator.
  function distinctRows(rng, n, k) {
    var order = new Int32Array(n), chosen = [], i, j;
    for (i = 0; i < n; i++) { order[i] = i; }
    for (j = 0; j < k; j++) {
      var swap = j + randomInt(rng, n - j), tmp = order[j];
      order[j] = order[swap]; order[swap] = tmp;
      chosen.push(order[j]);
    }
    return chosen;
  }

  function samePosition(X, i, j, d) {
    for (var c = 0; c < d; c++) { if (X[i * d + c] !== X[j * d + c]) { return false; } }
    return true;
  }

  function distinctPositions(X, n, d) {
    var seen = {}, count = 0;
    for (var i = 0; i < n; i++) {
      var key = Array.prototype.join.call(X.subarray(i * d, (i + 1) * d), ",");
      if (!seen[key]) { seen[key] = true; count++; }
    }
    return count;
  }

  function tooFewDistinct(X, n, d, k) {
    return ValueError("k=" + k + " exceeds the number of distinct points in X (" +
      distinctPositions(X, n, d) + "): medoids must be k distinct points, since medoids at " +
      "the same position would share their points and leave a cluster empty");
  }

  function squaredDistance(X, i, C, j, d, metric) {
    var dist = pointDistance(X, i, C, j, d, metric);
    return metric === "l2" ? dist : dist * dist;
  }

  function rowsOf(X, d, indices) {
    var out = new Float64Array(indices.length * d);
    for (var j = 0; j < indices.length; j++) {
      for (var c = 0; c < d; c++) { out[j * d + c] = X[indices[j] * d + c]; }
    }
    return out;
  }

  // ------------------------------------------------------------------ K-means

  // Squared l2 (or l1) distance between row i of X and row j of C, one coordinate at a time,
  // as algos._distances computes it (never through |x|^2 - 2 x.c + |c|^2).
  function pointDistance(X, i, C, j, d, metric) {
    var s = 0, t, a = i * d, b = j * d;
    for (var c = 0; c < d; c++) {
      t = X[a + c] - C[b + c];
      s += metric === "l2" ? t * t : Math.abs(t);
    }
    return s;
  }

  // E-step: the nearest centre of every point. A centre replaces the best one so far only if
  // it is strictly closer, so ties go to the lowest index (as np.argmin).
  function nearestCenter(X, n, d, C, k, metric) {
    var labels = new Int32Array(n), best = new Float64Array(n);
    for (var i = 0; i < n; i++) {
      var bi = pointDistance(X, i, C, 0, d, metric), li = 0;
      for (var j = 1; j < k; j++) {
        var dj = pointDistance(X, i, C, j, d, metric);
        if (dj < bi) { bi = dj; li = j; }
      }
      labels[i] = li;
      best[i] = bi;
    }
    return { labels: labels, best: best };
  }

  function distanceToAssigned(X, n, d, C, labels, metric) {
    var out = new Float64Array(n);
    for (var i = 0; i < n; i++) { out[i] = pointDistance(X, i, C, labels[i], d, metric); }
    return out;
  }

  function clusterCounts(labels, k) {
    var counts = new Int32Array(k);
    for (var i = 0; i < labels.length; i++) { counts[labels[i]] += 1; }
    return counts;
  }

  function emptyClusters(counts) {
    var empty = [];
    for (var j = 0; j < counts.length; j++) { if (counts[j] === 0) { empty.push(j); } }
    return empty;
  }

  // M-step: every centre moves to the mean of its points (sums in row order, as np.bincount).
  // The empty-cluster policy of algos.kmeans: a cluster without points keeps its centre.
  function meanUpdate(X, n, d, labels, k, previous, counts) {
    var sums = new Float64Array(k * d), centers = new Float64Array(k * d), i, j, c;
    for (i = 0; i < n; i++) {
      for (c = 0; c < d; c++) { sums[labels[i] * d + c] += X[i * d + c]; }
    }
    for (j = 0; j < k; j++) {
      for (c = 0; c < d; c++) {
        centers[j * d + c] = counts[j] > 0 ? sums[j * d + c] / counts[j] : previous[j * d + c];
      }
    }
    return centers;
  }

  // The objective of a K-means half-step: computed afresh from its labels and centres, the sum
  // of squared l2 (or of l1) distances to the assigned centre.
  function kmeansObjective(distances) { return numpySum(distances); }

  // What every run keeps: its history (starting with the "init" half-step), the iteration
  // reached, and whether it converged or stopped (max_iter = 0 stops at once).
  function beginRun(run, method, first, maxIter) {
    run.method = method;
    run.history = [first];
    run.iteration = 0;
    run.converged = false;
    run.done = maxIter === 0;
  }

  function KMeansRun(X, n, d, k, centers, metric, maxIter, tol) {
    this.X = X; this.n = n; this.d = d; this.k = k;
    this.metric = metric; this.maxIter = maxIter; this.tol = tol;
    beginRun(this, "kmeans", { kind: "init", iteration: 0, objective: null, labels: null,
                               centers: centers, medoidIndices: null, empty: [] }, maxIter);
    this.previousObjective = null; // objective of the last M-step, for the tol rule
  }

  // The E-step of K-means and K-medoids alike: every point goes to its nearest centre (or
  // medoid); `objective` turns the distances to the chosen centres into the step's objective.
  // An E-step that changes no label ends the run (converged). Returns the cluster sizes.
  function assignStep(run, last, objective) {
    run.iteration += 1;
    var a = nearestCenter(run.X, run.n, run.d, last.centers, run.k, run.metric);
    var counts = clusterCounts(a.labels, run.k);
    run.history.push({ kind: "E", iteration: run.iteration, objective: objective(a.best),
                       labels: a.labels, centers: last.centers, medoidIndices: last.medoidIndices,
                       empty: emptyClusters(counts) });
    if (last.labels !== null && sameInts(a.labels, last.labels)) {
      run.converged = true;
      run.done = true;
    }
    return counts;
  }

  // Compute the next half-step; false when the run has stopped. algos.kmeans.fit's stopping
  // rule: an E-step that changes no label ends the run (converged), and so does an M-step
  // whose objective fell by at least 0 and at most tol times the previous M-step's.
  KMeansRun.prototype.step = function () {
    if (this.done) { return false; }
    var last = this.history[this.history.length - 1];
    var X = this.X, n = this.n, d = this.d, k = this.k;
    if (last.kind !== "E") {
      this.counts = assignStep(this, last, kmeansObjective);
      return true;
    }
    var centers = meanUpdate(X, n, d, last.labels, k, last.centers, this.counts);
    var J = kmeansObjective(distanceToAssigned(X, n, d, centers, last.labels, this.metric));
    this.history.push({ kind: "M", iteration: this.iteration, objective: J, labels: last.labels,
                        centers: centers, medoidIndices: null, empty: last.empty });
    var previous = this.previousObjective;
    if (previous !== null && previous - J >= 0 && previous - J <= this.tol * previous) {
      this.converged = true;
      this.done = true;
    }
    this.previousObjective = J;
    if (this.iteration >= this.maxIter) { this.done = true; }
    return true;
  };

  // ------------------------------------------------------------------ K-medoids

  // sum_i |a - values_i| for every candidate a, from sorted prefix sums, exactly as
  // algos._distances._l1_costs_1d (values shifted by a central value first).
  function l1Costs1d(values, candidates) {
    var m = values.length, v = Float64Array.from(values).sort();
    var shift = v[(m - 1) >> 1], i;
    for (i = 0; i < m; i++) { v[i] -= shift; }
    var S = new Float64Array(m + 1);
    for (i = 0; i < m; i++) { S[i + 1] = S[i] + v[i]; }
    var out = new Float64Array(candidates.length);
    for (var c = 0; c < candidates.length; c++) {
      var a = candidates[c] - shift, lo = 0, hi = m;
      while (lo < hi) { // r = number of values <= a (np.searchsorted side="right")
        var mid = (lo + hi) >> 1;
        if (v[mid] <= a) { lo = mid + 1; } else { hi = mid; }
      }
      var r = lo;
      out[c] = (a * r - S[r]) + ((S[m] - S[r]) - a * (m - r));
    }
    return out;
  }

  // Sum of distances (not squared) from each candidate row to all member rows.
  function medoidCosts(X, d, members, candidates, metric) {
    var m = members.length, costs = new Float64Array(candidates.length), c, i;
    if (metric === "l1") {
      var values = new Float64Array(m), cands = new Float64Array(candidates.length);
      for (c = 0; c < d; c++) {
        for (i = 0; i < m; i++) { values[i] = X[members[i] * d + c]; }
        for (i = 0; i < candidates.length; i++) { cands[i] = X[candidates[i] * d + c]; }
        var part = l1Costs1d(values, cands);
        for (i = 0; i < candidates.length; i++) { costs[i] += part[i]; }
      }
      return costs;
    }
    // l2: each candidate's distances to the members, in member order, added up as numpy does.
    // The members' coordinates are copied into one array per coordinate first; the sum of
    // squares is formed in the same order as pointDistance (candidate minus member), so the
    // costs are the same to the last bit, only faster.
    var coords = [], row = new Float64Array(m), q;
    for (c = 0; c < d; c++) {
      coords.push(new Float64Array(m));
      for (i = 0; i < m; i++) { coords[c][i] = X[members[i] * d + c]; }
    }
    for (q = 0; q < candidates.length; q++) {
      var at = candidates[q] * d;
      if (d === 2) {
        var cx = X[at], cy = X[at + 1], mx = coords[0], my = coords[1];
        for (i = 0; i < m; i++) {
          var t0 = cx - mx[i], t1 = cy - my[i];
          row[i] = Math.sqrt(t0 * t0 + t1 * t1);
        }
      } else {
        for (i = 0; i < m; i++) {
          var sq = 0;
          for (c = 0; c < d; c++) { var t = X[at + c] - coords[c][i]; sq += t * t; }
          row[i] = Math.sqrt(sq);
        }
      }
      costs[q] = numpySum(row);
    }
    return costs;
  }

  // The same l2 costs, computed only for the candidates that can be the cheapest; the others
  // get Infinity (argminTie then chooses exactly as from all the costs). Two exact lower
  // bounds prune: a candidate c costs at least m |c - mean| (the triangle inequality on the
  // sum of the vectors c - x_i), so candidates are taken by that bound, and once it passes the
  // cheapest cost so far every later one is skipped; and a candidate whose running sum of
  // distances passes it is stopped (the members farthest from the mean are added first, so
  // the sum of a poor candidate grows fast; each distance is stored at its member's place,
  // and a finished row is summed in member order as numpy does). PRUNE_RTOL leaves room for
  // rounding in both bounds (the
  // mean is taken relative to the first member, so its error scales with the cluster's spread,
  // not with the coordinates' size); ties count within TIE_RTOL, far below it.
  var PRUNE_RTOL = 1e-6, PRUNE_EVERY = 64;
  function medoidCostsPruned(X, d, members, candidates) {
    var m = members.length, nc = candidates.length, c, i, q, f;
    var costs = new Float64Array(nc).fill(Infinity);
    var mean = new Float64Array(d), ref = members[0] * d;
    for (c = 0; c < d; c++) {
      var acc = 0;
      for (i = 0; i < m; i++) { acc += X[members[i] * d + c] - X[ref + c]; }
      mean[c] = acc / m;
    }
    // the members, farthest from the mean first: their coordinates in that order (one
    // contiguous array, d values a member) and each one's place in member order
    var spread = new Float64Array(m), byFar = new Array(m);
    for (i = 0; i < m; i++) {
      var r2 = 0;
      for (c = 0; c < d; c++) {
        var e = (X[members[i] * d + c] - X[ref + c]) - mean[c];
        r2 += e * e;
      }
      spread[i] = r2;
      byFar[i] = i;
    }
    byFar.sort(function (a, b) { return spread[b] - spread[a] || a - b; });
    var place = Int32Array.from(byFar), P = new Float64Array(m * d);
    for (f = 0; f < m; f++) {
      for (c = 0; c < d; c++) { P[f * d + c] = X[members[place[f]] * d + c]; }
    }
    var bound = new Float64Array(nc), first = 0;
    for (q = 0; q < nc; q++) {
      var at = candidates[q] * d, sq = 0;
      for (c = 0; c < d; c++) { var g = (X[at + c] - X[ref + c]) - mean[c]; sq += g * g; }
      bound[q] = m * Math.sqrt(sq);
      if (bound[q] < bound[first]) { first = q; }
    }
    // the candidate nearest the mean is usually cheap: its cost (the first in the loop below)
    // already rules out every candidate whose bound exceeds it, so only the rest are sorted
    var row = new Float64Array(m), best = rowCost(first, Infinity);
    var order = [];
    for (q = 0; q < nc; q++) {
      if (q !== first && bound[q] <= best * (1 + PRUNE_RTOL)) { order.push(q); }
    }
    order.sort(function (a, b) { return bound[a] - bound[b] || a - b; });
    for (var o = 0; o < order.length; o++) {
      q = order[o];
      if (bound[q] > best * (1 + PRUNE_RTOL)) { break; }
      best = rowCost(q, best);
    }
    return costs;

    // candidate q's cost into costs[q] unless its running sum passes `low` (plus rounding
    // room); returns the smaller of the two
    function rowCost(q, low) {
      var stop = low * (1 + PRUNE_RTOL);
      var base = candidates[q] * d, run = 0, done = 0;
      while (done < m && run <= stop) {
        var end = Math.min(m, done + PRUNE_EVERY), t, t0, t1;
        if (d === 2) {
          var cx = X[base], cy = X[base + 1];
          for (f = done; f < end; f++) {
            t0 = cx - P[2 * f];
            t1 = cy - P[2 * f + 1];
            t = Math.sqrt(t0 * t0 + t1 * t1);
            row[place[f]] = t;
            run += t;
          }
        } else {
          for (f = done; f < end; f++) {
            var s2 = 0;
            for (c = 0; c < d; c++) { t = X[base + c] - P[f * d + c]; s2 += t * t; }
            t = Math.sqrt(s2);
            row[place[f]] = t;
            run += t;
          }
        }
        done = end;
      }
      if (done < m || run > stop) { return low; }
      costs[q] = numpySum(row);
      return Math.min(costs[q], low);
    }
  }

  // The lowest index whose cost is within a relative 1e-12 of the minimum (argmin_tie).
  function argminTie(costs) {
    var low = Infinity, i;
    for (i = 0; i < costs.length; i++) { if (costs[i] < low) { low = costs[i]; } }
    var limit = low + TIE_RTOL * Math.abs(low);
    for (i = 0; i < costs.length; i++) { if (costs[i] <= limit) { return i; } }
    return 0;
  }

  // M-step of K-medoids: each cluster's new medoid is the candidate (its members, or every
  // point) with the least total distance to the members; ties go to the lowest row; an empty
  // cluster keeps its medoid. Medoids stay at distinct positions: clusters are taken in order,
  // and if the cheapest candidate sits where another cluster's medoid is (one already chosen
  // in this step, or a later cluster's current one), every candidate at such a position is
  // skipped (algos.kmedoids._medoid_update).
  function medoidUpdate(X, n, d, labels, k, metric, medoidsFrom, previous) {
    var members = [], everyone = [], j, i, q;
    for (j = 0; j < k; j++) { members.push([]); }
    for (i = 0; i < n; i++) { members[labels[i]].push(i); everyone.push(i); }
    var next = new Int32Array(k);
    for (j = 0; j < k; j++) {
      if (members[j].length === 0) { next[j] = previous[j]; continue; }
      var candidates = medoidsFrom === "cluster" ? members[j] : everyone;
      var costs = metric === "l2" ? medoidCostsPruned(X, d, members[j], candidates)
        : medoidCosts(X, d, members[j], candidates, metric);
      var best = argminTie(costs);
      var others = Array.from(next.subarray(0, j)).concat(Array.from(previous.subarray(j + 1)));
      var atOther = function (row) {
        return others.some(function (o) { return samePosition(X, row, o, d); });
      };
      if (atOther(candidates[best])) {
        // the next cheapest may have been pruned: every cost is needed here
        if (metric === "l2") { costs = medoidCosts(X, d, members[j], candidates, metric); }
        var blocked = 0;
        for (q = 0; q < candidates.length; q++) {
          if (atOther(candidates[q])) { costs[q] = Infinity; blocked++; }
        }
        if (blocked === candidates.length) {
          throw ValueError("every candidate for cluster " + j + "'s medoid sits at another " +
            "cluster's medoid; labels that put equal points in different clusters cannot give " +
            "k distinct medoids");
        }
        best = argminTie(costs);
      }
      next[j] = candidates[best];
    }
    return next;
  }

  function medoidObjective(distances, metric) {
    if (metric === "l2") {
      for (var i = 0; i < distances.length; i++) { distances[i] = Math.sqrt(distances[i]); }
    }
    return numpySum(distances);
  }

  // Explicit starting medoids: k row indices into X at k distinct positions (medoids at one
  // position would tie for every point and leave a cluster empty), as algos.kmedoids checks.
  function checkMedoidStart(indices, n, k, X, d) {
    if (indices.length !== k) {
      throw ValueError("init must hold k=" + k + " row indices, got " + indices.length);
    }
    for (var j = 0; j < k; j++) {
      var r = indices[j];
      if (typeof r !== "number" || !Number.isInteger(r)) {
        throw new TypeError("init must be a 1-D array of integer row indices");
      }
      if (r < 0 || r >= n) {
        throw ValueError("init must index rows of X (0.." + (n - 1) + "), got " + r);
      }
    }
    for (var i = 1; i < k; i++) {
      for (var l = 0; l < i; l++) {
        if (samePosition(X, indices[l], indices[i], d)) {
          var enough = k <= distinctPositions(X, n, d) ? "" : "; k=" + k +
            " exceeds the number of distinct points in X (" + distinctPositions(X, n, d) + ")";
          throw ValueError("init: medoids " + l + " and " + i + " are at the same position: " +
            "they would tie for every point and one cluster would stay empty, so K-medoids " +
            "needs k distinct points" + enough);
        }
      }
    }
    return Int32Array.from(indices);
  }

  // Coordinates of medoids -> the lowest row of X with those coordinates (algos' _rows_of).
  function medoidRowsOf(X, n, d, C, k) {
    var out = [];
    for (var j = 0; j < k; j++) {
      var hit = -1;
      for (var i = 0; i < n && hit < 0; i++) {
        var same = true;
        for (var c = 0; c < d; c++) { if (X[i * d + c] !== C[j * d + c]) { same = false; break; } }
        if (same) { hit = i; }
      }
      if (hit < 0) { throw ValueError("init[" + j + "] is not a row of X; medoids must be data points"); }
      out.push(hit);
    }
    return out;
  }

  function KMedoidsRun(X, n, d, k, indices, metric, medoidsFrom, maxIter) {
    this.X = X; this.n = n; this.d = d; this.k = k;
    this.metric = metric; this.medoidsFrom = medoidsFrom; this.maxIter = maxIter;
    beginRun(this, "kmedoids", { kind: "init", iteration: 0, objective: null, labels: null,
                                 centers: rowsOf(X, d, indices), medoidIndices: indices,
                                 empty: [] }, maxIter);
  }

  // algos.kmedoids.fit's rule: converged when an E-step changes no label or an M-step keeps
  // every medoid.
  KMedoidsRun.prototype.step = function () {
    if (this.done) { return false; }
    var last = this.history[this.history.length - 1];
    var X = this.X, n = this.n, d = this.d, k = this.k;
    if (last.kind !== "E") {
      var metric = this.metric;
      assignStep(this, last, function (best) { return medoidObjective(best, metric); });
      return true;
    }
    var indices = medoidUpdate(X, n, d, last.labels, k, this.metric, this.medoidsFrom,
                               last.medoidIndices);
    var centers = rowsOf(X, d, indices);
    var J = medoidObjective(distanceToAssigned(X, n, d, centers, last.labels, this.metric),
                            this.metric);
    this.history.push({ kind: "M", iteration: this.iteration, objective: J, labels: last.labels,
                        centers: centers, medoidIndices: indices, empty: last.empty });
    if (sameInts(indices, last.medoidIndices)) { this.converged = true; this.done = true; }
    if (this.iteration >= this.maxIter) { this.done = true; }
    return true;
  };

  // ------------------------------------------------------------------ 1-D Gaussian mixtures

  function standardDeviation(x) { // np.std: population standard deviation
    var n = x.length, mean = numpySum(x) / n, sq = new Float64Array(n);
    for (var i = 0; i < n; i++) { var t = x[i] - mean; sq[i] = t * t; }
    return Math.sqrt(numpySum(sq) / n);
  }

  // The default sigma floor of algos.gmm1d: 1e-6 times a robust scale of the data, 1.4826 times
  // the median absolute deviation (one far value cannot inflate it); if that is 0, the
  // smallest gap between two distinct values; if all values are equal, their size (or 1).
  function defaultMinSigma(x) {
    var n = x.length, i, med = median(x), dev = new Float64Array(n);
    for (i = 0; i < n; i++) { dev[i] = Math.abs(x[i] - med); }
    var mad = median(dev);
    if (mad > 0) { return MIN_SIGMA_FACTOR * (MAD_TO_SD * mad); }
    var v = Float64Array.from(x).sort(), gap = Infinity;
    for (i = 1; i < n; i++) { if (v[i] !== v[i - 1]) { gap = Math.min(gap, v[i] - v[i - 1]); } }
    return MIN_SIGMA_FACTOR * (isFinite(gap) ? gap : (Math.abs(v[0]) || 1));
  }

  function median(values) { // np.median: the middle value, or the mean of the two middle ones
    var v = Float64Array.from(values).sort(), h = v.length >> 1;
    return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
  }

  // Starting sigmas below the floor are raised to it before the first E-step, and the
  // "init" half-step lists those components in `floored` (algos.gmm1d).
  function startingSigmas(sigmas, floor) {
    var out = new Float64Array(sigmas.length), floored = [];
    for (var j = 0; j < sigmas.length; j++) {
      if (sigmas[j] < floor) { floored.push(j); }
      out[j] = Math.max(sigmas[j], floor);
    }
    return { sigmas: out, floored: floored };
  }

  // E-step: responsibilities R (k rows of n, as algos' (k, n) array) and the log-likelihood,
  // from log p[j, i] = log w_j - log s_j - log(2 pi)/2 - ((x_i - m_j) / s_j)^2 / 2 and
  // log-sum-exp over j, block by block as algos.gmm1d._e_step.
  function eStep(x, w, m, s) {
    var n = x.length, k = w.length, R = new Float64Array(k * n), j, i;
    var logConst = new Float64Array(k), scale = new Float64Array(k);
    for (j = 0; j < k; j++) {
      logConst[j] = Math.log(w[j]) - Math.log(s[j]) - HALF_LOG_2PI; // -inf for a weight of 0
      scale[j] = Math.sqrt(0.5) / s[j];
    }
    var ll = 0;
    for (var lo = 0; lo < n; lo += BLOCK) {
      var hi = Math.min(n, lo + BLOCK), size = hi - lo;
      var top = new Float64Array(size), finite = true;
      for (j = 0; j < k; j++) {
        for (i = lo; i < hi; i++) {
          var z = (x[i] - m[j]) * scale[j];
          R[j * n + i] = logConst[j] - z * z;
        }
      }
      for (i = 0; i < size; i++) {
        top[i] = columnMax(R, n, k, lo + i);
        if (!isFinite(top[i])) { finite = false; }
      }
      if (!finite) { // a squared distance overflowed: clip, so the nearest component takes it
        clippedLogTerms(x, m, s, logConst, R, n, lo, hi);
        for (i = 0; i < size; i++) { top[i] = columnMax(R, n, k, lo + i); }
      }
      ll += logSumExpBlock(R, n, k, lo, hi, top);
    }
    return { R: R, ll: ll };
  }

  // Log-sum-exp over the components of the points lo..hi-1: R holds log p[j, i] on entry and
  // the responsibilities p[j, i] / sum_l p[l, i] on return; `top` holds each point's largest
  // log p. Returns the block's log-likelihood, sum_i (top_i + log sum_j exp(log p[j, i] - top_i)),
  // added up as algos does (sum of the logs, plus sum of the tops).
  function logSumExpBlock(R, n, k, lo, hi, top) {
    var size = hi - lo, total = new Float64Array(size), i, j;
    for (i = 0; i < size; i++) {
      var sum = 0;
      for (j = 0; j < k; j++) {
        var e = Math.exp(R[j * n + lo + i] - top[i]);
        R[j * n + lo + i] = e;
        sum += e;
      }
      total[i] = sum;
    }
    for (i = 0; i < size; i++) {
      for (j = 0; j < k; j++) { R[j * n + lo + i] /= total[i]; }
      total[i] = Math.log(total[i]);
    }
    return numpySum(total) + numpySum(top);
  }

  function columnMax(R, n, k, i) {
    var best = R[i];
    for (var j = 1; j < k; j++) { if (R[j * n + i] > best) { best = R[j * n + i]; } }
    return best;
  }

  function clippedLogTerms(x, m, s, logConst, R, n, lo, hi) {
    for (var j = 0; j < m.length; j++) {
      for (var i = lo; i < hi; i++) {
        var z = Math.min(1e150, Math.max(-1e150, (x[i] - m[j]) / s[j]));
        R[j * n + i] = isFinite(logConst[j]) ? logConst[j] - 0.5 * z * z : -Infinity;
      }
    }
  }

  // M-step: N_j = sum_i R[j, i], weights N / n, responsibility-weighted means and standard
  // deviations (deviations from the new mean), sigmas raised to the floor. A component with
  // no responsibility at all keeps its mean and sigma (weight 0), as in algos.gmm1d._m_step.
  function mStep(x, R, k, floor, previous) {
    var n = x.length, j, i, t;
    var weights = new Float64Array(k), means = new Float64Array(k), sigmas = new Float64Array(k);
    var buf = new Float64Array(n), floored = [];
    for (j = 0; j < k; j++) {
      var Nk = numpySum(R, j * n, n), safe = Nk > 0 ? Nk : 1, total = 0, lo;
      for (lo = 0; lo < n; lo += BLOCK) {
        var hi = Math.min(n, lo + BLOCK);
        for (i = lo; i < hi; i++) { buf[i] = R[j * n + i] * x[i]; }
        total += numpySum(buf, lo, hi - lo);
      }
      means[j] = total / safe;
      var variance = 0;
      for (lo = 0; lo < n; lo += BLOCK) {
        var hi2 = Math.min(n, lo + BLOCK);
        for (i = lo; i < hi2; i++) { t = x[i] - means[j]; buf[i] = t * t * R[j * n + i]; }
        variance += numpySum(buf, lo, hi2 - lo);
      }
      var raw = Math.sqrt(variance / safe);
      sigmas[j] = Math.max(raw, floor);
      weights[j] = Nk / n;
      if (!(Nk > 0)) {
        means[j] = previous.means[j];
        sigmas[j] = previous.sigmas[j];
      } else if (raw < floor) {
        floored.push(j); // a component collapsing onto a point: the floor holds its sigma
      }
    }
    return { weights: weights, means: means, sigmas: sigmas, floored: floored };
  }

  function checkMixture(init, k) {
    var w, m, s;
    if (Array.isArray(init) && init.length === 3) {
      w = init[0]; m = init[1]; s = init[2];
    } else if (init && typeof init === "object") {
      w = init.weights; m = init.means; s = init.sigmas;
    } else {
      throw new TypeError("init must be 'kmeans', 'random' or {weights, means, sigmas}");
    }
    w = readValues(w, "weights"); m = readValues(m, "means"); s = readValues(s, "sigmas");
    if (w.length !== k) { throw ValueError("weights must have length k=" + k + ", got " + w.length); }
    if (m.length !== k || s.length !== k) {
      throw ValueError("weights, means and sigmas must have the same length, got " +
                       w.length + ", " + m.length + " and " + s.length);
    }
    for (var j = 0; j < k; j++) {
      if (w[j] < 0) { throw ValueError("weights must be non-negative"); }
      if (!(s[j] > 0)) { throw ValueError("sigmas must be > 0"); }
    }
    checkWeights(w);
    return { weights: w, means: m, sigmas: s };
  }

  // "random": means at k distinct data points, every sigma std(x), equal weights. "kmeans":
  // K-means (k-means++ start) on x, then each cluster's share, mean and standard deviation.
  // (Sigmas below the floor are raised afterwards, by startingSigmas.)
  function mixtureStart(x, k, kind, rng, floor) {
    var n = x.length, spread = standardDeviation(x), i;
    var equal = new Float64Array(k).fill(1 / k), sigmas = new Float64Array(k).fill(spread);
    if (kind === "random") {
      var rows = startIndices(x, n, 1, k, "random", rng, "l2", false);
      return { weights: equal, means: rowsOf(x, 1, rows), sigmas: sigmas };
    }
    var km = new KMeansRun(x, n, 1, k, rowsOf(x, 1, startIndices(x, n, 1, k, "k-means++", rng, "l2", false)),
                           "l2", DEFAULT_MAX_ITER.kmeans, 0);
    while (km.step()) { /* to convergence */ }
    var last = km.history[km.history.length - 1];
    var R = new Float64Array(k * n);
    for (i = 0; i < n; i++) { R[last.labels[i] * n + i] = 1; }
    var dead = new Float64Array(k).fill(Math.max(spread, floor)); // for a cluster K-means left empty
    return mStep(x, R, k, 0, { weights: equal, means: last.centers.slice(), sigmas: dead });
  }

  function MixtureRun(x, k, start, floor, maxIter, tol) {
    this.x = x; this.n = x.length; this.k = k;
    this.floor = floor; this.maxIter = maxIter; this.tol = tol;
    var raised = startingSigmas(start.sigmas, floor);
    var e = eStep(x, start.weights, start.means, raised.sigmas);
    this.R = e.R; // the responsibilities of the current parameters, and their log-likelihood
    this.ll = e.ll;
    beginRun(this, "gmm1d", { kind: "init", iteration: 0, objective: e.ll, resp: null,
                              weights: start.weights, means: start.means, sigmas: raised.sigmas,
                              floored: raised.floored }, maxIter);
  }

  // algos.gmm1d.fit's rule: stop when the log-likelihood changed by less than tol per point,
  // |LL(t) - LL(t-1)| < tol * n, or after max_iter iterations.
  MixtureRun.prototype.step = function () {
    if (this.done) { return false; }
    var last = this.history[this.history.length - 1];
    if (last.kind !== "E") {
      this.iteration += 1;
      this.history.push({ kind: "E", iteration: this.iteration, objective: this.ll, resp: this.R,
                          weights: last.weights, means: last.means, sigmas: last.sigmas,
                          floored: [] });
      return true;
    }
    var p = mStep(this.x, this.R, this.k, this.floor, last);
    var e = eStep(this.x, p.weights, p.means, p.sigmas);
    this.history.push({ kind: "M", iteration: this.iteration, objective: e.ll, resp: this.R,
                        weights: p.weights, means: p.means, sigmas: p.sigmas,
                        floored: p.floored });
    var change = e.ll - this.ll;
    this.ll = e.ll;
    this.R = e.R;
    if (Math.abs(change) < this.tol * this.n) { this.converged = true; this.done = true; }
    if (this.iteration >= this.maxIter) { this.done = true; }
    return true;
  };

  // ------------------------------------------------------------------ Gaussian mixtures in d dimensions

  // The port of algos.gmm, for any d (the explorer draws d = 2). The data are d columns of n
  // values (algos' Xt); means k rows of d; covariances k full d x d matrices, row-major,
  // whatever the covariance type (as algos.gmm returns them).
  var COVARIANCE_TYPES = ["full", "diag", "spherical", "tied"];
  var REG_COVAR_FACTOR = 1e-6; // algos.gmm.REG_COVAR_FACTOR
  var Z_MAX = 1e150; // algos.gmm.Z_MAX: the clip of standardised coordinates
  var EPSILON = Math.pow(2, -52); // np.finfo(float).eps
  var LOG_2PI = Math.log(2 * Math.PI);
  var NOT_PD = "covariances[{j}] is not positive definite";
  var SINGULAR = "the covariance of component {j} is singular (the component collapsed onto a point or a line); use reg_covar > 0";

  function columnsOf(X, n, d) {
    var cols = [];
    for (var a = 0; a < d; a++) {
      var col = new Float64Array(n);
      for (var i = 0; i < n; i++) { col[i] = X[i * d + a]; }
      cols.push(col);
    }
    return cols;
  }

  // The default reg_covar (algos.gmm.default_reg_covar): 1e-6 times each feature's variance
  // (numpy's var along axis 0 adds rows in order); a constant feature gets 1e-6 times the
  // features' mean variance, or 1e-6 if every feature is constant.
  function defaultRegCovar(cols, n) {
    var d = cols.length, variance = new Float64Array(d), reg = new Float64Array(d), a, i;
    for (a = 0; a < d; a++) {
      var x = cols[a], sum = 0, sq = 0;
      for (i = 0; i < n; i++) { sum += x[i]; }
      var mean = sum / n;
      for (i = 0; i < n; i++) { var t = x[i] - mean; sq += t * t; }
      variance[a] = sq / n;
    }
    var largest = Math.max.apply(null, Array.from(variance));
    var fallback = REG_COVAR_FACTOR * (largest > 0 ? numpySum(variance) / d : 1.0);
    for (a = 0; a < d; a++) { reg[a] = variance[a] > 0 ? REG_COVAR_FACTOR * variance[a] : fallback; }
    return reg;
  }

  // A spec's reg_covar: null (the default), a number, or one per feature (algos.gmm._reg_covar).
  function readRegCovar(value, cols, n) {
    var d = cols.length, reg;
    if (value === undefined || value === null) { return defaultRegCovar(cols, n); }
    if (typeof value === "number") {
      reg = new Float64Array(d).fill(value);
    } else if (Array.isArray(value)) {
      if (value.length !== d) {
        throw ValueError("reg_covar must be a number or have shape (" + d + ",) (one per feature), got length " + value.length);
      }
      reg = Float64Array.from(value.map(function (v) { return typeof v === "number" ? v : NaN; }));
    } else {
      throw new TypeError("reg_covar must be a number, an array of " + d + " numbers or null, got " + JSON.stringify(value));
    }
    for (var a = 0; a < d; a++) {
      if (!isFinite(reg[a]) || reg[a] < 0) {
        throw ValueError("reg_covar must be finite and >= 0, got " + JSON.stringify(value));
      }
    }
    return reg;
  }

  // Lower Cholesky factors L (covariance = L L^T) of k d x d matrices, as LAPACK's potf2 under
  // numpy.linalg.cholesky forms them: L[a][a] = sqrt(C[a][a] - sum_{b<a} L[a][b]^2), and below
  // it L[i][a] = (C[i][a] - sum_{b<a} L[i][b] L[a][b]) * (1 / L[a][a]). A matrix is refused
  // (ValueError `message`, naming the first bad j) if a pivot is not positive or is singular to
  // working precision, L[a][a]^2 <= d eps C[a][a] (algos.gmm._cholesky).
  function choleskyFactors(C, k, d, message) {
    var L = new Float64Array(k * d * d), j, a, b, i;
    for (j = 0; j < k; j++) {
      var o = j * d * d, fail = false;
      for (a = 0; a < d && !fail; a++) {
        var pivot = C[o + a * d + a] - rowDot(L, o + a * d, o + a * d, a);
        if (!(pivot > 0)) { fail = true; break; }
        L[o + a * d + a] = Math.sqrt(pivot);
        var inverse = 1 / L[o + a * d + a];
        for (i = a + 1; i < d; i++) {
          L[o + i * d + a] = (C[o + i * d + a] - rowDot(L, o + i * d, o + a * d, a)) * inverse;
        }
      }
      for (b = 0; b < d && !fail; b++) {
        var p = L[o + b * d + b];
        if (p * p <= d * EPSILON * C[o + b * d + b]) { fail = true; }
      }
      if (fail) { throw ValueError(message.replace("{j}", String(j))); }
    }
    return L;
  }

  function rowDot(L, u, v, count) {
    var s = 0;
    for (var b = 0; b < count; b++) { s += L[u + b] * L[v + b]; }
    return s;
  }

  // E-step (Bishop 9.23): responsibilities r[j, i] = w_j N(x_i | m_j, C_j) / sum_l (same for l)
  // as R (k rows of n), and the log-likelihood sum_i log sum_j w_j N(x_i | m_j, C_j) (Bishop
  // 9.14), in the log domain: log p[j, i] = log w_j - log det L_j - (d/2) log(2 pi) - |z|^2 / 2
  // with L_j z = x_i - m_j, then log-sum-exp over j, block by block (algos.gmm._e_step).
  function gaussianEStep(cols, n, w, means, L, k, d) {
    var R = new Float64Array(k * n), logConst = new Float64Array(k), j, a, i;
    for (j = 0; j < k; j++) {
      var logDet = 0; // log det L_j = half the log-determinant of the covariance
      for (a = 0; a < d; a++) { logDet += Math.log(L[j * d * d + a * d + a]); }
      logConst[j] = Math.log(w[j]) - logDet - 0.5 * d * LOG_2PI; // -inf for a weight of 0
    }
    var size = Math.min(n, BLOCK), Z = [], top = new Float64Array(size), ll = 0;
    for (a = 0; a < d; a++) { Z.push(new Float64Array(size)); }
    for (var lo = 0; lo < n; lo += BLOCK) {
      var hi = Math.min(n, lo + BLOCK);
      if (!gaussianLogTerms(cols, means, L, logConst, R, n, k, d, lo, hi, Z, false)) {
        // a |z| overflowed (a point absurdly far from a component): again with clipped z
        gaussianLogTerms(cols, means, L, logConst, R, n, k, d, lo, hi, Z, true);
      }
      var blockTop = hi - lo === size ? top : top.subarray(0, hi - lo);
      for (i = lo; i < hi; i++) { blockTop[i - lo] = columnMax(R, n, k, i); }
      ll += logSumExpBlock(R, n, k, lo, hi, blockTop);
    }
    return { R: R, ll: ll };
  }

  // log p[j, i] = logConst[j] - |z|^2 / 2 for points lo..hi-1 into R, z solving L_j z = x_i - m_j
  // by forward substitution, z_a = (x_a - m_a - sum_{b<a} L[a][b] z_b) / L[a][a]
  // (algos.gmm._log_terms). False if a |z|^2 overflowed (numpy raises; algos clips).
  function gaussianLogTerms(cols, means, L, logConst, R, n, k, d, lo, hi, Z, clip) {
    var limit = Z_MAX / Math.sqrt(d), size = hi - lo, ok = true, j, a, b, i;
    for (j = 0; j < k; j++) {
      var o = j * d * d, row = j * n + lo;
      for (a = 0; a < d; a++) {
        var z = Z[a], x = cols[a], m = means[j * d + a];
        for (i = 0; i < size; i++) { z[i] = x[lo + i] - m; }
        for (b = 0; b < a; b++) {
          var Lab = L[o + a * d + b], zb = Z[b];
          if (Lab !== 0) { // always 0 for the "diag" and "spherical" types
            for (i = 0; i < size; i++) { z[i] -= zb[i] * Lab; }
          }
        }
        var inverse = 1.0 / L[o + a * d + a];
        for (i = 0; i < size; i++) { z[i] *= inverse; }
        if (clip) {
          for (i = 0; i < size; i++) { z[i] = Math.min(limit, Math.max(-limit, z[i])); }
        }
        if (a === 0) {
          for (i = 0; i < size; i++) { R[row + i] = z[i] * z[i]; }
        } else {
          for (i = 0; i < size; i++) { R[row + i] += z[i] * z[i]; }
        }
      }
      for (i = 0; i < size; i++) {
        if (!(R[row + i] <= Number.MAX_VALUE)) { ok = false; } // inf or NaN: an overflow
        R[row + i] = R[row + i] * -0.5 + logConst[j];
      }
    }
    return ok || clip;
  }

  // M-step (Bishop 9.24-9.27): N_j = sum_i r[j, i], weights N_j / n; with p_i = r[j, i] / N_j
  // the means sum_i p_i x_i and scatters S_j = sum_i p_i (x_i - m_j)(x_i - m_j)^T, in the
  // type's form (covarianceOfType), + reg on the diagonal ("spherical": its mean). A component
  // with N_j = 0 is dead: weight 0, previous mean and covariance ("tied": the shared one).
  // Block by block, every sum in numpy's order (algos.gmm._m_step).
  function gaussianMStep(cols, n, R, k, d, type, reg, previous) {
    var Nk = new Float64Array(k), means = new Float64Array(k * d), S = new Float64Array(k * d * d);
    var size = Math.min(n, BLOCK), p = new Float64Array(size), tmp = new Float64Array(size);
    var wdev = new Float64Array(size), dev = [], j, a, b, i, lo;
    var offDiagonal = type === "full" || type === "tied";
    for (a = 0; a < d; a++) { dev.push(new Float64Array(size)); }
    for (j = 0; j < k; j++) { Nk[j] = numpySum(R, j * n, n); }
    for (lo = 0; lo < n; lo += BLOCK) {
      var nb = Math.min(n, lo + BLOCK) - lo;
      for (j = 0; j < k; j++) {
        if (!(Nk[j] > 0)) { continue; }
        for (i = 0; i < nb; i++) { p[i] = R[j * n + lo + i] / Nk[j]; }
        for (a = 0; a < d; a++) {
          for (i = 0; i < nb; i++) { tmp[i] = p[i] * cols[a][lo + i]; }
          means[j * d + a] += numpySum(tmp, 0, nb);
        }
      }
    }
    for (lo = 0; lo < n; lo += BLOCK) {
      var mb = Math.min(n, lo + BLOCK) - lo;
      for (j = 0; j < k; j++) {
        if (!(Nk[j] > 0)) { continue; }
        for (i = 0; i < mb; i++) { p[i] = R[j * n + lo + i] / Nk[j]; }
        for (a = 0; a < d; a++) {
          for (i = 0; i < mb; i++) { dev[a][i] = cols[a][lo + i] - means[j * d + a]; }
        }
        for (a = 0; a < d; a++) {
          for (i = 0; i < mb; i++) { wdev[i] = p[i] * dev[a][i]; }
          for (b = offDiagonal ? 0 : a; b <= a; b++) {
            for (i = 0; i < mb; i++) { tmp[i] = wdev[i] * dev[b][i]; }
            S[j * d * d + a * d + b] += numpySum(tmp, 0, mb);
          }
        }
      }
    }
    for (j = 0; j < k; j++) { // the upper triangle mirrors the lower one
      for (a = 0; a < d; a++) {
        for (b = 0; b < a; b++) { S[j * d * d + b * d + a] = S[j * d * d + a * d + b]; }
      }
    }
    var weights = new Float64Array(k);
    for (j = 0; j < k; j++) { weights[j] = Nk[j] / n; }
    var cov = covarianceOfType(S, weights, k, d, type);
    var regMean = numpySum(reg) / d;
    for (j = 0; j < k; j++) {
      for (a = 0; a < d; a++) { cov[j * d * d + a * d + a] += type === "spherical" ? regMean : reg[a]; }
    }
    var dead = [];
    for (j = 0; j < k; j++) {
      if (Nk[j] !== 0) { continue; }
      dead.push(j);
      for (a = 0; a < d; a++) { means[j * d + a] = previous.means[j * d + a]; }
      if (type !== "tied") {
        for (a = 0; a < d * d; a++) { cov[j * d * d + a] = previous.covariances[j * d * d + a]; }
      }
    }
    return { weights: weights, means: means, covariances: cov, dead: dead };
  }

  // "full": S_j; "diag": its diagonal; "spherical": the mean of the diagonal times the
  // identity; "tied": the pooled sum_j w_j S_j for every component.
  function covarianceOfType(S, weights, k, d, type) {
    var dd = d * d, cov = new Float64Array(k * dd), j, a, e;
    if (type === "full") { return S.slice(); }
    if (type === "tied") { // the pooled scatter sum_j w_j S_j, shared by every component
      for (e = 0; e < dd; e++) {
        var pooled = 0;
        for (j = 0; j < k; j++) { pooled += weights[j] * S[j * dd + e]; }
        for (j = 0; j < k; j++) { cov[j * dd + e] = pooled; }
      }
      return cov;
    }
    for (j = 0; j < k; j++) {
      var trace = 0;
      for (a = 0; a < d; a++) { trace += S[j * dd + a * d + a]; }
      for (a = 0; a < d; a++) {
        cov[j * dd + a * d + a] = type === "diag" ? S[j * dd + a * d + a] : trace / d;
      }
    }
    return cov;
  }

  // Explicit {weights, means, covariances}: weights >= 0 summing to 1, means (k, d), covariances
  // (k, d, d) symmetric within 1e-8 of their largest entry (then made exactly symmetric) and
  // positive definite (algos._validation.check_gaussian_mixture, algos.gmm._cholesky).
  function checkGaussianMixture(init, k, d) {
    var w, m, c;
    if (Array.isArray(init) && init.length === 3) {
      w = init[0]; m = init[1]; c = init[2];
    } else if (init && typeof init === "object" && !Array.isArray(init)) {
      w = init.weights; m = init.means; c = init.covariances;
    } else {
      throw new TypeError("init must be 'kmeans', 'random' or {weights, means, covariances}");
    }
    w = readValues(w, "weights");
    checkWeights(w);
    if (w.length !== k) { throw ValueError("weights must have length k=" + k + ", got " + w.length); }
    var M = readPoints(m, "means");
    if (M.n !== k || M.d !== d) {
      throw ValueError("means must have shape (" + k + ", " + d + ") (k components, d features), got (" + M.n + ", " + M.d + ")");
    }
    var C = readCovariances(c, k, d), dd = d * d;
    for (var j = 0; j < k; j++) {
      var Cj = C.slice(j * dd, (j + 1) * dd), scale = 0, asym = 0;
      for (var e = 0; e < dd; e++) {
        var t = Cj[(e % d) * d + Math.floor(e / d)]; // the transpose's entry
        scale = Math.max(scale, Math.abs(Cj[e]));
        asym = Math.max(asym, Math.abs(Cj[e] - t));
        C[j * dd + e] = 0.5 * (Cj[e] + t);
      }
      if (asym > 1e-8 * scale) { throw ValueError("covariances[" + j + "] is not symmetric"); }
    }
    choleskyFactors(C, k, d, "init: " + NOT_PD);
    return { weights: w, means: M.X, covariances: C, dead: [] };
  }

  function checkWeights(w) {
    for (var j = 0; j < w.length; j++) {
      if (w[j] < 0) { throw ValueError("weights must be non-negative"); }
    }
    var sum = numpySum(w);
    if (Math.abs(sum - 1) > 1e-8) { throw ValueError("weights must sum to 1 (within 1e-8), got sum " + sum); }
  }

  // k matrices d x d, as nested arrays, into one row-major Float64Array.
  function readCovariances(c, k, d) {
    var out = new Float64Array(k * d * d), ok = Array.isArray(c) && c.length === k;
    for (var j = 0; ok && j < k; j++) {
      var M = readPoints(c[j], "covariances");
      ok = M.n === d && M.d === d;
      out.set(ok ? M.X : [], j * d * d);
    }
    if (!ok) { throw ValueError("covariances must have shape (" + k + ", " + d + ", " + d + ") (one d x d matrix per component)"); }
    return out;
  }

  // algos.gmm.fit's seeded starts, with the browser's generator. "random": means at k distinct
  // data points, equal weights, each covariance the whole data's (wholeDataCovariance).
  // "kmeans": the M-step of K-means' labelling (k-means++ start): each cluster's share, mean
  // and covariance (an empty cluster keeps its centre and the data's covariance, weight 0).
  function gaussianStart(cols, X, n, d, k, kind, rng, type, reg) {
    var spread = wholeDataCovariance(cols, n, d, type, reg), covariances = new Float64Array(k * d * d);
    for (var j = 0; j < k; j++) { covariances.set(spread, j * d * d); }
    var equal = new Float64Array(k).fill(1 / k);
    if (kind === "random") {
      return { weights: equal, means: rowsOf(X, d, distinctRows(rng, n, k)),
               covariances: covariances, dead: [] };
    }
    var km = new KMeansRun(X, n, d, k, rowsOf(X, d, startIndices(X, n, d, k, "k-means++", rng, "l2", false)),
                           "l2", DEFAULT_MAX_ITER.kmeans, 0);
    while (km.step()) { /* to convergence */ }
    var last = km.history[km.history.length - 1], R = new Float64Array(k * n);
    for (var i = 0; i < n; i++) { R[last.labels[i] * n + i] = 1; }
    return gaussianMStep(cols, n, R, k, d, type, reg,
                         { weights: equal, means: last.centers, covariances: covariances });
  }

  // The whole data set's covariance in the type's form + reg: a one-component M-step.
  function wholeDataCovariance(cols, n, d, type, reg) {
    return gaussianMStep(cols, n, new Float64Array(n).fill(1), 1, d, type, reg, null).covariances;
  }

  function GaussianMixtureRun(cols, X, n, d, k, start, type, reg, maxIter, tol) {
    this.cols = cols; this.X = X; this.n = n; this.d = d; this.k = k;
    this.type = type; this.reg = reg; this.maxIter = maxIter; this.tol = tol;
    var e = gaussianEStep(cols, n, start.weights, start.means,
                          choleskyFactors(start.covariances, k, d, SINGULAR), k, d);
    this.R = e.R; // the responsibilities of the current parameters, and their log-likelihood
    this.ll = e.ll;
    this.next = null; // the parameters the coming M-step shows (computed with the E-step)
    beginRun(this, "gmm", { kind: "init", iteration: 0, objective: e.ll, resp: null,
                            weights: start.weights, means: start.means,
                            covariances: start.covariances, dead: start.dead.slice() }, maxIter);
  }

  // algos.gmm.fit's half-steps: "E" the new responsibilities with the old parameters (its `dead`
  // from the M-step computed with it, as algos does), "M" the new parameters and their
  // log-likelihood. Stop when |LL(t) - LL(t-1)| < tol * n, or after max_iter iterations.
  GaussianMixtureRun.prototype.step = function () {
    if (this.done) { return false; }
    var last = this.history[this.history.length - 1], n = this.n, d = this.d, k = this.k;
    if (last.kind !== "E") {
      this.iteration += 1;
      this.next = gaussianMStep(this.cols, n, this.R, k, d, this.type, this.reg, last);
      this.history.push({ kind: "E", iteration: this.iteration, objective: this.ll, resp: this.R,
                          weights: last.weights, means: last.means,
                          covariances: last.covariances, dead: this.next.dead });
      return true;
    }
    var p = this.next;
    var e = gaussianEStep(this.cols, n, p.weights, p.means,
                          choleskyFactors(p.covariances, k, d, SINGULAR), k, d);
    this.history.push({ kind: "M", iteration: this.iteration, objective: e.ll, resp: this.R,
                        weights: p.weights, means: p.means, covariances: p.covariances,
                        dead: p.dead });
    var change = e.ll - this.ll;
    this.ll = e.ll;
    this.R = e.R;
    if (Math.abs(change) < this.tol * n) { this.converged = true; this.done = true; }
    if (this.iteration >= this.maxIter) { this.done = true; }
    return true;
  };

  // ------------------------------------------------------------------ the public entry point

  // Validate a spec and return a run positioned at its "init" half-step; run.step() adds the
  // next half-step to run.history. spec: {method, data, k, init, metric, medoids_from,
  // max_iter, tol, seed, min_sigma, covariance_type, reg_covar}; init is explicit (centres,
  // medoid row indices, {weights, means, sigmas} or {weights, means, covariances}) or a
  // start's name ("random", "k-means++" or "kmeans") drawn with the browser's generator
  // from `seed`.
  function startRun(spec) {
    if (!spec || typeof spec !== "object") { throw new TypeError("spec must be an object"); }
    var method = checkChoice(spec.method, "method", METHODS);
    var maxIter = spec.max_iter === undefined ? DEFAULT_MAX_ITER[method]
      : checkInt(spec.max_iter, "max_iter", 0);
    var seed = spec.seed === undefined ? 0 : spec.seed;
    var init = spec.init;
    if (method === "gmm1d") {
      var x = readValues(spec.data, "data");
      var k1 = checkK(spec.k, x.length);
      var tol1 = spec.tol === undefined ? DEFAULT_TOL.gmm1d : checkTol(spec.tol);
      var floor = spec.min_sigma === undefined || spec.min_sigma === null ? defaultMinSigma(x)
        : spec.min_sigma;
      if (typeof floor !== "number" || !isFinite(floor) || !(floor > 0)) {
        throw ValueError("min_sigma must be finite and > 0, got " + JSON.stringify(spec.min_sigma));
      }
      var start = typeof init === "string"
        ? mixtureStart(x, k1, checkChoice(init, "init", ["kmeans", "random"]), makeRng(seed), floor)
        : checkMixture(init, k1);
      return new MixtureRun(x, k1, start, floor, maxIter, tol1);
    }
    var P = readPoints(spec.data, "data");
    var k = checkK(spec.k, P.n);
    if (method === "gmm") { return startGaussianMixture(spec, P, k, maxIter, seed); }
    var metric = spec.metric === undefined ? "l2" : checkChoice(spec.metric, "metric", METRICS);
    var indices = null, centers = null;
    if (typeof init === "string") {
      checkChoice(init, "init", ["k-means++", "random"]);
      indices = startIndices(P.X, P.n, P.d, k, init, makeRng(seed), metric, method === "kmedoids");
    } else if (method === "kmedoids" && Array.isArray(init) && init.length && !Array.isArray(init[0])) {
      indices = init;
    } else {
      var C = readPoints(init, "init");
      if (C.n !== k || C.d !== P.d) {
        throw ValueError("init must have shape (" + k + ", " + P.d + ") to match X, got (" + C.n + ", " + C.d + ")");
      }
      centers = C.X;
      if (method === "kmedoids") { indices = medoidRowsOf(P.X, P.n, P.d, C.X, k); }
    }
    if (method === "kmeans") {
      var tol = spec.tol === undefined ? DEFAULT_TOL.kmeans : checkTol(spec.tol);
      return new KMeansRun(P.X, P.n, P.d, k, centers || rowsOf(P.X, P.d, indices), metric, maxIter, tol);
    }
    var medoidsFrom = spec.medoids_from === undefined ? "cluster"
      : checkChoice(spec.medoids_from, "medoids_from", MEDOIDS_FROM);
    return new KMedoidsRun(P.X, P.n, P.d, k, checkMedoidStart(indices, P.n, k, P.X, P.d), metric,
                           medoidsFrom, maxIter);
  }

  function startGaussianMixture(spec, P, k, maxIter, seed) {
    var type = spec.covariance_type === undefined ? "full"
      : checkChoice(spec.covariance_type, "covariance_type", COVARIANCE_TYPES);
    var tol = spec.tol === undefined ? DEFAULT_TOL.gmm : checkTol(spec.tol);
    var cols = columnsOf(P.X, P.n, P.d), reg = readRegCovar(spec.reg_covar, cols, P.n);
    var start = typeof spec.init === "string"
      ? gaussianStart(cols, P.X, P.n, P.d, k, checkChoice(spec.init, "init", ["kmeans", "random"]),
                      makeRng(seed), type, reg)
      : checkGaussianMixture(spec.init, k, P.d);
    return new GaussianMixtureRun(cols, P.X, P.n, P.d, k, start, type, reg, maxIter, tol);
  }

  function rowsToArrays(flat, rows, cols) {
    var out = [];
    for (var r = 0; r < rows; r++) { out.push(Array.from(flat.subarray(r * cols, (r + 1) * cols))); }
    return out;
  }

  // One half-step as plain arrays (labels, centers, medoid_indices or weights, means, sigmas,
  // and the responsibilities as n rows of k).
  function plainStep(run, step) {
    var resp = null, i, j;
    if (step.resp) {
      resp = [];
      for (i = 0; i < run.n; i++) {
        var row = [];
        for (j = 0; j < run.k; j++) { row.push(step.resp[j * run.n + i]); }
        resp.push(row);
      }
    }
    if (run.method === "gmm") {
      var covariances = [];
      for (j = 0; j < run.k; j++) {
        covariances.push(rowsToArrays(step.covariances.subarray(j * run.d * run.d, (j + 1) * run.d * run.d), run.d, run.d));
      }
      return { kind: step.kind, iteration: step.iteration, objective: step.objective, resp: resp,
               weights: Array.from(step.weights), means: rowsToArrays(step.means, run.k, run.d),
               covariances: covariances, dead: step.dead.slice() };
    }
    if (run.method === "gmm1d") {
      return { kind: step.kind, iteration: step.iteration, objective: step.objective, resp: resp,
               weights: Array.from(step.weights), means: Array.from(step.means),
               sigmas: Array.from(step.sigmas), floored: step.floored.slice() };
    }
    return { kind: step.kind, iteration: step.iteration, objective: step.objective,
             labels: step.labels ? Array.from(step.labels) : null,
             centers: rowsToArrays(step.centers, run.k, run.d),
             medoid_indices: step.medoidIndices ? Array.from(step.medoidIndices) : null,
             empty: step.empty.slice() };
  }

  // Run a fit to its end: {history: [one plain object per half-step], converged, n_iter}.
  function run(spec) {
    var r = startRun(spec);
    while (r.step()) { /* every half-step */ }
    return { history: r.history.map(function (s) { return plainStep(r, s); }),
             converged: r.converged, n_iter: r.iteration };
  }

  // ===========================================================================================
  // Part 2. Drawing a half-step (the picture language of algos/plotting.py)
  // ===========================================================================================

  // Okabe-Ito palette; clusters use it without black, yellow last (algos.plotting).
  var PALETTE = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"];
  var CLUSTER_COLORS = [PALETTE[4], PALETTE[0], PALETTE[2], PALETTE[5], PALETTE[6], PALETTE[1], PALETTE[3]];
  var CLUSTER_MARKERS = ["o", "s", "^", "D", "v", "P", "X"];
  var UNASSIGNED_COLOR = "#8C8C8C";
  var SHADE_ALPHA = 0.16;
  var GRID = 150; // cells per side of the nearest-centre shading
  var BARS_UP_TO = 60; // up to this many points, one responsibility bar per point
  var FONT = "13px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  var INK = "#222222";

  function clusterColor(j) { return CLUSTER_COLORS[j % CLUSTER_COLORS.length]; }
  function clusterMarker(j) { return CLUSTER_MARKERS[j % CLUSTER_MARKERS.length]; }

  function hexToRgb(hex) {
    return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
  }

  // colour of a region: the cluster colour at SHADE_ALPHA over white, opaque
  var SHADES = CLUSTER_COLORS.map(function (hex) {
    return hexToRgb(hex).map(function (c) { return Math.round(SHADE_ALPHA * c + (1 - SHADE_ALPHA) * 255); });
  });

  // Round tick values between lo and hi (at most about `count` of them).
  function niceTicks(lo, hi, count) {
    var span = hi - lo;
    if (!(span > 0)) { return [lo]; }
    var raw = span / Math.max(1, count), mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 2.5, 5, 10].map(function (f) { return f * mag; })
      .filter(function (s) { return s >= raw; })[0];
    var ticks = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    }
    return ticks;
  }

  function tickLabel(v) {
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e5 || a < 1e-3)) { return v.toExponential(1); }
    return String(Number(v.toPrecision(6)));
  }

  // Left margin that fits the y tick labels of [lo, hi] (and a rotated axis label).
  function leftMargin(ctx, lo, hi, height, rotated) {
    var widest = 0;
    niceTicks(lo, hi, Math.max(2, Math.floor(height / 45))).forEach(function (t) {
      widest = Math.max(widest, ctx.measureText(tickLabel(t)).width);
    });
    return Math.ceil(widest) + (rotated ? 28 : 12);
  }

  // Python's format(v, ".6g"), so the objective reads as in the book's player.
  function formatG(v, digits) {
    digits = digits || 6;
    if (v === 0) { return "0"; }
    if (!isFinite(v)) { return v > 0 ? "inf" : (v < 0 ? "-inf" : "nan"); }
    var parts = v.toExponential(digits - 1).split("e"), exp = parseInt(parts[1], 10);
    if (exp < -4 || exp >= digits) {
      var mantissa = parts[0].indexOf(".") >= 0 ? parts[0].replace(/0+$/, "").replace(/\.$/, "") : parts[0];
      return mantissa + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    }
    var fixed = v.toFixed(Math.max(0, digits - 1 - exp));
    return fixed.indexOf(".") >= 0 ? fixed.replace(/0+$/, "").replace(/\.$/, "") : fixed;
  }

  // A canvas sized to its box (CSS pixels), sharp on high-density screens.
  function prepareCanvas(canvas) {
    var box = canvas.parentNode, w = Math.max(120, box.clientWidth), h = Math.max(100, box.clientHeight);
    var ratio = window.devicePixelRatio || 1;
    var pw = Math.round(w * ratio), ph = Math.round(h * ratio);
    if (canvas.width !== pw || canvas.height !== ph) { canvas.width = pw; canvas.height = ph; }
    var ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, w, h);
    ctx.font = FONT;
    return { ctx: ctx, width: w, height: h, ratio: ratio };
  }

  // Map data coordinates to canvas pixels inside a plot area.
  function makeView(area, xlim, ylim) {
    return {
      area: area, xlim: xlim, ylim: ylim,
      px: function (x) { return area.left + (x - xlim[0]) / (xlim[1] - xlim[0]) * area.width; },
      py: function (y) { return area.top + (1 - (y - ylim[0]) / (ylim[1] - ylim[0])) * area.height; },
      dataX: function (px) { return xlim[0] + (px - area.left) / area.width * (xlim[1] - xlim[0]); },
      dataY: function (py) { return ylim[0] + (1 - (py - area.top) / area.height) * (ylim[1] - ylim[0]); }
    };
  }

  function drawAxes(ctx, view, xlabel, ylabel, yticks) {
    var a = view.area;
    ctx.save();
    ctx.strokeStyle = INK;
    ctx.fillStyle = INK;
    ctx.lineWidth = 1;
    ctx.strokeRect(a.left + 0.5, a.top + 0.5, a.width, a.height);
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    niceTicks(view.xlim[0], view.xlim[1], Math.max(2, Math.floor(a.width / 70))).forEach(function (t) {
      var x = view.px(t);
      if (x < a.left - 0.5 || x > a.left + a.width + 0.5) { return; }
      ctx.beginPath(); ctx.moveTo(x, a.top + a.height); ctx.lineTo(x, a.top + a.height + 4); ctx.stroke();
      ctx.fillText(tickLabel(t), x, a.top + a.height + 6);
    });
    if (xlabel) { ctx.fillText(xlabel, a.left + a.width / 2, a.top + a.height + 22); }
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    (yticks || niceTicks(view.ylim[0], view.ylim[1], Math.max(2, Math.floor(a.height / 45)))).forEach(function (t) {
      var y = view.py(t);
      if (y < a.top - 0.5 || y > a.top + a.height + 0.5) { return; }
      ctx.beginPath(); ctx.moveTo(a.left, y); ctx.lineTo(a.left - 4, y); ctx.stroke();
      ctx.fillText(tickLabel(t), a.left - 6, y);
    });
    if (ylabel) {
      ctx.save();
      ctx.translate(12, a.top + a.height / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = "center";
      ctx.fillText(ylabel, 0, 0);
      ctx.restore();
    }
    ctx.restore();
  }

  // One marker of a cluster's shape, added to the current path.
  function markerPath(ctx, shape, x, y, r) {
    var w = r * 0.42;
    switch (shape) {
      case "s": ctx.rect(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7); break;
      case "^": ctx.moveTo(x, y - r * 1.1); ctx.lineTo(x + r, y + r * 0.75); ctx.lineTo(x - r, y + r * 0.75); ctx.closePath(); break;
      case "v": ctx.moveTo(x, y + r * 1.1); ctx.lineTo(x + r, y - r * 0.75); ctx.lineTo(x - r, y - r * 0.75); ctx.closePath(); break;
      case "D": ctx.moveTo(x, y - r * 1.15); ctx.lineTo(x + r * 0.9, y); ctx.lineTo(x, y + r * 1.15); ctx.lineTo(x - r * 0.9, y); ctx.closePath(); break;
      case "P": polygonPath(ctx, x, y, r, w, 0); break;
      case "X": polygonPath(ctx, x, y, r, w, Math.PI / 4); break;
      default: ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 2 * Math.PI);
    }
  }

  // Each kind of point (shape, colour, size) is drawn once on a small canvas and kept as
  // pixels (a sprite), which blendPoints blends in at every point of that kind. `edge`: true
  // for a thin white rim, or the rim's colour.
  var sprites = {};
  function markerSprite(shape, color, r, edge, ratio) {
    var key = [shape, color, r, edge, ratio].join(" ");
    if (!sprites[key]) {
      var half = Math.ceil((1.2 * r + 1) * ratio), size = 2 * half;
      var canvas = document.createElement("canvas");
      canvas.width = canvas.height = size;
      var g = canvas.getContext("2d");
      g.setTransform(ratio, 0, 0, ratio, 0, 0);
      g.beginPath();
      markerPath(g, shape, half / ratio, half / ratio, r);
      g.fillStyle = color;
      g.fill();
      if (edge) { g.lineWidth = 0.8; g.strokeStyle = edge === true ? "#ffffff" : edge; g.stroke(); }
      sprites[key] = { half: half, size: size, pixels: g.getImageData(0, 0, size, size).data };
    }
    return sprites[key];
  }

  // A plus sign of half-length r and half-width w, turned by `angle` (an X for pi/4).
  function polygonPath(ctx, x, y, r, w, angle) {
    var pts = [[w, r], [w, w], [r, w], [r, -w], [w, -w], [w, -r], [-w, -r], [-w, -w], [-r, -w], [-r, w], [-w, w], [-w, r]];
    var c = Math.cos(angle), s = Math.sin(angle);
    pts.forEach(function (p, i) {
      var px = x + p[0] * c - p[1] * s, py = y + p[0] * s + p[1] * c;
      if (i === 0) { ctx.moveTo(px, py); } else { ctx.lineTo(px, py); }
    });
    ctx.closePath();
  }

  function arrow(ctx, x0, y0, x1, y1, shrinkStart, shrinkEnd) {
    var dx = x1 - x0, dy = y1 - y0, len = Math.sqrt(dx * dx + dy * dy);
    if (len < shrinkStart + shrinkEnd + 4) { return; }
    var ux = dx / len, uy = dy / len;
    var sx = x0 + ux * shrinkStart, sy = y0 + uy * shrinkStart;
    var ex = x1 - ux * shrinkEnd, ey = y1 - uy * shrinkEnd, head = 9;
    ctx.beginPath();
    ctx.moveTo(sx, sy);
    ctx.lineTo(ex - ux * head * 0.8, ey - uy * head * 0.8);
    ctx.stroke();
    ctx.beginPath();
    ctx.moveTo(ex, ey);
    ctx.lineTo(ex - ux * head - uy * head * 0.45, ey - uy * head + ux * head * 0.45);
    ctx.lineTo(ex - ux * head + uy * head * 0.45, ey - uy * head - ux * head * 0.45);
    ctx.closePath();
    ctx.fill();
  }

  // Axis limits holding the points and the given centres, padded by 8% (or `padding`) of the
  // larger range.
  function clusterExtent(X, n, d, centerSets, padding) {
    var lo = [Infinity, Infinity], hi = [-Infinity, -Infinity];
    function take(A, count) {
      for (var i = 0; i < count; i++) {
        for (var c = 0; c < 2; c++) {
          lo[c] = Math.min(lo[c], A[i * d + c]);
          hi[c] = Math.max(hi[c], A[i * d + c]);
        }
      }
    }
    take(X, n);
    centerSets.forEach(function (C) { take(C, C.length / d); });
    var span = Math.max(hi[0] - lo[0], hi[1] - lo[1], 1e-9);
    var pad = (padding === undefined ? 0.08 : padding) * span;
    return { x: [lo[0] - pad, hi[0] + pad], y: [lo[1] - pad, hi[1] + pad] };
  }

  // The picture of a K-means / K-medoids half-step: shaded nearest-centre regions, points in
  // their cluster's colour and shape (grey before the first assignment), the centres (crosses)
  // or medoids (ringed), and after an M-step the previous positions with arrows.
  function drawClusters(canvas, scene) {
    var c = prepareCanvas(canvas), ctx = c.ctx, height = c.height - 52;
    var left = leftMargin(ctx, scene.extent.y[0], scene.extent.y[1], height, true);
    var area = { left: left, top: 10, width: c.width - left - 10, height: height };
    var view = makeView(area, scene.extent.x, scene.extent.y);
    var step = scene.step, d = scene.d, j;
    ctx.save();
    ctx.beginPath();
    ctx.rect(area.left, area.top, area.width, area.height);
    ctx.clip();
    paintRegionsAndPoints(ctx, c.ratio, view, scene);
    var medoids = scene.method === "kmedoids";
    if (step && scene.previous && step.kind === "M") {
      var old = scene.previous.centers;
      ctx.strokeStyle = "#000000";
      ctx.fillStyle = "#000000";
      ctx.lineWidth = 1.3;
      for (j = 0; j < scene.k; j++) {
        var ox = view.px(old[j * d]), oy = view.py(old[j * d + 1]);
        ctx.beginPath();
        ctx.arc(ox, oy, 9, 0, 2 * Math.PI);
        ctx.stroke();
      }
      ctx.lineWidth = 1.8;
      for (j = 0; j < scene.k; j++) {
        arrow(ctx, view.px(old[j * d]), view.py(old[j * d + 1]),
              view.px(step.centers[j * d]), view.py(step.centers[j * d + 1]), 10, 12);
      }
    }
    var centers = step ? step.centers : scene.placed;
    var count = centers ? centers.length / d : 0;
    for (j = 0; j < count; j++) {
      var cx = view.px(centers[j * d]), cy = view.py(centers[j * d + 1]);
      ctx.beginPath();
      markerPath(ctx, medoids ? "o" : "X", cx, cy, medoids ? 7 : 10);
      ctx.fillStyle = clusterColor(j);
      ctx.fill();
      ctx.lineWidth = 1.8;
      ctx.strokeStyle = "#000000";
      ctx.stroke();
      if (medoids) {
        ctx.beginPath();
        ctx.arc(cx, cy, 12, 0, 2 * Math.PI);
        ctx.stroke();
      }
    }
    if (step) {
      ctx.fillStyle = INK;
      step.empty.forEach(function (e) {
        ctx.fillText("empty", view.px(step.centers[e * d]) + 12, view.py(step.centers[e * d + 1]) - 10);
      });
    }
    drawCursor(ctx, scene.cursor, view, true);
    ctx.restore();
    drawAxes(ctx, view, "x\u2081", "x\u2082");
    return view;
  }

  // The plot's background and its points, painted as pixels and put on the canvas at once:
  // the nearest-centre regions from a coarse grid of cells, then every point's marker (a small
  // pre-drawn sprite) blended in. For 2,000 points this is several times faster than filling
  // thousands of small paths, which dominated the redraw.
  function paintRegionsAndPoints(ctx, ratio, view, scene) {
    var a = view.area, x0 = Math.round(a.left * ratio), y0 = Math.round(a.top * ratio);
    var W = Math.round(a.width * ratio), H = Math.round(a.height * ratio);
    var image = pixelBuffer(ctx, W, H), data = image.data, step = scene.step, d = scene.d;
    var words = new Uint32Array(data.buffer), px, py;
    if (step) { // each pixel takes the shade of its grid cell
      var grid = regionLabels(view, step.centers, step.centers.length / d, d, scene.metric);
      var colOf = new Int32Array(W);
      for (px = 0; px < W; px++) { colOf[px] = Math.min(GRID - 1, Math.floor(px / W * GRID)); }
      for (py = 0; py < H; py++) {
        var row = Math.min(GRID - 1, Math.floor(py / H * GRID)) * GRID, at = py * W;
        for (px = 0; px < W; px++) { words[at + px] = SHADE_WORDS[grid[row + colOf[px]]]; }
      }
    } else {
      words.fill(WHITE_WORD);
    }
    var n = scene.n, labels = step && step.labels, stamps = [], j, r = pointRadius(n);
    for (j = 0; j < (labels ? scene.k : 1); j++) {
      stamps.push(labels ? markerSprite(clusterMarker(j), clusterColor(j), r, n <= 500, ratio)
        : markerSprite("o", UNASSIGNED_COLOR, r, n <= 500, ratio));
    }
    blendPoints(image, x0, y0, ratio, view, scene, null, function (i) { return stamps[labels ? labels[i] : 0]; });
    ctx.putImageData(image, x0, y0);
  }

  // big dots for a handful of points, small ones for thousands (as algos.plotting)
  function pointRadius(n) { return Math.max(3, Math.min(7, 1.1 * Math.sqrt(2400 / Math.max(n, 1)))); }

  // Blend the sprite stampOf(i) of each point i (in `order`, or 0..n-1) into the image, whose
  // top left is at device pixel (x0, y0): out = sprite * alpha + out * (1 - alpha).
  function blendPoints(image, x0, y0, ratio, view, scene, order, stampOf) {
    var data = image.data, W = image.width, H = image.height, X = scene.X, d = scene.d;
    for (var o = 0; o < scene.n; o++) {
      var i = order ? order[o] : o, stamp = stampOf(i), size = stamp.size, pix = stamp.pixels;
      var sx = Math.round(view.px(X[i * d]) * ratio) - x0 - stamp.half;
      var sy = Math.round(view.py(X[i * d + 1]) * ratio) - y0 - stamp.half;
      var v0 = Math.max(0, -sy), v1 = Math.min(size, H - sy), u0 = Math.max(0, -sx), u1 = Math.min(size, W - sx);
      for (var v = v0; v < v1; v++) {
        for (var u = u0; u < u1; u++) {
          var q = (v * size + u) * 4, alpha = pix[q + 3];
          if (alpha === 0) { continue; }
          var at = ((sy + v) * W + sx + u) * 4;
          if (alpha === 255) {
            data[at] = pix[q]; data[at + 1] = pix[q + 1]; data[at + 2] = pix[q + 2];
          } else {
            data[at] += (pix[q] - data[at]) * alpha / 255;
            data[at + 1] += (pix[q + 1] - data[at + 1]) * alpha / 255;
            data[at + 2] += (pix[q + 2] - data[at + 2]) * alpha / 255;
          }
        }
      }
    }
  }

  // One ImageData per canvas and size, reused from frame to frame.
  function pixelBuffer(ctx, W, H) {
    var canvas = ctx.canvas;
    if (!canvas.aePixels || canvas.aePixels.width !== W || canvas.aePixels.height !== H) {
      canvas.aePixels = ctx.createImageData(W, H);
    }
    return canvas.aePixels;
  }

  // An opaque RGB colour as the 32-bit word ImageData stores (byte order R, G, B, A in memory).
  function rgbWord(rgb) {
    var bytes = new Uint8ClampedArray([rgb[0], rgb[1], rgb[2], 255]);
    return new Uint32Array(bytes.buffer)[0];
  }
  var SHADE_WORDS = SHADES.map(rgbWord);
  var WHITE_WORD = rgbWord([255, 255, 255]);

  // The nearest centre of the middle of every cell of a GRID x GRID grid over the plot (row 0
  // at the top), with the E-step's rule: strictly closer wins, so ties keep the lower index.
  function regionLabels(view, C, k, d, metric) {
    var grid = new Int32Array(GRID * GRID), xlim = view.xlim, ylim = view.ylim;
    for (var row = 0; row < GRID; row++) {
      var gy = ylim[1] - (row + 0.5) / GRID * (ylim[1] - ylim[0]);
      for (var col = 0; col < GRID; col++) {
        var gx = xlim[0] + (col + 0.5) / GRID * (xlim[1] - xlim[0]), best = Infinity, label = 0;
        for (var j = 0; j < k; j++) {
          var dx = gx - C[j * d], dy = gy - C[j * d + 1];
          var dist = metric === "l1" ? Math.abs(dx) + Math.abs(dy) : dx * dx + dy * dy;
          if (dist < best) { best = dist; label = j; }
        }
        grid[row * GRID + col] = label % SHADES.length;
      }
    }
    return grid;
  }

  // ------------------------------------------------------------------ 2-D mixtures

  var ELLIPSE_STDS = [1, 2]; // algos.plotting.ELLIPSE_STDS: drawn solid and dashed
  var SHADE_LEVELS = 6; // steps of paleness, from "shared evenly" to "sure"

  // Each point's most responsible component (ties to the lowest index) and how sure the model
  // is, (r_max - 1/k) / (1 - 1/k) in SHADE_LEVELS steps (algos.plotting.responsibility_shades).
  function responsibilityShades(R, n, k) {
    var labels = new Int32Array(n), level = new Int32Array(n);
    for (var i = 0; i < n; i++) {
      var best = 0, top = R[i];
      for (var j = 1; j < k; j++) { if (R[j * n + i] > top) { top = R[j * n + i]; best = j; } }
      var strength = k === 1 ? 1 : Math.min(1, Math.max(0, (top - 1 / k) / (1 - 1 / k)));
      labels[i] = best;
      level[i] = Math.round(strength * (SHADE_LEVELS - 1));
    }
    return { labels: labels, level: level };
  }

  // Cluster j's colour mixed with white: full at strength 1, 12 % at 0 (algos.plotting._pale).
  function paleColor(j, strength) {
    var a = 0.12 + 0.88 * strength;
    return "rgb(" + hexToRgb(clusterColor(j)).map(function (c) { return Math.round(255 - a * (255 - c)); }).join(",") + ")";
  }

  // Path of component j's ellipse of c standard deviations, {m + c L u : |u| = 1} with L the
  // Cholesky factor of its 2 x 2 covariance.
  function ellipsePath(ctx, view, means, covariances, j, c) {
    var o = 4 * j, a = Math.sqrt(covariances[o]), b = covariances[o + 2] / a;
    var e = Math.sqrt(Math.max(0, covariances[o + 3] - b * b)), mx = means[2 * j], my = means[2 * j + 1];
    ctx.beginPath();
    for (var t = 0; t <= 96; t++) {
      var u = Math.cos(t * Math.PI / 48), v = Math.sin(t * Math.PI / 48);
      var x = view.px(mx + c * a * u), y = view.py(my + c * (b * u + e * v));
      if (t === 0) { ctx.moveTo(x, y); } else { ctx.lineTo(x, y); }
    }
  }

  // Limits that show the box `extent` in `area` with one unit as long on both axes.
  function equalAspect(extent, area) {
    var xs = extent.x[1] - extent.x[0], ys = extent.y[1] - extent.y[0];
    var unit = Math.min(area.width / xs, area.height / ys);
    var cx = (extent.x[0] + extent.x[1]) / 2, cy = (extent.y[0] + extent.y[1]) / 2;
    var hw = area.width / unit / 2, hh = area.height / unit / 2;
    return { x: [cx - hw, cx + hw], y: [cy - hh, cy + hh] };
  }

  // Limits holding the points and the 2-sd ellipses, at most one data range beyond the data,
  // padded by 6 % (algos.plotting.gaussian_mixture_extent).
  function mixtureExtent(X, n, mixtures) {
    var box = clusterExtent(X, n, 2, [], 0), lo = [box.x[0], box.y[0]], hi = [box.x[1], box.y[1]];
    var span = [hi[0] - lo[0] || 1e-9, hi[1] - lo[1] || 1e-9], data = [lo.slice(), hi.slice()];
    mixtures.forEach(function (p) {
      for (var j = 0; j < p.means.length / 2; j++) {
        for (var a = 0; a < 2; a++) {
          var reach = 2 * Math.sqrt(p.covariances[4 * j + 3 * a]), m = p.means[2 * j + a];
          lo[a] = Math.max(Math.min(lo[a], m - reach), data[0][a] - span[a]);
          hi[a] = Math.min(Math.max(hi[a], m + reach), data[1][a] + span[a]);
        }
      }
    });
    var pad = 0.06 * Math.max(hi[0] - lo[0], hi[1] - lo[1], 1e-9);
    return { x: [lo[0] - pad, hi[0] + pad], y: [lo[1] - pad, hi[1] + pad] };
  }

  // The points as pixels: grey before the first E-step, then in the colour and marker of their
  // most responsible component, paler the less sure it is; pale (unsure) points drawn last.
  function paintMixturePoints(ctx, ratio, view, scene) {
    var a = view.area, x0 = Math.round(a.left * ratio), y0 = Math.round(a.top * ratio);
    var image = pixelBuffer(ctx, Math.round(a.width * ratio), Math.round(a.height * ratio));
    var n = scene.n, r = pointRadius(n), step = scene.step, i;
    new Uint32Array(image.data.buffer).fill(WHITE_WORD);
    if (!step || !step.resp) {
      var grey = markerSprite("o", UNASSIGNED_COLOR, r, n <= 500, ratio);
      blendPoints(image, x0, y0, ratio, view, scene, null, function () { return grey; });
    } else {
      var shades = responsibilityShades(step.resp, n, scene.k), order = new Int32Array(n), at = 0;
      var labels = shades.labels, level = shades.level, stamps = {};
      for (var lv = SHADE_LEVELS - 1; lv >= 0; lv--) {
        for (i = 0; i < n; i++) { if (level[i] === lv) { order[at++] = i; } }
      }
      blendPoints(image, x0, y0, ratio, view, scene, order, function (q) {
        var j = labels[q], key = j * SHADE_LEVELS + level[q];
        return stamps[key] || (stamps[key] = markerSprite(clusterMarker(j),
          paleColor(j, level[q] / (SHADE_LEVELS - 1)), r, clusterColor(j), ratio));
      });
    }
    ctx.putImageData(image, x0, y0);
  }

  // A 2-D EM half-step (algos.plotting.plot_gaussian_mixture): the points, each component's
  // 1- and 2-sd ellipses (solid, dashed) and mean (a cross) in its colour; after an M-step the
  // previous 1-sd ellipses dotted grey, arrows from old to new means. Equal axis units.
  function drawGaussianMixture(canvas, scene) {
    var c = prepareCanvas(canvas), ctx = c.ctx, height = c.height - 52;
    var left = leftMargin(ctx, scene.extent.y[0], scene.extent.y[1], height, true);
    var area = { left: left, top: 10, width: c.width - left - 10, height: height };
    var box = equalAspect(scene.extent, area), view = makeView(area, box.x, box.y);
    var step = scene.step, p = step || scene.placed, j, q;
    ctx.save();
    ctx.beginPath();
    ctx.rect(area.left, area.top, area.width, area.height);
    ctx.clip();
    paintMixturePoints(ctx, c.ratio, view, scene);
    var old = step && step.kind === "M" ? scene.previous : null;
    for (j = 0; old && j < scene.k; j++) {
      ctx.setLineDash([2, 3]);
      ctx.strokeStyle = UNASSIGNED_COLOR;
      ctx.lineWidth = 1.3;
      ellipsePath(ctx, view, old.means, old.covariances, j, ELLIPSE_STDS[0]);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.strokeStyle = ctx.fillStyle = "#000000";
      ctx.lineWidth = 1.4;
      arrow(ctx, view.px(old.means[2 * j]), view.py(old.means[2 * j + 1]),
            view.px(step.means[2 * j]), view.py(step.means[2 * j + 1]), 2, 11);
    }
    var count = p ? p.means.length / 2 : 0;
    for (j = 0; j < count; j++) {
      for (q = 0; q < ELLIPSE_STDS.length && p.covariances; q++) {
        ctx.setLineDash(q ? [6, 4] : []);
        ctx.lineWidth = q ? 1.5 : 2.2;
        ctx.strokeStyle = clusterColor(j);
        ellipsePath(ctx, view, p.means, p.covariances, j, ELLIPSE_STDS[q]);
        ctx.stroke();
      }
      ctx.setLineDash([]);
      ctx.beginPath();
      markerPath(ctx, "X", view.px(p.means[2 * j]), view.py(p.means[2 * j + 1]), 10);
      ctx.fillStyle = clusterColor(j);
      ctx.fill();
      ctx.lineWidth = 1.5;
      ctx.strokeStyle = "#000000";
      ctx.stroke();
    }
    ctx.fillStyle = INK;
    (step ? step.dead : []).forEach(function (e) {
      ctx.fillText("dead", view.px(step.means[2 * e]) + 12, view.py(step.means[2 * e + 1]) - 10);
    });
    drawCursor(ctx, scene.cursor, view, true);
    ctx.restore();
    drawAxes(ctx, view, "x\u2081", "x\u2082");
    return view;
  }

  function drawCursor(ctx, cursor, view, both) {
    if (!cursor) { return; }
    var x = view.px(cursor.x), y = both ? view.py(cursor.y) : view.area.top + view.area.height / 2;
    ctx.save();
    ctx.strokeStyle = "#000000";
    ctx.lineWidth = 1.5;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    if (both) {
      ctx.moveTo(x - 14, y); ctx.lineTo(x + 14, y);
      ctx.moveTo(x, y - 14); ctx.lineTo(x, y + 14);
    } else {
      ctx.moveTo(x, view.area.top); ctx.lineTo(x, view.area.top + view.area.height);
    }
    ctx.stroke();
    ctx.restore();
  }

  function normalPdf(x, mean, sigma) {
    var z = (x - mean) / sigma;
    return Math.exp(-0.5 * z * z) / (sigma * Math.sqrt(2 * Math.PI));
  }

  // x-axis limits that frame the data and the starting means (a wide start's tails are cut
  // off rather than squeezing the data into a sliver; algos.plotting.mixture_xlim keeps
  // 3 sigmas because it knows the whole history in advance).
  function mixtureXlim(x, mixtures) {
    var lo = Infinity, hi = -Infinity, i;
    for (i = 0; i < x.length; i++) { lo = Math.min(lo, x[i]); hi = Math.max(hi, x[i]); }
    var xmin = lo, xmax = hi, span0 = xmax - xmin || 1;
    mixtures.forEach(function (p) {
      for (var j = 0; j < p.means.length; j++) {
        lo = Math.min(lo, Math.max(p.means[j], xmin - 2 * span0));
        hi = Math.max(hi, Math.min(p.means[j], xmax + 2 * span0));
      }
    });
    var span = hi - lo || 1;
    return [lo - 0.1 * span, hi + 0.1 * span];
  }

  // Density histogram with numpy's bins="auto" (the smaller of the Sturges and
  // Freedman-Diaconis widths).
  function histogram(x) {
    var v = Float64Array.from(x).sort(), n = v.length, lo = v[0], hi = v[n - 1];
    if (!(hi > lo)) { return null; }
    var sturges = (hi - lo) / (Math.log2(n) + 1);
    var q = function (p) { var h = (n - 1) * p, f = Math.floor(h); return v[f] + (h - f) * ((v[Math.min(n - 1, f + 1)]) - v[f]); };
    var fd = 2 * (q(0.75) - q(0.25)) / Math.cbrt(n);
    var width = fd > 0 ? Math.min(fd, sturges) : sturges;
    var bins = Math.max(1, Math.ceil((hi - lo) / width)), counts = new Float64Array(bins);
    width = (hi - lo) / bins;
    for (var i = 0; i < n; i++) { counts[Math.min(bins - 1, Math.floor((v[i] - lo) / width))] += 1; }
    var peak = 0;
    for (var b = 0; b < bins; b++) { counts[b] /= n * width; peak = Math.max(peak, counts[b]); }
    return { lo: lo, width: width, density: counts, peak: peak };
  }

  function mixturePeak(p, xlim) {
    var peak = 0;
    for (var i = 0; i <= 300; i++) {
      var xs = xlim[0] + i / 300 * (xlim[1] - xlim[0]), total = 0;
      for (var j = 0; j < p.means.length; j++) {
        var c = p.weights[j] * normalPdf(xs, p.means[j], p.sigmas[j]);
        total += c;
        peak = Math.max(peak, c);
      }
      peak = Math.max(peak, total);
    }
    return peak;
  }

  // The picture of an EM half-step: light histogram (20 points or more), each weighted
  // component dashed in its colour, the mixture (their sum) in black, and below the axis each
  // point's responsibilities stacked in the component colours (grey rug before the first E-step).
  function drawMixture(canvas, scene) {
    var c = prepareCanvas(canvas), ctx = c.ctx, height = c.height - 52;
    var x = scene.x, n = x.length, step = scene.step, p = step || scene.placedMixture, i, j;
    var ymax = scene.ymax, band = 0.22 * ymax, gap = 0.04 * ymax, base = -gap - band;
    var left = leftMargin(ctx, 0, ymax, height, true);
    var area = { left: left, top: 10, width: c.width - left - 10, height: height };
    var view = makeView(area, scene.xlim, [base - 0.5 * gap, ymax]);
    ctx.save();
    ctx.beginPath();
    ctx.rect(area.left, area.top, area.width, area.height);
    ctx.clip();
    if (scene.hist) {
      ctx.fillStyle = "#D9D9D9";
      for (var b = 0; b < scene.hist.density.length; b++) {
        var x0 = view.px(scene.hist.lo + b * scene.hist.width), x1 = view.px(scene.hist.lo + (b + 1) * scene.hist.width);
        var y0 = view.py(scene.hist.density[b]);
        ctx.fillRect(x0, y0, x1 - x0, view.py(0) - y0);
      }
    }
    if (p && p.means.length) {
      var steps = Math.max(200, Math.round(area.width)), k = p.means.length;
      var xs = new Float64Array(steps + 1), total = new Float64Array(steps + 1);
      for (i = 0; i <= steps; i++) { xs[i] = view.xlim[0] + i / steps * (view.xlim[1] - view.xlim[0]); }
      for (j = 0; j < k; j++) {
        var ys = new Float64Array(steps + 1);
        for (i = 0; i <= steps; i++) {
          ys[i] = p.weights[j] * normalPdf(xs[i], p.means[j], p.sigmas[j]);
          total[i] += ys[i];
        }
        curve(ctx, view, xs, ys, clusterColor(j), 2, [7, 4], 0.12);
      }
      if (step) { curve(ctx, view, xs, total, "#000000", 2, [], 0); }
    }
    drawResponsibilities(ctx, view, x, n, step, scene.k, base, band, gap);
    ctx.strokeStyle = "#000000";
    ctx.lineWidth = 0.8;
    ctx.beginPath();
    ctx.moveTo(area.left, view.py(0));
    ctx.lineTo(area.left + area.width, view.py(0));
    ctx.stroke();
    drawCursor(ctx, scene.cursor, view, false);
    ctx.restore();
    drawAxes(ctx, view, "x", "density", niceTicks(0, ymax, Math.max(2, Math.floor(area.height / 45))));
    return view;
  }

  function curve(ctx, view, xs, ys, color, width, dash, fillAlpha) {
    var zero = view.py(0);
    ctx.beginPath();
    for (var i = 0; i < xs.length; i++) {
      var px = view.px(xs[i]), py = Math.max(view.area.top - 5, view.py(ys[i]));
      if (i === 0) { ctx.moveTo(px, py); } else { ctx.lineTo(px, py); }
    }
    if (fillAlpha > 0) {
      ctx.save();
      ctx.lineTo(view.px(xs[xs.length - 1]), zero);
      ctx.lineTo(view.px(xs[0]), zero);
      ctx.closePath();
      ctx.globalAlpha = fillAlpha;
      ctx.fillStyle = color;
      ctx.fill();
      ctx.restore();
      ctx.beginPath();
      for (var q = 0; q < xs.length; q++) {
        var qx = view.px(xs[q]), qy = Math.max(view.area.top - 5, view.py(ys[q]));
        if (q === 0) { ctx.moveTo(qx, qy); } else { ctx.lineTo(qx, qy); }
      }
    }
    ctx.setLineDash(dash);
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.stroke();
    ctx.setLineDash([]);
  }

  // Points grouped by the CSS pixel column they are drawn in, left to right: with thousands of
  // points the band and the rug below the axis are drawn once per column, not once per point
  // (the same picture at screen resolution, much faster to draw).
  function pixelColumns(view, x) {
    var members = {}, columns = [];
    for (var i = 0; i < x.length; i++) {
      var c = Math.round(view.px(x[i]));
      if (!members[c]) { members[c] = []; columns.push(c); }
      members[c].push(i);
    }
    columns.sort(function (a, b) { return a - b; });
    return columns.map(function (c) { return { px: c, members: members[c] }; });
  }

  function drawResponsibilities(ctx, view, x, n, step, k, base, band, gap) {
    var width = Math.max(1, Math.min(9, 300 / Math.max(n, 1))), i, j;
    var few = n <= BARS_UP_TO, columns = few ? null : pixelColumns(view, x);
    if (!step || !step.resp) { // no responsibilities yet: a grey rug
      ctx.fillStyle = UNASSIGNED_COLOR;
      var top = view.py(-gap), bottom = view.py(base);
      if (few) {
        for (i = 0; i < n; i++) { ctx.fillRect(view.px(x[i]) - width / 2, top, width, bottom - top); }
      } else {
        columns.forEach(function (c) { ctx.fillRect(c.px - 0.5, top, 1, bottom - top); });
      }
      return;
    }
    var R = step.resp;
    if (few) { // one bar per point, split into its responsibilities
      ctx.lineWidth = width;
      for (j = 0; j < k; j++) {
        ctx.strokeStyle = clusterColor(j);
        ctx.beginPath();
        for (i = 0; i < n; i++) {
          var below = 0;
          for (var q = 0; q < j; q++) { below += R[q * n + i]; }
          ctx.moveTo(view.px(x[i]), view.py(base + band * below));
          ctx.lineTo(view.px(x[i]), view.py(base + band * (below + R[j * n + i])));
        }
        ctx.stroke();
      }
      return;
    }
    // many points: the responsibilities stacked as bands over the sorted points (each
    // column shows the mean responsibilities of the points drawn in it)
    var m = columns.length, lower = new Float64Array(m).fill(base), upper = new Float64Array(m);
    for (j = 0; j < k; j++) {
      ctx.beginPath();
      for (i = 0; i < m; i++) {
        var sum = 0, members = columns[i].members;
        for (var t = 0; t < members.length; t++) { sum += R[j * n + members[t]]; }
        upper[i] = lower[i] + band * sum / members.length;
        if (i === 0) { ctx.moveTo(columns[i].px, view.py(upper[i])); } else { ctx.lineTo(columns[i].px, view.py(upper[i])); }
      }
      for (i = m - 1; i >= 0; i--) { ctx.lineTo(columns[i].px, view.py(lower[i])); }
      ctx.closePath();
      ctx.fillStyle = clusterColor(j);
      ctx.fill();
      var swap = lower; lower = upper; upper = swap;
    }
    ctx.fillStyle = "rgba(0, 0, 0, 0.5)"; // a rug under the band: where the points are
    columns.forEach(function (c) { ctx.fillRect(c.px - 0.5, view.py(base) + 1, 1, 4); });
  }

  function halfStepName(step) { return step.kind === "init" ? "init" : step.kind + step.iteration; }

  // The objective after every half-step so far: start a diamond, E-steps circles, M-steps
  // squares, the current half-step ringed (algos.plotting.plot_objective).
  function drawObjective(canvas, history, current, label) {
    var c = prepareCanvas(canvas), ctx = c.ctx, height = c.height - 62;
    var shown = history.slice(0, current + 1), values = [], i;
    shown.forEach(function (s, idx) { if (s.objective !== null) { values.push([idx, s.objective]); } });
    ctx.fillStyle = INK;
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    ctx.fillText(label, 6, 4);
    if (!values.length) {
      ctx.textAlign = "center";
      ctx.fillText("no value yet: the first", c.width / 2, c.height / 2 - 10);
      ctx.fillText("E-step assigns the points", c.width / 2, c.height / 2 + 8);
      return;
    }
    var lo = Infinity, hi = -Infinity;
    values.forEach(function (v) { lo = Math.min(lo, v[1]); hi = Math.max(hi, v[1]); });
    if (!values.length) { lo = 0; hi = 1; }
    var pad = hi > lo ? 0.08 * (hi - lo) : Math.max(1e-9, 0.05 * Math.abs(hi) || 1);
    var xmax = Math.max(shown.length - 0.5, 4.5);
    var left = leftMargin(ctx, lo - pad, hi + pad, height, false);
    var area = { left: left, top: 26, width: c.width - left - 12, height: height };
    var view = makeView(area, [-0.5, xmax], [lo - pad, hi + pad]);
    ctx.save();
    ctx.strokeStyle = "#777777";
    ctx.lineWidth = 1.2;
    ctx.beginPath();
    values.forEach(function (v, idx) {
      if (idx === 0) { ctx.moveTo(view.px(v[0]), view.py(v[1])); } else { ctx.lineTo(view.px(v[0]), view.py(v[1])); }
    });
    ctx.stroke();
    ctx.fillStyle = PALETTE[4];
    values.forEach(function (v) {
      var kind = shown[v[0]].kind;
      ctx.beginPath();
      markerPath(ctx, kind === "init" ? "D" : (kind === "E" ? "o" : "s"), view.px(v[0]), view.py(v[1]), 3.5);
      ctx.fill();
    });
    var now = shown[current];
    if (now && now.objective !== null) {
      ctx.strokeStyle = PALETTE[5];
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(view.px(current), view.py(now.objective), 8, 0, 2 * Math.PI);
      ctx.stroke();
    }
    ctx.restore();
    // x ticks: half-step names at a readable spacing
    var every = Math.max(1, Math.ceil(shown.length / Math.max(2, Math.floor(area.width / 48))));
    ctx.save();
    ctx.fillStyle = INK;
    ctx.strokeStyle = INK;
    ctx.strokeRect(area.left + 0.5, area.top + 0.5, area.width, area.height);
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (i = 0; i < shown.length; i += every) {
      ctx.fillText(halfStepName(shown[i]), view.px(i), area.top + area.height + 6);
    }
    ctx.fillText("half-step", area.left + area.width / 2, area.top + area.height + 22);
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    niceTicks(view.ylim[0], view.ylim[1], Math.max(2, Math.floor(area.height / 45))).forEach(function (t) {
      ctx.fillText(tickLabel(t), area.left - 6, view.py(t));
    });
    ctx.restore();
  }

  // ===========================================================================================
  // Part 3. The explorer: controls, text and input
  // ===========================================================================================

  var NAMES = { kmeans: "K-means", kmedoids: "K-medoids", gmm1d: "Gaussian-mixture EM",
                gmm: "Gaussian-mixture EM in 2-D" };
  var COVARIANCE_LABELS = { full: "full (any ellipse)", diag: "diag (axis-aligned)",
                            spherical: "spherical (circles)", tied: "tied (one shared ellipse)" };

  function isMixture(method) { return method === "gmm1d" || method === "gmm"; }
  var MAX_K = 10;
  var RUN_INTERVAL_MS = 300;

  // What each half-step does, said before it happens (the player's words, algos.stepper).
  var NEXT = {
    kmeans: { E: "E-step, reassign every point to its nearest centre",
              M: "M-step, move every centre to the mean of its points",
              first: "E-step, assign every point to its nearest centre" },
    kmedoids: { E: "E-step, reassign every point to its nearest medoid",
                M: "M-step, make each cluster's medoid the member with the smallest total distance to the other members",
                Mall: "M-step, make each cluster's medoid the point (among all points) with the smallest total distance to the cluster's members",
                first: "E-step, assign every point to its nearest medoid" },
    gmm1d: { E: "E-step, compute every point's responsibilities from the current parameters",
             M: "M-step, re-estimate weights, means and sigmas from the responsibilities",
             first: "E-step, compute every point's responsibilities from the current parameters" },
    gmm: { E: "E-step, compute every point's responsibilities from the current parameters",
           M: "M-step, re-estimate weights, means and covariances (the ellipses) from the responsibilities",
           first: "E-step, compute every point's responsibilities from the current parameters" }
  };

  var CHART_LABELS = { kmeans: "objective J so far", kmedoids: "cost so far", gmm1d: "log-likelihood so far",
                       gmm: "log-likelihood so far" };

  var START_LABELS = {
    player: "as in the step-through above",
    random: "random data points (seeded)",
    "k-means++": "k-means++ (seeded)",
    kmeans: "k-means result (seeded)",
    placed: "placed by clicking on the plot"
  };

  // Data sets a reader draws on: clicks add points. Made here with a fixed seed.
  function drawableSets(method) {
    var rng = makeRng(2024), i, pts = [];
    function gauss() { // Box-Muller
      return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    }
    if (method === "gmm1d") {
      for (i = 0; i < 40; i++) { pts.push(Math.round((1 + 8 * rng()) * 100) / 100); }
      return [{ name: "your own values (click to add)", data: [], drawable: true },
              { name: "uniform values (click to add more)", data: pts, drawable: true }];
    }
    var face = [];
    for (i = 0; i < 120; i++) {
      var a = 2 * Math.PI * i / 120;
      face.push([5 + 4 * Math.cos(a) + 0.15 * gauss(), 5 + 4 * Math.sin(a) + 0.15 * gauss()]);
    }
    for (i = 0; i < 25; i++) { face.push([3.5 + 0.3 * gauss(), 6.4 + 0.3 * gauss()]); }
    for (i = 0; i < 25; i++) { face.push([6.5 + 0.3 * gauss(), 6.4 + 0.3 * gauss()]); }
    for (i = 0; i < 40; i++) {
      var t = Math.PI * (1.2 + 0.6 * i / 39);
      face.push([5 + 2.3 * Math.cos(t) + 0.1 * gauss(), 4.6 + 1.6 * Math.sin(t) + 0.1 * gauss()]);
    }
    for (i = 0; i < 150; i++) { pts.push([0.5 + 9 * rng(), 0.5 + 9 * rng()]); }
    var round = function (p) { return [Math.round(p[0] * 1000) / 1000, Math.round(p[1] * 1000) / 1000]; };
    return [{ name: "your own points (click to add)", data: [], drawable: true },
            { name: "smiley face (click to add more)", data: face.map(round), drawable: true },
            { name: "uniform square (click to add more)", data: pts.map(round), drawable: true }];
  }

  var counter = 0;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function Explorer(root, config) {
    this.root = root;
    this.method = checkChoice(config.method, "method", METHODS);
    this.id = "algos-explorer-" + (++counter);
    this.datasets = config.datasets.map(function (s) { return { name: s.name, data: s.data.slice(), drawable: false }; })
      .concat(drawableSets(this.method));
    this.playerStart = config.init || null; // the chapter's explicit start, for data set 0
    this.playerK = config.k; // ... and the k it was made for
    this.playerType = config.covariance_type || "full"; // ... and the covariance type
    this.datasetIndex = 0;
    this.k = config.k;
    this.metric = config.metric || "l2";
    this.medoidsFrom = config.medoids_from || "cluster";
    this.seed = config.seed || 0;
    this.covarianceType = config.covariance_type || "full";
    this.start = this.playerStart ? "player" : (config.start || this.defaultStart());
    this.placed = [];
    this.run = null;
    this.index = 0;
    this.timer = null;
    this.cursor = null;
    this.problem = ""; // a bad value typed in a control
    this.notice = ""; // what the last click could not do
    this.build();
    this.loadDataset();
    this.rebuild();
  }

  Explorer.prototype.build = function () {
    var self = this, root = this.root, m = this.method;
    root.textContent = "";
    root.setAttribute("role", "group");
    root.setAttribute("aria-labelledby", this.id + "-title");
    root.appendChild(el("p", { "class": "ae-title", id: this.id + "-title" },
                        "Explorer: " + NAMES[m] + " in your browser"));

    var controls = el("div", { "class": "ae-controls" });
    function field(labelText, control, extraClass) {
      var label = el("label", { "class": "ae-field" + (extraClass ? " " + extraClass : "") });
      label.appendChild(el("span", {}, labelText));
      label.appendChild(control);
      controls.appendChild(label);
      return label;
    }
    this.datasetSelect = el("select", {});
    this.datasets.forEach(function (s, i) { self.datasetSelect.appendChild(el("option", { value: String(i) }, s.name)); });
    field("Data set", this.datasetSelect, "ae-wide");
    this.kInput = el("input", { type: "number", min: "1", max: String(MAX_K), step: "1", inputmode: "numeric" });
    field(isMixture(m) ? "Components k" : "Clusters k", this.kInput);
    if (m === "gmm") {
      this.covarianceSelect = el("select", {});
      COVARIANCE_TYPES.forEach(function (t) {
        self.covarianceSelect.appendChild(el("option", { value: t }, COVARIANCE_LABELS[t]));
      });
      field("Covariance type", this.covarianceSelect);
    }
    if (!isMixture(m)) {
      this.metricSelect = el("select", {});
      this.metricSelect.appendChild(el("option", { value: "l2" }, "l2 (Euclidean)"));
      this.metricSelect.appendChild(el("option", { value: "l1" }, "l1 (Manhattan)"));
      field("Metric", this.metricSelect);
    }
    if (m === "kmedoids") {
      this.candidatesSelect = el("select", {});
      this.candidatesSelect.appendChild(el("option", { value: "cluster" }, "members of the cluster"));
      this.candidatesSelect.appendChild(el("option", { value: "all" }, "all points"));
      field("Medoid candidates", this.candidatesSelect);
    }
    this.startSelect = el("select", {});
    field("Start", this.startSelect, "ae-wide");
    this.seedInput = el("input", { type: "number", min: "0", step: "1", inputmode: "numeric" });
    this.seedField = field("Seed", this.seedInput);
    root.appendChild(controls);

    var buttons = el("div", { "class": "ae-buttons" });
    function button(name, title) {
      var b = el("button", { type: "button", title: title }, name);
      buttons.appendChild(b);
      return b;
    }
    this.stepButton = button("Step", "Compute and show the next half-step");
    this.backButton = button("Back", "Show the previous half-step");
    this.runButton = button("Run", "Step on, animated, until the run stops");
    this.resetButton = button("Reset", "Back to the start of this run");
    this.clearButton = button("Clear points", "Remove every point of this drawn data set");
    this.position = el("span", { "class": "ae-position" });
    buttons.appendChild(this.position);
    root.appendChild(buttons);

    this.caption = el("p", { "class": "ae-caption", "aria-live": "polite" });
    root.appendChild(this.caption);

    var figure = el("div", { "class": "ae-figure" });
    var plotBox = el("div", { "class": "ae-plot-box" });
    this.plot = el("canvas", { "class": "ae-plot", id: this.id + "-plot",
                               "aria-describedby": this.id + "-desc " + this.id + "-hint" });
    plotBox.appendChild(this.plot);
    var objectiveBox = el("div", { "class": "ae-objective-box" });
    this.chart = el("canvas", { "class": "ae-chart", role: "img" });
    objectiveBox.appendChild(this.chart);
    figure.appendChild(plotBox);
    figure.appendChild(objectiveBox);
    root.appendChild(figure);
    this.description = el("p", { "class": "ae-sr-only", id: this.id + "-desc" });
    root.appendChild(this.description);
    this.legend = el("ul", { "class": "ae-legend", "aria-label": "Legend" });
    root.appendChild(this.legend);
    this.nextText = el("p", { "class": "ae-next" });
    root.appendChild(this.nextText);
    this.objectiveText = el("p", { "class": "ae-objective-text" });
    root.appendChild(this.objectiveText);
    this.hint = el("p", { "class": "ae-hint", id: this.id + "-hint", "aria-live": "polite" });
    root.appendChild(this.hint);

    this.datasetSelect.addEventListener("change", function () {
      self.datasetIndex = parseInt(self.datasetSelect.value, 10);
      if (self.start === "player") { self.start = self.defaultStart(); }
      self.placed = [];
      self.loadDataset();
      self.rebuild();
    });
    function onK() {
      var v = Number(self.kInput.value);
      if (!Number.isInteger(v) || v < 1 || v > MAX_K) {
        self.kInput.setAttribute("aria-invalid", "true");
        self.problem = "k must be a whole number from 1 to " + MAX_K + ".";
        self.stop();
        self.render();
        return;
      }
      self.kInput.removeAttribute("aria-invalid");
      self.problem = "";
      if (v === self.k && self.run) { return; }
      self.k = v;
      if (self.start === "player") { self.start = self.defaultStart(); }
      self.placed = self.placed.slice(0, v);
      self.rebuild();
    }
    this.kInput.addEventListener("input", onK);
    this.kInput.addEventListener("change", onK);
    if (this.metricSelect) {
      this.metricSelect.addEventListener("change", function () { self.metric = self.metricSelect.value; self.rebuild(); });
    }
    if (this.covarianceSelect) {
      this.covarianceSelect.addEventListener("change", function () {
        self.covarianceType = self.covarianceSelect.value;
        if (self.start === "player") { self.start = self.defaultStart(); }
        self.rebuild();
      });
    }
    if (this.candidatesSelect) {
      this.candidatesSelect.addEventListener("change", function () { self.medoidsFrom = self.candidatesSelect.value; self.rebuild(); });
    }
    this.startSelect.addEventListener("change", function () {
      self.start = self.startSelect.value;
      self.rebuild();
    });
    function onSeed() {
      var v = Number(self.seedInput.value);
      if (self.seedInput.value === "" || !Number.isInteger(v) || v < 0 || v > 4294967295) {
        self.seedInput.setAttribute("aria-invalid", "true");
        self.problem = "The seed must be a whole number, 0 or more.";
        self.render();
        return;
      }
      self.seedInput.removeAttribute("aria-invalid");
      self.problem = "";
      if (v !== self.seed || !self.run) { self.seed = v; self.rebuild(); }
    }
    this.seedInput.addEventListener("input", onSeed);
    this.seedInput.addEventListener("change", onSeed);

    this.stepButton.addEventListener("click", function () { if (self.enabled(self.stepButton)) { self.stop(); self.step(); } });
    this.backButton.addEventListener("click", function () { if (self.enabled(self.backButton)) { self.stop(); self.back(); } });
    this.runButton.addEventListener("click", function () { if (self.enabled(self.runButton)) { self.toggleRun(); } });
    this.resetButton.addEventListener("click", function () { if (self.enabled(self.resetButton)) { self.stop(); self.reset(); } });
    this.clearButton.addEventListener("click", function () {
      if (!self.enabled(self.clearButton)) { return; }
      self.points = [];
      self.datasets[self.datasetIndex].data = [];
      self.placed = self.method === "kmedoids" ? [] : self.placed;
      self.rebuild();
    });

    this.plot.addEventListener("click", function (e) {
      var rect = self.plot.getBoundingClientRect();
      self.clickAt(self.view.dataX(e.clientX - rect.left), self.view.dataY(e.clientY - rect.top));
    });
    this.plot.addEventListener("focus", function () {
      // the cross is for the keyboard: a mouse click that focuses the plot does not show it
      if (!self.cursor && self.plot.matches(":focus-visible")) {
        var v = self.view;
        self.cursor = { x: (v.xlim[0] + v.xlim[1]) / 2, y: (v.ylim[0] + v.ylim[1]) / 2 };
      }
      self.render();
    });
    this.plot.addEventListener("blur", function () { self.cursor = null; self.render(); });
    this.plot.addEventListener("keydown", function (e) { self.onPlotKey(e); });
    if (window.ResizeObserver) {
      var last = 0;
      new ResizeObserver(function () {
        var w = plotBox.clientWidth;
        if (w !== last) { last = w; self.render(); }
      }).observe(plotBox);
    }
  };

  Explorer.prototype.defaultStart = function () { return isMixture(this.method) ? "kmeans" : "k-means++"; };

  Explorer.prototype.enabled = function (b) { return b.getAttribute("aria-disabled") !== "true" && !b.hidden; };

  Explorer.prototype.loadDataset = function () {
    var set = this.datasets[this.datasetIndex];
    this.points = set.data; // a drawable set is changed in place by clicks
    this.drawable = set.drawable;
  };

  // The data as the algorithms read them: x (1-D) or X (n rows of 2), plus a fixed view.
  Explorer.prototype.dataArrays = function () {
    var pts = this.points, n = pts.length, i;
    if (this.method === "gmm1d") {
      var x = new Float64Array(n);
      for (i = 0; i < n; i++) { x[i] = pts[i]; }
      return { x: x, n: n };
    }
    var X = new Float64Array(n * 2);
    for (i = 0; i < n; i++) { X[2 * i] = pts[i][0]; X[2 * i + 1] = pts[i][1]; }
    return { X: X, n: n, d: 2 };
  };

  // The start the run begins from, or null while the reader is still placing it.
  Explorer.prototype.startSpec = function () {
    if (this.start === "player") { return this.playerStart; }
    if (this.start !== "placed") { return this.start; }
    if (this.placed.length < this.k) { return null; }
    if (this.method === "gmm1d") {
      var spread = Math.max(standardDeviation(this.data.x), defaultMinSigma(this.data.x)), k = this.k;
      return { weights: new Array(k).fill(1 / k), means: this.placed.slice(),
               sigmas: new Array(k).fill(spread) };
    }
    if (this.method === "gmm") { return this.placedMixture(this.k); }
    return this.placed.slice();
  };

  // A 2-D mixture start from the first `count` placed means: equal weights and every
  // covariance the whole data set's in the type's form (+ the default reg_covar), as
  // algos.gmm's "random" start gives them; plain arrays, as a spec's init.
  Explorer.prototype.placedMixture = function (count) {
    var data = this.data, cols = columnsOf(data.X, data.n, 2);
    var spread = data.n ? Array.from(wholeDataCovariance(cols, data.n, 2, this.covarianceType,
                                                         defaultRegCovar(cols, data.n))) : [1, 0, 0, 1];
    var means = this.placed.slice(0, count), k = this.k;
    return { weights: means.map(function () { return 1 / k; }), means: means,
             covariances: means.map(function () { return [spread.slice(0, 2), spread.slice(2, 4)]; }) };
  };

  // Start a new run from the current settings (at its "init" half-step).
  Explorer.prototype.rebuild = function () {
    this.stop();
    this.notice = "";
    this.data = this.dataArrays();
    this.run = null;
    this.index = 0;
    this.runError = "";
    var n = this.data.n, k = this.k;
    if (n >= k && n > 0) {
      var init = this.startSpec();
      if (init !== null) {
        var spec = { method: this.method, k: k, init: init, seed: this.seed,
                     data: this.points };
        if (!isMixture(this.method)) { spec.metric = this.metric; }
        if (this.method === "gmm") { spec.covariance_type = this.covarianceType; }
        if (this.method === "kmedoids") { spec.medoids_from = this.medoidsFrom; }
        try {
          this.run = startRun(spec);
        } catch (err) {
          this.runError = err.message;
        }
      }
    }
    this.fixView();
    this.render();
  };

  // Axes that stay put while stepping: the data and the start (later centres are means of
  // the data or medoids; mixtures keep within mixtureXlim's bounds).
  Explorer.prototype.fixView = function () {
    var data = this.data, first = this.run ? this.run.history[0] : null;
    if (this.method === "gmm1d") {
      var x = data.n ? data.x : Float64Array.from([0, 10]);
      this.xlim = this.drawable && data.n < 2 ? [0, 10] : mixtureXlim(x, first ? [first] : []);
      if (this.drawable) { this.xlim = [Math.min(0, this.xlim[0]), Math.max(10, this.xlim[1])]; }
      this.hist = data.n >= 20 ? histogram(data.x) : null;
      var base = this.hist ? this.hist.peak : 0;
      if (first) { base = Math.max(base, mixturePeak(first, this.xlim)); }
      this.ycap = 4 * (base || 0.5);
      this.ymax = 1.15 * (base || 0.5);
      return;
    }
    var sets = first ? [first.centers] : [];
    if (this.method === "gmm" && data.n) { // the start's ellipses too, within bounds
      var box = mixtureExtent(data.X, data.n, first ? [first] : []);
      sets = [Float64Array.from([box.x[0], box.y[0], box.x[1], box.y[1]])];
    }
    if (this.drawable) {
      var ext = data.n ? clusterExtent(data.X, data.n, 2, sets) : { x: [0, 10], y: [0, 10] };
      this.extent = { x: [Math.min(0, ext.x[0]), Math.max(10, ext.x[1])], y: [Math.min(0, ext.y[0]), Math.max(10, ext.y[1])] };
    } else {
      this.extent = clusterExtent(data.X, data.n, 2, sets);
    }
  };

  Explorer.prototype.step = function () {
    this.notice = "";
    if (!this.run) { return false; }
    if (this.index < this.run.history.length - 1) {
      this.index += 1;
    } else if (this.safeStep()) {
      this.index += 1;
    } else {
      return false;
    }
    this.render();
    return true;
  };

  // The run's next half-step; a step the algorithm refuses (EM with a singular covariance)
  // ends the run with its message instead of an uncaught error.
  Explorer.prototype.safeStep = function () {
    try {
      return this.run.step();
    } catch (err) {
      this.runError = err.message;
      this.run.done = true;
      this.index = this.run.history.length - 1;
      return false;
    }
  };

  Explorer.prototype.back = function () {
    this.notice = "";
    if (this.index > 0) { this.index -= 1; this.render(); }
  };

  Explorer.prototype.reset = function () { this.notice = ""; this.index = 0; this.render(); };

  Explorer.prototype.atEnd = function () {
    return !this.run || (this.run.done && this.index === this.run.history.length - 1);
  };

  Explorer.prototype.toggleRun = function () {
    var self = this;
    if (this.timer !== null) { this.stop(); this.render(); return; }
    if (this.atEnd()) { return; }
    this.runButton.textContent = "Pause";
    this.runButton.title = "Stop the animation here";
    this.timer = window.setInterval(function () {
      if (!self.step() || self.atEnd()) { self.stop(); self.render(); }
    }, RUN_INTERVAL_MS);
  };

  Explorer.prototype.stop = function () {
    if (this.timer !== null) { window.clearInterval(this.timer); this.timer = null; }
    if (this.runButton) {
      this.runButton.textContent = "Run";
      this.runButton.title = "Step on, animated, until the run stops";
    }
  };

  // A click (or Enter on the keyboard cross) at data coordinates (x, y).
  Explorer.prototype.clickAt = function (x, y) {
    if (this.start === "placed") { this.placeStart(x, y); return; }
    if (this.drawable) {
      this.points.push(this.method === "gmm1d" ? round3(x) : [round3(x), round3(y)]);
      this.rebuild();
      return;
    }
    this.notice = "Clicks place the start when the start is \u201c" + START_LABELS.placed +
      "\u201d, and add points on a drawn data set.";
    this.render();
  };

  function round3(v) { return Math.round(v * 1000) / 1000; }

  // Place the next start (or, with all k placed, move the nearest one there). For K-medoids
  // the start is the nearest data point that is not a medoid already (lowest row on ties).
  Explorer.prototype.placeStart = function (x, y) {
    var placed = this.placed, data = this.data, j, best, bestDist;
    var item;
    if (this.method === "gmm1d") {
      item = round3(x);
    } else if (this.method !== "kmedoids") {
      item = [round3(x), round3(y)];
    } else {
      best = -1; bestDist = Infinity;
      for (var i = 0; i < data.n; i++) {
        var dx = data.X[2 * i] - x, dy = data.X[2 * i + 1] - y, dist = dx * dx + dy * dy;
        var atMedoid = placed.some(function (m) { return samePosition(data.X, i, m, 2); });
        if (dist < bestDist && !atMedoid) { bestDist = dist; best = i; }
      }
      if (best < 0) { this.notice = "Every position holds a medoid already."; this.render(); return; }
      item = best;
    }
    if (placed.length < this.k) {
      placed.push(item);
    } else { // move the placed start nearest to the click
      best = 0; bestDist = Infinity;
      for (j = 0; j < placed.length; j++) {
        var p = this.method === "gmm1d" ? [placed[j], 0] : (this.method !== "kmedoids" ? placed[j] : [data.X[2 * placed[j]], data.X[2 * placed[j] + 1]]);
        var ddx = p[0] - x, ddy = this.method === "gmm1d" ? 0 : p[1] - y, dd = ddx * ddx + ddy * ddy;
        if (dd < bestDist) { bestDist = dd; best = j; }
      }
      placed[best] = item;
    }
    this.rebuild();
  };

  Explorer.prototype.onPlotKey = function (e) {
    var v = this.view, big = e.shiftKey ? 0.1 : 0.02, moved = true;
    if (!this.cursor) { this.cursor = { x: (v.xlim[0] + v.xlim[1]) / 2, y: (v.ylim[0] + v.ylim[1]) / 2 }; }
    var dx = big * (v.xlim[1] - v.xlim[0]), dy = big * (v.ylim[1] - v.ylim[0]);
    if (e.key === "ArrowLeft") { this.cursor.x -= dx; }
    else if (e.key === "ArrowRight") { this.cursor.x += dx; }
    else if (e.key === "ArrowUp") { this.cursor.y += dy; }
    else if (e.key === "ArrowDown") { this.cursor.y -= dy; }
    else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      this.clickAt(this.cursor.x, this.cursor.y);
      return;
    } else { moved = false; }
    if (moved) {
      e.preventDefault();
      this.cursor.x = Math.min(v.xlim[1], Math.max(v.xlim[0], this.cursor.x));
      this.cursor.y = Math.min(v.ylim[1], Math.max(v.ylim[0], this.cursor.y));
      this.render();
    }
  };

  // ------------------------------------------------------------------ words

  Explorer.prototype.things = function () {
    return isMixture(this.method) ? "parameters" : (this.method === "kmedoids" ? "medoids" : "centres");
  };

  // Where a half-step is, in the words of algos.plotting.describe_step.
  Explorer.prototype.describe = function (i) {
    var history = this.run.history, step = history[i], previous = i > 0 ? history[i - 1] : null;
    if (step.kind === "init") { return "Start: initial " + this.things(); }
    var head = "Iteration " + step.iteration + ", after the " + step.kind + "-step: ";
    if (isMixture(this.method)) {
      if (step.kind === "E") { return head + "responsibilities updated"; }
      var spread = this.method === "gmm" ? "covariances" : "sigmas";
      var same = previous && sameArray(previous.weights, step.weights) && sameArray(previous.means, step.means) && sameArray(previous[spread], step[spread]);
      return head + "parameters " + (same ? "unchanged" : "updated");
    }
    if (step.kind === "E") {
      if (!previous.labels) { return head + "points assigned"; }
      var moved = 0;
      for (var p = 0; p < step.labels.length; p++) { if (step.labels[p] !== previous.labels[p]) { moved++; } }
      if (moved === 0) { return head + "no point changed cluster"; }
      return head + moved + " point" + (moved !== 1 ? "s" : "") + " reassigned";
    }
    var text = head + this.things() + " " + (sameArray(previous.centers, step.centers) ? "unchanged" : (this.method === "kmedoids" ? "updated" : "moved"));
    if (step.empty.length) {
      text += " (cluster" + (step.empty.length > 1 ? "s " : " ") + step.empty.join(", ") + " empty: centre kept)";
    }
    return text;
  };

  function sameArray(a, b) {
    if (a.length !== b.length) { return false; }
    for (var i = 0; i < a.length; i++) { if (a[i] !== b[i]) { return false; } }
    return true;
  }

  Explorer.prototype.nextSentence = function () {
    var run = this.run, history = run.history, i = this.index;
    if (i === history.length - 1 && run.done) {
      var its = run.iteration + " iteration" + (run.iteration !== 1 ? "s" : "");
      return run.converged ? "Done: converged after " + its + "; another step would change nothing."
        : "Done: stopped after " + its + " (max_iter) before converging.";
    }
    var kind = history[i].kind, words = NEXT[this.method];
    if (kind === "init") { return "Next: " + words.first; }
    if (kind === "E") { return "Next: " + (this.method === "kmedoids" && this.medoidsFrom === "all" ? words.Mall : words.M); }
    return "Next: " + words.E;
  };

  Explorer.prototype.objectiveName = function () {
    if (isMixture(this.method)) { return "Log-likelihood"; }
    if (this.method === "kmedoids") { return "Cost (sum of " + this.metric + " distances)"; }
    return this.metric === "l1" ? "Objective (sum of l1 distances)" : "Objective (sum of squared distances)";
  };

  Explorer.prototype.objectiveSentence = function (i) {
    var value = this.run.history[i].objective;
    if (value === null) { return this.objectiveName() + ": not defined yet (no point is assigned)"; }
    return this.objectiveName() + ": " + formatG(value, 6);
  };

  Explorer.prototype.hintSentence = function () {
    var n = this.data.n, k = this.k, what;
    if (this.problem || this.notice) { return this.problem || this.notice; }
    if (this.runError) { return "This start cannot be used: " + this.runError; }
    if (n < k) {
      return "k = " + k + " needs at least " + k + " points; this data set has " + n + "." +
        (this.drawable ? " Click on the plot to add points." : "");
    }
    var how = " (or focus the plot, move the cross with the arrow keys and press Enter)";
    if (this.start === "placed") {
      what = this.method === "kmeans" ? "centre" : (this.method === "kmedoids" ? "medoid" : "component mean");
      if (this.placed.length < k) {
        return "Click on the plot" + how + " to place " + what + " " + (this.placed.length + 1) + " of " + k +
          (this.method === "kmedoids" ? " (the nearest data point becomes the medoid)." : ".");
      }
      return "All " + k + " starting " + what + "s placed: press Step. A click moves the nearest one.";
    }
    if (this.drawable) { return "Click on the plot" + how + " to add a point (" + n + " so far)."; }
    return "";
  };

  // A sentence describing the picture, for readers who cannot see it.
  Explorer.prototype.pictureSentence = function () {
    var n = this.data.n, run = this.run;
    if (!run) { return NAMES[this.method] + " on " + n + " points; no run yet. " + this.hintSentence(); }
    var step = run.history[this.index], k = this.k, parts = [], j;
    parts.push(NAMES[this.method] + " on " + n + " points, half-step " + (this.index + 1) + ": " + this.describe(this.index) + ".");
    if (this.method === "gmm1d") {
      var comps = [];
      for (j = 0; j < k; j++) {
        comps.push("component " + j + ": weight " + step.weights[j].toFixed(2) + ", mean " + step.means[j].toFixed(2) + ", sigma " + step.sigmas[j].toFixed(2));
      }
      parts.push("Curves of " + k + " weighted normal components (" + comps.join("; ") + ") and their sum; below the axis each point's responsibilities.");
    } else if (this.method === "gmm") {
      var each = [], cv = step.covariances;
      for (j = 0; j < Math.min(k, 8); j++) {
        each.push("component " + j + ": weight " + step.weights[j].toFixed(2) + ", mean (" +
          step.means[2 * j].toFixed(2) + ", " + step.means[2 * j + 1].toFixed(2) + "), standard deviations " +
          Math.sqrt(cv[4 * j]).toFixed(2) + " and " + Math.sqrt(cv[4 * j + 3]).toFixed(2));
      }
      parts.push("Ellipses of 1 and 2 standard deviations of " + k + " " + this.covarianceType +
        " components (" + each.join("; ") + (k > 8 ? "; ..." : "") + "); points " +
        (step.resp ? "in the colour of their most responsible component, paler where it is unsure." : "grey."));
    } else {
      var where = [];
      for (j = 0; j < Math.min(k, 8); j++) {
        where.push("(" + step.centers[2 * j].toFixed(2) + ", " + step.centers[2 * j + 1].toFixed(2) + ")");
      }
      parts.push((this.method === "kmedoids" ? "Medoids" : "Centres") + " of the " + k + " clusters at " + where.join(", ") + (k > 8 ? " ..." : "") +
        "; points coloured by cluster over shaded nearest-" + (this.method === "kmedoids" ? "medoid" : "centre") + " regions.");
    }
    parts.push(this.objectiveSentence(this.index) + ".");
    return parts.join(" ");
  };

  // ------------------------------------------------------------------ showing the state

  Explorer.prototype.render = function () {
    var m = this.method, run = this.run, step = run ? run.history[this.index] : null;
    var previous = run && this.index > 0 ? run.history[this.index - 1] : null;
    // pictures first: their sizes are read before the words below change the layout
    if (m === "gmm1d") {
      if (step) {
        this.ymax = Math.max(this.ymax, 1.15 * Math.min(mixturePeak(step, this.xlim), this.ycap));
      }
      var placedMixture = null;
      if (!step && this.start === "placed" && this.placed.length) {
        var spread = this.data.n ? Math.max(standardDeviation(this.data.x), defaultMinSigma(this.data.x)) : 1;
        placedMixture = { weights: this.placed.map(function () { return 1 / this.k; }, this),
                          means: this.placed, sigmas: this.placed.map(function () { return spread; }) };
      }
      this.view = drawMixture(this.plot, { x: this.data.x, k: this.k, step: step, xlim: this.xlim,
                                           ymax: this.ymax, hist: this.hist, cursor: this.cursor,
                                           placedMixture: placedMixture });
    } else if (m === "gmm") {
      this.view = drawGaussianMixture(this.plot, { X: this.data.X, n: this.data.n, d: 2, k: this.k,
        step: step, previous: previous, extent: this.extent, cursor: this.cursor,
        placed: !step && this.start === "placed" && this.placed.length ? this.placedMixtureArrays() : null });
    } else {
      var placed = null;
      if (!step && this.start === "placed" && this.placed.length) {
        placed = this.method === "kmeans" ? Float64Array.from([].concat.apply([], this.placed))
          : rowsOf(this.data.X, 2, this.placed);
      }
      this.view = drawClusters(this.plot, { method: m, X: this.data.X, n: this.data.n, d: 2, k: this.k,
                                            step: step, previous: previous, metric: this.metric,
                                            extent: this.extent, placed: placed, cursor: this.cursor });
    }
    if (run) {
      drawObjective(this.chart, run.history, this.index, CHART_LABELS[m]);
      var values = run.history.slice(0, this.index + 1).filter(function (s) { return s.objective !== null; });
      this.chart.setAttribute("aria-label", values.length
        ? this.objectiveName() + " after each half-step so far: " + values.length + " values, from " +
          formatG(values[0].objective, 6) + " to " + formatG(values[values.length - 1].objective, 6)
        : this.objectiveName() + ": no value yet");
    } else {
      drawObjective(this.chart, [], -1, CHART_LABELS[m]);
      this.chart.setAttribute("aria-label", this.objectiveName() + ": no run yet");
    }
    // controls reflect the state
    this.datasetSelect.value = String(this.datasetIndex);
    if (document.activeElement !== this.kInput) { this.kInput.value = String(this.k); }
    if (this.metricSelect) { this.metricSelect.value = this.metric; }
    if (this.candidatesSelect) { this.candidatesSelect.value = this.medoidsFrom; }
    if (this.covarianceSelect) { this.covarianceSelect.value = this.covarianceType; }
    this.fillStartOptions();
    if (document.activeElement !== this.seedInput) { this.seedInput.value = String(this.seed); }
    this.seedField.hidden = !(this.start === "random" || this.start === "k-means++" || this.start === "kmeans");
    this.clearButton.hidden = !this.drawable;
    setDisabled(this.clearButton, !this.points.length);
    setDisabled(this.stepButton, !run || this.atEnd());
    setDisabled(this.backButton, !run || this.index === 0);
    setDisabled(this.runButton, !run || (this.atEnd() && this.timer === null));
    setDisabled(this.resetButton, !run || this.index === 0);
    var interactive = this.start === "placed" || this.drawable;
    this.plot.setAttribute("tabindex", interactive ? "0" : "-1");
    this.plot.classList.toggle("ae-clickable", interactive);
    if (interactive) {
      this.plot.setAttribute("role", "application");
      this.plot.setAttribute("aria-label", "Plot: click, or use the arrow keys and Enter, to " +
        (this.start === "placed" ? "place the start" : "add points"));
    } else {
      this.plot.setAttribute("role", "img");
      this.plot.setAttribute("aria-label", "Plot of the current half-step");
    }

    // words
    if (run) {
      this.caption.textContent = this.describe(this.index);
      this.nextText.textContent = this.nextSentence();
      this.objectiveText.textContent = this.objectiveSentence(this.index);
      this.position.textContent = "Half-step " + (this.index + 1) + (run.done ? " of " + run.history.length : "");
    } else {
      this.caption.textContent = this.data.n < this.k ? "Not enough points" : "Choose the start";
      this.nextText.textContent = "";
      this.objectiveText.textContent = "";
      this.position.textContent = "";
    }
    this.hint.textContent = this.hintSentence();
    this.hint.classList.toggle("ae-problem", !!(this.problem || this.notice || this.runError));
    this.description.textContent = this.pictureSentence();

    this.renderLegend(step);
  };

  // The placed means so far, with their starting covariances, as flat arrays for drawing.
  Explorer.prototype.placedMixtureArrays = function () {
    var p = this.placedMixture(this.placed.length), flat = function (a) { return [].concat.apply([], a); };
    return { means: flat(p.means), covariances: flat(p.covariances.map(flat)) };
  };

  function setDisabled(button, disabled) {
    if (disabled) { button.setAttribute("aria-disabled", "true"); } else { button.removeAttribute("aria-disabled"); }
  }

  Explorer.prototype.fillStartOptions = function () {
    var choices = isMixture(this.method) ? ["random", "kmeans", "placed"] : ["random", "k-means++", "placed"];
    if (this.playerStart && this.datasetIndex === 0 && this.k === this.playerK &&
        this.covarianceType === this.playerType) { choices.unshift("player"); }
    var key = choices.join(",");
    if (this.startKey !== key) {
      this.startKey = key;
      this.startSelect.textContent = "";
      var select = this.startSelect;
      choices.forEach(function (c) { select.appendChild(el("option", { value: c }, START_LABELS[c])); });
    }
    this.startSelect.value = this.start;
  };

  function swatch(kind, color) {
    var ns = "http://www.w3.org/2000/svg", svg = document.createElementNS(ns, "svg");
    svg.setAttribute("width", "22");
    svg.setAttribute("height", "14");
    svg.setAttribute("aria-hidden", "true");
    var shape;
    if (kind === "line" || kind === "dash" || kind === "dots") {
      shape = document.createElementNS(ns, "line");
      shape.setAttribute("x1", "1"); shape.setAttribute("x2", "21");
      shape.setAttribute("y1", "7"); shape.setAttribute("y2", "7");
      shape.setAttribute("stroke", color);
      shape.setAttribute("stroke-width", "2.5");
      if (kind !== "line") { shape.setAttribute("stroke-dasharray", kind === "dash" ? "5 3" : "2 3"); }
    } else if (kind === "region") {
      shape = document.createElementNS(ns, "rect");
      shape.setAttribute("x", "3"); shape.setAttribute("y", "1");
      shape.setAttribute("width", "16"); shape.setAttribute("height", "12");
      shape.setAttribute("fill", color);
      shape.setAttribute("fill-opacity", "0.35");
    } else if (kind === "cross") {
      shape = document.createElementNS(ns, "path");
      shape.setAttribute("d", "M6 1 L11 5 L16 1 L19 4 L14 7 L19 10 L16 13 L11 9 L6 13 L3 10 L8 7 L3 4 Z");
      shape.setAttribute("fill", "#ffffff");
      shape.setAttribute("stroke", "#000000");
      shape.setAttribute("stroke-width", "1.4");
    } else {
      shape = document.createElementNS(ns, "circle");
      shape.setAttribute("cx", "11"); shape.setAttribute("cy", "7"); shape.setAttribute("r", kind === "ring" ? "6" : "4.5");
      shape.setAttribute("fill", kind === "medoid" ? "#ffffff" : (kind === "pale" ? paleColor(0, 0.1) : "none"));
      shape.setAttribute("stroke", kind === "pale" ? color : "#000000");
      shape.setAttribute("stroke-width", kind === "ring" ? "1.2" : "1.6");
    }
    svg.appendChild(shape);
    return svg;
  }

  Explorer.prototype.renderLegend = function (step) {
    var items = [], j;
    if (this.method === "gmm1d") {
      var p = step;
      for (j = 0; j < this.k; j++) {
        var text = "component " + j;
        if (p) {
          text += ": w = " + p.weights[j].toFixed(2) + ", \u03bc = " + p.means[j].toFixed(2) + ", \u03c3 = " + formatG(p.sigmas[j], 3);
        }
        items.push(["dash", clusterColor(j), text]);
      }
      items.push(["line", "#000000", "mixture (sum of the weighted components)"]);
      items.push(["region", clusterColor(0), "responsibilities of each point (below 0)"]);
      if (this.hist) { items.push(["region", "#8c8c8c", "data (histogram)"]); }
    } else if (this.method === "gmm") {
      items.push(["cross", "", "mean of a component"]);
      items.push(["line", "#000000", "1 standard deviation"]);
      items.push(["dash", "#000000", "2 standard deviations"]);
      items.push(["dots", UNASSIGNED_COLOR, "previous 1 std. dev. (after an M-step)"]);
      items.push(["pale", clusterColor(0), "pale point: shared, the model is unsure"]);
    } else if (this.method === "kmedoids") {
      items.push(["medoid", "", "medoid (ringed: a data point)"]);
      items.push(["ring", "", "previous position (after an M-step)"]);
      items.push(["region", clusterColor(0), "nearest-medoid region"]);
    } else {
      items.push(["cross", "", "centre (mean)"]);
      items.push(["ring", "", "previous position (after an M-step)"]);
      items.push(["region", clusterColor(0), "nearest-centre region"]);
    }
    var key = JSON.stringify(items);
    if (key === this.legendKey) { return; }
    this.legendKey = key;
    this.legend.textContent = "";
    var legend = this.legend;
    items.forEach(function (item) {
      var li = el("li", {});
      li.appendChild(swatch(item[0], item[1]));
      li.appendChild(document.createTextNode(" " + item[2]));
      legend.appendChild(li);
    });
  };

  // What the explorer shows now, as plain data (for tests and curious readers).
  Explorer.prototype.state = function () {
    var run = this.run, step = run ? run.history[this.index] : null;
    var out = {
      method: this.method, dataset: this.datasets[this.datasetIndex].name, n: this.data.n,
      k: this.k, metric: this.metric, medoids_from: this.medoidsFrom, start: this.start, seed: this.seed,
      covariance_type: this.covarianceType,
      placed: JSON.parse(JSON.stringify(this.placed)), index: this.index,
      computed: run ? run.history.length : 0, done: run ? run.done : false,
      converged: run ? run.converged : false, running: this.timer !== null,
      caption: this.caption.textContent, next: this.nextText.textContent,
      objective_text: this.objectiveText.textContent, hint: this.hint.textContent,
      step: step ? plainStep(run, step) : null,
      init: run ? plainStep(run, run.history[0]) : null
    };
    return out;
  };

  // Client (viewport) coordinates of a data point on the plot, where a click lands on it.
  Explorer.prototype.clientPoint = function (x, y) {
    var rect = this.plot.getBoundingClientRect(), v = this.view;
    return { x: rect.left + v.px(x), y: rect.top + (this.method === "gmm1d" ? v.area.top + v.area.height / 2 : v.py(y)) };
  };

  // ------------------------------------------------------------------ start-up

  var instances = [];

  function setUp(root) {
    if (root.getAttribute("data-ready") === "1") { return; }
    var source = root.querySelector("script[type='application/json']");
    if (!source) { return; }
    try {
      var config = JSON.parse(source.textContent);
      instances.push(new Explorer(root, config));
      root.setAttribute("data-ready", "1");
    } catch (err) {
      root.setAttribute("data-ready", "error");
      var p = el("p", { "class": "ae-problem" }, "The explorer could not start: " + err.message);
      root.appendChild(p);
      if (window.console) { window.console.error(err); }
    }
  }

  function setUpAll() {
    Array.prototype.forEach.call(document.querySelectorAll("div.algos-explorer"), setUp);
  }

  window.algosExplorer = { run: run, start: startRun, instances: instances, setUp: setUpAll,
                           formatG: formatG, numpySum: numpySum };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpAll);
  } else {
    setUpAll();
  }
})();
