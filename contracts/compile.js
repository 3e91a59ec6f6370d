// Compiles every Solidity source under src/ with the pinned solc-js and
// writes build/<Contract>.abi (JSON) and build/<Contract>.bin (creation
// bytecode, hex) for each contract. With --check it writes nothing and
// exits 1 if the committed artifacts differ from a fresh compile.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const root = __dirname;
const srcDir = path.join(root, 'src');
const outDir = path.join(root, 'build');
const check = process.argv.includes('--check');

function sources(dir) {
  let out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out = out.concat(sources(p));
    else if (e.name.endsWith('.sol')) out.push(p);
  }
  return out;
}

const input = {
  language: 'Solidity',
  sources: {},
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'cancun',
    metadata: { bytecodeHash: 'none' }, // reproducible bytecode: no metadata hash appended
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
for (const f of sources(srcDir)) {
  input.sources[path.relative(root, f)] = { content: fs.readFileSync(f, 'utf8') };
}

const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
for (const e of output.errors || []) console.error(e.formattedMessage);
if (errors.length) process.exit(1);

const artifacts = {};
for (const file of Object.keys(output.contracts).sort()) {
  for (const name of Object.keys(output.contracts[file]).sort()) {
    const c = output.contracts[file][name];
    if (artifacts[name + '.abi']) throw new Error('two contracts named ' + name);
    artifacts[name + '.abi'] = JSON.stringify(c.abi, null, 1) + '\n';
    if (c.evm.bytecode.object) artifacts[name + '.bin'] = c.evm.bytecode.object + '\n';
  }
}

let stale = 0;
if (!check) fs.mkdirSync(outDir, { recursive: true });
for (const [file, content] of Object.entries(artifacts)) {
  const p = path.join(outDir, file);
  const old = fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : null;
  if (old === content) continue;
  if (check) {
    console.error('stale artifact: build/' + file + ' (run: npm --prefix contracts run compile)');
    stale++;
  } else {
    fs.writeFileSync(p, content);
  }
}
const known = new Set(Object.keys(artifacts));
for (const f of fs.existsSync(outDir) ? fs.readdirSync(outDir) : []) {
  if (!known.has(f)) {
    if (check) { console.error('artifact without a source: build/' + f); stale++; } else fs.unlinkSync(path.join(outDir, f));
  }
}
console.log(`solc ${solc.version()}: ${Object.keys(artifacts).length} artifacts ${check ? (stale ? 'STALE' : 'up to date') : 'written'}`);
process.exit(stale ? 1 : 0);
