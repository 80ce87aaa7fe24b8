/**
 * Pets: the one script that converges a long-lived node to its pins, run as root with bash over SSH
 * (DESIGN.md "Rollout semantics", issue 4). The planner puts it verbatim in the plan and the remote command.
 */
import { type KubeherdConfig } from "../config/schema";
import { aptSources } from "../versions/repositories";
import { APT_FUNCTIONS, downgradeLines, preflightLines, repositoryLines } from "./apt";
import { KUBEADM_FUNCTIONS, kubeadmLines, kubeletLines, type EtcdSnapshotSettings } from "./kubeadm";
import {
  MAINTENANCE_FUNCTIONS,
  RELEASE_CHECK_FUNCTIONS,
  releaseCheckLines,
  releaseUpgradeLines,
  systemUpgradeLines,
} from "./maintenance";
import { nodePins } from "../versions/pins";
import { assembleScript, shellFunctions } from "./assemble";
import { PRELUDE_FUNCTIONS, prelude, section } from "./prelude";
import { shellQuote } from "./quote";
import { RUNTIME_FUNCTIONS, runtimeLines } from "./runtime";

export interface ConvergeTarget {
  config: Pick<KubeherdConfig, "versions" | "repositories" | "os">;
  role: "control-plane" | "worker";
  /** "apply" only on the first control-plane node of the cluster. */
  kubeadm: "apply" | "node";
  /** Kubernetes node name (for messages). */
  nodeName: string;
  /** The control-plane pool's `rollout.etcdSnapshot`, for the node that runs `kubeadm upgrade apply`. @default the schema's */
  etcdSnapshot?: EtcdSnapshotSettings;
  /** The control-plane pool's `rollout.ignorePreflightErrors`, for the node that runs `kubeadm upgrade apply`. @default none */
  ignorePreflightErrors?: readonly string[];
}

export function convergeScript(t: ConvergeTarget): string {
  const { versions, os } = t.config;
  const sources = aptSources(t.config);
  const pins = nodePins(versions);
  const head = prelude({
      title: `kubeherd converge: node ${t.nodeName} (${t.role}), Kubernetes v${versions.kubernetes}, Ubuntu ${os.release}`,
      nodeWord: shellQuote(t.nodeName),
      pins,
      sourceFiles: sources.map((s) => s.file),
  });
  const library = shellFunctions(PRELUDE_FUNCTIONS, APT_FUNCTIONS, RUNTIME_FUNCTIONS, KUBEADM_FUNCTIONS, RELEASE_CHECK_FUNCTIONS, MAINTENANCE_FUNCTIONS);
  return assembleScript(head, library, [
    section(
      "0. Ubuntu release",
      "Read before anything is touched: refuses another OS, a downgrade, or skipping an LTS.",
      releaseCheckLines(os),
    ),
    section(
      "1. Repositories",
      "Lines for the target config: on a Kubernetes minor change the line switches here, before any install;\n" +
        "on a release upgrade the docker line already names the target release.",
      repositoryLines(sources),
    ),
    section(
      "2. Preflight",
      "Every pin must exist before any hold is released; else the old sources are put back and the script stops.\n" +
        "On a release upgrade this is also the check that the pins have packages for the target release.\n" +
        "A pin below the installed version is refused unless versions.allowUnsupportedTransition allows downgrades.",
      [...preflightLines(), ...downgradeLines(versions.allowUnsupportedTransition ? pins.map((p) => p.package) : [])],
    ),
    section(
      "3. Release upgrade",
      "Before the pins: the target release's pins (docker-ce is built per release) install on the upgraded system.\n" +
        "The reboot it needs is the last thing the script does.",
      releaseUpgradeLines(os),
    ),
    section("4. Runtime", "One apt call for the runtime group; a runtime restarts only when its version changed.", runtimeLines(versions)),
    section("5. kubeadm", "kubeadm first, then its upgrade step, before the kubelet moves (FACTS.md §3)." + (t.kubeadm === "apply" ? "\nBefore kubeadm upgrade apply the control plane must be healthy, and stacked etcd is snapshotted (rollout.etcdSnapshot)." : ""), kubeadmLines(versions, t.role, t.kubeadm, t.etcdSnapshot, t.ignorePreflightErrors)),
    section(
      "6. kubelet and kubectl",
      "daemon-reload and a kubelet restart only when the kubelet changed.",
      [...kubeletLines(versions), 'ensure_held "${pinned_packages[@]}"'],
    ),
    section("7. System upgrade", "Once per os.systemUpgrade token, with every pin held.", systemUpgradeLines(os)),
    section("8. Summary", "One line saying what changed; a pending reboot is the very last thing.", [
      "summary",
      "reboot_if_pending",
      "exit 0",
    ]),
  ]);
}
