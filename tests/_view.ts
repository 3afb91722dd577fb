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

/** Debian's Chromium (or CHROMIUM_BIN), headless, for the browser tests. */
export async function launchChromium() {
  const { chromium } = await import("playwright-core");
  const executablePath = Deno.env.get("CHROMIUM_BIN") ?? "/usr/bin/chromium";
  try {
    await Deno.stat(executablePath);
  } catch {
    throw new Error(
      `Cannot run the browser tests: no ${executablePath}; install it with "apt-get install chromium" (or set CHROMIUM_BIN)`,
    );
  }
  return await chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** A page of the viewer, with the locators the browser tests share. */
export function viewerPage(page: import("playwright-core").Page) {
  // The page never opens a native dialog: any is a failure.
  const native: string[] = [];
  page.on("dialog", (dialog) => {
    native.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  const row = (path: string) => page.locator(`.row[data-path="${path}"]`);
  return {
    native,
    row,
    value: (path: string) => row(path).locator(".value"),
    editor: page.locator("#editor .cm-content"),
    /** The editor's text, line by line. */
    editorText: async () =>
      (await page.locator("#editor .cm-line").allTextContents()).join("\n"),
    /** Waits until `selector`'s text passes `test` (the CSP forbids eval). */
    async waitText(
      selector: string,
      test: string | RegExp,
      timeout = 5000,
    ): Promise<string> {
      const deadline = performance.now() + timeout;
      let last: string | null = null;
      while (performance.now() < deadline) {
        last = await page.locator(selector).first().textContent({ timeout })
          .catch(() => null);
        if (
          last !== null &&
          (typeof test === "string" ? last === test : test.test(last))
        ) return last;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(
        `Timed out waiting for ${selector} to read ${test}: ${
          JSON.stringify(last)
        }`,
      );
    },
    /** Answers the page's own dialog with the button labelled `label`. */
    async answer(label: string) {
      await page.locator("dialog#ask[open]").waitFor();
      await page.locator("dialog#ask button", { hasText: label }).click();
      await page.locator("dialog#ask[open]").waitFor({ state: "detached" });
    },
  };
}

/**
 * With VIEWER_SCREENSHOTS=1, saves the page as docs/viewer-NAME.png (the
 * README's pictures): `VIEWER_SCREENSHOTS=1 deno test -A tests/view_*browser_test.ts`.
 */
export async function screenshot(
  page: import("playwright-core").Page,
  name: string,
): Promise<void> {
  if (Deno.env.get("VIEWER_SCREENSHOTS") !== "1") return;
  await page.screenshot({
    path: new URL(`../docs/viewer-${name}.png`, import.meta.url).pathname,
  });
}
