// The viewer's writes on etcd v3: a set, delete or upload from a page that
// shows an old version is refused (409) and etcd keeps the other client's value,
// whether the viewer has seen the change already or not yet.

import assert from "node:assert/strict";
import { Client } from "../_v3.ts";
import { startEtcd } from "../../testing.ts";
import { startProxy } from "../_proxy.ts";
import { startView } from "../_view.ts";
import { test, until, within } from "../_wait.ts";

test("the viewer's compare-and-swap on etcd v3", async (t) => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  for (const name of ["a", "b", "c", "d", "e"]) {
    await client.put(`v/${name}`, "1");
  }
  await using proxy = startProxy(etcd.clientPort);
  // The proxy stalls the viewer's watch as an HTTP/1.1 stream: the gateway's.
  const view = await startView([
    "v",
    "--write",
    "--endpoints",
    proxy.endpoint,
    "--transport",
    "gateway",
  ]);
  const at = (path: string) =>
    new URL(`${path}?token=${view.token}`, view.url).href;
  /** The version of a key the page shows now. */
  const shown = async (path: string) => {
    const tree = await (await fetch(at("/tree"))).json();
    const node = new Map(tree.nodes).get(path) as
      | { modifiedIndex: number }
      | undefined;
    return node?.modifiedIndex;
  };
  /** A write as the page sends it: JSON, from the page's own origin. */
  const write = (body: unknown) =>
    fetch(at("/write"), {
      method: "POST",
      body: JSON.stringify(body),
      headers: {
        "content-type": "application/json",
        origin: view.url.origin,
      },
    });
  /** Asserts a 409 that shows the other client's value. */
  const conflict = async (answer: Response) => {
    assert.equal(answer.status, 409);
    assert.equal((await answer.json()).current, "theirs");
  };

  try {
    await t.step(
      "a stale set or delete is 409 once the viewer shows the change",
      async () => {
        for (const [op, path] of [["set", "a"], ["delete", "b"]] as const) {
          const seen = await shown(path);
          assert.ok(seen !== undefined);
          await client.put(`v/${path}`, "theirs");
          await until(
            async () => await shown(path) !== seen,
            10_000,
            "the viewer to show the change",
          );
          await conflict(
            await write({ op, path, value: "mine", modifiedIndex: seen }),
          );
          assert.equal((await client.get(`v/${path}`))?.value, "theirs", op);
        }
      },
    );

    await t.step(
      "a stale set or delete is 409 while the viewer has not seen the change",
      async () => {
        // Hold back what etcd sends on the viewer's watch: its mirror, and
        // so the version the page compares with, stays the old one.
        const watches: number[] = [];
        for (let n = 1; n <= proxy.accepted; n++) {
          if (
            proxy.requestsOf(n).some((line) =>
              line.startsWith("POST /v3/watch")
            )
          ) {
            watches.push(n);
          }
        }
        assert.ok(watches.length > 0, "the viewer's watch connection");
        for (
          const [op, path] of [
            ["set", "c"],
            ["delete", "d"],
            ["upload", "e"],
          ] as const
        ) {
          const seen = await shown(path);
          assert.ok(seen !== undefined);
          for (const n of watches) proxy.stall(n);
          await client.put(`v/${path}`, "theirs");
          assert.equal(await shown(path), seen, "the viewer has not seen it");
          const txns = proxy.count("POST", "/v3/kv/txn");
          const answer = write({
            op,
            path,
            value: "mine",
            base64: new TextEncoder().encode("mine").toBase64(),
            modifiedIndex: seen,
          });
          // The write reaches etcd; then the viewer may show the change.
          await until(
            () => proxy.count("POST", "/v3/kv/txn") > txns,
            10_000,
            "the viewer's write",
          );
          for (const n of watches) proxy.release(n);
          const answered = await within(answer, 10_000, "the viewer's answer");
          if (op === "upload") {
            // etcd compared: the viewer had nothing newer to compare with.
            assert.equal(answered.status, 409);
            await answered.body?.cancel();
          } else await conflict(answered);
          assert.equal((await client.get(`v/${path}`))?.value, "theirs", op);
        }
      },
    );
  } finally {
    await view.stop();
  }
});
