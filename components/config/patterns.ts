/**
 * Strict patterns for every config value that can reach a shell, a cloud-config file or an AWS API.
 * A value that passes one of these contains no shell metacharacter, no white space (except where a pattern says
 * so) and no quote; scripts still quote it with `shellQuote` (components/scripts/quote.ts).
 */

/**
 * An exact apt version with a patch number and a Debian revision: `1.13.3-00`, `1.30.2-1.1`,
 * `18.06.2~ce~3-0~ubuntu`, `5:27.3.1-1~ubuntu.24.04~noble`, `0.3.9.3-0.ubuntu-jammy`.
 * `latest`, `*`, `1.13` and `1.13.3` (no revision) do not match.
 */
export const PIN = /^(?:[0-9]{1,4}:)?[0-9]+\.[0-9]+\.[0-9]+[A-Za-z0-9.+~-]*-[A-Za-z0-9.+~]+$/;

/** A Kubernetes release as `kubeadm upgrade apply` takes it, without the `v`: `1.30.2`. */
export const KUBERNETES_VERSION = /^[0-9]+\.[0-9]+\.[0-9]+$/;

/** A pool name: it becomes part of resource names and node names. */
export const POOL_NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;

/** A Kubernetes node name (RFC 1123 subdomain, as kubeadm takes the host name). */
export const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** A host name or an IPv4 / IPv6 address. */
export const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|[0-9A-Fa-f:]{2,39})$/;

/** A control-plane endpoint as kubeadm join takes it: `host:port`. */
export const ENDPOINT = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:]{2,39}\]):[0-9]{1,5}$/;

/** A discovery token CA certificate hash as printed by `kubeadm token create --print-join-command`. */
export const CA_CERT_HASH = /^sha256:[0-9a-f]{64}$/;

/** A Unix user name. */
export const USER = /^[a-z_][a-z0-9_-]{0,31}$/;

/** An SSH public host key as in known_hosts, without the host column. */
export const HOST_KEY = /^(?:ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521) [A-Za-z0-9+/]+={0,3}$/;

/** A one-line apt source: `deb [options] URI suite [components]`. `{minor}` and `{codename}` are placeholders. */
export const APT_SOURCE = /^deb (?:\[[A-Za-z0-9=,._/:+ -]+\] )?[A-Za-z0-9]+:[A-Za-z0-9._~/:%+{}-]+(?: [A-Za-z0-9._/{}+-]+){1,8}$/;

/** A maintenance token: any short label; changing it runs the maintenance again. */
export const TOKEN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A config key name (without the `kubeherd:` namespace) that holds a secret. */
export const CONFIG_KEY = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** A stack of this project by its short name, as its file `Pulumi.<name>.yaml` is named: no path separator. */
export const STACK_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** A Pulumi stack name. */
export const STACK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}(?:\/[A-Za-z0-9._-]{1,100}){0,2}$/;

export const AMI = /^ami-[0-9a-f]{8,17}$/;
export const SUBNET = /^subnet-[0-9a-f]{8,17}$/;
export const SECURITY_GROUP = /^sg-[0-9a-f]{8,17}$/;
export const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;

/** A time of day, 24 h: `22:00`. */
export const CLOCK_TIME = /^(?:[01][0-9]|2[0-3]):[0-5][0-9]$/;

/** A percentage from 1% to 100%: `10%`. */
export const PERCENTAGE = /^(?:100|[1-9][0-9]?)%$/;

/** A zone name: an availability zone (`eu-west-1a`) or a rack label. */
export const ZONE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** An API group/version as objects carry it in `apiVersion`: `policy/v1beta1`, `v1` (the core group). */
export const GROUP_VERSION = /^(?:[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?\/)?v[0-9]+(?:(?:alpha|beta)[0-9]+)?$/;

/** An absolute directory on a node, for etcd snapshots: segments of letters, digits and . _ - that never start
 * with a dot (no `..`), no trailing slash, not `/` itself. It reaches a shell (quoted by shellQuote as well). */
export const SNAPSHOT_DIR = /^(?=.{2,200}$)(?:\/[A-Za-z0-9_-][A-Za-z0-9._-]*)+$/;

/** The name of one of kubeadm's preflight checks as `--ignore-preflight-errors` takes it: `CoreDNSMigration`,
 * `Port-6443`, `FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml`. It reaches a shell (quoted as well). */
export const PREFLIGHT_CHECK = /^[A-Za-z][A-Za-z0-9._-]{0,119}$/;

/** Where the first control-plane node saves its etcd snapshots unless `rollout.etcdSnapshot.dir` says otherwise. */
export const DEFAULT_SNAPSHOT_DIR = "/var/lib/kubeherd/etcd-snapshots";
