'use strict';
// node-dtls-client (a devDependency, a DTLS test peer) lists node-aead-crypto as an optional dependency and loads it only
// on Node < 10 or Electron (build/lib/AEADCrypto.js); on Node >= 10 it uses node:crypto's CCM/GCM. The real package's
// per-platform binaries (node-aead-crypto-<os>-<cpu>) are partly missing from the registry, so no lock file can list
// them all and `npm ci` with npm 11 rejects every lock as out of sync. package.json "overrides" puts this folder in its
// place; it is never shipped (a devDependency's dependency) and throws if anything ever loads it.
throw new Error('node-aead-crypto is not installed: Node >= 10 has AES-CCM/GCM in node:crypto (see test/package/node-aead-crypto-stub)');
