import { resolve } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { connectToRunningStack, StackNotRunningError } from '../local/stack.ts';
import { asOperator } from './operator.ts';

/**
 * The one way every operator CLI (`npm run merchant|channel|reconcile|audit|demo …`) parses its arguments, prints its
 * result and exits:
 * - `--help` / `-h` on the command and on every subcommand (printed to stdout, exit 0);
 * - the result is printed to stdout as JSON with snake_case keys (values are never changed);
 * - the command runs as the operator (`asOperator`), so the audit trail names who changed what;
 * - exit codes: 0 done, 1 failed or refused, 2 usage error (unknown command or option, missing argument),
 *   3 the local stack (or the configured endpoint) does not answer. Errors go to stderr as one readable line.
 */

type Options = NonNullable<ParseArgsConfig['options']>;

/** The parsed option values of a command declaring `O`. */
export type Values<O extends Options> = ReturnType<
  typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>
>['values'];

/** Where a command writes (tests pass their own). */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** What a command's `run` gets besides its options. */
export interface CommandContext extends CliIo {
  /** Positional arguments after the subcommand name. */
  positionals: string[];
  /** Prints one value as a line of snake_case JSON (for commands that stream records). */
  printLine: (value: unknown) => void;
}

/** One command (or subcommand). `run` returns what to print as JSON; `undefined` prints nothing. */
export interface Command<O extends Options = Options> {
  /** One line: what it does. */
  summary: string;
  /** The arguments, e.g. `--id ID [--grace-seconds N]`. */
  usage: string;
  /** Longer help: every option, formats, examples. */
  details?: string;
  options: O;
  run(values: Values<O>, context: CommandContext): Promise<unknown>;
}

/** Declares a command with its options' types inferred. */
export function command<O extends Options>(definition: Command<O>): Command<O> {
  return definition;
}

/** A CLI: either subcommands (`npm run merchant -- create …`) or one command (`npm run demo -- --unpaid`). */
export interface CliSpec {
  /** The npm script name: `npm run <name> -- …`. */
  name: string;
  summary: string;
  /** Subcommands by name; omit for a single-command CLI. */
  commands?: Record<string, Command>;
  /** The single command of a CLI without subcommands. */
  main?: Command;
  /** Printed at the end of every help text (e.g. which stack the command targets). */
  footer?: string;
  /** Keys whose value is printed verbatim (a map keyed by user-chosen names, e.g. a channel's `settings`). */
  verbatimKeys?: readonly string[];
}

/** A mistake in the command line: the help hint is printed and the exit code is 2. */
export class UsageError extends Error {}

/** An operation the tool refused or that failed at the target (exit 1); the message says why. */
export class CliError extends Error {}

const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;

const EXIT_CODES_HELP = `Exit codes: 0 done · 1 failed or refused · 2 usage error · 3 the local stack (npm start) or the configured
endpoint does not answer. Output: JSON with snake_case keys on stdout; errors on stderr.`;

/**
 * Runs a CLI with `argv` (without node and the script) and returns its exit code. Never throws; never calls
 * `process.exit` (see {@link runIfMain}).
 */
export async function runCli(spec: CliSpec, argv: string[], io: CliIo = processIo): Promise<number> {
  const verbatim = new Set(spec.verbatimKeys ?? []);
  const json = (value: unknown, indent?: number) => JSON.stringify(snakeCaseKeys(value, verbatim), null, indent);
  let subcommand: string | undefined;
  try {
    const { name, cmd, rest } = pick(spec, argv);
    subcommand = name;
    if (!cmd) {
      if (argv.length > 0) io.stdout(`${topHelp(spec)}\n`);
      else io.stderr(`${topHelp(spec)}\n`);
      return argv.length > 0 ? EXIT.ok : EXIT.usage;
    }
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout(`${commandHelp(spec, name, cmd)}\n`);
      return EXIT.ok;
    }
    const parsed = parse(cmd, rest);
    const result = await asOperator(() =>
      cmd.run(parsed.values, {
        ...io,
        positionals: parsed.positionals,
        printLine: (value) => io.stdout(`${json(value)}\n`),
      }),
    );
    if (result !== undefined) io.stdout(`${json(result, 2)}\n`);
    return EXIT.ok;
  } catch (error) {
    return report(spec, subcommand, error, io);
  }
}

/** Runs a CLI in process and captures its exit code and what it printed. */
export async function runCliCaptured(
  spec: CliSpec,
  argv: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(spec, argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

/**
 * Runs a CLI in process and returns its JSON output parsed (for tests, and for code that composes commands); a
 * non-zero exit throws a {@link CliError} whose message is `exit <code>: <stderr>`.
 */
export async function runCliForJson(spec: CliSpec, argv: string[]): Promise<unknown> {
  const { code, stdout, stderr } = await runCliCaptured(spec, argv);
  if (code !== 0) throw new CliError(`exit ${code}: ${stderr.trim()}`);
  return stdout.trim() === '' ? undefined : JSON.parse(stdout);
}

/**
 * The entry of a CLI script: when the file `filename` (its `import.meta.filename`) is the script node was started
 * with, runs the CLI on `process.argv` and sets the exit code; when a test imports the file, does nothing.
 */
export function runIfMain(filename: string, spec: CliSpec): void {
  if (!process.argv[1] || resolve(process.argv[1]) !== filename) return;
  void runCli(spec, process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

/**
 * Points the process at the target of an operator command: the AWS environment when `TABLE_NAME` is set, else the
 * stack `npm start` is running (from `.local/stack.json`, or `PAY_GATEWAY_LOCAL_DIR`). Returns which.
 */
export function connectTarget(): 'aws' | 'local' {
  if (process.env.TABLE_NAME) return 'aws';
  connectToRunningStack(localDir());
  return 'local';
}

/** The local stack's directory (`.local/` of the project; `PAY_GATEWAY_LOCAL_DIR` overrides it, e.g. in tests). */
export function localDir(): string {
  return process.env.PAY_GATEWAY_LOCAL_DIR || resolve(import.meta.dirname, '..', '.local');
}

function pick(spec: CliSpec, argv: string[]): { name?: string; cmd?: Command; rest: string[] } {
  if (spec.main) return { cmd: spec.main, rest: argv };
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') return { rest };
  if (first.startsWith('-')) throw new UsageError(`a command comes first (${commandNames(spec)}), got ${first}`);
  const cmd = spec.commands?.[first];
  if (!cmd) throw new UsageError(`unknown command '${first}' (commands: ${commandNames(spec)})`);
  return { name: first, cmd, rest };
}

function parse(cmd: Command, args: string[]) {
  try {
    const parsed = parseArgs({ args, options: cmd.options, allowPositionals: true, strict: true });
    return { values: parsed.values as Values<Options>, positionals: parsed.positionals };
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.replace(/\. To specify.*$/s, '') : String(error));
  }
}

function report(spec: CliSpec, subcommand: string | undefined, error: unknown, io: CliIo): number {
  const prefix = `npm run ${spec.name}${subcommand ? ` -- ${subcommand}` : ''}`;
  if (error instanceof UsageError) {
    io.stderr(
      `${prefix}: ${error.message}\nRun \`npm run ${spec.name} -- ${subcommand ?? ''}${subcommand ? ' ' : ''}--help\` for usage.\n`,
    );
    return EXIT.usage;
  }
  const unreachable = unreachableMessage(error);
  if (unreachable) {
    io.stderr(`${prefix}: ${unreachable}\n`);
    return EXIT.unreachable;
  }
  io.stderr(`${prefix}: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT.failed;
}

/** Whether the error means nothing answers at the target (a refused connection anywhere in its causes). */
function unreachableMessage(error: unknown): string | undefined {
  if (error instanceof StackNotRunningError) return error.message;
  const refused = findCause(error, (cause) => ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH'].includes(code(cause)));
  if (!refused) return undefined;
  const where = refused instanceof Error && 'address' in refused ? describeAddress(refused) : '';
  return process.env.TABLE_NAME && !process.env.AWS_ENDPOINT_URL_DYNAMODB
    ? `cannot reach the AWS endpoint${where}: ${code(refused)}`
    : `the local stack is not running (nothing answers${where}): start it with \`npm start\``;
}

function describeAddress(error: Error): string {
  const { address, port } = error as Error & { address?: string; port?: number };
  return address ? ` at ${address}${port ? `:${port}` : ''}` : '';
}

function code(value: unknown): string {
  return typeof value === 'object' && value !== null && 'code' in value ? String(value.code) : '';
}

function findCause(error: unknown, match: (value: unknown) => boolean, depth = 0): unknown {
  if (depth > 8 || typeof error !== 'object' || error === null) return undefined;
  if (match(error)) return error;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const found = findCause(inner, match, depth + 1);
      if (found) return found;
    }
  }
  return 'cause' in error ? findCause(error.cause, match, depth + 1) : undefined;
}

/** A copy of `value` whose object keys are snake_case (`singleLimitMinor` → `single_limit_minor`). */
export function snakeCaseKeys(value: unknown, verbatim: ReadonlySet<string> = new Set()): unknown {
  if (Array.isArray(value)) return value.map((item) => snakeCaseKeys(item, verbatim));
  if (typeof value !== 'object' || value === null || value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => {
      const snake = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
      return [snake, verbatim.has(snake) ? inner : snakeCaseKeys(inner, verbatim)];
    }),
  );
}

function commandNames(spec: CliSpec): string {
  return Object.keys(spec.commands ?? {}).join(', ');
}

function topHelp(spec: CliSpec): string {
  const commands = Object.entries(spec.commands ?? {});
  const width = Math.max(...commands.map(([name]) => name.length));
  return [
    `npm run ${spec.name} -- <command> [options]`,
    '',
    spec.summary,
    '',
    'Commands:',
    ...commands.map(([name, cmd]) => `  ${name.padEnd(width)}  ${cmd.summary}`),
    '',
    `Run \`npm run ${spec.name} -- <command> --help\` for a command's options.`,
    ...footer(spec),
  ].join('\n');
}

function commandHelp(spec: CliSpec, name: string | undefined, cmd: Command): string {
  const invocation = name ? `npm run ${spec.name} -- ${name}` : `npm run ${spec.name} --`;
  return [
    `${invocation} ${cmd.usage}`.trimEnd(),
    '',
    name ? cmd.summary : spec.summary,
    ...(cmd.details ? ['', cmd.details.trim()] : []),
    ...footer(spec),
  ].join('\n');
}

function footer(spec: CliSpec): string[] {
  return ['', ...(spec.footer ? [spec.footer.trim(), ''] : []), EXIT_CODES_HELP];
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};
