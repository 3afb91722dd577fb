// The viewer in a real browser: Debian's Chromium driven by playwright-core.

import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { Client, type Value } from "../v2/mod.ts";
import { main } from "../cli/view.ts";
import { startEtcd } from "../testing.ts";
import { testIo } from "./_cli.ts";
import { delay } from "./_tree.ts";
import { test, until } from "./_wait.ts";

const CHROMIUM = Deno.env.get("CHROMIUM_BIN") ?? "/usr/bin/chromium";

test("etcd-tree viewer in Chromium", async (t) => {
  try {
    await Deno.stat(CHROMIUM);
  } catch {
    throw new Error(
      `Cannot run the browser tests: no ${CHROMIUM}; install it with "apt-get install chromium" (or set CHROMIUM_BIN)`,
    );
  }
  await using etcd = await startEtcd();
  await using client = new Client({ endpoints: etcd.endpoint });
  await client.set("v/a", "1");
  await client.set("v/b", "gone soon");
  await client.set("v/d/when", "1700000000");
  const stop = new AbortController();
  const { io, stdout, stderr } = testIo("", stop.signal);
  const running = main(
    ["/v", "--write", "--api", "v2", "--endpoints", etcd.endpoint],
    io,
  );
  await until(
    () => stdout().includes("\n"),
    10_000,
    "the viewer to print its URL",
  );
  const url = stdout().trim();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  try {
    const page = await browser.newPage();
    const row = (path: string) => page.locator(`tr[data-path="${path}"]`);
    const value = (path: string) => row(path).locator("td.value");
    /** Waits until the element's text is `text` (the page's CSP forbids eval). */
    const waitText = async (selector: string, text: string, timeout = 5000) => {
      const deadline = performance.now() + timeout;
      let last: string | null = null;
      while (performance.now() < deadline) {
        last = await page.locator(selector).first().textContent({ timeout })
          .catch(() => null);
        if (last === text) return;
        await delay(20);
      }
      throw new Error(
        `Timed out waiting for ${selector} to read ${JSON.stringify(text)}: ${
          JSON.stringify(last)
        }`,
      );
    };

    await t.step("the page shows the tree", async () => {
      await page.goto(url);
      await row("a").waitFor();
      assert.equal(await value("a").textContent(), "1");
      assert.equal(await page.locator("#state").textContent(), "live");
      assert.equal(await page.locator("#count").textContent(), "3 keys");
      // Directories start closed; opening one shows its children.
      assert.equal(await row("d/when").count(), 0);
      await row("d").locator(".toggle").click();
      await row("d/when").waitFor();
      assert.match(
        await value("d/when").textContent() ?? "",
        /^1700000000.+2023/,
      );
    });

    await t.step(
      "a write by the client appears, highlighted, within a second",
      async () => {
        const started = performance.now();
        await client.set("v/a", "2");
        await waitText('tr[data-path="a"] td.value', "2", 1000);
        assert.ok(performance.now() - started < 1000);
        assert.match(await row("a").getAttribute("class") ?? "", /changed/);
      },
    );

    await t.step("a delete removes the row", async () => {
      await client.delete("v/b");
      await row("b").waitFor({ state: "detached", timeout: 1000 });
    });

    await t.step(
      "an etcd restart shows reconnecting, then live again",
      async () => {
        await etcd.stop();
        await waitText("#state", "reconnecting", 10_000);
        await etcd.start();
        await waitText("#state", "live", 10_000);
        await client.set("v/a", "3");
        await waitText('tr[data-path="a"] td.value', "3", 2000);
      },
    );

    await t.step(
      "editing in the page writes to etcd; a conflict shows the remote value",
      async () => {
        page.once("dialog", (dialog) => void dialog.accept("from the page"));
        await row("a").getByRole("button", { name: "edit" }).click();
        await until(
          async () =>
            ((await client.get("v/a")).node as Value).value === "from the page",
          5000,
          "the page's edit to reach etcd",
        );
        await waitText('tr[data-path="a"] td.value', "from the page");

        // While the user types, someone else changes the value.
        const messages: string[] = [];
        const onDialog = async (dialog: import("playwright-core").Dialog) => {
          messages.push(dialog.message());
          if (dialog.type() === "prompt") {
            await client.set("v/a", "theirs");
            // The viewer has it before the page answers.
            await until(
              async () => {
                const tree = await (await fetch(url.replace("/?", "/tree?")))
                  .json();
                return (new Map(tree.nodes).get("a") as { raw: string }).raw ===
                  "theirs";
              },
              5000,
              "the viewer to see their write",
            );
            await dialog.accept("mine");
          } else {
            await dialog.dismiss(); // keep theirs
          }
        };
        page.on("dialog", onDialog);
        await row("a").getByRole("button", { name: "edit" }).click();
        await until(() => messages.length >= 2, 5000, "the conflict message");
        assert.match(
          messages[1] ?? "",
          /Changed elsewhere: it is now "theirs"/,
        );
        page.off("dialog", onDialog);
        assert.equal(((await client.get("v/a")).node as Value).value, "theirs");
      },
    );

    await t.step("without the token: 403", async () => {
      const response = await page.goto(url.replace(/\?token=.*/, ""));
      assert.equal(response?.status(), 403);
      await page.goto(url);
      await row("a").waitFor();
    });

    await t.step(
      "a directory opens by its row, and by the keyboard",
      async () => {
        await client.set("v/k/inner", "1");
        await row("k").waitFor();
        assert.equal(await row("k/inner").count(), 0);
        await row("k").locator("td.name").click(); // the name, not the triangle
        await row("k/inner").waitFor();
        await row("k").focus();
        await page.keyboard.press("Enter");
        await row("k/inner").waitFor({ state: "detached" });
        await page.keyboard.press("ArrowRight");
        await row("k/inner").waitFor();
        await page.keyboard.press("ArrowDown");
        assert.equal(
          await page.locator(":focus").getAttribute("data-path"),
          "k/inner",
        );
        await page.keyboard.press("ArrowLeft"); // to its directory
        assert.equal(
          await page.locator(":focus").getAttribute("data-path"),
          "k",
        );
      },
    );

    await t.step(
      "deleting a directory asks first, naming how many keys go",
      async () => {
        await client.set("v/del/x", "1");
        await client.set("v/del/y/z", "2");
        await row("del").waitFor();
        const asked: string[] = [];
        const answer = { accept: false };
        const onDialog = async (dialog: import("playwright-core").Dialog) => {
          asked.push(dialog.message());
          if (answer.accept) await dialog.accept();
          else await dialog.dismiss();
        };
        page.on("dialog", onDialog);
        try {
          await row("del").getByRole("button", { name: "delete" }).click();
          await until(() => asked.length === 1, 5000, "the confirmation");
          assert.match(asked[0]!, /Delete del\/ and the 2 keys in it\?/);
          assert.ok(
            await client.get("v/del/y/z"),
            "nothing deleted when dismissed",
          );
          answer.accept = true;
          await row("del").getByRole("button", { name: "delete" }).click();
          await row("del").waitFor({ state: "detached", timeout: 5000 });
          await assert.rejects(client.get("v/del"));
        } finally {
          page.off("dialog", onDialog);
        }
      },
    );

    await t.step(
      "a directory with keys the page does not show stays",
      async () => {
        await client.set("v/guarded/item", "1");
        await client.set("v/guarded/_hidden", "h");
        await row("guarded").waitFor();
        const messages: string[] = [];
        const onDialog = async (dialog: import("playwright-core").Dialog) => {
          messages.push(dialog.message());
          await dialog.accept();
        };
        page.on("dialog", onDialog);
        try {
          await row("guarded").getByRole("button", { name: "delete" }).click();
          await until(
            () => messages.length === 2,
            5000,
            "the confirmation, then the conflict",
          );
          assert.match(messages[1]!, /changed elsewhere/);
          assert.equal(
            ((await client.get("v/guarded/_hidden")).node as Value).value,
            "h",
          );
        } finally {
          page.off("dialog", onDialog);
        }
      },
    );

    await t.step(
      "add creates only: an existing name is a conflict",
      async () => {
        await row("d").waitFor();
        const messages: string[] = [];
        const replies = ["when", "overwritten?"];
        const onDialog = async (dialog: import("playwright-core").Dialog) => {
          messages.push(dialog.message());
          if (dialog.type() === "prompt") await dialog.accept(replies.shift());
          else await dialog.accept();
        };
        page.on("dialog", onDialog);
        try {
          await row("d").getByRole("button", { name: "add" }).click();
          await until(
            () => messages.length === 3,
            5000,
            "two prompts and the conflict",
          );
          assert.match(messages[2]!, /d\/when exists already/);
          assert.equal(
            ((await client.get("v/d/when")).node as Value).value,
            "1700000000",
          );
        } finally {
          page.off("dialog", onDialog);
        }
      },
    );

    await t.step(
      "controls and bidi overrides are shown, not obeyed",
      async () => {
        await client.set("v/bidi", "abc\u202edef\u0007");
        await waitText('tr[data-path="bidi"] td.value', "abc\\u202edef\\u0007");
      },
    );

    await t.step("another origin's page cannot write", async () => {
      const write = new URL(url);
      write.pathname = "/write";
      const target = write.href;
      await using attacker = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen() {} },
        () =>
          new Response(
            `<!doctype html><form id=f method=post action="${target}" enctype="text/plain"><input name='{"op":"set","path":"a","value":"pwned","force":true,"x":"' value='"}'></form>
<script>
fetch(${
              JSON.stringify(target)
            }, { method: "POST", mode: "no-cors", body: JSON.stringify({ op: "set", path: "a", value: "pwned", force: true }) });
navigator.sendBeacon(${
              JSON.stringify(target)
            }, new Blob([JSON.stringify({ op: "set", path: "a", value: "pwned", force: true })], { type: "application/json" }));
document.getElementById("f").submit();
</script>`,
            { headers: { "content-type": "text/html" } },
          ),
      );
      const before = ((await client.get("v/a")).node as Value).value;
      const other = await browser.newPage();
      const answered = new Set<number>();
      other.on("response", (response) => {
        if (response.url().includes("/write")) answered.add(response.status());
      });
      await other.goto(`http://127.0.0.1:${attacker.addr.port}/`);
      await until(
        () => answered.size > 0,
        10_000,
        "the viewer to answer the forged writes",
      );
      await other.close();
      assert.ok(![...answered].includes(200), `statuses ${[...answered]}`);
      assert.equal(((await client.get("v/a")).node as Value).value, before);
    });

    await t.step("a screenshot", async () => {
      await client.set("v/services/web/port", "8080");
      await client.set("v/services/web/updated", "2026-11-22T18:00:00Z");
      await client.set("v/services/api/port", "9090", { ttl: 300 });
      await client.set("v/motd", "Welcome!\nSecond line of a longer message");
      await row("services").waitFor();
      await row("services").locator(".toggle").click();
      for (const dir of ["services/api", "services/web"]) {
        await row(dir).waitFor();
        await row(dir).locator(".toggle").click();
      }
      await row("services/web/updated").waitFor();
      const dir = await Deno.makeTempDir({ prefix: "etcd-tree-view-" });
      const path = `${dir}/viewer.png`;
      await page.screenshot({ path, fullPage: true });
      // A PNG of the page's size: the signature, then IHDR's width and height.
      const png = await Deno.readFile(path);
      assert.deepEqual([...png.subarray(0, 8)], [
        137,
        80,
        78,
        71,
        13,
        10,
        26,
        10,
      ]);
      const header = new DataView(png.buffer, png.byteOffset + 16, 8);
      assert.ok(header.getUint32(0) >= 800, `width ${header.getUint32(0)}`);
      assert.ok(header.getUint32(4) >= 300, `height ${header.getUint32(4)}`);
      console.log(`Screenshot of the viewer: ${path}`);
    });
  } finally {
    await browser.close();
    stop.abort();
    const code = await running;
    assert.equal(code, 0, stderr());
  }
});
