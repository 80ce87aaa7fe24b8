import { basename } from "node:path";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The order the files start in, two at a time: the longest first (warm minutes in CI: interrupted 7.7, failures 3.3,
 * journey 2.2, real-minor 5.4, real-pets 4.9, real-cattle 3.8, real-upgrade 2.8, ...), so the two workers end close
 * together. The three longest files that need no real node go first: on a cold cache the real nodes' programs,
 * packages and images are still building beside them (.ci/run), and a real-node file waits for what it needs.
 * A file not listed runs after these.
 */
const ORDER = [
  "interrupted.e2e.ts",
  "failures.e2e.ts",
  "journey.e2e.ts",
  "real-minor.e2e.ts",
  "real-pets.e2e.ts",
  "real-cattle.e2e.ts",
  "real-upgrade.e2e.ts",
  "cattle.e2e.ts",
  "live-preview.e2e.ts",
  "control-plane.e2e.ts",
  "article-bump.e2e.ts",
  "real-cluster.e2e.ts",
  "cri-dockerd.e2e.ts",
];

class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = ORDER.indexOf(basename(f.moduleId));
      return i < 0 ? ORDER.length : i;
    };
    return [...files].sort((a, b) => rank(a) - rank(b));
  }
}

/**
 * `npm run test:e2e`: a real control plane (kube-apiserver, controller-manager, scheduler, etcd) with KWOK nodes,
 * real SSH nodes, real kubeadm nodes and real `pulumi up`s (not part of npm test). The global setup builds the
 * control plane's toolchain from the Go module proxy on first use (about 20 minutes cold; cached afterwards, see
 * README "Testing"); a real-node file builds what it needs of the real nodes' toolchain, or waits for the build
 * that holds its lock.
 */
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.e2e.ts"],
    globalSetup: ["test/e2e/global-setup.ts"],
    // A control plane starts in 10-30 s on two busy cores; a scenario runs several real updates.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // Two files at a time, each in its own process: a file spends most of its time waiting on its control plane,
    // its nodes and the engine (about 0.6-0.8 of a core each, measured), so two fill the machine's two cores. Each
    // file's servers, ports, node addresses and real-cluster subnets are its own (claimed, not guessed).
    fileParallelism: true,
    maxWorkers: 2,
    sequence: { sequencer: LongestFirst },
  },
});
