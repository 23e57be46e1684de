import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mergeConfig, readConfigFile, DEFAULTS } from './config.ts';
import { EngineError } from '../../protocol/errors.ts';

const isInvalid = (pattern: RegExp) => (err: unknown) => EngineError.is(err) && err.kind === 'InvalidArgument' && pattern.test(err.message);

test('defaults apply when neither flag nor file sets an option', () => {
  const config = mergeConfig({}, {}, '/etc/berth/daemon.json');
  assert.equal(config.dataRoot, DEFAULTS.dataRoot);
  assert.equal(config.execRoot, DEFAULTS.execRoot);
  assert.deepEqual(config.hosts, [DEFAULTS.host]);
  assert.equal(config.liveRestore, false);
});

test('file values and flag values both count, but the same option twice is refused, naming it', () => {
  assert.equal(mergeConfig({ 'live-restore': true }, {}, 'f').liveRestore, true);
  assert.equal(mergeConfig({}, { 'live-restore': true }, 'f').liveRestore, true);
  assert.throws(() => mergeConfig({ 'live-restore': true, 'data-root': '/x' }, { 'live-restore': true, 'data-root': '/y' }, 'daemon.json'),
    isInvalid(/both as a flag and in the configuration file: .*data-root.*live-restore/));
});

test('log opts from flags are parsed and validated', () => {
  assert.deepEqual(mergeConfig({ 'log-opt': ['max-size=10m', 'max-file=3'] }, {}, 'f').logOpts, { 'max-size': '10m', 'max-file': '3' });
  assert.throws(() => mergeConfig({ 'log-opt': ['max-file=zero'] }, {}, 'f'), isInvalid(/log-opts/));
  assert.throws(() => mergeConfig({}, { 'log-opts': { 'max-file': '3000000' } }, 'f'), isInvalid(/max-file/));
});

test('bad values are refused: hosts that are not unix sockets, unknown runtimes and log levels', () => {
  assert.throws(() => mergeConfig({}, { hosts: ['tcp://0.0.0.0:2375'] }, 'f'), isInvalid(/unix sockets only/));
  assert.throws(() => mergeConfig({}, { 'default-runtime': 'kata' }, 'f'), isInvalid(/default runtime kata/));
  assert.throws(() => mergeConfig({}, { 'log-level': 'loud' }, 'f'), isInvalid(/invalid log level/));
});

test('daemon.json: malformed JSON, unknown keys and wrong types name the file and the problem', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'daemon.json');
  writeFileSync(file, '{"live-restore": ');
  assert.throws(() => readConfigFile(file, true), isInvalid(new RegExp(`${file}: invalid JSON`)));
  writeFileSync(file, '{"live-restore": true, "bogus": 1}');
  assert.throws(() => readConfigFile(file, true), isInvalid(/don't match any configuration option: bogus/));
  writeFileSync(file, '{"live-restore": "yes"}');
  assert.throws(() => readConfigFile(file, true), isInvalid(/"live-restore" must be a boolean/));
  assert.deepEqual(readConfigFile(join(dir, 'missing.json'), false), {});
  assert.throws(() => readConfigFile(join(dir, 'missing.json'), true), isInvalid(/unable to read/));
});

test('registry settings: insecure-registries from file or repeated flag, transfer concurrency bounded', () => {
  assert.deepEqual(mergeConfig({}, { 'insecure-registries': ['reg:5000', '10.0.0.0/8'] }, 'f').insecureRegistries, ['reg:5000', '10.0.0.0/8']);
  assert.deepEqual(mergeConfig({ 'insecure-registry': ['reg:5000'] }, {}, 'f').insecureRegistries, ['reg:5000']);
  assert.equal(mergeConfig({}, {}, 'f').maxConcurrentDownloads, 3);
  assert.equal(mergeConfig({ 'max-concurrent-downloads': '6' }, {}, 'f').maxConcurrentDownloads, 6);
  assert.throws(() => mergeConfig({}, { 'insecure-registries': ['http://reg:5000'] }, 'f'), isInvalid(/should not contain '\/\/'|:\/\//));
  assert.throws(() => mergeConfig({}, { 'max-concurrent-downloads': 0 }, 'f'), isInvalid(/max-concurrent-downloads/));
  assert.throws(() => mergeConfig({ 'max-concurrent-uploads': 'many' }, {}, 'f'), isInvalid(/max-concurrent-uploads/));
});

test('group: from -G/--group or daemon.json "group", not both; none by default; "" is none, as in dockerd', () => {
  assert.equal(mergeConfig({}, {}, 'f').group, undefined);
  assert.equal(mergeConfig({ group: 'berth' }, {}, 'f').group, 'berth');
  assert.equal(mergeConfig({}, { group: '4242' }, 'f').group, '4242');
  assert.equal(mergeConfig({}, { group: '' }, 'f').group, undefined);
  assert.throws(() => mergeConfig({ group: 'a' }, { group: 'b' }, 'daemon.json'), isInvalid(/both as a flag and in the configuration file: group/));
  assert.throws(() => mergeConfig({ group: 'wheel:x' }, {}, 'f'), isInvalid(/invalid group "wheel:x"/));
  assert.throws(() => mergeConfig({}, { group: 'two words' }, 'f'), isInvalid(/invalid group "two words"/));
  assert.throws(() => mergeConfig({}, { group: '4294967295' }, 'f'), isInvalid(/invalid group 4294967295/));
});

test('daemon.json "group" must be a string', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'daemon.json');
  writeFileSync(file, '{"group": 999}');
  assert.throws(() => readConfigFile(file, true), isInvalid(/"group" must be a string/));
  writeFileSync(file, '{"group": "berth"}');
  assert.deepEqual(readConfigFile(file, true), { group: 'berth' });
});
