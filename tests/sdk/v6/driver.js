/*
 * Driver for kinvey-js-sdk@7.0.0 through the kinvey-html5-sdk@4.2.5 platform adapters
 * (X-Kinvey-API-Version 6, set explicitly). kinvey-html5-sdk 9 would want a kinvey-js-sdk 8 that
 * was never published, so the 4.2.5 adapters (axios HTTP, localStorage session store, in-memory
 * cache) are the newest ones that install; package.json pins kinvey-js-sdk to 7.0.0 for them.
 */
'use strict';

const { installBrowserShims } = require('./node-shims');

installBrowserShims();

const axios = require('axios'); // the very instance the html5 HTTP adapter sends with
const Kinvey = require('kinvey-html5-sdk');

// kinvey-js-sdk 7 always builds https://baas.kinvey.com (or https://<instanceId>-baas.kinvey.com)
// URLs. Rewrite that base, and nothing else, on the adapter's own HTTP client; file storage URLs
// handed out by the server are used as given.
const KINVEY_BAAS_BASE = /^https:\/\/(?:[A-Za-z0-9-]+-)?baas\.kinvey\.com(?=\/|$)/;
let baasBase;
axios.interceptors.request.use((config) => {
  if (baasBase && typeof config.url === 'string') {
    return { ...config, url: config.url.replace(KINVEY_BAAS_BASE, baasBase) };
  }
  return config;
});

function store(collection) {
  return Kinvey.DataStore.collection(collection, Kinvey.DataStoreType.Network);
}

module.exports = {
  sdk: 'kinvey-js-sdk@7.0.0 + kinvey-html5-sdk@4.2.5',
  apiVersion: 6,
  // kinvey-js-sdk 7 returns the new user from signup and logs in separately.
  signupStartsSession: false,

  // clientAppVersion (optional): the app's release, sent as X-Kinvey-Client-App-Version.
  async init({ baseUrl, appKey, appSecret, masterSecret, clientAppVersion }) {
    baasBase = baseUrl;
    // masterSecret: kinvey-js-sdk 7's User.remove() authorizes with the master secret only.
    Kinvey.init({
      appKey, appSecret, masterSecret, apiVersion: 6, storage: Kinvey.StorageProvider.Memory,
      appVersion: clientAppVersion,
    });
  },

  ping: () => Kinvey.ping(),

  async signup(username, password) {
    return (await Kinvey.User.signup({ username, password })).data;
  },

  async sessionToken() {
    const user = await Kinvey.User.getActiveUser();
    return user && user.data && user.data._kmd ? user.data._kmd.authtoken : undefined;
  },

  logout: () => Kinvey.User.logout(),

  async login(username, password) {
    return (await Kinvey.User.login(username, password)).data;
  },

  isInvalidCredentials: (error) => error instanceof Kinvey.Errors.InvalidCredentialsError,

  isNotFound: (error) => error instanceof Kinvey.Errors.NotFoundError,

  save: (collection, entity) => store(collection).save(entity),

  findById: (collection, id) => store(collection).findById(id).toPromise(),

  findWhere: (collection, field, value) => store(collection).find(new Kinvey.Query().equalTo(field, value)).toPromise(),

  count: (collection) => store(collection).count().toPromise(),

  async removeById(collection, id) {
    return (await store(collection).removeById(id)).count;
  },

  async removeWhere(collection, field, value) {
    return (await store(collection).remove(new Kinvey.Query().equalTo(field, value))).count;
  },

  uploadFile: (bytes, filename, mimeType) => Kinvey.Files.upload(bytes, { filename, mimeType, size: bytes.length }),

  async downloadFile(id) {
    // axios (responseType json) hands a non-JSON body back as a UTF-8 decoded string.
    const body = await Kinvey.Files.download(id);
    return Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  },

  removeUser: (id) => Kinvey.User.remove(id, { hard: true }),
};
