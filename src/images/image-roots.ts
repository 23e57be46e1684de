import { join } from 'node:path';

/** Where the image side keeps its files, below the daemon's data root. */
export class ImageRoots {
  readonly dataRoot: string;
  /** Ingests and unpacks in progress; on the same filesystem, so finishing one is a rename. */
  readonly tmpDir: string;

  constructor(dataRoot: string, tmpDir: string) {
    this.dataRoot = dataRoot;
    this.tmpDir = tmpDir;
  }

  /** One directory per image record. */
  get imagesDir(): string { return join(this.dataRoot, 'images'); }
  /** Content-addressed blobs: manifests, configs, layer archives. */
  get contentDir(): string { return join(this.dataRoot, 'content'); }
  /** Unpacked layers, one directory per chain ID. */
  get layersDir(): string { return join(this.dataRoot, 'layers'); }

  imageDir(id: string): string { return join(this.imagesDir, id.replace(/^sha256:/, '')); }
  imageRecord(id: string): string { return join(this.imageDir(id), 'image.json'); }
  /** Where berth 0.1 unpacked an image (one layer, beside its record). */
  legacyImageRootfs(id: string): string { return join(this.imageDir(id), 'rootfs'); }
}
