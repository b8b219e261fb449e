'use strict';
// Loads the bundled CLI through V8's code cache: start-up is the first impression in every CI step.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const file = path.join(__dirname, '..', 'dist', 'cli.cjs');
const cacheFile = `${file}.${process.version}.cache`;
let source;
try {
  source = fs.readFileSync(file, 'latin1'); // esbuild writes ASCII only: no UTF-8 decoding needed
} catch {
  process.stderr.write(`error: ${file} is missing; run "npm run build" first\n`);
  process.exit(1);
}
let cachedData;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
if (cachedData === undefined || script.cachedDataRejected) {
  // Written once, after the run has compiled what it used; a read-only install just goes without.
  process.once('exit', () => {
    try {
      const tmp = `${cacheFile}.${process.pid}`;
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
    } catch {
      // no cache this time
    }
  });
}
const mod = new Module(file, module);
mod.filename = file;
mod.paths = Module._nodeModulePaths(path.dirname(file));
script.runInThisContext()(mod.exports, (id) => mod.require(id), mod, file, path.dirname(file));
