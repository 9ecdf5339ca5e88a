import fs from 'node:fs';
import path from 'node:path';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { tempFolder } from '../test-support/temp-project.js';
import { makeFolders, sameBytes } from './disk-sink.js';

describe('sameBytes', () => {
  // What a file holds when the content is written: Node's UTF-8 (a lone surrogate becomes U+FFFD).
  const written = (content: string) => Buffer.from(content, 'utf8');

  it('says what comparing with the written bytes says, across the megabyte chunks it encodes', () => {
    const random = seedrandom('same bytes');
    const pieces = ['a', 'é', '€', '😀', '\ud800', '\udc00', '\n', 'xyz'];
    for (const length of [0, 1, 3, 1000, 400_000, 700_000]) {
      let content = '';
      while (content.length < length) content += pieces[Math.floor(random() * pieces.length)];
      const bytes = written(content);
      expect(sameBytes(bytes, content), `length ${length}`).toBe(true);
      if (bytes.length === 0) continue;
      expect(sameBytes(bytes.subarray(0, bytes.length - 1), content)).toBe(false);
      expect(sameBytes(Buffer.concat([bytes, Buffer.from('x')]), content)).toBe(false);
      const changed = Buffer.from(bytes);
      const at = Math.floor(random() * changed.length);
      changed[at] = changed[at]! ^ 0x20;
      expect(sameBytes(changed, content)).toBe(changed.equals(bytes));
    }
  });

  it('compares a surrogate pair that straddles a chunk boundary whole', () => {
    // 1 MiB of one-byte characters less one, then pairs: the first pair's four bytes do not fit the first chunk.
    for (const lead of [(1 << 20) - 1, (1 << 20) - 2, (1 << 20) - 3]) {
      const content = `${'a'.repeat(lead)}${'😀'.repeat(10)}`;
      expect(sameBytes(written(content), content)).toBe(true);
      expect(sameBytes(written(`${content}!`), content)).toBe(false);
    }
  });
});

describe('makeFolders', () => {
  const codeOf = (run: () => void) => {
    try {
      run();
      return 'made';
    } catch (error) {
      return (error as NodeJS.ErrnoException).code;
    }
  };

  it('makes the missing folders, with the mode given, and fails as mkdirSync does', () => {
    const root = tempFolder();
    const deep = path.join(root, 'a', 'b', 'c');
    makeFolders(deep, 0o700);
    expect(fs.statSync(deep).isDirectory()).toBe(true);
    expect(fs.statSync(path.join(root, 'a')).mode & 0o777).toBe(0o700);
    makeFolders(deep);
    fs.writeFileSync(path.join(root, 'file'), 'x');
    expect(codeOf(() => makeFolders(path.join(root, 'file')))).toBe('EEXIST');
    expect(codeOf(() => makeFolders(path.join(root, 'file', 'below')))).toBe('ENOTDIR');
  });

  it.runIf(fs.existsSync('/proc/self'))('fails where a folder cannot be made under one that exists (mkdirSync recursive loops forever there)', () => {
    expect(codeOf(() => makeFolders('/proc/decompose-test/below'))).toBe('ENOENT');
  });
});
