// Every tool answers a command line it cannot use with exit code 2 and one
// line naming what was wrong, before it reaches etcd (nothing listens on the
// endpoint given here) and without a stack trace.

import assert from "node:assert/strict";
import { main as dump } from "../../cli/dump.ts";
import { main as load } from "../../cli/load.ts";
import { main as monitor } from "../../cli/monitor.ts";
import { main as view } from "../../cli/view.ts";
import type { Io } from "../../cli/_common.ts";
import { testIo } from "../_cli.ts";
import { test } from "../_wait.ts";

const TOOLS = [
  ["etcd2yaml", dump],
  ["yaml2etcd", load],
  ["etcdmon", monitor],
  ["etcd-tree", view],
] as const;

const NOWHERE = ["--endpoints", "http://127.0.0.1:9"];

/** Runs a tool's main() with `env` as its environment. */
async function run(
  main: (args: string[], io: Io) => Promise<number>,
  args: string[],
  env: Record<string, string> = {},
) {
  const { io, stderr, stdout } = testIo();
  const code = await main(args, { ...io, env: (name) => env[name] });
  return { code, stderr: stderr(), stdout: stdout() };
}

test("every tool refuses a command line it cannot use, with exit code 2", async (t) => {
  const cases: [string, string[], Record<string, string>, RegExp][] = [
    [
      "an unknown API",
      ["p", "--api", "v4"],
      {},
      /Invalid --api "v4": expected v3 or v2/,
    ],
    [
      "an unknown ETCD_API",
      ["p"],
      { ETCD_API: "v1" },
      /Invalid ETCD_API "v1": expected v3 or v2/,
    ],
    [
      "too many arguments",
      ["p", "f", "x", "y"],
      {},
      /Too many arguments: (f )?x y/,
    ],
    [
      "a password file without a user",
      ["p", "--password-file", "/etc/hostname"],
      {},
      /Invalid --password-file: give --user NAME too/,
    ],
    [
      "a user without a name",
      ["p", "--user", ":secret"],
      {},
      /Invalid --user: expected NAME \(or NAME:PASSWORD\)/,
    ],
    [
      "a password file that cannot be read",
      ["p", "--user", "alice", "--password-file", "/nonexistent/pw"],
      {},
      /Cannot read --password-file "\/nonexistent\/pw": No such file/,
    ],
  ];
  for (const [name, main] of TOOLS) {
    await t.step(name, async () => {
      for (const [what, args, env, message] of cases) {
        const ran = await run(main, [...args, ...NOWHERE], env);
        assert.equal(ran.code, 2, `${what}: ${ran.stderr}`);
        assert.match(
          ran.stderr,
          new RegExp(`^${name}: ${message.source}`),
          what,
        );
        assert.equal(
          ran.stderr.trim().split("\n").length <= 2,
          true,
          ran.stderr,
        );
        assert.doesNotMatch(ran.stderr, /\n\s+at /, "no stack trace");
        assert.doesNotMatch(ran.stderr, /secret/, "no password");
        assert.equal(ran.stdout, "");
      }
    });
  }
});
