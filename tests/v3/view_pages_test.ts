// The viewer's Kubernetes, leases, members and subtree-diff pages on etcd
// 3.5, in a real browser (Debian's Chromium), used as a user would: clicks,
// typing and the keyboard. Values are written as Kubernetes writes them
// (protobuf behind "k8s\0", JSON, encrypted at rest).

import assert from "node:assert/strict";
import { Client } from "../../mod.ts";
import { startCluster, startEtcd } from "../../testing.ts";
import { k8sPod, k8sSecret } from "../_k8s_space.ts";
import { launchChromium, screenshot, startView, viewerPage } from "../_view.ts";
import { test, until } from "../_wait.ts";

const POD = "pods/default/api";
const SECRET = "secrets/default/db";
const HOSTILE = "<img src=x>\u202eevil";

test("etcd-tree viewer: Kubernetes objects decoded, read-only; changes between revisions", async (t) => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  const first = await client.put(
    `k/${POD}`,
    k8sPod("api", "default", { app: "api", note: HOSTILE }, "api:1.0"),
  );
  await client.put(
    `k/${SECRET}`,
    k8sSecret("db", "default", { password: "hunter2" }),
  );
  await client.put(
    "k/widgets/default/w1",
    JSON.stringify({
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w1", namespace: "default" },
      spec: { size: 3 },
    }),
  );
  await client.put(
    "k/secrets/default/sealed",
    new Uint8Array([
      ...new TextEncoder().encode("k8s:enc:aescbc:v1:key1:"),
      0x00,
      0xff,
      0x13,
      0x37,
    ]),
  );
  await client.put("k/plain", "just text");
  const view = await startView(["k", "--endpoints", etcd.endpoint]);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({
      viewport: { width: 1280, height: 800 },
    });
    const viewer = viewerPage(page);
    const { row, waitText } = viewer;
    const field = (name: string) => page.locator(`#k8s-${name}`);
    const objectText = async () =>
      (await page.locator("#k8s-object .cm-line").allTextContents()).join(
        "\n",
      );
    /** Opens the directories on the way to `path`, then selects it. */
    const open = async (path: string) => {
      const parts = path.split("/");
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join("/");
        if ((await row(dir).getAttribute("aria-expanded")) !== "true") {
          await row(dir).click();
        }
      }
      await row(path).click();
      await waitText("#detail-title", path);
    };
    await page.goto(view.url.href);

    await t.step(
      "a Pod in protobuf: identity, labels, the object by field name",
      async () => {
        await open(POD);
        await waitText("#k8s-kind", "Pod");
        assert.equal(await field("apiVersion").textContent(), "v1");
        assert.equal(
          await field("stored-as").textContent(),
          "protobuf (k8s\\0)",
        );
        assert.equal(await field("name").textContent(), "api");
        assert.equal(await field("namespace").textContent(), "default");
        assert.equal(await field("uid").textContent(), "uid-of-api");
        // Hostile text from etcd is shown escaped, never obeyed.
        assert.equal(
          await field("labels").textContent(),
          "app=api, note=<img src=x>\\u202eevil",
        );
        await page.locator("#k8s-object .cm-line").first().waitFor();
        assert.match(await objectText(), /"image": "api:1\.0"/);
        assert.match(await objectText(), /"note": "<img src=x>\\u202eevil"/);
        assert.equal(await page.locator("img[src]").count(), 0);
        // Read-only: typing into the decoded view changes nothing.
        const before = await objectText();
        await page.locator("#k8s-object .cm-content").click();
        await page.keyboard.type("typed");
        assert.equal(await objectText(), before);
        // The stored value is still there below it.
        assert.equal(await page.locator("#editor").isVisible(), true);
        await screenshot(page, "k8s");
      },
    );

    await t.step("a live change of the object shows at once", async () => {
      await client.put(
        `k/${POD}`,
        k8sPod("api", "default", { app: "api" }, "api:2.0"),
      );
      await waitText("#k8s-labels", "app=api");
      await page.locator("#k8s-object .cm-line").first().waitFor();
      assert.match(await objectText(), /"image": "api:2\.0"/);
    });

    await t.step(
      "a Secret's data is hidden, and the stored bytes too, until asked",
      async () => {
        await open(SECRET);
        await waitText("#k8s-kind", "Secret");
        await waitText(
          "#k8s-note",
          "1 secret value is hidden, and so is the stored value.",
        );
        await page.locator("#k8s-object .cm-line").first().waitFor();
        const hidden = await objectText();
        assert.match(hidden, /"password": "<hidden: 7 bytes>"/);
        assert.doesNotMatch(hidden, /aHVudGVyMg/);
        assert.equal(await page.locator("#editor").isVisible(), false);
        const shown = await page.locator("#detail").innerText();
        assert.doesNotMatch(shown, /hunter2|aHVudGVyMg|68 75 6e 74/);
        // Nor in the tree's one-line preview of the value.
        const tree = await page.locator("#tree").innerText();
        assert.doesNotMatch(tree, /hunter2|aHVudGVyMg|68 75 6e 74/);
        assert.match(tree, /Secret: \d+ bytes, hidden/);
        await screenshot(page, "k8s-secret");
        // Asked with the keyboard: the server is asked again, with the data.
        await page.locator("#show-secrets").focus();
        await page.keyboard.press("Enter");
        await page.locator("#editor").waitFor({ state: "visible" });
        await page.locator("#k8s-object .cm-line").first().waitFor();
        assert.match(await objectText(), /"password": "aHVudGVyMg=="/);
        assert.equal(await page.locator("#show-secrets").count(), 0);
      },
    );

    await t.step(
      "a JSON custom resource, an encrypted value, a plain value",
      async () => {
        await open("widgets/default/w1");
        await waitText("#k8s-kind", "Widget");
        assert.equal(await field("stored-as").textContent(), "JSON");
        assert.equal(await field("apiVersion").textContent(), "example.com/v1");
        // The keyboard moves on; each key's pane follows.
        await open("secrets/default/sealed");
        await waitText("#k8s-stored-as", "encrypted at rest (aescbc:v1:key1)");
        await waitText(
          "#k8s-note",
          "Encrypted by the API server; the viewer cannot decode it.",
        );
        assert.equal(await page.locator("#k8s-object").count(), 0);
        await page.keyboard.press("ArrowUp");
        await waitText("#detail-title", SECRET);
        await waitText("#k8s-kind", "Secret");
        await page.keyboard.press("Home");
        await waitText("#detail-title", "plain");
        await page.locator("#editor .cm-line").first().waitFor();
        assert.equal(await page.locator("#k8s").isVisible(), false);
      },
    );

    await t.step("as of a revision, the object as it was then", async () => {
      await page.locator("#asof").fill(String(first.revision));
      await page.locator("#asof").press("Enter");
      await page.locator("#show-past").click();
      await waitText("#state", `as of revision ${first.revision}`);
      await open(POD);
      await waitText("#k8s-kind", "Pod");
      await page.locator("#k8s-object .cm-line").first().waitFor();
      assert.match(await objectText(), /"image": "api:1\.0"/);
      await page.locator("#back").click();
      await waitText("#state", "live");
    });

    await t.step(
      "changes between two revisions: added, removed, changed with a line diff",
      async () => {
        const from = await client.put("k/plain", "just text, again");
        await client.put("k/added", "new");
        await client.put(`k/${HOSTILE}`, "hostile");
        await client.delete("k/plain");
        const to = await client.put(
          "k/widgets/default/w1",
          JSON.stringify({
            apiVersion: "example.com/v1",
            kind: "Widget",
            metadata: { name: "w1", namespace: "default" },
            spec: { size: 5 },
          }),
        );
        await client.put("k/later", "after");
        await page.locator("#sdiff-from").click();
        await page.keyboard.type(String(from.revision));
        await page.keyboard.press("Tab");
        await page.keyboard.type(String(to.revision));
        await page.keyboard.press("Enter");
        await waitText(
          "#panel-title",
          `Changes from revision ${from.revision} to revision ${to.revision}`,
        );
        assert.equal(
          await page.locator("#sdiff-count").textContent(),
          "2 added, 1 removed, 1 changed",
        );
        assert.deepEqual(
          await page.locator("#sdiff-added li").allTextContents(),
          ["+ <img src=x>\\u202eevil", "+ added"],
        );
        assert.equal(await page.locator("img[src]").count(), 0);
        assert.deepEqual(
          await page.locator("#sdiff-removed li").allTextContents(),
          ["- plain"],
        );
        await page.locator("#sdiff-changed button", {
          hasText: "widgets/default/w1",
        }).click();
        assert.deepEqual(
          await page.locator("#sdiff-changed .removed").allTextContents(),
          ['-     "size": 3'],
        );
        assert.deepEqual(
          await page.locator("#sdiff-changed .added").allTextContents(),
          ['+     "size": 5'],
        );
        await screenshot(page, "changes");
        // To now: what came after is there too.
        await page.locator("#sdiff-to").fill("");
        await page.locator("#show-diff").click();
        await waitText("#sdiff-count", "3 added, 1 removed, 1 changed");
        assert.match(
          await page.locator("#panel-title").textContent() ?? "",
          new RegExp(
            `^Changes from revision ${from.revision} to now \\(revision \\d+\\)$`,
          ),
        );
        // Before the compaction point: refused, saying why.
        await client.compact(from.revision);
        await page.locator("#sdiff-from").fill(String(first.revision));
        await page.locator("#sdiff-from").press("Enter");
        await waitText("#panel-error", /compacted/);
        await page.locator("#panel-close").click();
      },
    );

    await t.step("the endpoint refuses what is not a key's value", async () => {
      const at = (query: string) =>
        fetch(new URL(`/decoded?token=${view.token}&${query}`, view.url));
      const missing = await at("path=nothing");
      assert.equal(missing.status, 404);
      assert.match((await missing.json()).error, /^No value at nothing$/);
      const bad = await at(`path=added&revision=x`);
      assert.equal(bad.status, 400);
      await bad.body?.cancel();
      const plain = await (await at("path=added")).json();
      assert.deepEqual(plain, { path: "added", k8s: null });
      const noToken = await fetch(new URL(`/decoded?path=added`, view.url));
      assert.equal(noToken.status, 403);
      await noToken.body?.cancel();
    });

    await t.step("no native dialog was ever opened", () => {
      assert.deepEqual(viewer.native, []);
    });
  } finally {
    await browser.close();
    await view.stop();
  }
});

test("etcd-tree viewer: the leases and members pages, on 3 members", async (t) => {
  await using cluster = await startCluster(3, { version: "3.5" });
  const [one] = cluster.members;
  await using client = new Client({ endpoints: cluster.endpoints });
  const kept = await client.lease.grant(600);
  await client.put("k/sessions/a", "1", { lease: kept.id });
  await client.put("k/sessions/b", "2", { lease: kept.id });
  await client.put(`k/sessions/${HOSTILE}`, "3", { lease: kept.id });
  const short = await client.lease.grant(90);
  await client.put("elsewhere/x", "4", { lease: short.id });
  const bare = await client.lease.grant(300);
  const view = await startView(["k", "--endpoints", one!.endpoint]);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({
      viewport: { width: 1280, height: 800 },
    });
    const viewer = viewerPage(page);
    const lease = (id: string) =>
      page.locator(`#leases tr[data-lease="${id}"]`);
    const cells = async (row: import("playwright-core").Locator) =>
      await row.locator("td").allTextContents();
    await page.goto(view.url.href);
    await viewer.row("sessions").waitFor();

    await t.step(
      "leases: hex IDs, TTL counting down, attached keys",
      async () => {
        await page.locator("#show-leases").click();
        await lease(kept.id).waitFor();
        assert.match(kept.id, /^[0-9a-f]{16}$/);
        assert.equal(
          await page.locator("#lease-count").textContent(),
          "3 leases",
        );
        const [id, ttl, granted, keys] = await cells(lease(kept.id));
        assert.equal(id, kept.id);
        assert.match(ttl!, /^(59\d|600) s$/);
        assert.equal(granted, "600 s");
        // Sorted keys, escaped: controls and markup shown, never obeyed.
        assert.equal(
          keys,
          "k/sessions/<img src=x>\\u202eevilk/sessions/ak/sessions/b",
        );
        assert.equal(await page.locator("img[src]").count(), 0);
        assert.deepEqual((await cells(lease(short.id))).slice(2), [
          "90 s",
          "elsewhere/x",
        ]);
        assert.equal((await cells(lease(bare.id)))[3], "none");
        // The TTL counts down between etcd's answers.
        const before = Number((await cells(lease(short.id)))[1]!.split(" ")[0]);
        await until(
          async () =>
            Number((await cells(lease(short.id)))[1]!.split(" ")[0]) < before,
          5000,
          "the TTL to count down",
        );
        await screenshot(page, "leases");
      },
    );

    await t.step("a revoked lease goes at the next refresh", async () => {
      await client.lease.revoke(bare.id);
      await page.locator("#panel-refresh").click();
      await lease(bare.id).waitFor({ state: "detached" });
      await viewer.waitText("#lease-count", "2 leases");
    });

    await t.step("a key of the subtree opens in the tree", async () => {
      await lease(kept.id).getByRole("button", { name: "k/sessions/b" })
        .click();
      await viewer.waitText("#detail-title", "sessions/b");
      assert.equal(await page.locator("#panel").isVisible(), false);
      assert.equal(await page.locator("#meta-lease").textContent(), kept.id);
      // A key outside the subtree is text, not a link.
      await page.locator("#show-leases").click();
      await lease(short.id).waitFor();
      assert.equal(
        await lease(short.id).getByRole("button").count(),
        0,
      );
      await page.keyboard.press("Escape");
      await page.locator("#panel").waitFor({ state: "hidden" });
    });

    await t.step(
      "members: the leader, versions, db size, raft index",
      async () => {
        const status = await client.maintenance.status();
        const members = await client.cluster.members();
        const leader = members.find((member) => member.id === status.leader)!;
        await page.locator("#show-members").click();
        await page.locator("#members tbody tr").nth(2).waitFor();
        assert.equal(await page.locator("#members tbody tr").count(), 3);
        for (const member of members) {
          const row = page.locator(
            `#members tr[data-member="${member.idHex}"]`,
          );
          const [name, id, role, version, db, index] = await cells(row);
          assert.equal(name, member.name);
          assert.equal(id, member.idHex);
          assert.equal(role, member === leader ? "leader" : "follower");
          assert.match(version!, /^3\.5\.\d+$/);
          assert.match(db!, /^\d+\.\d [KM]B \(\d+\.\d [KM]B in use\)$/);
          assert.ok(Number(index) >= status.raftIndex - 50, index);
        }
        assert.equal(
          await page.locator("#members .badge", { hasText: "leader" }).count(),
          1,
        );
        assert.deepEqual(
          await page.locator("#members td.alarms").allTextContents(),
          ["none", "none", "none"],
        );
      },
    );

    await t.step("an alarm is shown on its member", async () => {
      const members = await client.cluster.members();
      const target = members[1]!;
      // etcd's own API raises it, as a full disk would.
      const raised = await fetch(`${one!.endpoint}/v3/maintenance/alarm`, {
        method: "POST",
        body: JSON.stringify({
          action: "ACTIVATE",
          memberID: target.id,
          alarm: "NOSPACE",
        }),
      });
      assert.equal(raised.status, 200, await raised.text());
      await page.locator("#panel-refresh").click();
      await viewer.waitText(
        `#members tr[data-member="${target.idHex}"] td.alarms`,
        "NOSPACE",
      );
      await screenshot(page, "members");
      assert.equal(
        await page.locator("#members .badge.alarm").count(),
        1,
      );
    });

    await t.step("no native dialog was ever opened", () => {
      assert.deepEqual(viewer.native, []);
    });
  } finally {
    await browser.close();
    await view.stop();
  }
});
