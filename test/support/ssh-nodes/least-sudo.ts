/**
 * The pets side's least rights on a node root, as an administrator sets them (README "Least rights"): the fragment
 * sudoers/kubeherd replaces the image's NOPASSWD:ALL, and the runner sudoers/kubeherd-converge is installed
 * root-owned at its fixed path. The stack's pets pools then set `ssh.sudo: converge`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CONVERGE_RUNNER } from "../../../components/rollout/nodes";
import type { NodeRoot } from "../node-root/node-root";

const REPO = join(__dirname, "..", "..", "..");
export const SUDOERS_FRAGMENT = readFileSync(join(REPO, "sudoers", "kubeherd"), "utf8");
export const CONVERGE_RUNNER_SCRIPT = readFileSync(join(REPO, "sudoers", "kubeherd-converge"), "utf8");

/** Limits the root's `ubuntu` user to the converge runner under sudo. */
export async function limitSudo(root: NodeRoot): Promise<void> {
  root.remove("/etc/sudoers.d/90-cloud-init-users");
  root.write("/etc/sudoers.d/kubeherd", SUDOERS_FRAGMENT, 0o440);
  root.write(CONVERGE_RUNNER, CONVERGE_RUNNER_SCRIPT, 0o755);
  await root.shOrThrow(`chown root:root ${CONVERGE_RUNNER} /etc/sudoers.d/kubeherd && visudo -c -q`);
}
