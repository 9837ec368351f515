/*
 * The app session every SDK generation runs, shared by Node (scenario.js) and the browser
 * (browser/scenario.html): what a real app does with Kinvey, step by step.
 *
 * Node: `require('./steps')`; a browser page: `<script src="steps.js">` defines `KinveySteps`.
 */
(function (root, factory) {
  if (typeof module === 'object' && module.exports) module.exports = factory();
  else root.KinveySteps = factory(); // eslint-disable-line no-param-reassign
}(typeof self !== 'undefined' ? self : this, () => {
  'use strict';

  // A short, JSON-safe picture of whatever an SDK rejected with (Error subclasses, plain objects
  // of the 1.x library, strings).
  function describeError(error) {
    if (error === null || error === undefined) return { name: String(error) };
    if (typeof error !== 'object') return { name: 'NonError', message: String(error) };
    const out = { name: error.name || (error.constructor && error.constructor.name) || 'Error' };
    const message = error.message || error.description;
    if (message) out.message = String(message);
    if (error.debug) out.debug = typeof error.debug === 'string' ? error.debug : JSON.stringify(error.debug);
    const status = error.code || error.statusCode || error.status;
    if (status !== undefined) out.status = status;
    return out;
  }

  function withTimeout(promise, label, stepTimeoutMs) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${label} did not finish within ${stepTimeoutMs} ms`)), stepTimeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  // A step passes when its body resolves to a detail; it fails when the body throws, with an
  // `expected` message (a check on what the SDK returned) or the SDK's own error.
  class CheckFailed extends Error {}

  function check(condition, message, detail) {
    if (!condition) {
      const error = new CheckFailed(message);
      error.detail = detail;
      throw error;
    }
  }

  // Runs `body` and asserts it rejects; `accept(error)` says whether it is the right rejection.
  async function expectRejection(body, accept, what) {
    let result;
    try {
      result = await body();
    } catch (error) {
      check(accept(error), `rejected, but not with ${what}`, { error: describeError(error) });
      return { rejectedWith: describeError(error) };
    }
    check(false, `expected ${what}, but the call succeeded`, { result });
    return undefined;
  }

  function randomToken() {
    return Math.random().toString(36).slice(2, 10);
  }

  function sameNames(entities, names) {
    return JSON.stringify(entities.map((e) => e.name).sort()) === JSON.stringify([...names].sort());
  }

  // `bytes` is how the platform holds file content: Node's Buffer, a browser's Uint8Array.
  function buildSteps(driver, inputs, bytes) {
    const run = `${inputs.flavour}-${Date.now().toString(36)}-${randomToken()}`;
    const username = `sdk-${run}`;
    const password = `pw-${randomToken()}-${randomToken()}`;
    const collection = `sdk_things_${run.replace(/-/g, '_')}`;
    // Valid UTF-8 text that is not JSON: the v4/v6 SDKs hand a download back as a decoded string,
    // and parse it when it looks like JSON.
    const fileBytes = bytes.fromText(`kinvey-gateway SDK round trip (${run}): \u00e9\u00fc\u2713\n`);
    const state = { userId: undefined, ids: {}, fileId: undefined };

    return [
      ['init', async () => {
        await driver.init(inputs);
        return { sdk: driver.sdk, apiVersion: driver.apiVersion, baseUrl: inputs.baseUrl };
      }],
      ['ping', async () => {
        const response = await driver.ping();
        check(response && typeof response === 'object', 'ping answered no object', { response });
        return { response };
      }],
      ['signup', async () => {
        const user = await driver.signup(username, password);
        check(user && user._id, 'signup returned no _id', { user });
        check(user.username === username, 'signup returned another username', { user });
        state.userId = user._id;
        // The contract at the SDK's version: signups answer with _kmd.authtoken below v6, without at v6.
        const tokenInResponse = Boolean(user._kmd && user._kmd.authtoken);
        check(tokenInResponse === driver.apiVersion < 6,
          `signup response ${tokenInResponse ? 'has' : 'lacks'} _kmd.authtoken at API version ${driver.apiVersion}`,
          { user });
        // v3/v4 SDKs take the signup response as the session (it must carry _kmd.authtoken);
        // the v6 SDK logs in separately.
        const session = await driver.sessionToken();
        check(Boolean(session) === driver.signupStartsSession,
          driver.signupStartsSession ? 'no session token after signup' : 'unexpected session after signup',
          { user, session: Boolean(session) });
        return { _id: user._id, username, tokenInResponse, session: Boolean(session) };
      }],
      ['logout', async () => {
        await driver.logout();
        const session = await driver.sessionToken();
        check(!session, 'still a session after logout', {});
        return { session: false };
      }],
      ['login-wrong-password', async () => expectRejection(
        () => driver.login(username, `${password}-wrong`),
        (error) => driver.isInvalidCredentials(error),
        "the SDK's invalid-credentials error",
      )],
      ['login', async () => {
        const user = await driver.login(username, password);
        check(user && user._id === state.userId, 'login returned another user', { user });
        const session = await driver.sessionToken();
        check(Boolean(session), 'no session token after login', { user });
        return { _id: user._id };
      }],
      ['save-three', async () => {
        const saved = [];
        for (const entity of [
          { name: 'alpha', kind: 'fruit', n: 1 },
          { name: 'beta', kind: 'fruit', n: 2 },
          { name: 'gamma', kind: 'veg', n: 3 },
        ]) {
          const result = await driver.save(collection, entity);
          check(result && result._id && result.name === entity.name, 'save returned no entity', { result });
          state.ids[entity.name] = result._id;
          saved.push(result._id);
        }
        return { collection, ids: saved };
      }],
      ['find-by-id', async () => {
        const entity = await driver.findById(collection, state.ids.beta);
        check(entity && entity._id === state.ids.beta && entity.kind === 'fruit' && entity.n === 2,
          'findById returned another entity', { entity });
        return { _id: entity._id, name: entity.name };
      }],
      ['find-missing-id', async () => expectRejection(
        () => driver.findById(collection, `missing-${randomToken()}`),
        (error) => driver.isNotFound(error),
        "the SDK's not-found error",
      )],
      ['query', async () => {
        const entities = await driver.findWhere(collection, 'kind', 'fruit');
        check(Array.isArray(entities) && sameNames(entities, ['alpha', 'beta']),
          'query kind == fruit did not return alpha and beta', { entities });
        return { names: entities.map((e) => e.name).sort() };
      }],
      ['count', async () => {
        const count = await driver.count(collection);
        check(count === 3, 'count is not 3', { count });
        return { count };
      }],
      ['remove-by-id', async () => {
        const removed = await driver.removeById(collection, state.ids.gamma);
        check(removed === 1, 'removeById did not remove one entity', { removed });
        const count = await driver.count(collection);
        check(count === 2, 'count after removeById is not 2', { count });
        return { removed, count };
      }],
      ['remove-by-query', async () => {
        const removed = await driver.removeWhere(collection, 'kind', 'fruit');
        check(removed === 2, 'remove kind == fruit did not remove two entities', { removed });
        const count = await driver.count(collection);
        check(count === 0, 'count after remove by query is not 0', { count });
        return { removed, count };
      }],
      ['file-upload', async () => {
        const file = await driver.uploadFile(fileBytes, `${run}.txt`, 'text/plain');
        check(file && file._id, 'upload returned no _id', { file });
        state.fileId = file._id;
        return { _id: file._id, size: fileBytes.length };
      }],
      ['file-download', async () => {
        check(state.fileId, 'nothing was uploaded', {});
        const got = await driver.downloadFile(state.fileId);
        check(bytes.equal(got, fileBytes), 'downloaded bytes differ from the upload',
          { expected: bytes.describe(fileBytes), got: bytes.describe(got) });
        return { size: got.length };
      }],
      ['delete-user', async () => {
        check(state.userId, 'no user was signed up', {});
        await driver.removeUser(state.userId);
        return { _id: state.userId };
      }],
      ['login-deleted-user', async () => {
        await driver.logout();
        return expectRejection(
          () => driver.login(username, password),
          (error) => driver.isInvalidCredentials(error),
          "the SDK's invalid-credentials error",
        );
      }],
    ];
  }

  // Runs every step in order; `emit(step, ok, detail)` reports each. Resolves to the failure count.
  async function runSteps(driver, inputs, bytes, emit, stepTimeoutMs) {
    let failures = 0;
    for (const [step, body] of buildSteps(driver, inputs, bytes)) {
      try {
        emit(step, true, await withTimeout(body(), step, stepTimeoutMs));
      } catch (error) {
        failures += 1;
        const detail = error instanceof CheckFailed
          ? { expected: error.message, ...error.detail }
          : { error: describeError(error) };
        emit(step, false, detail);
      }
    }
    return failures;
  }

  return { runSteps, describeError };
}));
