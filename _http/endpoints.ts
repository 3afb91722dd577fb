// Endpoint URLs as every protocol's client takes them: checked, normalized,
// never echoed with a password, and never moved to another scheme than the
// user gave (a member that advertises only http:// is not used by a client
// that was given https://). Internal.

/** Hides a password in anything that looks like a URL with credentials. */
export function redact(text: string): string {
  return text.replace(/(\/\/[^/@:\s]*):[^/@\s]*@/g, "$1:***@");
}

/**
 * Checks an endpoint URL and returns it as `scheme://host[:port]`. A bare
 * `host:port` (as etcdctl takes it) means `scheme` (http unless told).
 */
export function normalizeEndpoint(
  endpoint: string,
  scheme: "http" | "https" = "http",
): string {
  if (typeof endpoint !== "string") {
    throw new TypeError(
      `Invalid endpoint: expected a URL string, got ${typeof endpoint}`,
    );
  }
  let url: URL;
  try {
    const given = endpoint.trim();
    url = new URL(given.includes("://") ? given : `${scheme}://${given}`);
  } catch {
    throw new TypeError(
      `Invalid endpoint ${
        JSON.stringify(redact(endpoint))
      }: expected a URL such as "http://127.0.0.1:2379"`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(
      `Invalid endpoint ${
        JSON.stringify(redact(endpoint))
      }: expected an http: or https: URL`,
    );
  }
  if (url.username !== "" || url.password !== "") {
    throw new TypeError(
      `Invalid endpoint "${url.protocol}//${url.host}": credentials in the URL are not supported; pass them separately`,
    );
  }
  const path = url.pathname.replace(/\/+$/, "");
  if (path !== "") {
    // etcd serves its APIs at the root; a path would only end in a 404
    // (and the tools would take that for a server without v3).
    throw new TypeError(
      `Invalid endpoint ${
        JSON.stringify(redact(endpoint.trim()))
      }: etcd answers at the root of its client URL, not below the path ${
        JSON.stringify(path)
      }; give "${url.protocol}//${url.host}"`,
    );
  }
  return `${url.protocol}//${url.host}`;
}

/**
 * The endpoints of a list: comma-separated text or an array, normalized;
 * `host:port` means https when TLS settings are given (`tls`).
 */
export function endpointList(
  given: string | readonly string[],
  tls = false,
): string[] {
  if (typeof given !== "string" && !Array.isArray(given)) {
    throw new TypeError(
      `Invalid endpoints: expected a URL string or an array of them, got ${
        given === null ? "null" : typeof given
      }`,
    );
  }
  const list = typeof given === "string" ? given.split(",") : [...given];
  const endpoints = list.map((endpoint) =>
    normalizeEndpoint(endpoint, tls ? "https" : "http")
  );
  if (endpoints.length === 0) {
    throw new TypeError("Invalid endpoints: give at least one etcd URL");
  }
  return endpoints;
}

/** What to do with the client URLs the members advertise. */
export interface Learned {
  /** The URLs to use: those of the scheme the user gave. */
  use: string[];
  /** Why others were left out, one line each. */
  skipped: string[];
}

/**
 * Sorts the client URLs the members advertise: only those of the user's
 * own scheme are used. A client given https:// never moves to http://
 * (its credentials would go in clear); one given http:// does not move to
 * https:// (it has no TLS settings for it).
 */
export function learnEndpoints(
  given: readonly string[],
  advertised: readonly string[],
): Learned {
  const schemes = new Set(given.map((endpoint) => endpoint.split(":")[0]));
  const use = new Set<string>();
  const skipped: string[] = [];
  for (const url of advertised) {
    let endpoint: string;
    try {
      endpoint = normalizeEndpoint(url);
    } catch (error) {
      skipped.push((error as Error).message);
      continue;
    }
    const scheme = endpoint.split(":")[0];
    if (!schemes.has(scheme)) {
      skipped.push(
        `${endpoint}: not ${
          [...schemes].join(" or ")
        }, the scheme the client was given`,
      );
      continue;
    }
    use.add(endpoint);
  }
  return { use: [...use], skipped };
}
