// The whole v3 key space, exactly (#23 item 4): with no PREFIX (or "")
// every tool sees every key, "/"-rooted or not, and a key space etcdctl
// wrote, with `/x` beside `x`, empty segments and values beside keys
// below them, goes through etcd2yaml and yaml2etcd byte for byte, in YAML
// and in JSON. What no file can hold is listed, and fails unless skipped.

import assert from "node:assert/strict";
import { main as dump } from "../../cli/dump.ts";
import { main as load } from "../../cli/load.ts";
import { main as monitor } from "../../cli/monitor.ts";
import { EtcdTree, TreeDirectory } from "../../tree.ts";
import { Client } from "../_v3.ts";
import { type EtcdServer, startEtcd } from "../../testing.ts";
import { dumpBody, runMain, testIo } from "../_cli.ts";
import { startView } from "../_view.ts";
import { test, until, within } from "../_wait.ts";

/** Runs etcd 3.5's etcdctl against the server. */
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

/** Every key and value, as `etcdctl get "" --prefix -w json` shows them. */
async function everything(etcd: EtcdServer): Promise<string[][]> {
  const answer = JSON.parse(
    await etcdctl(etcd, "get", "", "--prefix", "-w", "json"),
  ) as { kvs?: { key: string; value?: string }[] };
  return (answer.kvs ?? []).map((kv) => [kv.key, kv.value ?? ""]);
}

/** A Kubernetes-like key space and the cases a file must spell. */
const KEYS: [string, string][] = [
  [
    "/registry/pods/default/web-1",
    '{"kind":"Pod","metadata":{"name":"web-1"}}',
  ],
  ["/registry/services/specs/default/kubernetes", '{"kind":"Service"}'],
  ["/registry/minions/node-1", "true"],
  ["/config/app/port", "8080"],
  ["/config/app/motd", "line one\nline two\n"],
  ["/config/app/empty", ""],
  ["/services/search", "v1"],
  ["/services/search/db", "postgres"],
  ["x", "no leading slash"],
  ["/x", "a leading slash"],
  ["/", "just a slash"],
  ["a//b", "an empty segment"],
  ["//x", "two leading slashes"],
  ["dir/", "a trailing slash"],
  ["dir/inside", "below dir"],
  ["a/./b/../c", "dots"],
  ["with space/and: colon", "# not a comment"],
];

test("the whole key space round-trips byte for byte (etcd 3.5)", async (t) => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  const endpoint = ["--endpoints", etcd.endpoint];
  for (const [key, value] of KEYS) await etcdctl(etcd, "put", key, value);
  const original = await everything(etcd);
  assert.equal(original.length, KEYS.length);

  await t.step('no PREFIX and "" dump every key, with no note', async () => {
    const all = await runMain(dump, ["", ...endpoint]);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stderr, "");
    const none = await runMain(dump, [...endpoint]);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, all.stdout);
    assert.equal(
      dumpBody(all.stdout),
      [
        "/: just a slash",
        "//x: two leading slashes",
        "/config:",
        "  app:",
        '    empty: ""',
        "    motd: |",
        "      line one",
        "      line two",
        '    port: "8080"',
        "/registry:",
        "  minions:",
        '    node-1: "true"',
        "  pods:",
        "    default:",
        '      web-1: "{\\"kind\\":\\"Pod\\",\\"metadata\\":{\\"name\\":\\"web-1\\"}}"',
        "  services:",
        "    specs:",
        "      default:",
        '        kubernetes: "{\\"kind\\":\\"Service\\"}"',
        "/services:",
        "  search:",
        '    "": v1',
        "    db: postgres",
        "/x: a leading slash",
        "a:",
        "  .:",
        "    b:",
        "      ..:",
        "        c: dots",
        "a//b: an empty segment",
        "dir:",
        "  inside: below dir",
        "dir/: a trailing slash",
        "with space:",
        '  "and: colon": "# not a comment"',
        "x: no leading slash",
        "",
      ].join("\n"),
    );
  });

  for (const format of ["yaml", "json"]) {
    await t.step(`dump, wipe, load: ${format}`, async () => {
      const dumped = await runMain(dump, [
        "",
        ...(format === "json" ? ["--json"] : []),
        ...endpoint,
      ]);
      assert.equal(dumped.code, 0, dumped.stderr);
      assert.equal(dumped.stderr, "");
      await etcdctl(etcd, "del", "", "--prefix");
      assert.deepEqual(await everything(etcd), []);
      const loaded = await runMain(load, ["", "-", ...endpoint], dumped.stdout);
      assert.equal(loaded.code, 0, loaded.stderr);
      assert.equal(
        loaded.stdout,
        `created ${KEYS.length}, updated 0, deleted 0, unchanged 0, conflicts 0\n`,
      );
      assert.deepEqual(await everything(etcd), original);
      // Loaded again over itself: nothing to do.
      const again = await runMain(
        load,
        ["", "-", "--replace", ...endpoint],
        dumped.stdout,
      );
      assert.equal(again.code, 0, again.stderr);
      assert.equal(
        again.stdout,
        `created 0, updated 0, deleted 0, unchanged ${KEYS.length}, conflicts 0\n`,
      );
    });
  }

  await t.step(
    "PREFIX with a value of its own beside keys below it, in JSON",
    async () => {
      const bytes = new Uint8Array([0, 0xff, 0x80]);
      await client.put("/services/search", bytes);
      const json = await runMain(dump, [
        "/services/search",
        "--json",
        ...endpoint,
      ]);
      assert.equal(json.code, 0, json.stderr);
      const revision = (await client.range("x")).header.revision;
      assert.equal(
        json.stdout,
        `{\n  "": {"prefix": "/services/search", "revision": ${revision}, "value": {"": "${bytes.toBase64()}"}},\n  "db": "postgres"\n}\n`,
      );
      await client.delete("/services/search");
      await client.delete("/services/search/db");
      const loaded = await runMain(
        load,
        ["/services/search", "-", ...endpoint],
        json.stdout,
      );
      assert.equal(loaded.code, 0, loaded.stderr);
      assert.equal(
        loaded.stdout,
        "created 2, updated 0, deleted 0, unchanged 0, conflicts 0\n",
      );
      assert.deepEqual(
        (await client.get("/services/search"))?.valueBytes,
        bytes,
      );
      await client.put("/services/search", "v1");
    },
  );

  await t.step('names with "/" in a file are the keys they join', async () => {
    const twice = await runMain(
      load,
      ["", "-", "--dry-run", ...endpoint],
      '"/config/app":\n  port: "1"\n"/config":\n  app:\n    port: "2"\n',
    );
    assert.equal(twice.code, 1);
    assert.match(
      twice.stderr,
      /the key "\/config\/app\/port" is given twice.*give it once\n$/,
    );
    const joined = await runMain(
      load,
      ["", "-", "--dry-run", ...endpoint],
      '"/config/app/port": "9090"\n',
    );
    assert.equal(joined.code, 0, joined.stderr);
    assert.match(
      joined.stdout,
      /^~ \/config\/app\/port = "9090" \(was "8080"\)$/m,
    );
  });

  await t.step("etcdmon with no PREFIX prints /-rooted keys", async () => {
    const controller = new AbortController();
    const { io, stdout } = testIo("", controller.signal);
    const running = monitor([...endpoint], io);
    await until(
      async () => {
        await client.put("/registry/pods/default/web-2", "new");
        return stdout().includes("/registry/pods/default/web-2");
      },
      10_000,
      "etcdmon printing a /-rooted key",
      200,
    );
    controller.abort();
    assert.equal(await within(running, 10_000, "etcdmon ending"), 0);
    assert.match(
      stdout(),
      /put \/registry\/pods\/default\/web-2 new|\/registry\/pods\/default\/web-2/,
    );
    await client.delete("/registry/pods/default/web-2");
  });

  await t.step('EtcdTree.open(client, "") holds every key', async () => {
    await using tree = await EtcdTree.open(client, "");
    assert.equal(tree.get("/x"), "a leading slash");
    assert.equal(tree.get("x"), "no leading slash");
    assert.equal(tree.get("/registry/minions/node-1"), "true");
    assert.equal(tree.get("a//b"), "an empty segment");
    assert.equal(tree.get("dir/"), "a trailing slash");
    assert.equal(tree.get("dir/inside"), "below dir");
    assert.deepEqual(tree.skipped, []);
    assert.deepEqual(tree.shadowed, ["/services/search"]);
    let values = 0;
    const root = tree.root;
    assert.ok(root instanceof TreeDirectory);
    for (const node of root.walk()) if (!node.dir) values++;
    assert.equal(values, KEYS.length - 1); // the shadowed one
    await tree.set("/x", "set through the tree");
    assert.equal((await client.get("/x"))?.value, "set through the tree");
    assert.equal((await client.get("x"))?.value, "no leading slash");
    await tree.set("/x", "a leading slash");
    await client.put("/registry/pods/default/web-3", "watched");
    await until(
      () => tree.get("/registry/pods/default/web-3") === "watched",
      10_000,
      "the tree mirroring a /-rooted key",
    );
  });
});

test("the viewer with no PREFIX shows every key", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  for (const [key, value] of KEYS) await etcdctl(etcd, "put", key, value);
  const view = await startView(["--endpoints", etcd.endpoint]);
  try {
    const answer = await fetch(
      new URL(`/tree?token=${view.token}`, view.url),
    );
    const paths = new Map((await answer.json()).nodes as [string, unknown][]);
    for (const [key] of KEYS) {
      if (key !== "/services/search") assert.ok(paths.has(key), key);
    }
  } finally {
    await view.stop();
  }
});

test("what no file can hold is listed and fails unless skipped", async () => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  const endpoint = ["--endpoints", etcd.endpoint];
  await client.put(new Uint8Array([0x2f, 0x6b, 0xff]), "not text"); // "/k\xff"
  await client.put("/ok", "fine");
  await client.put("app/", "app and a slash");
  await client.put("app/in", "inside");

  const refused = await runMain(dump, ["", ...endpoint]);
  assert.equal(refused.code, 1);
  assert.equal(refused.stdout, "");
  assert.equal(
    refused.stderr,
    "etcd2yaml: cannot dump 0x2f6bff: not UTF-8 text, so no name a file can hold\n" +
      'etcd2yaml: Cannot dump "": 1 key under it has no name in a file (above); give --skip-unrepresentable to dump the rest without them; nothing was written\n',
  );
  const skipped = await runMain(dump, [
    "",
    "--skip-unrepresentable",
    ...endpoint,
  ]);
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.equal(
    skipped.stderr,
    "etcd2yaml: left out 0x2f6bff: not UTF-8 text, so no name a file can hold\n",
  );
  assert.equal(
    dumpBody(skipped.stdout),
    "/ok: fine\napp:\n  in: inside\napp/: app and a slash\n",
  );

  const app = await runMain(dump, ["app", ...endpoint]);
  assert.equal(app.code, 1);
  assert.match(
    app.stderr,
    /^etcd2yaml: cannot dump "app\/": PREFIX and "\/" alone, so no name below PREFIX \(the whole key space, PREFIX "", holds it\)\n/,
  );
  const file = await Deno.makeTempFile();
  try {
    const out = await runMain(dump, ["app", "-o", file, ...endpoint]);
    assert.equal(out.code, 1);
    assert.equal(await Deno.readTextFile(file), "", "nothing written");
  } finally {
    await Deno.remove(file);
  }
});
