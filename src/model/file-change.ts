/** A file that a stage wants to exist with this content; only sink/ turns these into disk writes. */
export interface FileChange {
  /** POSIX path relative to the sink's root folder. */
  path: string;
  content: string;
  /** Owned files may be replaced; anything else at that path is the user's and is never overwritten without force. */
  isOurs: (existingContent: string) => boolean;
}

export type WriteAction = 'create' | 'update' | 'unchanged' | 'conflict';

export interface WriteResult {
  path: string;
  action: WriteAction;
  /** For a conflict kept aside: where the new version went, if it was written at all. */
  writtenTo: string | null;
}
