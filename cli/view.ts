#!/usr/bin/env -S deno run --allow-net --allow-env=ETCD_ENDPOINTS,ETCD_USER,ETCD_PASSWORD --allow-read
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
import {
  answerInfo,
  COMMON_HELP,
  connect,
  interruption,
  type Io,
  parse,
  prefixArgument,
  processIo,
  run,
  UsageError,
  VERSION,
  write,
} from "./_common.ts";
import { page } from "./_page.ts";

const HELP =
  `etcd-tree ${VERSION}: a live view of an etcd subtree in the browser

Usage: etcd-tree [PREFIX] [--port N] [--host H] [--write] [connection flags]

  PREFIX       the subtree to show (default "/")
  --port N     the port to serve on (default: a free one)
  --host H     the address to bind (default 127.0.0.1)
  --write      allow editing from the page (compare-and-swap writes)

It prints the page's URL, which holds a token valid for this run only.

${COMMON_HELP}

Exit status: 0 ended (Ctrl-C), 1 failed, 2 bad usage.`;

/** A node as the page gets it. */
interface PageNode {
  dir: boolean;
  raw: string;
  modifiedIndex: number;
  createdIndex: number;
  expiration: number | null;
}

function pageNode(node: TreeNode): PageNode {
  return {
    dir: node instanceof TreeDirectory,
    raw: node instanceof TreeValue ? node.raw : "",
    modifiedIndex: node.modifiedIndex,
    createdIndex: node.createdIndex,
    expiration: node.expiration?.getTime() ?? null,
  };
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });
}

const FORBIDDEN = () =>
  new Response("Forbidden\n", {
    status: 403,
    headers: { "content-type": "text/plain" },
  });

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
    const segments = prefixArgument(positionals, 1);
    const port = Number(values.port ?? 0);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UsageError(
        `Invalid --port ${JSON.stringify(values.port)}: expected 0 to 65535`,
      );
    }
    const host = values.host ?? "127.0.0.1";
    const writable = values.write === true;
    const token = crypto.randomUUID().replaceAll("-", "");

    using stop = interruption(io);
    await using client = await connect(values, io);
    await using tree = await EtcdTree.open(client, segments);

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
      batch.push(changeForPage(change));
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

    const hosts = new Set<string>();
    const server = Deno.serve({
      hostname: host,
      port,
      signal: stop.signal,
      onListen: () => {},
    }, async (request) => {
      const url = new URL(request.url);
      // Only this server's own names (defeats DNS rebinding), and only
      // with this run's token.
      if (!hosts.has(request.headers.get("host") ?? "")) return FORBIDDEN();
      const given = url.searchParams.get("token") ??
        request.headers.get("x-token");
      if (given !== token) return FORBIDDEN();
      if (request.method === "GET" && url.pathname === "/") {
        return new Response(page(writable), {
          headers: {
            "content-type": "text/html; charset=utf-8",
            "content-security-policy":
              "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'",
          },
        });
      }
      if (request.method === "GET" && url.pathname === "/tree") {
        const nodes: [string, PageNode][] = [];
        const root = tree.root;
        if (root instanceof TreeDirectory) {
          for (const node of root.walk()) {
            nodes.push([node.path, pageNode(node)]);
          }
        }
        return json({
          prefix: tree.prefix,
          index: tree.index,
          state: tree.state,
          nodes,
        });
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
        return await handleWrite(tree, request);
      }
      return json({ error: "Not found" }, 404);
    });
    const address = server.addr;
    const listening = `${
      address.hostname.includes(":")
        ? `[${address.hostname}]`
        : address.hostname
    }:${address.port}`;
    hosts.add(listening);
    if (host === "127.0.0.1" || host === "localhost") {
      hosts.add(`localhost:${address.port}`);
      hosts.add(`127.0.0.1:${address.port}`);
    }
    await write(io.stdout, `http://${listening}/?token=${token}\n`);
    await server.finished;
    clearTimeout(timer);
    return 0;
  });
}

function changeForPage(change: TreeChange) {
  return {
    kind: change.kind,
    path: change.path,
    index: change.index,
    node: pageNode(change.node),
  };
}

/** A write from the page: `{ op, path, value?, modifiedIndex?, force? }`. */
async function handleWrite(
  tree: EtcdTree,
  request: Request,
): Promise<Response> {
  let body: {
    op?: string;
    path?: string;
    value?: string;
    modifiedIndex?: number;
    recursive?: boolean;
    force?: boolean;
  };
  try {
    body = await request.json();
  } catch {
    return json({ error: "Invalid request: expected JSON" }, 400);
  }
  const path = body.path;
  if (typeof path !== "string" || path === "") {
    return json({ error: "Invalid request: give a path" }, 400);
  }
  const force = body.force === true;
  // The version the user saw: a change since is a conflict.
  const seen = body.modifiedIndex;
  const now = tree.node(path);
  if (!force && typeof seen === "number" && now?.modifiedIndex !== seen) {
    return json({
      error: "Changed elsewhere",
      current: now instanceof TreeValue ? now.raw : null,
      index: now?.modifiedIndex ?? null,
    }, 409);
  }
  try {
    let index: number;
    if (body.op === "set" && typeof body.value === "string") {
      index = await tree.set(path, body.value, { force });
    } else if (body.op === "delete") {
      index = await tree.delete(path, {
        recursive: body.recursive === true,
        force,
      });
    } else if (body.op === "mkdir") {
      index = await tree.mkdir(path);
    } else {
      return json(
        { error: "Invalid request: op is set, delete or mkdir" },
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

export type { Io } from "./_common.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
