// The cpppo dashboard: the device's tags, connections and I/O, live from the simulator's write funnel.
//
// It loads `state` once, pages array elements from `values/<tag>`, follows `events` (Server-Sent
// Events: "io" batches of tag events, "stats" once a second) and acts through the documented web API
// (`api/...`).  All addresses are relative, so the same page serves a fleet's `/device/<name>/`.
"use strict";

const TAGS_PER_PAGE = 50;
const ELEMENTS_PER_PAGE = 100;
const IO_KEPT = 100;
const TREND_KEPT = 600;
const token = new URLSearchParams(location.search).get("token");

const $ = (id) => document.getElementById(id);
const model = {
  tags: [], byName: new Map(), head: 8, filter: "", page: 0,
  detail: null,          // {tag, start, values}
  trend: null,           // {tag, index, points: [[t, v]]}
  io: [], lastStats: null, ioDirty: false, tagsDirty: false, detailDirty: false, trendDirty: false,
  flashes: new Set(),
};

function withToken(url) {
  return token ? url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token) : url;
}

async function getJSON(url) {
  const response = await fetch(withToken(url), { headers: { Accept: "application/json" } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || body.command?.message || response.statusText);
  return body;
}

function show(text, good) {
  const el = $("message");
  el.textContent = text;
  el.className = "message " + (good ? "good" : "bad");
}

// A command of the documented API; says how it went.
async function command(path) {
  try {
    const reply = await fetch(withToken("api/" + path), { headers: { Accept: "application/json" } });
    const body = await reply.json();
    const outcome = body.command || {};
    show(outcome.message || body.message || reply.statusText, reply.ok && outcome.success !== false);
    return reply.ok ? body : null;
  } catch (error) {
    show(String(error), false);
    return null;
  }
}

function fmt(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(+value.toPrecision(7));
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function shape(tag) {
  return tag.dims.length ? "[" + tag.dims.join(",") + "]" : "";
}

// -- the tags table (only the visible page is in the DOM) ---------------------------------------------
function visibleTags() {
  const f = model.filter.toLowerCase();
  return f ? model.tags.filter((t) => t.name.toLowerCase().includes(f)) : model.tags;
}

function tagValueText(tag) {
  const more = tag.elements > tag.values.length ? ", …" : "";
  return tag.elements > 1 ? "[" + tag.values.map(fmt).join(", ") + more + "]" : fmt(tag.values[0]);
}

function tagErrorText(tag) {
  return tag.error ? "0x" + tag.error.toString(16).padStart(2, "0") : "";
}

function renderTags() {
  model.tagsDirty = false;
  const tags = visibleTags();
  const pages = Math.max(1, Math.ceil(tags.length / TAGS_PER_PAGE));
  model.page = Math.min(model.page, pages - 1);
  const first = model.page * TAGS_PER_PAGE;
  const shown = tags.slice(first, first + TAGS_PER_PAGE);
  $("tags-range").textContent = tags.length ? `${first + 1}–${first + shown.length} of ${tags.length}` : "none";
  const key = shown.map((t) => t.name).join("\n");
  if (key === model.renderedTags) {  // the same rows: change only what changed (rows stay put under the mouse)
    const rows = $("tags").tBodies[0].rows;
    shown.forEach((tag, i) => {
      const row = rows[i];
      row.classList.toggle("selected", !!model.detail && model.detail.tag === tag);
      row.classList.toggle("faulted", !!tag.error);
      const value = row.cells[3], error = row.cells[4], text = tagValueText(tag);
      if (value.textContent !== text) { value.textContent = text; value.title = text; }
      if (model.flashes.has(tag.name)) {
        value.classList.remove("flash");
        void value.offsetWidth;  // restart the animation
        value.classList.add("flash");
      }
      if (error.textContent !== tagErrorText(tag)) error.textContent = tagErrorText(tag);
    });
    model.flashes.clear();
    return;
  }
  model.renderedTags = key;
  const body = document.createElement("tbody");
  for (const tag of shown) {
    const row = body.insertRow();
    row.dataset.tag = tag.name;
    if (model.detail && model.detail.tag === tag) row.classList.add("selected");
    if (tag.error) row.classList.add("faulted");
    for (const [cls, value] of [["name", tag.name], ["type", tag.type], ["shape", shape(tag)],
                                ["value", tagValueText(tag)], ["error", tagErrorText(tag)]]) {
      const cell = row.insertCell();
      cell.className = cls;
      cell.textContent = value;
      cell.title = value;
    }
    if (model.flashes.has(tag.name)) row.cells[3].classList.add("flash");
  }
  $("tags").replaceChild(body, $("tags").tBodies[0]);
  model.flashes.clear();
}

// -- one tag's elements -----------------------------------------------------------------------------
async function openTag(tag, start = 0) {
  start = Math.max(0, Math.min(start, Math.floor((tag.elements - 1) / ELEMENTS_PER_PAGE) * ELEMENTS_PER_PAGE));
  const page = await getJSON(`values/${encodeURIComponent(tag.name)}?start=${start}&count=${ELEMENTS_PER_PAGE}`);
  model.detail = { tag, start: page.start, values: page.values };
  model.renderedDetail = null;
  $("detail-panel").hidden = false;
  $("detail-name").textContent = tag.name;
  $("detail-type").textContent = tag.type + shape(tag);
  $("tag-error").value = String(tag.error || 0);
  const index = +$("edit-index").value;
  if (!(index >= page.start && index < page.start + page.values.length)) $("edit-index").value = page.start;
  $("edit-index").max = tag.elements - 1;
  renderDetail();
  model.tagsDirty = true;
}

function renderDetail() {
  model.detailDirty = false;
  const d = model.detail;
  if (!d) return;
  $("detail-range").textContent = `${d.start}–${d.start + d.values.length - 1} of ${d.tag.elements}`;
  const chosen = +$("edit-index").value;
  const key = `${d.tag.name}\n${d.start}\n${d.values.length}`;
  const grid = $("elements");
  if (key === model.renderedDetail) {  // the same cells: change their text, not the cells
    d.values.forEach((value, i) => {
      const cell = grid.children[i], index = d.start + i, text = fmt(value);
      cell.classList.toggle("chosen", index === chosen);
      if (cell.lastChild.textContent !== text) {
        cell.lastChild.textContent = text;
        cell.title = `${d.tag.name}[${index}] = ${text}`;
      }
      if (d.flash?.has(index)) {
        cell.classList.remove("flash");
        void cell.offsetWidth;  // restart the animation
        cell.classList.add("flash");
      }
    });
    d.flash = null;
    return;
  }
  model.renderedDetail = key;
  const cells = document.createDocumentFragment();
  d.values.forEach((value, i) => {
    const cell = document.createElement("div");
    const index = d.start + i;
    cell.className = "cell" + (index === chosen ? " chosen" : "");
    cell.dataset.index = index;
    const label = document.createElement("span");
    label.className = "index";
    label.textContent = index;
    cell.append(label, document.createTextNode(fmt(value)));
    cell.title = `${d.tag.name}[${index}] = ${fmt(value)}`;
    cells.append(cell);
  });
  d.flash = null;
  grid.replaceChildren(cells);
}

// -- live updates -------------------------------------------------------------------------------------
function baseName(name) {
  return name.split(/[.[]/)[0].toLowerCase();
}

const refetching = new Set();
async function refetch(tag) {  // a member or bit of a tag changed: read its shown elements again
  if (refetching.has(tag)) return;
  refetching.add(tag);
  try {
    const head = await getJSON(`values/${encodeURIComponent(tag.name)}?start=0&count=${model.head}`);
    tag.values = head.values;
    model.flashes.add(tag.name);
    model.tagsDirty = true;
    if (model.detail && model.detail.tag === tag) await openTag(tag, model.detail.start);
  } catch (error) { /* the next change tries again */ }
  finally { refetching.delete(tag); }
}

function apply(event) {
  const exact = model.byName.get(event.tag.toLowerCase());
  if (!exact) {
    const tag = model.byName.get(baseName(event.tag));
    if (tag) refetch(tag);
    return;
  }
  const tag = exact, start = event.start, values = event.values;
  for (let i = 0; i < values.length; i++) {
    const index = start + i;
    if (index < tag.values.length) tag.values[index] = values[i];
  }
  if (start < tag.values.length) { model.flashes.add(tag.name); model.tagsDirty = true; }
  const d = model.detail;
  if (d && d.tag === tag) {
    for (let i = 0; i < values.length; i++) {
      const at = start + i - d.start;
      if (at >= 0 && at < d.values.length) {
        d.values[at] = values[i];
        (d.flash ||= new Set()).add(start + i);
        model.detailDirty = true;
      }
    }
    if (values.length < event.count) refetch(tag);  // the event carried only the first values
  }
  const t = model.trend;
  if (t && t.tag === tag && t.index >= start && t.index < start + values.length) {
    t.points.push([event.time, Number(values[t.index - start])]);
    if (t.points.length > TREND_KEPT) t.points.shift();
    model.trendDirty = true;
  }
}

function onIO(message) {
  const data = JSON.parse(message.data);
  for (const event of data.events) {
    if (event.kind === "write") apply(event);
    model.io.unshift(event);
  }
  if (model.io.length > IO_KEPT) model.io.length = IO_KEPT;
  model.ioDirty = data.events.length > 0 || model.ioDirty;
  if (data.lost) reload();  // a burst too big to follow: read the tags again
}

function renderIO() {
  model.ioDirty = false;
  const list = document.createDocumentFragment();
  for (const e of model.io) {
    const li = document.createElement("li");
    li.className = e.kind;
    const when = new Date(e.time * 1000).toISOString().slice(11, 23);
    const tag = model.byName.get(e.tag.toLowerCase());
    const array = tag ? tag.elements > 1 : e.count > 1;
    const range = !array ? "" : e.count > 1 ? `[${e.start}..${e.start + e.count - 1}]` : `[${e.start}]`;
    const what = e.kind === "error" ? `${e.access} failed: status 0x${e.status.toString(16).padStart(2, "0")}`
      : "= " + e.values.map(fmt).join(", ");
    li.textContent = `${when} ${e.kind.padEnd(5)} ${e.tag}${range} ${what}  (${e.source})`;
    list.append(li);
  }
  $("io-log").replaceChildren(list);
}

function onStats(message) {
  const s = JSON.parse(message.data);
  const last = model.lastStats;
  if (last && s.time > last.time && s.requests >= last.requests) {
    $("rate").textContent = `${Math.round((s.requests - last.requests) / (s.time - last.time))} requests/s`;
  }
  model.lastStats = s;
  const body = document.createElement("tbody");
  for (const [key, c] of Object.entries(s.connections || {})) {
    const row = body.insertRow();
    row.dataset.key = key;
    for (const value of [c.interface, c.port, c.received, c.requests]) row.insertCell().textContent = value;
    const close = document.createElement("button");
    close.textContent = "close";
    close.type = "button";
    close.onclick = () => command(`connections/${key}/eof=true`);
    row.insertCell().append(close);
  }
  $("connections").replaceChild(body, $("connections").tBodies[0]);
  for (const tag of model.tags) {
    const error = s.errors[tag.name] || 0;
    if (tag.error !== error) { tag.error = error; model.tagsDirty = true; }
  }
  const delay = s.options?.delay || {};
  if (document.activeElement !== $("delay")) $("delay").value = delay.range ?? delay.value ?? 0;
  $("disable").checked = !!s.server?.control?.disable;
  const t = model.trend;
  if (t && t.points.length) {  // a held value goes on being the value: extend the line to now
    t.points.push([s.time, t.points[t.points.length - 1][1]]);
    if (t.points.length > TREND_KEPT) t.points.shift();
    model.trendDirty = true;
  }
}

// -- the trend ----------------------------------------------------------------------------------------
async function startTrend(tag, index) {
  const one = await getJSON(`values/${encodeURIComponent(tag.name)}?start=${index}&count=1`);
  model.trend = { tag, index, points: [[Date.now() / 1000, Number(one.values[0])]] };
  $("trend-name").textContent = `${tag.name}[${index}]`;
  model.trendDirty = true;
}

function renderTrend() {
  model.trendDirty = false;
  const canvas = $("trend");
  const width = canvas.clientWidth || canvas.width;
  if (canvas.width !== width) canvas.width = width;
  const ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  const t = model.trend;
  const points = t ? t.points.filter((p) => Number.isFinite(p[1])) : [];
  if (!points.length) return;
  let lo = Math.min(...points.map((p) => p[1])), hi = Math.max(...points.map((p) => p[1]));
  if (lo === hi) { lo -= 1; hi += 1; }
  const t1 = Math.max(points[points.length - 1][0], Date.now() / 1000), t0 = Math.min(points[0][0], t1 - 10);
  const x = (time) => 48 + (w - 56) * (time - t0) / (t1 - t0);
  const y = (v) => h - 18 - (h - 30) * (v - lo) / (hi - lo);
  ctx.strokeStyle = "#d5dbe1";
  ctx.fillStyle = "#67727e";
  ctx.font = "11px system-ui, sans-serif";
  for (const v of [lo, (lo + hi) / 2, hi]) {
    ctx.beginPath(); ctx.moveTo(48, y(v)); ctx.lineTo(w - 8, y(v)); ctx.stroke();
    ctx.fillText(fmt(v), 4, y(v) + 4);
  }
  ctx.fillText(`${Math.round(t1 - t0)} s`, w - 40, h - 4);
  ctx.strokeStyle = "#2f6fb2";
  ctx.lineWidth = 2;
  ctx.beginPath();
  points.forEach(([time, v], i) => {  // a step plot: a value holds until the next write
    if (i === 0) ctx.moveTo(x(time), y(v));
    else { ctx.lineTo(x(time), y(points[i - 1][1])); ctx.lineTo(x(time), y(v)); }
  });
  ctx.lineTo(x(t1), y(points[points.length - 1][1]));
  ctx.stroke();
}

// -- loading and following ------------------------------------------------------------------------------
let reloading = null;
async function reload() {
  if (reloading) return reloading;
  reloading = (async () => {
    const s = await getJSON("state");
    const id = s.identity;
    $("product").textContent = id.product_name;
    $("identity").textContent =
      `vendor ${id.vendor_id} · type ${id.device_type} · product ${id.product_code} · rev ${id.revision} · serial ${id.serial_number}`;
    $("enip").textContent = s.enip;
    document.title = `${id.product_name} – cpppo`;
    model.head = s.head;
    const chosen = model.detail?.tag.name, trended = model.trend?.tag.name;
    model.tags = s.tags;
    model.renderedTags = null;
    model.byName = new Map(s.tags.map((t) => [t.name.toLowerCase(), t]));
    $("tag-count").textContent = `${s.tags.length} tags, ${s.tags.reduce((n, t) => n + t.elements, 0)} elements`;
    if (model.trend && trended) model.trend.tag = model.byName.get(trended.toLowerCase()) || null;
    if (chosen && model.byName.has(chosen.toLowerCase())) await openTag(model.byName.get(chosen.toLowerCase()), model.detail.start);
    model.tagsDirty = true;
  })().finally(() => setTimeout(() => { reloading = null; }, 1000));
  return reloading;
}

let source = null;
function follow() {
  if (source) source.close();
  source = new EventSource(withToken("events" + ($("reads").checked ? "?reads=1" : "")));
  source.addEventListener("io", onIO);
  source.addEventListener("stats", onStats);
  source.onopen = () => { $("live").className = "dot on"; $("live-text").textContent = "live"; };
  source.onerror = () => { $("live").className = "dot off"; $("live-text").textContent = "reconnecting"; };
}

function frame() {
  if (model.tagsDirty) renderTags();
  if (model.detailDirty) renderDetail();
  if (model.ioDirty) renderIO();
  if (model.trendDirty) renderTrend();
  requestAnimationFrame(frame);
}

// -- controls ---------------------------------------------------------------------------------------------
function wire() {
  $("filter").addEventListener("input", (e) => { model.filter = e.target.value; model.page = 0; renderTags(); });
  $("tags-prev").onclick = () => { model.page = Math.max(0, model.page - 1); renderTags(); };
  $("tags-next").onclick = () => { model.page += 1; renderTags(); };
  $("tags").tBodies[0].parentElement.addEventListener("click", (e) => {
    const row = e.target.closest("tr[data-tag]");
    if (row) openTag(model.byName.get(row.dataset.tag.toLowerCase())).catch((err) => show(String(err), false));
  });
  $("detail-prev").onclick = () => model.detail && openTag(model.detail.tag, model.detail.start - ELEMENTS_PER_PAGE);
  $("detail-next").onclick = () => model.detail && openTag(model.detail.tag, model.detail.start + ELEMENTS_PER_PAGE);
  $("elements").addEventListener("click", (e) => {
    const cell = e.target.closest(".cell");
    if (!cell || !model.detail) return;
    $("edit-index").value = cell.dataset.index;
    $("edit-value").value = fmt(model.detail.values[+cell.dataset.index - model.detail.start]);
    model.detailDirty = true;
  });
  $("write").onclick = () => {
    const d = model.detail;
    if (d) command(`tags/${encodeURIComponent(d.tag.name)}/attribute[${+$("edit-index").value}]=${encodeURIComponent($("edit-value").value)}`);
  };
  $("trend-this").onclick = () => model.detail && startTrend(model.detail.tag, +$("edit-index").value)
    .catch((err) => show(String(err), false));
  $("set-error").onclick = async () => {
    const d = model.detail;
    if (!d) return;
    const reply = await command(`tags/${encodeURIComponent(d.tag.name)}/error=${encodeURIComponent($("tag-error").value.trim())}`);
    if (reply) { d.tag.error = reply.data.tags?.[d.tag.name]?.error ?? d.tag.error; model.tagsDirty = true; }
  };
  $("set-delay").onclick = () => {
    const text = $("delay").value.trim() || "0";
    command(text.includes("-") ? `options/delay/range=${text}` : `options/delay/value=${text}`);
  };
  $("disable").onchange = (e) => command(`server/control/disable=${e.target.checked}`);
  $("drop").onclick = () => command("connections/*/eof=true");
  $("reads").onchange = follow;
}

wire();
reload().then(follow, (error) => show(`cannot load the device: ${error}`, false));
requestAnimationFrame(frame);
