import path from 'node:path';

/** Repo-relative POSIX path: the only form of path that crosses a stage boundary. */
export function toRepoPath(root: string, absolute: string): string {
  return path.relative(root, absolute).split(path.sep).join('/');
}

export function fromRepoPath(root: string, repoPath: string): string {
  return path.join(root, ...repoPath.split('/'));
}

/** True when `candidate` is `parent` or lies inside it (after resolving both). */
export function isInside(parent: string, candidate: string): boolean {
  const rel = path.relative(path.resolve(parent), path.resolve(candidate));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
