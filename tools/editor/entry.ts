/// <reference lib="dom" />
// The viewer's editor, bundled for the browser by tools/bundle_editor.ts into
// cli/_editor.ts: CodeMirror 6 with JSON and YAML, its side-by-side merge
// view, and the parsers that validate and pretty-print. The page reaches it
// as `globalThis.EtcdEditor`.

import { basicSetup, EditorView } from "codemirror";
import { Compartment, EditorState, type Extension } from "@codemirror/state";
import { json } from "@codemirror/lang-json";
import { yaml } from "@codemirror/lang-yaml";
import { MergeView } from "@codemirror/merge";
import { parseDocument } from "yaml";
import { parse as parseJson, type ParseError, printParseErrorCode } from "jsonc-parser";
import { diffLines } from "diff";

/** How a value is read: highlighted, validated and pretty-printed. */
type Language = "json" | "yaml" | "pem" | "text";

/** Where a value stops being valid, 1-based. */
interface Problem {
  line: number;
  column: number;
  message: string;
}

function languageOf(language: Language): Extension {
  if (language === "json") return json();
  if (language === "yaml") return yaml();
  return [];
}

/** Line and column (1-based) of an offset into `text`. */
function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

function checkJson(text: string): Problem | null {
  const errors: ParseError[] = [];
  parseJson(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (first === undefined) return null;
  return { ...position(text, first.offset), message: printParseErrorCode(first.error) };
}

function checkYaml(text: string): Problem | null {
  const doc = parseDocument(text, { prettyErrors: false });
  const first = doc.errors[0];
  if (first === undefined) return null;
  const at = first.linePos?.[0];
  return {
    line: at?.line ?? 1,
    column: at?.col ?? 1,
    message: first.message.split("\n")[0]!,
  };
}

const PEM_LINE = /^[A-Za-z0-9+/=]*$/;

function checkPem(text: string): Problem | null {
  const lines = text.split("\n");
  let open: string | null = null;
  let blocks = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    const begin = /^-----BEGIN ([A-Z0-9 ]+)-----$/.exec(line);
    const end = /^-----END ([A-Z0-9 ]+)-----$/.exec(line);
    const problem = (message: string) => ({ line: i + 1, column: 1, message });
    if (begin) {
      if (open !== null) return problem(`BEGIN ${begin[1]} inside ${open}`);
      open = begin[1]!;
    } else if (end) {
      if (end[1] !== open) return problem(`END ${end[1]} does not close ${open ?? "a block"}`);
      open = null;
      blocks++;
    } else if (open !== null && !PEM_LINE.test(line) && !/^[A-Za-z-]+: /.test(line)) {
      return problem("not base64");
    }
  }
  if (open !== null) return { line: lines.length, column: 1, message: `${open} is not closed` };
  if (blocks === 0) return { line: 1, column: 1, message: "no -----BEGIN ...----- block" };
  return null;
}

/** The first problem of `text` read as `language`, or null. */
function check(text: string, language: Language): Problem | null {
  if (language === "json") return checkJson(text);
  if (language === "yaml") return checkYaml(text);
  if (language === "pem") return checkPem(text);
  return null;
}

/** `text` pretty-printed as `language` (unchanged if it is not valid). */
function pretty(text: string, language: Language): string {
  if (check(text, language) !== null) return text;
  if (language === "json") return JSON.stringify(JSON.parse(text), null, 2) + (text.endsWith("\n") ? "\n" : "");
  if (language === "yaml") return parseDocument(text).toString({ lineWidth: 0 });
  return text;
}

/** The language a value most likely is. */
function guess(text: string): Language {
  const start = text.trimStart();
  if (/^[[{]/.test(start) && checkJson(text) === null) return "json";
  if (start.startsWith("-----BEGIN ")) return "pem";
  if (/^[\w"'.-]+:( |\n|$)/m.test(text) || /^- /m.test(text)) {
    const doc = parseDocument(text);
    if (doc.errors.length === 0 && doc.contents !== null && typeof doc.contents === "object" && "items" in doc.contents) {
      return "yaml";
    }
  }
  return "text";
}

/** An editor in `parent`; `onChange` hears every edit. */
function editor(parent: HTMLElement, text: string, language: Language, options: {
  readOnly?: boolean;
  onChange?: (text: string) => void;
} = {}) {
  const lang = new Compartment();
  const readOnly = new Compartment();
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: text,
      extensions: [
        basicSetup,
        EditorView.lineWrapping,
        lang.of(languageOf(language)),
        readOnly.of(EditorState.readOnly.of(options.readOnly === true)),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) options.onChange?.(update.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    text: () => view.state.doc.toString(),
    setText(next: string) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: next } });
    },
    setLanguage(next: Language) {
      view.dispatch({ effects: lang.reconfigure(languageOf(next)) });
    },
    setReadOnly(yes: boolean) {
      view.dispatch({ effects: readOnly.reconfigure(EditorState.readOnly.of(yes)) });
    },
    focus: () => view.focus(),
    destroy: () => view.destroy(),
  };
}

/** Theirs (left, read-only) beside mine (right, editable: the merge). */
function merge(parent: HTMLElement, theirs: string, mine: string, language: Language) {
  const view = new MergeView({
    parent,
    a: { doc: theirs, extensions: [basicSetup, EditorView.lineWrapping, languageOf(language), EditorState.readOnly.of(true)] },
    b: { doc: mine, extensions: [basicSetup, EditorView.lineWrapping, languageOf(language)] },
    revertControls: "a-to-b",
    highlightChanges: true,
    gutter: true,
  });
  return { text: () => view.b.state.doc.toString(), destroy: () => view.destroy() };
}

/** A line diff: each part is lines added, removed, or the same in both. */
function lineDiff(before: string, after: string): { kind: "same" | "added" | "removed"; lines: string[] }[] {
  const split = (value: string) => {
    const lines = value.split("\n");
    if (lines.at(-1) === "") lines.pop();
    return lines;
  };
  return diffLines(before, after).map((part) => ({
    kind: part.added ? "added" : part.removed ? "removed" : "same",
    lines: split(part.value),
  }));
}

Object.assign(globalThis, { EtcdEditor: { editor, merge, check, pretty, guess, lineDiff } });
