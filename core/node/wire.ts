// What a `node` process and its supervisor share: the environment variable carrying the account key, and JSON lines
// with bigints as decimal strings.

export const ACCOUNT_KEY_ENV = 'OFFCHAIN_ACCOUNT_KEY'

export function toJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))
}
