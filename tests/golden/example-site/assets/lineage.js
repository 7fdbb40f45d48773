/* sitegen lineage graphs: the project lineage page and the neighbourhood panel of version
   and run pages. Progressive enhancement over the edge table that the page always carries.

   Data (see sitegen/pages/lineage.py): {format, centre, nodes: [{id, kind, label, type,
   collection, status, aliases, x, y, href, details}], edges: [{source, target, broken}]}
   with positions computed in Python (a deterministic layered layout), so cytoscape runs the
   "preset" layout: no layout work in the browser.

   Everything in the data comes from the store and is hostile: it reaches the DOM only
   through textContent / attribute setters, and the canvas only as cytoscape labels.

   Test and benchmark hooks: window.sitegenLineage (the last graph set up on the page) with
   cy, renderMs, initMs, loadMs, highlighted(), visibleIds(), diffMarked(), select(id), ...;
   the root element carries data-state="loading|ready|unavailable|error". */
(function () {
  "use strict";

  var doc = document;
  var GROUP_MIN = 5; // sibling versions of one collection collapsed into one node
  var BIG = 800; // from here on: cheaper rendering (no arrows, textures while moving)
  var DAGRE_MAX = 1500; // dagre re-layout is offered up to this many nodes
  var EXPAND_ALL_MAX = 3000; // "Expand all" is offered up to this many nodes
  var SELECT_MAX = 20000; // the "go to node" list lists at most this many nodes
  var MIN_FIT_ZOOM = 0.2; // "fit" never zooms out further than this
  var NODE_W = 180;
  var NODE_H = 44;
  var HINT = "Click a node (or choose one in “Go to”) for its details; what it depends on is highlighted.";

  // ------------------------------------------------------------------ small DOM helpers

  function el(tag, props, children) {
    var node = doc.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      var value = props[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = String(value);
      else if (key === "className") node.className = value;
      else if (key === "hidden") node.hidden = true;
      else node.setAttribute(key, value === true ? "" : String(value));
    });
    (children || []).forEach(function (child) {
      if (child) node.appendChild(typeof child === "string" ? doc.createTextNode(child) : child);
    });
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  var uid = 0;
  function nextId(prefix) {
    uid += 1;
    return "lg-" + prefix + "-" + uid;
  }

  function labelled(text, control) {
    if (!control.id) control.id = nextId("c");
    return el("span", { className: "lg-field" }, [
      el("label", { "for": control.id, text: text }),
      control,
    ]);
  }

  function button(text, title) {
    return el("button", { type: "button", className: "button lg-btn", title: title, text: text });
  }

  function option(value, text, selected) {
    var o = el("option", { value: value, text: text });
    if (selected) o.selected = true;
    return o;
  }

  /** Only relative links computed by sitegen: no scheme, no protocol-relative URL. */
  function safeHref(href) {
    if (typeof href !== "string" || !href) return null;
    if (/^[a-z][a-z0-9+.\-]*:/i.test(href) || href.indexOf("//") === 0 || href.indexOf("\\") !== -1) {
      return null;
    }
    return href;
  }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = doc.createElement("script");
      script.src = src;
      script.onload = function () { resolve(); };
      script.onerror = function () { reject(new Error("could not load " + src)); };
      doc.head.appendChild(script);
    });
  }

  function now() {
    return window.performance && performance.now ? performance.now() : Date.now();
  }

  function truncate(text, max) {
    text = String(text);
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
  }

  function hash(text) {
    var h = 0;
    for (var i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) | 0;
    return Math.abs(h);
  }

  function shortValue(value) {
    if (typeof value === "number") {
      if (!isFinite(value)) return String(value);
      var abs = Math.abs(value);
      if (Number.isInteger(value) || abs >= 1000) return String(value);
      return String(Number(value.toPrecision(4)));
    }
    if (typeof value === "string") return truncate(value, 80);
    var text;
    try { text = JSON.stringify(value); } catch (e) { text = String(value); }
    return truncate(text, 80);
  }

  // ------------------------------------------------------------------ colours (canvas)

  // [fill, border] pairs; pastel fills keep the dark labels readable in both themes.
  var ARTIFACT_COLOURS = { dataset: ["#dbeafe", "#1d4ed8"], model: ["#ede9fe", "#6d28d9"] };
  var OTHER_ARTIFACT = [
    ["#ccfbf1", "#0f766e"], ["#fef3c7", "#b45309"], ["#fce7f3", "#be185d"],
    ["#ecfccb", "#4d7c0f"], ["#e0e7ff", "#4338ca"], ["#f1f5f9", "#475569"],
  ];
  var JOB_BORDERS = ["#0369a1", "#15803d", "#a16207", "#7e22ce", "#be123c", "#334155", "#0e7490"];
  var KNOWN_JOBS = { preprocess: 0, prep: 0, train: 1, evaluate: 2, eval: 2 };
  var BAD = "#dc2626";

  function nodeColours(n) {
    if (n.kind === "missing-version" || n.kind === "missing-run") return ["#ffffff", "#6b7280"];
    if (n.kind === "version") {
      return ARTIFACT_COLOURS[n.type] || OTHER_ARTIFACT[hash(n.type) % OTHER_ARTIFACT.length];
    }
    if (n.status === "failed" || n.status === "crashed") return ["#fee2e2", BAD];
    var job = Object.prototype.hasOwnProperty.call(KNOWN_JOBS, n.type)
      ? KNOWN_JOBS[n.type]
      : hash(n.type) % JOB_BORDERS.length;
    return ["#f8fafc", JOB_BORDERS[job]];
  }

  function displayLabel(n) {
    var first = truncate(n.label, 28);
    if (n.kind === "version") {
      return n.aliases && n.aliases.length
        ? first + "\n" + truncate(n.aliases.map(function (a) { return "@" + a; }).join(" "), 28)
        : first;
    }
    if (n.kind === "run") {
      var second = n.type || "run";
      if (n.status && n.status !== "finished") {
        second += " · " + (n.status === "failed" ? "✗ " : n.status === "crashed" ? "⚠ " : "") + n.status;
      }
      return first + "\n" + truncate(second, 28);
    }
    return "missing\n" + first;
  }

  function styles(big) {
    var edgeColour = "#8b95a1";
    return [
      {
        selector: "node",
        style: {
          label: "data(display)",
          width: NODE_W,
          height: NODE_H,
          shape: "data(shape)",
          "background-color": "data(fill)",
          "border-color": "data(line)",
          "border-width": 2,
          "border-style": "data(lineStyle)",
          color: "#111827",
          "font-size": 11,
          "text-valign": "center",
          "text-halign": "center",
          "text-wrap": "wrap",
          "text-max-width": NODE_W - 12,
          "min-zoomed-font-size": big ? 7 : 0,
        },
      },
      { selector: "node.run-bad", style: { "border-width": 3 } },
      { selector: "node.group", style: { "border-width": 4, "border-style": "double" } },
      { selector: "node.centre", style: { "border-width": 4, "border-color": "#f59e0b" } },
      {
        selector: "edge",
        style: {
          width: 1.5,
          "line-color": edgeColour,
          "target-arrow-color": edgeColour,
          "target-arrow-shape": big ? "none" : "triangle",
          "curve-style": big ? "haystack" : "bezier",
          "arrow-scale": 0.9,
          // big graphs do not dim edges one by one (too slow): they are faint to begin with
          opacity: big ? 0.45 : 1,
        },
      },
      {
        selector: "edge.broken",
        style: {
          "line-color": BAD,
          "target-arrow-color": BAD,
          "line-style": "dashed",
          width: 2,
          "curve-style": "bezier",
          "target-arrow-shape": "triangle",
          opacity: 1,
        },
      },
      { selector: ".gone", style: { display: "none" } },
      { selector: ".dim", style: { opacity: 0.15 } },
      { selector: "node.hl", style: { "border-width": 3, "border-color": "#2563eb" } },
      { selector: "edge.hl", style: { "line-color": "#2563eb", "target-arrow-color": "#2563eb", width: 2.5, opacity: 1 } },
      { selector: "node.diff-a", style: { "border-width": 4, "border-color": "#ea580c" } },
      { selector: "node.diff-b", style: { "border-width": 4, "border-color": "#0d9488" } },
      { selector: "node.diff-end", style: { "border-width": 5, "border-color": "#111827" } },
      { selector: "node.found", style: { "overlay-color": "#f59e0b", "overlay-opacity": 0.25, "overlay-padding": 6 } },
      {
        selector: "node:selected",
        style: { "border-width": 5, "border-color": "#f59e0b", "overlay-opacity": 0 },
      },
      { selector: "node.centre:selected", style: { "border-color": "#f59e0b" } },
    ];
  }

  // ------------------------------------------------------------------ the graph model

  function Model(payload) {
    var nodes = Array.isArray(payload.nodes) ? payload.nodes : [];
    var edges = Array.isArray(payload.edges) ? payload.edges : [];
    var byId = Object.create(null);
    var succ = Object.create(null);
    var pred = Object.create(null);
    nodes.forEach(function (n) {
      n.id = String(n.id);
      n.kind = String(n.kind || "");
      n.label = String(n.label == null ? n.id : n.label);
      n.type = String(n.type || "");
      n.collection = String(n.collection || "");
      n.status = String(n.status || "");
      n.aliases = Array.isArray(n.aliases) ? n.aliases.map(String) : [];
      n.x = Number(n.x) || 0;
      n.y = Number(n.y) || 0;
      n.details = n.details && typeof n.details === "object" ? n.details : {};
      byId[n.id] = n;
      succ[n.id] = [];
      pred[n.id] = [];
    });
    var kept = [];
    edges.forEach(function (e) {
      var s = String(e.source), t = String(e.target);
      if (!(s in byId) || !(t in byId)) return;
      succ[s].push(t);
      pred[t].push(s);
      kept.push({ source: s, target: t, broken: !!e.broken });
    });
    return { nodes: nodes, edges: kept, byId: byId, succ: succ, pred: pred };
  }

  /** The filter a node belongs to: artifact type, job type, or missing. */
  function filterKey(n) {
    if (n.kind === "version") return "a:" + n.type;
    if (n.kind === "run") return "j:" + n.type;
    return "m:missing";
  }

  /** Breadth-first distances from start following adj, at most depth hops (null: all). */
  function bfs(adj, start, depth) {
    var seen = Object.create(null);
    seen[start] = 0;
    var queue = [start];
    for (var head = 0; head < queue.length; head++) {
      var node = queue[head];
      if (depth !== null && seen[node] >= depth) continue;
      var next = adj[node] || [];
      for (var i = 0; i < next.length; i++) {
        if (!(next[i] in seen)) {
          seen[next[i]] = seen[node] + 1;
          queue.push(next[i]);
        }
      }
    }
    return seen;
  }

  /** Same as sitegen.lineage.closure(): reachable nodes, excluding start. */
  function closure(model, start, direction) {
    var seen = bfs(direction === "up" ? model.pred : model.succ, start, null);
    delete seen[start];
    return seen;
  }

  /** Same node set as sitegen.lineage.neighbourhood(): up ∪ down, each within depth. */
  function neighbourhood(model, start, depth, direction) {
    var keep = Object.create(null);
    keep[start] = true;
    if (direction === "up" || direction === "both") {
      Object.keys(bfs(model.pred, start, depth)).forEach(function (k) { keep[k] = true; });
    }
    if (direction === "down" || direction === "both") {
      Object.keys(bfs(model.succ, start, depth)).forEach(function (k) { keep[k] = true; });
    }
    return keep;
  }

  /** Versions of one collection in one layout column, GROUP_MIN or more: one summary node. */
  function findGroups(model, centre) {
    var columns = Object.create(null);
    model.nodes.forEach(function (n) {
      if (n.kind !== "version") return;
      var key = n.collection + "\u0000" + n.x;
      (columns[key] = columns[key] || []).push(n);
    });
    var groups = [];
    Object.keys(columns).sort().forEach(function (key) {
      var members = columns[key];
      if (members.length < GROUP_MIN) return;
      members.sort(function (a, b) { return a.y - b.y; });
      var name = members[0].collection.split("/").slice(1).join("/") || members[0].collection;
      groups.push({
        id: "g:" + groups.length,
        collection: members[0].collection,
        name: name,
        type: members[0].type,
        members: members.map(function (m) { return m.id; }),
        x: members[0].x,
        y: members[0].y,
        collapsed: !members.some(function (m) { return m.id === centre; }),
      });
    });
    return groups;
  }

  // ------------------------------------------------------------------ the view

  function setup(root) {
    var api = {
      root: root,
      cy: null,
      renderMs: null,
      initMs: null,
      loadMs: null,
      ready: false,
    };
    window.sitegenLineage = api;
    var fallback = root.parentNode.querySelector(".lg-fallback");
    var table = root.parentNode.querySelector("details.lg-edges");

    function fail(message, state) {
      root.setAttribute("data-state", state);
      root.hidden = true;
      if (fallback) {
        fallback.textContent = message;
        fallback.hidden = false;
      }
      if (table) table.open = true;
    }

    if (typeof window.cytoscape !== "function") {
      fail(
        "The interactive graph is unavailable: cytoscape.js did not load (blocked, offline " +
          "or modified). Every edge is listed in the table below.",
        "unavailable"
      );
      return;
    }
    root.setAttribute("data-state", "loading");
    var started = now();
    var source = root.getAttribute("data-payload");
    var loading;
    if (source) {
      loading = new Promise(function (resolve) {
        var block = doc.getElementById(source);
        resolve(JSON.parse(block ? block.textContent : "null"));
      });
    } else if (window.SITEGEN_LINEAGE) {
      loading = Promise.resolve(window.SITEGEN_LINEAGE);
    } else {
      loading = loadScript(root.getAttribute("data-src")).then(function () {
        return window.SITEGEN_LINEAGE;
      });
    }
    loading
      .then(function (payload) {
        if (!payload || !Array.isArray(payload.nodes)) throw new Error("no graph data");
        api.loadMs = now() - started;
        build(root, api, payload, table);
      })
      .catch(function (error) {
        if (window.console) console.error("sitegen lineage:", error);
        fail(
          "The interactive graph could not be drawn (" + (error && error.message) +
            "). Every edge is listed in the table below.",
          "error"
        );
      });
  }

  function build(root, api, payload, table) {
    var phases = { start: now() };
    var model = Model(payload);
    var centre = payload.centre && model.byId[payload.centre] ? String(payload.centre) : null;
    var maxDepth = parseInt(root.getAttribute("data-max-depth"), 10) || 0;
    var isPanel = !!centre;
    var big = model.nodes.length >= BIG;
    var groups = findGroups(model, centre);
    var groupOf = Object.create(null);
    var groupById = Object.create(null);
    groups.forEach(function (g) {
      groupById[g.id] = g;
      g.members.forEach(function (m) { groupOf[m] = g; });
    });

    var state = {
      selected: null,
      mode: "up",
      highlight: null, // id -> true
      diff: null, // {a, b, onlyA, onlyB}
      typeOff: Object.create(null),
      depth: maxDepth,
      direction: "both",
      inDepth: null, // id -> true, panel only
      dagre: false,
      matches: [],
      matchIndex: -1,
    };

    // --- DOM ---------------------------------------------------------------------
    clear(root);
    root.hidden = false;
    var ui = buildControls(model, groups, isPanel, maxDepth);
    var canvas = el("div", {
      className: "lg-canvas",
      role: "region",
      tabindex: "0",
      "aria-label":
        (isPanel ? "Lineage neighbourhood graph" : "Project lineage graph") +
        ". Arrow keys pan, + and - zoom, 0 fits, Escape clears the selection; the node list above selects " +
        "nodes. The edge table below lists the same graph.",
    });
    var details = el("aside", { className: "lg-details", "aria-label": "Node details", hidden: true });
    var status = el("p", { className: "lg-status", role: "status", "aria-live": "polite" });
    var legend = buildLegend(model, groups);
    root.appendChild(ui.bar);
    if (ui.more) root.appendChild(ui.more);
    root.appendChild(el("div", { className: "lg-body" }, [canvas, details]));
    root.appendChild(el("div", { className: "lg-foot" }, [status, legend]));
    showHint();
    sizeCanvas(canvas, model, isPanel);
    phases.controls = now();

    // --- visibility: type filters, depth, collapsed groups -------------------------
    function shown(n) {
      return !state.typeOff[filterKey(n)] && (!state.inDepth || state.inDepth[n.id]);
    }

    function rep(id) {
      var g = groupOf[id];
      return g && g.collapsed ? g.id : id;
    }

    function isGone(n) {
      var g = groupOf[n.id];
      return !shown(n) || !!(g && g.collapsed);
    }

    function isGroupGone(g) {
      return !(g.collapsed && g.members.some(function (m) { return shown(model.byId[m]); }));
    }

    /** Edges of collapsed members, redrawn between the group node and the outside. */
    function groupEdges() {
      var wanted = Object.create(null);
      if (!groups.length) return wanted;
      model.edges.forEach(function (e) {
        var s = rep(e.source), t = rep(e.target);
        if ((s === e.source && t === e.target) || s === t) return;
        if (!shown(model.byId[e.source]) || !shown(model.byId[e.target])) return;
        var key = s + "\u0000" + t;
        var w = wanted[key] || (wanted[key] = { source: s, target: t, broken: false });
        w.broken = w.broken || e.broken;
      });
      return wanted;
    }

    function metaElement(key, w) {
      return {
        group: "edges",
        data: { id: "m:" + key, source: w.source, target: w.target, key: key },
        classes: w.broken ? "meta broken" : "meta",
      };
    }

    // --- cytoscape ---------------------------------------------------------------
    // Elements are created in their initial state, and only those that are shown: members
    // of collapsed groups (and nodes filtered out) are added when they are first shown.
    // Each element costs cytoscape style and bounds work, at creation and on every change,
    // so a sweep of thousands of versions collapsed into groups starts fast.
    if (centre) state.inDepth = neighbourhood(model, centre, maxDepth, "both");
    var goneState = Object.create(null); // node id -> display: none
    var present = Object.create(null); // model node / edge index -> added to cytoscape
    var elements = [];

    function nodeElement(n) {
      var colours = nodeColours(n);
      var classes = [n.kind];
      if (n.kind === "run" && (n.status === "failed" || n.status === "crashed")) classes.push("run-bad");
      if (n.id === centre) classes.push("centre");
      if (goneState[n.id]) classes.push("gone");
      var missing = n.kind.indexOf("missing") === 0;
      return {
        group: "nodes",
        data: {
          id: n.id,
          display: displayLabel(n),
          shape: n.kind.slice(-3) === "run" ? "rectangle" : "round-rectangle",
          fill: colours[0],
          line: colours[1],
          lineStyle: missing || n.status === "crashed" ? "dashed" : "solid",
        },
        position: { x: n.x, y: n.y },
        classes: classes.join(" "),
      };
    }

    /** Model edges not yet in cytoscape whose two ends are: their elements. */
    function newEdges() {
      var out = [];
      model.edges.forEach(function (e, i) {
        if (present["e" + i] || !present[e.source] || !present[e.target]) return;
        present["e" + i] = true;
        out.push({
          group: "edges",
          data: { id: "e:" + i, source: e.source, target: e.target },
          classes: e.broken ? "broken" : "",
        });
      });
      return out;
    }

    model.nodes.forEach(function (n) {
      goneState[n.id] = isGone(n);
      if (goneState[n.id]) return;
      present[n.id] = true;
      elements.push(nodeElement(n));
    });
    elements = elements.concat(newEdges());
    groups.forEach(function (g) {
      var colours = nodeColours({ kind: "version", type: g.type });
      goneState[g.id] = isGroupGone(g);
      elements.push({
        group: "nodes",
        data: {
          id: g.id,
          display: truncate(g.name, 24) + " ×" + g.members.length + "\n(click to expand)",
          shape: "round-rectangle",
          fill: colours[0],
          line: colours[1],
          lineStyle: "solid",
        },
        position: { x: g.x, y: g.y },
        classes: goneState[g.id] ? "group gone" : "group",
      });
    });
    var initialMeta = groupEdges();
    Object.keys(initialMeta).forEach(function (key) { elements.push(metaElement(key, initialMeta[key])); });

    var t0 = now();
    var cy = window.cytoscape({
      container: canvas,
      elements: elements,
      style: styles(big),
      layout: { name: "preset", fit: false },
      minZoom: 0.02,
      maxZoom: 4,
      boxSelectionEnabled: false,
      autoungrabify: big,
      selectionType: "single",
      hideEdgesOnViewport: big,
      textureOnViewport: big,
      motionBlur: false,
      pixelRatio: big ? 1 : "auto",
    });
    api.initMs = now() - t0;
    api.cy = cy;
    var metaEdges = Object.create(null); // "source\0target" -> edge standing in for group edges
    cy.edges(".meta").forEach(function (edge) { metaEdges[edge.data("key")] = edge; });
    cy.one("render", function () {
      // the first frame is drawn: init plus the first paint
      api.renderMs = now() - t0;
      root.setAttribute("data-render-ms", String(Math.round(api.renderMs)));
    });

    // What is applied to cytoscape is remembered, so that updates touch only what changes
    // (a class change costs a style recalculation per element: with thousands of elements
    // that is the difference between a click that answers at once and one that stalls).
    var markState = Object.create(null); // element id -> mark class ("" / dim / hl / diff-*)
    api.timings = {};

    function applyVisibility() {
      var started = now();
      var changed = [];
      var fresh = [];
      function setGone(id, gone) {
        if (!!goneState[id] === gone) return;
        goneState[id] = gone;
        var ele = cy.getElementById(id);
        ele.toggleClass("gone", gone);
        changed.push(ele);
      }
      cy.batch(function () {
        model.nodes.forEach(function (n) {
          var gone = isGone(n);
          if (present[n.id]) setGone(n.id, gone);
          else if (!gone) {
            goneState[n.id] = false;
            present[n.id] = true;
            fresh.push(nodeElement(n));
          }
        });
        if (fresh.length) {
          cy.add(fresh).forEach(function (ele) { changed.push(ele); });
          cy.add(newEdges()).forEach(function (ele) { changed.push(ele); });
        }
        groups.forEach(function (g) { setGone(g.id, isGroupGone(g)); });
        if (!groups.length) return;
        var wanted = groupEdges();
        var unwanted = [];
        Object.keys(metaEdges).forEach(function (key) {
          var edge = metaEdges[key];
          if (!(key in wanted)) {
            delete markState[edge.id()];
            unwanted.push(edge);
            delete metaEdges[key];
          } else if (edge.hasClass("broken") !== wanted[key].broken) {
            edge.toggleClass("broken", wanted[key].broken);
          }
        });
        if (unwanted.length) cy.remove(cy.collection(unwanted));
        var add = [];
        Object.keys(wanted).forEach(function (key) {
          if (!(key in metaEdges)) add.push(metaElement(key, wanted[key]));
        });
        if (add.length) {
          cy.add(add).forEach(function (edge) {
            metaEdges[edge.data("key")] = edge;
            changed.push(edge);
          });
        }
      });
      // cytoscape recomputes styles lazily, and ele.visible() / ":visible" read a cache
      // that only a style read refreshes: refresh what changed so the answers are current.
      if (changed.length) {
        var col = cy.collection(changed);
        col.union(col.connectedEdges()).forEach(function (ele) { ele.pstyle("display"); });
      }
      api.timings.visibility = now() - started;
      applyMarks();
    }

    /** Fit the shown nodes into view. A graph too tall or too wide to be read that way
        (thousands of rows, or hundreds of layers) is shown from its top-left corner at a
        legible minimum zoom instead of as a sliver. */
    function fitVisible() {
      var box;
      if (!state.dagre && !draggedByHand) {
        // the box from the known positions: cytoscape's would measure every label first
        box = { x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity };
        var take = function (x, y) {
          box.x1 = Math.min(box.x1, x - NODE_W / 2); box.x2 = Math.max(box.x2, x + NODE_W / 2);
          box.y1 = Math.min(box.y1, y - NODE_H / 2); box.y2 = Math.max(box.y2, y + NODE_H / 2);
        };
        model.nodes.forEach(function (n) { if (!goneState[n.id]) take(n.x, n.y); });
        groups.forEach(function (g) { if (!goneState[g.id]) take(g.x, g.y); });
        if (box.x1 === Infinity) return;
      } else {
        var visible = cy.nodes().not(".gone");
        if (!visible.length) return;
        box = visible.boundingBox();
      }
      var w = cy.width(), h = cy.height(), pad = 30;
      var bw = box.x2 - box.x1, bh = box.y2 - box.y1;
      var zoom = Math.min((w - 2 * pad) / bw, (h - 2 * pad) / bh, 1.2);
      if (zoom >= MIN_FIT_ZOOM) {
        cy.viewport({
          zoom: zoom,
          pan: { x: w / 2 - ((box.x1 + box.x2) / 2) * zoom, y: h / 2 - ((box.y1 + box.y2) / 2) * zoom },
        });
        return;
      }
      zoom = MIN_FIT_ZOOM;
      cy.viewport({
        zoom: zoom,
        pan: {
          x: bw * zoom <= w - 2 * pad ? w / 2 - ((box.x1 + box.x2) / 2) * zoom : pad - box.x1 * zoom,
          y: bh * zoom <= h - 2 * pad ? h / 2 - ((box.y1 + box.y2) / 2) * zoom : pad - box.y1 * zoom,
        },
      });
      say("This graph is too large to fit legibly: showing its start. Drag or use the arrow keys to move, “Find” or “Go to” to jump.");
    }

    // --- highlight (root cause / impact) and diff marks -----------------------------
    function computeHighlight() {
      if (!state.selected || state.mode === "none") return null;
      var set = Object.create(null);
      set[state.selected] = true;
      if (state.mode === "up" || state.mode === "both") {
        Object.keys(closure(model, state.selected, "up")).forEach(function (k) { set[k] = true; });
      }
      if (state.mode === "down" || state.mode === "both") {
        Object.keys(closure(model, state.selected, "down")).forEach(function (k) { set[k] = true; });
      }
      return set;
    }

    function applyMarks() {
      var started = now();
      state.highlight = state.diff ? null : computeHighlight();
      var diff = state.diff;
      var keep = state.highlight;
      if (diff) {
        keep = Object.create(null);
        [diff.onlyA, diff.onlyB].forEach(function (set) {
          Object.keys(set).forEach(function (k) { keep[k] = true; });
        });
        keep[diff.a] = keep[diff.b] = true;
      }
      var want = Object.create(null);
      if (keep) {
        var lit = Object.create(null); // shown node id (a group for collapsed members) -> mark
        Object.keys(keep).forEach(function (id) { lit[rep(id)] = diff ? "" : "hl"; });
        if (diff) {
          Object.keys(diff.onlyA).forEach(function (id) { lit[rep(id)] = "diff-a"; });
          Object.keys(diff.onlyB).forEach(function (id) { lit[rep(id)] = "diff-b"; });
          lit[rep(diff.a)] = lit[rep(diff.b)] = "diff-end";
        }
        cy.nodes().forEach(function (node) {
          var id = node.id();
          if (!goneState[id]) want[id] = id in lit ? lit[id] : "dim";
        });
        var markEdge = function (edge) {
          var s = edge.data("source"), t = edge.data("target");
          if (goneState[s] || goneState[t]) return;
          if (s in lit && t in lit) want[edge.id()] = diff ? "" : "hl";
          else if (!big) want[edge.id()] = "dim";
        };
        if (big) {
          // thousands of edges: only the lit ones change (dimming all would stall the click)
          Object.keys(lit).forEach(function (id) { cy.getElementById(id).connectedEdges().forEach(markEdge); });
        } else {
          cy.edges().forEach(markEdge);
        }
      }
      cy.batch(function () {
        function mark(id, cls) {
          var ele = cy.getElementById(id);
          var old = markState[id] || "";
          if (old) ele.removeClass(old);
          if (cls) ele.addClass(cls);
          if (cls) markState[id] = cls;
          else delete markState[id];
        }
        Object.keys(markState).forEach(function (id) {
          if (!want[id]) mark(id, "");
        });
        Object.keys(want).forEach(function (id) {
          if ((markState[id] || "") !== want[id]) mark(id, want[id]);
        });
      });
      var count = state.highlight ? Object.keys(state.highlight).length : 0;
      root.setAttribute("data-highlighted-count", String(count));
      api.timings.marks = now() - started;
    }

    // --- selection and details -------------------------------------------------------
    function select(id, options) {
      var n = model.byId[id];
      if (!n) return false;
      var g = groupOf[id];
      if (g && g.collapsed) {
        g.collapsed = false;
        applyVisibility();
      }
      if (!shown(n)) {
        // make it visible again: its type may be filtered out
        state.typeOff[filterKey(n)] = false;
        syncFilterBoxes();
        applyVisibility();
      }
      state.selected = id;
      cy.$(":selected").unselect();
      var ele = cy.getElementById(id);
      ele.select();
      applyMarks();
      showDetails(n);
      if (options && options.centre) {
        if (cy.zoom() < 0.6) cy.zoom(0.9);
        cy.center(ele);
      }
      keepClearOfDrawer(ele);
      if (ui.nodeSelect && ui.nodeSelect.value !== id) {
        ui.fillNodeSelect();
        ui.nodeSelect.value = id;
      }
      var count = state.highlight ? Object.keys(state.highlight).length - 1 : 0;
      var what = { up: "upstream", down: "downstream", both: "up- or downstream" }[state.mode];
      say(
        "Selected " + n.label + (state.highlight ? ": " + count + " node" + (count === 1 ? "" : "s") + " " + what + " highlighted." : ".")
      );
      return true;
    }

    /** The details drawer covers the right of the canvas: pan the node out from under it. */
    function keepClearOfDrawer(ele) {
      var box = ele.renderedBoundingBox();
      var free = cy.width() - details.offsetWidth - 16;
      if (box.x2 > free) cy.panBy({ x: free - box.x2, y: 0 });
      if (box.x1 < 8 && free - box.x2 > 8 - box.x1) cy.panBy({ x: 8 - box.x1, y: 0 });
    }

    function unselect() {
      state.selected = null;
      cy.$(":selected").unselect();
      applyMarks();
      showHint();
      if (ui.nodeSelect) ui.nodeSelect.value = "";
      say("");
    }

    function say(text) {
      status.textContent = text || HINT;
    }

    function showHint() {
      clear(details);
      details.hidden = true;
      say(HINT);
    }

    function showDetails(n) {
      clear(details);
      details.hidden = false;
      var d = n.details || {};
      var kindText = {
        version: n.type + " version",
        run: (n.type || "run") + " run",
        "missing-version": "missing version",
        "missing-run": "missing run",
      }[n.kind] || n.kind;
      var head = el("div", { className: "lg-details-head" }, [
        el("span", { className: "type-chip", text: kindText }),
        el("button", { type: "button", className: "lg-close", title: "Close details", "aria-label": "Close details", text: "×" }),
      ]);
      head.lastChild.addEventListener("click", unselect);
      details.appendChild(head);
      details.appendChild(el("h3", { className: "lg-details-title", text: n.label }));
      if (n.aliases.length) {
        var chips = el("ul", { className: "chips", "aria-label": "Aliases" });
        n.aliases.forEach(function (a) {
          var cls = "chip alias" + (a === "production" || a === "prod" ? " alias-production" : "");
          chips.appendChild(el("li", {}, [el("span", { className: cls, text: a })]));
        });
        details.appendChild(chips);
      }
      var facts = el("dl", { className: "lg-facts" });
      function fact(name, value, className) {
        if (value === undefined || value === null || value === "") return;
        facts.appendChild(el("dt", { text: name }));
        facts.appendChild(el("dd", { className: className || null, text: String(value) }));
      }
      if (n.kind === "version") {
        fact("Collection", n.collection);
        fact("Digest", d.digest, "lg-mono");
        fact("Created", d.created);
      } else if (n.kind === "run") {
        fact("Run id", n.id.slice(2), "lg-mono");
        fact("Job type", n.type);
        fact("Status", d.status || n.status, "lg-status-" + (d.status || n.status));
        fact("Started", d.started);
      } else {
        fact("Reference", n.id.slice(2), "lg-mono");
        fact("Problem", "not in the store: the edge to it is broken");
      }
      var preds = model.pred[n.id].length, succs = model.succ[n.id].length;
      fact(isPanel ? "Edges here" : "Edges", preds + " in, " + succs + " out");
      details.appendChild(facts);
      kvTable(details, n.kind === "version" ? "Metrics of the producing run" : "Metrics", d.metrics);
      kvTable(details, "Config", d.config);
      var href = safeHref(n.href);
      if (href) {
        details.appendChild(
          el("p", { className: "lg-open" }, [
            el("a", { className: "button lg-btn", href: href, text: n.kind === "run" ? "Open run page →" : "Open version page →" }),
          ])
        );
      }
    }

    function kvTable(into, title, data) {
      if (!data || typeof data !== "object") return;
      var keys = Object.keys(data).sort();
      if (!keys.length) return;
      into.appendChild(el("h4", { text: title }));
      var body = el("tbody");
      keys.slice(0, 12).forEach(function (k) {
        body.appendChild(el("tr", {}, [el("th", { scope: "row", text: k }), el("td", { className: "num", text: shortValue(data[k]) })]));
      });
      into.appendChild(el("table", { className: "compact lg-kv" }, [body]));
    }

    // --- events ----------------------------------------------------------------------
    cy.on("tap", "node", function (event) {
      var id = event.target.id();
      if (groupById[id]) {
        groupById[id].collapsed = false;
        applyVisibility();
        relayoutIfDagre();
        say("Expanded " + groupById[id].name + " (" + groupById[id].members.length + " versions).");
        return;
      }
      select(id);
    });
    var draggedByHand = false;
    cy.on("dragfree", "node", function () { draggedByHand = true; });
    cy.on("tap", function (event) {
      if (event.target === cy) unselect();
    });
    // Escape clears the selection: from the graph's controls, or when nothing has focus
    // (after a click on the canvas); not from other inputs such as the site search.
    doc.addEventListener("keydown", function (event) {
      if (event.key !== "Escape" || (!state.selected && !state.diff)) return;
      var target = event.target;
      if (target === doc.body || target === doc.documentElement || root.contains(target)) {
        state.diff = null;
        unselect();
      }
    });

    canvas.addEventListener("keydown", function (event) {
      var step = 60;
      var pans = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
      if (pans[event.key]) cy.panBy({ x: pans[event.key][0], y: pans[event.key][1] });
      else if (event.key === "+" || event.key === "=") zoomBy(1.25);
      else if (event.key === "-" || event.key === "_") zoomBy(0.8);
      else if (event.key === "0") fitVisible();
      else return;
      event.preventDefault();
    });

    ui.fit.addEventListener("click", fitVisible);
    ui.zoomIn.addEventListener("click", function () { zoomBy(1.25); });
    ui.zoomOut.addEventListener("click", function () { zoomBy(0.8); });
    ui.reset.addEventListener("click", resetAll);

    function zoomBy(factor) {
      cy.zoom({
        level: Math.max(cy.minZoom(), Math.min(cy.maxZoom(), cy.zoom() * factor)),
        renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 },
      });
    }

    ui.mode.addEventListener("change", function () {
      state.mode = ui.mode.value;
      if (state.selected) select(state.selected);
      else applyMarks();
    });

    if (ui.nodeSelect) {
      ui.nodeSelect.addEventListener("change", function () {
        if (ui.nodeSelect.value) select(ui.nodeSelect.value, { centre: true });
        else unselect();
      });
    }

    ui.searchForm.addEventListener("submit", function (event) {
      event.preventDefault();
      findNext();
    });
    ui.search.addEventListener("input", function () {
      findMatches();
      var q = ui.search.value.trim();
      say(q ? state.matches.length + " match" + (state.matches.length === 1 ? "" : "es") + " for “" + q + "”" + (state.matches.length ? " — press Enter to go to the next." : ".") : "");
    });

    function findMatches() {
      var q = ui.search.value.trim().toLowerCase();
      cy.nodes(".found").removeClass("found");
      state.matches = [];
      state.matchIndex = -1;
      if (!q) return;
      model.nodes.forEach(function (n) {
        var hay = (n.label + " " + n.aliases.join(" ") + " " + n.id).toLowerCase();
        if (hay.indexOf(q) !== -1) state.matches.push(n.id);
      });
      state.matches.sort(function (a, b) {
        var la = model.byId[a].label.toLowerCase(), lb = model.byId[b].label.toLowerCase();
        var ea = la === q ? 0 : la.indexOf(q) === 0 ? 1 : 2;
        var eb = lb === q ? 0 : lb.indexOf(q) === 0 ? 1 : 2;
        return ea - eb || (la < lb ? -1 : la > lb ? 1 : 0);
      });
      if (state.matches.length <= 200) {
        cy.batch(function () {
          state.matches.forEach(function (id) { cy.getElementById(rep(id)).addClass("found"); });
        });
      }
    }

    function findNext() {
      if (!state.matches.length) findMatches();
      if (!state.matches.length) {
        say("No node matches “" + ui.search.value.trim() + "”.");
        return;
      }
      state.matchIndex = (state.matchIndex + 1) % state.matches.length;
      select(state.matches[state.matchIndex], { centre: true });
      say(
        "Match " + (state.matchIndex + 1) + " of " + state.matches.length + ": " +
          model.byId[state.matches[state.matchIndex]].label + "."
      );
    }

    ui.filterBoxes.forEach(function (box) {
      box.addEventListener("change", function () {
        state.typeOff[box.value] = !box.checked;
        applyVisibility();
        updateCount();
      });
    });

    function syncFilterBoxes() {
      ui.filterBoxes.forEach(function (box) { box.checked = !state.typeOff[box.value]; });
    }

    if (ui.depth) {
      var onDepth = function () {
        state.depth = parseInt(ui.depth.value, 10) || maxDepth;
        state.direction = ui.direction.value;
        state.inDepth = neighbourhood(model, centre, state.depth, state.direction);
        applyVisibility();
        relayoutIfDagre();
        fitVisible();
        updateCount();
      };
      ui.depth.addEventListener("change", onDepth);
      ui.direction.addEventListener("change", onDepth);
    }

    if (ui.collapse) {
      ui.collapse.addEventListener("click", function () {
        groups.forEach(function (g) { g.collapsed = !(g.members.indexOf(state.selected) !== -1 || g.members.indexOf(centre) !== -1); });
        applyVisibility();
        relayoutIfDagre();
      });
      ui.expand.addEventListener("click", function () {
        groups.forEach(function (g) { g.collapsed = false; });
        applyVisibility();
        relayoutIfDagre();
      });
      // Showing every member of thousands of versions at once would stall the page for
      // seconds (each element costs style and bounds work); groups still open one by one.
      if (model.nodes.length > EXPAND_ALL_MAX) {
        ui.expand.disabled = true;
        ui.expand.title = "Too many versions to show at once: click a group to expand it";
      }
    }

    var dagreAvailable = false;
    try {
      dagreAvailable = typeof window.cytoscape("layout", "dagre") === "function";
    } catch (e) {
      dagreAvailable = false;
    }
    if (ui.layout) {
      if (!dagreAvailable || model.nodes.length > DAGRE_MAX) {
        ui.layout.disabled = true;
        ui.layout.title = dagreAvailable
          ? "Too many nodes for an in-browser layout; the precomputed layout is used"
          : "cytoscape-dagre did not load; the precomputed layout is used";
      }
      ui.layout.addEventListener("click", function () {
        state.dagre = !state.dagre;
        ui.layout.setAttribute("aria-pressed", state.dagre ? "true" : "false");
        if (state.dagre) relayoutIfDagre();
        else restorePositions();
        fitVisible();
      });
    }

    function relayoutIfDagre() {
      if (!state.dagre) return;
      cy.elements().not(".gone").layout({
        name: "dagre", rankDir: "LR", nodeSep: 16, rankSep: 60, animate: false, fit: false,
      }).run();
    }

    function restorePositions() {
      cy.batch(function () {
        model.nodes.forEach(function (n) { cy.getElementById(n.id).position({ x: n.x, y: n.y }); });
        groups.forEach(function (g) { cy.getElementById(g.id).position({ x: g.x, y: g.y }); });
      });
    }

    if (ui.diffGo) {
      var fillVersions = function () {
        var coll = ui.diffColl.value;
        var versions = model.nodes.filter(function (n) { return n.kind === "version" && n.collection === coll; });
        versions.sort(function (a, b) { return versionNumber(a) - versionNumber(b); });
        [ui.diffA, ui.diffB].forEach(function (sel, which) {
          clear(sel);
          versions.forEach(function (v, i) {
            var pick = which === 0 ? versions.length - 2 : versions.length - 1;
            sel.appendChild(option(v.id, v.label + (v.aliases.length ? " (" + v.aliases.join(", ") + ")" : ""), i === pick));
          });
        });
      };
      ui.diffColl.addEventListener("change", fillVersions);
      fillVersions();
      ui.diffGo.addEventListener("click", function () {
        diff(ui.diffA.value, ui.diffB.value);
      });
      ui.diffClear.addEventListener("click", function () {
        state.diff = null;
        applyMarks();
        say("");
      });
    }

    function versionNumber(n) {
      var m = /:v(\d+)$/.exec(n.id);
      return m ? parseInt(m[1], 10) : 0;
    }

    function diff(a, b) {
      if (!model.byId[a] || !model.byId[b] || a === b) {
        say("Choose two different versions to compare.");
        return;
      }
      var upA = closure(model, a, "up"), upB = closure(model, b, "up");
      var onlyA = Object.create(null), onlyB = Object.create(null);
      Object.keys(upA).forEach(function (k) { if (!(k in upB)) onlyA[k] = true; });
      Object.keys(upB).forEach(function (k) { if (!(k in upA)) onlyB[k] = true; });
      [a, b].forEach(function (id) {
        var g = groupOf[id];
        if (g) g.collapsed = false;
      });
      state.diff = { a: a, b: b, onlyA: onlyA, onlyB: onlyB };
      applyVisibility();
      var nA = Object.keys(onlyA).length, nB = Object.keys(onlyB).length;
      say(
        nA + nB === 0
          ? "Same upstream: " + model.byId[a].label + " and " + model.byId[b].label + " come from the same lineage."
          : nA + " upstream node" + (nA === 1 ? "" : "s") + " only behind " + model.byId[a].label + " (orange), " +
            nB + " only behind " + model.byId[b].label + " (teal)."
      );
    }

    function resetAll() {
      state.diff = null;
      state.typeOff = Object.create(null);
      syncFilterBoxes();
      if (ui.depth) {
        ui.depth.value = String(maxDepth);
        ui.direction.value = "both";
        state.inDepth = neighbourhood(model, centre, maxDepth, "both");
      }
      groups.forEach(function (g) { g.collapsed = g.members.indexOf(centre) === -1; });
      ui.search.value = "";
      findMatches();
      if (state.dagre) {
        state.dagre = false;
        if (ui.layout) ui.layout.setAttribute("aria-pressed", "false");
      }
      restorePositions(); // also undoes nodes dragged by hand
      draggedByHand = false;
      applyVisibility();
      unselect();
      fitVisible();
      updateCount();
    }

    function visibleIds() {
      return model.nodes.filter(shown).map(function (n) { return n.id; }).sort();
    }

    function updateCount() {
      var visible = visibleIds().length;
      ui.count.textContent = visible === model.nodes.length
        ? model.nodes.length + " nodes, " + model.edges.length + " edges"
        : visible + " of " + model.nodes.length + " nodes shown";
    }

    phases.cytoscape = now();
    applyVisibility(); // nothing to change: the elements were created in this state
    fitVisible();
    updateCount();
    phases.fit = now();
    if (table && table.querySelectorAll("tbody tr").length > 12) table.open = false;

    // --- hooks for tests and benchmarks -------------------------------------------------
    api.model = model;
    api.groups = groups;
    api.select = function (id) { return select(id, { centre: true }); };
    api.unselect = unselect;
    api.highlighted = function () { return state.highlight ? Object.keys(state.highlight).sort() : []; };
    api.visibleIds = visibleIds;
    api.diff = diff;
    api.diffMarked = function () {
      if (!state.diff) return [];
      return Object.keys(state.diff.onlyA).concat(Object.keys(state.diff.onlyB)).sort();
    };
    api.expand = function (groupId) {
      if (groupById[groupId]) groupById[groupId].collapsed = false;
      applyVisibility();
    };
    api.closure = function (id, direction) { return Object.keys(closure(model, id, direction)).sort(); };
    api.phases = {
      controlsMs: phases.controls - phases.start,
      cytoscapeMs: phases.cytoscape - phases.controls,
      fitMs: phases.fit - phases.cytoscape,
      totalMs: now() - phases.start,
    };
    api.ready = true;
    root.setAttribute("data-state", "ready");
  }

  /** A canvas as tall as the graph needs at the zoom that fits its width (within limits). */
  function sizeCanvas(canvas, model, isPanel) {
    if (!model.nodes.length) return;
    var minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
    model.nodes.forEach(function (n) {
      minX = Math.min(minX, n.x); maxX = Math.max(maxX, n.x);
      minY = Math.min(minY, n.y); maxY = Math.max(maxY, n.y);
    });
    var width = canvas.clientWidth || 800;
    var graphW = maxX - minX + NODE_W + 60, graphH = maxY - minY + NODE_H + 60;
    var zoom = Math.min(1.2, width / graphW);
    var limit = isPanel ? 440 : 640;
    var height = Math.max(isPanel ? 320 : 360, Math.min(limit, graphH * zoom + 40));
    // a height class in 40px steps (lineage.css): no inline styles under the CSP
    canvas.classList.add("lg-h-" + Math.round(height / 40) * 40);
  }

  function buildControls(model, groups, isPanel, maxDepth) {
    var ui = {};
    var bar = el("div", { className: "lg-toolbar", role: "toolbar", "aria-label": "Graph controls" });

    ui.search = el("input", { type: "search", className: "lg-input", placeholder: "name, alias or id", autocomplete: "off", spellcheck: "false" });
    ui.searchForm = el("form", { className: "lg-search", role: "search" }, [labelled("Find", ui.search)]);
    bar.appendChild(ui.searchForm);

    if (model.nodes.length <= SELECT_MAX) {
      ui.nodeSelect = el("select", { className: "lg-select" });
      ui.nodeSelect.appendChild(option("", "— choose a node —"));
      var filled = false;
      // thousands of options cost time at load: big graphs fill the list when it is used
      ui.fillNodeSelect = function () {
        if (filled) return;
        filled = true;
        var fragment = doc.createDocumentFragment();
        model.nodes
          .slice()
          .sort(function (a, b) { return a.label < b.label ? -1 : a.label > b.label ? 1 : a.id < b.id ? -1 : 1; })
          .forEach(function (n) {
            var kind = n.kind === "version" ? n.type : n.kind === "run" ? "run" : "missing";
            fragment.appendChild(option(n.id, truncate(n.label, 60) + " (" + kind + ")"));
          });
        ui.nodeSelect.appendChild(fragment);
      };
      if (model.nodes.length < BIG) ui.fillNodeSelect();
      else {
        ["focus", "mousedown", "touchstart"].forEach(function (type) {
          ui.nodeSelect.addEventListener(type, ui.fillNodeSelect);
        });
      }
      bar.appendChild(labelled("Go to", ui.nodeSelect));
    }

    ui.mode = el("select", { className: "lg-select" }, [
      option("up", "upstream (root cause)", true),
      option("down", "downstream (impact)"),
      option("both", "up- and downstream"),
      option("none", "nothing"),
    ]);
    bar.appendChild(labelled("Highlight", ui.mode));

    if (isPanel) {
      ui.depth = el("select", { className: "lg-select" });
      for (var d = 1; d <= maxDepth; d++) ui.depth.appendChild(option(String(d), String(d), d === maxDepth));
      ui.direction = el("select", { className: "lg-select" }, [
        option("both", "up and down", true),
        option("up", "upstream"),
        option("down", "downstream"),
      ]);
      bar.appendChild(labelled("Depth", ui.depth));
      bar.appendChild(labelled("Direction", ui.direction));
    }

    ui.fit = button("Fit", "Fit the graph into view");
    ui.zoomIn = button("+", "Zoom in");
    ui.zoomIn.setAttribute("aria-label", "Zoom in");
    ui.zoomOut = button("−", "Zoom out");
    ui.zoomOut.setAttribute("aria-label", "Zoom out");
    ui.reset = button("Reset", "Clear selection, filters and diff; fit the graph");
    var view = el("span", { className: "lg-group-buttons" }, [ui.fit, ui.zoomIn, ui.zoomOut, ui.reset]);
    ui.layout = button("Dagre layout", "Lay the graph out again with dagre (layered, left to right)");
    ui.layout.setAttribute("aria-pressed", "false");
    view.appendChild(ui.layout);
    bar.appendChild(view);
    ui.count = el("span", { className: "lg-count muted" });
    bar.appendChild(ui.count);

    // filters, groups, diff: a second row
    var more = el("div", { className: "lg-more" });
    ui.filterBoxes = [];
    function filterSet(title, prefix) {
      var seen = Object.create(null);
      model.nodes.forEach(function (n) {
        var key = filterKey(n);
        if (key.slice(0, 2) === prefix) seen[key] = true;
      });
      var keys = Object.keys(seen).sort();
      if (!keys.length) return;
      var set = el("fieldset", { className: "lg-filter" }, [el("legend", { text: title })]);
      keys.forEach(function (key) {
        var box = el("input", { type: "checkbox", value: key, "data-type": key.slice(2) });
        box.checked = true;
        box.id = nextId("f");
        ui.filterBoxes.push(box);
        set.appendChild(el("span", { className: "lg-check" }, [
          box, el("label", { "for": box.id, text: prefix === "m:" ? "missing references" : key.slice(2) }),
        ]));
      });
      more.appendChild(set);
    }
    filterSet("Artifact types", "a:");
    filterSet("Job types", "j:");
    filterSet("Broken lineage", "m:");

    if (groups.length) {
      ui.collapse = button("Collapse groups", "Collapse 5 or more sibling versions of a collection into one node");
      ui.expand = button("Expand all", "Show every version");
      more.appendChild(el("fieldset", { className: "lg-filter" }, [
        el("legend", { text: "Version groups (" + groups.length + ")" }), ui.collapse, ui.expand,
      ]));
    }

    var collections = Object.create(null);
    model.nodes.forEach(function (n) {
      if (n.kind === "version") collections[n.collection] = (collections[n.collection] || 0) + 1;
    });
    var diffable = Object.keys(collections).filter(function (c) { return collections[c] >= 2; }).sort();
    if (diffable.length) {
      ui.diffColl = el("select", { className: "lg-select" });
      diffable.forEach(function (c) { ui.diffColl.appendChild(option(c, c)); });
      ui.diffA = el("select", { className: "lg-select" });
      ui.diffB = el("select", { className: "lg-select" });
      ui.diffGo = button("Mark differences", "Mark the upstream nodes that only one of the two versions depends on");
      ui.diffClear = button("Clear", "Leave diff mode");
      more.appendChild(el("fieldset", { className: "lg-filter lg-diff" }, [
        el("legend", { text: "Diff upstream of two versions" }),
        labelled("Collection", ui.diffColl),
        labelled("A", ui.diffA),
        labelled("B", ui.diffB),
        ui.diffGo,
        ui.diffClear,
      ]));
    }
    ui.bar = bar;
    ui.more = more.childNodes.length ? more : null;
    return ui;
  }

  function buildLegend(model, groups) {
    var items = [
      ["lg-sw-dataset", "dataset"],
      ["lg-sw-model", "model"],
      ["lg-sw-other", "other artifact"],
      ["lg-sw-run", "run"],
      ["lg-sw-failed", "failed / crashed run"],
      ["lg-sw-missing", "missing (broken reference)"],
      ["lg-sw-broken", "broken edge"],
    ];
    if (groups.length) items.push(["lg-sw-group", "collapsed versions"]);
    var list = el("ul", { className: "lg-legend", "aria-label": "Legend" });
    items.forEach(function (item) {
      list.appendChild(el("li", {}, [el("span", { className: "lg-sw " + item[0], "aria-hidden": "true" }), item[1]]));
    });
    return list;
  }

  function init() {
    Array.prototype.forEach.call(doc.querySelectorAll(".lg-root"), function (root) {
      try {
        setup(root);
      } catch (error) {
        if (window.console) console.error("sitegen lineage:", error);
        root.setAttribute("data-state", "error");
      }
    });
  }

  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", init);
  else init();
})();
