// The live tree viewer's page: plain HTML, CSS and JS, no framework, no CDN;
// the editor (CodeMirror, cli/_editor.ts) comes from the viewer itself.
// Internal; served by cli/view.ts.

const STYLE = String.raw`
  * { box-sizing: border-box; }
  html, body { height: 100%; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222;
    display: flex; flex-direction: column; }
  header { display: flex; flex-wrap: wrap; gap: .6em; align-items: center; padding: .4em 1em;
    background: #f4f4f4; border-bottom: 1px solid #ddd; }
  header h1 { font-size: 1em; margin: 0; }
  #state { padding: .1em .6em; border-radius: 1em; background: #ccc; white-space: nowrap; }
  #state.live { background: #bfe5bf; }
  #state.reconnecting, #state.resyncing { background: #ffe09a; }
  #state.failed { background: #f5b5b5; }
  #state.past { background: #cfdcff; }
  #notice { display: none; padding: .3em 1em; background: #fff0c0; border-bottom: 1px solid #e5d28a; }
  #notice.error { background: #fbd5d5; border-color: #e5a0a0; }
  #notice.shown { display: flex; gap: 1em; align-items: center; }
  main { flex: 1; display: grid; grid-template-columns: minmax(18em, 38%) 1fr; min-height: 0; }
  #tree { overflow: auto; border-right: 1px solid #ddd; position: relative; outline: none; }
  #rows { position: relative; }
  .row { position: absolute; left: 0; right: 0; height: 24px; line-height: 24px; white-space: nowrap;
    overflow: hidden; text-overflow: ellipsis; cursor: pointer; padding-right: .5em; }
  .row:hover { background: #f3f6fb; }
  .row.selected { background: #dce8ff; }
  .row:focus { outline: 2px solid #6aa0ff; outline-offset: -2px; }
  .row.changed { animation: flash 1.5s ease-out; }
  .row.gone { opacity: .3; }
  @keyframes flash { from { background: #fff3a0; } to { background: transparent; } }
  .toggle { display: inline-block; width: 1em; user-select: none; }
  .row .value { font-family: ui-monospace, monospace; color: #555; margin-left: .8em; }
  .row .ttl { color: #a05a00; margin-left: .6em; font-size: .9em; }
  .date { color: #777; margin-left: .5em; }
  .bytes { color: #7a4b00; }
  mark { background: #ffe066; color: inherit; }
  #detail { overflow: auto; padding: .6em 1em; min-width: 0; }
  #detail h2 { font-size: 1.05em; margin: 0 0 .4em; word-break: break-all; font-family: ui-monospace, monospace; }
  #meta { display: grid; grid-template-columns: max-content 1fr; gap: .1em 1em; margin: 0 0 .6em; }
  #meta dt { color: #666; } #meta dd { margin: 0; font-variant-numeric: tabular-nums; }
  .tools { display: flex; flex-wrap: wrap; gap: .5em; align-items: center; margin: .4em 0; }
  #check { font-size: .9em; }
  #check.bad { color: #b00020; } #check.good { color: #2a7a2a; }
  .cm-editor { border: 1px solid #ccc; max-height: 60vh; }
  .cm-editor .cm-scroller { font-family: ui-monospace, monospace; }
  #conflict { display: none; border: 2px solid #e0a000; padding: .5em; margin: .6em 0; background: #fffaf0; }
  #conflict.open { display: block; }
  #conflict .cm-mergeView { max-height: 50vh; overflow: auto; background: #fff; }
  .sides { display: grid; grid-template-columns: 1fr 1fr; font-weight: 600; }
  .empty { color: #777; }
  #history { margin-top: 1em; }
  #history h3 { font-size: 1em; margin: .4em 0; }
  pre.diff, pre.full { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-all;
    background: #fafafa; border: 1px solid #eee; padding: .3em; margin: .3em 0; max-height: 40vh; overflow: auto; }
  pre.diff .added { background: #e6ffed; } pre.diff .removed { background: #ffeef0; }
  details.version summary { cursor: pointer; font-variant-numeric: tabular-nums; }
  dialog { border: 1px solid #999; border-radius: .4em; box-shadow: 0 4px 16px #0004; min-width: 24em; }
  dialog label { display: block; margin: .4em 0; }
  dialog input[type=text] { width: 100%; }
  dialog .tools { justify-content: flex-end; }
  button { font-size: .85em; }
  #k8s { display: none; border: 1px solid #cfdcff; background: #f7f9ff; padding: .3em .6em; margin: .4em 0; }
  #k8s.shown { display: block; }
  #k8s h3 { font-size: 1em; margin: .2em 0 .4em; }
  #k8s-meta { display: grid; grid-template-columns: max-content 1fr; gap: .1em 1em; margin: 0 0 .4em; }
  #k8s-meta dt { color: #666; } #k8s-meta dd { margin: 0; word-break: break-all; }
  #k8s .cm-editor { max-height: 50vh; }
  #detail.secret #editor { display: none; }
  #panel { display: none; flex: 1; overflow: auto; padding: .6em 1em; }
  body.paneled main { display: none; }
  body.paneled #panel { display: block; }
  #panel h2 { font-size: 1.05em; margin: 0; }
  #panel table { border-collapse: collapse; margin-top: .6em; font-variant-numeric: tabular-nums; }
  #panel th, #panel td { text-align: left; vertical-align: top; padding: .2em .8em .2em 0; border-bottom: 1px solid #eee; }
  #panel td.id { font-family: ui-monospace, monospace; }
  #panel ul { margin: 0; padding-left: 1em; }
  #sdiff ul { list-style: none; padding: 0; }
  #sdiff li { margin: .15em 0; font-family: ui-monospace, monospace; }
  #sdiff .added-key { color: #1a7f37; } #sdiff .removed-key { color: #b00020; }
  .badge { background: #bfe5bf; border-radius: 1em; padding: 0 .5em; }
  .badge.alarm { background: #f5b5b5; }
  button.link { border: none; background: none; color: #1a56c4; cursor: pointer; padding: 0; font: inherit; text-align: left; }
  body:not(.past) #back { display: none; }
  .v3 { display: none !important; }
  body.api-v3 .v3 { display: revert !important; }
`;

const SCRIPT = String.raw`
let V3 = false;
const token = new URLSearchParams(location.search).get("token") ?? "";
const api = (path) => path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
const $ = (id) => document.getElementById(id);
const ROW = 24;

// The mirror: path -> node {dir, raw, binary, modifiedIndex, createdIndex,
// expiration, version, lease}; children by directory, sorted when asked.
const nodes = new Map();
const kids = new Map();
const sorted = new Map();
const open = new Set([""]);
let changed = new Set();
const fading = new Set();
function parent(path) { const i = path.lastIndexOf("/"); return i < 0 ? "" : path.slice(0, i); }
function name(path) { return path.slice(path.lastIndexOf("/") + 1); }
function put(path, node) {
  if (!nodes.has(path)) {
    const dir = parent(path);
    if (!kids.has(dir)) kids.set(dir, new Set());
    kids.get(dir).add(path);
    sorted.delete(dir);
  }
  nodes.set(path, node);
}
function remove(path) {
  nodes.delete(path);
  kids.get(parent(path))?.delete(path);
  sorted.delete(parent(path));
  kids.delete(path);
  sorted.delete(path);
}
function children(path) {
  let list = sorted.get(path);
  if (list === undefined) { list = [...(kids.get(path) ?? [])].sort(); sorted.set(path, list); }
  return list;
}
function keysBelow(path) { let count = 0; for (const child of children(path)) count += nodes.get(child).dir ? keysBelow(child) : 1; return count; }
function asDate(raw) {
  if (/^\d{9,10}(\.\d+)?$/.test(raw)) return new Date(Number(raw) * 1000);
  if (/^\d{12,13}$/.test(raw)) return new Date(Number(raw));
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(raw)) { const d = new Date(raw); return isNaN(d) ? null : d; }
  return null;
}
function ttl(node) {
  if (!node.expiration) return "";
  return Math.max(0, Math.ceil((node.expiration - Date.now()) / 1000)) + " s";
}
// Controls and bidirectional overrides are shown as escapes, never obeyed.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
function safeText(text) { return String(text).replace(UNSAFE, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0")); }
function el(tag, props, ...content) {
  const node = Object.assign(document.createElement(tag), props ?? {});
  for (const part of content) node.append(part);
  return node;
}
function button(label, onclick, props) { return el("button", { type: "button", textContent: label, onclick, ...(props ?? {}) }); }
function bytesOf(node) { return Uint8Array.from(atob(node.raw), (c) => c.charCodeAt(0)); }
function sizeOf(node) { return node.binary ? bytesOf(node).length : new TextEncoder().encode(node.raw).length; }
// Bytes that are not text: their size and the first of them in hex.
function shownValue(node) {
  if (!node.binary) return node.raw;
  const bytes = bytesOf(node);
  const hex = [...bytes.subarray(0, 24)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  return bytes.length + " bytes: " + hex + (bytes.length > 24 ? " …" : "");
}
// A Kubernetes Secret (protobuf envelope or JSON): its data stays hidden in
// the tree too, as in the detail pane, until asked for there.
function isSecret(node) {
  const head = node.binary
    ? String.fromCharCode(...bytesOf(node).subarray(0, 64))
    : node.raw.slice(0, 64);
  if (/^k8s\u0000[\s\S]{0,40}\u0012\u0006Secret/.test(head)) return true;
  return !node.binary && /^\s*\{/.test(head) && /"kind"\s*:\s*"Secret"/.test(node.raw);
}
// One line of a value for the tree: long values never stretch a row.
function preview(node) {
  if (isSecret(node)) return "Secret: " + sizeOf(node) + " bytes, hidden (select it to ask)";
  const text = shownValue(node);
  const line = text.split("\n", 1)[0];
  return line.length > 160 ? line.slice(0, 160) + " …" : line + (line.length < text.length ? " …" : "");
}

// --- Search: key substring, key pattern (a regular expression), value substring.
const search = $("search");
const searchIn = $("search-in");
function matcher() {
  const text = search.value;
  if (text === "") return null;
  const mode = searchIn.value;
  if (mode === "regex") {
    let re;
    try { re = new RegExp(text); } catch (error) { return { bad: String(error.message) }; }
    return { mode, test: (path) => re.exec(path) };
  }
  if (mode === "value") return { mode, test: (path, node) => {
    if (node.dir || node.binary) return null;
    const at = node.raw.indexOf(text);
    return at < 0 ? null : { index: at, 0: text };
  } };
  return { mode, test: (path) => { const at = path.indexOf(text); return at < 0 ? null : { index: at, 0: text }; } };
}
// Appends text with the matched part marked.
function appendMarked(target, text, found) {
  if (!found || found[0] === "") { target.append(safeText(text)); return; }
  target.append(safeText(text.slice(0, found.index)), el("mark", { textContent: safeText(found[0]) }),
    safeText(text.slice(found.index + found[0].length)));
}

// --- The tree: a flat list of the rows in view, of which only those on
// screen are in the page.
let flat = [];
let hits = null;
let cursor = -1;
let selected = null;
const tree = $("tree");
const rowsBox = $("rows");
function flatten() {
  const match = matcher();
  $("search").classList.toggle("bad", match?.bad !== undefined);
  hits = null;
  if (match && !match.bad) {
    // Keys that match, and the directories on their way; nothing else.
    hits = new Map();
    const shown = new Set();
    for (const [path, node] of nodes) {
      if (node.dir) continue;
      const found = match.test(path, node);
      if (!found) continue;
      hits.set(path, found);
      for (let dir = parent(path); dir !== "" && !shown.has(dir); dir = parent(dir)) shown.add(dir);
    }
    flat = [];
    const visit = (path, depth) => {
      for (const child of children(path)) {
        if (hits.has(child) || shown.has(child)) {
          flat.push([child, depth]);
          if (nodes.get(child).dir) visit(child, depth + 1);
        }
      }
    };
    visit("", 0);
    $("count").textContent = hits.size + " of " + keyCount() + " keys match";
    return;
  }
  flat = [];
  const visit = (path, depth) => {
    for (const child of children(path)) {
      flat.push([child, depth]);
      if (open.has(child) && nodes.get(child)?.dir) visit(child, depth + 1);
    }
  };
  visit("", 0);
  $("count").textContent = keyCount() + " keys";
}
function keyCount() { let keys = 0; for (const node of nodes.values()) if (!node.dir) keys++; return keys; }
function drawRows() {
  rowsBox.style.height = flat.length * ROW + "px";
  const first = Math.max(0, Math.floor(tree.scrollTop / ROW) - 10);
  const last = Math.min(flat.length, Math.ceil((tree.scrollTop + tree.clientHeight) / ROW) + 10);
  const focused = document.activeElement?.classList?.contains("row") ? document.activeElement.dataset.path : null;
  const fragment = document.createDocumentFragment();
  for (let i = first; i < last; i++) {
    const [path, depth] = flat[i];
    const node = nodes.get(path);
    if (!node) continue;
    const row = el("div", { className: "row", tabIndex: -1 });
    row.dataset.path = path;
    row.dataset.index = i;
    row.setAttribute("role", "treeitem");
    row.style.top = i * ROW + "px";
    row.style.paddingLeft = (depth * 1.2 + .5) + "em";
    if (changed.has(path)) row.classList.add("changed");
    if (fading.has(path)) row.classList.add("gone");
    if (path === selected) { row.classList.add("selected"); row.setAttribute("aria-selected", "true"); }
    if (i === cursor) row.tabIndex = 0;
    const toggle = el("span", { className: "toggle" });
    row.append(toggle);
    const label = el("span", { className: "name" });
    const found = hits?.get(path);
    if (node.dir) {
      const isOpen = hits !== null || open.has(path);
      toggle.textContent = isOpen ? "▾" : "▸";
      row.classList.add("dir");
      row.setAttribute("aria-expanded", String(isOpen));
      label.append(safeText(name(path)) + "/");
    } else if (found && searchIn.value !== "value") {
      const offset = path.length - name(path).length;
      if (found.index >= offset) appendMarked(label, name(path), { index: found.index - offset, 0: found[0] });
      else label.append(el("mark", { textContent: safeText(name(path)) }));
    } else label.append(safeText(name(path)));
    row.append(label);
    if (!node.dir) {
      const value = el("span", { className: "value" + (node.binary ? " bytes" : "") });
      if (found && searchIn.value === "value") {
        // A window of the value around the match.
        const from = Math.max(0, found.index - 30);
        const part = node.raw.slice(from, found.index + found[0].length + 60).replaceAll("\n", " ");
        appendMarked(value, (from > 0 ? "…" : "") + part, { index: found.index - from + (from > 0 ? 1 : 0), 0: found[0] });
      } else value.textContent = safeText(preview(node));
      row.append(value);
      const date = node.binary ? null : asDate(node.raw);
      if (date) row.append(el("span", { className: "date", textContent: date.toLocaleString() }));
      const left = ttl(node);
      if (left) row.append(el("span", { className: "ttl", textContent: left }));
    }
    fragment.append(row);
  }
  rowsBox.replaceChildren(fragment);
  if (focused !== null) rowsBox.querySelector('[data-path="' + CSS.escape(focused) + '"]')?.focus({ preventScroll: true });
}
function render() {
  flatten();
  if (selected !== null) cursor = flat.findIndex(([path]) => path === selected);
  drawRows();
  changed = new Set();
  showDetail();
}
let pending = false;
function schedule() { if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; render(); }); } }
let scrolling = false;
tree.addEventListener("scroll", () => { if (!scrolling) { scrolling = true; requestAnimationFrame(() => { scrolling = false; drawRows(); }); } });
addEventListener("resize", () => drawRows());
function toggleDir(path) { open.has(path) ? open.delete(path) : open.add(path); render(); focusCursor(); }
function focusCursor() {
  if (cursor < 0) return;
  const top = cursor * ROW;
  if (top < tree.scrollTop) tree.scrollTop = top;
  else if (top + ROW > tree.scrollTop + tree.clientHeight) tree.scrollTop = top + ROW - tree.clientHeight;
  drawRows();
  rowsBox.querySelector('[data-index="' + cursor + '"]')?.focus({ preventScroll: true });
}
function select(path) {
  if (path !== selected) { selected = path; opened = null; }
  cursor = flat.findIndex(([p]) => p === path);
  drawRows();
  showDetail();
}
rowsBox.addEventListener("click", (event) => {
  const row = event.target.closest(".row");
  if (!row) return;
  const path = row.dataset.path;
  if (nodes.get(path)?.dir && hits === null) { selected = path; opened = null; toggleDir(path); }
  else select(path);
  focusCursor();
});
// Keyboard: up and down move, right opens a directory, left closes it (or
// goes to its parent), Enter and Space toggle a directory.
tree.addEventListener("keydown", (event) => {
  if (flat.length === 0) return;
  const path = flat[cursor]?.[0];
  const node = path === undefined ? undefined : nodes.get(path);
  const go = (index) => { cursor = Math.max(0, Math.min(flat.length - 1, index)); select(flat[cursor][0]); focusCursor(); };
  if (event.key === "ArrowDown") go(cursor + 1);
  else if (event.key === "ArrowUp") go(cursor - 1);
  else if (event.key === "Home") go(0);
  else if (event.key === "End") go(flat.length - 1);
  else if (event.key === "PageDown") go(cursor + Math.floor(tree.clientHeight / ROW));
  else if (event.key === "PageUp") go(cursor - Math.floor(tree.clientHeight / ROW));
  else if (event.key === "ArrowRight" && node?.dir && !open.has(path)) toggleDir(path);
  else if (event.key === "ArrowLeft" && node?.dir && open.has(path)) toggleDir(path);
  else if (event.key === "ArrowLeft" && path !== undefined && parent(path) !== "") { selected = parent(path); render(); focusCursor(); }
  else if ((event.key === "Enter" || event.key === " ") && node?.dir) toggleDir(path);
  else return;
  event.preventDefault();
});

// --- In-page dialogs and notices (no alert, confirm or prompt).
function ask(title, message, buttons, fields) {
  return new Promise((resolve) => {
    const dialog = $("ask");
    const form = el("form", { method: "dialog" });
    form.append(el("h3", { textContent: safeText(title) }));
    if (message) form.append(el("p", { textContent: safeText(message) }));
    const inputs = {};
    for (const field of fields ?? []) {
      const input = el("input", { type: field.type ?? "text", name: field.name });
      if (field.type === "checkbox") input.checked = field.value === true;
      else input.value = field.value ?? "";
      inputs[field.name] = input;
      form.append(field.type === "checkbox" ? el("label", {}, input, " " + field.label) : el("label", {}, field.label, input));
    }
    const row = el("div", { className: "tools" });
    for (const [label, value] of buttons) row.append(el("button", { value, textContent: label }));
    form.append(row);
    dialog.replaceChildren(form);
    dialog.onclose = () => {
      const values = {};
      for (const [key, input] of Object.entries(inputs)) values[key] = input.type === "checkbox" ? input.checked : input.value;
      resolve({ answer: dialog.returnValue || "cancel", values });
    };
    dialog.returnValue = "";
    dialog.showModal();
    (Object.values(inputs)[0] ?? row.querySelector("button"))?.focus();
  });
}
function notify(text, error) {
  const box = $("notice");
  box.className = "shown" + (error ? " error" : "");
  box.setAttribute("role", error ? "alert" : "status");
  $("notice-text").textContent = safeText(text);
}
$("notice-close").onclick = () => { $("notice").className = ""; };

async function write(body) {
  const response = await fetch(api("/write"), { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  const answer = await response.json().catch(() => ({ error: "HTTP " + response.status }));
  return { status: response.status, ...answer };
}

// --- The detail pane: the selected key, its value in the editor, its history.
const Editor = () => globalThis.EtcdEditor;
let opened = null;  // { path, node, base, text, language, editor, creating }
function showDetail() {
  const detail = $("detail");
  if (selected === null) { detail.dataset.path = ""; return; }
  const node = nodes.get(selected);
  if (opened?.creating) return;
  if (node === undefined) {
    if (opened) { $("detail-note").textContent = "Deleted elsewhere; saving creates it again."; opened.gone = true; }
    return;
  }
  if (opened === null || opened.path !== selected) openDetail(selected, node);
  else updateDetail(node);
}
function meta(node) {
  const rows = [];
  if (!node.dir) {
    rows.push([V3 ? "modRevision" : "modifiedIndex", node.modifiedIndex], [V3 ? "createRevision" : "createdIndex", node.createdIndex]);
    if (V3) rows.push(["version", node.version ?? ""], ["lease", node.lease ?? "none"]);
    rows.push(["TTL", ttl(node) || "none"], ["size", sizeOf(node) + " bytes"]);
    const date = node.binary ? null : asDate(node.raw);
    if (date) rows.push(["as a date", date.toLocaleString()]);
  } else rows.push(["keys", keysBelow(opened?.path ?? "")]);
  const dl = $("meta");
  dl.replaceChildren();
  for (const [term, value] of rows) dl.append(el("dt", { textContent: term }), el("dd", { textContent: safeText(value), id: "meta-" + term.replaceAll(" ", "-") }));
}
function closeEditor() {
  opened?.editor?.destroy();
  opened?.merge?.destroy();
  closeK8s();
  $("conflict").className = "";
  $("history").replaceChildren();
}
function openDetail(path, node, creating) {
  closeEditor();
  const readOnly = !WRITABLE || past !== null;
  opened = { path, node, base: node?.modifiedIndex ?? null, text: node?.raw ?? "", creating: creating === true };
  $("detail").dataset.path = path;
  $("detail-title").textContent = safeText(path) + (node?.dir ? "/" : "");
  $("detail-note").textContent = "";
  $("check").textContent = "";
  $("check").className = "";
  const tools = $("detail-tools");
  tools.replaceChildren();
  const host = $("editor");
  host.replaceChildren();
  if (node?.dir) {
    meta(node);
    if (!readOnly) {
      tools.append(button("add key", () => add(path)));
      tools.append(button("delete", () => removeKey(path, node)));
    }
    return;
  }
  if (node) meta(node); else $("meta").replaceChildren();
  if (node) {
    // What may be a Secret stays hidden until the viewer says it is not.
    $("detail").classList.toggle("secret", maySecret(node));
    showK8s(path, node, false);
  }
  if (V3 && node && past === null) tools.append(button("history", () => showHistory(path)));
  if (V3 && node) tools.append(button("download", () => download(path, node), { id: "download" }));
  if (V3 && !readOnly && !creating) tools.append(uploader(path));
  if (node?.binary) {
    host.append(hexDump(bytesOf(node)));
    if (!readOnly) tools.append(button("delete", () => removeKey(path, node)));
    return;
  }
  const E = Editor();
  if (!E) { host.append(el("pre", { textContent: safeText(opened.text) })); return; }
  const language = E.guess(opened.text);
  const picker = el("select", { id: "lang", title: "read the value as" });
  for (const lang of ["json", "yaml", "pem", "text"]) picker.append(el("option", { value: lang, textContent: lang.toUpperCase() }));
  picker.value = language;
  opened.language = language;
  opened.editor = E.editor(host, opened.text, language, { readOnly, onChange: () => validate() });
  picker.onchange = () => { opened.language = picker.value; opened.editor.setLanguage(picker.value); validate(); };
  tools.append(picker, button("format", () => {
    const text = opened.editor.text();
    const formatted = E.pretty(text, opened.language);
    if (formatted !== text) opened.editor.setText(formatted);
  }, { id: "format", disabled: readOnly }));
  if (!readOnly) {
    tools.append(button(creating ? "create" : "save", () => save(), { id: "save" }));
    tools.append(button("revert", () => { opened.editor.setText(opened.text); }, { id: "revert" }));
    if (!creating) tools.append(button("delete", () => removeKey(path, opened.node)));
  }
  validate();
}
function updateDetail(node) {
  if (node.dir) { meta(node); return; }
  meta(node);
  if (node.modifiedIndex !== opened.k8sIndex) showK8s(opened.path, node, opened.secrets);
  if (node.modifiedIndex === opened.base || node.binary !== opened.node.binary) {
    if (node.binary !== opened.node.binary) openDetail(opened.path, node);
    return;
  }
  // Changed elsewhere: an untouched editor follows; edits are kept, and
  // saving them will ask.
  if (opened.editor && opened.editor.text() === opened.text) {
    opened.node = node;
    opened.base = node.modifiedIndex;
    opened.text = node.raw;
    opened.editor.setText(node.raw);
    $("detail-note").textContent = "";
  } else if (opened.editor) {
    $("detail-note").textContent = "Changed elsewhere (" + (V3 ? "revision " : "index ") + node.modifiedIndex + ") while you edit: saving will show both.";
  } else openDetail(opened.path, node);
}
function validate() {
  const E = Editor();
  if (!opened?.editor || !E) return null;
  const problem = E.check(opened.editor.text(), opened.language);
  const box = $("check");
  if (problem) {
    box.className = "bad";
    box.textContent = safeText("Invalid " + opened.language.toUpperCase() + " at line " + problem.line + ", column " + problem.column + ": " + problem.message);
  } else {
    box.className = opened.language === "text" ? "" : "good";
    box.textContent = opened.language === "text" ? "" : "Valid " + opened.language.toUpperCase();
  }
  return problem;
}
async function save() {
  const text = opened.editor.text();
  const problem = validate();
  if (problem) {
    const { answer } = await ask("Save a value that is not valid " + opened.language.toUpperCase() + "?",
      "Line " + problem.line + ", column " + problem.column + ": " + problem.message, [["Keep editing", "cancel"], ["Save anyway", "save"]]);
    if (answer !== "save") return;
  }
  await send(text, opened.base);
}
// Writes 'text' if the key is still at 'base' (null: still absent).
async function send(text, base) {
  const path = opened.path;
  const body = base === null ? { op: "create", path, value: text } : { op: "set", path, value: text, modifiedIndex: base };
  const answer = await write(body);
  if (answer.status === 409) { conflict(text, answer); return; }
  if (answer.error) { notify(answer.error, true); return; }
  opened.creating = false;
  opened.text = text;
  opened.base = answer.index;
  $("conflict").className = "";
  opened.merge?.destroy();
  opened.merge = undefined;
  $("detail-note").textContent = "Saved (" + (V3 ? "revision " : "index ") + answer.index + ").";
  if (opened.editor.text() !== text) opened.editor.setText(text);
}
// Theirs beside mine; the right side is editable, for a merge by hand.
function conflict(mine, answer) {
  const E = Editor();
  const box = $("conflict");
  opened.merge?.destroy();
  const theirs = answer.current;
  $("conflict-text").textContent = safeText(theirs === null
    ? "Deleted elsewhere since you opened it."
    : "Changed elsewhere since you opened it: now at " + (V3 ? "revision " : "index ") + answer.index + ". Theirs is on the left, yours on the right (edit it to merge).");
  const host = $("merge");
  host.replaceChildren();
  const base = theirs === null ? null : answer.index;
  opened.merge = E.merge(host, theirs ?? "", mine, opened.language);
  $("keep-mine").onclick = () => send(mine, base);
  $("save-merge").onclick = () => send(opened.merge.text(), base);
  $("take-theirs").onclick = () => {
    box.className = "";
    opened.merge.destroy();
    opened.merge = undefined;
    const node = nodes.get(opened.path);
    if (node) { opened.node = node; opened.base = node.modifiedIndex; opened.text = node.raw; opened.editor.setText(node.raw); }
    else if (theirs !== null) { opened.base = answer.index; opened.text = theirs; opened.editor.setText(theirs); }
    $("detail-note").textContent = "";
  };
  box.className = "open";
}
async function removeKey(path, node) {
  if (node.dir) {
    const count = keysBelow(path);
    const { answer } = await ask("Delete " + path + "/?", "Delete " + path + "/ and the " + count + " key" + (count === 1 ? "" : "s") + " in it? Each is deleted only if unchanged.", [["Cancel", "cancel"], ["Delete", "delete"]]);
    if (answer !== "delete") return;
  } else {
    const { answer } = await ask("Delete " + path + "?", "Delete " + path + " (only if unchanged since you saw it)?", [["Cancel", "cancel"], ["Delete", "delete"]]);
    if (answer !== "delete") return;
  }
  const answer = await write({ op: "delete", path, recursive: node.dir, modifiedIndex: node.modifiedIndex });
  if (answer.status === 409) notify(answer.error + (answer.current === null || answer.current === undefined ? "" : " (it is now " + JSON.stringify(answer.current) + ")"), true);
  else if (answer.error) notify(answer.error, true);
}
async function add(dir) {
  const fields = [{ name: "key", label: "Name of the new key under " + (dir === "" ? "the root" : dir + "/") }];
  if (!V3) fields.push({ name: "dir", label: "a directory", type: "checkbox" });
  const { answer, values } = await ask("Add", "", [["Cancel", "cancel"], ["Add", "add"]], fields);
  if (answer !== "add" || values.key === "") return;
  const path = (dir === "" ? "" : dir + "/") + values.key.replace(/\/$/, "");
  if (values.dir) {
    const done = await write({ op: "mkdir", path });
    if (done.error) notify(done.error, true);
    return;
  }
  if (nodes.has(path)) { notify(path + " exists already", true); return; }
  selected = path;
  openDetail(path, undefined, true);
  $("detail-title").textContent = safeText(path) + " (new)";
  opened.editor?.focus();
}

// --- Kubernetes objects, decoded by the viewer and shown read-only: the
// object's identity, then the whole object by field name. A Secret's data,
// and the stored value that holds it, stay hidden until the user asks.
let k8sAsked = 0;
function maySecret(node) { return (node.binary ? atob(node.raw) : node.raw).includes("Secret"); }
function closeK8s() {
  opened?.k8sEditor?.destroy();
  $("k8s").replaceChildren();
  $("k8s").className = "";
  $("detail").classList.remove("secret");
}
async function showK8s(path, node, secrets) {
  const asked = ++k8sAsked;
  opened.k8sIndex = node.modifiedIndex;
  const query = "/decoded?path=" + encodeURIComponent(path) + (past !== null ? "&revision=" + node.modifiedIndex : "") + (secrets ? "&secrets=1" : "");
  let answer;
  try { answer = await (await fetch(api(query))).json(); } catch (error) { answer = { error: String(error) }; }
  if (asked !== k8sAsked || opened?.path !== path) return;
  closeK8s();
  const k8s = answer.k8s;
  if (!k8s) return;
  opened.secrets = secrets;
  const box = $("k8s");
  box.className = "shown";
  box.append(el("h3", { textContent: "Kubernetes object (read-only)" }));
  const metadata = k8s.object?.metadata ?? {};
  const rows = [["apiVersion", k8s.apiVersion], ["kind", k8s.kind],
    ["stored as", k8s.encoding === "protobuf" ? "protobuf (k8s\\0)" : k8s.encoding === "json" ? "JSON" : "encrypted at rest (" + k8s.encryption + ")"]];
  for (const field of ["name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp"]) {
    if (metadata[field] !== undefined) rows.push([field, metadata[field]]);
  }
  const pairs = (map) => Object.entries(map ?? {}).map(([key, value]) => key + "=" + value).join(", ");
  if (metadata.labels) rows.push(["labels", pairs(metadata.labels)]);
  if (metadata.annotations) rows.push(["annotations", Object.keys(metadata.annotations).join(", ")]);
  if (metadata.ownerReferences) rows.push(["owners", metadata.ownerReferences.map((owner) => owner.kind + "/" + owner.name).join(", ")]);
  const dl = el("dl", { id: "k8s-meta" });
  for (const [term, value] of rows) dl.append(el("dt", { textContent: term }), el("dd", { id: "k8s-" + term.replaceAll(" ", "-"), textContent: safeText(value) }));
  box.append(dl);
  if (k8s.error) box.append(el("p", { id: "k8s-error", className: "bad", textContent: safeText("Decoding stopped: " + k8s.error + "; what came before is shown.") }));
  if (k8s.encoding === "encrypted") box.append(el("p", { id: "k8s-note", textContent: "Encrypted by the API server; the viewer cannot decode it." }));
  if (k8s.hidden) {
    $("detail").classList.add("secret");
    box.append(el("div", { className: "tools" }, el("span", { id: "k8s-note", textContent: k8s.hidden + " secret value" + (k8s.hidden === 1 ? " is" : "s are") + " hidden, and so is the stored value." }),
      button("show secret data", () => showK8s(path, node, true), { id: "show-secrets" })));
  }
  if (!k8s.object) return;
  // Escaped like every text from etcd; JSON keeps its meaning.
  const text = safeText(JSON.stringify(k8s.object, null, 2));
  const host = el("div", { id: "k8s-object" });
  box.append(host);
  const E = Editor();
  if (E) opened.k8sEditor = E.editor(host, text, "json", { readOnly: true });
  else host.append(el("pre", { className: "full", textContent: text }));
}

// --- Bytes: a hex dump with an ASCII column, download, and upload of a
// replacement file (a compare-and-swap write).
const DUMP_LIMIT = 64 * 1024;
function hexDump(bytes) {
  const lines = [];
  const shown = Math.min(bytes.length, DUMP_LIMIT);
  for (let at = 0; at < shown; at += 16) {
    const part = bytes.subarray(at, Math.min(at + 16, shown));
    const hex = [...part].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = [...part].map((b) => b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : ".").join("");
    lines.push(at.toString(16).padStart(8, "0") + "  " + hex.padEnd(47) + "  |" + ascii + "|");
  }
  if (bytes.length > shown) lines.push("… " + (bytes.length - shown) + " more bytes: download them all");
  return el("pre", { id: "hexdump", className: "full", textContent: lines.join("\n") });
}
function download(path, node) {
  const bytes = node.binary ? bytesOf(node) : new TextEncoder().encode(node.raw);
  const link = el("a", { href: URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" })), download: name(path) });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
function toBase64(bytes) {
  let text = "";
  for (let at = 0; at < bytes.length; at += 0x8000) text += String.fromCharCode(...bytes.subarray(at, at + 0x8000));
  return btoa(text);
}
function uploader(path) {
  const input = el("input", { type: "file", id: "upload", title: "replace the value with a file's bytes" });
  input.onchange = async () => {
    const file = input.files?.[0];
    input.value = "";
    if (!file) return;
    const node = nodes.get(path);
    const bytes = new Uint8Array(await file.arrayBuffer());
    const { answer } = await ask("Upload " + file.name + "?",
      "Replace the value of " + path + (node ? " (" + sizeOf(node) + " bytes, " + (V3 ? "revision " : "index ") + node.modifiedIndex + ")" : "") + " with the " + bytes.length + " bytes of " + file.name + ", only if unchanged since?",
      [["Cancel", "cancel"], ["Upload", "upload"]]);
    if (answer !== "upload") return;
    const done = await write({ op: "upload", path, base64: toBase64(bytes), modifiedIndex: node ? node.modifiedIndex : null });
    if (done.status === 409) notify("Not uploaded: " + path + " changed meanwhile (now at " + (V3 ? "revision " : "index ") + done.index + "); look again and retry", true);
    else if (done.error) notify(done.error, true);
    else notify("Uploaded " + file.name + " as revision " + done.index + ".");
  };
  return el("label", { className: "upload" }, "upload ", input);
}

// --- A key's history: every version in full, a diff between any two (or
// one and now), restore as a guarded write, and where the history starts.
function formatted(text, language) {
  const E = Editor();
  return E ? E.pretty(text, language ?? opened?.language ?? "text") : text;
}
function diffInto(target, before, after, language) {
  const E = Editor();
  target.replaceChildren();
  const parts = E.lineDiff(formatted(before, language), formatted(after, language));
  const pre = el("pre", { className: "diff" });
  let changes = 0;
  for (const part of parts) {
    for (const line of part.lines) {
      const sign = part.kind === "added" ? "+ " : part.kind === "removed" ? "- " : "  ";
      pre.append(el("div", { className: part.kind, textContent: sign + safeText(line) }));
    }
    if (part.kind !== "same") changes++;
  }
  target.append(changes === 0 ? el("p", { className: "empty", textContent: "No difference." }) : pre);
}
async function showHistory(path) {
  const box = $("history");
  box.replaceChildren(el("p", { textContent: "Reading the history…" }));
  const response = await fetch(api("/history?path=" + encodeURIComponent(path)));
  const answer = await response.json();
  if (opened?.path !== path) return;
  box.replaceChildren(el("h3", { textContent: "History" }));
  if (answer.error) { box.append(el("p", { className: "bad", textContent: safeText(answer.error) })); return; }
  const versions = answer.versions;
  const oldest = versions.at(-1);
  box.append(el("p", { id: "history-start", textContent:
    answer.end === "created" ? "Complete: created at revision " + (oldest?.createdIndex ?? "?") + "."
    : answer.end === "compacted" ? "Starts at revision " + (oldest?.modifiedIndex ?? "?") + " (version " + (oldest?.version ?? "?") + "): older versions were compacted" + (answer.compactRevision ? " (etcd keeps revisions from " + answer.compactRevision + ")" : "") + "."
    : "Showing the newest " + versions.length + " versions; older ones exist." }));
  // The diff: any two versions, or one and the value now.
  const from = el("select", { id: "diff-from", "aria-label": "diff from" });
  const to = el("select", { id: "diff-to", "aria-label": "diff to" });
  for (const version of versions) {
    const label = "revision " + version.modifiedIndex + " (v" + version.version + ")";
    from.append(el("option", { value: String(version.modifiedIndex), textContent: label }));
    to.append(el("option", { value: String(version.modifiedIndex), textContent: label }));
  }
  to.prepend(el("option", { value: "now", textContent: "now" }));
  to.value = "now";
  from.value = String(versions[0]?.modifiedIndex ?? "");
  const diffBox = el("div", { id: "diff" });
  const textOf = (value) => {
    if (value === "now") return nodes.get(path)?.raw ?? "";
    const version = versions.find((v) => String(v.modifiedIndex) === value);
    return version ? shownValue(version) : "";
  };
  const showDiff = () => diffInto(diffBox, textOf(from.value), textOf(to.value));
  from.onchange = showDiff;
  to.onchange = showDiff;
  box.append(el("div", { className: "tools" }, "diff ", from, " → ", to), diffBox);
  showDiff();
  const list = el("div", { id: "versions" });
  for (const version of versions) {
    const item = el("details", { className: "version" });
    item.dataset.revision = version.modifiedIndex;
    const summary = el("summary", { textContent: "revision " + version.modifiedIndex + ", version " + version.version + ", " + (version.binary ? bytesOf(version).length : new TextEncoder().encode(version.raw).length) + " bytes" });
    item.append(summary, el("pre", { className: "full" + (version.binary ? " bytes" : ""), textContent: safeText(shownValue(version)) }));
    const tools = el("div", { className: "tools" });
    tools.append(button("diff with now", () => { from.value = String(version.modifiedIndex); to.value = "now"; showDiff(); diffBox.scrollIntoView({ block: "nearest" }); }));
    if (WRITABLE && !version.binary) tools.append(button("restore this version", () => restore(path, version)));
    item.append(tools);
    list.append(item);
  }
  box.append(list);
}
async function restore(path, version) {
  const node = nodes.get(path);
  const { answer } = await ask("Restore revision " + version.modifiedIndex + "?",
    node ? "Write revision " + version.modifiedIndex + "'s value over the value of revision " + node.modifiedIndex + " (only if unchanged since)?" : "Create " + path + " again with revision " + version.modifiedIndex + "'s value?",
    [["Cancel", "cancel"], ["Restore", "restore"]]);
  if (answer !== "restore") return;
  const done = await write(node ? { op: "set", path, value: version.raw, modifiedIndex: node.modifiedIndex } : { op: "create", path, value: version.raw });
  if (done.status === 409) notify("Not restored: " + path + " changed meanwhile (now at " + (V3 ? "revision " : "index ") + done.index + "); look again and retry", true);
  else if (done.error) notify(done.error, true);
  else notify("Restored revision " + version.modifiedIndex + " as revision " + done.index + ".");
}

// --- The leases and members pages (v3): what etcd says, asked again every
// few seconds while shown; TTLs count down in between.
let panel = null;
let panelTimer = null;
function closePanel() { panel = null; clearTimeout(panelTimer); document.body.classList.remove("paneled"); }
async function showPanel(which) {
  panel = which;
  clearTimeout(panelTimer);
  document.body.classList.add("paneled");
  $("panel-title").textContent = which === "leases" ? "Leases" : "Members";
  const response = await fetch(api("/" + which)).catch((error) => ({ ok: false, json: async () => ({ error: String(error) }) }));
  const answer = await response.json().catch(() => ({ error: "HTTP " + response.status }));
  if (panel !== which) return;
  const body = $("panel-body");
  if (answer.error) {
    $("panel-note").textContent = "";
    body.replaceChildren(el("p", { id: "panel-error", className: "bad", textContent: safeText(answer.error) }));
    return;
  }
  $("panel-note").textContent = "as of " + new Date().toLocaleTimeString();
  body.replaceChildren(which === "leases" ? leasesTable(answer) : membersTable(answer.members));
  panelTimer = setTimeout(() => { if (panel === which) showPanel(which); }, 5000);
}
function table(id, heads, rows) {
  const head = el("tr", {}, ...heads.map((text) => el("th", { textContent: text })));
  return el("table", { id }, el("thead", {}, head), el("tbody", {}, ...rows));
}
function cell(content, props) { return el("td", props ?? {}, ...[content].flat()); }
// A key of the subtree is a link to it in the tree.
function keyLink(key) {
  const path = PREFIX === "" ? key : key.startsWith(PREFIX + "/") ? key.slice(PREFIX.length + 1) : null;
  if (path === null || !nodes.has(path)) return el("span", { textContent: safeText(key) });
  return button(safeText(key), () => reveal(path), { className: "link" });
}
function reveal(path) {
  closePanel();
  for (let dir = parent(path); dir !== ""; dir = parent(dir)) open.add(dir);
  if (search.value !== "") search.value = "";
  selected = path;
  opened = null;
  render();
  focusCursor();
}
function leasesTable({ leases, total }) {
  const rows = leases.map((lease) => {
    const expires = Date.now() + lease.ttl * 1000;
    const left = el("td", { className: "countdown" });
    left.dataset.expires = expires;
    const row = el("tr", {}, cell(lease.id, { className: "id" }), left, cell(lease.grantedTtl + " s"),
      cell(lease.keys.length === 0 ? el("span", { className: "empty", textContent: "none" }) : el("ul", {}, ...lease.keys.map((key) => el("li", {}, keyLink(key))))));
    row.dataset.lease = lease.id;
    return row;
  });
  const box = el("div", {}, el("p", { id: "lease-count", textContent: total + " lease" + (total === 1 ? "" : "s") + (total > leases.length ? ", the first " + leases.length + " shown" : "") }),
    table("leases", ["ID", "TTL", "granted TTL", "keys"], rows));
  countDown(box);
  return box;
}
function countDown(root) {
  for (const left of (root ?? document).querySelectorAll("td.countdown")) {
    const seconds = Math.ceil((Number(left.dataset.expires) - Date.now()) / 1000);
    left.textContent = seconds > 0 ? seconds + " s" : "expired";
  }
}
function megabytes(bytes) { return bytes < 1048576 ? (bytes / 1024).toFixed(1) + " KB" : (bytes / 1048576).toFixed(1) + " MB"; }
function membersTable(members) {
  const rows = members.map((member) => {
    const status = member.status;
    const role = [];
    if (member.leader) role.push(el("span", { className: "badge", textContent: "leader" }));
    if (member.isLearner) role.push("learner");
    if (!member.leader && !member.isLearner && status) role.push("follower");
    const alarms = member.alarms.map((alarm) => el("span", { className: "badge alarm", textContent: safeText(alarm) }));
    const problems = [...(status?.errors ?? []), ...(member.error ? [member.error] : [])].map((text) => el("div", { className: "bad", textContent: safeText(text) }));
    const row = el("tr", {}, cell(safeText(member.name || "(not started)")), cell(member.id, { className: "id" }), cell(role),
      cell(status ? safeText(status.version) : ""),
      cell(status ? megabytes(status.dbSize) + " (" + megabytes(status.dbSizeInUse) + " in use)" : "", { className: "db" }),
      cell(status ? String(status.raftIndex) : "", { className: "raft-index" }),
      cell(status ? String(status.raftTerm) : ""),
      cell(status ? String(status.raftAppliedIndex) : ""),
      cell(el("ul", {}, ...member.clientURLs.map((url) => el("li", { textContent: safeText(url) })))),
      cell(alarms.length ? alarms : "none", { className: "alarms" }),
      cell(problems));
    row.dataset.member = member.id;
    return row;
  });
  return table("members", ["name", "ID", "role", "version", "db size", "raft index", "raft term", "applied", "client URLs", "alarms", "errors"], rows);
}
// --- What changed in the subtree between two revisions (or one and now):
// keys added, removed and changed, a changed key's line diff on click.
async function showChanges() {
  const from = $("sdiff-from").value.trim() || (past === null ? "" : String(past));
  const to = $("sdiff-to").value.trim() || "now";
  if (!/^\d+$/.test(from) || !/^(\d+|now)$/.test(to)) { notify("Give the revisions to compare: whole numbers (to: empty for now)", true); return; }
  panel = "changes";
  clearTimeout(panelTimer);
  const answer = await (await fetch(api("/diff?from=" + from + "&to=" + to))).json().catch((error) => ({ error: String(error) }));
  if (panel !== "changes") return;
  document.body.classList.add("paneled");
  $("panel-note").textContent = "";
  const body = $("panel-body");
  if (answer.error) {
    $("panel-title").textContent = "Changes";
    body.replaceChildren(el("p", { id: "panel-error", className: "bad", textContent: safeText(answer.error) }));
    return;
  }
  $("panel-title").textContent = "Changes from revision " + answer.from + " to " + (to === "now" ? "now (revision " + answer.to + ")" : "revision " + answer.to);
  const count = (n, what) => n + " " + what;
  const box = el("div", { id: "sdiff" }, el("p", { id: "sdiff-count", textContent: count(answer.added.length, "added") + ", " + count(answer.removed.length, "removed") + ", " + count(answer.changed.length, "changed") }));
  const list = (id, paths, className, sign) => el("ul", { id }, ...paths.map((path) => el("li", { className, textContent: sign + " " + safeText(path) })));
  if (answer.added.length) box.append(el("h3", { textContent: "Added" }), list("sdiff-added", answer.added, "added-key", "+"));
  if (answer.removed.length) box.append(el("h3", { textContent: "Removed" }), list("sdiff-removed", answer.removed, "removed-key", "-"));
  if (answer.changed.length) {
    const changed = el("ul", { id: "sdiff-changed" });
    for (const { path, before, after } of answer.changed) {
      const target = el("div", { className: "sdiff-lines" });
      const item = el("li", {}, button("~ " + safeText(path), () => {
        if (target.childElementCount) { target.replaceChildren(); return; }
        const text = shownValue(after);
        diffInto(target, shownValue(before), text, Editor()?.guess(text) ?? "text");
      }, { className: "link" }), " revision " + before.modifiedIndex + " → " + after.modifiedIndex, target);
      item.dataset.path = path;
      changed.append(item);
    }
    box.append(el("h3", { textContent: "Changed" }), changed);
  }
  if (!answer.added.length && !answer.removed.length && !answer.changed.length) box.append(el("p", { className: "empty", textContent: "No key changed." }));
  body.replaceChildren(box);
}
$("show-diff").onclick = () => showChanges();
for (const id of ["sdiff-from", "sdiff-to"]) $(id).addEventListener("keydown", (event) => { if (event.key === "Enter") showChanges(); });
$("show-leases").onclick = () => showPanel("leases");
$("show-members").onclick = () => showPanel("members");
$("panel-refresh").onclick = () => { if (panel === "changes") showChanges(); else if (panel) showPanel(panel); };
$("panel-close").onclick = () => { closePanel(); focusCursor(); };
addEventListener("keydown", (event) => { if (event.key === "Escape" && panel && !$("ask").open) closePanel(); });

// --- Live, or a read-only view as of a revision (v3).
let past = null;
let live = null;
function setState(state) {
  const box = $("state");
  if (past !== null) { box.textContent = "as of revision " + past; box.className = "past"; return; }
  box.textContent = state;
  box.className = state.replace(/ .*/, "");
}
let liveState = "connecting";
let PREFIX = "";
function load(snapshot) {
  PREFIX = snapshot.prefix;
  $("prefix").textContent = safeText(snapshot.prefix);
  V3 = snapshot.protocol !== "v2";
  document.body.classList.toggle("api-v3", V3);
  nodes.clear();
  kids.clear();
  sorted.clear();
  for (const [path, node] of snapshot.nodes) put(path, node);
  showRevision(snapshot.index);
  closeEditor();
  opened = null;
  render();
}
function showRevision(index) { $("revision").textContent = (V3 ? "revision " : "index ") + index; }
function apply(change) {
  if (change.kind === "deleted") {
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
async function start() {
  const snapshot = await (await fetch(api("/tree"))).json();
  load(snapshot);
  liveState = snapshot.state;
  setState(liveState);
  live = new EventSource(api("/events"));
  live.addEventListener("changes", (event) => {
    if (past !== null) return;
    const changes = JSON.parse(event.data);
    for (const change of changes) apply(change);
    if (changes.length) showRevision(changes.at(-1).index);
    schedule();
  });
  live.addEventListener("state", (event) => { liveState = JSON.parse(event.data); setState(liveState); });
  live.onerror = () => { liveState = "reconnecting"; setState(liveState); };
}
$("show-past").onclick = async () => {
  const revision = $("asof").value.trim();
  if (!/^\d+$/.test(revision)) { notify("Give a revision: a whole number", true); return; }
  const response = await fetch(api("/tree?revision=" + revision));
  const answer = await response.json();
  if (!response.ok) { notify(answer.error, true); return; }
  past = Number(revision);
  document.body.classList.add("past");
  setState(liveState);
  load(answer);
};
$("back").onclick = async () => {
  past = null;
  document.body.classList.remove("past");
  setState(liveState);
  load(await (await fetch(api("/tree"))).json());
};
$("add-root").onclick = () => add("");
search.oninput = () => { tree.scrollTop = 0; render(); };
searchIn.onchange = () => render();
setInterval(() => {
  if (panel === "leases") countDown();
  let leased = false;
  for (const [path] of flat) if (nodes.get(path)?.expiration) { leased = true; break; }
  if (leased) drawRows();
  const node = selected === null ? undefined : nodes.get(selected);
  if (node?.expiration && $("meta-TTL")) $("meta-TTL").textContent = ttl(node);
}, 1000);
// The editor loads beside the tree, from this server.
const script = el("script", { src: api("/editor.js") });
script.onload = () => { if (selected !== null && opened && !opened.editor && !opened.node?.dir) openDetail(opened.path, opened.node, opened.creating); };
document.head.append(script);
start();
`;

/** The page, for a server that does (or does not) take writes. */
export function page(writable: boolean): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>etcd-tree</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>etcd-tree <span id="prefix"></span></h1>
  <input id="search" type="search" placeholder="search" autocomplete="off" aria-label="search">
  <select id="search-in" aria-label="search in">
    <option value="key">keys containing</option>
    <option value="regex">keys matching (regex)</option>
    <option value="value">values containing</option>
  </select>
  <span id="count"></span>
  <span id="revision"></span>
  <span class="v3"><input id="asof" size="9" placeholder="revision" inputmode="numeric" aria-label="revision">
  <button id="show-past" type="button">show as of</button>
  <button id="back" type="button">back to live</button>
  <input id="sdiff-from" size="9" placeholder="from" inputmode="numeric" aria-label="changes from revision">
  <input id="sdiff-to" size="9" placeholder="now" inputmode="numeric" aria-label="changes to revision">
  <button id="show-diff" type="button">changes</button></span>
  ${
    writable
      ? '<button id="add-root" type="button">add key</button>'
      : '<span id="add-root"></span>'
  }
  <button id="show-leases" type="button">leases</button>
  <button id="show-members" type="button">members</button>
  <span id="state">connecting</span>
</header>
<div id="notice"><span id="notice-text"></span><button id="notice-close" type="button">dismiss</button></div>
<main>
  <section id="tree" role="tree" aria-label="keys" tabindex="0"><div id="rows"></div></section>
  <section id="detail" aria-label="selected key">
    <h2 id="detail-title"><span class="empty">Select a key</span></h2>
    <dl id="meta"></dl>
    <div id="detail-tools" class="tools"></div>
    <div id="check" aria-live="polite"></div>
    <div id="detail-note" aria-live="polite"></div>
    <div id="conflict" role="region" aria-label="conflict">
      <p id="conflict-text"></p>
      <div class="sides"><span>theirs (in etcd now)</span><span>yours</span></div>
      <div id="merge"></div>
      <div class="tools">
        <button id="keep-mine" type="button">keep mine</button>
        <button id="take-theirs" type="button">take theirs</button>
        <button id="save-merge" type="button">save the merge</button>
      </div>
    </div>
    <section id="k8s" aria-label="Kubernetes object"></section>
    <div id="editor"></div>
    <div id="history"></div>
  </section>
</main>
<section id="panel" aria-live="polite">
  <div class="tools"><h2 id="panel-title"></h2><button id="panel-refresh" type="button">refresh</button><button id="panel-close" type="button">back to the keys</button><span id="panel-note"></span></div>
  <div id="panel-body"></div>
</section>
<dialog id="ask"></dialog>
<script>
"use strict";
const WRITABLE = ${writable};
${SCRIPT}
</script>
</body>
</html>
`;
}
