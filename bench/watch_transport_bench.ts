/**
 * Why the v3 watch is one POST stream per watch rather than the gateway's
 * WebSocket: both measured on one throwaway etcd 3.5, with Deno's own
 * `fetch` and `WebSocket` so that only the gateway's two ways differ.
 *
 * - Replay: the time to receive 20,000 events from a start revision.
 * - Start: the time from asking for a watch to etcd's `created`, for 50
 *   watches one after the other (POST: a request each; WebSocket: one
 *   connection, a message each).
 *
 * The WebSocket cannot carry an auth token (the gateway forwards neither
 * `Authorization` nor a token in the protocol or cookie header), which
 * rules it out for clusters with auth whatever it measures.
 *
 * ```sh
 * deno run -A bench/watch_transport_bench.ts
 * ```
 *
 * @module
 */

import { Client } from "../mod.ts";
import { startEtcd } from "../testing.ts";
import { median } from "./_stats.ts";

const EVENTS = 20_000;
const STARTS = 50;

await using etcd = await startEtcd({ version: "3.5" });
await using client = new Client({ endpoints: etcd.endpoint });
const first = (await client.put("seed", "0")).revision + 1;
for (let i = 0; i < EVENTS; i += 128) {
  await client.txn({
    success: Array.from({ length: Math.min(128, EVENTS - i) }, (_, j) => ({
      put: `r/${i + j}`,
      value: "x",
    })),
  });
}
const b64 = (text: string) => new TextEncoder().encode(text).toBase64();
const create = (start?: number) =>
  JSON.stringify({
    create_request: {
      key: b64("r/"),
      range_end: b64("r0"),
      ...(start ? { start_revision: start } : {}),
    },
  });

/** Counts events in newline-delimited JSON until `until` says stop. */
function counter(until: (events: number, created: number) => boolean) {
  let rest = "";
  let events = 0;
  let created = 0;
  return (text: string): boolean => {
    rest += text;
    for (let at = rest.indexOf("\n"); at >= 0; at = rest.indexOf("\n")) {
      const result = JSON.parse(rest.slice(0, at)).result ?? {};
      rest = rest.slice(at + 1);
      if (result.created) created++;
      events += result.events?.length ?? 0;
    }
    return until(events, created);
  };
}

async function postReplay(): Promise<number> {
  const started = performance.now();
  const controller = new AbortController();
  const response = await fetch(`${etcd.endpoint}/v3/watch`, {
    method: "POST",
    body: create(first),
    signal: controller.signal,
  });
  const take = counter((events) => events >= EVENTS);
  const reader = response.body!.pipeThrough(new TextDecoderStream())
    .getReader();
  for (;;) {
    const { value } = await reader.read();
    if (take(value ?? "")) break;
  }
  const took = performance.now() - started;
  controller.abort();
  await reader.cancel().catch(() => {});
  return took;
}

function socket(): Promise<WebSocket> {
  const ws = new WebSocket(`${etcd.endpoint.replace("http", "ws")}/v3/watch`);
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error("WebSocket failed"));
  });
}

async function wsReplay(): Promise<number> {
  const started = performance.now();
  const ws = await socket();
  const take = counter((events) => events >= EVENTS);
  await new Promise<void>((resolve) => {
    ws.onmessage = (message) => {
      if (take(`${message.data}\n`)) resolve();
    };
    ws.send(create(first));
  });
  const took = performance.now() - started;
  ws.close();
  return took;
}

async function postStarts(): Promise<number> {
  const controllers: AbortController[] = [];
  const started = performance.now();
  for (let i = 0; i < STARTS; i++) {
    const controller = new AbortController();
    controllers.push(controller);
    const response = await fetch(`${etcd.endpoint}/v3/watch`, {
      method: "POST",
      body: create(),
      signal: controller.signal,
    });
    const reader = response.body!.pipeThrough(new TextDecoderStream())
      .getReader();
    const take = counter((_, created) => created >= 1);
    while (!take((await reader.read()).value ?? "")) {
      // until created
    }
    reader.releaseLock();
  }
  const took = (performance.now() - started) / STARTS;
  for (const controller of controllers) controller.abort();
  return took;
}

async function wsStarts(): Promise<number> {
  const started = performance.now();
  const ws = await socket();
  let created = 0;
  let wake: () => void = () => {};
  ws.onmessage = (message) => {
    if (JSON.parse(String(message.data)).result?.created) created++;
    wake();
  };
  for (let i = 0; i < STARTS; i++) {
    const want = i + 1;
    await new Promise<void>((resolve) => {
      wake = () => created >= want && resolve();
      ws.send(create());
    });
  }
  const took = (performance.now() - started) / STARTS;
  ws.close();
  return took;
}

const figures = {
  postReplay: [],
  wsReplay: [],
  postStarts: [],
  wsStarts: [],
} as Record<string, number[]>;
for (let round = 0; round < 5; round++) {
  figures.postReplay!.push(await postReplay());
  figures.wsReplay!.push(await wsReplay());
  figures.postStarts!.push(await postStarts());
  figures.wsStarts!.push(await wsStarts());
}
const m = (name: string) => median(figures[name]!).toFixed(2);
console.log(`etcd ${etcd.version}, Deno ${Deno.version.deno}, median of 5`);
console.log(
  `replay of ${EVENTS} events: POST stream ${m("postReplay")} ms, WebSocket ${
    m("wsReplay")
  } ms`,
);
console.log(
  `start a watch (until created): POST ${m("postStarts")} ms, WebSocket ${
    m("wsStarts")
  } ms`,
);
console.log("WebSocket with auth: impossible (the gateway forwards no token)");
