import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { notFound } from '../../protocol/errors.ts';
import type { ContainerRecord } from '../../protocol/records.ts';
import type { LogLine } from '../../api/routes/containers.ts';
import { containerLogs, followOutput, logTimeBound } from './logs-service.ts';

const record = { id: 'c1', name: 'web', state: { Status: 'exited' }, hostConfig: { LogConfig: { Type: 'json-file', Config: {} } } } as unknown as ContainerRecord;
const service = { store: { resolve: (ref: string) => { if (ref !== 'web' && ref !== 'c1') throw notFound(`No such container: ${ref}`); return record; }, find: () => record } };

function logFile(t: TestContext, lines: Array<[string, string]>): { containerLog: () => string } {
  const dir = mkdtempSync(join(tmpdir(), 'berth-logs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'c1-json.log');
  writeFileSync(path, lines.map(([time, log]) => `${JSON.stringify({ log: `${log}\n`, stream: 'stdout', time })}\n`).join(''));
  return { containerLog: () => path };
}

async function texts(lines: AsyncIterable<LogLine>): Promise<string[]> {
  const out = [];
  for await (const l of lines) out.push(l.log.trimEnd());
  return out;
}

const signal = new AbortController().signal;
const options = { follow: false, tail: undefined, since: undefined, until: undefined, signal };
const LINES: Array<[string, string]> = [['2024-05-01T10:00:00Z', 'one'], ['2024-05-01T10:00:10Z', 'two'], ['2024-05-01T10:00:20Z', 'three']];

describe('logTimeBound', () => {
  it('is no bound when absent or 0', () => {
    assert.equal(logTimeBound(undefined), undefined);
    assert.equal(logTimeBound('0'), undefined);
  });

  it('reads unix seconds and durations', () => {
    assert.equal(logTimeBound('1700000000.5'), 1_700_000_000_500_000_000n);
    assert.equal(logTimeBound('1s', new Date(2000)), 1_000_000_000n);
  });

  it('refuses anything else as an invalid argument', () => {
    assert.throws(() => logTimeBound('yesterday'), { kind: 'InvalidArgument' });
  });
});

describe('containerLogs', () => {
  it('throws for an unknown container before reading', () => {
    assert.throws(() => containerLogs(service, { containerLog: () => '/nonexistent' }, 'nope', options), { kind: 'NotFound' });
  });

  it('reads the whole log, its tail, or a time window', async (t) => {
    const paths = logFile(t, LINES);
    assert.deepEqual(await texts(containerLogs(service, paths, 'web', options)), ['one', 'two', 'three']);
    assert.deepEqual(await texts(containerLogs(service, paths, 'web', { ...options, tail: 1 })), ['three']);
    const window = { since: String(Date.parse('2024-05-01T10:00:05Z') / 1000), until: String(Date.parse('2024-05-01T10:00:15Z') / 1000) };
    assert.deepEqual(await texts(containerLogs(service, paths, 'web', { ...options, ...window })), ['two']);
  });

  it('does not follow past until, even when asked to', async (t) => {
    const paths = logFile(t, LINES);
    const until = String(Date.parse('2024-05-01T10:00:15Z') / 1000);
    const following = { store: { ...service.store, find: () => ({ ...record, state: { Status: 'running' } }) as ContainerRecord } };
    assert.deepEqual(await texts(containerLogs(following, paths, 'web', { ...options, follow: true, until })), ['one', 'two']);
  });

  it('reports a bad since when reading starts', async (t) => {
    const lines = containerLogs(service, logFile(t, LINES), 'web', { ...options, since: 'soon' });
    await assert.rejects(texts(lines), { kind: 'InvalidArgument' });
  });
});

describe('followOutput', () => {
  it('from the start, or only what comes next, until the container stops', async (t) => {
    const paths = logFile(t, LINES);
    assert.deepEqual(await texts(followOutput(paths, record, true, () => false, signal)), ['one', 'two', 'three']);
    assert.deepEqual(await texts(followOutput(paths, record, false, () => false, signal)), []);
  });
});
