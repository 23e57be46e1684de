import { execFile } from 'node:child_process';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export class ExecError extends Error {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  readonly timedOut: boolean;

  constructor(command: string, exitCode: number | null, signal: NodeJS.Signals | null, stderr: string, timedOut: boolean) {
    const why = timedOut ? 'timed out' : signal ? `killed by ${signal}` : `exit code ${exitCode}`;
    super(`${command}: ${why}${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
    this.name = 'ExecError';
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderr = stderr;
    this.timedOut = timedOut;
  }
}

const ENV_ALLOWLIST = ['PATH', 'LANG', 'LC_ALL', 'TMPDIR', 'XDG_RUNTIME_DIR'];

export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of ENV_ALLOWLIST) if (process.env[key] !== undefined) env[key] = process.env[key];
  env.PATH ??= '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  return { ...env, ...extra };
}

/** Run a program (argv, never a shell) and collect its output; non-zero exit rejects with ExecError. */
export function run(file: string, args: string[], options: { timeoutMs?: number; signal?: AbortSignal; cwd?: string } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { env: childEnv(), timeout: options.timeoutMs ?? 60_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024, signal: options.signal, cwd: options.cwd },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr });
        const e = error as NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals | null; killed?: boolean };
        const exitCode = typeof e.code === 'number' ? e.code : null;
        if (typeof e.code === 'string' && exitCode === null && !e.signal) return reject(error);
        reject(new ExecError([file, ...args].join(' '), exitCode, e.signal ?? null, String(stderr).slice(-4096), Boolean(e.killed) && !e.signal));
      },
    );
  });
}
