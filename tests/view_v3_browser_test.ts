// The viewer on etcd v3 in a real browser (Debian's Chromium): a live
// write with its revision and version, a binary value shown safely and
// never edited, a leased key's TTL, a key's history back to its creation
// and to the compaction point, and the whole tree as of a revision.

import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { main } from "../cli/view.ts";
import { Client } from "./_v3.ts";
import { startEtcd } from "../testing.ts";
import { testIo } from "./_cli.ts";
import { test, until } from "./_wait.ts";

const CHROMIUM = Deno.env.get("CHROMIUM_BIN") ?? "/usr/bin/chromium";

test("etcd-tree viewer on etcd v3, in Chromium", async (t) => {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(
      `Cannot run the browser tests: no ${CHROMIUM}; install it with "apt-get install chromium" (or set CHROMIUM_BIN)`,
    );
  }
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  const first = await client.put("v/a", "one");
  await client.put("v/a", "two");
  await client.put("v/logo", new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0xff]));
  const lease = await client.lease.grant(120);
  await client.put("v/session", "s", { lease: lease.id });
  const stop = new AbortController();
  const { io, stdout } = testIo("", stop.signal);
  const running = main(["v", "--write", "--endpoints", etcd.endpoint], io);
  await until(() => stdout().includes("\n"), 10_000, "the viewer's URL");
  const url = stdout().trim();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run"],
  });
  try {
    const page = await browser.newPage();
    page.on("dialog", (dialog) => void dialog.dismiss());
    const row = (path: string) => page.locator(`tr[data-path="${path}"]`);
    const cells = async (path: string) =>
      (await row(path).locator("td").allTextContents()).map((text) =>
        text.trim()
      );

    await t.step("revisions, version and lease per key", async () => {
      await page.goto(url);
      await row("a").waitFor();
      assert.equal(
        await page.locator("#mod-head").textContent(),
        "modRevision",
      );
      const [name, value, mod, created, version, leaseHex, ttl] = await cells(
        "a",
      );
      assert.equal(name, "a");
      assert.equal(value, "two");
      assert.equal(Number(mod), first.revision + 1);
      assert.equal(Number(created), first.revision);
      assert.equal(version, "2");
      assert.equal(leaseHex, "");
      assert.equal(ttl, "");
      const session = await cells("session");
      assert.equal(session[5], lease.id, "as etcdctl prints it");
      assert.match(session[6]!, /^1[01]\d s$/, "a countdown of the lease");
    });

    let three = 0;
    await t.step("a live write appears with its revision", async () => {
      const { revision } = await client.put("v/a", "three");
      three = revision;
      await until(
        async () => (await cells("a"))[1] === "three",
        5000,
        "the write to show",
      );
      const [, , mod, , version] = await cells("a");
      assert.equal(Number(mod), revision);
      assert.equal(version, "3");
      assert.match(
        await page.locator("#revision").textContent() ?? "",
        new RegExp(`revision ${revision}$`),
      );
    });

    await t.step(
      "a binary value is shown safely, and never edited",
      async () => {
        const [, value] = await cells("logo");
        assert.equal(value, "5 bytes: 89 50 4e 47 ff");
        const buttons = await row("logo").locator("button").allTextContents();
        assert.deepEqual(buttons, ["history", "delete"], "no edit");
        const token = new URL(url).searchParams.get("token");
        const refused = await fetch(new URL(`/write?token=${token}`, url), {
          method: "POST",
          headers: {
            "content-type": "application/json",
            origin: new URL(url).origin,
          },
          body: JSON.stringify({ op: "set", path: "logo", value: "text" }),
        });
        assert.equal(refused.status, 400);
        assert.match((await refused.json()).error, /bytes that are not text/);
        assert.deepEqual(
          (await client.get("v/logo"))?.valueBytes,
          new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0xff]),
        );
      },
    );

    await t.step(
      "a key's history, back to its creation, then to compaction",
      async () => {
        await row("a").locator("button", { hasText: "history" }).click();
        const history = page.locator("#history");
        await history.locator("table").waitFor();
        const rows = await history.locator("tr").allTextContents();
        assert.deepEqual(
          rows.slice(1),
          [
            `${three}3three`,
            `${first.revision + 1}2two`,
            `${first.revision}1one`,
          ],
        );
        assert.match(await history.textContent() ?? "", /created at revision/);
        await page.locator("#history-close").click();
        const { revision } = await client.put("v/a", "four");
        await client.compact(revision);
        await until(async () => (await cells("a"))[1] === "four", 5000, "four");
        await row("a").locator("button", { hasText: "history" }).click();
        await until(
          async () => /compacted/.test(await history.textContent() ?? ""),
          5000,
          "the history to end at the compaction",
        );
        assert.match(await history.textContent() ?? "", /four/);
        await page.locator("#history-close").click();
      },
    );

    await t.step("the tree as of a revision, read-only", async () => {
      // Before the compaction point: refused, saying why.
      await page.locator("#asof").fill(String(first.revision));
      const said = page.waitForEvent("dialog");
      await page.locator("#show-past").click();
      assert.match((await said).message(), /compacted/);
      // At the current revision (kept), then back to live.
      const { revision } = await client.put("v/new", "later");
      await until(async () => (await row("new").count()) === 1, 5000, "new");
      await page.locator("#asof").fill(String(revision - 1));
      await page.locator("#show-past").click();
      await page.locator("#past").waitFor();
      assert.equal(
        await page.locator("#past-revision").textContent(),
        String(revision - 1),
      );
      assert.equal(await row("new").count(), 0, "not there yet then");
      assert.equal(
        await row("a").locator("button", { hasText: "edit" }).count(),
        0,
        "read-only",
      );
      await page.locator("#back").click();
      await row("new").waitFor();
    });
  } finally {
    await browser.close();
    stop.abort();
    await running;
  }
});
