import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TemplateError } from '../lib/go/template/index.ts';
import { quote as goQuote } from '../lib/go/strconv.ts';
import { goTimeString } from '../lib/go/time.ts';
import { humanDuration, humanSize } from '../lib/go/units.ts';
import { ellipsis, truncateId } from './format/fields.ts';
import { IMAGES_DEFAULT_TABLE, IMAGES_DIGESTS_TABLE, imageContexts, imagesContext, imagesFormat } from './format/images.ts';
import { PS_DEFAULT_TABLE, displayablePorts, psContext, psFormat } from './format/ps.ts';
import { formatRows } from './format/render.ts';
import { tabwrite } from './format/tabwrite.ts';

process.env.TZ = 'UTC';

const NOW = 1795320963_000; // two seconds after c3 was created
const C3 = {
  Id: 'e9067f78e2b5df306c6efde9ea3815338a197b399fc1ae72e78cf636feac2cbc',
  Names: ['/c3'],
  Image: 'busybox',
  ImageID: 'sha256:61ca9950bd32de6d2b6c173a86d2a88b39c022ad55e63b41404c271988fc5818',
  Command: "sh -c 'echo created-output; sleep 1000'",
  Created: 1795320961,
  Ports: [],
  Labels: { k: 'v', 'com.example.my-thing': 'x<y' },
  State: 'exited',
  Status: 'Exited (137) 2 seconds ago',
  HostConfig: { NetworkMode: 'default' },
  NetworkSettings: { Networks: { bridge: { NetworkID: '' } } },
  Mounts: [],
};
const C1 = {
  Id: 'f968738e9d1573496e3d65d7b2b623c9a3f0166e7df5aa2a8f9ad5ce61e33652',
  Names: ['/c1'],
  Image: 'busybox',
  ImageID: 'sha256:61ca9950bd32de6d2b6c173a86d2a88b39c022ad55e63b41404c271988fc5818',
  Command: 'sleep 1000',
  Created: 1795320959,
  Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }],
  Labels: {},
  State: 'running',
  Status: 'Up Less than a second',
  HostConfig: { NetworkMode: 'default' },
  NetworkSettings: { Networks: { bridge: {} } },
  Mounts: [],
};
const ps = (trunc = true) => [C3, C1].map((c) => psContext(c, { trunc, now: NOW }));

const BUSYBOX_IMAGE = {
  Containers: -1,
  Created: 1700000000,
  Id: 'sha256:61ca9950bd32de6d2b6c173a86d2a88b39c022ad55e63b41404c271988fc5818',
  Labels: null,
  ParentId: '',
  RepoDigests: ['busybox@sha256:5eef5ed34e1e1ff0a4ae850395cbf665c4de6b4b83a32a0bc7bcb998e24e7bbb'],
  RepoTags: ['busybox:latest', 'docker.io/myrepo/bb:v1'],
  SharedSize: -1,
  Size: 1984132,
  VirtualSize: 1984132,
};
const DANGLING = { Id: 'sha256:0123456789abcdef0123', RepoTags: null, RepoDigests: null, Created: 1795320000, Size: 512, Containers: 2 };

describe('tabwrite', () => {
  it('pads tab-terminated cells to the widest cell plus 3, at least 10; the last cell is not padded', () => {
    assert.equal(
      tabwrite([
        ['CONTAINER ID', 'IMAGE', 'NAMES'],
        ['abc', 'busybox', 'c1'],
      ]),
      'CONTAINER ID   IMAGE     NAMES\nabc            busybox   c1\n',
    );
  });

  it('keeps empty cells as padding', () => {
    assert.equal(tabwrite([['PORTS', 'NAMES'], ['', 'x']]), 'PORTS     NAMES\n          x\n');
  });

  it('takes minwidth and padding', () => {
    assert.equal(tabwrite([['a', 'b'], ['ccc', 'd']], { minwidth: 0, padding: 1 }), 'a   b\nccc d\n');
  });

  it('aligns a column only over consecutive lines that have it, as Go does', () => {
    const out = tabwrite([['aaaaaaaaaaaa', 'x'], ['single line'], ['b', 'y']]);
    assert.equal(out, 'aaaaaaaaaaaa   x\nsingle line\nb         y\n');
  });

  it('counts characters, not bytes', () => {
    assert.equal(tabwrite([['héllo wörld', 'x'], ['a', 'y']]), 'héllo wörld   x\na' + ' '.repeat(13) + 'y\n');
  });

  it('handles no lines and lines without tabs', () => {
    assert.equal(tabwrite([]), '');
    assert.equal(tabwrite([['just text']]), 'just text\n');
  });
});

describe('formatRows: ps', () => {
  it('prints the default table like docker ps', () => {
    assert.equal(
      formatRows(undefined, ps(), PS_DEFAULT_TABLE),
      [
        'CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS                       PORTS                  NAMES',
        'e9067f78e2b5   busybox   "sh -c \'echo created…"   2 seconds ago   Exited (137) 2 seconds ago                          c3',
        'f968738e9d15   busybox   "sleep 1000"             4 seconds ago   Up Less than a second        0.0.0.0:8080->80/tcp   c1',
        '',
      ].join('\n'),
    );
  });

  it('treats an empty format and "table" as the default table', () => {
    const expected = formatRows(undefined, ps(), PS_DEFAULT_TABLE);
    assert.equal(formatRows('', ps(), PS_DEFAULT_TABLE), expected);
    assert.equal(formatRows('table', ps(), PS_DEFAULT_TABLE), expected);
  });

  it('prints only the header when there are no rows', () => {
    assert.equal(formatRows(undefined, [], PS_DEFAULT_TABLE), 'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
    assert.equal(formatRows('{{.ID}}', [], PS_DEFAULT_TABLE), '');
  });

  it('builds the header of a table format from the fields, turning a typed \\t into a tab', () => {
    assert.equal(
      formatRows('table {{.ID}}\\t{{.Names}}\\t{{.Status}}', ps(), PS_DEFAULT_TABLE),
      [
        'CONTAINER ID   NAMES     STATUS',
        'e9067f78e2b5   c3        Exited (137) 2 seconds ago',
        'f968738e9d15   c1        Up Less than a second',
        '',
      ].join('\n'),
    );
  });

  it('uses docker header texts for every ps field', () => {
    const format = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.CreatedAt}}\t{{.RunningFor}}\t{{.Ports}}\t{{.State}}\t{{.Status}}\t{{.Size}}\t{{.Names}}\t{{.Labels}}\t{{.Mounts}}\t{{.Networks}}\t{{.LocalVolumes}}';
    const header = formatRows(format, [], PS_DEFAULT_TABLE).split(/ {3,}/).map((s) => s.trim());
    assert.deepEqual(header, [
      'CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED AT', 'CREATED', 'PORTS', 'STATE', 'STATUS', 'SIZE', 'NAMES', 'LABELS', 'MOUNTS', 'NETWORKS', 'LOCAL VOLUMES',
    ]);
  });

  it('supports {{.Label "key"}} in rows and headers', () => {
    assert.equal(
      formatRows('table {{.Names}}\\t{{.Label "k"}}\\t{{.Label "com.example.my-thing"}}', ps(), PS_DEFAULT_TABLE),
      ['NAMES     k         my thing', 'c3        v         x<y', 'c1                  ', ''].join('\n'),
    );
    assert.equal(formatRows('{{.Names}}={{.Label "k"}};{{ .Label `missing` }};{{$.Label "k" | upper}}', ps(), PS_DEFAULT_TABLE), 'c3=v;;V\nc1=;;\n');
    assert.equal(formatRows('{{if eq (.Label "k") "v"}}{{.Names}}{{end}}', ps(), PS_DEFAULT_TABLE), 'c3\n\n');
  });

  it('leaves .Labels and string literals alone', () => {
    assert.equal(formatRows('{{.Labels}} {{print ".Label \\"k\\""}}', ps().slice(0, 1), PS_DEFAULT_TABLE), 'com.example.my-thing=x<y,k=v .Label "k"\n');
  });

  it('keeps header texts intact through functions, as the CLI does', () => {
    const out = formatRows('table {{upper .Names}}\t{{lower .State}}\t{{json .Status}}\t{{truncate .ID 4}}', ps().slice(1), PS_DEFAULT_TABLE);
    assert.equal(out, 'NAMES     STATE     STATUS                    CONTAINER ID\nC1        running   "Up Less than a second"   f968\n');
  });

  it('keeps literal text of the template in the header', () => {
    assert.equal(formatRows('table id={{.ID}}', ps().slice(1), PS_DEFAULT_TABLE), 'id=CONTAINER ID\nid=f968738e9d15\n');
  });

  it('prints one line per row and no header without "table"', () => {
    assert.equal(formatRows('{{.Names}}\\t{{.State}}', ps(), PS_DEFAULT_TABLE), 'c3\texited\nc1\trunning\n');
    assert.equal(formatRows('  {{.ID}}  ', ps(), PS_DEFAULT_TABLE), 'e9067f78e2b5\nf968738e9d15\n');
    assert.equal(formatRows('{{.ID}}', ps(false), PS_DEFAULT_TABLE), `${C3.Id}\n${C1.Id}\n`);
  });

  it('prints json as one object per line with the CLI field names', () => {
    const lines = formatRows('json', ps(), PS_DEFAULT_TABLE).trimEnd().split('\n');
    assert.equal(lines.length, 2);
    assert.equal(
      lines[0],
      '{"Command":"\\"sh -c \'echo created…\\"","CreatedAt":"2026-11-22 04:16:01 +0000 UTC","ID":"e9067f78e2b5","Image":"busybox",' +
        '"Labels":"com.example.my-thing=x\\u003cy,k=v","LocalVolumes":"0","Mounts":"","Names":"c3","Networks":"bridge","Ports":"",' +
        '"RunningFor":"2 seconds ago","Size":"0B","State":"exited","Status":"Exited (137) 2 seconds ago"}',
    );
    assert.equal(JSON.parse(lines[1]!).Ports, '0.0.0.0:8080->80/tcp');
    assert.equal(formatRows('{{json .}}', ps(), PS_DEFAULT_TABLE), formatRows('json', ps(), PS_DEFAULT_TABLE));
    assert.equal(formatRows('{{json .Names}}', ps(), PS_DEFAULT_TABLE), '"c3"\n"c1"\n');
  });

  it('fails like the CLI on unknown fields and bad templates', () => {
    assert.throws(() => formatRows('{{.Nope}}', ps(), PS_DEFAULT_TABLE), (err: unknown) => {
      assert.ok(err instanceof TemplateError);
      assert.match(err.message, /^template parsing error: .*Nope/);
      return true;
    });
    assert.throws(() => formatRows('{{.ID', ps(), PS_DEFAULT_TABLE), /^TemplateError: template parsing error: /);
  });
});

describe('psContext', () => {
  const [c3, c1] = ps();
  const full = psContext(C3, { trunc: false, now: NOW });

  it('truncates ids and commands unless --no-trunc', () => {
    assert.equal(c3!.ID, 'e9067f78e2b5');
    assert.equal(full.ID, C3.Id);
    assert.equal(c3!.Command, '"sh -c \'echo created…"');
    assert.equal(full.Command, '"sh -c \'echo created-output; sleep 1000\'"');
    assert.equal(c1!.Command, '"sleep 1000"');
  });

  it('renders the other fields', () => {
    assert.equal(c3!.Names, 'c3');
    assert.equal(c3!.Image, 'busybox');
    assert.equal(c3!.State, 'exited');
    assert.equal(c3!.Status, 'Exited (137) 2 seconds ago');
    assert.equal(c3!.RunningFor, '2 seconds ago');
    assert.equal(c3!.CreatedAt, '2026-11-22 04:16:01 +0000 UTC');
    assert.equal(c3!.Labels, 'com.example.my-thing=x<y,k=v');
    assert.equal(c3!.Networks, 'bridge');
    assert.equal(c3!.Size, '0B');
    assert.equal(c3!.LocalVolumes, '0');
    assert.equal(typeof c3!.Label, 'function');
    assert.equal((c3!.Label as (k: string) => string)('k'), 'v');
    assert.equal((c3!.Label as (k: string) => string)('nope'), '');
  });

  it('shows the image as the user typed it, shortened when truncating', () => {
    const image = (Image: string, trunc = true) => psContext({ ...C1, Image }, { trunc, now: NOW }).Image;
    assert.equal(image('sha256:61ca9950bd32de6d2b6c173a86d2a88b39c022ad55e63b41404c271988fc5818'), '61ca9950bd32');
    assert.equal(image('61ca9950bd32de6d2b6c173a86d2a88b39c022ad55e63b41404c271988fc5818'), '61ca9950bd32');
    assert.equal(image('docker.io/library/busybox:1.36'), 'busybox:1.36');
    assert.equal(image('busybox:1.36@sha256:5eef5ed34e1e1ff0a4ae850395cbf665c4de6b4b83a32a0bc7bcb998e24e7bbb'), 'busybox:1.36');
    assert.equal(image('busybox@sha256:5eef5ed34e1e1ff0a4ae850395cbf665c4de6b4b83a32a0bc7bcb998e24e7bbb'), 'busybox');
    assert.equal(image('127.0.0.1:5115/conf/pulltest:1'), '127.0.0.1:5115/conf/pulltest:1');
    assert.equal(image('docker.io/library/busybox:1.36', false), 'docker.io/library/busybox:1.36');
    assert.equal(image(''), '<no image>');
  });

  it('leaves out legacy link names when truncating', () => {
    const names = (Names: string[], trunc: boolean) => psContext({ ...C1, Names }, { trunc, now: NOW }).Names;
    assert.equal(names(['/web/db', '/db'], true), 'db');
    assert.equal(names(['/web/db', '/db'], false), 'web/db,db');
  });

  it('shows sizes, mounts and networks', () => {
    const ctx = psContext(
      {
        ...C1,
        SizeRw: 12,
        SizeRootFs: 4261000,
        Mounts: [
          { Type: 'bind', Source: '/srv/some/very/long/path', Destination: '/data' },
          { Type: 'volume', Name: 'cache', Source: '/var/lib/x', Driver: 'local' },
        ],
        NetworkSettings: { Networks: { web: {}, bridge: {} } },
      },
      { trunc: true, now: NOW },
    );
    assert.equal(ctx.Size, '12B (virtual 4.26MB)');
    assert.equal(ctx.Mounts, '/srv/some/very…,cache');
    assert.equal(ctx.LocalVolumes, '1');
    assert.equal(ctx.Networks, 'bridge,web');
  });
});

describe('displayablePorts', () => {
  it('groups consecutive ports and lists host mappings last', () => {
    assert.equal(
      displayablePorts([
        { PrivatePort: 9001, Type: 'tcp' },
        { PrivatePort: 9000, Type: 'tcp' },
        { PrivatePort: 53, Type: 'udp' },
        { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
        { IP: '0.0.0.0', PrivatePort: 443, PublicPort: 443, Type: 'tcp' },
        { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
      ]),
      '53/udp, 0.0.0.0:443->443/tcp, 9000-9001/tcp, 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp',
    );
    assert.equal(displayablePorts([]), '');
  });
});

describe('images', () => {
  it('gives one context per repository:tag, like the CLI', () => {
    const rows = imageContexts(BUSYBOX_IMAGE, { trunc: true, now: NOW });
    assert.deepEqual(
      rows.map((r) => [r.Repository, r.Tag, r.Digest, r.ID]),
      [
        ['busybox', 'latest', '<none>', '61ca9950bd32'],
        ['myrepo/bb', 'v1', '<none>', '61ca9950bd32'],
      ],
    );
    const first = rows[0]!;
    assert.equal(first.Size, '1.98MB');
    assert.equal(first.VirtualSize, '1.984MB');
    assert.equal(first.Containers, 'N/A');
    assert.equal(first.SharedSize, 'N/A');
    assert.equal(first.UniqueSize, 'N/A');
    assert.equal(first.CreatedSince, '3 years ago');
    assert.equal(first.CreatedAt, '2023-11-14 22:13:20 +0000 UTC');
  });

  it('shows digests with --digests or a format that uses .Digest', () => {
    const digest = 'sha256:5eef5ed34e1e1ff0a4ae850395cbf665c4de6b4b83a32a0bc7bcb998e24e7bbb';
    assert.deepEqual(
      imageContexts(BUSYBOX_IMAGE, { trunc: true, digests: true }).map((r) => r.Digest),
      [digest, '<none>'],
    );
    assert.deepEqual(
      imageContexts(BUSYBOX_IMAGE, { trunc: true, format: '{{.Repository}} {{.Digest}}' }).map((r) => r.Digest),
      [digest, '<none>'],
    );
    const digestOnly = { ...BUSYBOX_IMAGE, RepoTags: [] };
    assert.deepEqual(imageContexts(digestOnly, { trunc: true }).map((r) => [r.Repository, r.Tag, r.Digest]), [['busybox', '<none>', '']]);
    assert.deepEqual(imageContexts(digestOnly, { trunc: true, digests: true }).map((r) => [r.Repository, r.Tag, r.Digest]), [['busybox', '<none>', digest]]);
  });

  it('shows a dangling image as <none>', () => {
    const rows = imageContexts(DANGLING, { trunc: false, now: NOW });
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.Repository, '<none>');
    assert.equal(rows[0]!.Tag, '<none>');
    assert.equal(rows[0]!.ID, DANGLING.Id);
    assert.equal(rows[0]!.Containers, '2');
    assert.equal(rows[0]!.Size, '512B');
  });

  it('imagesContext gives a single row', () => {
    assert.equal(imagesContext(BUSYBOX_IMAGE, { trunc: true }).Repository, 'busybox');
    assert.equal(imagesContext(BUSYBOX_IMAGE, { trunc: true, repo: 'x', tag: 'y' }).Tag, 'y');
    assert.equal(imagesContext(DANGLING, { trunc: true }).Repository, '<none>');
  });

  it('prints the default images table', () => {
    const rows = [BUSYBOX_IMAGE, DANGLING].flatMap((i) => imageContexts(i, { trunc: true, now: NOW }));
    assert.equal(
      formatRows(undefined, rows, IMAGES_DEFAULT_TABLE),
      [
        'REPOSITORY   TAG       IMAGE ID       CREATED          SIZE',
        'busybox      latest    61ca9950bd32   3 years ago      1.98MB',
        'myrepo/bb    v1        61ca9950bd32   3 years ago      1.98MB',
        '<none>       <none>    0123456789ab   16 minutes ago   512B',
        '',
      ].join('\n'),
    );
    assert.match(formatRows('table {{.ID}}\t{{.CreatedSince}}', [], IMAGES_DEFAULT_TABLE), /^IMAGE ID   CREATED\n$/);
    assert.match(formatRows(undefined, [], IMAGES_DIGESTS_TABLE), /^REPOSITORY   TAG       DIGEST    IMAGE ID   CREATED   SIZE\n$/);
  });

  it('escapes HTML characters in json like the CLI', () => {
    const line = formatRows('json', [imagesContext(DANGLING, { trunc: true, now: NOW })], IMAGES_DEFAULT_TABLE);
    assert.match(line, /"Repository":"\\u003cnone\\u003e"/);
    assert.deepEqual(Object.keys(JSON.parse(line)), [
      'Containers', 'CreatedAt', 'CreatedSince', 'Digest', 'ID', 'Repository', 'SharedSize', 'Size', 'Tag', 'UniqueSize', 'VirtualSize',
    ]);
  });
});

describe('psFormat and imagesFormat', () => {
  it('choose the CLI defaults', () => {
    assert.equal(psFormat(undefined), PS_DEFAULT_TABLE);
    assert.equal(psFormat('table', { size: true }), `${PS_DEFAULT_TABLE}\t{{.Size}}`);
    assert.equal(psFormat(undefined, { quiet: true }), '{{.ID}}');
    assert.equal(psFormat('{{.Names}}'), '{{.Names}}');
    assert.match(psFormat('raw'), /^container_id: \{\{\.ID\}\}\nimage:/);
    assert.equal(imagesFormat(undefined), IMAGES_DEFAULT_TABLE);
    assert.equal(imagesFormat(undefined, { digests: true }), IMAGES_DIGESTS_TABLE);
    assert.equal(imagesFormat('table {{.ID}}', { digests: true }), 'table {{.ID}}\t{{.Digest}}');
    assert.equal(imagesFormat('', { quiet: true }), '{{.ID}}');
  });
});

describe('helpers', () => {
  it('humanDuration follows go-units', () => {
    assert.equal(humanDuration(500), 'Less than a second');
    assert.equal(humanDuration(1_999), '1 second');
    assert.equal(humanDuration(59_999), '59 seconds');
    assert.equal(humanDuration(119_000), 'About a minute');
    assert.equal(humanDuration(59 * 60_000 + 59_000), '59 minutes');
    assert.equal(humanDuration(90 * 60_000), '2 hours');
    assert.equal(humanDuration(47 * 3_600_000), '47 hours');
    assert.equal(humanDuration(3 * 86_400_000), '3 days');
    assert.equal(humanDuration(20 * 86_400_000), '2 weeks');
    assert.equal(humanDuration(100 * 86_400_000), '3 months');
    assert.equal(humanDuration(800 * 86_400_000), '2 years');
  });

  it('humanSize follows go-units', () => {
    assert.equal(humanSize(0, 3), '0B');
    assert.equal(humanSize(999, 3), '999B');
    assert.equal(humanSize(1984132, 3), '1.98MB');
    assert.equal(humanSize(1984132), '1.984MB');
    assert.equal(humanSize(1500, 3), '1.5kB');
    assert.equal(humanSize(999_500, 3), '1e+03kB');
    assert.equal(humanSize(4_261_000_000, 3), '4.26GB');
  });

  it('goQuote, ellipsis, truncateId and goTimeString', () => {
    assert.equal(goQuote('a "b"\\\n\t\x01'), '"a \\"b\\"\\\\\\n\\t\\x01"');
    assert.equal(goQuote('héllo…'), '"héllo…"');
    assert.equal(ellipsis('short', 20), 'short');
    assert.equal(ellipsis('abcdefghijklmnopqrstuvwxyz', 20), 'abcdefghijklmnopqrs…');
    assert.equal(ellipsis('日本語のテキストです', 10), '日本語の…');
    assert.equal(truncateId('sha256:0123456789abcdef'), '0123456789ab');
    assert.equal(truncateId('0123456789abcdef'), '0123456789ab');
    assert.equal(goTimeString(0), '1970-01-01 00:00:00 +0000 UTC');
  });
});
