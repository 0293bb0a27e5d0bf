import { createServer, request as httpRequest } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

export interface ForwardProxy {
  port: number;
  /** Every request it took: plain ones in absolute form, and CONNECTs, with their Proxy-Authorization. */
  journal: Array<{ method: string; target: string; authorization?: string }>;
  close(): Promise<void>;
}

/**
 * A forward proxy as corporate egress runs one, on 127.0.0.1 and reaching only
 * 127.0.0.1: plain http requests in absolute form are forwarded, CONNECT opens a
 * tunnel. `connectAnswer` makes it refuse CONNECT with that status; `hangConnect`
 * makes it never answer one.
 */
export async function startForwardProxy(options: { connectAnswer?: number; hangConnect?: boolean } = {}): Promise<ForwardProxy> {
  const journal: ForwardProxy['journal'] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    journal.push({ method: req.method ?? '', target: req.url ?? '', authorization: req.headers['proxy-authorization'] });
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (target.hostname !== '127.0.0.1') {
      res.writeHead(403).end();
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = httpRequest({ hostname: '127.0.0.1', port: target.port, path: target.pathname + target.search, method: req.method, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req, socket: Socket, head: Buffer) => {
    journal.push({ method: 'CONNECT', target: req.url ?? '', authorization: req.headers['proxy-authorization'] });
    socket.on('error', () => undefined);
    if (options.hangConnect) return;
    const [host, port] = (req.url ?? '').split(':');
    if (options.connectAnswer || host !== '127.0.0.1') {
      socket.end(`HTTP/1.1 ${options.connectAnswer ?? 403} Refused by policy\r\n\r\n`);
      return;
    }
    const upstream = connect(Number(port), '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    journal,
    close: () => new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
