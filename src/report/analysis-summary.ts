import type { ChalkInstance } from 'chalk';
import type { Analysis } from '../model/analysis.js';

const TOP = 5;

/** The terminal summary of an analysis: counts first, then the findings worth a look. Fits 80 columns. */
export function formatAnalysisSummary(analysis: Analysis, color: ChalkInstance): string {
  const lines: string[] = [];
  const runtimeEdges = analysis.imports.filter((e) => !e.typeOnly).length;
  const typeEdges = analysis.imports.length - runtimeEdges;
  const loc = analysis.modules.reduce((sum, m) => sum + m.loc, 0);
  lines.push(color.bold(`${analysis.project.name}: Express monolith`));
  lines.push(`  modules      ${analysis.modules.length} (${loc} lines)`);
  lines.push(`  imports      ${runtimeEdges} runtime, ${typeEdges} type-only, ${analysis.unresolvedImports.length} unresolved`);
  lines.push(`  routes       ${analysis.routes.length}${analysis.unresolvedRoutes.length ? `, ${analysis.unresolvedRoutes.length} not resolved statically` : ''}`);
  lines.push(`  entities     ${analysis.entities.length}`);
  lines.push(`  env vars     ${analysis.env.length} (${analysis.env.filter((e) => e.secretLike).length} secret-like)`);
  lines.push(`  hazards      ${analysis.hazards.length}`);
  lines.push(`  cycles       ${analysis.cycles.length}`);
  if (analysis.project.entries.length === 0) lines.push(color.yellow('  no app entry found'));
  else lines.push(`  entry        ${analysis.project.entries.join(', ')}`);
  if (analysis.coChange) lines.push(`  git          ${analysis.coChange.commitsRead} commits, ${analysis.coChange.pairs.length} co-changing pairs`);

  const shared = analysis.entities.filter((e) => new Set(e.writers.map(topFolder)).size > 1);
  if (shared.length > 0) {
    lines.push('', color.bold('Entities written from more than one area'));
    for (const entity of shared.slice(0, TOP)) lines.push(`  ${color.yellow(entity.name)}: ${entity.writers.join(', ')}`);
  }
  if (analysis.hazards.length > 0) {
    lines.push('', color.bold('Scale-out hazards'));
    for (const hazard of analysis.hazards.slice(0, TOP)) {
      lines.push(`  ${color.yellow(hazard.kind)} ${hazard.file}:${hazard.line}${hazard.symbol ? ` (${hazard.symbol})` : ''}`);
    }
    if (analysis.hazards.length > TOP) lines.push(`  … and ${analysis.hazards.length - TOP} more`);
  }
  const problems = [
    ...analysis.unresolvedRoutes.map((u) => `${u.file}:${u.line} route: ${u.reason}`),
    ...analysis.unresolvedImports.map((u) => `${u.file}:${u.line} import ${u.specifier}: ${u.existing ? `${u.reason} (the file is ${u.existing})` : u.reason}`),
    ...analysis.diagnostics.map((d) => `${d.file}:${d.line} ${d.message}`),
  ];
  if (problems.length > 0) {
    lines.push('', color.bold('Could not be read statically'));
    for (const problem of problems.slice(0, TOP)) lines.push(`  ${problem}`);
    if (problems.length > TOP) lines.push(`  … and ${problems.length - TOP} more (see the analysis file)`);
  }
  return lines.join('\n');
}

/** The first folder below src/ (or the top folder): a rough "area" for the summary. */
function topFolder(module: string): string {
  const parts = module.split('/');
  const start = parts[0] === 'src' || parts[0] === 'lib' || parts[0] === 'app' ? 1 : 0;
  return parts.length > start + 1 ? parts[start]! : '.';
}
