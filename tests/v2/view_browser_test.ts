// The viewer in a real browser (Debian's Chromium driven by playwright-core)
// on etcd v2: the tree beside a detail pane, the value editor with its
// compare-and-swap save and side-by-side conflict, the page's own dialogs
// (never alert, confirm or prompt), the keyboard, and writes from elsewhere.

import assert from "node:assert/strict";
import { Client, type Value } from "../../v2/mod.ts";
import { main } from "../../cli/view.ts";
import { startEtcd } from "../../testing.ts";
import { testIo } from "../_cli.ts";
import { launchChromium, screenshot, viewerPage } from "../_view.ts";
import { test, until } from "../_wait.ts";

test("etcd-tree viewer in Chromium", async (t) => {
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
  const browser = await launchChromium();
  const valueOf = async (key: string) =>
    ((await client.get(key)).node as Value).value;
  try {
    const page = await browser.newPage();
    const view = viewerPage(page);
    const { row, value, waitText, editor } = view;
    /** Replaces the editor's text as a user would: select all, type. */
    const type = async (text: string) => {
      await editor.click();
      await page.keyboard.press("Control+a");
      await page.keyboard.press("Backspace");
      await page.keyboard.insertText(text);
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
        await row("d/when").textContent() ?? "",
        /1700000000.+2023/,
      );
    });

    await t.step(
      "a write by the client appears, highlighted, within a second",
      async () => {
        const started = performance.now();
        await client.set("v/a", "2");
        await waitText('.row[data-path="a"] .value', "2", 1000);
        assert.ok(performance.now() - started < 1000);
        assert.match(await row("a").getAttribute("class") ?? "", /changed/);
      },
    );

    await t.step("a delete removes the row", async () => {
      await client.delete("v/b");
      await row("b").waitFor({ state: "detached", timeout: 2000 });
    });

    await t.step(
      "an etcd restart shows reconnecting, then live again",
      async () => {
        await etcd.stop();
        await waitText("#state", "reconnecting", 10_000);
        await etcd.start();
        await waitText("#state", "live", 10_000);
        await client.set("v/a", "3");
        await waitText('.row[data-path="a"] .value', "3", 2000);
      },
    );

    await t.step(
      "a key opens in the detail pane; its editor saves to etcd",
      async () => {
        await row("a").click();
        await editor.waitFor();
        assert.equal(await page.locator("#detail-title").textContent(), "a");
        assert.equal(await page.locator("#meta-size").textContent(), "1 bytes");
        assert.equal(await view.editorText(), "3");
        await type("from the page\nsecond line");
        await page.locator("#save").click();
        await until(
          async () => (await valueOf("v/a")) === "from the page\nsecond line",
          5000,
          "the page's edit to reach etcd",
        );
        await waitText("#detail-note", /^Saved \(index \d+\)\.$/);
        // The tree shows the first line of it.
        await waitText('.row[data-path="a"] .value', "from the page …");
      },
    );

    await t.step(
      "a conflict shows theirs beside mine: take theirs, keep mine, merge",
      async () => {
        const conflictWith = async (mine: string, theirs: string) => {
          await type(mine);
          await client.set("v/a", theirs);
          // The page says so while the user is still editing.
          await waitText("#detail-note", /Changed elsewhere/);
          assert.equal(await view.editorText(), mine, "the edit is kept");
          await page.locator("#save").click();
          await page.locator("#conflict.open").waitFor();
          const sides = await page.locator("#merge .cm-content")
            .allTextContents();
          assert.deepEqual(sides, [theirs, mine]);
        };

        await conflictWith("mine", "theirs");
        assert.equal(await valueOf("v/a"), "theirs", "nothing written yet");
        await page.locator("#take-theirs").click();
        await page.locator("#conflict.open").waitFor({ state: "detached" });
        assert.equal(await view.editorText(), "theirs");

        await conflictWith("mine again", "theirs again");
        await page.locator("#keep-mine").click();
        await until(
          async () => (await valueOf("v/a")) === "mine again",
          5000,
          "mine to be written",
        );
        await page.locator("#conflict.open").waitFor({ state: "detached" });

        await conflictWith("left", "right");
        await screenshot(page, "conflict");
        // Merge by hand in the right-hand side.
        await page.locator("#merge .cm-content").nth(1).click();
        await page.keyboard.press("Control+a");
        await page.keyboard.press("Backspace");
        await page.keyboard.insertText("left and right");
        await page.locator("#save-merge").click();
        await until(
          async () => (await valueOf("v/a")) === "left and right",
          5000,
          "the merge to be written",
        );
      },
    );

    await t.step(
      "invalid JSON is named by line and column; saving it is a choice",
      async () => {
        await type('{\n  "port": 80,\n  "host": }');
        await page.locator("#lang").selectOption("json");
        await waitText("#check", /^Invalid JSON at line 3, column 11: /);
        await page.locator("#save").click();
        assert.match(
          await page.locator("dialog#ask[open]").textContent() ?? "",
          /not valid JSON.*Line 3, column 11/,
        );
        await view.answer("Keep editing");
        assert.equal(await valueOf("v/a"), "left and right", "not saved");
        await page.locator("#save").click();
        await view.answer("Save anyway");
        await until(
          async () =>
            (await valueOf("v/a")) === '{\n  "port": 80,\n  "host": }',
          5000,
          "the invalid value saved on purpose",
        );
        await type('{"port":80,"host":"db"}');
        await waitText("#check", "Valid JSON");
        await page.locator("#format").click();
        assert.equal(
          await view.editorText(),
          '{\n  "port": 80,\n  "host": "db"\n}',
        );
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
        await row("k").locator(".name").click(); // the name, not the triangle
        await row("k/inner").waitFor();
        await page.keyboard.press("Enter");
        await row("k/inner").waitFor({ state: "detached" });
        await page.keyboard.press("ArrowRight");
        await row("k/inner").waitFor();
        await page.keyboard.press("ArrowDown");
        assert.equal(
          await page.locator(":focus").getAttribute("data-path"),
          "k/inner",
        );
        // The key under the cursor is the one shown.
        await waitText("#detail-title", "k/inner");
        await page.keyboard.press("ArrowLeft"); // to its directory
        assert.equal(
          await page.locator(":focus").getAttribute("data-path"),
          "k",
        );
      },
    );

    await t.step(
      "deleting a directory asks first, in the page, naming how many keys go",
      async () => {
        await client.set("v/del/x", "1");
        await client.set("v/del/y/z", "2");
        await row("del").waitFor();
        await row("del").click();
        await page.locator("#detail-tools button", { hasText: "delete" })
          .click();
        assert.match(
          await page.locator("dialog#ask[open]").textContent() ?? "",
          /Delete del\/ and the 2 keys in it\?/,
        );
        await view.answer("Cancel");
        assert.ok(await client.get("v/del/y/z"), "nothing deleted");
        await page.locator("#detail-tools button", { hasText: "delete" })
          .click();
        await view.answer("Delete");
        await row("del").waitFor({ state: "detached", timeout: 5000 });
        await assert.rejects(client.get("v/del"));
      },
    );

    await t.step(
      "a directory with keys the page does not show stays",
      async () => {
        await client.set("v/guarded/item", "1");
        await client.set("v/guarded/_hidden", "h");
        await row("guarded").click();
        await page.locator("#detail-tools button", { hasText: "delete" })
          .click();
        await view.answer("Delete");
        await waitText("#notice-text", /changed elsewhere/);
        assert.equal(await valueOf("v/guarded/_hidden"), "h");
      },
    );

    await t.step(
      "add creates only: a new key in the editor, an existing name refused",
      async () => {
        await row("d").click();
        await page.locator("#detail-tools button", { hasText: "add key" })
          .click();
        await page.locator("dialog#ask input[name=key]").fill("when");
        await view.answer("Add");
        await waitText("#notice-text", /d\/when exists already/);
        assert.equal(await valueOf("v/d/when"), "1700000000");

        await page.locator("#detail-tools button", { hasText: "add key" })
          .click();
        await page.locator("dialog#ask input[name=key]").fill("fresh");
        await view.answer("Add");
        await waitText("#detail-title", "d/fresh (new)");
        await type("made here");
        await page.locator("#save").click();
        await until(
          async () =>
            (await valueOf("v/d/fresh").catch(() => "")) === "made here",
          5000,
          "the new key",
        );
        // A directory, on v2.
        await page.locator("#add-root").click();
        await page.locator("dialog#ask input[name=key]").fill("newdir");
        await page.locator("dialog#ask input[name=dir]").check();
        await view.answer("Add");
        await row("newdir").waitFor();
      },
    );

    await t.step(
      "controls and bidi overrides are shown, not obeyed, in the tree and the editor",
      async () => {
        await client.set("v/bidi", "abc\u202edef\u0007<img src=x>");
        await waitText(
          '.row[data-path="bidi"] .value',
          "abc\\u202edef\\u0007<img src=x>",
        );
        await row("bidi").click();
        await editor.waitFor();
        // CodeMirror draws them as placeholders.
        assert.equal(await page.locator("#editor .cm-specialChar").count(), 2);
        // The markup is text, never an element.
        assert.equal(await page.locator("img[src]").count(), 0);
        assert.match(await view.editorText(), /<img src=x>$/);
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
      const before = await valueOf("v/a");
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
      assert.equal(await valueOf("v/a"), before);
    });

    await t.step("the leases and members pages say they need v3", async () => {
      await page.locator("#show-leases").click();
      await waitText("#panel-error", /^The leases page needs etcd's v3 API; /);
      await page.locator("#show-members").click();
      await waitText("#panel-error", /^The members page needs etcd's v3 API; /);
      await page.locator("#panel-close").click();
      await row("a").waitFor();
    });

    await t.step("no native dialog was ever opened", async () => {
      assert.deepEqual(view.native, []);
      const html = await (await fetch(url)).text();
      assert.doesNotMatch(html, /\b(alert|confirm|prompt)\(/);
    });
  } finally {
    await browser.close();
    stop.abort();
    const code = await running;
    assert.equal(code, 0, stderr());
  }
});
