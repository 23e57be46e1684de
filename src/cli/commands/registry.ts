/** pull, push, login, logout: the commands that talk to registries (through the daemon). */
import { CliExit, type CommandFactory } from '../context.ts';
import { registryAuthHeader, registryKey, registryOf, removeCredentials, saveCredentials } from '../credentials.ts';
import { progressPrinter } from '../progress-display.ts';
import { splitReference } from './run.ts';

export const pull: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Download an image from a registry')
    .option('-a, --all-tags', 'download all tagged images in the repository')
    .option('--platform <platform>', 'set platform if server is multi-platform capable')
    .option('-q, --quiet', 'suppress verbose output')
    .argument('<name>', 'NAME[:TAG|@DIGEST]')
    .action(async (reference: string, o: { allTags?: boolean; platform?: string; quiet?: boolean }) => {
      if (o.allTags) throw new CliExit(1, 'berth pull: --all-tags is not supported');
      const { name: image, tag } = splitReference(reference);
      const digest = reference.includes('@') ? reference.slice(reference.indexOf('@') + 1) : undefined;
      const fromImage = digest ? reference.slice(0, reference.indexOf('@')) : image;
      if (!reference.includes(':') && !digest) cli.out('Using default tag: latest\n');
      const print = o.quiet ? () => {} : progressPrinter((t) => cli.out(t), Boolean(process.stdout.isTTY));
      await cli.client.pullImage(fromImage, digest ?? tag, { ...(o.platform ? { platform: o.platform } : {}), auth: registryAuthHeader(registryOf(reference)) }, print);
      cli.out(`${digest ? reference : `${image}:${tag}`}\n`);
    });

export const push: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Upload an image to a registry')
    .option('-a, --all-tags', 'push all tags of an image to the repository')
    .option('-q, --quiet', 'suppress verbose output')
    .argument('<name>', 'NAME[:TAG]')
    .action(async (reference: string, o: { allTags?: boolean; quiet?: boolean }) => {
      const hasTag = reference.lastIndexOf(':') > reference.lastIndexOf('/');
      const { name: image, tag } = splitReference(reference);
      if (!hasTag && !o.allTags) cli.out('Using default tag: latest\n');
      const print = o.quiet ? () => {} : progressPrinter((t) => cli.out(t), Boolean(process.stdout.isTTY));
      await cli.client.pushImage(image, hasTag || !o.allTags ? tag : undefined, registryAuthHeader(registryOf(reference)), print);
    });

export const login: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Log in to a registry')
    .option('-u, --username <username>', 'username')
    .option('-p, --password <password>', 'password')
    .option('--password-stdin', 'take the password from stdin')
    .argument('[server]', 'registry host[:port]')
    .action(async (server: string | undefined, o: { username?: string; password?: string; passwordStdin?: boolean }) => {
      if (o.password && o.passwordStdin) throw new CliExit(1, '--password and --password-stdin are mutually exclusive');
      if (o.passwordStdin && !o.username) throw new CliExit(1, 'Must provide --username with --password-stdin');
      let password = o.password;
      if (o.passwordStdin) {
        const chunks: Buffer[] = [];
        for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
        password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
      }
      if (!o.username || password === undefined) throw new CliExit(1, 'berth login needs --username and --password or --password-stdin (no interactive prompt)');
      if (o.password) cli.err('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
      const key = registryKey(server);
      const result = await cli.client.login({ username: o.username, password, serveraddress: key });
      saveCredentials(key, o.username, password);
      cli.out(`${result.Status}\n`);
    });

export const logout: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Log out from a registry')
    .argument('[server]', 'registry host[:port]')
    .action((server: string | undefined) => {
      const key = registryKey(server);
      if (!removeCredentials(server)) cli.out(`Not logged in to ${key}\n`);
      else cli.out(`Removing login credentials for ${key}\n`);
    });
