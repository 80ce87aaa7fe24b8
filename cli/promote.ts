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
import { formatProblem } from "../components/config/problems";
import { readStackFile, StackFileError } from "../components/config/stackfile";
import { unifiedDiff } from "../components/promotion/file-diff";
import { nextStage } from "../components/promotion/next-stage";
import { promoteStackText } from "../components/promotion/promote-versions";
import { parseCommand, type CommandSpec } from "./args";
import { FORMATS, type Format } from "./format";
import { runPlan } from "./offline-plan";
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
  const source = loadStack(sourcePath, opts.dir, "skip");
  const sourceErrors = source.problems.filter((p) => p.severity === "error");
  // A problem of the file itself is already keyed by its path; a config problem is told where it is.
  if (sourceErrors.length > 0) return refuse(sourceErrors.map((p) => (p.key === sourcePath ? formatProblem(p) : `${formatProblem(p)} (in ${relative(opts.dir, sourcePath)})`)));

  const notes: string[] = [];
  let declared: { from?: unknown } | undefined;
  try {
    declared = readStackFile(targetPath).values["kubeherd:promotion"] as { from?: unknown } | undefined;
  } catch (e) {
    if (!(e instanceof StackFileError)) throw e;
    return refuse([`${relative(opts.dir, e.path) || e.path}: ${e.reason}`]);
  }
  if (typeof declared?.from === "string" && !namesStack(declared.from, opts.from)) {
    return refuse([`kubeherd:promotion.from: ${opts.to} promotes from ${declared.from}, not ${opts.from}: its pulumi up would refuse these pins`]);
  }
  if (declared?.from === undefined) notes.push(`warning: kubeherd:promotion: ${opts.to} does not name a stack it promotes from, so no gate checks that ${opts.from} has rolled these pins out`);

  const before = readFileSync(targetPath, "utf8");
  // Two or more minors behind: the next stage of the source's journey, not the whole bump (promotion/next-stage.ts).
  const targetVersions = readStackFile(targetPath).values["kubeherd:versions"] as { kubernetes?: unknown } | undefined;
  const stage = source.config ? nextStage(source.config.versions, typeof targetVersions?.kubernetes === "string" ? targetVersions.kubernetes : undefined) : { kind: "whole" as const };
  if (stage.kind === "refused") return refuse([stage.message, `promotion refused: ${opts.to} cannot skip a minor; nothing written`]);
  const stagePins: Record<string, string> = stage.kind === "stage" ? { kubernetes: stage.pins.kubernetes, kubeadm: stage.pins.kubeadm, kubelet: stage.pins.kubelet, kubectl: stage.pins.kubectl } : {};
  if (stage.kind === "stage") {
    notes.push(`${opts.to} is ${stage.path.length - 1} minors behind ${opts.from} (${stage.path.join(" → ")}): promoting the next stage, ${stage.minor} (${stage.pins.kubernetes}); promote again after ${opts.to}'s pulumi up for the next`);
  }
  let promoted: { text: string; changed: string[] };
  try {
    promoted = promoteStackText(readFileSync(sourcePath, "utf8"), before, stagePins);
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
    // Promote writes a file: unset secrets are the plan's and pulumi up's business, not a line here.
    plan = runPlan({ stack: opts.to, base: targetName, format: opts.format, dir: scratch, secrets: "skip" });
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

export const PROMOTE_COMMAND: CommandSpec = {
  command: "npm run promote",
  summary: "Copies the version pins from Pulumi.FROM.yaml into Pulumi.TO.yaml and prints the plan of the change. Offline.",
  options: {
    from: { type: "string", value: "STACK", required: true, stack: true, help: "the stack that has rolled the pins out" },
    to: { type: "string", value: "STACK", required: true, stack: true, help: "the stack whose file gets them" },
    "dry-run": { type: "boolean", default: false, help: "print the file's diff and the plan, write nothing" },
    format: { type: "string", choices: FORMATS, default: "text", help: "the plan's format, as npm run plan prints it" },
  },
};

export function main(argv: string[]): number {
  const parsed = parseCommand(PROMOTE_COMMAND, argv);
  if ("exit" in parsed) return parsed.exit;
  const values = parsed.values as { from: string; to: string; "dry-run": boolean; format: Format };
  const result = runPromote({ from: values.from, to: values.to, dir: process.cwd(), dryRun: values["dry-run"], format: values.format });
  for (const line of result.stderr) console.error(line);
  if (result.stdout) console.log(result.stdout);
  return result.code;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
