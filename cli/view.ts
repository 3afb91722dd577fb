#!/usr/bin/env -S deno run --allow-net --allow-env=ETCD_API,ETCD_ENDPOINTS,ETCD_USER,ETCD_PASSWORD,ETCDCTL_ENDPOINTS,ETCDCTL_CACERT,ETCDCTL_CERT,ETCDCTL_KEY,ETCDCTL_USER,ETCDCTL_PASSWORD --allow-read
/**
 * `etcd-tree`: a live view of an etcd subtree in the browser.
 *
 * Opens an `EtcdTree` on PREFIX, serves one page on 127.0.0.1 and prints
 * its URL. The page shows the tree (name, value, indices, TTL) and follows
 * every change over Server-Sent Events; with `--write` it also edits, adds
 * and deletes, through the tree's compare-and-swap writes. Every request
 * must carry the per-run token of the printed URL and a `Host` header
 * naming this server; anything else gets 403.
 *
 * ```sh
 * deno run -A jsr:@etcd-tree/etcd-tree/view /app --write
 * ```
 *
 * @example Usage
 * ```ts
 * import { main } from "@etcd-tree/etcd-tree/view";
 *
 * async function usage() {
 *   Deno.exit(await main(["/app", "--port", "8080"]));
 * }
 * ```
 *
 * @module
 */

import {
  EtcdTree,
  type TreeChange,
  TreeDirectory,
  type TreeNode,
  TreeValue,
  WriteConflict,
} from "../tree.ts";
import { errorKind } from "../_core/kinds.ts";
import { type Store, storeOf, type Subtree } from "../_core/store.ts";
import { LeaseClock, subtreeDiff, treeAt } from "./_history.ts";
import { visible } from "./_escape.ts";
import { decodeValue } from "./_k8s_view.ts";
import {
  answerInfo,
  COMMON_HELP,
  connect,
  elsewhere,
  Failure,
  interruption,
  type Io,
  parse,
  prefixArgument,
  processIo,
  run,
  subtreeOf,
  UsageError,
  VERSION,
  write,
} from "./_common.ts";
import { page } from "./_page.ts";
import { leaseList, membersOf } from "./_view_cluster.ts";
import { Client as V3Client } from "../v3/_client.ts";
import type { EtcdClient } from "../client.ts";
import { EDITOR_JS } from "./_editor.ts";

const HELP =
  `etcd-tree ${VERSION}: a live view of an etcd subtree in the browser

Usage: etcd-tree [PREFIX] [--port N] [--host H] [--write] [connection flags]

  PREFIX       the subtree to show (default: everything; on v3 the key
               PREFIX and every key that starts with PREFIX/, and with
               none or "" every key, starting with "/" or not)
  --port N     the port to serve on (default: a free one)
  --host H     the address to bind (default 127.0.0.1; 0.0.0.0 or :: for
               every interface, reached by this machine's names and
               addresses)
  --write      allow editing from the page (compare-and-swap writes;
               deleting a directory deletes what the page shows, each key
               with a compare, after a confirmation; bytes that are not
               text are replaced by uploading a file, never edited as text)

It prints the page's URL, which holds a token valid for this run only. On
v3 the page shows each key's revisions, version, lease and time to live, a
key's history back to the compaction point (with diffs and restore), the
whole subtree as of a revision (read-only), the keys added, removed and
changed between two revisions, and pages of the leases and of the members
(leader, version, db size, raft index, alarms). Kubernetes objects are
shown decoded beside the stored value (Secrets' data only when asked).

${COMMON_HELP}

Exit status: 0 ended (Ctrl-C), 1 failed, 2 bad usage.`;

/** A node as the page gets it. */
interface PageNode {
  dir: boolean;
  /** The text; for bytes that are not text, base64 of them. */
  raw: string;
  /** The value is bytes that are not UTF-8 text (`raw` is base64). */
  binary: boolean;
  modifiedIndex: number;
  createdIndex: number;
  expiration: number | null;
  version: number | null;
  lease: string | null;
}

function pageNode(node: TreeNode, leases?: LeaseClock): PageNode {
  const raw = node instanceof TreeValue ? node.raw : "";
  const lease = node instanceof TreeValue ? node.lease ?? null : null;
  return {
    dir: node instanceof TreeDirectory,
    raw: typeof raw === "string" ? raw : raw.toBase64(),
    binary: typeof raw !== "string",
    modifiedIndex: node.modifiedIndex,
    createdIndex: node.createdIndex,
    expiration: node.expiration?.getTime() ??
      (lease === null ? undefined : leases?.expires(lease)) ?? null,
    version: node instanceof TreeValue ? node.version ?? null : null,
    lease,
  };
}

/** The leases of the nodes in view. */
function leasesOf(nodes: Iterable<TreeNode>): Set<string> {
  const leases = new Set<string>();
  for (const node of nodes) {
    if (node instanceof TreeValue && node.lease !== undefined) {
      leases.add(node.lease);
    }
  }
  return leases;
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

const forbidden = (why: string) =>
  new Response(`Forbidden: ${why}\n`, {
    status: 403,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });

/** Compares two strings in time that depends only on their lengths. */
function sameSecret(given: string, expected: string): boolean {
  const a = new TextEncoder().encode(given);
  const b = new TextEncoder().encode(expected);
  let difference = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) difference |= (a[i] ?? 0) ^ b[i]!;
  return difference === 0;
}

/** The token a request carries: exactly one, in the query or a header. */
function tokenOf(request: Request, url: URL): string | undefined {
  const given = [
    ...url.searchParams.getAll("token"),
    ...(request.headers.get("x-token")?.split(",") ?? []),
  ];
  return given.length === 1 ? given[0]!.trim() : undefined;
}

/** The names a server bound to `host` is reached by (Host headers). */
function hostNames(host: string, port: number): Set<string> {
  const names = new Set<string>();
  const add = (name: string) => {
    const bracketed = name.includes(":") ? `[${name}]` : name;
    names.add(`${bracketed}:${port}`.toLowerCase());
    // Browsers leave the default port out of Host.
    if (port === 80) names.add(bracketed.toLowerCase());
  };
  add(host);
  const wildcard = host === "0.0.0.0" || host === "::";
  const loopback = host === "127.0.0.1" || host === "localhost" ||
    host === "::1";
  if (wildcard || loopback) {
    add("localhost");
    add("127.0.0.1");
    add("::1");
  }
  if (wildcard) {
    try {
      add(Deno.hostname());
    } catch {
      // No access to the host name: the addresses still work.
    }
    try {
      for (const net of Deno.networkInterfaces()) add(net.address);
    } catch {
      // No access to the interfaces: loopback and the name still work.
    }
  }
  return names;
}

/**
 * Runs `etcd-tree` until `io.signal` aborts (or Ctrl-C).
 *
 * @param args The command-line arguments, without the program name.
 * @param io Where to write (default: the process's own).
 * @returns The exit code: 0 ended, 1 failed, 2 bad usage.
 *
 * @example Usage
 * ```ts
 * import { main } from "@etcd-tree/etcd-tree/view";
 *
 * async function usage() {
 *   const code = await main(["/app", "--write"]);
 * }
 * ```
 */
export function main(args: string[], io: Io = processIo()): Promise<number> {
  return run("etcd-tree", io, async () => {
    const { values, positionals } = parse(args, {
      port: { type: "string" },
      host: { type: "string" },
      write: { type: "boolean" },
    });
    if (await answerInfo(values, io, "etcd-tree", HELP)) return 0;
    const prefix = prefixArgument(positionals, 1);
    const port = Number(values.port ?? 0);
    if (
      (values.port !== undefined && !/^\d{1,5}$/.test(values.port)) ||
      port > 65535
    ) {
      throw new UsageError(
        `Invalid --port ${
          JSON.stringify(values.port)
        }: expected a port number from 0 to 65535 (0: a free one)`,
      );
    }
    const host = values.host ?? "127.0.0.1";
    const writable = values.write === true;
    const token = crypto.randomUUID().replaceAll("-", "");

    using stop = interruption(io);
    await using client = await connect(values, io);
    const store = storeOf(client);
    const subtree = subtreeOf(store, prefix);
    const v3 = store.capabilities.protocol !== "v2";
    const leases = v3 ? new LeaseClock(store) : undefined;
    // A viewer runs for long: it never gives up on etcd, and says on the
    // terminal when it lost and regained it.
    await using tree = await EtcdTree.open(client, subtree.key, {
      retryFor: Infinity,
    });
    if (tree.root === undefined) {
      const other = await elsewhere(client, prefix);
      if (other !== undefined) {
        await write(io.stderr, `etcd-tree: note: ${visible(other)}\n`);
      }
    }
    tree.addEventListener("state", ({ state, error }) => {
      if (state === "reconnecting") {
        void write(
          io.stderr,
          `etcd-tree: lost etcd (${
            visible(error instanceof Error ? error.message : String(error))
          }); reconnecting\n`,
        ).catch(() => {});
      } else if (state === "live") {
        void write(
          io.stderr,
          `etcd-tree: etcd is back (${
            v3 ? "revision" : "index"
          } ${tree.index})\n`,
        )
          .catch(() => {});
      }
    });

    // Server-Sent Events: changes go out in batches, at most every 100 ms.
    const streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
    const encoder = new TextEncoder();
    let batch: unknown[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const send = (event: string, data: unknown) => {
      const bytes = encoder.encode(
        `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`,
      );
      for (const stream of streams) {
        try {
          stream.enqueue(bytes);
        } catch {
          streams.delete(stream);
        }
      }
    };
    const flush = () => {
      timer = undefined;
      const changes = batch;
      batch = [];
      if (changes.length > 0) send("changes", changes);
    };
    tree.addEventListener("change", ({ change }) => {
      batch.push(changeForPage(change, leases));
      timer ??= setTimeout(flush, 100);
    });
    tree.addEventListener("state", ({ state }) => send("state", state));
    // Open event streams would keep the server from finishing.
    stop.signal.addEventListener("abort", () => {
      for (const stream of streams) {
        try {
          stream.close();
        } catch {
          // Gone already.
        }
      }
      streams.clear();
    });

    let hosts = new Set<string>();
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve({
        hostname: host,
        port,
        signal: stop.signal,
        onListen: () => {},
      }, async (request) => {
        const url = new URL(request.url);
        // Only this server's own names (defeats DNS rebinding), and only
        // with this run's token.
        const hostHeader = (request.headers.get("host") ?? "").toLowerCase();
        if (!hosts.has(hostHeader)) {
          return forbidden(
            `the Host ${
              JSON.stringify(hostHeader)
            } is not a name of this server; use the URL it printed`,
          );
        }
        const given = tokenOf(request, url);
        if (given === undefined || !sameSecret(given, token)) {
          return forbidden(
            "give this run's token, exactly once (the printed URL has it)",
          );
        }
        if (request.method === "GET" && url.pathname === "/") {
          return new Response(page(writable), {
            headers: {
              "content-type": "text/html; charset=utf-8",
              "content-security-policy":
                "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'",
            },
          });
        }
        if (request.method === "GET" && url.pathname === "/editor.js") {
          return new Response(EDITOR_JS, {
            headers: {
              "content-type": "text/javascript; charset=utf-8",
              "cache-control": "private, max-age=86400",
            },
          });
        }
        if (request.method === "GET" && url.pathname === "/tree") {
          const asOf = url.searchParams.get("revision");
          if (asOf !== null) return await pastTree(store, subtree, asOf);
          const root = tree.root;
          const all = root instanceof TreeDirectory ? [...root.walk()] : [];
          await leases?.known(leasesOf(all));
          return json({
            prefix: tree.prefix,
            protocol: store.capabilities.protocol,
            index: tree.index,
            state: tree.state,
            nodes: all.map((node) => [node.path, pageNode(node, leases)]),
          });
        }
        if (request.method === "GET" && url.pathname === "/decoded") {
          return await decodedValue(tree, { store, subtree }, url.searchParams);
        }
        if (
          request.method === "GET" &&
          (url.pathname === "/leases" || url.pathname === "/members")
        ) {
          return await clusterPage(
            client,
            url.pathname === "/leases" ? "leases" : "members",
          );
        }
        if (request.method === "GET" && url.pathname === "/diff") {
          return await diffOf(store, subtree, url.searchParams);
        }
        if (request.method === "GET" && url.pathname === "/history") {
          return await keyHistory(store, subtree, url.searchParams.get("path"));
        }
        if (request.method === "GET" && url.pathname === "/events") {
          let mine: ReadableStreamDefaultController<Uint8Array> | undefined;
          const body = new ReadableStream<Uint8Array>({
            start(controller) {
              mine = controller;
              streams.add(controller);
              controller.enqueue(encoder.encode(": connected\n\n"));
            },
            cancel() {
              if (mine) streams.delete(mine);
            },
          });
          return new Response(body, {
            headers: {
              "content-type": "text/event-stream",
              "cache-control": "no-store",
            },
          });
        }
        if (request.method === "POST" && url.pathname === "/write") {
          if (!writable) {
            return json({
              error: "This view is read-only (start it with --write)",
            }, 403);
          }
          const refused = refuseForeign(request, hostHeader);
          if (refused !== undefined) return refused;
          return await handleWrite(tree, { store, subtree }, request, limit);
        }
        return json({ error: "Not found" }, 404);
      });
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse) {
        throw new Failure(
          `Cannot listen on ${host}:${port} (--port ${port}): the address is in use; give another --port, or 0 for a free one`,
        );
      }
      throw error;
    }
    // An upload (where etcd takes bytes) comes as base64: a third more.
    const { maxRequestBytes, binary } = store.capabilities;
    const limit =
      (binary ? Math.ceil(maxRequestBytes * 4 / 3) : maxRequestBytes) +
      64 * 1024;
    const address = server.addr;
    hosts = hostNames(host, address.port);
    const shown = address.hostname.includes(":")
      ? `[${address.hostname}]`
      : address.hostname;
    await write(io.stdout, `http://${shown}:${address.port}/?token=${token}\n`);
    await server.finished;
    clearTimeout(timer);
    return 0;
  });
}

function changeForPage(change: TreeChange, leases: LeaseClock | undefined) {
  return {
    kind: change.kind,
    path: change.path,
    index: change.index,
    node: pageNode(change.node, leases),
  };
}

/** The subtree as of a revision, read-only, as the page's nodes. */
async function pastTree(
  store: Store,
  subtree: Subtree,
  given: string,
): Promise<Response> {
  const revision = Number(given);
  if (!/^\d+$/.test(given) || !Number.isSafeInteger(revision) || revision < 1) {
    return json(
      { error: "Invalid revision: expected a whole number from 1" },
      400,
    );
  }
  try {
    const nodes = await treeAt(store, subtree, revision);
    return json({
      prefix: subtree.key,
      protocol: store.capabilities.protocol,
      index: revision,
      state: "as of revision",
      nodes: nodes.map((node) => [node.path, pageNode(node)]),
    });
  } catch (error) {
    return pastFailure(error);
  }
}

/**
 * The Kubernetes object a key's value holds (`k8s: null` when it holds
 * none): now, or with `revision` as it was then. Secrets' data is hidden
 * unless `secrets=1`.
 */
async function decodedValue(
  tree: EtcdTree,
  { store, subtree }: { store: Store; subtree: Subtree },
  params: URLSearchParams,
): Promise<Response> {
  const path = params.get("path");
  if (path === null || path === "") {
    return json({ error: "Invalid request: give a path" }, 400);
  }
  const given = params.get("revision");
  const revision = Number(given);
  if (
    given !== null &&
    (!/^\d+$/.test(given) || !Number.isSafeInteger(revision) || revision < 1)
  ) {
    return json(
      { error: "Invalid revision: expected a whole number from 1" },
      400,
    );
  }
  let value: string | Uint8Array | undefined;
  if (given === null) {
    const node = tree.node(path);
    value = node instanceof TreeValue ? node.raw : undefined;
  } else {
    try {
      const key = store.subtree(subtree.keyOf(path));
      const snapshot = await store.snapshot(key, { revision });
      value = snapshot.entries.find((entry) => entry.path === "")?.value;
    } catch (error) {
      return pastFailure(error);
    }
  }
  if (value === undefined) {
    return json({ error: `No value at ${path}` }, 404);
  }
  const showSecrets = params.get("secrets") === "1";
  return json({ path, k8s: decodeValue(value, { showSecrets }) ?? null });
}

/** The leases or the members, as etcd v3 tells them. */
async function clusterPage(
  client: EtcdClient,
  which: "leases" | "members",
): Promise<Response> {
  const what = which === "leases" ? "The leases page" : "The members page";
  if (!(client instanceof V3Client)) {
    return json({
      error:
        `${what} needs etcd's v3 API; this viewer talks v2 (start it without --api v2, on an etcd that serves v3)`,
    }, 501);
  }
  try {
    return json(
      which === "leases"
        ? await leaseList(client)
        : { members: await membersOf(client) },
    );
  } catch (error) {
    return json({
      error: `${what}: ${error instanceof Error ? error.message : error}`,
    }, 502);
  }
}

/** A revision given in a request: a whole number from 1. */
function revisionOf(given: string): number | undefined {
  const revision = Number(given);
  return /^\d+$/.test(given) && Number.isSafeInteger(revision) && revision >= 1
    ? revision
    : undefined;
}

/** The subtree's keys added, removed and changed from one revision to another (or now). */
async function diffOf(
  store: Store,
  subtree: Subtree,
  params: URLSearchParams,
): Promise<Response> {
  if (store.capabilities.protocol === "v2") {
    return json({ error: "etcd's v2 API keeps no revisions to compare" }, 501);
  }
  const from = revisionOf(params.get("from") ?? "");
  const givenTo = params.get("to") ?? "now";
  const to = givenTo === "now" ? undefined : revisionOf(givenTo);
  if (from === undefined || (givenTo !== "now" && to === undefined)) {
    return json({
      error:
        "Invalid revisions: from is a whole number from 1, to one too or now",
    }, 400);
  }
  try {
    return json(await subtreeDiff(store, subtree, from, to));
  } catch (error) {
    return pastFailure(error);
  }
}

/** A key's earlier versions, newest first. */
async function keyHistory(
  store: Store,
  subtree: Subtree,
  path: string | null,
): Promise<Response> {
  if (path === null || path === "") {
    return json({ error: "Invalid request: give a path" }, 400);
  }
  try {
    const history = await store.history(subtree, path);
    return json({
      ...history,
      versions: history.versions.map((version) => ({
        modifiedIndex: version.modifiedIndex,
        createdIndex: version.createdIndex,
        version: version.version,
        raw: typeof version.value === "string"
          ? version.value
          : version.value.toBase64(),
        binary: typeof version.value !== "string",
      })),
    });
  } catch (error) {
    return pastFailure(error);
  }
}

function pastFailure(error: unknown): Response {
  const kind = errorKind(error);
  const message = error instanceof Error ? error.message : String(error);
  if (kind === "history lost") {
    return json({ error: `That revision is compacted: ${message}` }, 410);
  }
  if (kind === "unsupported") return json({ error: message }, 501);
  return json({ error: message }, 400);
}

/**
 * Refuses a write that does not come from this server's own page: it must
 * be JSON (which a cross-site form cannot send) and say it is same-origin.
 */
function refuseForeign(
  request: Request,
  host: string,
): Response | undefined {
  const type = request.headers.get("content-type")?.split(";")[0]?.trim()
    .toLowerCase();
  if (type !== "application/json") {
    return json(
      { error: "Invalid request: the body must be application/json" },
      415,
    );
  }
  const origin = request.headers.get("origin");
  const site = request.headers.get("sec-fetch-site");
  const sameOrigin = origin !== null
    ? origin.toLowerCase() === `http://${host}`
    : site === "same-origin";
  if (!sameOrigin || (site !== null && site !== "same-origin")) {
    return json({
      error: "Forbidden: writes come only from this server's own page",
    }, 403);
  }
  return undefined;
}

/** The body of a request, refused (413) once it passes `limit` bytes. */
async function readBody(
  request: Request,
  limit: number,
): Promise<string | Response> {
  const tooLarge = () =>
    json(
      { error: `Request body over ${limit} bytes: etcd would refuse it` },
      413,
    );
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > limit) return tooLarge();
  const reader = request.body?.getReader();
  if (reader === undefined) return "";
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return tooLarge();
    }
    parts.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
}

/**
 * A write from the page: `{ op, path, value?, modifiedIndex?, force? }`;
 * `upload` writes `base64` bytes if the key is still at `modifiedIndex`
 * (`null`: still absent).
 */
async function handleWrite(
  tree: EtcdTree,
  where: { store: Store; subtree: Subtree },
  request: Request,
  limit: number,
): Promise<Response> {
  const text = await readBody(request, limit);
  if (text instanceof Response) return text;
  let body: {
    op?: string;
    path?: string;
    value?: string;
    base64?: string;
    modifiedIndex?: number;
    recursive?: boolean;
    force?: boolean;
  };
  try {
    body = JSON.parse(text);
  } catch {
    return json({ error: "Invalid request: expected JSON" }, 400);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return json({ error: "Invalid request: expected a JSON object" }, 400);
  }
  const path = body.path;
  if (typeof path !== "string" || path === "") {
    return json({ error: "Invalid request: give a path" }, 400);
  }
  const force = body.force === true;
  // The version the user saw: a change since is a conflict.
  const seen = body.modifiedIndex;
  if (body.op === "upload") {
    // What v2 refuses comes before any compare.
    return await upload(tree, where, path, body.base64, seen ?? null);
  }
  const now = tree.node(path);
  if (!force && typeof seen === "number" && now?.modifiedIndex !== seen) {
    return json({
      error: "Changed elsewhere",
      current: now instanceof TreeValue ? now.raw : null,
      index: now?.modifiedIndex ?? null,
    }, 409);
  }
  if (
    (body.op === "set") && now instanceof TreeValue &&
    typeof now.raw !== "string"
  ) {
    return json({
      error: `${path} holds bytes that are not text; the page edits text only`,
    }, 400);
  }
  try {
    let index: number;
    if (body.op === "set" && typeof body.value === "string") {
      index = await tree.set(path, body.value, { force });
    } else if (body.op === "create" && typeof body.value === "string") {
      // Create only: a key that exists (or appears meanwhile) is a conflict.
      if (now !== undefined) {
        return json({
          error: `${path} exists already`,
          current: now instanceof TreeValue ? now.raw : null,
          index: now.modifiedIndex,
        }, 409);
      }
      index = await tree.set(path, body.value);
    } else if (body.op === "delete") {
      index = await tree.delete(path, {
        recursive: body.recursive === true,
        force,
      });
    } else if (body.op === "mkdir") {
      index = await tree.mkdir(path);
    } else {
      return json(
        {
          error: "Invalid request: op is set, create, delete, mkdir or upload",
        },
        400,
      );
    }
    return json({ index });
  } catch (error) {
    if (error instanceof WriteConflict) {
      const current = error.current;
      return json({
        error: error.message,
        current: current instanceof TreeValue ? current.raw : null,
        index: current?.modifiedIndex ?? null,
      }, 409);
    }
    return json({
      error: error instanceof Error ? error.message : String(error),
    }, 400);
  }
}

/**
 * Writes a file's bytes from the page as the value at `path`, if the key is
 * still at `seen` (`null`: still absent): etcd compares, not the viewer.
 */
async function upload(
  tree: EtcdTree,
  { store, subtree }: { store: Store; subtree: Subtree },
  path: string,
  base64: unknown,
  seen: unknown,
): Promise<Response> {
  if (!store.capabilities.binary) {
    return json({
      error:
        `Cannot upload to ${path}: etcd's v2 API stores text only; edit the value instead`,
    }, 400);
  }
  if (
    typeof base64 !== "string" || (seen !== null && typeof seen !== "number")
  ) {
    return json({
      error:
        "Invalid request: upload takes base64 and modifiedIndex (a number, or null for a new key)",
    }, 400);
  }
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.fromBase64(base64);
  } catch {
    return json({ error: "Invalid request: base64 is not base64" }, 400);
  }
  const conflict = () => {
    const now = tree.node(path);
    return json({
      error: "Changed elsewhere",
      current: now instanceof TreeValue && typeof now.raw === "string"
        ? now.raw
        : null,
      index: now?.modifiedIndex ?? null,
    }, 409);
  };
  if (tree.node(path) instanceof TreeDirectory) {
    return json({ error: `${path} is a directory` }, 400);
  }
  // The version the user saw: a change the viewer shows already is a
  // conflict; one it does not show yet, etcd's compare refuses.
  if ((tree.node(path)?.modifiedIndex ?? null) !== seen) return conflict();
  try {
    const written = await store.put(subtree, path, bytes, {
      condition: seen === null ? { absent: true } : { modifiedIndex: seen },
    });
    return json({ index: written.index });
  } catch (error) {
    const kind = errorKind(error);
    if (kind === "compare failed" || kind === "exists") return conflict();
    return json({
      error: error instanceof Error ? error.message : String(error),
    }, 400);
  }
}

export type { Io } from "./_common.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
