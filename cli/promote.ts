/**
 * `npm run promote -- --from dev --to prod [--dry-run] [--format text|json|markdown]`
 *
 * Copies the version pins (and the repository lines that follow them, see promotion/promote-versions.ts) from
 * Pulumi.FROM.yaml into Pulumi.TO.yaml, leaving every other byte of that file as it was, and prints the plan from
 * the old TO file to the promoted one. `--dry-run` prints the diff of the file and the plan, and writes nothing.
 * Offline like the plan command. Exit 2, naming the config key, when the promoted stack would be invalid.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { formatProblem } from "../components/config/problems";
import { readStackFile } from "../components/config/stackfile";
import { unifiedDiff } from "../components/promotion/file-diff";
import { promoteStackText } from "../components/promotion/promote-versions";
import { FORMATS, runPlan, type Format } from "./plan";
import { loadStack, stackFilePath } from "./stack";

export interface PromoteOptions {
  from: string;
  to: string;
  /** The project directory holding Pulumi.yaml and the stack files. */
  dir: string;
  dryRun: boolean;
  format: Format;
}

export interface PromoteResult {
  code: 0 | 2;
  stdout: string;
  stderr: string[];
  /** The config keys the promotion changes (written unless dry-run or refused). */
  changed: string[];
  written: boolean;
}

const refuse = (stderr: string[], changed: string[] = []): PromoteResult => ({ code: 2, stdout: "", stderr, changed, written: false });

/** Whether `promotion.from` (short or qualified) names the stack `from`. */
const namesStack = (declared: string, from: string) => declared === from || declared.endsWith(`/${from}`);

export function runPromote(opts: PromoteOptions): PromoteResult {
  if (opts.from === opts.to) return refuse([`--from and --to are both ${opts.from}: promote from one stack to another`]);
  const sourcePath = stackFilePath(opts.dir, opts.from);
  const targetPath = stackFilePath(opts.dir, opts.to);
  for (const path of [sourcePath, targetPath]) if (!existsSync(path)) return refuse([`${path}: no such stack file`]);

  // Only a valid source is worth copying: its pins were checked by its own plan and rolled out by its own up.
  const source = loadStack(sourcePath, opts.dir);
  const sourceErrors = source.problems.filter((p) => p.severity === "error");
  if (sourceErrors.length > 0) return refuse(sourceErrors.map((p) => `${formatProblem(p)} (in ${relative(opts.dir, sourcePath)})`));

  const notes: string[] = [];
  const declared = readStackFile(targetPath).values["kubeherd:promotion"] as { from?: unknown } | undefined;
  if (typeof declared?.from === "string" && !namesStack(declared.from, opts.from)) {
    return refuse([`kubeherd:promotion.from: ${opts.to} promotes from ${declared.from}, not ${opts.from}: its pulumi up would refuse these pins`]);
  }
  if (declared?.from === undefined) notes.push(`warning: kubeherd:promotion: ${opts.to} does not name a stack it promotes from, so no gate checks that ${opts.from} has rolled these pins out`);

  const before = readFileSync(targetPath, "utf8");
  let promoted: { text: string; changed: string[] };
  try {
    promoted = promoteStackText(readFileSync(sourcePath, "utf8"), before);
  } catch (e) {
    return refuse([`${relative(opts.dir, targetPath)}: ${(e as Error).message}`]);
  }
  const targetName = relative(process.cwd(), targetPath) || targetPath;
  if (promoted.changed.length === 0) {
    return { code: 0, stdout: `${targetName} already has ${opts.from}'s versions: nothing to promote`, stderr: notes, changed: [], written: false };
  }

  // Plan the promoted file from a scratch copy of the project, so a refused promotion never touches the real one.
  const scratch = mkdtempSync(join(tmpdir(), "kubeherd-promote-"));
  let plan: ReturnType<typeof runPlan>;
  try {
    if (existsSync(join(opts.dir, "Pulumi.yaml"))) copyFileSync(join(opts.dir, "Pulumi.yaml"), join(scratch, "Pulumi.yaml"));
    writeFileSync(stackFilePath(scratch, opts.to), promoted.text);
    plan = runPlan({ stack: opts.to, base: targetName, format: opts.format, dir: scratch });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  if (plan.code !== 0) {
    return refuse([...plan.stderr, `promotion refused: the promoted ${targetName} would be invalid; nothing written`], promoted.changed);
  }

  const summary = `${opts.dryRun ? "Would promote" : "Promoted"} ${opts.from} -> ${opts.to}: ${promoted.changed.join(", ")}`;
  const preface = opts.dryRun ? [summary, "", unifiedDiff(before, promoted.text, { from: targetName, to: `${targetName} (promoted)` }), ""] : [summary, ""];
  if (!opts.dryRun) writeFileSync(targetPath, promoted.text);
  const next = `Next: open a pull request with ${targetName}; pulumi preview on ${opts.to} refuses any pin ${opts.from} has not rolled out.`;
  // JSON output stays machine-readable: the human lines go to stderr.
  if (opts.format === "json") return { code: 0, stdout: plan.stdout, stderr: [...notes, ...plan.stderr, ...preface, next], changed: promoted.changed, written: !opts.dryRun };
  return { code: 0, stdout: [...preface, plan.stdout, "", next].join("\n"), stderr: [...notes, ...plan.stderr], changed: promoted.changed, written: !opts.dryRun };
}

const USAGE = "usage: npm run promote -- --from STACK --to STACK [--dry-run] [--format text|json|markdown]";

export function main(argv: string[]): number {
  let values: { from?: string; to?: string; "dry-run"?: boolean; format?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { from: { type: "string" }, to: { type: "string" }, "dry-run": { type: "boolean", default: false }, format: { type: "string", default: "text" } },
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!values.from || !values.to) {
    console.error(`--from and --to are required\n${USAGE}`);
    return 2;
  }
  if (!FORMATS.includes(values.format as Format)) {
    console.error(`--format must be one of ${FORMATS.join(", ")}\n${USAGE}`);
    return 2;
  }
  const result = runPromote({ from: values.from, to: values.to, dir: process.cwd(), dryRun: values["dry-run"] === true, format: values.format as Format });
  for (const line of result.stderr) console.error(line);
  if (result.stdout) console.log(result.stdout);
  return result.code;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
