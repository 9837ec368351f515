#!/usr/bin/env node
/*
 * One app session, the same for every SDK generation: what a real mobile app does with Kinvey.
 *
 *   node tests/sdk/scenario.js <flavour> [baseUrl appKey appSecret [masterSecret]]
 *
 * <flavour> is a folder beside this file (v3, v4, v6) whose driver.js wraps one real Kinvey SDK.
 * The other inputs fall back to KINVEY_BASE_URL, KINVEY_APP_KEY, KINVEY_APP_SECRET and
 * KINVEY_MASTER_SECRET. Each step prints one JSON line {"step", "ok", "detail"} on stdout;
 * the exit code is 1 when any step failed (2 on bad usage).
 */
'use strict';

// The SDKs log through console.log/info/debug (and loglevel binds those when it is loaded):
// send them to stderr before any SDK is required, so stdout carries only the step lines.
for (const method of ['log', 'info', 'debug', 'trace']) {
  console[method] = (...args) => console.error(...args);
}

const path = require('path');
const { runSteps, describeError } = require('./steps');

// File content as the Node SDKs take and give it.
const NODE_BYTES = {
  fromText: (text) => Buffer.from(text, 'utf8'),
  equal: (got, want) => Buffer.isBuffer(got) && got.equals(want),
  describe: (value) => (Buffer.isBuffer(value) ? value.toString('base64') : value),
};

const STEP_TIMEOUT_MS = Number(process.env.SDK_STEP_TIMEOUT_MS || 20000);

function usage(message) {
  process.stderr.write(`${message}\nusage: node scenario.js <v3|v4|v6> [baseUrl appKey appSecret [masterSecret]]\n`);
  process.exit(2);
}

function readInputs(argv, env) {
  const [flavour, baseUrl, appKey, appSecret, masterSecret] = argv;
  const inputs = {
    flavour,
    baseUrl: baseUrl || env.KINVEY_BASE_URL,
    appKey: appKey || env.KINVEY_APP_KEY,
    appSecret: appSecret || env.KINVEY_APP_SECRET,
    masterSecret: masterSecret || env.KINVEY_MASTER_SECRET || undefined,
  };
  if (!/^v\d+$/.test(flavour || '')) usage('missing or bad flavour');
  for (const key of ['baseUrl', 'appKey', 'appSecret']) {
    if (!inputs[key]) usage(`missing ${key}`);
  }
  inputs.baseUrl = inputs.baseUrl.replace(/\/+$/, '');
  return inputs;
}

function emit(step, ok, detail) {
  process.stdout.write(`${JSON.stringify({ step, ok, detail })}\n`);
}

async function main() {
  const inputs = readInputs(process.argv.slice(2), process.env);
  // eslint-disable-next-line global-require, import/no-dynamic-require
  const driver = require(path.join(__dirname, inputs.flavour, 'driver.js'));
  const failures = await runSteps(driver, inputs, NODE_BYTES, emit, STEP_TIMEOUT_MS);
  // Some SDKs keep timers or sockets alive (pubnub, keep-alive agents): exit explicitly.
  process.exit(failures === 0 ? 0 : 1);
}

main().catch((error) => {
  emit('scenario', false, { error: describeError(error) });
  process.exit(1);
});
