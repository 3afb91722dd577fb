// The viewer on etcd v3 in a real browser (Debian's Chromium), on a
// Kubernetes-like key space written by etcdctl: each key's revisions,
// version, lease and TTL in the detail pane; a large CRD that stays one row
// of the tree and opens as pretty JSON; binary values shown safely; a key's
// history in full with diffs and a guarded restore, also after compaction;
// the tree as of a revision, labelled as such; a virtualized tree of many
// keys.

import assert from "node:assert/strict";
import { main } from "../../cli/view.ts";
import { op } from "../../mod.ts";
import { Client } from "../_v3.ts";
import { startEtcd } from "../../testing.ts";
import { testIo } from "../_cli.ts";
import {
  bigCrd,
  CONFIG_VERSIONS,
  loadK8sSpace,
  protobufish,
} from "../_k8s_space.ts";
import { Buffer } from "node:buffer";
import { launchChromium, screenshot, viewerPage } from "../_view.ts";
import { test, until } from "../_wait.ts";

const CRD =
  "apiextensions.k8s.io/customresourcedefinitions/widgets.example.com";
const CONFIG = "configmaps/default/web";

test("etcd-tree viewer on etcd v3, in Chromium", async (t) => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  const first = await client.put("v/a", "one");
  await client.put("v/a", "two");
  await client.put("v/logo", new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0xff]));
  const lease = await client.lease.grant(120);
  await client.put("v/session", "s", { lease: lease.id });
  await loadK8sSpace(etcd, "v");
  const stop = new AbortController();
  const { io, stdout } = testIo("", stop.signal);
  const running = main(["v", "--write", "--endpoints", etcd.endpoint], io);
  await until(() => stdout().includes("\n"), 10_000, "the viewer's URL");
  const url = stdout().trim();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({
      viewport: { width: 1280, height: 800 },
    });
    const view = viewerPage(page);
    const { row, value, waitText } = view;
    const meta = async (term: string) =>
      (await page.locator(`#meta-${term}`).textContent())?.trim();
    /** Opens the directories on the way to `path`, then selects it. */
    const open = async (path: string) => {
      const parts = path.split("/");
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join("/");
        if ((await row(dir).getAttribute("aria-expanded")) !== "true") {
          await row(dir).locator(".toggle").click();
        }
      }
      await row(path).click();
      await waitText("#detail-title", path);
    };

    await t.step(
      "revisions, version and lease of the selected key",
      async () => {
        await page.goto(url);
        await row("a").waitFor();
        await row("a").click();
        await view.editor.waitFor();
        assert.equal(await meta("modRevision"), String(first.revision + 1));
        assert.equal(await meta("createRevision"), String(first.revision));
        assert.equal(await meta("version"), "2");
        assert.equal(await meta("lease"), "none");
        assert.equal(await meta("size"), "3 bytes");
        await row("session").click();
        await waitText("#detail-title", "session");
        assert.equal(await meta("lease"), lease.id);
        assert.match(await meta("TTL") ?? "", /^1[01]\d s$/, "a countdown");
        assert.match(
          await row("session").locator(".ttl").textContent() ?? "",
          /^1[01]\d s$/,
        );
      },
    );

    await t.step("a live write appears with its revision", async () => {
      const { revision } = await client.put("v/a", "three");
      await waitText('.row[data-path="a"] .value', "three");
      await row("a").click();
      await waitText("#meta-modRevision", String(revision));
      assert.equal(await meta("version"), "3");
      assert.match(
        await page.locator("#revision").textContent() ?? "",
        new RegExp(`revision ${revision}$`),
      );
    });

    await t.step(
      "an 86 KB CRD is one row of the tree, and pretty JSON in the editor",
      async () => {
        await open(CRD);
        // Rows are redrawn (TTLs count down): measure one that stays.
        let box = null;
        while (box === null) box = await row(CRD).boundingBox();
        assert.ok(box.height <= 24, `row ${box.height} px`);
        assert.equal(await page.locator("#lang").inputValue(), "json");
        await waitText("#check", "Valid JSON");
        assert.equal(await meta("size"), `${bigCrd().length} bytes`);
        await page.locator("#format").click();
        assert.match(
          (await page.locator("#editor .cm-line").first().textContent()) ?? "",
          /^\{$/,
        );
        await screenshot(page, "editor");
        // The editor is no taller than its pane allows.
        const editor = await page.locator("#editor .cm-editor").boundingBox();
        assert.ok(editor !== null && editor.height <= 800, `${editor?.height}`);
        await page.locator("#revert").click();
      },
    );

    await t.step("YAML and PEM are recognized and checked", async () => {
      await open("configmaps/default/app.yaml");
      assert.equal(await page.locator("#lang").inputValue(), "yaml");
      await waitText("#check", "Valid YAML");
      await view.editor.click();
      await page.keyboard.press("Control+End");
      await page.keyboard.insertText("  bad: [\n");
      await waitText("#check", /^Invalid YAML at line \d+, column \d+: /);
      await page.locator("#revert").click();
      await open("secrets/default/tls.crt");
      assert.equal(await page.locator("#lang").inputValue(), "pem");
      await waitText("#check", "Valid PEM");
    });

    await t.step(
      "a binary value is shown safely, and never edited as text",
      async () => {
        assert.equal(
          await value("logo").textContent(),
          "5 bytes: 89 50 4e 47 ff",
        );
        await row("logo").click();
        await waitText("#detail-title", "logo");
        assert.equal(await page.locator("#save").count(), 0, "no save");
        await open("pods/default/web-0");
        assert.match(
          await value("pods/default/web-0").textContent() ?? "",
          /^\d+ bytes: 6b 38 73 00/,
        );
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
      "bytes: hex with ASCII, download, upload of a file (guarded)",
      async () => {
        const pod = "pods/default/web-0";
        await open(pod);
        const dump = await page.locator("#hexdump").textContent() ?? "";
        assert.match(
          dump.split("\n")[0]!,
          /^00000000 {2}6b 38 73 00 0a 0b 76 31 12 50 6f 64 1a 77 65 62 {2}\|k8s\.\.\.v1\.Pod\.web\|$/,
        );
        const [download] = await Promise.all([
          page.waitForEvent("download"),
          page.locator("#download").click(),
        ]);
        assert.equal(download.suggestedFilename(), "web-0");
        assert.deepEqual(
          await Deno.readFile(await download.path()),
          protobufish("web-0"),
        );
        const file = new Uint8Array([0x6b, 0x38, 0x73, 0, 1, 2, 3, 0xfe]);
        const upload = () =>
          page.locator("#upload").setInputFiles({
            name: "web-0.bin",
            mimeType: "application/octet-stream",
            buffer: Buffer.from(file),
          });
        // Changed elsewhere while the page asks: not uploaded.
        await upload();
        await page.locator("dialog#ask[open]").waitFor();
        assert.match(
          await page.locator("dialog#ask[open]").textContent() ?? "",
          /with the 8 bytes of web-0\.bin/,
        );
        const again = await client.put(
          `v/${pod}`,
          protobufish("web-0, again"),
        );
        await view.answer("Upload");
        await waitText("#notice-text", /^Not uploaded: .*changed meanwhile/);
        assert.deepEqual(
          (await client.get(`v/${pod}`))?.valueBytes,
          protobufish("web-0, again"),
        );
        // Once the page shows their write, the upload replaces it.
        await waitText("#meta-modRevision", String(again.revision));
        await upload();
        await view.answer("Upload");
        await waitText("#notice-text", /^Uploaded web-0\.bin as revision \d+/);
        assert.deepEqual((await client.get(`v/${pod}`))?.valueBytes, file);
        await waitText("#hexdump", /^00000000 {2}6b 38 73 00 01 02 03 fe /);
        await screenshot(page, "bytes");
      },
    );

    await t.step(
      "history: every version in full, diffs, where it starts",
      async () => {
        await open(CONFIG);
        await page.locator("#detail-tools button", { hasText: "history" })
          .click();
        await page.locator("#versions").waitFor();
        assert.match(
          await page.locator("#history-start").textContent() ?? "",
          /^Complete: created at revision \d+\.$/,
        );
        const full = await page.locator("#versions pre.full")
          .allTextContents();
        assert.deepEqual(full, [...CONFIG_VERSIONS].reverse());
        // The newest against now: the same.
        await waitText("#diff", "No difference.");
        // The oldest against now: a line diff of the pretty-printed JSON.
        await page.locator("#versions details").last().locator("summary")
          .click();
        await page.locator("#versions details").last().getByRole("button", {
          name: "diff with now",
        }).click();
        assert.deepEqual(
          await page.locator("#diff .removed").allTextContents(),
          ['-   "replicas": 1,', '-   "image": "web:1.0"'],
        );
        assert.deepEqual(
          await page.locator("#diff .added").allTextContents(),
          [
            '+   "replicas": 3,',
            '+   "image": "web:1.1",',
            '+   "debug": false',
          ],
        );
        // Between two versions of the past.
        const option = (i: number) =>
          page.locator("#diff-from option").nth(i).getAttribute("value");
        const revisions = [await option(0), await option(1), await option(2)];
        await page.locator("#diff-from").selectOption(revisions[2]!);
        await page.locator("#diff-to").selectOption(revisions[1]!);
        assert.deepEqual(
          await page.locator("#diff .added").allTextContents(),
          ['+   "replicas": 3,'],
        );
        await screenshot(page, "history");
      },
    );

    await t.step(
      "restore a version: asked first, then a guarded write",
      async () => {
        await page.locator("#versions details").last().getByRole("button", {
          name: "restore this version",
        }).click();
        assert.match(
          await page.locator("dialog#ask[open]").textContent() ?? "",
          /Write revision \d+'s value over the value of revision \d+/,
        );
        await view.answer("Cancel");
        assert.equal(
          (await client.get(`v/${CONFIG}`))?.value,
          CONFIG_VERSIONS.at(-1),
        );
        // Changed since the history was read: the restore asks to replace
        // what the page shows now, and only that.
        await client.put(`v/${CONFIG}`, '{"replicas":5}');
        const { revision } = await client.put(`v/${CONFIG}`, '{"replicas":6}');
        await waitText("#meta-modRevision", String(revision));
        await page.locator("#versions details").last().getByRole("button", {
          name: "restore this version",
        }).click();
        assert.match(
          await page.locator("dialog#ask[open]").textContent() ?? "",
          new RegExp(`over the value of revision ${revision} `),
        );
        await view.answer("Restore");
        await waitText("#notice-text", /Restored revision \d+ as revision \d+/);
        assert.equal(
          (await client.get(`v/${CONFIG}`))?.value,
          CONFIG_VERSIONS[0],
        );
        await waitText(
          '.row[data-path="configmaps/default/web"] .value',
          CONFIG_VERSIONS[0]!,
        );
      },
    );

    await t.step(
      "after compaction: history says where it starts, restore still works",
      async () => {
        const { revision } = await client.put(`v/${CONFIG}`, '{"replicas":7}');
        await client.put(`v/${CONFIG}`, '{"replicas":8}');
        await client.compact(revision);
        await waitText(
          '.row[data-path="configmaps/default/web"] .value',
          '{"replicas":8}',
        );
        await page.locator("#detail-tools button", { hasText: "history" })
          .click();
        await waitText(
          "#history-start",
          new RegExp(
            `^Starts at revision ${revision} \\(version \\d+\\): older versions were compacted`,
          ),
        );
        assert.deepEqual(
          await page.locator("#versions pre.full").allTextContents(),
          ['{"replicas":8}', '{"replicas":7}'],
        );
        await page.locator("#versions details").last().locator("summary")
          .click();
        await page.locator("#versions details").last().getByRole("button", {
          name: "restore this version",
        }).click();
        await view.answer("Restore");
        await until(
          async () =>
            (await client.get(`v/${CONFIG}`))?.value === '{"replicas":7}',
          5000,
          "the restore after compaction",
        );
      },
    );

    await t.step(
      "search keys and values: matches marked, other directories hidden",
      async () => {
        const shown = async () =>
          (await page.locator(".row").evaluateAll((rows) =>
            rows.map((row) => row.getAttribute("data-path"))
          )).sort();
        const marks = () => page.locator(".row mark").allTextContents();
        await page.locator("#search").fill("web-");
        await waitText("#count", /^2 of \d+ keys match$/);
        assert.deepEqual(await shown(), [
          "pods",
          "pods/default",
          "pods/default/web-0",
          "pods/default/web-1",
        ]);
        assert.deepEqual(await marks(), ["web-", "web-"]);
        // A pattern: a regular expression over the whole key.
        await page.locator("#search-in").selectOption("regex");
        await page.locator("#search").fill("^(pods|configmaps)/.*[0-]0?$");
        await waitText("#count", /^2 of \d+ keys match$/);
        assert.deepEqual(await shown(), [
          "pods",
          "pods/default",
          "pods/default/db-0",
          "pods/default/web-0",
        ]);
        // Values: the match shown in the row, marked.
        await page.locator("#search-in").selectOption("value");
        await page.locator("#search").fill("port: 8080");
        await waitText("#count", /^1 of \d+ keys match$/);
        await screenshot(page, "search");
        assert.deepEqual(await shown(), [
          "configmaps",
          "configmaps/default",
          "configmaps/default/app.yaml",
        ]);
        assert.deepEqual(await marks(), ["port: 8080"]);
        // Deep inside the 86 KB CRD.
        await page.locator("#search").fill("Field number 123 ");
        await waitText("#count", /^1 of \d+ keys match$/);
        assert.deepEqual(await marks(), ["Field number 123 "]);
        await page.locator("#search").fill("");
        await page.locator("#search-in").selectOption("key");
        await waitText("#count", /^\d+ keys$/);
        await row("a").waitFor();
      },
    );

    await t.step("the tree as of a revision says so, read-only", async () => {
      // Before the compaction point: refused, saying why.
      await page.locator("#asof").fill(String(first.revision));
      await page.locator("#show-past").click();
      await waitText("#notice-text", /compacted/);
      const { revision } = await client.put("v/new", "later");
      await row("new").waitFor();
      await page.locator("#asof").fill(String(revision - 1));
      await page.locator("#show-past").click();
      await waitText("#state", `as of revision ${revision - 1}`);
      assert.equal(await row("new").count(), 0, "not there yet then");
      await row("a").click();
      await view.editor.waitFor();
      assert.equal(await page.locator("#save").count(), 0, "read-only");
      // Live changes do not reach a past view, and do not relabel it.
      await client.put("v/a", "while in the past");
      await page.waitForTimeout(300);
      assert.equal(
        await page.locator("#state").textContent(),
        `as of revision ${revision - 1}`,
      );
      await page.locator("#back").click();
      await row("new").waitFor();
      await waitText("#state", "live");
    });

    await t.step("no native dialog was ever opened", () => {
      assert.deepEqual(view.native, []);
    });
  } finally {
    await browser.close();
    stop.abort();
    await running;
  }
});

test("the viewer's tree is virtualized: 20,000 keys, a few rows in the page", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  const keys = 20_000;
  for (let start = 0; start < keys; start += 128) {
    const puts = [];
    for (let i = start; i < Math.min(keys, start + 128); i++) {
      puts.push(op.put(`big/k${String(i).padStart(5, "0")}`, `value ${i}`));
    }
    await client.txn({ success: puts });
  }
  const stop = new AbortController();
  const { io, stdout } = testIo("", stop.signal);
  const running = main(["big", "--endpoints", etcd.endpoint], io);
  await until(() => stdout().includes("\n"), 10_000, "the viewer's URL");
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({
      viewport: { width: 1280, height: 800 },
    });
    const view = viewerPage(page);
    await page.goto(stdout().trim());
    await view.row("k00000").waitFor();
    assert.equal(await page.locator("#count").textContent(), "20000 keys");
    const rows = await page.locator(".row").count();
    assert.ok(rows < 100, `${rows} rows in the page`);
    // The keyboard walks to the end; the last key is there and focused.
    await view.row("k00000").click();
    await page.keyboard.press("End");
    await view.row("k19999").waitFor();
    assert.equal(
      await page.locator(":focus").getAttribute("data-path"),
      "k19999",
    );
    await view.waitText("#detail-title", "k19999");
    assert.ok((await page.locator(".row").count()) < 100);
    // Scrolling by the wheel shows the rows in between.
    await page.keyboard.press("Home");
    await view.row("k00000").waitFor();
    await page.mouse.move(200, 300);
    await page.mouse.wheel(0, 24 * 10_000);
    await view.row("k10010").waitFor();
  } finally {
    await browser.close();
    stop.abort();
    await running;
  }
});
