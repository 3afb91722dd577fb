// The live tree viewer's page: plain HTML, CSS and JS, no framework, no CDN.
// Internal; served by cli/view.ts.

/** The page, for a server that does (or does not) take writes. */
export function page(writable: boolean): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>etcd-tree</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; }
  header { display: flex; gap: 1em; align-items: center; padding: .5em 1em;
    background: #f4f4f4; border-bottom: 1px solid #ddd; position: sticky; top: 0; }
  header h1 { font-size: 1em; margin: 0; }
  #state { padding: .1em .5em; border-radius: 1em; background: #ccc; }
  #state.live { background: #bfe5bf; }
  #state.reconnecting, #state.resyncing { background: #ffe09a; }
  #state.failed { background: #f5b5b5; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .15em .6em; border-bottom: 1px solid #eee;
    vertical-align: top; }
  th { font-weight: 600; background: #fafafa; }
  td.name { white-space: nowrap; }
  td.value { font-family: ui-monospace, monospace; white-space: pre-wrap;
    word-break: break-all; max-width: 40em; }
  td.value.long { max-height: 3.6em; overflow: hidden; cursor: pointer; }
  td.value.long.open { max-height: none; }
  td.num { font-variant-numeric: tabular-nums; color: #666; }
  .toggle { cursor: pointer; user-select: none; display: inline-block; width: 1em; }
  tr.dir { cursor: pointer; }
  tr:focus { outline: 2px solid #6aa0ff; outline-offset: -2px; }
  tr.changed { animation: flash 1.5s ease-out; }
  tr.gone { opacity: 0; transition: opacity .5s; }
  @keyframes flash { from { background: #fff3a0; } to { background: transparent; } }
  .date { color: #777; margin-left: .5em; }
  .bytes { color: #7a4b00; }
  button { font-size: .85em; }
  #past { display: none; padding: .3em 1em; background: #e8f0ff; }
  body.past #past { display: block; }
  #history { display: none; position: fixed; right: 1em; top: 3.5em; width: 32em;
    max-height: 70vh; overflow: auto; background: #fff; border: 1px solid #bbb;
    box-shadow: 0 2px 8px #0003; padding: .5em 1em; }
  #history.open { display: block; }
  #history table td { font-family: ui-monospace, monospace; }
  .v3 { display: none; }
  body.api-v3 .v3 { display: table-cell; }
  body.api-v3 header .v3 { display: inline; }
</style>
</head>
<body>
<header>
  <h1>etcd-tree <span id="prefix"></span></h1>
  <input id="filter" placeholder="filter keys" autocomplete="off">
  <span id="count"></span>
  <span id="revision"></span>
  <span class="v3"><input id="asof" size="9" placeholder="revision" inputmode="numeric">
  <button id="show-past">show as of</button></span>
  <span id="state">connecting</span>
</header>
<div id="past">As of revision <b id="past-revision"></b>, read-only. <button id="back">back to live</button></div>
<div id="history" role="dialog" aria-label="history"><b id="history-title"></b>
  <button id="history-close">close</button><div id="history-body"></div></div>
<table>
  <thead><tr><th>name</th><th>value</th><th id="mod-head">modifiedIndex</th>
  <th id="created-head">createdIndex</th><th class="v3">version</th><th class="v3">lease</th>
  <th>TTL</th><th></th></tr></thead>
  <tbody id="rows"></tbody>
</table>
<script>
"use strict";
const WRITABLE = ${writable};
let V3 = false;
const token = new URLSearchParams(location.search).get("token") ?? "";
const api = (path) => path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
// The mirror: path -> node {dir, raw, modifiedIndex, createdIndex, expiration}.
const nodes = new Map();
const open = new Set([""]);
let changed = new Set();
const rows = document.getElementById("rows");
const filter = document.getElementById("filter");

function parent(path) { const i = path.lastIndexOf("/"); return i < 0 ? "" : path.slice(0, i); }
function name(path) { return path.slice(path.lastIndexOf("/") + 1); }
// Children by directory, so that rendering visits only open directories.
const kids = new Map();
const fading = new Set();
function put(path, node) {
  if (!nodes.has(path)) {
    const dir = parent(path);
    if (!kids.has(dir)) kids.set(dir, new Set());
    kids.get(dir).add(path);
  }
  nodes.set(path, node);
}
function remove(path) {
  nodes.delete(path);
  kids.get(parent(path))?.delete(path);
  kids.delete(path);
}
function children(path) { return [...(kids.get(path) ?? [])].sort(); }
function asDate(raw) {
  if (/^\\d{9,10}(\\.\\d+)?$/.test(raw)) return new Date(Number(raw) * 1000);
  if (/^\\d{12,13}$/.test(raw)) return new Date(Number(raw));
  if (/^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d/.test(raw)) { const d = new Date(raw); return isNaN(d) ? null : d; }
  return null;
}
function ttl(node) {
  if (!node.expiration) return "";
  return Math.max(0, Math.ceil((node.expiration - Date.now()) / 1000)) + " s";
}
// Controls and bidirectional overrides are shown as escapes, never obeyed.
const UNSAFE = /[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]/g;
function safeText(text) { return String(text).replace(UNSAFE, (c) => "\\\\u" + c.charCodeAt(0).toString(16).padStart(4, "0")); }
function cell(tr, text, cls) { const td = tr.insertCell(); td.textContent = safeText(text); if (cls) td.className = cls; return td; }
function toggle(path) { open.has(path) ? open.delete(path) : open.add(path); render(); focusRow(path); }
function focusRow(path) { for (const tr of rows.rows) if (tr.dataset.path === path) { tr.focus(); return; } }
function keysBelow(path) { let count = 0; for (const child of children(path)) count += nodes.get(child).dir ? keysBelow(child) : 1; return count; }

function render() {
  const text = filter.value.trim();
  rows.textContent = "";
  let shown = 0;
  const visit = (path, depth) => {
    for (const child of children(path)) {
      const node = nodes.get(child);
      if (text === "" || child.includes(text) || node.dir) {
        if (!node.dir && text !== "" && !child.includes(text)) continue;
        const tr = rows.insertRow();
        tr.dataset.path = child;
        tr.tabIndex = 0;
        if (changed.has(child)) tr.className = "changed";
        if (fading.has(child)) tr.className = "gone";
        const td = cell(tr, "", "name");
        td.style.paddingLeft = (depth * 1.2 + .6) + "em";
        if (node.dir) {
          const t = document.createElement("span");
          t.className = "toggle";
          t.textContent = open.has(child) ? "▾" : "▸";
          td.append(t);
          // The whole row opens and closes a directory, but not its buttons.
          tr.classList.add("dir");
          tr.setAttribute("aria-expanded", String(open.has(child)));
          tr.onclick = (event) => { if (!(event.target instanceof HTMLButtonElement)) toggle(child); };
        } else td.append(Object.assign(document.createElement("span"), { className: "toggle" }));
        td.append(safeText(name(child)) + (node.dir ? "/" : ""));
        const value = cell(tr, node.dir ? "" : shownValue(node), "value");
        if (!node.dir && node.binary) value.classList.add("bytes");
        if (!node.dir && !node.binary) {
          value.title = safeText(node.raw);
          if (node.raw.length > 80 || node.raw.includes("\\n")) {
            value.classList.add("long");
            value.onclick = () => value.classList.toggle("open");
          }
          const date = asDate(node.raw);
          if (date) value.append(Object.assign(document.createElement("span"), { className: "date", textContent: date.toLocaleString() }));
        }
        cell(tr, node.dir ? "" : node.modifiedIndex, "num");
        cell(tr, node.dir ? "" : node.createdIndex, "num");
        cell(tr, node.version ?? "", "num v3");
        cell(tr, node.lease ?? "", "num v3");
        cell(tr, ttl(node), "num");
        const actions = tr.insertCell();
        if (V3 && !node.dir && past === null) actions.append(button("history", () => history(child)));
        if (WRITABLE && past === null) {
          if (!node.dir && !node.binary) actions.append(button("edit", () => edit(child, node)));
          else if (node.dir) actions.append(button("add", () => add(child)));
          actions.append(button("delete", () => removeKey(child, node)));
        }
        shown++;
        if (node.dir && (open.has(child) || text !== "")) visit(child, depth + 1);
      }
    }
  };
  visit("", 0);
  let keys = 0;
  for (const node of nodes.values()) if (!node.dir) keys++;
  document.getElementById("count").textContent = keys + " keys";
  changed = new Set();
}
// Bytes that are not text: their size and the first of them in hex.
function shownValue(node) {
  if (!node.binary) return node.raw;
  const bytes = Uint8Array.from(atob(node.raw), (c) => c.charCodeAt(0));
  const hex = [...bytes.subarray(0, 24)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  return bytes.length + " bytes: " + hex + (bytes.length > 24 ? " …" : "");
}
async function history(path) {
  const answer = await (await fetch(api("/history?path=" + encodeURIComponent(path)))).json();
  const box = document.getElementById("history");
  document.getElementById("history-title").textContent = "History of " + safeText(path) + " ";
  const body = document.getElementById("history-body");
  body.textContent = "";
  if (answer.error) { body.textContent = safeText(answer.error); box.className = "open"; return; }
  const table = document.createElement("table");
  const head = table.insertRow();
  for (const title of ["revision", "version", "value"]) { const th = document.createElement("th"); th.textContent = title; head.append(th); }
  for (const version of answer.versions) {
    const tr = table.insertRow();
    cell(tr, version.modifiedIndex, "num");
    cell(tr, version.version, "num");
    cell(tr, shownValue(version), version.binary ? "bytes" : "");
  }
  body.append(table);
  const end = document.createElement("p");
  end.textContent = answer.end === "created" ? "created at revision " + (answer.versions.at(-1)?.createdIndex ?? "?")
    : answer.end === "compacted" ? "older versions are compacted" + (answer.compactRevision ? " (before revision " + answer.compactRevision + ")" : "")
    : "older versions not shown";
  body.append(end);
  box.className = "open";
}
function button(label, onclick) { const b = document.createElement("button"); b.textContent = label; b.onclick = onclick; return b; }

async function write(body) {
  const response = await fetch(api("/write"), { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  const answer = await response.json();
  if (response.status === 409) {
    const remote = answer.current === null ? "(deleted)" : safeText(JSON.stringify(answer.current));
    if (body.op === "create" || body.op === "mkdir" || body.op === "delete") {
      alert(safeText(answer.error) + (answer.current === null ? "" : " (it is now " + remote + ")"));
    } else if (confirm("Changed elsewhere: it is now " + remote + ". Overwrite it with yours?")) {
      return write({ ...body, force: true });
    }
  } else if (!response.ok) alert(safeText(answer.error));
}
function removeKey(path, node) {
  if (node.dir) {
    const count = keysBelow(path);
    if (!confirm("Delete " + safeText(path) + "/ and the " + count + " key" + (count === 1 ? "" : "s") + " in it? Each is deleted only if unchanged.")) return;
  }
  write({ op: "delete", path, recursive: node.dir, modifiedIndex: node.modifiedIndex });
}
function edit(path, node) {
  const value = prompt("New value of " + path, node.raw);
  if (value !== null) write({ op: "set", path, value, modifiedIndex: node.modifiedIndex });
}
function add(dir) {
  const key = prompt("Name of the new key under " + (dir || "the root") + " (end it with / for a directory)");
  if (!key) return;
  const path = dir ? dir + "/" + key.replace(/\\/$/, "") : key.replace(/\\/$/, "");
  if (key.endsWith("/")) write({ op: "mkdir", path });
  else { const value = prompt("Value of " + path, ""); if (value !== null) write({ op: "create", path, value }); }
}

function apply(change) {
  if (change.kind === "deleted") {
    // Fade out, then go (unless it came back meanwhile).
    const node = nodes.get(change.path);
    if (node === undefined) return;
    fading.add(change.path);
    setTimeout(() => {
      fading.delete(change.path);
      if (nodes.get(change.path) !== node) return;
      const drop = (path) => { for (const child of children(path)) drop(child); remove(path); };
      drop(change.path);
      schedule();
    }, 500);
  } else {
    fading.delete(change.path);
    put(change.path, change.node);
    changed.add(change.path);
  }
}
let pending = false;
function schedule() { if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; render(); }); } }
function setState(state) { const el = document.getElementById("state"); el.textContent = state; el.className = state.replace(/ .*/, ""); }

// Live, or a read-only view as of a revision (v3).
let past = null;
let live = null;
function load(snapshot) {
  document.getElementById("prefix").textContent = safeText(snapshot.prefix);
  V3 = snapshot.protocol !== "v2";
  document.body.classList.toggle("api-v3", V3);
  document.getElementById("mod-head").textContent = V3 ? "modRevision" : "modifiedIndex";
  document.getElementById("created-head").textContent = V3 ? "createRevision" : "createdIndex";
  nodes.clear();
  kids.clear();
  for (const [path, node] of snapshot.nodes) put(path, node);
  showRevision(snapshot.index);
  render();
}
function showRevision(index) { document.getElementById("revision").textContent = (V3 ? "revision " : "index ") + index; }
async function start() {
  const snapshot = await (await fetch(api("/tree"))).json();
  load(snapshot);
  setState(snapshot.state);
  live = new EventSource(api("/events"));
  live.addEventListener("changes", (event) => {
    if (past !== null) return;
    const changes = JSON.parse(event.data);
    for (const change of changes) apply(change);
    if (changes.length) showRevision(changes.at(-1).index);
    schedule();
  });
  live.addEventListener("state", (event) => setState(JSON.parse(event.data)));
  live.onerror = () => setState("reconnecting");
}
document.getElementById("show-past").onclick = async () => {
  const revision = document.getElementById("asof").value.trim();
  if (!/^\\d+$/.test(revision)) { alert("Give a revision: a whole number"); return; }
  const response = await fetch(api("/tree?revision=" + revision));
  const answer = await response.json();
  if (!response.ok) { alert(safeText(answer.error)); return; }
  past = Number(revision);
  document.body.classList.add("past");
  document.getElementById("past-revision").textContent = revision;
  load(answer);
};
document.getElementById("back").onclick = async () => {
  past = null;
  document.body.classList.remove("past");
  load(await (await fetch(api("/tree"))).json());
};
document.getElementById("history-close").onclick = () => { document.getElementById("history").className = ""; };
filter.oninput = () => render();
// Keyboard: up and down move between rows, right opens a directory, left
// closes it (or goes to its parent), Enter and Space toggle.
rows.addEventListener("keydown", (event) => {
  const tr = event.target.closest("tr");
  if (!tr) return;
  const path = tr.dataset.path;
  const node = nodes.get(path);
  if (event.key === "ArrowDown" && tr.nextElementSibling) tr.nextElementSibling.focus();
  else if (event.key === "ArrowUp" && tr.previousElementSibling) tr.previousElementSibling.focus();
  else if (event.key === "ArrowRight" && node?.dir && !open.has(path)) toggle(path);
  else if (event.key === "ArrowLeft" && node?.dir && open.has(path)) toggle(path);
  else if (event.key === "ArrowLeft" && parent(path) !== "") focusRow(parent(path));
  else if ((event.key === "Enter" || event.key === " ") && node?.dir) toggle(path);
  else return;
  event.preventDefault();
});
setInterval(() => { for (const node of nodes.values()) if (node.expiration) { schedule(); break; } }, 1000);
start();
</script>
</body>
</html>
`;
}
