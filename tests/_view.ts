// The viewer started in-process for a test: its URL, token and stderr, and
// a stop that expects exit code 0.

import assert from "node:assert/strict";
import { main } from "../cli/view.ts";
import { testIo } from "./_cli.ts";
import { until, within } from "./_wait.ts";

/** Starts the viewer in-process; resolves with its URL and a stop function. */
export async function startView(args: string[]) {
  const stop = new AbortController();
  const { io, stdout, stderr } = testIo("", stop.signal);
  const running = main(args, io);
  await within(
    Promise.race([
      until(() => stdout().includes("\n"), 20_000, "the viewer's URL"),
      running.then((code) => {
        throw new Error(`the viewer ended with ${code}: ${stderr()}`);
      }),
    ]),
    20_000,
    "the viewer to start",
  );
  const url = new URL(stdout().trim());
  return {
    url,
    token: url.searchParams.get("token")!,
    stderr,
    async stop() {
      stop.abort();
      const code = await within(running, 10_000, "the viewer to stop");
      assert.equal(code, 0, stderr());
    },
  };
}
