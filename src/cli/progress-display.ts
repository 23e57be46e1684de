/**
 * Renders Docker's JSON progress stream as the docker CLI does: on a terminal, one line per
 * layer updated in place with its progress bar; otherwise one line per status change.
 */
import type { JsonMessage } from '../client/client.ts';

const PROGRESS_STATUSES = new Set(['Downloading', 'Extracting', 'Pushing']);

export function progressPrinter(write: (text: string) => void, isTerminal: boolean): (m: JsonMessage) => void {
  const lines: string[] = [];
  const render = (m: JsonMessage) => `${m.id}: ${m.status ?? ''}${m.progress ? ` ${m.progress}` : ''}`;
  return (m) => {
    if (m.stream !== undefined) {
      write(m.stream);
      return;
    }
    if (m.aux || m.status === undefined) return;
    if (m.id === undefined) {
      write(`${m.status}\n`);
      return;
    }
    if (!isTerminal) {
      if (!PROGRESS_STATUSES.has(m.status)) write(`${render(m)}\n`);
      return;
    }
    const index = lines.indexOf(m.id);
    if (index < 0) {
      lines.push(m.id);
      write(`${render(m)}\n`);
      return;
    }
    const up = lines.length - index;
    write(`\x1b[${up}A\r\x1b[2K${render(m)}\r\x1b[${up}B`);
  };
}
