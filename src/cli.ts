#!/usr/bin/env node
/**
 * tslab-parallel — a TypeScript Jupyter kernel with parallel magics.
 *
 *   tslab-parallel install [--user | --sys-prefix | --prefix DIR]   register the kernel with Jupyter
 *   tslab-parallel uninstall [--user | --sys-prefix | --prefix DIR]
 *   tslab-parallel kernel -f CONNECTION_FILE                       run the kernel (Jupyter does this)
 *   tslab-parallel run NOTEBOOK|DIR... [--output DIR] [--timeout S] [--allow-errors] [--strict]
 *   tslab-parallel slides NOTEBOOK|DIR... [--output DIR] [--theme NAME] [--optional]
 *   tslab-parallel mpirun -np N FILE.ts [ARGS...]
 *   tslab-parallel rank SCRIPT.ts [ARGS...]        (under mpirun or srun)
 *   tslab-parallel doctor
 */
import { install, kernelsDir, uninstall, type InstallTarget } from './cli/install.js';
import { doctorCommand } from './cli/doctor.js';
import { mpirunCommand } from './cli/mpirun.js';
import { rankCommand } from './cli/rank.js';
import { runCommand } from './cli/run.js';
import { slidesCommand } from './cli/slides.js';

const kUsage = `Usage: tslab-parallel <command> [options]

Commands:
  install [--user | --sys-prefix | --prefix DIR]   register the "TypeScript (parallel)" kernel with Jupyter (default --user)
  uninstall [--user | --sys-prefix | --prefix DIR] remove it
  kernel -f CONNECTION_FILE                       run the kernel (Jupyter starts this from the kernelspec)
  run NOTEBOOK|DIR... [--output DIR] [--timeout S] [--allow-errors] [--strict]
                                                  execute notebooks top to bottom and write the results
  slides NOTEBOOK|DIR... [--output DIR] [--theme NAME] [--optional]
                                                  reveal.js slides with nbconvert, working offline
                                                  (--optional: without nbconvert, say so and exit 0)
  mpirun -np N [--backend threads|processes|mpi] [--timeout S] FILE.ts [ARGS...]
                                                  run a script as N ranks (comm, rank, size in scope)
  rank SCRIPT.ts [ARGS...]                        one rank of a script under any launcher:
                                                  mpirun -np 4 npx tslab-parallel rank script.ts (or srun)
  doctor                                          what the Open MPI backend needs, and what is missing
  help                                            this text`;

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, Command> = {
  async install(argv) {
    const dir = install(installTarget(argv));
    console.log(`Installed the kernelspec "tslab-parallel" in ${dir}`);
    return 0;
  },
  async uninstall(argv) {
    const target = installTarget(argv);
    const dir = uninstall(target);
    console.log(dir ? `Removed ${dir}` : `No tslab-parallel kernelspec in ${kernelsDir(target)}`);
    return 0;
  },
  async kernel(argv) {
    const at = argv.findIndex((a) => a === '-f' || a === '--connection-file');
    const file = at >= 0 ? argv[at + 1] : argv.find((a) => a.endsWith('.json'));
    if (!file) throw new Error('kernel needs a connection file: tslab-parallel kernel -f CONNECTION_FILE');
    const { runKernel } = await import('./kernel/main.js');
    await runKernel(file);
    return -1; // keeps running; the kernel exits the process itself
  },
  run: runCommand,
  mpirun: mpirunCommand,
  rank: rankCommand,
  doctor: doctorCommand,
  slides: slidesCommand,
  async help() {
    console.log(kUsage);
    return 0;
  },
};

function installTarget(argv: string[]): InstallTarget {
  const target: { user?: boolean; sysPrefix?: boolean; prefix?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--user') target.user = true;
    else if (argv[i] === '--sys-prefix') target.sysPrefix = true;
    else if (argv[i] === '--prefix') target.prefix = argv[++i];
    else throw new Error(`unknown option ${argv[i]} (valid: --user, --sys-prefix, --prefix DIR)`);
  }
  if ([target.user, target.sysPrefix, target.prefix].filter(Boolean).length > 1) {
    throw new Error('--user, --sys-prefix and --prefix choose where to install: give one');
  }
  return target;
}

/** Registers a command from another module (kept here so `help` lists every command). */
export function addCommand(name: string, command: Command): void {
  commands[name] = command;
}

async function main(argv: string[]): Promise<void> {
  const [name = 'help', ...rest] = argv;
  const command = commands[name === '--help' || name === '-h' ? 'help' : name];
  if (!command) {
    console.error(`tslab-parallel: unknown command '${name}'\n\n${kUsage}`);
    process.exitCode = 2;
    return;
  }
  try {
    const code = await command(rest);
    if (code >= 0) process.exitCode = code;
  } catch (err) {
    console.error(`tslab-parallel ${name}: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main(process.argv.slice(2));
