// Module resolution hook: the specifier 'electron' resolves to the stand-in module.
const STAND_IN = new URL('./electron.ts', import.meta.url).href

export async function resolve(specifier, context, next) {
  if (specifier === 'electron') return { url: STAND_IN, shortCircuit: true }
  return next(specifier, context)
}
