/** One line of Docker's JSON message stream (pull, push, load, import). */
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
