// The module table of docs/architecture.md ("folder | job | may import") is the layering
// rule; this checks every import in src/ against it, so the table stays true to the code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

interface Rule {
  folder: string;
  mayImport: string[];
  /** The folder may use node built-ins only, no npm package. */
  builtinsOnly: boolean;
}

function readRules(): Rule[] {
  const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const table = doc.slice(doc.indexOf('| folder | job | may import |'));
  const rules: Rule[] = [];
  for (const line of table.split('\n').slice(2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|').map((c) => c.trim());
    const folder = /^`([^`]+)\/`$/.exec(cells[1] ?? '')?.[1];
    if (!folder) continue;
    const allowed = cells[3] ?? '';
    rules.push({ folder, mayImport: [...allowed.matchAll(/`([^`]+?)\/?`/g)].map((m) => m[1]!), builtinsOnly: /node built-ins only/.test(allowed) });
  }
  return rules;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const within = (path: string, folder: string) => path === folder || path.startsWith(folder + '/');

function ruleOf(rules: Rule[], path: string): Rule | undefined {
  return rules.filter((r) => within(path, r.folder)).sort((a, b) => b.folder.length - a.folder.length)[0];
}

/** A folder may import itself; a top-level folder its own subfolders; and whatever its row lists. */
function allowed(rules: Rule[], from: Rule, target: string): boolean {
  if (within(target, from.folder)) return true;
  const top = (p: string) => p.split('/')[0]!;
  if (!from.folder.includes('/') && top(target) === from.folder) return true;
  const targetRule = ruleOf(rules, target);
  return from.mayImport.some((m) => within(target, m) || (targetRule !== undefined && within(targetRule.folder, m)));
}

function importsOf(text: string): string[] {
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => (m[1] ?? m[2])!);
}

test('the module table names every folder of src/', () => {
  const rules = readRules();
  assert.ok(rules.length >= 8, 'the module table of docs/architecture.md was not found');
  const missing = sourceFiles(SRC).map((f) => relative(SRC, dirname(f))).filter((dir) => !ruleOf(rules, dir));
  assert.deepEqual([...new Set(missing)], []);
});

test('every import in src/ follows the module table of docs/architecture.md', () => {
  const rules = readRules();
  const broken: string[] = [];
  const builtins = new Set(builtinModules);
  for (const file of sourceFiles(SRC)) {
    const from = ruleOf(rules, relative(SRC, dirname(file)))!;
    if (!from) continue;
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const where = `${relative(ROOT, file)} imports ${spec}`;
      if (spec.startsWith('.')) {
        const target = relative(SRC, resolve(dirname(file), spec));
        if (target.startsWith('..')) broken.push(`${where}: outside src/`);
        else if (!allowed(rules, from, dirname(target))) broken.push(`${where}: ${from.folder}/ may not import ${dirname(target)}/`);
      } else if (from.builtinsOnly && !spec.startsWith('node:') && !builtins.has(spec)) {
        broken.push(`${where}: ${from.folder}/ may use node built-ins only`);
      }
    }
  }
  assert.deepEqual(broken, []);
});
