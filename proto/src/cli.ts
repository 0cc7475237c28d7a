// Command line: argument parsing, printing, and writing outputs. It never
// exits the process itself (bin/tce2proto.js sets process.exitCode), and it
// writes nothing at all unless the whole compilation succeeded.
import fs from 'node:fs/promises';
import path from 'node:path';
import { compile, formatDiagnostic } from './compiler.js';

export interface Writable {
  write(s: string): unknown;
}

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
}

export const USAGE = `Usage: tce2proto [-I <include dir>]... -o <out dir> [--model <file.json>] <file.idl>...

Compiles TCE IDL files to proto3: one <Module>.proto per module, written to <out dir>.

Options:
  -I <dir>, -I<dir>     directory searched by 'import' (repeatable; the importing
                        file's own directory is always searched first)
  -o <dir>              output directory, created if missing (required)
  --model <file.json>   also write the resolved model as JSON
  -h, --help            show this help

Exit status: 0 on success, 1 on compile errors (nothing is written), 2 on bad usage.
`;

interface Args {
  includeDirs: string[];
  outDir: string | undefined;
  modelFile: string | undefined;
  files: string[];
  help: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { includeDirs: [], outDir: undefined, modelFile: undefined, files: [], help: false };
  const value = (i: number, flag: string): string => {
    const v = argv[i];
    if (v === undefined || v === '') throw new UsageError(`option ${flag} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      args.files.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-h' || a === '--help') args.help = true;
    else if (a === '-I') args.includeDirs.push(value(++i, '-I'));
    else if (a.startsWith('-I')) args.includeDirs.push(a.slice(2));
    else if (a === '-o') args.outDir = value(++i, '-o');
    else if (a.startsWith('-o')) args.outDir = a.slice(2);
    else if (a === '--model') args.modelFile = value(++i, '--model');
    else if (a.startsWith('--model=')) {
      args.modelFile = a.slice('--model='.length);
      if (args.modelFile === '') throw new UsageError('option --model needs a value');
    } else if (a.startsWith('-')) throw new UsageError(`unknown option '${a}'`);
    else args.files.push(a);
  }
  return args;
}

/** Runs tce2proto with the given arguments (without the program name); resolves to the exit code. */
export async function main(
  argv: readonly string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
    if (!args.help) {
      if (args.outDir === undefined) throw new UsageError('missing -o <out dir>');
      if (args.files.length === 0) throw new UsageError('no input files');
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`tce2proto: ${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    io.stdout.write(USAGE);
    return 0;
  }

  const result = compile({ includeDirs: args.includeDirs, files: args.files });
  if (!result.ok) {
    for (const d of result.diagnostics) io.stderr.write(`${formatDiagnostic(d)}\n`);
    return 1;
  }

  const outDir = args.outDir as string;
  try {
    await fs.mkdir(outDir, { recursive: true });
    for (const [name, text] of result.outputs) await fs.writeFile(path.join(outDir, name), text);
    if (args.modelFile !== undefined) {
      await fs.mkdir(path.dirname(args.modelFile), { recursive: true });
      await fs.writeFile(args.modelFile, `${JSON.stringify(result.model, null, 2)}\n`);
    }
  } catch (e) {
    io.stderr.write(`tce2proto: cannot write output: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  return 0;
}
