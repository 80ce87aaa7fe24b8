/**
 * What `npm run promote` copies from one stack file to the other, as a pure text transformation.
 *
 * Copied: every entry of `kubeherd:versions` (pins, `kubernetes`, `runtime`), and the two repository lines whose
 * content follows the versions: `kubeherd:repositories.kubernetes` (a mirror line names a minor or the legacy
 * repository) and `kubeherd:repositories.cri-dockerd` (needed exactly when cri-dockerd is pinned). The target
 * ends up with exactly the source's entries for those keys, added, changed or removed.
 *
 * Not copied: `versions.allowUnsupportedTransition` (an emergency override belongs to the stack that needs it),
 * `repositories.docker` (follows the Ubuntu release, not the pins), and `kubeherd:os` (release upgrades and system
 * upgrades are maintenance each stack schedules; a release upgrade also needs that stack's own AMI). The promotion
 * gate still refuses an `os.release` the source stack has not rolled out.
 */
import { parse } from "yaml";
import { editStackFile, readEntries, type MirrorEdit } from "./stackfile-edit";

/** `journey` is each stack's own path from what it runs (a promotion proposes one stage at a time: next-stage.ts). */
export const STACK_LOCAL_VERSION_KEYS = ["allowUnsupportedTransition", "journey"] as const;
export const PROMOTED_REPOSITORY_KEYS = ["kubernetes", "cri-dockerd"] as const;

export interface PromotedFile {
  /** The target file's new text. */
  text: string;
  /** The config keys whose value changed, as `kubeherd:versions.kubelet`. */
  changed: string[];
}

type ConfigMap = Record<string, unknown>;

function configOf(text: string): ConfigMap {
  const doc = parse(text) as { config?: ConfigMap } | null;
  return doc?.config ?? {};
}

const entriesOf = (config: ConfigMap, key: string): Record<string, unknown> => {
  const v = config[key];
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
};

/** Whether `config.<key>.<entry>` is copied by a promotion. */
function isPromoted(key: string, entry: string): boolean {
  if (key === "kubeherd:versions") return !(STACK_LOCAL_VERSION_KEYS as readonly string[]).includes(entry);
  if (key === "kubeherd:repositories") return (PROMOTED_REPOSITORY_KEYS as readonly string[]).includes(entry);
  return false;
}

const part = (config: ConfigMap, key: string, promoted: boolean): Record<string, unknown> =>
  Object.fromEntries(Object.entries(entriesOf(config, key)).filter(([k]) => isPromoted(key, k) === promoted).sort(([a], [b]) => a.localeCompare(b)));

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const EDITED = ["kubeherd:versions", "kubeherd:repositories"];

/**
 * `stage`: version entries written in place of the source's (the next stage of its journey, next-stage.ts); the
 * rest of `kubeherd:versions` is the source's.
 */
export function promoteStackText(sourceText: string, targetText: string, stage: Record<string, string> = {}): PromotedFile {
  const staged = { ...readEntries(sourceText, "kubeherd:versions"), ...Object.fromEntries(Object.entries(stage).map(([k, value]) => [k, { value }])) };
  const edits: MirrorEdit[] = [
    { key: "kubeherd:versions", entries: staged, keep: STACK_LOCAL_VERSION_KEYS },
    { key: "kubeherd:repositories", entries: readEntries(sourceText, "kubeherd:repositories"), only: PROMOTED_REPOSITORY_KEYS },
  ];
  const text = editStackFile(targetText, edits);

  // The splices are checked against the intent: a file the edit would get wrong is refused, never written.
  const [source, before, after] = [sourceText, targetText, text].map(configOf);
  source["kubeherd:versions"] = { ...entriesOf(source, "kubeherd:versions"), ...stage };
  const changed: string[] = [];
  for (const key of EDITED) {
    const had = part(before, key, true);
    const got = part(after, key, true);
    if (!same(part(source, key, true), got)) throw new Error(`could not copy ${key} into the target file in place: edit it by hand`);
    // Reported in the order of the file the reviewer reads.
    for (const k of new Set([...Object.keys(entriesOf(after, key)), ...Object.keys(entriesOf(before, key))])) {
      if (isPromoted(key, k) && !same(had[k], got[k])) changed.push(`${key}.${k}`);
    }
  }
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const untouched = (c: ConfigMap) => (EDITED.includes(key) ? part(c, key, false) : c[key]);
    if (!same(untouched(before), untouched(after))) throw new Error(`promotion would change ${key}, which it must leave alone: edit it by hand`);
  }
  return { text, changed };
}
