/* sitegen default theme: sortable and filterable tables, Vega-Lite charts, site search,
   light/dark toggle. Plain ES2015, no framework, no eval, no inline styles: it runs under
   the page's Content-Security-Policy and from file://. Everything that comes from the
   store is put into the page with textContent / attributes, never as HTML. */
(function () {
  "use strict";

  var doc = document;
  var root = doc.documentElement;
  var THEME_KEY = "sitegen-theme";
  var MAX_RESULTS = 20;

  function all(selector, scope) {
    return Array.prototype.slice.call((scope || doc).querySelectorAll(selector));
  }

  function make(tag, className, text) {
    var node = doc.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /* ---------------------------------------------------------------- light / dark */

  var darkQuery = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function storedTheme() {
    try {
      var theme = window.localStorage.getItem(THEME_KEY);
      return theme === "light" || theme === "dark" ? theme : null;
    } catch (e) {
      return null;
    }
  }

  function currentTheme() {
    var set = root.getAttribute("data-theme");
    if (set === "light" || set === "dark") return set;
    return darkQuery && darkQuery.matches ? "dark" : "light";
  }

  function syncToggle() {
    var button = doc.getElementById("theme-toggle");
    if (!button) return;
    var dark = currentTheme() === "dark";
    button.setAttribute("aria-pressed", dark ? "true" : "false");
    button.title = dark ? "Switch to light mode" : "Switch to dark mode";
  }

  function setTheme(theme) {
    root.setAttribute("data-theme", theme);
    try {
      window.localStorage.setItem(THEME_KEY, theme);
    } catch (e) {
      /* not persisted; still applies to this page */
    }
    syncToggle();
    renderCharts();
  }

  function initTheme() {
    var stored = storedTheme();
    if (stored) root.setAttribute("data-theme", stored);
    var button = doc.getElementById("theme-toggle");
    if (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        setTheme(currentTheme() === "dark" ? "light" : "dark");
      });
    }
    if (darkQuery) {
      var onChange = function () {
        if (!storedTheme()) {
          syncToggle();
          renderCharts();
        }
      };
      if (darkQuery.addEventListener) darkQuery.addEventListener("change", onChange);
      else if (darkQuery.addListener) darkQuery.addListener(onChange);
    }
    syncToggle();
  }

  /* ---------------------------------------------------------------- tables: sort */

  var collator = window.Intl && Intl.Collator
    ? new Intl.Collator(undefined, { numeric: true, sensitivity: "base" })
    : null;

  /* A sort key: {m: missing} | {n: number} | {t: text}. Missing values sort last. */
  function sortKey(cell) {
    if (!cell) return { m: true };
    if (cell.hasAttribute("data-value")) {
      var raw = cell.getAttribute("data-value").trim();
      if (raw === "" || /^-?nan$/i.test(raw)) return { m: true };
      if (/^\+?inf(inity)?$/i.test(raw)) return { n: Infinity };
      if (/^-inf(inity)?$/i.test(raw)) return { n: -Infinity };
      var num = Number(raw);
      return isNaN(num) ? { t: raw } : { n: num };
    }
    var text = cell.textContent.replace(/\s+/g, " ").trim();
    return text === "" || text === "—" ? { m: true } : { t: text };
  }

  function compareKeys(a, b) {
    if (a.n !== undefined && b.n !== undefined) return a.n < b.n ? -1 : a.n > b.n ? 1 : 0;
    if (a.n !== undefined) return -1; /* numbers before text */
    if (b.n !== undefined) return 1;
    if (collator) return collator.compare(a.t, b.t);
    return a.t < b.t ? -1 : a.t > b.t ? 1 : 0;
  }

  function sortTable(table, column, descending) {
    all("tbody", table).forEach(function (body) {
      var rows = Array.prototype.slice.call(body.rows);
      var keyed = rows.map(function (row, index) {
        return { row: row, key: sortKey(row.cells[column]), index: index };
      });
      keyed.sort(function (x, y) {
        if (x.key.m || y.key.m) {
          if (x.key.m && y.key.m) return x.index - y.index;
          return x.key.m ? 1 : -1; /* missing last, whatever the direction */
        }
        var c = compareKeys(x.key, y.key);
        if (descending) c = -c;
        return c || x.index - y.index;
      });
      var fragment = doc.createDocumentFragment();
      keyed.forEach(function (k) { fragment.appendChild(k.row); });
      body.appendChild(fragment);
    });
  }

  function initSortable(table) {
    var head = table.tHead;
    if (!head || !head.rows.length) return;
    var headers = Array.prototype.slice.call(head.rows[head.rows.length - 1].cells);
    headers.forEach(function (th) {
      if (th.hasAttribute("data-nosort") || !th.textContent.trim()) return;
      var button = make("button", "sort");
      button.type = "button";
      while (th.firstChild) button.appendChild(th.firstChild);
      var icon = make("span", "sort-icon");
      icon.setAttribute("aria-hidden", "true");
      button.appendChild(icon);
      th.appendChild(button);
      button.addEventListener("click", function () {
        var descending = th.getAttribute("aria-sort") === "ascending";
        headers.forEach(function (other) {
          if (other !== th) other.removeAttribute("aria-sort");
        });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        sortTable(table, th.cellIndex, descending);
      });
    });
    table.classList.add("is-sortable");
  }

  /* ---------------------------------------------------------------- tables: filter */

  function initFilter(table, index) {
    var label = table.getAttribute("data-filter") || "rows";
    var anchor = table.parentElement && table.parentElement.classList.contains("table-wrap")
      ? table.parentElement
      : table;
    var box = make("div", "table-filter");
    var id = "table-filter-" + index;
    var input = make("input");
    input.type = "search";
    input.id = id;
    input.autocomplete = "off";
    input.placeholder = "Filter " + label + "…";
    var text = make("label", "visually-hidden", "Filter " + label);
    text.htmlFor = id;
    var count = make("span", "filter-count");
    count.setAttribute("aria-live", "polite");
    box.appendChild(text);
    box.appendChild(input);
    box.appendChild(count);
    anchor.parentNode.insertBefore(box, anchor);

    var rows = null;
    function apply() {
      if (!rows) {
        rows = [];
        all("tbody", table).forEach(function (body) {
          Array.prototype.forEach.call(body.rows, function (row) {
            if (!row.classList.contains("empty")) {
              rows.push({ row: row, text: row.textContent.replace(/\s+/g, " ").toLowerCase() });
            }
          });
        });
      }
      var terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (r) {
        var ok = terms.every(function (t) { return r.text.indexOf(t) !== -1; });
        r.row.hidden = !ok;
        if (ok) shown += 1;
      });
      count.textContent = terms.length ? shown + " of " + rows.length : "";
    }
    input.addEventListener("input", apply);
  }

  function initTables() {
    all("table[data-sortable]").forEach(initSortable);
    all("table[data-filter]").forEach(initFilter);
  }

  /* ---------------------------------------------------------------- charts */

  var charts = [];

  function chartFallback(div) {
    for (var node = div.nextElementSibling; node; node = node.nextElementSibling) {
      if (node.matches && node.matches("details.chart-data")) return node;
    }
    return null;
  }

  function chartFailed(chart, message) {
    chart.div.classList.remove("chart-ready");
    chart.div.classList.add("chart-failed");
    chart.div.textContent = "";
    chart.div.appendChild(make("p", "chart-note",
      "The chart could not be drawn (" + message + "). The data is in the table below."));
    if (chart.fallback) chart.fallback.open = true;
  }

  function initCharts() {
    all("div.chart[data-spec]").forEach(function (div) {
      var chart = { div: div, spec: null, result: null, token: 0, fallback: chartFallback(div), shown: false };
      var source = doc.getElementById(div.getAttribute("data-spec"));
      try {
        chart.spec = JSON.parse(source ? source.textContent : "null");
      } catch (e) {
        chart.spec = null;
      }
      charts.push(chart);
      if (!chart.spec) chartFailed(chart, "its data is missing");
    });
    renderCharts();
  }

  function embedOptions() {
    var dark = currentTheme() === "dark";
    var options = {
      actions: false,
      renderer: "svg",
      /* vega-embed and vega-tooltip would inject <style> elements, which the CSP blocks;
         site.css carries the few rules they need instead. */
      defaultStyle: false,
      tooltip: { disableDefaultStyle: true, theme: dark ? "dark" : "light" },
      config: { background: "transparent" }
    };
    if (dark) {
      options.theme = "dark";
      options.config.axis = { gridColor: "#313a46", domainColor: "#7d8794", tickColor: "#7d8794" };
    }
    /* Interpret expressions instead of compiling them with Function(): no 'unsafe-eval'.
       vega.min.js 6.x does not ship the interpreter, but vega-embed 7 bundles
       vega-interpreter and uses it whenever `ast` is set and `expr` is not given. */
    options.ast = true;
    if (window.vega && window.vega.expressionInterpreter) {
      options.expr = window.vega.expressionInterpreter;
    }
    return options;
  }

  function renderChart(chart) {
    chart.token += 1;
    var token = chart.token;
    if (chart.result) {
      chart.result.finalize();
      chart.result = null;
    }
    var target = make("div", "chart-canvas");
    chart.div.textContent = "";
    chart.div.appendChild(target);
    chart.div.classList.add("chart-loading");
    window.vegaEmbed(target, chart.spec, embedOptions()).then(function (result) {
      if (token !== chart.token) {
        result.finalize();
        return;
      }
      chart.result = result;
      chart.div.classList.remove("chart-loading", "chart-failed");
      chart.div.classList.add("chart-ready");
      if (!chart.shown && chart.fallback) chart.fallback.open = false;
      chart.shown = true;
    }, function (error) {
      if (token !== chart.token) return;
      chart.div.classList.remove("chart-loading");
      chartFailed(chart, (error && error.message) || "unknown error");
      if (window.console) console.warn("sitegen: chart failed", error);
    });
  }

  function renderCharts() {
    if (typeof window.vegaEmbed !== "function") {
      /* No Vega (no JS assets, blocked CDN): the fallback tables stay open. */
      charts.forEach(function (c) { c.div.classList.add("chart-unavailable"); });
      return;
    }
    charts.forEach(function (c) {
      if (c.spec) renderChart(c);
    });
  }

  /* Print the data tables too: open every chart's <details> while printing. */
  function initPrint() {
    var reopened = [];
    window.addEventListener("beforeprint", function () {
      all("details").forEach(function (d) {
        if (!d.open) {
          d.open = true;
          reopened.push(d);
        }
      });
    });
    window.addEventListener("afterprint", function () {
      reopened.forEach(function (d) { d.open = false; });
      reopened = [];
    });
  }

  /* ---------------------------------------------------------------- search */

  var KIND_ORDER = { collection: 0, version: 1, run: 2 };

  /* Only plain relative URLs from the index: no scheme, no protocol-relative or absolute
     path (the index comes from the store and is not trusted to name other sites). */
  function safeRelative(url) {
    return typeof url === "string" && url !== "" &&
      !/^[\s\u0000-\u001f]*([a-z][a-z0-9+.\-]*:|[\/\\])/i.test(url);
  }

  function normalizeIndex(data) {
    var list = Array.isArray(data) ? data : data && Array.isArray(data.entries) ? data.entries : [];
    var out = [];
    list.forEach(function (e, i) {
      if (!e || typeof e !== "object" || !safeRelative(e.u)) return;
      var title = String(e.t == null ? "" : e.t);
      var detail = String(e.d == null ? "" : e.d);
      var kind = String(e.k == null ? "" : e.k);
      out.push({
        k: kind, t: title, u: e.u, d: detail, i: i,
        title: title.toLowerCase(),
        hay: (title + " " + detail + " " + kind).toLowerCase()
      });
    });
    return out;
  }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = doc.createElement("script");
      script.src = src;
      script.async = true;
      script.onload = function () { resolve(); };
      script.onerror = function () { reject(new Error("could not load " + src)); };
      doc.head.appendChild(script);
    });
  }

  function fromGlobal() {
    return window.SITEGEN_SEARCH !== undefined ? window.SITEGEN_SEARCH : null;
  }

  function loadIndex(url) {
    if (fromGlobal()) return Promise.resolve(fromGlobal());
    var embedded = doc.getElementById("search-index");
    if (embedded) {
      try {
        return Promise.resolve(JSON.parse(embedded.textContent));
      } catch (e) {
        return Promise.reject(new Error("the embedded search index is not valid JSON"));
      }
    }
    if (!url) return Promise.reject(new Error("no search index"));
    var asScript = /\.js([?#]|$)/i.test(url) ? url : url.replace(/\.json([?#]|$)/i, ".js$1");
    function viaScript() {
      if (asScript === url && !/\.js([?#]|$)/i.test(url)) {
        return Promise.reject(new Error("the search index cannot be loaded from this page"));
      }
      return loadScript(asScript).then(function () {
        if (!fromGlobal()) throw new Error("the search index script defined no entries");
        return fromGlobal();
      });
    }
    /* fetch() of file:// fails in Chromium (with a console error): use the script twin. */
    if (/\.js([?#]|$)/i.test(url) || location.protocol === "file:" || !window.fetch) {
      return viaScript();
    }
    return window.fetch(url).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).catch(viaScript);
  }

  function rank(entries, query) {
    var q = query.toLowerCase().trim();
    var terms = q.split(/\s+/).filter(Boolean);
    if (!terms.length) return [];
    var hits = [];
    entries.forEach(function (e) {
      for (var i = 0; i < terms.length; i++) {
        if (e.hay.indexOf(terms[i]) === -1) return;
      }
      var score = e.title === q ? 0
        : e.title.indexOf(q) === 0 ? 1
        : e.title.indexOf(q) !== -1 ? 2
        : terms.every(function (t) { return e.title.indexOf(t) !== -1; }) ? 3 : 4;
      hits.push({ e: e, score: score });
    });
    hits.sort(function (a, b) {
      return a.score - b.score ||
        (KIND_ORDER[a.e.k] === undefined ? 9 : KIND_ORDER[a.e.k]) -
        (KIND_ORDER[b.e.k] === undefined ? 9 : KIND_ORDER[b.e.k]) ||
        a.e.i - b.e.i;
    });
    return hits.map(function (h) { return h.e; });
  }

  function initSearch() {
    var input = doc.getElementById("site-search");
    var panel = doc.getElementById("site-search-results");
    if (!input || !panel) return;
    var container = input.closest ? input.closest(".search") : input.parentNode;
    if (container) container.hidden = false;
    var list = panel.querySelector("ul") || panel.appendChild(make("ul"));
    var status = panel.querySelector(".search-status") || panel.insertBefore(make("p", "search-status"), list);
    var prefix = input.getAttribute("data-root") || "";
    var entries = null;
    var loading = null;

    function open(show) {
      panel.hidden = !show;
      input.setAttribute("aria-expanded", show ? "true" : "false");
    }

    function ensureIndex() {
      if (!loading) {
        loading = loadIndex(input.getAttribute("data-index")).then(function (data) {
          entries = normalizeIndex(data);
          return entries;
        }, function (error) {
          status.textContent = "Search is unavailable: " + error.message + ".";
          open(!!input.value.trim());
          loading = null; /* retry on the next keystroke */
          throw error;
        });
      }
      return loading;
    }

    function show() {
      var query = input.value;
      if (!query.trim()) {
        list.textContent = "";
        status.textContent = "";
        open(false);
        return;
      }
      if (!entries) {
        status.textContent = "Loading the search index…";
        open(true);
        ensureIndex().then(show, function () {});
        return;
      }
      var hits = rank(entries, query);
      list.textContent = "";
      hits.slice(0, MAX_RESULTS).forEach(function (e) {
        var li = make("li");
        var a = make("a", "search-hit");
        a.href = prefix + e.u;
        a.appendChild(make("span", "hit-kind kind-" + (KIND_ORDER[e.k] === undefined ? "other" : e.k), e.k));
        a.appendChild(make("span", "hit-title", e.t));
        if (e.d) a.appendChild(make("span", "hit-detail", e.d));
        li.appendChild(a);
        list.appendChild(li);
      });
      status.textContent = hits.length === 0 ? "No matches."
        : hits.length > MAX_RESULTS ? "Showing " + MAX_RESULTS + " of " + hits.length + " matches."
        : hits.length + (hits.length === 1 ? " match." : " matches.");
      open(true);
    }

    function links() {
      return all("a.search-hit", list);
    }

    input.addEventListener("focus", function () {
      ensureIndex().catch(function () {});
      if (input.value.trim()) show();
    });
    input.addEventListener("input", show);
    input.addEventListener("keydown", function (event) {
      var hits = links();
      if (event.key === "ArrowDown" && hits.length) {
        event.preventDefault();
        hits[0].focus();
      } else if (event.key === "Enter" && hits.length) {
        event.preventDefault();
        hits[0].click();
      } else if (event.key === "Escape") {
        input.value = "";
        show();
      }
    });
    list.addEventListener("keydown", function (event) {
      var hits = links();
      var at = hits.indexOf(doc.activeElement);
      if (event.key === "ArrowDown" && at < hits.length - 1) {
        event.preventDefault();
        hits[at + 1].focus();
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        if (at > 0) hits[at - 1].focus();
        else input.focus();
      } else if (event.key === "Escape") {
        event.preventDefault();
        open(false);
        input.focus();
      }
    });
    doc.addEventListener("click", function (event) {
      if (container && !container.contains(event.target)) open(false);
    });
    doc.addEventListener("keydown", function (event) {
      var t = event.target;
      var typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
      if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
        event.preventDefault();
        input.focus();
        input.select();
      }
    });
  }

  /* ---------------------------------------------------------------- start */

  function start() {
    initTheme();
    initTables();
    initSearch();
    initPrint();
    initCharts();
  }

  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", start);
  else start();
})();

/* Live reload for `sitegen serve`: on localhost only, poll the build manifest and reload
   the page when a rebuild changed it. Nothing is injected into pages. */
(function () {
  "use strict";
  var host = window.location.hostname;
  if (window.location.protocol !== "http:" || (host !== "127.0.0.1" && host !== "localhost")) return;
  var brand = document.querySelector("a.brand");
  var root = brand ? brand.getAttribute("href").replace(/index\.html$/, "") : "";
  var manifest = root + "sitegen-build.json";
  var last = null;
  function poll() {
    fetch(manifest, { cache: "no-store" }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (text) {
      if (text === null) return;
      if (last !== null && text !== last) window.location.reload();
      last = text;
    }).catch(function () { /* the server restarted; try again */ });
  }
  poll();
  window.setInterval(poll, 1500);
})();
