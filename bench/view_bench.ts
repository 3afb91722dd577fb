/**
 * The viewer with a big tree, in Chromium: 100,000 keys in 1,000
 * directories. Prints the time from opening the page to the tree shown, from
 * a write to its row showing the new value, and for the filter box.
 *
 * ```sh
 * deno run -A bench/view_bench.ts
 * ```
 *
 * @module
 */

import { chromium } from "playwright-core";
import { Client } from "../v2/mod.ts";
import { main } from "../cli/view.ts";
import { startEtcd } from "../testing.ts";
import { testIo } from "../tests/_cli.ts";

const KEYS = 100_000;
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

await using etcd = await startEtcd();
await using client = new Client({ endpoints: etcd.endpoint, timeout: 60_000 });
let next = 0;
await Promise.all(Array.from({ length: 64 }, async () => {
  while (next < KEYS) {
    const i = next++;
    await client.set(`big/d${Math.floor(i / 100)}/k${i % 100}`, `value-${i}`);
  }
}));
const stop = new AbortController();
const { io, stdout } = testIo("", stop.signal);
const running = main(["/big", "--api", "v2", "--endpoints", etcd.endpoint], io);
while (!stdout().includes("\n")) await delay(25);
const browser = await chromium.launch({
  executablePath: Deno.env.get("CHROMIUM_BIN") ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu"],
});
try {
  const page = await browser.newPage();
  let started = performance.now();
  await page.goto(stdout().trim());
  await page.locator('tr[data-path="d999"]').waitFor();
  console.log(
    `open with ${KEYS} keys: ${(performance.now() - started).toFixed(0)} ms`,
  );
  await page.locator('tr[data-path="d5"] .toggle').click();
  await page.locator('tr[data-path="d5/k99"]').waitFor();
  started = performance.now();
  await client.set("big/d5/k7", "changed");
  const cell = page.locator('tr[data-path="d5/k7"] td.value');
  while ((await cell.textContent()) !== "changed") await delay(10);
  console.log(
    `a write shows after: ${(performance.now() - started).toFixed(0)} ms`,
  );
  started = performance.now();
  await page.locator("#filter").fill("d5/k7");
  await page.locator('tr[data-path="d5/k7"]').waitFor();
  console.log(`filter: ${(performance.now() - started).toFixed(0)} ms`);
} finally {
  await browser.close();
  stop.abort();
  await running;
}
