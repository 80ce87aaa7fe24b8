import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Tests only: the harness in test/support/ is never named *.test.ts, except the tests beside it (providers/).
    include: ["test/**/*.test.ts"],
    exclude: ["test/cluster/**", "node_modules/**"],
    // Installs the Debian tools the script tests need (as root) and builds their cached Debian root once.
    globalSetup: ["test/support/debian/debian-tools.ts"],
    // Guards against a hang, not timing assertions: a script test in a fresh Debian root runs real apt and dpkg.
    testTimeout: 120_000,
    hookTimeout: 600_000,
  },
});
