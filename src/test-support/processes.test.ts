import fs from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from './processes.js';

describe('freePort (for servers the tests start)', () => {
  it('hands out ports below the kernel\'s ephemeral range, never the same twice, skipping one that is taken', async () => {
    const ephemeralStart = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    const first = await freePort();
    const squatter = net.createServer();
    await new Promise<void>((r) => squatter.listen(first + 1, '127.0.0.1', r));
    try {
      const second = await freePort();
      expect(second).toBeGreaterThan(first + 1);
      const more = [first, second, ...(await Promise.all([freePort(), freePort(), freePort()]))];
      expect(new Set(more).size).toBe(more.length);
      for (const port of more) expect(port).toBeLessThan(ephemeralStart);
    } finally {
      await new Promise<void>((r) => squatter.close(() => r()));
    }
  });
});
