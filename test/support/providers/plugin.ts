/**
 * The entry point of the stand-in provider plugins: `pulumi-resource-<name>` (a wrapper made by plugins.ts) runs
 * `tsx plugin.ts <name> <engine address>`. See server.ts for why they exist.
 */
import { serve, type StandInProvider } from "./server";
import { reveal, type PropertyMap } from "./values";

const plainConfig = (args: PropertyMap) => reveal(args) as Record<string, unknown>;

interface Entry {
  make: (version: string) => StandInProvider;
  config: (args: PropertyMap) => Record<string, unknown>;
}

// Loaded on demand: a plugin process loads its own provider only (the kubernetes one's client takes seconds to load).
const providers: Record<string, () => Promise<Entry>> = {
  aws: async () => {
    const { awsConfig, awsProvider } = await import("./aws");
    return { make: awsProvider, config: awsConfig };
  },
  command: async () => ({ make: (await import("./command")).commandProvider, config: plainConfig }),
  kubernetes: async () => {
    const { kubernetesConfig, kubernetesProvider } = await import("./kubernetes");
    return { make: kubernetesProvider, config: kubernetesConfig };
  },
  random: async () => ({ make: (await import("./random")).randomProvider, config: plainConfig }),
};

const [name, version] = [process.argv[2], process.env.KUBEHERD_STANDIN_VERSION ?? "0.0.0"];
const load = providers[name];
if (!load) {
  process.stderr.write(`no stand-in provider named ${name}\n`);
  process.exit(1);
}
load().then((entry) => serve(entry.make(version), entry.config)).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
