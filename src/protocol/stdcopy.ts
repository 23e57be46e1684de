/** Docker's multiplexed stream framing: [stream, 0, 0, 0, size(4, big-endian)] + payload. */
export const STREAM_STDOUT = 1;
export const STREAM_STDERR = 2;

export function frame(stream: 1 | 2, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Splits a multiplexed stream back into its frames (used by the client). */
export class FrameDecoder {
  #buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onFrame: (stream: number, payload: Buffer) => void): void {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    while (this.#buffer.length >= 8) {
      const size = this.#buffer.readUInt32BE(4);
      if (this.#buffer.length < 8 + size) break;
      onFrame(this.#buffer[0]!, this.#buffer.subarray(8, 8 + size));
      this.#buffer = this.#buffer.subarray(8 + size);
    }
  }
}
