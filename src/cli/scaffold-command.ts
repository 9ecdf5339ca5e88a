import path from 'node:path';
import type { WriteResult } from '../model/file-change.js';
import { ExitCode, UserError } from '../util/errors.js';
import type { CommandRegistry } from './main.js';

interface ScaffoldFlags {
  plan?: string;
  out?: string;
  dryRun?: boolean;
  force?: boolean;
  only?: string;
  host?: string;
  registry?: string;
  ci?: string;
}

export function registerScaffold({ program, action }: CommandRegistry): void {
  const command = program
    .command('scaffold [dir]')
    .description('write runnable services made from the monolith\'s code, a gateway that keeps every URL, and their deployment files into decomposed/')
    .option('--plan <file>', 'the plan to scaffold (default: <dir>/decompose.plan.yaml)')
    .option('--out <dir>', 'where the workspace goes (default: <dir>/decomposed)')
    .option('--dry-run', 'print the files it would create or change, write nothing')
    .option('--force', 'overwrite generated files even where someone edited them (default: keep theirs, write ours beside it as .decompose-new)')
    .option('--only <targets>', 'comma-separated subset of services,gateway,docker,k8s,observability,ci (default: all)')
    .option('--host <name>', 'public host name of the Ingress (default: <project>.example.com)')
    .option('--registry <registry>', 'image registry of the production images, e.g. ghcr.io/acme')
    .option('--ci <provider>', 'CI pipeline to write at the repository root: github or gitlab', 'github')
    .addHelpText(
      'after',
      `
Examples:
  $ decompose scaffold                         write decomposed/ from decompose.plan.yaml
  $ decompose scaffold --dry-run               list what would be created or changed
  $ decompose scaffold --only services,gateway code and gateway only
  $ decompose scaffold --ci gitlab --host shop.example.com --registry ghcr.io/acme

Files decompose wrote before are updated; a file someone edited since is kept and the new version is written beside
it as <name>.decompose-new (use --force to overwrite). Running it twice on the same plan changes nothing.
Exit codes: 0 written (or nothing to change), 2 bad input (missing or invalid plan, unusable names).`,
    );
  action(command, async (args, output, globals) => {
    const [dirArg] = args as [string | undefined];
    const flags = command.opts<ScaffoldFlags>();
    const cwd = path.resolve(globals.cwd ?? process.cwd());
    const dir = path.resolve(cwd, dirArg ?? '.');
    const { SCAFFOLD_TARGETS } = await import('../scaffold/scaffold.js');
    let targets = [...SCAFFOLD_TARGETS];
    if (flags.only !== undefined) {
      const asked = flags.only.split(',').map((t) => t.trim()).filter(Boolean);
      const unknown = asked.filter((t) => !(SCAFFOLD_TARGETS as readonly string[]).includes(t));
      if (unknown.length > 0) throw new UserError('DEC-095', `--only ${unknown.join(',')}: unknown target`, { hint: `choose from ${SCAFFOLD_TARGETS.join(', ')}` });
      targets = SCAFFOLD_TARGETS.filter((t) => asked.includes(t));
    }
    const { runScaffold } = await import('../app/run-scaffold.js');
    output.progress('analysing the code and rendering the workspace…');
    const run = await runScaffold({
      dir,
      planFile: flags.plan ? path.resolve(cwd, flags.plan) : undefined,
      out: flags.out ? path.resolve(cwd, flags.out) : undefined,
      dryRun: flags.dryRun === true,
      force: flags.force === true,
      targets,
      host: flags.host,
      registry: flags.registry,
      ci: flags.ci,
    });
    const all = [...run.results.map((r) => ({ ...r, root: run.outDir })), ...run.ciResults.map((r) => ({ ...r, root: dir }))];
    if (output.json) {
      output.data(JSON.stringify({ outDir: run.outDir, dryRun: flags.dryRun === true, files: all.map((r) => ({ path: path.relative(dir, path.join(r.root, r.path)).split(path.sep).join('/'), action: r.action, writtenTo: r.writtenTo })), summary: run.summary }, null, 2));
      return ExitCode.ok;
    }
    const counts = countActions(all);
    if (flags.dryRun) {
      for (const r of all) output.info(`${label(r.action, true)} ${path.relative(cwd, path.join(r.root, r.path))}`);
    } else {
      for (const r of all.filter((x) => x.action === 'conflict')) {
        output.warn(`${path.relative(cwd, path.join(r.root, r.path))} was edited since decompose wrote it: kept it, wrote the new version to ${path.relative(cwd, r.writtenTo ?? '')}`);
      }
    }
    const verb = flags.dryRun ? 'would create' : 'created';
    output.info(
      `${path.relative(cwd, run.outDir) || '.'}: ${verb} ${counts.create}, ${flags.dryRun ? 'would update' : 'updated'} ${counts.update}, unchanged ${counts.unchanged}, kept (edited) ${counts.conflict}`,
    );
    for (const service of run.summary.services) {
      output.info(`  ${service.name}: ${service.files} modules, ${service.facades} remote modules, ${service.operations} internal operations, ${service.cachedRoutes} cached routes`);
    }
    const stubs = run.summary.notes.filter((n) => n.kind === 'stub').length;
    const proxies = run.summary.notes.filter((n) => n.kind === 'data-proxy').length;
    output.info(`MIGRATION.md lists ${stubs} stubbed call${stubs === 1 ? '' : 's'} and ${proxies} data prox${proxies === 1 ? 'y' : 'ies'} that need a person.`);
    return ExitCode.ok;
  });
}

function countActions(results: WriteResult[]): Record<WriteResult['action'], number> {
  const counts = { create: 0, update: 0, unchanged: 0, conflict: 0 };
  for (const r of results) counts[r.action] += 1;
  return counts;
}

function label(action: WriteResult['action'], dryRun: boolean): string {
  void dryRun;
  return { create: 'CREATE   ', update: 'UPDATE   ', unchanged: 'UNCHANGED', conflict: 'CONFLICT ' }[action];
}
