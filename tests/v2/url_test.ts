// Every tool run the way the README says one can: from a URL, where no
// deno.json of this repository applies (no import map, no lock file).

import assert from "node:assert/strict";
import { Client, type Value } from "../../v2/mod.ts";
import { startEtcd } from "../../testing.ts";
import { test } from "../_wait.ts";
import { dumpBody } from "../_cli.ts";

const root = new URL("../..", import.meta.url).pathname;
const TYPES: Record<string, string> = {
  ".ts": "application/typescript",
  ".json": "application/json",
};

/** Serves the repository's files over HTTP, as a web host would. */
function serveRepository(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const path = decodeURIComponent(new URL(request.url).pathname);
      if (path.includes("..")) return new Response("no", { status: 400 });
      try {
        const body = await Deno.readFile(root + path.slice(1));
        const type = TYPES[path.slice(path.lastIndexOf("."))] ?? "text/plain";
        return new Response(body, { headers: { "content-type": type } });
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
}

async function runFromUrl(
  url: string,
  args: string[],
  stdin = "",
): Promise<{ code: number; stdout: string; stderr: string }> {
  const cwd = await Deno.makeTempDir(); // no deno.json here
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-config", "--no-lock", url, ...args],
      cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
    const output = await child.output();
    return {
      code: output.code,
      stdout: new TextDecoder().decode(output.stdout),
      stderr: new TextDecoder().decode(output.stderr),
    };
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

test("every tool runs from a URL", async (t) => {
  await using server = serveRepository();
  const base = `http://127.0.0.1:${server.addr.port}/cli/`;
  await using etcd = await startEtcd();
  await using client = new Client({ endpoints: etcd.endpoint });
  const endpoint = ["--api", "v2", "--endpoints", etcd.endpoint];

  for (
    const [script, name] of [
      ["dump.ts", "etcd2yaml"],
      ["load.ts", "yaml2etcd"],
      ["monitor.ts", "etcdmon"],
      ["view.ts", "etcd-tree"],
    ]
  ) {
    await t.step(`${name} --version`, async () => {
      const ran = await runFromUrl(base + script, ["--version"]);
      assert.equal(ran.code, 0, ran.stderr);
      assert.match(ran.stdout, new RegExp(`^${name} \\d+\\.\\d+\\.\\d+\\n$`));
    });
  }

  await t.step(
    "yaml2etcd loads YAML that needs npm:yaml, and etcd2yaml dumps it",
    async () => {
      const yaml = "text: |\n  two\n  lines\nlist: [a, b]\n";
      const loaded = await runFromUrl(base + "load.ts", [
        "/url",
        "-",
        "--arrays",
        ...endpoint,
      ], yaml);
      assert.equal(loaded.code, 0, loaded.stderr);
      assert.equal(
        ((await client.get("url/text")).node as Value).value,
        "two\nlines\n",
      );
      const dumped = await runFromUrl(base + "dump.ts", [
        "/url",
        "--arrays",
        ...endpoint,
      ]);
      assert.equal(dumped.code, 0, dumped.stderr);
      assert.equal(
        dumpBody(dumped.stdout),
        "list:\n  - a\n  - b\ntext: |\n  two\n  lines\n",
      );
    },
  );
});
