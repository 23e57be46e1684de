import type { ServerResponse } from 'node:http';
import { EngineError } from '../protocol/errors.ts';
import { encodeJsonMessage, type JsonMessage } from '../protocol/json-message.ts';

/**
 * Docker's JSON message stream (pull, push, load, import). The response starts with the
 * first message: an error before that is an ordinary HTTP error with its status code; an
 * error after it becomes an `errorDetail` message, as dockerd does.
 */
export class JsonMessageStream {
  readonly #res: ServerResponse;

  constructor(res: ServerResponse) {
    this.#res = res;
  }

  get started(): boolean {
    return this.#res.headersSent;
  }

  send = (message: JsonMessage): void => {
    if (this.#res.destroyed || this.#res.writableEnded) return;
    if (!this.#res.headersSent) this.#res.writeHead(200, { 'Content-Type': 'application/json' });
    this.#res.write(encodeJsonMessage(message));
  };

  /** Run `work`, ending the stream; errors after the first message are reported in the stream. */
  async run(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      if (!this.started) throw err;
      const message = EngineError.from(err).message;
      this.send({ errorDetail: { message }, error: message });
    }
    if (!this.#res.headersSent) this.#res.writeHead(200, { 'Content-Type': 'application/json' });
    this.#res.end();
  }
}
