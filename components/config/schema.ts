/**
 * The stack config schema: one zod schema per `kubeherd:*` key. The program reads these keys through
 * `pulumi.Config`, the plan command straight from `Pulumi.<stack>.yaml`; both go through `loadConfig`
 * (./load.ts), so the two can never read a stack differently.
 *
 * Secrets (the kubeconfig, SSH private keys) are not part of these objects: they live in their own top-level
 * config keys, set with `pulumi config set --secret`, and objects only name those keys.
 */
import { z } from "zod";
import { UBUNTU_RELEASE_NAMES } from "../versions/ubuntu";
import * as p from "./patterns";

const pattern = (re: RegExp, what: string) =>
  z.string().regex(re, { message: `must be ${what}` });

/** An exact apt version; floating versions are refused with an example of what is wanted. */
export const pin = z.string().superRefine((value, ctx) => {
  if (p.PIN.test(value)) return;
  const floating = /^(latest|stable|\*|.*[*?x]$)/i.test(value) || /^[0-9]+(\.[0-9]+)?$/.test(value);
  ctx.addIssue({
    code: "custom",
    message: floating
      ? `"${value}" is a floating version: pin an exact apt version such as 1.30.2-1.1 or 1.13.3-00`
      : `"${value}" is not an exact apt version (expected e.g. 1.30.2-1.1, 18.06.2~ce~3-0~ubuntu; letters, digits and . + ~ - : only)`,
  });
});

const seconds = (dflt: number) => z.number().int().min(10).max(86_400).default(dflt);

export const clusterSchema = z.strictObject({
  /** Cluster name, used in resource names and tags. Example: `dev`. */
  name: pattern(p.POOL_NAME, "a short lower-case name (letters, digits, -)"),
  /** The control-plane endpoint joining nodes use, `host:port`. Example: `k8s-dev.internal.example.com:6443`. */
  endpoint: pattern(p.ENDPOINT, "host:port"),
  /** The discovery CA certificate hash for `kubeadm join`. Example: `sha256:<64 hex>`. Not a secret. */
  caCertHash: pattern(p.CA_CERT_HASH, "sha256: followed by 64 lower-case hex digits"),
  /** Name of the secret config key that holds the kubeconfig for the Kubernetes provider and the node operations.
   * @default "kubeconfig" (set it with `pulumi config set --secret kubeherd:kubeconfig < admin.conf`) */
  kubeconfigSecret: pattern(p.CONFIG_KEY, "a config key name").default("kubeconfig"),
  /** Lifetime of the bootstrap token that cattle nodes join with. Rotate before it runs out (see README).
   * @default 720h */
  bootstrapTokenTtlHours: z.number().int().min(1).max(8760).default(720),
});

export const RUNTIMES = ["docker", "containerd"] as const;

/** One minor a journey passes through: the control plane's release there and the Kubernetes pins of that minor. */
export const journeyStageSchema = z.strictObject({
  /** Example: `1.32.9`. */
  kubernetes: z.string().transform((v) => v.replace(/^v/, "")).pipe(pattern(p.KUBERNETES_VERSION, "an exact release such as 1.32.9")),
  kubeadm: pin,
  kubelet: pin,
  kubectl: pin,
});

export const versionsSchema = z.strictObject({
  /** The cluster's Kubernetes version, what `kubeadm upgrade apply` is given. Example: `1.30.2`. */
  kubernetes: z.string().transform((v) => v.replace(/^v/, "")).pipe(pattern(p.KUBERNETES_VERSION, "an exact release such as 1.30.2")),
  /** Exact apt pins. Example: `1.30.2-1.1` (pkgs.k8s.io) or `1.13.3-00` (legacy repository, needs a mirror). */
  kubeadm: pin,
  kubelet: pin,
  kubectl: pin,
  /** The container runtime. `docker`: docker-ce (+ cri-dockerd from 1.24). `containerd`: containerd.io alone.
   * @default "containerd" */
  runtime: z.enum(RUNTIMES).default("containerd"),
  "docker-ce": pin.optional(),
  "docker-ce-cli": pin.optional(),
  "containerd.io": pin.optional(),
  "cri-dockerd": pin.optional(),
  /** Emergency override: allow what apt and kubeadm can really do but kubeherd does not do by default, a patch
   * downgrade (kubelet, kubectl, runtime; kubeadm and the control plane within their minor). Never a skipped or
   * downgraded control-plane minor. The plan and the program warn that it was used. @default false */
  allowUnsupportedTransition: z.boolean().default(false),
  /** The releases a multi-minor journey passes through, one per minor between the rolled-out control plane and
   * `kubernetes` (exclusive), with that minor's exact pins. Example:
   * `[{kubernetes: 1.32.9, kubeadm: 1.32.9-1.1, kubelet: 1.32.9-1.1, kubectl: 1.32.9-1.1}]` for 1.31 -> 1.33.
   * @default [] (no journey: the control plane moves at most one minor) */
  journey: z.array(journeyStageSchema).default([]),
});

/**
 * A pool's own pins over the cluster's `kubeherd:versions` (issue 18): a worker pool may stay on an older kubelet
 * while the control plane moves on (a staged upgrade), or pin its own runtime. Keys left out are the cluster's.
 * A pool's kubelet is never newer than `versions.kubernetes` nor older than the skew policy allows; its kubeadm,
 * kubelet and kubectl are of one minor (one repository line serves a node). Control-plane pools may not differ.
 * @default none (the pool runs the cluster's versions). Example: `{kubeadm: 1.33.5-1.1, kubelet: 1.33.5-1.1, kubectl: 1.33.5-1.1}`
 */
export const poolVersionsSchema = z.strictObject({
  kubeadm: pin.optional(),
  kubelet: pin.optional(),
  kubectl: pin.optional(),
  runtime: z.enum(RUNTIMES).optional(),
  "docker-ce": pin.optional(),
  "docker-ce-cli": pin.optional(),
  "containerd.io": pin.optional(),
  "cri-dockerd": pin.optional(),
});

export const repositoriesSchema = z.strictObject({
  /** Docker's apt source. `{codename}` becomes the Ubuntu codename.
   * @default the upstream Docker repository for Ubuntu, with its signing key fetched at install time */
  docker: pattern(p.APT_SOURCE, "one apt source line starting with deb").optional(),
  /** The Kubernetes apt source. `{minor}` becomes the Kubernetes minor (`1.30`).
   * @default pkgs.k8s.io for the pinned minor, with its signing key fetched at install time */
  kubernetes: pattern(p.APT_SOURCE, "one apt source line starting with deb").optional(),
  /** cri-dockerd has no upstream apt repository: a source line for a repository holding its .deb.
   * Required when `versions.cri-dockerd` is pinned. */
  "cri-dockerd": pattern(p.APT_SOURCE, "one apt source line starting with deb").optional(),
});

export const osSchema = z.strictObject({
  /** The Ubuntu LTS release the nodes run. Changing it upgrades pets nodes with do-release-upgrade.
   * @default "22.04" */
  release: z.enum(UBUNTU_RELEASE_NAMES).default("22.04"),
  /** AMI for cattle pools (and pets pools that kubeherd creates); an Ubuntu image of `release`.
   * Example: `ami-0abcdef1234567890`. Changing it replaces cattle nodes. */
  image: pattern(p.AMI, "an AMI id such as ami-0abcdef1234567890").optional(),
  /** Maintenance token for `apt-get dist-upgrade` on pets nodes (pins stay held). Change it (e.g. to the date)
   * to run the system upgrade again on every pets node, one by one. Unset: no system upgrade. */
  systemUpgrade: pattern(p.TOKEN, "a short label such as 2026-11").optional(),
});

/** The days a maintenance window may open on, as `rollout.window.days` names them. */
export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;

/** Whether the platform's Intl knows a time zone (an IANA name such as `Europe/Amsterdam`, or `UTC`). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const clockTime = pattern(p.CLOCK_TIME, "a time of day as HH:MM (24 h), such as 22:00");

export const windowSchema = z.strictObject({
  /** The days the window opens on, in the window's time zone. @default every day */
  days: z.array(z.enum(WEEKDAYS, { message: `must be one of ${WEEKDAYS.join(", ")}` })).min(1).default([...WEEKDAYS]),
  /** When it opens, local time. Example: `22:00`. */
  start: clockTime,
  /** When it closes, local time; before `start` means the next day (`22:00`–`04:00`); equal to `start`: 24 hours. */
  end: clockTime,
  /** IANA time zone of `start` and `end`. @default "UTC" */
  timeZone: z.string().refine(isTimeZone, { message: "must be a time zone the platform knows, such as Europe/Amsterdam or UTC" }).default("UTC"),
});

/** A disruption budget: a count (`3`) or a percentage of the pool (`"10%"`, rounded down, at least 1 node). */
export const budgetSchema = z.union([z.number(), z.string()]).superRefine((value, ctx) => {
  const ok = typeof value === "number" ? Number.isInteger(value) && value >= 1 : p.PERCENTAGE.test(value);
  if (!ok) ctx.addIssue({ code: "custom", message: `${JSON.stringify(value)} is not a budget: give a whole number of nodes from 1 (3) or a percentage from 1% to 100% ("10%")` });
});

export const rolloutSchema = z.strictObject({
  /** Cattle only. `rolling`: drain, terminate, launch, wait, batch by batch (`maxUnavailable`). `surge`: launch all new nodes
   * first (`maxSurge` at a time), then drain and terminate the old ones. @default "rolling" */
  strategy: z.enum(["rolling", "surge"]).default("rolling"),
  /** Allow a change that leaves a worker pool no node: `rolling` on a cattle pool of one node, or a `maxUnavailable`
   * of the whole pool (every node drained at once). @default false */
  allowZeroCapacity: z.boolean().default(false),
  /** Deadline for one node's drain. @default 600 */
  drainTimeoutSeconds: seconds(600),
  /** Deadline for a node to be Ready with the pinned kubelet after its change. @default 900 */
  readyTimeoutSeconds: seconds(900),
  /** Deadline for the workloads drained from a node to be back at their ready counts. @default 600 */
  workloadTimeoutSeconds: seconds(600),
  /** Evict pods with emptyDir volumes (their data is lost). @default true */
  deleteEmptyDirData: z.boolean().default(true),
  /** Delete pods no controller manages (they are not recreated). @default false: the drain refuses, naming them */
  deleteUnmanagedPods: z.boolean().default(false),
  /** Worker pools: how many nodes change at once, a count or a percentage of the pool (rounded down, at least 1);
   * the next batch starts once the whole batch is back. Control-plane pools: 1 only. @default 1. Example: `"10%"` */
  maxUnavailable: budgetSchema.default(1),
  /** Surge cattle pools: how many replacements come up at once (count or percentage). @default 1 */
  maxSurge: budgetSchema.default(1),
  /** A batch never spans two zones (subnets, or pets nodes' `zone`); zones go one after another, in the order of
   * `subnets` (pets hosts: the order the nodes list their zones). @default false */
  byZone: z.boolean().default(false),
  /** The pool's first node goes alone, and is back and gated, before the first batch. @default false */
  canary: z.boolean().default(false),
  /** A node (or batch) starts only inside this window; outside it the drain refuses and `pulumi up` stops, saying
   * when it opens. Example: `{days: [mon, tue], start: "22:00", end: "04:00", timeZone: Europe/Amsterdam}` */
  window: windowSchema.optional(),
  /** Control-plane pools: go ahead although the cluster still uses API versions the target minor removes (the
   * removed-API pre-flight of `plan --live` and of the first control-plane node's drain). `true` accepts every
   * removal the bump crosses; a list accepts only those group/versions, so a later bump that crosses another
   * removal is checked again. @default false. Example: `[policy/v1beta1, batch/v1beta1]` */
  acceptRemovedApis: z.union([z.boolean(), z.array(pattern(p.GROUP_VERSION, "a group/version such as policy/v1beta1")).min(1)]).default(false),
  /** Control-plane pools: kubeadm preflight checks `kubeadm upgrade apply` shows as warnings instead of failing
   * (`--ignore-preflight-errors`), named one by one (`all` is refused: it would hide every check that fails). Say
   * for a cluster made without kubeadm's CoreDNS addon, whose upgrade preflight fails on the CoreDNS it cannot find.
   * @default none. Example: `[CoreDNSMigration, CoreDNSUnsupportedPlugins]` */
  ignorePreflightErrors: z
    .array(pattern(p.PREFLIGHT_CHECK, "the name of a kubeadm preflight check, such as CoreDNSMigration").refine((c) => c.toLowerCase() !== "all", "all would hide every preflight check that fails: name the checks one by one"))
    .max(30)
    .default([]),
  /** Control-plane pools with stacked etcd: before `kubeadm upgrade apply` the first control-plane node saves an
   * etcd snapshot into `dir` (an absolute path) and keeps the newest `keep` of them.
   * @default {dir: /var/lib/kubeherd/etcd-snapshots, keep: 3} */
  etcdSnapshot: z
    .strictObject({
      dir: pattern(p.SNAPSHOT_DIR, "an absolute directory path of letters, digits and / . _ - (no .. and no trailing /)").default(p.DEFAULT_SNAPSHOT_DIR),
      keep: z.number().int().min(1).max(100).default(3),
    })
    .prefault({}),
});

const poolBase = {
  /** Unique pool name. Example: `workers`. */
  name: pattern(p.POOL_NAME, "a short lower-case name (letters, digits, -)"),
  role: z.enum(["control-plane", "worker"]),
  rollout: rolloutSchema.prefault({}),
  /** The pool's own pins over `kubeherd:versions` (see poolVersionsSchema). @default none (the cluster's).
   * Example: `{kubelet: 1.33.5-1.1, kubeadm: 1.33.5-1.1, kubectl: 1.33.5-1.1}` */
  versions: poolVersionsSchema.optional(),
};

/** EC2 placement of the nodes kubeherd creates. */
const ec2Fields = {
  /** Number of nodes. */
  size: z.number().int().min(1).max(200),
  /** Example: `m6i.large`. */
  instanceType: pattern(p.INSTANCE_TYPE, "an EC2 instance type such as m6i.large"),
  /** Nodes are spread over these subnets in order. */
  subnets: z.array(pattern(p.SUBNET, "a subnet id such as subnet-0abc1234")).min(1),
  securityGroups: z.array(pattern(p.SECURITY_GROUP, "a security group id such as sg-0abc1234")).min(1),
};

export const cattlePoolSchema = z.strictObject({
  ...poolBase,
  mode: z.literal("cattle"),
  ...ec2Fields,
});

export const petsNodeSchema = z.strictObject({
  /** The Kubernetes node name (kubeadm's default: the host name). */
  name: pattern(p.NODE_NAME, "a Kubernetes node name (lower-case letters, digits, - and .)"),
  /** Address kubeherd connects to over SSH. */
  host: pattern(p.HOST, "a host name or IP address"),
  /** The host's SSH public key, pinned: `ssh-ed25519 AAAA…` (from `ssh-keyscan -t ed25519 HOST`). */
  hostKey: pattern(p.HOST_KEY, "an SSH public key such as ssh-ed25519 AAAA..."),
  /** The host's zone (an availability zone or a rack), for `rollout.byZone`. Example: `eu-west-1a`. */
  zone: pattern(p.ZONE, "a zone name such as eu-west-1a (letters, digits, - . _)").optional(),
});

export const sshSchema = z.strictObject({
  /** @default "ubuntu"; commands run with `sudo -n` unless this is root */
  user: pattern(p.USER, "a Unix user name").default("ubuntu"),
  /** @default 22 */
  port: z.number().int().min(1).max(65535).default(22),
  /** Name of the secret config key that holds the private key.
   * @default "sshPrivateKey" (`pulumi config set --secret kubeherd:sshPrivateKey < id_ed25519`) */
  privateKeySecret: pattern(p.CONFIG_KEY, "a config key name").default("sshPrivateKey"),
  /** Give up on an unreachable host after this long. @default 60 */
  connectTimeoutSeconds: z.number().int().min(5).max(600).default(60),
  /** How a user other than root runs the converge script as root. `bash`: `sudo -n bash -c SCRIPT` (the user may
   * run anything as root). `converge`: `sudo -n /usr/local/sbin/kubeherd-converge` with the script on stdin, the
   * one command the fragment sudoers/kubeherd allows (install it and sudoers/kubeherd-converge once; README
   * "Least rights"). @default "bash" */
  sudo: z.enum(["bash", "converge"]).default("bash"),
});

export const petsPoolSchema = z.strictObject({
  ...poolBase,
  mode: z.literal("pets"),
  /** Existing hosts, in rollout order. Give either `nodes` or the EC2 fields (`size`, …), not both. */
  nodes: z.array(petsNodeSchema).min(1).optional(),
  size: ec2Fields.size.optional(),
  instanceType: ec2Fields.instanceType.optional(),
  subnets: ec2Fields.subnets.optional(),
  securityGroups: ec2Fields.securityGroups.optional(),
  ssh: sshSchema.optional(),
});

export const poolSchema = z.discriminatedUnion("mode", [cattlePoolSchema, petsPoolSchema]);

export const promotionSchema = z.strictObject({
  /** The stack this one promotes from; its rolled-out pins gate this stack's pins. Example: `dev`, or
   * `acme/kubeherd/dev` for a fully qualified name. */
  from: pattern(p.STACK_NAME, "a stack name such as dev or org/kubeherd/dev"),
  /** Emergency override: deploy pins the source stack has not completed. Must say who and why; the plan and the
   * stack outputs record it. Example: `"jdoe: CVE-2019-5736 hotfix, INC-1234"`. */
  override: z.string().min(10).max(200).regex(/^[A-Za-z0-9 .,:;_@()#/'-]+$/, { message: "must be a plain sentence (who and why)" }).optional(),
});

export const CONFIG_KEYS = ["cluster", "versions", "repositories", "os", "pools", "promotion"] as const;

export const configSchema = z.strictObject({
  cluster: clusterSchema,
  versions: versionsSchema,
  repositories: repositoriesSchema.prefault({}),
  os: osSchema.prefault({}),
  pools: z.array(poolSchema).min(1, { message: "must list at least one pool" }),
  promotion: promotionSchema.optional(),
});

export type KubeherdConfig = z.output<typeof configSchema>;
export type Cluster = KubeherdConfig["cluster"];
export type Versions = KubeherdConfig["versions"];
export type JourneyStagePins = Versions["journey"][number];
export type Repositories = KubeherdConfig["repositories"];
export type Os = KubeherdConfig["os"];
export type Pool = KubeherdConfig["pools"][number];
export type CattlePool = Extract<Pool, { mode: "cattle" }>;
export type PetsPool = Extract<Pool, { mode: "pets" }>;
export type PetsNode = z.output<typeof petsNodeSchema>;
export type Rollout = z.output<typeof rolloutSchema>;
export type RolloutWindow = z.output<typeof windowSchema>;
export type Weekday = (typeof WEEKDAYS)[number];
export type Promotion = z.output<typeof promotionSchema>;
export type Runtime = (typeof RUNTIMES)[number];
