import { humanSize } from '../lib/go/units.ts';
import type { Progress } from '../protocol/json-message.ts';

/** Docker's short layer ID in progress lines. */
export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** The bar Docker sends in "progress" for clients that do not draw their own. */
export function progressBar(current: number, total: number): string {
  if (total <= 0) return humanSize(current);
  const width = 50;
  const filled = Math.min(width, Math.floor((current / total) * width));
  const bar = '='.repeat(Math.max(0, filled - 1)) + (filled > 0 ? '>' : '') + ' '.repeat(width - filled);
  return `[${bar}] ${humanSize(current)}/${humanSize(total)}`;
}

/** Progress for a byte stream, at most every `intervalMs`, plus the last one. */
export function byteProgress(progress: Progress, id: string, status: string, total: number, intervalMs = 100): (current: number) => void {
  let last = 0;
  return (current) => {
    const now = Date.now();
    if (current < total && now - last < intervalMs) return;
    last = now;
    progress({ status, id, progressDetail: { current, total }, progress: progressBar(current, total) });
  };
}
