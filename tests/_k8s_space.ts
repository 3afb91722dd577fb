// A Kubernetes-like key space written by etcdctl, for the viewer's browser
// tests and bench: protobuf-ish binary objects, a large CRD as JSON, a JSON
// config with a history, YAML, a PEM certificate.

import type { EtcdServer } from "../testing.ts";
import { concat, field } from "./_protobuf.ts";

/** Runs etcdctl (of the server's version), the value on its stdin. */
export async function etcdctl(
  etcd: EtcdServer,
  args: string[],
  stdin?: string | Uint8Array,
): Promise<string> {
  const child = new Deno.Command(etcd.binary.replace(/etcd$/, "etcdctl"), {
    args: ["--endpoints", etcd.endpoint, ...args],
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(
      typeof stdin === "string" ? new TextEncoder().encode(stdin) : stdin,
    );
    await writer.close();
  }
  const output = await child.output();
  if (!output.success) {
    throw new Error(
      `etcdctl ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return new TextDecoder().decode(output.stdout);
}

/** Bytes the way Kubernetes stores objects: "k8s\0", then protobuf. */
export function protobufish(name: string): Uint8Array {
  const text = new TextEncoder().encode(`v1\u0012Pod\u001a${name}`);
  return new Uint8Array([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x0b, ...text, 0xff]);
}

/** What Kubernetes stores: "k8s\0", then runtime.Unknown around `raw`. */
function envelope(apiVersion: string, kind: string, raw: Uint8Array) {
  const typeMeta = concat([field(1, apiVersion), field(2, kind)]);
  const unknown = concat([field(1, typeMeta), field(2, raw)]);
  return concat([[0x6b, 0x38, 0x73, 0x00]], unknown);
}

/** ObjectMeta: name = 1, namespace = 3, uid = 5, labels = 11. */
function objectMeta(
  name: string,
  namespace: string,
  labels: Record<string, string>,
): Uint8Array {
  return concat([
    field(1, name),
    field(3, namespace),
    field(5, `uid-of-${name}`),
    ...Object.entries(labels).map(([key, value]) =>
      field(11, concat([field(1, key), field(2, value)]))
    ),
  ]);
}

/**
 * A Pod as Kubernetes stores it (protobuf): metadata = 1, spec = 2 with
 * containers = 2 (name = 1, image = 2).
 */
export function k8sPod(
  name: string,
  namespace: string,
  labels: Record<string, string>,
  image: string,
): Uint8Array {
  const container = concat([field(1, "main"), field(2, image)]);
  return envelope(
    "v1",
    "Pod",
    concat([
      field(1, objectMeta(name, namespace, labels)),
      field(2, concat([field(2, container)])),
    ]),
  );
}

/** A Secret as Kubernetes stores it: metadata = 1, data = 2, type = 3. */
export function k8sSecret(
  name: string,
  namespace: string,
  data: Record<string, string>,
): Uint8Array {
  return envelope(
    "v1",
    "Secret",
    concat([
      field(1, objectMeta(name, namespace, {})),
      ...Object.entries(data).map(([key, value]) =>
        field(2, concat([field(1, key), field(2, value)]))
      ),
      field(3, "Opaque"),
    ]),
  );
}

/** A custom resource definition of about `size` bytes of JSON. */
export function bigCrd(size = 86_000): string {
  const properties: Record<string, unknown> = {};
  for (let i = 0; JSON.stringify(properties).length < size; i++) {
    properties[`field${i}`] = {
      type: "string",
      description: `Field number ${i} of the widget spec.`,
    };
  }
  return JSON.stringify({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "widgets.example.com" },
    spec: {
      group: "example.com",
      versions: [{
        name: "v1",
        schema: { openAPIV3Schema: { type: "object", properties } },
      }],
    },
  });
}

export const CERT = `-----BEGIN CERTIFICATE-----
MIIBszCCAVmgAwIBAgIUWq1xRrJ1F0s4mUqM6Pj1zKcRgEwwCgYIKoZIzj0EAwIw
FzEVMBMGA1UEAwwMZXRjZC10cmVlLWNhMB4XDTI2MDEwMTAwMDAwMFoXDTM2MDEw
-----END CERTIFICATE-----
`;

/** The versions of the config key, oldest first. */
export const CONFIG_VERSIONS = [
  '{"replicas":1,"image":"web:1.0"}',
  '{"replicas":3,"image":"web:1.0"}',
  '{"replicas":3,"image":"web:1.1","debug":false}',
];

/** Writes the key space under `prefix` (e.g. "/registry") with etcdctl. */
export async function loadK8sSpace(
  etcd: EtcdServer,
  prefix: string,
): Promise<void> {
  for (const name of ["web-0", "web-1", "db-0"]) {
    await etcdctl(
      etcd,
      ["put", `${prefix}/pods/default/${name}`],
      protobufish(name),
    );
  }
  await etcdctl(etcd, [
    "put",
    `${prefix}/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com`,
  ], bigCrd());
  for (const version of CONFIG_VERSIONS) {
    await etcdctl(etcd, ["put", `${prefix}/configmaps/default/web`], version);
  }
  await etcdctl(
    etcd,
    ["put", `${prefix}/configmaps/default/app.yaml`],
    "server:\n  port: 8080\n  hosts:\n    - a\n    - b\n",
  );
  await etcdctl(etcd, ["put", `${prefix}/secrets/default/tls.crt`], CERT);
}
