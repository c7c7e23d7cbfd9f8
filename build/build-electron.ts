// Bundles Electron's main process (app/main), the core's utility-process entry (app/core-process) and the preload
// script (app/preload) into app/main/dist, the one folder of Electron bundles.
// npm packages stay external (native modules load from node_modules, unpacked from the asar); the preload is
// CommonJS, as sandboxed preloads must be.
import { build, type BuildOptions } from 'esbuild'

const common: BuildOptions = { bundle: true, platform: 'node', target: 'node20', packages: 'external', external: ['electron'], logLevel: 'warning' }

await Promise.all([
  build({ ...common, entryPoints: ['app/main/main.ts'], outfile: 'app/main/dist/main.mjs', format: 'esm' }),
  build({ ...common, entryPoints: ['app/core-process/core-host.ts'], outfile: 'app/main/dist/core-host.mjs', format: 'esm' }),
  build({ ...common, packages: 'bundle', entryPoints: ['app/preload/preload.ts'], outfile: 'app/main/dist/preload.cjs', format: 'cjs' }),
])
console.log('built app/main/dist (main.mjs, core-host.mjs, preload.cjs)')
