#!/usr/bin/env node
/*
 * One app start with a real SDK: init with an app release, then ping. Used by
 * test_sdk_identity.py to record what each SDK generation sends to identify itself.
 *
 *   node tests/sdk/identity_probe.js <flavour> <baseUrl> <appKey> <appSecret> <appRelease>
 *
 * Prints one JSON line {"ok", "sdk"} (or {"ok": false, "name", "message"}) on stdout.
 */
'use strict';

for (const method of ['log', 'info', 'debug', 'trace']) {
  console[method] = (...args) => console.error(...args);
}

const path = require('path');

const [flavour, baseUrl, appKey, appSecret, clientAppVersion] = process.argv.slice(2);
if (!/^v\d+$/.test(flavour || '') || !baseUrl || !appKey || !appSecret || !clientAppVersion) {
  process.stderr.write('usage: node identity_probe.js <flavour> <baseUrl> <appKey> <appSecret> <appRelease>\n');
  process.exit(2);
}
const driver = require(path.join(__dirname, flavour, 'driver.js'));

(async () => {
  await driver.init({ baseUrl: baseUrl.replace(/\/+$/, ''), appKey, appSecret, clientAppVersion });
  await driver.ping();
  process.stdout.write(`${JSON.stringify({ ok: true, sdk: driver.sdk })}\n`);
  process.exit(0);
})().catch((error) => {
  // What the app gets to see: the SDK's error name and message (or the 1.x plain object's).
  const name = error && typeof error === 'object' ? error.name : undefined;
  const message = error && typeof error === 'object' ? error.message || error.description : error;
  process.stdout.write(`${JSON.stringify({ ok: false, name, message: String(message) })}\n`);
  process.exit(1);
});
