#!/usr/bin/env node
// A `solc` command line over the official WebAssembly build (npm `solc`), for machines that
// cannot download native compiler binaries. It answers the two forms py-solc-x (and so
// ape-solidity) uses: `--version`, and `--standard-json` reading the input from stdin, with
// imports resolved against `--base-path` and every `--include-path`.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const args = process.argv.slice(2);
const valueOf = (flag) => {
  const values = [];
  args.forEach((arg, i) => {
    if (arg === flag && i + 1 < args.length) values.push(args[i + 1]);
    else if (arg.startsWith(flag + '=')) values.push(arg.slice(flag.length + 1));
  });
  return values;
};

if (args.includes('--version')) {
  // py-solc-x parses "Version: X.Y.Z+commit..." from the second line.
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}

if (!args.includes('--standard-json')) {
  process.stderr.write(`tools/solc.js: only --version and --standard-json are supported, got: ${args.join(' ')}\n`);
  process.exit(2);
}

const roots = [...valueOf('--base-path'), ...valueOf('--include-path'), process.cwd()];
function findImports(importPath) {
  const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((root) => path.resolve(root, importPath));
  for (const candidate of candidates) {
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, 'utf8') };
  }
  return { error: `File not found: ${importPath} (searched ${roots.join(', ')})` };
}

const input = fs.readFileSync(0, 'utf8');
process.stdout.write(solc.compile(input, { import: findImports }));
