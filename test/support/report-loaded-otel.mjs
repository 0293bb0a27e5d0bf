// Preloaded into a sweep process (node --import): says at exit how many modules of the
// OpenTelemetry SDK the process loaded. Its packages are CommonJS, so each one loaded is in
// require.cache. @opentelemetry/api, the interface alone, is not counted: prom-client
// requires it for its exemplars whatever sweep does.
import { createRequire } from 'node:module';

const cache = createRequire(import.meta.url).cache;
process.on('exit', () => {
  const loaded = Object.keys(cache).filter((path) => path.includes('node_modules/@opentelemetry/')
    && !path.includes('node_modules/@opentelemetry/api/')).length;
  process.stderr.write(`\n{"otelModulesLoaded":${loaded}}\n`);
});
