/** berth: the command-line client. It only speaks the daemon's HTTP API; commands live in ./commands/. */
import { Command, CommanderError } from 'commander';
import { CliExit, createCli, errorText, type CommandFactory } from './context.ts';
import * as containers from './commands/containers.ts';
import * as run from './commands/run.ts';
import * as inspect from './commands/inspect.ts';
import { logs } from './commands/logs.ts';
import { stats, top } from './commands/stats.ts';
import { events } from './commands/events.ts';
import { exec } from './commands/exec.ts';
import { cp } from './commands/cp.ts';
import * as images from './commands/images.ts';
import * as system from './commands/system.ts';
import * as registry from './commands/registry.ts';

/** Top-level commands, as `docker <name>`. */
const TOP: Array<[string, CommandFactory]> = [
  ['attach', run.attach],
  ['cp', cp],
  ['create', run.create],
  ['events', events],
  ['exec', exec],
  ['history', images.history],
  ['images', images.images],
  ['import', images.importImage],
  ['load', images.load],
  ['login', registry.login],
  ['logout', registry.logout],
  ['info', system.info],
  ['inspect', inspect.inspect],
  ['kill', containers.kill],
  ['logs', logs],
  ['pause', containers.pause],
  ['ps', containers.ps],
  ['pull', registry.pull],
  ['push', registry.push],
  ['rename', containers.rename],
  ['restart', containers.restart],
  ['rm', containers.rm],
  ['rmi', images.rmi],
  ['run', run.run],
  ['save', images.save],
  ['start', run.start],
  ['stats', stats],
  ['stop', containers.stop],
  ['tag', images.tag],
  ['top', top],
  ['unpause', containers.unpause],
  ['version', system.version],
  ['wait', containers.wait],
];

/** Management commands: `docker container …`, `docker image …`, `docker system …` (name, factory, aliases). */
const GROUPS: Array<[string, string, Array<[string, CommandFactory, string[]]>]> = [
  ['container', 'Manage containers', [
    ['attach', run.attach, []],
    ['cp', cp, []],
    ['create', run.create, []],
    ['exec', exec, []],
    ['inspect', inspect.containerInspect, []],
    ['kill', containers.kill, []],
    ['logs', logs, []],
    ['ls', containers.ps, ['ps', 'list']],
    ['pause', containers.pause, []],
    ['prune', containers.prune, []],
    ['rename', containers.rename, []],
    ['restart', containers.restart, []],
    ['rm', containers.rm, ['remove']],
    ['run', run.run, []],
    ['start', run.start, []],
    ['stats', stats, []],
    ['stop', containers.stop, []],
    ['top', top, []],
    ['unpause', containers.unpause, []],
    ['wait', containers.wait, []],
  ]],
  ['image', 'Manage images', [
    ['history', images.history, []],
    ['import', images.importImage, []],
    ['inspect', inspect.imageInspect, []],
    ['load', images.load, []],
    ['ls', images.images, ['list']],
    ['prune', images.imagePrune, []],
    ['pull', registry.pull, []],
    ['push', registry.push, []],
    ['rm', images.rmi, ['remove']],
    ['save', images.save, []],
    ['tag', images.tag, []],
  ]],
  ['system', 'Manage berth', [
    ['df', system.df, []],
    ['events', events, []],
    ['info', system.info, []],
    ['orphans', system.orphans, []],
  ]],
];

function buildProgram(): Command {
  const program = new Command('berth')
    .description('berth: a container engine whose containers outlive their daemon')
    .usage('[OPTIONS] COMMAND')
    .option('-H, --host <unix:///path>', 'daemon socket to connect to')
    .version(`Berth version ${system.CLI_VERSION}, build ${process.env.BERTH_GIT_COMMIT ?? 'unknown'}`, '-v, --version', 'print version information and quit')
    .enablePositionalOptions()
    .exitOverride();
  const cli = createCli(program);
  for (const [name, factory] of TOP) factory(program, cli, name);
  for (const [groupName, description, members] of GROUPS) {
    const group = program.command(groupName).description(description).enablePositionalOptions();
    for (const [name, factory, aliases] of members) {
      const cmd = factory(group, cli, name);
      for (const alias of aliases) cmd.alias(alias);
    }
  }
  configureErrors(program);
  return program;
}

/** docker's wording for usage errors: "unknown flag: --x", "'berth rm' requires at least 1 argument", then where to get help. */
function configureErrors(cmd: Command): void {
  const path = commandPath(cmd);
  const required = cmd.registeredArguments.filter((a) => a.required);
  const variadic = cmd.registeredArguments.some((a) => a.variadic);
  const count = (n: number) => `${n} argument${n === 1 ? '' : 's'}`;
  const needs = `'${path}' requires ${variadic || required.length < cmd.registeredArguments.length ? 'at least ' : ''}${count(required.length)}`;
  cmd.exitOverride().configureOutput({
    outputError: (text, write) => {
      const message = text
        .replace(/^error: /, '')
        .replace(/^unknown option '([^']*)'.*/s, 'unknown flag: $1')
        .replace(/^option '([^']*)' argument missing.*/s, 'flag needs an argument: $1')
        .replace(/^missing required argument '([^']*)'.*/s, `berth: ${needs}`)
        .replace(/^too many arguments.*/s, `berth: '${path}' accepts ${cmd.registeredArguments.length === 0 ? 'no arguments' : `at most ${count(cmd.registeredArguments.length)}`}`)
        .replace(/^unknown command '([^']*)'.*/s, `berth: unknown command: ${path} $1`)
        .trimEnd();
      write(`${message}\n\nRun '${path} --help' for more information\n`);
    },
  });
  for (const sub of cmd.commands) configureErrors(sub);
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

async function main(): Promise<void> {
  // Output into a closed pipe (`berth events | head`): end quietly, as a Go program dies of SIGPIPE.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 141 : 1));
  }
  let code = 0;
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CliExit) {
      if (err.stderr !== undefined) process.stderr.write(`${err.stderr}\n`);
      code = err.code;
    } else if (err instanceof CommanderError) {
      // Help and version exit 0; wrong arguments or an unknown command 1, a bad flag 125, as with docker.
      const argumentErrors = ['commander.unknownCommand', 'commander.missingArgument', 'commander.excessArguments'];
      code = err.exitCode === 0 ? 0 : argumentErrors.includes(err.code) ? 1 : 125;
    } else {
      process.stderr.write(`${errorText(err)}\n`);
      code = 1;
    }
  }
  // Streams and waits the daemon still holds open (run -d's wait, events) must not keep us alive;
  // but what was written must get out first (to a pipe, process.exit drops queued writes).
  await Promise.all([process.stdout, process.stderr].map((stream) => new Promise<void>((resolve) => stream.write('', () => resolve()))));
  process.exit(code);
}

void main();
