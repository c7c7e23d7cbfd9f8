// The Content Security Policy of the UI, in Electron (app://) and in a browser (`node --ui`): our own scripts and
// styles only, no inline code, no framing, connections only where the API lives.
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
