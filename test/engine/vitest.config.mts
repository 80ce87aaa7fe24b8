import { defineConfig } from "vitest/config";

/**
 * `npm run test:engine`: real `pulumi up`s against the Pulumi engine (not part of npm test). The global setup builds
 * the Pulumi CLI from the Go module proxy on first use (minutes; cached afterwards).
 */
export default defineConfig({
  test: {
    include: ["test/engine/**/*.engine.ts"],
    globalSetup: ["test/engine/global-setup.ts"],
    // Each scenario runs several real updates, each a CLI, a program process and a dynamic provider process.
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // Two cores: concurrent stacks would only slow each other down.
    fileParallelism: false,
  },
});
