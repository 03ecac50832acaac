/* checkoutd admin dashboard: one page, no framework, no build step.
 *
 * Talks only to this daemon's API with the admin key kept in sessionStorage.
 * Every 5 s it fetches each view's data and re-renders what changed, without a
 * reload; an open dialog stays open. The strict CSP forbids inline code and
 * style attributes, so everything is built with DOM calls and styled by
 * app.css; the few sizes Chart.js needs it sets through element.style.
 */
"use strict";

(function () {
  const KEY_STORAGE = "checkoutd.apiKey";
  const REFRESH_MS = 5000;
  const PAGE_LIMIT = 500;
  const MAX_PAGES = 10;          /* per list and refresh: 5000 rows at most */
  const ALERTS_SHOWN = 200;

  const $ = (id) => document.getElementById(id);

  const state = {
    key: null,
    generation: 0,               /* bumped on sign-in/out: late answers are dropped */
    timer: null,
    refreshing: false,
    refreshAgain: false,
    clockOffsetMs: 0,            /* server clock minus ours, from overview.generatedAt */
    stores: new Map(),
    charts: { placements: null, failures: null },
    alerts: { items: [], resumeToken: null, resumeIndex: 0 },
    dialog: null,                /* the pending confirm: { run, focusKey, busy } */
    orderFocus: null,            /* { key, sectionId } of the "View order" button */
  };

  /* ------------------------------------------------------------------ API */

  class ApiError extends Error {
    constructor(status, body) {
      const first = Array.isArray(body) && body.length > 0 && body[0] && typeof body[0] === "object"
        ? body[0] : null;
      const message = first && typeof first.message === "string" ? first.message
        : status === 0 ? "the daemon did not answer" : "HTTP " + status;
      super(message);
      this.status = status;
      this.errorCode = first && first.errorCode ? String(first.errorCode) : "";
      this.reason = first && first.reason ? String(first.reason) : "";
      this.field = first && first.field ? String(first.field) : "";
      this.step = first && first.step ? String(first.step) : "";
    }

    /* "message (REASON at step payment, 500 UNKNOWN_EXCEPTION)" */
    describe() {
      if (this.status === 0) {
        return "The daemon did not answer (" + this.message + "). Is checkoutd running?";
      }
      if (this.status < 0) return "the page could not show it (" + this.message + ").";
      const bits = [];
      let r = this.reason;
      if (r && this.step) r += " at step " + this.step;
      if (r && this.field) r += ", field " + this.field;
      if (r) bits.push(r);
      bits.push(String(this.status) + (this.errorCode ? " " + this.errorCode : ""));
      let msg = this.message;
      if (msg && !/[.!?]$/.test(msg)) msg += ".";
      return msg.charAt(0).toUpperCase() + msg.slice(1) + " (" + bits.join(", ") + ")";
    }
  }

  function newIdempotencyKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return "dash-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function api(method, path, body) {
    const headers = { Authorization: "Bearer " + state.key, Accept: "application/json" };
    const init = { method, headers, cache: "no-store", credentials: "omit", redirect: "error" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (method === "POST") headers["Idempotency-Key"] = newIdempotencyKey();
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      const err = new ApiError(0, null);
      err.message = e && e.message ? e.message : "network error";
      throw err;
    }
    const text = await res.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (_) { data = null; }
    }
    if (!res.ok) throw new ApiError(res.status, data);
    return { status: res.status, data };
  }

  function withParams(path, params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v !== null && v !== undefined && v !== "") q.set(k, String(v));
    }
    const s = q.toString();
    if (!s) return path;
    return path + (path.includes("?") ? "&" : "?") + s;
  }

  /* Every page of a list, oldest first, up to MAX_PAGES pages. */
  async function fetchAll(path) {
    const items = [];
    let token = null;
    for (let page = 0; page < MAX_PAGES; page++) {
      const { data } = await api("GET", withParams(path, { limit: PAGE_LIMIT, pageToken: token }));
      if (data && Array.isArray(data.items)) items.push(...data.items);
      token = data ? data.nextPageToken : null;
      if (!token) return { items, truncated: false };
    }
    return { items, truncated: true };
  }

  /* Alerts only grow, oldest first: remember where the last page began and
   * fetch from there on, so a long history is read once, not every 5 s. */
  async function fetchAlerts() {
    const a = state.alerts;
    const items = a.items.slice(0, a.resumeIndex);
    let token = a.resumeToken;
    let startToken = token;
    let startIndex = items.length;
    for (let page = 0; page < MAX_PAGES * 2; page++) {
      startToken = token;
      startIndex = items.length;
      let data;
      try {
        ({ data } = await api("GET", withParams("/v1/admin/alerts", { limit: PAGE_LIMIT, pageToken: token })));
      } catch (e) {
        if (token && e.status === 400) {       /* a token the API no longer takes: read again */
          a.items = []; a.resumeToken = null; a.resumeIndex = 0;
          return fetchAlerts();
        }
        throw e;
      }
      if (data && Array.isArray(data.items)) items.push(...data.items);
      token = data ? data.nextPageToken : null;
      if (!token) break;
    }
    const seen = new Set();
    a.items = items.filter((x) => x && !seen.has(x.id) && seen.add(x.id));
    a.resumeToken = startToken;
    a.resumeIndex = Math.min(startIndex, a.items.length);
    return a.items;
  }

  /* ------------------------------------------------------------ formatting */

  function now() { return Date.now() + state.clockOffsetMs; }

  function ageSeconds(iso) {
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return null;
    return Math.max(0, Math.floor((now() - t) / 1000));
  }

  function fmtAge(sec) {
    if (sec === null || sec === undefined) return "–";
    if (sec < 60) return sec + " s";
    const min = Math.floor(sec / 60);
    if (min < 60) return min + " min";
    const hr = Math.floor(min / 60);
    if (hr < 24) return hr + " h " + (min % 60) + " min";
    const d = Math.floor(hr / 24);
    return d + " d " + (hr % 24) + " h";
  }

  function fmtDuration(sec) {
    if (sec % 86400 === 0 && sec >= 86400) return sec / 86400 + " d";
    if (sec % 3600 === 0 && sec >= 3600) return sec / 3600 + " h";
    if (sec % 60 === 0 && sec >= 60) return sec / 60 + " min";
    return sec + " s";
  }

  const fractionCache = new Map();
  function fractionDigits(currency) {
    if (!fractionCache.has(currency)) {
      let d = 2;
      try {
        d = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
      } catch (_) { d = 2; }
      fractionCache.set(currency, d);
    }
    return fractionCache.get(currency);
  }

  /* Integer minor units to "USD 76.92" (no float arithmetic, no separators). */
  function money(amount, currency) {
    if (typeof amount !== "number" || !Number.isFinite(amount)) return "–";
    const cur = typeof currency === "string" && /^[A-Z]{3}$/.test(currency) ? currency : "";
    const d = cur ? fractionDigits(cur) : 2;
    const a = Math.abs(Math.trunc(amount));
    const p = 10 ** d;
    const whole = Math.floor(a / p);
    const frac = a % p;
    const num = (amount < 0 ? "-" : "") + whole + (d > 0 ? "." + String(frac).padStart(d, "0") : "");
    return cur ? cur + " " + num : num;
  }

  function fmtLatency(seconds) {
    if (seconds === null || seconds === undefined || typeof seconds !== "number") return "–";
    const ms = seconds * 1000;
    if (ms < 10) return ms.toFixed(1) + " ms";
    return Math.round(ms) + " ms";
  }

  /* ------------------------------------------------------------------ DOM */

  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === "class") el.className = v;
        else if (k === "text") el.textContent = String(v);
        else el.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }

  const idText = (id) => (id ? h("code", { class: "id" }, id) : h("span", { class: "none" }, "–"));
  /* An ISO time as the API gives it; it may wrap after the "T" only. */
  const timeText = (iso) => {
    if (!iso) return h("span", { class: "none" }, "–");
    const s = String(iso);
    const t = s.indexOf("T");
    if (t < 0) return h("time", { datetime: s }, s);
    return h("time", { datetime: s }, h("span", { class: "nw" }, s.slice(0, t + 1)), h("wbr"),
      h("span", { class: "nw" }, s.slice(t + 1)));
  };
  const ageText = (iso) => h("span", { class: "age" }, fmtAge(ageSeconds(iso)));
  const muted = (text) => h("span", { class: "muted" }, text);

  function actionButton(action, id, label, describedBy, extraClass, extra) {
    return h("button", Object.assign({
      type: "button",
      class: extraClass || null,
      "data-action": action,
      "data-id": id,
      "data-focus-key": action + ":" + id,
      "aria-describedby": describedBy || null,
    }, extra || {}), label);
  }

  /* A table that reads as a table (th scope, explicit roles so it stays one when
   * the narrow layout stacks it into blocks). columns: [{label}], the first is
   * the row header; rows: [{testid, id, cells: [Node|string], stale}]. */
  function dataTable(labelledBy, columns, rows) {
    const headRow = h("tr", { role: "row" }, columns.map((c) =>
      h("th", { scope: "col", role: "columnheader", class: c.className || null }, c.label)));
    const body = rows.map((r) => h("tr", {
      role: "row",
      "data-testid": r.testid,
      "data-id": r.id,
      class: r.className || null,
    }, r.cells.map((cell, i) => {
      const attrs = { "data-label": columns[i].label, class: columns[i].className || null };
      if (i === 0) {
        attrs.scope = "row";
        attrs.role = "rowheader";
        if (r.headerId) attrs.id = r.headerId;
        return h("th", attrs, h("div", { class: "cell" }, cell));
      }
      attrs.role = "cell";
      return h("td", attrs, h("div", { class: "cell" }, cell));
    })));
    return h("div", { class: "table-wrap" },
      h("table", { class: "data", role: "table", "aria-labelledby": labelledBy },
        h("thead", { role: "rowgroup" }, headRow),
        h("tbody", { role: "rowgroup" }, body)));
  }

  function emptyNote(text) { return h("p", { class: "empty" }, text); }

  /* Replace a view's content only when it changed, keeping the focus on the
   * same button (by its data-focus-key) when it did. */
  function render(container, nodes) {
    const next = document.createElement("div");
    for (const n of [nodes].flat(Infinity)) if (n) next.append(n);
    if (next.innerHTML === container.innerHTML) return;
    const active = document.activeElement;
    const focusKey = active && container.contains(active) ? active.getAttribute("data-focus-key") : null;
    container.replaceChildren(...next.childNodes);
    if (focusKey) {
      const again = findByFocusKey(container, focusKey);
      if (again) again.focus();
      else container.closest("section").querySelector("h2").focus();
    }
  }

  function findByFocusKey(root, key) {
    for (const el of root.querySelectorAll("[data-focus-key]")) {
      if (el.getAttribute("data-focus-key") === key) return el;
    }
    return null;
  }

  /* ---------------------------------------------------------------- views */

  function storeCell(storeId) {
    const s = state.stores.get(storeId);
    return [idText(storeId), s ? h("span", { class: "sub" }, s.name) : null];
  }

  function renderOverview(o) {
    $("orders-today").textContent = typeof o.ordersToday === "number" ? String(o.ordersToday) : "–";
    const lat = o.latency || {};
    $("latency-p50").textContent = fmtLatency(lat.p50);
    $("latency-p99").textContent = fmtLatency(lat.p99);
    $("latency-count").textContent = typeof lat.count === "number"
      ? (lat.count === 0 ? "no placements since start" : "over " + lat.count + " placement" + (lat.count === 1 ? "" : "s") + " since start")
      : "placement latency";
    $("overview-generated").replaceChildren("Generated at ", timeText(o.generatedAt), " (server time).");

    const mins = Array.isArray(o.placements) ? o.placements : [];
    const labels = mins.map((m) => (typeof m.minute === "string" ? m.minute.slice(11, 16) : ""));
    const ok = mins.map((m) => m.succeeded || 0);
    const bad = mins.map((m) => m.failed || 0);
    const sum = (xs) => xs.reduce((x, y) => x + y, 0);
    const nOk = sum(ok), nBad = sum(bad);
    $("chart-placements-summary").textContent =
      "Last " + mins.length + " minutes: " + nOk + " succeeded, " + nBad + " failed.";
    const worst = bad.length ? Math.max(...bad) : 0;
    $("chart-failures-summary").textContent = nBad === 0
      ? "No failed placements in the last " + mins.length + " minutes."
      : nBad + " failed in the last " + mins.length + " minutes; at most " + worst + " in one minute.";

    if (typeof window.Chart !== "function") {
      for (const id of ["chart-placements", "chart-failures"]) $(id).hidden = true;
      return;
    }
    updateChart("placements", "chart-placements", labels, [
      { label: "Succeeded", data: ok, backgroundColor: "#2f7d4f" },
      { label: "Failed", data: bad, backgroundColor: "#c0392b" },
    ], true);
    updateChart("failures", "chart-failures", labels, [
      { label: "Failed", data: bad, backgroundColor: "#c0392b" },
    ], false);
  }

  function updateChart(name, canvasId, labels, datasets, legend) {
    let chart = state.charts[name];
    if (!chart) {
      chart = new window.Chart($(canvasId), {
        type: "bar",
        data: { labels, datasets },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { display: legend, position: "bottom" }, tooltip: { enabled: true } },
          scales: {
            x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 6 }, grid: { display: false } },
            y: { stacked: true, beginAtZero: true, ticks: { precision: 0 }, suggestedMax: 1 },
          },
        },
      });
      state.charts[name] = chart;
      return;
    }
    chart.data.labels = labels;
    datasets.forEach((d, i) => { chart.data.datasets[i].data = d.data; });
    chart.update("none");
  }

  function lastError(s) {
    const errs = Array.isArray(s.errors) ? s.errors : [];
    return errs.length ? errs[errs.length - 1] : null;
  }

  function renderStuck(list) {
    const body = $("stuck-body");
    if (list.items.length === 0) return render(body, emptyNote("No stuck checkouts."));
    const rows = list.items.map((s) => {
      const hid = "stuck-" + s.id;
      const err = s.isError ? lastError(s) : null;
      return {
        testid: "stuck-row",
        id: s.id,
        headerId: hid,
        cells: [
          idText(s.id),
          storeCell(s.storeId),
          idText(s.accountId),
          [h("span", { class: "step" }, String(s.state)), " / ",
            s.lastSuccessfulStep ? h("span", { class: "step" }, s.lastSuccessfulStep) : muted("none")],
          err ? [h("code", { class: "reason" }, err.reason || "–"), err.message ? h("span", { class: "sub" }, err.message) : null]
            : muted(s.isError ? "error" : "no error"),
          ageText(s.updatedAt),
          h("div", { class: "actions" },
            actionButton("resume", s.id, "Resume", hid),
            actionButton("abandon", s.id, "Abandon", hid, "danger")),
        ],
      };
    });
    render(body, [
      countNote(list, "stuck checkout"),
      dataTable("stuck-heading", [
        { label: "Checkout" }, { label: "Store" }, { label: "Account" },
        { label: "Step (state / last successful)" }, { label: "Error reason" }, { label: "Age" },
        { label: "Actions", className: "col-actions" },
      ], rows),
    ]);
  }

  function countNote(list, noun) {
    const n = list.items.length;
    return h("p", { class: "count" }, n + " " + noun + (n === 1 ? "" : "s") +
      (list.truncated ? " (the first " + n + " only)" : "") + ".");
  }

  function holdStaleness(a) {
    const store = state.stores.get(a.storeId);
    const age = ageSeconds(a.createdAt);
    const exp = Date.parse(a.expiresAt);
    if (!Number.isNaN(exp) && now() > exp) return "past expiresAt";
    if (!a.orderId && store && typeof store.staleAuthorizationSeconds === "number" &&
        age !== null && age > store.staleAuthorizationSeconds) {
      return "no order, older than " + fmtDuration(store.staleAuthorizationSeconds);
    }
    return null;
  }

  function renderHolds(list) {
    const body = $("holds-body");
    if (list.items.length === 0) return render(body, emptyNote("No Authorized payment holds."));
    let staleCount = 0;
    const rows = list.items.map((a) => {
      const hid = "hold-" + a.id;
      const store = state.stores.get(a.storeId);
      const why = holdStaleness(a);
      if (why) staleCount++;
      return {
        testid: "hold-row",
        id: a.id,
        headerId: hid,
        className: why ? "is-stale" : null,
        cells: [
          idText(a.id),
          idText(a.sessionId),
          a.orderId ? idText(a.orderId) : muted("none"),
          h("span", { class: "money" }, money(a.amount, store ? store.currency : null)),
          ageText(a.createdAt),
          timeText(a.expiresAt),
          why ? [h("span", { class: "badge stale", "data-testid": "stale-badge" }, "stale"),
            h("span", { class: "sub" }, why)] : muted("–"),
          a.orderId ? muted("backs an order")
            : h("div", { class: "actions" }, actionButton("void", a.id, "Void", hid, "danger")),
        ],
      };
    });
    render(body, [
      h("p", { class: "count" }, list.items.length + " hold" + (list.items.length === 1 ? "" : "s") +
        (list.truncated ? " (the first " + list.items.length + " only)" : "") +
        ", " + staleCount + " stale."),
      dataTable("holds-heading", [
        { label: "Hold" }, { label: "Session" }, { label: "Order" }, { label: "Amount" },
        { label: "Age" }, { label: "Expires at" }, { label: "Stale?" },
        { label: "Actions", className: "col-actions" },
      ], rows),
    ]);
  }

  function subscriberTarget(sub) {
    if (!sub) return "subscriber not found (deleted?)";
    if (sub.kind === "webhook") return "webhook to " + (sub.url || "?");
    if (sub.kind === "email") return "email via " + (sub.smtpUrl || "?");
    return String(sub.kind);
  }

  function renderDeliveries(subs, pending, dead) {
    const body = $("deliveries-body");
    const groups = new Map();
    for (const s of subs.items) groups.set(s.id, { sub: s, pending: [], dead: [] });
    const group = (id) => {
      if (!groups.has(id)) groups.set(id, { sub: null, pending: [], dead: [] });
      return groups.get(id);
    };
    for (const d of pending.items) group(d.subscriberId).pending.push(d);
    for (const d of dead.items) group(d.subscriberId).dead.push(d);
    if (groups.size === 0) return render(body, emptyNote("No subscribers, and no deliveries."));

    const out = [];
    const totalP = pending.items.length, totalD = dead.items.length;
    out.push(h("p", { class: "count" }, "Pending: " + totalP + (pending.truncated ? "+" : "") +
      " · Dead: " + totalD + (dead.truncated ? "+" : "") + " across " + groups.size +
      " subscriber" + (groups.size === 1 ? "" : "s") + "."));
    for (const [id, g] of groups) {
      const headId = "sub-" + id;
      const rows = [...g.dead, ...g.pending].map((d) => {
        const hid = "dlv-" + d.id;
        return {
          testid: "delivery-row",
          id: d.id,
          headerId: hid,
          className: d.status === "Dead" ? "is-dead" : null,
          cells: [
            idText(d.id),
            String(d.event || "–"),
            d.orderId ? idText(d.orderId) : muted("none"),
            h("span", { class: "badge " + (d.status === "Dead" ? "dead" : "pending") }, String(d.status)),
            String(d.attempts ?? "–"),
            d.lastError ? h("span", { class: "error-text" }, d.lastError) : muted("none"),
            d.status === "Pending" ? timeText(d.nextAttemptAt) : muted("–"),
            timeText(d.updatedAt),
            d.status === "Dead"
              ? h("div", { class: "actions" }, actionButton("replay", d.id, "Replay", hid))
              : muted("–"),
          ],
        };
      });
      out.push(h("div", { class: "group", "data-testid": "subscriber-group", "data-id": id },
        h("h3", { id: headId }, h("code", { class: "id" }, id)),
        h("p", { class: "sub-desc" }, subscriberTarget(g.sub),
          g.sub && Array.isArray(g.sub.events) ? " · events: " + g.sub.events.join(", ") : ""),
        h("p", { class: "counts" },
          h("span", { class: "badge pending", "data-testid": "pending-count" }, "Pending: " + g.pending.length),
          " ",
          h("span", { class: "badge " + (g.dead.length ? "dead" : "zero"), "data-testid": "dead-count" }, "Dead: " + g.dead.length)),
        rows.length ? dataTable(headId, [
          { label: "Delivery" }, { label: "Event" }, { label: "Order" }, { label: "Status" },
          { label: "Attempts" }, { label: "Last error" }, { label: "Next attempt" }, { label: "Updated" },
          { label: "Actions", className: "col-actions" },
        ], rows) : emptyNote("Nothing pending or dead.")));
    }
    render(body, out);
  }

  function renderAlerts(items) {
    const body = $("alerts-body");
    if (items.length === 0) return render(body, emptyNote("No alerts."));
    const newest = items.slice().reverse().slice(0, ALERTS_SHOWN);
    const rows = newest.map((a) => ({
      testid: "alert-row",
      id: a.id,
      cells: [
        timeText(a.createdAt),
        h("span", { class: "badge kind" }, String(a.kind)),
        idText(a.subjectId),
        String(a.message || ""),
      ],
    }));
    render(body, [
      h("p", { class: "count" }, items.length > ALERTS_SHOWN
        ? "The newest " + ALERTS_SHOWN + " of " + items.length + " alerts, newest first."
        : items.length + " alert" + (items.length === 1 ? "" : "s") + ", newest first."),
      dataTable("alerts-heading", [
        { label: "Time" }, { label: "Kind" }, { label: "Subject" }, { label: "Message" },
      ], rows),
    ]);
  }

  function flowRows(flows) {
    return flows.map((f) => ({
      testid: "flow-row",
      id: f.id,
      cells: [
        idText(f.id),
        String(f.name || ""),
        h("span", { class: "badge flow-" + String(f.status).toLowerCase() }, String(f.status)),
        String(f.version ?? "–"),
        h("span", { class: "num", "data-testid": "in-flight" }, String(f.inFlightSessions ?? "–")),
      ],
    }));
  }

  function renderFlows(list) {
    const body = $("flows-body");
    const cols = [{ label: "Flow" }, { label: "Name" }, { label: "Status" }, { label: "Version" },
      { label: "In-flight sessions" }];
    const out = [];
    const byStore = new Map();
    for (const f of list.items) {
      const k = f.storeId || "";
      if (!byStore.has(k)) byStore.set(k, []);
      byStore.get(k).push(f);
    }
    const shared = byStore.get("") || [];
    for (const s of state.stores.values()) {
      const flows = byStore.get(s.id) || [];
      const headId = "flows-store-" + s.id;
      const active = s.activeFlowId;
      const activeShared = shared.find((f) => f.id === active);
      out.push(h("div", { class: "group", "data-testid": "store-flows", "data-id": s.id },
        h("h3", { id: headId }, s.name + " ", h("code", { class: "id" }, s.id)),
        h("p", { class: "sub-desc" }, "Active flow: ", idText(active),
          activeShared ? " (" + (activeShared.name || "") + ", shared)" : ""),
        flows.length ? dataTable(headId, cols, flowRows(flows))
          : emptyNote("No flows of its own.")));
    }
    for (const [k, flows] of byStore) {
      if (k === "" || state.stores.has(k)) continue;
      const headId = "flows-store-" + k;
      out.push(h("div", { class: "group", "data-testid": "store-flows", "data-id": k },
        h("h3", { id: headId }, h("code", { class: "id" }, k)),
        dataTable(headId, cols, flowRows(flows))));
    }
    if (shared.length) {
      const users = [...state.stores.values()].filter((s) => shared.some((f) => f.id === s.activeFlowId));
      out.push(h("div", { class: "group", "data-testid": "store-flows", "data-id": "" },
        h("h3", { id: "flows-shared" }, "Standard (every store)"),
        h("p", { class: "sub-desc" }, users.length
          ? "Active in: " + users.map((s) => s.name).join(", ") + "." : "No store has it active."),
        dataTable("flows-shared", cols, flowRows(shared))));
    }
    if (out.length === 0) return render(body, emptyNote("No flows."));
    render(body, out);
  }

  function foQuantities(fo) {
    const items = Array.isArray(fo.items) ? fo.items : [];
    return h("ul", { class: "qty" }, items.map((it) => {
      let t = (it.sku || it.orderItemId) + ": " + (it.quantityFulfilled || 0) + " of " + it.quantity + " fulfilled";
      if (it.quantityCancelled) t += ", " + it.quantityCancelled + " cancelled";
      return h("li", null, t);
    }));
  }

  function renderFulfilment(allocated, partial) {
    const body = $("fulfilment-body");
    const all = [...allocated.items, ...partial.items]
      .sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
    if (all.length === 0) return render(body, emptyNote("No orders awaiting fulfilment."));
    const rows = all.map((fo) => {
      const hid = "fo-" + fo.id;
      return {
        testid: "fulfilment-row",
        id: fo.id,
        headerId: hid,
        cells: [
          idText(fo.id),
          idText(fo.orderId),
          storeCell(fo.storeId),
          h("span", { class: "badge fo" }, String(fo.status)),
          foQuantities(fo),
          ageText(fo.createdAt),
          h("div", { class: "actions" }, actionButton("view-order", fo.orderId, "View order", hid, "secondary",
            { "data-fo-id": fo.id, "data-fo-status": fo.status })),
        ],
      };
    });
    render(body, [
      countNote({ items: all, truncated: allocated.truncated || partial.truncated }, "fulfillment order"),
      dataTable("fulfilment-heading", [
        { label: "Fulfillment order" }, { label: "Order" }, { label: "Store" }, { label: "Status" },
        { label: "Quantities" }, { label: "Age" }, { label: "Details", className: "col-actions" },
      ], rows),
    ]);
  }

  /* -------------------------------------------------------------- refresh */

  function setRefreshErrors(errors) {
    const box = $("refresh-error");
    if (errors.length === 0) {
      box.hidden = true;
      box.textContent = "";
      return;
    }
    const text = errors.map(([view, e]) => "Could not refresh " + view + ": " + e.describe()).join(" ");
    if (box.textContent !== text) box.textContent = text;
    box.hidden = false;
  }

  function scheduleRefresh(delay) {
    clearTimeout(state.timer);
    state.timer = setTimeout(refresh, delay);
  }

  async function refresh() {
    if (!state.key) return;
    if (state.refreshing) { state.refreshAgain = true; return; }
    if (document.hidden) { scheduleRefresh(REFRESH_MS); return; }
    state.refreshing = true;
    const gen = state.generation;
    clearTimeout(state.timer);
    const tasks = {
      stores: fetchAll("/v1/stores"),
      overview: api("GET", "/v1/admin/overview").then((r) => r.data),
      stuck: fetchAll("/v1/admin/sessions?stuck=true"),
      holds: fetchAll("/v1/authorizations?status=Authorized"),
      subscribers: fetchAll("/v1/subscribers"),
      pending: fetchAll("/v1/admin/deliveries?status=Pending"),
      dead: fetchAll("/v1/admin/deliveries?status=Dead"),
      alerts: fetchAlerts(),
      flows: fetchAll("/v1/flows"),
      allocated: fetchAll("/v1/fulfillment-orders?status=Allocated"),
      partial: fetchAll("/v1/fulfillment-orders?status=PartiallyFulfilled"),
    };
    const names = Object.keys(tasks);
    const settled = await Promise.allSettled(Object.values(tasks));
    state.refreshing = false;
    if (gen !== state.generation || !state.key) {
      /* signed out (and maybe in again) meanwhile: the new session's refresh waited for this one */
      if (state.key && state.refreshAgain) { state.refreshAgain = false; scheduleRefresh(0); }
      return;
    }

    const r = {};
    const failed = {};
    names.forEach((n, i) => {
      if (settled[i].status === "fulfilled") r[n] = settled[i].value;
      else failed[n] = settled[i].reason instanceof ApiError ? settled[i].reason
        : Object.assign(new ApiError(0, null), { message: String(settled[i].reason) });
    });
    const unauthorized = Object.values(failed).find((e) => e.status === 401);
    if (unauthorized) {
      signOut("That API key was not accepted (401 UNAUTHORIZED). Check the key and sign in again.");
      return;
    }

    if (r.stores) state.stores = new Map(r.stores.items.map((s) => [s.id, s]));
    const errors = [];
    const view = (title, deps, fn) => {
      const bad = deps.find((d) => failed[d]);
      if (bad) { errors.push([title, failed[bad]]); return; }
      try { fn(); } catch (e) {
        console.error(e);
        errors.push([title, Object.assign(new ApiError(0, null), { message: String(e), status: -1 })]);
      }
    };
    if (failed.stores) errors.push(["the stores", failed.stores]);
    view("Overview", ["overview"], () => {
      if (r.overview && typeof r.overview.generatedAt === "string") {
        const t = Date.parse(r.overview.generatedAt);
        if (!Number.isNaN(t)) state.clockOffsetMs = t - Date.now();
      }
      renderOverview(r.overview || {});
    });
    view("Stuck checkouts", ["stuck"], () => renderStuck(r.stuck));
    view("Payment holds", ["holds"], () => renderHolds(r.holds));
    view("Deliveries", ["subscribers", "pending", "dead"], () => renderDeliveries(r.subscribers, r.pending, r.dead));
    view("Alerts", ["alerts"], () => renderAlerts(r.alerts));
    view("Flows", ["flows"], () => renderFlows(r.flows));
    view("Orders awaiting fulfilment", ["allocated", "partial"], () => renderFulfilment(r.allocated, r.partial));
    setRefreshErrors(errors);
    $("refresh-note").textContent = "Updated " + new Date().toISOString().slice(11, 19) +
      " UTC · refreshes every " + REFRESH_MS / 1000 + " s";

    if (state.refreshAgain) { state.refreshAgain = false; scheduleRefresh(0); }
    else scheduleRefresh(REFRESH_MS);
  }

  /* -------------------------------------------------------------- sign-in */

  function signInMessage(e) {
    if (e.status === 401) {
      return "That API key was not accepted (401 UNAUTHORIZED). Check the key and sign in again.";
    }
    if (e.status === 403) {
      return "That API key may not use the admin API (403 FORBIDDEN). Sign in with a key of a user with the admin permission.";
    }
    if (e.status === 0) return e.describe();
    return "Signing in did not work: " + e.describe();
  }

  function showSignedIn(signedIn) {
    $("sign-in").hidden = signedIn;
    $("views").hidden = !signedIn;
    $("session-bar").hidden = !signedIn;
  }

  async function signIn(key, fromStorage) {
    const gen = ++state.generation;
    const err = $("sign-in-error");
    const button = $("sign-in-button");
    err.textContent = "";
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    state.key = key;
    let first;
    try {
      first = await api("GET", "/v1/admin/overview");
    } catch (e) {
      if (gen !== state.generation) return;
      state.key = null;
      if (fromStorage && (e.status === 401 || e.status === 403)) sessionStorage.removeItem(KEY_STORAGE);
      err.textContent = signInMessage(e);
      button.disabled = false;
      button.removeAttribute("aria-busy");
      $("api-key").focus();
      return;
    }
    if (gen !== state.generation) return;
    button.disabled = false;
    button.removeAttribute("aria-busy");
    try { sessionStorage.setItem(KEY_STORAGE, key); } catch (_) { /* private mode: the tab still works */ }
    $("api-key").value = "";
    showSignedIn(true);
    if (first && first.data) {
      try { renderOverview(first.data); } catch (e) { console.error(e); }
    }
    $("main").focus();
    refresh();
  }

  function destroyCharts() {
    for (const k of Object.keys(state.charts)) {
      if (state.charts[k]) state.charts[k].destroy();
      state.charts[k] = null;
    }
  }

  function signOut(message) {
    state.generation++;
    state.key = null;
    clearTimeout(state.timer);
    state.refreshAgain = false;
    try { sessionStorage.removeItem(KEY_STORAGE); } catch (_) { /* nothing kept */ }
    for (const d of [$("confirm-dialog"), $("order-dialog")]) if (d.open) d.close();
    state.dialog = null;
    destroyCharts();
    state.alerts = { items: [], resumeToken: null, resumeIndex: 0 };
    state.stores = new Map();
    for (const id of ["stuck-body", "holds-body", "deliveries-body", "alerts-body", "flows-body", "fulfilment-body"]) {
      $(id).replaceChildren();
    }
    for (const id of ["orders-today", "latency-p50", "latency-p99"]) $(id).textContent = "–";
    setRefreshErrors([]);
    $("refresh-note").textContent = "";
    showSignedIn(false);
    $("sign-in-error").textContent = message || "";
    $("api-key").focus();
  }

  /* -------------------------------------------------------------- actions */

  const ACTIONS = {
    resume: {
      question: (id) => "Resume checkout " + id + "?",
      detail: () => "This places the order on the buyer's behalf, running the flow from the step after the last one that succeeded.",
      run: async (id) => {
        const { status, data } = await api("POST", "/v1/checkouts/" + encodeURIComponent(id) + "/place-order");
        if (status === 202) return "Accepted: request " + (data && data.requestId);
        return "Placed: order " + (data && data.orderId);
      },
    },
    abandon: {
      question: (id) => "Abandon checkout " + id + "?",
      detail: () => "The session is archived, its cart goes back to Active, an open payment hold is voided and every reserved balance is given back.",
      run: async (id) => {
        const { data } = await api("DELETE", "/v1/checkouts/" + encodeURIComponent(id));
        return "Abandoned: checkout " + id + (data && data.isArchived ? " is archived" : "") + ".";
      },
    },
    void: {
      question: (id) => "Void payment hold " + id + "?",
      detail: (id) => {
        const row = document.querySelector('[data-testid="hold-row"][data-id="' + CSS.escape(id) + '"]');
        const amount = row ? row.querySelector(".money") : null;
        return "The gateway releases the hold" + (amount ? " of " + amount.textContent : "") +
          ". Only a hold that backs no order can be voided.";
      },
      run: async (id) => {
        const { data } = await api("POST", "/v1/authorizations/" + encodeURIComponent(id) + "/void");
        const st = data && data.status;
        return st === "Voided" ? "Voided: payment hold " + id + "." : "Payment hold " + id + " is now " + st + ".";
      },
    },
    replay: {
      question: (id) => "Replay delivery " + id + "?",
      detail: () => "The delivery goes back to Pending and is sent again, with the subscriber's full number of attempts.",
      run: async (id) => {
        const { data } = await api("POST", "/v1/admin/dead-letters/" + encodeURIComponent(id) + "/replay");
        return "Replayed: delivery " + id + " is " + ((data && data.status) || "Pending") + " again.";
      },
    },
  };

  function dialogParts() {
    return {
      dialog: $("confirm-dialog"), ok: $("confirm-ok"), cancel: $("confirm-cancel"),
      close: $("confirm-close"), working: $("confirm-working"), result: $("confirm-result"),
    };
  }

  function openConfirm(action, id, focusKey, sectionId) {
    const spec = ACTIONS[action];
    const p = dialogParts();
    if (p.dialog.open) return;
    $("confirm-question").textContent = spec.question(id);
    $("confirm-detail").textContent = spec.detail(id);
    p.result.hidden = true;
    p.result.textContent = "";
    p.result.removeAttribute("role");
    p.result.className = "message";
    p.working.hidden = true;
    p.ok.hidden = false;
    p.ok.disabled = false;
    p.cancel.hidden = false;
    p.cancel.disabled = false;
    p.close.hidden = true;
    p.dialog.setAttribute("data-action", action);
    p.dialog.setAttribute("data-id", id);
    state.dialog = { run: () => spec.run(id), focusKey, sectionId, busy: false, done: false };
    p.dialog.showModal();
    p.cancel.focus();
  }

  async function confirmAction() {
    const d = state.dialog;
    if (!d || d.busy || d.done) return;
    const p = dialogParts();
    const gen = state.generation;
    d.busy = true;
    p.ok.disabled = true;
    p.cancel.disabled = true;
    p.working.hidden = false;
    let text, ok;
    try {
      text = await d.run();
      ok = true;
    } catch (e) {
      text = e instanceof ApiError ? e.describe() : String(e);
      ok = false;
      if (e instanceof ApiError && e.status === 401 && gen === state.generation) {
        signOut("That API key was not accepted (401 UNAUTHORIZED). Check the key and sign in again.");
        return;
      }
    }
    if (gen !== state.generation || state.dialog !== d) return;
    d.busy = false;
    d.done = true;
    p.working.hidden = true;
    p.result.setAttribute("role", ok ? "status" : "alert");
    p.result.className = "message " + (ok ? "ok" : "error");
    p.result.textContent = text;
    p.result.hidden = false;
    p.ok.hidden = true;
    p.cancel.hidden = true;
    p.close.hidden = false;
    p.close.focus();
    refresh();
  }

  /* Back to the button that opened a dialog or, when a refresh took its row
   * away (a resumed checkout, a voided hold), to its view's heading. */
  function restoreFocus(key, sectionId) {
    if ($("views").hidden) return;
    const el = key ? findByFocusKey($("views"), key) : null;
    const heading = sectionId ? document.querySelector("#" + CSS.escape(sectionId) + " h2") : null;
    if (el) el.focus();
    else if (heading) heading.focus();
    else $("main").focus();
  }

  function setUpConfirmDialog() {
    const p = dialogParts();
    p.ok.addEventListener("click", confirmAction);
    p.cancel.addEventListener("click", () => { if (!(state.dialog && state.dialog.busy)) p.dialog.close(); });
    p.close.addEventListener("click", () => p.dialog.close());
    p.dialog.addEventListener("cancel", (e) => { if (state.dialog && state.dialog.busy) e.preventDefault(); });
    p.dialog.addEventListener("close", () => {
      const d = state.dialog;
      state.dialog = null;
      if (d) restoreFocus(d.focusKey, d.sectionId);
    });
  }

  /* ----------------------------------------------------------- order view */

  async function openOrder(orderId, focusKey, sectionId, fo) {
    const dlg = $("order-dialog");
    if (dlg.open) return;
    state.orderFocus = { key: focusKey, sectionId };
    $("order-dialog-title").replaceChildren("Order ", h("code", { class: "id" }, orderId));
    const body = $("order-dialog-body");
    body.replaceChildren(h("p", { class: "message working" }, "Loading…"));
    dlg.showModal();
    $("order-close").focus();
    const gen = state.generation;
    try {
      const [order, current] = await Promise.all([
        api("GET", "/v1/orders/" + encodeURIComponent(orderId)),
        fo && fo.id ? api("GET", "/v1/fulfillment-orders/" + encodeURIComponent(fo.id)).then((r) => r.data, () => null)
          : Promise.resolve(null),
      ]);
      if (gen !== state.generation || !dlg.open) return;
      body.replaceChildren(...orderDetails(order.data, current || fo));
    } catch (e) {
      if (gen !== state.generation || !dlg.open) return;
      body.replaceChildren(h("p", { class: "message error", role: "alert" }, e instanceof ApiError ? e.describe() : String(e)));
    }
  }

  function orderDetails(o, fo) {
    const cur = o.currency;
    const t = o.totals || {};
    const summary = new Map(((o.summary && o.summary.items) || []).map((s) => [s.orderItemId, s]));
    const dl = h("dl", { class: "kv" },
      [["Order number", o.orderNumber], ["Status", o.status], ["Account", o.accountId],
        ["Session", o.sessionId], ["Payment method", o.paymentMethod], ["PO number", o.poNumber],
        ["Grand total", money(t.grandTotal, cur)], ["Created at", o.createdAt],
        ["Fulfillment order", o.fulfillmentOrderId || (fo && fo.id)],
        ["Fulfillment status", fo && fo.status]]
        .filter(([, v]) => v !== null && v !== undefined && v !== "")
        .map(([k, v]) => h("div", null, h("dt", null, k), h("dd", null, String(v)))));
    const items = (o.items || []).map((it) => {
      const s = summary.get(it.id) || {};
      return {
        testid: "order-line",
        id: it.id,
        cells: [it.sku || it.productId, String(it.quantity),
          String(s.quantityFulfilled ?? 0), String(s.quantityCancelled ?? 0), String(s.quantityReturned ?? 0),
          money(it.total, cur)],
      };
    });
    const out = [dl, h("h3", { id: "order-lines-heading" }, "Lines"),
      dataTable("order-lines-heading", [{ label: "SKU" }, { label: "Ordered" }, { label: "Fulfilled" },
        { label: "Cancelled" }, { label: "Returned" }, { label: "Total" }], items)];
    const auths = o.authorizations || [];
    if (auths.length) {
      out.push(h("h3", { id: "order-auths-heading" }, "Payment authorizations"));
      out.push(dataTable("order-auths-heading", [{ label: "Authorization" }, { label: "Status" },
        { label: "Amount" }, { label: "Captured" }], auths.map((a) => ({
        testid: "order-auth", id: a.id,
        cells: [idText(a.id), String(a.status), money(a.amount, cur), money(a.capturedAmount, cur)],
      }))));
    }
    return out;
  }

  function setUpOrderDialog() {
    const dlg = $("order-dialog");
    $("order-close").addEventListener("click", () => dlg.close());
    dlg.addEventListener("close", () => {
      const f = state.orderFocus;
      state.orderFocus = null;
      if (f) restoreFocus(f.key, f.sectionId);
    });
  }

  /* ----------------------------------------------------------------- wire */

  function onViewsClick(e) {
    const b = e.target.closest("button[data-action]");
    if (!b || !state.key) return;
    const action = b.getAttribute("data-action");
    const id = b.getAttribute("data-id");
    const key = b.getAttribute("data-focus-key");
    const section = b.closest("section");
    const sectionId = section ? section.id : null;
    if (action === "view-order") {
      openOrder(id, key, sectionId, { id: b.getAttribute("data-fo-id"), status: b.getAttribute("data-fo-status") });
    }
    else if (ACTIONS[action]) openConfirm(action, id, key, sectionId);
  }

  function start() {
    for (const sec of document.querySelectorAll("section h2")) sec.setAttribute("tabindex", "-1");
    $("sign-in-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const key = $("api-key").value.trim();
      if (!key) {
        $("sign-in-error").textContent = "Enter an API key first.";
        $("api-key").focus();
        return;
      }
      signIn(key, false);
    });
    $("sign-out").addEventListener("click", () => signOut(""));
    $("views").addEventListener("click", onViewsClick);
    setUpConfirmDialog();
    setUpOrderDialog();
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && state.key) refresh();
    });
    let saved = null;
    try { saved = sessionStorage.getItem(KEY_STORAGE); } catch (_) { saved = null; }
    showSignedIn(false);
    if (saved) signIn(saved, true);
    else $("api-key").focus();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
