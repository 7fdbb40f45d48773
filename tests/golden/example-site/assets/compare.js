/* sitegen comparison pages.

   compare_any.html: compare any set of versions of a collection in the browser. The page
   carries the choices in a JSON data block (#compare-data); each chosen version's data is
   a small script (data/artifacts/<type>/<name>/vN.js) that sets
   window.SITEGEN_VERSIONS[ref]. Scripts are injected on demand: fetch() does not work
   from file://, script elements do, and the page CSP allows 'self'.
   State lives in the URL hash (#v=0,2,5&base=2&only=1), so a link shows the same view.

   The comparison is computed exactly as sitegen/compare.py computes it (metric rows,
   keyed config/metadata rows flattened like contentdiff.flatten_values, file changes
   with renames by digest, overlaid curves), so the pre-rendered pair pages, this page
   and `sitegen compare --format json` agree.

   compare.html (pre-rendered pairs): only the "only differences" toggle.

   Plain ES2015, no eval, no inline styles. Everything from the store goes into the page
   with textContent or attributes, never as HTML. */
(function () {
  "use strict";

  var doc = document;
  var MAX_FILE_ROWS = 2000;
  var LIST_FLATTEN_LIMIT = 200;
  var DEFAULT_LOWER = "(loss|error|err|latency|mae|mse|rmse|time|seconds|_ms|perplexity|cost)";

  /* ================================================================ Python semantics */

  function isDict(v) {
    return v !== null && typeof v === "object" && !Array.isArray(v);
  }

  /* Python's str ordering: by code point (JS compares UTF-16 code units). */
  function cmpStr(a, b) {
    if (a === b) return 0;
    var n = Math.min(a.length, b.length);
    var i = 0;
    while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i += 1;
    if (i === n) return a.length < b.length ? -1 : 1;
    return a.codePointAt(i) < b.codePointAt(i) ? -1 : 1;
  }

  function sortedStrings(list) {
    return list.slice().sort(cmpStr);
  }

  function ownKeys(obj) {
    return isDict(obj) ? Object.keys(obj) : [];
  }

  function has(obj, key) {
    return Object.prototype.hasOwnProperty.call(obj, key);
  }

  /* Python truthiness of a JSON value. */
  function truthy(v) {
    if (v === null || v === undefined || v === false || v === 0 || v === "") return false;
    if (typeof v === "number" && v !== v) return true;
    if (Array.isArray(v)) return v.length > 0;
    if (isDict(v)) return Object.keys(v).length > 0;
    return true;
  }

  /* repr() of a Python float/int as json.dumps writes it. Integers cannot be told from
     integral floats once parsed by JS: they are shown as integers ("1", not "1.0"). */
  function pyNumber(n) {
    if (n !== n) return "NaN";
    if (n === Infinity) return "Infinity";
    if (n === -Infinity) return "-Infinity";
    if (Number.isSafeInteger(n)) return String(n === 0 ? 0 : n);
    var m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(n.toExponential());
    if (!m) return String(n);
    var sign = m[1];
    var digits = m[2] + (m[3] || "");
    var exp = parseInt(m[4], 10);
    if (exp < -4 || exp >= 16) {
      var mant = digits.charAt(0) + (digits.length > 1 ? "." + digits.slice(1) : "");
      var e = Math.abs(exp);
      return sign + mant + "e" + (exp < 0 ? "-" : "+") + (e < 10 ? "0" : "") + e;
    }
    if (exp >= 0) {
      while (digits.length < exp + 1) digits += "0";
      var frac = digits.slice(exp + 1);
      return sign + digits.slice(0, exp + 1) + "." + (frac || "0");
    }
    return sign + "0." + new Array(-exp).join("0") + digits;
  }

  /* json.dumps(value, ensure_ascii=False, sort_keys=True) with the default separators. */
  function pyJson(v) {
    if (v === null || v === undefined) return "null";
    if (v === true) return "true";
    if (v === false) return "false";
    if (typeof v === "number") return pyNumber(v);
    if (typeof v === "string") return JSON.stringify(v);
    if (Array.isArray(v)) return "[" + v.map(pyJson).join(", ") + "]";
    if (isDict(v)) {
      return "{" + sortedStrings(Object.keys(v)).map(function (k) {
        return JSON.stringify(k) + ": " + pyJson(v[k]);
      }).join(", ") + "}";
    }
    return JSON.stringify(String(v));
  }

  /* compare._display: strings as they are, everything else as JSON. */
  function display(v) {
    return typeof v === "string" ? v : pyJson(v);
  }

  function kindOf(v) {
    if (v === null || v === undefined) return "null";
    if (typeof v === "number" || typeof v === "boolean") return "num"; /* True == 1 in Python */
    if (typeof v === "string") return "str";
    if (Array.isArray(v)) return "list";
    return "dict";
  }

  /* Python ==. NaN != NaN for a leaf; inside containers Python compares by identity first
     and json's NaN is one shared object, so nested NaNs are equal. */
  function pyEq(a, b, nested) {
    var ka = kindOf(a);
    if (ka !== kindOf(b)) return false;
    if (ka === "null") return true;
    if (ka === "num") {
      var x = Number(a);
      var y = Number(b);
      if (x !== x && y !== y) return !!nested;
      return x === y;
    }
    if (ka === "str") return a === b;
    if (ka === "list") {
      if (a.length !== b.length) return false;
      for (var i = 0; i < a.length; i++) if (!pyEq(a[i], b[i], true)) return false;
      return true;
    }
    var keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    for (var j = 0; j < keys.length; j++) {
      if (!has(b, keys[j]) || !pyEq(a[keys[j]], b[keys[j]], true)) return false;
    }
    return true;
  }

  /* contentdiff.flatten_values: dotted paths to leaves, list items key[3] (lists of at most
     200 items), empty dicts/lists and longer lists are leaves. A Map, key -> value. */
  function flattenValues(value, prefix, out) {
    out = out || new Map();
    prefix = prefix || "";
    if (isDict(value) && Object.keys(value).length) {
      sortedStrings(Object.keys(value)).forEach(function (key) {
        flattenValues(value[key], prefix ? prefix + "." + key : key, out);
      });
    } else if (Array.isArray(value) && value.length && value.length <= LIST_FLATTEN_LIMIT) {
      value.forEach(function (item, i) {
        flattenValues(item, prefix + "[" + i + "]", out);
      });
    } else {
      out.set(prefix || "(root)", value);
    }
    return out;
  }

  /* compare.keyed_rows */
  function keyedRows(maps, base) {
    var flat = maps.map(function (m) { return truthy(m) ? flattenValues(m) : new Map(); });
    var all = new Set();
    flat.forEach(function (f) { f.forEach(function (_, k) { all.add(k); }); });
    return sortedStrings(Array.from(all)).map(function (key) {
      var baseHas = flat[base].has(key);
      var cells = flat.map(function (f, i) {
        var here = f.has(key);
        var state;
        if (i === base) state = here ? "base" : "missing";
        else if (here && !baseHas) state = "added";
        else if (baseHas && !here) state = "removed";
        else if (!here) state = "missing";
        else state = pyEq(f.get(key), flat[base].get(key), false) ? "same" : "changed";
        return { value: here ? display(f.get(key)) : null, state: state };
      });
      return {
        key: key,
        cells: cells,
        differs: cells.some(function (c) {
          return c.state === "changed" || c.state === "added" || c.state === "removed";
        })
      };
    });
  }

  /* compare.number */
  function number(v) {
    return typeof v === "number" && isFinite(v) ? v : null;
  }

  function roundTo(x, digits) {
    return Number(x.toFixed(digits));
  }

  function betterOf(value, base, direction) {
    if (value === base) return "same";
    return (value > base) === (direction === "higher") ? "better" : "worse";
  }

  /* compare.metric_rows; directionOf(name) -> "higher" | "lower" */
  function metricRows(summaries, base, directionOf) {
    var names = new Set();
    summaries.forEach(function (s) {
      if (!truthy(s) || !isDict(s)) return;
      Object.keys(s).forEach(function (k) { if (number(s[k]) !== null) names.add(k); });
    });
    return sortedStrings(Array.from(names)).map(function (name) {
      var values = summaries.map(function (s) {
        return truthy(s) && isDict(s) && has(s, name) ? number(s[name]) : null;
      });
      var direction = directionOf(name);
      var present = values.filter(function (v) { return v !== null; });
      var target = present.length
        ? (direction === "higher" ? Math.max.apply(null, present) : Math.min.apply(null, present))
        : null;
      var baseValue = values[base];
      var deltas = values.map(function (value) {
        if (value === null || baseValue === null) return null;
        var pct = baseValue ? (value - baseValue) / Math.abs(baseValue) * 100 : null;
        return {
          abs: roundTo(value - baseValue, 12),
          pct: pct === null ? null : roundTo(pct, 6),
          better: betterOf(value, baseValue, direction)
        };
      });
      var best = [];
      values.forEach(function (v, i) {
        if (v !== null && v === target && present.length > 1) best.push(i);
      });
      return {
        name: name,
        direction: direction,
        values: values,
        deltas: deltas,
        best: best,
        differs: new Set(present).size > 1 || present.length !== values.length
      };
    });
  }

  /* compare.file_changes over {path: {sha256, size, ref?}} */
  function fileChanges(oldFiles, newFiles) {
    var a = new Map();
    var b = new Map();
    ownKeys(oldFiles).forEach(function (p) { a.set(p, oldFiles[p]); });
    ownKeys(newFiles).forEach(function (p) { b.set(p, newFiles[p]); });
    var gone = sortedStrings(Array.from(a.keys()).filter(function (p) { return !b.has(p); }));
    var came = sortedStrings(Array.from(b.keys()).filter(function (p) { return !a.has(p); }));
    var both = sortedStrings(Array.from(a.keys()).filter(function (p) { return b.has(p); }));
    var byDigest = new Map();
    gone.forEach(function (p) {
      var d = a.get(p).sha256;
      if (!byDigest.has(d)) byDigest.set(d, []);
      byDigest.get(d).push(p);
    });
    var renamed = [];
    came.forEach(function (p) {
      var f = b.get(p);
      var sources = byDigest.get(f.sha256);
      if (sources && sources.length) {
        renamed.push({ from: sources.shift(), to: p, size: f.size, sha256: f.sha256 });
      }
    });
    var movedFrom = new Set(renamed.map(function (r) { return r.from; }));
    var movedTo = new Set(renamed.map(function (r) { return r.to; }));
    function entry(p, f) {
      return { path: p, size: f.size, sha256: f.sha256, ref: f.ref || null };
    }
    function total(m) {
      var sum = 0;
      m.forEach(function (f) { sum += f.size || 0; });
      return sum;
    }
    return {
      added: came.filter(function (p) { return !movedTo.has(p); }).map(function (p) {
        return entry(p, b.get(p));
      }),
      removed: gone.filter(function (p) { return !movedFrom.has(p); }).map(function (p) {
        return entry(p, a.get(p));
      }),
      modified: both.filter(function (p) { return a.get(p).sha256 !== b.get(p).sha256; })
        .map(function (p) {
          var x = a.get(p);
          var y = b.get(p);
          return {
            path: p,
            old_size: x.size,
            new_size: y.size,
            delta: y.size - x.size,
            old_sha256: x.sha256,
            new_sha256: y.sha256,
            ref: y.ref || x.ref || null
          };
        }),
      renamed: renamed,
      unchanged: both.filter(function (p) { return a.get(p).sha256 === b.get(p).sha256; }),
      size_delta: total(b) - total(a)
    };
  }

  /* compare.overlay_spec */
  function overlaySpec(metric, values) {
    return {
      "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
      title: metric,
      width: "container",
      height: 220,
      data: { values: values },
      mark: { type: "line", tooltip: true },
      encoding: {
        x: { field: "step", type: "quantitative" },
        y: { field: "value", type: "quantitative", title: metric, scale: { zero: false } },
        color: { field: "version", type: "nominal", title: "version" }
      }
    };
  }

  /* compare.curves: one chart per metric that two or more of the versions' runs logged.
     entries: [{label, history: {metric: [[step, value], ...]}}] in column order. */
  function curves(entries) {
    var withHistory = entries.filter(function (e) { return ownKeys(e.history).length > 0; });
    var shared = new Map();
    withHistory.forEach(function (e) {
      ownKeys(e.history).forEach(function (k) {
        if (k.charAt(0) !== "_") shared.set(k, (shared.get(k) || 0) + 1);
      });
    });
    var metrics = sortedStrings(Array.from(shared.keys()).filter(function (k) {
      return shared.get(k) >= 2;
    }));
    var charts = [];
    metrics.forEach(function (metric) {
      var values = [];
      withHistory.forEach(function (e) {
        (Array.isArray(e.history[metric]) ? e.history[metric] : []).forEach(function (p) {
          if (Array.isArray(p) && typeof p[1] === "number") {
            values.push({ step: p[0], value: p[1], version: e.label });
          }
        });
      });
      if (values.length) charts.push({ metric: metric, spec: overlaySpec(metric, values) });
    });
    return charts;
  }

  function directionFor(directions, lowerSource) {
    var lower;
    try {
      lower = new RegExp(lowerSource || DEFAULT_LOWER, "i");
    } catch (e) {
      lower = new RegExp(DEFAULT_LOWER, "i");
    }
    return function (name) {
      if (directions && has(directions, name)) {
        var d = directions[name];
        if (d === "higher" || d === "lower") return d;
      }
      return lower.test(name) ? "lower" : "higher";
    };
  }

  /* ================================================================ formatting */

  function stripZeros(s) {
    return s.indexOf(".") === -1 ? s : s.replace(/0+$/, "").replace(/\.$/, "");
  }

  /* Python "%.{p}g" */
  function fmtG(v, p) {
    if (v !== v) return "nan";
    if (!isFinite(v)) return v > 0 ? "inf" : "-inf";
    if (v === 0) return "0";
    var m = /^(-?)(\d(?:\.\d+)?)e([+-]\d+)$/.exec(v.toExponential(p - 1));
    var exp = parseInt(m[3], 10);
    if (exp < -4 || exp >= p) {
      var e = Math.abs(exp);
      return m[1] + stripZeros(m[2]) + "e" + (exp < 0 ? "-" : "+") + (e < 10 ? "0" : "") + e;
    }
    return stripZeros(v.toFixed(p - 1 - exp));
  }

  /* the templates' num(): integral values plainly, the rest with 6 significant digits */
  function fmtNum(v) {
    if (v === null || v === undefined) return "—";
    if (typeof v !== "number") return String(v);
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v === 0 ? 0 : v);
    return fmtG(v, 6);
  }

  function signed(v) {
    return (v > 0 ? "+" : "") + fmtNum(v);
  }

  /* render.filesize */
  function filesize(value) {
    if (typeof value !== "number" || !Number.isInteger(value)) return "—";
    var size = value;
    var units = ["B", "KB", "MB", "GB", "TB"];
    for (var i = 0; i < units.length; i++) {
      if (size < 1000 || units[i] === "TB") {
        return units[i] === "B" ? Math.floor(size) + " B" : size.toFixed(1) + " " + units[i];
      }
      size /= 1000;
    }
    return value + " B";
  }

  function signedSize(delta) {
    return (delta > 0 ? "+" : delta < 0 ? "−" : "±") + filesize(Math.abs(delta));
  }

  function pad2(n) {
    return (n < 10 ? "0" : "") + n;
  }

  /* render.timefmt */
  function timefmt(value) {
    if (!value) return "—";
    var d = new Date(String(value));
    if (isNaN(d.getTime()) || !/^\d{4}-\d\d-\d\d/.test(String(value))) return String(value);
    return d.getUTCFullYear() + "-" + pad2(d.getUTCMonth() + 1) + "-" + pad2(d.getUTCDate()) +
      " " + pad2(d.getUTCHours()) + ":" + pad2(d.getUTCMinutes()) + " UTC";
  }

  /* ================================================================ DOM helpers */

  function all(selector, scope) {
    return Array.prototype.slice.call((scope || doc).querySelectorAll(selector));
  }

  function make(tag, className, text) {
    var node = doc.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function add(parent) {
    for (var i = 1; i < arguments.length; i++) {
      var child = arguments[i];
      if (child === null || child === undefined || child === false) continue;
      parent.appendChild(typeof child === "string" ? doc.createTextNode(child) : child);
    }
    return parent;
  }

  function hiddenText(text) {
    return make("span", "visually-hidden", text);
  }

  function ariaHidden(text, className) {
    var s = make("span", className || null, text);
    s.setAttribute("aria-hidden", "true");
    return s;
  }

  /* Only plain relative URLs (no scheme, no absolute or protocol-relative path). */
  function safeRelative(url) {
    return typeof url === "string" && url !== "" &&
      !/^[\s\u0000-\u001f]*([a-z][a-z0-9+.\-]*:|[\/\\])/i.test(url);
  }

  var MARKS = {
    changed: ["~", "changed: "],
    added: ["+", "added: "],
    removed: ["−", "removed"],
    renamed: ["→", "renamed: "],
    missing: ["—", "missing"]
  };

  var TITLES = {
    base: "baseline",
    same: "same as the baseline",
    changed: "changed from the baseline",
    added: "added (not in the baseline)",
    removed: "removed (in the baseline only)",
    missing: "missing",
    renamed: "renamed",
    better: "better than the baseline",
    worse: "worse than the baseline"
  };

  function stateMark(state) {
    var m = MARKS[state];
    if (!m) return null;
    var frag = doc.createDocumentFragment();
    frag.appendChild(ariaHidden(m[0], "mark"));
    frag.appendChild(hiddenText(m[1]));
    return frag;
  }

  function cell(state, className) {
    var td = make("td", "cell state-" + state + (className ? " " + className : ""));
    td.setAttribute("data-state", state);
    if (TITLES[state]) td.title = TITLES[state];
    return td;
  }

  function aliasChip(alias) {
    var cls = "chip alias" + (alias === "production" || alias === "prod" ? " alias-production" : "") +
      (alias === "latest" ? " alias-latest" : "");
    return make("span", cls, alias);
  }

  function dottedKey(key) {
    var k = String(key);
    var at = k.lastIndexOf(".");
    var frag = doc.createDocumentFragment();
    if (at > 0) frag.appendChild(make("span", "key-parent", k.slice(0, at + 1)));
    frag.appendChild(make("span", "key-leaf", at > 0 ? k.slice(at + 1) : k));
    return frag;
  }

  function directionMarker(direction) {
    var words = direction === "higher" ? "higher is better" : "lower is better";
    var s = make("span", "dir");
    s.title = words;
    add(s, ariaHidden(direction === "higher" ? "↑" : "↓"), hiddenText(" (" + words + ")"));
    return s;
  }

  function section(id, title, count) {
    var sec = make("section");
    sec.id = id;
    sec.setAttribute("aria-labelledby", id + "-title");
    var h = make("h2", null, title);
    h.id = id + "-title";
    if (count !== undefined) add(h, " ", make("span", "count", count));
    sec.appendChild(h);
    return sec;
  }

  function tableWrap(table) {
    return add(make("div", "table-wrap"), table);
  }

  /* ================================================================ only-differences (pair page) */

  function initPairToggle() {
    var box = doc.querySelector("input[data-only-differences]");
    var target = doc.querySelector("[data-only-target]");
    if (!box || !target) return;
    var holder = box.closest ? box.closest(".only-toggle") : box.parentNode.parentNode;
    if (holder) holder.hidden = false;
    function apply() {
      target.classList.toggle("only-diffs", box.checked);
    }
    box.addEventListener("change", apply);
    apply();
  }

  /* ================================================================ charts */

  function currentTheme() {
    var set = doc.documentElement.getAttribute("data-theme");
    if (set === "light" || set === "dark") return set;
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches
      ? "dark" : "light";
  }

  /* as site.js: no injected <style> (CSP), interpreted expressions (no eval) */
  function embedOptions() {
    var dark = currentTheme() === "dark";
    var options = {
      actions: false,
      renderer: "svg",
      defaultStyle: false,
      tooltip: { disableDefaultStyle: true, theme: dark ? "dark" : "light" },
      config: { background: "transparent" },
      ast: true
    };
    if (dark) {
      options.theme = "dark";
      options.config.axis = { gridColor: "#313a46", domainColor: "#7d8794", tickColor: "#7d8794" };
    }
    if (window.vega && window.vega.expressionInterpreter) {
      options.expr = window.vega.expressionInterpreter;
    }
    return options;
  }

  /* ================================================================ the any-versions page */

  function initAnyPage() {
    var dataNode = doc.getElementById("compare-data");
    var form = doc.getElementById("compare-controls");
    var output = doc.getElementById("compare-output");
    var status = doc.getElementById("compare-status");
    if (!dataNode || !form || !output) return;
    var config;
    try {
      config = JSON.parse(dataNode.textContent);
    } catch (e) {
      if (status) status.textContent = "The page data is damaged: " + e.message;
      return;
    }
    var collection = String(config.collection || "");
    var choices = (Array.isArray(config.choices) ? config.choices : []).filter(function (c) {
      return c && typeof c.number === "number";
    });
    var byNumber = new Map();
    choices.forEach(function (c) { byNumber.set(c.number, c); });
    var directionOf = directionFor(config.directions, config.default_direction_lower);
    var runBase = safeRelative(config.run_base) ? config.run_base : null;

    var nojs = doc.getElementById("compare-nojs");
    if (nojs) nojs.hidden = true;
    form.hidden = false;
    var boxes = all("input[type=checkbox][data-version]", form);
    var baseSelect = doc.getElementById("compare-baseline");
    var onlyBox = doc.getElementById("only-differences");
    var countNode = doc.getElementById("compare-count");

    var state = { sel: [], base: null, only: false };
    var token = 0;
    var loads = new Map();
    var charts = [];

    function setStatus(text, isError) {
      status.textContent = text || "";
      status.classList.toggle("is-error", !!isError);
    }

    /* ---------------------------------------------------------------- state <-> hash */

    function normalize(s) {
      var seen = new Set();
      var sel = s.sel.filter(function (n) {
        if (!byNumber.has(n) || seen.has(n)) return false;
        seen.add(n);
        return true;
      }).sort(function (a, b) { return a - b; });
      var base = sel.indexOf(s.base) !== -1 ? s.base : (sel.length ? sel[0] : null);
      return { sel: sel, base: base, only: !!s.only };
    }

    function defaults() {
      var sel = choices.slice(0, 2).map(function (c) { return c.number; });
      return normalize({ sel: sel, base: null, only: false });
    }

    function readHash() {
      var raw = (location.hash || "").replace(/^#/, "");
      if (!raw) return null;
      var params = {};
      raw.split("&").forEach(function (part) {
        var at = part.indexOf("=");
        if (at <= 0) return;
        try {
          params[decodeURIComponent(part.slice(0, at))] = decodeURIComponent(part.slice(at + 1));
        } catch (e) {
          /* a damaged parameter is ignored */
        }
      });
      if (!has(params, "v")) return null;
      var sel = params.v.split(",").filter(function (x) { return /^\d+$/.test(x); })
        .map(function (x) { return parseInt(x, 10); });
      var base = /^\d+$/.test(params.base || "") ? parseInt(params.base, 10) : null;
      return normalize({ sel: sel, base: base, only: params.only === "1" });
    }

    function hashOf(s) {
      return "#v=" + s.sel.join(",") + (s.base !== null ? "&base=" + s.base : "") +
        (s.only ? "&only=1" : "");
    }

    function writeHash() {
      var h = hashOf(state);
      if (location.hash === h) return;
      try {
        history.replaceState(history.state, "", h);
      } catch (e) {
        location.replace(h);
      }
    }

    /* ---------------------------------------------------------------- controls */

    function syncControls() {
      boxes.forEach(function (box) {
        box.checked = state.sel.indexOf(Number(box.getAttribute("data-version"))) !== -1;
      });
      baseSelect.textContent = "";
      state.sel.forEach(function (n) {
        var c = byNumber.get(n);
        var label = String(c.label) + (c.aliases && c.aliases.length ? " (" + c.aliases.join(", ") + ")" : "");
        var option = make("option", null, label);
        option.value = String(n);
        option.selected = n === state.base;
        baseSelect.appendChild(option);
      });
      baseSelect.disabled = state.sel.length === 0;
      onlyBox.checked = state.only;
      if (countNode) countNode.textContent = state.sel.length + " of " + choices.length + " selected";
      output.classList.toggle("only-diffs", state.only);
    }

    function change(next, recompute) {
      state = normalize(next);
      syncControls();
      writeHash();
      if (recompute) refresh();
    }

    boxes.forEach(function (box) {
      box.addEventListener("change", function () {
        var sel = boxes.filter(function (b) { return b.checked; }).map(function (b) {
          return Number(b.getAttribute("data-version"));
        });
        change({ sel: sel, base: state.base, only: state.only }, true);
      });
    });
    baseSelect.addEventListener("change", function () {
      change({ sel: state.sel, base: Number(baseSelect.value), only: state.only }, true);
    });
    onlyBox.addEventListener("change", function () {
      change({ sel: state.sel, base: state.base, only: onlyBox.checked }, false);
    });
    all("button[data-select]", form).forEach(function (button) {
      button.addEventListener("click", function () {
        var how = button.getAttribute("data-select");
        var sel = how === "all" ? choices.map(function (c) { return c.number; })
          : how === "latest" ? choices.slice(0, 2).map(function (c) { return c.number; })
          : [];
        change({ sel: sel, base: how === "none" ? null : state.base, only: state.only }, true);
      });
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    window.addEventListener("hashchange", function () {
      var next = readHash();
      if (!next || hashOf(next) === hashOf(state)) return;
      state = next;
      syncControls();
      refresh();
    });

    /* ---------------------------------------------------------------- data */

    function versionStore() {
      return window.SITEGEN_VERSIONS || {};
    }

    function refOf(choice) {
      return collection + ":v" + choice.number;
    }

    function lookup(choice) {
      var store = versionStore();
      var ref = refOf(choice);
      if (has(store, ref)) return store[ref];
      var found = null;
      Object.keys(store).forEach(function (k) {
        var d = store[k];
        if (d && d.collection === collection && d.version === choice.number) found = d;
      });
      return found;
    }

    function load(choice) {
      if (loads.has(choice.number)) return loads.get(choice.number);
      var promise = new Promise(function (resolve, reject) {
        var ready = lookup(choice);
        if (ready) {
          resolve(ready);
          return;
        }
        if (!safeRelative(choice.data_src)) {
          reject(new Error("No data script for " + choice.label));
          return;
        }
        var script = doc.createElement("script");
        script.src = choice.data_src;
        script.async = true;
        script.onload = function () {
          var data = lookup(choice);
          if (data && isDict(data)) resolve(data);
          else reject(new Error("The data script of " + choice.label + " defined no data"));
        };
        script.onerror = function () {
          reject(new Error("Could not load the data of " + choice.label + " (" + choice.data_src + ")"));
        };
        doc.head.appendChild(script);
      });
      promise.catch(function () { loads.delete(choice.number); });
      loads.set(choice.number, promise);
      return promise;
    }

    function refresh() {
      token += 1;
      var mine = token;
      if (state.sel.length < 2) {
        clearOutput();
        setStatus(state.sel.length ? "Pick at least one more version to compare."
          : "Pick two or more versions to compare.");
        return;
      }
      var order = [state.base].concat(state.sel.filter(function (n) { return n !== state.base; }));
      var picked = order.map(function (n) { return byNumber.get(n); });
      setStatus("Loading " + picked.length + " versions…");
      Promise.all(picked.map(function (c) {
        return load(c).then(function (d) { return { choice: c, data: d }; },
          function (e) { return { choice: c, error: e }; });
      })).then(function (results) {
        if (mine !== token) return;
        var failed = results.filter(function (r) { return r.error; });
        var ok = results.filter(function (r) { return !r.error; });
        if (ok.length < 2 || !ok.length || ok[0].choice.number !== state.base) {
          clearOutput();
          setStatus(failed.map(function (r) { return r.error.message; }).join("; ") ||
            "Not enough versions could be loaded.", true);
          return;
        }
        render(ok);
        var label = ok.map(function (r) { return r.choice.label; }).join(", ");
        setStatus(failed.length
          ? "Compared " + label + ". " + failed.map(function (r) { return r.error.message; }).join("; ") + "."
          : "Compared " + ok.length + " versions (" + label + ") against " + ok[0].choice.label + ".",
          failed.length > 0);
      });
    }

    /* ---------------------------------------------------------------- rendering */

    function clearOutput() {
      charts.forEach(function (c) { if (c.result) c.result.finalize(); });
      charts = [];
      output.textContent = "";
    }

    function versionHeads(cols, firstLabel) {
      var tr = make("tr");
      var first = make("th", "keycol", firstLabel);
      first.scope = "col";
      tr.appendChild(first);
      cols.forEach(function (col, i) {
        var th = make("th", "vcol" + (i === 0 ? " is-base" : ""));
        th.scope = "col";
        th.setAttribute("data-version", String(col.choice.number));
        var link = make(safeRelative(col.choice.href) ? "a" : "span", null, col.choice.label);
        if (link.tagName === "A") link.href = col.choice.href;
        th.appendChild(link);
        if (i === 0) add(th, " ", make("span", "base-badge", "baseline"));
        var aliases = Array.isArray(col.data.aliases) ? col.data.aliases : [];
        if (aliases.length) {
          var holder = make("span", "head-aliases");
          aliases.forEach(function (a) { add(holder, " ", aliasChip(String(a))); });
          th.appendChild(holder);
        }
        tr.appendChild(th);
      });
      return add(make("thead"), tr);
    }

    function compareTable(name, caption, cols, firstLabel) {
      var table = make("table", "cmp-table " + name + "-table");
      table.setAttribute("data-table", name);
      table.appendChild(make("caption", "visually-hidden", caption));
      table.appendChild(versionHeads(cols, firstLabel));
      var body = make("tbody");
      table.appendChild(body);
      return { table: table, body: body };
    }

    function row(key, differs) {
      var tr = make("tr");
      tr.setAttribute("data-key", key);
      tr.setAttribute("data-differs", differs ? "true" : "false");
      var th = make("th", "key");
      th.scope = "row";
      tr.appendChild(th);
      return { tr: tr, th: th };
    }

    function renderSummary(cols) {
      var sec = section("summary", "Summary");
      var t = compareTable("summary", "Summary of each version", cols, "Version");
      var base = cols[0].data;
      function simpleRow(key, label, get, show, className) {
        var values = cols.map(function (c) { return get(c.data); });
        var r = row(key, new Set(values.map(function (v) { return JSON.stringify(v); })).size > 1);
        r.th.textContent = label;
        cols.forEach(function (c, i) {
          var v = values[i];
          var st = i === 0 ? "base" : (v === null || v === undefined) ? "missing"
            : JSON.stringify(v) === JSON.stringify(values[0]) ? "same" : "changed";
          var td = cell(st, className);
          td.setAttribute("data-version", String(c.choice.number));
          if (st !== "missing") add(td, stateMark(st));
          show(td, v, st, c.data);
          r.tr.appendChild(td);
        });
        t.body.appendChild(r.tr);
      }
      simpleRow("created", "Created", function (d) { return d.created_at || null; }, function (td, v) {
        if (!v) {
          add(td, stateMark("missing"));
          return;
        }
        var time = make("time", null, timefmt(v));
        time.setAttribute("datetime", String(v));
        td.appendChild(time);
      });
      simpleRow("run", "Produced by", function (d) { return d.run || null; }, function (td, v) {
        if (!v) {
          add(td, stateMark("missing"), make("span", "gone", "no producing run"));
          return;
        }
        if (runBase !== null) {
          var a = make("a", "run-link", v);
          a.href = runBase + encodeURIComponent(String(v)) + "/index.html";
          td.appendChild(a);
        } else {
          td.appendChild(make("span", "run-link", v));
        }
      });
      simpleRow("digest", "Digest", function (d) { return d.digest || null; }, function (td, v) {
        var code = make("code", "digest", String(v || "").slice(0, 12));
        code.title = String(v || "");
        td.appendChild(code);
      });
      simpleRow("size", "Size", function (d) { return typeof d.size === "number" ? d.size : null; },
        function (td, v, st) {
          add(td, filesize(v));
          if (st === "changed" && typeof base.size === "number") {
            add(td, " ", add(make("span", "cmp-delta delta-neutral"),
              ariaHidden(v > base.size ? "▲" : "▼"), " " + signedSize(v - base.size)));
          }
        }, "num");
      simpleRow("files", "Files", function (d) { return ownKeys(d.files).length; }, function (td, v, st) {
        add(td, String(v));
        if (st === "changed") {
          var diff = v - ownKeys(base.files).length;
          add(td, " ", make("span", "cmp-delta delta-neutral", (diff > 0 ? "+" : "") + diff));
        }
      }, "num");
      var aliasRow = row("aliases", new Set(cols.map(function (c) {
        return JSON.stringify(c.data.aliases || []);
      })).size > 1);
      aliasRow.th.textContent = "Aliases";
      cols.forEach(function (c) {
        var td = make("td", "cell");
        var aliases = Array.isArray(c.data.aliases) ? c.data.aliases : [];
        if (aliases.length) {
          var ul = make("ul", "chips");
          aliases.forEach(function (a) { ul.appendChild(add(make("li"), aliasChip(String(a)))); });
          td.appendChild(ul);
        } else {
          td.appendChild(make("span", "muted", "—"));
        }
        aliasRow.tr.appendChild(td);
      });
      t.body.appendChild(aliasRow.tr);
      sec.appendChild(tableWrap(t.table));
      return sec;
    }

    function deltaSpan(d) {
      if (d.better === "same") {
        return add(make("span", "cmp-delta delta-same"), ariaHidden("="), " same");
      }
      var text = " " + signed(d.abs) + (d.pct !== null ? " (" + (d.pct >= 0 ? "+" : "") + d.pct.toFixed(2) + "%)" : "") + " ";
      return add(make("span", "cmp-delta delta-" + d.better), ariaHidden(d.abs > 0 ? "▲" : "▼"),
        text, make("span", "word", d.better));
    }

    function renderMetrics(cols, rows) {
      var sec = section("metrics", "Metrics", rows.length);
      if (!rows.length) {
        sec.appendChild(make("p", "empty-note", "No numeric summary metrics recorded for these versions."));
        return sec;
      }
      sec.appendChild(make("p", "section-note",
        "Summary metrics of the producing runs. Deltas are against the baseline; the best value of each row is marked ★ best."));
      var t = compareTable("metrics", "Metrics of each version, with changes against the baseline", cols, "Metric");
      rows.forEach(function (m) {
        var r = row(m.name, m.differs);
        r.tr.setAttribute("data-direction", m.direction);
        add(r.th, dottedKey(m.name), directionMarker(m.direction));
        m.values.forEach(function (value, i) {
          var d = m.deltas[i];
          var isBest = m.best.indexOf(i) !== -1;
          var st = i === 0 ? (value !== null ? "base" : "missing")
            : value === null ? "missing" : d === null ? "added" : d.better;
          var td = cell(st, "num metric" + (isBest ? " is-best" : ""));
          td.setAttribute("data-version", String(cols[i].choice.number));
          if (isBest) td.setAttribute("data-best", "true");
          td.setAttribute("data-value", value === null ? "" : String(value));
          if (value === null) {
            add(td, stateMark("missing"), make("span", "gone", "missing"));
          } else {
            add(td, make("span", "value", fmtNum(value)));
            if (isBest) add(td, " ", add(make("span", "best-mark"), ariaHidden("★"), " best"));
            if (i !== 0) {
              td.appendChild(make("br"));
              td.appendChild(d ? deltaSpan(d) : make("span", "cmp-delta muted", "no baseline value"));
            }
          }
          r.tr.appendChild(td);
        });
        t.body.appendChild(r.tr);
      });
      sec.appendChild(tableWrap(t.table));
      return sec;
    }

    function renderKeyed(id, title, cols, rows, empty, note) {
      var sec = section(id, title, rows.length);
      if (!rows.length) {
        sec.appendChild(make("p", "empty-note", empty));
        return sec;
      }
      if (note) sec.appendChild(make("p", "section-note", note));
      var t = compareTable(id, title + " of each version against the baseline", cols, "Key");
      rows.forEach(function (kr) {
        var r = row(kr.key, kr.differs);
        r.th.appendChild(dottedKey(kr.key));
        kr.cells.forEach(function (c, i) {
          var td = cell(c.state);
          td.setAttribute("data-version", String(cols[i].choice.number));
          add(td, stateMark(c.state));
          if (c.value === null) {
            if (c.state === "removed") td.appendChild(make("span", "gone", "removed"));
          } else if (c.value === "") {
            td.appendChild(make("span", "muted", "(empty)"));
          } else {
            td.appendChild(make("span", "value", c.value));
          }
          r.tr.appendChild(td);
        });
        t.body.appendChild(r.tr);
      });
      var differing = rows.filter(function (r) { return r.differs; }).length;
      sec.appendChild(make("p", "section-note same-note",
        (rows.length - differing) + " of " + rows.length + " keys are the same everywhere and hidden."));
      sec.appendChild(tableWrap(t.table));
      return sec;
    }

    function renderFiles(cols) {
      var sec = section("files", "Files");
      var baseFiles = cols[0].data.files || {};
      var changes = cols.map(function (c, i) { return i === 0 ? null : fileChanges(baseFiles, c.data.files || {}); });
      var summary = make("ul", "files-summary section-note");
      var rows = new Map();
      function at(path) {
        if (!rows.has(path)) rows.set(path, cols.map(function () { return null; }));
        return rows.get(path);
      }
      ownKeys(baseFiles).forEach(function (p) {
        at(p)[0] = { state: "base", text: filesize(baseFiles[p].size) };
      });
      changes.forEach(function (fc, i) {
        if (!fc) return;
        var label = cols[i].choice.label;
        summary.appendChild(add(make("li"), make("strong", null, label), " against " + cols[0].choice.label + ": ",
          make("span", "state-added", fc.added.length + " added"), " · ",
          make("span", "state-removed", fc.removed.length + " removed"), " · ",
          make("span", "state-changed", fc.modified.length + " modified"), " · ",
          make("span", "state-renamed", fc.renamed.length + " renamed"), " · ",
          fc.unchanged.length + " unchanged · size " + signedSize(fc.size_delta)));
        fc.added.forEach(function (f) { at(f.path)[i] = { state: "added", text: filesize(f.size) }; });
        fc.removed.forEach(function (f) { at(f.path)[i] = { state: "removed", text: "removed" }; });
        fc.modified.forEach(function (f) {
          at(f.path)[i] = { state: "changed", text: filesize(f.new_size) + " (" + signedSize(f.delta) + ")" };
        });
        fc.renamed.forEach(function (r) {
          at(r.to)[i] = { state: "renamed", text: "renamed from " + r.from };
          at(r.from)[i] = { state: "renamed", text: "renamed to " + r.to };
        });
        fc.unchanged.forEach(function (p) { at(p)[i] = { state: "same", text: filesize(baseFiles[p].size) }; });
      });
      if (summary.children.length > 4) {
        var fold = make("details", "files-per-version");
        fold.appendChild(make("summary", null, "File changes of each of the " + summary.children.length +
          " versions against " + cols[0].choice.label));
        fold.appendChild(summary);
        sec.appendChild(fold);
      } else {
        sec.appendChild(summary);
      }
      var paths = sortedStrings(Array.from(rows.keys()));
      var changed = [];
      var unchanged = [];
      paths.forEach(function (p) {
        var cells = rows.get(p).map(function (c) { return c || { state: "missing", text: "" }; });
        var differs = cells.some(function (c) {
          return c.state === "changed" || c.state === "added" || c.state === "removed" || c.state === "renamed";
        });
        (differs ? changed : unchanged).push({ path: p, cells: cells });
      });
      if (changed.length) {
        var t = compareTable("files", "Files that differ from the baseline", cols, "Path");
        changed.slice(0, MAX_FILE_ROWS).forEach(function (fr) {
          var r = row(fr.path, true);
          r.th.appendChild(make("code", null, fr.path));
          fr.cells.forEach(function (c, i) {
            var td = cell(c.state);
            td.setAttribute("data-version", String(cols[i].choice.number));
            add(td, stateMark(c.state), c.text);
            r.tr.appendChild(td);
          });
          t.body.appendChild(r.tr);
        });
        sec.appendChild(tableWrap(t.table));
        if (changed.length > MAX_FILE_ROWS) {
          sec.appendChild(make("p", "callout callout-info",
            "Showing the first " + MAX_FILE_ROWS + " of " + changed.length + " changed files."));
        }
      } else {
        sec.appendChild(make("p", "empty-note", "No file differs from the baseline."));
      }
      var pairs = [];
      for (var k = 0; k + 1 < choices.length; k++) {
        var newer = choices[k];
        var older = choices[k + 1];
        if (state.sel.indexOf(newer.number) !== -1 && state.sel.indexOf(older.number) !== -1) {
          pairs.push([older, newer]);
        }
      }
      if (pairs.length) {
        var more = make("p", "section-note pair-links", "Content diffs of the files: ");
        pairs.reverse().forEach(function (pair, n) {
          var a = make("a", null, pair[0].label + ".." + pair[1].label);
          a.href = "compare/v" + pair[0].number + "..v" + pair[1].number + ".html#contents";
          add(more, n ? " · " : "", a);
        });
        add(more, " (pre-rendered pages of neighbouring versions).");
        sec.appendChild(more);
      }
      if (unchanged.length) {
        var details = make("details", "unchanged-files");
        details.appendChild(make("summary", null, unchanged.length + " file" +
          (unchanged.length === 1 ? "" : "s") + " unchanged in every version"));
        var ul = make("ul", "path-list");
        unchanged.slice(0, MAX_FILE_ROWS).forEach(function (u) {
          ul.appendChild(add(make("li"), make("code", null, u.path)));
        });
        details.appendChild(ul);
        sec.appendChild(details);
      }
      return sec;
    }

    function renderCurves(list) {
      var sec = section("curves", "Training curves", list.length);
      if (!list.length) {
        sec.appendChild(make("p", "empty-note", "No metric history that two or more of these runs share."));
        return sec;
      }
      if (typeof window.vegaEmbed !== "function") {
        sec.appendChild(make("p", "chart-note",
          "The charts need Vega, which is not available (offline without vendored assets, or a blocked CDN)."));
      }
      var grid = make("div", "charts");
      list.forEach(function (c) {
        var fig = make("figure", "chart-card");
        fig.appendChild(add(make("figcaption"), make("span", "chart-title", c.metric)));
        var div = make("div", "chart");
        div.setAttribute("role", "img");
        div.setAttribute("aria-label", c.metric + " by step, per version");
        div.setAttribute("data-metric", c.metric);
        fig.appendChild(div);
        grid.appendChild(fig);
        charts.push({ div: div, spec: c.spec, result: null, token: 0 });
      });
      sec.appendChild(grid);
      return sec;
    }

    function drawChart(chart) {
      if (typeof window.vegaEmbed !== "function") return;
      chart.token += 1;
      var mine = chart.token;
      if (chart.result) {
        chart.result.finalize();
        chart.result = null;
      }
      var target = make("div", "chart-canvas");
      chart.div.textContent = "";
      chart.div.appendChild(target);
      window.vegaEmbed(target, chart.spec, embedOptions()).then(function (result) {
        if (mine !== chart.token) {
          result.finalize();
          return;
        }
        chart.result = result;
        chart.div.classList.add("chart-ready");
      }, function (error) {
        if (mine !== chart.token) return;
        chart.div.textContent = "";
        chart.div.classList.add("chart-failed");
        chart.div.appendChild(make("p", "chart-note",
          "The chart could not be drawn (" + ((error && error.message) || "unknown error") + ")."));
      });
    }

    function renderNotes(cols) {
      var notes = cols.filter(function (c) { return !c.data.run; }).map(function (c) {
        return String(c.data.ref || refOf(c.choice)) + " has no producing run: its metrics and config are missing.";
      });
      if (!notes.length) return null;
      var box = make("div", "callout callout-warn");
      box.setAttribute("role", "note");
      box.appendChild(make("p", "callout-title", "Notes"));
      var ul = make("ul", "cmp-notes");
      notes.forEach(function (n) { ul.appendChild(make("li", null, n)); });
      box.appendChild(ul);
      return box;
    }

    function legend(cols) {
      var p = make("p", "cmp-legend section-note");
      add(p, "Against the baseline ", make("strong", null, cols[0].choice.label), ": ");
      [["state-changed", "~", "changed"], ["state-added", "+", "added"], ["state-removed", "−", "removed"],
        ["state-renamed", "→", "renamed"], ["state-missing", "—", "missing"],
        ["delta-better", "▲▼", "better"], ["delta-worse", "▲▼", "worse"], ["is-best", "★", "best"]]
        .forEach(function (item) {
          add(p, add(make("span", "legend-item " + item[0]), ariaHidden(item[1]), " " + item[2]), " ");
        });
      return p;
    }

    function render(results) {
      clearOutput();
      var cols = results.map(function (r) { return { choice: r.choice, data: r.data }; });
      var metrics = metricRows(cols.map(function (c) { return c.data.summary; }), 0, directionOf);
      var configRows = keyedRows(cols.map(function (c) { return c.data.config; }), 0);
      var metaRows = keyedRows(cols.map(function (c) { return c.data.metadata; }), 0);
      var curveList = curves(cols.map(function (c) {
        return { label: c.choice.label, history: c.data.history || {} };
      }));
      var frag = doc.createDocumentFragment();
      add(frag, renderNotes(cols), legend(cols), renderSummary(cols), renderMetrics(cols, metrics),
        renderKeyed("config", "Config", cols, configRows, "No config recorded for these versions.",
          "Hyperparameters of the producing runs; nested keys are flattened with dots, list items as key[i]."),
        renderKeyed("metadata", "Metadata", cols, metaRows, "No artifact metadata recorded."),
        renderFiles(cols), renderCurves(curveList));
      output.appendChild(frag);
      charts.forEach(drawChart);
    }

    if (window.MutationObserver) {
      new MutationObserver(function () { charts.forEach(drawChart); })
        .observe(doc.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    }

    state = readHash() || defaults();
    syncControls();
    writeHash();
    refresh();
  }

  /* exposed for tests and for other pages (pure functions only) */
  window.SitegenCompare = {
    flattenValues: function (value) {
      return Array.from(flattenValues(value).entries());
    },
    keyedRows: keyedRows,
    metricRows: function (summaries, base, directions, lower) {
      return metricRows(summaries, base, directionFor(directions || {}, lower));
    },
    fileChanges: fileChanges,
    curves: curves,
    display: display,
    pyNumber: pyNumber,
    fmtNum: fmtNum
  };

  function start() {
    initPairToggle();
    initAnyPage();
  }

  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", start);
  else start();
})();
