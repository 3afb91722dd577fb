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
  button { font-size: .85em; }
</style>
</head>
<body>
<header>
  <h1>etcd-tree <span id="prefix"></span></h1>
  <input id="filter" placeholder="filter keys" autocomplete="off">
  <span id="count"></span>
  <span id="state">connecting</span>
</header>
<table>
  <thead><tr><th>name</th><th>value</th><th>modifiedIndex</th>
  <th>createdIndex</th><th>TTL</th>${writable ? "<th></th>" : ""}</tr></thead>
  <tbody id="rows"></tbody>
</table>
<script>
"use strict";
const WRITABLE = ${writable};
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
        const value = cell(tr, node.dir ? "" : node.raw, "value");
        if (!node.dir) {
          value.title = safeText(node.raw);
          if (node.raw.length > 80 || node.raw.includes("\\n")) {
            value.classList.add("long");
            value.onclick = () => value.classList.toggle("open");
          }
          const date = asDate(node.raw);
          if (date) value.append(Object.assign(document.createElement("span"), { className: "date", textContent: date.toLocaleString() }));
        }
        cell(tr, node.modifiedIndex, "num");
        cell(tr, node.createdIndex, "num");
        cell(tr, ttl(node), "num");
        if (WRITABLE) {
          const actions = tr.insertCell();
          if (!node.dir) actions.append(button("edit", () => edit(child, node)));
          else actions.append(button("add", () => add(child)));
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

async function start() {
  const snapshot = await (await fetch(api("/tree"))).json();
  document.getElementById("prefix").textContent = safeText(snapshot.prefix);
  nodes.clear();
  kids.clear();
  for (const [path, node] of snapshot.nodes) put(path, node);
  setState(snapshot.state);
  render();
  const events = new EventSource(api("/events"));
  events.addEventListener("changes", (event) => { for (const change of JSON.parse(event.data)) apply(change); schedule(); });
  events.addEventListener("state", (event) => setState(JSON.parse(event.data)));
  events.onerror = () => setState("reconnecting");
}
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
