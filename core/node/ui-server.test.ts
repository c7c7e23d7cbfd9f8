// The browser door of `node --ui`: only 127.0.0.1, only with the start's token, only from its own origin and Host;
// calls checked against the API's schemas; nothing a client sends crashes it.
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { createConnection } from 'node:net'
import { networkInterfaces, tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import WebSocket from 'ws'
import { FileVault } from '../vault/index.js'
import { AppCore } from './app-core.js'
import { startUiServer, type UiServer } from './ui-server.js'

/** The local addresses of the listening TCP sockets (IPv4 and IPv6) on `port`, from /proc/net. */
function listeningOn(port: number): string[] {
  const found: string[] = []
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(file)) continue
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/)
      if (!local || state !== '0A') continue // 0A: LISTEN
      const [hex, portHex] = local.split(':') as [string, string]
      if (parseInt(portHex, 16) !== port) continue
      // /proc/net prints each 32-bit word of the address in host (little-endian) order.
      const words = (hex.match(/.{8}/g) ?? []).map((w) => Buffer.from(w, 'hex').reverse())
      const bytes = Buffer.concat(words)
      found.push(bytes.length === 4 ? [...bytes].join('.') : (bytes.toString('hex').match(/.{4}/g) ?? []).join(':'))
    }
  }
  return found
}

/** Whether a TCP connection to host:port is accepted (false when refused or unreachable). */
function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: 3000 })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('timeout', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(false))
  })
}

describe('node --ui server', () => {
  let dir: string
  let core: AppCore
  let server: UiServer
  let token: string
  let origin: string

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ui-server-'))
    const root = join(dir, 'dist')
    mkdirSync(root)
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>ui</title>')
    writeFileSync(join(dir, 'secret.txt'), 'outside the UI root')
    core = await AppCore.start({ dataDir: join(dir, 'data'), secretStore: await FileVault.create(join(dir, 'v.vault'), 'a passphrase', { preset: 'interactive' }) })
    server = await startUiServer(core, { root })
    token = new URL(server.url).hash.replace('#token=', '')
    origin = `http://127.0.0.1:${server.port}`
  })
  after(async () => {
    await server.close()
    await core.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const get = (path: string, host = `127.0.0.1:${server.port}`): Promise<{ status: number; headers: Record<string, unknown> }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path, headers: { host } }, (res) => {
        res.resume()
        resolve({ status: res.statusCode ?? 0, headers: res.headers })
      })
      req.on('error', reject)
      req.end()
    })

  const open = (query: string, headers: Record<string, string> = { origin }): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api${query}`, { headers })
      ws.once('open', () => resolve(ws))
      ws.once('error', reject)
    })

  const call = (ws: WebSocket, payload: string): Promise<Record<string, unknown>> =>
    new Promise((resolve) => {
      ws.once('message', (m) => resolve(JSON.parse(m.toString()) as Record<string, unknown>))
      ws.send(payload)
    })

  it('listens on 127.0.0.1 only and prints a URL carrying the token in its fragment', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{48}$/)
    if (process.platform === 'linux') {
      // The socket as the kernel has it: one listening socket on the port, bound to 127.0.0.1 and nothing else.
      assert.deepEqual(listeningOn(server.port), ['127.0.0.1'])
    }
    assert.equal(await connects('127.0.0.1', server.port), true)
    // Another loopback address (Linux routes all of 127/8 to lo), IPv6 loopback, and every address of this
    // machine's interfaces: a socket bound to 0.0.0.0 or :: would accept each of them.
    const others = [
      ...(process.platform === 'linux' ? ['127.0.0.2'] : []),
      '::1',
      ...Object.values(networkInterfaces())
        .flat()
        .filter((a) => a !== undefined && !a.internal)
        .map((a) => (a!.family === 'IPv6' && a!.scopeid ? `${a!.address}%${a!.scopeid}` : a!.address)),
    ]
    for (const host of others) assert.equal(await connects(host, server.port), false, `a connection to ${host} was accepted`)
  })

  it('serves the UI with a strict CSP, and nothing outside its folder or for another Host', async () => {
    const page = await get('/')
    assert.equal(page.status, 200)
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/)
    assert.equal((await get('/../secret.txt')).status, 404)
    assert.equal((await get('/%2e%2e/secret.txt')).status, 404)
    assert.equal((await get('/', 'evil.example:80')).status, 421)
    assert.equal((await get('/%E0%A4%A')).status, 400)
    assert.equal((await get('/')).status, 200, 'the server survived')
  })

  it('refuses a WebSocket without the token, with a wrong one, or from another origin', async () => {
    await assert.rejects(open(''), /403/)
    await assert.rejects(open(`?token=${'0'.repeat(48)}`), /403/)
    await assert.rejects(open(`?token=${token}`, { origin: 'http://evil.example' }), /403/)
  })

  it('answers calls, and bad calls with a typed error instead of a crash', async () => {
    const ws = await open(`?token=${token}`)
    const status = await call(ws, JSON.stringify({ id: 1, method: 'status', args: [] }))
    assert.equal(status.ok, true)
    assert.deepEqual((status.result as { accounts: string[] }).accounts, [])
    const unknown = await call(ws, JSON.stringify({ id: 2, method: 'constructor', args: [] }))
    assert.deepEqual([unknown.ok, (unknown.error as { code: string }).code], [false, 'BAD_CALL'])
    const badArgs = await call(ws, JSON.stringify({ id: 3, method: 'send', args: ['0x12', -1, 'lots'] }))
    assert.equal((badArgs.error as { code: string }).code, 'BAD_ARGUMENTS')
    const garbage = await call(ws, '{not json')
    assert.equal((garbage.error as { code: string }).code, 'BAD_MESSAGE')
    const noAccount = await call(ws, JSON.stringify({ id: 4, method: 'exportKeystore', args: ['long enough password'] }))
    assert.equal((noAccount.error as { code: string }).code, 'NO_ACCOUNT')
    const created = await call(ws, JSON.stringify({ id: 5, method: 'createAccount', args: [] }))
    assert.match(String(created.result), /^0x[0-9a-fA-F]{40}$/)
    ws.close()
  })
})
