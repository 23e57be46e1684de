/**
 * Containers run under Docker's default seccomp profile unless asked otherwise, and
 * HostConfig.SecurityOpt (seccomp=unconfined|<profile JSON>, no-new-privileges) is applied — or
 * refused by name — never silently ignored. A static probe calls the syscalls the profile denies
 * and prints each errno; it is bind-mounted into the busybox test image.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../../src/client/client.ts';
import { busyboxTarball, docker, newDaemon, ROOT, waitFor, type TestDaemon } from '../integration/harness.ts';

const MS = 1_000_000;
let probeDir: string;

before(() => {
  probeDir = mkdtempSync('/tmp/berth-probe-');
  process.on('exit', () => rmSync(probeDir, { recursive: true, force: true }));
  const built = spawnSync('gcc', ['-static', '-O2', '-o', join(probeDir, 'probe'), join(ROOT, 'test/fixtures/seccomp/probe.c')], { encoding: 'utf8' });
  assert.equal(built.status, 0, `building the static probe needs gcc and libc6-dev (scripts/install-deps.sh): ${built.stderr}`);
});

/** What a container reports about itself: its seccomp mode, no_new_privs, each probe's result and `unshare -U -r`. */
const REPORT = "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; /probe/probe; unshare -U -r true 2>/dev/null; echo \"unshare-cmd $?\"";

function parseReport(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.trim().split('\n')) {
    const m = /^(\S+?):?\s+(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

async function ready(t: import('node:test').TestContext): Promise<TestDaemon> {
  const daemon = newDaemon(t);
  await daemon.start();
  await daemon.importBusybox();
  return daemon;
}

/** `berth run --rm` with the probe mounted; returns the parsed report. */
async function berthRun(daemon: TestDaemon, flags: string[], script = REPORT): Promise<{ code: number | null; stdout: string; stderr: string; report: Record<string, string> }> {
  const result = await daemon.cli(['run', '--rm', '-v', `${probeDir}:/probe:ro`, ...flags, 'busybox', 'sh', '-c', script]);
  return { ...result, report: parseReport(result.stdout) };
}

async function createStatus(daemon: TestDaemon, securityOpt: unknown): Promise<{ status: number; message: string }> {
  try {
    const { Id } = await daemon.client.createContainer({ Image: 'busybox', Cmd: ['true'], HostConfig: { SecurityOpt: securityOpt } });
    await daemon.client.removeContainer(Id, true);
    return { status: 201, message: '' };
  } catch (err) {
    assert.ok(err instanceof ApiError, String(err));
    return { status: err.status, message: err.message };
  }
}

test('by default a container runs under Docker\'s seccomp profile: namespaces, keyctl, bpf and perf_event_open are EPERM', async (t) => {
  const daemon = await ready(t);
  const { code, stderr, report } = await berthRun(daemon, []);
  assert.equal(code, 0, stderr);
  assert.equal(report.Seccomp, '2', 'seccomp filter mode');
  assert.equal(report.NoNewPrivs, '0');
  assert.equal(report.keyctl, 'EPERM');
  assert.equal(report.bpf, 'EPERM');
  assert.equal(report.perf_event_open, 'EPERM');
  assert.equal(report.unshare_newuser, 'EPERM');
  assert.notEqual(report['unshare-cmd'], '0', 'busybox unshare -U -r must fail');

  const info = await daemon.client.info() as { SecurityOptions: string[] };
  assert.deepEqual(info.SecurityOptions, ['name=seccomp,profile=builtin']);
});

test('seccomp=unconfined turns the filter off: the same probes get past seccomp', async (t) => {
  const daemon = await ready(t);
  const { code, stderr, report } = await berthRun(daemon, ['--security-opt', 'seccomp=unconfined']);
  assert.equal(code, 0, stderr);
  t.diagnostic(`unconfined: ${JSON.stringify(report)}`);
  assert.equal(report.Seccomp, '0');
  assert.equal(report.unshare_newuser, 'ok');
  assert.equal(report['unshare-cmd'], '0');
  assert.notEqual(report.keyctl, 'EPERM');
  assert.equal(report.perf_event_open, 'EFAULT', 'the kernel itself looked at the (missing) attributes');
  // The kernel checks the (empty) attributes before any capability: EINVAL, not seccomp's EPERM.
  assert.equal(report.bpf, 'EINVAL');

  const { Id } = await daemon.client.createContainer({ Image: 'busybox', Cmd: ['true'], HostConfig: { SecurityOpt: ['seccomp=unconfined'] } });
  assert.deepEqual(((await daemon.client.inspectContainer(Id)).HostConfig as { SecurityOpt: unknown }).SecurityOpt, ['seccomp=unconfined']);
  const plain = await daemon.client.createContainer({ Image: 'busybox', Cmd: ['true'] });
  assert.equal(((await daemon.client.inspectContainer(plain.Id)).HostConfig as { SecurityOpt: unknown }).SecurityOpt, null);
});

test('a custom profile (read client-side from a file, sent as JSON) is applied: denying mkdir makes mkdir fail', async (t) => {
  const daemon = await ready(t);
  const profile = JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] });
  const file = join(daemon.root, 'deny-mkdir.json');
  writeFileSync(file, profile);
  const denied = await berthRun(daemon, ['--security-opt', `seccomp=${file}`], 'mkdir /tmp/x; echo "mkdir $?"; touch /tmp/y; echo "touch $?"');
  assert.equal(denied.report.mkdir, '1', denied.stdout + denied.stderr);
  assert.match(denied.stderr + denied.stdout, /Operation not permitted/);
  assert.equal(denied.report.touch, '0', 'everything else is allowed');
  const allowed = await berthRun(daemon, [], 'mkdir /tmp/x; echo "mkdir $?"');
  assert.equal(allowed.report.mkdir, '0');

  const { Id } = await daemon.client.createContainer({ Image: 'busybox', Cmd: ['true'], HostConfig: { SecurityOpt: [`seccomp=${profile}`] } });
  assert.deepEqual(((await daemon.client.inspectContainer(Id)).HostConfig as { SecurityOpt: unknown }).SecurityOpt, [`seccomp=${profile}`]);
});

test('no-new-privileges sets NoNewPrivs; execs and health checks get the container\'s seccomp and no_new_privs', async (t) => {
  const daemon = await ready(t);
  const nnp = await berthRun(daemon, ['--security-opt', 'no-new-privileges']);
  assert.equal(nnp.report.NoNewPrivs, '1', nnp.stdout + nnp.stderr);
  assert.equal(nnp.report.Seccomp, '2');
  assert.equal((await berthRun(daemon, ['--security-opt', 'no-new-privileges=false'])).report.NoNewPrivs, '0');

  const run = await daemon.cli(['run', '-d', '-v', `${probeDir}:/probe:ro`, '--security-opt', 'no-new-privileges:true',
    '--health-cmd', "grep -q '^Seccomp:.2' /proc/self/status && /probe/probe | grep -q 'unshare_newuser EPERM'", '--health-interval', '200ms',
    'busybox', 'sleep', '1000']);
  assert.equal(run.code, 0, run.stderr);
  const id = run.stdout.trim();
  const exec = await daemon.cli(['exec', id, 'sh', '-c', REPORT]);
  const report = parseReport(exec.stdout);
  assert.equal(report.Seccomp, '2', exec.stdout + exec.stderr);
  assert.equal(report.NoNewPrivs, '1');
  assert.equal(report.keyctl, 'EPERM');
  assert.equal(report.unshare_newuser, 'EPERM');
  await waitFor('healthy: the probe saw seccomp inside the health check', async () => {
    const state = (await daemon.client.inspectContainer(id)).State as { Health?: { Status: string } };
    return state.Health?.Status === 'healthy' || undefined;
  });

  const unconfined = await daemon.cli(['run', '-d', '--security-opt', 'seccomp=unconfined', 'busybox', 'sleep', '1000']);
  const unconfinedExec = await daemon.cli(['exec', unconfined.stdout.trim(), 'grep', '^Seccomp:', '/proc/self/status']);
  assert.match(unconfinedExec.stdout, /^Seccomp:\s+0$/m);
});

test('unsupported or malformed security options are a 400 naming the option', async (t) => {
  const daemon = await ready(t);
  const options: Array<[string, string]> = [['apparmor=unconfined', 'apparmor'], ['label=disable', 'label'], ['label:disable', 'label'], ['systempaths=unconfined', 'systempaths'], ['whatever=1', 'whatever'], ['no-new-privileges=maybe', 'no-new-privileges']];
  for (const [opt, named] of options) {
    const { status, message } = await createStatus(daemon, [opt]);
    assert.equal(status, 400, `${opt} → ${status}`);
    assert.ok(message.includes(named), `${opt}: ${message}`);
  }
  // The API takes the profile's content; a path (what a hand-written client might send) is no profile.
  const path = await createStatus(daemon, ['seccomp=/nonexistent.json']);
  assert.equal(path.status, 400);
  assert.match(path.message, /seccomp/);
  const bad = await createStatus(daemon, [JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_BOGUS' }] })].map((p) => `seccomp=${p}`));
  assert.equal(bad.status, 400);
  assert.match(bad.message, /syscalls\[0\]\.action/);
  assert.equal((await createStatus(daemon, 'seccomp=unconfined')).status, 400, 'SecurityOpt must be a list');
  const cli = await daemon.cli(['create', '--security-opt', `seccomp=${join(daemon.root, 'missing.json')}`, 'busybox']);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /missing\.json.*no such file/);
});


test('through the docker CLI: the default profile, seccomp=unconfined, seccomp=<file>, no-new-privileges, refusals', async (t) => {
  const daemon = newDaemon(t);
  await daemon.start();
  const imported = await docker(daemon, ['import', busyboxTarball(), 'busybox']);
  assert.equal(imported.code, 0, imported.stderr);
  const dockerRun = async (flags: string[]) => {
    const r = await docker(daemon, ['run', '--rm', '-v', `${probeDir}:/probe:ro`, ...flags, 'busybox', 'sh', '-c', REPORT]);
    assert.equal(r.code, 0, r.stderr);
    return parseReport(r.stdout);
  };
  const confined = await dockerRun([]);
  assert.equal(confined.Seccomp, '2');
  assert.equal(confined.unshare_newuser, 'EPERM');
  assert.equal(confined.keyctl, 'EPERM');
  const unconfined = await dockerRun(['--security-opt', 'seccomp=unconfined']);
  assert.equal(unconfined.Seccomp, '0');
  assert.equal(unconfined.unshare_newuser, 'ok');
  assert.equal((await dockerRun(['--security-opt', 'no-new-privileges'])).NoNewPrivs, '1');

  const file = join(daemon.root, 'deny-mkdir.json');
  writeFileSync(file, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }));
  const mkdir = await docker(daemon, ['run', '--rm', '--security-opt', `seccomp=${file}`, 'busybox', 'sh', '-c', 'mkdir /tmp/x; echo "mkdir $?"']);
  assert.match(mkdir.stdout, /^mkdir 1$/m, mkdir.stdout + mkdir.stderr);

  const info = await docker(daemon, ['info', '--format', '{{json .SecurityOptions}}']);
  assert.equal(info.stdout.trim(), '["name=seccomp,profile=builtin"]');
  const refused = await docker(daemon, ['run', '--rm', '--security-opt', 'apparmor=unconfined', 'busybox', 'true']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /apparmor/);
});
