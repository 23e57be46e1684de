import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerSizes, writableLayerDir } from './container-size.ts';

const paths = {
  containerRootfs: (id: string) => `/data/containers/${id}/rootfs`,
  containerUpper: (id: string) => `/data/containers/${id}/diff`,
};

describe('writableLayerDir', () => {
  it('is the upper dir for overlay and the whole root for copy', () => {
    assert.equal(writableLayerDir({ id: 'c1', storageDriver: 'overlay' }, paths), '/data/containers/c1/diff');
    assert.equal(writableLayerDir({ id: 'c1', storageDriver: 'copy' }, paths), '/data/containers/c1/rootfs');
  });
});

describe('containerSizes', () => {
  it('counts the writable layer and adds the image for SizeRootFs', async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'berth-size-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const upper = join(root, 'diff');
    mkdirSync(join(upper, 'etc'), { recursive: true });
    writeFileSync(join(upper, 'etc', 'motd'), 'x'.repeat(100));
    writeFileSync(join(upper, 'top'), 'y'.repeat(23));
    const here = { containerRootfs: () => join(root, 'rootfs'), containerUpper: () => upper };
    assert.deepEqual(await containerSizes({ id: 'c1', storageDriver: 'overlay' }, here, 1000), { SizeRw: 123, SizeRootFs: 1123 });
    assert.deepEqual(await containerSizes({ id: 'c1', storageDriver: 'copy' }, here, 1000), { SizeRw: 0, SizeRootFs: 1000 });
  });
});
