/**
 * The entry point of the stand-in provider plugins: `pulumi-resource-<name>` (a wrapper made by plugins.ts) runs
 * `tsx plugin.ts <name> <engine address>`. See server.ts for why they exist.
 */
import { commandProvider } from "./command";
import { kubernetesConfig, kubernetesProvider } from "./kubernetes";
import { randomProvider } from "./random";
import { serve, type StandInProvider } from "./server";
import { reveal, type PropertyMap } from "./values";
import { awsConfig, awsProvider } from "./aws";

const plainConfig = (args: PropertyMap) => reveal(args) as Record<string, unknown>;

const providers: Record<string, { make: (version: string) => StandInProvider; config: (args: PropertyMap) => Record<string, unknown> }> = {
  aws: { make: awsProvider, config: awsConfig },
  command: { make: commandProvider, config: plainConfig },
  kubernetes: { make: kubernetesProvider, config: kubernetesConfig },
  random: { make: randomProvider, config: plainConfig },
};

const [name, version] = [process.argv[2], process.env.KUBEHERD_STANDIN_VERSION ?? "0.0.0"];
const entry = providers[name];
if (!entry) {
  process.stderr.write(`no stand-in provider named ${name}\n`);
  process.exit(1);
}
serve(entry.make(version), entry.config).catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
