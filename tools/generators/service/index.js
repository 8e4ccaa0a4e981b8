// The Nx factory of `nx g @crm/tools:service`. Nx loads factories with require(); this workspace has no
// swc-node/ts-node for Nx to register, so the TypeScript implementation is loaded through tsx.
const { join } = require('node:path');
const { require: tsxRequire } = require('tsx/cjs/api');

module.exports = tsxRequire('./generator.ts', join(__dirname, 'index.js')).default;
