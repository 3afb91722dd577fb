// The viewer against requests that are not its page's: other Host names,
// other origins, forms, oversized bodies, doubled tokens; its guarded
// writes; and a long etcd outage, which it and etcdmon ride out.

import assert from "node:assert/strict";
import { Client, type Value } from "../../v2/mod.ts";
import { main as monitor } from "../../cli/monitor.ts";
import { startEtcd } from "../../testing.ts";
import { testIo } from "../_cli.ts";
import { startView } from "../_view.ts";
import { test, until, within } from "../_wait.ts";

/** A raw HTTP/1.1 request with the Host header of our choosing. */
async function raw(
  port: number,
  host: string,
  path: string,
): Promise<{ status: string; body: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(
    new TextEncoder().encode(
      `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    ),
  );
  const text = await new Response(conn.readable).text();
  return {
    status: text.split("\r\n")[0]!,
    body: text.slice(text.indexOf("\r\n\r\n") + 4),
  };
}

test("the viewer takes requests from its own page only", async (t) => {
  await using etcd = await startEtcd();
  await using client = new Client({ endpoints: etcd.endpoint });
  await client.set("v/a", "1");
  await client.set("v/q/item", "x");
  await client.set("v/q/_lock/holder", "me"); // hidden from the viewer

  await t.step(
    "bound to every interface, it answers to this machine's names",
    async () => {
      const view = await startView([
        "/v",
        "--host",
        "0.0.0.0",
        "--api",
        "v2",
        "--endpoints",
        etcd.endpoint,
      ]);
      try {
        const port = Number(view.url.port);
        const path = `/?token=${view.token}`;
        for (
          const host of [
            `127.0.0.1:${port}`,
            `localhost:${port}`,
            `${Deno.hostname()}:${port}`,
          ]
        ) {
          assert.match((await raw(port, host, path)).status, / 200 /, host);
        }
        const foreign = await raw(port, `evil.example:${port}`, path);
        assert.match(foreign.status, / 403 /);
        assert.match(
          foreign.body,
          /Forbidden: the Host "evil\.example:\d+" is not a name of this server/,
        );
      } finally {
        await view.stop();
      }
    },
  );

  await t.step("on port 80, a Host without the port", async () => {
    const view = await startView([
      "/v",
      "--port",
      "80",
      "--api",
      "v2",
      "--endpoints",
      etcd.endpoint,
    ]);
    try {
      const answer = await raw(80, "127.0.0.1", `/?token=${view.token}`);
      assert.match(answer.status, / 200 /);
    } finally {
      await view.stop();
    }
  });

  const view = await startView([
    "/v",
    "--write",
    "--api",
    "v2",
    "--endpoints",
    etcd.endpoint,
  ]);
  const origin = view.url.origin;
  const post = (
    body: BodyInit | null,
    headers: Record<string, string>,
    token = `token=${view.token}`,
  ) =>
    fetch(new URL(`/write?${token}`, view.url), {
      method: "POST",
      body,
      headers,
    });
  const json = { "content-type": "application/json", origin };
  const a = () => client.get("v/a").then(({ node }) => (node as Value).value);

  try {
    await t.step(
      "a form, or JSON from another origin, does not write",
      async () => {
        const body = JSON.stringify({
          op: "set",
          path: "a",
          value: "hacked",
          force: true,
        });
        const attempts: [Record<string, string>, number][] = [
          [
            { "content-type": "application/x-www-form-urlencoded", origin },
            415,
          ],
          [{ "content-type": "text/plain", origin }, 415],
          [{ "content-type": "application/json" }, 403], // no origin said
          [{
            "content-type": "application/json",
            origin: "http://evil.example",
          }, 403],
          [{
            "content-type": "application/json",
            "sec-fetch-site": "cross-site",
          }, 403],
          [{ ...json, "sec-fetch-site": "same-site" }, 403],
        ];
        for (const [headers, status] of attempts) {
          const response = await post(body, headers);
          assert.equal(response.status, status, JSON.stringify(headers));
          await response.body?.cancel();
        }
        assert.equal(await a(), "1");
      },
    );

    await t.step("exactly one token, compared in full", async () => {
      const body = JSON.stringify({
        op: "set",
        path: "a",
        value: "x",
        force: true,
      });
      for (
        const token of [
          `token=${view.token}&token=${view.token}`,
          `token=${view.token}&token=wrong`,
          `token=${view.token.slice(0, -1)}`,
          `token=${view.token}x`,
        ]
      ) {
        const response = await post(body, json, token);
        assert.equal(response.status, 403, token);
        await response.body?.cancel();
      }
      const both = await post(body, { ...json, "x-token": view.token });
      assert.equal(both.status, 403, "a token in the query and a header");
      await both.body?.cancel();
      assert.equal(await a(), "1");
    });

    await t.step(
      "a body over etcd's limit is refused before it is read",
      async () => {
        const big = new Uint8Array(12 * 1024 * 1024).fill(32);
        const response = await post(big, json);
        assert.equal(response.status, 413);
        assert.match((await response.json()).error, /over \d+ bytes/);
        // Streamed without a length, it is cut off too.
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            for (let i = 0; i < 12; i++) {
              controller.enqueue(new Uint8Array(1024 * 1024).fill(32));
            }
            controller.close();
          },
        });
        const streamed = await post(stream, json);
        assert.equal(streamed.status, 413);
        await streamed.body?.cancel();
      },
    );

    await t.step(
      "a body that is not an object is a 400, not a crash",
      async () => {
        for (const body of ["null", "[]", '"x"', "7", "{"]) {
          const response = await post(body, json);
          assert.equal(response.status, 400, body);
          assert.match((await response.json()).error, /Invalid request/);
        }
        assert.doesNotMatch(view.stderr(), /at |Error/);
      },
    );

    await t.step("add creates only", async () => {
      const taken = await post(
        JSON.stringify({ op: "create", path: "a", value: "mine" }),
        json,
      );
      assert.equal(taken.status, 409);
      const answer = await taken.json();
      assert.match(answer.error, /exists already/);
      assert.equal(answer.current, "1");
      assert.equal(await a(), "1");
      const fresh = await post(
        JSON.stringify({ op: "create", path: "new", value: "n" }),
        json,
      );
      assert.equal(fresh.status, 200, await fresh.clone().text());
      await fresh.body?.cancel();
      assert.equal(((await client.get("v/new")).node as Value).value, "n");
    });

    await t.step(
      "deleting a directory deletes what the page shows, and no more",
      async () => {
        const tree =
          await (await fetch(new URL(`/tree?token=${view.token}`, view.url)))
            .json();
        const q = new Map(tree.nodes).get("q") as { modifiedIndex: number };
        const response = await post(
          JSON.stringify({
            op: "delete",
            path: "q",
            recursive: true,
            modifiedIndex: q.modifiedIndex,
          }),
          json,
        );
        assert.equal(response.status, 409, await response.clone().text());
        assert.match(
          (await response.json()).error,
          /Cannot write "q": it changed elsewhere/,
        );
        // The item it showed is gone; the hidden lock and its directory stay.
        await assert.rejects(client.get("v/q/item"));
        assert.equal(
          ((await client.get("v/q/_lock/holder")).node as Value).value,
          "me",
        );
      },
    );
  } finally {
    await view.stop();
  }
});

test("the viewer and etcdmon ride out an etcd outage of over a minute", async () => {
  await using etcd = await startEtcd();
  await using client = new Client({ endpoints: etcd.endpoint });
  await client.set("o/a", "1");
  const view = await startView([
    "/o",
    "--api",
    "v2",
    "--endpoints",
    etcd.endpoint,
  ]);
  const stop = new AbortController();
  const mon = testIo("", stop.signal);
  const watching = monitor(
    ["/o", "--api", "v2", "--endpoints", etcd.endpoint],
    mon.io,
  );
  try {
    await etcd.stop();
    await until(
      () => /lost etcd/.test(view.stderr()),
      15_000,
      "the viewer to say it lost etcd",
    );
    await until(
      () => /lost etcd/.test(mon.stderr()),
      15_000,
      "etcdmon to say it lost etcd",
    );
    // Longer than a tree's default retry budget of 60 s.
    await within(
      new Promise((resolve) => setTimeout(resolve, 62_000)),
      70_000,
      "the outage",
    );
    const state =
      await (await fetch(new URL(`/tree?token=${view.token}`, view.url)))
        .json();
    assert.equal(state.state, "reconnecting");
    await etcd.start();
    await until(
      () => /etcd is back/.test(view.stderr()),
      30_000,
      "the viewer to say etcd is back",
    );
    await until(
      () => /etcd is back/.test(mon.stderr()),
      30_000,
      "etcdmon to say etcd is back",
    );
    await client.set("o/a", "2");
    await until(
      async () => {
        const tree =
          await (await fetch(new URL(`/tree?token=${view.token}`, view.url)))
            .json();
        const node = new Map(tree.nodes).get("a") as
          | { raw: string }
          | undefined;
        return tree.state === "live" && node?.raw === "2";
      },
      15_000,
      "the viewer to show the write after the outage",
    );
    await until(
      () => mon.stdout().includes('update a "2"'),
      15_000,
      "etcdmon to print the write",
    );
  } finally {
    stop.abort();
    assert.equal(await within(watching, 10_000, "etcdmon to stop"), 0);
    await view.stop();
  }
});
