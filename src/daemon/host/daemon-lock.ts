import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { EngineError } from '../../protocol/errors.ts';
import { isProcessAlive } from '../../lib/proc.ts';

/**
 * One daemon per data-root: an O_EXCL lock file holding the owner's PID. A stale file (its
 * process gone) is taken over.
 */
export class DaemonLock {
  readonly #path: string;

  private constructor(path: string) {
    this.#path = path;
  }

  static acquire(path: string): DaemonLock {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o644);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        return new DaemonLock(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = Number.parseInt(safeRead(path), 10);
      if (holder && holder !== process.pid && isProcessAlive(holder)) {
        throw new EngineError('Conflict', `another berthd (pid ${holder}) is already using this data root; lock file ${path}`);
      }
      rmSync(path, { force: true });
    }
    throw new EngineError('Conflict', `cannot take the lock ${path}`);
  }

  release(): void {
    if (Number.parseInt(safeRead(this.#path), 10) === process.pid) rmSync(this.#path, { force: true });
  }
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
