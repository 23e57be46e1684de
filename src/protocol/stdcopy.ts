/**
 * Docker's multiplexed stream framing: [stream, 0, 0, 0, size(4, big-endian)] + payload.
 * The API sends it to clients (attach, logs, exec) and the shim sends it to the daemon for
 * an exec, which it ends with one EXEC_EXIT_FRAME.
 */
export const STREAM_STDOUT = 1;
export const STREAM_STDERR = 2;
/**
 * Shim protocol 1.1: the last frame of an exec connection; its payload is a JSON ExecExit
 * (protocol/shim.ts). Docker uses 0 for stdin and 3 for systemerr; 4 is berth's own.
 */
export const EXEC_EXIT_FRAME = 4;

export type FrameStream = typeof STREAM_STDOUT | typeof STREAM_STDERR | typeof EXEC_EXIT_FRAME;

const HEADER_SIZE = 8;

export function frame(stream: FrameStream, payload: Buffer): Buffer {
  const header = Buffer.alloc(HEADER_SIZE);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Splits a multiplexed stream back into its frames. */
export class FrameDecoder {
  #buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onFrame: (stream: number, payload: Buffer) => void): void {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    while (this.#buffer.length >= HEADER_SIZE) {
      const size = this.#buffer.readUInt32BE(4);
      if (this.#buffer.length < HEADER_SIZE + size) break;
      onFrame(this.#buffer[0]!, this.#buffer.subarray(HEADER_SIZE, HEADER_SIZE + size));
      this.#buffer = this.#buffer.subarray(HEADER_SIZE + size);
    }
  }
}
