/**
 * `npx tsx test/support/control-plane/serve.ts`: starts the e2e control plane with two KWOK workers and keeps it up until
 * Ctrl-C, printing its kubeconfig path: for `npm run test:cluster`, kubectl, or a look around. Everything stops
 * and is removed on Ctrl-C (or SIGTERM).
 */
import { startControlPlane } from "./control-plane";
import { registerKwokNode } from "./kwok-nodes";

const WORKERS = ["kwok-worker-1", "kwok-worker-2"];

async function main() {
  const cp = await startControlPlane({ log: (line) => process.stderr.write(`${line}\n`) });
  for (const name of WORKERS) await registerKwokNode(cp.kubeconfig, { name, kubeletVersion: cp.tools.kubernetesVersion });
  process.stdout.write(
    [
      `control plane up: ${cp.server}, nodes ${WORKERS.join(", ")} Ready`,
      `  export KUBECONFIG=${cp.kubeconfigPath}`,
      `  kubectl: ${cp.tools.kubectl}`,
      `  KUBECONFIG=${cp.kubeconfigPath} npm run test:cluster`,
      "Ctrl-C stops it and removes everything.",
      "",
    ].join("\n"),
  );
  // Until a signal ends the process (processes.ts then stops the control plane and removes its directory).
  setInterval(() => undefined, 60_000);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
