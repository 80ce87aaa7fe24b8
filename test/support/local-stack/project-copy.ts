/**
 * A throwaway copy of kubeherd's program (index.ts and components/, with this checkout's node_modules linked in),
 * with one file edited: what mutation.engine.ts deploys to show the engine suite sees a change to the components.
 * Nothing of the product changes: the copy lives in a temporary directory and is removed with `remove()`.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(__dirname, "../../..");

export interface ProjectCopy {
  dir: string;
  remove(): void;
}

/**
 * Copies the program and replaces every `from` in `file` (relative to the project root) with `to`; throws unless
 * exactly `count` were found, so an edit that no longer applies fails loudly instead of deploying the original.
 */
export function projectCopyWith(file: string, from: string, to: string, count: number): ProjectCopy {
  const dir = mkdtempSync(join(tmpdir(), "kubeherd-mutant-"));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    for (const entry of ["index.ts", "components", "package.json", "tsconfig.json"]) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
    const path = join(dir, file);
    const text = readFileSync(path, "utf8");
    const found = text.split(from).length - 1;
    if (found !== count) throw new Error(`${file}: expected ${count} of ${JSON.stringify(from)}, found ${found}`);
    writeFileSync(path, text.split(from).join(to));
    return { dir, remove };
  } catch (err) {
    remove();
    throw err;
  }
}
