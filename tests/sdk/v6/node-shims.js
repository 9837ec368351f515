/*
 * The smallest browser surface the kinvey-html5-sdk@4.2.5 adapters touch under Node 20.
 *
 * - window.localStorage: the html5 session store keeps the active user there.
 * - window.navigator: the html5 HTTP adapter builds the X-Kinvey-Device-Information headers
 *   from it for every *.kinvey.com URL.
 * Nothing else is needed: HTTP goes through axios, which picks its Node http adapter by itself,
 * and the driver selects the adapters' in-memory cache (StorageProvider.Memory), so neither
 * IndexedDB nor WebSQL is touched.
 */
'use strict';

class MemoryStorage {
  constructor() {
    this.items = new Map();
  }

  get length() {
    return this.items.size;
  }

  key(index) {
    return Array.from(this.items.keys())[index] ?? null;
  }

  getItem(key) {
    return this.items.has(String(key)) ? this.items.get(String(key)) : null;
  }

  setItem(key, value) {
    this.items.set(String(key), String(value));
  }

  removeItem(key) {
    this.items.delete(String(key));
  }

  clear() {
    this.items.clear();
  }
}

function installBrowserShims() {
  if (global.window !== undefined) return;
  global.window = {
    localStorage: new MemoryStorage(),
    sessionStorage: new MemoryStorage(),
    navigator: {
      userAgent: `Node.js/${process.version}`,
      platform: process.platform,
      appVersion: process.version,
    },
  };
}

module.exports = { installBrowserShims, MemoryStorage };
