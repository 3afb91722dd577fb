// deno-lint-ignore-file no-regex-spaces -- YAML indentation is what is checked
// Kubernetes objects decoded from etcd values (cli/_k8s.ts): values built
// here by a small protobuf writer as Kubernetes writes them (k8s\0, then
// runtime.Unknown around the object's own message), JSON custom resources,
// encrypted values, and truncated and hostile ones.

import assert from "node:assert/strict";
import { decodeK8s, hiddenMarker, type K8sValue } from "../../cli/_k8s.ts";
import { type FieldSpec, MESSAGES } from "../../cli/_k8s_table.ts";
import { main as dump } from "../../cli/dump.ts";
import { main as load } from "../../cli/load.ts";
import { main as monitor } from "../../cli/monitor.ts";
import { type EtcdServer, startEtcd } from "../../testing.ts";
import { Client } from "../_v3.ts";
import { runMain, testIo } from "../_cli.ts";
import { test, until } from "../_wait.ts";

// ---- A protobuf writer (test only) ----

function varint(value: number | bigint): number[] {
  let rest = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  out.push(Number(rest));
  return out;
}

/** A raw field: a varint for a number, length-delimited for bytes. */
function field(number: number, value: number | bigint | Uint8Array): number[] {
  if (value instanceof Uint8Array) {
    const out = [...varint(number * 8 + 2), ...varint(value.length)];
    append(out, [...value]);
    return out;
  }
  return [...varint(number * 8), ...varint(value)];
}

const text = (value: string) => new TextEncoder().encode(value);
const bytes = (...parts: number[][]) => {
  const out: number[] = [];
  for (const part of parts) append(out, part);
  return new Uint8Array(out);
};

/** A value of `type` by the table, from data shaped as Kubernetes' JSON. */
function encode(type: string, value: unknown): number[] {
  const fields = MESSAGES[type];
  if (fields === undefined) throw new Error(`no message ${type}`);
  const special = SPECIAL[type];
  return encodeFields(type, fields, special ? special(value) : value);
}

function encodeFields(
  type: string,
  fields: Readonly<Record<number, FieldSpec>>,
  value: unknown,
): number[] {
  const out: number[] = [];
  const entries = Object.entries(value as Record<string, unknown>);
  // Embedded structs: their fields are the outer object's in JSON.
  for (const [number, [, type, label]] of Object.entries(fields)) {
    if (label !== "inline") continue;
    const names = new Set(
      Object.values(MESSAGES[type]!).map((spec) => spec[0]),
    );
    const inner = entries.filter(([name]) => names.has(name));
    if (inner.length === 0) continue;
    append(out, one(Number(number), type, Object.fromEntries(inner)));
    for (const entry of inner) entries.splice(entries.indexOf(entry), 1);
  }
  for (const [name, item] of entries) {
    const found = Object.entries(fields).find(([, spec]) => spec[0] === name);
    if (found === undefined) throw new Error(`${type} has no field ${name}`);
    const number = Number(found[0]);
    const spec: FieldSpec = found[1];
    const [, fieldType, label] = spec;
    if (label?.startsWith("map:")) {
      for (const [key, entry] of Object.entries(item as object)) {
        append(
          out,
          field(number, bytes(field(1, text(key)), one(2, fieldType, entry))),
        );
      }
    } else if (label === "repeated") {
      for (const entry of item as unknown[]) {
        append(out, one(number, fieldType, entry));
      }
    } else append(out, one(number, fieldType, item));
  }
  return out;
}

/** `out.push(...items)` for any number of items. */
function append(out: number[], items: number[]): void {
  for (const item of items) out.push(item);
}

function one(number: number, type: string, value: unknown): number[] {
  switch (type) {
    case "string":
      return field(number, text(value as string));
    case "bytes":
      return field(number, value as Uint8Array);
    case "bool":
      return field(number, value ? 1 : 0);
    case "int32":
    case "int64":
      return field(number, value as number);
    case "double": {
      const view = new DataView(new ArrayBuffer(8));
      view.setFloat64(0, value as number, true);
      return [
        ...varint(number * 8 + 1),
        ...new Uint8Array(view.buffer),
      ];
    }
    default:
      return field(number, new Uint8Array(encode(type, value)));
  }
}

const META = "k8s.io.apimachinery.pkg.apis.meta.v1.";
const EXT = "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.";
const time = (value: unknown) => {
  const ms = Date.parse(value as string);
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };
};
/** What Kubernetes' JSON shows as something else, as its message. */
const SPECIAL: Record<string, (value: unknown) => unknown> = {
  [`${META}Time`]: time,
  [`${META}MicroTime`]: time,
  [`${META}FieldsV1`]: (value) => ({ Raw: text(JSON.stringify(value)) }),
  ["k8s.io.apimachinery.pkg.api.resource.Quantity"]: (value) => ({
    string: value,
  }),
  ["k8s.io.apimachinery.pkg.util.intstr.IntOrString"]: (value) =>
    typeof value === "number"
      ? { type: 0, intVal: value }
      : { type: 1, strVal: value },
  [`${EXT}JSON`]: (value) => ({ raw: text(JSON.stringify(value)) }),
  [`${EXT}JSONSchemaPropsOrBool`]: (value) =>
    typeof value === "boolean" ? { allows: value } : { schema: value },
  [`${EXT}JSONSchemaPropsOrArray`]: (value) =>
    Array.isArray(value) ? { jSONSchemas: value } : { schema: value },
};

/** What Kubernetes stores: k8s\0, then runtime.Unknown around the object. */
function envelope(apiVersion: string, kind: string, raw: number[]): Uint8Array {
  return bytes(
    [0x6b, 0x38, 0x73, 0x00],
    field(1, bytes(field(1, text(apiVersion)), field(2, text(kind)))),
    field(2, new Uint8Array(raw)),
    field(3, text("")),
    field(4, text("")),
  );
}

/** An object of a kind, encoded as Kubernetes stores it. */
function stored(
  apiVersion: string,
  kind: string,
  message: string,
  object: Record<string, unknown>,
): Uint8Array {
  return envelope(apiVersion, kind, encode(message, object));
}

function decoded(value: Uint8Array, showSecrets = false) {
  const result = decodeK8s(value, { showSecrets });
  assert.ok(result !== undefined, "a Kubernetes value");
  return result;
}

// ---- The kinds ----

const CORE = "k8s.io.api.core.v1.";
const APPS = "k8s.io.api.apps.v1.";

const podMetadata = {
  name: "web-7d4b9c-x2x4z",
  generateName: "web-7d4b9c-",
  namespace: "default",
  uid: "3f1c2a9e-0b7d-4f7e-9a51-1c1b2d3e4f50",
  resourceVersion: "12345",
  creationTimestamp: "2024-05-01T10:20:30Z",
  labels: { app: "web", "pod-template-hash": "7d4b9c" },
  annotations: { "kubernetes.io/psp": "restricted", note: "a\nb" },
  ownerReferences: [{
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    name: "web-7d4b9c",
    uid: "0a0b0c0d-1111-2222-3333-444455556666",
    controller: true,
    blockOwnerDeletion: true,
  }],
  managedFields: [{
    manager: "kube-controller-manager",
    operation: "Update",
    apiVersion: "v1",
    time: "2024-05-01T10:20:30Z",
    fieldsType: "FieldsV1",
    fieldsV1: { "f:metadata": { "f:labels": { ".": {} } } },
  }],
};
const pod = {
  metadata: podMetadata,
  spec: {
    containers: [{
      name: "nginx",
      image: "nginx:1.27",
      args: ["-g", "daemon off;"],
      ports: [{ name: "http", containerPort: 80, protocol: "TCP" }],
      resources: {
        limits: { cpu: "500m", memory: "128Mi" },
        requests: { cpu: "250m", memory: "64Mi" },
      },
      livenessProbe: {
        httpGet: { path: "/healthz", port: "http", scheme: "HTTP" },
        initialDelaySeconds: 3,
      },
      readinessProbe: {
        tcpSocket: { port: 80 },
        periodSeconds: 10,
      },
    }],
    restartPolicy: "Always",
    terminationGracePeriodSeconds: 30,
    nodeName: "node-1",
  },
  status: {
    phase: "Running",
    conditions: [{
      type: "Ready",
      status: "True",
      lastTransitionTime: "2024-05-01T10:20:35Z",
    }],
    podIP: "10.244.1.7",
    startTime: "2024-05-01T10:20:31Z",
  },
};

Deno.test("a Pod: metadata, containers, ports, quantities, probes, owner references, conditions", () => {
  const result = decoded(stored("v1", "Pod", `${CORE}Pod`, pod));
  assert.equal(result.error, undefined);
  assert.equal(result.encoding, "protobuf");
  assert.equal(result.apiVersion, "v1");
  assert.equal(result.kind, "Pod");
  assert.deepEqual(result.object, { apiVersion: "v1", kind: "Pod", ...pod });
});

Deno.test("the table's field numbers are Kubernetes' own (hand-written bytes)", () => {
  // Numbers as in k8s.io/api core/v1 and apimachinery meta/v1 generated.proto.
  const metadata = bytes(
    field(1, text("web")), // ObjectMeta.name = 1
    field(3, text("prod")), // namespace = 3
    field(5, text("uid-1")), // uid = 5
    field(6, text("42")), // resourceVersion = 6
    field(8, bytes(field(1, 1700000000), field(2, 0))), // creationTimestamp = 8
    field(11, bytes(field(1, text("app")), field(2, text("web")))), // labels = 11
  );
  const container = bytes(
    field(1, text("c")), // Container.name = 1
    field(2, text("busybox")), // image = 2
    field(6, bytes(field(3, 8080))), // ports = 6 { containerPort = 3 }
  );
  const spec = bytes(field(2, container)); // PodSpec.containers = 2
  const status = bytes(field(1, text("Pending"))); // PodStatus.phase = 1
  const raw = [...field(1, metadata), ...field(2, spec), ...field(3, status)];
  assert.deepEqual(decoded(envelope("v1", "Pod", raw)).object, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "web",
      namespace: "prod",
      uid: "uid-1",
      resourceVersion: "42",
      creationTimestamp: "2023-11-14T22:13:20Z",
      labels: { app: "web" },
    },
    spec: {
      containers: [{
        name: "c",
        image: "busybox",
        ports: [{ containerPort: 8080 }],
      }],
    },
    status: { phase: "Pending" },
  });
});

Deno.test("a Secret: data hidden (with its size) unless asked", () => {
  const lastApplied = '{"data":{"password":"aHVudGVyMg=="}}';
  const value = stored("v1", "Secret", `${CORE}Secret`, {
    metadata: {
      name: "db",
      namespace: "prod",
      annotations: {
        "kubectl.kubernetes.io/last-applied-configuration": lastApplied,
        team: "db",
      },
    },
    data: { password: text("hunter2"), user: text("admin") },
    type: "Opaque",
  });
  const hidden = decoded(value);
  assert.equal(hidden.hidden, 3);
  assert.deepEqual(hidden.object?.data, {
    password: hiddenMarker(7),
    user: hiddenMarker(5),
  });
  assert.deepEqual(hidden.object?.metadata, {
    name: "db",
    namespace: "prod",
    annotations: {
      "kubectl.kubernetes.io/last-applied-configuration": hiddenMarker(
        lastApplied.length,
      ),
      team: "db",
    },
  });
  assert.equal(hidden.object?.type, "Opaque");
  assert.ok(!JSON.stringify(hidden).includes(btoa("hunter2")));
  assert.ok(!JSON.stringify(hidden).includes("aHVudGVyMg"));

  const shown = decoded(value, true);
  assert.equal(shown.hidden, undefined);
  assert.deepEqual(shown.object?.data, {
    password: btoa("hunter2"),
    user: btoa("admin"),
  });
});

Deno.test("a ConfigMap: data and binaryData", () => {
  const configMap = {
    metadata: { name: "settings", namespace: "default" },
    data: { "app.conf": "port=80\nhost=0.0.0.0\n", empty: "" },
    binaryData: { "logo.png": new Uint8Array([0x89, 0x50, 0x4e, 0x47]) },
  };
  const result = decoded(
    stored("v1", "ConfigMap", `${CORE}ConfigMap`, configMap),
  );
  assert.deepEqual(result.object, {
    apiVersion: "v1",
    kind: "ConfigMap",
    ...configMap,
    binaryData: { "logo.png": "iVBORw==" },
  });
});

Deno.test("a Deployment: replicas, selector, template, IntOrString", () => {
  const deployment = {
    metadata: { name: "web", namespace: "default", generation: 3 },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "nginx", image: "nginx:1.27" }] },
      },
      strategy: {
        type: "RollingUpdate",
        rollingUpdate: { maxUnavailable: 1, maxSurge: "25%" },
      },
      revisionHistoryLimit: 10,
    },
    status: {
      observedGeneration: 3,
      replicas: 3,
      readyReplicas: 3,
      conditions: [{
        type: "Available",
        status: "True",
        lastUpdateTime: "2024-05-01T10:00:00Z",
        lastTransitionTime: "2024-05-01T10:00:00Z",
        reason: "MinimumReplicasAvailable",
      }],
    },
  };
  const result = decoded(
    stored("apps/v1", "Deployment", `${APPS}Deployment`, deployment),
  );
  assert.equal(result.error, undefined);
  assert.deepEqual(result.object, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    ...deployment,
  });
});

Deno.test("a Lease (MicroTime), an Event, an EndpointSlice", () => {
  const lease = {
    metadata: { name: "kube-scheduler", namespace: "kube-system" },
    spec: {
      holderIdentity: "node-1_1234",
      leaseDurationSeconds: 15,
      acquireTime: "2024-05-01T10:00:00.123456Z",
      renewTime: "2024-05-01T10:05:00.000001Z",
      leaseTransitions: 2,
    },
  };
  assert.deepEqual(
    decoded(
      stored(
        "coordination.k8s.io/v1",
        "Lease",
        "k8s.io.api.coordination.v1.Lease",
        {
          ...lease,
          spec: {
            ...lease.spec,
            acquireTime: "2024-05-01T10:00:00.123Z",
            renewTime: "2024-05-01T10:05:00Z",
          },
        },
      ),
    ).object?.spec,
    {
      ...lease.spec,
      acquireTime: "2024-05-01T10:00:00.123000Z",
      renewTime: "2024-05-01T10:05:00.000000Z",
    },
  );

  const event = {
    metadata: { name: "web.17c", namespace: "default" },
    involvedObject: { kind: "Pod", namespace: "default", name: "web" },
    reason: "Pulled",
    message: 'Container image "nginx:1.27" already present on machine',
    source: { component: "kubelet", host: "node-1" },
    firstTimestamp: "2024-05-01T10:20:31Z",
    lastTimestamp: "2024-05-01T10:20:31Z",
    count: 1,
    type: "Normal",
  };
  assert.deepEqual(
    decoded(stored("v1", "Event", `${CORE}Event`, event)).object,
    { apiVersion: "v1", kind: "Event", ...event },
  );

  const slice = {
    metadata: {
      name: "web-abcde",
      namespace: "default",
      labels: { "kubernetes.io/service-name": "web" },
    },
    addressType: "IPv4",
    endpoints: [{
      addresses: ["10.244.1.7"],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: "Pod", name: "web-7d4b9c-x2x4z" },
      nodeName: "node-1",
    }],
    ports: [{ name: "http", protocol: "TCP", port: 80 }],
  };
  assert.deepEqual(
    decoded(
      stored(
        "discovery.k8s.io/v1",
        "EndpointSlice",
        "k8s.io.api.discovery.v1.EndpointSlice",
        slice,
      ),
    ).object,
    { apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", ...slice },
  );
});

Deno.test("a large CustomResourceDefinition: schemas by JSON name, $ref and x-kubernetes-", () => {
  const properties: Record<string, unknown> = {};
  for (let i = 0; i < 400; i++) {
    properties[`field${i}`] = {
      type: "object",
      description: `Field ${i} `.repeat(20),
      properties: {
        size: { type: "integer", minimum: 0, maximum: 1e6, default: 3 },
        tags: { type: "array", items: { type: "string" } },
        mode: { type: "string", enum: ["a", "b"] },
      },
      additionalProperties: false,
      "x-kubernetes-preserve-unknown-fields": true,
    };
  }
  const crd = {
    metadata: { name: "widgets.example.com" },
    spec: {
      group: "example.com",
      names: {
        plural: "widgets",
        singular: "widget",
        kind: "Widget",
        listKind: "WidgetList",
      },
      scope: "Namespaced",
      versions: [{
        name: "v1",
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: "object",
            $ref: "#/definitions/x",
            properties: {
              spec: { type: "object", properties },
              status: {
                type: "object",
                additionalProperties: { type: "string" },
              },
            },
            "x-kubernetes-validations": [{
              rule: "self.spec.field0.size >= 0",
            }],
          },
        },
      }],
    },
  };
  const value = stored(
    "apiextensions.k8s.io/v1",
    "CustomResourceDefinition",
    `${EXT}CustomResourceDefinition`,
    crd,
  );
  assert.ok(value.length > 100_000, `${value.length} bytes`);
  const result = decoded(value);
  assert.equal(result.error, undefined);
  assert.deepEqual(result.object, {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    ...crd,
  });
});

Deno.test("a kind the table does not know: metadata by name, the rest by field number", () => {
  const metadata = encode(`${META}ObjectMeta`, {
    name: "backup",
    namespace: "ops",
  });
  const raw = [
    ...field(1, new Uint8Array(metadata)),
    // spec: { #1: "nightly", #2: 3, #3: { #1: "a" } }
    ...field(
      2,
      bytes(
        field(1, text("nightly")),
        field(2, 3),
        field(3, bytes(field(1, text("a")))),
      ),
    ),
    ...field(3, new Uint8Array([0xff, 0xfe])), // bytes, neither text nor a message
    ...field(4, 7),
    ...field(4, 8),
  ];
  const result = decoded(envelope("batch/v1", "CronJob", raw));
  assert.equal(result.error, undefined);
  assert.deepEqual(result.object, {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "backup", namespace: "ops" },
    "#2": { "#1": "nightly", "#2": 3, "#3": { "#1": "a" } },
    "#3": { base64: "//4=" },
    "#4": [7, 8],
  });
});

Deno.test("a field the table does not know, in a known kind, by number", () => {
  const raw = [
    ...encode(`${CORE}ConfigMap`, { metadata: { name: "x" } }),
    ...field(99, text("from the future")),
  ];
  assert.deepEqual(decoded(envelope("v1", "ConfigMap", raw)).object, {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "x" },
    "#99": "from the future",
  });
});

Deno.test("a truncated value: an error and what was decoded before, at every length", () => {
  const value = stored("v1", "Pod", `${CORE}Pod`, pod);
  for (let length = 4; length < value.length; length++) {
    const result = decodeK8s(value.subarray(0, length));
    assert.ok(result !== undefined);
    assert.equal(result.encoding, "protobuf");
    // Whole fields end at 15 (after the type) and in the last 4 bytes (the
    // empty contentEncoding and contentType).
    if (length !== 15 && length < value.length - 4) {
      assert.match(result.error ?? "", /truncated|no kind/, `at ${length}`);
    }
  }
  const cut = decoded(value.subarray(0, value.length - 60));
  assert.equal(cut.kind, "Pod");
  assert.deepEqual(
    (cut.object?.metadata as Record<string, K8sValue>).name,
    podMetadata.name,
  );
});

Deno.test("hostile values: deep nesting, huge lengths, bad tags: an error, not a crash", () => {
  // JSONSchemaProps nested 5000 deep through `not` (28).
  let schema: number[] = field(5, text("string"));
  for (let i = 0; i < 5000; i++) {
    schema = field(28, new Uint8Array(schema));
  }
  const crd = envelope(
    "apiextensions.k8s.io/v1",
    "CustomResourceDefinition",
    [
      // spec = 2 { versions = 7 { schema = 4 { openAPIV3Schema = 1 } } }
      ...field(
        2,
        bytes(field(
          7,
          bytes(field(
            4,
            bytes(field(1, new Uint8Array(schema))),
          )),
        )),
      ),
    ],
  );
  assert.match(decoded(crd).error ?? "", /nest deeper than 100/);

  // An unknown kind nested 5000 deep: guessed as messages only so far.
  let deep: number[] = field(1, text("bottom"));
  for (let i = 0; i < 5000; i++) deep = field(2, new Uint8Array(deep));
  const unknown = decoded(envelope("x/v1", "Deep", deep));
  assert.equal(unknown.error, undefined);
  assert.ok(JSON.stringify(unknown.object).includes('"base64"'));

  // A length of 2^40 bytes in 20.
  const type = field(1, bytes(field(1, text("v1")), field(2, text("Pod"))));
  const huge = bytes([0x6b, 0x38, 0x73, 0x00], type, [0x12], varint(2 ** 40), [
    0x0a,
  ]);
  assert.match(decoded(huge).error ?? "", /truncated/);
  const inner = envelope("v1", "Pod", [0x0a, ...varint(2 ** 40), 0x0a]);
  assert.match(decoded(inner).error ?? "", /truncated/);
  // A varint longer than 10 bytes, a field number 0, a group.
  for (
    const raw of [
      new Array(12).fill(0xff),
      [0x02, 0x00],
      [0x0b],
    ]
  ) {
    const result = decoded(envelope("v1", "Pod", raw));
    assert.match(result.error ?? "", /varint|tag|wire type/);
  }
  // A kind missing, and garbage after the magic.
  assert.match(
    decoded(bytes([0x6b, 0x38, 0x73, 0x00, 0xff])).error ?? "",
    /truncated|tag/,
  );
});

Deno.test("JSON objects (custom resources) as they are; a JSON Secret's data hidden", () => {
  const widget = {
    apiVersion: "example.com/v1",
    kind: "Widget",
    metadata: { name: "w1", namespace: "default", uid: "u" },
    spec: { size: 3 },
  };
  const result = decoded(text(JSON.stringify(widget)));
  assert.deepEqual(result, {
    encoding: "json",
    apiVersion: "example.com/v1",
    kind: "Widget",
    object: widget,
  });
  const secret = decoded(text(JSON.stringify({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "s" },
    data: { key: btoa("secret!") },
  })));
  assert.deepEqual(secret.object?.data, { key: hiddenMarker(7) });
});

Deno.test("an encrypted value is said to be, not decoded", () => {
  const result = decoded(
    bytes([...text("k8s:enc:aescbc:v1:key1:")], [0x00, 0xff, 0x13, 0x37]),
  );
  assert.deepEqual(result, {
    encoding: "encrypted",
    apiVersion: "",
    kind: "",
    encryption: "aescbc:v1:key1",
  });
  assert.equal(
    decoded(text("k8s:enc:kms:v2:my-kms:\x0a\x01x")).encryption,
    "kms:v2:my-kms",
  );
});

Deno.test("values that are not Kubernetes objects: undefined", () => {
  for (
    const value of [
      "",
      "hello",
      "k8s",
      "k8s:",
      "{}",
      '{"apiVersion": "v1"}',
      '{"kind": 1, "apiVersion": "v1"}',
      "[1]",
      "{not json",
    ]
  ) {
    assert.equal(decodeK8s(text(value)), undefined, value);
  }
  assert.equal(decodeK8s(new Uint8Array([0xff, 0x00])), undefined);
});

// ---- The tools, on etcd 3.5 ----

/** Runs etcdctl of the server's version, the value from stdin. */
async function etcdctlPut(
  etcd: EtcdServer,
  key: string,
  value: Uint8Array,
): Promise<void> {
  const child = new Deno.Command(etcd.binary.replace(/etcd$/, "etcdctl"), {
    args: ["--endpoints", etcd.endpoint, "put", key],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(value);
  await writer.close();
  const output = await child.output();
  assert.ok(output.success, new TextDecoder().decode(output.stderr));
}

test("etcd2yaml and etcdmon --decode k8s on etcd 3.5; a plain dump stays byte-exact", async (t) => {
  await using etcd = await startEtcd({ version: "3.5" });
  await using client = new Client({ endpoints: etcd.endpoint });
  const endpoint = ["--endpoints", etcd.endpoint];
  const secret = stored("v1", "Secret", `${CORE}Secret`, {
    metadata: { name: "db", namespace: "prod" },
    data: { password: text("hunter2") },
    type: "Opaque",
  });
  const values: Record<string, Uint8Array> = {
    "/registry/pods/default/web": stored("v1", "Pod", `${CORE}Pod`, pod),
    "/registry/secrets/prod/db": secret,
    "/registry/configmaps/default/settings": stored(
      "v1",
      "ConfigMap",
      `${CORE}ConfigMap`,
      {
        metadata: { name: "settings", namespace: "default" },
        data: { a: "1" },
      },
    ),
    "/registry/example.com/widgets/default/w1": text(
      '{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w1","namespace":"default"}}',
    ),
    "/registry/secrets/prod/sealed": bytes(
      [...text("k8s:enc:aescbc:v1:key1:")],
      [0x01, 0xff, 0x00],
    ),
    "/registry/health": text('{"health":"true"}'),
  };
  for (const [key, value] of Object.entries(values)) {
    await etcdctlPut(etcd, key, value);
  }

  await t.step(
    "etcd2yaml --decode k8s: kinds, names, labels; secrets hidden",
    async () => {
      const ran = await runMain(dump, [
        "/registry",
        "--decode",
        "k8s",
        ...endpoint,
      ]);
      assert.equal(ran.code, 0, ran.stderr);
      const out = ran.stdout;
      assert.match(out, /^# etcd2yaml --decode k8s/);
      assert.match(
        out,
        /\n\/registry\/pods\/default\/web:\n  apiVersion: v1\n  kind: Pod\n  metadata:\n    name: web-7d4b9c-x2x4z\n/,
      );
      assert.match(out, /\n    namespace: default\n/);
      assert.match(
        out,
        /\n    labels:\n      app: web\n      pod-template-hash: "7d4b9c"\n/,
      );
      assert.match(
        out,
        /\n    containers:\n      - name: nginx\n        image: nginx:1.27\n/,
      );
      assert.match(out, /\n  data:\n    password: "<hidden: 7 bytes>"\n/);
      assert.ok(!out.includes(btoa("hunter2")), "the secret is hidden");
      assert.match(
        out,
        /\n\/registry\/example.com\/widgets\/default\/w1:\n  apiVersion: example.com\/v1\n  kind: Widget\n/,
      );
      assert.match(
        out,
        /\n\/registry\/secrets\/prod\/sealed: "<encrypted at rest \(aescbc:v1:key1\): 26 bytes>"\n/,
      );
      assert.match(
        out,
        /\n\/registry\/health: "\{\\"health\\":\\"true\\"\}"\n/,
      );

      const json = await runMain(dump, [
        "/registry",
        "--decode",
        "k8s",
        "--json",
        ...endpoint,
      ]);
      assert.equal(json.code, 0, json.stderr);
      const view = JSON.parse(json.stdout);
      assert.equal(view["/registry/pods/default/web"].kind, "Pod");
      assert.deepEqual(
        view["/registry/pods/default/web"].metadata.labels,
        podMetadata.labels,
      );
      assert.equal(
        view["/registry/secrets/prod/db"].data.password,
        hiddenMarker(7),
      );
    },
  );

  await t.step(
    "yaml2etcd refuses the decoded view, writing nothing",
    async () => {
      for (const format of [[], ["--json"]]) {
        const view = await runMain(dump, [
          "/registry",
          "--decode",
          "k8s",
          ...format,
          ...endpoint,
        ]);
        const loaded = await runMain(
          load,
          ["/copy", "-", ...endpoint],
          view.stdout,
        );
        assert.equal(loaded.code, 1, loaded.stdout);
        assert.match(
          loaded.stderr,
          /it is a view that etcd2yaml --decode wrote for reading, not a dump .*nothing was written/,
        );
        assert.equal(
          (await client.range("/copy", { prefix: true })).kvs.length,
          0,
        );
      }
    },
  );

  await t.step("a plain dump and load stay byte for byte", async () => {
    for (const format of [[], ["--json"]]) {
      const dumped = await runMain(dump, ["/registry", ...format, ...endpoint]);
      assert.equal(dumped.code, 0, dumped.stderr);
      assert.ok(!dumped.stdout.includes("apiVersion: v1"));
      const copy = `/copy${format.length}`;
      const loaded = await runMain(
        load,
        [copy, "-", ...endpoint],
        dumped.stdout,
      );
      assert.equal(loaded.code, 0, loaded.stderr);
      for (const [key, value] of Object.entries(values)) {
        const { kvs } = await client.range(
          copy + key.slice("/registry".length),
        );
        assert.deepEqual(kvs[0]?.valueBytes, value, key);
      }
    }
  });

  await t.step(
    "etcdmon --decode k8s: the object as JSON; --json has k8s",
    async () => {
      for (const json of [false, true]) {
        const stop = new AbortController();
        const mon = testIo("", stop.signal);
        const watching = monitor([
          "/registry/secrets",
          "--decode",
          "k8s",
          ...(json ? ["--json"] : []),
          ...endpoint,
        ], mon.io);
        await until(
          async () => {
            await etcdctlPut(etcd, "/registry/secrets/prod/db", secret);
            return mon.stdout().includes("\n");
          },
          10_000,
          "etcdmon to see a change",
        );
        stop.abort();
        assert.equal(await watching, 0);
        const line = mon.stdout().split("\n")[0]!;
        assert.ok(!line.includes(btoa("hunter2")), line);
        if (json) {
          const event = JSON.parse(line);
          assert.equal(event.value, undefined);
          assert.equal(event.k8s.kind, "Secret");
          assert.equal(event.k8s.object.metadata.name, "db");
          assert.equal(event.k8s.object.data.password, hiddenMarker(7));
        } else {
          assert.match(
            line,
            /^\d+ update prod\/db \{"apiVersion":"v1","kind":"Secret","metadata":\{"name":"db","namespace":"prod"\},"data":\{"password":"<hidden: 7 bytes>"\},"type":"Opaque"\}$/,
          );
        }
      }
    },
  );

  await t.step("--decode takes only k8s", async () => {
    const ran = await runMain(dump, [
      "/registry",
      "--decode",
      "xml",
      ...endpoint,
    ]);
    assert.equal(ran.code, 2);
    assert.match(ran.stderr, /Invalid --decode "xml": expected k8s/);
  });
});
