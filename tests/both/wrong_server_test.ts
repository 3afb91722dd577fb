// Pointed at something that is not etcd (a web server on the wrong port),
// either client says what it got instead of a parse error or a hang; a key
// longer than etcd's HTTP server takes is refused before it is sent.

import assert from "node:assert/strict";
import { Client, UnexpectedResponse, type Value } from "../../v2/mod.ts";
// What the gateway (HTTP/1.1) meets; gRPC's own view is the last step.
import { Client as V3Client } from "../../mod.ts";
import { startEtcd } from "../../testing.ts";
import { test } from "../_wait.ts";

/** A web server answering every request with `status` and `body`. */
function webServer(status: number, body: string, type = "text/html") {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(body, { status, headers: { "content-type": type } }),
  );
  return {
    endpoint: `http://127.0.0.1:${server.addr.port}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

async function unexpected(promise: Promise<unknown>) {
  const error = await promise.then(() => undefined, (error) => error);
  assert.ok(error instanceof UnexpectedResponse, String(error));
  return error;
}

test("a server that is not etcd is named as such", async (t) => {
  await t.step("on gRPC: not a gRPC answer", async () => {
    await using web = webServer(200, "<html>hello</html>");
    await using v3 = new V3Client({ endpoints: web.endpoint });
    const error = await unexpected(v3.get("a"));
    assert.match(
      error.message,
      /for POST \/etcdserverpb\.KV\/Range: content-type "text\/html[^"]*" instead of application\/grpc/,
    );
  });

  await t.step("a web page", async () => {
    await using web = webServer(200, "<html>hello</html>");
    await using v2 = new Client({ endpoints: web.endpoint });
    const v2Error = await unexpected(v2.get("a"));
    assert.equal(v2Error.status, 200);
    assert.match(v2Error.message, /HTTP 200 with a body that is not JSON/);
    assert.equal(v2Error.excerpt, "<html>hello</html>");
    await using v3 = new V3Client({
      endpoints: web.endpoint,
      transport: "gateway",
    });
    const v3Error = await unexpected(v3.put("a", "1"));
    assert.match(
      v3Error.message,
      new RegExp(`${web.endpoint} is not etcd \\(its /version is not JSON\\)`),
    );
  });

  await t.step("an error page", async () => {
    await using web = webServer(503, "down for maintenance", "text/plain");
    await using v3 = new V3Client({
      endpoints: web.endpoint,
      timeout: 2000,
      transport: "gateway",
    });
    const error = await unexpected(v3.get("a"));
    assert.equal(error.status, 503);
    assert.match(error.message, /for GET \/version: HTTP 503/);
  });

  await t.step("JSON that is not an answer of etcd", async () => {
    await using web = webServer(
      400,
      JSON.stringify({ message: "proxy cannot reach upstream" }),
      "application/json",
    );
    await using v2 = new Client({ endpoints: web.endpoint, timeout: 2000 });
    const error = await unexpected(v2.get("a"));
    assert.match(error.message, /HTTP 400: proxy cannot reach upstream/);
  });
});

test("v3: what a proxy in front of etcd answers instead is named", async (t) => {
  // /version answers as etcd does; everything else as a broken proxy.
  const proxyOf = (status: number, body: string) => {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) =>
        new URL(request.url).pathname === "/version"
          ? Response.json({ etcdserver: "3.5.30", etcdcluster: "3.5.0" })
          : new Response(body, { status }),
    );
    return {
      endpoint: `http://127.0.0.1:${server.addr.port}`,
      [Symbol.asyncDispose]: () => server.shutdown(),
    };
  };
  await t.step("a page that is not JSON", async () => {
    await using proxy = proxyOf(200, "<html>maintenance</html>");
    await using client = new V3Client({
      endpoints: proxy.endpoint,
      transport: "gateway",
    });
    const error = await unexpected(client.get("a"));
    assert.match(
      error.message,
      /^Unexpected answer from etcd for POST \/v3\/kv\/range: HTTP 200 with a body that is not JSON/,
    );
  });
  await t.step("a path the proxy does not serve", async () => {
    await using proxy = proxyOf(404, "404 page not found");
    await using client = new V3Client({
      endpoints: proxy.endpoint,
      transport: "gateway",
    });
    const error = await unexpected(client.get("a"));
    assert.match(
      error.message,
      new RegExp(`${proxy.endpoint} serves no etcd v3 JSON gateway here`),
    );
  });
  await t.step("JSON that is not an answer", async () => {
    await using proxy = proxyOf(409, "[1, 2]");
    await using client = new V3Client({
      endpoints: proxy.endpoint,
      transport: "gateway",
    });
    const error = await unexpected(client.get("a"));
    assert.equal(error.status, 409);
    assert.equal(error.excerpt, "[1, 2]");
  });
});

test("v2: a key too long for etcd's HTTP server is refused before sending", async () => {
  await using etcd = await startEtcd({ version: "3.4" });
  await using client = new Client({ endpoints: etcd.endpoint });
  // The longest key that fits etcd's 1 MiB of request line and headers,
  // with room for the headers, works; one byte more is refused.
  const longest = "k".repeat(1024 * 1024 - 4096 - "/v2/keys/".length);
  await client.set(longest, "fits");
  assert.equal(((await client.get(longest)).node as Value).value, "fits");
  await assert.rejects(
    client.get(longest + "k"),
    /^TypeError: Invalid key: it is 1044481 bytes long in the URL .*; etcd's HTTP server takes at most 1 MiB of request line and headers/,
  );
});
