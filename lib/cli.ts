#!/usr/bin/env node
// The convkit command: train, evaluate, predict, export, report, summary, info, selftest, build.
// Exit codes: 0 success, 2 bad usage, 1 failure (one line; the stack with --verbose), 130 interrupted.
import { parseArgs } from 'node:util';
import { buildCommand } from './cli/build.js';
import { evaluateCommand, exportCommand, infoCommand, predictCommand, reportCommand, selftestCommand, summaryCommand } from './cli/commands.js';
import { type Flags, HELP, Interrupted, OPTIONS, UsageError } from './cli/options.js';
import { train } from './cli/train.js';
import { VERSION } from './version.js';

export async function main(argv: string[]): Promise<number> {
  let flags: Flags = {};
  try {
    const parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    flags = parsed.values as Flags;
    const [command, ...rest] = parsed.positionals;
    if (flags.version) {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    if (flags.help || command === 'help' || command === undefined) {
      process.stdout.write(HELP);
      return command === undefined && !flags.help ? 2 : 0;
    }
    if (rest.length > (command === 'report' ? 1 : 0)) throw new UsageError(`unexpected argument '${rest[rest.length - 1]}'`);
    switch (command) {
      case 'train':
        await train(flags);
        return 0;
      case 'evaluate':
        await evaluateCommand(flags);
        return 0;
      case 'predict':
        await predictCommand(flags);
        return 0;
      case 'summary':
        summaryCommand(flags);
        return 0;
      case 'export':
        await exportCommand(flags);
        return 0;
      case 'report':
        await reportCommand(flags, rest.shift());
        return 0;
      case 'info':
        infoCommand(flags);
        return 0;
      case 'selftest':
        return selftestCommand(flags);
      case 'build':
        buildCommand({ quiet: flags.quiet });
        return 0;
      default:
        throw new UsageError(`unknown command '${command}'; commands: train, evaluate, predict, export, report, summary, info, selftest, build`);
    }
  } catch (error) {
    if (error instanceof Interrupted) return 130;
    const e = error as Error & { code?: string };
    const usage = error instanceof UsageError || (typeof e.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS'));
    process.stderr.write(`convkit: ${usage ? '' : `${e.name === 'Error' ? 'error' : e.name}: `}${e.message}\n`);
    if (usage) process.stderr.write(`run 'convkit --help' for usage\n`);
    if (flags.verbose && e.stack) process.stderr.write(`${e.stack}\n`);
    return usage ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
