/**
 * Cattle: the boot script of a launch template and the cloud-config that runs it (issue 3). A new instance
 * installs exactly the pins, holds them, configures the runtime, and joins with a bootstrap token it reads from
 * SSM Parameter Store with its instance role. No secret is in the user data: it is readable by anyone who can
 * describe the instance.
 */
import { gzipSync } from "node:zlib";
import { stringify } from "yaml";
import { type KubeherdConfig } from "../config/schema";
import { aptSources } from "../versions/repositories";
import { APT_FUNCTIONS, installLines, preflightLines, repositoryLines } from "./apt";
import { assembleScript, shellFunctions } from "./assemble";
import { KUBEADM_FUNCTIONS } from "./kubeadm";
import { RELEASE_CHECK_FUNCTIONS } from "./maintenance";
import { kubeadmPin, kubeletPins, nodePins } from "../versions/pins";
import { criSocket } from "./runtime";
import { PRELUDE_FUNCTIONS, prelude, section } from "./prelude";
import { shellCall, shellSource } from "./quote";
import { RUNTIME_FUNCTIONS, runtimeLines } from "./runtime";
import { SSM_CLIENT_PY } from "./ssm-client";

export interface BootTarget {
  config: Pick<KubeherdConfig, "versions" | "repositories" | "os" | "cluster">;
  /** Cattle pools are worker pools (the control plane must be pets for now). */
  role: "worker";
  pool: string;
  /** SSM parameter name holding the bootstrap token, e.g. `/kubeherd/dev/workers/join`. */
  joinParameter: string;
  /** AWS region for the SSM call, e.g. `eu-west-1`. */
  region: string;
}

/** Where the user data writes the boot script. */
export const BOOT_SCRIPT_PATH = "/usr/local/sbin/kubeherd-boot";

const JOIN_FUNCTIONS = shellSource`
# The token goes from SSM into a variable and on to kubeadm: never printed, never written to disk.
join_cluster() {
  local endpoint="$1" ca_hash="$2" region="$3" parameter="$4" token
  if joined; then
    say "already joined (/etc/kubernetes/kubelet.conf exists)"
    return 0
  fi
  say "reading the join token from SSM parameter $parameter"
  token="$(python3 -c "$ssm_client" "$region" "$parameter")"
  if [[ ! $token =~ ^[a-z0-9]{6}\.[a-z0-9]{16}$ ]]; then
    die "SSM parameter $parameter does not hold a bootstrap token (value not shown)"
  fi
  local args=(join "$endpoint" --token "$token" --discovery-token-ca-cert-hash "$ca_hash")
  if (($# > 4)); then args+=(--cri-socket "$5"); fi
  say "kubeadm join $endpoint"
  kubeadm "\${args[@]}"
  changed+=("joined $endpoint")
}`;

/** The python program as a bash variable, from a quoted here-document (nothing in it is expanded). */
function ssmClientLines(): string[] {
  const delimiter = "KUBEHERD_SSM_CLIENT";
  if (SSM_CLIENT_PY.split("\n").includes(delimiter)) throw new Error("the SSM client contains its here-document delimiter");
  return [`ssm_client="$(cat <<'${delimiter}'`, SSM_CLIENT_PY.replace(/\n$/, ""), delimiter, ')"'];
}

/** The shell the user data runs, as root, once on the instance's first boot. */
export function bootScript(t: BootTarget): string {
  const { versions, os, cluster } = t.config;
  const sources = aptSources(t.config);
  const socket = criSocket(versions);
  const head = prelude({
    title: `kubeherd boot: a ${t.role} of pool ${t.pool}, Kubernetes v${versions.kubernetes}, Ubuntu ${os.release}`,
    nodeWord: '"$(hostname)"',
    pins: nodePins(versions),
  });
  const library = shellFunctions(PRELUDE_FUNCTIONS, APT_FUNCTIONS, RUNTIME_FUNCTIONS, KUBEADM_FUNCTIONS, RELEASE_CHECK_FUNCTIONS, JOIN_FUNCTIONS);
  return assembleScript(head, library, [
    section("0. Ubuntu release", "A new instance must already run os.release: cattle nodes are replaced, not upgraded.", [
      shellCall("require_release", os.release),
    ]),
    section("1. Repositories", "The lines and keys of kubeherd:repositories for these pins.", repositoryLines(sources)),
    section("2. Preflight", "Every pin must exist before anything is installed.", preflightLines()),
    section("3. Runtime", "The runtime group, held, with the systemd cgroup driver.", runtimeLines(versions)),
    section("4. kubeadm, kubelet, kubectl", "Held at their pins; kubeadm join starts the kubelet.", [
      ...installLines([kubeadmPin(versions), ...kubeletPins(versions)]),
      shellCall("clear_changed", "kubeadm", "kubelet", "kubectl"),
      'ensure_held "${pinned_packages[@]}"',
    ]),
    section(
      "5. Join",
      "The bootstrap token is a SecureString in SSM that only this pool's instance role may read.",
      [
        ...ssmClientLines(),
        shellCall(
          "join_cluster",
          cluster.endpoint,
          cluster.caCertHash,
          t.region,
          t.joinParameter,
          ...(socket ? [socket] : []),
        ),
      ],
    ),
    section("6. Summary", "One line saying what this boot did.", ["summary", "exit 0"]),
  ]);
}

/** `#cloud-config` for the launch template: writes the boot script (nothing secret) and runs it once. */
export function cattleUserData(t: BootTarget): string {
  const config = {
    write_files: [{ path: BOOT_SCRIPT_PATH, owner: "root:root", permissions: "0700", content: bootScript(t) }],
    runcmd: [["bash", BOOT_SCRIPT_PATH]],
  };
  return `#cloud-config\n${stringify(config, { lineWidth: 0, blockQuote: "literal", indentSeq: false })}`;
}

/** EC2 takes at most 16 KB of user data before base64. */
export const USER_DATA_LIMIT = 16 * 1024;

/**
 * The launch template's `userData` field: base64 of the gzip of the cloud-config (cloud-init unpacks gzip user
 * data itself). The plan shows the readable text; this is the same bytes, packed to stay far below EC2's limit.
 * Deterministic: Node's gzip header carries no time stamp.
 */
export function encodeUserData(userData: string): string {
  const packed = gzipSync(Buffer.from(userData, "utf8"), { level: 9 });
  if (packed.length > USER_DATA_LIMIT) throw new Error(`user data is ${packed.length} bytes packed, over EC2's ${USER_DATA_LIMIT}`);
  return packed.toString("base64");
}
