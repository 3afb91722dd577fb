// The command-line tools on etcd v3: etcd 3.5 as it ships (v2 off), where
// they use v3 without being told, and 3.4 (both APIs) for what the v3
// gateway does there. Keys written by etcdctl, bytes and Kubernetes-like
// protobuf values round-tripping exactly, transactions, --atomic,
// conflicts, an interrupted load finished by a rerun, the past with
// --revision, and etcdmon's revisions, --prev and resync.

import assert from "node:assert/strict";
import { main as dump } from "../../cli/dump.ts";
import { main as load } from "../../cli/load.ts";
import { main as monitor } from "../../cli/monitor.ts";
import { Client } from "../_v3.ts";
import { Client as V2Client } from "../../v2/mod.ts";
import { type EtcdServer, startEtcd } from "../../testing.ts";
import { dumpBody, runMain, testIo } from "../_cli.ts";
// Loads that a proxy counts or holds go over the gateway, where each call
// is one HTTP/1.1 request the proxy can see.
import { startProxy } from "../_proxy.ts";
import { random, testSeed } from "../_random.ts";
import { test, until, within } from "../_wait.ts";

/** Runs etcdctl (of the server's version) against the server. */
async function etcdctl(etcd: EtcdServer, ...args: string[]): Promise<string> {
  const output = await new Deno.Command(
    etcd.binary.replace(/etcd$/, "etcdctl"),
    {
      args: ["--endpoints", etcd.endpoint, ...args],
      stdout: "piped",
      stderr: "piped",
    },
  ).output();
  if (!output.success) {
    throw new Error(
      `etcdctl ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return new TextDecoder().decode(output.stdout);
}

/** Every key and value under a prefix, as etcd holds them. */
async function held(client: Client, prefix: string) {
  const { kvs } = await client.range(prefix, { prefix: true });
  return kvs.map((kv) => [kv.keyBytes.toHex(), kv.valueBytes.toHex()]);
}

test("etcd2yaml and yaml2etcd on etcd 3.5 (v3, v2 off)", async (t) => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  const endpoint = ["--endpoints", etcd.endpoint];

  await t.step("keys etcdctl wrote are dumped, without --api", async () => {
    await etcdctl(etcd, "put", "app/db/host", "db.internal");
    await etcdctl(etcd, "put", "app/db/port", "5432");
    await etcdctl(etcd, "put", "app/name", "true");
    const ran = await runMain(dump, ["app", ...endpoint]);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(
      dumpBody(ran.stdout),
      'db:\n  host: db.internal\n  port: "5432"\nname: "true"\n',
    );
    assert.equal(ran.stderr, "");
  });

  await t.step("--revision dumps the past", async () => {
    const { revision } = await client.put("past/k", "before");
    await client.put("past/k", "after");
    const then = await runMain(dump, [
      "past",
      "--revision",
      String(revision),
      ...endpoint,
    ]);
    assert.equal(
      then.stdout,
      `# etcd2yaml: "past" at revision ${revision}\nk: before\n`,
    );
    const now = await runMain(dump, ["past", ...endpoint]);
    assert.equal(dumpBody(now.stdout), "k: after\n");
    await client.compact(revision + 1);
    const gone = await runMain(dump, [
      "past",
      "--revision",
      String(revision),
      ...endpoint,
    ]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /compacted/);
  });

  await t.step(
    'bytes: !!binary in YAML, {"": base64} in JSON, loaded back exactly',
    async () => {
      const png = new Uint8Array([
        0x89,
        0x50,
        0x4e,
        0x47,
        0x0d,
        0x0a,
        0x1a,
        0x0a,
        0,
        0xff,
      ]);
      await client.put("bin/logo.png", png);
      await client.put("bin/text", "plain");
      const yaml = await runMain(dump, ["bin", ...endpoint]);
      assert.equal(
        dumpBody(yaml.stdout),
        `logo.png: !!binary "${png.toBase64()}"\ntext: plain\n`,
      );
      const json = await runMain(dump, ["bin", "--json", ...endpoint]);
      assert.deepEqual(JSON.parse(dumpBody(json.stdout)), {
        "logo.png": { "": png.toBase64() },
        text: "plain",
      });
      for (
        const [form, text] of [["yaml", yaml.stdout], ["json", json.stdout]]
      ) {
        const loaded = await runMain(
          load,
          [`copy-${form}`, "-", ...endpoint],
          text,
        );
        assert.equal(loaded.code, 0, loaded.stderr);
        assert.deepEqual(
          (await client.get(`copy-${form}/logo.png`))?.valueBytes,
          png,
        );
        assert.equal((await client.get(`copy-${form}/text`))?.value, "plain");
      }
    },
  );

  await t.step(
    "a//b and a value beside keys below it are dumped; a key not UTF-8 fails the dump unless skipped",
    async () => {
      await client.put(
        new Uint8Array([...new TextEncoder().encode("odd/"), 0xff]),
        "x",
      );
      await client.put("odd//double", "x");
      await client.put("odd/a", "a value with a key below it");
      await client.put("odd/a/b", "below");
      const ran = await runMain(dump, ["odd", ...endpoint]);
      assert.equal(ran.code, 1);
      assert.equal(ran.stdout, "");
      assert.match(
        ran.stderr,
        /^etcd2yaml: cannot dump 0x6f64642fff: not UTF-8 text.*\n.*--skip-unrepresentable/,
      );
      const skipped = await runMain(dump, [
        "odd",
        "--skip-unrepresentable",
        ...endpoint,
      ]);
      assert.equal(skipped.code, 0, skipped.stderr);
      assert.equal(
        dumpBody(skipped.stdout),
        '/double: x\na:\n  "": a value with a key below it\n  b: below\n',
      );
      assert.equal(
        skipped.stderr,
        "etcd2yaml: left out 0x6f64642fff: not UTF-8 text, so no name a file can hold\n",
      );
    },
  );

  await t.step(
    "a value with keys below it: a file that sets it updates it, the keys below stay",
    async () => {
      await etcdctl(etcd, "put", "sh/b", "old");
      await etcdctl(etcd, "put", "sh/b/c", "below");
      const ran = await runMain(load, ["sh", "-", ...endpoint], "b: new\n");
      assert.equal(ran.code, 0, ran.stderr);
      assert.match(ran.stderr, /^yaml2etcd: note: <stdin> records no revision/);
      assert.equal(
        ran.stdout,
        "created 0, updated 1, deleted 0, unchanged 0, conflicts 0\n",
      );
      assert.equal((await client.get("sh/b"))?.value, "new");
      assert.equal((await client.get("sh/b/c"))?.value, "below");
      const again = await runMain(load, ["sh", "-", ...endpoint], "b: new\n");
      assert.equal(
        again.stdout,
        "created 0, updated 0, deleted 0, unchanged 1, conflicts 0\n",
      );
      // With --replace the file says b is a value and nothing is below it.
      const replaced = await runMain(
        load,
        ["sh", "-", "--replace", ...endpoint],
        "b: newer\n",
      );
      assert.equal(replaced.code, 0, replaced.stderr);
      assert.equal((await client.get("sh/b"))?.value, "newer");
      assert.equal(await client.get("sh/b/c"), undefined);
    },
  );

  await t.step(
    "--replace names the keys no file can hold and fails unless --skip-unrepresentable",
    async () => {
      await client.put(
        new Uint8Array([...new TextEncoder().encode("rp/"), 0xff]),
        "x",
      );
      await client.put("rp//double", "x");
      await client.put("rp/a", "shadowed");
      await client.put("rp/a/b", "below");
      await client.put("rp/gone", "x");
      const before = await held(client, "rp/");
      const file = "a:\n  b: below\n";
      const dry = await runMain(
        load,
        ["rp", "-", "--replace", "--dry-run", ...endpoint],
        file,
      );
      assert.equal(dry.code, 1, dry.stderr);
      assert.equal(
        dry.stdout,
        [
          '- rp/a (was "shadowed")',
          '- rp//double (was "x")',
          '- rp/gone (was "x")',
          "! 0x72702fff (left in place: not UTF-8 text, so no name a file can hold)",
          "plan: create 0, update 0, delete 3, unchanged 1, left in place 1",
          "",
        ].join("\n"),
      );
      assert.match(
        dry.stderr,
        /^yaml2etcd: note: <stdin> records no revision.*\nyaml2etcd: Refusing to replace "rp": 1 key under it cannot be in a file, so --replace would leave it: 0x72702fff .*; give --skip-unrepresentable to replace the rest and leave them\n$/,
      );
      const refused = await runMain(
        load,
        ["rp", "-", "--replace", ...endpoint],
        file,
      );
      assert.equal(refused.code, 1);
      assert.match(
        refused.stderr,
        /--skip-unrepresentable.*nothing was written/,
      );
      assert.deepEqual(await held(client, "rp/"), before, "nothing written");
      const skipped = await runMain(
        load,
        ["rp", "-", "--replace", "--skip-unrepresentable", ...endpoint],
        file,
      );
      assert.equal(skipped.code, 0, skipped.stderr);
      assert.equal(
        skipped.stdout,
        "created 0, updated 0, deleted 3, unchanged 1, conflicts 0\n",
      );
      assert.equal(await client.get("rp/gone"), undefined);
      assert.equal(await client.get("rp/a"), undefined);
      assert.equal(await client.get("rp//double"), undefined);
      assert.equal((await client.get("rp/a/b"))?.value, "below");
    },
  );

  await t.step(
    "a dump records its revision; loading it back keeps what changed since",
    async () => {
      for (const name of ["a", "b", "c", "gone"]) {
        await client.put(`since/${name}`, "1");
      }
      const dumped = await runMain(dump, ["since", ...endpoint]);
      assert.equal(dumped.code, 0, dumped.stderr);
      const { header } = await client.range("since/", { prefix: true });
      assert.equal(
        dumped.stdout,
        `# etcd2yaml: "since" at revision ${header.revision}\n` +
          'a: "1"\nb: "1"\nc: "1"\ngone: "1"\n',
      );
      await etcdctl(etcd, "put", "since/a", "theirs");
      await etcdctl(etcd, "put", "since/new", "theirs");
      const edited = dumped.stdout.replace('a: "1"', "a: mine")
        .replace('b: "1"', "b: mine").replace('gone: "1"\n', "");
      const ran = await runMain(
        load,
        ["since", "-", "--replace", ...endpoint],
        edited,
      );
      assert.equal(ran.code, 1, ran.stderr);
      const after = /after the dump \(revision \d+\)/.source;
      assert.match(
        ran.stderr,
        new RegExp(
          `^yaml2etcd: conflict: "since/a" changed at revision \\d+, ${after}: etcd holds "theirs", the file has "mine"; not written \\(--force overwrites\\)\n` +
            `yaml2etcd: conflict: "since/new" changed at revision \\d+, ${after}: etcd holds "theirs", the file does not have it; not written`,
        ),
      );
      assert.equal(
        ran.stdout,
        "created 0, updated 1, deleted 1, unchanged 1, conflicts 2\n",
      );
      assert.equal((await client.get("since/a"))?.value, "theirs");
      assert.equal((await client.get("since/new"))?.value, "theirs");
      assert.equal((await client.get("since/b"))?.value, "mine");
      assert.equal(await client.get("since/gone"), undefined);
      const dry = await runMain(
        load,
        ["since", "-", "--replace", "--dry-run", ...endpoint],
        edited,
      );
      assert.equal(dry.code, 1);
      assert.match(dry.stdout, /^! since\/a changed at revision \d+/m);
      assert.match(dry.stdout, /conflicts 2\n$/);
      const forced = await runMain(
        load,
        ["since", "-", "--replace", "--force", ...endpoint],
        edited,
      );
      assert.equal(forced.code, 0, forced.stderr);
      assert.equal((await client.get("since/a"))?.value, "mine");
      assert.equal(await client.get("since/new"), undefined);
    },
  );

  await t.step(
    "--json records it too; a file without one loads as before, and says so",
    async () => {
      await client.put("sj/a", "1");
      await client.put("sj/b", "1");
      const dumped = await runMain(dump, ["sj", "--json", ...endpoint]);
      const json = JSON.parse(dumped.stdout);
      const { header } = await client.range("sj/", { prefix: true });
      assert.deepEqual(json[""], { prefix: "sj", revision: header.revision });
      await client.put("sj/a", "theirs");
      json.a = "mine";
      json.b = "mine";
      const ran = await runMain(
        load,
        ["sj", "-", ...endpoint],
        JSON.stringify(json),
      );
      assert.equal(ran.code, 1);
      assert.match(ran.stderr, /^yaml2etcd: conflict: "sj\/a" changed/);
      assert.equal((await client.get("sj/a"))?.value, "theirs");
      assert.equal((await client.get("sj/b"))?.value, "mine");
      delete json[""];
      const plain = await runMain(
        load,
        ["sj", "-", ...endpoint],
        JSON.stringify(json),
      );
      assert.equal(plain.code, 0, plain.stderr);
      assert.equal(
        plain.stderr,
        "yaml2etcd: note: <stdin> records no revision (it is no dump of etcd2yaml), so a key changed since the file was written is overwritten\n",
      );
      assert.equal((await client.get("sj/a"))?.value, "mine");
      // A dump of another prefix: its revision says nothing here.
      await client.put("sk/a", "other");
      const other = await runMain(
        load,
        ["sk", "-", ...endpoint],
        dumped.stdout,
      );
      assert.equal(other.code, 0, other.stderr);
      assert.match(
        other.stderr,
        /^yaml2etcd: note: <stdin> is a dump of "sj" at revision \d+, not of "sk": its revision says nothing here/,
      );
    },
  );

  await t.step(
    "a load goes out in transactions of --txn-ops, each key compared",
    async () => {
      await using proxy = startProxy(etcd.clientPort);
      const yaml =
        Array.from({ length: 300 }, (_, i) => `k${i}: v${i}`).join("\n") + "\n";
      const ran = await runMain(load, [
        "txn",
        "-",
        "--endpoints",
        proxy.endpoint,
        "--transport",
        "gateway",
      ], yaml);
      assert.equal(ran.code, 0, ran.stderr);
      assert.equal(
        ran.stdout,
        "created 300, updated 0, deleted 0, unchanged 0, conflicts 0\n",
      );
      // One read-only transaction reads the subtree (its key and first
      // page), then the writes.
      assert.equal(
        proxy.count("POST", "/v3/kv/txn"),
        1 + 3,
        "the read, then 128 + 128 + 44",
      );
      assert.equal(proxy.count("POST", "/v3/kv/put"), 0);
      const small = await runMain(
        load,
        [
          "txn",
          "-",
          "--replace",
          "--txn-ops",
          "50",
          "--endpoints",
          proxy.endpoint,
          "--transport",
          "gateway",
        ],
        "k0: changed\n",
      );
      assert.equal(small.code, 0, small.stderr);
      assert.equal(
        small.stdout,
        "created 0, updated 1, deleted 299, unchanged 0, conflicts 0\n",
      );
      assert.equal(
        proxy.count("POST", "/v3/kv/txn"),
        4 + 1 + 6,
        "the read, then 300 writes in 6 of 50",
      );
      assert.equal((await client.range("txn/", { prefix: true })).count, 1);
    },
  );

  await t.step(
    "a key changed after the plan is a conflict; the rest is written",
    async () => {
      await client.put("cf/a", "1");
      await client.put("cf/b", "2");
      await using proxy = startProxy(etcd.clientPort);
      // The first transaction reads the subtree; the second writes.
      let txns = 0;
      proxy.holdRequests((line) =>
        line.startsWith("POST /v3/kv/txn") && ++txns === 2
      );
      const loading = runMain(
        load,
        ["cf", "-", "--endpoints", proxy.endpoint, "--transport", "gateway"],
        "a: mine\nb: mine\nc: new\n",
      );
      await within(proxy.held, 10_000, "yaml2etcd to send its transaction");
      await client.put("cf/b", "theirs");
      proxy.releaseRequests();
      const ran = await within(loading, 10_000, "yaml2etcd to finish");
      assert.equal(ran.code, 1, ran.stderr);
      assert.match(ran.stderr, /conflict: "cf\/b" changed since it was read/);
      assert.equal(
        ran.stdout,
        "created 1, updated 1, deleted 0, unchanged 0, conflicts 1\n",
      );
      assert.equal((await client.get("cf/a"))?.value, "mine");
      assert.equal((await client.get("cf/b"))?.value, "theirs");
      assert.equal((await client.get("cf/c"))?.value, "new");
    },
  );

  await t.step(
    "--atomic: all or nothing, and refused when it cannot fit",
    async () => {
      await client.put("at/a", "1");
      await using proxy = startProxy(etcd.clientPort);
      // The first transaction reads the subtree; the second writes.
      let txns = 0;
      proxy.holdRequests((line) =>
        line.startsWith("POST /v3/kv/txn") && ++txns === 2
      );
      const loading = runMain(
        load,
        [
          "at",
          "-",
          "--atomic",
          "--endpoints",
          proxy.endpoint,
          "--transport",
          "gateway",
        ],
        "a: mine\nb: new\n",
      );
      await within(proxy.held, 10_000, "yaml2etcd to send its transaction");
      await client.put("at/a", "theirs");
      proxy.releaseRequests();
      const ran = await within(loading, 10_000, "yaml2etcd to finish");
      assert.equal(ran.code, 1);
      assert.match(ran.stderr, /conflict: "at\/a"/);
      assert.equal(await client.get("at/b"), undefined, "nothing written");
      const fits = await runMain(
        load,
        ["at", "-", "--atomic", ...endpoint],
        "a: mine\nb: new\n",
      );
      assert.equal(fits.code, 0, fits.stderr);
      const revision = (await client.get("at/a"))?.modRevision;
      assert.equal(
        (await client.get("at/b"))?.modRevision,
        revision,
        "one revision",
      );
      const big = await runMain(
        load,
        ["at", "-", "--atomic", "--txn-ops", "2", ...endpoint],
        "a: x\nb: y\nc: z\n",
      );
      assert.equal(big.code, 1);
      assert.match(
        big.stderr,
        /Cannot load atomically: the plan has 3 writes, and one transaction takes at most 2.*nothing was written/,
      );
      assert.equal(await client.get("at/c"), undefined);
    },
  );

  await t.step(
    "v3 has no empty directories: refused before writing",
    async () => {
      const ran = await runMain(
        load,
        ["emp", "-", ...endpoint],
        "a: 1\nb: {}\n",
      );
      assert.equal(ran.code, 1);
      assert.match(
        ran.stderr,
        /"b" is an empty mapping, and etcd's v3 API has no empty directories|b is an empty mapping, and etcd's v3 API has no empty directories/,
      );
      assert.equal(await client.get("emp/a"), undefined);
      // v2's hidden keys are fine here.
      const hidden = await runMain(
        load,
        ["emp", "-", ...endpoint],
        "_lock: x\n",
      );
      assert.equal(hidden.code, 0, hidden.stderr);
    },
  );

  await t.step(
    "cut off half way, it says how far it got; a rerun finishes",
    async () => {
      await using proxy = startProxy(etcd.clientPort);
      const yaml =
        Array.from({ length: 2000 }, (_, i) => `k${i}: v`).join("\n") + "\n";
      const watcher = client.watch("half/", { prefix: true });
      await until(() => watcher.revision > 0, 5000, "the watch");
      const cut = (async () => {
        let seen = 0;
        for await (const _ of watcher) {
          if (++seen === 256) {
            proxy.block();
            break;
          }
        }
      })();
      const ran = await runMain(
        load,
        [
          "half",
          "-",
          "--concurrency",
          "1",
          "--endpoints",
          proxy.endpoint,
          "--transport",
          "gateway",
        ],
        yaml,
      );
      await cut;
      assert.equal(ran.code, 1);
      const stopped =
        /^yaml2etcd: Stopped loading "half" after (\d+) of 2000 writes(?: \(and (\d+) more that may have been applied\))?: .*; run it again to finish\n$/
          .exec(ran.stderr);
      assert.ok(stopped, ran.stderr);
      const applied = Number(stopped[1]);
      const uncertain = Number(stopped[2] ?? 0);
      const count =
        (await client.range("half/", { prefix: true, countOnly: true })).count;
      assert.ok(
        count >= applied && count <= applied + uncertain,
        `${count} vs ${applied} + ${uncertain}`,
      );
      proxy.unblock();
      const rerun = await runMain(load, [
        "half",
        "-",
        "--endpoints",
        proxy.endpoint,
        "--transport",
        "gateway",
      ], yaml);
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.equal(
        (await client.range("half/", { prefix: true, countOnly: true })).count,
        2000,
      );
    },
  );
});

test("--txn-ops up to the server's --max-txn-ops; above it, the message says which flag", async (t) => {
  await using etcd = await startEtcd({
    version: "3.5",
    args: ["--max-txn-ops", "1000"],
  });
  await using client = new Client({ endpoints: etcd.endpoint });
  const yaml = Array.from({ length: 600 }, (_, i) => `k${i}: v${i}`)
    .join("\n") + "\n";

  await t.step("--txn-ops 500: 600 writes in two transactions", async () => {
    await using proxy = startProxy(etcd.clientPort);
    const ran = await runMain(load, [
      "big",
      "-",
      "--txn-ops",
      "500",
      "--endpoints",
      proxy.endpoint,
      "--transport",
      "gateway",
    ], yaml);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(
      ran.stdout,
      "created 600, updated 0, deleted 0, unchanged 0, conflicts 0\n",
    );
    assert.equal(
      proxy.count("POST", "/v3/kv/txn"),
      1 + 2,
      "the read, then 500 + 100",
    );
    assert.equal(
      (await client.range("big/", { prefix: true, countOnly: true })).count,
      600,
    );
  });

  await t.step("--atomic --txn-ops 1000: 600 writes in one", async () => {
    const ran = await runMain(load, [
      "one",
      "-",
      "--atomic",
      "--txn-ops",
      "1000",
      "--endpoints",
      etcd.endpoint,
    ], yaml);
    assert.equal(ran.code, 0, ran.stderr);
    const { kvs } = await client.range("one/", { prefix: true });
    assert.equal(kvs.length, 600);
    assert.equal(new Set(kvs.map((kv) => kv.modRevision)).size, 1);
  });

  await t.step(
    "--txn-ops over the server's: refused, naming both flags",
    async () => {
      const ran = await runMain(
        load,
        [
          "over",
          "-",
          "--txn-ops",
          "2000",
          "--atomic",
          "--endpoints",
          etcd.endpoint,
        ],
        yaml + Array.from(
          { length: 600 },
          (_, i) => `m${i}: v`,
        ).join("\n") + "\n",
      );
      assert.equal(ran.code, 1);
      assert.match(
        ran.stderr,
        /^yaml2etcd: Stopped loading "over" after 0 of 1200 writes: etcd refused a transaction of up to 2000 writes, so the server's --max-txn-ops is lower than --txn-ops 2000; give --txn-ops N with N at most the server's --max-txn-ops, or start etcd with a larger --max-txn-ops\n$/,
      );
      assert.equal(
        (await client.range("over/", { prefix: true, countOnly: true }))
          .count,
        0,
      );
    },
  );
});

test("a round trip of random text and bytes, Kubernetes' protobuf values too, byte for byte", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  const next = random(testSeed("cli_v3 round trip", 31));
  const pieces = [
    "a",
    "é",
    "日本",
    "😀",
    " ",
    ":",
    "#",
    "-",
    "true",
    "1.0",
    "\n",
    "\t",
    '"',
    "'",
    "!!binary",
    "~",
    "",
    "\ufeff", // a byte-order mark to a careless decoder
  ];
  const text = () =>
    Array.from(
      { length: 1 + Math.floor(next() * 4) },
      () => pieces[Math.floor(next() * pieces.length)],
    ).join("");
  const bytes = () => {
    const out = new Uint8Array(1 + Math.floor(next() * 300));
    for (let i = 0; i < out.length; i++) out[i] = Math.floor(next() * 256);
    out[0] = 0xff; // never valid UTF-8
    return out;
  };
  const names = new Set<string>();
  for (let i = 0; i < 200; i++) {
    // Some start with U+FEFF, which a careless decoder drops.
    const bom = next() < 0.2 ? "\ufeff" : "";
    const name = `${bom}k${i}${text().replace(/[/\n\t]/g, "")}`.replace(
      /^[^\S\ufeff]|\s$/g,
      "_",
    );
    if (names.has(name)) continue;
    names.add(name);
    await client.put(
      `/registry/rt/${name}`,
      next() < 0.5 ? bytes() : bom + text(),
    );
  }
  // What Kubernetes stores: "k8s\0" and a protobuf.
  const pod = new Uint8Array([
    0x6b,
    0x38,
    0x73,
    0x00,
    0x0a,
    0x09,
    0x0a,
    0x02,
    0x76,
    0x31,
    0x12,
    0x03,
    0x50,
    0x6f,
    0x64,
  ]);
  await client.put("/registry/rt/pods/default/web", pod);
  const endpoint = ["--endpoints", etcd.endpoint];
  for (const format of [[], ["--json"]]) {
    const dumped = await runMain(dump, [
      "/registry/rt",
      ...format,
      ...endpoint,
    ]);
    assert.equal(dumped.code, 0, dumped.stderr);
    const copy = `/registry/copy${format.length}`;
    const loaded = await runMain(load, [copy, "-", ...endpoint], dumped.stdout);
    assert.equal(loaded.code, 0, loaded.stderr);
    const original = await held(client, "/registry/rt/");
    const again = await held(client, `${copy}/`);
    const strip = (rows: string[][], prefix: string) =>
      rows.map((
        [key, value],
      ) => [
        key!.slice(new TextEncoder().encode(prefix).toHex().length),
        value,
      ]);
    assert.deepEqual(
      strip(again, `${copy}/`),
      strip(original, "/registry/rt/"),
    );
    const redumped = await runMain(dump, [copy, ...format, ...endpoint]);
    assert.equal(dumpBody(redumped.stdout), dumpBody(dumped.stdout));
  }
});

test("etcdmon on v3: revisions, --prev, --since and a resync after compaction", async (t) => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });

  await t.step("one line per change, with --prev", async () => {
    const start = await client.put("mon/seed", "0");
    const stop = new AbortController();
    const mon = testIo("", stop.signal);
    const watching = monitor([
      "mon",
      "--prev",
      "--since",
      String(start.revision + 1),
      "--endpoints",
      etcd.endpoint,
    ], mon.io);
    const a = await client.put("mon/a", "1");
    const b = await client.put("mon/a", "2");
    const c = await client.delete("mon/a");
    const d = await client.put("mon/bin", new Uint8Array([0xff, 0]));
    await until(
      () => mon.stdout().split("\n").length > 4,
      10_000,
      "four lines",
    );
    stop.abort();
    assert.equal(await watching, 0);
    assert.equal(
      mon.stdout(),
      `${a.revision} create a "1"\n${b.revision} update a "2" was "1"\n${c.revision} delete a "2"\n${d.revision} create bin <2 bytes: ff00>\n`,
    );
  });

  await t.step(
    "--json, and a resync line when history was compacted",
    async () => {
      await using proxy = startProxy(etcd.clientPort);
      const stop = new AbortController();
      const mon = testIo("", stop.signal);
      const watching = monitor([
        "cmp",
        "--json",
        "--endpoints",
        proxy.endpoint,
        "--transport",
        "gateway",
        "--timeout",
        "1000",
      ], mon.io);
      await until(
        async () => {
          await client.put("cmp/probe", "x");
          return mon.stdout().includes("probe");
        },
        10_000,
        "etcdmon to watch",
      );
      proxy.block();
      await client.put("cmp/missed", "1");
      const { revision } = await client.put("cmp/missed", "2");
      await client.compact(revision);
      proxy.unblock();
      await until(
        () => mon.stdout().includes("resync"),
        20_000,
        "a resync line",
      );
      const lease = await client.lease.grant(60);
      await client.put("cmp/after", "3", { lease: lease.id });
      await until(
        () => mon.stdout().includes('"path":"after"'),
        10_000,
        "a change after",
      );
      stop.abort();
      assert.equal(await watching, 0);
      const lines = mon.stdout().trim().split("\n").map((line) =>
        JSON.parse(line)
      );
      const resync = lines.find((line) => line.resync);
      assert.ok(resync.resync.revision >= revision);
      const after = lines.find((line) => line.path === "after");
      assert.ok(after, mon.stdout());
      assert.ok(lines.indexOf(resync) < lines.indexOf(after));
      assert.equal(after.version, 1);
      assert.equal(after.lease, lease.id, "the lease it lives by");
      assert.match(after.lease, /^[0-9a-f]{16}$/, "as etcdctl prints it");
      await client.lease.revoke(lease.id);
    },
  );
});

test("the tools on etcd 3.4 (both APIs): v3 by default, and a note about the other store", async () => {
  await using etcd = await startEtcd({ version: "3.4" });
  await using v2 = new V2Client({ endpoints: etcd.endpoint });
  await using v3 = new Client({ endpoints: etcd.endpoint });
  await v2.set("only2/a", "from v2");
  await v3.put("only3/a", "from v3");
  const endpoint = ["--endpoints", etcd.endpoint];
  const three = await runMain(dump, ["only3", ...endpoint]);
  assert.equal(dumpBody(three.stdout), "a: from v3\n");
  const missing = await runMain(dump, ["only2", ...endpoint]);
  assert.equal(missing.code, 1);
  assert.match(
    missing.stderr,
    /no v3 keys under "only2", but etcd's v2 store has 1.*give --api v2/,
  );
  const two = await runMain(dump, ["/only2", "--api", "v2", ...endpoint]);
  assert.equal(dumpBody(two.stdout), "a: from v2\n");
  const slash = await runMain(dump, ["/only3", ...endpoint]);
  assert.match(
    slash.stderr,
    /no v3 keys under "\/only3", but there are under "only3"/,
  );
  const loaded = await runMain(
    load,
    ["l3", "-", ...endpoint],
    "x: !!binary AP8=\ny: text\n",
  );
  assert.equal(loaded.code, 0, loaded.stderr);
  assert.deepEqual((await v3.get("l3/x"))?.valueBytes, Uint8Array.of(0, 255));
  const refused = await runMain(
    load,
    ["/l2", "-", "--api", "v2", ...endpoint],
    "x: !!binary AP8=\n",
  );
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /holds text only \(use --api v3\); nothing was written/,
  );
});
