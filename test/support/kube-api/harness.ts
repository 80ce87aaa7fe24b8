/**
 * One in-process API server per test, the real client built from its kubeconfig, the system clock and a log
 * that collects lines for assertions.
 */
import { afterEach } from "vitest";
import { clientFromKubeconfig } from "../../../components/kube/api-client";
import type { KubeClient } from "../../../components/kube/client";
import { systemClock } from "../../../components/kube/clock";
import { FakeApiServer } from "./fake-api-server";
import type { Timing } from "./fake-cluster";

export interface Harness {
  api: FakeApiServer;
  client: KubeClient;
  lines: string[];
  log: (line: string) => void;
}

const open: FakeApiServer[] = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((api) => api.close()));
});

export async function startApi(timing: Partial<Timing> = {}): Promise<Harness> {
  const api = await FakeApiServer.start(timing);
  open.push(api);
  const lines: string[] = [];
  return { api, client: clientFromKubeconfig(api.kubeconfig), lines, log: (line) => lines.push(line) };
}

export const clock = systemClock;

export const defaultPolicy = { deleteEmptyDirData: true, deleteUnmanagedPods: false };
