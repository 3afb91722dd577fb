// Turning etcd's HTTP answers into results and errors. Internal.

import { describeRequest, type HttpResponse } from "../_http/dispatcher.ts";
import { EtcdError, type EtcdErrorBody, V2Disabled } from "./_errors.ts";
import { UnexpectedResponse } from "../_http/errors.ts";
import { type EtcdResult, type RawResult, resultFrom } from "./_results.ts";
import type { ResponseHeaders } from "../_http/transport.ts";

/** What decoding needs of a request: its method and path. */
export interface RequestLine {
  method: string;
  path: string;
}

/** Decodes a key-space answer, throwing the typed error etcd reported. */
export function decodeKeys(
  request: RequestLine,
  response: HttpResponse,
  written?: { key: string; value: string },
): EtcdResult {
  const body = parseObject(request, response);
  const headers = response.headers;
  if (typeof body.errorCode === "number") {
    throw EtcdError.from(
      body as unknown as EtcdErrorBody,
      headerNumber(headers, "x-etcd-index"),
      requestKey(request),
    );
  }
  if (
    typeof body.action !== "string" ||
    (response.status !== 200 && response.status !== 201)
  ) {
    throw unexpected(request, response);
  }
  const raw = body as unknown as RawResult;
  if (raw.node === undefined) {
    // noValueOnSuccess: etcd leaves the node out.
    raw.node = written === undefined ? {} : {
      key: written.key,
      value: written.value,
      modifiedIndex: headerNumber(headers, "x-etcd-index"),
    };
  }
  return resultFrom(raw, headers);
}

export function parseObject(
  request: RequestLine,
  response: HttpResponse,
): Record<string, unknown> {
  const text = response.text;
  if (response.status === 404 && !text.startsWith("{")) {
    throw notServed(request, response);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new UnexpectedResponse(
      describeRequest(request),
      response.status,
      text,
      `HTTP ${response.status} with a body that is not JSON`,
    );
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw unexpected(request, response);
  }
  return body as Record<string, unknown>;
}

export function unexpected(
  request: RequestLine,
  response: HttpResponse,
): UnexpectedResponse {
  if (response.status === 431) {
    return new UnexpectedResponse(
      describeRequest(request),
      431,
      response.text,
      "HTTP 431: the key is too long for etcd's HTTP server, which takes at most 1 MiB of request line and headers",
    );
  }
  if (response.status === 404 && response.text.startsWith("404 page")) {
    return notServed(request, response);
  }
  let detail: string | undefined;
  try {
    const body = JSON.parse(response.text);
    if (typeof body?.message === "string") {
      detail = `HTTP ${response.status}: ${body.message}`;
    }
  } catch {
    // Not JSON: the excerpt says enough.
  }
  return new UnexpectedResponse(
    describeRequest(request),
    response.status,
    response.text,
    detail,
  );
}

/** The key a key-space request is about, decoded from its path. */
function requestKey(request: RequestLine): string {
  const query = request.path.indexOf("?");
  const path = request.path.slice(
    "/v2/keys".length,
    query < 0 ? undefined : query,
  );
  return path === "" ? "/" : decodeURIComponent(path);
}

export function headerNumber(
  headers: ResponseHeaders,
  name: string,
): number {
  const value = headers.get(name);
  return value === null ? 0 : Number(value);
}

/**
 * A 404 that is not etcd's: v2 is off, or the endpoint has a path, where
 * etcd serves nothing.
 */
function notServed(
  request: RequestLine,
  response: HttpResponse,
): UnexpectedResponse {
  const endpoint = response.endpoint;
  const path = endpoint.replace(/^[a-z]+:\/\/[^/]+/i, "");
  if (path !== "") {
    return new UnexpectedResponse(
      describeRequest(request),
      404,
      response.text,
      `HTTP 404 from ${endpoint}: etcd answers at the root of its client URL, not below ${
        JSON.stringify(path)
      }; give the endpoint without the path`,
    );
  }
  return new V2Disabled(describeRequest(request), endpoint, response.text);
}
