/**
 * The viewer with a big tree, in Chromium: 100,000 keys on etcd 3.5 (v3) in
 * 1,000 directories, all of them open. Prints the time from opening the
 * page to the first rows shown, the work of one scroll frame (scroll, redraw
 * the rows in view, layout; 95th percentile of 200 frames), the time from a
 * write to its row showing it, a key search, and what the viewer's process
 * grew by per key.
 *
 * ```sh
 * deno run -A bench/view_bench.ts
 * ```
 *
 * @module
 */

import { chromium } from "playwright-core";
import { Client, op } from "../mod.ts";
import { main } from "../cli/view.ts";
import { startEtcd } from "../testing.ts";
import { testIo } from "../tests/_cli.ts";

const KEYS = 100_000;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const keyOf = (i: number) => `big/d${Math.floor(i / 100)}/k${i % 100}`;

await using etcd = await startEtcd({ version: "3.5" });
await using client = new Client({ endpoints: etcd.endpoint, timeout: 60_000 });
for (let start = 0; start < KEYS; start += 128) {
  const puts = [];
  for (let i = start; i < Math.min(KEYS, start + 128); i++) {
    puts.push(op.put(keyOf(i), `value-${i}`));
  }
  await client.txn({ success: puts });
}
const rssBefore = Deno.memoryUsage().rss;
const stop = new AbortController();
const { io, stdout } = testIo("", stop.signal);
const running = main(["big", "--endpoints", etcd.endpoint], io);
while (!stdout().includes("\n")) await delay(25);
const browser = await chromium.launch({
  executablePath: Deno.env.get("CHROMIUM_BIN") ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu"],
});
try {
  // The bench reads the page's timings (the page's CSP forbids that).
  const context = await browser.newContext({
    bypassCSP: true,
    viewport: { width: 1280, height: 800 },
  });
  const page = await context.newPage();
  let started = performance.now();
  await page.goto(stdout().trim());
  await page.locator('.row[data-path="d0"]').waitFor();
  console.log(
    `first paint with ${KEYS} keys: ${
      (performance.now() - started).toFixed(0)
    } ms`,
  );
  await delay(1000);
  const rssAfter = Deno.memoryUsage().rss;
  // Every directory open: 101,000 rows to scroll through.
  // The page's own script scope (its top-level names), as a string.
  const frames: number[] = await page.evaluate(`(() => {
    for (const [path, node] of nodes) if (node.dir) open.add(path);
    render();
    const times = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      tree.scrollTop += 2400;
      drawRows();
      void document.body.offsetHeight; // layout
      times.push(performance.now() - t0);
    }
    return times;
  })()`);
  frames.sort((a, b) => a - b);
  console.log(
    `scroll frame (101,000 rows open): p50 ${frames[100]!.toFixed(2)} ms, p95 ${
      frames[190]!.toFixed(2)
    } ms`,
  );
  await page.locator("#tree").evaluate((tree) => tree.scrollTop = 0);
  await page.locator('.row[data-path="d0/k1"]').waitFor();
  started = performance.now();
  await client.put("big/d0/k1", "changed");
  const cell = page.locator('.row[data-path="d0/k1"] .value');
  while ((await cell.textContent().catch(() => "")) !== "changed") {
    await delay(10);
  }
  console.log(
    `a write shows after: ${(performance.now() - started).toFixed(0)} ms`,
  );
  started = performance.now();
  await page.locator("#search").fill("d5/k7");
  await page.locator('.row[data-path="d5/k7"]').waitFor();
  console.log(`key search: ${(performance.now() - started).toFixed(0)} ms`);
  console.log(
    `viewer process grew by ${
      ((rssAfter - rssBefore) / 2 ** 20).toFixed(0)
    } MB (${((rssAfter - rssBefore) / KEYS).toFixed(0)} bytes per key)`,
  );
} finally {
  await browser.close();
  stop.abort();
  await running;
}
