import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { jsonLogFileName } from '../../protocol/json-file-log.ts';
import { ImageRoots } from '../../images/image-roots.ts';

/** Every path the daemon uses, derived from its two roots. */
export class DaemonPaths {
  readonly dataRoot: string;
  readonly execRoot: string;
  /** The image store's part of the data root. */
  readonly images: ImageRoots;

  constructor(dataRoot: string, execRoot: string) {
    this.dataRoot = dataRoot;
    this.execRoot = execRoot;
    this.images = new ImageRoots(dataRoot, this.tmpDir);
  }

  get containersDir(): string { return join(this.dataRoot, 'containers'); }
  get settingsFile(): string { return join(this.dataRoot, 'settings.json'); }
  get eventsJournal(): string { return join(this.dataRoot, 'events.jsonl'); }
  get lockFile(): string { return join(this.dataRoot, 'berthd.lock'); }
  get tmpDir(): string { return join(this.dataRoot, 'tmp'); }
  get defaultPidFile(): string { return join(this.execRoot, 'berthd.pid'); }
  get shimSocketsDir(): string { return join(this.execRoot, 's'); }
  get bundlesDir(): string { return join(this.execRoot, 'bundles'); }
  /** Each runtime's `--root` lives below. */
  get runtimesDir(): string { return join(this.execRoot, 'runtime'); }
  runtimeRoot(runtime: string): string { return join(this.runtimesDir, runtime); }

  containerDir(id: string): string { return join(this.containersDir, id); }
  containerRecord(id: string): string { return join(this.containerDir(id), 'record.json'); }
  containerLog(id: string): string { return join(this.containerDir(id), jsonLogFileName(id)); }
  containerExit(id: string): string { return join(this.containerDir(id), 'exit.json'); }
  containerRootfs(id: string): string { return join(this.containerDir(id), 'rootfs'); }
  containerUpper(id: string): string { return join(this.containerDir(id), 'diff'); }
  containerWork(id: string): string { return join(this.containerDir(id), 'work'); }
  containerEtc(id: string, file: 'hosts' | 'hostname' | 'resolv.conf'): string { return join(this.containerDir(id), file); }
  bundle(id: string): string { return join(this.bundlesDir, id); }
  /**
   * Short, so the socket path stays under the 108-byte sun_path limit, and new for every
   * shim, so a new shim never takes the socket of an old one that is still going away.
   */
  shimSocket(id: string): string { return join(this.shimSocketsDir, `${id.slice(0, 12)}-${randomBytes(3).toString('hex')}.sock`); }
}
