// A TCP proxy in front of a server, whose connections a test can cut, stall
// and count, and whose answers it can hold back or replace.

/** A running proxy; dispose it to stop it. */
export interface Proxy extends AsyncDisposable {
  /** The proxy's URL, such as `http://127.0.0.1:40000`. */
  readonly endpoint: string;
  /** How many connections are open through it now. */
  readonly open: number;
  /** How many connections it has accepted so far. */
  readonly accepted: number;
  /**
   * The request lines the client sent through it, in order, such as
   * `"POST /v2/keys/q"` (HTTP requests only; the version is left out).
   */
  readonly requests: readonly string[];
  /** How many requests of `method` had a path starting with `path`. */
  count(method: string, path: string): number;
  /** The request lines sent on the `nth` connection accepted (from 1). */
  requestsOf(nth: number): readonly string[];
  /** Closes every open connection (the listener stays). */
  cut(): void;
  /** Cuts every connection and refuses new ones until `unblock()`. */
  block(): void;
  /** Lets connections through again. */
  unblock(): void;
  /**
   * Cuts every connection and sends new ones to `port`: another server now
   * answers at the proxy's address.
   */
  retarget(port: number): void;
  /**
   * Holds back what the server sends on the `nth` connection accepted
   * (from 1), keeping it open: to the client, the server has gone quiet on
   * it.
   */
  stall(nth: number): void;
  /** Sends on what `stall(nth)` held back, and whatever comes after. */
  release(nth: number): void;
  /**
   * From now on every request still reaches the server, but its answer is
   * held back (on every connection, new ones too) until `passAnswers()`.
   */
  holdAnswers(): void;
  /**
   * From now on every request still reaches the server, but the client gets
   * `HTTP <status>` instead of the server's answer, and the connection is
   * closed: a gateway whose upstream failed after the request went through.
   */
  failAnswers(status: number): void;
  /** Answers pass again; what was held back is sent on. */
  passAnswers(): void;
  /**
   * From now on nothing passes either way on any connection, which stays
   * open: whatever the protocol (HTTP/1.1 or HTTP/2), requests never reach
   * the server and answers never reach the client.
   */
  freeze(): void;
  /** Resolves once `count` requests have gone through in all. */
  requested(count: number): Promise<void>;
  /**
   * Holds back requests whose line (`"DELETE /v2/keys/a"`) matches, and
   * whatever follows them on their connection, until `releaseRequests()`:
   * the server has not seen them yet.
   */
  holdRequests(match: (line: string) => boolean): void;
  /** Sends on the requests `holdRequests` held back. */
  releaseRequests(): void;
  /** Resolves once a request matching `holdRequests` has been held. */
  readonly held: Promise<void>;
}

const REQUEST_LINE =
  /(?:^|\r\n)(GET|PUT|POST|DELETE|HEAD|OPTIONS|PATCH) (\S+) HTTP\/1\.[01]\r\n/g;

/** Starts a proxy on a free loopback port that forwards to port `target`. */
export function startProxy(target: number): Proxy {
  let port = target;
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const pairs = new Set<[Deno.Conn, Deno.Conn]>();
  const pumps = new Set<Promise<unknown>>();
  const requests: string[] = [];
  const byConnection = new Map<number, string[]>();
  const waiters: { count: number; resolve: () => void }[] = [];
  let blocked = false;
  let frozen = false;
  let accepted = 0;
  let holdMatch: ((line: string) => boolean) | undefined;
  /** Sends on what one connection held back, and stops holding it. */
  const heldRequests: (() => void)[] = [];
  let resolveHeld!: () => void;
  let held = new Promise<void>((resolve) => resolveHeld = resolve);
  let answers: { mode: "pass" } | { mode: "hold" } | {
    mode: "fail";
    status: number;
  } = { mode: "pass" };
  /** Held-back bytes of stalled connections, by number. */
  const stalled = new Map<number, Uint8Array[]>();
  /** Where released connections send held-back bytes, by number. */
  const flushes = new Map<number, () => void>();
  const decoder = new TextDecoder();
  const close = (pair: [Deno.Conn, Deno.Conn]) => {
    if (!pairs.delete(pair)) return;
    for (const conn of pair) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  };
  const noteRequests = (chunk: Uint8Array, nth: number): number => {
    let found = 0;
    for (const match of decoder.decode(chunk).matchAll(REQUEST_LINE)) {
      const line = `${match[1]} ${match[2]}`;
      requests.push(line);
      let mine = byConnection.get(nth);
      if (mine === undefined) byConnection.set(nth, mine = []);
      mine.push(line);
      found++;
    }
    for (const waiter of [...waiters]) {
      if (requests.length >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
    return found;
  };
  const accepting = (async () => {
    for await (const client of listener) {
      if (blocked) {
        client.close();
        continue;
      }
      let server: Deno.Conn;
      try {
        server = await Deno.connect({ hostname: "127.0.0.1", port });
      } catch {
        client.close();
        continue;
      }
      const nth = ++accepted;
      const pair: [Deno.Conn, Deno.Conn] = [client, server];
      pairs.add(pair);
      let toClient!: TransformStreamDefaultController<Uint8Array>;
      flushes.set(nth, () => {
        const held = stalled.get(nth) ?? [];
        stalled.delete(nth);
        try {
          for (const chunk of held) toClient.enqueue(chunk);
        } catch {
          // The connection has closed meanwhile.
        }
      });
      let holding: Uint8Array[] | undefined;
      const fromClient = new TransformStream<Uint8Array, Uint8Array>({
        transform: (chunk, controller) => {
          if (frozen) return;
          noteRequests(chunk, nth);
          if (holding !== undefined) {
            holding.push(chunk);
            return;
          }
          if (holdMatch !== undefined) {
            for (const match of decoder.decode(chunk).matchAll(REQUEST_LINE)) {
              if (holdMatch(`${match[1]} ${match[2]}`)) {
                holding = [chunk];
                heldRequests.push(() => {
                  const chunks = holding ?? [];
                  holding = undefined;
                  try {
                    for (const held of chunks) controller.enqueue(held);
                  } catch {
                    // The connection has closed meanwhile.
                  }
                });
                resolveHeld();
                return;
              }
            }
          }
          controller.enqueue(chunk);
        },
      });
      /** Answers the client with an error instead of the server's answer. */
      const failInstead = (status: number) => {
        const body = `gateway error ${status}\n`;
        const bytes = new TextEncoder().encode(
          `HTTP/1.1 ${status} Gateway Error\r\ncontent-type: text/plain\r\n` +
            `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
        );
        stalled.set(nth, []);
        client.write(bytes).catch(() => {}).finally(() =>
          setTimeout(() => close(pair), 50)
        );
      };
      const fromServer = new TransformStream<Uint8Array, Uint8Array>({
        start: (controller) => void (toClient = controller),
        transform: (chunk, controller) => {
          if (frozen) return;
          const held = stalled.get(nth);
          if (held) held.push(chunk);
          else if (answers.mode === "hold") stalled.set(nth, [chunk]);
          // The server has answered (the request went through): the client
          // gets the error instead.
          else if (answers.mode === "fail") failInstead(answers.status);
          else controller.enqueue(chunk);
        },
      });
      // When either side ends, end both, as a real connection would.
      const pipes = [
        client.readable.pipeThrough(fromClient).pipeTo(server.writable, {
          preventClose: true,
        }),
        server.readable.pipeThrough(fromServer).pipeTo(client.writable, {
          preventClose: true,
        }),
      ].map((pipe) => pipe.catch(() => {}));
      const pump = Promise.race(pipes).finally(() => close(pair)).then(() =>
        Promise.allSettled(pipes)
      );
      pumps.add(pump);
      pump.finally(() => pumps.delete(pump));
    }
  })().catch(() => {});
  return {
    endpoint: `http://127.0.0.1:${listener.addr.port}`,
    get open() {
      return pairs.size;
    },
    get accepted() {
      return accepted;
    },
    get requests() {
      return requests;
    },
    requestsOf(nth) {
      return byConnection.get(nth) ?? [];
    },
    count(method, path) {
      return requests.filter((line) => line.startsWith(`${method} ${path}`))
        .length;
    },
    cut() {
      for (const pair of [...pairs]) close(pair);
    },
    block() {
      blocked = true;
      for (const pair of [...pairs]) close(pair);
    },
    unblock() {
      blocked = false;
    },
    retarget(to) {
      port = to;
      for (const pair of [...pairs]) close(pair);
    },
    stall(nth) {
      if (!stalled.has(nth)) stalled.set(nth, []);
    },
    release(nth) {
      flushes.get(nth)?.();
    },
    holdAnswers() {
      answers = { mode: "hold" };
    },
    freeze() {
      frozen = true;
    },
    failAnswers(status) {
      answers = { mode: "fail", status };
    },
    passAnswers() {
      answers = { mode: "pass" };
      for (const flush of flushes.values()) flush();
    },
    holdRequests(match) {
      holdMatch = match;
      held = new Promise<void>((resolve) => resolveHeld = resolve);
    },
    releaseRequests() {
      holdMatch = undefined;
      for (const release of heldRequests.splice(0)) release();
    },
    get held() {
      return held;
    },
    requested(count) {
      if (requests.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting;
      for (const pair of [...pairs]) close(pair);
      await Promise.allSettled([...pumps]);
    },
  };
}
