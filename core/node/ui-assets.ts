// Serving the built UI, the same way in Electron (app://) and in a browser (`node --ui`): which file a URL path
// names (never one outside the UI's folder), its content type, and the Content Security Policy: our own scripts
// and styles only, no inline code, no framing, connections only where the API lives.
import { extname, join, normalize, sep } from 'node:path'

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
}

export function contentSecurityPolicy(connect: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
}

/**
 * The file under `root` that a URL's (still percent-encoded) path names, or undefined for anything outside it.
 * Throws URIError for a malformed percent-encoding.
 */
export function uiFile(root: string, encodedPath: string): string | undefined {
  const path = decodeURIComponent(encodedPath)
  const file = normalize(join(root, path === '/' ? 'index.html' : path))
  return file.startsWith(root.endsWith(sep) ? root : root + sep) ? file : undefined
}

export function contentType(file: string): string {
  return TYPES[extname(file)] ?? 'application/octet-stream'
}
