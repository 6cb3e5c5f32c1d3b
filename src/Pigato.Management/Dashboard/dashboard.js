// The broker's live dashboard: history from api/history, then one api/events message per sample (Server-Sent Events).
// Every value from the broker is written as text (textContent), never as markup.
"use strict";

const samples = [];
const maxSamples = 600;
let paused = false;
let latest = null;

const $ = (id) => document.getElementById(id);
const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const fmt = (n) => (n === null || n === undefined ? "–" : number.format(n));

function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${number.format(n)} ${units[i]}`;
}

function duration(seconds) {
  const d = Math.floor(seconds / 86400), h = Math.floor(seconds / 3600) % 24, m = Math.floor(seconds / 60) % 60, s = Math.floor(seconds % 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

function ago(iso, now) {
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  return seconds < 1 ? "now" : `${duration(seconds)} ago`;
}

function addSample(sample) {
  if (!sample || (samples.length > 0 && samples[samples.length - 1].time >= sample.time)) return;
  samples.push(sample);
  if (samples.length > maxSamples) samples.splice(0, samples.length - maxSamples);
}

const svg = (name, attributes) => {
  const element = document.createElementNS("http://www.w3.org/2000/svg", name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  return element;
};

function niceMax(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((f) => f * power).find((v) => v >= value);
}

// Draws series (keys of a sample) over the chosen window; the y axis starts at 0 and ends at a round number.
function chart(id, keys, unit) {
  const element = $(id);
  const windowSeconds = Number($("window").value);
  const now = samples.length ? samples[samples.length - 1].time : Date.now();
  const from = now - windowSeconds * 1000;
  const shown = samples.filter((s) => s.time >= from);
  const max = Math.max(0, ...shown.flatMap((s) => keys.map((k) => s[k])));
  const top = niceMax(max);
  const [w, h, left] = [600, 180, 44];
  element.replaceChildren();
  for (const f of [0, 0.5, 1]) {
    const y = h - 14 - f * (h - 24);
    element.append(svg("line", { class: "grid", x1: left, x2: w, y1: y, y2: y }));
    const label = svg("text", { class: "axis", x: 2, y: y + 4 });
    label.textContent = fmt(top * f);
    element.append(label);
  }
  const caption = svg("text", { class: "axis", x: left, y: h - 1 });
  caption.textContent = `−${windowSeconds / 60} min`;
  const nowLabel = svg("text", { class: "axis", x: w - 24, y: h - 1 });
  nowLabel.textContent = "now";
  element.append(caption, nowLabel);
  keys.forEach((key, i) => {
    const points = shown.map((s) => {
      const x = left + ((s.time - from) / (windowSeconds * 1000)) * (w - left);
      const y = h - 14 - (s[key] / top) * (h - 24);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    });
    if (points.length > 0) element.append(svg("path", { class: `s${i}`, d: `M${points.join("L")}` }));
  });
  element.dataset.max = String(max);
  element.dataset.points = String(shown.length);
  const last = shown[shown.length - 1];
  $(id.replace("chart", "desc")).textContent = last
    ? `Over the last ${windowSeconds / 60} min: highest ${fmt(max)} ${unit}; now ${keys.map((k) => `${k} ${fmt(last[k])}`).join(", ")}.`
    : "No samples yet.";
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    if (cell instanceof Node) td.append(cell);
    else td.textContent = cell.text ?? cell;
    if (cell.className) td.className = cell.className;
    if (cell.title) td.title = cell.title;
    tr.append(td);
  }
  return tr;
}

function fill(tableId, rows, columns, emptyText) {
  const body = $(tableId).tBodies[0];
  if (rows.length === 0) {
    const tr = row([emptyText]);
    tr.className = "empty";
    tr.firstChild.colSpan = columns;
    body.replaceChildren(tr);
  } else {
    body.replaceChildren(...rows);
  }
}

const n = (value) => ({ text: fmt(value), className: "n" });

function load(worker) {
  const wrap = document.createElement("span");
  if (worker.load !== null) {
    const meter = document.createElement("meter");
    meter.min = 0; meter.max = 1; meter.value = worker.load; meter.high = 0.9;
    meter.setAttribute("aria-label", `load of ${worker.id}`);
    wrap.append(meter);
  }
  wrap.append(`${worker.inFlight}/${worker.concurrency < 0 ? "∞" : worker.concurrency}`);
  return wrap;
}

function render() {
  if (!latest || paused) return;
  const doc = latest, now = Date.parse(doc.takenAt), rates = doc.rates;
  $("broker-name").textContent = doc.broker;
  $("uptime").textContent = duration((now - Date.parse(doc.startedAt)) / 1000);
  $("store").textContent = doc.limits.store ? `store ${doc.limits.store}` : "no store";
  $("auth").textContent = doc.limits.requiresAuthentication ? "authentication on" : "open (no authentication)";
  $("t-rate").textContent = rates ? fmt(rates.received) : "–";
  $("t-latency").textContent = rates ? `${fmt(rates.p50Ms)} / ${fmt(rates.p99Ms)} ms` : "–";
  $("t-queued").textContent = fmt(doc.stats.queuedRequests);
  $("t-inflight").textContent = fmt(doc.stats.inFlightRequests);
  $("t-workers").textContent = fmt(doc.stats.workers);
  $("t-clients").textContent = fmt(doc.stats.clients);
  $("t-held").textContent = `${bytes(doc.stats.heldBytes)} of ${bytes(doc.limits.maxHeldBytes)}`;
  $("t-errors").textContent = rates ? fmt(rates.errors) : "–";
  $("t-slow").textContent = fmt(doc.counters.slowConsumers);
  $("t-refused").textContent = fmt(doc.counters.refused);
  $("t-slow").classList.toggle("warn", doc.counters.slowConsumers > 0);
  $("t-refused").classList.toggle("warn", doc.counters.refused > 0);

  chart("rate-chart", ["received", "completed", "errors"], "requests per second");
  chart("latency-chart", ["p50Ms", "p99Ms"], "milliseconds");
  chart("queue-chart", ["queued", "inFlight"], "requests");

  fill("services", doc.services.map((s) => row([s.name, n(s.queued), n(s.inFlight), n(s.workers), n(s.served)])), 5, "No services yet.");
  const filter = $("worker-filter").value.trim().toLowerCase();
  const workers = doc.workers.filter((w) => !filter || w.id.toLowerCase().includes(filter) || w.service.toLowerCase().includes(filter));
  fill("workers", workers.map((w) => row([
    { text: w.id, className: "id", title: w.id }, w.service, load(w), n(w.served), n(w.errors), n(w.averageMs), n(w.p99Ms), ago(w.lastHeard, now),
    { text: w.lastError ?? "", className: "error" },
  ])), 9, filter ? "No worker matches the filter." : "No workers registered.");
  const errors = Object.entries(doc.counters.errors).sort((a, b) => b[1] - a[1]);
  fill("errors", errors.map(([code, count]) => row([code, n(count)])), 2, "No errors.");
  fill("clients", doc.clients.map((c) => row([{ text: c.id, className: "id", title: c.id }, n(c.pending), { text: bytes(c.heldBytes), className: "n" }, ago(c.lastHeard, now)])), 4, "No client has requests in the broker.");
  fill("poisoned", doc.poisoned.map((p) => row([
    ago(p.at, now), p.service, { text: p.client, className: "id", title: p.client }, { text: p.rid, className: "id", title: p.rid },
    n(p.workersLost), { text: bytes(p.bytes), className: "n" }, { text: p.dataPrefix, className: "error" },
  ])), 7, "No request was quarantined.");

  const limits = [
    ["Memory for requests", bytes(doc.limits.maxHeldBytes)], ["Largest message", bytes(doc.limits.maxMessageSize)],
    ["Requests per client", fmt(doc.limits.maxPendingPerClient)], ["Bytes per client", bytes(doc.limits.maxBytesPerClient)],
    ["Queue per service", fmt(doc.limits.maxQueuedPerService)], ["Messages kept per peer", fmt(doc.limits.maxQueuedPerPeer)],
    ["Persist requests held", fmt(doc.limits.maxStoredRequests)], ["Slow consumer after", `${fmt(doc.limits.slowConsumerTimeoutMs / 1000)} s`],
  ];
  $("limits").replaceChildren(...limits.map(([name, value]) => {
    const div = document.createElement("div"), dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = name; dd.textContent = value; div.append(dt, dd);
    return div;
  }));
}

function status(text, bad) {
  $("status").textContent = text;
  $("status").classList.toggle("bad", bad);
}

function receive(doc) {
  latest = doc;
  addSample(doc.rates);
  status(`Live · updated ${new Date(doc.takenAt).toLocaleTimeString()}`, false);
  render();
}

async function start() {
  // A token given once in the address is kept by the endpoint in a cookie: take it out of the address bar.
  if (new URLSearchParams(location.search).has("token")) history.replaceState(null, "", location.pathname);
  $("pause").addEventListener("click", () => {
    paused = !paused;
    $("pause").setAttribute("aria-pressed", String(paused));
    $("pause").textContent = paused ? "Resume updates" : "Pause updates";
    if (!paused) render();
  });
  $("window").addEventListener("change", render);
  $("worker-filter").addEventListener("input", render);
  try {
    const response = await fetch("api/history", { cache: "no-store" });
    if (response.ok) (await response.json()).forEach(addSample);
  } catch {
    // The event stream below reports the connection.
  }
  const events = new EventSource("api/events");
  events.addEventListener("stats", (e) => receive(JSON.parse(e.data)));
  events.onerror = () => status("Disconnected from the broker; retrying…", true);
}

start();
