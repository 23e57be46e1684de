import { readdir, readlink } from 'node:fs/promises';
import { conflict, EngineError } from '../../protocol/errors.ts';
import { ExecError, run } from '../../lib/exec.ts';
import { isActive } from '../../protocol/records.ts';
import type { ContainerStore } from './container-store.ts';

export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

/** GET /containers/{id}/top: refused for a container that is not running. */
export async function topContainer(service: { readonly store: Pick<ContainerStore, 'resolve'> }, ref: string, psArgs: string | undefined): Promise<TopResult> {
  const record = service.store.resolve(ref);
  if (!isActive(record.state.Status)) throw conflict(`Container ${record.id} is not running`);
  return containerTop(record.state.Pid, psArgs);
}

/** Docker's GET /containers/{id}/top: `ps` output limited to the processes in initPid's PID namespace. */
export async function containerTop(initPid: number, psArgs = '-ef'): Promise<TopResult> {
  validatePsArgs(psArgs);
  const pids = await pidsInNamespaceOf(initPid);
  let stdout: string;
  try {
    ({ stdout } = await run('ps', psArgs.split(/\s+/).filter(Boolean)));
  } catch (err) {
    const detail = err instanceof ExecError ? err.message : String(err);
    throw new EngineError('Internal', `Error running ps: ${detail}`, { cause: err });
  }
  return parsePsOutput(stdout, pids);
}

/**
 * As Docker does, refuse renaming another column to PID (`-o comm=PID`), which would make
 * us filter on the wrong field.
 */
function validatePsArgs(psArgs: string): void {
  for (const match of ` ${psArgs}`.matchAll(/\s+([^\s]*)=\s*(PID[^\s]*)/g)) {
    if (match[1] !== 'pid') throw new EngineError('InvalidArgument', `specifying "${match[1]}=${match[2]}" is not allowed`);
  }
}

async function pidsInNamespaceOf(initPid: number): Promise<Set<number>> {
  const target = await pidNamespace(initPid);
  if (target === undefined) throw new EngineError('FailedPrecondition', `process ${initPid} is not running`);
  const entries = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const pids = new Set<number>();
  await Promise.all(
    entries.map(async (name) => {
      // A process that vanished while scanning gives undefined and is left out.
      if ((await pidNamespace(Number(name))) === target) pids.add(Number(name));
    }),
  );
  return pids;
}

async function pidNamespace(pid: number): Promise<string | undefined> {
  try {
    return await readlink(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

export function parsePsOutput(output: string, pids: Set<number>): TopResult {
  const lines = output.split('\n').filter((line) => line.trim() !== '');
  const Titles = (lines[0] ?? '').trim().split(/\s+/).filter(Boolean);
  const pidIndex = Titles.indexOf('PID');
  if (pidIndex === -1) throw new EngineError('InvalidArgument', "Couldn't find PID field in ps output");
  const Processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = splitRow(line, Titles.length);
    if (pids.has(Number(fields[pidIndex]))) Processes.push(fields);
  }
  return { Titles, Processes };
}

/** Exactly `count` fields: the last (CMD/COMMAND) keeps the rest of the line, spaces and all. */
function splitRow(line: string, count: number): string[] {
  const fields: string[] = [];
  const token = /\S+/g;
  let end = 0;
  let match: RegExpExecArray | null;
  while (fields.length < count - 1 && (match = token.exec(line)) !== null) {
    fields.push(match[0]);
    end = token.lastIndex;
  }
  fields.push(line.slice(end).trim());
  return fields;
}
