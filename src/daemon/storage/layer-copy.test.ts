import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyLayerByCopy } from './layer-copy.ts';

function setup(t: import('node:test').TestContext) {
  const root = mkdtempSync(join(tmpdir(), 'berth-layer-copy-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const host = join(root, 'host');
  mkdirSync(join(host, 'dir'), { recursive: true });
  writeFileSync(join(host, 'shadow'), 'host secret\n');
  writeFileSync(join(host, 'dir', 'keep'), 'host file\n');
  writeFileSync(join(host, 'authorized_keys'), 'host key\n');
  const [lower, upper, target] = ['lower', 'upper', 'target'].map((d) => join(root, d)) as [string, string, string];
  for (const d of [lower, upper, target]) mkdirSync(d);
  return { host, lower, upper, target };
}

const whiteout = (path: string) => execFileSync('mknod', [path, 'c', '0', '0']);
const opaque = (path: string) => execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', path]);

test('layers stack by copy: whiteouts delete, opaque directories replace, later files win', async (t) => {
  const { lower, upper, target } = setup(t);
  mkdirSync(join(lower, 'data'));
  writeFileSync(join(lower, 'data', 'a'), 'A');
  writeFileSync(join(lower, 'data', 'b'), 'B');
  mkdirSync(join(lower, 'opt'));
  writeFileSync(join(lower, 'opt', 'x'), 'X');
  symlinkSync('/data/b', join(lower, 'link'));
  mkdirSync(join(upper, 'data'));
  whiteout(join(upper, 'data', 'a'));
  writeFileSync(join(upper, 'data', 'b'), 'B2');
  mkdirSync(join(upper, 'opt'));
  opaque(join(upper, 'opt'));
  writeFileSync(join(upper, 'opt', 'y'), 'Y');
  mkdirSync(join(upper, 'link'));
  await applyLayerByCopy(lower, target);
  await applyLayerByCopy(upper, target);
  assert.deepEqual(readdirSync(join(target, 'data')), ['b']);
  assert.equal(readFileSync(join(target, 'data', 'b'), 'utf8'), 'B2');
  assert.deepEqual(readdirSync(join(target, 'opt')), ['y']);
  assert.ok(lstatSync(join(target, 'link')).isDirectory(), 'a directory replaces a symlink');
});

test('a lower layer\'s symlinks to the host are never followed: whiteouts, opaque dirs and files stay inside', async (t) => {
  const { host, lower, upper, target } = setup(t);
  symlinkSync(host, join(lower, 'etc'));
  symlinkSync(join(host, 'dir'), join(lower, 'data'));
  symlinkSync(join(host, 'authorized_keys'), join(lower, 'evil'));
  mkdirSync(join(upper, 'etc'));
  whiteout(join(upper, 'etc', 'shadow'));
  mkdirSync(join(upper, 'data'));
  opaque(join(upper, 'data'));
  writeFileSync(join(upper, 'data', 'new'), 'image file\n');
  writeFileSync(join(upper, 'evil'), 'image key\n');
  await applyLayerByCopy(lower, target);
  await applyLayerByCopy(upper, target);
  assert.equal(readFileSync(join(host, 'shadow'), 'utf8'), 'host secret\n');
  assert.equal(readFileSync(join(host, 'dir', 'keep'), 'utf8'), 'host file\n');
  assert.equal(readFileSync(join(host, 'authorized_keys'), 'utf8'), 'host key\n');
  assert.equal(existsSync(join(host, 'dir', 'new')), false);
  assert.ok(lstatSync(join(target, 'etc')).isDirectory());
  assert.equal(readFileSync(join(target, 'data', 'new'), 'utf8'), 'image file\n');
  assert.equal(readFileSync(join(target, 'evil'), 'utf8'), 'image key\n');
  assert.ok(!lstatSync(join(target, 'evil')).isSymbolicLink());
});
