/**
 * An OCI image made here, as an image layout archive that `ctr -n k8s.io images import` takes: one uncompressed
 * layer holding the given files (plus /etc/passwd, /etc/group and a /tmp, as distroless images have), a config for
 * linux/amd64, a manifest, and an index naming the image (`io.containerd.image.name`). No registry is reachable here,
 * so every image a node runs is made this way from a binary built on this machine.
 */
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { runOrThrow } from "../node-root/process";

export interface ImageFile {
  /** Host path of the file to put in the image. */
  from: string;
  /** Absolute path inside the image. */
  to: string;
  mode?: number;
}

export interface ImageSpec {
  /** The full name kubeadm or a pod asks for: `kubeherd.test/kube-apiserver:v1.34.2`. */
  name: string;
  files: readonly ImageFile[];
  entrypoint?: readonly string[];
  cmd?: readonly string[];
}

const IMAGE_NAME = /^[a-z0-9.-]+(\/[a-z0-9._-]+)+:[A-Za-z0-9._-]+$/;
const ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** The blob's descriptor, after writing it under blobs/sha256. */
function putBlob(layout: string, mediaType: string, data: Buffer, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const digest = sha256(data);
  writeFileSync(join(layout, "blobs", "sha256", digest), data);
  return { mediaType, digest: `sha256:${digest}`, size: data.length, ...extra };
}

/** The image config and manifest of one layer (the layer's digest is also its diff id: it is not compressed). */
export function imageDocuments(spec: ImageSpec, layerDigest: string, layerSize: number): { config: object; manifest: (configDescriptor: object) => object } {
  const config = {
    architecture: "amd64",
    os: "linux",
    config: { Env: ENV, ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}), ...(spec.cmd ? { Cmd: spec.cmd } : {}), WorkingDir: "/" },
    rootfs: { type: "layers", diff_ids: [`sha256:${layerDigest}`] },
    history: [{ created_by: "kubeherd test/support/real-nodes/oci-image.ts" }],
  };
  return {
    config,
    manifest: (configDescriptor) => ({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: configDescriptor,
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: `sha256:${layerDigest}`, size: layerSize }],
    }),
  };
}

/** Writes the image's layout archive to `out` (whole: a reader never sees half of it). */
export async function writeImageArchive(spec: ImageSpec, out: string): Promise<void> {
  if (!IMAGE_NAME.test(spec.name)) throw new Error(`image name ${JSON.stringify(spec.name)}: expected host/path:tag`);
  const work = mkdtempSync(join(tmpdir(), "kubeherd-image-"));
  try {
    const fs = join(work, "fs");
    mkdirSync(join(fs, "tmp"), { recursive: true });
    chmodSync(join(fs, "tmp"), 0o1777);
    mkdirSync(join(fs, "etc"), { recursive: true });
    writeFileSync(join(fs, "etc", "passwd"), "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n");
    writeFileSync(join(fs, "etc", "group"), "root:x:0:\nnogroup:x:65534:\n");
    for (const f of spec.files) {
      const to = join(fs, f.to);
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(f.from, to);
      chmodSync(to, f.mode ?? (statSync(f.from).mode & 0o777));
    }
    const layerTar = join(work, "layer.tar");
    await runOrThrow("tar", ["--numeric-owner", "--owner=0", "--group=0", "--mtime=@0", "--sort=name", "-C", fs, "-cf", layerTar, "."]);
    const layout = join(work, "layout");
    mkdirSync(join(layout, "blobs", "sha256"), { recursive: true });
    const layer = readFileSync(layerTar);
    const layerDigest = sha256(layer);
    writeFileSync(join(layout, "blobs", "sha256", layerDigest), layer);
    const docs = imageDocuments(spec, layerDigest, layer.length);
    const configDesc = putBlob(layout, "application/vnd.oci.image.config.v1+json", Buffer.from(JSON.stringify(docs.config)));
    const manifestDesc = putBlob(layout, "application/vnd.oci.image.manifest.v1+json", Buffer.from(JSON.stringify(docs.manifest(configDesc))), {
      platform: { architecture: "amd64", os: "linux" },
      annotations: { "io.containerd.image.name": spec.name, "org.opencontainers.image.ref.name": spec.name.split(":").pop() },
    });
    writeFileSync(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    writeFileSync(join(layout, "index.json"), JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [manifestDesc] }));
    const partial = `${out}.${process.pid}.partial`;
    mkdirSync(dirname(out), { recursive: true });
    await runOrThrow("tar", ["--numeric-owner", "--owner=0", "--group=0", "-C", layout, "-cf", partial, "oci-layout", "index.json", "blobs"]);
    renameSync(partial, out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
