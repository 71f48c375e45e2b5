import { basename } from 'node:path';
import { createConsoleApp, listenConsoleApp } from './http.ts';
import { type Recording, replayBoards, replayPayload } from './recording.ts';
import { type ConsoleServer, pageDictionary } from './server.ts';

/**
 * The console over an archived run (`npm run console -- --replay RUN`): no bench, the
 * same page, served with the same security hooks as the live console (http.ts). The page
 * finds GET /api/replay (the recording, replay.js) instead of the live WebSocket and feeds
 * it through the views as the live messages. Everything that needs a bench (commands,
 * scenario controls, board reads) is refused with 409 naming the replay.
 */
export async function startReplayServer(rec: Recording, o: { root: string; host?: string; port?: number; token?: string }): Promise<ConsoleServer> {
  const base = await createConsoleApp(o);
  const { app, token } = base;
  // Built once: the recording does not change while it is served.
  const payload = JSON.stringify(replayPayload(rec));
  const run = basename(rec.dir);

  app.get('/api/dictionary', async () => pageDictionary());
  app.get('/api/replay', async (_req, reply) => reply.type('application/json').send(payload));
  app.get('/api/boards', async () => replayBoards(rec));
  app.all('/api/*', async (req, reply) => reply.code(409).send({ error: `replay of ${run}: no bench behind it (${req.method} ${req.url.split('?')[0]} needs a live console)` }));
  app.get('/ws', async (_req, reply) => reply.code(409).send({ error: `replay of ${run}: no live telemetry` }));

  const listening = await listenConsoleApp(base, o.port);
  return { ...listening, token, app, close: () => app.close() };
}
