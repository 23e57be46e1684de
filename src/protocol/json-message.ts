/**
 * Docker's JSON message stream (pull, push, load, import): the daemon sends one message per
 * line as the work goes on, the client reads them (progress bars, errors after the start).
 */
export interface JsonMessage {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  stream?: string;
  aux?: Record<string, unknown>;
  error?: string;
  errorDetail?: { message?: string };
}

/** Where the image side reports progress: one call per message of the stream. */
export type Progress = (message: JsonMessage) => void;

/** One message as dockerd writes it (CRLF-terminated). */
export function encodeJsonMessage(message: JsonMessage): string {
  return JSON.stringify(message) + '\r\n';
}
