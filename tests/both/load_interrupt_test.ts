// Ctrl-C during a load: yaml2etcd stops starting writes, says how far it got
// (counting what was in flight as possibly applied), exits 1, and a rerun
// finishes the load. On both APIs of one etcd 3.4.

import assert from "node:assert/strict";
import { Client } from "../../v2/mod.ts";
import { Client as V3Client } from "../_v3.ts";
import { storeOf } from "../../_core/store.ts";
import { startEtcd } from "../../testing.ts";
import { runScript, shebangFlags } from "../_cli.ts";
import { startProxy } from "../_proxy.ts";
import { test, within } from "../_wait.ts";

const KEYS = 3000;
const YAML = Array.from(
  { length: 30 },
  (_, d) =>
    `d${d}:\n` +
    Array.from({ length: 100 }, (_, k) => `  k${k}: v${d}-${k}\n`).join(""),
).join("");

test("yaml2etcd interrupted by Ctrl-C says how far it got; a rerun finishes", async (t) => {
  await using etcd = await startEtcd({ version: "3.4" });
  await using proxy = startProxy(etcd.clientPort);
  await using v2 = new Client({ endpoints: etcd.endpoint });
  await using v3 = new V3Client({ endpoints: etcd.endpoint });
  // Keys held under a prefix, through either API's store.
  const count = async (client: Client | V3Client, prefix: string) => {
    const store = storeOf(client);
    const { entries } = await store.snapshot(store.subtree(prefix));
    return entries.filter((entry) => entry.value !== undefined).length;
  };
  const counts = {
    v2: () => count(v2, "int2"),
    v3: () => count(v3, "int3"),
  };

  for (const api of ["v2", "v3"] as const) {
    await t.step(api, async () => {
      const prefix = api === "v2" ? "/int2" : "int3";
      const args = [prefix, "-", "--api", api, "--endpoints", proxy.endpoint];
      // The proxy counts HTTP/1.1 requests: v3's go over the gateway.
      if (api === "v3") args.push("--txn-ops", "16", "--transport", "gateway");
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          ...await shebangFlags("load.ts"),
          new URL("../../cli/load.ts", import.meta.url).pathname,
          ...args,
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).spawn();
      const before = proxy.requests.length;
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(YAML));
      await writer.close();
      // Interrupted once writing is well under way.
      await within(
        proxy.requested(before + 40),
        30_000,
        "yaml2etcd to start writing",
      );
      child.kill("SIGINT");
      const output = await within(child.output(), 10_000, "yaml2etcd to stop");
      const stderr = new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 1, stderr);
      const match = stderr.match(
        new RegExp(
          `^yaml2etcd: Stopped loading "${prefix}" after (\\d+) of ${KEYS} writes(?: \\(and (\\d+) more that may have been applied\\))?: interrupted; run it again to finish\\n$`,
        ),
      );
      assert.ok(match, stderr);
      const applied = Number(match[1]);
      const uncertain = Number(match[2] ?? 0);
      assert.ok(applied > 0 && applied < KEYS, `applied ${applied}`);
      const held = await counts[api]();
      assert.ok(
        held >= applied && held <= applied + uncertain,
        `etcd holds ${held}; said ${applied} (+${uncertain})`,
      );
      // A rerun writes the rest and nothing twice.
      const rerun = await runScript("load.ts", args, YAML);
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.match(rerun.stdout, new RegExp(`^created ${KEYS - held}, `));
      assert.equal(await counts[api](), KEYS);
    });
  }
});
