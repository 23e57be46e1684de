import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeConfig } from './config.ts';
import { parseCommandLine } from './flags.ts';
import { reloadConfig } from './reload.ts';
import { OPTION_LIST } from './options.ts';

test('the table: flags and daemon.json keys are unique, and every reloadable option has a daemon.json key', () => {
  const flags = OPTION_LIST.flatMap(([, o]) => (o.flag ? [o.flag.name] : []));
  const keys = OPTION_LIST.flatMap(([, o]) => (o.file ? [o.file.key] : []));
  assert.equal(new Set(flags).size, flags.length);
  assert.equal(new Set(keys).size, keys.length);
  for (const [field, o] of OPTION_LIST) if (o.reloadable) assert.ok(o.file, `${field} is reloadable from daemon.json`);
});

test('command line: long and short flags, repeatable ones collected, keyed by the long name', () => {
  const cli = parseCommandLine(['-H', 'unix:///a.sock', '--host', 'unix:///b.sock', '--log-opt', 'max-size=1m', '--live-restore', '-G', 'wheel', '-s', 'copy', '--config-file', '/x.json']);
  assert.deepEqual(cli.flags.host, ['unix:///a.sock', 'unix:///b.sock']);
  assert.deepEqual(cli.flags['log-opt'], ['max-size=1m']);
  assert.equal(cli.flags['live-restore'], true);
  assert.equal(cli.flags.group, 'wheel');
  assert.equal(cli.flags['storage-driver'], 'copy');
  assert.equal(cli.flags['data-root'], undefined);
  assert.equal(cli.configFile, '/x.json');
  assert.equal(cli.configFileGiven, true);
  const config = mergeConfig(cli.flags, {}, cli.configFile);
  assert.deepEqual(config.hosts, ['unix:///a.sock', 'unix:///b.sock']);
  assert.equal(config.configFile, '/x.json');
  assert.equal(parseCommandLine([]).configFileGiven, false);
});

test('reload takes the reloadable values only, and names the daemon.json keys that changed', () => {
  const running = mergeConfig({}, { 'data-root': '/old', group: 'a' }, 'f');
  const next = mergeConfig({}, { 'data-root': '/new', group: 'b', 'live-restore': true, 'log-opts': { 'max-size': '1m' } }, 'f');
  const { config, changed } = reloadConfig(running, next);
  assert.deepEqual(changed, ['live-restore', 'log-opts']);
  assert.equal(config.liveRestore, true);
  assert.deepEqual(config.logOpts, { 'max-size': '1m' });
  assert.equal(config.dataRoot, '/old');
  assert.equal(config.group, 'a');
});
