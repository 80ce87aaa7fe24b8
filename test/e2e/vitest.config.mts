import { defineConfig } from "vitest/config";

/**
 * `npm run test:e2e`: a real control plane (kube-apiserver, controller-manager, scheduler, etcd) with KWOK nodes,
 * real SSH nodes and real `pulumi up`s (not part of npm test). The global setup builds the toolchain from the Go
 * module proxy on first use (about 20 minutes cold; cached afterwards, see README "Testing").
 */
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.e2e.ts"],
    globalSetup: ["test/e2e/global-setup.ts"],
    // A control plane starts in 10-30 s on two busy cores; a scenario runs several real updates.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // Two cores: two control planes at once would only slow each other down.
    fileParallelism: false,
  },
});
