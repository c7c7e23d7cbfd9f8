// `node --ui`: the desktop UI in a browser. Serves the built renderer and the NodeApi over a WebSocket on 127.0.0.1
// only. The WebSocket needs a random token made at each start (handed over in the URL's fragment, which browsers
// never send to servers); requests for another Host are refused (DNS rebinding), and so are sockets from another
// Origin.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { fileURLToPath } from 'node:url'
import { WebSocketServer, type WebSocket } from 'ws'
import type { AppCore } from './app-core.js'
import { dispatch } from './api-dispatch.js'
import { contentSecurityPolicy, contentType, uiFile } from './ui-assets.js'

export const RENDERER_DIST = fileURLToPath(new URL('../../app/renderer/dist/', import.meta.url))
const MAX_MESSAGE = 256 * 1024


export interface UiServer {
  url: string
  port: number
  close(): Promise<void>
}

export async function startUiServer(core: AppCore, opts: { port?: number; root?: string } = {}): Promise<UiServer> {
  const root = opts.root ?? RENDERER_DIST
  const token = randomBytes(24).toString('hex')
  let origin = ''
  const server: Server = createServer((req, res) => {
    void (async () => {
      if (req.headers.host !== origin.slice('http://'.length)) {
        res.writeHead(421).end('wrong host')
        return
      }
      let file: string | undefined
      try {
        file = uiFile(root, new URL(req.url ?? '/', origin).pathname)
      } catch {
        res.writeHead(400).end('bad request') // malformed percent-encoding, say: refused, never thrown
        return
      }
      if (!file || req.method !== 'GET') {
        res.writeHead(404).end()
        return
      }
      try {
        const body = await readFile(file)
        res.writeHead(200, {
          'content-type': contentType(file),
          'content-security-policy': contentSecurityPolicy(`ws://${origin.slice('http://'.length)}`),
          'x-content-type-options': 'nosniff',
          'referrer-policy': 'no-referrer',
          'cache-control': 'no-store',
        })
        res.end(body)
      } catch {
        res.writeHead(404).end('not found (is the renderer built? npm run build:renderer)')
      }
    })()
  })
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE })
  server.on('upgrade', (req: IncomingMessage, socket, head) => {
    let url: URL | undefined
    try {
      url = new URL(req.url ?? '/', origin)
    } catch {
      url = undefined
    }
    const given = Buffer.from(url?.searchParams.get('token') ?? '')
    const ok = url?.pathname === '/api' && req.headers.origin === origin && given.length === token.length &&
      timingSafeEqual(given, Buffer.from(token))
    if (!ok) {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => serve(core, ws))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', resolve)
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  origin = `http://127.0.0.1:${port}`
  return {
    url: `${origin}/#token=${token}`,
    port,
    close: async () => {
      for (const ws of wss.clients) ws.terminate()
      wss.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** One browser tab: calls in, replies and events out. A malformed message gets an error reply, never a crash. */
function serve(core: AppCore, ws: WebSocket): void {
  const onEvent = (event: unknown): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event }))
  }
  core.on('event', onEvent)
  ws.on('close', () => core.off('event', onEvent))
  ws.on('error', () => ws.terminate())
  ws.on('message', (data, isBinary) => {
    let msg: { id?: unknown; method?: unknown; args?: unknown }
    try {
      if (isBinary) throw new Error('binary')
      msg = JSON.parse(data.toString()) as typeof msg
      if (typeof msg !== 'object' || msg === null || typeof msg.id !== 'number') throw new Error('shape')
    } catch {
      ws.send(JSON.stringify({ id: null, ok: false, error: { code: 'BAD_MESSAGE', message: 'expected {"id": n, "method": "...", "args": [...]}' } }))
      return
    }
    const id = msg.id
    void dispatch(core, msg.method, msg.args ?? []).then((reply) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id, ...reply }))
    })
  })
}
