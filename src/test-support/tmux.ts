import { execFileSync, spawnSync } from 'node:child_process';

/** Whether tmux is installed: the terminal tests drive the CLI in its pseudo-terminals. */
export const hasTmux = spawnSync('tmux', ['-V']).status === 0;

/**
 * A tmux server of the test's own (its own socket, named after the test and this process), so the tests never
 * touch a developer's sessions, with what a test needs to drive a prompt: read the screen, wait for text, press keys.
 */
export function tmuxServer(name: string) {
  const socket = `${name}-${process.pid}`;

  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  /** The screen, or with `history` everything the session printed; `joined` undoes the terminal's line wrapping. */
  const pane = (session: string, history = false, joined = true): string =>
    tmux('capture-pane', '-p', ...(joined ? ['-J'] : []), '-t', session, ...(history ? ['-S', '-'] : []));

  /** Polls the screen until it shows `what` (the machine may be slow: generous timeouts, short polls). */
  const waitFor = async (session: string, what: string | RegExp, timeoutMs = 60_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    let text = '';
    while (Date.now() < deadline) {
      try {
        text = pane(session);
      } catch {
        break; // the session ended: nothing more will appear
      }
      if (typeof what === 'string' ? text.includes(what) : what.test(text)) return text;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out waiting for ${String(what)}; the pane shows:\n${text}`);
  };

  const keys = (session: string, ...names: string[]): void => {
    for (const key of names) tmux('send-keys', '-t', session, key);
  };

  /**
   * Moves the cursor of the select prompt on screen to the item `label` (the item equal to it, else the first that
   * starts with it) with the arrow keys, checks it is there, presses Enter.
   */
  const choose = async (session: string, label: string): Promise<void> => {
    const lines = (await waitFor(session, label)).split('\n');
    const start = lines.findLastIndex((l) => l.startsWith('? '));
    const items = lines.slice(start + 1).map((l) => l.replace(/^[❯>]?\s*/, '').trimEnd());
    const cursor = lines.slice(start + 1).findIndex((l) => /^[❯>]/.test(l));
    const exact = items.indexOf(label);
    const target = exact >= 0 ? exact : items.findIndex((item) => item.startsWith(label));
    if (cursor < 0 || target < 0) throw new Error(`no "${label}" in the prompt:\n${lines.join('\n')}`);
    for (let i = 0; i < Math.abs(target - cursor); i++) keys(session, target > cursor ? 'Down' : 'Up');
    await waitFor(session, new RegExp(`^[❯>] ${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}${exact >= 0 ? '\\s*$' : ''}`, 'm'), 5_000);
    keys(session, 'Enter');
  };

  const start = (session: string, command: string, columns: number, rows: number): void => {
    tmux('new-session', '-d', '-s', session, '-x', String(columns), '-y', String(rows), command);
  };

  const end = (session: string): void => {
    try {
      tmux('kill-session', '-t', session);
    } catch {
      // already gone
    }
  };

  /** Ends the server and every session left on it. */
  const stop = (): void => {
    try {
      tmux('kill-server');
    } catch {
      // no server left
    }
  };

  return { tmux, pane, waitFor, keys, choose, start, end, stop };
}
