import assert from "node:assert/strict";
import {
  Client,
  ConnectionFailed,
  EndpointsRefused,
  errorKind,
  EtcdTree,
  Value,
} from "../../v2/mod.ts";
import { startProxy } from "../_proxy.ts";
import { test, until } from "../_wait.ts";
import { main as dump } from "../../cli/dump.ts";
import { startEtcd } from "../../testing.ts";
import { mintPki } from "../_tls.ts";
import { Client as V3Client } from "../_v3.ts";
import { dumpBody, runMain } from "../_cli.ts";

/** Both clients sync the same way; each writes with its own call. */
const SYNCING = [
  [
    "v2",
    Client,
    (client: Client | V3Client) => (client as Client).set("sync/a", "1"),
  ],
  [
    "v3",
    V3Client,
    (client: Client | V3Client) => (client as V3Client).put("sync/a", "1"),
  ],
] as const;

test("TLS against real etcd servers", async (t) => {
  await using pki = await mintPki();

  await t.step("server TLS: a client that trusts the CA works", async () => {
    await using etcd = await startEtcd({
      tls: {
        certFile: pki.serverCertFile,
        keyFile: pki.serverKeyFile,
        caFile: pki.caFile,
      },
    });
    assert.match(etcd.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
    for (const transport of ["sockets", "fetch"] as const) {
      await using client = new Client({
        endpoints: etcd.endpoint,
        tls: { caCert: pki.caPem },
        transport,
      });
      await client.set("tls/a", "1");
      const { node } = await client.get("tls/a");
      assert.ok(node instanceof Value && node.value === "1");
      // Watches and trees go over TLS too.
      await using tree = await EtcdTree.open(client, "tls");
      await tree.set(transport, "2");
      assert.equal(tree.get(transport), "2");

      // A client that does not trust the CA: the message says so.
      for (const tls of [undefined, { caCert: pki.otherCaPem }]) {
        await using untrusting = new Client({
          endpoints: etcd.endpoint,
          timeout: 2000,
          transport,
          ...(tls ? { tls } : {}),
        });
        const error = await untrusting.get("tls/a").catch((error) => error);
        assert.ok(error instanceof ConnectionFailed, String(error));
        assert.match(
          error.message,
          /TLS: the server's certificate is not signed by a trusted CA/,
        );
      }

      // The certificate is for 127.0.0.1, not for "localhost".
      await using wrongName = new Client({
        endpoints: etcd.endpoint.replace("127.0.0.1", "localhost"),
        timeout: 2000,
        tls: { caCert: pki.caPem },
        transport,
      });
      const error = await wrongName.get("tls/a").catch((error) => error);
      assert.ok(error instanceof ConnectionFailed, String(error));
      assert.match(
        error.message,
        /TLS: the server's certificate is not valid for this host name/,
      );

      // Plain HTTP to a TLS port gets a clear answer, not a hang.
      await using plain = new Client({
        endpoints: etcd.endpoint.replace("https:", "http:"),
        timeout: 2000,
        transport,
      });
      const mismatch = await plain.get("tls/a").catch((error) => error);
      assert.ok(mismatch instanceof ConnectionFailed, String(mismatch));
      assert.match(
        mismatch.message,
        /speaks only TLS here: use https:\/\//,
        transport,
      );
    }
  });

  await t.step("mutual TLS: a client certificate is required", async () => {
    await using etcd = await startEtcd({
      tls: {
        certFile: pki.serverCertFile,
        keyFile: pki.serverKeyFile,
        caFile: pki.caFile,
        clientCertAuth: true,
        clientCertFile: pki.clientCertFile,
        clientKeyFile: pki.clientKeyFile,
      },
    });
    for (const transport of ["sockets", "fetch"] as const) {
      await using client = new Client({
        endpoints: etcd.endpoint,
        tls: {
          caCert: pki.caPem,
          cert: pki.clientCertPem,
          key: pki.clientKeyPem,
        },
        transport,
      });
      await client.set("mtls/a", "1");
      assert.equal(((await client.get("mtls/a")).node as Value).value, "1");

      await using anonymous = new Client({
        endpoints: etcd.endpoint,
        timeout: 2000,
        tls: { caCert: pki.caPem },
        transport,
      });
      const error = await anonymous.get("mtls/a").catch((error) => error);
      assert.ok(error instanceof ConnectionFailed, String(error));
      assert.match(
        error.message,
        /TLS: .*requires a client certificate it accepts/,
      );
    }

    // The command-line flags.
    const ran = await runMain(dump, [
      "/mtls",
      "--api",
      "v2",
      "--endpoints",
      etcd.endpoint,
      "--cacert",
      pki.caFile,
      "--cert",
      pki.clientCertFile,
      "--key",
      pki.clientKeyFile,
    ]);
    assert.equal(ran.stderr, "");
    assert.equal(dumpBody(ran.stdout), 'a: "1"\n');
    const refused = await runMain(dump, [
      "/mtls",
      "--api",
      "v2",
      "--endpoints",
      etcd.endpoint,
      "--cacert",
      pki.caFile,
      "--timeout",
      "2000",
    ]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /requires a client certificate/);
  });

  for (const [api, Make, write] of SYNCING) {
    await t.step(
      `${api}: sync() never moves an https client to http`,
      async () => {
        const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        const plainPort = listener.addr.port;
        listener.close();
        // The member also serves plain HTTP; requests to it are counted.
        await using http = startProxy(plainPort);
        const tls = {
          certFile: pki.serverCertFile,
          keyFile: pki.serverKeyFile,
          caFile: pki.caFile,
        };
        await using onlyHttp = await startEtcd({
          tls,
          alsoListen: [`http://127.0.0.1:${plainPort}`],
          advertise: [http.endpoint],
        });
        const warnings: string[] = [];
        await using client = new Make({
          endpoints: onlyHttp.endpoint,
          tls: { caCert: pki.caPem },
          onWarning: (message) => warnings.push(message),
        });
        const error = await client.sync().catch((error) => error);
        assert.ok(error instanceof EndpointsRefused, String(error));
        assert.equal(errorKind(error), "invalid");
        assert.match(
          error.message,
          /not https, the scheme the client was given/,
        );
        assert.deepEqual(client.endpoints, [onlyHttp.endpoint]);
        await write(client);
        assert.equal(http.requests.length, 0, "nothing went over http");
      },
    );

    await t.step(
      `${api}: sync() keeps the https URLs and says what it left out`,
      async () => {
        const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
        const plainPort = listener.addr.port;
        listener.close();
        await using http = startProxy(plainPort);
        await using both = await startEtcd({
          tls: {
            certFile: pki.serverCertFile,
            keyFile: pki.serverKeyFile,
            caFile: pki.caFile,
          },
          alsoListen: [`http://127.0.0.1:${plainPort}`],
          advertise: (endpoint) => [http.endpoint, endpoint],
        });
        const warnings: string[] = [];
        await using client = new Make({
          endpoints: both.endpoint,
          tls: { caCert: pki.caPem },
          syncInterval: 50,
          onWarning: (message) => warnings.push(message),
        });
        assert.deepEqual(await client.sync(), [both.endpoint]);
        assert.match(
          warnings[0] ?? "",
          new RegExp(`left out member URLs: ${http.endpoint}: not https`),
        );
        await until(
          () => warnings.length >= 3,
          5000,
          "syncInterval to sync again",
        );
        for (let i = 0; i < 20; i++) await write(client);
        assert.deepEqual(client.endpoints, [both.endpoint]);
        assert.equal(http.requests.length, 0, "nothing went over http");
      },
    );
  }

  await t.step("a client cert without its key is refused at once", () => {
    assert.throws(
      () => new Client({ tls: { cert: pki.clientCertPem } }),
      /give a client cert and its key together/,
    );
  });
});
