// Derives the fact file src/runtime/seccomp/testdata/moby-default-facts.json from moby's own
// default seccomp profile, so the unit test can check berth's hand-written builtin profile
// (src/runtime/seccomp/default-profile.ts) and its resolver against moby's data.
//
// Usage: node scripts/seccomp-facts.mjs <moby git dir or default.json> [> facts.json]
//   e.g. node scripts/seccomp-facts.mjs /work/.mirror/moby+moby/repo
// With a git dir it reads HEAD:vendor/github.com/moby/profiles/seccomp/default.json.
//
// This deliberately does not import berth's code: it applies moby's rules (seccomp_linux.go,
// setupSeccomp) straight to the JSON — a rule is kept unless an `excludes` condition matches,
// and only if every `includes` condition matches — for a few fixed (arch, capabilities,
// kernel) cases.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

const PROFILE_PATH = 'vendor/github.com/moby/profiles/seccomp/default.json';
const source = process.argv[2];
if (!source) {
  console.error('usage: node scripts/seccomp-facts.mjs <moby git dir | default.json>');
  process.exit(2);
}
let text;
let origin;
if (statSync(source).isDirectory()) {
  text = execFileSync('git', ['--git-dir', source, 'show', `HEAD:${PROFILE_PATH}`], { encoding: 'utf8' });
  const commit = execFileSync('git', ['--git-dir', source, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  origin = `moby/moby@${commit}:${PROFILE_PATH}`;
} else {
  text = readFileSync(source, 'utf8');
  origin = source;
}
const profile = JSON.parse(text);

// Docker's default capability set (moby oci/caps/defaults.go).
const DOCKER_DEFAULT_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];
const SECCOMP_ARCH = { amd64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64', s390x: 'SCMP_ARCH_S390X' };

const cases = {
  'amd64-default': { arch: 'amd64', capabilities: DOCKER_DEFAULT_CAPS, kernel: '6.1.0' },
  'arm64-default': { arch: 'arm64', capabilities: DOCKER_DEFAULT_CAPS, kernel: '6.1.0' },
  's390x-default': { arch: 's390x', capabilities: DOCKER_DEFAULT_CAPS, kernel: '6.1.0' },
  'amd64-sys-admin': { arch: 'amd64', capabilities: [...DOCKER_DEFAULT_CAPS, 'CAP_SYS_ADMIN'], kernel: '6.1.0' },
  'amd64-kernel-4.4': { arch: 'amd64', capabilities: DOCKER_DEFAULT_CAPS, kernel: '4.4.0' },
};

const version = (v) => v.split('.').slice(0, 2).map(Number);
const kernelAtLeast = (kernel, min) => {
  const [k, m] = version(kernel);
  const [mk, mm] = version(min);
  return k > mk || (k === mk && m >= mm);
};

function applies(rule, c) {
  const ex = rule.excludes ?? {};
  if ((ex.arches ?? []).includes(c.arch)) return false;
  if ((ex.caps ?? []).some((cap) => c.capabilities.includes(cap))) return false;
  if (ex.minKernel && kernelAtLeast(c.kernel, ex.minKernel)) return false;
  const inc = rule.includes ?? {};
  if (inc.arches?.length && !inc.arches.includes(c.arch)) return false;
  if (inc.caps?.length && !inc.caps.every((cap) => c.capabilities.includes(cap))) return false;
  if (inc.minKernel && !kernelAtLeast(c.kernel, inc.minKernel)) return false;
  return true;
}

const facts = {
  derivedFrom: origin,
  sha256: createHash('sha256').update(text).digest('hex'),
  howToRegenerate: 'node scripts/seccomp-facts.mjs <moby git dir> > src/runtime/seccomp/testdata/moby-default-facts.json',
  defaultAction: profile.defaultAction,
  defaultErrnoRet: profile.defaultErrnoRet,
  cases: {},
};
for (const [name, c] of Object.entries(cases)) {
  const kept = profile.syscalls.filter((rule) => applies(rule, c));
  const entry = profile.archMap.find((a) => a.architecture === SECCOMP_ARCH[c.arch]);
  const unconditional = kept.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args?.length).flatMap((r) => r.names);
  facts.cases[name] = {
    ...c,
    architectures: entry ? [entry.architecture, ...(entry.subArchitectures ?? [])] : [],
    allowedCount: new Set(unconditional).size,
    allowed: [...new Set(unconditional)].sort(),
    argumentFiltered: kept.filter((r) => r.args?.length).map((r) => ({
      names: r.names, action: r.action, args: r.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op })),
    })),
    otherActions: kept.filter((r) => r.action !== 'SCMP_ACT_ALLOW').map((r) => ({ names: r.names, action: r.action, errnoRet: r.errnoRet })),
  };
}
// Lists of plain values stay on one line, so the file reads as a table.
const json = JSON.stringify(facts, null, 1).replace(/\[\s*((?:"[^"]*"|\d+)(?:,\s*(?:"[^"]*"|\d+))*)\s*\]/g, (_m, items) => `[${items.split(/,\s*/).join(', ')}]`);
process.stdout.write(`${json}\n`);
