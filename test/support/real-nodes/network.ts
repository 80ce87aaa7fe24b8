/**
 * The real cluster's network, all on this machine: a "switch" network namespace holding a bridge, one veth from the
 * host into it (the host's address, .1, so the test reaches the API server), and one network namespace per node with
 * a veth `eth0` plugged into the bridge. The host forwards nothing (its ip_forward is untouched): nodes reach each
 * other through the bridge, and the host only through its own veth. Deleting the switch namespace removes the bridge
 * and every veth's peer with it.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { tryLock } from "../../toolchain/go-build";
import { run, runOrThrow } from "../node-root/process";

/** Every name this harness gives a namespace or host interface starts with it (the sweep finds them by it). */
export const NET_PREFIX = "khr";

export interface ClusterNetwork {
  id: string;
  /** `10.<octet>.0.0/24`, an octet no host interface uses. */
  subnet: string;
  hostAddress: string;
  switchNs: string;
  hostIf: string;
}

export interface NodeNetwork {
  ns: string;
  address: string;
}

/** Interface names are at most 15 bytes; namespace names are files, kept short all the same. */
const IF_NAME = /^[a-z0-9-]{1,15}$/;
const NS_NAME = /^[a-z0-9-]{1,40}$/;

async function ip(args: string[]): Promise<void> {
  await runOrThrow("ip", args);
}

/** Where a cluster claims its subnet's octet: a lock file holding the claimer's pid (go-build's `tryLock`). */
export function subnetClaim(octet: number): string {
  return `/run/kubeherd-real-subnet-10.${octet}`;
}

/**
 * An octet for `10.X.0.0/24` that no address on the host uses and no other live cluster has claimed. Two clusters
 * starting at once (the e2e tier runs two files at a time) would otherwise both see the same octet free before
 * either has put its address on the host, and Linux lets two interfaces carry the same address.
 */
export function claimFreeOctet(): number {
  const used = readFileSync("/proc/net/fib_trie", "utf8");
  for (let x = 217; x < 250; x++) if (!used.includes(`10.${x}.0.`) && tryLock(subnetClaim(x))) return x;
  throw new Error("no free 10.217-249.0.0/24 subnet on this host for a real cluster");
}

export async function createClusterNetwork(id: string): Promise<ClusterNetwork> {
  if (!IF_NAME.test(`${NET_PREFIX}${id}-sw`)) throw new Error(`cluster id ${JSON.stringify(id)}: too long or not [a-z0-9-]`);
  const octet = claimFreeOctet();
  const net: ClusterNetwork = {
    id,
    subnet: `10.${octet}.0.0/24`,
    hostAddress: `10.${octet}.0.1`,
    switchNs: `${NET_PREFIX}${id}-sw`,
    hostIf: `${NET_PREFIX}${id}-h`,
  };
  try {
    await ip(["netns", "add", net.switchNs]);
    await ip(["-n", net.switchNs, "link", "add", "br0", "type", "bridge"]);
    await ip(["-n", net.switchNs, "link", "set", "br0", "up"]);
    await ip(["-n", net.switchNs, "link", "set", "lo", "up"]);
    await ip(["link", "add", net.hostIf, "type", "veth", "peer", "name", "up0", "netns", net.switchNs]);
    await ip(["-n", net.switchNs, "link", "set", "up0", "master", "br0", "up"]);
    await ip(["addr", "add", `${net.hostAddress}/24`, "dev", net.hostIf]);
    await ip(["link", "set", net.hostIf, "up"]);
  } catch (e) {
    await deleteClusterNetwork(net);
    throw e;
  }
  return net;
}

/** A node's namespace with `eth0` at `10.X.0.<10+index>`, its default route via the host's veth. */
export async function createNodeNetwork(net: ClusterNetwork, name: string, index: number): Promise<NodeNetwork> {
  const ns = `${NET_PREFIX}${net.id}-${name}`;
  if (!NS_NAME.test(ns)) throw new Error(`node network ${ns}: too long or not [a-z0-9-]`);
  const address = net.hostAddress.replace(/\.1$/, `.${10 + index}`);
  const port = `p${index}`;
  await ip(["netns", "add", ns]);
  await ip(["-n", ns, "link", "set", "lo", "up"]);
  await ip(["-n", net.switchNs, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns]);
  await ip(["-n", net.switchNs, "link", "set", port, "master", "br0", "up"]);
  await ip(["-n", ns, "addr", "add", `${address}/24`, "dev", "eth0"]);
  await ip(["-n", ns, "link", "set", "eth0", "up"]);
  await ip(["-n", ns, "route", "add", "default", "via", net.hostAddress]);
  // what kubeadm's preflight asks of a node's own network stack (per namespace: the host's stays as it is)
  await ip(["netns", "exec", ns, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"]);
  return { ns, address };
}

export async function deleteNodeNetwork(node: NodeNetwork): Promise<void> {
  if (existsSync(`/run/netns/${node.ns}`)) await run("ip", ["netns", "del", node.ns]);
}

export async function deleteClusterNetwork(net: ClusterNetwork): Promise<void> {
  await run("ip", ["link", "del", net.hostIf]);
  if (existsSync(`/run/netns/${net.switchNs}`)) await run("ip", ["netns", "del", net.switchNs]);
  rmSync(subnetClaim(Number(net.subnet.split(".")[1])), { force: true });
}

/** Namespaces and host interfaces of this harness still present (for the stop's check and the sweep). */
export async function leftoverNetworks(id?: string): Promise<string[]> {
  const prefix = id === undefined ? NET_PREFIX : `${NET_PREFIX}${id}`;
  const ns = (await run("ip", ["netns", "list"])).stdout.split("\n").map((l) => l.split(" ")[0]).filter((n) => n?.startsWith(prefix));
  const links = (await run("ip", ["-o", "link", "show"])).stdout
    .split("\n")
    .map((l) => /^\d+:\s+([^:@]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined && n.startsWith(prefix));
  return [...ns, ...links];
}
