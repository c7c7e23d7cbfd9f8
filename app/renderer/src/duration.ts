// A span of seconds as a person reads it: "7 days", "1 hour 30 minutes", "45 seconds".
const UNITS: [number, string][] = [
  [86_400, 'day'],
  [3_600, 'hour'],
  [60, 'minute'],
  [1, 'second'],
]

export function duration(seconds: number): string {
  const parts: string[] = []
  let rest = Math.max(0, Math.floor(seconds))
  for (const [size, name] of UNITS) {
    const n = Math.floor(rest / size)
    if (n === 0) continue
    parts.push(`${n} ${name}${n === 1 ? '' : 's'}`)
    rest -= n * size
    if (parts.length === 2) break // the two largest units say enough
  }
  return parts.length > 0 ? parts.join(' ') : '0 seconds'
}
