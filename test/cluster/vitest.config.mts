import { defineConfig } from "vitest/config";

/** `npm run test:cluster`: the node operations against the real cluster named by KUBECONFIG (not part of npm test). */
export default defineConfig({
  test: {
    include: ["test/cluster/**/*.test.ts"],
    testTimeout: 900_000,
    hookTimeout: 600_000,
    fileParallelism: false,
  },
});
