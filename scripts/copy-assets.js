'use strict';
// Copies the Node-RED editor files (.html, locales/, icons/) of every node and plugin next to their built .js in dist/.
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
function copyTree(src, dst) {
  for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
    const s = path.join(src, entry.name);
    const d = path.join(dst, entry.name);
    if (entry.isDirectory()) copyTree(s, d);
    else if (!entry.name.endsWith('.ts')) {
      fs.mkdirSync(dst, { recursive: true });
      fs.copyFileSync(s, d);
    }
  }
}
copyTree(path.join(root, 'nodes'), path.join(root, 'dist', 'nodes'));
