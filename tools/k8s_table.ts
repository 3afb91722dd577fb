// Derives cli/_k8s_table.ts from Kubernetes' own generated.proto files: for
// every message reachable from the kinds people look at most, its fields
// by number (name, type, repeated or map). Only that table is committed,
// never the .proto files.
//
//   deno run --allow-read --allow-write tools/k8s_table.ts \
//     --out cli/_k8s_table.ts --source "kubernetes/api 10b39a39b, ..." \
//     core/v1/generated.proto apps/v1/generated.proto ...
//
// The .proto files needed: k8s.io/api core/v1, apps/v1, coordination/v1,
// discovery/v1, events/v1; k8s.io/apimachinery pkg/apis/meta/v1,
// pkg/runtime, pkg/runtime/schema, pkg/util/intstr, pkg/api/resource; and
// k8s.io/apiextensions-apiserver pkg/apis/apiextensions/v1.

import { parseArgs } from "node:util";

/** The kinds decoded by name: apiVersion, kind, and their message. */
const KINDS: [string, string, string][] = [
  ["v1", "Pod", "k8s.io.api.core.v1.Pod"],
  ["v1", "Service", "k8s.io.api.core.v1.Service"],
  ["v1", "ConfigMap", "k8s.io.api.core.v1.ConfigMap"],
  ["v1", "Secret", "k8s.io.api.core.v1.Secret"],
  ["v1", "Namespace", "k8s.io.api.core.v1.Namespace"],
  ["v1", "Node", "k8s.io.api.core.v1.Node"],
  ["v1", "Event", "k8s.io.api.core.v1.Event"],
  ["v1", "Endpoints", "k8s.io.api.core.v1.Endpoints"],
  ["v1", "ServiceAccount", "k8s.io.api.core.v1.ServiceAccount"],
  ["apps/v1", "Deployment", "k8s.io.api.apps.v1.Deployment"],
  ["apps/v1", "ReplicaSet", "k8s.io.api.apps.v1.ReplicaSet"],
  ["apps/v1", "StatefulSet", "k8s.io.api.apps.v1.StatefulSet"],
  ["apps/v1", "DaemonSet", "k8s.io.api.apps.v1.DaemonSet"],
  ["coordination.k8s.io/v1", "Lease", "k8s.io.api.coordination.v1.Lease"],
  [
    "discovery.k8s.io/v1",
    "EndpointSlice",
    "k8s.io.api.discovery.v1.EndpointSlice",
  ],
  ["events.k8s.io/v1", "Event", "k8s.io.api.events.v1.Event"],
  [
    "apiextensions.k8s.io/v1",
    "CustomResourceDefinition",
    "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
  ],
];

/**
 * Names whose JSON spelling differs from the .proto's (the proto name is
 * derived from the Go field's JSON tag, which protobuf cannot spell).
 */
const JSON_NAMES: Record<string, Record<string, string>> = {
  "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps": {
    schema: "$schema",
    ref: "$ref",
  },
};

const SCALARS = new Set([
  "double",
  "float",
  "int32",
  "int64",
  "uint32",
  "uint64",
  "sint32",
  "sint64",
  "fixed32",
  "fixed64",
  "sfixed32",
  "sfixed64",
  "bool",
  "string",
  "bytes",
]);

interface Field {
  number: number;
  name: string;
  type: string;
  repeated: boolean;
  key?: string;
}

/** Every message of one .proto file, by full name. */
function parseProto(text: string, file: string): Map<string, Field[]> {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  const pkg = /^\s*package\s+([\w.]+)\s*;/m.exec(code)?.[1];
  if (pkg === undefined) throw new Error(`${file}: no package statement`);
  if (/^\s*(enum|oneof)\b/m.test(code)) {
    throw new Error(`${file}: enums and oneofs are not supported`);
  }
  const messages = new Map<string, Field[]>();
  for (const match of code.matchAll(/^message\s+(\w+)\s*\{([^{}]*)\}/gm)) {
    const fields: Field[] = [];
    for (const line of match[2]!.split(";")) {
      const text = line.trim();
      if (text === "" || text.startsWith("reserved")) continue;
      const map = /^map<\s*(\w+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)$/
        .exec(text);
      const plain =
        /^(optional|repeated|required)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)$/
          .exec(text);
      if (map !== null) {
        fields.push({
          number: Number(map[4]),
          name: map[3]!,
          type: resolve(map[2]!, pkg),
          repeated: false,
          key: map[1]!,
        });
      } else if (plain !== null) {
        fields.push({
          number: Number(plain[4]),
          name: plain[3]!,
          type: resolve(plain[2]!, pkg),
          repeated: plain[1] === "repeated",
        });
      } else {
        throw new Error(`${file}: message ${match[1]}: cannot read "${text}"`);
      }
    }
    messages.set(`${pkg}.${match[1]}`, fields);
  }
  return messages;
}

/** A type's full name (scalars as they are). */
function resolve(type: string, pkg: string): string {
  if (SCALARS.has(type)) return type;
  return type.startsWith(".") ? type.slice(1) : `${pkg}.${type}`;
}

/** The messages reachable from the kinds' messages, sorted by name. */
function reachable(all: Map<string, Field[]>): string[] {
  const seen = new Set<string>();
  const visit = (name: string, from: string) => {
    if (seen.has(name)) return;
    const fields = all.get(name);
    if (fields === undefined) {
      throw new Error(`message ${name} (used by ${from}) is in no given file`);
    }
    seen.add(name);
    for (const field of fields) {
      if (!SCALARS.has(field.type)) visit(field.type, name);
    }
  };
  for (const [, , message] of KINDS) visit(message, "the kinds");
  // The envelope itself.
  visit("k8s.io.apimachinery.pkg.runtime.Unknown", "the envelope");
  return [...seen].sort();
}

/**
 * Go structs embedded in others (a field with no name, tagged `json:""`):
 * Kubernetes' JSON shows their fields in the outer object. The .proto
 * cannot say so: these are the ones in the Go types (types.go) of the
 * packages above, as message -> field.
 */
const INLINE: Record<string, string> = {
  "k8s.io.api.core.v1.Volume": "volumeSource",
  "k8s.io.api.core.v1.PersistentVolumeSpec": "persistentVolumeSource",
  "k8s.io.api.core.v1.Probe": "handler",
  "k8s.io.api.core.v1.EphemeralContainer": "ephemeralContainerCommon",
};

function isInline(message: string, field: Field): boolean {
  // And LocalObjectReference, embedded in every *KeySelector, *EnvSource,
  // *Projection and *VolumeSource that names a ConfigMap or Secret.
  return INLINE[message] === field.name ||
    (field.name === "localObjectReference" &&
      field.type === "k8s.io.api.core.v1.LocalObjectReference");
}

function fieldSource(message: string, field: Field): string {
  const name = JSON_NAMES[message]?.[field.name] ??
    field.name.replace(
      /^xKubernetes[A-Z]\w*$/,
      (name) => name.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase()),
    );
  const parts = [`${JSON.stringify(name)}`, JSON.stringify(field.type)];
  if (field.key !== undefined) parts.push(JSON.stringify(`map:${field.key}`));
  else if (field.repeated) parts.push(`"repeated"`);
  else if (isInline(message, field)) parts.push(`"inline"`);
  return `${field.number}: [${parts.join(", ")}]`;
}

function tableSource(all: Map<string, Field[]>, source: string): string {
  const lines = [
    "// Generated by tools/k8s_table.ts from Kubernetes' generated.proto files",
    `// (${source}). Do not edit: run the script again.`,
    "",
    "/**",
    " * A field: its JSON name, its type (a scalar such as `string`, or a",
    ' * message\'s full name), and `"repeated"`, `"map:KEYTYPE"` (a map is',
    " * repeated entries with the key as field 1 and the value as field 2) or",
    ' * `"inline"` (an embedded struct: its fields go in the outer object).',
    " */",
    "export type FieldSpec =",
    "  | readonly [name: string, type: string]",
    "  | readonly [name: string, type: string, label: string];",
    "",
    "/** Messages by full name: their fields by number. */",
    "export const MESSAGES: Readonly<",
    "  Record<string, Readonly<Record<number, FieldSpec>>>",
    "> = {",
  ];
  for (const name of reachable(all)) {
    const fields = all.get(name)!;
    lines.push(`  ${JSON.stringify(name)}: {`);
    for (const field of fields) {
      lines.push(`    ${fieldSource(name, field)},`);
    }
    lines.push("  },");
  }
  lines.push("};", "");
  lines.push(
    '/** The kinds decoded by name: "apiVersion kind" to its message. */',
    "export const KINDS: Readonly<Record<string, string>> = {",
  );
  for (const [apiVersion, kind, message] of KINDS) {
    lines.push(`  ${JSON.stringify(`${apiVersion} ${kind}`)}: "${message}",`);
  }
  lines.push("};", "");
  return lines.join("\n");
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: {
      out: { type: "string" },
      source: { type: "string", default: "Kubernetes sources" },
    },
    allowPositionals: true,
  });
  if (values.out === undefined || positionals.length === 0) {
    console.error(
      "Usage: tools/k8s_table.ts --out FILE [--source TEXT] PROTO...",
    );
    Deno.exit(2);
  }
  const all = new Map<string, Field[]>();
  for (const file of positionals) {
    for (
      const [name, fields] of parseProto(Deno.readTextFileSync(file), file)
    ) {
      all.set(name, fields);
    }
  }
  Deno.writeTextFileSync(values.out, tableSource(all, values.source));
}
