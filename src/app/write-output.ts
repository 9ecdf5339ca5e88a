import fs from 'node:fs';
import path from 'node:path';
import type { FileChange, WriteResult } from '../model/file-change.js';
import { type SinkOptions, resolveInside, writeChanges, writeFileAtomic } from '../sink/disk-sink.js';
import { UserError, isUserError } from '../util/errors.js';
import { isInside } from '../util/paths.js';

/**
 * The sink root and sink-relative path for a file the user asked for. Inside the project the root is the project
 * folder, so a folder on the way that is a symbolic link out of the project (`reports -> /home/runner`, added by a
 * pull request) is refused like any other escape. Outside it the root is the file's own folder: the user pointed
 * there on purpose.
 */
export function sinkTarget(projectDir: string, file: string): { root: string; path: string } {
  const root = path.resolve(projectDir);
  const absolute = path.resolve(file);
  if (absolute !== root && isInside(root, absolute)) return { root, path: path.relative(root, absolute).split(path.sep).join('/') };
  return { root: path.dirname(absolute), path: path.basename(absolute) };
}

const REASONS: Record<string, string> = {
  ENOTDIR: 'a part of the path is a file, not a folder',
  ENOENT: 'the folder cannot hold new files',
  EISDIR: 'it is a folder',
  EFBIG: 'the file is larger than the file-size limit',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ELOOP: 'too many symbolic links on the way',
  ENAMETOOLONG: 'the name is too long',
  EEXIST: 'a file is in the way of a folder',
};

/**
 * `writeChanges`, with every file-system failure turned into a one-line DEC-034 naming the file: the sink maps the
 * common ones (permissions, a full disk) itself; a path through a file (`out.txt/plan.yaml`), a file-size limit or a
 * pseudo file system would otherwise end as an internal error with a stack trace.
 *
 * Everything is checked first, all files at once (paths, symbolic links, files that are not ours), exactly as the
 * sink does; then the files are written one at a time, so a failure names its file. Each file is written to a
 * temporary name and renamed, so the one that failed is left as it was; and when one fails, the files written
 * before it in the same run are put back as they were (created files and folders removed, updated files
 * restored), so a run leaves all of its output or none of it.
 */
export function writeOutput(changes: FileChange[], options: SinkOptions): WriteResult[] {
  const preview = explained(() => writeChanges(changes, { ...options, dryRun: true }), options.root);
  if (options.dryRun) return preview;
  if (options.onConflict === 'refuse' && preview.some((p) => p.action === 'conflict')) {
    return explained(() => writeChanges(changes, options), options.root); // throws DEC-030 naming every conflict
  }
  const undo: Array<() => void> = [];
  const results: WriteResult[] = [];
  try {
    for (const [index, change] of changes.entries()) {
      // Checked in the preview: the file already holds this content (read again it would be read twice more).
      if (preview[index]?.action === 'unchanged') {
        results.push(preview[index]!);
        continue;
      }
      const absolute = resolveInside(path.resolve(options.root), change.path);
      const before = readIfFile(absolute);
      const newFolders = missingFolders(path.dirname(absolute));
      const written = explained(() => writeChanges([change], options), absolute);
      for (const result of written) {
        // Undone in reverse: the file first, then the folders made for it (deepest first).
        undo.push(() => {
          for (const folder of newFolders) fs.rmdirSync(folder);
        });
        if (result.action === 'create' || result.action === 'update') {
          undo.push(() => (before === null ? fs.rmSync(absolute, { force: true }) : writeFileAtomic(absolute, before)));
        } else if (result.action === 'conflict' && result.writtenTo) {
          const beside = result.writtenTo;
          undo.push(() => fs.rmSync(beside, { force: true }));
        }
        results.push(result);
      }
    }
  } catch (error) {
    for (const step of undo.reverse()) {
      try {
        step();
      } catch {
        // best effort: a file that cannot be put back stays complete (it was written whole)
      }
    }
    throw error;
  }
  return results;
}

function readIfFile(file: string): string | null {
  try {
    return fs.statSync(file).isFile() ? fs.readFileSync(file, 'utf8') : null;
  } catch {
    return null;
  }
}

/** The folders on the way to `folder` that do not exist yet, deepest first. */
function missingFolders(folder: string): string[] {
  const out: string[] = [];
  let current = folder;
  while (!fs.existsSync(current)) {
    out.push(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return out;
}

function explained<T>(write: () => T, file: string): T {
  try {
    return write();
  } catch (error) {
    if (isUserError(error)) throw error;
    const { code, path: where } = error as NodeJS.ErrnoException;
    if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) throw error;
    const named = where ? targetOf(where) : file;
    throw new UserError('DEC-034', `cannot write ${named}: ${REASONS[code] ?? 'the file system refused'} (${code})`, {
      hint: code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG' ? 'Free space (or raise the limit) and run again.' : 'Choose another output path, or fix the folder.',
      position: { file: named },
    });
  }
}

/** The sink writes `.<name>.<pid>.<random>.tmp` beside `<name>` first: name the file the user knows. */
function targetOf(file: string): string {
  const temp = /^\.(.+)\.\d+\.[0-9a-f]+\.tmp$/.exec(path.basename(file));
  return temp ? path.join(path.dirname(file), temp[1]!) : file;
}
