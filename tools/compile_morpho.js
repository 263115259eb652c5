#!/usr/bin/env node
// Compiles Morpho Blue from its npm package exactly as its own build does (foundry profile: solc
// 0.8.19, the version its sources pin; via-IR; 999,999 runs; EVM paris), with its own oracle and
// rate-model mocks, for `make gas` to deploy beside Gavel. Writes { name: { abi, bytecode } } to
// the path given (under .build/, never committed). Usage: node tools/compile_morpho.js OUT.json
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc-0.8.19');

const out = process.argv[2];
if (!out) {
  process.stderr.write('usage: node tools/compile_morpho.js OUT.json\n');
  process.exit(2);
}
const root = path.join(__dirname, '..', 'node_modules', '@morpho-org', 'morpho-blue', 'src');
if (!fs.existsSync(root)) {
  process.stderr.write(`${root} is missing: run \`make install\` first\n`);
  process.exit(1);
}
const wanted = { 'Morpho.sol': 'Morpho', 'mocks/OracleMock.sol': 'OracleMock', 'mocks/IrmMock.sol': 'IrmMock' };
const sources = {};
for (const file of Object.keys(wanted)) sources[file] = { content: fs.readFileSync(path.join(root, file), 'utf8') };
const input = {
  language: 'Solidity',
  sources,
  settings: {
    viaIR: true,
    optimizer: { enabled: true, runs: 999999 },
    evmVersion: 'paris',
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
const findImports = (p) => {
  const file = path.join(root, p);
  return fs.existsSync(file) ? { contents: fs.readFileSync(file, 'utf8') } : { error: `not found: ${p}` };
};
const result = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (result.errors || []).filter((e) => e.severity === 'error');
if (errors.length) {
  process.stderr.write(errors.map((e) => e.formattedMessage).join('\n'));
  process.exit(1);
}
const built = { compiler: solc.version() };
for (const [file, name] of Object.entries(wanted)) {
  const c = result.contracts[file][name];
  built[name] = { abi: c.abi, bytecode: '0x' + c.evm.bytecode.object };
}
fs.mkdirSync(path.dirname(out), { recursive: true });
fs.writeFileSync(out, JSON.stringify(built));
process.stdout.write(`Morpho Blue compiled with solc ${solc.version()} (via-IR, 999,999 runs, paris) -> ${out}\n`);
