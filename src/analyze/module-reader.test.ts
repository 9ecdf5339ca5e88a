import { describe, expect, it } from 'vitest';
import { countLines } from './module-reader.js';

const byTrim = (text: string) => text.split('\n').filter((line) => line.trim().length > 0).length;

describe('countLines', () => {
  it('counts the lines trim() leaves something on, for every UTF-16 code unit', () => {
    for (let code = 0; code <= 0xffff; code += 1) {
      const c = String.fromCharCode(code);
      const text = `${c}\n  ${c}\r\n${c}x\n\n${c}`;
      if (countLines(text) !== byTrim(text)) expect({ code, counted: countLines(text) }).toEqual({ code, counted: byTrim(text) });
    }
  });

  it('agrees with split and trim on random text made of blanks, line breaks and letters', () => {
    const alphabet = [' ', '\t', '\n', '\r', '\u00a0', '\ufeff', '\u2028', '\u3000', 'a', ';'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let round = 0; round < 2000; round += 1) {
      let text = '';
      const length = next() % 40;
      for (let i = 0; i < length; i += 1) text += alphabet[next() % alphabet.length];
      expect(countLines(text), JSON.stringify(text)).toBe(byTrim(text));
    }
    expect(countLines('')).toBe(0);
  });
});
