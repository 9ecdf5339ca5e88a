import type { ChalkInstance } from 'chalk';
import type { Plan } from '../model/plan.js';
import { METRICS, formatNumber } from './plan-markdown.js';

/** Labels that keep the table within 80 columns (PLAN.md spells them out). */
const SHORT_LABELS: Record<string, string> = {
  sm: 'SM (modularity)',
  icp: 'ICP (inter-call %)',
  ifn: 'IFN (interfaces)',
  ned: 'NED (size spread)',
  bcp: 'BCP (use-case mix)',
  crossServiceEdges: 'cross-service edges',
  crossServiceWeight: 'cross-service weight',
  conflicts: 'data conflicts',
  dataOwnershipEntropy: 'ownership entropy',
  coChangeModularity: 'co-change modularity',
  services: 'services',
};

/** The terminal summary of a plan: services, metrics (against baselines when computed), what needs a human. */
export function formatPlanSummary(plan: Plan, color: ChalkInstance): string {
  const lines: string[] = [];
  const convertible = plan.seams.filter((s) => s.convertible).length;
  lines.push(color.bold(`${plan.project}: ${plan.services.length} services, ${plan.sharedLibraries.length} shared libraries`));
  lines.push('');
  lines.push(`  ${pad('service', 16)}${pad('modules', 9)}${pad('routes', 8)}${pad('LOC', 7)}owns`);
  for (const service of plan.services) {
    const owns = service.owns.join(', ');
    lines.push(`  ${pad(service.name, 16)}${pad(String(service.moduleCount), 9)}${pad(String(service.routes.length), 8)}${pad(String(service.loc), 7)}${owns.length > 34 ? `${owns.slice(0, 33)}…` : owns}`);
  }
  lines.push('');
  const baselineNames = plan.baselines.map((b) => b.name);
  lines.push(`  ${pad('metric', 24)}${pad('plan', 9)}${baselineNames.map((n) => pad(n.slice(0, 15), 16)).join('')}`);
  for (const metric of METRICS) {
    const value = (m: Plan['metrics']) => formatNumber((m as unknown as Record<string, number | null>)[metric.key] ?? null);
    const arrow = metric.better === 'higher' ? '↑' : metric.better === 'lower' ? '↓' : ' ';
    lines.push(`  ${pad(`${SHORT_LABELS[metric.key] ?? metric.key} ${arrow}`, 24)}${pad(value(plan.metrics), 9)}${plan.baselines.map((b) => pad(value(b.metrics), 16)).join('')}`);
  }
  if (plan.mojofm !== null) lines.push(`  ${pad('MoJoFM vs intended ↑', 24)}${plan.mojofm}%`);
  lines.push('');
  lines.push(`  conflicts: ${plan.conflicts.length}${plan.conflicts.length ? ` (${plan.conflicts.map((c) => `${c.entity} → ${c.recommended}`).join(', ')})` : ''}`);
  lines.push(`  seams: ${plan.seams.length} (${convertible} become HTTP calls as they are, ${plan.seams.length - convertible} need work)`);
  lines.push(`  hazards: ${plan.services.reduce((n, s) => n + s.hazards.length, 0)}`);
  return lines.join('\n');
}

function pad(text: string, width: number): string {
  return text.length >= width ? `${text.slice(0, width - 1)} ` : text + ' '.repeat(width - text.length);
}
