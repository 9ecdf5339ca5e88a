import type { CoChange } from '../model/analysis.js';
import { compareStrings } from '../util/compare.js';

export interface CoChangeOptions {
  maxCommits: number;
  since: string | null;
  /** Commits touching more files than this are sweeping changes (renames, formatting) and say nothing about coupling. */
  maxFilesPerCommit: number;
}

/**
 * Git configuration that would let the analysed folder make git run a program while it only reads (the
 * `core.fsmonitor` hook runs on `diff` and `ls-files`), switched off for every git command decompose runs: a
 * folder received as an archive brings its own `.git/config`.
 */
const SAFE_GIT_CONFIG = ['-c', 'core.fsmonitor=false'];

/**
 * Runs a read-only git command in `cwd` with an argument array (never a shell) and the configuration above. execa is
 * loaded on first use: most analyses never run git, and loading it took about as long as a tenth of analysing a
 * thousand modules.
 */
export async function git(args: string[], cwd: string, options: { maxBuffer?: number } = {}) {
  const { execa } = await import('execa');
  return execa('git', [...SAFE_GIT_CONFIG, ...args], { cwd, reject: false, stdin: 'ignore', ...options });
}

/**
 * Which modules change together, from `git log --name-only` (bounded by commit count and date).
 * Returns null outside a git work tree. Git is run with an argument array, never a shell string.
 */
export async function readCoChange(root: string, modules: Set<string>, options: CoChangeOptions): Promise<CoChange | null> {
  const inside = await git(['rev-parse', '--show-prefix'], root);
  if (inside.exitCode !== 0) return null;
  const prefix = inside.stdout.trim();
  const args = ['log', '--no-merges', '--name-only', '--no-renames', '--no-show-signature', '--format=%x00commit', `--max-count=${options.maxCommits}`];
  if (options.since) args.push(`--since=${options.since}`);
  args.push('--', '.');
  const log = await git(args, root, { maxBuffer: 512 * 1024 * 1024 });
  if (log.exitCode !== 0) return null;
  const perModule = new Map<string, number>();
  const pairs = new Map<string, number>();
  let commits = 0;
  for (const chunk of log.stdout.split('\u0000commit')) {
    const files = chunk
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.length > 0)
      .map((line) => (prefix && line.startsWith(prefix) ? line.slice(prefix.length) : line))
      .filter((file) => modules.has(file));
    if (chunk.trim().length === 0) continue;
    commits += 1;
    const unique = [...new Set(files)].sort(compareStrings);
    if (unique.length > options.maxFilesPerCommit) continue;
    for (const file of unique) perModule.set(file, (perModule.get(file) ?? 0) + 1);
    for (let i = 0; i < unique.length; i++) {
      for (let j = i + 1; j < unique.length; j++) {
        const key = `${unique[i]}\u0000${unique[j]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + 1);
      }
    }
  }
  // Keys in sorted order, as every record of the analysis (see serializeAnalysis).
  return {
    commitsRead: commits,
    maxCommits: options.maxCommits,
    modules: [...perModule].map(([module, count]) => ({ commits: count, module })).sort((a, b) => compareStrings(a.module, b.module)),
    pairs: [...pairs]
      .map(([key, count]) => {
        const [a, b] = key.split('\u0000') as [string, string];
        return { a, b, commits: count };
      })
      .sort((x, y) => compareStrings(x.a, y.a) || compareStrings(x.b, y.b)),
    since: options.since,
  };
}
