import { randomBytes, timingSafeEqual } from 'node:crypto';
import { resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * What every console server has, live (server.ts) or replay (replay-server.ts): a Fastify
 * app with WebSocket support, the security hooks (Host/Origin checks; the token on a
 * non-loopback bind) and the page served from the project (hil/console/page/, uPlot from
 * node_modules: nothing from a CDN); then listening and the URL to print.
 */

export class ConsoleServerError extends Error {
  override readonly name = 'ConsoleServerError';
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
export const isLoopback = (host: string) => LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);

function tokenOf(req: FastifyRequest): string | undefined {
  const q = (req.query as Record<string, unknown> | undefined)?.token;
  if (typeof q === 'string') return q;
  const h = req.headers['x-console-token'];
  if (typeof h === 'string') return h;
  const m = /(?:^|;\s*)console_token=([^;]+)/.exec(req.headers.cookie ?? '');
  return m ? decodeURIComponent(m[1]) : undefined;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface ConsoleApp {
  app: FastifyInstance;
  host: string;
  /** The token requests need, or null on a loopback bind. */
  token: string | null;
}

/** A Fastify app with the console's security hooks and its page; routes are the caller's. */
export async function createConsoleApp(o: { root: string; host?: string; token?: string }): Promise<ConsoleApp> {
  const host = o.host ?? '127.0.0.1';
  const token = isLoopback(host) ? null : (o.token ?? randomBytes(16).toString('hex'));
  // Closing never waits for a browser's keep-alive connection or a half-read request: Ctrl-C stops now.
  const app = Fastify({ logger: false, forceCloseConnections: true });
  await app.register(fastifyWebsocket);

  // Another web site open in the operator's browser must not drive the console: a request
  // that says it comes from a page of another origin (Origin header) is refused, and on a
  // loopback bind so is a Host header other than the loopback address (DNS rebinding).
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const hostHeader = req.headers.host ?? '';
    if (token === null && !isLoopback(hostHeader.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1'))) {
      return reply.code(403).type('text/plain').send(`console: refused Host ${hostHeader} (this console serves ${host} only)\n`);
    }
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== 'null') {
      let originHost = '';
      try {
        originHost = new URL(origin).host;
      } catch {
        /* an unreadable Origin is refused below */
      }
      if (originHost !== hostHeader) return reply.code(403).type('text/plain').send(`console: refused a request from another origin (${origin})\n`);
    }
  });

  if (token !== null) {
    app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      const given = tokenOf(req);
      if (given === undefined) return reply.code(401).type('text/plain').send('console: this console needs its token (?token=... as printed at start)\n');
      if (!sameToken(given, token)) return reply.code(403).type('text/plain').send('console: wrong token\n');
      // The page's own requests (modules, styles, WebSocket) then carry the cookie.
      if (typeof (req.query as Record<string, unknown> | undefined)?.token === 'string') {
        reply.header('set-cookie', `console_token=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`);
      }
    });
  }

  await app.register(fastifyStatic, { root: resolve(o.root, 'hil/console/page'), prefix: '/', index: ['index.html'] });
  await app.register(fastifyStatic, { root: resolve(o.root, 'node_modules/uplot/dist'), prefix: '/vendor/uplot/', decorateReply: false });
  return { app, host, token };
}

/** Listens on `host`:`port` (0: a free port); returns the URL to print (with `?token=` when one is needed) and the port. */
export async function listenConsoleApp(c: ConsoleApp, port = 0): Promise<{ url: string; port: number }> {
  let address: string;
  try {
    address = await c.app.listen({ host: c.host, port });
  } catch (e) {
    throw new ConsoleServerError(`cannot serve on ${c.host}:${port}: ${(e as Error).message}`);
  }
  const bound = Number(new URL(address).port);
  const shownHost = c.host.includes(':') ? `[${c.host}]` : c.host;
  return { url: `http://${shownHost}:${bound}/${c.token ? `?token=${c.token}` : ''}`, port: bound };
}
