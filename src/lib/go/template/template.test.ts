import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoTemplate, renderGoTemplate, templateFunction, TemplateError } from './index.ts';

const container = {
  Id: '4f66ad9a0b2e',
  Name: '/web',
  Args: ['-g', 'daemon off;'],
  State: { Status: 'running', Running: true, Pid: 4242, ExitCode: 0, StartedAt: '2024-05-01T10:00:00.123Z', Health: null },
  Mounts: [
    { Type: 'bind', Source: '/srv/data', Destination: '/data' },
    { Type: 'volume', Source: '/var/lib/berth/volumes/v1', Destination: '/cache' },
  ],
  Config: { Labels: { 'com.x': 'yes', 'com.example.tier': 'front' }, Env: ['A=1', 'B=2'] },
  NetworkSettings: { Ports: { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] } },
};

const render = (source: string, data: unknown = container): string => renderGoTemplate(source, data);

function assertTemplateError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof TemplateError, `expected TemplateError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('fields and values', () => {
  it('reads nested fields', () => {
    assert.equal(render('{{.State.StartedAt}}'), '2024-05-01T10:00:00.123Z');
    assert.equal(render('{{.Name}}'), '/web');
    assert.equal(render('{{$.State.Pid}}'), '4242');
  });

  it('prints a missing field as <no value>, also further down the chain', () => {
    assert.equal(render('{{.Nope}}'), '<no value>');
    assert.equal(render('{{.Nope.Deeper}}'), '<no value>');
    assert.equal(renderGoTemplate('{{.}}', undefined), '<no value>');
  });

  it("prints values the way Go's fmt does", () => {
    assert.equal(render('{{.State.Health}}'), '<nil>');
    assert.equal(render('{{.Args}}'), '[-g daemon off;]');
    assert.equal(render('{{.Config.Labels}}'), 'map[com.example.tier:front com.x:yes]');
    assert.equal(render('{{.State.Running}} {{.State.ExitCode}}'), 'true 0');
    assert.equal(render('{{.}}', { a: [1, null, { b: false }] }), 'map[a:[1 <nil> map[b:false]]]');
    assert.equal(render('{{.}}', 0.25), '0.25');
    assert.equal(render('{{.}}', 1234567.5), '1.2345675e+06');
    assert.equal(render('{{.}}', 1e-7), '1e-07');
    assert.equal(render('{{.}}', 1e21), '1000000000000000000000');
  });

  it('reads map keys that are not identifiers with index', () => {
    assert.equal(render('{{index .Config.Labels "com.x"}}'), 'yes');
    assert.equal(render('{{index .Config.Labels "absent"}}'), '<no value>');
    assert.equal(render('{{index .Args 1}}'), 'daemon off;');
    assert.equal(render('{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}'), '8080');
    assert.equal(render('{{index .NetworkSettings.Ports "80/tcp" 0 | json}}'), '{"HostIp":"0.0.0.0","HostPort":"8080"}');
  });
});

describe('literals', () => {
  it('decodes strings, raw strings, characters and numbers', () => {
    assert.equal(render('{{"a\\tb\\x41\\u00e9\\\\"}}'), 'a\tbAé\\');
    assert.equal(render('{{`no \\n escapes`}}'), 'no \\n escapes');
    assert.equal(render("{{'a'}} {{0x1F}} {{-3}} {{1.5e3}} {{1_000}} {{true}}"), '97 31 -3 1500 1000 true');
  });
});

describe('control structures', () => {
  it('if / else if / else', () => {
    assert.equal(render('{{if .State.Running}}up{{else}}down{{end}}'), 'up');
    assert.equal(render('{{if .State.Running}}up{{else}}down{{end}}', { State: { Running: false } }), 'down');
    const chain = '{{if eq .Name "/db"}}db{{else if eq .Name "/web"}}web{{else}}other{{end}}';
    assert.equal(render(chain), 'web');
    assert.equal(render(chain, { Name: '/x' }), 'other');
  });

  it('uses Go truthiness', () => {
    const t = '{{if .}}T{{else}}F{{end}}';
    assert.deepEqual([0, 1, '', 'x', [], [0], {}, { a: 1 }, null, false].map((v) => render(t, v)), [
      'F', 'T', 'F', 'T', 'F', 'T', 'F', 'T', 'F', 'F',
    ]);
  });

  it('range over arrays, maps and integers, with else and variables', () => {
    assert.equal(render('{{range .Mounts}}{{.Source}} {{end}}'), '/srv/data /var/lib/berth/volumes/v1 ');
    assert.equal(render('{{range $i, $m := .Mounts}}{{$i}}:{{$m.Destination}};{{end}}'), '0:/data;1:/cache;');
    assert.equal(render('{{range $k, $v := .Config.Labels}}{{$k}}={{$v}},{{end}}'), 'com.example.tier=front,com.x=yes,');
    assert.equal(render('{{range $v := .Args}}[{{$v}}]{{end}}'), '[-g][daemon off;]');
    assert.equal(render('{{range .Missing}}x{{else}}none{{end}}'), 'none');
    assert.equal(render('{{range 3}}{{.}}{{end}}'), '012');
    assert.equal(render('{{range .Mounts}}{{$.Name}}{{end}}'), '/web/web');
  });

  it('break and continue', () => {
    assert.equal(render('{{range .Args}}{{if eq . "-g"}}{{continue}}{{end}}{{.}}{{end}}'), 'daemon off;');
    assert.equal(render('{{range .Args}}{{.}}{{break}}{{end}}'), '-g');
  });

  it('with and variables', () => {
    assert.equal(render('{{with .State}}{{.Status}}/{{.Pid}}{{end}}'), 'running/4242');
    assert.equal(render('{{with .State.Health}}{{.Status}}{{else}}no healthcheck{{end}}'), 'no healthcheck');
    assert.equal(render('{{$n := .Name}}{{range .Args}}{{$n}}{{end}}'), '/web/web');
    assert.equal(render('{{$last := ""}}{{range .Args}}{{$last = .}}{{end}}{{$last}}'), 'daemon off;');
  });
});

describe('pipelines and functions', () => {
  it('json', () => {
    assert.equal(
      render('{{json .State}}'),
      '{"Status":"running","Running":true,"Pid":4242,"ExitCode":0,"StartedAt":"2024-05-01T10:00:00.123Z","Health":null}',
    );
    assert.equal(render('{{json .Missing}}'), 'null');
    assert.equal(render('{{json "<&>"}}'), '"<&>"');
  });

  it('string helpers', () => {
    assert.equal(render('{{join .Args ","}}'), '-g,daemon off;');
    assert.equal(render('{{upper .Name}} {{lower "ABC"}} {{title "hello wide-world"}}'), '/WEB abc Hello Wide-World');
    assert.equal(render('{{split "a,b,c" ","}} {{len (split "a:b" ":")}}'), '[a b c] 2');
    assert.equal(render('{{truncate .Id 4}}|{{truncate "ab" 5}}'), '4f66|ab');
    assert.equal(render('[{{pad "x" 1 2}}][{{pad "" 1 2}}]'), '[ x  ][]');
    assert.equal(render('{{len .Args}} {{len .Config.Labels}} {{len "héllo"}}'), '2 2 6');
  });

  it('printf, print and println', () => {
    assert.equal(render('{{printf "%-5s|" .Name}}'), '/web |');
    assert.equal(render('{{printf "%5s|%q|%v|%t" .Name .Name .Args true}}'), ' /web|"/web"|[-g daemon off;]|true');
    assert.equal(render('{{printf "%d %05d %x %+d %.2f %.1f %e" 42 -42 255 7 3.14159 0.25 1234.5}}'), '42 -0042 ff +7 3.14 0.2 1.234500e+03');
    assert.equal(render('{{printf "%s %d"  "a"}}'), 'a %!d(MISSING)');
    assert.equal(render('{{printf "%d" "a"}}'), '%!d(string=a)');
    assert.equal(render('{{printf "%s" "a" 1}}'), 'a%!(EXTRA int=1)');
    assert.equal(render('{{print 1 2 "a" "b" 3}}'), '1 2ab3');
    assert.equal(render('{{println "a" 1}}'), 'a 1\n');
  });

  it('pipes the previous value as the last argument', () => {
    assert.equal(render('{{.Name | upper | printf "<%s>"}}'), '</WEB>');
    assert.equal(render('{{.Config.Env | len}}'), '2');
  });

  it('comparisons and logic', () => {
    assert.equal(render('{{eq .State.Pid 4242}} {{ne .Name "/web"}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}'), 'true false true true true false');
    assert.equal(render('{{eq .Name "/a" "/web"}} {{eq .Missing "x"}} {{eq .State.Health nil}}'), 'true false true');
    assert.equal(render('{{and 1 "x"}} {{and 0 "x"}} {{or "" "y"}} {{not .State.Running}}'), 'x 0 y false');
    // and/or short-circuit, so the nil Health is never dereferenced.
    assert.equal(render('{{if and .State.Health .State.Health.Status}}h{{else}}none{{end}}'), 'none');
  });
});

describe('whitespace and comments', () => {
  it('trim markers remove the adjacent whitespace', () => {
    assert.equal(render('a  {{- .Name -}}  \n b'), 'a/webb');
    assert.equal(render('{{range .Args -}}\n  {{.}}\n{{- end}}'), '-gdaemon off;');
    assert.equal(render('x {{-3}}'), 'x -3');
  });

  it('comments produce nothing', () => {
    assert.equal(render('a{{/* hidden */}}b {{- /* trimmed */ -}} c'), 'abc');
  });
});

describe('errors', () => {
  it('reports syntax errors at parse time', () => {
    assertTemplateError(() => parseGoTemplate('{{.Name'), /^template: :1: unclosed action$/);
    assertTemplateError(() => parseGoTemplate('{{if .X}}x'), /unexpected EOF/);
    assertTemplateError(() => parseGoTemplate('{{end}}'), /unexpected \{\{end\}\}/);
    assertTemplateError(() => parseGoTemplate('{{nosuch .X}}'), /function "nosuch" not defined/);
    assertTemplateError(() => parseGoTemplate('{{$x}}'), /undefined variable "\$x"/);
    assertTemplateError(() => parseGoTemplate('{{"abc}}'), /unterminated quoted string/);
    assertTemplateError(() => parseGoTemplate('line1\n{{.A | 3}}'), /^template: :2: non executable command/);
    assertTemplateError(() => parseGoTemplate('{{break}}'), /outside \{\{range\}\}/);
    assertTemplateError(() => parseGoTemplate('{{template "x"}}'), /not supported/);
  });

  it('reports execution errors with their position', () => {
    assertTemplateError(
      () => render('{{.State.Health.Status}}'),
      /^template: :1:2: executing "" at <\.State\.Health\.Status>: nil pointer evaluating interface \{\}\.Status$/,
    );
    assertTemplateError(() => render('{{.Args.X}}'), /can't evaluate field X in type \[\]interface \{\}/);
    assertTemplateError(() => render('{{index .Args 5}}'), /error calling index: index out of range: 5/);
    assertTemplateError(() => render('{{upper 1}}'), /wrong type for value; expected string; got int/);
    assertTemplateError(() => render('{{eq 1 "1"}}'), /incompatible types for comparison/);
    assertTemplateError(() => render('{{range .Name}}{{end}}'), /range can't iterate over \/web/);
    assertTemplateError(() => render('{{truncate .Name}}'), /wrong number of args for truncate: want 2 got 1/);
  });

  it('missingKey: error turns a missing field into an error', () => {
    const template = parseGoTemplate('{{.Nope}}', { missingKey: 'error' });
    assertTemplateError(() => template.render(container), /map has no entry for key "Nope"/);
  });

  it('a compiled template can be rendered many times', () => {
    const template = parseGoTemplate('{{.Name}}:{{len .Args}}');
    assert.equal(template.render(container), '/web:2');
    assert.equal(template.render({ Name: '/db', Args: [] }), '/db:0');
  });
});

describe('methods and functions of the caller', () => {
  const labels: Record<string, string> = { 'com.example': 'yes' };
  const row = { Name: 'web', Label: (key: string) => labels[key] ?? '', Upper: () => 'WEB', Fail: () => { throw new Error('boom'); } };

  it('calls a function-valued field with the arguments that follow it, as Go calls methods', () => {
    assert.equal(render('{{.Label "com.example"}}|{{.Label `absent`}}', row), 'yes|');
    assert.equal(render('{{$.Label "com.example" | upper}}', row), 'YES');
    assert.equal(render('{{"com.example" | .Label}}', row), 'yes');
    assert.equal(render('{{if eq (.Label "com.example") "yes"}}labelled{{end}}', row), 'labelled');
    assert.equal(render('{{with $r := .}}{{$r.Label "com.example"}}{{end}}', row), 'yes');
  });

  it('calls a method without arguments when it is read as a field', () => {
    assert.equal(render('{{.Upper}} {{len .Upper}}', row), 'WEB 3');
  });

  it('leaves methods out of maps: printing, ranging and len see only the fields', () => {
    assert.equal(render('{{.}}', row), 'map[Name:web]');
    assert.equal(render('{{range $k, $v := .}}{{$k}};{{end}}{{len .}}', row), 'Name;1');
    assert.equal(render('{{index . "Label"}}', row), '<no value>');
  });

  it('reports wrong argument counts, arguments to fields and thrown errors like Go', () => {
    assertTemplateError(() => render('{{.Label}}', row), /wrong number of args for Label: want 1 got 0/);
    assertTemplateError(() => render('{{.Label "a" "b"}}', row), /wrong number of args for Label: want 1 got 2/);
    assertTemplateError(() => render('{{.Name "a"}}', row), /Name is not a method but has arguments/);
    assertTemplateError(() => render('{{.Fail}}', row), /error calling Fail: boom/);
  });

  it('takes functions of the caller, which replace builtins of the same name', () => {
    const functions = { upper: templateFunction(['string'], (s) => `<${s}>`), twice: templateFunction(['int'], (n) => n * 2) };
    assert.equal(renderGoTemplate('{{upper .Name}} {{twice 21}}', row, { functions }), '<web> 42');
    assertTemplateError(() => parseGoTemplate('{{twice 1}}'), /function "twice" not defined/);
    assertTemplateError(() => renderGoTemplate('{{twice "x"}}', row, { functions }), /wrong type for value; expected int; got string/);
  });
});
