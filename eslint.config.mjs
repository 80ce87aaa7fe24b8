// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "bin/**", ".cache/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
      eqeqeq: ["error", "always"],
    },
  },
  {
    // Pure core, thin shell: Pulumi is imported by the components (components/*.ts, components/stack/) and the
    // program (index.ts) alone; the CLI runs offline and the pure folders are tested without it.
    files: [
      "cli/**/*.ts",
      "components/config/**/*.ts",
      "components/disruption/**/*.ts",
      "components/kube/**/*.ts",
      "components/promotion/**/*.ts",
      "components/rollout/**/*.ts",
      "components/scripts/**/*.ts",
      "components/versions/**/*.ts",
      "components/join-token-window.ts",
    ],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["@pulumi/*"], message: "Pulumi belongs to the components and the program (index.ts): keep this folder pure." }] }],
    },
  },
);
