/** run, create, start, attach: the commands that make containers and hook the terminal to them. */
import type { Command } from 'commander';
import { ApiError } from '../../client/client.ts';
import { EngineError } from '../../protocol/errors.ts';
import { addContainerOptions, createBody, type ContainerOptions } from '../container-flags.ts';
import { CliExit, eachRef, errorText, isNotModified, parseBool, type Cli, type CommandFactory } from '../context.ts';
import { attachAndWait, startFailureCode, withHelp } from '../streams.ts';
import { registryAuthHeader, registryOf } from '../credentials.ts';
import { progressPrinter } from '../progress-display.ts';

const PULL_POLICIES = ['always', 'missing', 'never'];

/** "busybox" → { name: "busybox", tag: "latest" }; digests stay with the name. */
export function splitReference(ref: string): { name: string; tag: string } {
  if (ref.includes('@')) return { name: ref, tag: '' };
  const colon = ref.lastIndexOf(':');
  if (colon > ref.lastIndexOf('/')) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { name: ref, tag: 'latest' };
}

/** docker run's implicit pull: progress on stderr, so the container's output stays clean. */
async function pull(cli: Cli, image: string): Promise<void> {
  const { name, tag } = splitReference(image);
  const digest = image.includes('@') ? image.slice(image.indexOf('@') + 1) : undefined;
  const fromImage = digest ? image.slice(0, image.indexOf('@')) : name;
  await cli.client.pullImage(fromImage, digest ?? tag, { auth: registryAuthHeader(registryOf(image)) }, progressPrinter((t) => cli.err(t), false));
}

/**
 * POST /containers/create; when the image is missing, docker says so and pulls it (unless
 * --pull=never), then tries again.
 */
async function createContainer(cli: Cli, image: string, body: Record<string, unknown>, o: ContainerOptions): Promise<string> {
  if (o.pull === 'always') await pull(cli, image);
  const create = async () => {
    const { Id, Warnings } = await cli.client.createContainer(body, o.name);
    for (const warning of Warnings ?? []) cli.err(`WARNING: ${warning}\n`);
    return Id;
  };
  try {
    return await create();
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404 && /no such image/i.test(err.message)) || o.pull !== 'missing') throw err;
    const { name, tag } = splitReference(image);
    cli.err(`Unable to find image '${tag ? `${name}:${tag}` : name}' locally\n`);
    try {
      await pull(cli, image);
    } catch (pullErr) {
      throw EngineError.is(pullErr) && pullErr.kind === 'NotImplemented' ? err : pullErr;
    }
    return await create();
  }
}

function checkPullPolicy(policy: string): void {
  if (!PULL_POLICIES.includes(policy)) throw new EngineError('InvalidArgument', `invalid pull option: '${policy}': must be one of "always", "missing" or "never"`);
}

const containerCommand = (parent: Command, name: string, description: string): Command =>
  addContainerOptions(parent.command(name).description(description).helpOption('--help').argument('<image>').argument('[command...]').passThroughOptions());

export const create: CommandFactory = (parent, cli, name) =>
  containerCommand(parent, name, 'Create a new container').action(async (image: string, command: string[], o: ContainerOptions) => {
    let id: string;
    try {
      checkPullPolicy(o.pull);
      id = await createContainer(cli, image, createBody(image, command, o), o);
    } catch (err) {
      // docker 28 exits 1 for a failed create (125 is for run).
      throw new CliExit(1, errorText(err));
    }
    cli.out(`${id}\n`);
  });

type RunOptions = ContainerOptions & { detach?: boolean; sigProxy: string | boolean };

export const run: CommandFactory = (parent, cli, name) =>
  containerCommand(parent, name, 'Create and run a new container from an image')
    .option('-d, --detach', 'run container in background and print container ID')
    .option('--sig-proxy [bool]', 'proxy received signals to the process', true)
    .action(async (image: string, command: string[], o: RunOptions) => {
      let id: string;
      let sigProxy: boolean;
      try {
        checkPullPolicy(o.pull);
        sigProxy = parseBool(o.sigProxy, 'sig-proxy');
        const body = createBody(image, command, o);
        if (o.detach) Object.assign(body, { AttachStdout: false, AttachStderr: false, AttachStdin: false });
        id = await createContainer(cli, image, body, o);
      } catch (err) {
        throw withHelp('run', err);
      }
      const api = cli.client;
      if (o.detach) {
        try {
          await api.startContainer(id);
        } catch (err) {
          throw withHelp('run', err, startFailureCode(err));
        }
        cli.out(`${id}\n`);
        return;
      }
      let startError: unknown;
      let code: number;
      try {
        code = await attachAndWait(cli, {
          id,
          tty: Boolean(o.tty),
          condition: o.rm ? 'removed' : 'next-exit',
          sigProxy,
          start: () => api.startContainer(id).catch((err: unknown) => {
            startError = err;
            throw err;
          }),
        });
      } catch (err) {
        if (startError !== undefined && o.rm) await api.removeContainer(id, true).catch(() => undefined);
        throw withHelp('run', err, startError !== undefined ? startFailureCode(err) : 125);
      }
      if (code !== 0) throw new CliExit(code);
    });

export const start: CommandFactory = (parent, cli, name) =>
  parent.command(name).description('Start one or more stopped containers')
    .option('-a, --attach', "attach STDOUT/STDERR and forward signals")
    .option('-i, --interactive', "attach container's STDIN")
    .option('--detach-keys <keys>', 'override the key sequence for detaching a container')
    .argument('<container...>')
    .action(async (refs: string[], o: { attach?: boolean; interactive?: boolean }) => {
      const api = cli.client;
      if (o.attach || o.interactive) {
        if (refs.length > 1) throw new CliExit(1, 'you cannot start and attach multiple containers at once');
        let code: number;
        try {
          const c = await api.inspectContainer(refs[0]!);
          code = await attachAndWait(cli, {
            id: c.Id,
            tty: c.Config.Tty === true,
            condition: c.HostConfig.AutoRemove === true ? 'removed' : 'next-exit',
            sigProxy: true,
            start: () => api.startContainer(c.Id).catch((err: unknown) => {
              if (!isNotModified(err)) throw err;
            }),
          });
        } catch (err) {
          throw new CliExit(1, errorText(err));
        }
        if (code !== 0) throw new CliExit(code);
        return;
      }
      const failed = await eachRef(cli, refs, async (ref) => {
        await api.startContainer(ref).catch((err: unknown) => {
          if (!isNotModified(err)) throw err;
        });
        cli.out(`${ref}\n`);
      });
      if (failed.length > 0) throw new CliExit(1, `Error: failed to start containers: ${failed.join(', ')}`);
    });

export const attach: CommandFactory = (parent, cli, name) =>
  parent.command(name).description("Attach local standard input, output, and error streams to a running container")
    .option('--no-stdin', 'do not attach STDIN')
    .option('--sig-proxy [bool]', 'proxy all received signals to the process', true)
    .option('--detach-keys <keys>', 'override the key sequence for detaching a container')
    .argument('<container>')
    .action(async (ref: string, o: { stdin: boolean; sigProxy: string | boolean }) => {
      const api = cli.client;
      let code: number;
      try {
        const sigProxy = parseBool(o.sigProxy, 'sig-proxy');
        const c = await api.inspectContainer(ref);
        if (c.State.Paused) throw new CliExit(1, 'You cannot attach to a paused container, unpause it first');
        if (c.State.Restarting) throw new CliExit(1, 'You cannot attach to a restarting container, wait until it is running');
        if (!c.State.Running) throw new CliExit(1, 'You cannot attach to a stopped container, start it first');
        code = await attachAndWait(cli, { id: c.Id, tty: c.Config.Tty === true, condition: 'not-running', sigProxy });
      } catch (err) {
        throw err instanceof CliExit ? err : new CliExit(1, errorText(err));
      }
      if (code !== 0) throw new CliExit(code);
    });
