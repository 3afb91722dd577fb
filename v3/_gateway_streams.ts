// The v3 streams over etcd's JSON gateway: a POST stream per watch, one
// request per keep-alive, the snapshot as a streamed answer. Each answer
// line is `{"result": message}` or `{"error": ...}`. The caller gives each
// its token and renews it once when a stream is refused for it. Internal.

import { AsyncQueue } from "../_core/queue.ts";
import type { Caller } from "./_call.ts";
import { notAppliedHere } from "../_http/dispatcher.ts";
import { UnexpectedResponse } from "../_http/errors.ts";
import { checkCluster, errorOf } from "./_decode.ts";
import {
  type Init,
  type JsonObject,
  type LeaseKeepAliveResponse,
  type Method,
  METHODS,
  type SnapshotResponse,
  WatchCreateRequest,
  type WatchResponse,
} from "./_proto/mod.ts";
import type {
  KeepAliveChannel,
  SnapshotChannel,
  WatchChannel,
} from "./_streams.ts";

/** The streams of one client over the gateway. */
export class GatewayStreams
  implements WatchChannel, KeepAliveChannel, SnapshotChannel {
  readonly #caller: Caller;

  /** @param caller The client's caller (its dispatcher and token). */
  constructor(caller: Caller) {
    this.#caller = caller;
  }

  /** One watch: a POST stream of its own. */
  open(
    create: Init<WatchCreateRequest>,
    signal: AbortSignal,
  ): AsyncIterable<WatchResponse> {
    return this.#stream(
      METHODS.watch.watch,
      { create_request: WatchCreateRequest.toJson(create) },
      "stream",
      signal,
      "watch",
    );
  }

  /** One keep-alive: a request whose answer stream has one message. */
  async refresh(
    id: bigint,
    signal?: AbortSignal,
  ): Promise<LeaseKeepAliveResponse> {
    // Refreshing twice is harmless: a failed refresh may go elsewhere.
    for await (
      const answer of this.#stream(
        METHODS.lease.keepAlive,
        METHODS.lease.keepAlive.request.toJson({ ID: id }),
        "read",
        signal,
        "keep-alive",
      )
    ) return answer;
    // An answer without a message: the lease is unknown.
    return METHODS.lease.keepAlive.response.fromJson({});
  }

  /** The member's snapshot, as a streamed answer. */
  snapshot(signal?: AbortSignal): AsyncIterable<SnapshotResponse> {
    return this.#stream(
      METHODS.maintenance.snapshot,
      {},
      "stream",
      signal,
      "snapshot",
    );
  }

  /**
   * The messages of a gateway stream, as they come, with the token
   * (renewed once when refused); leaving the loop early ends the request.
   */
  #stream<Q extends object, A extends object>(
    method: Method<Q, A>,
    body: JsonObject,
    kind: "stream" | "read",
    signal: AbortSignal | undefined,
    context: string,
  ): AsyncIterable<A> {
    return this.#caller.renewing((token) =>
      this.#open(method, body, kind, signal, context, token)
    );
  }

  /** One gateway stream with `token`. */
  #open<Q extends object, A extends object>(
    method: Method<Q, A>,
    body: JsonObject,
    kind: "stream" | "read",
    signal: AbortSignal | undefined,
    context: string,
    token: string | undefined,
  ): AsyncQueue<A> {
    const controller = new AbortController();
    const stop = () => controller.abort(signal?.reason);
    if (signal?.aborted) stop();
    else signal?.addEventListener("abort", stop, { once: true });
    const queue = new AsyncQueue<A>(() => controller.abort());
    // A stream is one answer of one member: its first message says the
    // cluster for the rest (another cluster's is never data, and the
    // request goes on to the next member).
    let checked = false;
    const line = (text: string, endpoint: string) => {
      const message = JSON.parse(text) as { result?: unknown; error?: unknown };
      if (message.error !== undefined) {
        throw errorOf(message as Record<string, unknown>, 0, context) ??
          new Error(`Cannot ${context}: ${text.slice(0, 200)}`);
      }
      const answer = method.response.fromJson(message.result ?? {});
      if (!checked) {
        try {
          checkCluster(this.#caller.pin, endpoint, answer);
        } catch (error) {
          throw notAppliedHere(error);
        }
        checked = true;
      }
      queue.push(answer);
    };
    const run = async () => {
      const path = await this.#caller.gatewayPath(method, controller.signal);
      const response = await this.#caller.http.request({
        kind,
        method: "POST",
        path,
        body: JSON.stringify(body),
        headers: token === undefined ? undefined : { authorization: token },
        signal: controller.signal,
        onLine: line,
        // etcd's refusal (a stale token, say) as its error, judged by the
        // dispatcher: a 5xx that is not etcd's own answer is member trouble.
        decode: (response) => {
          if (response.status === 200) return response;
          let parsed: Record<string, unknown> = {};
          try {
            parsed = JSON.parse(response.text.trim());
          } catch {
            // not JSON: the status says it
          }
          throw errorOf(parsed, response.status, context) ??
            new UnexpectedResponse(
              `POST ${path}`,
              response.status,
              response.text,
            );
        },
      });
      // 3.4 ends a stream's last line without a line break.
      const rest = response.text.trim();
      if (rest !== "") line(rest, response.endpoint);
    };
    run().then(() => queue.end(), (error) => queue.fail(error)).finally(() =>
      signal?.removeEventListener("abort", stop)
    );
    return queue;
  }
}
