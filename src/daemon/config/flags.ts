/** berthd's command line, built from the options table. */
import { Command, Option } from 'commander';
import { BERTH_VERSION } from '../../protocol/version.ts';
import type { CommandLine, FlagValues } from './config.ts';
import { DEFAULTS, OPTION_LIST } from './options.ts';

export function parseCommandLine(argv: string[]): CommandLine {
  const collect = (value: string, previous: string[] = []) => [...previous, value];
  const program = new Command('berthd')
    .description('berth daemon: a container engine whose containers outlive it')
    .version(BERTH_VERSION);
  const attributes: Array<[name: string, attribute: string]> = [];
  for (const [, { flag }] of OPTION_LIST) {
    if (!flag) continue;
    const option = new Option(`${flag.short ? `-${flag.short}, ` : ''}--${flag.name}${flag.arg ? ` ${flag.arg}` : ''}`, flag.description);
    if (flag.choices) option.choices(flag.choices);
    if (flag.repeatable) option.argParser(collect);
    program.addOption(option);
    attributes.push([flag.name, option.attributeName()]);
  }
  program.allowExcessArguments(false).parse(argv, { from: 'user' });
  const opts = program.opts<Record<string, string | string[] | boolean | undefined>>();
  const flags: FlagValues = Object.fromEntries(attributes.map(([name, attribute]) => [name, opts[attribute]]));
  const configFile = flags['config-file'] as string | undefined;
  return { flags, configFile: configFile ?? DEFAULTS.configFile, configFileGiven: configFile !== undefined };
}
