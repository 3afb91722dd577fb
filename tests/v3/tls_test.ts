// The v3 client over TLS against real etcd 3.5, with certificates minted by
// openssl: server TLS, client certificates, and the gateway's trap (with
// --trusted-ca-file the server certificate needs EKU clientAuth too) named
// in the error.

import assert from "node:assert/strict";
import { ConnectionFailed, errorKind } from "../../mod.ts";
import { Client, TRANSPORT } from "../_v3.ts";
import { startEtcd } from "../../testing.ts";
import { mintPki } from "../_tls.ts";
import { dumpBody, runScript } from "../_cli.ts";
import { take, test } from "../_wait.ts";

test("v3 over TLS", async (t) => {
  await using pki = await mintPki();

  await t.step("server TLS: KV and watch, verified", async () => {
    await using etcd = await startEtcd({
      version: "3.5",
      tls: {
        certFile: pki.serverCertFile,
        keyFile: pki.serverKeyFile,
        caFile: pki.caFile,
      },
    });
    assert.match(etcd.endpoint, /^https:/);
    await using client = new Client({
      endpoints: etcd.endpoint,
      tls: { caCert: pki.caPem },
    });
    const { revision } = await client.put("tls/k", "1");
    // host:port, as etcdctl takes it, is https:// when TLS is given.
    await using bare = new Client({
      endpoints: etcd.endpoint.replace("https://", ""),
      tls: { caCert: pki.caPem },
    });
    assert.equal((await bare.get("tls/k"))?.value, "1");
    await using watcher = client.watch("tls/k", { startRevision: revision });
    const [event] = await take(
      watcher[Symbol.asyncIterator](),
      1,
      5000,
      "a put",
    );
    assert.equal(event!.kv.value, "1");
    await using untrusting = new Client({
      endpoints: etcd.endpoint,
      tls: { caCert: pki.otherCaPem },
      timeout: 2000,
    });
    await assert.rejects(untrusting.get("tls/k"), ConnectionFailed);
  });

  await t.step("client certificates: required, and accepted", async () => {
    await using etcd = await startEtcd({
      version: "3.5",
      tls: {
        certFile: pki.serverBothCertFile,
        keyFile: pki.serverBothKeyFile,
        caFile: pki.caFile,
        clientCertAuth: true,
        clientCertFile: pki.clientCertFile,
        clientKeyFile: pki.clientKeyFile,
      },
    });
    await using client = new Client({
      endpoints: etcd.endpoint,
      tls: {
        caCert: pki.caPem,
        cert: pki.clientCertPem,
        key: pki.clientKeyPem,
      },
    });
    await client.put("mtls/k", "1");
    assert.equal((await client.get("mtls/k"))?.value, "1");

    // etcdctl's variables, with its host:port endpoint, and the
    // permissions of the tool's shebang.
    const dumped = await runScript("dump.ts", ["mtls"], "", {
      ETCDCTL_ENDPOINTS: etcd.endpoint.replace("https://", ""),
      ETCDCTL_CACERT: pki.caFile,
      ETCDCTL_CERT: pki.clientCertFile,
      ETCDCTL_KEY: pki.clientKeyFile,
    });
    assert.equal(dumped.code, 0, dumped.stderr);
    assert.equal(dumpBody(dumped.stdout), 'k: "1"\n');
    await using anonymous = new Client({
      endpoints: etcd.endpoint,
      tls: { caCert: pki.caPem },
      timeout: 2000,
    });
    const error = await anonymous.get("mtls/k").catch((error) => error);
    assert.ok(error instanceof ConnectionFailed, String(error));
    assert.match(error.message, /requires a client certificate/);

    // A certificate of a CA the server does not trust: ours is refused,
    // theirs is fine.
    for (const transport of ["sockets", "fetch"] as const) {
      await using stranger = new Client({
        endpoints: etcd.endpoint,
        transport,
        tls: {
          caCert: pki.caPem,
          cert: pki.strangerCertPem,
          key: pki.strangerKeyPem,
        },
        timeout: 2000,
      });
      const refused = await stranger.get("mtls/k").catch((error) => error);
      assert.ok(refused instanceof ConnectionFailed, String(refused));
      assert.match(
        refused.message,
        /refused our client certificate/,
      );
      assert.doesNotMatch(refused.message, /server's certificate/);
    }

    // A key of another certificate: both are named.
    await using mismatched = new Client({
      endpoints: etcd.endpoint,
      tls: {
        caCert: pki.caPem,
        cert: pki.clientCertPem,
        key: pki.strangerKeyPem,
      },
      timeout: 2000,
    });
    const mismatch = await mismatched.get("mtls/k").catch((error) => error);
    assert.ok(mismatch instanceof ConnectionFailed, String(mismatch));
    assert.match(
      mismatch.message,
      /client certificate and the private key do not belong together/,
    );
  });

  await t.step("the tools: --cert and a --key of another", async () => {
    const ran = await runScript("dump.ts", [
      "app",
      "--endpoints",
      "https://127.0.0.1:1",
      "--cert",
      pki.clientCertFile,
      "--key",
      pki.strangerKeyFile,
    ]);
    assert.equal(ran.code, 2, ran.stderr);
    assert.ok(
      ran.stderr.includes(`--cert "${pki.clientCertFile}"`),
      ran.stderr,
    );
    assert.ok(
      ran.stderr.includes(`--key "${pki.strangerKeyFile}"`),
      ran.stderr,
    );
    assert.match(ran.stderr, /not the certificate's private key/);
  });

  await t.step(
    "a server certificate without clientAuth: the error says so",
    async () => {
      await using etcd = await startEtcd({
        version: "3.5",
        tls: {
          certFile: pki.serverCertFile,
          keyFile: pki.serverKeyFile,
          caFile: pki.caFile,
          clientCertAuth: true,
          clientCertFile: pki.clientCertFile,
          clientKeyFile: pki.clientKeyFile,
        },
      });
      await using client = new Client({
        endpoints: etcd.endpoint,
        tls: {
          caCert: pki.caPem,
          cert: pki.clientCertPem,
          key: pki.clientKeyPem,
        },
        timeout: 3000,
      });
      // /health answers; every /v3/ call through the gateway fails (the
      // gateway dials etcd's gRPC with the server's certificate); gRPC
      // itself is fine.
      assert.equal((await client.health()).health, true);
      if (TRANSPORT === "grpc") {
        await client.put("k", "v");
        assert.equal((await client.get("k"))?.value, "v");
        return;
      }
      const error = await client.get("k").catch((error) => error);
      assert.equal(errorKind(error), "unavailable", String(error));
      assert.match(
        error.message,
        /server certificate must allow extended key usage clientAuth/,
      );
    },
  );
});
