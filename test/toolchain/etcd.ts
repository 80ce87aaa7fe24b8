/**
 * etcd for the e2e control plane: Debian's etcd-server (3.4.23 on bookworm), which serves kube-apiserver 1.34 for
 * everything the tier does (FACTS.md §8), installed from Debian's packages when missing, with openssl (the control
 * plane's certificates). Building etcd 3.5/3.6 from the module proxy would work too but costs minutes for nothing.
 */
import { join } from "node:path";
import { ensureDebianTools, toolPath } from "../support/debian/debian-tools";
import { outputOf } from "./go-build";

const TOOLS = [
  { command: "etcd", pkg: "etcd-server" },
  { command: "openssl", pkg: "openssl" },
  // the command stand-in dials the pets nodes with OpenSSH's client; the SSH nodes make their keys with ssh-keygen
  { command: "ssh", pkg: "openssh-client" },
  { command: "ssh-keygen", pkg: "openssh-client" },
] as const;

export interface Etcd {
  path: string;
  /** "3.4.23" */
  version: string;
}

export async function ensureEtcd(): Promise<Etcd> {
  ensureDebianTools(TOOLS, [], "The e2e tier's control plane");
  const path = toolPath("etcd") ?? join("/usr/bin", "etcd");
  // "etcd Version: 3.4.23\nGit SHA: ..."
  const version = /etcd Version:\s*(\S+)/.exec((await outputOf(path, ["--version"])) ?? "")?.[1];
  if (version === undefined) throw new Error(`${path} --version did not say which etcd it is`);
  return { path, version };
}
