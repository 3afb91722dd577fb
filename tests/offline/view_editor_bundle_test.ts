// The viewer's editor bundle (cli/_editor.ts) is what tools/bundle_editor.ts
// makes from the pinned versions in tools/editor/: reproducible, not edited
// by hand. Bundling needs the npm packages once (the registry, or Deno's
// cache).

import assert from "node:assert/strict";
import { editorModule } from "../../tools/bundle_editor.ts";
import { test } from "../_wait.ts";

test("the committed editor bundle equals a fresh one", async () => {
  const committed = await Deno.readTextFile(
    new URL("../../cli/_editor.ts", import.meta.url),
  );
  const fresh = await editorModule();
  assert.ok(
    committed === fresh,
    "cli/_editor.ts differs from a fresh bundle: run deno run -A tools/bundle_editor.ts",
  );
});
