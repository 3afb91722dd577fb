// wrk, the raw HTTP ceiling, for the benchmarks.

/**
 * Requests a second that `wrk` makes to `endpoint` with `connections`
 * connections (one thread) for `seconds`, each request made by the Lua
 * `script` (a file); `env` reaches the script through `os.getenv`.
 */
export async function wrkRate(
  endpoint: string,
  script: string,
  connections: number,
  seconds: number,
  env: Record<string, string> = {},
): Promise<number> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("wrk", {
      args: [
        "-t1",
        `-c${connections}`,
        `-d${seconds}s`,
        "-s",
        script,
        endpoint,
      ],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error("Cannot run wrk: not installed (apt-get install wrk)");
    }
    throw error;
  }
  const text = new TextDecoder().decode(output.stdout);
  const match = text.match(/Requests\/sec:\s+([\d.]+)/);
  if (!output.success || !match) {
    throw new Error(
      `wrk failed: ${text}${new TextDecoder().decode(output.stderr)}`,
    );
  }
  if (/Non-2xx/.test(text)) {
    throw new Error(`wrk: etcd refused some requests: ${text}`);
  }
  return Number(match[1]);
}

/** The Lua scripts (and their JSON bodies) of v3 gateway calls. */
export interface GatewayScripts {
  /** The folder holding them: remove it when done. */
  dir: string;
  /** The script of each kind of call. */
  files: Record<"range" | "put", string>;
  /** The request body for key `i`, of each kind. */
  bodies: Record<"range" | "put", string[]>;
}

/**
 * Writes wrk scripts that range or put `bench/k0` .. `bench/k<keys - 1>`
 * (value `v`) in turn on etcd's v3 gateway.
 */
export async function gatewayScripts(keys: number): Promise<GatewayScripts> {
  const b64 = (text: string) => new TextEncoder().encode(text).toBase64();
  const dir = await Deno.makeTempDir();
  const files = { range: `${dir}/range.lua`, put: `${dir}/put.lua` };
  const bodies = { range: [] as string[], put: [] as string[] };
  for (const kind of ["range", "put"] as const) {
    for (let i = 0; i < keys; i++) {
      const key = b64(`bench/k${i}`);
      bodies[kind].push(
        JSON.stringify(
          kind === "range" ? { key } : { key, value: b64("v") },
        ),
      );
    }
    await Deno.writeTextFile(
      files[kind],
      `local bodies = {${bodies[kind].map((body) => `'${body}'`).join(",")}}
local i = 0
request = function()
  i = (i % ${keys}) + 1
  return wrk.format("POST", "/v3/kv/${kind}", nil, bodies[i])
end
`,
    );
  }
  return { dir, files, bodies };
}
