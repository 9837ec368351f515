/*
 * Driver for kinvey-node-sdk@3.12.5 (X-Kinvey-API-Version 4, fixed in the SDK).
 * Thin: each method is one public call of the SDK, as an app of that era would make it.
 */
'use strict';

const Kinvey = require('kinvey-node-sdk');

function store(collection) {
  return Kinvey.DataStore.collection(collection, Kinvey.DataStoreType.Network);
}

module.exports = {
  sdk: 'kinvey-node-sdk@3.12.5',
  apiVersion: 4,
  // The SDK stores the signup response (with _kmd.authtoken) as the active user.
  signupStartsSession: true,

  // clientAppVersion (optional): the app's release, sent as X-Kinvey-Client-App-Version.
  async init({ baseUrl, appKey, appSecret, clientAppVersion }) {
    // apiHostname accepts http:// as well as https://.
    await Kinvey.initialize({ appKey, appSecret, apiHostname: baseUrl, appVersion: clientAppVersion });
  },

  ping: () => Kinvey.ping(),

  async signup(username, password) {
    return (await Kinvey.User.signup({ username, password })).data;
  },

  async sessionToken() {
    const user = Kinvey.User.getActiveUser();
    return user && user.data && user.data._kmd ? user.data._kmd.authtoken : undefined;
  },

  logout: () => Kinvey.User.logout(),

  async login(username, password) {
    return (await Kinvey.User.login(username, password)).data;
  },

  isInvalidCredentials: (error) => error instanceof Kinvey.InvalidCredentialsError,

  isNotFound: (error) => error instanceof Kinvey.NotFoundError,

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
    // The SDK's HTTP layer (request) hands the body back as a UTF-8 decoded string.
    const body = await Kinvey.Files.download(id);
    return Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  },

  // At API version 2+ a plain DELETE only disables the user; hard removes it.
  removeUser: (id) => Kinvey.User.remove(id, { hard: true }),
};
