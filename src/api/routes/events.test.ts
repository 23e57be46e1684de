import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../lib/logger.ts';
import { Router } from '../router.ts';
import { createApiServer, listenUnix } from '../server.ts';
import { eventRoutes, MAX_UNREAD_EVENT_BYTES } from './events.ts';

/** An events API whose bus the test drives, on a unix socket of its own. */
async function eventsServer(t: { after(fn: () => unknown): void }) {
  const subscribers = new Set<(event: { timeNano: number }) => void>();
  const router = new Router();
  eventRoutes(router, {
    subscribe: (_filters, _since, onEvent) => {
      subscribers.add(onEvent);
      return () => subscribers.delete(onEvent);
    },
  });
  const server = createApiServer({ router, log: createLogger('test', 'fatal'), ready: Promise.resolve() });
  const dir = mkdtempSync(join(tmpdir(), 'berth-events-'));
  const socketPath = join(dir, 'api.sock');
  await listenUnix(server, socketPath);
  t.after(() => {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { socketPath, subscribers };
}

function subscribeWithoutReading(socketPath: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.pause();
      socket.write('GET /events HTTP/1.1\r\nHost: berth\r\n\r\n');
      resolve(socket);
    });
  });
}

test('a subscriber that never reads is cut off once it is too far behind, and holds no more', async (t) => {
  const { socketPath, subscribers } = await eventsServer(t);
  const client = await subscribeWithoutReading(socketPath);
  t.after(() => client.destroy());
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  for (let i = 0; i < 50 && subscribers.size === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(subscribers.size, 1, 'the client is subscribed');

  const padding = 'x'.repeat(1000);
  const total = 4 * MAX_UNREAD_EVENT_BYTES;
  for (let sent = 0, i = 0; sent < total; i++) {
    for (const onEvent of [...subscribers]) onEvent({ timeNano: i, padding } as { timeNano: number });
    sent += padding.length;
    // Let the socket move what it can, as a real event stream would between events.
    if (i % 100 === 0) await new Promise((r) => setImmediate(r));
  }
  client.resume();
  const cutOff = await Promise.race([closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
  assert.ok(cutOff, 'the daemon closed the slow subscriber\'s connection');
  assert.equal(subscribers.size, 0, 'the slow subscriber was dropped from the bus');
});

test('a subscriber that reads gets every event', async (t) => {
  const { socketPath, subscribers } = await eventsServer(t);
  const socket = connect(socketPath);
  t.after(() => socket.destroy());
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write('GET /events HTTP/1.1\r\nHost: berth\r\n\r\n');
  for (let i = 0; i < 50 && subscribers.size === 0; i++) await new Promise((r) => setTimeout(r, 20));
  const count = 2000;
  for (let i = 0; i < count; i++) {
    for (const onEvent of subscribers) onEvent({ timeNano: i });
    if (i % 100 === 0) await new Promise((r) => setImmediate(r));
  }
  for (let i = 0; i < 250 && !text.includes(`{"timeNano":${count - 1}}`); i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(text.match(/"timeNano":\d+/g)?.length, count);
});
