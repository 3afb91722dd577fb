// The viewer's server over HTTP: safety, the snapshot, live events, writes.
// (Driving the page in a browser is still to come.)

import assert from "node:assert/strict";
import { Client, type Value } from "../../v2/mod.ts";
import { test } from "../_wait.ts";
import { startEtcd } from "../../testing.ts";
import { startView } from "../_view.ts";

/** A raw HTTP/1.1 GET with a Host header of our choosing. */
async function rawGet(url: URL, host: string): Promise<string> {
  const conn = await Deno.connect({
    hostname: url.hostname,
    port: Number(url.port),
  });
  await conn.write(
    new TextEncoder().encode(
      `GET /${url.search} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    ),
  );
  const text = await new Response(conn.readable).text();
  return text.split("\r\n")[0]!;
}

test("etcd-tree viewer server against a real etcd", async (t) => {
  await using etcd = await startEtcd();
  await using client = new Client({ endpoints: etcd.endpoint });
  await client.set("v/a", "1");
  await client.set("v/d/x", "2");
  const view = await startView([
    "/v",
    "--write",
    "--api",
    "v2",
    "--endpoints",
    etcd.endpoint,
  ]);
  const at = (path: string) =>
    new URL(`${path}?token=${view.token}`, view.url).href;

  await t.step("binds 127.0.0.1; token and Host are required", async () => {
    assert.equal(view.url.hostname, "127.0.0.1");
    const ok = await fetch(view.url);
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /<title>etcd-tree<\/title>/);
    for (const bad of ["/", "/?token=wrong", "/tree", "/events"]) {
      const response = await fetch(new URL(bad, view.url));
      assert.equal(response.status, 403, bad);
      await response.body?.cancel();
    }
    assert.match(await rawGet(view.url, `127.0.0.1:${view.url.port}`), / 200 /);
    assert.match(await rawGet(view.url, `localhost:${view.url.port}`), / 200 /);
    assert.match(await rawGet(view.url, "evil.example"), / 403 /);
    assert.match(
      await rawGet(view.url, `evil.example:${view.url.port}`),
      / 403 /,
    );
  });

  await t.step("the snapshot and live changes", async () => {
    const tree = await (await fetch(at("/tree"))).json();
    const nodes = new Map(tree.nodes);
    assert.deepEqual(
      [...nodes.keys()].sort(),
      ["a", "d", "d/x"],
    );
    assert.equal((nodes.get("a") as { raw: string }).raw, "1");
    assert.equal(tree.state, "live");

    const events = await fetch(at("/events"));
    const reader = events.body!.pipeThrough(new TextDecoderStream())
      .getReader();
    const started = performance.now();
    await client.set("v/b", "3");
    let seen = "";
    while (!seen.includes('"path":"b"')) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    assert.ok(performance.now() - started < 1000, "within a second");
    assert.match(seen, /event: changes\ndata: \[.*"kind":"added","path":"b"/);
    await reader.cancel();
  });

  await t.step("writes compare with what the page saw", async () => {
    const tree = await (await fetch(at("/tree"))).json();
    const a = new Map(tree.nodes).get("a") as { modifiedIndex: number };
    // As the page sends them: JSON, from the page's own origin.
    const write = (body: unknown) =>
      fetch(at("/write"), {
        method: "POST",
        body: JSON.stringify(body),
        headers: {
          "content-type": "application/json",
          origin: view.url.origin,
        },
      });
    const done = await write({
      op: "set",
      path: "a",
      value: "10",
      modifiedIndex: a.modifiedIndex,
    });
    assert.equal(done.status, 200, await done.clone().text());
    await done.body?.cancel();
    assert.equal(((await client.get("v/a")).node as Value).value, "10");
    // The page still shows the old version: a conflict, with the value now.
    const stale = await write({
      op: "set",
      path: "a",
      value: "11",
      modifiedIndex: a.modifiedIndex,
    });
    assert.equal(stale.status, 409);
    assert.equal((await stale.json()).current, "10");
    const forced = await write({
      op: "set",
      path: "a",
      value: "12",
      force: true,
    });
    assert.equal(forced.status, 200);
    await forced.body?.cancel();
    assert.equal(((await client.get("v/a")).node as Value).value, "12");
  });

  await t.step(
    "what the server cannot use is refused with a reason",
    async () => {
      const post = (body: string) =>
        fetch(at("/write"), {
          method: "POST",
          body,
          headers: {
            "content-type": "application/json",
            origin: view.url.origin,
          },
        });
      const refused = async (
        response: Promise<Response>,
        status: number,
        error: RegExp,
      ) => {
        const answer = await response;
        assert.equal(answer.status, status);
        assert.match((await answer.json()).error, error);
      };
      await refused(post("not json"), 400, /^Invalid request: expected JSON$/);
      await refused(post("[]"), 400, /expected a JSON object/);
      await refused(post('{"op":"set"}'), 400, /give a path/);
      await refused(
        post('{"op":"rename","path":"a"}'),
        400,
        /op is set, create, delete, mkdir or upload/,
      );
      // Bytes from a file: v2 stores text only.
      await refused(
        post('{"op":"upload","path":"a","base64":"AAE=","modifiedIndex":1}'),
        400,
        /Cannot upload to a: etcd's v2 API stores text only/,
      );
      const get = (path: string) =>
        fetch(new URL(`${path}&token=${view.token}`, view.url));
      await refused(get("/history?path="), 400, /give a path/);
      await refused(
        get("/history?path=a"),
        501,
        /the v2 store keeps no past versions \(use the v3 API\)/,
      );
      await refused(
        get("/tree?revision=abc"),
        400,
        /Invalid revision: expected a whole number from 1/,
      );
      await refused(get("/tree?revision=3"), 501, /keeps no past versions/);
    },
  );

  await t.step("a directory made and removed from the page", async () => {
    const write = (body: unknown) =>
      fetch(at("/write"), {
        method: "POST",
        body: JSON.stringify(body),
        headers: {
          "content-type": "application/json",
          origin: view.url.origin,
        },
      });
    const made = await write({ op: "mkdir", path: "newdir" });
    assert.equal(made.status, 200, await made.clone().text());
    const { index } = await made.json();
    const { node } = await client.get("v/newdir");
    assert.equal(node.dir, true);
    assert.equal(node.modifiedIndex, index);
    const removed = await write({
      op: "delete",
      path: "newdir",
      modifiedIndex: index,
    });
    assert.equal(removed.status, 200, await removed.clone().text());
    await removed.body?.cancel();
    await assert.rejects(client.get("v/newdir"), /Key not found/);
  });

  await view.stop();

  await t.step("read-only without --write", async () => {
    const readOnly = await startView([
      "/v",
      "--api",
      "v2",
      "--endpoints",
      etcd.endpoint,
    ]);
    const response = await fetch(
      new URL(`/write?token=${readOnly.token}`, readOnly.url),
      {
        method: "POST",
        body: JSON.stringify({ op: "delete", path: "a" }),
        headers: {
          "content-type": "application/json",
          origin: readOnly.url.origin,
        },
      },
    );
    assert.equal(response.status, 403);
    await response.body?.cancel();
    assert.equal(((await client.get("v/a")).node as Value).value, "12");
    await readOnly.stop();
  });
});
