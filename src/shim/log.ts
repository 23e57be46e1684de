/** The shim's own log: JSON lines on stderr, which the daemon points at the bundle's shim.log. */
export type Log = (level: 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;

export const log: Log = (level, msg, extra = {}) => {
  process.stderr.write(JSON.stringify({ level, time: new Date().toISOString(), component: 'shim', pid: process.pid, msg, ...extra }) + '\n');
};
