// v2 with auth on and the guest role revoked (etcd 3.4): a tool run without
// a user says that etcd requires one and how to give it.

import assert from "node:assert/strict";
import { Client } from "../../v2/mod.ts";
import { main as dump } from "../../cli/dump.ts";
import { startEtcd } from "../../testing.ts";
import { runMain } from "../_cli.ts";
import { test } from "../_wait.ts";

test("v2: no user where etcd requires one", async () => {
  await using etcd = await startEtcd({ version: "3.4" });
  await using admin = new Client({ endpoints: etcd.endpoint });
  await admin.set("app/k", "v");
  await admin.auth.users.create("root", "root-secret-3");
  await admin.auth.enable();
  await using root = new Client({
    endpoints: etcd.endpoint,
    auth: { username: "root", password: "root-secret-3" },
  });
  await root.auth.roles.revoke("guest", { read: ["/*"], write: ["/*"] });

  const ran = await runMain(dump, [
    "/app",
    "--api",
    "v2",
    "--endpoints",
    etcd.endpoint,
  ]);
  assert.equal(ran.code, 1);
  assert.match(
    ran.stderr,
    /etcd requires a user \(its authentication is on\): give --user NAME or set ETCD_USER/,
  );
  // With a user, the same refusal is etcd's own.
  const given = await runMain(dump, [
    "/app",
    "--api",
    "v2",
    "--endpoints",
    etcd.endpoint,
    "--user",
    "nobody:wrong",
  ]);
  assert.equal(given.code, 1);
  assert.doesNotMatch(given.stderr, /etcd requires a user/);
});
