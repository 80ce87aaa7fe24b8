/**
 * The e2e control plane's PKI, made with openssl as kubeadm would lay it out (minus the front proxy and etcd's own
 * CA: etcd listens on loopback without TLS): a cluster CA, the apiserver's serving certificate for 127.0.0.1, an
 * admin client certificate in `system:masters`, and the service-account signing key pair. RSA 2048, as kubeadm.
 */
import { execFile } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  apiserverCert: string;
  apiserverKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  try {
    await run("openssl", args, { cwd: dir });
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`openssl ${args.join(" ")} failed in ${dir}: ${e.stderr ?? e.message}`, { cause: err });
  }
}

/** Makes `<name>.key` and `<name>.crt` signed by the CA in `dir`, valid for two days (a test run is hours at most). */
async function issue(dir: string, name: string, subject: string, extensions: string[]): Promise<void> {
  await openssl(dir, ["genrsa", "-out", `${name}.key`, "2048"]);
  await openssl(dir, [
    "req", "-x509", "-new", "-key", `${name}.key`, "-out", `${name}.crt`, "-days", "2", "-subj", subject,
    "-CA", "ca.crt", "-CAkey", "ca.key",
    ...extensions.flatMap((e) => ["-addext", e]),
  ]);
}

export async function makePki(dir: string): Promise<Pki> {
  await openssl(dir, ["genrsa", "-out", "ca.key", "2048"]);
  await openssl(dir, [
    "req", "-x509", "-new", "-key", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=kubeherd-e2e-ca",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
  ]);
  const leaf = ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment"];
  await issue(dir, "apiserver", "/CN=kube-apiserver", [
    ...leaf,
    "extendedKeyUsage=serverAuth",
    // 10.0.0.1: the `kubernetes` Service's address in --service-cluster-ip-range, as kubeadm includes it.
    "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local",
  ]);
  await issue(dir, "admin", "/O=system:masters/CN=kubernetes-admin", [...leaf, "extendedKeyUsage=clientAuth"]);
  await openssl(dir, ["genrsa", "-out", "sa.key", "2048"]);
  await openssl(dir, ["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"]);
  const at = (f: string) => join(dir, f);
  return {
    dir,
    caCert: at("ca.crt"),
    caKey: at("ca.key"),
    apiserverCert: at("apiserver.crt"),
    apiserverKey: at("apiserver.key"),
    adminCert: at("admin.crt"),
    adminKey: at("admin.key"),
    serviceAccountKey: at("sa.key"),
    serviceAccountPub: at("sa.pub"),
  };
}

/**
 * `sha256:<hex>` of the CA certificate's SubjectPublicKeyInfo (DER): what `kubeadm join
 * --discovery-token-ca-cert-hash` expects and `kubeadm token create --print-join-command` prints.
 */
export function caCertHash(caCertPem: string): string {
  const spki = new X509Certificate(caCertPem).publicKey.export({ type: "spki", format: "der" });
  return `sha256:${createHash("sha256").update(spki).digest("hex")}`;
}

const b64 = (path: string) => readFileSync(path).toString("base64");

/** A self-contained kubeconfig (certificates inline), as `kubeadm init` writes admin.conf. */
export function adminKubeconfig(pki: Pki, server: string, clusterName = "kubeherd-e2e"): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: ${clusterName}`,
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(pki.caCert)}`,
    "users:",
    "- name: kubernetes-admin",
    "  user:",
    `    client-certificate-data: ${b64(pki.adminCert)}`,
    `    client-key-data: ${b64(pki.adminKey)}`,
    "contexts:",
    `- name: kubernetes-admin@${clusterName}`,
    "  context:",
    `    cluster: ${clusterName}`,
    "    user: kubernetes-admin",
    `current-context: kubernetes-admin@${clusterName}`,
    "",
  ].join("\n");
}

export function writeKubeconfig(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
}
