import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withContainerPath } from './container-archive.ts';

describe('withContainerPath', () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-cp-'));
  writeFileSync(join(root, 'hello'), 'hi\n');
  const service = { withRootfs: <T>(ref: string, fn: (rootfs: string) => Promise<T>) => (ref === 'web' ? fn(root) : Promise.reject(new Error('no such container'))) };
  const decode = (stat: string | undefined) => JSON.parse(Buffer.from(stat!, 'base64').toString()) as { name: string; size: number };

  it('gives the body the mounted root and the path stat', async (t) => {
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const seen = await withContainerPath(service, 'web', '/hello', true, async (stat, rootfs) => ({ stat: decode(stat), rootfs }));
    assert.equal(seen.rootfs, root);
    assert.equal(seen.stat.name, 'hello');
    assert.equal(seen.stat.size, 3);
    assert.equal(await withContainerPath(service, 'web', '/hello', false, async (stat) => stat), undefined);
  });
});
