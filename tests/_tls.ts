// Certificates for the TLS tests, minted with openssl at run time.

/** Paths of the PEM files of a test PKI, and their text. */
export interface Pki extends AsyncDisposable {
  dir: string;
  /** The CA that signs everything below. */
  caFile: string;
  caPem: string;
  /** A server certificate for IP 127.0.0.1 only. */
  serverCertFile: string;
  serverKeyFile: string;
  /**
   * A server certificate that may also act as a client (EKU serverAuth and
   * clientAuth), as etcd's v3 gateway needs with `--trusted-ca-file`.
   */
  serverBothCertFile: string;
  serverBothKeyFile: string;
  /** A client certificate (extended key usage clientAuth). */
  clientCertFile: string;
  clientKeyFile: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** Another CA, unrelated to the first. */
  otherCaPem: string;
  /** A client certificate signed by the other CA, and its key. */
  strangerCertFile: string;
  strangerCertPem: string;
  strangerKeyFile: string;
  strangerKeyPem: string;
}

async function openssl(dir: string, ...args: string[]): Promise<void> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        'Cannot mint test certificates: no "openssl"; install it with "apt-get install openssl"',
      );
    }
    throw error;
  }
  if (!output.success) {
    throw new Error(
      `openssl ${args.join(" ")} failed: ${
        new TextDecoder().decode(output.stderr)
      }`,
    );
  }
}

/** openssl req arguments for a new, unencrypted P-256 key. */
const NEW_KEY = [
  "-newkey",
  "ec",
  "-pkeyopt",
  "ec_paramgen_curve:prime256v1",
  "-nodes",
];

async function ca(dir: string, name: string): Promise<void> {
  await openssl(
    dir,
    "req",
    "-x509",
    ...NEW_KEY,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
}

async function leaf(
  dir: string,
  name: string,
  extensions: string,
  signer = "ca",
): Promise<void> {
  await openssl(
    dir,
    "req",
    ...NEW_KEY,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${name}`,
  );
  await Deno.writeTextFile(`${dir}/${name}.ext`, extensions);
  await openssl(
    dir,
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${signer}.pem`,
    "-CAkey",
    `${signer}.key`,
    "-CAcreateserial",
    "-out",
    `${name}.pem`,
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
  );
}

/** Mints a CA, a server and a client certificate, and an unrelated CA. */
export async function mintPki(): Promise<Pki> {
  const dir = await Deno.makeTempDir({ prefix: "etcd-tree-pki-" });
  await ca(dir, "ca");
  await ca(dir, "other");
  await leaf(
    dir,
    "server",
    "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n",
  );
  await leaf(
    dir,
    "server-both",
    "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n",
  );
  await leaf(
    dir,
    "client",
    "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n",
  );
  await leaf(
    dir,
    "stranger",
    "extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=CA:FALSE\n",
    "other",
  );
  const read = (name: string) => Deno.readTextFile(`${dir}/${name}`);
  return {
    dir,
    caFile: `${dir}/ca.pem`,
    caPem: await read("ca.pem"),
    serverCertFile: `${dir}/server.pem`,
    serverKeyFile: `${dir}/server.key`,
    serverBothCertFile: `${dir}/server-both.pem`,
    serverBothKeyFile: `${dir}/server-both.key`,
    clientCertFile: `${dir}/client.pem`,
    clientKeyFile: `${dir}/client.key`,
    clientCertPem: await read("client.pem"),
    clientKeyPem: await read("client.key"),
    otherCaPem: await read("other.pem"),
    strangerCertFile: `${dir}/stranger.pem`,
    strangerCertPem: await read("stranger.pem"),
    strangerKeyFile: `${dir}/stranger.key`,
    strangerKeyPem: await read("stranger.key"),
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}
