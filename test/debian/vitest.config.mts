// Runs only the script tests in a Debian root, with their global setup (tools, cached root):
//   npx vitest run --config test/debian/vitest.config.mts
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/debian/**/*.test.ts"],
    globalSetup: ["test/support/debian/debian-tools.ts"],
    testTimeout: 60_000,
    hookTimeout: 600_000,
  },
});
