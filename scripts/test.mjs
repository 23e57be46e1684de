// Runs the whole suite: unit tests beside the code, then integration tests with real berthd,
// shims and runc/crun containers. Missing prerequisites fail loudly; nothing is skipped.
import { spawnSync } from 'node:child_process';
import { existsSync, globSync } from 'node:fs';

const problems = [];
if (process.getuid?.() !== 0) problems.push('integration tests need root (they mount overlays and run containers)');
if (!['crun', 'runc'].some((rt) => spawnSync('sh', ['-c', `command -v ${rt}`]).status === 0)) problems.push('no OCI runtime: apt-get install runc crun');
if (spawnSync('sh', ['-c', 'command -v busybox']).status !== 0) problems.push('busybox missing: apt-get install busybox-static');
for (const [tool, pkg] of [['setfattr', 'attr'], ['docker-registry', 'docker-registry'], ['skopeo', 'skopeo']]) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) problems.push(`${tool} missing: apt-get install ${pkg} (scripts/install-deps.sh)`);
}
if (spawnSync('sh', ['-c', 'command -v gcc']).status !== 0 || !globSync('/usr/lib/*/libc.a').length) problems.push('gcc or the static libc missing: apt-get install gcc libc6-dev (scripts/install-deps.sh)');
if (!existsSync('dist/berthd.js')) problems.push('dist/ is missing: run npm run build');
if (problems.length) {
  for (const p of problems) console.error(`test: ${p}`);
  process.exit(1);
}

const files = [...globSync('src/**/*.test.ts'), ...globSync('test/integration/*.test.ts'), ...globSync('test/conformance/*.test.ts'), ...globSync('test/security/*.test.ts')].sort();
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=180000', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
